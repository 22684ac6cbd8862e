//! `due: {remind: …}`: when the assignee of a task is reminded that it falls due.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{DateTime, Duration, Utc};
use common::*;
use serde_json::json;
use softland_workflow::{
    Assignee, BusinessCalendar, Calendars, DayCount, EventKind, Workflow, duration::DuePeriod,
};

fn one_task(due: &str) -> String {
    format!(
        r#"
key: remind
title: Reminders
agencies: [hkstp]
form: {{type: object}}
start: review
states:
  review:
    type: task
    assignee: hkstp
    due: {due}
    actions: {{done: {{to: end}}}}
  end: {{type: final, outcome: approved}}
"#
    )
}

/// (due_at, remind_at) of the task the submission opens.
fn opened(wf: &Workflow) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let app = App::submit(wf, json!({}));
    app.events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::TaskOpened {
                due_at, remind_at, ..
            } => Some((*due_at, *remind_at)),
            _ => None,
        })
        .unwrap()
}

#[test]
fn by_default_two_days_before_the_due_time() {
    let wf = Workflow::compile(&one_task("{within: P14D}")).unwrap();
    let (due, remind) = opened(&wf);
    assert_eq!(remind.unwrap(), due.unwrap() - Duration::days(2));
}

#[test]
fn business_days_are_counted_as_the_due_period_counts_them() {
    let wf = Workflow::compile(&one_task("{within: P10D, days: business}")).unwrap();
    let (due, remind) = opened(&wf);
    let cal = Calendars::builtin();
    let eight = cal.due_at(
        t0(),
        &DuePeriod::days(8, DayCount::Business),
        &Assignee::Agency("hkstp".into()),
    );
    assert_eq!(remind, Some(eight), "10 - 2 business days after opening");
    assert!(remind.unwrap() < due.unwrap() && remind.unwrap() > t0());

    let wf = Workflow::compile(&one_task("{within: P2W, days: business, remind: P1W}")).unwrap();
    let (_, remind) = opened(&wf);
    let five = cal.due_at(
        t0(),
        &DuePeriod::days(5, DayCount::Business),
        &Assignee::Agency("hkstp".into()),
    );
    assert_eq!(remind, Some(five), "a business week is five days");
}

#[test]
fn a_calendar_reminder_may_be_hours_or_seconds_before() {
    let wf = Workflow::compile(&one_task("{within: P1D, remind: PT4H}")).unwrap();
    let (due, remind) = opened(&wf);
    assert_eq!(remind.unwrap(), due.unwrap() - Duration::hours(4));
    let wf = Workflow::compile(&one_task("{within: PT6S, remind: PT3S}")).unwrap();
    let (due, remind) = opened(&wf);
    assert_eq!(remind.unwrap(), due.unwrap() - Duration::seconds(3));
}

#[test]
fn none_turns_reminders_off_and_a_short_task_gets_none() {
    let wf = Workflow::compile(&one_task("{within: P10D, remind: none}")).unwrap();
    assert_eq!(opened(&wf).1, None);
    // Due within two days: a default reminder would come when it opens, so there is none.
    let wf = Workflow::compile(&one_task("{within: P2D}")).unwrap();
    assert_eq!(opened(&wf).1, None);
    let wf = Workflow::compile(&one_task("P1D")).unwrap();
    assert_eq!(opened(&wf).1, None);
}

#[test]
fn a_reminder_before_the_task_opens_or_in_hours_is_refused() {
    for (due, says) in [
        ("{within: P5D, remind: P5D}", "comes before the task opens"),
        (
            "{within: PT10M, remind: PT1H}",
            "comes before the task opens",
        ),
        (
            "{within: P5D, days: business, remind: PT4H}",
            "business days take only days and weeks",
        ),
        (
            "{within: P2M, remind: P1M}",
            "a reminder takes no months or years",
        ),
        (
            "{within: P5D, remind: soon}",
            "`remind` takes a time before the due time",
        ),
    ] {
        let err = Workflow::compile(&one_task(due)).unwrap_err();
        let d = err.iter().next().unwrap();
        assert_eq!(d.code.as_str(), "invalid-duration", "{due}");
        assert!(d.message.contains(says), "{due}: {}", d.message);
        assert_eq!(d.pos.line, 11, "{due}: at the `due` line");
    }
}
