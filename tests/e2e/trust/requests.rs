//! What a request may cost and how its body is read: fragment fan-out, the WebSocket
//! protocol, bodies read only for known callers, each caller's share, guessing keys, metrics.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use softland_store::test_util::TestDb;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::support::{Server, Ws, code, is_ready, on_both_backends, ws_connect, ws_next};

/// `n` fragments, each spreading the previous one twice: the text grows by one line per
/// fragment, what it expands to doubles.
pub(crate) fn fan_out(n: usize) -> String {
    let mut q = String::from("query Bomb { ...F0 }\nfragment F0 on Query { __typename }\n");
    for i in 1..=n {
        q.push_str(&format!(
            "fragment F{i} on Query {{ ...F{p} ...F{p} }}\n",
            p = i - 1
        ));
    }
    q.replace("query Bomb { ...F0 }", &format!("query Bomb {{ ...F{n} }}"))
}

/// A 30-fragment fan-out (2^30 fields once spread out) from an anonymous caller is refused
/// with `TOO_COMPLEX` before it is validated or run, and the server stays ready; a query
/// whose fragments expand modestly still runs.
async fn fragment_fan_out(s: Server) {
    let bomb = fan_out(30);
    assert!(bomb.len() < 1_500, "about a kilobyte: {}", bomb.len());
    let started = Instant::now();
    let r = s.query(None, &bomb).await;
    let took = started.elapsed();
    assert_eq!(code(&r), "TOO_COMPLEX", "{r}");
    assert!(r["data"].is_null(), "{r}");
    assert_eq!(r["errors"].as_array().map(Vec::len), Some(1), "{r}");
    eprintln!("fan-out N=30 refused in {took:?}");
    // four at once, and the server is still ready
    let all = futures_util::future::join_all((0..4).map(|_| s.query(None, &bomb))).await;
    assert!(all.iter().all(|r| code(r) == "TOO_COMPLEX"));
    assert!(is_ready(&s.url, Duration::from_secs(5)).await);
    // a modest fan-out (2^5 spreads of __typename) is a valid query
    let r = s.query(Some(&s.admin), &fan_out(5)).await;
    assert!(r["errors"].is_null(), "{r}");
    assert_eq!(r["data"]["__typename"], "Query", "{r}");
    // the same refusal on the WebSocket transport
    let mut ws = ws_connect(&s.url, &s.admin).await;
    let sub = json!({"id": "1", "type": "subscribe", "payload": {"query": bomb}});
    ws.send(Message::Text(sub.to_string().into()))
        .await
        .unwrap();
    let v = ws_next(&mut ws, Duration::from_secs(10))
        .await
        .expect("an answer");
    let errors = match v["type"].as_str() {
        Some("next") => v["payload"]["errors"].clone(),
        _ => v["payload"].clone(),
    };
    assert_eq!(errors[0]["extensions"]["code"], "TOO_COMPLEX", "{v}");
}

/// A raw WebSocket to `/graphql/ws` offering `protocol`, nothing sent yet.
async fn raw_ws(url: &str, protocol: &str) -> Result<Ws, u16> {
    raw_ws_with(url, protocol, &[]).await
}

/// As [`raw_ws`], the upgrade carrying `headers` too.
async fn raw_ws_with(url: &str, protocol: &str, headers: &[(&str, &str)]) -> Result<Ws, u16> {
    let mut req = format!("{}/graphql/ws", url.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
    for (name, value) in headers {
        let name: tokio_tungstenite::tungstenite::http::HeaderName = name.parse().unwrap();
        req.headers_mut().insert(name, value.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("the upgrade failed: {e}"),
    }
}

/// The close code the server ends `ws` with (within `wait`), skipping other messages.
async fn closed_with(ws: &mut Ws, wait: Duration) -> Option<u16> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Close(Some(frame))))) => return Some(u16::from(frame.code)),
            Ok(Some(Ok(Message::Close(None)))) => return Some(u16::from(CloseCode::Status)),
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(_)) | None) | Err(_) => return None,
        }
    }
}

fn text(v: Value) -> Message {
    Message::Text(v.to_string().into())
}

const SUBSCRIBE: &str = "subscription { applicationEvents { seq kind } }";

