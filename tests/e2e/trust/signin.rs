//! Who a sign-in, a session or a key speaks for, and what a browser keeps for whom.

use std::time::Duration;

use serde_json::{Value, json};
use softland_store::test_util::TestDb;

use crate::oidc::{PUT_PERSON, Provider, me, server_for};
use crate::support::{Server, code, on_both_backends};

const PUT_AGENCY: &str = "mutation($a: AgencyInput!) { putAgency(input: $a) { key signInIssuer } }";

/// An agency signing in with `issuer`.
async fn bind_agency(s: &Server, key: &str, name: &str, issuer: &str) {
    let a = json!({"a": {"key": key, "name": name, "region": "hk", "signInIssuer": issuer}});
    let r = s.gql(Some(&s.admin), PUT_AGENCY, a).await;
    assert!(r["errors"].is_null(), "{r}");
}

/// A reviewer of `agency` with the address `<id>@example.org`.
async fn reviewer(s: &Server, id: &str, agency: &str) {
    let p = json!({"p": {"id": id, "email": format!("{id}@example.org"), "agency": agency, "roles": ["REVIEWER"]}});
    let r = s.gql(Some(&s.admin), PUT_PERSON, p).await;
    assert!(r["errors"].is_null(), "{r}");
}

/// First sign-in only ever adds a new person without roles: a token whose address equals an
/// administrator's *id* gets a new, roleless person of the admitting agency, not the
/// administrator. An address counts only when `email_verified` is true; a token must say when
/// it was issued (not in the future) and may live a day at most.
async fn admission_never_hands_out_an_existing_person(db: TestDb) {
    let op = Provider::start();
    let s = server_for(db, &op);
    let ops = s.key(&["--role", "admin", "--name", "ops@example.org"]);
    bind_agency(
        &s,
        "hkstp",
        "Hong Kong Science and Technology Parks Corporation",
        &op.issuer,
    )
    .await;

    let claims = json!({"claims": {"email": "ops@example.org", "email_verified": true}});
    let token = op.sign(claims).await;
    assert_eq!(
        code(&me(&s, &token).await),
        "UNAUTHENTICATED",
        "no role yet"
    );
    let r = s
        .query(
            Some(&s.admin),
            "{ people(agency: \"hkstp\") { id roles email } }",
        )
        .await;
    assert_eq!(
        r["data"]["people"],
        json!([{"id": "ops@example.org-2", "roles": [], "email": "ops@example.org"}]),
        "{r}"
    );
    let r = me(&s, &ops).await;
    assert_eq!(
        r["data"]["me"]["role"], "ADMIN",
        "the administrator is unchanged: {r}"
    );

    // Not verified (absent or false): refused, and nobody is added.
    for verified in [json!(null), json!(false)] {
        let t = op
            .sign(json!({"claims": {"email": "eve@example.org", "email_verified": verified}}))
            .await;
        assert_eq!(code(&me(&s, &t).await), "UNAUTHENTICATED");
    }
    let r = s
        .query(Some(&s.admin), "{ people(agency: \"hkstp\") { id } }")
        .await;
    assert_eq!(r["data"]["people"].as_array().map(Vec::len), Some(1), "{r}");

    // Lifetimes: a day at most, issued in the past.
    reviewer(&s, "ivy", "ofds").await;
    let now = chrono::Utc::now().timestamp();
    let ivy = |more: Value| {
        let mut c = json!({"email": "ivy@example.org", "email_verified": true});
        c.as_object_mut()
            .unwrap()
            .extend(more.as_object().unwrap().clone());
        json!({"claims": c})
    };
    let good = op.sign(ivy(json!({}))).await;
    assert_eq!(me(&s, &good).await["data"]["me"]["agency"], "ofds");
    for (why, more) in [
        (
            "a century-long token",
            json!({"exp": now + 100 * 365 * 86_400}),
        ),
        (
            "issued in the future",
            json!({"iat": now + 3_600, "exp": now + 7_200}),
        ),
        ("no iat", json!({"iat": null})),
    ] {
        let t = op.sign(ivy(more)).await;
        assert_eq!(code(&me(&s, &t).await), "UNAUTHENTICATED", "{why}");
    }
}

