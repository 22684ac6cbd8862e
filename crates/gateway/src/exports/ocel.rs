//! `event-log.jsonocel`: the event log as OCEL 2.0 JSON — objects of three types
//! (`application`, `task`, `document`) and events that relate to them: an application
//! submitted and decided, a task opened, completed and cancelled, a document linked. Written
//! in two passes over the period (the objects, then the events), a page at a time. The
//! document's `softland` member says the period, the filters, when it was made and the audit
//! log's head.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use softland_store::TaskStatus;
use softland_store::reports::Case;

use super::{Format, Meta};

/// The event log in OCEL 2.0 JSON.
#[derive(Default)]
pub(crate) struct EventLog {
    /// Whether the current array has an element yet.
    started: bool,
}

const EPOCH: &str = "1970-01-01T00:00:00Z";

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn attributes(pairs: &[(&str, Value)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(name, value)| json!({"name": name, "time": EPOCH, "value": value}))
            .collect(),
    )
}

fn event_attributes(pairs: &[(&str, &str)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect(),
    )
}

fn app_id(case: &Case) -> String {
    format!("application:{}", case.reference)
}

impl EventLog {
    fn push(&mut self, out: &mut Vec<u8>, value: &Value) {
        if self.started {
            out.push(b',');
        }
        self.started = true;
        out.push(b'\n');
        // A `Value` always serializes.
        let _ = serde_json::to_writer(&mut *out, value);
    }

    fn objects(&mut self, case: &Case, out: &mut Vec<u8>) {
        let id = app_id(case);
        let mut related: Vec<Value> = Vec::new();
        for t in &case.tasks {
            let task = format!("task:{}:{}", case.reference, t.task_no);
            related.push(json!({"objectId": task, "qualifier": "task"}));
            self.push(out, &json!({
                "id": task,
                "type": "task",
                "attributes": attributes(&[("step", json!(t.state)), ("title", json!(t.title)), ("agency", json!(t.assignee.key()))]),
                "relationships": [{"objectId": id, "qualifier": "application"}],
            }));
        }
        for d in &case.documents {
            let doc = format!("document:{}", d.id);
            related.push(json!({"objectId": doc, "qualifier": "document"}));
            self.push(out, &json!({
                "id": doc,
                "type": "document",
                "attributes": attributes(&[("media_type", json!(d.media_type)), ("erased", json!(if d.erased { "yes" } else { "no" }))]),
                "relationships": [{"objectId": id, "qualifier": "application"}],
            }));
        }
        self.push(
            out,
            &json!({
                "id": id,
                "type": "application",
                "attributes": attributes(&[
                    ("reference", json!(case.reference)),
                    ("workflow", json!(case.workflow_key)),
                    ("workflow_version", json!(case.workflow_version.to_string())),
                    ("organization", json!(case.organization_name)),
                    ("region", json!(case.region.clone().unwrap_or_default())),
                    ("result", json!(case.result())),
                ]),
                "relationships": related,
            }),
        );
    }

    fn events(&mut self, case: &Case, out: &mut Vec<u8>) {
        let id = app_id(case);
        let application = json!({"objectId": id, "qualifier": "application"});
        let mut events: Vec<(DateTime<Utc>, Value)> = vec![(
            case.submitted_at,
            json!({"type": "submit application", "attributes": [], "relationships": [application]}),
        )];
        for t in &case.tasks {
            let task = json!({"objectId": format!("task:{}:{}", case.reference, t.task_no), "qualifier": "task"});
            let attrs = event_attributes(&[("step", &t.state), ("agency", t.assignee.key())]);
            events.push((
                t.opened_at,
                json!({"type": "open task", "attributes": attrs, "relationships": [application, task]}),
            ));
            if let Some(closed) = t.closed_at {
                let kind = match t.status {
                    TaskStatus::Cancelled => "cancel task",
                    _ => "complete task",
                };
                events.push((
                    closed,
                    json!({"type": kind, "attributes": attrs, "relationships": [application, task]}),
                ));
            }
        }
        for d in &case.documents {
            let doc = json!({"objectId": format!("document:{}", d.id), "qualifier": "document"});
            events.push((
                d.linked_at,
                json!({"type": "link document", "attributes": [], "relationships": [application, doc]}),
            ));
        }
        if let Some(decided) = case.decided_at {
            events.push((
                decided,
                json!({"type": "decide application", "attributes": event_attributes(&[("result", case.result())]), "relationships": [application]}),
            ));
        }
        events.sort_by_key(|e| e.0);
        for (n, (at, mut event)) in events.into_iter().enumerate() {
            event["id"] = json!(format!("{}:{}", case.reference, n + 1));
            event["time"] = json!(time(at));
            self.push(out, &event);
        }
    }
}

fn types(names: &[(&str, &[&str])]) -> Value {
    Value::Array(
        names
            .iter()
            .map(|(name, attrs)| {
                json!({
                    "name": name,
                    "attributes": attrs.iter().map(|a| json!({"name": a, "type": "string"})).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

impl Format for EventLog {
    const MEDIA_TYPE: &'static str = "application/json; charset=utf-8";
    const EXTENSION: &'static str = "jsonocel";
    const PASSES: usize = 2;

    fn head(&mut self, meta: &Meta, out: &mut Vec<u8>) {
        let object_types = types(&[
            (
                "application",
                &[
                    "reference",
                    "workflow",
                    "workflow_version",
                    "organization",
                    "region",
                    "result",
                ],
            ),
            ("task", &["step", "title", "agency"]),
            ("document", &["media_type", "erased"]),
        ]);
        let event_types = types(&[
            ("submit application", &[]),
            ("open task", &["step", "agency"]),
            ("complete task", &["step", "agency"]),
            ("cancel task", &["step", "agency"]),
            ("link document", &[]),
            ("decide application", &["result"]),
        ]);
        let softland = json!({
            "period": meta.period.label(),
            "filters": meta.filters(),
            "madeAt": time(meta.made_at),
            "auditHead": meta.head(),
        });
        out.extend_from_slice(b"{\"softland\":");
        let _ = serde_json::to_writer(&mut *out, &softland);
        out.extend_from_slice(b",\n\"objectTypes\":");
        let _ = serde_json::to_writer(&mut *out, &object_types);
        out.extend_from_slice(b",\n\"eventTypes\":");
        let _ = serde_json::to_writer(&mut *out, &event_types);
        out.extend_from_slice(b",\n\"objects\":[");
        self.started = false;
    }

    fn between(&mut self, _pass: usize, out: &mut Vec<u8>) {
        out.extend_from_slice(b"],\n\"events\":[");
        self.started = false;
    }

    fn case(&mut self, pass: usize, case: &Case, out: &mut Vec<u8>) {
        match pass {
            0 => self.objects(case, out),
            _ => self.events(case, out),
        }
    }

    fn tail(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"]}\n");
    }
}