/// The console's session authenticates a WebSocket only from this server's own pages: with its
/// `Origin` the init is acknowledged; from another site's, 4403 — and, where the server knows
/// its browsers use HTTPS (here a trusted proxy says so), from the plain-HTTP twin of its own
/// pages too.
#[tokio::test]
async fn a_session_cookie_opens_a_websocket_only_from_the_console() {
    let s = Server::start_with_env(
        TestDb::sqlite(),
        "127.0.0.1:0",
        &[("SOFTLAND_TRUSTED_PROXIES", "127.0.0.1/32")],
    );
    let firm = s.applicant_key("pengcheng-pay", "li.wei");
    let cookie = super::signin::console_session(&s.url, &firm).await;
    let init = json!({"type": "connection_init"});
    let host = s.url.trim_start_matches("http://");
    let (plain, secure) = (format!("http://{host}"), format!("https://{host}"));
    for (origin, forwarded, expected) in [
        (plain.as_str(), None, None),
        ("https://evil.example", None, Some(4403)),
        (secure.as_str(), Some("https"), None),
        (plain.as_str(), Some("https"), Some(4403)),
    ] {
        let mut headers = vec![("cookie", cookie.as_str()), ("origin", origin)];
        if let Some(proto) = forwarded {
            headers.push(("x-forwarded-proto", proto));
        }
        let mut ws = raw_ws_with(&s.url, "graphql-transport-ws", &headers)
            .await
            .unwrap();
        ws.send(text(init.clone())).await.unwrap();
        match expected {
            None => {
                let ack = ws_next(&mut ws, Duration::from_secs(5))
                    .await
                    .expect("an ack");
                assert_eq!(ack["type"], "connection_ack", "{origin}: {ack}");
            }
            Some(code) => assert_eq!(
                closed_with(&mut ws, Duration::from_secs(5)).await,
                Some(code),
                "{origin} {forwarded:?}"
            ),
        }
    }
    // The console's forms follow the same rule.
    for (origin, cross_site) in [(plain.as_str(), true), (secure.as_str(), false)] {
        let r = reqwest::Client::new()
            .post(format!("{}/directory/people", s.url))
            .header("cookie", &cookie)
            .header("origin", origin)
            .header("x-forwarded-proto", "https")
            .form(&[("id", "x")])
            .send()
            .await
            .unwrap();
        let refused = r.text().await.unwrap().contains("cross-site");
        assert_eq!(refused, cross_site, "{origin}");
    }
}

/// graphql-transport-ws, as its specification has it: no `connection_init` in time → 4408, a
/// subscribe before it → 4401, an init without a credential → 4403, a second init → 4429, a
/// running id reused → 4409, not a protocol message → 4400; the legacy subprotocol is refused
/// at the upgrade. Every error that reaches a subscriber has a code.
#[tokio::test]
async fn websocket_connections_follow_graphql_transport_ws() {
    let s = Server::start(TestDb::sqlite());

    let refused = raw_ws(&s.url, "graphql-ws").await.err();
    assert_eq!(refused, Some(400), "the legacy subprotocol");

    let mut silent = raw_ws(&s.url, "graphql-transport-ws").await.unwrap();
    let started = Instant::now();
    assert_eq!(
        closed_with(&mut silent, Duration::from_secs(20)).await,
        Some(4408),
        "no connection_init"
    );
    assert!(started.elapsed() >= Duration::from_secs(5));

    let mut early = raw_ws(&s.url, "graphql-transport-ws").await.unwrap();
    early
        .send(text(
            json!({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}),
        ))
        .await
        .unwrap();
    assert_eq!(
        closed_with(&mut early, Duration::from_secs(5)).await,
        Some(4401)
    );

    for payload in [
        json!({}),
        json!({"authorization": "Bearer sl_not-a-key"}),
        Value::Null,
    ] {
        let mut anonymous = raw_ws(&s.url, "graphql-transport-ws").await.unwrap();
        anonymous
            .send(text(json!({"type": "connection_init", "payload": payload})))
            .await
            .unwrap();
        assert_eq!(
            closed_with(&mut anonymous, Duration::from_secs(5)).await,
            Some(4403),
            "{payload}"
        );
    }

    let mut garbled = raw_ws(&s.url, "graphql-transport-ws").await.unwrap();
    garbled
        .send(Message::Text("{not json".into()))
        .await
        .unwrap();
    assert_eq!(
        closed_with(&mut garbled, Duration::from_secs(5)).await,
        Some(4400)
    );

    let mut twice = ws_connect(&s.url, &s.admin).await;
    let init = json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {}", s.admin)}});
    twice.send(text(init)).await.unwrap();
    assert_eq!(
        closed_with(&mut twice, Duration::from_secs(5)).await,
        Some(4429)
    );

    let mut dup = ws_connect(&s.url, &s.admin).await;
    let sub = json!({"id": "a", "type": "subscribe", "payload": {"query": SUBSCRIBE}});
    dup.send(text(sub.clone())).await.unwrap();
    dup.send(text(sub)).await.unwrap();
    assert_eq!(
        closed_with(&mut dup, Duration::from_secs(5)).await,
        Some(4409)
    );

    // An id may be used again once its subscription completed; errors carry codes.
    let mut ok = ws_connect(&s.url, &s.admin).await;
    let bad =
        json!({"id": "b", "type": "subscribe", "payload": {"query": "subscription { nope }"}});
    for _ in 0..2 {
        ok.send(text(bad.clone())).await.unwrap();
        let v = ws_next(&mut ok, Duration::from_secs(5))
            .await
            .expect("an error");
        let errors = match v["type"].as_str() {
            Some("next") => v["payload"]["errors"].clone(),
            _ => v["payload"].clone(),
        };
        assert_eq!(errors[0]["extensions"]["code"], "BAD_USER_INPUT", "{v}");
        // `error` ends the id itself; after `next`, `complete` does
        if v["type"] == "next" {
            let done = ws_next(&mut ok, Duration::from_secs(5))
                .await
                .expect("complete");
            assert_eq!(done["type"], "complete", "{done}");
        }
    }
    assert!(is_ready(&s.url, Duration::from_secs(5)).await);
}

