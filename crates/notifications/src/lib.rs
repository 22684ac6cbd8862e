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
use softland_workflow::{Assignee, EventName, Workflow};

/// What a webhook endpoint subscribes to and a delivery announces: the Standard Webhooks
/// `type`. Adding one fails to compile wherever types are told apart (letters, fan-out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// An application was submitted.
    ApplicationSubmitted,
    /// A task opened for an agency.
    TaskOpened,
    /// A task opened for the applicant that an agency's action led to: an agency asks the
    /// firm for information. (An applicant's other steps — a student's offer to accept — are
    /// [`EventType::TaskOpened`].)
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

    /// The type an audit-log entry of an application of `wf` announces, if any (an internal
    /// note, a state entered or a choice made announce nothing).
    pub fn of(e: &EventRecord, wf: &Workflow) -> Option<Self> {
        Some(match e.kind {
            EventName::Submitted => EventType::ApplicationSubmitted,
            EventName::TaskOpened => match e.assignee() {
                Some(Assignee::Applicant)
                    if e.state
                        .as_deref()
                        .is_none_or(|s| wf.is_information_request(s)) =>
                {
                    EventType::InformationRequested
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled(key: &str) -> Workflow {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workflows");
        let source = std::fs::read_to_string(dir.join(format!("{key}.yaml"))).expect("bundled");
        let loader =
            move |rel: &str| std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string());
        Workflow::compile_with(&source, &loader).expect("compiles")
    }

    fn opened(state: &str, assignee: &str) -> EventRecord {
        EventRecord {
            application_id: uuid::Uuid::nil(),
            seq: 5,
            kind: EventName::TaskOpened,
            actor: None,
            state: Some(state.to_owned()),
            action: None,
            comment: None,
            payload: serde_json::json!({"kind": "task_opened", "task": 3, "state": state, "assignee": assignee}),
            at: chrono::Utc::now(),
            hash: String::new(),
        }
    }

    #[test]
    fn an_applicant_step_is_an_information_request_only_when_an_agency_asked() {
        let sz = bundled("soft-landing-sz-to-hk");
        assert_eq!(
            EventType::of(&opened("eligibility_information", "applicant"), &sz),
            Some(EventType::InformationRequested)
        );
        assert_eq!(
            EventType::of(&opened("eligibility_screening", "investhk"), &sz),
            Some(EventType::TaskOpened)
        );
        // A student's offer to accept is their next step, not a question.
        let internship = bundled("internship-placement");
        assert_eq!(
            EventType::of(&opened("offer_made", "applicant"), &internship),
            Some(EventType::TaskOpened)
        );
    }
}
