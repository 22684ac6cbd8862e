//! How queries grow: bulk-loads applications up to each size (default 10 000, then 1 000 000)
//! and times what users wait for at each: an agency's inbox pages with each filter and order,
//! application lists with each filter, an application lookup, and the console's inbox and
//! application pages (see `pages`). The queries should stay flat: p50 at the largest size within 1.5× of
//! p50 at the smallest.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use serde_json::Value;
use softland_store::{
    ApplicationFilter, ClaimFilter, InboxFilter, InboxOrder, InboxOwner, SeedApplication, SeedStep,
    Store,
};
use softland_workflow::{Party, Status};
use uuid::Uuid;

use crate::Meters;
use softland_workflow::Assignee;

mod pages;
mod report;
mod reports;
pub use pages::PAGE_TARGET_MS;
pub use report::REPORT_TARGET_MS;
pub use report::{QueryTimes, Report, SizeReport, Verdict};
pub use reports::REPORT_SAMPLES;

/// What to grow and measure.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The database's URL.
    pub db: String,
    /// How reports name it (its URL without credentials).
    pub label: String,
    /// Sizes to measure at, ascending (applications in the database).
    pub sizes: Vec<u64>,
    /// Timed calls per query and size, in each round.
    pub samples: usize,
    /// Rounds of timed calls per query and size: the report gives each figure's median over
    /// the rounds, and every round's p95 (the first one right after loading).
    pub rounds: usize,
    /// Applications per bulk-load transaction.
    pub batch: usize,
    /// Directory of workflow YAML files (with `examples/`).
    pub workflows: std::path::PathBuf,
    /// The happy path of soft-landing-sz-to-hk, as a script: what every loaded application
    /// has been through.
    pub happy_path: String,
}

/// Each firm has this many applications, at every size: a firm's list means the same work.
const PER_FIRM: u64 = 50;
const AGENCIES: [&str; 4] = ["ofds", "investhk", "hkstp", "hkma"];
const PAGE: u64 = 20;
const WORKFLOW: &str = "soft-landing-sz-to-hk";
/// The first application's submission, and the seconds between two submissions.
const START: &str = "2025-01-01T00:00:00Z";
const SPACING: i64 = 20;

/// A small deterministic generator (SplitMix64), so runs are repeatable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The shared happy path of soft-landing-sz-to-hk, carried in the binary, as seed steps.
fn happy_path(text: &str) -> anyhow::Result<Vec<SeedStep>> {
    let script = softland_workflow::script::Script::parse(text)
        .map_err(|e| anyhow::anyhow!("the bundled happy path: {e}"))?;
    script
        .acts()
        .map(|a| {
            Ok(SeedStep {
                state: a.state.clone(),
                actor: a
                    .actor(Assignee::Applicant.key())
                    .map_err(anyhow::Error::msg)?,
                action: a.action.clone(),
                input: a.input.clone(),
            })
        })
        .collect()
}

/// Application `i` has taken a prefix of the happy `path`, so the database holds applications
/// at every stage (about a fifth of them finished).
fn seed(i: u64, t0: DateTime<Utc>, data: &Value, path: &[SeedStep]) -> SeedApplication {
    let taken = [0, 0, 1, 1, 2, 3, 4, 5, 7, 7][(i % 10) as usize];
    SeedApplication {
        workflow_key: WORKFLOW.into(),
        organization: format!("firm-{:06}", i / PER_FIRM),
        submitted_at: t0 + chrono::Duration::seconds(i as i64 * SPACING),
        data: data.clone(),
        steps: path[..taken].to_vec(),
    }
}

fn p(sorted: &[Duration], q: f64) -> f64 {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// The median of some figures (the middle one, or the mean of the middle two).
fn median(mut figures: Vec<f64>) -> f64 {
    figures.sort_by(f64::total_cmp);
    let n = figures.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => figures[n / 2],
        _ => (figures[n / 2 - 1] + figures[n / 2]) / 2.0,
    }
}

