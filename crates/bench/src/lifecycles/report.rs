//! What a lifecycle run reports, as JSON or as lines for people.

use std::collections::BTreeMap;

use serde::Serialize;

/// One operation's latencies.
#[derive(Debug, Serialize)]
pub struct OpReport {
    /// `submit`, `act`, …
    pub operation: &'static str,
    /// Calls made.
    pub count: usize,
    /// Median, milliseconds.
    pub p50_ms: f64,
    /// 95th percentile, milliseconds.
    pub p95_ms: f64,
    /// 99th percentile, milliseconds.
    pub p99_ms: f64,
}

/// What a run measured.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The database, as named to people.
    pub database: String,
    /// Lifecycles run.
    pub lifecycles: usize,
    /// Concurrent clients.
    pub clients: usize,
    /// Wall time.
    pub seconds: f64,
    /// Whole lifecycles per second.
    pub lifecycles_per_second: f64,
    /// Commands (submissions and actions) per second.
    pub commands_per_second: f64,
    /// Latencies per operation.
    pub operations: Vec<OpReport>,
    /// Errors by code.
    pub errors: BTreeMap<String, u64>,
    /// The server's peak resident memory.
    pub server_peak_rss_mib: Option<f64>,
    /// The database's raw rate, when measured.
    pub raw: Option<Raw>,
}

/// The database's own rate for the minimal rows of one transition, at the same client count.
#[derive(Debug, Serialize)]
pub struct Raw {
    /// How it was measured.
    pub method: &'static str,
    /// What one raw transaction writes.
    pub rows: &'static str,
    /// Transactions per second.
    pub transactions_per_second: Option<f64>,
    /// softland's commands/s ÷ the raw rate (each command is one durable transition).
    pub ratio: Option<f64>,
    /// Why there is no figure, when there is none.
    pub error: Option<String>,
}

impl Report {
    /// The report as lines for people.
    pub fn print(&self) {
        println!("database:   {}", self.database);
        println!(
            "lifecycles: {} with {} clients in {:.1} s → {:.1} lifecycles/s, {:.0} commands/s",
            self.lifecycles,
            self.clients,
            self.seconds,
            self.lifecycles_per_second,
            self.commands_per_second
        );
        for o in &self.operations {
            println!(
                "  {:<7} {:>6} calls  p50 {:>6.2} ms  p95 {:>6.2} ms  p99 {:>6.2} ms",
                o.operation, o.count, o.p50_ms, o.p95_ms, o.p99_ms
            );
        }
        if self.errors.is_empty() {
            println!("errors:     none");
        }
        for (code, n) in &self.errors {
            println!("errors:     {code}: {n}");
        }
        match self.server_peak_rss_mib {
            Some(m) => println!("server peak RSS: {m:.1} MiB"),
            None => println!("server peak RSS: unavailable"),
        }
        match &self.raw {
            Some(Raw {
                method,
                transactions_per_second: Some(raw),
                ratio: Some(ratio),
                ..
            }) => println!(
                "raw limit:  {raw:.0} transactions/s ({method}, {} clients) → softland reaches {:.0}%",
                self.clients,
                ratio * 100.0
            ),
            Some(Raw { error: Some(e), .. }) => println!("raw limit:  unavailable: {e}"),
            _ => {}
        }
    }
}
