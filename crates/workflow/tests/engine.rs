//! Engine scenarios on the bundled workflows: every construct, every rejection.

#![allow(clippy::unwrap_used)]

mod common;

use chrono::Duration;
use common::*;
use serde_json::json;
use softland_workflow::{
    Actor, Assignee, Command, Env, EventKind, Instance, PlaceChange, PlaceStatus, Rejection,
    Status, TaskId,
};

#[test]
fn sz_to_hk_happy_path_with_sandbox_referral() {
    let wf = bundled("soft-landing-sz-to-hk");
    let mut app = App::submit(&wf, example("soft-landing-sz-to-hk"));
    assert_eq!(app.open(), vec!["ofds_nomination:ofds"]);
    app.act("ofds_nomination", "ofds:chen", "nominate", None)
        .unwrap();
    app.act("eligibility_screening", "investhk:amy", "eligible", None)
        .unwrap();
    // Both Hong Kong reviews run in parallel.
    assert_eq!(
        app.open(),
        vec!["hkstp_review:hkstp", "investhk_setup_review:investhk"]
    );
    assert_eq!(
        app.active(),
        vec!["hong_kong_reviews", "hkstp_review", "investhk_setup_review"]
    );
    app.act("hkstp_review", "hkstp:ben", "admit", None).unwrap();
    assert_eq!(
        app.open(),
        vec!["investhk_setup_review:investhk"],
        "the join waits for both branches"
    );
    // Admission to incubation takes one of the intake's places …
    assert_eq!(app.inst.place("incubation"), Some(PlaceStatus::Held));
    app.act("investhk_setup_review", "investhk:carl", "clear", None)
        .unwrap();
    // The sample firm needs a stored-value licence: the choice refers it to the HKMA sandbox.
    assert_eq!(app.open(), vec!["hkma_sandbox_referral:hkma"]);
    app.act(
        "hkma_sandbox_referral",
        "hkma:dora",
        "admit_to_sandbox",
        None,
    )
    .unwrap();
    assert_eq!(
        app.open(),
        vec![
            "joint_decision:investhk",
            "joint_decision:hkstp",
            "joint_decision:ofds"
        ]
    );
    app.act("joint_decision", "investhk:amy", "approve", None)
        .unwrap();
    assert_eq!(
        app.inst.status(),
        Status::Active,
        "one approval of the two required"
    );
    let events = app
        .act("joint_decision", "hkstp:ben", "approve", None)
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| matches!(e.kind, EventKind::TaskCancelled { .. })),
        "the third seat is cancelled"
    );
    assert_eq!(app.inst.status(), Status::Completed);
    assert_eq!(app.inst.outcome(), Some("approved"));
    // … and approval keeps it (the final state confirms it).
    assert!(events.iter().any(|e| e.kind
        == EventKind::PlaceChanged {
            pool: "incubation".into(),
            change: PlaceChange::Confirmed,
            rank: None,
        }));
    assert_eq!(app.inst.place("incubation"), Some(PlaceStatus::Confirmed));
    assert!(app.inst.open_tasks().is_empty());
    assert_eq!(app.active(), vec!["approved"]);
    assert_eq!(Instance::replay(&wf, &app.events), Ok(app.inst));
}

#[test]
fn an_incubation_place_is_given_back_when_the_application_is_refused_later() {
    let wf = bundled("soft-landing-sz-to-hk");
    let mut app = at_hong_kong_reviews(&wf);
    app.act("hkstp_review", "hkstp:ben", "admit", None).unwrap();
    assert_eq!(app.inst.place("incubation"), Some(PlaceStatus::Held));
    // InvestHK refuses the set-up plan after HKSTP admitted the firm: the place goes back.
    let events = app
        .act("investhk_setup_review", "investhk:carl", "reject", reason())
        .unwrap();
    let released = EventKind::PlaceChanged {
        pool: "incubation".into(),
        change: PlaceChange::Released,
        rank: None,
    };
    assert_eq!(events.iter().filter(|e| e.kind == released).count(), 1);
    assert_eq!(app.inst.outcome(), Some("rejected"));
    assert_eq!(app.inst.place("incubation"), None);
    assert_eq!(Instance::replay(&wf, &app.events), Ok(app.inst));
}

