//! GraphQL object types: thin views over the store's records.

use async_graphql::{ComplexObject, Context, Enum, ID, Json, SimpleObject};
use chrono::{DateTime, Utc};
use softland_store::{ApplicationRecord, EventRecord, Outcome, TaskRecord};
use softland_workflow::Status;

use super::{principal, store};
use crate::error::{GqlResult, from_store};
use crate::policy::Principal;

/// Role of a principal.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum Role {
    /// Administrator.
    Admin,
    /// A partner agency's reviewer.
    Reviewer,
    /// An applicant organization.
    Applicant,
}

/// The caller.
#[derive(SimpleObject, Debug)]
#[graphql(name = "Principal")]
pub struct PrincipalView {
    /// Its role.
    pub role: Role,
    /// Its name (the API key's label).
    pub name: String,
    /// The agency, for reviewers.
    pub agency: Option<String>,
    /// The organization, for applicants.
    pub organization: Option<String>,
}

/// Application status.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ApplicationStatus {
    /// Under way.
    Active,
    /// Reached a final state (see `outcome`).
    Completed,
    /// Withdrawn by the applicant.
    Withdrawn,
}

impl From<Status> for ApplicationStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Active => ApplicationStatus::Active,
            Status::Completed => ApplicationStatus::Completed,
            Status::Withdrawn => ApplicationStatus::Withdrawn,
        }
    }
}

impl From<ApplicationStatus> for Status {
    fn from(s: ApplicationStatus) -> Self {
        match s {
            ApplicationStatus::Active => Status::Active,
            ApplicationStatus::Completed => Status::Completed,
            ApplicationStatus::Withdrawn => Status::Withdrawn,
        }
    }
}

/// A published workflow version.
#[derive(SimpleObject, Debug)]
pub struct Workflow {
    /// Stable key.
    pub key: String,
    /// Version (1, 2, …).
    pub version: i32,
    /// English title.
    pub title: String,
    /// The application form's JSON Schema.
    pub application_schema: Json<serde_json::Value>,
    /// The YAML source.
    pub source: String,
    /// A Mermaid state diagram.
    pub mermaid: String,
    /// When it was retired (no new submissions), if it was.
    pub retired_at: Option<DateTime<Utc>>,
}

/// An application.
#[derive(SimpleObject, Debug)]
#[graphql(complex)]
pub struct Application {
    /// Its id.
    pub id: ID,
    /// The workflow it runs.
    pub workflow_key: String,
    /// The workflow version it is pinned to.
    pub workflow_version: i32,
    /// The applicant organization.
    pub organization: String,
    /// Active, completed or withdrawn.
    pub status: ApplicationStatus,
    /// The outcome once finished.
    pub outcome: Option<String>,
    /// Names of the active states.
    pub active_states: Vec<String>,
    /// The submitted form.
    pub data: Json<serde_json::Value>,
    /// Pass it as `expectedRevision` to act only on what you saw.
    pub revision: i64,
    /// When it was submitted.
    pub submitted_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub uuid: uuid::Uuid,
    /// The open tasks, when the command that produced this view already knew them.
    #[graphql(skip)]
    pub known_open_tasks: Option<Vec<TaskRecord>>,
}

impl From<Outcome> for Application {
    fn from(out: Outcome) -> Self {
        Self {
            known_open_tasks: out.open_tasks,
            ..out.application.into()
        }
    }
}

impl From<ApplicationRecord> for Application {
    fn from(a: ApplicationRecord) -> Self {
        Self {
            id: ID(a.id.to_string()),
            uuid: a.id,
            workflow_key: a.workflow_key,
            workflow_version: a.workflow_version,
            organization: a.organization,
            status: a.status.into(),
            outcome: a.outcome,
            active_states: a.active_states,
            data: Json(a.data),
            revision: a.revision,
            submitted_at: a.submitted_at,
            updated_at: a.updated_at,
            known_open_tasks: None,
        }
    }
}

#[ComplexObject]
impl Application {
    /// Its open tasks, whoever they are for.
    async fn open_tasks(&self, ctx: &Context<'_>) -> GqlResult<Vec<Task>> {
        let tasks = match &self.known_open_tasks {
            Some(known) => known.clone(),
            None => store(ctx)
                .tasks_of(self.uuid, true)
                .await
                .map_err(from_store)?,
        };
        Ok(tasks.into_iter().map(Task::from).collect())
    }

    /// Its audit log, in order.
    async fn history(&self, ctx: &Context<'_>) -> GqlResult<Vec<ApplicationEvent>> {
        let who = principal(ctx)?;
        let events = store(ctx).history(self.uuid).await.map_err(from_store)?;
        Ok(events
            .into_iter()
            .map(|e| ApplicationEvent::seen_by(e, who))
            .collect())
    }
}

