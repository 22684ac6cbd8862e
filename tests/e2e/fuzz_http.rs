//! Fuzzing the GraphQL endpoint's request parsing, bounded for CI: random bytes, random JSON,
//! and real queries with characters inserted, deleted and replaced, with random variables —
//! sent to the real server. No request may crash or hang it, none may get a 5xx, and every
//! GraphQL error carries a code. Seeds are deterministic, so a failure reproduces; a failing
//! input, once found, is kept below as a regression case.

use std::time::Duration;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};
use softland_store::test_util::TestDb;

use crate::support::{Server, client, is_ready};

/// Requests per run (a few seconds on loopback).
const CASES: usize = 1500;

const QUERIES: &[&str] = &[
    "mutation($d: JSON!) { submitApplication(input: {workflowKey: \"soft-landing-sz-to-hk\", data: $d}) { id openTasks { id state } } }",
    "mutation($t: ID!, $a: String!, $d: JSON) { act(input: {taskId: $t, action: $a, data: $d}) { id outcome } }",
    "{ applications(first: 5, status: ACTIVE) { edges { cursor node { id history { seq kind } } } pageInfo { hasNextPage } } }",
    "query Q($id: ID!) { application(id: $id) { id openTasks { id actions { name inputSchema } } } }",
    "{ workflows { key version title mermaid } me { __typename } }",
    "query { inbox(first: 3, after: \"x|y\") { nodes { id dueAt } } }",
    "mutation { validateWorkflow(yaml: \"key: x\\nstates: {}\") { ok errors { code line column message } } }",
    "{ __schema { types { name fields { name } } } }",
    "fragment F on Application { id } query { applications { nodes { ...F ...F } } }",
    "subscription { applicationEvents { seq } }",
];

/// A known query with up to 8 random edits.
fn mutated_query() -> impl Strategy<Value = String> {
    (
        0..QUERIES.len(),
        prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<char>()), 0..8),
    )
        .prop_map(|(q, edits)| {
            let mut chars: Vec<char> = QUERIES[q].chars().collect();
            for (at, kind, c) in edits {
                if chars.is_empty() {
                    chars.push(c);
                    continue;
                }
                let i = at.index(chars.len());
                match kind {
                    0 => chars.insert(i, c),
                    1 => {
                        chars.remove(i);
                    }
                    _ => chars[i] = c,
                }
            }
            chars.into_iter().collect()
        })
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,20}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map("[a-zA-Z$_]{1,6}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A GraphQL value nested `depth` deep, of lists, objects or both.
fn nested_literal() -> impl Strategy<Value = String> {
    (1usize..3000, 0u8..3).prop_map(|(depth, kind)| {
        let (open, close) = match kind {
            0 => ("[", "]"),
            1 => ("{a:", "}"),
            _ => ("[{a:", "}]"),
        };
        format!("{}1{}", open.repeat(depth), close.repeat(depth))
    })
}

/// JSON nested `depth` deep, as text (serde_json would refuse to build it past 128 levels).
fn nested_json() -> impl Strategy<Value = String> {
    (1usize..3000, any::<bool>()).prop_map(|(depth, lists)| {
        if lists {
            format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
        } else {
            format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth))
        }
    })
}

/// A condition that is long, deep, or quadratic, in a definition to validate.
fn hostile_condition() -> impl Strategy<Value = String> {
    prop_oneof![
        (1usize..10_000).prop_map(|n| format!("{} > 0", vec!["1"; n].join(" + "))),
        (1usize..2_000).prop_map(|n| format!("{}1{} > 0", "(".repeat(n), ")".repeat(n))),
        (1usize..2_000).prop_map(|n| format!("{}1{} > 0", "[".repeat(n), "]".repeat(n))),
        (1usize..500).prop_map(|n| format!("{}true", "!".repeat(n))),
        (1usize..50).prop_map(|n| {
            let mut e = "a0 > 0".to_owned();
            for i in 1..=n {
                e = format!("data.items.exists(a{i}, {e})");
            }
            e
        }),
    ]
    .prop_map(|condition| {
        format!(
            "key: fuzz\ntitle: Fuzz\nform:\n  type: object\n  properties:\n    items: {{type: array}}\nstart: pick\nstates:\n  pick:\n    type: choice\n    choices:\n      - when: '{condition}'\n        to: done\n    otherwise: done\n  done: {{type: final, outcome: approved}}\n"
        )
    })
}

