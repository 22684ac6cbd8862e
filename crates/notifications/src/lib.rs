//! softland-notifications: telling firms' and agencies' systems and people what happened.
//!
//! - [`signing`]: Standard Webhooks secrets and signatures.
//! - [`guard`]: which addresses a webhook may reach (no server-side request forgery).
//! - [`webhook`]: one signed POST, with a timeout and a cap on the answer read.
//! - [`mail`]: SMTP with lettre (STARTTLS or implicit TLS).
//! - [`letters`]: what e-mail says, in English, Traditional and Simplified Chinese.
//! - [`delivery`]: the worker that leases, sends, records and retries.
//!
//! What to send to whom — and what each recipient may see of it — is decided by the gateway's
//! policy when committed events are fanned out; this crate sends what it is given.

pub mod delivery;
pub mod guard;
pub mod letters;
pub mod mail;
pub mod signing;
pub mod webhook;

use softland_store::EventRecord;

/// The event types a webhook endpoint may subscribe to.
pub const EVENT_TYPES: [&str; 8] = [
    "application.submitted",
    "task.opened",
    "information.requested",
    "task.completed",
    "task.reassigned",
    "task.overdue",
    "application.completed",
    "application.withdrawn",
];

/// The event type an audit-log entry announces, if any (an internal note, a state entered or a
/// choice made announce nothing).
pub fn event_type(e: &EventRecord) -> Option<&'static str> {
    Some(match e.kind.as_str() {
        "submitted" => "application.submitted",
        "task_opened" => {
            if e.payload
                .get("assignee")
                .and_then(serde_json::Value::as_str)
                == Some("applicant")
            {
                "information.requested"
            } else {
                "task.opened"
            }
        }
        "task_completed" => "task.completed",
        "task_reassigned" => "task.reassigned",
        "task_overdue" => "task.overdue",
        "completed" => "application.completed",
        "withdrawn" => "application.withdrawn",
        _ => return None,
    })
}
