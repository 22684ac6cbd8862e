//! Full application lifecycles over real HTTP GraphQL against a server it
//! starts (SQLite or PostgreSQL by `--db`) as a child process, so the server's own peak memory
//! can be read. 10% of lifecycles take an information-request loop, 10% are rejected.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use softland_store::{KeyRole, Store};
use softland_workflow::script::{ActStep, Script};
use tokio::sync::Mutex;

use crate::{Meters, baseline};
use softland_workflow::Assignee;

mod report;
pub use report::{OpReport, Raw, Report};

/// What to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The server's database URL.
    pub db: String,
    /// How reports name it (its URL without credentials).
    pub label: String,
    /// Full lifecycles to run.
    pub lifecycles: usize,
    /// Concurrent clients.
    pub clients: usize,
    /// Directory of workflow YAML files (with `examples/`).
    pub workflows: std::path::PathBuf,
    /// Seconds to measure the database's own rate at the same client count after the run; 0
    /// skips it.
    pub raw_seconds: u64,
    /// Nothing on standard error but failures (the report goes out as JSON).
    pub quiet: bool,
}

/// The server under test, killed on drop.
struct ServerProc {
    child: Child,
    url: String,
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(db: &str, workflows: &std::path::Path) -> anyhow::Result<ServerProc> {
    let exe = std::env::current_exe().context("cannot find the softland executable")?;
    // The server's log (warnings and errors) goes to `SOFTLAND_BENCH_SERVER_LOG` when set: what
    // an error the report counts was, in the server's words.
    let log = match std::env::var_os("SOFTLAND_BENCH_SERVER_LOG") {
        Some(path) => Stdio::from(
            std::fs::File::create(&path)
                .with_context(|| format!("cannot create {}", path.to_string_lossy()))?,
        ),
        None => Stdio::null(),
    };
    let mut child = Command::new(exe)
        .args([
            "serve",
            "--db",
            db,
            "--listen",
            "127.0.0.1:0",
            // Every client acts as the same few people (one firm, a reviewer per step): the
            // per-person share a real server gives each caller would measure the queue.
            "--requests-per-caller",
            "1024",
            "--workflows",
        ])
        .arg(workflows)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .context("cannot start softland serve")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout);
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            let _ = child.kill();
            let _ = child.wait();
            bail!("softland serve exited before listening");
        }
        if let Some(rest) = line.trim().strip_prefix("softland listening on ") {
            let url = rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
            std::thread::spawn(move || for _ in lines.lines() {});
            return Ok(ServerProc {
                child,
                url: format!("{url}/graphql"),
            });
        }
    }
}

/// Peak resident memory of a process, in MiB (Linux `VmHWM`).
fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

#[derive(Default)]
struct Stats {
    latencies: BTreeMap<&'static str, Vec<Duration>>,
    errors: BTreeMap<String, u64>,
}

async fn raw_rate(db: &str, clients: usize, seconds: u64, quiet: bool) -> Raw {
    let postgres = db.starts_with("postgres");
    if !quiet {
        eprintln!(
            "measuring the raw {} rate with {clients} clients for {seconds} s…",
            if postgres {
                "PostgreSQL (pgbench)"
            } else {
                "SQLite"
            }
        );
    }
    let rate = if postgres {
        baseline::postgres(db, clients, seconds).await
    } else {
        baseline::sqlite(clients, seconds).await
    };
    Raw {
        method: if postgres {
            "pgbench, custom script"
        } else {
            "sqlite through sqlx, WAL, synchronous=FULL"
        },
        rows: baseline::TRANSITION_ROWS,
        transactions_per_second: rate.as_ref().ok().copied(),
        ratio: None,
        error: rate.err().map(|e| e.to_string()),
    }
}

