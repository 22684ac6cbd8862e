//! GraphiQL in a real browser (issue 13, fourth part): headless Chromium loads the page from
//! the server, the schema arrives by introspection (the documentation explorer lists the root
//! types), and every resource the page loaded came from the server itself. Driven over the
//! Chrome DevTools Protocol. CI installs Debian's `chromium` (`.ci/run`); where it is missing
//! this test fails and says so, never skips.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::cdp::chromium;
use crate::support::Server;

/// Run in the page: opens the documentation explorer once GraphiQL has rendered, waits until
/// it lists the root types, and answers with its text and every resource the page loaded.
const PROBE: &str = r#"
new Promise((resolve) => {
  const started = Date.now();
  const tick = () => {
    const docs = document.querySelector('.graphiql-doc-explorer');
    if (!docs) {
      const button = document.querySelector('.graphiql-sidebar button');
      if (button) button.click();
    } else if (docs.textContent.includes('Query')) {
      const loaded = performance.getEntriesByType('resource').map((e) => e.name);
      return resolve(JSON.stringify({ docs: docs.textContent.slice(0, 300), loaded, origin: location.origin }));
    }
    if (Date.now() - started > 20000) {
      return resolve(JSON.stringify({ timeout: document.body.innerText.slice(0, 500) }));
    }
    setTimeout(tick, 200);
  };
  tick();
})
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: the full suite (scripts/with-services) installs it"]
async fn graphiql_loads_the_schema_in_a_real_browser() {
    let s = Server::start(softland_store::test_util::TestDb::sqlite());
    let browser = chromium();
    let page = format!("{}/graphql", s.url);
    let target: Value = reqwest::Client::new()
        .put(format!("{}/json/new?{page}", browser.devtools))
        .send()
        .await
        .expect("a new tab")
        .json()
        .await
        .expect("the tab's description");
    let ws_url = target["webSocketDebuggerUrl"]
        .as_str()
        .expect("a page target");
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url)
        .await
        .expect("DevTools connects");
    // The tab may still be navigating to the page: an evaluation in the context it leaves is
    // destroyed with it, and is sent again.
    let mut answer = Value::Null;
    for id in 1..=20 {
        let eval = json!({"id": id, "method": "Runtime.evaluate", "params": {"expression": PROBE, "awaitPromise": true, "returnByValue": true}});
        ws.send(Message::Text(eval.to_string().into()))
            .await
            .unwrap();
        answer = tokio::time::timeout(Duration::from_secs(40), async {
            while let Some(msg) = ws.next().await {
                let v: Value = serde_json::from_str(msg.unwrap().to_text().unwrap()).unwrap();
                if v["id"] == id {
                    return v;
                }
            }
            panic!("DevTools closed");
        })
        .await
        .expect("the page answers");
        if answer["error"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let result = answer["result"]["result"]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"));
    let r: Value = serde_json::from_str(result).unwrap();
    assert!(r["timeout"].is_null(), "the schema never showed: {r}");
    // The root types, as the documentation explorer lists them from the introspected schema.
    let docs = r["docs"].as_str().unwrap();
    assert!(
        docs.contains("Query") && docs.contains("Mutation"),
        "{docs}"
    );
    let origin = r["origin"].as_str().unwrap();
    let loaded: Vec<&str> = r["loaded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(loaded.len() >= 5, "{loaded:?}");
    for url in loaded {
        assert!(url.starts_with(origin), "{url} is not from {origin}");
    }
}
