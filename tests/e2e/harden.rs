//! Regression tests for the hardening findings (issue 11): each reproduces an attack or a wrong
//! answer over real HTTP against the real binary, and checks the coded refusal or right answer —
//! and that the server is still up afterwards.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use softland_store::test_util::TestDb;
use tokio_tungstenite::tungstenite::Message;

use crate::support::{
    Server, code, example, is_ready, on_both_backends, root, softland, ws_connect,
};

on_both_backends!(
    firms_never_share_idempotency_keys,
    revoked_keys_lose_their_subscriptions,
    a_restart_never_undoes_the_administrator,
    strings_are_bounded_at_the_edge,
    invisible_tasks_and_applications_are_not_found,
    formats_are_asserted,
);

const SUBMIT: &str = "mutation($k: String!, $d: JSON!, $i: String) { submitApplication(input: {workflowKey: $k, data: $d, idempotencyKey: $i}) { id organization history { seq kind } openTasks { id state assignee } } }";
const VALIDATE: &str = "mutation($y: String!) { validateWorkflow(yaml: $y) { ok errors { code line column message } } }";

/// POSTs `body` as-is with `content_type`; returns the status and the JSON answer.
async fn raw_post(
    s: &Server,
    token: Option<&str>,
    content_type: &str,
    body: String,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/graphql", s.url))
        .header("content-type", content_type)
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("the server answers");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let json =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("a JSON answer, got {text:?}"));
    (status, json)
}

async fn alive(s: &Server) {
    let r = reqwest::get(format!("{}/healthz", s.url))
        .await
        .expect("the server is still up");
    assert!(r.status().is_success());
}

/// Finding 1: 2 000 nested brackets in a 4 KB anonymous request aborted the process (also as
/// `text/plain`); objects nested 1 500 deep with a key; variables nested deeper than any form.
#[tokio::test]
async fn deeply_nested_values_are_refused_not_fatal() {
    let s = Server::start(TestDb::sqlite());
    let firm = s.key(&["--role", "applicant", "--org", "firm", "--name", "li"]);
    let list = format!(
        "mutation{{submitApplication(input:{{workflowKey:\"x\",data:{}1{}}}){{id}}}}",
        "[".repeat(2000),
        "]".repeat(2000)
    );
    let body = json!({ "query": list }).to_string();
    let (_, r) = raw_post(&s, None, "application/json", body.clone()).await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nests"),
        "{r}"
    );
    // Not JSON by its media type: refused before the body is read (issue 29).
    let (status, r) = raw_post(&s, None, "text/plain", body).await;
    assert_eq!(status, 415, "{r}");
    let object = format!(
        "mutation{{submitApplication(input:{{workflowKey:\"x\",data:{}1{}}}){{id}}}}",
        "{a:".repeat(1500),
        "}".repeat(1500)
    );
    let r = s.gql(Some(&firm), &object, json!({})).await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    // Variables: 100 levels parse as JSON but are refused before anything recurses; 2 000
    // levels are refused by the JSON reader, with a code too.
    let mut deep = json!(1);
    for _ in 0..100 {
        deep = json!({ "a": deep });
    }
    let r = s
        .gql(
            Some(&firm),
            "mutation($d: JSON!) { submitApplication(input: {workflowKey: \"soft-landing-sz-to-hk\", data: $d}) { id } }",
            json!({ "d": deep }),
        )
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    let body = format!(
        "{{\"query\":\"mutation($d: JSON!) {{ submitApplication(input: {{workflowKey: \\\"x\\\", data: $d}}) {{ id }} }}\",\"variables\":{{\"d\":{}1{}}}}}",
        "[".repeat(2000),
        "]".repeat(2000)
    );
    let (status, r) = raw_post(&s, Some(&firm), "application/json", body).await;
    assert_eq!((status, code(&r)), (400, "BAD_USER_INPUT"), "{r}");
    alive(&s).await;
}

