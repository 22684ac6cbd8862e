//! Running the real binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Runs each named `async fn(Server)` against a server on SQLite and (with
/// `SOFTLAND_TEST_POSTGRES_URL` and `--include-ignored`) on PostgreSQL.
macro_rules! on_both_backends {
    // Tests that need another component besides: ignored on SQLite too, with `$why`.
    ($why:literal; $($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                #[ignore = $why]
                async fn $name() {
                    super::$name(crate::support::Server::start(softland_store::test_util::TestDb::sqlite())).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                #[ignore = "PostgreSQL: set SOFTLAND_TEST_POSTGRES_URL and pass --include-ignored (CI does)"]
                async fn $name() {
                    super::$name(crate::support::Server::start(softland_store::test_util::TestDb::postgres().await)).await;
                }
            )*
        }
    };
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(crate::support::Server::start(softland_store::test_util::TestDb::sqlite())).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                #[ignore = "PostgreSQL: set SOFTLAND_TEST_POSTGRES_URL and pass --include-ignored (CI does)"]
                async fn $name() {
                    super::$name(crate::support::Server::start(softland_store::test_util::TestDb::postgres().await)).await;
                }
            )*
        }
    };
}

pub(crate) use on_both_backends;

/// Runs each named `async fn(TestDb)` on SQLite and (with `SOFTLAND_TEST_POSTGRES_URL` and
/// `--include-ignored`) on PostgreSQL: for tests that start their server their own way.
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(softland_store::test_util::TestDb::sqlite()).await;
                }
            )*
        }
        $crate::support::on_both_databases!(@postgres $($name),*);
    };
    // Tests that need another component besides: ignored on SQLite too, with `$why`.
    ($why:literal; $($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test]
                #[ignore = $why]
                async fn $name() {
                    super::$name(softland_store::test_util::TestDb::sqlite()).await;
                }
            )*
        }
        $crate::support::on_both_databases!(@postgres $($name),*);
    };
    (@postgres $($name:ident),*) => {
        mod on_postgres {
            $(
                #[tokio::test]
                #[ignore = "PostgreSQL: set SOFTLAND_TEST_POSTGRES_URL and pass --include-ignored (CI does)"]
                async fn $name() {
                    super::$name(softland_store::test_util::TestDb::postgres().await).await;
                }
            )*
        }
    };
}

pub(crate) use on_both_databases;
use std::process::Command;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Output of one run of `softland`.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `softland ARGS` in the repository root.
pub fn softland(args: &[&str]) -> Run {
    softland_in(&root(), args)
}

pub fn softland_in(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_softland"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Where a server on `db_url` keeps documents: one temporary folder per database, the same
/// across restarts.
pub fn documents_dir(db_url: &str) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    db_url.hash(&mut h);
    std::env::temp_dir().join(format!("softland-e2e-documents-{:016x}", h.finish()))
}

/// A fresh temporary directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("softland-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A `softland serve` process on a free port with a fresh database; killed on drop.
pub struct Server {
    pub url: String,
    pub db: softland_store::test_util::TestDb,
    pub admin: String,
    child: std::process::Child,
    /// Reviewers' tokens by `agency:name`, minted by [`Server::play`] on first use.
    people: std::sync::Mutex<std::collections::HashMap<String, String>>,
    /// Extra environment of every process of this server (restarts and peers too).
    env: Vec<(String, String)>,
    /// Where its processes' log lines (stderr) go, appended; else nowhere.
    log: Option<PathBuf>,
}

impl Server {
    /// Starts the server on `db` (a fresh one), reading its address and admin key from stdout.
    pub fn start(db: softland_store::test_util::TestDb) -> Self {
        Self::start_limited(db, None)
    }

    /// Starts the server with at most `nofile` open files (soft and hard limit).
    pub fn start_with_open_files(db: softland_store::test_util::TestDb, nofile: u32) -> Self {
        Self::start_limited(db, Some(nofile))
    }

