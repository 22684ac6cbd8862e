//! Hostile clients on loopback: slow-loris connections, unfinished bodies, query bombs and
//! thousands of subscriptions at once. Other clients must still be served — each of their calls
//! completes (bounded by a client timeout, the liveness check here; no speed is asserted) — and
//! the hostile requests get clean, coded refusals.

use std::time::Duration;

use futures_util::SinkExt;
use serde_json::{Value, json};
use softland_store::test_util::TestDb;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

use crate::support::{Server, client, code, gql_send, is_ready, root, ws_connect, ws_next};

/// A well-behaved client's call: must answer within `LIVENESS` even under attack.
const LIVENESS: Duration = Duration::from_secs(10);

async fn polite(url: &str, token: &str, query: &str, variables: Value) -> Value {
    let req = client(LIVENESS).post(format!("{url}/graphql"));
    gql_send(req.bearer_auth(token), query, variables).await
}

const LIST_20: &str = "{ applications(first: 20) { edges { node { id status } } } }";
const LIST_50: &str = "{ applications(first: 50) { edges { node { id } } } }";

/// A polite firm's key, and the server's address for raw connections.
fn polite_firm(s: &Server) -> (String, String) {
    let firm = s.key(&[
        "--role",
        "applicant",
        "--org",
        "polite-firm",
        "--name",
        "li",
    ]);
    (firm, s.url.trim_start_matches("http://").to_owned())
}

fn sample() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("workflows/examples/soft-landing-sz-to-hk.json"))
            .unwrap(),
    )
    .unwrap()
}

const SUBMIT: &str = "mutation($d: JSON!) { submitApplication(input: {workflowKey: \"soft-landing-sz-to-hk\", data: $d}) { id openTasks { id state } } }";

