//! Property tests over random command sequences on every bundled workflow:
//! - a rejected command produces no events and leaves the instance unchanged;
//! - replaying all events from the start reproduces the instance exactly (replay = fold);
//! - a finished application has no open task;
//! - a parallel state never joins before its join rule is met.

#![allow(clippy::unwrap_used)]

mod common;

use chrono::Duration;
use common::*;
use proptest::prelude::*;
use serde_json::json;
use softland_workflow::{Actor, Assignee, Command, Instance, StateKind};

/// One random step. Indexes are taken modulo what is available at that moment.
#[derive(Debug, Clone)]
enum Step {
    Act {
        task: usize,
        action: usize,
        actor: usize,
        good_input: bool,
    },
    Withdraw {
        by_applicant: bool,
    },
    Advance {
        days: u8,
    },
    FireTimer {
        task: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (any::<usize>(), any::<usize>(), any::<usize>(), prop::bool::weighted(0.85))
            .prop_map(|(task, action, actor, good_input)| Step::Act { task, action, actor, good_input }),
        1 => any::<bool>().prop_map(|by_applicant| Step::Withdraw { by_applicant }),
        1 => (0u8..40).prop_map(|days| Step::Advance { days }),
        1 => any::<usize>().prop_map(|task| Step::FireTimer { task }),
    ]
}

fn good_input() -> serde_json::Value {
    json!({"reason": "does not meet the criteria", "question": "please clarify", "answer": "clarified", "mentor": "Ms Lee"})
}

fn run_sequence(key: &str, steps: &[Step]) -> Result<(), TestCaseError> {
    let wf = bundled(key);
    let mut app = App::submit(&wf, example(key));
    let agencies: Vec<String> = wf.agencies().to_vec();
    for step in steps {
        let before = app.inst.clone();
        let (actor, cmd) = match step {
            Step::Act {
                task,
                action,
                actor,
                good_input: good,
            } => {
                let tasks = app.inst.open_tasks();
                if tasks.is_empty() {
                    continue;
                }
                let t = &tasks[task % tasks.len()];
                let offered: Vec<String> = match wf.state(t.state).kind() {
                    StateKind::Task(spec) => {
                        spec.actions().iter().map(|a| a.name().to_owned()).collect()
                    }
                    StateKind::Approval(_) => vec!["approve".into(), "reject".into()],
                    _ => vec!["nothing".into()],
                };
                // Mostly the right party with one of three people; sometimes a wrong agency.
                let person = format!("p{}", actor % 3);
                let who = if actor % 10 == 9 {
                    Actor::reviewer(person, agencies[actor % agencies.len()].as_str())
                } else {
                    match &t.assignee {
                        Assignee::Applicant | Assignee::Host(_) => Actor::applicant(person),
                        Assignee::Agency(a) => Actor::reviewer(person, a.clone()),
                    }
                };
                let input = if *good {
                    Some(good_input())
                } else {
                    Some(json!({"reason": 1}))
                };
                let cmd = Command::Act {
                    task: t.id,
                    action: offered[action % offered.len()].clone(),
                    comment: None,
                    input,
                    note: None,
                };
                (who, cmd)
            }
            Step::Withdraw { by_applicant } => {
                let who = if *by_applicant {
                    Actor::applicant("firm")
                } else {
                    Actor::reviewer("x", agencies[0].as_str())
                };
                (who, Command::Withdraw { reason: None })
            }
            Step::Advance { days } => {
                app.now += Duration::days(i64::from(*days));
                continue;
            }
            Step::FireTimer { task } => {
                let tasks = app.inst.open_tasks();
                if tasks.is_empty() {
                    continue;
                }
                (
                    Actor::system(),
                    Command::FireTimer {
                        task: tasks[task % tasks.len()].id,
                    },
                )
            }
        };
        let events_before = app.events.len();
        match app.run(&actor, cmd) {
            Err(_) => {
                prop_assert_eq!(
                    &app.inst,
                    &before,
                    "a rejected command changed the instance"
                );
                prop_assert_eq!(
                    app.events.len(),
                    events_before,
                    "a rejected command produced events"
                );
            }
            Ok(events) => {
                prop_assert!(
                    !events.is_empty(),
                    "an accepted command must record something"
                );
                let mut folded = before.clone();
                for e in &events {
                    folded.apply(&wf, e).unwrap();
                }
                prop_assert_eq!(
                    &folded,
                    &app.inst,
                    "applying the returned events must give the new instance"
                );
            }
        }
        prop_assert_eq!(
            &Instance::replay(&wf, &app.events).unwrap(),
            &app.inst,
            "replay differs from fold"
        );
        if app.inst.is_finished() {
            prop_assert!(
                app.inst.open_tasks().is_empty(),
                "finished with open tasks: {:?}",
                app.open()
            );
        }
        prop_assert!(
            joins_respected(&wf, &app.inst, &app.events),
            "a parallel state joined early"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn sz_to_hk_invariants(steps in prop::collection::vec(step(), 1..40)) {
        run_sequence("soft-landing-sz-to-hk", &steps)?;
    }

    #[test]
    fn hk_to_sz_invariants(steps in prop::collection::vec(step(), 1..30)) {
        run_sequence("soft-landing-hk-to-sz", &steps)?;
    }

    #[test]
    fn internship_invariants(steps in prop::collection::vec(step(), 1..30)) {
        run_sequence("internship-placement", &steps)?;
    }
}
