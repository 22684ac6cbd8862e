//! What the engine is asked to do: who acts ([`Actor`], [`Party`]), the [`Command`], and why
//! it may be refused ([`Rejection`]).

use std::sync::Arc;

use serde_json::Value;

use super::event::TaskId;
use crate::schema::Violation;

/// Who acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// A stable id for the person or system (recorded in events; four-eyes compares it).
    /// Shared: every event of a command holds it.
    pub id: Arc<str>,
    /// What they act for.
    pub party: Party,
}

impl Actor {
    /// Someone acting for the applicant.
    pub fn applicant(id: impl Into<Arc<str>>) -> Self {
        Self {
            id: id.into(),
            party: Party::Applicant,
        }
    }
    /// A reviewer of an agency.
    pub fn reviewer(id: impl Into<Arc<str>>, agency: impl Into<Arc<str>>) -> Self {
        Self {
            id: id.into(),
            party: Party::Agency(agency.into()),
        }
    }
    /// The engine itself (timers).
    pub fn system() -> Self {
        Self {
            id: "system".into(),
            party: Party::System,
        }
    }
}

/// What an actor acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Party {
    /// The applicant organization.
    Applicant,
    /// A partner agency, by key.
    Agency(Arc<str>),
    /// softland itself (timers).
    System,
}

/// Firms never write (or read) internal notes.
pub(super) const NOTES_ARE_INTERNAL: Rejection =
    Rejection::NotPermitted("internal notes are for agencies' reviewers and administrators");

/// Something to do to an application.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Take an action on an open task.
    Act {
        /// The task.
        task: TaskId,
        /// The action's name.
        action: String,
        /// A comment for the record.
        comment: Option<String>,
        /// The action's input, checked against its schema.
        input: Option<Value>,
        /// An internal note for the agencies' reviewers and administrators (never the firm).
        note: Option<String>,
    },
    /// An agency's reviewer (or an administrator) adds an internal note on its own.
    Note {
        /// The note.
        note: String,
    },
    /// The applicant withdraws the application.
    Withdraw {
        /// Why.
        reason: Option<String>,
    },
    /// A task's due time has passed.
    FireTimer {
        /// The task.
        task: TaskId,
    },
    /// A place of `pool` came free: the application, first in line on its waitlist, holds it
    /// and goes on (the system only).
    Promote {
        /// The pool, by name.
        pool: String,
    },
}

/// Why a command was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Rejection {
    /// The application is already completed or withdrawn.
    #[error("the application is already finished")]
    Finished,
    /// No open task has this id (it may have been completed or cancelled).
    #[error("task {0} is not open")]
    TaskNotOpen(TaskId),
    /// The task belongs to someone else.
    #[error("task {task} is assigned to `{assignee}`, not to this actor")]
    NotAssignee {
        /// The task.
        task: TaskId,
        /// Its assignee.
        assignee: String,
    },
    /// The task does not offer this action.
    #[error("action `{action}` is not offered here; offered: {}", offered.join(", "))]
    UnknownAction {
        /// What was asked.
        action: String,
        /// What the task offers.
        offered: Vec<String>,
    },
    /// The form data or action input does not satisfy its schema.
    #[error("invalid input: {}", violations.iter().map(|v| format!("{} {}", if v.path.is_empty() { "/" } else { &v.path }, v.message)).collect::<Vec<_>>().join("; "))]
    InvalidInput {
        /// Every violation with its JSON pointer.
        violations: Vec<Violation>,
    },
    /// Four-eyes: this actor already acted on a step this action must be independent of.
    #[error(
        "four-eyes rule: `{actor}` already acted on `{step}`; another person must take this action"
    )]
    FourEyes {
        /// The actor.
        actor: String,
        /// The earlier step.
        step: String,
    },
    /// Only the applicant may withdraw; only the system fires timers.
    #[error("{0}")]
    NotPermitted(&'static str),
    /// The task has no timer due at this time.
    #[error("task {0} has no timer due now")]
    NotDue(TaskId),
    /// The pool has no place left and the action names no waitlist (`when_full`).
    #[error("pool `{pool}` has no place left")]
    PoolFull {
        /// The pool.
        pool: String,
    },
    /// The application is not waiting for a place of this pool (promoted already, withdrawn).
    #[error("the application is not on the waitlist of pool `{pool}`")]
    NotWaiting {
        /// The pool.
        pool: String,
    },
}
