#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Utc};
use serde_json::json;

use super::*;
use crate::engine::{Command, TaskId};
use crate::{Calendars, EventName};

const V1: &str = r#"
key: m
title: M
agencies: [a, b]
form: {type: object, properties: {count: {type: integer}}}
start: first
states:
  first:
    type: task
    assignee: a
    due: P10D
    actions: {go: {to: both}}
  both:
    type: parallel
    join: all
    next: vote
    branches:
      left: {start: l1, states: {l1: {type: task, assignee: a, actions: {ok: {to: ldone}}}, ldone: {type: done}}}
      right: {start: r1, states: {r1: {type: task, assignee: b, actions: {ok: {to: rdone}}}, rdone: {type: done}}}
  vote:
    type: approval
    seats: [a, b]
    required: 2
    approved: passed
    rejected: refused
  passed: {type: final, outcome: approved}
  refused: {type: final, outcome: rejected}
"#;

/// V1 with `first` renamed `start_here` (due P20D), `r1` worked by `a`, and a required field.
fn v2(first: &str, r1_assignee: &str, required: &str) -> String {
    V1.replace("start: first", &format!("start: {first}"))
        .replace("  first:\n", &format!("  {first}:\n"))
        .replace("due: P10D", "due: P20D")
        .replace(
            "r1: {type: task, assignee: b",
            &format!("r1: {{type: task, assignee: {r1_assignee}"),
        )
        .replace(
            "form: {type: object,",
            &format!("form: {{type: object, required: [{required}],"),
        )
}

fn t0() -> DateTime<Utc> {
    "2026-11-24T01:00:00Z".parse().unwrap()
}

fn compile(s: &str) -> Workflow {
    Workflow::compile(s).unwrap_or_else(|d| panic!("{d}"))
}

struct Run<'w> {
    wf: &'w Workflow,
    inst: Instance,
    events: Vec<Event>,
    cal: Calendars,
}

impl<'w> Run<'w> {
    fn new(wf: &'w Workflow) -> Self {
        let cal = Calendars::builtin();
        let env = Env {
            now: t0(),
            calendar: &cal,
            full: &[],
            unbound: &[],
            host: None,
        };
        let (inst, events) = wf
            .submit(&Actor::applicant("f"), json!({"count": 1}), env)
            .unwrap();
        Run {
            wf,
            inst,
            events,
            cal,
        }
    }
    fn act(&mut self, task: u32, who: &str, agency: &str, action: &str) {
        let env = Env {
            now: t0(),
            calendar: &self.cal,
            full: &[],
            unbound: &[],
            host: None,
        };
        let cmd = Command::Act {
            task: TaskId(task),
            action: action.into(),
            comment: None,
            input: None,
            note: None,
        };
        let e = self
            .wf
            .execute(&mut self.inst, &Actor::reviewer(who, agency), cmd, env)
            .unwrap();
        self.events.extend(e);
    }
}

fn plan(mappings: &[(&str, &str)]) -> Plan {
    Plan {
        mappings: mappings
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect(),
        timers: Timers::KeepElapsed,
        data: Vec::new(),
    }
}

#[test]
fn a_renamed_active_state_needs_a_mapping_and_then_moves_with_its_timer() {
    let (a, b) = (compile(V1), compile(&v2("start_here", "b", "count")));
    let run = Run::new(&a);
    let none = plan(&[]);
    let m = Migration::new((&a, 1), (&b, 2), &none).unwrap();
    assert_eq!(
        m.check(1, &run.inst),
        Err(Blocker::Unmapped("first".into()))
    );
    let mapped = plan(&[("first", "start_here")]);
    let m = Migration::new((&a, 1), (&b, 2), &mapped).unwrap();
    let mut inst = run.inst.clone();
    let env = Env {
        now: t0(),
        calendar: &run.cal,
        full: &[],
        unbound: &[],
        host: None,
    };
    let e = m.migrate(&mut inst, 1, "h", &Actor::system(), env).unwrap();
    let EventKind::Migrated { states, due, .. } = &e.kind else {
        panic!()
    };
    assert_eq!(states[0].from.as_str(), "first");
    assert_eq!(states[0].to.as_str(), "start_here");
    // The time spent counts: opened at t0, now due 20 days after it.
    assert_eq!(due[0].due_at, Some(t0() + chrono::Duration::days(20)));
    assert_eq!(b.state(inst.active_states()[0]).name(), "start_here");
    // The fold across versions is the migrated instance.
    let mut events = run.events.clone();
    events.push(e.clone());
    let folded = Instance::replay_versions(&a, |v| (v == 2).then_some(&b), &events).unwrap();
    assert_eq!(folded, inst);
    assert_eq!(e.kind.name(), EventName::Migrated);
}