crate::support::on_both_databases!(
    "needs Node.js and npm for the OpenID provider: the full suite (scripts/with-services) installs them";
    admission_never_hands_out_an_existing_person
);

/// With two issuers, each speaks only for the people of the agency that signs in with it: an
/// account at issuer B whose address is an InvestHK reviewer's (InvestHK signs in with A) is
/// refused; A's token for the same address is the reviewer. Someone whose agency names no
/// issuer is spoken for by neither of several.
#[tokio::test]
#[ignore = "needs Node.js and npm for the OpenID provider: the full suite (scripts/with-services) installs them"]
async fn issuers_speak_only_for_their_own_people() {
    let (a, b) = (Provider::start(), Provider::start());
    let issuers = format!("{},{}", a.issuer, b.issuer);
    let s = Server::start_with_env(
        TestDb::sqlite(),
        "127.0.0.1:0",
        &[
            ("SOFTLAND_OIDC_ISSUER", issuers.as_str()),
            ("SOFTLAND_OIDC_AUDIENCE", "softland"),
        ],
    );
    bind_agency(&s, "investhk", "Invest Hong Kong", &a.issuer).await;
    bind_agency(&s, "hkma", "Hong Kong Monetary Authority", &b.issuer).await;
    reviewer(&s, "rita", "investhk").await;
    reviewer(&s, "hana", "hkma").await;
    reviewer(&s, "chen", "ofds").await;
    async fn token(op: &Provider, who: &str) -> String {
        let claims =
            json!({"claims": {"email": format!("{who}@example.org"), "email_verified": true}});
        op.sign(claims).await
    }
    let r = me(&s, &token(&a, "rita").await).await;
    assert_eq!(r["data"]["me"]["agency"], "investhk", "{r}");
    let r = me(&s, &token(&b, "hana").await).await;
    assert_eq!(r["data"]["me"]["agency"], "hkma", "{r}");
    for (op, who) in [(&b, "rita"), (&a, "hana"), (&a, "chen"), (&b, "chen")] {
        let r = me(&s, &token(op, who).await).await;
        assert_eq!(code(&r), "UNAUTHENTICATED", "{who} from {}: {r}", op.issuer);
    }
}

/// A key made with the CLI: (its id, its token).
fn cli_key(s: &Server, args: &[&str]) -> (String, String) {
    let mut all = vec!["keys", "create", "--db", &s.db.url];
    all.extend_from_slice(args);
    let run = crate::support::softland(&all);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let id = run
        .stdout
        .split_whitespace()
        .nth(2)
        .expect("key id")
        .to_owned();
    let token = run.stdout.lines().last().unwrap().trim().to_owned();
    (id, token)
}

pub(super) fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The console's sign-in form at `url`: its cookie (`softland_login=…`) and the token the form
/// repeats.
pub(super) async fn login_form(url: &str) -> (String, String) {
    let form = no_redirects()
        .get(format!("{url}/signin"))
        .send()
        .await
        .unwrap();
    let login = form.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let token = login.trim_start_matches("softland_login=").to_owned();
    (login, token)
}

/// Signs in to the console at `url` with `key`: the session cookie (`softland_session=…`).
pub(crate) async fn console_session(url: &str, key: &str) -> String {
    let http = no_redirects();
    let (login, token) = login_form(url).await;
    let ok = http
        .post(format!("{url}/signin"))
        .header("cookie", &login)
        .form(&[("csrf", token.as_str()), ("api_key", key)])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 303, "signed in");
    ok.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|c| c.starts_with("softland_session="))
        .expect("a session cookie")
}

