//! `event-log.xes`: the event log in XES (IEEE 1849-2016), as process-mining tools (pm4py,
//! ProM, bupaR) read it. One trace per application (`concept:name` its reference); in it, in
//! time order, the submission, each step's task opened (`start`) and completed (`complete`;
//! `ate_abort` when it was cancelled), and the decision. `org:resource` is the agency (or
//! `applicant`), never a person. The log's own attributes say the period, the filters, when it
//! was made and the audit log's head.

use chrono::{DateTime, Utc};
use quick_xml::escape::escape;
use softland_store::TaskStatus;
use softland_store::reports::Case;

use super::{Format, Meta};

/// The event log in XES.
pub(crate) struct EventLog;

const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849-2016" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
  <extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
  <global scope="trace">
    <string key="concept:name" value="UNKNOWN"/>
  </global>
  <global scope="event">
    <string key="concept:name" value="UNKNOWN"/>
    <date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/>
    <string key="lifecycle:transition" value="complete"/>
    <string key="org:resource" value="UNKNOWN"/>
  </global>
  <classifier name="Activity" keys="concept:name"/>
  <classifier name="Activity and transition" keys="concept:name lifecycle:transition"/>
"#;

/// `<string key=… value=…/>`, escaped.
fn string(out: &mut String, indent: &str, key: &str, value: &str) {
    out.push_str(&format!(
        "{indent}<string key=\"{}\" value=\"{}\"/>\n",
        escape(key),
        escape(value)
    ));
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string()
}

/// Who decided: the firm that withdrew, the agency whose task closed as the application
/// finished, or `softland` (a timer: lapsed).
fn decider(case: &Case, decided: DateTime<Utc>) -> &str {
    if case.status == softland_workflow::Status::Withdrawn {
        return "applicant";
    }
    case.tasks
        .iter()
        .rev()
        .find(|t| t.status == TaskStatus::Completed && t.closed_at == Some(decided))
        .map_or("softland", |t| t.assignee.key())
}

impl Format for EventLog {
    const MEDIA_TYPE: &'static str = "application/xml; charset=utf-8";
    const EXTENSION: &'static str = "xes";

    fn head(&mut self, meta: &Meta, out: &mut Vec<u8>) {
        let mut s = String::from(HEAD);
        string(&mut s, "  ", "concept:name", "softland applications");
        string(&mut s, "  ", "softland:period", &meta.period.label());
        string(&mut s, "  ", "softland:filters", &meta.filters());
        s.push_str(&format!(
            "  <date key=\"softland:made-at\" value=\"{}\"/>\n",
            timestamp(meta.made_at)
        ));
        string(&mut s, "  ", "softland:audit-head", &meta.head());
        out.extend_from_slice(s.as_bytes());
    }

    fn case(&mut self, _pass: usize, case: &Case, out: &mut Vec<u8>) {
        let mut events: Vec<(DateTime<Utc>, String, &str, &str)> = Vec::new();
        events.push((
            case.submitted_at,
            "Application submitted".to_owned(),
            "applicant",
            "complete",
        ));
        for t in &case.tasks {
            let who = t.assignee.key();
            events.push((t.opened_at, t.title.clone(), who, "start"));
            if let Some(closed) = t.closed_at {
                let transition = match t.status {
                    TaskStatus::Cancelled => "ate_abort",
                    _ => "complete",
                };
                events.push((closed, t.title.clone(), who, transition));
            }
        }
        if let Some(decided) = case.decided_at {
            events.push((
                decided,
                format!("Application {}", case.result()),
                decider(case, decided),
                "complete",
            ));
        }
        // In time order; at one instant, in the order they happened.
        events.sort_by_key(|e| e.0);
        let mut s = String::from("  <trace>\n");
        string(&mut s, "    ", "concept:name", &case.reference);
        string(&mut s, "    ", "softland:workflow", &case.workflow_key);
        s.push_str(&format!(
            "    <int key=\"softland:workflow-version\" value=\"{}\"/>\n",
            case.workflow_version
        ));
        string(
            &mut s,
            "    ",
            "softland:organization",
            &case.organization_name,
        );
        string(
            &mut s,
            "    ",
            "softland:region",
            case.region.as_deref().unwrap_or(""),
        );
        string(&mut s, "    ", "softland:result", case.result());
        for (at, name, who, transition) in events {
            s.push_str("    <event>\n");
            string(&mut s, "      ", "concept:name", &name);
            string(&mut s, "      ", "org:resource", who);
            string(&mut s, "      ", "lifecycle:transition", transition);
            s.push_str(&format!(
                "      <date key=\"time:timestamp\" value=\"{}\"/>\n",
                timestamp(at)
            ));
            s.push_str("    </event>\n");
        }
        s.push_str("  </trace>\n");
        out.extend_from_slice(s.as_bytes());
    }

    fn tail(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"</log>\n");
    }
}
