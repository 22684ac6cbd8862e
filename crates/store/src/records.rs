//! What the store takes and returns: plain records, no sea-orm types.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

use softland_workflow::{Actor, Assignee, EventName, Status};
use uuid::Uuid;

/// An application as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApplicationRecord {
    /// Its id (UUID v7: time-ordered).
    pub id: Uuid,
    /// The workflow it runs.
    pub workflow_key: String,
    /// The workflow version it is pinned to.
    pub workflow_version: i32,
    /// The applicant organization's key.
    pub organization: String,
    /// Active, completed or withdrawn.
    pub status: Status,
    /// The outcome once finished.
    pub outcome: Option<String>,
    /// Names of the active states.
    pub active_states: Vec<String>,
    /// The submitted form data.
    pub data: Value,
    /// How many events it has: the value `expectedRevision` is compared with.
    pub revision: i64,
    /// When it was submitted.
    pub submitted_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// An agency step's clock, paused while the firm answers its request for information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PausedClock {
    /// The step (state name).
    pub state: String,
    /// The time it has left.
    pub remaining: softland_workflow::Remaining,
    /// Since when it waits on the firm.
    pub since: DateTime<Utc>,
}

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Waiting for its assignee.
    Open,
    /// Completed with an action.
    Completed,
    /// Closed without action (sibling branch exited, k-of-n decided, withdrawn, escalated).
    Cancelled,
}

/// An action a task offers.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct TaskAction {
    /// Its name.
    pub name: String,
    /// Its English title.
    pub title: String,
    /// The JSON Schema of its input, if any.
    pub input_schema: Option<Value>,
}

/// A task in an inbox.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskRecord {
    /// Its id.
    pub id: Uuid,
    /// Its application.
    pub application_id: Uuid,
    /// Its number within the application (the engine's task id).
    pub task_no: u32,
    /// The state it belongs to.
    pub state: String,
    /// The state's English title.
    pub title: String,
    /// Who it is for (written as its key: an agency's, or `applicant`).
    #[serde(serialize_with = "assignee_key")]
    pub assignee: Assignee,
    /// The applicant organization.
    pub organization: String,
    /// What can be done.
    pub actions: Vec<TaskAction>,
    /// Open, completed or cancelled.
    pub status: TaskStatus,
    /// When it falls due.
    pub due_at: Option<DateTime<Utc>>,
    /// Whether its due time has passed.
    pub overdue: bool,
    /// When it opened.
    pub opened_at: DateTime<Utc>,
    /// When it closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Who closed it.
    pub closed_by: Option<String>,
    /// With which action.
    pub closed_action: Option<String>,
    /// Who holds its claim.
    pub claimed_by: Option<String>,
    /// The workflow whose definition gives its labels (in every language).
    pub workflow_key: String,
    /// That workflow's version.
    pub workflow_version: i32,
}

fn assignee_key<S: serde::Serializer>(a: &Assignee, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(a.key())
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRecord {
    /// The application.
    pub application_id: Uuid,
    /// 1, 2, 3, … within the application.
    pub seq: i64,
    /// The event kind.
    pub kind: EventName,
    /// Who caused it.
    pub actor: Option<String>,
    /// The state concerned, by name.
    pub state: Option<String>,
    /// The action taken, for `task_completed`.
    pub action: Option<String>,
    /// The actor's comment.
    pub comment: Option<String>,
    /// The engine's event, as stored and hashed.
    pub payload: Value,
    /// When.
    pub at: DateTime<Utc>,
    /// SHA-256 over the previous hash, the sequence number and the payload.
    pub hash: String,
}

impl EventRecord {
    /// What the actor acted for: an agency's key or `applicant` (`None` for the system, and for
    /// events recorded before softland kept it).
    pub fn party(&self) -> Option<Assignee> {
        self.payload
            .get("party")
            .and_then(Value::as_str)
            .map(Assignee::parse)
    }

    /// Who the task an event concerns is for (`task_opened`, `task_reassigned`, …).
    pub fn assignee(&self) -> Option<Assignee> {
        serde_json::from_value(self.payload.get("assignee")?.clone()).ok()
    }

    /// An internal note's text (`note_added` events).
    pub fn note(&self) -> Option<&str> {
        self.payload.get("note").and_then(Value::as_str)
    }

    /// The document a `document_linked` event links: its id and content SHA-256.
    pub fn linked_document(&self) -> Option<(&str, &str)> {
        if self.kind != EventName::DocumentLinked {
            return None;
        }
        Some((
            self.payload.get("document")?.as_str()?,
            self.payload.get("sha256")?.as_str()?,
        ))
    }

    /// What the actor submitted with an action (a question, an answer, a reason, …).
    pub fn input(&self) -> Option<&Value> {
        self.payload.get("input").filter(|v| !v.is_null())
    }
}

/// A published workflow version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DefinitionRecord {
    /// The workflow key.
    pub key: String,
    /// 1, 2, 3, …
    pub version: i32,
    /// English title.
    pub title: String,
    /// The YAML source.
    pub source: String,
    /// The application form's JSON Schema (resolved from `form.file` when published).
    pub form_schema: Value,
    /// SHA-256 of source and form.
    pub content_hash: String,
    /// Who published it.
    pub published_by: String,
    /// When.
    pub published_at: DateTime<Utc>,
    /// When it was retired (no new submissions).
    pub retired_at: Option<DateTime<Utc>>,
}