/// Finding 2: a choice condition of 8 000 terms overflowed the stack in `validateWorkflow`; a
/// comprehension inside another took seconds per submission.
#[tokio::test]
async fn deep_and_quadratic_conditions_are_diagnosed() {
    let s = Server::start(TestDb::sqlite());
    let firm = s.key(&["--role", "applicant", "--org", "firm", "--name", "li"]);
    let yaml = |condition: &str| {
        format!(
            "key: deep\ntitle: Deep\nform:\n  type: object\n  properties:\n    items: {{type: array, items: {{type: integer}}}}\nstart: pick\nstates:\n  pick:\n    type: choice\n    choices:\n      - when: '{condition}'\n        to: done\n    otherwise: done\n  done: {{type: final, outcome: approved}}\n"
        )
    };
    let terms = format!("{} > 0", vec!["1"; 8000].join(" + "));
    let nested = "data.items.exists(a, data.items.exists(b, a == b))";
    for condition in [terms.as_str(), nested] {
        let r = s
            .gql(Some(&firm), VALIDATE, json!({ "y": yaml(condition) }))
            .await;
        assert!(r["errors"].is_null(), "{r}");
        let v = &r["data"]["validateWorkflow"];
        assert_eq!(v["ok"], false, "{v}");
        let e = &v["errors"][0];
        assert_eq!(e["code"], "condition-too-complex", "{v}");
        assert_eq!(e["line"], 12, "at the condition's line: {v}");
    }
    alive(&s).await;
}

/// Finding 3: `form: {file: …}` opened any path on the server and quoted JSON files' content.
#[tokio::test]
async fn definitions_cannot_read_server_files() {
    let s = Server::start(TestDb::sqlite());
    let firm = s.key(&["--role", "applicant", "--org", "firm", "--name", "li"]);
    let secret = crate::support::temp_dir("secret").join("secret.json");
    std::fs::write(&secret, r#"{"title": {"api_key": "sk_live_123"}}"#).unwrap();
    let secret = secret.display().to_string();
    let yaml = |file: &str| {
        format!(
            "key: peek\ntitle: Peek\nform: {{file: \"{file}\"}}\nstart: done\nstates:\n  done: {{type: final, outcome: approved}}\n"
        )
    };
    let mut messages = Vec::new();
    for file in [
        secret.as_str(),
        "/etc/passwd",
        "/nonexistent/x.json",
        "/dev/zero",
        "/dev/stdin",
        "../../../../../../etc/passwd",
        "../schemas/../Cargo.toml",
    ] {
        let r = s
            .gql(Some(&firm), VALIDATE, json!({ "y": yaml(file) }))
            .await;
        let v = &r["data"]["validateWorkflow"];
        assert_eq!(v["ok"], false, "{file}: {r}");
        let message = v["errors"][0]["message"].as_str().unwrap().to_owned();
        assert!(
            !message.contains("sk_live") && !message.contains("root:"),
            "{message}"
        );
        // The same words whether or not something is there.
        messages.push(message.replace(file, "FILE"));
    }
    assert!(messages.windows(2).all(|w| w[0] == w[1]), "{messages:?}");
    // An administrator cannot publish it either, so no key can read it back.
    let r = s
        .gql(
            Some(&s.admin),
            "mutation($y: String!) { publishWorkflow(yaml: $y) { key } }",
            json!({ "y": yaml(&secret) }),
        )
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    assert!(!r.to_string().contains("sk_live"), "{r}");
    // The bundled schemas are still there to name.
    let ok = s
        .gql(
            Some(&firm),
            VALIDATE,
            json!({ "y": yaml("../schemas/forms/internship-placement.json") }),
        )
        .await;
    assert_eq!(ok["data"]["validateWorkflow"]["ok"], true, "{ok}");
    alive(&s).await;
}

/// Finding 5: firm B replayed firm A's request with A's idempotency key and got A's application.
async fn firms_never_share_idempotency_keys(s: Server) {
    let a = s.key(&["--role", "applicant", "--org", "firm-a", "--name", "li"]);
    let b = s.key(&["--role", "applicant", "--org", "firm-b", "--name", "li"]);
    let vars =
        json!({"k": "soft-landing-sz-to-hk", "d": example("soft-landing-sz-to-hk"), "i": "k-1"});
    let first = s.gql(Some(&a), SUBMIT, vars.clone()).await;
    assert!(first["errors"].is_null(), "{first}");
    let other = s.gql(Some(&b), SUBMIT, vars.clone()).await;
    assert!(other["errors"].is_null(), "{other}");
    let (fa, fb) = (
        &first["data"]["submitApplication"],
        &other["data"]["submitApplication"],
    );
    assert_ne!(fa["id"], fb["id"], "B's key is B's own");
    assert_eq!(fb["organization"], "firm-b");
    let again = s.gql(Some(&a), SUBMIT, vars).await;
    assert_eq!(
        again["data"]["submitApplication"]["id"], fa["id"],
        "A's retry replays"
    );
}

/// Finding 6: a revoked key's live subscription kept receiving events.
async fn revoked_keys_lose_their_subscriptions(s: Server) {
    let firm = s.key(&["--role", "applicant", "--org", "firm", "--name", "li"]);
    let created = softland(&[
        "keys", "create", "--db", &s.db.url, "--role", "reviewer", "--agency", "ofds", "--name",
        "eve",
    ]);
    let id = created
        .stdout
        .split_whitespace()
        .nth(2)
        .expect("key id")
        .to_owned();
    let token = created.stdout.lines().last().unwrap().trim().to_owned();
    let mut ws = ws_connect(&s.url, &token).await;
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {"query": "subscription { applicationEvents { seq kind } }"}});
    ws.send(Message::Text(subscribe.to_string().into()))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let vars = json!({"k": "soft-landing-sz-to-hk", "d": example("soft-landing-sz-to-hk")});
    assert!(s.gql(Some(&firm), SUBMIT, vars.clone()).await["errors"].is_null());
    let first = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("an event before revocation")
        .unwrap()
        .unwrap();
    assert!(first.to_text().unwrap().contains("submitted"), "{first}");
    let revoked = softland(&["keys", "revoke", &id, "--db", &s.db.url]);
    assert_eq!(revoked.code, 0, "{}", revoked.stderr);
    // Within seconds the subscription ends with UNAUTHENTICATED, then `complete`.
    let mut ended = false;
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, ws.next()).await {
        let Ok(text) = msg.to_text() else { break };
        let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        seen.push(v.clone());
        match v["type"].as_str() {
            Some("next") if v["payload"]["errors"].is_null() => {
                // events committed before the revocation took effect may still arrive
            }
            Some("next") => assert_eq!(
                v["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
                "{v}"
            ),
            Some("complete") => {
                ended = true;
                break;
            }
            _ => {}
        }
    }
    assert!(ended, "the revoked key's subscription ended: {seen:?}");
    // Nothing more arrives for it.
    assert!(s.gql(Some(&firm), SUBMIT, vars).await["errors"].is_null());
    let after = tokio::time::timeout(Duration::from_secs(2), ws.next()).await;
    if let Ok(Some(Ok(msg))) = after {
        let text = msg.to_text().unwrap_or_default();
        assert!(
            !text.contains("\"next\""),
            "no event after revocation: {text}"
        );
    }
}

