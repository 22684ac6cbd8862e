//! What a growth run reports, as JSON or as lines for people.

use serde::Serialize;

use super::PAGE_TARGET_MS;

/// The programme report's target, milliseconds (p95 at the largest size).
pub const REPORT_TARGET_MS: f64 = 2000.0;

/// One query's times at one size.
#[derive(Debug, Serialize)]
pub struct QueryTimes {
    /// What was timed.
    pub query: &'static str,
    /// Median, milliseconds (the median of the rounds' medians).
    pub p50_ms: f64,
    /// 95th percentile, milliseconds (the median of the rounds' p95).
    pub p95_ms: f64,
    /// Each round's 95th percentile, in order: the first right after loading.
    pub rounds_p95_ms: Vec<f64>,
}

/// Everything timed at one size.
#[derive(Debug, Serialize)]
pub struct SizeReport {
    /// Applications in the database.
    pub applications: u64,
    /// How long loading up to this size took.
    pub load_seconds: f64,
    /// How long keeping the reports' facts of the applications loaded took (what a server's
    /// keeper does once after an upgrade or a bulk load).
    pub facts_seconds: f64,
    /// Each query's times.
    pub queries: Vec<QueryTimes>,
    /// The programme report's times (windows of submissions; see `reports`).
    pub reports: Vec<QueryTimes>,
}

/// Whether a query stayed flat from the smallest size to the largest.
#[derive(Debug, Serialize)]
pub struct Verdict {
    /// The query.
    pub query: &'static str,
    /// p50 at the largest size ÷ p50 at the smallest.
    pub p50_ratio: f64,
    /// Within 1.5×.
    pub flat: bool,
}

/// What a run measured.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The database, as named to people.
    pub database: String,
    /// Timed calls per query and size, in each round.
    pub samples: usize,
    /// Rounds per query and size.
    pub rounds: usize,
    /// Each size's times.
    pub sizes: Vec<SizeReport>,
    /// p50 at the largest size ÷ p50 at the smallest; flat when ≤ 1.5.
    pub verdicts: Vec<Verdict>,
}

impl Report {
    /// Whether every query stayed flat.
    pub fn flat(&self) -> bool {
        self.verdicts.iter().all(|v| v.flat)
    }

    /// Whether every report query's p95 at the largest size is within its target.
    pub fn reports_within_target(&self) -> bool {
        self.sizes
            .last()
            .is_none_or(|s| s.reports.iter().all(|q| q.p95_ms < REPORT_TARGET_MS))
    }

    /// The report as lines for people.
    pub fn print(&self) {
        println!(
            "database: {} ({} rounds of {} calls per query; medians over the rounds)",
            self.database, self.rounds, self.samples
        );
        for s in &self.sizes {
            println!(
                "{} applications (loaded in {:.1} s, their report facts kept in {:.1} s):",
                s.applications, s.load_seconds, s.facts_seconds
            );
            for q in s.queries.iter().chain(&s.reports) {
                let rounds: Vec<String> =
                    q.rounds_p95_ms.iter().map(|p| format!("{p:.2}")).collect();
                println!(
                    "  {:<30} p50 {:>7.3} ms  p95 {:>7.3} ms  (p95 by round: {} ms)",
                    q.query,
                    q.p50_ms,
                    q.p95_ms,
                    rounds.join(" / ")
                );
            }
        }
        if let Some(large) = self.sizes.last() {
            for q in large
                .queries
                .iter()
                .filter(|q| q.query.starts_with("console"))
            {
                println!(
                    "{:<30} p95 {:.1} ms at {} applications: {} the {} ms target",
                    q.query,
                    q.p95_ms,
                    large.applications,
                    if q.p95_ms < PAGE_TARGET_MS {
                        "within"
                    } else {
                        "OVER"
                    },
                    PAGE_TARGET_MS
                );
            }
        }
        if let Some(large) = self.sizes.last() {
            for q in &large.reports {
                println!(
                    "{:<30} p95 {:.1} ms at {} applications: {} the {} ms target",
                    q.query,
                    q.p95_ms,
                    large.applications,
                    if q.p95_ms < REPORT_TARGET_MS {
                        "within"
                    } else {
                        "OVER"
                    },
                    REPORT_TARGET_MS
                );
            }
        }
        for v in &self.verdicts {
            println!(
                "{:<30} p50 ratio {:.2} → {}",
                v.query,
                v.p50_ratio,
                if v.flat { "flat" } else { "DEGRADES" }
            );
        }
    }
}