#[test]
fn an_application_outside_any_intake_draws_on_no_place() {
    let wf = bundled("soft-landing-sz-to-hk");
    let mut app = at_hong_kong_reviews(&wf);
    let task = app.task("hkstp_review", "hkstp");
    let unbound = ["incubation".to_owned()];
    // Even a full pool does not stop it: it has no intake whose places could run out.
    let env = Env {
        now: app.now,
        calendar: &app.cal,
        full: &unbound,
        unbound: &unbound,
        host: None,
    };
    let events = wf
        .execute(
            &mut app.inst,
            &Actor::reviewer("ben", "hkstp"),
            Command::Act {
                task,
                action: "admit".into(),
                comment: None,
                input: None,
                note: None,
            },
            env,
        )
        .unwrap();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e.kind, EventKind::PlaceChanged { .. }))
    );
    assert_eq!(app.inst.place("incubation"), None);
    assert_eq!(app.open(), vec!["investhk_setup_review:investhk"]);
}

#[test]
fn no_licence_skips_the_hkma_referral() {
    let wf = bundled("soft-landing-sz-to-hk");
    let mut data = example("soft-landing-sz-to-hk");
    data["licensing"]["regulated_activities"] = json!(["money_lending"]);
    let mut app = App::submit(&wf, data);
    app.act("ofds_nomination", "ofds:chen", "nominate", None)
        .unwrap();
    app.act("eligibility_screening", "investhk:amy", "eligible", None)
        .unwrap();
    app.act("investhk_setup_review", "investhk:carl", "clear", None)
        .unwrap();
    let events = app.act("hkstp_review", "hkstp:ben", "admit", None).unwrap();
    let choice = events.iter().find_map(|e| match &e.kind {
        EventKind::ChoiceMade { rule, to, .. } => Some((*rule, to.to_string())),
        _ => None,
    });
    assert_eq!(choice, Some((None, "joint_decision".to_owned())));
    assert_eq!(app.open().len(), 3);
}

#[test]
fn request_for_information_loops_back_to_the_asking_step() {
    let wf = bundled("soft-landing-sz-to-hk");
    let mut app = nominated(&wf);
    let question = Some(json!({"question": "Please send the audited accounts for 2025."}));
    app.act(
        "eligibility_screening",
        "investhk:amy",
        "request_info",
        question,
    )
    .unwrap();
    assert_eq!(app.open(), vec!["eligibility_information:applicant"]);
    // The applicant's answer is checked against its own schema.
    let err = app
        .act(
            "eligibility_information",
            "applicant",
            "answer",
            Some(json!({})),
        )
        .unwrap_err();
    assert!(
        matches!(&err, Rejection::InvalidInput { violations } if violations.iter().any(|v| v.message.contains("answer"))),
        "{err}"
    );
    // A missing required property is named as such (at its object), not only in words.
    assert!(
        matches!(&err, Rejection::InvalidInput { violations } if violations.iter().any(|v| v.path.is_empty() && v.missing.as_deref() == Some("answer"))),
        "{err}"
    );
    app.act(
        "eligibility_information",
        "applicant",
        "answer",
        Some(json!({"answer": "Attached."})),
    )
    .unwrap();
    assert_eq!(app.open(), vec!["eligibility_screening:investhk"]);
    app.act("eligibility_screening", "investhk:amy", "eligible", None)
        .unwrap();
    assert_eq!(app.open().len(), 2);
}