    /// Starts the server on `listen` with extra environment variables (`SOFTLAND_*` settings).
    pub fn start_with_env(
        db: softland_store::test_util::TestDb,
        listen: &str,
        env: &[(&str, &str)],
    ) -> Self {
        Self::start_logged(db, listen, env, None)
    }

    /// [`Server::start_with_env`], its log lines (stderr) appended to `log`.
    pub fn start_logged(
        db: softland_store::test_util::TestDb,
        listen: &str,
        env: &[(&str, &str)],
        log: Option<&Path>,
    ) -> Self {
        let spawned = Self::spawn_full(&db.url, listen, None, env, log);
        let mut server = Self::started(db, spawned);
        server.set_env(env);
        server.log = log.map(Path::to_path_buf);
        server
    }

    /// Replaces the extra environment of later restarts and peers.
    pub fn set_env(&mut self, env: &[(&str, &str)]) {
        self.env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
    }

    fn env(&self) -> Vec<(&str, &str)> {
        self.env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    fn start_limited(db: softland_store::test_util::TestDb, nofile: Option<u32>) -> Self {
        let spawned = Self::spawn_with(&db.url, "127.0.0.1:0", nofile);
        Self::started(db, spawned)
    }

    fn started(
        db: softland_store::test_util::TestDb,
        (child, url, admin): (std::process::Child, String, Option<String>),
    ) -> Self {
        Self {
            url,
            db,
            admin: admin.expect("first start prints an admin key"),
            child,
            people: Default::default(),
            env: Vec::new(),
            log: None,
        }
    }

    // On the success path the child moves into `Server`, whose Drop kills and waits for it; the
    // remaining paths panic the test, whose process reaps it on exit.
    #[allow(clippy::zombie_processes)]
    fn spawn_with(
        db_url: &str,
        listen: &str,
        nofile: Option<u32>,
    ) -> (std::process::Child, String, Option<String>) {
        Self::spawn_full(db_url, listen, nofile, &[], None)
    }

    // See `spawn_with`.
    #[allow(clippy::zombie_processes)]
    fn spawn_full(
        db_url: &str,
        listen: &str,
        nofile: Option<u32>,
        env: &[(&str, &str)],
        log: Option<&Path>,
    ) -> (std::process::Child, String, Option<String>) {
        use std::io::{BufRead, BufReader};
        let mut command = match nofile {
            // The shell lowers the limit, then becomes the server.
            Some(n) => {
                let mut c = Command::new("sh");
                c.args(["-c", &format!("ulimit -n {n} && exec \"$0\" \"$@\"")])
                    .arg(env!("CARGO_BIN_EXE_softland"));
                c
            }
            None => Command::new(env!("CARGO_BIN_EXE_softland")),
        };
        let mut child = command
            .args(["serve", "--db", db_url, "--listen", listen, "--workflows"])
            .arg(root().join("workflows"))
            .args(["--scheduler-seconds", "1"])
            .env("SOFTLAND_DOCUMENTS", documents_dir(db_url))
            .envs(env.iter().copied())
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied().filter(|(k, _)| *k == "RUST_LOG"))
            .stdout(std::process::Stdio::piped())
            .stderr(match log {
                Some(path) => std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .expect("the log file opens")
                    .into(),
                None => std::process::Stdio::null(),
            })
            .spawn()
            .expect("softland serve starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout"));
        let mut admin = None;
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).expect("read stdout") == 0 {
                {
                    let _ = child.wait();
                    panic!("softland serve exited before listening");
                }
            }
            if let Some(t) = line.split_whitespace().find(|w| w.starts_with("sl_")) {
                admin.get_or_insert_with(|| t.trim_end_matches(['`', ')', '.']).to_owned());
            }
            if let Some(rest) = line.trim().strip_prefix("softland listening on ") {
                let url = rest.split_whitespace().next().expect("address").to_owned();
                // Keep draining stdout so the server never blocks on a full pipe.
                std::thread::spawn(move || for _ in lines.lines() {});
                return (child, url, admin);
            }
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops with SIGTERM and waits; returns whether it exited 0.
    pub fn stop(&mut self) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().map(|s| s.success()).unwrap_or(false)
    }

    /// Stops gracefully and starts again on the same database.
    pub fn restart(&mut self) {
        assert!(self.stop(), "graceful shutdown exits 0");
        (self.child, self.url) = self.spawn_on("127.0.0.1:0");
    }

    /// A process of this server (its database, environment and log) listening on `listen`.
    fn spawn_on(&self, listen: &str) -> (std::process::Child, String) {
        let (child, url, _) =
            Self::spawn_full(&self.db.url, listen, None, &self.env(), self.log.as_deref());
        (child, url)
    }

    /// Kills the server with SIGKILL (no shutdown at all) and starts it again on the same
    /// address and database.
    pub fn crash_and_restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let addr = self.url.trim_start_matches("http://").to_owned();
        (self.child, self.url) = self.spawn_on(&addr);
    }

    /// Another server process on the same database (for multi-process tests).
    pub fn another(&self) -> Peer {
        let (child, url) = self.spawn_on("127.0.0.1:0");
        Peer { url, child }
    }

    /// Creates an API key with the CLI; returns its token. An `--org` the directory lacks is
    /// added (named by its key).
    pub fn key(&self, args: &[&str]) -> String {
        let mut all = vec!["keys", "create", "--db", &self.db.url];
        all.extend_from_slice(args);
        if let Some(i) = args.iter().position(|a| *a == "--org")
            && !args.contains(&"--org-name")
        {
            all.extend_from_slice(&["--org-name", args[i + 1]]);
        }
        let run = softland(&all);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout
            .lines()
            .last()
            .expect("token line")
            .trim()
            .to_owned()
    }

    /// An applicant key for `name` of organization `org`.
    pub fn applicant_key(&self, org: &str, name: &str) -> String {
        self.key(&["--role", "applicant", "--org", org, "--name", name])
    }

    /// A reviewer key for `name` of `agency`.
    pub fn reviewer_key(&self, agency: &str, name: &str) -> String {
        self.key(&["--role", "reviewer", "--agency", agency, "--name", name])
    }

    /// `token`'s organization submits the sample Shenzhen → Hong Kong application; returns it
    /// (`id status outcome revision activeStates openTasks { id state assignee }`).
    pub async fn submit_sample(&self, token: &str) -> serde_json::Value {
        self.submit_example(token, "soft-landing-sz-to-hk").await
    }

    /// `token`'s organization submits bundled workflow `key`'s example application.
    pub async fn submit_example(&self, token: &str, key: &str) -> serde_json::Value {
        const SUBMIT: &str = "mutation($k: String!, $d: JSON!, $p: ID) { submitApplication(input: {workflowKey: $k, data: $d, positionId: $p}) { id status outcome revision activeStates openTasks { id state assignee } } }";
        // A programme of positions' places is applied to for a position: the example host
        // firm's, offered on first use.
        let position = match key {
            "internship-placement" => Some(self.example_position().await),
            _ => None,
        };
        let vars = serde_json::json!({"k": key, "d": example(key), "p": position});
        let r = self.gql(Some(token), SUBMIT, vars).await;
        assert!(r["errors"].is_null(), "{r}");
        r["data"]["submitApplication"].clone()
    }

    /// Plays steps `steps` of workflow `key`'s happy path
    /// (`workflows/examples/<key>.happy.yaml`, the scripts `softland simulate` runs) on `app`
    /// over HTTP: each step by the reviewer it names (a key minted on first use; the same name
    /// is the same person to four-eyes rules), the applicant's by `applicant`. `app` and the
    /// result carry `openTasks { id state assignee }`.
    pub async fn play(
        &self,
        key: &str,
        mut app: serde_json::Value,
        applicant: &str,
        steps: impl std::ops::RangeBounds<usize>,
    ) -> serde_json::Value {
        const ACT: &str = "mutation($t: ID!, $a: String!, $d: JSON) { act(input: {taskId: $t, action: $a, data: $d}) { id status outcome revision activeStates openTasks { id state assignee } } }";
        let path = root().join(format!("workflows/examples/{key}.happy.yaml"));
        let text = std::fs::read_to_string(&path).expect("the happy path script");
        let script = softland_workflow::script::Script::parse(&text).expect("a script");
        let acts = script.acts().enumerate();
        for (_, step) in acts.filter(|(i, _)| steps.contains(i)) {
            let (assignee, token) = match step.by.split_once(':') {
                // The example position's firm hosts the application.
                Some(("host", _)) => (
                    "host:sz-host-firm",
                    self.people
                        .lock()
                        .expect("not poisoned")
                        .get(HOST_TOKEN)
                        .cloned()
                        .expect("the example position's firm"),
                ),
                Some((agency, name)) => (agency, self.person(agency, name)),
                None => ("applicant", applicant.to_owned()),
            };
            let open = app["openTasks"].as_array().cloned().unwrap_or_default();
            let task = open
                .iter()
                .find(|t| t["state"] == step.state.as_str() && t["assignee"] == assignee)
                .unwrap_or_else(|| panic!("no {} task for {assignee} in {app}", step.state));
            let vars = serde_json::json!({"t": task["id"], "a": step.action, "d": step.input});
            let r = self.gql(Some(&token), ACT, vars).await;
            assert!(
                r["errors"].is_null(),
                "{} on {}: {r}",
                step.action,
                step.state
            );
            app = r["data"]["act"].clone();
        }
        app
    }

    /// A position of the internship programme with room for every test's students, offered
    /// by the example host firm on first use; its id.
    pub async fn example_position(&self) -> String {
        const KEPT: &str = "position:example";
        if let Some(id) = self.people.lock().expect("not poisoned").get(KEPT) {
            return id.clone();
        }
        let firm = self.applicant_key("sz-host-firm", "hr");
        let id = self.offer_position(&firm, 1000).await;
        let mut people = self.people.lock().expect("not poisoned");
        people.insert(KEPT.to_owned(), id.clone());
        people.insert(HOST_TOKEN.to_owned(), firm);
        id
    }

    /// `firm_token`'s firm offers an internship position with `places` places; its id.
    pub async fn offer_position(&self, firm_token: &str, places: i32) -> String {
        const OFFER: &str = "mutation($n: Int!) { offerPosition(input: {title: \"Payments engineering intern\", titleZhHant: \"支付工程實習生\", description: \"Build payment rails with our Shenzhen team\", places: $n, closesOn: \"2099-06-30\", location: \"Shenzhen, Nanshan\"}) { id places placesTaken waitlisted } }";
        let r = self
            .gql(Some(firm_token), OFFER, serde_json::json!({"n": places}))
            .await;
        assert!(r["errors"].is_null(), "{r}");
        r["data"]["offerPosition"]["id"]
            .as_str()
            .expect("a position id")
            .to_owned()
    }

    /// The token of reviewer `name` of `agency`, minted on first use.
    pub fn person(&self, agency: &str, name: &str) -> String {
        let who = format!("{agency}:{name}");
        let mut people = self.people.lock().expect("not poisoned");
        let token = people
            .entry(who)
            .or_insert_with(|| self.reviewer_key(agency, name));
        token.clone()
    }

    /// POSTs a GraphQL request without variables; returns the JSON response.
    pub async fn query(&self, token: Option<&str>, query: &str) -> serde_json::Value {
        self.gql(token, query, serde_json::json!({})).await
    }

    /// POSTs a GraphQL request; returns the JSON response.
    pub async fn gql(
        &self,
        token: Option<&str>,
        query: &str,
        variables: serde_json::Value,
    ) -> serde_json::Value {
        gql_at(&self.url, token, query, variables).await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where a server keeps the token of the example position's firm (`by: host:…` steps).
const HOST_TOKEN: &str = "host:sz-host-firm";

/// The sample application of a bundled workflow (`workflows/examples/<key>.json`).
pub fn example(key: &str) -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join(format!("workflows/examples/{key}.json")))
            .expect("example"),
    )
    .expect("example JSON")
}

