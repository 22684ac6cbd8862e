//! Failover (Jepsen-style): three `softland serve` on one database of a PostgreSQL cluster
//! under Patroni with synchronous replication, reached through HAProxy (`tests/ha/cluster.sh`).
//! Clients submit and act with idempotency keys through all three servers, retrying whatever
//! got no acknowledgement, while the primary is killed (`kill -9` of its Patroni and
//! postmaster: the machine died) and switched over, alternately. Afterwards every acknowledged
//! command is there exactly once, every one-second timer fired exactly once, every event went
//! to the webhook endpoint under one id, and `softland doctor` is clean. The outage of each
//! failover and the errors clients saw are printed (`--nocapture`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use softland_store::test_util::TestDb;
use tokio::sync::Mutex;

use crate::notifications::{ALLOW_LOOPBACK, announced, endpoint, receiver, wait_for};
use crate::support::{Server, count, gql_at, root, temp_dir};

/// How many times the primary goes away.
const FAILOVERS: usize = 10;
/// Concurrent clients.
const CLIENTS: usize = 4;
/// How long a client waits for an answer before it counts the request as unanswered.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// The cluster of `tests/ha/cluster.sh`, stopped (and its directory removed) on drop.
struct Cluster {
    dir: PathBuf,
    url: String,
}

impl Cluster {
    const MEMBERS: &str = "3";

    fn start() -> Self {
        let dir = temp_dir("ha-cluster");
        let mut cluster = Self {
            dir,
            url: String::new(),
        };
        cluster.url = cluster.run(&["start", Self::MEMBERS]);
        assert!(cluster.url.starts_with("postgres://"), "{}", cluster.url);
        cluster
    }

