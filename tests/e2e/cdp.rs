//! A headless Chromium driven over the Chrome DevTools Protocol: tabs in separate browser
//! contexts (each person their own cookies), navigation, script evaluation, screenshots. CI
//! installs Debian's `chromium` (`.ci/run`); where it is missing the tests fail and say so.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::support::temp_dir;

/// Screenshots taken so far into each folder (numbered in order across the tabs of a test).
static SHOTS: std::sync::Mutex<Vec<(PathBuf, usize)>> = std::sync::Mutex::new(Vec::new());

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A headless Chromium, killed when dropped.
pub struct Browser {
    child: Child,
    /// `http://127.0.0.1:<port>` of its DevTools endpoint.
    pub devtools: String,
    /// The browser-wide DevTools WebSocket.
    browser_ws: String,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts Debian's Chromium (or `SOFTLAND_TEST_CHROMIUM`) headless, on loopback.
pub fn chromium() -> Browser {
    let bin = std::env::var("SOFTLAND_TEST_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    // A profile of its own: tests run browsers side by side.
    static BROWSERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = BROWSERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let profile = temp_dir(&format!("chromium-profile-{n}"));
    let mut child = Command::new(&bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
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
    let mut lines = stderr.lines();
    let mut browser_ws = None;
    for line in lines.by_ref() {
        let line = line.expect("chromium's stderr");
        if let Some(ws) = line.split("DevTools listening on ").nth(1) {
            browser_ws = Some(ws.trim().to_owned());
            break;
        }
    }
    // Keep draining stderr so Chromium never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let browser_ws = browser_ws.expect("chromium printed its DevTools address");
    let host = browser_ws
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .expect("a host")
        .to_owned();
    Browser {
        child,
        devtools: format!("http://{host}"),
        browser_ws,
    }
}

/// One DevTools connection: requests with ids, answers matched by id, events skipped.
struct Connection {
    ws: Socket,
    next: u64,
}

impl Connection {
    async fn open(url: &str) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("DevTools connects");
        Connection { ws, next: 0 }
    }

    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let request = json!({"id": id, "method": method, "params": params});
        self.ws
            .send(Message::Text(request.to_string().into()))
            .await
            .expect("DevTools takes the request");
        tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(msg) = self.ws.next().await {
                let msg = msg.expect("DevTools message");
                let Ok(text) = msg.to_text() else { continue };
                let v: Value = serde_json::from_str(text).expect("DevTools JSON");
                if v["id"] == id {
                    return v;
                }
            }
            panic!("DevTools closed");
        })
        .await
        .unwrap_or_else(|_| panic!("DevTools did not answer {method}"))
    }
}

/// A tab of its own browser context (cookies and storage of its own).
pub struct Tab {
    page: Connection,
    /// Where screenshots go, numbered in the order they are taken.
    shots: PathBuf,
    /// Who this tab is (screenshot names).
    who: String,
}

impl Browser {
    /// A new tab, in a new context, showing `url`.
    pub async fn tab(&self, url: &str, who: &str, shots: &Path) -> Tab {
        let mut browser = Connection::open(&self.browser_ws).await;
        let context = browser.call("Target.createBrowserContext", json!({})).await;
        let context = context["result"]["browserContextId"]
            .as_str()
            .expect("a browser context")
            .to_owned();
        let target = browser
            .call(
                "Target.createTarget",
                json!({"url": url, "browserContextId": context}),
            )
            .await;
        let target = target["result"]["targetId"]
            .as_str()
            .unwrap_or_else(|| panic!("a target: {target}"))
            .to_owned();
        let host = self.devtools.trim_start_matches("http://");
        let page = Connection::open(&format!("ws://{host}/devtools/page/{target}")).await;
        let mut tab = Tab {
            page,
            shots: shots.to_owned(),
            who: who.to_owned(),
        };
        tab.wait_loaded().await;
        tab
    }
}