/// Withdraws application `$id`; answers `id status outcome`.
pub const WITHDRAW: &str =
    "mutation($id: ID!) { withdrawApplication(id: $id) { id status outcome } }";
/// Claims task `$t`; answers `id claimedBy`.
pub const CLAIM: &str = "mutation($t: ID!) { claimTask(taskId: $t) { id claimedBy } }";

/// Asserts that `text` holds every one of `parts`, naming the first one missing.
#[track_caller]
pub fn assert_contains(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "{part:?} is missing from:\n{text}");
    }
}

/// How many items of the array `list` match.
pub fn count(list: &serde_json::Value, matches: impl Fn(&serde_json::Value) -> bool) -> usize {
    let items = list.as_array().map(Vec::as_slice).unwrap_or_default();
    items.iter().filter(|item| matches(item)).count()
}

/// The first error's `extensions.code`.
pub fn code(resp: &serde_json::Value) -> &str {
    resp["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

/// POSTs a GraphQL request to the server at `url`.
pub async fn gql_at(
    url: &str,
    token: Option<&str>,
    query: &str,
    variables: serde_json::Value,
) -> serde_json::Value {
    let mut req = reqwest::Client::new().post(format!("{url}/graphql"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    gql_send(req, query, variables).await
}

/// Sends a GraphQL request on `req` (a POST to `/graphql` with its headers); the JSON answer.
pub async fn gql_send(
    req: reqwest::RequestBuilder,
    query: &str,
    variables: serde_json::Value,
) -> serde_json::Value {
    req.json(&serde_json::json!({"query": query, "variables": variables}))
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("JSON response")
}

/// Serves `app` on a free loopback port (a receiver a test points the server at); its address.
pub async fn serve_loopback(app: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serves") });
    addr
}

/// What `probe` finds, asking every 200 ms; panics naming `what` after `timeout` (a test waiting
/// on a background worker fails instead of hanging).
pub async fn eventually<T, F, Fut>(what: &str, timeout: std::time::Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = std::time::Instant::now();
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// A client whose every request gives up after `timeout`.
pub fn client(timeout: std::time::Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .expect("HTTP client")
}

/// Whether the server at `url` says it is ready within `timeout`.
pub async fn is_ready(url: &str, timeout: std::time::Duration) -> bool {
    let answer = client(timeout).get(format!("{url}/readyz")).send().await;
    answer.is_ok_and(|r| r.status().is_success())
}

/// A further server process on a `Server`'s database; killed on drop.
pub struct Peer {
    pub url: String,
    child: std::process::Child,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A graphql-transport-ws connection to the server at `url`, initialised with `token`.
pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a subscription connection and waits for `connection_ack`.
pub async fn ws_connect(url: &str, token: &str) -> Ws {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("{}/graphql/ws", url.replace("http://", "ws://"))
        .into_client_request()
        .expect("ws request");
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("ws connects");
    let init = serde_json::json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {token}")}});
    ws.send(Message::Text(init.to_string().into()))
        .await
        .expect("init");
    let ack: serde_json::Value = serde_json::from_str(
        ws.next()
            .await
            .expect("ack")
            .expect("ack")
            .to_text()
            .expect("text"),
    )
    .expect("JSON");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    ws
}

/// Opens a connection for `token` and starts one subscription (id `"1"`) on it.
pub async fn ws_subscribe(url: &str, token: &str, query: &str, variables: serde_json::Value) -> Ws {
    use futures_util::SinkExt;
    let mut ws = ws_connect(url, token).await;
    let msg = serde_json::json!({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}});
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        msg.to_string().into(),
    ))
    .await
    .expect("subscribe");
    ws
}

/// The next message on a subscription connection, or `None` if none comes within `wait`.
pub async fn ws_next(ws: &mut Ws, wait: std::time::Duration) -> Option<serde_json::Value> {
    use futures_util::StreamExt;
    let msg = tokio::time::timeout(wait, ws.next()).await.ok()??.ok()?;
    serde_json::from_str(msg.to_text().ok()?).ok()
}
