//! Durable transitions through the store API, against what the database itself commits.
//!
//! ```sh
//! cargo bench -p softland-bench --bench durable             # SQLite and PostgreSQL
//! SOFTLAND_BENCH_SECONDS=20 cargo bench -p softland-bench --bench durable
//! SOFTLAND_BENCH_ONLY=postgres cargo bench -p softland-bench --bench durable   # or sqlite
//! SOFTLAND_BENCH_WRITERS=16 cargo bench -p softland-bench --bench durable      # or 1,4,16
//! ```
//!
//! For each backend and writer count (1, 16) it runs whole `soft-landing-sz-to-hk`
//! applications (submit + 7 actions, each a durable command) for a fixed time and prints
//! commands/s, state transitions/s and command latency p50/p99. In the same run it measures the
//! raw rate of the minimal rows of one transition (read the application's revision, update it
//! with a revision check, insert one event, upsert one task, in one transaction): `pgbench` with
//! a custom script on PostgreSQL, and the same statements through sqlx on SQLite (WAL, full
//! sync). The ratio softland / raw is the figure to watch (target ≥ 60% at 16 writers on
//! PostgreSQL).
//!
//! The bench uses the same allocator as the `softland` binary (mimalloc).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use softland_workflow::EventName;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use softland_store::test_util::TestDb;
use softland_store::{Act, Store, Submit};
use softland_workflow::Actor;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shared happy path (`workflows/examples/soft-landing-sz-to-hk.happy.yaml`) as
/// (state, agency, person, action).
fn steps() -> Vec<(String, String, String, String)> {
    let text =
        std::fs::read_to_string(root().join("workflows/examples/soft-landing-sz-to-hk.happy.yaml"))
            .expect("the happy path");
    softland_workflow::script::Script::parse(&text)
        .expect("it parses")
        .agency_steps()
}

struct Run {
    commands: u64,
    transitions: u64,
    latencies: Vec<Duration>,
    elapsed: Duration,
}

async fn writer(
    store: Store,
    data: serde_json::Value,
    steps: std::sync::Arc<Vec<(String, String, String, String)>>,
    deadline: Instant,
    me: usize,
) -> Run {
    let mut run = Run {
        commands: 0,
        transitions: 0,
        latencies: Vec::new(),
        elapsed: Duration::ZERO,
    };
    let mut n = 0;
    while Instant::now() < deadline {
        n += 1;
        let t = Instant::now();
        let sub = store
            .submit(Submit {
                position: None,
                workflow_key: "soft-landing-sz-to-hk".into(),
                organization: format!("firm-{me}"),
                actor: Actor::applicant(format!("u{me}-{n}")),
                data: data.clone(),
                idempotency_key: None,
            })
            .await
            .expect("submit");
        run.latencies.push(t.elapsed());
        run.commands += 1;
        run.transitions += sub
            .events
            .iter()
            .filter(|e| e.kind == EventName::Entered)
            .count() as u64;
        // A client learns task ids from what each command opened (no extra reads).
        let mut open = sub.opened;
        for (state, agency, person, action) in steps.iter() {
            let i = open
                .iter()
                .position(|t| t.state == *state && t.assignee.key() == *agency)
                .expect("open task");
            let task = open.swap_remove(i);
            let t = Instant::now();
            let out = store
                .act(Act::new(
                    task.id,
                    Actor::reviewer(person.as_str(), agency.as_str()),
                    action.clone(),
                ))
                .await
                .expect("act");
            run.latencies.push(t.elapsed());
            run.commands += 1;
            run.transitions += out
                .events
                .iter()
                .filter(|e| e.kind == EventName::Entered)
                .count() as u64;
            open.extend(out.opened);
        }
    }
    run
}

async fn softland(url: &str, writers: usize, secs: u64) -> (f64, f64, Duration, Duration) {
    let store = Store::open(url).await.unwrap();
    store
        .publish_dir(&root().join("workflows"), "bench")
        .await
        .unwrap();
    let data: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("workflows/examples/soft-landing-sz-to-hk.json"))
            .unwrap(),
    )
    .unwrap();
    let steps = std::sync::Arc::new(steps());
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            tokio::spawn(writer(
                store.clone(),
                data.clone(),
                steps.clone(),
                deadline,
                w,
            ))
        })
        .collect();
    let mut all = Run {
        commands: 0,
        transitions: 0,
        latencies: Vec::new(),
        elapsed: Duration::ZERO,
    };
    for h in handles {
        let r = h.await.unwrap();
        all.commands += r.commands;
        all.transitions += r.transitions;
        all.latencies.extend(r.latencies);
    }
    all.elapsed = start.elapsed();
    all.latencies.sort();
    let pct = |p: f64| {
        all.latencies[((all.latencies.len() as f64 * p) as usize).min(all.latencies.len() - 1)]
    };
    let s = all.elapsed.as_secs_f64();
    (
        all.commands as f64 / s,
        all.transitions as f64 / s,
        pct(0.50),
        pct(0.99),
    )
}

fn row(backend: &str, writers: usize, r: (f64, f64, Duration, Duration), raw: Option<f64>) {
    let ratio = raw.map_or("n/a".to_owned(), |raw| format!("{:.0}%", 100.0 * r.0 / raw));
    println!(
        "| {backend:<10} | {writers:>7} | {:>10.0} | {:>13.0} | {:>8.2} | {:>8.2} | {:>11} | {:>6} |",
        r.0,
        r.1,
        r.2.as_secs_f64() * 1000.0,
        r.3.as_secs_f64() * 1000.0,
        raw.map_or("n/a".to_owned(), |v| format!("{v:.0}")),
        ratio
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run briefly then.
    let quick = !std::env::args().any(|a| a == "--bench");
    let secs: u64 = std::env::var("SOFTLAND_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 1 } else { 10 });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        println!("durable commands through the store API, {secs} s per row (soft-landing-sz-to-hk lifecycles)");
        println!("| backend    | writers | commands/s | transitions/s | p50 (ms) | p99 (ms) | raw tx/s    | ratio  |");
        println!("|------------|---------|------------|---------------|----------|----------|-------------|--------|");
        let only = std::env::var("SOFTLAND_BENCH_ONLY").unwrap_or_default();
        // SOFTLAND_BENCH_WRITERS=16 (or 1,4,16) picks the writer counts.
        let counts: Vec<usize> = std::env::var("SOFTLAND_BENCH_WRITERS")
            .ok()
            .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
            .unwrap_or_else(|| vec![1, 16]);
        for &writers in &counts {
            if only == "postgres" {
                break;
            }
            let db = TestDb::sqlite();
            let r = softland(&db.url, writers, secs).await;
            let raw = softland_bench::baseline::sqlite(writers, secs).await.ok();
            row("sqlite", writers, r, raw);
        }
        if only == "sqlite" {
            return;
        }
        if std::env::var(softland_store::test_util::POSTGRES_ENV).is_err() {
            println!("(PostgreSQL skipped: set {} to include it)", softland_store::test_util::POSTGRES_ENV);
            return;
        }
        for &writers in &counts {
            let db = TestDb::postgres().await;
            let r = softland(&db.url, writers, secs).await;
            let server = std::env::var(softland_store::test_util::POSTGRES_ENV).unwrap_or_default();
            let raw = match softland_bench::baseline::postgres(&server, writers, secs).await {
                Ok(raw) => Some(raw),
                Err(e) => {
                    eprintln!("raw PostgreSQL rate unavailable: {e}");
                    None
                }
            };
            row("postgresql", writers, r, raw);
        }
    });
}
