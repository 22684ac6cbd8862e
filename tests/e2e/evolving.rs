//! Evolving programmes (issue 32), over HTTP on both databases: running applications move to
//! a new version of their workflow with a checked, dry-run, four-eyes, audited plan; and an
//! agency's clock stops while it waits on the firm.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::support::{Server, code, on_both_backends, root, softland};

const KEY: &str = "soft-landing-sz-to-hk";
const APP: &str = "id status outcome workflowVersion activeStates openTasks { id state assignee }";

/// Version 2 of Shenzhen → Hong Kong: InvestHK's screening is renamed, the HKMA sandbox
/// referral is removed, and an HKMA licence review (new, with its own actions) takes its place;
/// the screening gets 7 working days instead of 5.
pub fn v2() -> String {
    std::fs::read_to_string(root().join("workflows/soft-landing-sz-to-hk.yaml"))
        .unwrap()
        .replace("eligibility_screening", "investhk_screening")
        .replace("due: {within: P5D, days: business}", "due: {within: P7D, days: business}")
        .replace("hkma_sandbox_referral:", "hkma_licence_review:")
        .replace("to: hkma_sandbox_referral", "to: hkma_licence_review")
        .replace(
            "title: {en: HKMA Fintech Supervisory Sandbox referral, zh-Hant: 金管局金融科技監管沙盒轉介, zh-Hans: 金管局金融科技监管沙盒转介}",
            "title: {en: HKMA licence review, zh-Hant: 金管局牌照審查, zh-Hans: 金管局牌照审查}",
        )
        .replace(
            "admit_to_sandbox: {to: joint_decision, title: {en: Admit to sandbox, zh-Hant: 納入沙盒, zh-Hans: 纳入沙盒}}",
            "licence_cleared: {to: joint_decision, title: {en: Licence cleared, zh-Hant: 牌照審查通過, zh-Hans: 牌照审查通过}}",
        )
}

/// Where the 50 applications stand on version 1: (happy-path steps played, then an information
/// request or not, how many).
const SPREAD: [(&str, usize, usize); 6] = [
    ("ofds_nomination", 0, 9),
    ("eligibility_screening", 1, 9),
    ("eligibility_information", 1, 8),
    ("hong_kong_reviews", 2, 8),
    ("hkma_sandbox_referral", 4, 8),
    ("joint_decision", 5, 8),
];

async fn act(s: &Server, token: &str, task: &Value, action: &str, input: Value) -> Value {
    let q = format!(
        "mutation($t: ID!, $a: String!, $d: JSON) {{ act(input: {{taskId: $t, action: $a, data: $d}}) {{ {APP} }} }}"
    );
    let r = s
        .gql(
            Some(token),
            &q,
            json!({"t": task["id"], "a": action, "d": input}),
        )
        .await;
    assert!(r["errors"].is_null(), "{action}: {r}");
    r["data"]["act"].clone()
}

fn task<'a>(app: &'a Value, state: &str) -> &'a Value {
    app["openTasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["state"] == state)
        .unwrap_or_else(|| panic!("no open {state} task in {app}"))
}

/// 50 applications of version 1, spread over six states; their ids by state.
async fn spread(s: &Server, firm: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for (state, steps, n) in SPREAD {
        for _ in 0..n {
            let app = s.submit_sample(firm).await;
            let mut app = s.play(KEY, app, firm, 0..steps).await;
            if state == "eligibility_information" {
                let amy = s.person("investhk", "amy");
                let t = task(&app, "eligibility_screening").clone();
                app = act(
                    s,
                    &amy,
                    &t,
                    "request_info",
                    json!({"question": "Your audited accounts, please."}),
                )
                .await;
            }
            out.push((state, app["id"].as_str().unwrap().to_owned()));
        }
    }
    out
}

const PLAN: &str = "mutation($i: PlanMigrationInput!) { planMigration(input: $i) { id hash approvedBy dryRun { applicationId ok reason code states } dryRunCounts { total ok blocked { code count } } } }";

