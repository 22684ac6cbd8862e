//! GraphQL object types: thin views over the store's records.

use async_graphql::{ComplexObject, Context, Enum, ID, Json, SimpleObject};
use chrono::{DateTime, Utc};
use softland_store::{ApplicationRecord, Outcome, TaskRecord};
use softland_workflow::Status;

use softland_workflow::Lang;

pub use super::events::ApplicationEvent;
use super::locale::{Locale, lang};
mod task;

use super::{principal, store};
use crate::error::{GqlResult, from_store};
pub use task::Task;

/// Role of a principal.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum Role {
    /// Administrator.
    Admin,
    /// A partner agency's reviewer.
    Reviewer,
    /// An applicant organization.
    Applicant,
    /// An observer of an agency that oversees programmes: reads, changes nothing.
    Observer,
}

/// The caller.
#[derive(SimpleObject, Debug)]
#[graphql(name = "Principal")]
pub struct PrincipalView {
    /// Its role.
    pub role: Role,
    /// The person's directory id (what the record names as the actor).
    pub name: String,
    /// An agency's or organization's lead.
    pub lead: bool,
    /// The agency, for reviewers.
    pub agency: Option<String>,
    /// The organization, for applicants.
    pub organization: Option<String>,
}

/// Application status.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "Status")]
pub enum ApplicationStatus {
    /// Under way.
    Active,
    /// Reached a final state (see `outcome`).
    Completed,
    /// Withdrawn by the applicant.
    Withdrawn,
}

/// A published workflow version.
#[derive(SimpleObject, Debug)]
#[graphql(complex)]
pub struct Workflow {
    /// Its global id (`node(id:)`).
    pub id: ID,
    /// Stable key.
    pub key: String,
    /// Version (1, 2, …).
    pub version: i32,
    #[graphql(skip)]
    pub compiled: std::sync::Arc<softland_workflow::Workflow>,
    /// The application form's JSON Schema.
    pub application_schema: Json<serde_json::Value>,
    /// The YAML source.
    pub source: String,
    /// When it was retired (no new submissions), if it was.
    pub retired_at: Option<DateTime<Utc>>,
    /// The language asked for where it was fetched (`workflow(locale:)`): what its titles,
    /// description and states are in unless a field asks for another.
    #[graphql(skip)]
    pub locale: Option<Lang>,
}

impl Workflow {
    /// The language of a field: its own `locale`, else the one the workflow was fetched in,
    /// else the request's.
    fn lang(&self, ctx: &Context<'_>, locale: Option<Locale>) -> Lang {
        match (locale, self.locale) {
            (None, Some(l)) => l,
            (locale, _) => lang(ctx, locale),
        }
    }

    /// A workflow version's global id: `workflow:<key>:<version>`.
    pub(crate) fn id_of(key: &str, version: i32) -> ID {
        ID(format!("workflow:{key}:{version}"))
    }

    /// The key and version of a workflow version's global id.
    pub(crate) fn parse_id(id: &str) -> Option<(&str, i32)> {
        let (key, version) = id.strip_prefix("workflow:")?.rsplit_once(':')?;
        Some((key, version.parse().ok()?))
    }
}

/// Anything with a global id, fetched again with `node(id:)`.
#[derive(async_graphql::Interface)]
#[graphql(field(name = "id", ty = "&ID"))]
#[allow(clippy::large_enum_variant)]
pub enum Node {
    /// An application.
    Application(Application),
    /// A task.
    Task(Task),
    /// A workflow version.
    Workflow(Workflow),
}

#[ComplexObject]
impl Workflow {
    /// A Mermaid state diagram.
    // Drawn when asked, not for every workflow a list reads.
    async fn mermaid(&self) -> String {
        softland_workflow::diagram::render(
            &self.compiled,
            softland_workflow::diagram::Format::Mermaid,
        )
    }

    /// Its title (see `Locale`).
    async fn title(&self, ctx: &Context<'_>, locale: Option<Locale>) -> String {
        self.compiled.title().get(self.lang(ctx, locale)).to_owned()
    }

    /// Its description, if it has one.
    async fn description(&self, ctx: &Context<'_>, locale: Option<Locale>) -> Option<String> {
        let lang = self.lang(ctx, locale);
        self.compiled.description().map(|d| d.get(lang).to_owned())
    }

    /// Who may apply: the regions (`hk`, `mainland`) of the firms it is for; empty when any
    /// firm may.
    async fn applicant_regions(&self) -> Vec<String> {
        self.compiled.applicant_regions().to_vec()
    }

    /// Whether students apply for themselves (`applicants: {students: true}`).
    async fn students_apply(&self) -> bool {
        self.compiled.students_may_apply()
    }