/// What publishing did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Published {
    /// The definition now current for its key.
    pub definition: DefinitionRecord,
    /// `false` when an identical version already existed (nothing was stored).
    pub changed: bool,
}

/// A new application.
#[derive(Debug, Clone)]
pub struct Submit {
    /// The workflow to run (its latest non-retired version).
    pub workflow_key: String,
    /// The applicant organization.
    pub organization: String,
    /// The person submitting (recorded in the audit log).
    pub actor: Actor,
    /// The form data.
    pub data: Value,
    /// Makes retries safe: the same key returns the first result.
    pub idempotency_key: Option<String>,
    /// The position applied for, when the workflow draws on positions' places
    /// (`pools: {…: {per: position}}`).
    pub position: Option<Uuid>,
}

/// An action on a task.
#[derive(Debug, Clone)]
pub struct Act {
    /// The task.
    pub task_id: Uuid,
    /// Who acts.
    pub actor: Actor,
    /// For an applicant actor: the organization they act for (its idempotency keys are the
    /// organization's).
    pub organization: Option<String>,
    /// Whose tasks the caller works: a task outside it is refused with
    /// [`crate::Error::NotYours`] before anything else is looked at.
    pub gate: Arc<dyn TaskGate>,
    /// The action's name.
    pub action: String,
    /// A comment for the record.
    pub comment: Option<String>,
    /// The action's input.
    pub input: Option<Value>,
    /// An internal note with it, for the agencies' reviewers and administrators only.
    pub note: Option<String>,
    /// Refuse with a conflict unless the application is at this revision.
    pub expected_revision: Option<i64>,
    /// Makes retries safe.
    pub idempotency_key: Option<String>,
}

impl Act {
    /// `actor` takes `action` on a task: no comment, input or note, no revision expected, not
    /// idempotent, no organization, no gate beyond the engine's rule that only a task's
    /// assignee acts on it (set the fields that apply).
    pub fn new(task_id: Uuid, actor: Actor, action: impl Into<String>) -> Self {
        Act {
            task_id,
            actor,
            organization: None,
            gate: Arc::new(Ungated),
            action: action.into(),
            comment: None,
            input: None,
            note: None,
            expected_revision: None,
            idempotency_key: None,
        }
    }
}

/// Whose tasks a caller may work: the policy's answer (`softland-policy` implements it for its
/// principal), asked by the store once it has read the task of an action, before anything
/// else.
pub trait TaskGate: Send + Sync + std::fmt::Debug {
    /// Whether the caller may work a task for `assignee` of `organization`'s application.
    fn may_work(&self, assignee: &Assignee, organization: &str) -> bool;
}

/// No gate beyond the engine's own rule that only a task's assignee acts on it: for the
/// command line, tests and benchmarks, which act as whom they say.
#[derive(Debug, Clone, Copy)]
pub struct Ungated;

impl TaskGate for Ungated {
    fn may_work(&self, _: &Assignee, _: &str) -> bool {
        true
    }
}

/// A withdrawal.
#[derive(Debug, Clone)]
pub struct Withdraw {
    /// The application.
    pub application_id: Uuid,
    /// The applicant's organization: only its own applications can be withdrawn.
    pub organization: String,
    /// The applicant's person.
    pub actor: Actor,
    /// Why.
    pub reason: Option<String>,
    /// Makes retries safe.
    pub idempotency_key: Option<String>,
}

impl Withdraw {
    /// `actor` withdraws `organization`'s application, giving no reason, not idempotent.
    pub fn new(application_id: Uuid, organization: impl Into<String>, actor: Actor) -> Self {
        Withdraw {
            application_id,
            organization: organization.into(),
            actor,
            reason: None,
            idempotency_key: None,
        }
    }
}