async fn plan(s: &Server, mappings: Value) -> Value {
    let input = json!({"workflowKey": KEY, "fromVersion": 1, "toVersion": 2, "mappings": mappings});
    let r = s.gql(Some(&s.admin), PLAN, json!({"i": input})).await;
    assert!(r["errors"].is_null(), "{r}");
    r["data"]["planMigration"].clone()
}

/// Takes every open step of an application on version 2 until it is decided.
async fn drive_to_outcome(s: &Server, firm: &str, id: &str) -> Value {
    let q = format!("query($id: ID!) {{ application(id: $id) {{ {APP} }} }}");
    let mut app = s.gql(Some(&s.admin), &q, json!({"id": id})).await["data"]["application"].clone();
    for _ in 0..20 {
        if app["status"] != "ACTIVE" {
            return app;
        }
        let open = app["openTasks"].as_array().unwrap().clone();
        let t = open
            .first()
            .unwrap_or_else(|| panic!("nothing open: {app}"));
        let (who, action, input) = match (
            t["state"].as_str().unwrap(),
            t["assignee"].as_str().unwrap(),
        ) {
            ("ofds_nomination", _) => (s.person("ofds", "chen"), "nominate", Value::Null),
            ("investhk_screening", _) => (s.person("investhk", "amy"), "eligible", Value::Null),
            ("eligibility_information", _) => {
                (firm.to_owned(), "answer", json!({"answer": "Attached."}))
            }
            ("hkstp_review", _) => (s.person("hkstp", "ben"), "admit", Value::Null),
            ("investhk_setup_review", _) => (s.person("investhk", "carl"), "clear", Value::Null),
            ("hkma_licence_review", _) => {
                (s.person("hkma", "dora"), "licence_cleared", Value::Null)
            }
            ("joint_decision", "investhk") => (s.person("investhk", "amy"), "approve", Value::Null),
            ("joint_decision", "hkstp") => (s.person("hkstp", "ben"), "approve", Value::Null),
            ("joint_decision", _) => {
                // OFDS's seat: the two others decide.
                let other = open.iter().find(|t| t["assignee"] != "ofds").unwrap();
                let who = if other["assignee"] == "investhk" {
                    s.person("investhk", "amy")
                } else {
                    s.person("hkstp", "ben")
                };
                app = act(s, &who, other, "approve", Value::Null).await;
                continue;
            }
            (state, _) => panic!("unexpected open step {state} in {app}"),
        };
        app = act(s, &who, t, action, input).await;
    }
    panic!("not decided after 20 steps: {app}")
}