#[test]
fn a_rejection_in_one_branch_cancels_the_sibling_branch() {
    let wf = bundled("soft-landing-sz-to-hk");
    let mut app = at_hong_kong_reviews(&wf);
    let sibling = app.task("investhk_setup_review", "investhk");
    let events = app
        .act("hkstp_review", "hkstp:ben", "reject", reason())
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == EventKind::TaskCancelled { task: sibling })
    );
    assert_eq!(app.inst.outcome(), Some("rejected"));
    assert!(app.inst.open_tasks().is_empty());
    assert_eq!(app.active(), vec!["rejected"]);
    let err = app.run(
        &Actor::reviewer("carl", "investhk"),
        Command::Act {
            task: sibling,
            action: "clear".into(),
            comment: None,
            input: None,
            note: None,
        },
    );
    assert_eq!(err.unwrap_err(), Rejection::Finished);
}

#[test]
fn withdrawal_cancels_every_open_task() {
    let wf = bundled("soft-landing-sz-to-hk");
    let mut app = at_hong_kong_reviews(&wf);
    let err = app
        .run(
            &Actor::reviewer("amy", "investhk"),
            Command::Withdraw { reason: None },
        )
        .unwrap_err();
    assert!(matches!(err, Rejection::NotPermitted(_)));
    let events = app
        .run(
            &Actor::applicant("firm"),
            Command::Withdraw {
                reason: Some("plans changed".into()),
            },
        )
        .unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::TaskCancelled { .. }))
            .count(),
        2
    );
    assert_eq!(app.inst.status(), Status::Withdrawn);
    assert_eq!(app.inst.outcome(), Some("withdrawn"));
    assert!(app.inst.open_tasks().is_empty());
    let again = app.run(
        &Actor::applicant("firm"),
        Command::Withdraw { reason: None },
    );
    assert_eq!(again.unwrap_err(), Rejection::Finished);
}

#[test]
fn four_eyes_requires_a_different_person() {
    let wf = bundled("soft-landing-sz-to-hk");
    let mut app = at_hong_kong_reviews(&wf);
    let before = app.inst.clone();
    let err = app
        .act("investhk_setup_review", "investhk:amy", "clear", None)
        .unwrap_err();
    assert_eq!(
        err,
        Rejection::FourEyes {
            actor: "amy".into(),
            step: "eligibility_screening".into()
        }
    );
    assert_eq!(app.inst, before, "a rejected command changes nothing");
    // Amy may still reject (the rule is on `clear` only); Carl may clear.
    let setup = wf.state_id("investhk_setup_review").unwrap();
    let eligibility = wf.state_id("eligibility_screening").unwrap();
    assert_eq!(
        wf.barred_actions(&app.inst, setup, "amy"),
        vec![("clear".to_owned(), eligibility)],
        "what pages leave out for amy"
    );
    assert_eq!(
        wf.barred(&app.inst, setup, "amy"),
        None,
        "amy may still reject"
    );
    assert!(wf.barred_actions(&app.inst, setup, "carl").is_empty());
    app.act("investhk_setup_review", "investhk:carl", "clear", None)
        .unwrap();
}

#[test]
fn someone_barred_from_every_action_of_a_step_is_told_before_acting() {
    let wf = bundled("soft-landing-sz-to-hk");
    let mut data = example("soft-landing-sz-to-hk");
    data["licensing"]["regulated_activities"] = json!([]);
    let mut app = App::submit(&wf, data);
    app.act("ofds_nomination", "ofds:chen", "nominate", None)
        .unwrap();
    app.act("eligibility_screening", "investhk:amy", "eligible", None)
        .unwrap();
    app.act("hkstp_review", "hkstp:ben", "admit", None).unwrap();
    app.act("investhk_setup_review", "investhk:carl", "clear", None)
        .unwrap();
    let joint = wf.state_id("joint_decision").unwrap();
    // The nominator may cast no seat of the joint decision.
    assert_eq!(
        wf.barred(&app.inst, joint, "chen"),
        Some(Rejection::FourEyes {
            actor: "chen".into(),
            step: "ofds_nomination".into()
        })
    );
    assert_eq!(wf.barred(&app.inst, joint, "wang"), None);
    // Who voted may not vote again.
    app.act("joint_decision", "hkstp:ben", "approve", None)
        .unwrap();
    assert_eq!(
        wf.barred(&app.inst, joint, "ben"),
        Some(Rejection::FourEyes {
            actor: "ben".into(),
            step: "joint_decision".into()
        })
    );
}