/// How many calls to time, and in how many rounds.
#[derive(Debug, Clone, Copy)]
struct Sampling {
    samples: usize,
    rounds: usize,
}

/// Times `call` (after warming up with it) as query `query`: `rounds` rounds of `samples`
/// calls each (call `i` of every round is the same call); each figure is the median of the
/// rounds'.
async fn time<F, Fut>(
    query: &'static str,
    sampling: Sampling,
    mut call: F,
) -> anyhow::Result<QueryTimes>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let Sampling { samples, rounds } = sampling;
    // warm caches and connections first, as a running service has them
    for i in 0..samples.min(100) {
        call(i).await?;
    }
    let (mut p50s, mut p95s) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for _ in 0..rounds {
        let mut times = Vec::with_capacity(samples);
        for i in 0..samples {
            let start = Instant::now();
            call(i).await?;
            times.push(start.elapsed());
        }
        times.sort();
        p50s.push(p(&times, 0.5));
        p95s.push(p(&times, 0.95));
    }
    Ok(QueryTimes {
        query,
        p50_ms: median(p50s),
        p95_ms: median(p95s.clone()),
        rounds_p95_ms: p95s,
    })
}

/// What one timed call picks at random: an agency, a firm, a moment of the loaded period and
/// a state one of the happy path's agencies works.
struct Pick {
    agency: &'static str,
    firm: String,
    at: DateTime<Utc>,
    /// The first due time at or after `at` in the agency's inbox (or `at`): a window from
    /// there holds tasks at every size. From `at` itself, most windows at 10 000 applications
    /// (submitted over two days) lay before any due time and came back empty.
    due_from: DateTime<Utc>,
    state: (String, String),
    id: Uuid,
}

type InboxCase = fn(&Pick) -> (InboxOwner, InboxFilter);
type ListCase = fn(&Pick) -> ApplicationFilter;

fn agency(p: &Pick) -> InboxOwner {
    InboxOwner::Agency(p.agency.into())
}

/// The inboxes timed: an agency's, plain and with each filter and order (two pages each, as a
/// reviewer scrolling does).
const INBOXES: [(&str, InboxCase); 9] = [
    ("agency inbox, two pages", |p| {
        (agency(p), InboxFilter::default())
    }),
    ("inbox by opened date", |p| {
        let order = InboxOrder::Opened;
        (
            agency(p),
            InboxFilter {
                order,
                ..Default::default()
            },
        )
    }),
    ("inbox of one state", |p| {
        let owner = InboxOwner::Agency(p.state.0.clone());
        let state = Some(p.state.1.clone());
        (
            owner,
            InboxFilter {
                state,
                ..Default::default()
            },
        )
    }),
    ("inbox of one workflow", |p| {
        let workflow_key = Some(WORKFLOW.into());
        (
            agency(p),
            InboxFilter {
                workflow_key,
                ..Default::default()
            },
        )
    }),
    ("inbox, overdue only", |p| {
        let overdue = Some(true);
        (
            agency(p),
            InboxFilter {
                overdue,
                ..Default::default()
            },
        )
    }),
    ("inbox, due in a window", |p| {
        let (due_after, due_before) = (
            Some(p.due_from),
            Some(p.due_from + chrono::Duration::days(7)),
        );
        (
            agency(p),
            InboxFilter {
                due_after,
                due_before,
                ..Default::default()
            },
        )
    }),
    ("inbox, claimed by me", |p| {
        let claim = Some(ClaimFilter::By(format!("{}:growth", p.agency)));
        (
            agency(p),
            InboxFilter {
                claim,
                ..Default::default()
            },
        )
    }),
    ("inbox, unclaimed", |p| {
        let claim = Some(ClaimFilter::Unclaimed);
        (
            agency(p),
            InboxFilter {
                claim,
                ..Default::default()
            },
        )
    }),
    ("inbox of one firm", |p| {
        let organization = Some(p.firm.clone());
        (
            agency(p),
            InboxFilter {
                organization,
                ..Default::default()
            },
        )
    }),
];

