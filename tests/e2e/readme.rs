//! Every GraphQL example in README.md and docs/ is valid against the live schema: each line of
//! a ```graphql block is one document (`#` lines are comments; `…` stands for an id or a
//! form). A document that does not parse or validate gets an error without a path; one that
//! runs and fails (an id that is not there) gets errors with paths, which are fine.

use serde_json::{Value, json};

use crate::support::{Server, on_both_backends, root, ws_next, ws_subscribe};

on_both_backends!(documented_queries_match_the_schema);

/// The GraphQL documents of the Markdown files of the repository's README and docs.
fn documented() -> Vec<(String, String)> {
    let mut files = vec![root().join("README.md")];
    let mut docs: Vec<_> = std::fs::read_dir(root().join("docs"))
        .expect("docs")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("markdown");
        let mut inside = false;
        for (n, line) in text.lines().enumerate() {
            let t = line.trim();
            if t.starts_with("```") {
                inside = t == "```graphql";
                continue;
            }
            if inside && !t.is_empty() && !t.starts_with('#') {
                let doc = t
                    .replace("{…}", "{}")
                    .replace("\"…\"", "\"00000000-0000-0000-0000-000000000000\"");
                out.push((format!("{}:{}", f.display(), n + 1), doc));
            }
        }
    }
    out
}

async fn documented_queries_match_the_schema(s: Server) {
    let admin = s.key(&["--role", "admin", "--name", "docs"]);
    let docs = documented();
    assert!(docs.len() >= 5, "found {docs:?}");
    for (place, doc) in docs {
        if doc.trim_start().starts_with("subscription") {
            // Over the WebSocket: a document that does not validate is answered with an
            // `error` message at once; a valid one waits for events (or a resolver's error).
            let mut ws = ws_subscribe(&s.url, &admin, &doc, json!({})).await;
            let msg = ws_next(&mut ws, std::time::Duration::from_secs(1)).await;
            let refused = msg.as_ref().is_some_and(|m| {
                m["type"] == "error"
                    || m["payload"]["errors"]
                        .as_array()
                        .is_some_and(|e| e.iter().any(|e| e["path"].is_null()))
            });
            assert!(!refused, "{place}: `{doc}` does not validate: {msg:?}");
            continue;
        }
        let r: Value = s.gql(Some(&admin), &doc, json!({})).await;
        let invalid: Vec<&Value> = r["errors"]
            .as_array()
            .map(|e| e.iter().filter(|e| e["path"].is_null()).collect())
            .unwrap_or_default();
        assert!(
            invalid.is_empty(),
            "{place}: `{doc}` does not validate: {r}"
        );
    }
}