    /// Whether an application is for a position a firm offers (`positionId`): its places
    /// are a position's (`pools: {…: {per: position}}`).
    async fn for_positions(&self) -> bool {
        self.compiled
            .pools()
            .iter()
            .any(|p| p.per() == softland_workflow::PoolScope::Position)
    }

    /// Whether the caller may apply for it now (an applicant of a region it is for, and its
    /// latest version not retired): pages offer Apply only then.
    async fn may_apply(&self, ctx: &Context<'_>) -> GqlResult<bool> {
        if self.retired_at.is_some() {
            return Ok(false);
        }
        principal(ctx)?
            .may_apply(store(ctx), &self.key)
            .await
            .map_err(crate::error::refused)
    }

    /// Its states, in definition order, with their titles.
    async fn states(&self, ctx: &Context<'_>, locale: Option<Locale>) -> Vec<StateLabel> {
        let lang = self.lang(ctx, locale);
        self.compiled
            .states()
            .iter()
            .map(|s| StateLabel::of(&self.compiled, s, lang))
            .collect()
    }
}

/// A state of a workflow, by name, with its title in the language asked for.
#[derive(SimpleObject, Debug, Clone)]
pub struct StateLabel {
    /// Its name in the YAML (stable across versions).
    pub name: String,
    /// Its title.
    pub title: String,
    /// The outcome an application ends with there, for a final state.
    pub outcome: Option<String>,
    /// `task`, `approval`, `choice`, `parallel`, `done` (a branch's end) or `final`.
    pub kind: String,
    /// Who works it: a task's assignee, an approval's seats (`applicant` or agency keys).
    pub assignees: Vec<String>,
    /// The parallel state it is inside, if it is in a branch.
    pub parallel: Option<String>,
    /// The name of that branch.
    pub branch: Option<String>,
    /// The actions its tasks offer, with titles and input schemas.
    pub actions: Vec<StateAction>,
}

/// An action a state's tasks offer.
#[derive(SimpleObject, Debug, Clone)]
pub struct StateAction {
    /// Its name.
    pub name: String,
    /// Its title.
    pub title: String,
    /// The JSON Schema of its input, if it takes one (what the history's inputs are read by).
    pub input_schema: Option<Json<serde_json::Value>>,
}

impl StateLabel {
    fn of(wf: &softland_workflow::Workflow, s: &softland_workflow::State, lang: Lang) -> Self {
        use softland_workflow::StateKind;
        let (kind, assignees) = match s.kind() {
            StateKind::Task(t) => ("task", vec![t.assignee().key().to_owned()]),
            StateKind::Approval(a) => (
                "approval",
                a.seats().iter().map(|s| s.key().to_owned()).collect(),
            ),
            StateKind::Choice(_) => ("choice", Vec::new()),
            StateKind::Parallel(_) => ("parallel", Vec::new()),
            StateKind::Done => ("done", Vec::new()),
            StateKind::Final { .. } => ("final", Vec::new()),
            StateKind::Waitlist(_) => ("waitlist", Vec::new()),
        };
        let (parallel, branch) = match s.branch() {
            Some((p, b)) => {
                let parallel = wf.state(p);
                let branch = match parallel.kind() {
                    StateKind::Parallel(spec) => spec
                        .branches()
                        .get(usize::from(b))
                        .map(|b| b.name().to_owned()),
                    _ => None,
                };
                (Some(parallel.name().to_owned()), branch)
            }
            None => (None, None),
        };
        StateLabel {
            name: s.name().to_owned(),
            title: s.title().get(lang).to_owned(),
            outcome: match s.kind() {
                StateKind::Final { outcome, .. } => Some(outcome.clone()),
                _ => None,
            },
            kind: kind.to_owned(),
            assignees,
            parallel,
            branch,
            actions: s
                .offered_actions()
                .into_iter()
                .map(|a| StateAction {
                    name: a.name,
                    title: a.title.get(lang).to_owned(),
                    input_schema: a.input_schema.map(Json),
                })
                .collect(),
        }
    }
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

impl Application {
    async fn compiled(
        &self,
        ctx: &Context<'_>,
    ) -> GqlResult<std::sync::Arc<softland_workflow::Workflow>> {
        store(ctx)
            .workflow(&self.workflow_key, self.workflow_version)
            .await
            .map_err(from_store)
    }
}

mod clocks;
pub use clocks::WaitingOnFirm;

#[ComplexObject]
impl Application {
    /// The agency steps whose clock is paused while the firm answers their request for
    /// information (the agency's own time stops; see docs/workflow-language.md).
    async fn waiting_on_firm(&self, ctx: &Context<'_>) -> GqlResult<Vec<WaitingOnFirm>> {
        self.waiting_on_firm_now(ctx).await
    }