#[test]
fn votes_claims_and_branches_move_and_their_rules_still_hold_on_the_new_version() {
    let (a, b) = (compile(V1), compile(&v2("start_here", "b", "count")));
    let mut run = Run::new(&a);
    run.act(1, "x", "a", "go");
    run.act(2, "y", "a", "ok");
    let p = plan(&[("first", "start_here")]);
    let m = Migration::new((&a, 1), (&b, 2), &p).unwrap();
    let mut inst = run.inst.clone();
    let env = Env {
        now: t0(),
        calendar: &run.cal,
        full: &[],
        unbound: &[],
        host: None,
    };
    m.migrate(&mut inst, 1, "h", &Actor::system(), env).unwrap();
    // The right branch finishes on v2 and the approval opens and decides there.
    let cmd = |t: u32, action: &str| Command::Act {
        task: TaskId(t),
        action: action.into(),
        comment: None,
        input: None,
        note: None,
    };
    b.execute(&mut inst, &Actor::reviewer("z", "b"), cmd(3, "ok"), env)
        .unwrap();
    b.execute(
        &mut inst,
        &Actor::reviewer("p", "a"),
        cmd(4, "approve"),
        env,
    )
    .unwrap();
    b.execute(
        &mut inst,
        &Actor::reviewer("q", "b"),
        cmd(5, "approve"),
        env,
    )
    .unwrap();
    assert_eq!(inst.outcome(), Some("approved"));
}

#[test]
fn each_reason_an_application_cannot_move_is_named() {
    let a = compile(V1);
    let mut run = Run::new(&a);
    run.act(1, "x", "a", "go");
    // The right branch's task goes to another agency.
    let b = compile(&v2("first", "a", "count"));
    let p = plan(&[]);
    let m = Migration::new((&a, 1), (&b, 2), &p).unwrap();
    assert_eq!(
        m.check(1, &run.inst),
        Err(Blocker::AssigneeChanged {
            state: "r1".into(),
            from: "b".into()
        })
    );
    // The data lacks a field the new form requires.
    let c = compile(&v2("first", "b", "missing"));
    let m = Migration::new((&a, 1), (&c, 2), &p).unwrap();
    assert!(matches!(m.check(1, &run.inst), Err(Blocker::Data(_))));
    // A state mapped to one of another kind.
    let d = compile(&v2("first", "b", "count"));
    let kind = plan(&[("l1", "ldone")]);
    let m = Migration::new((&a, 1), (&d, 2), &kind).unwrap();
    assert_eq!(
        m.check(1, &run.inst),
        Err(Blocker::KindChanged {
            state: "l1".into(),
            to: "ldone".into()
        })
    );
    // A branch's state mapped into the other branch.
    let across = plan(&[("l1", "r1")]);
    let m = Migration::new((&a, 1), (&d, 2), &across).unwrap();
    assert_eq!(
        m.check(1, &run.inst),
        Err(Blocker::BranchesChanged("both".into()))
    );
    // The wrong version, and a finished application.
    let m = Migration::new((&a, 1), (&d, 2), &p).unwrap();
    assert_eq!(m.check(3, &run.inst), Err(Blocker::OtherVersion(3)));
    let mut done = Run::new(&a);
    done.act(1, "x", "a", "go");
    done.act(2, "x", "a", "ok");
    done.act(3, "y", "b", "ok");
    done.act(4, "x", "a", "reject");
    assert_eq!(m.check(1, &done.inst), Err(Blocker::Finished));
    // Every reason reads as a sentence with a stable code.
    for b in [
        Blocker::Finished,
        Blocker::Unmapped("s".into()),
        Blocker::BranchesChanged("p".into()),
    ] {
        assert!(!b.to_string().is_empty() && !b.code().is_empty());
    }
}