/// A GraphQL request the way the console's pages make it: the session cookie and its CSRF
/// token.
async fn by_cookie(url: &str, cookie: &str, query: &str, variables: Value) -> Value {
    let http = no_redirects();
    let who = http
        .get(format!("{url}/auth/session"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    if who.status() != 200 {
        return json!({"errors": [{"extensions": {"code": "UNAUTHENTICATED"}}]});
    }
    let csrf = who.json::<Value>().await.unwrap()["csrfToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let req = http
        .post(format!("{url}/graphql"))
        .header("cookie", cookie)
        .header("x-csrf-token", csrf);
    crate::support::gql_send(req, query, variables).await
}

const CREATE_KEY: &str = "mutation($p: ID!, $e: DateTime) { createApiKey(input: {personId: $p, label: \"more\", expiresAt: $e}) { token key { expiresAt } } }";

/// Revoking the key a console session was opened with ends the session — its pages and its
/// API calls, on every server, at once — and the keys its person made for themself under it;
/// a key made through the session expires no later than the session's key.
async fn revoking_a_key_ends_its_sessions(s: Server) {
    let peer = s.another();
    let _ = cli_key(&s, &["--role", "admin", "--name", "ops"]);
    let (k_id, k) = cli_key(
        &s,
        &[
            "--person",
            "ops",
            "--name",
            "laptop",
            "--expires",
            "2027-06-30",
        ],
    );
    let cookie = console_session(&s.url, &k).await;
    let r = by_cookie(&s.url, &cookie, "{ me { name role } }", json!({})).await;
    assert_eq!(r["data"]["me"]["role"], "ADMIN", "{r}");

    // Keys made through the session: capped at the session key's expiry, whatever is asked.
    let mine = by_cookie(
        &s.url,
        &cookie,
        CREATE_KEY,
        json!({"p": "ops", "e": "2099-01-01T00:00:00Z"}),
    )
    .await;
    let expires = mine["data"]["createApiKey"]["key"]["expiresAt"]
        .as_str()
        .unwrap_or_default();
    assert!(expires.starts_with("2027-06-30"), "{mine}");
    let mine = mine["data"]["createApiKey"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    reviewer(&s, "wang", "hkstp").await;
    let theirs = by_cookie(&s.url, &cookie, CREATE_KEY, json!({"p": "wang"})).await;
    let expires = theirs["data"]["createApiKey"]["key"]["expiresAt"]
        .as_str()
        .unwrap_or_default();
    assert!(expires.starts_with("2027-06-30"), "{theirs}");
    let theirs = theirs["data"]["createApiKey"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    for url in [&s.url, &peer.url] {
        let r = crate::support::gql_at(url, Some(&mine), "{ me { name } }", json!({})).await;
        assert_eq!(r["data"]["me"]["name"], "ops", "{r}");
    }

    let revoked = crate::support::softland(&["keys", "revoke", &k_id, "--db", &s.db.url]);
    assert_eq!(revoked.code, 0, "{}", revoked.stderr);
    for url in [&s.url, &peer.url] {
        let page = no_redirects()
            .get(format!("{url}/applications"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 303, "back to the sign-in page");
        let r = by_cookie(url, &cookie, "{ me { name } }", json!({})).await;
        assert_eq!(code(&r), "UNAUTHENTICATED", "{r}");
        // the key ops made for themself went with it; wang's stays wang's
        // (another server forgets the keys it remembered when told; within seconds)
        crate::support::eventually(
            "the minted key refused",
            Duration::from_secs(10),
            || async {
                let r =
                    crate::support::gql_at(url, Some(&mine), "{ me { name } }", json!({})).await;
                (code(&r) == "UNAUTHENTICATED").then_some(())
            },
        )
        .await;
        let r = crate::support::gql_at(url, Some(&theirs), "{ me { name } }", json!({})).await;
        assert_eq!(r["data"]["me"]["name"], "wang", "{r}");
    }
}

on_both_backends!(revoking_a_key_ends_its_sessions);

/// Console drafts belong to their person: what alice typed into a new application is not
/// what bob (another firm) finds in the same browser after she signed out — signing out
/// forgets every draft.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: the full suite (scripts/with-services) installs it"]
async fn console_drafts_stay_with_their_person() {
    use crate::console::{ENGLISH, shots, sign_in};
    let s = Server::start(TestDb::sqlite());
    let alice = s.applicant_key("pengcheng-pay", "alice");
    let bob = s.applicant_key("other-firm", "bob");
    let browser = crate::cdp::chromium();
    let dir = shots("drafts");
    let mut tab = browser.tab(&format!("{}/", s.url), "drafts", &dir).await;
    sign_in(&mut tab, &alice, &ENGLISH).await;
    let form_url = format!("{}/applications/new/soft-landing-sz-to-hk", s.url);
    tab.goto(&form_url).await;
    tab.run("fill(document.querySelector('form.generated'), [['/company/name_en', 'Alice Secret Ltd']])")
        .await;
    tab.goto(&form_url).await;
    let kept = tab
        .eval("document.querySelector('[name=\"/company/name_en\"]').value")
        .await;
    assert_eq!(kept, json!("Alice Secret Ltd"), "alice's own draft is kept");
    tab.then_next_page("document.querySelector('form.signout').requestSubmit()")
        .await;
    let left = tab
        .eval("Object.keys(localStorage).filter(k => k.startsWith('softland:draft:')).length")
        .await;
    assert_eq!(left, json!(0), "signing out forgets drafts");
    sign_in(&mut tab, &bob, &ENGLISH).await;
    tab.goto(&form_url).await;
    let seen = tab
        .eval("document.querySelector('[name=\"/company/name_en\"]').value")
        .await;
    assert_eq!(seen, json!(""), "bob sees nothing of alice's");
}

/// A lead's `putPerson` refusals do not confirm another agency's people or addresses: taking
/// an InvestHK reviewer's id, or their e-mail address, is refused in the same words, naming
/// neither. In the console, a form value the API refuses (an unknown role) is refused at the
/// form (422, as every refused console form), and a post from another site is refused.
#[tokio::test]
async fn refusals_tell_nothing_and_bad_form_values_are_the_visitors() {
    let s = Server::start(TestDb::sqlite());
    let lin = json!({"p": {"id": "lin", "agency": "hkstp", "roles": ["LEAD", "REVIEWER"]}});
    assert!(s.gql(Some(&s.admin), PUT_PERSON, lin).await["errors"].is_null());
    let (_, lin) = cli_key(&s, &["--person", "lin", "--name", "laptop"]);
    reviewer(&s, "rita", "investhk").await;
    let take_id = json!({"p": {"id": "rita", "agency": "hkstp", "roles": ["REVIEWER"]}});
    let take_mail = json!({"p": {"id": "newbie", "email": "rita@example.org", "agency": "hkstp", "roles": ["REVIEWER"]}});
    let a = s.gql(Some(&lin), PUT_PERSON, take_id).await;
    let b = s.gql(Some(&lin), PUT_PERSON, take_mail).await;
    assert_eq!(code(&a), "BAD_USER_INPUT", "{a}");
    assert_eq!(
        a["errors"][0]["message"], b["errors"][0]["message"],
        "{a} {b}"
    );
    let words = a["errors"][0]["message"].as_str().unwrap_or_default();
    for secret in ["rita", "investhk", "example.org", "manage"] {
        assert!(!words.contains(secret), "{words}");
    }

    let cookie = console_session(&s.url, &s.admin).await;
    let csrf = no_redirects()
        .get(format!("{}/auth/session", s.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["csrfToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let form = [
        ("csrf", csrf.as_str()),
        ("id", "ping"),
        ("membership", "agency:hkstp"),
        ("roles", "bogus"),
    ];
    let r = no_redirects()
        .post(format!("{}/directory/people", s.url))
        .header("cookie", &cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    // the console's refusal of a form: 422 with the page and its refusal, not an error page
    assert_eq!(r.status(), 422, "the visitor's mistake");
    let page = r.text().await.unwrap();
    assert!(page.contains("person-id"), "the form is on the page");
    let r = no_redirects()
        .post(format!("{}/directory/people", s.url))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "another site");
    // Membership has no default: a person added without one is refused at the form, and
    // nobody is added (before, the first agency in the list was silently taken).
    let r = no_redirects()
        .post(format!("{}/directory/people", s.url))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("id", "mei"),
            ("roles", "REVIEWER"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Choose the agency or firm the person belongs to."),
        "{page}"
    );
    let people = s.query(Some(&s.admin), "{ people { id } }").await;
    let ids = people["data"]["people"].as_array().expect("people");
    assert!(
        !ids.is_empty() && !ids.iter().any(|p| p["id"] == "mei"),
        "{people}"
    );
}