#[test]
fn k_of_n_approval_rejects_when_k_is_out_of_reach() {
    let wf = bundled("soft-landing-sz-to-hk");
    let mut data = example("soft-landing-sz-to-hk");
    data["licensing"]["regulated_activities"] = json!([]);
    let mut app = App::submit(&wf, data);
    app.act("ofds_nomination", "ofds:chen", "nominate", None)
        .unwrap();
    app.act("eligibility_screening", "investhk:amy", "eligible", None)
        .unwrap();
    app.act("hkstp_review", "hkstp:ben", "admit", None).unwrap();
    app.act("investhk_setup_review", "investhk:carl", "clear", None)
        .unwrap();
    app.act("joint_decision", "hkstp:ben", "approve", None)
        .unwrap();
    app.act("joint_decision", "investhk:amy", "reject", None)
        .unwrap();
    assert_eq!(app.inst.status(), Status::Active, "2 of 3 still possible");
    app.act("joint_decision", "ofds:wang", "reject", None)
        .unwrap();
    assert_eq!(app.inst.outcome(), Some("rejected"));
}

#[test]
fn approvals_need_distinct_people() {
    let wf = bundled("soft-landing-hk-to-sz");
    let mut app = App::submit(&wf, example("soft-landing-hk-to-sz"));
    // `required: any` — one nomination is enough, the other seat is cancelled.
    app.act("nomination", "hkstp:ben", "approve", None).unwrap();
    assert_eq!(app.open(), vec!["ofds_review:ofds"]);
    app.act("ofds_review", "ofds:chen", "recommend", None)
        .unwrap();
    // Qianhai: the support task; then the decision needs someone other than the reviewer.
    app.act("qianhai_support", "ofds:chen", "offer_package", None)
        .unwrap();
    let err = app
        .act("ofds_decision", "ofds:chen", "approve", None)
        .unwrap_err();
    assert!(matches!(err, Rejection::FourEyes { .. }));
    app.act("ofds_decision", "ofds:dai", "approve", None)
        .unwrap();
    assert_eq!(app.inst.outcome(), Some("approved"));
}

#[test]
fn typed_rejections_change_nothing() {
    let wf = bundled("soft-landing-sz-to-hk");
    let mut app = App::submit(&wf, example("soft-landing-sz-to-hk"));
    let task = app.task("ofds_nomination", "ofds");
    let before = app.inst.clone();
    let act = |action: &str, input| Command::Act {
        task,
        action: action.into(),
        comment: None,
        input,
        note: None,
    };
    let cases = [
        (
            Actor::reviewer("amy", "investhk"),
            act("nominate", None),
            "NotAssignee",
        ),
        (
            Actor::applicant("firm"),
            act("nominate", None),
            "NotAssignee",
        ),
        (
            Actor::reviewer("chen", "ofds"),
            act("approve", None),
            "UnknownAction",
        ),
        (
            Actor::reviewer("chen", "ofds"),
            act("decline", Some(json!({"reason": 5}))),
            "InvalidInput",
        ),
        (
            Actor::reviewer("chen", "ofds"),
            Command::Act {
                task: TaskId(99),
                action: "nominate".into(),
                comment: None,
                input: None,
                note: None,
            },
            "TaskNotOpen",
        ),
        (
            Actor::reviewer("chen", "ofds"),
            Command::FireTimer { task },
            "NotPermitted",
        ),
        (Actor::system(), Command::FireTimer { task }, "NotDue"),
    ];
    for (actor, cmd, kind) in cases {
        let err = app.run(&actor, cmd.clone()).expect_err("must be rejected");
        // The rejection's variant (the gateway's registry turns it into a code).
        assert!(
            format!("{err:?}").starts_with(kind),
            "{cmd:?} by {actor:?}: {err:?}"
        );
        assert_eq!(app.inst, before);
    }
    let err = app
        .act(
            "ofds_nomination",
            "ofds:chen",
            "decline",
            Some(json!({"reason": 5})),
        )
        .unwrap_err();
    let Rejection::InvalidInput { violations } = err else {
        panic!("expected invalid input")
    };
    assert_eq!(violations[0].path, "/reason");
}