/// Connections that never finish their request: a head sent a byte at a time, and complete
/// heads whose announced megabyte body trickles in. Meanwhile query bombs (deep nesting, alias
/// amplification, a huge body) are refused with codes, and a polite firm submits and lists.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_loris_and_query_bombs_do_not_starve_other_clients() {
    let s = Server::start(TestDb::sqlite());
    let (firm, addr) = polite_firm(&s);

    let mut hostile = Vec::new();
    for i in 0..400 {
        let addr = addr.clone();
        hostile.push(tokio::spawn(async move {
            let Ok(mut c) = TcpStream::connect(&addr).await else {
                return;
            };
            let head = if i % 2 == 0 {
                // slow-loris: the head itself never ends
                "POST /graphql HTTP/1.1\r\nHost: x\r\nX-Slow: ".to_owned()
            } else {
                // a complete head, then a body that trickles in
                "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{\"query\": \"".to_owned()
            };
            if c.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            for _ in 0..60 {
                tokio::time::sleep(Duration::from_millis(250)).await;
                if c.write_all(b"a").await.is_err() {
                    return; // the server hung up on us: fine
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let deep = format!(
        "{{ applications(first: 5) {{ edges {{ node {{ {} id {} }} }} }} }}",
        "openTasks { application { ".repeat(20),
        "} } ".repeat(20)
    );
    let aliases = format!(
        "{{ {} }}",
        (0..500)
            .map(|i| format!("a{i}: workflows {{ key mermaid }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    for bomb in [&deep, &aliases] {
        let r = polite(&s.url, &firm, bomb, json!({})).await;
        assert!(!r["errors"].is_null(), "refused: {r}");
        assert!(!code(&r).is_empty(), "with a code: {r}");
    }
    let huge = "x".repeat(4 << 20);
    let status = client(LIVENESS)
        .post(format!("{}/graphql", s.url))
        .bearer_auth(&firm)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(413);
    assert_eq!(status, 413, "a 4 MiB body is refused");

    // the polite client, while all of that is still open
    for _ in 0..10 {
        let r = polite(&s.url, &firm, SUBMIT, json!({"d": sample()})).await;
        assert!(r["errors"].is_null(), "{r}");
        let r = polite(&s.url, &firm, LIST_20, json!({})).await;
        assert!(r["errors"].is_null(), "{r}");
    }
    let r = polite(&s.url, &firm, LIST_50, json!({})).await;
    assert_eq!(
        r["data"]["applications"]["edges"].as_array().unwrap().len(),
        10
    );
    assert!(
        is_ready(&s.url, LIVENESS).await,
        "readiness answers under attack"
    );
    for h in hostile {
        h.abort();
    }
}

/// One key opens 2 000 subscriptions over 8 connections: 256 are held, every other one is
/// refused with `LIMIT_EXCEEDED`. Other keys still subscribe and get their events, and the
/// hostile key's slots come back when its connections close.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thousands_of_subscriptions_are_capped_per_key() {
    let s = Server::start(TestDb::sqlite());
    let firm = s.key(&["--role", "applicant", "--org", "firm", "--name", "li"]);
    let hostile_key = s.key(&[
        "--role", "reviewer", "--agency", "ofds", "--name", "mallory",
    ]);
    let watcher = s.key(&["--role", "reviewer", "--agency", "ofds", "--name", "chen"]);
    let query = "subscription { applicationEvents { seq kind applicationId } }";
    let subscribe = |id: usize| {
        Message::Text(
            json!({"id": id.to_string(), "type": "subscribe", "payload": {"query": query}})
                .to_string()
                .into(),
        )
    };

    let mut conns = Vec::new();
    for c in 0..8 {
        let mut ws = ws_connect(&s.url, &hostile_key).await;
        for i in 0..250 {
            ws.send(subscribe(c * 1000 + i)).await.unwrap();
        }
        conns.push(ws);
    }
    // every refusal arrives as an error for its subscription id
    let mut refused = 0;
    for ws in &mut conns {
        loop {
            let Some(v) = ws_next(ws, Duration::from_secs(2)).await else {
                break;
            };
            let errors = match v["type"].as_str() {
                Some("next") => v["payload"]["errors"].clone(),
                Some("error") => v["payload"].clone(),
                _ => continue,
            };
            if errors[0]["extensions"]["code"] == "LIMIT_EXCEEDED" {
                refused += 1;
            }
        }
    }
    assert_eq!(refused, 2000 - 256, "256 held, the rest refused");

    // another key subscribes and receives a new application's events; the firm is served
    let mut ws = ws_connect(&s.url, &watcher).await;
    ws.send(subscribe(1)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = polite(&s.url, &firm, SUBMIT, json!({"d": sample()})).await;
    assert!(r["errors"].is_null(), "{r}");
    let id = r["data"]["submitApplication"]["id"].clone();
    let v = ws_next(&mut ws, LIVENESS)
        .await
        .expect("the watcher's event arrives");
    assert_eq!(
        v["payload"]["data"]["applicationEvents"]["applicationId"], id,
        "{v}"
    );

    // the hostile key's slots come back once its connections are gone
    for mut ws in conns {
        let _ = ws.close(None).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut again = ws_connect(&s.url, &hostile_key).await;
    again.send(subscribe(7)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    polite(&s.url, &firm, SUBMIT, json!({"d": sample()})).await;
    let v = ws_next(&mut again, LIVENESS)
        .await
        .expect("a freed slot serves events again");
    assert_eq!(v["type"], "next", "{v}");
    assert!(v["payload"]["errors"].is_null(), "{v}");
}

/// 2 000 connections send their request head a byte at a time to a server allowed 1 024 open
/// files. Without a header timeout and a connection cap they were held forever and `accept`
/// failed for everyone; now the slow heads are cut off after the header timeout, the server
/// never runs out of descriptors, and polite clients are answered (after waiting in the listen
/// queue at worst; their client timeout here is generous, no speed is asserted).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_loris_beyond_the_descriptor_limit_is_shed() {
    // This process opens the 2 000 connections: it needs the descriptors.
    rlimit::increase_nofile_limit(8_192).expect("raise this test's open-file limit");
    let s = Server::start_with_open_files(TestDb::sqlite(), 1024);
    let (firm, addr) = polite_firm(&s);
    let mut hostile = Vec::new();
    for _ in 0..2000 {
        let addr = addr.clone();
        hostile.push(tokio::spawn(async move {
            // A connection the listen queue had no room for is not held by anyone.
            let Ok(mut c) = TcpStream::connect(&addr).await else {
                return None;
            };
            if c.write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .await
                .is_err()
            {
                return Some(true);
            }
            // Up to 40 s of one byte every 500 ms: far longer than any header timeout.
            for _ in 0..80 {
                tokio::time::sleep(Duration::from_millis(500)).await;
                if c.write_all(b"a").await.is_err() {
                    return Some(true); // the server hung up: shed
                }
            }
            Some(false)
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    // The server's open descriptors, sampled through the attack.
    let pid = s.pid();
    let sampler = tokio::spawn(async move {
        let mut most = 0;
        for _ in 0..60 {
            if let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
                most = most.max(fds.count());
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        most
    });
    // A polite client is served while 2 000 slow heads are open.
    let patient = Duration::from_secs(40);
    for _ in 0..5 {
        let req = client(patient).post(format!("{}/graphql", s.url));
        let r = gql_send(req.bearer_auth(&firm), SUBMIT, json!({"d": sample()})).await;
        assert!(r["errors"].is_null(), "{r}");
    }
    assert!(is_ready(&s.url, patient).await, "readiness answers");
    let most_open = sampler.await.unwrap();
    let (mut shed, mut held) = (0, 0);
    for h in hostile {
        match h.await.ok().flatten() {
            Some(true) => shed += 1,
            Some(false) => held += 1,
            None => {}
        }
    }
    // Connections the kernel never handed to the server (their handshake still waiting for
    // room in the listen queue) look open to this client but cost the server nothing. The
    // server holds at most 1 024 - 128 = 896 at once, so cutting off more than that means it
    // shed slow heads and took new connections in their place.
    assert!(
        shed > 896,
        "the server cut off the slow heads: {shed} cut off, {held} never answered"
    );
    assert!(
        most_open < 1024,
        "the server stayed below its descriptor limit: {most_open}"
    );
}
