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
pub(crate) struct Provider {
    child: Child,
    pub(crate) issuer: String,
    control: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    pub(crate) fn start() -> Self {
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

    pub(crate) async fn call(&self, path: &str, body: Value) -> Value {
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
    pub(crate) async fn login(&self, user: &str) -> String {
        let r = self.call("/login", json!({"user": user})).await;
        r["id_token"].as_str().expect("id_token").to_owned()
    }

    /// A token the test makes (see provider.mjs's `/sign`).
    pub(crate) async fn sign(&self, body: Value) -> String {
        let r = self.call("/sign", body).await;
        r["token"].as_str().expect("token").to_owned()
    }
}

#[tokio::test]
#[ignore = "needs Node.js and npm for the OpenID provider: the full suite (scripts/with-services) installs them"]
async fn people_sign_in_with_their_identity_provider_on_sqlite() {
    sign_in(TestDb::sqlite()).await;
}

#[tokio::test]
#[ignore = "PostgreSQL: set SOFTLAND_TEST_POSTGRES_URL and pass --include-ignored (CI does)"]
async fn people_sign_in_with_their_identity_provider_on_postgres() {
    sign_in(TestDb::postgres().await).await;
}

#[tokio::test]
#[ignore = "needs Node.js and npm for the OpenID provider: the full suite (scripts/with-services) installs them"]
async fn the_authorization_matrix_holds_for_oidc_people_on_sqlite() {
    matrix_with_oidc(TestDb::sqlite()).await;
}

#[tokio::test]
#[ignore = "PostgreSQL: set SOFTLAND_TEST_POSTGRES_URL and pass --include-ignored (CI does)"]
async fn the_authorization_matrix_holds_for_oidc_people_on_postgres() {
    matrix_with_oidc(TestDb::postgres().await).await;
}

/// The gateway's authorization matrix (`graphql.rs`), every caller signed in through the
/// identity provider instead of holding an API key.
async fn matrix_with_oidc(db: TestDb) {
    let op = Provider::start();
    let s = server_for(db, &op);
    let admin = json!({"p": {"id": "root", "email": "root@example.org", "roles": ["ADMIN"]}});
    assert!(s.gql(Some(&s.admin), PUT_PERSON, admin).await["errors"].is_null());
    let mut tokens = Vec::new();
    for (id, agency, org) in crate::graphql::PEOPLE {
        let role = if agency.is_some() {
            "REVIEWER"
        } else {
            "STAFF"
        };
        let p = json!({"p": {"id": id, "email": format!("{id}@example.org"), "agency": agency, "organization": org, "roles": [role]}});
        let r = s.gql(Some(&s.admin), PUT_PERSON, p).await;
        assert!(r["errors"].is_null(), "{r}");
        tokens.push(op.login(id).await);
    }
    let mut t = tokens.into_iter();
    let mut next = || t.next().expect("a token per person");
    let k = crate::graphql::Keys {
        firm: next(),
        other_firm: next(),
        ofds: next(),
        investhk: (next(), next()),
        hkstp: next(),
        hkma: next(),
    };
    let admin = op.login("root").await;
    assert_eq!(me(&s, &admin).await["data"]["me"]["role"], "ADMIN");
    crate::graphql::matrix(&s, &k, &admin).await;
}

#[tokio::test]
#[ignore = "needs Node.js and npm for the OpenID provider: the full suite (scripts/with-services) installs them"]
async fn browsers_sign_in_with_code_and_pkce_on_sqlite() {
    browser_sign_in(TestDb::sqlite()).await;
}

#[tokio::test]
#[ignore = "PostgreSQL: set SOFTLAND_TEST_POSTGRES_URL and pass --include-ignored (CI does)"]
async fn browsers_sign_in_with_code_and_pkce_on_postgres() {
    browser_sign_in(TestDb::postgres().await).await;
}

const ME: &str = "{ me { name role agency organization } }";
pub(crate) const PUT_PERSON: &str = "mutation($p: PersonInput!) { putPerson(input: $p) { id } }";

pub(crate) async fn me(s: &Server, token: &str) -> Value {
    s.query(Some(token), ME).await
}

/// The server on `db`, trusting `op`'s tokens for audience `softland`, people by e-mail.
pub(crate) fn server_for(db: TestDb, op: &Provider) -> Server {
    Server::start_with_env(
        db,
        "127.0.0.1:0",
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
    // The history names people as the directory does; the firm does not see reviewers.
    const HISTORY: &str = "query($a: ID!) { application(id: $a) { history { kind party actor actorPerson { displayName membership } } } }";
    let nomination = |r: &Value| {
        r["data"]["application"]["history"]
            .as_array()
            .expect("history")
            .iter()
            .find(|e| e["kind"] == "task_completed")
            .cloned()
            .expect("the nomination")
    };
    let r = s
        .gql(Some(&s.admin), HISTORY, json!({"a": app["id"]}))
        .await;
    assert_eq!(
        nomination(&r),
        json!({"kind": "task_completed", "party": "ofds", "actor": "ivy",
               "actorPerson": {"displayName": "ivy", "membership": "agency:ofds"}}),
        "{r}"
    );
    let r = s.gql(Some(&li), HISTORY, json!({"a": app["id"]})).await;
    assert_eq!(
        nomination(&r),
        json!({"kind": "task_completed", "party": "ofds", "actor": null, "actorPerson": null}),
        "{r}"
    );
    let submitted = &r["data"]["application"]["history"][0];
    assert_eq!(
        submitted["actorPerson"],
        json!({"displayName": "li", "membership": "organization:pengcheng-pay"}),
        "{r}"
    );
    // The reviewer's token cannot submit.
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

    // An agency may admit its provider's people: someone unknown joins it without roles, and
    // gets in once a lead (or an administrator) gives them one.
    let r = s
        .gql(
            Some(&s.admin),
            "mutation($a: AgencyInput!) { putAgency(input: $a) { key signInIssuer } }",
            json!({"a": {"key": "hkstp", "name": "Hong Kong Science and Technology Parks Corporation", "region": "hk", "signInIssuer": op.issuer}}),
        )
        .await;
    assert_eq!(
        r["data"]["putAgency"]["signInIssuer"],
        op.issuer.as_str(),
        "{r}"
    );
    let newcomer = op.login("newcomer").await;
    assert_eq!(
        code(&me(&s, &newcomer).await),
        "UNAUTHENTICATED",
        "no role yet"
    );
    let r = s
        .query(
            Some(&s.admin),
            "{ people(agency: \"hkstp\") { id roles active } }",
        )
        .await;
    assert_eq!(
        r["data"]["people"],
        json!([{"id": "newcomer@example.org", "roles": [], "active": true}]),
        "{r}"
    );
    let approve =
        json!({"p": {"id": "newcomer@example.org", "agency": "hkstp", "roles": ["REVIEWER"]}});
    assert!(s.gql(Some(&s.admin), PUT_PERSON, approve).await["errors"].is_null());
    let r = me(&s, &newcomer).await;
    assert_eq!(r["data"]["me"]["agency"], "hkstp", "{r}");

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

/// A browser of the test: no redirects followed, cookies kept by hand.
struct Browser {
    http: reqwest::Client,
    cookies: std::collections::BTreeMap<String, String>,
}

impl Browser {
    fn new() -> Self {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a client"),
            cookies: Default::default(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Keeps the response's cookies (an empty value removes one); returns the raw headers.
    fn take(&mut self, resp: &reqwest::Response) -> Vec<String> {
        let raw: Vec<String> = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        for c in &raw {
            let pair = c.split(';').next().unwrap_or("");
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if v.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        raw
    }

    async fn get(&mut self, url: &str) -> (u16, String, Vec<String>, String) {
        let resp = self
            .http
            .get(url)
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("an answer");
        let set = self.take(&resp);
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        (status, location, set, resp.text().await.unwrap_or_default())
    }

    async fn post(&mut self, url: &str, csrf: Option<&str>, body: Value) -> (u16, Value) {
        let mut req = self
            .http
            .post(url)
            .header("cookie", self.cookie_header())
            .json(&body);
        if let Some(t) = csrf {
            req = req.header("x-csrf-token", t);
        }
        let resp = req.send().await.expect("an answer");
        self.take(&resp);
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Signs in as `user` through softland's `/auth/login` and the provider; returns the
    /// callback's answer (status, location, cookies set).
    async fn sign_in(
        &mut self,
        s: &Server,
        op: &Provider,
        user: &str,
    ) -> (u16, String, Vec<String>) {
        let (status, to_provider, set, _) = self
            .get(&format!("{}/auth/login?return_to=/inbox", s.url))
            .await;
        assert_eq!(status, 303, "{to_provider}");
        assert!(to_provider.starts_with(&op.issuer), "{to_provider}");
        assert!(
            to_provider.contains("code_challenge_method=S256"),
            "{to_provider}"
        );
        let attempt = set
            .iter()
            .find(|c| c.starts_with("softland_sign_in="))
            .expect("cookie");
        assert_cookie_is_safe(attempt);
        let back = op
            .call(
                "/browse",
                json!({"url": to_provider, "user": user, "until": format!("{}/auth/callback", s.url)}),
            )
            .await;
        let callback = back["location"].as_str().expect("location").to_owned();
        let (status, location, set, _) = self.get(&callback).await;
        (status, location, set)
    }
}

/// `HttpOnly` and `SameSite=Lax`; not `Secure`, as the public URL of these tests is plain
/// HTTP (a browser would drop a `Secure` cookie from a non-local HTTP site).
fn assert_cookie_is_safe(set_cookie: &str) {
    for attribute in ["HttpOnly", "SameSite=Lax"] {
        assert!(
            set_cookie.contains(attribute),
            "{attribute} in {set_cookie}"
        );
    }
    assert!(!set_cookie.contains("Secure"), "{set_cookie}");
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

async fn browser_sign_in(db: TestDb) {
    let op = Provider::start();
    let listen = format!("127.0.0.1:{}", free_port());
    let public = format!("http://{listen}");
    op.call(
        "/client",
        json!({"redirect": format!("{public}/auth/callback")}),
    )
    .await;
    let s = Server::start_with_env(
        db,
        &listen,
        &[
            ("SOFTLAND_OIDC_ISSUER", op.issuer.as_str()),
            ("SOFTLAND_OIDC_AUDIENCE", "softland"),
            ("SOFTLAND_OIDC_CLIENT_SECRET", "softland-test-secret"),
            ("SOFTLAND_PUBLIC_URL", public.as_str()),
        ],
    );
    let p = json!({"p": {"id": "ivy", "email": "ivy@example.org", "agency": "ofds", "roles": ["REVIEWER"]}});
    assert!(s.gql(Some(&s.admin), PUT_PERSON, p).await["errors"].is_null());
    let graphql = format!("{}/graphql", s.url);

    // Code + PKCE through the real provider; a session cookie, the way back.
    let mut b = Browser::new();
    let (status, location, set) = b.sign_in(&s, &op, "ivy").await;
    assert_eq!((status, location.as_str()), (303, "/inbox"));
    let session = set
        .iter()
        .find(|c| c.starts_with("softland_session="))
        .expect("session");
    assert_cookie_is_safe(session);
    let (status, _, _, who) = b.get(&format!("{}/auth/session", s.url)).await;
    assert_eq!(status, 200, "{who}");
    let who: Value = serde_json::from_str(&who).expect("JSON");
    assert_eq!(who["person"]["id"], "ivy");
    let csrf = who["csrfToken"].as_str().expect("csrf").to_owned();
    // The console takes the same session: ivy's inbox, and its sign-in page offers the provider.
    let (status, _, _, inbox) = b.get(&format!("{}/inbox", s.url)).await;
    assert_eq!(status, 200, "{inbox}");
    assert!(inbox.contains("<strong>ivy</strong>"), "{inbox}");
    let (status, _, _, page) = Browser::new().get(&format!("{}/signin", s.url)).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("href=\"/auth/login?return_to=%2F\""),
        "the console offers the identity provider: {page}"
    );

    // The cookie alone is not enough: requests repeat the CSRF token.
    let me_query = json!({"query": ME});
    let (status, r) = b.post(&graphql, None, me_query.clone()).await;
    assert_eq!((status, code(&r)), (403, "FORBIDDEN"), "{r}");
    let (status, r) = b.post(&graphql, Some("wrong"), me_query.clone()).await;
    assert_eq!((status, code(&r)), (403, "FORBIDDEN"), "{r}");
    let (_, r) = b.post(&graphql, Some(&csrf), me_query.clone()).await;
    assert_eq!(r["data"]["me"]["name"], "ivy", "{r}");

    // An answer meant for another browser, or used twice, opens nothing.
    let mut other = Browser::new();
    let (status, to_provider, _, _) = other.get(&format!("{}/auth/login", s.url)).await;
    assert_eq!(status, 303);
    let back = op
        .call(
            "/browse",
            json!({"url": to_provider, "user": "ivy", "until": format!("{}/auth/callback", s.url)}),
        )
        .await;
    let callback = back["location"].as_str().unwrap().to_owned();
    let (status, _, set, _) = Browser::new().get(&callback).await;
    assert_eq!(status, 400, "without the attempt's cookie");
    assert!(set.iter().all(|c| !c.starts_with("softland_session=")));
    let (status, _, _, _) = other.get(&callback).await;
    assert_eq!(status, 303, "its own browser signs in");
    let (status, _, _, _) = other.get(&callback).await;
    assert_eq!(status, 400, "once");

    // Someone the directory does not know gets no session.
    let (status, _, set) = Browser::new().sign_in(&s, &op, "stranger").await;
    assert_eq!(status, 403);
    assert!(set.iter().all(|c| !c.starts_with("softland_session=")));

    // Sign-out needs the CSRF token and ends the session.
    let logout = format!("{}/auth/logout", s.url);
    let (status, _) = b.post(&logout, None, json!({})).await;
    assert_eq!(status, 403);
    let (status, _) = b.post(&logout, Some(&csrf), json!({})).await;
    assert_eq!(status, 204);
    assert!(
        !b.cookies.contains_key("softland_session"),
        "the cookie is removed"
    );
    let (status, _, _, _) = other.get(&format!("{}/auth/session", s.url)).await;
    assert_eq!(status, 200, "another session lives on");

    // Deactivation ends every session of the person.
    let r = s
        .query(
            Some(&s.admin),
            "mutation { deactivatePerson(id: \"ivy\") { active } }",
        )
        .await;
    assert_eq!(r["data"]["deactivatePerson"]["active"], false, "{r}");
    let (status, _, _, _) = other.get(&format!("{}/auth/session", s.url)).await;
    assert_eq!(status, 401);
}