    /// Whether the caller may withdraw it (its own firm's people, while it is active).
    async fn may_withdraw(&self, ctx: &Context<'_>) -> GqlResult<bool> {
        let active = self.status == ApplicationStatus::Active;
        Ok(principal(ctx)?.may_withdraw(&self.organization, active))
    }

    /// Whether the caller may write internal notes on it (`addNote`: agencies' reviewers).
    async fn may_note(&self, ctx: &Context<'_>) -> GqlResult<bool> {
        Ok(principal(ctx)?.may_note())
    }

    /// Its reference, as people say it and search for it (`SZHK-2026-0042`): the workflow's
    /// prefix, the year it was submitted (Hong Kong time) and a number unique across every
    /// programme. `applications(filter: {search: "SZHK-2026-0042"})` finds it.
    async fn reference(&self, ctx: &Context<'_>) -> GqlResult<String> {
        let (key, version, at) = (&self.workflow_key, self.workflow_version, self.submitted_at);
        Ok(
            match crate::graphql::loaders::number(ctx, self.uuid).await? {
                Some(n) => store(ctx).numbered_reference(n, key, version, at).await,
                // Missing from the batch's answer: given alone, which says why if it fails.
                None => store(ctx)
                    .reference_of(self.uuid, key, version, at)
                    .await
                    .map_err(from_store)?,
            },
        )
    }

    /// The applicant organization's name in the directory (see `Locale`; English when it has
    /// none in that language), or its key when the directory does not name it.
    async fn organization_name(
        &self,
        ctx: &Context<'_>,
        locale: Option<Locale>,
    ) -> GqlResult<String> {
        let org = crate::graphql::loaders::organization(ctx, &self.organization).await?;
        Ok(match org {
            Some(o) => {
                let local = match lang(ctx, locale) {
                    Lang::ZhHant => o.name_zh_hant,
                    Lang::ZhHans => o.name_zh_hans,
                    Lang::En => None,
                };
                local.filter(|n| !n.trim().is_empty()).unwrap_or(o.name)
            }
            None => self.organization.clone(),
        })
    }

    /// Its open tasks, whoever they are for.
    #[graphql(complexity = "super::limits::list_cost(super::limits::FEW, child_complexity)")]
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

    /// Its active states with their titles (see `Locale`).
    async fn current_states(
        &self,
        ctx: &Context<'_>,
        locale: Option<Locale>,
    ) -> GqlResult<Vec<StateLabel>> {
        let lang = lang(ctx, locale);
        let wf = self.compiled(ctx).await?;
        Ok(self
            .active_states
            .iter()
            .filter_map(|name| wf.state_named(name))
            .map(|s| StateLabel::of(&wf, s, lang))
            .collect())
    }

    /// The outcome's title once finished: the title of the final state it ended in, or
    /// "Withdrawn".
    async fn outcome_title(
        &self,
        ctx: &Context<'_>,
        locale: Option<Locale>,
    ) -> GqlResult<Option<String>> {
        let lang = lang(ctx, locale);
        let Some(outcome) = &self.outcome else {
            return Ok(None);
        };
        let wf = self.compiled(ctx).await?;
        Ok(wf.outcome_title(outcome).map(|t| t.get(lang).to_owned()))
    }

    /// The documents linked to it, in the order they were uploaded.
    #[graphql(complexity = "super::limits::list_cost(super::limits::SOME, child_complexity)")]
    async fn documents(&self, ctx: &Context<'_>) -> GqlResult<Vec<super::Document>> {
        Ok(store(ctx)
            .documents_of(self.uuid)
            .await
            .map_err(from_store)?
            .into_iter()
            .map(super::Document::from)
            .collect())
    }

    /// Its audit log, in order.
    #[graphql(complexity = "super::limits::list_cost(super::limits::MANY, child_complexity)")]
    async fn history(&self, ctx: &Context<'_>) -> GqlResult<Vec<ApplicationEvent>> {
        let who = principal(ctx)?;
        let events = store(ctx).history(self.uuid).await.map_err(from_store)?;
        Ok(super::events::titled_history(
            store(ctx),
            &self.workflow_key,
            self.workflow_version,
            events,
            who,
        )
        .await)
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

pub(crate) async fn workflow_view(
    store: &softland_store::Store,
    d: softland_store::DefinitionRecord,
) -> GqlResult<Workflow> {
    let wf = store
        .workflow(&d.key, d.version)
        .await
        .map_err(from_store)?;
    Ok(Workflow {
        id: Workflow::id_of(&d.key, d.version),
        compiled: wf,
        key: d.key,
        version: d.version,
        application_schema: Json(d.form_schema),
        source: d.source,
        retired_at: d.retired_at,
        locale: None,
    })
}