#[test]
fn a_plan_naming_states_the_versions_lack_is_refused_whole() {
    let (a, b) = (compile(V1), compile(&v2("start_here", "b", "count")));
    let p = plan(&[
        ("nowhere", "start_here"),
        ("first", "gone"),
        ("first", "start_here"),
    ]);
    let errors = Migration::new((&a, 1), (&b, 2), &p).err().unwrap();
    assert_eq!(
        errors,
        vec![
            PlanError::UnknownFrom("nowhere".into()),
            PlanError::UnknownTo("gone".into()),
            PlanError::Duplicate("first".into()),
        ]
    );
    assert_eq!(
        Migration::new((&a, 1), (&a, 1), &plan(&[])).err(),
        Some(vec![PlanError::SameVersion])
    );
}

#[test]
fn upgrade_at_names_states_where_an_application_waits() {
    let ok = compile(&V1.replace("start: first", "upgrade_at: [first, vote]\nstart: first"));
    let names: Vec<&str> = ok
        .upgrade_at()
        .iter()
        .map(|s| ok.state(*s).name())
        .collect();
    assert_eq!(names, ["first", "vote"]);
    let d = Workflow::compile(&V1.replace(
        "start: first",
        "upgrade_at: [passed, nowhere]\nstart: first",
    ))
    .unwrap_err();
    let codes: Vec<_> = d.iter().map(|d| d.code).collect();
    assert!(codes.contains(&crate::Code::InvalidValue), "{d}");
    assert!(codes.contains(&crate::Code::UnknownTarget), "{d}");
}

#[test]
fn data_changes_are_made_checked_against_the_new_form_and_folded() {
    let a = compile(V1);
    // The new form requires `staff`, an integer; the old data has `count`.
    let b = compile(&V1.replace(
        "form: {type: object, properties: {count: {type: integer}}}",
        "form: {type: object, required: [staff], properties: {staff: {type: integer, minimum: 2}}, additionalProperties: false}",
    ));
    let run = Run::new(&a);
    let none = plan(&[]);
    let m = Migration::new((&a, 1), (&b, 2), &none).unwrap();
    assert!(matches!(m.check(1, &run.inst), Err(Blocker::Data(_))));
    let mut p = plan(&[]);
    p.data = vec![
        ("staff".into(), "data.count * 2".into()),
        ("count".into(), "null".into()),
    ];
    let m = Migration::new((&a, 1), (&b, 2), &p).unwrap();
    let mut inst = run.inst.clone();
    let env = Env {
        now: t0(),
        calendar: &run.cal,
        full: &[],
        unbound: &[],
        host: None,
    };
    let e = m.migrate(&mut inst, 1, "h", &Actor::system(), env).unwrap();
    assert_eq!(inst.data(), &json!({"staff": 2}));
    let mut events = run.events.clone();
    events.push(e);
    let folded = Instance::replay_versions(&a, |v| (v == 2).then_some(&b), &events).unwrap();
    assert_eq!(folded.data(), &json!({"staff": 2}));
    // A value the new form refuses is named; so is an expression that fails on the data.
    p.data = vec![
        ("staff".into(), "data.count".into()),
        ("count".into(), "null".into()),
    ];
    let m = Migration::new((&a, 1), (&b, 2), &p).unwrap();
    assert!(matches!(m.check(1, &run.inst), Err(Blocker::Data(_))));
    p.data = vec![("staff".into(), "data.count / 0".into())];
    let m = Migration::new((&a, 1), (&b, 2), &p).unwrap();
    let err = m.check(1, &run.inst).unwrap_err();
    assert_eq!(err.code(), "data-change-failed", "{err}");
    // A field neither form declares, or an expression reading one the old form lacks, is
    // refused with the plan.
    p.data = vec![
        ("nowhere".into(), "1".into()),
        ("staff".into(), "data.typo".into()),
    ];
    let errors = Migration::new((&a, 1), (&b, 2), &p).err().unwrap();
    assert!(
        matches!(&errors[0], PlanError::UnknownDataField(f) if f == "nowhere"),
        "{errors:?}"
    );
    assert!(
        matches!(&errors[1], PlanError::DataChange { field, .. } if field == "staff"),
        "{errors:?}"
    );
}