/// Finding 8: a restart re-published the bundled folder over an administrator's newer version,
/// and a retirement came back.
async fn a_restart_never_undoes_the_administrator(mut s: Server) {
    let source = std::fs::read_to_string(root().join("workflows/internship-placement.yaml"))
        .unwrap()
        + "\n# revised by an administrator\n";
    let r = s
        .gql(
            Some(&s.admin),
            "mutation($y: String!) { publishWorkflow(yaml: $y) { key version } }",
            json!({ "y": source }),
        )
        .await;
    assert_eq!(r["data"]["publishWorkflow"]["version"], 2, "{r}");
    let retire =
        "mutation { retireWorkflow(key: \"soft-landing-hk-to-sz\", version: 1) { retiredAt } }";
    let first = s.gql(Some(&s.admin), retire, json!({})).await;
    let at = first["data"]["retireWorkflow"]["retiredAt"].clone();
    assert!(at.is_string(), "{first}");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let twice = s.gql(Some(&s.admin), retire, json!({})).await;
    assert_eq!(
        twice["data"]["retireWorkflow"]["retiredAt"], at,
        "retiring twice keeps the time"
    );
    s.restart();
    let r = s
        .query(Some(&s.admin), "{ workflows { key version retiredAt } }")
        .await;
    let list = r["data"]["workflows"].as_array().unwrap().clone();
    let of = |k: &str| list.iter().find(|w| w["key"] == k).unwrap().clone();
    assert_eq!(of("internship-placement")["version"], 2, "{r}");
    assert_eq!(of("soft-landing-hk-to-sz")["version"], 1, "{r}");
    assert_eq!(
        of("soft-landing-hk-to-sz")["retiredAt"],
        at,
        "still retired: {r}"
    );
}