async fn running_applications_move_to_a_new_version(s: Server) {
    let firm = s.applicant_key("szfin", "li");
    let apps = spread(&s, &firm).await;
    assert_eq!(apps.len(), 50);
    let publish = "mutation($y: String!) { publishWorkflow(yaml: $y) { key version } }";
    let r = s.gql(Some(&s.admin), publish, json!({"y": v2()})).await;
    assert_eq!(r["data"]["publishWorkflow"]["version"], 2, "{r}");

    // The dry run without mappings names exactly the applications in the renamed and the
    // removed state, and why.
    let bare = plan(&s, json!([])).await;
    let needing: BTreeSet<&str> = apps
        .iter()
        .filter(|(st, _)| *st == "eligibility_screening" || *st == "hkma_sandbox_referral")
        .map(|(_, id)| id.as_str())
        .collect();
    let checks = bare["dryRun"].as_array().unwrap();
    assert_eq!(checks.len(), 50, "{bare}");
    let blocked: BTreeSet<&str> = checks
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["applicationId"].as_str().unwrap())
        .collect();
    assert_eq!(blocked, needing);
    for c in checks.iter().filter(|c| c["ok"] == false) {
        assert_eq!(c["code"], "unmapped-state", "{c}");
        let state = c["states"][0].as_str().unwrap();
        assert!(c["reason"].as_str().unwrap().contains(state), "{c}");
    }
    assert_eq!(bare["dryRunCounts"]["total"], 50);
    assert_eq!(bare["dryRunCounts"]["ok"], 33);
    assert_eq!(
        bare["dryRunCounts"]["blocked"],
        json!([{"code": "unmapped-state", "count": 17}])
    );

    // A plan naming a state neither version has is refused whole.
    let input = json!({"workflowKey": KEY, "fromVersion": 1, "toVersion": 2, "mappings": [{"from": "nowhere", "to": "investhk_screening"}]});
    let r = s.gql(Some(&s.admin), PLAN, json!({"i": input})).await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");

    // With the mappings, every one would move.
    let mapped = plan(
        &s,
        json!([
            {"from": "eligibility_screening", "to": "investhk_screening"},
            {"from": "hkma_sandbox_referral", "to": "hkma_licence_review"}
        ]),
    )
    .await;
    assert_eq!(mapped["dryRunCounts"]["ok"], 50, "{mapped}");
    let id = mapped["id"].clone();

    // Four eyes: it does not run unapproved, and its maker cannot approve it.
    let run = "mutation($id: ID!) { runMigration(id: $id) { migrated blocked remaining plan { migrated approvedBy } } }";
    let r = s.gql(Some(&s.admin), run, json!({"id": id})).await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    let approve = "mutation($id: ID!) { approveMigration(id: $id) { approvedBy } }";
    let r = s.gql(Some(&s.admin), approve, json!({"id": id})).await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    assert_eq!(r["errors"][0]["extensions"]["reason"], "FOUR_EYES", "{r}");
    let reviewer = s.person("hkstp", "ben");
    let r = s.gql(Some(&reviewer), approve, json!({"id": id})).await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    let second = s.key(&["--role", "admin", "--name", "second"]);
    let r = s.gql(Some(&second), approve, json!({"id": id})).await;
    assert_eq!(r["data"]["approveMigration"]["approvedBy"], "second", "{r}");

    let r = s.gql(Some(&s.admin), run, json!({"id": id})).await;
    assert_eq!(r["data"]["runMigration"]["migrated"], 50, "{r}");
    assert_eq!(r["data"]["runMigration"]["blocked"], 0, "{r}");
    assert_eq!(r["data"]["runMigration"]["remaining"], 0, "{r}");
    assert_eq!(r["data"]["runMigration"]["plan"]["migrated"], 50, "{r}");
    // Running it again moves nothing more: they are all on version 2.
    let again = s.gql(Some(&s.admin), run, json!({"id": id})).await;
    assert_eq!(again["data"]["runMigration"]["migrated"], 0, "{again}");

    // Each history says so once, in the hash chain; states are the new version's.
    let hash = mapped["hash"].as_str().unwrap();
    let q = "query($id: ID!) { application(id: $id) { workflowVersion activeStates history { kind actor state stateTitle } } }";
    for (state, app) in &apps {
        let r = s.gql(Some(&s.admin), q, json!({"id": app})).await;
        let a = &r["data"]["application"];
        assert_eq!(a["workflowVersion"], 2, "{r}");
        let moved = a["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "migrated")
            .count();
        assert_eq!(moved, 1, "{state}: {r}");
        let active: Vec<&str> = a["activeStates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let expected = match *state {
            "eligibility_screening" => "investhk_screening",
            "hkma_sandbox_referral" => "hkma_licence_review",
            other => other,
        };
        assert!(active.contains(&expected), "{state}: {active:?}");
        // Entries written on version 1 keep version 1's titles, a removed step's included.
        if *state == "hkma_sandbox_referral" {
            let entered = a["history"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["kind"] == "entered" && e["state"] == "hkma_sandbox_referral")
                .cloned()
                .unwrap_or_else(|| panic!("{r}"));
            assert_eq!(
                entered["stateTitle"], "HKMA Fintech Supervisory Sandbox referral",
                "{r}"
            );
        }
    }
    let plans = s.query(Some(&s.admin), "{ migrationPlans(workflowKey: \"soft-landing-sz-to-hk\") { hash migrated approvedBy createdBy } }").await;
    let kept = plans["data"]["migrationPlans"].as_array().unwrap();
    assert!(
        kept.iter()
            .any(|p| p["hash"] == hash && p["migrated"] == 50 && p["createdBy"] == "admin"),
        "{plans}"
    );
    // A list of plans does not make each one's dry run (a pass over its applications).
    let r = s
        .query(
            Some(&s.admin),
            "{ migrationPlans { id dryRunCounts { total } } }",
        )
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");

    // The doctor folds each one across both versions to its stored state.
    let doctor = softland(&["doctor", "--db", &s.db.url]);
    assert_eq!(doctor.code, 0, "{}\n{}", doctor.stdout, doctor.stderr);

    // They continue to their outcome on version 2.
    for (_, app) in &apps {
        let done = drive_to_outcome(&s, &firm, app).await;
        assert_eq!(done["outcome"], "approved", "{done}");
    }
    let doctor = softland(&["doctor", "--db", &s.db.url]);
    assert_eq!(doctor.code, 0, "{}\n{}", doctor.stdout, doctor.stderr);
}