/// An action a task offers.
#[derive(SimpleObject, Debug)]
pub struct TaskAction {
    /// Its name (pass it to `act`).
    pub name: String,
    /// Its English title.
    pub title: String,
    /// The JSON Schema its `data` must satisfy.
    pub input_schema: Option<Json<serde_json::Value>>,
}

/// A task in an inbox.
#[derive(SimpleObject, Debug)]
#[graphql(complex)]
pub struct Task {
    /// Its id.
    pub id: ID,
    /// Its application's id.
    pub application_id: ID,
    /// The state it belongs to.
    pub state: String,
    /// The state's English title.
    pub title: String,
    /// An agency key such as `hkstp`, or `applicant`.
    pub assignee: String,
    /// What can be done.
    pub actions: Vec<TaskAction>,
    /// When it falls due.
    pub due_at: Option<DateTime<Utc>>,
    /// Whether it is overdue.
    pub overdue: bool,
    /// When it opened.
    pub opened_at: DateTime<Utc>,
    /// Who holds its claim.
    pub claimed_by: Option<String>,
    #[graphql(skip)]
    pub app_uuid: uuid::Uuid,
}

impl From<TaskRecord> for Task {
    fn from(t: TaskRecord) -> Self {
        Self {
            id: ID(t.id.to_string()),
            application_id: ID(t.application_id.to_string()),
            app_uuid: t.application_id,
            state: t.state,
            title: t.title,
            assignee: t.assignee,
            actions: t
                .actions
                .into_iter()
                .map(|a| TaskAction {
                    name: a.name,
                    title: a.title,
                    input_schema: a.input_schema.map(Json),
                })
                .collect(),
            due_at: t.due_at,
            overdue: t.overdue,
            opened_at: t.opened_at,
            claimed_by: t.claimed_by,
        }
    }
}

#[ComplexObject]
impl Task {
    /// The task's application.
    async fn application(&self, ctx: &Context<'_>) -> GqlResult<Application> {
        let app = store(ctx)
            .application(self.app_uuid)
            .await
            .map_err(from_store)?
            .ok_or_else(|| crate::error::not_found("application"))?;
        if !principal(ctx)?.can_see(store(ctx), &app).await? {
            return Err(crate::error::not_found("application"));
        }
        Ok(app.into())
    }
}

/// One audit-log entry, as the caller may see it (see the policy module).
#[derive(SimpleObject, Debug, Clone)]
pub struct ApplicationEvent {
    /// 1, 2, 3, … within the application.
    pub seq: i64,
    /// The application.
    pub application_id: ID,
    /// `submitted`, `entered`, `task_opened`, `task_completed`, `completed`, …
    pub kind: String,
    /// Who caused it: the person. Firms see the people of their own organization, not an
    /// agency's reviewers (they see `party`, the agency, instead).
    pub actor: Option<String>,
    /// What the actor acted for: the agency's key, or `applicant` (null for the system).
    pub party: Option<String>,
    /// The state concerned.
    pub state: Option<String>,
    /// The action taken.
    pub action: Option<String>,
    /// The actor's comment.
    pub comment: Option<String>,
    /// What the actor submitted with the action: the question asked of the firm, the firm's
    /// answer, a reason, attachments.
    pub input: Option<Json<serde_json::Value>>,
    /// When.
    pub at: DateTime<Utc>,
}

impl ApplicationEvent {
    /// The entry as `who` may see it.
    pub fn seen_by(e: EventRecord, who: &Principal) -> Self {
        let party = e.party().map(str::to_owned);
        let input = e.input().cloned().map(Json);
        let actor = match party.as_deref() {
            Some(p) if p != "applicant" && !who.sees_reviewers() => None,
            _ => e.actor,
        };
        Self {
            seq: e.seq,
            application_id: ID(e.application_id.to_string()),
            kind: e.kind,
            actor,
            party,
            state: e.state,
            action: e.action,
            comment: e.comment,
            input,
            at: e.at,
        }
    }
}

/// The result of validating a definition.
#[derive(SimpleObject, Debug)]
pub struct WorkflowValidation {
    /// No problems.
    pub ok: bool,
    /// Every problem.
    pub errors: Vec<WorkflowError>,
}

/// One problem in a definition.
#[derive(SimpleObject, Debug)]
pub struct WorkflowError {
    /// What is wrong.
    pub message: String,
    /// The stable diagnostic code.
    pub code: Option<String>,
    /// Line in the YAML.
    pub line: Option<i32>,
    /// Column in the YAML.
    pub column: Option<i32>,
}