impl Tab {
    /// Evaluates `expression` (awaiting a promise) and returns its value; an evaluation cut
    /// off by a navigation is sent again.
    pub async fn eval(&mut self, expression: &str) -> Value {
        for _ in 0..50 {
            let answer = self
                .page
                .call(
                    "Runtime.evaluate",
                    json!({"expression": expression, "awaitPromise": true, "returnByValue": true}),
                )
                .await;
            if answer["error"].is_null() && answer["result"]["exceptionDetails"].is_null() {
                return answer["result"]["result"]["value"].clone();
            }
            let text = answer.to_string();
            if !(text.contains("context") || text.contains("navigat")) {
                panic!("the page's script failed: {answer}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("the page kept navigating");
    }

    /// Waits until `condition` (a script expression) is true, up to 20 s.
    pub async fn wait_for(&mut self, condition: &str, what: &str) {
        let start = Instant::now();
        loop {
            if self.eval(&format!("!!({condition})")).await == json!(true) {
                return;
            }
            if start.elapsed() > Duration::from_secs(20) {
                let body = self.text().await;
                panic!("{what}: never happened; the page says:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    async fn wait_loaded(&mut self) {
        self.wait_for(
            "document.readyState === 'complete' && location.href !== 'about:blank'",
            "the page loads",
        )
        .await;
    }

    /// Goes to `url` and waits until it has loaded.
    pub async fn goto(&mut self, url: &str) {
        self.eval("window.__softlandOld = true").await;
        self.page.call("Page.navigate", json!({"url": url})).await;
        self.wait_for(
            "!window.__softlandOld && document.readyState === 'complete'",
            "the next page",
        )
        .await;
    }

    /// Runs `script` (which submits a form or follows a link; the helpers of [`Tab::run`] are
    /// there) and waits for the next page.
    pub async fn then_next_page(&mut self, script: &str) {
        self.eval("window.__softlandOld = true").await;
        self.run(script).await;
        self.wait_for(
            "!window.__softlandOld && document.readyState === 'complete'",
            "the next page",
        )
        .await;
    }

    /// Puts the file at `path` into the file input `selector` (as a person choosing it would).
    pub async fn set_file(&mut self, selector: &str, path: &Path) {
        let found = self
            .page
            .call(
                "Runtime.evaluate",
                json!({"expression": format!("document.querySelector({selector:?})")}),
            )
            .await;
        let object = found["result"]["result"]["objectId"]
            .as_str()
            .unwrap_or_else(|| panic!("no {selector}: {found}"))
            .to_owned();
        let set = self
            .page
            .call(
                "DOM.setFileInputFiles",
                json!({"files": [path.to_str().expect("a path")], "objectId": object}),
            )
            .await;
        assert!(set["error"].is_null(), "{set}");
    }

    /// The page's visible text.
    pub async fn text(&mut self) -> String {
        self.eval("document.body ? document.body.innerText : ''")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The current path (`/applications/…`).
    pub async fn path(&mut self) -> String {
        self.eval("location.pathname")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Shows the page as a phone `width` CSS pixels wide would (and reloads it).
    pub async fn set_width(&mut self, width: u32) {
        self.page
            .call(
                "Emulation.setDeviceMetricsOverride",
                json!({"width": width, "height": 844, "deviceScaleFactor": 1, "mobile": true}),
            )
            .await;
        self.eval("window.__softlandOld = true").await;
        self.page.call("Page.reload", json!({})).await;
        self.wait_for(
            "!window.__softlandOld && document.readyState === 'complete'",
            "the page again",
        )
        .await;
    }

    /// Writes a full-page screenshot `NN-<who>-<name>.png`.
    pub async fn screenshot(&mut self, name: &str) {
        let shot = self
            .page
            .call(
                "Page.captureScreenshot",
                json!({"format": "png", "captureBeyondViewport": true}),
            )
            .await;
        let data = shot["result"]["data"]
            .as_str()
            .unwrap_or_else(|| panic!("a screenshot: {shot}"));
        let png = base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("base64");
        let n = {
            let mut shots = SHOTS.lock().unwrap();
            match shots.iter_mut().find(|(dir, _)| *dir == self.shots) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    shots.push((self.shots.clone(), 1));
                    1
                }
            }
        };
        std::fs::create_dir_all(&self.shots).expect("the screenshot folder");
        let file = self.shots.join(format!("{n:02}-{}-{name}.png", self.who));
        std::fs::write(&file, png).expect("the screenshot");
    }

    /// The accessibility violations axe-core (vendored) finds on the page that are serious or
    /// critical, as `rule: target…` lines (empty when there are none).
    pub async fn accessibility_violations(&mut self) -> Vec<String> {
        let found = self
            .eval(&format!(
                "{}\n;axe.run(document, {{resultTypes: ['violations']}}).then(r => r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => v.id + ': ' + v.help + ' — ' + v.nodes.map(n => n.target.join(' ')).slice(0, 5).join(', ')))",
                include_str!("vendor/axe.min.js")
            ))
            .await;
        serde_json::from_value(found.clone())
            .unwrap_or_else(|e| panic!("axe-core did not answer with a list ({e}): {found}"))
    }

    /// Evaluates `script` with the page's helpers (`tests/e2e/console_helpers.js`) loaded.
    pub async fn run(&mut self, script: &str) -> Value {
        self.eval(&format!("{}\n{script}", include_str!("console_helpers.js")))
            .await
    }
}
