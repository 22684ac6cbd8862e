//! Events: the only way an [`crate::Instance`] changes. The audit log stores them as JSON.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{Assignee, StateName};
use crate::workflow::Workflow;

/// A task's number within its application (1, 2, 3, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TaskId(pub u32);

impl std::fmt::Display for TaskId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An event names a state its workflow does not have (replayed against another workflow).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the workflow has no state `{0}`")]
pub struct UnknownState(pub String);

/// Names the states of an event stored before events carried names: its `state` and `to`
/// fields held the state's index in the workflow version it ran on (`workflow`). Returns
/// whether anything changed; an index the workflow does not have is an error.
pub fn name_legacy_states(payload: &mut Value, workflow: &Workflow) -> Result<bool, UnknownState> {
    let mut changed = false;
    if let Value::Object(fields) = payload {
        for key in ["state", "to"] {
            if let Some(Value::Number(n)) = fields.get(key) {
                let name = n
                    .as_u64()
                    .and_then(|i| workflow.states().get(usize::try_from(i).ok()?))
                    .map(|s| s.name().to_owned())
                    .ok_or_else(|| UnknownState(n.to_string()))?;
                fields.insert(key.to_owned(), Value::String(name));
                changed = true;
            }
        }
    }
    Ok(changed)
}

/// One thing that happened to an application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When (the command's clock).
    pub at: DateTime<Utc>,
    /// Who caused it (the command's actor id; `system` for timers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<Arc<str>>,
    /// What the actor acted for: an agency's key, or `applicant` (none for the system, and in
    /// events recorded before softland kept it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<Arc<str>>,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// The kinds of event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// The application was submitted with this form data.
    Submitted {
        /// The form data (shared with the instance, not copied).
        data: Arc<Value>,
        /// The firm hosting it (the one offering the position applied for), whose
        /// `assignee: host` tasks it opens.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host: Option<String>,
    },
    /// A state became active.
    Entered {
        /// The state.
        state: StateName,
    },
    /// A state stopped being active.
    Exited {
        /// The state.
        state: StateName,
    },
    /// A task was opened.
    TaskOpened {
        /// Its number.
        task: TaskId,
        /// The state it belongs to.
        state: StateName,
        /// Who works it.
        assignee: Assignee,
        /// When it falls due.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due_at: Option<DateTime<Utc>>,
        /// The due date is counted in business days past the end of the region's holiday
        /// table: weekends and the listed holidays only, an estimate.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        due_estimated: bool,
        /// When its assignee is reminded that it falls due (`due: {remind: …}`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        remind_at: Option<DateTime<Utc>>,
        /// The reviewer it comes back to, claimed: the one who asked the firm for
        /// information at this step (when a four-eyes rule does not bar them from it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        returns_to: Option<Arc<str>>,
    },
    /// A task was completed with an action.
    TaskCompleted {
        /// The task.
        task: TaskId,
        /// The action taken.
        action: String,
        /// The actor's comment.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
        /// The action's input.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        input: Option<Value>,
    },
    /// An agency's reviewer or an administrator wrote an internal note, with an action on
    /// `task` or on its own. Only agencies' reviewers and administrators see it.
    NoteAdded {
        /// The task acted on with it, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        task: Option<TaskId>,
        /// The note.
        note: String,
    },
    /// A task was closed without action (a sibling branch exited, k-of-n reached, withdrawal…).
    TaskCancelled {
        /// The task.
        task: TaskId,
    },
    /// An overdue task was handed to another agency.
    TaskReassigned {
        /// The task.
        task: TaskId,
        /// The new assignee.
        assignee: Assignee,
        /// Who had it (absent from events written before it was recorded).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<Assignee>,
    },
    /// A task's due time passed.
    TaskOverdue {
        /// The task.
        task: TaskId,
    },
    /// A choice state evaluated its conditions.
    ChoiceMade {
        /// The choice state.
        state: StateName,
        /// The index of the rule that held (`None`: otherwise).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<u16>,
        /// Where it went.
        to: StateName,
        /// Conditions that failed to evaluate (they count as false).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        errors: Vec<String>,
    },
    /// A parallel branch reached its `done` state.
    BranchDone {
        /// The parallel state.
        state: StateName,
        /// The branch's index.
        branch: u16,
    },
    /// The application reached a final state.
    Completed {
        /// The final state's outcome.
        outcome: String,
    },
    /// A document (uploaded earlier) was linked to the application by the submission or action
    /// just before this event, which refers to it at `pointer`. Its content's SHA-256 is here,
    /// so the hash chain covers it. Written by the store (the engine knows no documents); it
    /// changes no state.
    DocumentLinked {
        /// The document's id.
        document: String,
        /// Its content's SHA-256, hex.
        sha256: String,
        /// Where the form data or the action's input names it (a JSON pointer).
        pointer: String,
    },
    /// An agency's step asked the firm for information (`task` took the request action) and
    /// its clock stopped with `remaining` left; it resumes when the firm answers.
    ClockPaused {
        /// The step whose clock stopped.
        state: StateName,
        /// The task that asked.
        task: TaskId,
        /// The agency's time that remained.
        remaining: Remaining,
    },
    /// The firm answered: the step's clock runs again, and its new task is due at `due_at`
    /// (now plus the time that remained).
    ClockResumed {
        /// The step.
        state: StateName,
        /// When its new task falls due.
        due_at: DateTime<Utc>,
    },
    /// The application was moved to another version of its workflow by a migration plan.
    /// Every state the application was in maps to one of the new version's states.
    Migrated {
        /// The plan's hash (SHA-256 of its canonical text).
        plan: String,
        /// The version it ran on.
        from_version: u32,
        /// The version it runs on now.
        to_version: u32,
        /// Each state the application was in (active, or named by its open tasks), old name
        /// to new.
        states: Vec<StateMove>,
        /// Open tasks whose due time the plan changed (timers restarted).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        due: Vec<TaskDue>,
        /// The form data after the plan's data changes, when they changed it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data: Option<Arc<Value>>,
    },
    /// The applicant withdrew the application.
    Withdrawn {
        /// The reason given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The application's place in a pool changed: reserved, confirmed, released, put on the
    /// waitlist or promoted from it. The store takes or gives back the pool's place in the
    /// same transaction as this event.
    PlaceChanged {
        /// The pool, by its name in the definition.
        pool: String,
        /// What happened to the place.
        change: PlaceChange,
        /// The application's rank in line, when the action gave one (`rank` in its input):
        /// lower is first; otherwise the time it joined decides.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rank: Option<i32>,
    },
}