/// Open descriptors of the server process.
fn open_files(s: &Server) -> usize {
    std::fs::read_dir(format!("/proc/{}/fd", s.pid()))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// A multipart body of `files` one-byte file parts (written out: a client's form of 25 000
/// parts is a stream nested 25 000 deep).
fn many_parts(files: usize) -> (String, Vec<u8>) {
    let boundary = "softland-trust-boundary";
    let operations = json!({"query": "mutation($f: Upload!) { uploadDocument(file: $f) { id } }", "variables": {"f": null}});
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{operations}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{{\"0\": [\"variables.f\"]}}\r\n"
    );
    for i in 0..files {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{i}\"; filename=\"{i}.pdf\"\r\n\r\nx\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (
        format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    )
}

async fn post_multipart(s: &Server, token: Option<&str>, files: usize) -> reqwest::Response {
    let (ct, body) = many_parts(files);
    let mut req = reqwest::Client::new()
        .post(format!("{}/graphql", s.url))
        .header("content-type", ct)
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

/// An anonymous multipart body is answered before it is read (nothing written to disk, no
/// descriptor taken); a signed-in one carries at most ten files; what is not JSON or
/// multipart is refused with 415; with the specification's media type, a request error
/// leaves `data` out.
#[tokio::test]
async fn bodies_are_read_only_for_known_callers_and_within_caps() {
    let s = Server::start(TestDb::sqlite());
    let firm = s.applicant_key("pengcheng-pay", "li.wei");
    let before = open_files(&s);
    let r = post_multipart(&s, None, 25_000).await;
    assert_eq!(r.status(), 401);
    let r: Value = r.json().await.unwrap();
    assert_eq!(code(&r), "UNAUTHENTICATED", "{r}");
    assert!(
        open_files(&s) <= before + 8,
        "no descriptor per part: {} then {}",
        before,
        open_files(&s)
    );
    let r = post_multipart(&s, Some(&firm), 25_000).await;
    assert_eq!(r.status(), 400);
    let r: Value = r.json().await.unwrap();
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    assert!(open_files(&s) <= before + 8);

    for ct in [
        "image/png",
        "application/x-www-form-urlencoded",
        "text/plain",
    ] {
        let r = reqwest::Client::new()
            .post(format!("{}/graphql", s.url))
            .bearer_auth(&firm)
            .header("content-type", ct)
            .body(json!({"query": "{ me { name } }"}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 415, "{ct}");
    }
    let r = reqwest::Client::new()
        .post(format!("{}/graphql", s.url))
        .bearer_auth(&firm)
        .header("content-type", "application/json")
        .header("accept", "application/graphql-response+json")
        .body(json!({"query": "{ nope }"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r: Value = r.json().await.unwrap();
    assert!(r.get("data").is_none(), "{r}");
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
}

/// One key floods the server — the documented-limit query of the review (30 aliases × 100
/// applications with their histories and open tasks) is refused by its cost, and 16 heavy
/// queries at a time within the limits wait on their own caller's share — while a polite
/// firm lists and submits: every polite call succeeds, and its p99 is printed.
async fn one_key_cannot_starve_the_others(s: Server) {
    let firm = s.applicant_key("pengcheng-pay", "li.wei");
    for _ in 0..20 {
        s.submit_sample(&firm).await;
    }
    let flood = s.key(&["--role", "admin", "--name", "mallory"]);
    let aliases: Vec<String> = (0..30)
        .map(|i| format!("a{i}: applications(first: 100) {{ edges {{ node {{ history {{ kind }} openTasks {{ id }} }} }} }}"))
        .collect();
    let bomb = format!("{{ {} }}", aliases.join(" "));
    let r = s.query(Some(&flood), &bomb).await;
    assert_eq!(code(&r), "TOO_COMPLEX", "{r}");

    const HEAVY: &str = "{ applications(first: 50) { edges { node { id history { kind at } openTasks { id state } } } } }";
    let r = s.query(Some(&flood), HEAVY).await;
    assert!(r["errors"].is_null(), "within the limits: {r}");
    // The flood goes on until the polite firm has made its calls (at most 60 s): a starved
    // firm would not finish them while it lasts.
    const POLITE_CALLS: usize = 8;
    let until = Instant::now() + Duration::from_secs(60);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flooders: Vec<_> = (0..16)
        .map(|_| {
            let (url, flood, stop) = (s.url.clone(), flood.clone(), stop.clone());
            tokio::spawn(async move {
                let (mut served, mut turned_away) = (0, 0);
                while Instant::now() < until && !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let req = crate::support::client(Duration::from_secs(30))
                        .post(format!("{url}/graphql"))
                        .bearer_auth(&flood);
                    let r = crate::support::gql_send(req, HEAVY, json!({})).await;
                    if code(&r) == "LIMIT_EXCEEDED" {
                        turned_away += 1;
                    } else {
                        served += 1;
                    }
                }
                (served, turned_away)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut polite = Vec::new();
    while polite.len() < POLITE_CALLS {
        let started = Instant::now();
        let req = crate::support::client(Duration::from_secs(10))
            .post(format!("{}/graphql", s.url))
            .bearer_auth(&firm);
        let r = crate::support::gql_send(
            req,
            "{ applications(first: 20) { edges { node { id status } } } }",
            json!({}),
        )
        .await;
        assert!(r["errors"].is_null(), "{r}");
        polite.push(started.elapsed());
    }
    let flooded_throughout = Instant::now() < until;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut served, mut turned_away) = (0, 0);
    for f in flooders {
        let (a, b) = f.await.unwrap();
        served += a;
        turned_away += b;
    }
    polite.sort();
    let p99 = polite[(polite.len() * 99 / 100).min(polite.len() - 1)];
    eprintln!(
        "polite reads while one key floods: {} calls, p50 {:?}, p99 {:?}; the flood: {served} served, {turned_away} turned away",
        polite.len(),
        polite[polite.len() / 2],
        p99
    );
    assert!(
        flooded_throughout,
        "the polite firm's {POLITE_CALLS} calls were served while the flood lasted"
    );
    assert!(served > 0, "the flood was served too, within its share");
}

/// With a metrics token, `/metrics` wants it and shows the open tasks per agency; without the
/// token it is refused.
#[tokio::test]
async fn metrics_need_their_token() {
    let s = Server::start_with_env(
        TestDb::sqlite(),
        "127.0.0.1:0",
        &[("SOFTLAND_METRICS_TOKEN", "scrape-me")],
    );
    let firm = s.applicant_key("pengcheng-pay", "li.wei");
    s.submit_sample(&firm).await;
    let get = |token: Option<&'static str>| {
        let mut r = reqwest::Client::new().get(format!("{}/metrics", s.url));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    assert_eq!(get(None).await.unwrap().status(), 401);
    assert_eq!(get(Some("wrong")).await.unwrap().status(), 401);
    let m = get(Some("scrape-me")).await.unwrap().text().await.unwrap();
    assert!(
        m.contains("softland_open_tasks{assignee=\"ofds\"} 1"),
        "{m}"
    );
}

/// Guessing keys: past twenty failed authentications in a minute an address is refused (429)
/// before its keys are looked at — on the API and the console's sign-in alike; a right key
/// from it waits too, while the server keeps serving.
#[tokio::test]
async fn key_guessing_is_throttled_per_address() {
    let s = Server::start(TestDb::sqlite());
    let firm = s.applicant_key("pengcheng-pay", "li.wei");
    let mut statuses = Vec::new();
    for i in 0..30 {
        let r = reqwest::Client::new()
            .post(format!("{}/graphql", s.url))
            .bearer_auth(format!("sl_guess{i}"))
            .json(&json!({"query": "{ me { name } }"}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert!(statuses[..20].iter().all(|s| *s == 200), "{statuses:?}");
    assert!(statuses[20..].iter().all(|s| *s == 429), "{statuses:?}");
    let r = reqwest::Client::new()
        .post(format!("{}/graphql", s.url))
        .bearer_auth(&firm)
        .json(&json!({"query": "{ me { name } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429, "the address waits");
    // the console's sign-in form is refused the same way
    let (login, token) = super::signin::login_form(&s.url).await;
    let r = super::signin::no_redirects()
        .post(format!("{}/signin", s.url))
        .header("cookie", &login)
        .form(&[("csrf", token.as_str()), ("api_key", firm.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    // anonymous requests without credentials still work; /metrics counts the refusals
    assert!(is_ready(&s.url, Duration::from_secs(5)).await);
    let m = reqwest::get(format!("{}/metrics", s.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(m.contains("softland_auth_throttled_total"), "{m}");
}

on_both_backends!(fragment_fan_out, one_key_cannot_starve_the_others);
