//! Sign-in with OpenID Connect (issue 14) against a real OpenID Provider: the certified
//! `oidc-provider` package on loopback (`tests/oidc/provider.mjs`, installed with `npm ci` on
//! first use). Tokens come from the provider's real authorization-code flow with PKCE; the
//! attacks are tokens the test makes itself.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};
use softland_store::test_util::TestDb;

use crate::support::{Server, code, root};

/// The provider and its control server, killed on drop.
struct Provider {
    child: Child,
    issuer: String,
    control: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    fn start() -> Self {
        let dir = root().join("tests/oidc");
        if !dir.join("node_modules/oidc-provider").is_dir() {
            let npm = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&dir)
                .status()
                .expect("npm runs (Node.js 20 and npm are needed for the sign-in tests)");
            assert!(npm.success(), "npm ci in tests/oidc");
        }
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node starts the provider");
        let mut line = String::new();
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        out.read_line(&mut line)
            .expect("the provider says where it listens");
        // Keep the pipe open and drained for the provider's lifetime.
        std::thread::spawn(move || for _ in out.lines() {});
        let ready: Value = serde_json::from_str(&line).expect("a JSON line");
        Provider {
            child,
            issuer: ready["issuer"].as_str().expect("issuer").to_owned(),
            control: ready["control"].as_str().expect("control").to_owned(),
        }
    }

    async fn call(&self, path: &str, body: Value) -> Value {
        let resp = reqwest::Client::new()
            .post(format!("{}{path}", self.control))
            .json(&body)
            .send()
            .await
            .expect("the control server answers");
        assert!(
            resp.status().is_success(),
            "{path}: {}",
            resp.text().await.unwrap_or_default()
        );
        resp.json().await.expect("JSON")
    }

    /// `user`'s ID token from the real code + PKCE flow.
    async fn login(&self, user: &str) -> String {
        let r = self.call("/login", json!({"user": user})).await;
        r["id_token"].as_str().expect("id_token").to_owned()
    }

    /// A token the test makes (see provider.mjs's `/sign`).
    async fn sign(&self, body: Value) -> String {
        let r = self.call("/sign", body).await;
        r["token"].as_str().expect("token").to_owned()
    }
}

#[tokio::test]
async fn people_sign_in_with_their_identity_provider_on_sqlite() {
    sign_in(TestDb::sqlite()).await;
}

#[tokio::test]
#[ignore = "PostgreSQL: set SOFTLAND_TEST_POSTGRES_URL and pass --include-ignored (CI does)"]
async fn people_sign_in_with_their_identity_provider_on_postgres() {
    sign_in(TestDb::postgres().await).await;
}

const ME: &str = "{ me { name role agency organization } }";
const PUT_PERSON: &str = "mutation($p: PersonInput!) { putPerson(input: $p) { id } }";

async fn me(s: &Server, token: &str) -> Value {
    s.query(Some(token), ME).await
}

/// The server on `db`, trusting `op`'s tokens for audience `softland`, people by e-mail.
fn server_for(db: TestDb, op: &Provider) -> Server {
    Server::start_with_env(
        db,
        &[
            ("SOFTLAND_OIDC_ISSUER", op.issuer.as_str()),
            ("SOFTLAND_OIDC_AUDIENCE", "softland"),
            ("SOFTLAND_OIDC_REFETCH_SECONDS", "1"),
        ],
    )
}