/// The application lists timed (one page each).
const LISTS: [(&str, ListCase); 8] = [
    ("firm's applications", |p| ApplicationFilter {
        organization: Some(p.firm.clone()),
        ..Default::default()
    }),
    ("firm's active applications", |p| ApplicationFilter {
        organization: Some(p.firm.clone()),
        status: Some(Status::Active),
        ..Default::default()
    }),
    ("agency's applications", |p| ApplicationFilter {
        agency: Some(p.agency.into()),
        ..Default::default()
    }),
    ("completed applications", |_| ApplicationFilter {
        status: Some(Status::Completed),
        ..Default::default()
    }),
    ("applications of a workflow", |_| ApplicationFilter {
        workflow_key: Some(WORKFLOW.into()),
        ..Default::default()
    }),
    ("applications with an outcome", |_| ApplicationFilter {
        outcome: Some("rejected".into()),
        ..Default::default()
    }),
    ("submitted in one day", |p| ApplicationFilter {
        submitted_after: Some(p.at),
        submitted_before: Some(p.at + chrono::Duration::days(1)),
        ..Default::default()
    }),
    // The firm's number, a piece of its name (`firm-000123`) that names one firm at any size:
    // a piece that more firms share at a million (the last four digits) is more work, not growth.
    ("organization name search", |p| ApplicationFilter {
        search: Some(p.firm["firm-".len()..].to_owned()),
        ..Default::default()
    }),
];

async fn measure(
    store: &Store,
    workflows: &std::path::Path,
    size: u64,
    sampling: Sampling,
    ids: &[Uuid],
    path: &[SeedStep],
    rng: &mut Rng,
) -> anyhow::Result<Vec<QueryTimes>> {
    let firms = size.div_ceil(PER_FIRM);
    let t0: DateTime<Utc> = START.parse()?;
    let states: Vec<(String, String)> = path
        .iter()
        .filter_map(|s| match &s.actor.party {
            Party::Agency(a) => Some((a.to_string(), s.state.clone())),
            _ => None,
        })
        .collect();
    let samples = sampling.samples;
    let mut picks = Vec::with_capacity(samples + 100);
    for _ in 0..samples + 100 {
        let agency = AGENCIES[rng.below(AGENCIES.len() as u64) as usize];
        let at = t0 + chrono::Duration::seconds(rng.below(size) as i64 * SPACING);
        let next_due = InboxFilter {
            due_after: Some(at),
            ..Default::default()
        };
        let due_from = store
            .inbox(&InboxOwner::Agency(agency.into()), &next_due, 1, None)
            .await?
            .items
            .first()
            .and_then(|(_, t)| t.due_at)
            .unwrap_or(at);
        picks.push(Pick {
            agency,
            firm: format!("firm-{:06}", rng.below(firms)),
            at,
            due_from,
            state: states[rng.below(states.len() as u64) as usize].clone(),
            id: ids[rng.below(ids.len() as u64) as usize],
        });
    }
    let mut out = Vec::new();
    for (query, case) in INBOXES {
        let times = time(query, sampling, |i| {
            let (owner, filter) = case(&picks[i]);
            async move {
                let page = store.inbox(&owner, &filter, PAGE, None).await?;
                if let Some((cursor, _)) = page.items.last() {
                    store.inbox(&owner, &filter, PAGE, Some(cursor)).await?;
                }
                Ok(())
            }
        })
        .await?;
        out.push(times);
    }
    for (query, case) in LISTS {
        let times = time(query, sampling, |i| {
            let filter = case(&picks[i]);
            async move {
                store.applications(&filter, PAGE, None).await?;
                Ok(())
            }
        })
        .await?;
        out.push(times);
    }
    let pages = pages::Pages::new(store, workflows, &AGENCIES).await?;
    let inbox_page = time("console: inbox page", sampling, |i| {
        let pages = &pages;
        async move { pages.inbox(i).await }
    })
    .await?;
    out.push(inbox_page);
    let application_page = time("console: application page", sampling, |i| {
        let (pages, id) = (&pages, picks[i].id);
        async move { pages.application(id).await }
    })
    .await?;
    out.push(application_page);
    let by_id = time("application by id", sampling, |i| {
        let id = picks[i].id;
        async move {
            store
                .application(id)
                .await?
                .context("a loaded application is missing")?;
            Ok(())
        }
    })
    .await?;
    out.push(by_id);
    Ok(out)
}