/// What happened to an application's place in a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceChange {
    /// A place is held for it.
    Reserved,
    /// Its held place is confirmed.
    Confirmed,
    /// Its place (held or confirmed) is given back, or it left the waitlist.
    Released,
    /// The pool was full: it waits in line.
    Waitlisted,
    /// A place came free: the first in line holds it now.
    Promoted,
}

impl PlaceChange {
    /// `reserved`, `confirmed`, `released`, `waitlisted` or `promoted`.
    pub fn word(self) -> &'static str {
        match self {
            PlaceChange::Reserved => "reserved",
            PlaceChange::Confirmed => "confirmed",
            PlaceChange::Released => "released",
            PlaceChange::Waitlisted => "waitlisted",
            PlaceChange::Promoted => "promoted",
        }
    }
}

/// The time an agency's step had left when its clock paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Remaining {
    /// Whole working days of the agency's calendar (the day of the request counts as used).
    BusinessDays(u32),
    /// Seconds, for calendar-day periods.
    Seconds(i64),
}

/// One state's move in a migration: its name in the old version and in the new.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateMove {
    /// The old version's name.
    pub from: StateName,
    /// The new version's name.
    pub to: StateName,
}

/// An open task's new due time after a migration restarted its timer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskDue {
    /// The task.
    pub task: TaskId,
    /// When it now falls due.
    pub due_at: Option<DateTime<Utc>>,
}

/// What an event records, without its details: the audit log's `kind` column, the `kind` of
/// an event's JSON, and what everything that reads stored events matches on. Adding a kind
/// fails to compile wherever kinds are told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventName {
    /// See [`EventKind::Submitted`].
    Submitted,
    /// See [`EventKind::Entered`].
    Entered,
    /// See [`EventKind::Exited`].
    Exited,
    /// See [`EventKind::TaskOpened`].
    TaskOpened,
    /// See [`EventKind::TaskCompleted`].
    TaskCompleted,
    /// See [`EventKind::NoteAdded`].
    NoteAdded,
    /// See [`EventKind::TaskCancelled`].
    TaskCancelled,
    /// See [`EventKind::TaskReassigned`].
    TaskReassigned,
    /// See [`EventKind::TaskOverdue`].
    TaskOverdue,
    /// See [`EventKind::ChoiceMade`].
    ChoiceMade,
    /// See [`EventKind::BranchDone`].
    BranchDone,
    /// See [`EventKind::Completed`].
    Completed,
    /// See [`EventKind::Withdrawn`].
    Withdrawn,
    /// See [`EventKind::DocumentLinked`].
    DocumentLinked,
    /// See [`EventKind::ClockPaused`].
    ClockPaused,
    /// See [`EventKind::ClockResumed`].
    ClockResumed,
    /// See [`EventKind::Migrated`].
    Migrated,
    /// See [`EventKind::PlaceChanged`].
    PlaceChanged,
}

