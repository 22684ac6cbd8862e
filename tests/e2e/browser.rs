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

/// GraphiQL runs subscriptions (over the server's graphql-ws endpoint, with the Headers tab's
/// `Authorization` in `connection_init`): GraphiQL's own fetcher, as its Run button calls it
/// for a subscription, yields the events of an application submitted meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: the full suite (scripts/with-services) installs it"]
async fn graphiql_runs_subscriptions() {
    let s = Server::start(softland_store::test_util::TestDb::sqlite());
    let browser = chromium();
    let dir = crate::console::shots("graphiql");
    let mut tab = browser
        .tab(&format!("{}/graphql", s.url), "graphiql", &dir)
        .await;
    tab.wait_for("typeof fetcher === 'function'", "GraphiQL starts")
        .await;
    // What GraphiQL hands its fetcher for `subscription Live { … }` with the Headers tab filled.
    let subscribe = format!(
        r#"(async () => {{
  const documentAST = {{ kind: 'Document', definitions: [{{ kind: 'OperationDefinition', operation: 'subscription', name: {{ kind: 'Name', value: 'Live' }} }}] }};
  const results = await fetcher(
    {{ query: 'subscription Live {{ applicationEvents {{ kind applicationId }} }}', operationName: 'Live' }},
    {{ documentAST, headers: {{ Authorization: 'Bearer {}' }} }},
  );
  window.__events = [];
  window.__failed = null;
  (async () => {{
    try {{ for await (const r of results) window.__events.push(r); }}
    catch (e) {{ window.__failed = String(e && e.message || e); }}
  }})();
  return typeof results[Symbol.asyncIterator];
}})()"#,
        s.admin
    );
    assert_eq!(tab.eval(&subscribe).await, json!("function"));
    let firm = s.applicant_key("pengcheng-pay", "li.wei");
    // The subscription may still be starting: submit until its first event arrives.
    let mut seen = Value::Null;
    for _ in 0..10 {
        let app = s.submit_sample(&firm).await;
        tokio::time::sleep(Duration::from_millis(700)).await;
        seen = tab
            .eval("JSON.stringify({ events: window.__events, failed: window.__failed })")
            .await;
        let v: Value = serde_json::from_str(seen.as_str().unwrap()).unwrap();
        assert!(v["failed"].is_null(), "{v}");
        let events = v["events"].as_array().unwrap();
        if events
            .iter()
            .any(|e| e["data"]["applicationEvents"]["applicationId"] == app["id"])
        {
            return;
        }
    }
    panic!("no event reached GraphiQL: {seen}");
}