    /// Runs `cluster.sh VERB DIR ARGS…`; its last line of output.
    fn run(&self, args: &[&str]) -> String {
        let script = root().join("tests/ha/cluster.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg(args[0])
            .arg(&self.dir)
            .args(&args[1..])
            .output()
            .expect("bash runs tests/ha/cluster.sh");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "cluster.sh {args:?} failed: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout.lines().last().unwrap_or_default().trim().to_owned()
    }

    /// Waits until there is a primary and every other member streams, one synchronously.
    fn healthy(&self) {
        self.run(&["healthy", Self::MEMBERS, "180"]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(root().join("tests/ha/cluster.sh"))
            .arg("stop")
            .arg(&self.dir)
            .output();
    }
}

/// What a request got back.
enum Answer {
    /// Acknowledged: the mutation's data.
    Ack(Value),
    /// An error: its code, and `(not retryable)` after it unless `extensions.retryable` says
    /// it may be retried.
    Refused(String),
    /// No answer in time, or the connection failed.
    Nothing,
}

async fn send(url: &str, token: &str, query: &str, vars: Value) -> Answer {
    let request = crate::support::client(CLIENT_TIMEOUT)
        .post(format!("{url}/graphql"))
        .bearer_auth(token)
        .json(&json!({"query": query, "variables": vars}));
    let Ok(response) = request.send().await else {
        return Answer::Nothing;
    };
    let Ok(body) = response.json::<Value>().await else {
        return Answer::Nothing;
    };
    match body["errors"].get(0) {
        None => Answer::Ack(body["data"].clone()),
        Some(e) => {
            let code = e["extensions"]["code"].as_str().unwrap_or("(no code)");
            Answer::Refused(match e["extensions"]["retryable"] == true {
                true => code.to_owned(),
                false => format!("{code} (not retryable)"),
            })
        }
    }
}

/// What the clients saw and were acknowledged.
#[derive(Default)]
struct Ledger {
    /// Submission key → application id.
    submitted: BTreeMap<String, String>,
    /// Applications whose nomination was acknowledged.
    nominated: BTreeSet<String>,
    /// Timer applications (submission key → id).
    timers: BTreeMap<String, String>,
    /// Refusals by code, and requests that got no answer (`no answer`).
    errors: BTreeMap<String, usize>,
    /// Acknowledged requests.
    acks: usize,
}

/// Servers, tokens and the ledger the clients share.
struct Load {
    urls: Vec<String>,
    firm: String,
    ofds: String,
    ledger: Mutex<Ledger>,
    stop: AtomicBool,
}

impl Load {
    /// Sends until acknowledged, to the next server each time; the data.
    async fn until_acknowledged(&self, turn: &mut usize, token: &str, q: &str, v: Value) -> Value {
        let started = Instant::now();
        loop {
            *turn += 1;
            let url = &self.urls[*turn % self.urls.len()];
            let what = match send(url, token, q, v.clone()).await {
                Answer::Ack(data) => {
                    self.ledger.lock().await.acks += 1;
                    return data;
                }
                Answer::Refused(code) => code,
                Answer::Nothing => "no answer".to_owned(),
            };
            *self.ledger.lock().await.errors.entry(what).or_default() += 1;
            assert!(
                started.elapsed() < Duration::from_secs(180),
                "a request was not acknowledged for 3 minutes: {q} {v}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Submits `workflow` under `key`: the application.
    async fn submit(&self, turn: &mut usize, workflow: &str, data: &Value, key: &str) -> Value {
        const SUBMIT: &str = "mutation($w: String!, $d: JSON!, $k: String) { submitApplication(input: {workflowKey: $w, data: $d, idempotencyKey: $k}) { id openTasks { id assignee } } }";
        let vars = json!({"w": workflow, "d": data, "k": key});
        let data = self
            .until_acknowledged(turn, &self.firm, SUBMIT, vars)
            .await;
        data["submitApplication"].clone()
    }

    /// One client: applications `client`, `client + CLIENTS`, … until told to stop; each is
    /// submitted and nominated, and every third one brings a timer application.
    async fn client(self: Arc<Self>, client: usize) {
        const NOMINATE: &str = "mutation($t: ID!, $k: String) { act(input: {taskId: $t, action: \"nominate\", idempotencyKey: $k}) { revision } }";
        let data = crate::support::example("soft-landing-sz-to-hk");
        let mut turn = client;
        let mut i = client;
        while !self.stop.load(Ordering::Relaxed) {
            let key = format!("submit-{i}");
            let app = self
                .submit(&mut turn, "soft-landing-sz-to-hk", &data, &key)
                .await;
            let id = app["id"].as_str().expect("an id").to_owned();
            self.ledger.lock().await.submitted.insert(key, id.clone());
            let task = app["openTasks"]
                .as_array()
                .and_then(|t| t.iter().find(|t| t["assignee"] == "ofds"))
                .and_then(|t| t["id"].as_str())
                .expect("the submission opens OFDS's screening")
                .to_owned();
            let vars = json!({"t": task, "k": format!("nominate-{i}")});
            self.until_acknowledged(&mut turn, &self.ofds, NOMINATE, vars)
                .await;
            self.ledger.lock().await.nominated.insert(id);
            if i.is_multiple_of(3) {
                self.timer(&mut turn, &format!("timer-{i}")).await;
            }
            i += CLIENTS;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Submits a timer application under `key`.
    async fn timer(&self, turn: &mut usize, key: &str) {
        let app = self.submit(turn, "quick-timer", &json!({}), key).await;
        let id = app["id"].as_str().expect("an id").to_owned();
        self.ledger.lock().await.timers.insert(key.to_owned(), id);
    }
}

/// The middle and the largest of some durations, in seconds.
fn median_max(mut d: Vec<f64>) -> (f64, f64) {
    d.sort_by(f64::total_cmp);
    let mid = if !d.len().is_multiple_of(2) {
        d[d.len() / 2]
    } else {
        (d[d.len() / 2 - 1] + d[d.len() / 2]) / 2.0
    };
    (mid, d[d.len() - 1])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "HA cluster: needs etcd, HAProxy and Patroni, run as root (scripts/with-services installs them and sets SOFTLAND_TEST_HA=1); pass --include-ignored (CI does)"]
async fn nothing_acknowledged_is_lost_across_ten_failovers() {
    assert!(
        std::env::var_os("SOFTLAND_TEST_HA").is_some(),
        "SOFTLAND_TEST_HA is not set: this test needs tests/ha/cluster.sh's components (scripts/with-services installs them)"
    );
    let cluster = Cluster::start();
    let db = TestDb::postgres_on(&format!("{}/postgres", cluster.url)).await;
    let log = temp_dir("ha-servers").join("servers.log");
    let a = Server::start_logged(
        db,
        "127.0.0.1:0",
        &[ALLOW_LOOPBACK, ("SOFTLAND_WEBHOOK_TIMEOUT_SECONDS", "2")],
        Some(&log),
    );
    let (b, c) = (a.another(), a.another());
    eprintln!(
        "failover: cluster in {}, servers' log in {}",
        cluster.dir.display(),
        log.display()
    );

    let r = gql_at(
        &a.url,
        Some(&a.admin),
        "mutation($y: String!) { publishWorkflow(yaml: $y) { key } }",
        json!({"y": crate::race::QUICK_TIMER}),
    )
    .await;
    assert!(r["errors"].is_null(), "{r}");
    let (hooks, rx) = receiver().await;
    endpoint(&a, &a.admin, &format!("{hooks}/all"), json!(null)).await;

    let load = Arc::new(Load {
        urls: vec![a.url.clone(), b.url.clone(), c.url.clone()],
        firm: a.key(&["--role", "applicant", "--org", "failover-firm"]),
        ofds: a.key(&["--role", "reviewer", "--agency", "ofds", "--name", "chen"]),
        ledger: Mutex::default(),
        stop: AtomicBool::new(false),
    });
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| tokio::spawn(load.clone().client(i)))
        .collect();

    // The faults, alternately; each outage lasts until a write through softland is
    // acknowledged again (the probe: a timer application, retried like any request).
    let mut outages: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut not_ready_seen: BTreeMap<&str, usize> = BTreeMap::new();
    for f in 0..FAILOVERS {
        cluster.healthy();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let kind = if f.is_multiple_of(2) {
            "kill -9"
        } else {
            "switchover"
        };
        let started = Instant::now();
        let old = cluster.run(&[if f.is_multiple_of(2) {
            "crash"
        } else {
            "switchover"
        }]);
        let probe = {
            let load = load.clone();
            tokio::spawn(async move {
                let mut turn = f;
                load.timer(&mut turn, &format!("probe-{f}")).await;
                started.elapsed()
            })
        };
        let mut was_not_ready = false;
        while !probe.is_finished() {
            if !crate::support::is_ready(&a.url, Duration::from_secs(2)).await {
                was_not_ready = true;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let outage = probe.await.unwrap().as_secs_f64();
        eprintln!("failover {f}: {kind} of {old}: writes refused for {outage:.1} s");
        outages.entry(kind).or_default().push(outage);
        *not_ready_seen.entry(kind).or_default() += usize::from(was_not_ready);
        if f.is_multiple_of(2) {
            cluster.run(&["revive", &old]);
        }
        assert!(
            crate::support::is_ready(&a.url, Duration::from_secs(5)).await,
            "ready again once writes are"
        );
    }
    load.stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
    cluster.healthy();

    let ledger = load.ledger.lock().await;
    eprintln!(
        "failover: {} acknowledged requests; errors clients saw: {:?}",
        ledger.acks, ledger.errors
    );
    for (kind, d) in &outages {
        let (median, max) = median_max(d.clone());
        eprintln!(
            "failover: {kind} ×{}: writes refused for median {median:.1} s, max {max:.1} s; /readyz said not ready during {} of them",
            d.len(),
            not_ready_seen[kind]
        );
    }
    let unexpected: Vec<_> = ledger
        .errors
        .keys()
        .filter(|code| !matches!(code.as_str(), "UNAVAILABLE" | "no answer"))
        .collect();
    assert!(
        unexpected.is_empty(),
        "clients see UNAVAILABLE (retryable) or no answer, nothing else: {:?}",
        ledger.errors
    );
    assert!(
        not_ready_seen["kill -9"] > 0,
        "/readyz says not ready while no primary is reachable"
    );

    // Every acknowledged submission is there, once per key, and nothing else.
    let mut listed = BTreeSet::new();
    let mut after = Value::Null;
    loop {
        let q = "query($a: String) { applications(first: 100, after: $a) { nodes { id } pageInfo { hasNextPage endCursor } } }";
        let page = gql_at(&a.url, Some(&a.admin), q, json!({"a": after})).await;
        let page = &page["data"]["applications"];
        for n in page["nodes"].as_array().expect("a page") {
            assert!(
                listed.insert(n["id"].as_str().unwrap().to_owned()),
                "listed twice: {n}"
            );
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    let acknowledged: BTreeSet<String> = ledger
        .submitted
        .values()
        .chain(ledger.timers.values())
        .cloned()
        .collect();
    assert_eq!(
        acknowledged.len(),
        ledger.submitted.len() + ledger.timers.len(),
        "one application per submission key"
    );
    assert_eq!(
        listed, acknowledged,
        "every acknowledged application, no other"
    );

    // Each nomination once; each timer fired once.
    let history =
        "query($id: ID!) { application(id: $id) { outcome activeStates history { kind action } } }";
    for id in &ledger.nominated {
        let r = gql_at(&a.url, Some(&a.admin), history, json!({"id": id})).await;
        let app = &r["data"]["application"];
        assert_eq!(
            count(&app["history"], |e| e["action"] == "nominate"),
            1,
            "nominated exactly once: {app}"
        );
    }
    for id in ledger.timers.values() {
        let app = crate::support::eventually("the timer fired", Duration::from_secs(60), || {
            let id = id.clone();
            let url = a.url.clone();
            let admin = a.admin.clone();
            async move {
                let r = gql_at(&url, Some(&admin), history, json!({"id": id})).await;
                let app = r["data"]["application"].clone();
                (app["outcome"] == "lapsed").then_some(app)
            }
        })
        .await;
        assert_eq!(
            count(&app["history"], |e| e["kind"] == "task_overdue"),
            1,
            "fired exactly once: {app}"
        );
    }

    // Every announced event reached the endpoint, each under one webhook-id.
    let mut expected = BTreeSet::new();
    for id in &acknowledged {
        for seq in announced(&a, id).await.into_keys() {
            expected.insert((id.clone(), seq));
        }
    }
    wait_for("every event delivered", Duration::from_secs(180), || {
        let got: BTreeSet<(String, i64)> =
            rx.at("all").iter().map(|d| (d.app(), d.seq())).collect();
        expected.iter().all(|k| got.contains(k))
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = rx.at("all");
    let mut ids_of: HashMap<(String, i64), BTreeSet<String>> = HashMap::new();
    for d in &got {
        ids_of
            .entry((d.app(), d.seq()))
            .or_default()
            .insert(d.id.clone());
    }
    for (event, ids) in &ids_of {
        assert_eq!(ids.len(), 1, "one webhook-id per event: {event:?} {ids:?}");
    }
    assert_eq!(
        ids_of.keys().cloned().collect::<BTreeSet<_>>(),
        expected,
        "every event, and nothing else"
    );
    eprintln!(
        "failover: {} applications, {} events delivered ({} requests to the endpoint)",
        acknowledged.len(),
        ids_of.len(),
        got.len()
    );

    let doctor = crate::support::softland(&["doctor", "--db", &a.db.url]);
    assert_eq!(doctor.code, 0, "{}", doctor.stdout);
    assert!(
        doctor
            .stdout
            .contains(&format!("checked {} applications", acknowledged.len())),
        "{}",
        doctor.stdout
    );
    drop((b, c, a));
    drop(cluster);
}