/// The result of a command.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The application after the command.
    pub application: ApplicationRecord,
    /// The events it appended (empty when `replayed`).
    pub events: Vec<EventRecord>,
    /// The tasks it opened (empty when `replayed`).
    pub opened: Vec<TaskRecord>,
    /// All of the application's open tasks after the command, by task number, when the command
    /// knew them without another query (submissions; actions on PostgreSQL). `None`: ask
    /// [`crate::Store::tasks_of`].
    pub open_tasks: Option<Vec<TaskRecord>>,
    /// `true` when an idempotency key matched an earlier request: nothing new happened.
    pub replayed: bool,
}

/// Whose inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboxOwner {
    /// An agency's open tasks.
    Agency(String),
    /// An applicant organization's open tasks.
    Applicant(String),
}

/// What an inbox shows, beyond whose it is.
#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    /// Only tasks of this workflow.
    pub workflow_key: Option<String>,
    /// Only tasks of this state.
    pub state: Option<String>,
    /// Only overdue tasks (`true`) or only those not overdue (`false`).
    pub overdue: Option<bool>,
    /// Only tasks falling due at or before this time.
    pub due_before: Option<DateTime<Utc>>,
    /// Only tasks falling due at or after this time.
    pub due_after: Option<DateTime<Utc>>,
    /// By their claim.
    pub claim: Option<ClaimFilter>,
    /// Only tasks of this applicant organization's applications.
    pub organization: Option<String>,
    /// Only tasks of firms one of whose names (or key) contains this, in any case.
    pub firm: Option<String>,
    /// The order (and so the cursors).
    pub order: InboxOrder,
}

/// Tasks by their claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimFilter {
    /// Claimed by this person.
    By(String),
    /// Claimed by nobody.
    Unclaimed,
    /// Claimed by anyone.
    Claimed,
}

/// The order of an inbox.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum InboxOrder {
    /// Soonest due first, tasks without a due time last.
    #[default]
    Due,
    /// Oldest first.
    Opened,
}

/// Filters for listing applications.
#[derive(Debug, Clone, Default)]
pub struct ApplicationFilter {
    /// Only this organization's applications.
    pub organization: Option<String>,
    /// Only applications that have or had a task for this agency.
    pub agency: Option<String>,
    /// Only this status.
    pub status: Option<Status>,
    /// Only this workflow.
    pub workflow_key: Option<String>,
    /// Only applications that ended with this outcome.
    pub outcome: Option<String>,
    /// Only applications submitted at or after this time.
    pub submitted_after: Option<DateTime<Utc>>,
    /// Only applications submitted before this time.
    pub submitted_before: Option<DateTime<Utc>>,
    /// Only applications of organizations whose name contains this text (any case).
    pub search: Option<String>,
    /// Only applications of workflow versions this agency oversees (`oversight:`).
    pub overseen_by: Option<String>,
}

/// One page of a keyset-paginated list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// Items with their cursors.
    pub items: Vec<(String, T)>,
    /// Whether more items follow the last one.
    pub has_next: bool,
}

/// Who a key made by label acts as (see [`crate::Store::create_key`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum KeyRole {
    /// Everything, including publishing workflows.
    Admin,
    /// A partner agency's reviewer.
    Reviewer {
        /// The agency key.
        agency: String,
    },
    /// An applicant organization.
    Applicant {
        /// The organization key.
        organization: String,
    },
    /// A student applying for themselves, of no organisation.
    Student,
    /// An observer of an agency that oversees programmes: reads, changes nothing.
    Observer {
        /// The agency key.
        agency: String,
    },
}

/// A stored key (never the token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyRecord {
    /// Its id.
    pub id: Uuid,
    /// A label for people (what the key is for: "laptop", "back office").
    pub label: String,
    /// Who acts with it.
    pub person: crate::directory::Person,
    /// When it was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it stops working, if it does.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Whose claims a caller may release or hand on: decided by the policy (`softland-policy`: who the
/// caller is), enforced by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimRights {
    /// Their own claims, and unclaimed tasks, of their agency (a reviewer).
    Own,
    /// Anyone's in their agency (an agency lead).
    Any,
    /// Anyone's in every agency (an administrator, who plays each agency's lead).
    Everywhere,
}

/// Who releases or hands on a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimant {
    /// Their directory id.
    pub person: String,
    /// Their agency (none for an administrator).
    pub agency: Option<String>,
    /// Whose claims they may release or hand on.
    pub rights: ClaimRights,
}

impl Claimant {
    /// A reviewer (`Own`) or lead (`Any`) of an agency.
    pub fn of_agency(
        person: impl Into<String>,
        agency: impl Into<String>,
        rights: ClaimRights,
    ) -> Self {
        Claimant {
            person: person.into(),
            agency: Some(agency.into()),
            rights,
        }
    }
}