/// Low findings: NUL characters and a 500 KB idempotency key gave INTERNAL on PostgreSQL.
async fn strings_are_bounded_at_the_edge(s: Server) {
    let firm = s.key(&["--role", "applicant", "--org", "firm", "--name", "li"]);
    let mut data = example("soft-landing-sz-to-hk");
    data["company"]["name_en"] = json!("Pengcheng\u{0}Pay");
    for vars in [
        json!({"k": "soft-landing-sz-to-hk", "d": data}),
        json!({"k": "soft-landing-sz-to-hk", "d": example("soft-landing-sz-to-hk"), "i": "a\u{0}b"}),
        json!({"k": "soft-landing-sz-to-hk", "d": example("soft-landing-sz-to-hk"), "i": "k".repeat(500_000)}),
    ] {
        let (status, r) = raw_post(
            &s,
            Some(&firm),
            "application/json",
            json!({"query": SUBMIT, "variables": vars}).to_string(),
        )
        .await;
        assert!(status == 200 || status == 413, "{status}");
        let c = code(&r);
        assert!(c == "BAD_USER_INPUT" || c == "PAYLOAD_TOO_LARGE", "{r}");
    }
    let long_key = json!({"k": "soft-landing-sz-to-hk", "d": example("soft-landing-sz-to-hk"), "i": "k".repeat(5_000)});
    let r = s.gql(Some(&firm), SUBMIT, long_key).await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    // A NUL written as an escape in the query text itself.
    let r = s.query(Some(&firm), "mutation { submitApplication(input: {workflowKey: \"soft\\u0000landing\", data: {}}) { id } }").await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    // Bodies that are not GraphQL requests are refused in JSON, with a code and in words.
    for (body, status) in [
        ("[{\"query\": \"{ me { role } }\"}]", 400),
        ("{not json", 400),
        ("{\"variables\": {}}", 400),
    ] {
        let (st, r) = raw_post(&s, Some(&firm), "application/json", body.to_owned()).await;
        assert_eq!((st, code(&r)), (status, "BAD_USER_INPUT"), "{body}: {r}");
        let message = r["errors"][0]["message"].as_str().unwrap();
        assert!(
            !message.contains("Error {") && !message.contains("ParseError"),
            "{message}"
        );
    }
    alive(&s).await;
}

/// Low findings: claim/release/delegate revealed another agency's task as FORBIDDEN; a
/// subscription to an invisible or malformed application id subscribed to everything.
async fn invisible_tasks_and_applications_are_not_found(s: Server) {
    let firm = s.key(&["--role", "applicant", "--org", "firm", "--name", "li"]);
    let hkma = s.key(&["--role", "reviewer", "--agency", "hkma", "--name", "dora"]);
    let r = s
        .gql(
            Some(&firm),
            SUBMIT,
            json!({"k": "soft-landing-sz-to-hk", "d": example("soft-landing-sz-to-hk")}),
        )
        .await;
    let app = &r["data"]["submitApplication"];
    let task = app["openTasks"][0]["id"].as_str().unwrap().to_owned();
    for m in [
        "mutation($t: ID!) { claimTask(taskId: $t) { id } }",
        "mutation($t: ID!) { releaseTask(taskId: $t) { id } }",
        "mutation($t: ID!) { delegateTask(taskId: $t, to: \"x\") { id } }",
    ] {
        let r = s.gql(Some(&hkma), m, json!({"t": task})).await;
        assert_eq!(code(&r), "NOT_FOUND", "{m}: {r}");
        assert!(!r.to_string().contains("ofds"), "{r}");
    }
    for id in [app["id"].as_str().unwrap(), "not-a-uuid"] {
        let mut ws = ws_connect(&s.url, &hkma).await;
        let sub = json!({"id": "1", "type": "subscribe", "payload": {"query": "subscription($a: ID) { applicationEvents(applicationId: $a) { seq } }", "variables": {"a": id}}});
        ws.send(Message::Text(sub.to_string().into()))
            .await
            .unwrap();
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("an answer")
            .unwrap()
            .unwrap();
        let v: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
        let errors = match v["type"].as_str() {
            Some("error") => v["payload"].clone(),
            _ => v["payload"]["errors"].clone(),
        };
        assert_eq!(errors[0]["extensions"]["code"], "NOT_FOUND", "{id}: {v}");
    }
}