async fn sign_in(db: TestDb) {
    let op = Provider::start();
    let s = server_for(db, &op);
    for (id, agency, org, roles) in [
        ("ivy", Some("ofds"), None, ["REVIEWER"]),
        ("li", None, Some("pengcheng-pay"), ["STAFF"]),
        ("unverified", Some("ofds"), None, ["REVIEWER"]),
        ("gone", Some("ofds"), None, ["REVIEWER"]),
    ] {
        let p = json!({"p": {"id": id, "email": format!("{id}@example.org"), "agency": agency, "organization": org, "roles": roles}});
        let r = s.gql(Some(&s.admin), PUT_PERSON, p).await;
        assert!(r["errors"].is_null(), "{r}");
    }

    // A bearer token from the real flow names a directory person by e-mail; they act as such.
    let ivy = op.login("ivy").await;
    let li = op.login("li").await;
    let r = me(&s, &ivy).await;
    assert_eq!(
        r["data"]["me"],
        json!({"name": "ivy", "role": "REVIEWER", "agency": "ofds", "organization": null}),
        "{r}"
    );
    let app = s.submit_sample(&li).await;
    assert_eq!(app["status"], "ACTIVE", "{app}");
    let task = app["openTasks"][0]["id"].clone();
    let r = s
        .gql(
            Some(&ivy),
            "mutation($t: ID!) { act(input: {taskId: $t, action: \"nominate\"}) { revision } }",
            json!({"t": task}),
        )
        .await;
    assert!(r["errors"].is_null(), "an OIDC reviewer acts: {r}");
    // The firm's OIDC person sees its application; the reviewer's token cannot submit.
    let r = s
        .gql(
            Some(&li),
            "query($a: ID!) { application(id: $a) { history { actor } } }",
            json!({"a": app["id"]}),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let r = s
        .gql(
            Some(&ivy),
            "mutation($d: JSON!) { submitApplication(input: {workflowKey: \"soft-landing-sz-to-hk\", data: $d}) { id } }",
            json!({"d": crate::support::example("soft-landing-sz-to-hk")}),
        )
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");

    // Refused alike, with nothing that helps an attacker.
    let now = chrono::Utc::now().timestamp();
    let refused = [
        ("a person the directory does not know", op.login("stranger").await),
        ("an unverified e-mail address", op.login("unverified").await),
        (
            "an expired token",
            op.sign(json!({"claims": {"email": "ivy@example.org", "iat": now - 7200, "exp": now - 3600}}))
                .await,
        ),
        (
            "another audience",
            op.sign(json!({"claims": {"email": "ivy@example.org", "aud": "someone-else"}}))
                .await,
        ),
        (
            "another issuer",
            op.sign(json!({"claims": {"email": "ivy@example.org", "iss": "http://127.0.0.1:1"}}))
                .await,
        ),
        (
            "alg none",
            op.sign(json!({"claims": {"email": "ivy@example.org"}, "key": "none"}))
                .await,
        ),
        (
            "HS256 keyed with the public key",
            op.sign(json!({"claims": {"email": "ivy@example.org"}, "key": "hs256-public"}))
                .await,
        ),
        (
            "a key nobody published",
            op.sign(json!({"claims": {"email": "ivy@example.org"}, "kid": "made-up"}))
                .await,
        ),
        ("not a token at all", "a.b.c".to_owned()),
    ];
    let mut messages = std::collections::BTreeSet::new();
    for (why, token) in &refused {
        let r = me(&s, token).await;
        assert_eq!(code(&r), "UNAUTHENTICATED", "{why}: {r}");
        messages.insert(r["errors"][0]["message"].as_str().unwrap_or("").to_owned());
    }
    assert_eq!(
        messages.len(),
        1,
        "one message for every refusal: {messages:?}"
    );

    // Key rotation: the provider signs with a new key; new tokens verify after softland fetches
    // the keys again, and tokens of the old key still verify while it is published.
    op.call("/rotate", json!({})).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let rotated = op.login("ivy").await;
    assert_ne!(
        rotated.split('.').next(),
        ivy.split('.').next(),
        "a new key id in the header"
    );
    let r = me(&s, &rotated).await;
    assert_eq!(r["data"]["me"]["name"], "ivy", "{r}");
    let r = me(&s, &ivy).await;
    assert_eq!(
        r["data"]["me"]["name"], "ivy",
        "the old key still verifies: {r}"
    );

    // A deactivated person's tokens stop working at once.
    let gone = op.login("gone").await;
    assert_eq!(me(&s, &gone).await["data"]["me"]["name"], "gone");
    let r = s
        .query(
            Some(&s.admin),
            "mutation { deactivatePerson(id: \"gone\") { active } }",
        )
        .await;
    assert_eq!(r["data"]["deactivatePerson"]["active"], false, "{r}");
    assert_eq!(code(&me(&s, &gone).await), "UNAUTHENTICATED");
}
