//! The programme's report at scale (issue "Oversight"): `Store::report` for windows of
//! submissions at random moments of the loaded period — a day (about 4 300 applications at the
//! loader's density, at every size), a week and a month — as an administrator and as an
//! observer. Its target: p95 under [`super::REPORT_TARGET_MS`] at the largest size.

use chrono::{DateTime, Duration, Utc};
use softland_store::Store;
use softland_store::reports::{CaseQuery, PeriodBy};

use super::{QueryTimes, Rng, SPACING, START, p};

/// Timed calls per report query (they read thousands of applications each).
pub const REPORT_SAMPLES: usize = 20;

/// The report queries timed: (name, window in days, as whom, by which date).
const WINDOWS: [(&str, i64, Option<&str>, PeriodBy); 4] = [
    (
        "report: a day of submissions",
        1,
        None,
        PeriodBy::Submission,
    ),
    (
        "report: a week, HKMA observer",
        7,
        Some("hkma"),
        PeriodBy::Submission,
    ),
    ("report: a week, by decision", 7, None, PeriodBy::Decision),
    (
        "report: a month of submissions",
        30,
        None,
        PeriodBy::Submission,
    ),
];

/// Times each report query at `size` applications.
pub(super) async fn measure(
    store: &Store,
    size: u64,
    samples: usize,
    rng: &mut Rng,
) -> anyhow::Result<Vec<QueryTimes>> {
    let t0: DateTime<Utc> = START.parse()?;
    let now = t0 + Duration::seconds(size as i64 * SPACING);
    let mut out = Vec::new();
    for (query, days, observer, by) in WINDOWS {
        let mut times = Vec::with_capacity(samples);
        for i in 0..samples + 2 {
            // A window that ends inside the loaded period.
            let span = (size as i64 * SPACING - days * 86_400).max(0);
            let from = t0 + Duration::seconds(rng.below(span.max(1) as u64) as i64);
            let q = CaseQuery {
                by,
                overseen_by: observer.map(str::to_owned),
                ..CaseQuery::submitted(from, from + Duration::days(days))
            };
            let start = std::time::Instant::now();
            let report = store.report(&q, None, now).await?;
            let took = start.elapsed();
            if report.volumes.total == 0 && by == PeriodBy::Submission {
                anyhow::bail!("{query}: an empty window from {from}");
            }
            // the first two warm caches, as a running service has them
            if i >= 2 {
                times.push(took);
            }
        }
        times.sort();
        // Reports are slow enough that one round of a few calls is the measurement.
        let p95_ms = p(&times, 0.95);
        out.push(QueryTimes {
            query,
            p50_ms: p(&times, 0.5),
            p95_ms,
            rounds_p95_ms: vec![p95_ms],
        });
    }
    Ok(out)
}