/// The command line: a plan file, its dry run, and a run once an administrator approved it.
async fn the_command_line_plans_dry_runs_and_runs(s: Server) {
    let firm = s.applicant_key("szfin", "li");
    let app = s.submit_sample(&firm).await;
    let app = s.play(KEY, app, &firm, 0..1).await;
    let id = app["id"].as_str().unwrap().to_owned();
    let publish = "mutation($y: String!) { publishWorkflow(yaml: $y) { version } }";
    let r = s.gql(Some(&s.admin), publish, json!({"y": v2()})).await;
    assert_eq!(r["data"]["publishWorkflow"]["version"], 2, "{r}");
    let dir = crate::support::temp_dir("migrate-cli");
    let file = dir.join("plan.yaml");
    std::fs::write(
        &file,
        format!("workflow: {KEY}\nfrom_version: 1\nto_version: 2\n"),
    )
    .unwrap();
    let file_s = file.to_str().unwrap();
    let dry = softland(&[
        "migrate-applications",
        "--db",
        &s.db.url,
        "--plan",
        file_s,
        "--dry-run",
    ]);
    assert_eq!(dry.code, 1, "{}{}", dry.stdout, dry.stderr);
    assert!(
        dry.stdout.contains(&format!("{id}  unmapped-state")),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("1 applications: 0 will move, 1 cannot"),
        "{}",
        dry.stdout
    );
    std::fs::write(
        &file,
        format!("workflow: {KEY}\nfrom_version: 1\nto_version: 2\nmappings:\n  eligibility_screening: investhk_screening\n"),
    )
    .unwrap();
    let dry = softland(&[
        "migrate-applications",
        "--db",
        &s.db.url,
        "--plan",
        file_s,
        "--dry-run",
    ]);
    assert_eq!(dry.code, 0, "{}{}", dry.stdout, dry.stderr);
    // Not approved yet: nothing moves.
    let run = softland(&["migrate-applications", "--db", &s.db.url, "--plan", file_s]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("approveMigration"), "{}", run.stdout);
    let plans = s
        .query(
            Some(&s.admin),
            "{ migrationPlans { id createdBy approvedBy } }",
        )
        .await;
    let plan = plans["data"]["migrationPlans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["createdBy"] == "cli")
        .cloned()
        .unwrap_or_else(|| panic!("{plans}"));
    let approve = "mutation($id: ID!) { approveMigration(id: $id) { approvedBy } }";
    let r = s
        .gql(Some(&s.admin), approve, json!({"id": plan["id"]}))
        .await;
    assert_eq!(r["data"]["approveMigration"]["approvedBy"], "admin", "{r}");
    let run = softland(&["migrate-applications", "--db", &s.db.url, "--plan", file_s]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("moved 1"), "{}", run.stdout);
    let q = "query($id: ID!) { application(id: $id) { workflowVersion activeStates } }";
    let r = s.gql(Some(&s.admin), q, json!({"id": id})).await;
    assert_eq!(r["data"]["application"]["workflowVersion"], 2, "{r}");
    assert_eq!(
        r["data"]["application"]["activeStates"],
        json!(["investhk_screening"]),
        "{r}"
    );
}

/// A request for information pauses InvestHK's clock; the answer resumes it with the working
/// days that remained (the engine's tests cover the calendar's boundaries, Lunar New Year
/// included), and the step comes back to the reviewer who asked.
async fn a_request_for_information_stops_the_agency_clock(s: Server) {
    let firm = s.applicant_key("szfin", "li");
    let app = s.submit_sample(&firm).await;
    let app = s.play(KEY, app, &firm, 0..1).await;
    let amy = s.person("investhk", "amy");
    let screening = task(&app, "eligibility_screening").clone();
    let tq = "query($id: ID!) { application(id: $id) { openTasks { id state dueAt openedAt claimedBy } } }";
    let open = |r: Value, state: &str| {
        r["data"]["application"]["openTasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["state"] == state)
            .cloned()
            .unwrap_or_else(|| panic!("{r}"))
    };
    let before = open(
        s.gql(Some(&amy), tq, json!({"id": app["id"]})).await,
        "eligibility_screening",
    );
    let app = act(
        &s,
        &amy,
        &screening,
        "request_info",
        json!({"question": "Your audited accounts, please."}),
    )
    .await;
    let id = app["id"].clone();
    let q = "query($id: ID!) { application(id: $id) { waitingOnFirm { state stateTitle since remainingBusinessDays } history { kind state } } }";
    let r = s.gql(Some(&firm), q, json!({"id": id})).await;
    let waiting = &r["data"]["application"]["waitingOnFirm"];
    assert_eq!(waiting[0]["state"], "eligibility_screening", "{r}");
    assert_eq!(
        waiting[0]["stateTitle"], "InvestHK eligibility screening",
        "{r}"
    );
    let left = waiting[0]["remainingBusinessDays"].as_u64().unwrap() as u32;
    // Asked on the day it opened: that day counts as used, so at most the period is left.
    let cal = softland_workflow::Calendars::builtin();
    let at = |v: &Value| {
        v.as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    };
    let investhk = softland_workflow::Assignee::parse("investhk");
    let since = at(&waiting[0]["since"]);
    use softland_workflow::BusinessCalendar;
    assert_eq!(
        left,
        cal.working_days_between(since, at(&before["dueAt"]), &investhk)
    );
    let kinds: Vec<&str> = r["data"]["application"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"clock_paused"), "{kinds:?}");

    let answer = task(&app, "eligibility_information").clone();
    let app = act(&s, &firm, &answer, "answer", json!({"answer": "Attached."})).await;
    let after = open(
        s.gql(Some(&amy), tq, json!({"id": app["id"]})).await,
        "eligibility_screening",
    );
    // Due the remaining working days after the answer, claimed by amy again.
    let opened = at(&after["openedAt"]);
    let due = at(&after["dueAt"]);
    assert_eq!(
        cal.working_days_between(opened, due, &investhk),
        left,
        "{after}"
    );
    assert_eq!(due.time(), opened.time(), "{after}");
    assert_eq!(after["claimedBy"], "amy", "{after}");
    let r = s.gql(Some(&firm), q, json!({"id": id})).await;
    assert_eq!(r["data"]["application"]["waitingOnFirm"], json!([]), "{r}");
    let doctor = softland(&["doctor", "--db", &s.db.url]);
    assert_eq!(doctor.code, 0, "{}\n{}", doctor.stdout, doctor.stderr);
}

const UPGRADING: &str = r#"
key: upgrading
title: Moves itself
agencies: [hkstp]
form: {type: object}
upgrade_at: [second]
start: first
states:
  first: {type: task, assignee: hkstp, actions: {go: {to: second}}}
  second: {type: task, assignee: hkstp, actions: {done: {to: approved}}}
  approved: {type: final, outcome: approved}
"#;

/// `upgrade_at`: an application arriving at a safe state moves by itself to the newest version
/// it fits; one already there, or one the newest version does not fit, stays.
async fn applications_move_themselves_on_arrival_at_a_safe_state(s: Server) {
    let publish = "mutation($y: String!) { publishWorkflow(yaml: $y) { version } }";
    let r = s
        .gql(Some(&s.admin), publish, json!({"y": UPGRADING}))
        .await;
    assert_eq!(r["data"]["publishWorkflow"]["version"], 1, "{r}");
    let firm = s.applicant_key("szfin", "li");
    let ben = s.person("hkstp", "ben");
    let submit = format!(
        "mutation {{ submitApplication(input: {{workflowKey: \"upgrading\", data: {{}}}}) {{ {APP} }} }}"
    );
    let arriving = s.query(Some(&firm), &submit).await["data"]["submitApplication"].clone();
    let there = s.query(Some(&firm), &submit).await["data"]["submitApplication"].clone();
    let there = act(&s, &ben, task(&there, "first"), "go", Value::Null).await;
    assert_eq!(there["workflowVersion"], 1);

    // Version 2 renames the safe step's action: the arriving application moves to it.
    let v2 = UPGRADING.replace("done: {to: approved}", "finish: {to: approved}");
    let r = s.gql(Some(&s.admin), publish, json!({"y": v2})).await;
    assert_eq!(r["data"]["publishWorkflow"]["version"], 2, "{r}");
    let moved = act(&s, &ben, task(&arriving, "first"), "go", Value::Null).await;
    assert_eq!(moved["workflowVersion"], 2, "{moved}");
    let q = "query($id: ID!) { application(id: $id) { workflowVersion history { kind actor } openTasks { id state actions { name } } } }";
    let r = s.gql(Some(&s.admin), q, json!({"id": moved["id"]})).await;
    let a = &r["data"]["application"];
    assert_eq!(
        a["openTasks"][0]["actions"],
        json!([{"name": "finish"}]),
        "{r}"
    );
    let entry = a["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "migrated")
        .cloned();
    assert_eq!(
        entry.map(|e| e["actor"].clone()),
        Some(json!("upgrade_at")),
        "{r}"
    );
    // The one that was there already stays on version 1 and finishes there.
    let r = s.gql(Some(&s.admin), q, json!({"id": there["id"]})).await;
    assert_eq!(r["data"]["application"]["workflowVersion"], 1, "{r}");
    let done = act(&s, &ben, task(&there, "second"), "done", Value::Null).await;
    assert_eq!(done["outcome"], "approved", "{done}");

    // Version 3 has no `second`: an application of version 2 arriving there stays on it.
    let on_v2 = s.query(Some(&firm), &submit).await["data"]["submitApplication"].clone();
    assert_eq!(on_v2["workflowVersion"], 2, "{on_v2}");
    let v3 = v2
        .replace("upgrade_at: [second]", "upgrade_at: [third]")
        .replace("go: {to: second}", "go: {to: third}")
        .replace("  second: {", "  third: {");
    let r = s.gql(Some(&s.admin), publish, json!({"y": v3})).await;
    assert_eq!(r["data"]["publishWorkflow"]["version"], 3, "{r}");
    let stays = act(&s, &ben, task(&on_v2, "first"), "go", Value::Null).await;
    assert_eq!(stays["workflowVersion"], 2, "{stays}");
    assert_eq!(stays["activeStates"], json!(["second"]), "{stays}");
    let plans = s.query(Some(&s.admin), "{ migrationPlans(workflowKey: \"upgrading\") { fromVersion toVersion createdBy approvedBy migrated } }").await;
    assert_eq!(
        plans["data"]["migrationPlans"],
        json!([
            {"fromVersion": 2, "toVersion": 3, "createdBy": "upgrade_at", "approvedBy": "upgrade_at", "migrated": 0},
            {"fromVersion": 1, "toVersion": 2, "createdBy": "upgrade_at", "approvedBy": "upgrade_at", "migrated": 1}
        ]),
        "{plans}"
    );
    let doctor = softland(&["doctor", "--db", &s.db.url]);
    assert_eq!(doctor.code, 0, "{}\n{}", doctor.stdout, doctor.stderr);
}

const RESHAPING: &str = r#"
key: reshaping
title: Its form changes
agencies: [hkstp]
form: {type: object, properties: {staff: {type: integer}}}
start: review
states:
  review: {type: task, assignee: hkstp, actions: {done: {to: approved}}}
  approved: {type: final, outcome: approved}
"#;

/// A plan changes the form data as applications move (CEL over the old data), checked against
/// the new form in the dry run.
async fn a_plan_changes_the_form_data_as_applications_move(s: Server) {
    let publish = "mutation($y: String!) { publishWorkflow(yaml: $y) { version } }";
    let r = s
        .gql(Some(&s.admin), publish, json!({"y": RESHAPING}))
        .await;
    assert_eq!(r["data"]["publishWorkflow"]["version"], 1, "{r}");
    let firm = s.applicant_key("szfin", "li");
    let submit = "mutation { submitApplication(input: {workflowKey: \"reshaping\", data: {staff: 3}}) { id } }";
    let id = s.query(Some(&firm), submit).await["data"]["submitApplication"]["id"].clone();
    let v2 = RESHAPING.replace(
        "form: {type: object, properties: {staff: {type: integer}}}",
        "form: {type: object, required: [headcount], additionalProperties: false, properties: {headcount: {type: integer, minimum: 1}}}",
    );
    let r = s.gql(Some(&s.admin), publish, json!({"y": v2})).await;
    assert_eq!(r["data"]["publishWorkflow"]["version"], 2, "{r}");
    let plan = "mutation($i: PlanMigrationInput!) { planMigration(input: $i) { id dataChanges { field expression } dryRun { ok code reason } } }";
    let bare = json!({"workflowKey": "reshaping", "fromVersion": 1, "toVersion": 2});
    let r = s.gql(Some(&s.admin), plan, json!({"i": bare})).await;
    assert_eq!(
        r["data"]["planMigration"]["dryRun"][0]["code"], "data-invalid",
        "{r}"
    );
    let mut changed = bare.clone();
    changed["dataChanges"] = json!([
        {"field": "headcount", "expression": "data.staff"},
        {"field": "staff", "expression": "null"}
    ]);
    let r = s.gql(Some(&s.admin), plan, json!({"i": changed})).await;
    assert_eq!(r["data"]["planMigration"]["dryRun"][0]["ok"], true, "{r}");
    let plan_id = r["data"]["planMigration"]["id"].clone();
    // An expression reading a field the old form lacks is refused with the plan.
    let mut typo = bare.clone();
    typo["dataChanges"] = json!([{"field": "headcount", "expression": "data.stafff"}]);
    let r = s.gql(Some(&s.admin), plan, json!({"i": typo})).await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    let second = s.key(&["--role", "admin", "--name", "second"]);
    let approve = "mutation($id: ID!) { approveMigration(id: $id) { id } }";
    let r = s.gql(Some(&second), approve, json!({"id": plan_id})).await;
    assert!(r["errors"].is_null(), "{r}");
    let run = "mutation($id: ID!) { runMigration(id: $id) { migrated } }";
    let r = s.gql(Some(&s.admin), run, json!({"id": plan_id})).await;
    assert_eq!(r["data"]["runMigration"]["migrated"], 1, "{r}");
    let q = "query($id: ID!) { application(id: $id) { workflowVersion data } }";
    let r = s.gql(Some(&firm), q, json!({"id": id})).await;
    assert_eq!(
        r["data"]["application"]["data"],
        json!({"headcount": 3}),
        "{r}"
    );
    let doctor = softland(&["doctor", "--db", &s.db.url]);
    assert_eq!(doctor.code, 0, "{}\n{}", doctor.stdout, doctor.stderr);
}

on_both_backends!(
    a_plan_changes_the_form_data_as_applications_move,
    applications_move_themselves_on_arrival_at_a_safe_state,
    running_applications_move_to_a_new_version,
    the_command_line_plans_dry_runs_and_runs,
    a_request_for_information_stops_the_agency_clock,
);