#[test]
fn invalid_form_data_is_refused_with_every_violation() {
    let wf = bundled("soft-landing-sz-to-hk");
    let mut data = example("soft-landing-sz-to-hk");
    data["incubation"]["technical_staff_percent"] = json!(140);
    data["company"]["district"] = json!("kowloon");
    let cal = softland_workflow::Calendars::builtin();
    let err = wf
        .submit(
            &Actor::applicant("firm"),
            data,
            softland_workflow::Env {
                now: t0(),
                calendar: &cal,
                full: &[],
                unbound: &[],
                host: None,
            },
        )
        .unwrap_err();
    let Rejection::InvalidInput { violations } = err else {
        panic!("expected invalid input")
    };
    let paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
    assert!(
        paths.contains(&"/incubation/technical_staff_percent")
            && paths.contains(&"/company/district"),
        "{paths:?}"
    );
}

#[test]
fn overdue_applicant_lapses_and_timers_are_a_pure_query() {
    let wf = bundled("soft-landing-sz-to-hk");
    let mut app = nominated(&wf);
    app.act(
        "eligibility_screening",
        "investhk:amy",
        "request_info",
        Some(json!({"question": "Audited accounts?"})),
    )
    .unwrap();
    let rfi = app.task("eligibility_information", "applicant");
    let due = app.inst.task(rfi).unwrap().due_at.unwrap();
    assert_eq!(due, app.now + Duration::days(30));
    assert!(app.inst.due_timers(due - Duration::seconds(1)).is_empty());
    assert_eq!(app.inst.due_timers(due), vec![rfi]);
    let err = app
        .run(&Actor::system(), Command::FireTimer { task: rfi })
        .unwrap_err();
    assert_eq!(err, Rejection::NotDue(rfi));
    app.now = due;
    app.run(&Actor::system(), Command::FireTimer { task: rfi })
        .unwrap();
    assert_eq!(app.inst.outcome(), Some("lapsed"));
    assert_eq!(Instance::replay(&wf, &app.events), Ok(app.inst));
}

#[test]
fn business_day_due_times_follow_the_agency_region() {
    let wf = bundled("soft-landing-sz-to-hk");
    let app = App::submit(&wf, example("soft-landing-sz-to-hk"));
    // OFDS (mainland) has 10 working days from Tue 24 Nov 2026 09:00 HKT: 8 Dec.
    let t = app.inst.task(app.task("ofds_nomination", "ofds")).unwrap();
    assert_eq!(t.due_at, Some("2026-12-08T01:00:00Z".parse().unwrap()));
}

