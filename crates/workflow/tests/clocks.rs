//! The clock stops while an agency waits on the firm: a request for information pauses the
//! asking step's due period, and the firm's answer resumes it with the time that remained, in
//! working days of the agency's calendar (Lunar New Year and Christmas included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{DateTime, Utc};
use common::{App, bundled};
use serde_json::json;
use softland_workflow::{Code, EventKind, Remaining, Workflow};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn question() -> Option<serde_json::Value> {
    Some(json!({"question": "Please send the audited accounts."}))
}

fn answer() -> Option<serde_json::Value> {
    Some(json!({"answer": "Attached."}))
}

/// The due time of the open task of `state`.
fn due(app: &App<'_>, state: &str, assignee: &str) -> DateTime<Utc> {
    let id = app.task(state, assignee);
    app.inst.task(id).unwrap().due_at.unwrap()
}

/// HKSTP's review opens on Wednesday 20 January 2027 at 10:00 in Hong Kong.
fn hkstp_opened(wf: &Workflow) -> App<'_> {
    let mut app = common::nominated(wf);
    app.now = at("2027-01-20T02:00:00Z");
    app.act("eligibility_screening", "investhk:amy", "eligible", None)
        .unwrap();
    app
}

#[test]
fn an_answer_resumes_the_clock_with_the_business_days_that_remained_across_lunar_new_year() {
    let wf = bundled("soft-landing-sz-to-hk");
    let mut app = hkstp_opened(&wf);
    // 15 Hong Kong working days: 6, 8 and 9 February 2027 are Lunar New Year holidays.
    assert_eq!(
        due(&app, "hkstp_review", "hkstp"),
        at("2027-02-12T02:00:00Z")
    );
    // Wednesday 3 February, 15:00: 4, 5, 10, 11 and 12 February remain.
    app.now = at("2027-02-03T07:00:00Z");
    let events = app
        .act("hkstp_review", "hkstp:wong", "request_info", question())
        .unwrap();
    let paused = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::ClockPaused {
                state, remaining, ..
            } => Some((state.to_string(), *remaining)),
            _ => None,
        })
        .expect("the clock paused");
    assert_eq!(
        paused,
        ("hkstp_review".to_owned(), Remaining::BusinessDays(5))
    );
    // The firm answers on Friday 5 February at 09:00: five working days later is Tuesday 16
    // February (the holidays of 6, 8 and 9 February and the weekends do not count).
    app.now = at("2027-02-05T01:00:00Z");
    let events = app
        .act("hkstp_information", "applicant", "answer", answer())
        .unwrap();
    assert!(events.iter().any(|e| matches!(
        &e.kind,
        EventKind::ClockResumed { state, due_at } if state.as_str() == "hkstp_review" && *due_at == at("2027-02-16T01:00:00Z")
    )));
    assert_eq!(
        due(&app, "hkstp_review", "hkstp"),
        at("2027-02-16T01:00:00Z")
    );
    // It comes back to the reviewer who asked, claimed by them.
    let returns_to = events.iter().find_map(|e| match &e.kind {
        EventKind::TaskOpened { returns_to, .. } => returns_to.clone(),
        _ => None,
    });
    assert_eq!(returns_to.as_deref(), Some("wong"));
}

#[test]
fn the_day_of_the_request_counts_as_used_and_christmas_does_not_count() {
    let wf = bundled("soft-landing-sz-to-hk");
    let mut app = App::submit(&wf, common::example("soft-landing-sz-to-hk"));
    // Nominated on Monday 21 December 2026 at 10:00: InvestHK's 5 working days skip
    // Christmas (25 and 26 December) and end on Tuesday 29 December.
    app.now = at("2026-12-21T02:00:00Z");
    app.act("ofds_nomination", "ofds:chen", "nominate", None)
        .unwrap();
    assert_eq!(
        due(&app, "eligibility_screening", "investhk"),
        at("2026-12-29T02:00:00Z")
    );
    // Asked on Wednesday 23 December at 18:00: 24, 28 and 29 December remain.
    app.now = at("2026-12-23T10:00:00Z");
    app.act(
        "eligibility_screening",
        "investhk:amy",
        "request_info",
        question(),
    )
    .unwrap();
    // Answered on Thursday 31 December at 11:00: three working days later, skipping 1 January
    // 2027 and the weekend, is Wednesday 6 January.
    app.now = at("2026-12-31T03:00:00Z");
    app.act("eligibility_information", "applicant", "answer", answer())
        .unwrap();
    assert_eq!(
        due(&app, "eligibility_screening", "investhk"),
        at("2027-01-06T03:00:00Z")
    );
}

#[test]
fn a_request_after_the_due_time_leaves_nothing_and_every_request_pauses_again() {
    let wf = bundled("soft-landing-sz-to-hk");
    let mut app = hkstp_opened(&wf);
    // Asked twice: each time the remaining days carry over.
    app.now = at("2027-01-22T02:00:00Z"); // Friday: 13 working days remain
    app.act("hkstp_review", "hkstp:wong", "request_info", question())
        .unwrap();
    app.now = at("2027-03-01T02:00:00Z"); // Monday
    app.act("hkstp_information", "applicant", "answer", answer())
        .unwrap();
    // 13 working days from Monday 1 March 2027: 2–5, 8–12, 15–18 March.
    assert_eq!(
        due(&app, "hkstp_review", "hkstp"),
        at("2027-03-18T02:00:00Z")
    );
    app.now = at("2027-03-20T02:00:00Z"); // past due
    let events = app
        .act("hkstp_review", "hkstp:wong", "request_info", question())
        .unwrap();
    assert!(events.iter().any(|e| matches!(
        e.kind,
        EventKind::ClockPaused {
            remaining: Remaining::BusinessDays(0),
            ..
        }
    )));
    app.now = at("2027-03-22T02:00:00Z");
    app.act("hkstp_information", "applicant", "answer", answer())
        .unwrap();
    assert_eq!(
        due(&app, "hkstp_review", "hkstp"),
        at("2027-03-22T02:00:00Z")
    );
}

