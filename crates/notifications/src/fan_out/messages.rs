//! What fan-out writes: a webhook's JSON body, an e-mail's row, which letter an event sends,
//! and when digests go out.

use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde_json::{Value, json};
use softland_store::{ApplicationRecord, EventRecord};
use softland_workflow::{Assignee, Workflow};

use crate::EventType;
use crate::letters::{About, Lang, Letter};

pub(super) fn payload_time(e: &EventRecord, field: &str) -> Option<DateTime<Utc>> {
    e.payload
        .get(field)
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// The message an event type sends people.
pub(super) fn letter_for(
    event_type: EventType,
    about: About,
    wf: &Workflow,
    e: &EventRecord,
    lang: Lang,
) -> Option<Letter> {
    Some(match event_type {
        // An applicant's step that is no request (a student's offer to accept) says so.
        EventType::TaskOpened if e.assignee() == Some(Assignee::Applicant) => {
            Letter::StepAwaits(about)
        }
        EventType::TaskOpened | EventType::TaskReassigned => Letter::TaskOpened(about),
        EventType::InformationRequested => Letter::InformationRequested(about),
        EventType::ApplicationCompleted => {
            let outcome = e
                .payload
                .get("outcome")
                .and_then(Value::as_str)
                .unwrap_or_default();
            // The definition's words for it (its final state's title), in the language.
            let words = wf
                .outcome_title(outcome)
                .map_or_else(|| outcome.to_owned(), |t| t.get(lang).to_owned());
            Letter::Completed {
                about,
                outcome: words,
            }
        }
        EventType::ApplicationWithdrawn => Letter::Withdrawn(about),
        EventType::TaskOverdue => Letter::Overdue(about),
        EventType::ApplicationSubmitted | EventType::TaskCompleted | EventType::PlaceChanged => {
            return None;
        }
    })
}

/// The next 08:00 Hong Kong time after `now`: when daily digests go out.
pub fn next_digest(now: DateTime<Utc>) -> DateTime<Utc> {
    let hkt = softland_workflow::HONG_KONG;
    let local = now.with_timezone(&hkt);
    let today = hkt
        .with_ymd_and_hms(local.year(), local.month(), local.day(), 8, 0, 0)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now);
    if today > now {
        today
    } else {
        today + chrono::Duration::days(1)
    }
}

/// A webhook's JSON body: the Standard Webhooks envelope (`type`, `timestamp`, `data`) around
/// the entry as the endpoint's owner may see it (`seen`: the policy's view of it).
pub(super) fn webhook_body(
    event_type: EventType,
    app: &ApplicationRecord,
    wf: &Workflow,
    seen: &EventRecord,
    link: &str,
) -> Value {
    let e = seen;
    let mut data = json!({
        "applicationId": app.id,
        "workflow": wf.key(),
        "workflowVersion": app.workflow_version,
        "organization": app.organization,
        "seq": seen.seq,
        "kind": seen.kind.as_str(),
        "at": seen.at,
        "url": link,
    });
    let fields = [
        ("state", seen.state.clone().map(Value::from)),
        ("action", seen.action.clone().map(Value::from)),
        ("comment", seen.comment.clone().map(Value::from)),
        ("input", seen.input().cloned()),
        ("party", seen.party().map(|p| Value::from(p.key()))),
        ("actor", seen.actor.clone().map(Value::from)),
        ("task", e.payload.get("task").cloned()),
        (
            "assignee",
            e.payload.get("assignee").map(|a| match a.get("agency") {
                Some(agency) => agency.clone(),
                None => a.clone(),
            }),
        ),
        ("dueAt", e.payload.get("due_at").cloned()),
        ("outcome", e.payload.get("outcome").cloned()),
        ("reason", e.payload.get("reason").cloned()),
    ];
    if let Some(obj) = data.as_object_mut() {
        for (k, v) in fields {
            if let Some(v) = v.filter(|v| !v.is_null()) {
                obj.insert(k.to_owned(), v);
            }
        }
    }
    json!({"type": event_type.as_str(), "timestamp": e.at, "data": data})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_go_out_at_eight_in_hong_kong() {
        let at = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .expect("time")
                .with_timezone(&Utc)
        };
        assert_eq!(
            next_digest(at("2026-11-29T06:00:00+08:00")),
            at("2026-11-29T08:00:00+08:00")
        );
        assert_eq!(
            next_digest(at("2026-11-29T08:00:00+08:00")),
            at("2026-11-30T08:00:00+08:00")
        );
        assert_eq!(
            next_digest(at("2026-11-29T23:30:00Z")),
            at("2026-11-30T08:00:00+08:00")
        );
    }
}
