//! The GraphQL service end to end: the real binary on a free port, real HTTP, on SQLite and
//! (with `SOFTLAND_TEST_POSTGRES_URL` and `--include-ignored`) on PostgreSQL.

use serde_json::{Value, json};
use softland_store::test_util::TestDb;

use crate::support::{
    CLAIM, Server, WITHDRAW, code, example, on_both_backends, root, ws_next, ws_subscribe,
};

on_both_backends!(
    happy_path_over_http,
    authorization_matrix,
    bad_inputs_get_stable_codes,
    restart_keeps_everything,
    a_rejecting_branch_cancels_its_sibling,
    subscription_receives_events_in_order,
    health_and_metrics,
    keys_and_claims,
);

const SZ_TO_HK: &str = "soft-landing-sz-to-hk";
const SUBMIT: &str = "mutation($k: String!, $d: JSON!, $i: String) { submitApplication(input: {workflowKey: $k, data: $d, idempotencyKey: $i}) { id status revision activeStates openTasks { id state assignee } } }";
const ACT: &str = "mutation($t: ID!, $a: String!, $d: JSON, $r: Int) { act(input: {taskId: $t, action: $a, data: $d, expectedRevision: $r}) { id status outcome revision activeStates openTasks { id state assignee } } }";

fn task(app: &Value, state: &str, assignee: &str) -> String {
    app["openTasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["state"] == state && t["assignee"] == assignee)
        .unwrap_or_else(|| panic!("no {state} task for {assignee} in {app}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The callers of these tests: API keys here, OpenID Connect tokens in `oidc.rs`.
pub(crate) struct Keys {
    pub(crate) firm: String,
    pub(crate) other_firm: String,
    pub(crate) ofds: String,
    pub(crate) investhk: (String, String),
    pub(crate) hkstp: String,
    pub(crate) hkma: String,
}

/// Who the callers of [`Keys`] are: (id, agency, organization), in field order.
pub(crate) const PEOPLE: [(&str, Option<&str>, Option<&str>); 7] = [
    ("li.wei", None, Some("pengcheng-pay")),
    ("zhang", None, Some("other-firm")),
    ("chen", Some("ofds"), None),
    ("amy", Some("investhk"), None),
    ("carl", Some("investhk"), None),
    ("ben", Some("hkstp"), None),
    ("dora", Some("hkma"), None),
];

fn keys(s: &Server) -> Keys {
    Keys {
        firm: s.key(&[
            "--role",
            "applicant",
            "--org",
            "pengcheng-pay",
            "--name",
            "li.wei",
        ]),
        other_firm: s.key(&[
            "--role",
            "applicant",
            "--org",
            "other-firm",
            "--name",
            "zhang",
        ]),
        ofds: s.key(&["--role", "reviewer", "--agency", "ofds", "--name", "chen"]),
        investhk: (
            s.key(&[
                "--role", "reviewer", "--agency", "investhk", "--name", "amy",
            ]),
            s.key(&[
                "--role", "reviewer", "--agency", "investhk", "--name", "carl",
            ]),
        ),
        hkstp: s.key(&["--role", "reviewer", "--agency", "hkstp", "--name", "ben"]),
        hkma: s.key(&["--role", "reviewer", "--agency", "hkma", "--name", "dora"]),
    }
}

async fn act(
    s: &Server,
    token: &str,
    app: &Value,
    state: &str,
    assignee: &str,
    action: &str,
    data: Value,
) -> Value {
    let r = s
        .gql(
            Some(token),
            ACT,
            json!({"t": task(app, state, assignee), "a": action, "d": data}),
        )
        .await;
    assert!(r["errors"].is_null(), "{action} on {state}: {r}");
    r["data"]["act"].clone()
}

async fn happy_path_over_http(s: Server) {
    let k = keys(&s);
    let mut app = s.submit_sample(&k.firm).await;
    assert_eq!(app["status"], "ACTIVE", "{app}");
    app = s.play(SZ_TO_HK, app, &k.firm, 0..1).await;
    // The request-for-information loop.
    app = act(
        &s,
        &k.investhk.0,
        &app,
        "eligibility_screening",
        "investhk",
        "request_info",
        json!({"question": "Audited accounts for 2025?"}),
    )
    .await;
    let inbox = s
        .query(Some(&k.firm), "{ inbox { nodes { state assignee } } }")
        .await;
    assert_eq!(
        inbox["data"]["inbox"]["nodes"],
        json!([{"state": "eligibility_information", "assignee": "applicant"}])
    );
    app = act(
        &s,
        &k.firm,
        &app,
        "eligibility_information",
        "applicant",
        "answer",
        json!({"answer": "Attached."}),
    )
    .await;
    app = s.play(SZ_TO_HK, app, &k.firm, 1..3).await;
    // Four-eyes: amy screened eligibility, so carl must clear the set-up.
    let r = s
        .gql(
            Some(&k.investhk.0),
            ACT,
            json!({"t": task(&app, "investhk_setup_review", "investhk"), "a": "clear"}),
        )
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    app = s.play(SZ_TO_HK, app, &k.firm, 3..7).await;
    assert_eq!(
        (app["status"].as_str(), app["outcome"].as_str()),
        (Some("COMPLETED"), Some("approved"))
    );
    let q = s
        .gql(
            Some(&k.firm),
            "query($id: ID!) { application(id: $id) { history { seq kind actor state action } } }",
            json!({"id": app["id"]}),
        )
        .await;
    let history = q["data"]["application"]["history"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(history.len() as i64, app["revision"].as_i64().unwrap());
    // The firm sees that InvestHK cleared the set-up plan, not which reviewer did.
    assert!(
        history.iter().any(|e| e["kind"] == "task_completed"
            && e["actor"].is_null()
            && e["action"] == "clear")
    );
    let q = s
        .gql(
            Some(&k.investhk.0),
            "query($id: ID!) { application(id: $id) { history { kind actor party action } } }",
            json!({"id": app["id"]}),
        )
        .await;
    assert!(
        q["data"]["application"]["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "task_completed"
                && e["actor"] == "carl"
                && e["party"] == "investhk"
                && e["action"] == "clear"),
        "a reviewer sees the person: {q}"
    );

    // The other bundled workflows' happy paths from their example applications.
    for (key, org, outcome) in [
        ("soft-landing-hk-to-sz", "harbour-ledger", "approved"),
        ("internship-placement", "hkust-student", "placed"),
    ] {
        let applicant = s.key(&["--role", "applicant", "--org", org]);
        let app = s.submit_example(&applicant, key).await;
        let app = s.play(key, app, &applicant, ..).await;
        assert_eq!(app["outcome"], outcome, "{key}: {app}");
    }
}

async fn authorization_matrix(s: Server) {
    let k = keys(&s);
    matrix(&s, &k, &s.admin).await;
}

/// Who may see, list, act, submit, withdraw, publish and retire — for `k`'s callers and
/// administrator `admin`, however they signed in.
pub(crate) async fn matrix(s: &Server, k: &Keys, admin: &str) {
    let app = s.submit_sample(&k.firm).await;
    let id = app["id"].clone();
    let see = "query($id: ID!) { application(id: $id) { id } }";
    // Who sees the application: the firm, involved agencies, admins. Others get null, exactly as
    // for an application that does not exist.
    for (who, token, visible) in [
        ("firm", &k.firm, true),
        ("other firm", &k.other_firm, false),
        ("ofds (has a task)", &k.ofds, true),
        ("hkma (no task yet)", &k.hkma, false),
        ("admin", &admin.to_owned(), true),
    ] {
        let r = s.gql(Some(token), see, json!({"id": id})).await;
        assert_eq!(!r["data"]["application"].is_null(), visible, "{who}: {r}");
        assert!(r["errors"].is_null(), "{who}: {r}");
    }
    let missing = s
        .gql(
            Some(&k.other_firm),
            see,
            json!({"id": "00000000-0000-7000-8000-000000000000"}),
        )
        .await;
    assert_eq!(missing["data"]["application"], Value::Null);
    // Lists are scoped the same way.
    let list = "{ applications { nodes { id } } }";
    assert_eq!(
        s.gql(Some(&k.firm), list, json!({})).await["data"]["applications"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        s.gql(Some(&k.other_firm), list, json!({})).await["data"]["applications"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        s.gql(Some(&k.hkma), list, json!({})).await["data"]["applications"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // Acting: only the assigned agency; an invisible task looks missing.
    let t = task(&app, "ofds_nomination", "ofds");
    let r = s
        .gql(Some(&k.hkma), ACT, json!({"t": t, "a": "nominate"}))
        .await;
    assert_eq!(code(&r), "NOT_FOUND", "{r}");
    let r = s
        .gql(Some(&k.firm), ACT, json!({"t": t, "a": "nominate"}))
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    let r = s
        .gql(Some(admin), ACT, json!({"t": t, "a": "nominate"}))
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    // Only applicants submit and withdraw, only for their own organization.
    let r = s
        .gql(
            Some(&k.ofds),
            SUBMIT,
            json!({"k": "soft-landing-sz-to-hk", "d": example("soft-landing-sz-to-hk")}),
        )
        .await;
    assert_eq!(code(&r), "FORBIDDEN");
    assert_eq!(
        code(
            &s.gql(Some(&k.other_firm), WITHDRAW, json!({"id": id}))
                .await
        ),
        "NOT_FOUND"
    );
    // Only admins publish or retire.
    let yaml = std::fs::read_to_string(root().join("workflows/internship-placement.yaml")).unwrap();
    let publish = "mutation($y: String!) { publishWorkflow(yaml: $y) { key version } }";
    for token in [&k.firm, &k.ofds] {
        assert_eq!(
            code(&s.gql(Some(token), publish, json!({"y": yaml})).await),
            "FORBIDDEN"
        );
    }
    let r = s.gql(Some(admin), publish, json!({"y": yaml})).await;
    assert_eq!(
        r["data"]["publishWorkflow"]["version"], 1,
        "unchanged content publishes nothing new: {r}"
    );
    assert_eq!(
        code(
            &s.gql(
                Some(&k.ofds),
                "mutation { retireWorkflow(key: \"internship-placement\", version: 1) { key } }",
                json!({})
            )
            .await
        ),
        "FORBIDDEN"
    );
    // No key, or a wrong one.
    for token in [None, Some("sl_not-a-key")] {
        assert_eq!(
            code(&s.gql(token, "{ me { role } }", json!({})).await),
            "UNAUTHENTICATED"
        );
    }
    let me = s
        .query(Some(&k.ofds), "{ me { role agency organization } }")
        .await;
    assert_eq!(
        me["data"]["me"],
        json!({"role": "REVIEWER", "agency": "ofds", "organization": null})
    );
    // The firm withdraws its own application.
    let r = s.gql(Some(&k.firm), WITHDRAW, json!({"id": id})).await;
    assert_eq!(
        r["data"]["withdrawApplication"]["status"], "WITHDRAWN",
        "{r}"
    );
}

async fn bad_inputs_get_stable_codes(s: Server) {
    let k = keys(&s);
    let (server, firm) = (&s, &k.firm);
    let submit = move |d: Value| server.gql(Some(firm), SUBMIT, json!({"k": SZ_TO_HK, "d": d}));
    let mut bad = example(SZ_TO_HK);
    bad["incubation"]["technical_staff_percent"] = json!(140);
    let r = submit(bad).await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    assert_eq!(
        r["errors"][0]["extensions"]["violations"][0]["path"],
        "/incubation/technical_staff_percent",
        "{r}"
    );
    assert!(
        r["errors"][0]["extensions"]["violations"][0]
            .get("missing")
            .is_none(),
        "only a missing property is named: {r}"
    );
    let mut incomplete = example(SZ_TO_HK);
    incomplete["company"]
        .as_object_mut()
        .unwrap()
        .remove("name_en");
    let r = submit(incomplete).await;
    let v = &r["errors"][0]["extensions"]["violations"][0];
    assert_eq!(v["path"], "/company", "{r}");
    assert_eq!(v["missing"], "name_en", "{r}");
    let r = s
        .gql(
            Some(&k.firm),
            SUBMIT,
            json!({"k": "no-such-workflow", "d": {}}),
        )
        .await;
    assert_eq!(code(&r), "NOT_FOUND", "{r}");

    let app = s.submit_sample(&k.firm).await;
    let t = task(&app, "ofds_nomination", "ofds");
    assert_eq!(
        code(
            &s.gql(Some(&k.ofds), ACT, json!({"t": t, "a": "approve"}))
                .await
        ),
        "INVALID_ACTION"
    );
    assert_eq!(
        code(
            &s.gql(
                Some(&k.ofds),
                ACT,
                json!({"t": t, "a": "decline", "d": {"reason": 1}})
            )
            .await
        ),
        "BAD_USER_INPUT"
    );
    let stale = s
        .gql(
            Some(&k.ofds),
            ACT,
            json!({"t": t, "a": "nominate", "r": app["revision"].as_i64().unwrap() - 1}),
        )
        .await;
    assert_eq!(code(&stale), "CONFLICT", "{stale}");
    let ok = s
        .gql(
            Some(&k.ofds),
            ACT,
            json!({"t": t, "a": "nominate", "r": app["revision"]}),
        )
        .await;
    assert!(ok["errors"].is_null(), "{ok}");
    assert_eq!(
        code(
            &s.gql(Some(&k.ofds), ACT, json!({"t": t, "a": "nominate"}))
                .await
        ),
        "CONFLICT",
        "closed task"
    );

    // Idempotent submissions over HTTP.
    let once = json!({"k": "soft-landing-sz-to-hk", "d": example("soft-landing-sz-to-hk"), "i": "submit-1"});
    let a = s.gql(Some(&k.other_firm), SUBMIT, once.clone()).await;
    let b = s.gql(Some(&k.other_firm), SUBMIT, once).await;
    assert_eq!(
        a["data"]["submitApplication"]["id"],
        b["data"]["submitApplication"]["id"]
    );

    let client = reqwest::Client::new();
    let post = |body: String| {
        client
            .post(format!("{}/graphql", s.url))
            .bearer_auth(&k.firm)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    assert_eq!(post("{not json".into()).await.unwrap().status(), 400);
    assert_eq!(oversized(&s.url), 413);
    let (status, answer) = streamed_oversized(&s.url);
    assert_eq!(status, 413, "{answer}");
    assert!(answer.contains("PAYLOAD_TOO_LARGE"), "{answer}");
    let malformed = s.gql(Some(&k.firm), "{ me { role ", json!({})).await;
    assert!(
        malformed["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{malformed}"
    );
    assert_eq!(
        code(&malformed),
        "BAD_USER_INPUT",
        "parse errors are coded too: {malformed}"
    );
    let deep = format!(
        "{{ inbox {{ nodes {} id {} }} }}",
        "application { openTasks { ".repeat(8),
        "} } ".repeat(8)
    );
    let r = s.gql(Some(&k.firm), &deep, json!({})).await;
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("nested too deep")),
        "{r}"
    );
    assert_eq!(code(&r), "BAD_USER_INPUT");
    let dq = s
        .query(
            Some(&k.firm),
            "{ applications(first: 1000) { nodes { id } } }",
        )
        .await;
    assert!(
        dq["data"]["applications"]["nodes"]
            .as_array()
            .unwrap()
            .len()
            <= 100
    );
    let v = s.gql(Some(&k.firm), "mutation($y: String!) { validateWorkflow(yaml: $y) { ok errors { code line column message } } }", json!({"y": "key: x\ntitle: X\nstart: a\nstates: {a: {type: fnal}}\n"})).await;
    assert_eq!(v["data"]["validateWorkflow"]["ok"], false, "{v}");
    assert!(
        v["data"]["validateWorkflow"]["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["code"] == "invalid-value" && e["line"] == 4),
        "{v}"
    );
}

async fn restart_keeps_everything(mut s: Server) {
    let k = keys(&s);
    let app = s.submit_sample(&k.firm).await;
    let app = s.play(SZ_TO_HK, app, &k.firm, 0..1).await;
    s.restart();
    let q = s
        .gql(
            Some(&k.firm),
            "query($id: ID!) { application(id: $id) { revision activeStates } }",
            json!({"id": app["id"]}),
        )
        .await;
    assert_eq!(q["data"]["application"]["revision"], app["revision"]);
    assert_eq!(
        q["data"]["application"]["activeStates"],
        json!(["eligibility_screening"])
    );
    let doctor = crate::support::softland(&["doctor", "--db", &s.db.url]);
    assert_eq!(doctor.code, 0, "{}", doctor.stdout);
    assert!(
        doctor
            .stdout
            .contains("calendar mainland: covers days up to 2026-12-31"),
        "doctor tells how long the holiday tables cover: {}",
        doctor.stdout
    );
    let _ = TestDb::sqlite;
}

/// Declares a 4 MiB body, sends a little of it, and reads the status line: the server must
/// refuse from the declared length (413) without reading the rest.
fn oversized(url: &str) -> u16 {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{{\"query\": \"",
        4 << 20
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 64];
    let n = stream.read(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[..n])
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Streams a 2 MiB JSON body in chunks, declaring no length, so the server finds it too large
/// only while reading it; the status and the whole answer.
fn streamed_oversized(url: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 64 << 10, "x".repeat(64 << 10));
    // The server may answer and stop reading before the end: a failed write ends the body.
    for _ in 0..32 {
        if stream.write_all(chunk.as_bytes()).is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

async fn a_rejecting_branch_cancels_its_sibling(s: Server) {
    let k = keys(&s);
    let mut app = s.submit_sample(&k.firm).await;
    app = s.play(SZ_TO_HK, app, &k.firm, 0..2).await;
    let sibling = task(&app, "investhk_setup_review", "investhk");
    app = act(
        &s,
        &k.hkstp,
        &app,
        "hkstp_review",
        "hkstp",
        "reject",
        json!({"reason": "Not a technology company"}),
    )
    .await;
    assert_eq!(
        (app["status"].as_str(), app["outcome"].as_str()),
        (Some("COMPLETED"), Some("rejected"))
    );
    assert_eq!(app["openTasks"], json!([]));
    let inbox = s
        .gql(Some(&k.investhk.1), "{ inbox { nodes { id } } }", json!({}))
        .await;
    assert_eq!(
        inbox["data"]["inbox"]["nodes"],
        json!([]),
        "the cancelled sibling left InvestHK's inbox"
    );
    let r = s
        .gql(
            Some(&k.investhk.1),
            ACT,
            json!({"t": sibling, "a": "clear"}),
        )
        .await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
}

async fn subscription_receives_events_in_order(s: Server) {
    let k = keys(&s);
    let app = s.submit_sample(&k.firm).await;
    let first = app["revision"].as_i64().unwrap();
    let query = "subscription($id: ID) { applicationEvents(applicationId: $id) { seq kind applicationId } }";
    let mut ws = ws_subscribe(&s.url, &k.firm, query, json!({"id": app["id"]})).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let app = s.play(SZ_TO_HK, app, &k.firm, 0..2).await;
    // Events relayed from the outbox: possibly the submission's own (committed just before the
    // subscription), then every later one, consecutively, up to the last action's.
    let last = app["revision"].as_i64().unwrap();
    let mut seqs: Vec<i64> = Vec::new();
    while seqs.last() != Some(&last) {
        let v = ws_next(&mut ws, std::time::Duration::from_secs(10))
            .await
            .expect("events arrive");
        assert_eq!(v["type"], "next", "{v}");
        let e = &v["payload"]["data"]["applicationEvents"];
        assert_eq!(e["applicationId"], app["id"]);
        seqs.push(e["seq"].as_i64().unwrap());
    }
    assert!(
        seqs[0] <= first + 1,
        "nothing after the subscription is missed: {seqs:?}"
    );
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "in order, each once: {seqs:?}"
    );
}

async fn health_and_metrics(s: Server) {
    let k = keys(&s);
    s.gql(
        Some(&k.firm),
        SUBMIT,
        json!({"k": "soft-landing-sz-to-hk", "d": example("soft-landing-sz-to-hk")}),
    )
    .await;
    let get = |p: &str| reqwest::get(format!("{}{p}", s.url));
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    assert_eq!(get("/readyz").await.unwrap().text().await.unwrap(), "ready");
    let m = get("/metrics").await.unwrap().text().await.unwrap();
    assert!(m.contains("softland_http_requests_total"), "{m}");
    // How long the holiday tables still cover, per region, for alerting.
    for region in ["hk", "mainland"] {
        assert!(
            m.contains(&format!(
                "softland_calendar_coverage_days{{region=\"{region}\"}}"
            )),
            "{m}"
        );
    }
    // Per-agency task counts are administrators' information: not on a public /metrics
    // (with a metrics token they are: `trust::metrics_need_their_token`).
    assert!(!m.contains("softland_open_tasks"), "{m}");
    let aliases: String = (0..40).map(|i| format!("a{i}: me {{ role }} ")).collect();
    let r = s
        .gql(Some(&k.firm), &format!("{{ {aliases} }}"), json!({}))
        .await;
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("aliases")),
        "{r}"
    );
    let page = reqwest::get(format!("{}/graphql", s.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("graphiql"),
        "GraphiQL is served on GET /graphql"
    );
}

async fn keys_and_claims(s: Server) {
    let k = keys(&s);
    let app = s.submit_sample(&k.firm).await;
    let app = s.play(SZ_TO_HK, app, &k.firm, 0..1).await;
    let t = task(&app, "eligibility_screening", "investhk");

    let r = s.gql(Some(&k.investhk.0), CLAIM, json!({"t": t})).await;
    assert_eq!(r["data"]["claimTask"]["claimedBy"], "amy", "{r}");
    assert_eq!(
        code(&s.gql(Some(&k.investhk.1), CLAIM, json!({"t": t})).await),
        "CONFLICT"
    );
    // HKSTP has had no task on this application yet: to it, the task does not exist.
    assert_eq!(
        code(&s.gql(Some(&k.hkstp), CLAIM, json!({"t": t})).await),
        "NOT_FOUND"
    );
    assert_eq!(
        code(
            &s.gql(Some(&k.investhk.1), ACT, json!({"t": t, "a": "eligible"}))
                .await
        ),
        "CONFLICT",
        "claimed by amy"
    );
    let r = s
        .gql(
            Some(&k.investhk.0),
            "mutation($t: ID!) { delegateTask(taskId: $t, to: \"carl\") { claimedBy } }",
            json!({"t": t}),
        )
        .await;
    assert_eq!(r["data"]["delegateTask"]["claimedBy"], "carl", "{r}");
    act(
        &s,
        &k.investhk.1,
        &app,
        "eligibility_screening",
        "investhk",
        "eligible",
        Value::Null,
    )
    .await;

    // Keys: list shows no tokens; a revoked key is refused.
    let extra = s.key(&["--role", "reviewer", "--agency", "hkma", "--name", "temp"]);
    assert_eq!(
        s.gql(Some(&extra), "{ me { name } }", json!({})).await["data"]["me"]["name"],
        "temp"
    );
    let list = crate::support::softland(&["keys", "list", "--db", &s.db.url]);
    assert!(!list.stdout.contains("sl_"), "tokens are never listed");
    let id = list
        .stdout
        .lines()
        .find(|l| l.contains("temp"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_owned();
    let revoke = crate::support::softland(&["keys", "revoke", &id, "--db", &s.db.url]);
    assert_eq!(revoke.code, 0, "{}", revoke.stderr);
    assert_eq!(
        code(&s.gql(Some(&extra), "{ me { name } }", json!({})).await),
        "UNAUTHENTICATED"
    );
    let bad =
        crate::support::softland(&["keys", "create", "--role", "reviewer", "--db", &s.db.url]);
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("needs --agency"), "{}", bad.stderr);
}
