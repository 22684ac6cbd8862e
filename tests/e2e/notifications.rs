//! Notifications end to end: a webhook receiver on loopback that checks every Standard Webhooks
//! signature with its own HMAC (not softland's code), counts deliveries per endpoint across a
//! `kill -9` and three servers, and sees only what each endpoint's owner may see; a real SMTP
//! server (aiosmtpd from PyPI) that receives e-mail in each recipient's language, with links
//! that open the console page.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use softland_store::test_util::TestDb;

use crate::support::{Server, code, eventually, gql_at, root, temp_dir};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    path: String,
    pub(crate) id: String,
    pub(crate) timestamp: String,
    pub(crate) signature: String,
    pub(crate) body: String,
}

impl Delivery {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
    pub(crate) fn seq(&self) -> i64 {
        self.json()["data"]["seq"].as_i64().unwrap()
    }
    pub(crate) fn app(&self) -> String {
        self.json()["data"]["applicationId"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

#[derive(Debug, Default)]
pub(crate) struct Receiver {
    got: Mutex<Vec<Delivery>>,
    /// Path → answers of 500 still to give.
    failures: Mutex<HashMap<String, usize>>,
    /// Path → how long to wait before answering.
    delay: Mutex<HashMap<String, Duration>>,
}

impl Receiver {
    pub(crate) fn at(&self, path: &str) -> Vec<Delivery> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|d| d.path == path)
            .cloned()
            .collect()
    }
}

async fn receive(
    State(r): State<Arc<Receiver>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let h = |n: &str| {
        headers
            .get(n)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    r.got.lock().unwrap().push(Delivery {
        path: path.clone(),
        id: h("webhook-id"),
        timestamp: h("webhook-timestamp"),
        signature: h("webhook-signature"),
        body: String::from_utf8(body.to_vec()).unwrap(),
    });
    let delay = r.delay.lock().unwrap().get(&path).copied();
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    if path == "gone" {
        return StatusCode::GONE;
    }
    let mut failures = r.failures.lock().unwrap();
    match failures.get_mut(&path) {
        Some(n) if *n > 0 => {
            *n -= 1;
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::NO_CONTENT,
    }
}

/// A receiver on loopback; its base URL.
pub(crate) async fn receiver() -> (String, Arc<Receiver>) {
    let r = Arc::new(Receiver::default());
    let app = axum::Router::new()
        .route("/hooks/{path}", axum::routing::post(receive))
        .with_state(r.clone());
    let addr = crate::support::serve_loopback(app).await;
    (format!("http://{addr}/hooks"), r)
}

/// HMAC-SHA256 (RFC 2104) written out here, so the check does not reuse softland's signing.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().to_vec()
}

/// What a Standard Webhooks receiver does: a timestamp within five minutes, and one `v1`
/// signature equal to the MAC of `id.timestamp.body` under the secret.
fn verify(secret: &str, id: &str, timestamp: &str, signature: &str, body: &str) -> bool {
    let now = chrono::Utc::now().timestamp();
    let Ok(ts) = timestamp.parse::<i64>() else {
        return false;
    };
    if (now - ts).abs() > 300 {
        return false;
    }
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let expected = STANDARD.encode(hmac_sha256(
        &key,
        format!("{id}.{timestamp}.{body}").as_bytes(),
    ));
    signature
        .split(' ')
        .any(|s| s.strip_prefix("v1,") == Some(expected.as_str()))
}

const CREATE: &str = "mutation($i: WebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret endpoint { id owner url eventTypes } } }";

/// Registers an endpoint as `token`; (id, secret).
pub(crate) async fn endpoint(s: &Server, token: &str, url: &str, types: Value) -> (String, String) {
    let r = s
        .gql(
            Some(token),
            CREATE,
            json!({"i": {"url": url, "eventTypes": types}}),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let c = &r["data"]["createWebhookEndpoint"];
    (
        c["endpoint"]["id"].as_str().unwrap().to_owned(),
        c["secret"].as_str().unwrap().to_owned(),
    )
}

/// A person of the directory (admin adds them) and a key acting as them.
async fn person(s: &Server, input: Value) -> String {
    let r = s
        .gql(
            Some(&s.admin),
            "mutation($p: PersonInput!) { putPerson(input: $p) { id } }",
            json!({"p": input}),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    s.key(&["--person", input["id"].as_str().unwrap(), "--name", "test"])
}

/// (seq, kind) of every audit-log entry of an application that announces an event type.
pub(crate) async fn announced(s: &Server, app: &str) -> BTreeMap<i64, String> {
    let r = s
        .gql(
            Some(&s.admin),
            "query($id: ID!) { application(id: $id) { history { seq kind } } }",
            json!({"id": app}),
        )
        .await;
    r["data"]["application"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            matches!(
                e["kind"].as_str().unwrap(),
                "submitted"
                    | "task_opened"
                    | "task_completed"
                    | "task_reassigned"
                    | "task_overdue"
                    | "completed"
                    | "withdrawn"
            )
        })
        .map(|e| {
            (
                e["seq"].as_i64().unwrap(),
                e["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

pub(crate) async fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) const ALLOW_LOOPBACK: (&str, &str) = ("SOFTLAND_WEBHOOK_ALLOW", "127.0.0.0/8");

#[tokio::test]
async fn webhooks_are_signed_filtered_ordered_retried_and_redelivered() {
    let (base, rx) = receiver().await;
    let mut s = Server::start_with_env(TestDb::sqlite(), "127.0.0.1:0", &[ALLOW_LOOPBACK]);
    let acme = person(
        &s,
        json!({"id": "acme-lead", "organization": "acme", "roles": ["LEAD", "STAFF"]}),
    )
    .await;
    let other = person(
        &s,
        json!({"id": "other-lead", "organization": "other", "roles": ["LEAD", "STAFF"]}),
    )
    .await;
    let investhk = person(
        &s,
        json!({"id": "ihk-lead", "agency": "investhk", "roles": ["LEAD", "REVIEWER"]}),
    )
    .await;
    let staff = s.applicant_key("acme", "acme-staff");

    // Who may register what.
    let r = s
        .gql(
            Some(&staff),
            CREATE,
            json!({"i": {"url": format!("{base}/x")}}),
        )
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "staff are not leads: {r}");
    let r = s
        .gql(
            Some(&acme),
            CREATE,
            json!({"i": {"url": format!("{base}/x"), "eventTypes": ["task.exploded"]}}),
        )
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    let types = s.query(Some(&acme), "{ webhookEventTypes }").await;
    assert!(
        types["data"]["webhookEventTypes"]
            .as_array()
            .unwrap()
            .contains(&json!("information.requested"))
    );

    let (admin_ep, admin_secret) =
        endpoint(&s, &s.admin, &format!("{base}/admin"), json!(null)).await;
    let (acme_ep, acme_secret) = endpoint(&s, &acme, &format!("{base}/acme"), json!([])).await;
    let (_, other_secret) = endpoint(&s, &other, &format!("{base}/other"), json!(null)).await;
    let (_, ihk_secret) = endpoint(
        &s,
        &investhk,
        &format!("{base}/investhk"),
        json!(["task.opened", "task.completed"]),
    )
    .await;
    let office = person(
        &s,
        json!({"id": "po-lead", "agency": "programme_office", "roles": ["LEAD", "REVIEWER"]}),
    )
    .await;
    let (_, office_secret) = endpoint(&s, &office, &format!("{base}/office"), json!(null)).await;
    rx.failures.lock().unwrap().insert("flaky".into(), 1);
    let (flaky_ep, flaky_secret) = endpoint(
        &s,
        &s.admin,
        &format!("{base}/flaky"),
        json!(["application.submitted"]),
    )
    .await;
    let secrets: HashMap<&str, &str> = [
        ("admin", admin_secret.as_str()),
        ("acme", acme_secret.as_str()),
        ("other", other_secret.as_str()),
        ("investhk", ihk_secret.as_str()),
        ("flaky", flaky_secret.as_str()),
        ("office", office_secret.as_str()),
    ]
    .into();

    // A whole application, with an internal note the firm must never receive.
    let app = s.submit_sample(&acme).await;
    let id = app["id"].as_str().unwrap().to_owned();
    let ofds = s.reviewer_key("ofds", "chen");
    let note = s
        .gql(
            Some(&ofds),
            "mutation($a: ID!) { addNote(applicationId: $a, note: \"SECRET-NOTE-7731\") { id } }",
            json!({"a": id}),
        )
        .await;
    assert!(note["errors"].is_null(), "{note}");
    let done = s.play("soft-landing-sz-to-hk", app, &acme, ..).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let expected = announced(&s, &id).await;
    assert!(expected.len() > 10, "{expected:?}");
    wait_for(
        "every event at the admin endpoint",
        Duration::from_secs(60),
        || rx.at("admin").len() >= expected.len() && rx.at("acme").len() >= expected.len(),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;

    // Every delivery verifies; a tampered body or an old timestamp does not.
    for d in rx.got.lock().unwrap().iter() {
        let secret = secrets[d.path.as_str()];
        assert!(d.id.starts_with("msg_"), "{d:?}");
        assert!(
            verify(secret, &d.id, &d.timestamp, &d.signature, &d.body),
            "{d:?}"
        );
        let tampered = d.body.replace("\"seq\"", "\"seq\" ");
        assert!(!verify(
            secret,
            &d.id,
            &d.timestamp,
            &d.signature,
            &tampered
        ));
        let old = (d.timestamp.parse::<i64>().unwrap() - 600).to_string();
        assert!(!verify(secret, &d.id, &old, &d.signature, &d.body));
    }

    // The administrator's endpoint: every event once, in order; the firm's likewise, as the
    // firm may see them: no reviewer's name, no note.
    for path in ["admin", "acme"] {
        let got = rx.at(path);
        let seqs: Vec<i64> = got.iter().map(Delivery::seq).collect();
        assert_eq!(
            seqs,
            expected.keys().copied().collect::<Vec<_>>(),
            "{path}: each event once, in order"
        );
        let ids: BTreeSet<&str> = got.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids.len(), got.len(), "{path}: one id per event");
    }
    for d in rx.at("acme") {
        let v = d.json();
        assert!(!d.body.contains("SECRET-NOTE-7731"));
        if v["data"]["party"]
            .as_str()
            .is_some_and(|p| p != "applicant")
        {
            assert!(
                v["data"]["actor"].is_null(),
                "the firm sees the agency, not the reviewer: {v}"
            );
        }
    }
    assert!(
        rx.at("admin")
            .iter()
            .any(|d| d.json()["data"]["actor"].is_string()),
        "the administrator sees who acted"
    );
    assert_eq!(
        rx.got
            .lock()
            .unwrap()
            .iter()
            .filter(|d| d.body.contains("SECRET-NOTE-7731"))
            .count(),
        0,
        "internal notes are announced to nobody"
    );
    assert!(
        rx.at("other").is_empty(),
        "another firm hears nothing of acme's application"
    );
    let ihk = rx.at("investhk");
    assert!(!ihk.is_empty());
    for d in &ihk {
        let t = d.json()["type"].as_str().unwrap().to_owned();
        assert!(t == "task.opened" || t == "task.completed", "{t}");
    }
    assert!(
        ihk.iter()
            .any(|d| d.json()["data"]["assignee"] == "investhk"),
        "InvestHK hears of its own tasks"
    );
    // An agency never involved in the application hears nothing of it.
    assert!(rx.at("office").is_empty(), "{:?}", rx.at("office"));

    // The failed first attempt was retried with the same webhook-id; the log says so.
    wait_for(
        "the retry (about 5 s later)",
        Duration::from_secs(20),
        || rx.at("flaky").len() >= 2,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let flaky = rx.at("flaky");
    assert_eq!(flaky.len(), 2, "{flaky:?}");
    assert_eq!(flaky[0].id, flaky[1].id);
    let log = s
        .query(
            Some(&s.admin),
            "{ webhookEndpoints { id url deliveries { id status attempts attemptLog { statusCode latencyMs } } } }",
        )
        .await;
    let eps = log["data"]["webhookEndpoints"].as_array().unwrap();
    assert_eq!(
        eps.len(),
        6,
        "the administrator manages every endpoint: {log}"
    );
    let flaky_log = eps.iter().find(|e| e["id"] == flaky_ep.as_str()).unwrap();
    let d = &flaky_log["deliveries"][0];
    assert_eq!(d["status"], "DELIVERED");
    assert_eq!(d["attempts"], 2);
    assert_eq!(d["attemptLog"][0]["statusCode"], 500);
    assert_eq!(d["attemptLog"][1]["statusCode"], 204);
    assert_eq!(
        format!("msg_{}", d["id"].as_str().unwrap().replace('-', "")),
        flaky[0].id
    );
    let mine = s.query(Some(&acme), "{ webhookEndpoints { id } }").await;
    assert_eq!(mine["data"]["webhookEndpoints"], json!([{"id": acme_ep}]));
    let theirs = s
        .gql(
            Some(&other),
            "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }",
            json!({"id": acme_ep}),
        )
        .await;
    assert_eq!(code(&theirs), "NOT_FOUND", "{theirs}");

    // Redelivery sends the same message again, with its id.
    let delivered = s
        .gql(
            Some(&acme),
            "query { webhookEndpoints { deliveries(first: 1) { id } } }",
            json!({}),
        )
        .await;
    let nid = delivered["data"]["webhookEndpoints"][0]["deliveries"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = rx.at("acme").len();
    let r = s
        .gql(
            Some(&acme),
            "mutation($id: ID!) { redeliverNotification(id: $id) }",
            json!({"id": nid}),
        )
        .await;
    assert_eq!(r["data"]["redeliverNotification"], true, "{r}");
    wait_for("the redelivery", Duration::from_secs(20), || {
        rx.at("acme").len() > before
    })
    .await;
    assert_eq!(
        rx.at("acme").last().unwrap().id,
        format!("msg_{}", nid.replace('-', ""))
    );

    // Rotation: for a day both secrets sign.
    let rotated = s
        .gql(
            Some(&acme),
            "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret endpoint { previousSecretUntil } } }",
            json!({"id": acme_ep}),
        )
        .await;
    let new_secret = rotated["data"]["rotateWebhookSecret"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(rotated["data"]["rotateWebhookSecret"]["endpoint"]["previousSecretUntil"].is_string());
    let before = rx.at("acme").len();
    let second = s.submit_sample(&staff).await;
    wait_for("the second application", Duration::from_secs(20), || {
        rx.at("acme").len() > before
    })
    .await;
    let d = rx.at("acme").last().unwrap().clone();
    assert_eq!(d.signature.split(' ').count(), 2, "{d:?}");
    assert!(verify(
        &new_secret,
        &d.id,
        &d.timestamp,
        &d.signature,
        &d.body
    ));
    assert!(verify(
        &acme_secret,
        &d.id,
        &d.timestamp,
        &d.signature,
        &d.body
    ));

    // A receiver that answers 410 Gone asks not to be called again: the endpoint is disabled,
    // and says why.
    let (gone_ep, _) = endpoint(
        &s,
        &s.admin,
        &format!("{base}/gone"),
        json!(["application.submitted"]),
    )
    .await;
    s.submit_sample(&staff).await;
    let disabled = eventually(
        "the 410 endpoint disabled",
        Duration::from_secs(30),
        || async {
            let r = s
                .query(
                    Some(&s.admin),
                    "{ webhookEndpoints { id disabledAt disabledReason } }",
                )
                .await;
            let e = r["data"]["webhookEndpoints"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["id"] == gone_ep.as_str())
                .cloned()
                .unwrap();
            e["disabledAt"].is_string().then_some(e)
        },
    )
    .await;
    assert!(
        disabled["disabledReason"].as_str().unwrap().contains("410"),
        "{disabled}"
    );
    assert_eq!(rx.at("gone").len(), 1, "called once, then no more");
    let enabled = s
        .gql(
            Some(&s.admin),
            "mutation($id: ID!) { setWebhookEndpointEnabled(id: $id, enabled: true) { disabledAt } }",
            json!({"id": gone_ep}),
        )
        .await;
    assert!(
        enabled["data"]["setWebhookEndpointEnabled"]["disabledAt"].is_null(),
        "{enabled}"
    );
    let _ = s
        .gql(
            Some(&s.admin),
            "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }",
            json!({"id": gone_ep}),
        )
        .await;

    // No e-mail is configured: none was queued, and nothing failed for it.
    let mail = s
        .query(Some(&s.admin), "{ notifications(channel: EMAIL) { id } }")
        .await;
    assert_eq!(mail["data"]["notifications"], json!([]), "{mail}");

    // Addresses are checked again when delivering: without the operator's allow-list the
    // loopback receiver is refused, and the attempt says why.
    s.set_env(&[]);
    s.restart();
    let before = rx.got.lock().unwrap().len();
    let third = s.submit_sample(&staff).await;
    let failed = eventually("the refused attempt", Duration::from_secs(30), || async {
        let r = s
            .gql(
                Some(&s.admin),
                "query($a: ID!) { notifications(applicationId: $a) { endpointId attempts lastError } }",
                json!({"a": third["id"]}),
            )
            .await;
        r["data"]["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["endpointId"] == admin_ep.as_str() && n["attempts"].as_i64() > Some(0))
            .cloned()
    })
    .await;
    assert!(
        failed["lastError"].as_str().unwrap().contains("loopback"),
        "{failed}"
    );
    assert_eq!(
        rx.got.lock().unwrap().len(),
        before,
        "nothing reached the receiver"
    );
    let _ = second;
}

#[tokio::test]
async fn endpoints_on_loopback_private_and_metadata_addresses_are_refused() {
    let s = Server::start(TestDb::sqlite());
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://[::1]/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://0.0.0.0/",
        "file:///etc/passwd",
        "gopher://example.com/",
        "http://user:pass@example.com/",
    ] {
        let r = s
            .gql(Some(&s.admin), CREATE, json!({"i": {"url": url}}))
            .await;
        assert_eq!(code(&r), "BAD_USER_INPUT", "{url}: {r}");
        let message = r["errors"][0]["message"].as_str().unwrap();
        assert!(
            !message.contains("/etc/passwd") || url.starts_with("file"),
            "{message}"
        );
    }
    // Bounded input: a URL past 2 048 characters, a description past 200.
    let long_url = format!("https://example.org/{}", "a".repeat(3000));
    let r = s
        .gql(Some(&s.admin), CREATE, json!({"i": {"url": long_url}}))
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    let r = s
        .gql(
            Some(&s.admin),
            CREATE,
            json!({"i": {"url": "https://example.org/hook", "description": "d".repeat(201)}}),
        )
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    let listed = s.query(Some(&s.admin), "{ webhookEndpoints { id } }").await;
    assert_eq!(listed["data"]["webhookEndpoints"], json!([]));
}

#[tokio::test]
#[ignore = "PostgreSQL: set SOFTLAND_TEST_POSTGRES_URL and pass --include-ignored (CI does)"]
async fn webhooks_arrive_once_per_endpoint_across_a_crash_and_three_servers() {
    let db = TestDb::postgres().await;
    let (base, rx) = receiver().await;
    // Slow answers: deliveries are in flight when the server is killed.
    rx.delay
        .lock()
        .unwrap()
        .insert("all".into(), Duration::from_millis(150));
    let mut a = Server::start_with_env(
        db,
        "127.0.0.1:0",
        &[ALLOW_LOOPBACK, ("SOFTLAND_WEBHOOK_TIMEOUT_SECONDS", "2")],
    );
    let b = a.another();
    let c = a.another();
    let (_, secret) = endpoint(&a, &a.admin, &format!("{base}/all"), json!(null)).await;
    let firm = a.applicant_key("acme", "acme-staff");
    let mut apps = Vec::new();
    for (i, url) in [&a.url, &b.url, &c.url].iter().cycle().take(6).enumerate() {
        const SUBMIT: &str = "mutation($k: String!, $d: JSON!) { submitApplication(input: {workflowKey: $k, data: $d}) { id status outcome revision activeStates openTasks { id state assignee } } }";
        let r = gql_at(
            url,
            Some(&firm),
            SUBMIT,
            json!({"k": "soft-landing-sz-to-hk", "d": crate::support::example("soft-landing-sz-to-hk")}),
        )
        .await;
        assert!(r["errors"].is_null(), "{i}: {r}");
        apps.push(r["data"]["submitApplication"].clone());
    }
    // The first steps of each, then kill -9 the first server while deliveries are under way.
    let mut ids = Vec::new();
    for app in apps {
        let id = app["id"].as_str().unwrap().to_owned();
        a.play("soft-landing-sz-to-hk", app, &firm, 0..3).await;
        ids.push(id);
    }
    wait_for("deliveries under way", Duration::from_secs(30), || {
        rx.at("all").len() >= 5
    })
    .await;
    a.crash_and_restart();
    let mut expected = BTreeMap::new();
    for id in &ids {
        for seq in announced(&a, id).await.into_keys() {
            expected.insert((id.clone(), seq), ());
        }
    }
    wait_for(
        "every event of every application",
        Duration::from_secs(120),
        || {
            let got: BTreeSet<(String, i64)> =
                rx.at("all").iter().map(|d| (d.app(), d.seq())).collect();
            expected.keys().all(|k| got.contains(k))
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    let got = rx.at("all");
    let mut ids_of: BTreeMap<(String, i64), BTreeSet<String>> = BTreeMap::new();
    let mut first_seen: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for d in &got {
        assert!(verify(&secret, &d.id, &d.timestamp, &d.signature, &d.body));
        let key = (d.app(), d.seq());
        if ids_of.entry(key.clone()).or_default().insert(d.id.clone()) {
            first_seen.entry(key.0).or_default().push(key.1);
        }
    }
    for (key, ids) in &ids_of {
        assert_eq!(
            ids.len(),
            1,
            "one webhook-id per event, however often sent: {key:?} {ids:?}"
        );
    }
    assert_eq!(
        ids_of.keys().cloned().collect::<BTreeSet<_>>(),
        expected.keys().cloned().collect::<BTreeSet<_>>(),
        "every event, and nothing else"
    );
    for (app, seqs) in &first_seen {
        let mut sorted = seqs.clone();
        sorted.sort_unstable();
        assert_eq!(seqs, &sorted, "in order per application: {app}");
    }
    let resent = got.len() - ids_of.len();
    eprintln!(
        "{} events, {} requests ({resent} sent again after the crash, with their ids)",
        ids_of.len(),
        got.len()
    );
    drop((b, c));
}

/// A real SMTP server: `tests/e2e/fixtures/smtp_sink.py` (aiosmtpd) on a free loopback port.
struct SmtpSink {
    child: std::process::Child,
    port: u16,
    file: std::path::PathBuf,
}

impl SmtpSink {
    fn start() -> Self {
        use std::io::{BufRead, BufReader};
        let file = temp_dir("smtp").join("mail.jsonl");
        let mut child = std::process::Command::new("python3")
            .arg(root().join("tests/e2e/fixtures/smtp_sink.py"))
            .arg("0")
            .arg(&file)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs the SMTP sink (pip install aiosmtpd)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("ready ")
            .unwrap_or_else(|| {
                panic!("the SMTP sink did not start: {line:?} (pip install aiosmtpd)")
            })
            .parse()
            .unwrap();
        Self { child, port, file }
    }

    fn messages(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.file)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn to(&self, address: &str) -> Vec<Value> {
        self.messages()
            .into_iter()
            .filter(|m| m["to"].as_array().unwrap().contains(&json!(address)))
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const QUICK: &str = r#"
key: quick-review
title: {en: Quick review, zh-Hant: 快速審核, zh-Hans: 快速审核}
agencies: [investhk]
form: {type: object}
start: review
states:
  review:
    type: task
    title: {en: InvestHK review, zh-Hant: 投資推廣署審核, zh-Hans: 投资推广署审核}
    assignee: investhk
    due: {within: PT5S, remind: PT3S}
    actions:
      ask: {to: answer, title: {en: Ask, zh-Hant: 提問, zh-Hans: 提问}}
      approve: {to: approved, title: {en: Approve, zh-Hant: 批准, zh-Hans: 批准}}
  answer:
    type: task
    title: {en: Firm's answer, zh-Hant: 公司回覆, zh-Hans: 公司回复}
    assignee: applicant
    due: {within: PT30S, remind: PT25S}
    actions:
      reply: {to: final_review, title: {en: Reply, zh-Hant: 回覆, zh-Hans: 回复}}
  final_review:
    type: task
    title: {en: Final review, zh-Hant: 最後審核, zh-Hans: 最后审核}
    assignee: investhk
    actions:
      approve: {to: approved, title: {en: Approve, zh-Hant: 批准, zh-Hans: 批准}}
  approved: {type: final, outcome: approved, title: {en: Approved, zh-Hant: 已批准, zh-Hans: 已批准}}
"#;

#[tokio::test]
#[ignore = "needs Python's aiosmtpd: the full suite (scripts/with-services) installs it"]
async fn e_mail_reaches_people_in_their_language_with_working_links() {
    let smtp = SmtpSink::start();
    let smtp_url = format!("smtp://127.0.0.1:{}", smtp.port);
    let s = Server::start_with_env(
        TestDb::sqlite(),
        "127.0.0.1:0",
        &[
            ("SOFTLAND_SMTP_URL", smtp_url.as_str()),
            ("SOFTLAND_MAIL_FROM", "softland <softland@test.example>"),
        ],
    );
    let published = s
        .gql(
            Some(&s.admin),
            "mutation($y: String!) { publishWorkflow(yaml: $y) { key version } }",
            json!({"y": QUICK}),
        )
        .await;
    assert!(published["errors"].is_null(), "{published}");
    // InvestHK's inbox reads Traditional Chinese; its lead English; the firm's staff member
    // Simplified Chinese.
    let agency = s
        .query(
            Some(&s.admin),
            "{ agencies { key name nameZhHant nameZhHans region calendar } }",
        )
        .await;
    let mut ihk = agency["data"]["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == "investhk")
        .unwrap()
        .clone();
    ihk["inboxEmail"] = json!("inbox@investhk.example");
    ihk["language"] = json!("zh-Hant");
    let put = s
        .gql(
            Some(&s.admin),
            "mutation($a: AgencyInput!) { putAgency(input: $a) { key language } }",
            json!({"a": ihk}),
        )
        .await;
    assert!(put["errors"].is_null(), "{put}");
    let reviewer = person(
        &s,
        json!({"id": "amy", "agency": "investhk", "roles": ["REVIEWER"], "email": "amy@investhk.example"}),
    )
    .await;
    person(
        &s,
        json!({"id": "ihk-lead", "agency": "investhk", "roles": ["LEAD"], "email": "lead@investhk.example", "language": "en"}),
    )
    .await;
    let firm = person(
        &s,
        json!({"id": "li.wei", "organization": "acme", "roles": ["STAFF"], "email": "li.wei@acme.example", "language": "zh-Hans"}),
    )
    .await;

    let submitted = s
        .gql(
            Some(&firm),
            "mutation { submitApplication(input: {workflowKey: \"quick-review\", data: {}}) { id openTasks { id } } }",
            json!({}),
        )
        .await;
    let app = submitted["data"]["submitApplication"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let review = submitted["data"]["submitApplication"]["openTasks"][0]["id"].clone();

    // The task opened: the agency's inbox, in its language. Then, unanswered, the reminder
    // (3 s before the due time) and, past the due time, the lead's overdue notice.
    let inbox = "inbox@investhk.example";
    wait_for(
        "task-opened, reminder and overdue mail",
        Duration::from_secs(30),
        || smtp.to(inbox).len() >= 2 && !smtp.to("lead@investhk.example").is_empty(),
    )
    .await;
    let opened = &smtp.to(inbox)[0];
    assert_eq!(opened["subject"], "新工作：投資推廣署審核", "{opened}");
    assert_eq!(opened["from"], "softland@test.example");
    let link = format!("{}/applications/{app}", s.url);
    assert!(opened["text"].as_str().unwrap().contains(&link), "{opened}");
    assert!(
        opened["html"]
            .as_str()
            .unwrap()
            .contains(&format!("href=\"{link}\""))
    );
    assert!(
        opened["text"].as_str().unwrap().contains("香港時間"),
        "{opened}"
    );
    let reminder = &smtp.to(inbox)[1];
    assert!(
        reminder["subject"]
            .as_str()
            .unwrap()
            .starts_with("提示：即將到期"),
        "{reminder}"
    );
    let overdue = &smtp.to("lead@investhk.example")[0];
    assert_eq!(overdue["subject"], "Overdue: InvestHK review", "{overdue}");
    assert!(
        smtp.to("amy@investhk.example").is_empty(),
        "an inbox address takes the place of each reviewer's"
    );

    // The agency asks; the firm is told in Simplified Chinese, and its link opens the
    // application once signed in.
    let act = |token: String, task: Value, action: &'static str| {
        let s = &s;
        async move {
            let r = s
                .gql(
                    Some(&token),
                    "mutation($t: ID!, $a: String!) { act(input: {taskId: $t, action: $a, comment: \"Please send your licence.\"}) { openTasks { id } } }",
                    json!({"t": task, "a": action}),
                )
                .await;
            assert!(r["errors"].is_null(), "{action}: {r}");
            r["data"]["act"]["openTasks"][0]["id"].clone()
        }
    };
    let answer = act(reviewer.clone(), review, "ask").await;
    wait_for(
        "information-requested mail",
        Duration::from_secs(20),
        || !smtp.to("li.wei@acme.example").is_empty(),
    )
    .await;
    let asked = &smtp.to("li.wei@acme.example")[0];
    assert!(
        asked["subject"]
            .as_str()
            .unwrap()
            .starts_with("要求补充材料："),
        "{asked}"
    );
    assert!(
        asked["text"].as_str().unwrap().contains("公司回复"),
        "{asked}"
    );
    assert!(asked["text"].as_str().unwrap().contains(&link));
    let page = signed_in_page(&s.url, &firm, &link).await;
    assert!(
        page.contains(&app[..8]) || page.contains("快速审核") || page.contains("Quick review"),
        "{page}"
    );

    // The firm answers at once: its reminder is never sent. The decision is.
    let last = act(firm.clone(), answer, "reply").await;
    act(reviewer.clone(), last, "approve").await;
    wait_for("the decision", Duration::from_secs(20), || {
        smtp.to("li.wei@acme.example").len() >= 2
    })
    .await;
    let decided = smtp.to("li.wei@acme.example")[1].clone();
    assert!(
        decided["subject"]
            .as_str()
            .unwrap()
            .starts_with("申请已有结果："),
        "{decided}"
    );
    assert!(
        decided["text"].as_str().unwrap().contains("已批准"),
        "{decided}"
    );
    let log = s
        .query(
            Some(&s.admin),
            "{ notifications(channel: EMAIL, first: 100) { eventType recipient status language attemptLog { statusCode } } }",
        )
        .await;
    let list = log["data"]["notifications"].as_array().unwrap();
    let reminder_to_firm = list
        .iter()
        .find(|n| n["eventType"] == "task.reminder" && n["recipient"] == "li.wei@acme.example")
        .unwrap_or_else(|| panic!("{log}"));
    assert_eq!(reminder_to_firm["status"], "PENDING", "due later: {log}");
    for n in list.iter().filter(|n| n["status"] == "DELIVERED") {
        assert_eq!(n["attemptLog"][0]["statusCode"], 250, "{n}");
    }
    // Its time comes; the task is closed, so it is cancelled, not sent.
    let firm_mail = smtp.to("li.wei@acme.example").len();
    let cancelled = eventually("the reminder's time", Duration::from_secs(60), || async {
        let log = s
            .query(
                Some(&s.admin),
                "{ notifications(channel: EMAIL, first: 100) { eventType recipient status } }",
            )
            .await;
        log["data"]["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["eventType"] == "task.reminder" && n["recipient"] == "li.wei@acme.example")
            .filter(|r| r["status"] != "PENDING")
            .cloned()
    })
    .await;
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(smtp.to("li.wei@acme.example").len(), firm_mail);
}

/// Signs in to the console with an API key (as a browser does) and GETs `link`; its HTML.
async fn signed_in_page(base: &str, key: &str, link: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let first = http.get(link).send().await.unwrap();
    assert_eq!(first.status(), 303, "signed out, the link asks to sign in");
    let to_sign_in = first.headers()["location"].to_str().unwrap().to_owned();
    assert!(to_sign_in.starts_with("/signin?return_to="), "{to_sign_in}");
    let form = http
        .get(format!("{base}{to_sign_in}"))
        .send()
        .await
        .unwrap();
    let login = form.headers()["set-cookie"].to_str().unwrap().to_owned();
    let token = login
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("softland_login=")
        .to_owned();
    let path = link.trim_start_matches(base).to_owned();
    let signed = http
        .post(format!("{base}/signin"))
        .header("cookie", format!("softland_login={token}"))
        .form(&[
            ("csrf", token.as_str()),
            ("api_key", key),
            ("return_to", path.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 303);
    assert_eq!(signed.headers()["location"], path.as_str());
    let session = signed.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = http
        .get(link)
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    page.text().await.unwrap()
}