#[test]
fn the_fold_of_the_events_is_the_instance_with_its_clocks() {
    let wf = bundled("soft-landing-sz-to-hk");
    let mut app = hkstp_opened(&wf);
    app.now = at("2027-02-03T07:00:00Z");
    app.act("hkstp_review", "hkstp:wong", "request_info", question())
        .unwrap();
    let mid = softland_workflow::Instance::replay(&wf, &app.events).unwrap();
    assert_eq!(mid, app.inst);
    app.now = at("2027-02-05T01:00:00Z");
    app.act("hkstp_information", "applicant", "answer", answer())
        .unwrap();
    let end = softland_workflow::Instance::replay(&wf, &app.events).unwrap();
    assert_eq!(end, app.inst);
}

/// A small workflow: the agency's review, with a request to the firm that comes back.
fn review(due: &str) -> String {
    format!(
        r#"
key: clocks
title: Clocks
agencies: [hkstp]
form: {{type: object}}
start: review
states:
  review:
    type: task
    assignee: hkstp
    due: {due}
    actions:
      approve: {{to: approved}}
      ask: {{to: information}}
  information:
    type: task
    assignee: applicant
    actions:
      answer: {{to: review}}
  approved: {{type: final, outcome: approved}}
"#
    )
}

fn compile(source: &str) -> Workflow {
    Workflow::compile(source).unwrap_or_else(|d| panic!("{d}"))
}

fn small(wf: &Workflow) -> App<'_> {
    App::submit(wf, json!({}))
}

#[test]
fn a_running_clock_keeps_the_due_time_and_a_restarted_one_starts_again() {
    let run = compile(&review("{within: P10D, on_request: run}"));
    let mut app = small(&run);
    let first = due(&app, "review", "hkstp");
    app.now += chrono::Duration::days(3);
    app.act("review", "hkstp:wong", "ask", None).unwrap();
    app.now += chrono::Duration::days(2);
    app.act("information", "applicant", "answer", None).unwrap();
    assert_eq!(due(&app, "review", "hkstp"), first);
    assert!(!app.events.iter().any(|e| matches!(
        e.kind,
        EventKind::ClockPaused { .. } | EventKind::ClockResumed { .. }
    )));

    let restart = compile(&review("{within: P10D, on_request: restart}"));
    let mut app = small(&restart);
    app.now += chrono::Duration::days(3);
    app.act("review", "hkstp:wong", "ask", None).unwrap();
    app.now += chrono::Duration::days(2);
    app.act("information", "applicant", "answer", None).unwrap();
    assert_eq!(
        due(&app, "review", "hkstp"),
        app.now + chrono::Duration::days(10)
    );
}

#[test]
fn calendar_periods_pause_to_the_second_and_the_cap_leaves_later_requests_running() {
    let wf = compile(&review("{within: P10D, max_pauses: 1}"));
    let mut app = small(&wf);
    let first = due(&app, "review", "hkstp");
    app.now += chrono::Duration::hours(30);
    app.act("review", "hkstp:wong", "ask", None).unwrap();
    app.now += chrono::Duration::days(4);
    app.act("information", "applicant", "answer", None).unwrap();
    let second = due(&app, "review", "hkstp");
    assert_eq!(second, first + chrono::Duration::days(4));
    // The second request is past the cap: the clock keeps running.
    app.now += chrono::Duration::days(1);
    let events = app.act("review", "hkstp:wong", "ask", None).unwrap();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e.kind, EventKind::ClockPaused { .. }))
    );
    app.now += chrono::Duration::days(3);
    app.act("information", "applicant", "answer", None).unwrap();
    assert_eq!(due(&app, "review", "hkstp"), second);
}

#[test]
fn a_pause_with_no_way_to_resume_is_refused_at_its_line() {
    let source = r#"
key: clocks
title: Clocks
agencies: [hkstp]
form: {type: object}
start: review
states:
  review:
    type: task
    assignee: hkstp
    due: {within: P10D, on_request: pause}
    actions:
      ask: {to: information}
  information:
    type: task
    assignee: applicant
    actions:
      answer: {to: approved}
  approved: {type: final, outcome: approved}
"#;
    let d = Workflow::compile(source).unwrap_err();
    let found: Vec<_> = d
        .iter()
        .filter(|d| d.code == Code::PauseCannotResume)
        .collect();
    assert_eq!(found.len(), 1, "{d}");
    assert_eq!(found[0].pos.line, 11);
    // `max_pauses` on a clock that never pauses contradicts itself too.
    let d =
        Workflow::compile(&review("{within: P10D, on_request: run, max_pauses: 2}")).unwrap_err();
    assert!(d.iter().any(|d| d.code == Code::InvalidValue), "{d}");
    // An unknown mode is named.
    let d = Workflow::compile(&review("{within: P10D, on_request: stop}")).unwrap_err();
    assert!(d.to_string().contains("`pause`, `run` or `restart`"), "{d}");
}