struct Keys {
    firm: String,
    /// A reviewer's key by the happy path's `AGENCY:PERSON`.
    reviewers: BTreeMap<String, String>,
    /// Steps and expected outcome by lifecycle kind.
    lifecycles: [(Vec<ActStep>, &'static str); 3],
}

struct Client {
    http: reqwest::Client,
    url: String,
    stats: Arc<Mutex<Stats>>,
}

impl Client {
    async fn call(
        &self,
        op: &'static str,
        token: &str,
        query: &str,
        variables: Value,
    ) -> Option<Value> {
        let start = Instant::now();
        let sent = self
            .http
            .post(&self.url)
            .bearer_auth(token)
            .json(&json!({"query": query, "variables": variables}))
            .send()
            .await;
        let elapsed = start.elapsed();
        let body: Option<Value> = match sent {
            Ok(r) => r.json().await.ok(),
            Err(_) => None,
        };
        let mut stats = self.stats.lock().await;
        match body {
            Some(b) if b["errors"].is_null() => {
                stats.latencies.entry(op).or_default().push(elapsed);
                Some(b["data"].clone())
            }
            Some(b) => {
                let code = b["errors"][0]["extensions"]["code"]
                    .as_str()
                    .unwrap_or("UNKNOWN")
                    .to_owned();
                *stats.errors.entry(code).or_default() += 1;
                None
            }
            None => {
                *stats.errors.entry("TRANSPORT".to_owned()).or_default() += 1;
                None
            }
        }
    }
}

const SUBMIT: &str = "mutation($d: JSON!) { submitApplication(input: {workflowKey: \"soft-landing-sz-to-hk\", data: $d}) { id openTasks { id state assignee } } }";
const ACT: &str = "mutation($t: ID!, $a: String!, $d: JSON) { act(input: {taskId: $t, action: $a, data: $d}) { id outcome openTasks { id state assignee } } }";

fn task_of(app: &Value, state: &str, assignee: &str) -> Option<String> {
    app["openTasks"]
        .as_array()?
        .iter()
        .find(|t| t["state"] == state && t["assignee"] == assignee)?["id"]
        .as_str()
        .map(str::to_owned)
}

/// The lifecycles the bench mixes, from the shared happy path: `kind` 0 as written, 1 with an
/// information request answered before the screening, 2 rejected at HKSTP's review. Each is
/// its steps and the outcome it ends with.
fn lifecycle_steps(happy: &Script, kind: u8) -> anyhow::Result<(Vec<ActStep>, &'static str)> {
    let mut steps: Vec<ActStep> = happy.acts().cloned().collect();
    let at = |steps: &[ActStep], state: &str| {
        steps
            .iter()
            .position(|s| s.state == state)
            .with_context(|| format!("the happy path has no `{state}` step"))
    };
    match kind {
        1 => {
            let i = at(&steps, "eligibility_screening")?;
            let ask = ActStep {
                action: "request_info".into(),
                input: Some(json!({"question": "Audited accounts for FY2025?"})),
                ..steps[i].clone()
            };
            let answer = ActStep {
                state: "eligibility_information".into(),
                action: "answer".into(),
                by: Assignee::Applicant.key().into(),
                comment: None,
                input: Some(json!({"answer": "Attached."})),
            };
            steps.splice(i..i, [ask, answer]);
        }
        2 => {
            let i = at(&steps, "hkstp_review")?;
            steps.truncate(i + 1);
            steps[i].action = "reject".into();
            steps[i].input = Some(json!({"reason": "Not a technology company"}));
            return Ok((steps, "rejected"));
        }
        _ => {}
    }
    Ok((steps, "approved"))
}

/// One lifecycle of `kind` (see [`lifecycle_steps`]). Returns the number of commands sent, or
/// `None` when one failed or the application did not end as it should.
async fn lifecycle(c: &Client, keys: &Keys, data: &Value, kind: u8) -> Option<u64> {
    let (steps, outcome) = &keys.lifecycles[usize::from(kind)];
    let mut app = c
        .call("submit", &keys.firm, SUBMIT, json!({"d": data}))
        .await?["submitApplication"]
        .clone();
    for s in steps {
        let (assignee, token) = match s.agency_person() {
            Some((agency, _)) => (agency, keys.reviewers.get(&s.by)?),
            None => (Assignee::Applicant.key(), &keys.firm),
        };
        let t = task_of(&app, &s.state, assignee)?;
        let input = s.input.clone().unwrap_or(Value::Null);
        let out = c
            .call(
                "act",
                token,
                ACT,
                json!({"t": t, "a": s.action, "d": input}),
            )
            .await?;
        app = out["act"].clone();
    }
    (app["outcome"] == *outcome).then_some(steps.len() as u64 + 1)
}

fn pct(v: &[Duration], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v[((v.len() as f64 * p) as usize).min(v.len() - 1)].as_secs_f64() * 1000.0
}

/// Runs `settings.lifecycles` lifecycles with `settings.clients` clients against a server on
/// `store`'s database (its directory seeded; the store is closed before the server starts).
pub async fn run(args: Settings, store: Store, meters: Meters<'_>) -> anyhow::Result<Report> {
    {
        let db = args.db.clone();
        let happy = Script::parse(&std::fs::read_to_string(
            args.workflows
                .join("examples/soft-landing-sz-to-hk.happy.yaml"),
        )?)
        .map_err(anyhow::Error::msg)?;
        let mut keys = Keys {
            firm: store
                .create_key(
                    "bench-firm",
                    KeyRole::Applicant {
                        organization: "bench-firm".into(),
                    },
                )
                .await?
                .1,
            reviewers: BTreeMap::new(),
            lifecycles: [
                lifecycle_steps(&happy, 0)?,
                lifecycle_steps(&happy, 1)?,
                lifecycle_steps(&happy, 2)?,
            ],
        };
        for step in happy.acts() {
            let Some((agency, person)) = step.agency_person() else {
                continue;
            };
            if !keys.reviewers.contains_key(&step.by) {
                let (_, t) = store
                    .create_key(
                        &format!("{agency}-{person}"),
                        KeyRole::Reviewer {
                            agency: agency.into(),
                        },
                    )
                    .await?;
                keys.reviewers.insert(step.by.clone(), t);
            }
        }
        store.close().await?;
        let server = start_server(&db, &args.workflows)?;
        let data: Value = serde_json::from_str(&std::fs::read_to_string(
            args.workflows.join("examples/soft-landing-sz-to-hk.json"),
        )?)?;
        let stats = Arc::new(Mutex::new(Stats::default()));
        let next = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicU64::new(0));
        let commands = Arc::new(AtomicU64::new(0));
        let keys = Arc::new(keys);
        let start = Instant::now();
        let mut workers = Vec::new();
        for _ in 0..args.clients.max(1) {
            let c = Client {
                http: reqwest::Client::new(),
                url: server.url.clone(),
                stats: stats.clone(),
            };
            let (keys, data, next, done, commands, total) = (
                keys.clone(),
                data.clone(),
                next.clone(),
                done.clone(),
                commands.clone(),
                args.lifecycles as u64,
            );
            workers.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= total {
                        return;
                    }
                    let kind = match i % 10 {
                        3 => 1,
                        7 => 2,
                        _ => 0,
                    };
                    if let Some(n) = lifecycle(&c, &keys, &data, kind).await {
                        commands.fetch_add(n, Ordering::Relaxed);
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        let progress = {
            let (done, total) = (done.clone(), args.lifecycles as u64);
            let bar = meters("bench".to_owned(), "lifecycles", total);
            tokio::spawn(async move {
                loop {
                    let d = done.load(Ordering::Relaxed);
                    if d >= total {
                        bar.finish(d);
                        return;
                    }
                    bar.show(d);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            })
        };
        for w in workers {
            w.await?;
        }
        let _ = progress.await;
        let seconds = start.elapsed().as_secs_f64();
        let rss = peak_rss_mib(server.child.id());
        drop(server);
        let commands_per_second = commands.load(Ordering::Relaxed) as f64 / seconds;
        let raw = if args.raw_seconds > 0 {
            let mut raw = raw_rate(&db, args.clients.max(1), args.raw_seconds, args.quiet).await;
            raw.ratio = raw.transactions_per_second.map(|r| commands_per_second / r);
            Some(raw)
        } else {
            None
        };
        let stats = stats.lock().await;
        let operations = stats
            .latencies
            .iter()
            .map(|(op, v)| {
                let mut v = v.clone();
                v.sort();
                OpReport {
                    operation: op,
                    count: v.len(),
                    p50_ms: pct(&v, 0.50),
                    p95_ms: pct(&v, 0.95),
                    p99_ms: pct(&v, 0.99),
                }
            })
            .collect();
        let report = Report {
            database: args.label.clone(),
            lifecycles: args.lifecycles,
            clients: args.clients,
            seconds,
            lifecycles_per_second: args.lifecycles as f64 / seconds,
            commands_per_second,
            operations,
            errors: stats.errors.clone(),
            server_peak_rss_mib: rss,
            raw,
        };
        Ok(report)
    }
}