#[test]
fn overdue_flag_reassign_and_automatic_action() {
    // Flag: the task stays open and the timer does not fire twice.
    let wf = bundled("soft-landing-sz-to-hk");
    let mut app = App::submit(&wf, example("soft-landing-sz-to-hk"));
    let task = app.task("ofds_nomination", "ofds");
    app.now += Duration::days(30);
    app.run(&Actor::system(), Command::FireTimer { task })
        .unwrap();
    assert!(app.inst.task(task).unwrap().overdue);
    assert!(app.inst.due_timers(app.now).is_empty());

    // Reassign: the internship interview goes to the programme office.
    let wf = bundled("internship-placement");
    let mut app = App::submit(&wf, example("internship-placement"));
    app.act(
        "eligibility_check",
        "programme_office:pat",
        "eligible",
        None,
    )
    .unwrap();
    // No position was applied for here: the task is the (unknown) host's.
    let task = app.task("interview", "host");
    app.now += Duration::days(60);
    let events = app
        .run(&Actor::system(), Command::FireTimer { task })
        .unwrap();
    assert_eq!(app.open(), vec!["interview:programme_office"]);
    // The event names who had it, so an inbox learns the task left it.
    assert!(events.iter().any(|e| e.kind
        == EventKind::TaskReassigned {
            task,
            assignee: Assignee::Agency("programme_office".into()),
            from: Some(Assignee::Host("host".into())),
        }));
    app.act(
        "interview",
        "programme_office:quinn",
        "offer",
        Some(json!({"mentor": "Ms Lee"})),
    )
    .unwrap();
    // The offer holds a place; the student accepts it.
    assert_eq!(
        app.inst.place("places"),
        Some(softland_workflow::PlaceStatus::Held)
    );
    app.act("offer_made", "applicant", "accept", None).unwrap();
    app.act(
        "placement_approval",
        "programme_office:quinn",
        "approve",
        None,
    )
    .unwrap();
    assert_eq!(app.inst.outcome(), Some("placed"));
    assert_eq!(
        app.inst.place("places"),
        Some(softland_workflow::PlaceStatus::Confirmed)
    );

    // Automatic action: the Qianhai support task skips itself.
    let wf = bundled("soft-landing-hk-to-sz");
    let mut app = App::submit(&wf, example("soft-landing-hk-to-sz"));
    app.act("nomination", "investhk:amy", "approve", None)
        .unwrap();
    app.act("ofds_review", "ofds:chen", "recommend", None)
        .unwrap();
    let task = app.task("qianhai_support", "ofds");
    app.now += Duration::days(30);
    let events = app
        .run(&Actor::system(), Command::FireTimer { task })
        .unwrap();
    assert!(
        events.iter().any(
            |e| matches!(&e.kind, EventKind::TaskCompleted { action, .. } if action == "skip")
        )
    );
    assert_eq!(app.open(), vec!["ofds_decision:ofds"]);
}

#[test]
fn internship_choice_screens_out_non_residents() {
    let wf = bundled("internship-placement");
    let mut data = example("internship-placement");
    data["student"]["hk_permanent_resident"] = json!(false);
    let app = App::submit(&wf, data);
    assert_eq!(app.inst.outcome(), Some("not_placed"));
    assert!(app.inst.open_tasks().is_empty());
}

#[test]
fn events_round_trip_through_json() {
    let wf = bundled("soft-landing-sz-to-hk");
    let mut app = App::submit(&wf, example("soft-landing-sz-to-hk"));
    sz_to_hk_happy_path(&mut app);
    let json = serde_json::to_string(&app.events).unwrap();
    let back: Vec<softland_workflow::Event> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, app.events);
    // States are recorded by name, never by their index in this version.
    assert!(
        json.contains(r#""kind":"entered","state":"ofds_nomination""#),
        "{json}"
    );
    assert_eq!(Instance::replay(&wf, &back), Ok(app.inst.clone()));
    assert!(joins_respected(&wf, &app.inst, &app.events));
}

#[test]
fn one_person_cannot_fill_two_seats_of_an_approval() {
    let yaml = r#"
key: two-seats
title: Two HKSTP reviewers
agencies: [hkstp]
form: {type: object}
start: panel
states:
  panel: {type: approval, seats: [hkstp, hkstp], required: all, approved: accepted, rejected: refused}
  accepted: {type: final, outcome: approved}
  refused: {type: final, outcome: rejected}
"#;
    let wf = softland_workflow::Workflow::compile(yaml).unwrap();
    let mut app = App::submit(&wf, json!({}));
    let tasks: Vec<TaskId> = app.inst.open_tasks().iter().map(|t| t.id).collect();
    let approve = |task| Command::Act {
        task,
        action: "approve".into(),
        comment: None,
        input: None,
        note: None,
    };
    app.run(&Actor::reviewer("ben", "hkstp"), approve(tasks[0]))
        .unwrap();
    let err = app
        .run(&Actor::reviewer("ben", "hkstp"), approve(tasks[1]))
        .unwrap_err();
    assert!(matches!(err, Rejection::FourEyes { .. }), "{err}");
    app.run(&Actor::reviewer("eve", "hkstp"), approve(tasks[1]))
        .unwrap();
    assert_eq!(app.inst.outcome(), Some("approved"));
}

