//! GraphiQL in a real browser (issue 13, fourth part): headless Chromium loads the page from
//! the server, the schema arrives by introspection (the documentation explorer lists the root
//! types), and every resource the page loaded came from the server itself. Driven over the
//! Chrome DevTools Protocol. CI installs Debian's `chromium` (`.ci/run`); where it is missing
//! this test fails and says so, never skips.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::support::{Server, temp_dir};

/// A headless Chromium, killed when dropped.
struct Browser {
    child: Child,
    /// `http://127.0.0.1:<port>` of its DevTools endpoint.
    devtools: String,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromium() -> Browser {
    let bin = std::env::var("SOFTLAND_TEST_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let profile = temp_dir("chromium-profile");
    let mut child = Command::new(&bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            &format!("--user-data-dir={}", profile.display()),
            "about:blank",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin} (install Debian's chromium): {e}"));
    // "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/…"
    let stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut devtools = None;
    for line in stderr.lines() {
        let line = line.expect("chromium's stderr");
        if let Some(ws) = line.split("DevTools listening on ").nth(1) {
            let host = ws.trim_start_matches("ws://").split('/').next().unwrap();
            devtools = Some(format!("http://{host}"));
            break;
        }
    }
    Browser {
        child,
        devtools: devtools.expect("chromium printed its DevTools address"),
    }
}

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
