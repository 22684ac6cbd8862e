//! A migration run while servers serve traffic (issue 32): reviewers act on the applications
//! being moved, through every server, while an administrator runs the plan; afterwards every
//! acknowledged action is in its history exactly once, every application moved exactly once,
//! and `softland doctor` is clean. Three servers on PostgreSQL; one on SQLite (its embedded
//! deployment), with the plan run from the command line beside it.

use serde_json::{Value, json};
use softland_store::test_util::TestDb;

use crate::support::{Server, code, gql_at, softland};

const KEY: &str = "soft-landing-sz-to-hk";

/// Acts on the open task of `state` with an idempotency key, retrying what got no answer or
/// a conflict; returns once acknowledged.
async fn act_until_done(url: &str, token: &str, app: &str, state: &str, action: &str) {
    let open = "query($id: ID!) { application(id: $id) { openTasks { id state } } }";
    let act = "mutation($t: ID!, $a: String!, $k: String) { act(input: {taskId: $t, action: $a, idempotencyKey: $k}) { revision } }";
    let r = gql_at(url, Some(token), open, json!({"id": app})).await;
    let task = r["data"]["application"]["openTasks"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .find(|t| t["state"] == state)
        .unwrap_or_else(|| panic!("no {state} in {r}"))["id"]
        .clone();
    let key = format!("{app}-{action}");
    for _ in 0..50 {
        let r = gql_at(
            url,
            Some(token),
            act,
            json!({"t": task, "a": action, "k": key}),
        )
        .await;
        if r["errors"].is_null() {
            return;
        }
        assert!(
            matches!(code(&r), "CONFLICT" | "UNAVAILABLE"),
            "{action} on {app}: {r}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("{action} on {app} was never acknowledged");
}

async fn a_migration_under_traffic_loses_and_doubles_nothing(
    s: Server,
    urls: Vec<String>,
    cli: bool,
) {
    let firm = s.applicant_key("szfin", "li");
    let mut reviewing = Vec::new();
    for _ in 0..24 {
        let app = s.play(KEY, s.submit_sample(&firm).await, &firm, 0..2).await;
        reviewing.push(app["id"].as_str().unwrap().to_owned());
    }
    let mut screening = Vec::new();
    for _ in 0..6 {
        let app = s.play(KEY, s.submit_sample(&firm).await, &firm, 0..1).await;
        screening.push(app["id"].as_str().unwrap().to_owned());
    }
    let publish = "mutation($y: String!) { publishWorkflow(yaml: $y) { version } }";
    let r = s
        .gql(Some(&s.admin), publish, json!({"y": crate::evolving::v2()}))
        .await;
    assert_eq!(r["data"]["publishWorkflow"]["version"], 2, "{r}");
    let plan = "mutation($i: PlanMigrationInput!) { planMigration(input: $i) { id dryRunCounts { ok total } } }";
    let input = json!({"workflowKey": KEY, "fromVersion": 1, "toVersion": 2, "mappings": [
        {"from": "eligibility_screening", "to": "investhk_screening"},
        {"from": "hkma_sandbox_referral", "to": "hkma_licence_review"}
    ]});
    let r = s.gql(Some(&s.admin), plan, json!({"i": input})).await;
    assert_eq!(r["data"]["planMigration"]["dryRunCounts"]["ok"], 30, "{r}");
    let id = r["data"]["planMigration"]["id"].clone();
    let second = s.key(&["--role", "admin", "--name", "second"]);
    let approve = "mutation($id: ID!) { approveMigration(id: $id) { approvedBy } }";
    let r = s.gql(Some(&second), approve, json!({"id": id})).await;
    assert_eq!(r["data"]["approveMigration"]["approvedBy"], "second", "{r}");

    // Reviewers act through every server while the plan runs.
    let (ben, carl) = (s.person("hkstp", "ben"), s.person("investhk", "carl"));
    let mut traffic = Vec::new();
    for (i, app) in reviewing.iter().enumerate() {
        let (u1, u2) = (
            urls[i % urls.len()].clone(),
            urls[(i + 1) % urls.len()].clone(),
        );
        let (ben, carl, app) = (ben.clone(), carl.clone(), app.clone());
        traffic.push(tokio::spawn(async move {
            act_until_done(&u1, &ben, &app, "hkstp_review", "admit").await;
            act_until_done(&u2, &carl, &app, "investhk_setup_review", "clear").await;
        }));
    }
    let run_url = urls[urls.len() - 1].clone();
    let admin = s.admin.clone();
    let db_url = s.db.url.clone();
    let plan_file = crate::support::temp_dir("migrate-traffic").join("plan.yaml");
    std::fs::write(
        &plan_file,
        format!("workflow: {KEY}\nfrom_version: 1\nto_version: 2\nmappings:\n  eligibility_screening: investhk_screening\n  hkma_sandbox_referral: hkma_licence_review\n"),
    )
    .unwrap();
    let runner = tokio::spawn(async move {
        if cli {
            let r = tokio::task::spawn_blocking(move || {
                softland(&[
                    "migrate-applications",
                    "--db",
                    &db_url,
                    "--plan",
                    plan_file.to_str().unwrap(),
                ])
            })
            .await
            .unwrap();
            (r.code, r.stdout + &r.stderr)
        } else {
            let run = "mutation($id: ID!) { runMigration(id: $id) { migrated blocked remaining } }";
            let mut said = String::new();
            loop {
                let r = gql_at(&run_url, Some(&admin), run, json!({"id": id})).await;
                said.push_str(&r.to_string());
                let left = r["data"]["runMigration"]["remaining"]
                    .as_i64()
                    .unwrap_or_else(|| panic!("{r}"));
                if left == 0 {
                    return (0, said);
                }
            }
        }
    });
    for t in traffic {
        t.await.unwrap();
    }
    let (exit, said) = runner.await.unwrap();
    // The command line finds the plan the administrators approved (the same hash) and runs it.
    assert_eq!(exit, 0, "{said}");

    // Every application moved once, and every acknowledged action is there once.
    let q = "query($id: ID!) { application(id: $id) { workflowVersion activeStates history { kind action } } }";
    for app in reviewing.iter().chain(&screening) {
        let r = gql_at(&urls[0], Some(&s.admin), q, json!({"id": app})).await;
        let a: &Value = &r["data"]["application"];
        assert_eq!(a["workflowVersion"], 2, "{r}");
        let history = a["history"].as_array().unwrap();
        let n = |kind: &str, action: Option<&str>| {
            history
                .iter()
                .filter(|e| e["kind"] == kind && action.is_none_or(|x| e["action"] == x))
                .count()
        };
        assert_eq!(n("migrated", None), 1, "{r}");
        if reviewing.contains(app) {
            assert_eq!(n("task_completed", Some("admit")), 1, "{r}");
            assert_eq!(n("task_completed", Some("clear")), 1, "{r}");
            assert_eq!(a["activeStates"], json!(["hkma_licence_review"]), "{r}");
        } else {
            assert_eq!(a["activeStates"], json!(["investhk_screening"]), "{r}");
        }
    }
    let doctor = softland(&["doctor", "--db", &s.db.url]);
    assert_eq!(doctor.code, 0, "{}\n{}", doctor.stdout, doctor.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "PostgreSQL: set SOFTLAND_TEST_POSTGRES_URL and pass --include-ignored (CI does)"]
async fn three_servers_serve_while_a_migration_runs() {
    let s = Server::start(TestDb::postgres().await);
    let (p2, p3) = (s.another(), s.another());
    let urls = vec![s.url.clone(), p2.url.clone(), p3.url.clone()];
    a_migration_under_traffic_loses_and_doubles_nothing(s, urls, false).await;
    drop((p2, p3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_sqlite_server_serves_while_the_command_line_migrates() {
    let s = Server::start(TestDb::sqlite());
    let urls = vec![s.url.clone()];
    a_migration_under_traffic_loses_and_doubles_nothing(s, urls, true).await;
}