/// A document of up to 40 fragments, each selecting a field or two and spreading up to four
/// fragments (any of them: chains, fan-outs like the review's bomb, diamonds and cycles), the
/// operation spreading some of them.
fn fragment_document() -> impl Strategy<Value = String> {
    let fragment = (
        prop::collection::vec(0usize..40, 0..5),
        prop::sample::select(vec!["__typename", "me { name }", "workflows { key }", ""]),
    );
    (
        prop::collection::vec(fragment, 1..40),
        prop::collection::vec(0usize..40, 1..4),
    )
        .prop_map(|(fragments, top)| {
            let n = fragments.len();
            let spread = |i: &usize| format!("...F{}", i % n);
            let mut doc = format!(
                "query {{ {} }}\n",
                top.iter().map(spread).collect::<Vec<_>>().join(" ")
            );
            for (i, (spreads, field)) in fragments.iter().enumerate() {
                let body: Vec<String> = spreads.iter().map(spread).collect();
                doc.push_str(&format!(
                    "fragment F{i} on Query {{ {field} {} __typename }}\n",
                    body.join(" ")
                ));
            }
            doc
        })
}

/// One request body (and whether to label it JSON).
fn body() -> impl Strategy<Value = (Vec<u8>, bool)> {
    prop_oneof![
        // fragments spreading fragments: chains, fan-outs, cycles
        fragment_document().prop_map(|q| (json!({ "query": q }).to_string().into_bytes(), true)),
        // deeply nested values in the query text, labelled and as text/plain
        (nested_literal(), any::<bool>()).prop_map(|(v, labelled)| {
            let q = format!(
                "mutation{{submitApplication(input:{{workflowKey:\"x\",data:{v}}}){{id}}}}"
            );
            (json!({ "query": q }).to_string().into_bytes(), labelled)
        }),
        // deeply nested variables for the JSON scalar
        nested_json().prop_map(|v| {
            let body = format!(
                "{{\"query\":\"mutation($d: JSON!) {{ submitApplication(input: {{workflowKey: \\\"soft-landing-sz-to-hk\\\", data: $d}}) {{ id }} }}\",\"variables\":{{\"d\":{v}}}}}"
            );
            (body.into_bytes(), true)
        }),
        // long, deep and quadratic conditions to validate
        hostile_condition().prop_map(|yaml| {
            let q = "mutation($y: String!) { validateWorkflow(yaml: $y) { ok errors { code line column } } }";
            (
                json!({ "query": q, "variables": { "y": yaml } })
                    .to_string()
                    .into_bytes(),
                true,
            )
        }),
        // random bytes
        prop::collection::vec(any::<u8>(), 0..300).prop_map(|b| (b, true)),
        // GraphQL-ish token soup as the query
        "[{}()a-zA-Z0-9_:$!@.\"\\[\\], \n#&|=]{0,200}"
            .prop_map(|q| (json!({"query": q}).to_string().into_bytes(), true)),
        // real queries, edited, with random variables and operation names
        (
            mutated_query(),
            json_value(),
            prop::option::of("[A-Za-z]{0,5}")
        )
            .prop_map(|(q, vars, op)| {
                (
                    json!({"query": q, "variables": vars, "operationName": op})
                        .to_string()
                        .into_bytes(),
                    true,
                )
            }),
        // well-formed JSON of the wrong shape
        json_value().prop_map(|v| (v.to_string().into_bytes(), true)),
        // unlabelled
        mutated_query().prop_map(|q| (q.into_bytes(), false)),
    ]
}

/// Inputs that once misbehaved (none so far); they run first on every run.
const REGRESSIONS: &[&str] = &[];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_requests_never_crash_the_server() {
    let s = Server::start(TestDb::sqlite());
    let token = s.key(&["--role", "applicant", "--org", "fuzz-firm", "--name", "eve"]);
    let mut runner = TestRunner::deterministic();
    let mut bodies: Vec<(Vec<u8>, bool)> = REGRESSIONS
        .iter()
        .map(|r| (r.as_bytes().to_vec(), true))
        .collect();
    let strategy = body();
    for _ in 0..CASES {
        bodies.push(strategy.new_tree(&mut runner).unwrap().current());
    }
    let http = client(Duration::from_secs(10));
    let mut by_status = std::collections::BTreeMap::<u16, usize>::new();
    for (i, (body, labelled)) in bodies.iter().enumerate() {
        let mut req = http
            .post(format!("{}/graphql", s.url))
            .bearer_auth(&token)
            .body(body.clone());
        if *labelled {
            req = req.header("content-type", "application/json");
        }
        let resp = req.send().await.unwrap_or_else(|e| {
            panic!(
                "request {i} got no answer ({e}): {}",
                String::from_utf8_lossy(body)
            )
        });
        let status = resp.status().as_u16();
        *by_status.entry(status).or_default() += 1;
        let text = resp.text().await.unwrap();
        assert!(
            status < 500,
            "request {i} → {status}: {}\n{text}",
            String::from_utf8_lossy(body)
        );
        // Every answer of the endpoint is JSON, refusals included (no plain-text 400s).
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|_| {
            panic!(
                "request {i} → {status}, not JSON: {text}\n{}",
                String::from_utf8_lossy(body)
            )
        });
        if status >= 400 {
            assert!(v["errors"].is_array(), "request {i} → {status}: {text}");
        }
        if let Some(errors) = v["errors"].as_array() {
            for e in errors {
                assert!(
                    e["extensions"]["code"]
                        .as_str()
                        .is_some_and(|c| !c.is_empty()),
                    "request {i}: an error without a code: {e}\n{}",
                    String::from_utf8_lossy(body)
                );
            }
        }
    }
    // still alive and answering after all of it
    assert!(
        is_ready(&s.url, Duration::from_secs(10)).await,
        "the server is still up"
    );
    let me = s
        .gql(Some(&token), "{ me { __typename } }", json!({}))
        .await;
    assert!(me["errors"].is_null(), "{me}");
    assert!(
        by_status.len() > 1,
        "the inputs reach more than one outcome: {by_status:?}"
    );
}

