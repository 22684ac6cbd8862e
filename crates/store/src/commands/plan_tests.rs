//! The plan, tested without a database: one test per command kind.
use super::*;
use crate::hash::genesis;
use serde_json::Value;
use softland_workflow::EventName;
use softland_workflow::{Actor, Calendars, Command, Env};

fn workflow() -> Workflow {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let source =
        std::fs::read_to_string(root.join("workflows/soft-landing-sz-to-hk.yaml")).expect("yaml");
    let form = std::fs::read_to_string(root.join("schemas/forms/soft-landing-sz-to-hk.json"))
        .expect("form");
    Workflow::compile_with(&source, &move |_: &str| Ok::<_, String>(form.clone()))
        .expect("bundled workflow")
}

fn sample() -> Value {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    serde_json::from_str(
        &std::fs::read_to_string(root.join("workflows/examples/soft-landing-sz-to-hk.json"))
            .expect("sample"),
    )
    .expect("json")
}

/// A fixed morning and the bundled calendars.
fn at_nine() -> (chrono::DateTime<chrono::Utc>, Calendars) {
    (
        "2026-03-02T02:00:00Z".parse().expect("time"),
        Calendars::builtin(),
    )
}

fn set<T: Clone + Into<sea_orm::Value>>(v: &sea_orm::ActiveValue<T>) -> T {
    match v {
        sea_orm::ActiveValue::Set(x) | sea_orm::ActiveValue::Unchanged(x) => x.clone(),
        sea_orm::ActiveValue::NotSet => panic!("a planned column is not set"),
    }
}

/// A submission: every event row chained to the one before, one outbox row spanning them,
/// and a task row (with the definition's actions) and a timer for each task it opened.
#[test]
fn a_submission_plans_chained_events_an_outbox_row_and_its_tasks() {
    let wf = workflow();
    let (now, cal) = at_nine();
    let env = Env {
        now,
        calendar: &cal,
        full: &[],
        unbound: &[],
        host: None,
    };
    let (_, events) = wf
        .submit(&Actor::applicant("li"), sample(), env)
        .expect("submits");
    let id = Uuid::nil();
    let mut w = Writer::new(&wf, 1, id, "firm");
    let log = plan_events(&mut w, 1, &genesis(id), &events, now).expect("plans");
    assert_eq!(log.events.len(), events.len());
    let mut prev = genesis(id);
    for (i, row) in log.events.iter().enumerate() {
        let seq = set(&row.seq);
        assert_eq!(seq, i as i64 + 1);
        assert_eq!(set(&row.prev_hash), prev);
        let hash = set(&row.hash);
        assert_eq!(hash, link(&prev, seq, &set(&row.payload)));
        prev = hash;
    }
    assert_eq!(log.last_hash, prev);
    assert_eq!(log.outbox.len(), 1);
    assert_eq!(
        (set(&log.outbox[0].first_seq), set(&log.outbox[0].last_seq)),
        (1, events.len() as i64)
    );
    let opened: Vec<String> = w.new_tasks.iter().map(|t| set(&t.state)).collect();
    assert_eq!(opened, ["ofds_nomination"]);
    let actions: Vec<TaskAction> =
        serde_json::from_value(set(&w.new_tasks[0].actions)).expect("actions");
    let names: Vec<&str> = actions.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["nominate", "decline"]);
    assert_eq!(
        w.new_timers.len(),
        1,
        "the nomination is due in business days"
    );
    assert!(w.changes.is_empty() && w.timer_changes.is_empty());
}

/// An action: the task it completes is closed (with who and which action), its timer
/// cancelled, and the next state's tasks opened — as changes, not new rows, for the old one.
#[test]
fn an_action_plans_the_closed_task_its_timer_and_the_next_tasks() {
    let wf = workflow();
    let (now, cal) = at_nine();
    let env = Env {
        now,
        calendar: &cal,
        full: &[],
        unbound: &[],
        host: None,
    };
    let (mut inst, _) = wf
        .submit(&Actor::applicant("li"), sample(), env)
        .expect("submits");
    let task = inst.open_tasks()[0].id;
    let mut w = Writer::before(&wf, 1, Uuid::nil(), "firm", &inst);
    let events = wf
        .execute(
            &mut inst,
            &Actor::reviewer("chen", "ofds"),
            Command::Act {
                task,
                action: "nominate".into(),
                comment: Some("strong".into()),
                input: None,
                note: None,
            },
            env,
        )
        .expect("nominates");
    let log = plan_events(&mut w, 7, "prev", &events, now).expect("plans");
    assert_eq!(set(&log.events[0].seq), 7);
    let closed = w.changes[&task.0].closed.as_ref().expect("the task closes");
    assert_eq!(closed.status, TaskStatus::Completed);
    assert_eq!(
        (closed.by.as_deref(), closed.action.as_deref()),
        (Some("chen"), Some("nominate"))
    );
    assert_eq!(w.timer_changes[&task.0], TimerStatus::Cancelled);
    let opened: Vec<String> = w.new_tasks.iter().map(|t| set(&t.state)).collect();
    assert_eq!(opened, ["eligibility_screening"]);
    let completed = log
        .records
        .iter()
        .find(|r| r.kind == EventName::TaskCompleted)
        .expect("recorded");
    assert_eq!(
        (completed.state.as_deref(), completed.comment.as_deref()),
        (Some("ofds_nomination"), Some("strong"))
    );
}