#[test]
fn events_of_another_workflow_are_refused_by_replay() {
    let wf = bundled("soft-landing-sz-to-hk");
    let other = bundled("soft-landing-hk-to-sz");
    let mut app = App::submit(&wf, example("soft-landing-sz-to-hk"));
    sz_to_hk_happy_path(&mut app);
    let err = Instance::replay(&other, &app.events).unwrap_err();
    assert!(
        err.to_string().starts_with("the workflow has no state `"),
        "{err}"
    );
}

#[test]
fn legacy_events_are_named_from_their_version() {
    let wf = bundled("soft-landing-sz-to-hk");
    let start = wf
        .states()
        .iter()
        .position(|s| s.name() == "ofds_nomination")
        .unwrap();
    let mut legacy =
        serde_json::json!({"kind": "entered", "at": "2026-01-01T00:00:00Z", "state": start});
    assert_eq!(
        softland_workflow::name_legacy_states(&mut legacy, &wf),
        Ok(true)
    );
    assert_eq!(legacy["state"], "ofds_nomination");
    // Already named: nothing to do.
    assert_eq!(
        softland_workflow::name_legacy_states(&mut legacy, &wf),
        Ok(false)
    );
    let mut unknown = serde_json::json!({"kind": "exited", "state": 9999});
    assert!(softland_workflow::name_legacy_states(&mut unknown, &wf).is_err());
    let mut choice = serde_json::json!({"kind": "choice_made", "state": 0, "to": 1});
    assert_eq!(
        softland_workflow::name_legacy_states(&mut choice, &wf),
        Ok(true)
    );
    assert_eq!(choice["to"], wf.states()[1].name());
}

#[test]
fn internal_notes_are_written_by_agencies_only() {
    let wf = bundled("soft-landing-sz-to-hk");
    let mut app = nominated(&wf);
    let events = app
        .run(
            &Actor::reviewer("amy", "investhk"),
            Command::Note {
                note: "check the licence".into(),
            },
        )
        .unwrap();
    assert!(matches!(
        &events[..],
        [e] if e.kind == EventKind::NoteAdded { task: None, note: "check the licence".into() }
    ));
    let before = app.inst.clone();
    for cmd in [
        Command::Note {
            note: "me too".into(),
        },
        Command::Act {
            task: app.inst.open_tasks()[0].id,
            action: "eligible".into(),
            comment: None,
            input: None,
            note: Some("sneaky".into()),
        },
    ] {
        let err = app.run(&Actor::applicant("firm"), cmd).unwrap_err();
        assert!(matches!(err, Rejection::NotPermitted(_)), "{err:?}");
    }
    assert_eq!(app.inst, before, "a refusal changes nothing");
    assert_eq!(Instance::replay(&wf, &app.events), Ok(app.inst.clone()));
}

#[test]
fn outcomes_have_titles() {
    let wf = bundled("soft-landing-sz-to-hk");
    let title = |o: &str, lang| wf.outcome_title(o).map(|t| t.get(lang).to_owned());
    assert_eq!(
        title("rejected", softland_workflow::Lang::ZhHans).as_deref(),
        Some("已拒绝")
    );
    assert_eq!(
        title("lapsed", softland_workflow::Lang::En).as_deref(),
        Some("Lapsed (no answer)")
    );
    assert_eq!(
        title("withdrawn", softland_workflow::Lang::ZhHant).as_deref(),
        Some("已撤回")
    );
    assert_eq!(title("nope", softland_workflow::Lang::En), None);
}

/// An applicant's step is an information request only when an agency's action asks there and
/// the answer comes back: the internship's offer to accept is not one, and is not worded as one.
#[test]
fn information_requests_are_told_from_the_applicants_other_steps() {
    let wf = bundled("internship-placement");
    assert!(wf.is_information_request("student_information"));
    assert!(!wf.is_information_request("offer_made"));
    assert!(!wf.is_information_request("no_such_step"));
    let sz = bundled("soft-landing-sz-to-hk");
    assert!(sz.is_information_request("eligibility_information"));
}