/// One client message of a WebSocket sequence.
fn ws_message() -> impl Strategy<Value = String> {
    let id = prop::sample::select(vec!["1", "2", "", "x".repeat(200).leak() as &str]);
    let query = prop::sample::select(vec![
        "subscription { applicationEvents { seq kind } }".to_owned(),
        "subscription { nope }".to_owned(),
        "{ me { name } }".to_owned(),
        crate::trust::fan_out(24),
        "subscription {".to_owned(),
    ]);
    prop_oneof![
        prop::sample::select(vec!["good", "bad", "none"]).prop_map(|t| format!("init:{t}")),
        (id.clone(), query).prop_map(|(id, q)| {
            json!({"type": "subscribe", "id": id, "payload": {"query": q}}).to_string()
        }),
        id.prop_map(|id| json!({"type": "complete", "id": id}).to_string()),
        Just(json!({"type": "ping"}).to_string()),
        Just(json!({"type": "pong"}).to_string()),
        Just(json!({"type": "start", "id": "1"}).to_string()),
        "[ -~]{0,40}",
    ]
}

/// Random sequences of graphql-transport-ws messages (inits with good, bad and no
/// credentials, subscriptions valid and not, fragment bombs, reused and odd ids, completes,
/// pings, garbage): every sequence is answered by the protocol — messages of its types with
/// coded errors, or a close with one of its codes — and the server stays ready.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_message_sequences_follow_the_protocol() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let s = Server::start(TestDb::sqlite());
    let token = s.key(&["--role", "reviewer", "--agency", "ofds", "--name", "eve"]);
    let mut runner = TestRunner::deterministic();
    let strategy = prop::collection::vec(ws_message(), 1..8);
    let allowed_closes = [1000u16, 1002, 1011, 4400, 4401, 4403, 4409, 4429];
    for case in 0..60 {
        let sequence = strategy.new_tree(&mut runner).unwrap().current();
        let mut req = format!("{}/graphql/ws", s.url.replace("http://", "ws://"))
            .into_client_request()
            .unwrap();
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let mut ws = match tokio_tungstenite::connect_async(req).await {
            Ok((ws, _)) => ws,
            // the address used up its failed sign-ins (the "bad" inits): refused, as promised
            Err(tokio_tungstenite::tungstenite::Error::Http(r)) if r.status() == 429 => continue,
            Err(e) => panic!("case {case}: the upgrade failed: {e}"),
        };
        for m in &sequence {
            let text = match m.strip_prefix("init:") {
                Some("good") => json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {token}")}}).to_string(),
                Some("bad") => json!({"type": "connection_init", "payload": {"authorization": "Bearer sl_nobody"}}).to_string(),
                Some(_) => json!({"type": "connection_init"}).to_string(),
                None => m.clone(),
            };
            if ws.send(Message::Text(text.into())).await.is_err() {
                break; // closed by the server already
            }
        }
        loop {
            match tokio::time::timeout(Duration::from_secs(2), ws.next()).await {
                Err(_) | Ok(None) | Ok(Some(Err(_))) => break,
                Ok(Some(Ok(Message::Close(frame)))) => {
                    let code = frame.map_or(1000, |f| u16::from(f.code));
                    assert!(
                        allowed_closes.contains(&code),
                        "case {case}: close {code} after {sequence:?}"
                    );
                    break;
                }
                Ok(Some(Ok(Message::Text(t)))) => {
                    let v: Value = serde_json::from_str(&t)
                        .unwrap_or_else(|_| panic!("case {case}: not JSON: {t}"));
                    let kind = v["type"].as_str().unwrap_or_default();
                    assert!(
                        [
                            "connection_ack",
                            "next",
                            "error",
                            "complete",
                            "ping",
                            "pong"
                        ]
                        .contains(&kind),
                        "case {case}: {t}"
                    );
                    let errors = match kind {
                        "next" => v["payload"]["errors"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default(),
                        "error" => v["payload"].as_array().cloned().unwrap_or_default(),
                        _ => Vec::new(),
                    };
                    for e in errors {
                        assert!(
                            e["extensions"]["code"]
                                .as_str()
                                .is_some_and(|c| !c.is_empty()),
                            "case {case}: an error without a code: {e} after {sequence:?}"
                        );
                    }
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }
    assert!(
        is_ready(&s.url, Duration::from_secs(10)).await,
        "the server is still up"
    );
}