/// A submitted application and a writer that knows its open tasks and timers.
fn submitted(wf: &Workflow) -> (Instance, chrono::DateTime<chrono::Utc>, Calendars) {
    let (now, cal) = at_nine();
    let env = Env {
        now,
        calendar: &cal,
        full: &[],
        unbound: &[],
        host: None,
    };
    let (inst, _) = wf
        .submit(&Actor::applicant("li"), sample(), env)
        .expect("submits");
    (inst, now, cal)
}

/// A withdrawal: every open task closes as cancelled (by the applicant who withdrew, with
/// no action), its timer is cancelled, nothing opens.
#[test]
fn a_withdrawal_plans_cancelled_tasks_and_timers() {
    let wf = workflow();
    let (mut inst, now, cal) = submitted(&wf);
    let task = inst.open_tasks()[0].id;
    let mut w = Writer::before(&wf, 1, Uuid::nil(), "firm", &inst);
    let env = Env {
        now,
        calendar: &cal,
        full: &[],
        unbound: &[],
        host: None,
    };
    let command = Command::Withdraw {
        reason: Some("plans changed".into()),
    };
    let events = wf
        .execute(&mut inst, &Actor::applicant("li"), command, env)
        .expect("withdraws");
    let log = plan_events(&mut w, 2, "prev", &events, now).expect("plans");
    let closed = w.changes[&task.0].closed.as_ref().expect("the task closes");
    assert_eq!(closed.status, TaskStatus::Cancelled);
    // Closed by the person who withdrew, with no action.
    assert_eq!(
        (closed.by.as_deref(), closed.action.as_deref()),
        (Some("li"), None)
    );
    assert_eq!(w.timer_changes[&task.0], TimerStatus::Cancelled);
    assert!(w.new_tasks.is_empty() && w.new_timers.is_empty());
    let withdrawn = log.records.last().expect("recorded");
    assert_eq!(
        (withdrawn.kind.as_str(), withdrawn.comment.as_deref()),
        ("withdrawn", Some("plans changed"))
    );
    assert_eq!(log.outbox.len(), 1);
}

/// A timer firing: the task is flagged overdue (a change to its row, kept open) and its
/// timer fired.
#[test]
fn a_timer_plans_the_overdue_flag_and_the_fired_timer() {
    let wf = workflow();
    let (mut inst, now, cal) = submitted(&wf);
    let (task, due) = inst.timers().next().expect("a timer");
    let mut w = Writer::before(&wf, 1, Uuid::nil(), "firm", &inst);
    let later = due + chrono::Duration::seconds(1);
    let env = Env {
        now: later,
        calendar: &cal,
        full: &[],
        unbound: &[],
        host: None,
    };
    let events = wf
        .execute(
            &mut inst,
            &Actor::system(),
            Command::FireTimer { task },
            env,
        )
        .expect("fires");
    plan_events(&mut w, 2, "prev", &events, later).expect("plans");
    let change = &w.changes[&task.0];
    assert!(change.overdue && change.closed.is_none(), "{change:?}");
    assert_eq!(w.timer_changes[&task.0], TimerStatus::Fired);
    assert!(now < later);
}

/// An internal note on its own: one event, no row changes.
#[test]
fn a_note_plans_one_event_and_no_row_changes() {
    let wf = workflow();
    let (mut inst, now, cal) = submitted(&wf);
    let mut w = Writer::before(&wf, 1, Uuid::nil(), "firm", &inst);
    let env = Env {
        now,
        calendar: &cal,
        full: &[],
        unbound: &[],
        host: None,
    };
    let command = Command::Note {
        note: "vouched for".into(),
    };
    let events = wf
        .execute(&mut inst, &Actor::reviewer("chen", "ofds"), command, env)
        .expect("notes");
    let log = plan_events(&mut w, 2, "prev", &events, now).expect("plans");
    assert_eq!(log.records.len(), 1);
    assert_eq!(log.records[0].note(), Some("vouched for"));
    assert!(!w.changes_existing_rows() && w.new_tasks.is_empty() && w.new_timers.is_empty());
}
