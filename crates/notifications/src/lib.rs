//! softland-notifications: telling firms' and agencies' systems and people what happened.
//!
//! - [`signing`]: Standard Webhooks secrets and signatures.
//! - [`guard`]: which addresses a webhook may reach (no server-side request forgery).
//! - [`webhook`]: one signed POST, with a timeout and a cap on the answer read.
//! - [`mail`]: SMTP with lettre (STARTTLS or implicit TLS).
//! - [`letters`]: what e-mail says, in English, Traditional and Simplified Chinese.
//! - [`fan_out`]: the worker that turns committed events into deliveries — a webhook call per
//!   endpoint whose owner may see the event, e-mail to the people concerned — queued in the
//!   store exactly once per outbox row.
//! - [`delivery`]: the worker that leases, sends, records and retries.
//!
//! outbox → fan-out → queue → delivery all live here; who may see what of an event is the
//! policy's answer (`softland-policy`), asked once per endpoint's owner.

pub mod delivery;
pub mod fan_out;
pub mod guard;
pub mod letters;
pub mod mail;
pub mod signing;
pub mod webhook;

use softland_store::EventRecord;
use softland_workflow::{Assignee, EventName};

/// What a webhook endpoint subscribes to and a delivery announces: the Standard Webhooks
/// `type`. Adding one fails to compile wherever types are told apart (letters, fan-out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// An application was submitted.
    ApplicationSubmitted,
    /// A task opened for an agency.
    TaskOpened,
    /// A task opened for the applicant: an agency asks the firm for information.
    InformationRequested,
    /// A task was completed.
    TaskCompleted,
    /// A task was handed to another assignee.
    TaskReassigned,
    /// A task fell overdue.
    TaskOverdue,
    /// An application reached its outcome.
    ApplicationCompleted,
    /// The applicant withdrew an application.
    ApplicationWithdrawn,
    /// An application's place changed: reserved, confirmed, released, waitlisted, promoted.
    PlaceChanged,
}

impl EventType {
    /// Every type, in the order endpoints list them.
    pub const ALL: [EventType; 9] = [
        EventType::ApplicationSubmitted,
        EventType::TaskOpened,
        EventType::InformationRequested,
        EventType::TaskCompleted,
        EventType::TaskReassigned,
        EventType::TaskOverdue,
        EventType::ApplicationCompleted,
        EventType::ApplicationWithdrawn,
        EventType::PlaceChanged,
    ];

    /// Its name (`application.submitted`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::ApplicationSubmitted => "application.submitted",
            EventType::TaskOpened => "task.opened",
            EventType::InformationRequested => "information.requested",
            EventType::TaskCompleted => "task.completed",
            EventType::TaskReassigned => "task.reassigned",
            EventType::TaskOverdue => "task.overdue",
            EventType::ApplicationCompleted => "application.completed",
            EventType::ApplicationWithdrawn => "application.withdrawn",
            EventType::PlaceChanged => "place.changed",
        }
    }

    /// The type a name names.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The type an audit-log entry announces, if any (an internal note, a state entered or a
    /// choice made announce nothing).
    pub fn of(e: &EventRecord) -> Option<Self> {
        Some(match e.kind {
            EventName::Submitted => EventType::ApplicationSubmitted,
            EventName::TaskOpened => match e.assignee() {
                Some(Assignee::Applicant) => EventType::InformationRequested,
                _ => EventType::TaskOpened,
            },
            EventName::TaskCompleted => EventType::TaskCompleted,
            EventName::TaskReassigned => EventType::TaskReassigned,
            EventName::TaskOverdue => EventType::TaskOverdue,
            EventName::Completed => EventType::ApplicationCompleted,
            EventName::Withdrawn => EventType::ApplicationWithdrawn,
            EventName::PlaceChanged => EventType::PlaceChanged,
            EventName::Entered
            | EventName::Exited
            | EventName::NoteAdded
            | EventName::TaskCancelled
            | EventName::ChoiceMade
            | EventName::BranchDone
            | EventName::DocumentLinked
            | EventName::ClockPaused
            | EventName::ClockResumed
            | EventName::Migrated => return None,
        })
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