impl EventName {
    /// Every kind.
    pub const ALL: [EventName; 18] = [
        EventName::Submitted,
        EventName::Entered,
        EventName::Exited,
        EventName::TaskOpened,
        EventName::TaskCompleted,
        EventName::NoteAdded,
        EventName::TaskCancelled,
        EventName::TaskReassigned,
        EventName::TaskOverdue,
        EventName::ChoiceMade,
        EventName::BranchDone,
        EventName::Completed,
        EventName::Withdrawn,
        EventName::DocumentLinked,
        EventName::ClockPaused,
        EventName::ClockResumed,
        EventName::Migrated,
        EventName::PlaceChanged,
    ];

    /// The name as stored and shown (`task_opened`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventName::Submitted => "submitted",
            EventName::Entered => "entered",
            EventName::Exited => "exited",
            EventName::TaskOpened => "task_opened",
            EventName::TaskCompleted => "task_completed",
            EventName::NoteAdded => "note_added",
            EventName::TaskCancelled => "task_cancelled",
            EventName::TaskReassigned => "task_reassigned",
            EventName::TaskOverdue => "task_overdue",
            EventName::ChoiceMade => "choice_made",
            EventName::BranchDone => "branch_done",
            EventName::Completed => "completed",
            EventName::Withdrawn => "withdrawn",
            EventName::DocumentLinked => "document_linked",
            EventName::ClockPaused => "clock_paused",
            EventName::ClockResumed => "clock_resumed",
            EventName::Migrated => "migrated",
            EventName::PlaceChanged => "place_changed",
        }
    }

    /// The kind a stored name names (`None`: not one this build knows).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether events of this kind name a state (`state` in their JSON).
    pub fn names_state(self) -> bool {
        matches!(
            self,
            EventName::Entered
                | EventName::Exited
                | EventName::TaskOpened
                | EventName::ChoiceMade
                | EventName::BranchDone
                | EventName::ClockPaused
                | EventName::ClockResumed
        )
    }
}

impl std::fmt::Display for EventName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl EventKind {
    /// What kind of event this is.
    pub fn name(&self) -> EventName {
        match self {
            EventKind::Submitted { .. } => EventName::Submitted,
            EventKind::Entered { .. } => EventName::Entered,
            EventKind::Exited { .. } => EventName::Exited,
            EventKind::TaskOpened { .. } => EventName::TaskOpened,
            EventKind::TaskCompleted { .. } => EventName::TaskCompleted,
            EventKind::NoteAdded { .. } => EventName::NoteAdded,
            EventKind::TaskCancelled { .. } => EventName::TaskCancelled,
            EventKind::TaskReassigned { .. } => EventName::TaskReassigned,
            EventKind::TaskOverdue { .. } => EventName::TaskOverdue,
            EventKind::ChoiceMade { .. } => EventName::ChoiceMade,
            EventKind::BranchDone { .. } => EventName::BranchDone,
            EventKind::Completed { .. } => EventName::Completed,
            EventKind::Withdrawn { .. } => EventName::Withdrawn,
            EventKind::DocumentLinked { .. } => EventName::DocumentLinked,
            EventKind::ClockPaused { .. } => EventName::ClockPaused,
            EventKind::ClockResumed { .. } => EventName::ClockResumed,
            EventKind::Migrated { .. } => EventName::Migrated,
            EventKind::PlaceChanged { .. } => EventName::PlaceChanged,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_and_match_the_json_kind() {
        for k in EventName::ALL {
            assert_eq!(EventName::parse(k.as_str()), Some(k));
            let json = serde_json::to_value(k).expect("serializes");
            assert_eq!(json, serde_json::Value::from(k.as_str()));
        }
        assert_eq!(EventName::parse("nonsense"), None);
        let e = EventKind::Withdrawn { reason: None };
        let json = serde_json::to_value(&e).expect("serializes");
        assert_eq!(json["kind"], e.name().as_str());
    }
}