/// Silently wrong: `incorporated_on: "2024-13-45"` and a `business_plan_url` of `"my plan.pdf"`
/// were accepted.
async fn formats_are_asserted(s: Server) {
    let firm = s.key(&["--role", "applicant", "--org", "firm", "--name", "li"]);
    let mut data = example("soft-landing-sz-to-hk");
    data["company"]["incorporated_on"] = json!("2024-13-45");
    data["incubation"]["business_plan_url"] = json!("my plan.pdf");
    data["contact"]["email"] = json!("li@@example.com");
    let r = s
        .gql(
            Some(&firm),
            SUBMIT,
            json!({"k": "soft-landing-sz-to-hk", "d": data}),
        )
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    let paths: Vec<String> = r["errors"][0]["extensions"]["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["path"].as_str().unwrap().to_owned())
        .collect();
    for p in [
        "/company/incorporated_on",
        "/incubation/business_plan_url",
        "/contact/email",
    ] {
        assert!(paths.iter().any(|x| x == p), "{p} in {paths:?}");
    }
}

/// Low finding: a database error while authenticating was reported as UNAUTHENTICATED.
#[tokio::test]
async fn an_unreachable_key_store_is_internal_not_unauthenticated() {
    let db = TestDb::sqlite();
    let store = db.open().await;
    let (_, token) = store
        .create_key(
            "li",
            softland_store::KeyRole::Applicant {
                organization: "firm".into(),
            },
        )
        .await
        .unwrap();
    let app = softland_gateway::Application::build(
        softland_gateway::Settings {
            listen: "127.0.0.1:0".parse().unwrap(),
            documents: softland_documents::StorageConfig::Folder(crate::support::temp_dir(
                "harden-documents",
            )),
            ..Default::default()
        },
        store.clone(),
    )
    .await
    .unwrap();
    let url = format!("http://{}/graphql", app.local_addr().unwrap());
    let server = tokio::spawn(app.run_until_stopped(std::future::pending()));
    // The key table becomes unreadable: every look-up fails in the database.
    use sea_orm::ConnectionTrait;
    sea_orm::Database::connect(db.url.as_str())
        .await
        .unwrap()
        .execute_unprepared("ALTER TABLE api_keys RENAME TO api_keys_away")
        .await
        .unwrap();
    let resp = reqwest::Client::new()
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({"query": "{ me { role } }"}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    assert_eq!(status, 503, "{text}");
    let resp: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(code(&resp), "INTERNAL", "{resp}");
    server.abort();
}

/// `softland serve` started in a folder with no `workflows/` publishes the bundled workflows
/// (the binary carries them), and starts its scheduler as in the repository.
#[tokio::test]
async fn serve_runs_from_any_folder() {
    use std::io::{BufRead, BufReader};
    let dir = crate::support::temp_dir("serve-elsewhere");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_softland"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(&dir)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut admin, mut url) = (None, None);
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(t) = line.split_whitespace().find(|w| w.starts_with("sl_")) {
            admin.get_or_insert_with(|| t.trim_end_matches(['`', ')', '.']).to_owned());
        }
        if let Some(rest) = line.trim().strip_prefix("softland listening on ") {
            url = rest.split_whitespace().next().map(str::to_owned);
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let (admin, url) = (admin.expect("an admin key"), url.expect("listening"));
    let r = crate::support::gql_at(
        &url,
        Some(&admin),
        "{ workflows { key version } }",
        json!({}),
    )
    .await;
    let mut keys: Vec<&str> = r["data"]["workflows"]
        .as_array()
        .expect("workflows")
        .iter()
        .map(|w| w["key"].as_str().unwrap())
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "internship-placement",
            "soft-landing-hk-to-sz",
            "soft-landing-sz-to-hk"
        ],
        "{r}"
    );
    // An administrator changes a bundled workflow over the API (what the console's editor
    // does): the schema it names travels with its published version, whatever this folder holds.
    let source = std::fs::read_to_string(
        crate::support::root().join("workflows/soft-landing-sz-to-hk.yaml"),
    )
    .unwrap()
    .replace(
        "nominate: {to: eligibility_screening, title: {en: Nominate,",
        "nominate: {to: eligibility_screening, title: {en: Nominate the firm,",
    );
    assert!(source.contains("Nominate the firm"), "the edit applies");
    let checked =
        crate::support::gql_at(&url, Some(&admin), VALIDATE, json!({ "y": source })).await;
    assert_eq!(checked["data"]["validateWorkflow"]["ok"], true, "{checked}");
    let publish = "mutation($y: String!) { publishWorkflow(yaml: $y) { key version } }";
    let published =
        crate::support::gql_at(&url, Some(&admin), publish, json!({ "y": source })).await;
    assert_eq!(
        published["data"]["publishWorkflow"]["version"], 2,
        "{published}"
    );
    // A name that is neither a file here nor a published form is refused as before.
    let elsewhere = source.replace("soft-landing-sz-to-hk.json", "nosuch.json");
    let refused =
        crate::support::gql_at(&url, Some(&admin), VALIDATE, json!({ "y": elsewhere })).await;
    assert_eq!(
        refused["data"]["validateWorkflow"]["ok"], false,
        "{refused}"
    );

    // Retiring the only open version closes the programme until it is brought back.
    let firm_key = {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_softland"))
            .args([
                "keys",
                "create",
                "--role",
                "applicant",
                "--org",
                "pengcheng-pay",
                "--org-name",
                "Pengcheng Pay Ltd",
                "--name",
                "li.wei",
            ])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .split_whitespace()
            .find(|w| w.starts_with("sl_"))
            .expect("a key")
            .trim_end_matches(['`', ')', '.'])
            .to_owned()
    };
    let submit = "mutation($i: SubmitApplicationInput!) { submitApplication(input: $i) { id } }";
    let input = json!({"i": {"workflowKey": "soft-landing-sz-to-hk", "data": crate::support::example("soft-landing-sz-to-hk")}});
    let set = |verb: &str| {
        format!(
            "mutation {{ {verb}Workflow(key: \"soft-landing-sz-to-hk\", version: 2) {{ retiredAt }} }}"
        )
    };
    let retired = crate::support::gql_at(&url, Some(&admin), &set("retire"), json!({})).await;
    assert!(
        retired["data"]["retireWorkflow"]["retiredAt"].is_string(),
        "{retired}"
    );
    let refused = crate::support::gql_at(&url, Some(&firm_key), submit, input.clone()).await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
    let back = crate::support::gql_at(&url, Some(&admin), &set("unretire"), json!({})).await;
    assert!(
        back["data"]["unretireWorkflow"]["retiredAt"].is_null(),
        "{back}"
    );
    let submitted = crate::support::gql_at(&url, Some(&firm_key), submit, input).await;
    assert!(
        submitted["data"]["submitApplication"]["id"].is_string(),
        "{submitted}"
    );

    let _ = child.kill();
    let _ = child.wait();
    assert!(
        dir.join("softland.db").exists(),
        "the default SQLite file is in the folder"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Finding 4: "did you mean" was quadratic — a 471 KiB definition took 54 s of CPU on the async
/// workers, and two at once left `/readyz` unanswered. Now four near-1 MiB hostile definitions
/// validate at once while readiness still answers (a liveness check: the client's timeout is
/// generous; the speed is shown by the `compile_hostile` benchmark, not here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_definitions_do_not_stall_the_server() {
    let s = Server::start(TestDb::sqlite());
    let firm = s.key(&["--role", "applicant", "--org", "firm", "--name", "li"]);
    let mut yaml = String::from("key: hostile\ntitle: Hostile\nstart: s0\nstates:\n");
    let mut i = 0;
    while yaml.len() < 900 * 1024 {
        let name = |n: usize| format!("{}_{n}", "state_of_review_".repeat(3));
        yaml.push_str(&format!(
            "  {}:\n    type: task\n    assignee: ofds\n    actions:\n      go: {{to: x{}}}\n",
            name(i),
            &name(i + 1)[1..]
        ));
        i += 1;
    }
    let validations: Vec<_> = (0..4)
        .map(|_| {
            let (url, firm, yaml) = (s.url.clone(), firm.clone(), yaml.clone());
            tokio::spawn(async move {
                crate::support::gql_at(&url, Some(&firm), VALIDATE, json!({ "y": yaml })).await
            })
        })
        .collect();
    assert!(
        is_ready(&s.url, Duration::from_secs(10)).await,
        "readiness answers while definitions are validated"
    );
    for v in validations {
        let r = v.await.unwrap();
        let v = &r["data"]["validateWorkflow"];
        assert_eq!(v["ok"], false, "{r}");
        let errors = v["errors"].as_array().unwrap();
        assert!(errors.iter().any(|e| e["code"] == "unknown-target"));
        assert!(
            errors
                .iter()
                .any(|e| e["message"].as_str().unwrap().contains("did you mean")),
            "the first mistakes still get hints"
        );
    }
}