/// Grows the database to each size and times the queries and pages at each.
pub async fn run(args: &Settings, meters: Meters<'_>) -> anyhow::Result<Report> {
    if args.sizes.is_empty() || args.sizes.windows(2).any(|w| w[0] >= w[1]) {
        bail!("--sizes must be ascending, e.g. 10000,1000000");
    }
    if args.samples == 0 || args.batch == 0 || args.rounds == 0 {
        bail!("--samples, --rounds and --batch must be at least 1");
    }
    grow(args, &args.db, meters).await
}

async fn grow(args: &Settings, db: &str, meters: Meters<'_>) -> anyhow::Result<Report> {
    let store = Store::open(db)
        .await
        .with_context(|| format!("cannot open {}", args.label))?;
    store
        .publish_dir(&args.workflows, "softland growth")
        .await
        .context("cannot publish the workflows")?;
    let data: Value = serde_json::from_str(
        &std::fs::read_to_string(args.workflows.join("examples/soft-landing-sz-to-hk.json"))
            .context("cannot read the example application")?,
    )?;
    // An existing database is grown from where it is (or only measured, at its size).
    let already = store.count_applications(&Default::default()).await?;
    if already > args.sizes[0] {
        bail!(
            "{} already holds {already} applications, more than the first size",
            args.label
        );
    }
    let t0: DateTime<Utc> = START.parse()?;
    let path = happy_path(&args.happy_path)?;
    let mut rng = Rng(0x5eed);
    let mut sizes = Vec::new();
    let mut loaded = already;
    for &size in &args.sizes {
        let bar = meters(format!("loading to {size}"), "applications", size - loaded);
        let start = Instant::now();
        let first = loaded;
        while loaded < size {
            let n = (size - loaded).min(args.batch as u64);
            let batch: Vec<SeedApplication> = (loaded..loaded + n)
                .map(|i| seed(i, t0, &data, &path))
                .collect();
            store.bulk_load(&batch).await?;
            loaded += n;
            bar.show(loaded - first);
        }
        bar.finish(loaded - first);
        let load_seconds = start.elapsed().as_secs_f64();
        store.analyze().await?;
        // about 1 000 ids spread over the whole table for lookups
        let ids = store
            .sample_application_ids((size / 1000).max(1) as usize)
            .await?;
        if ids.is_empty() {
            bail!("no applications to look up");
        }
        let queries = measure(
            &store,
            &args.workflows,
            size,
            Sampling {
                samples: args.samples,
                rounds: args.rounds,
            },
            &ids,
            &path,
            &mut rng,
        )
        .await?;
        // What a server's keeper does after a bulk load: reports then read a row each.
        let start = Instant::now();
        store.keep_report_facts().await?;
        let facts_seconds = start.elapsed().as_secs_f64();
        let reports = reports::measure(&store, size, REPORT_SAMPLES, &mut rng).await?;
        sizes.push(SizeReport {
            applications: size,
            load_seconds,
            facts_seconds,
            queries,
            reports,
        });
    }
    store.close().await?;
    let (small, large) = (&sizes[0], &sizes[sizes.len() - 1]);
    let verdicts = small
        .queries
        .iter()
        .zip(&large.queries)
        .map(|(a, b)| {
            let ratio = b.p50_ms / a.p50_ms.max(1e-9);
            Verdict {
                query: a.query,
                p50_ratio: ratio,
                flat: ratio <= 1.5,
            }
        })
        .collect();
    Ok(Report {
        database: args.label.clone(),
        samples: args.samples,
        rounds: args.rounds,
        sizes,
        verdicts,
    })
}
