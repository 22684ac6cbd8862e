//! `softland growth`: bulk-loads applications up to each size and times what users wait for at
//! each; what is measured is `softland_bench::growth`.

use std::process::ExitCode;

use clap::Args;

use super::db::{redact, runtime, scratch_db};
use super::progress::meters;

#[derive(Debug, Args)]
pub(crate) struct GrowthArgs {
    /// Database to grow (default: a new temporary SQLite file, removed afterwards).
    #[arg(long)]
    db: Option<String>,
    /// Sizes to measure at, ascending (applications in the database).
    #[arg(long, value_delimiter = ',', default_values_t = [10_000u64, 1_000_000])]
    sizes: Vec<u64>,
    /// Timed calls per query and size, in each round.
    #[arg(long, default_value_t = 300)]
    samples: usize,
    /// Rounds of timed calls: each figure is the median over the rounds; every round's p95 is
    /// printed too (the first right after loading).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Applications per bulk-load transaction.
    #[arg(long, default_value_t = 2000)]
    batch: usize,
    /// Directory of workflow YAML files.
    #[arg(long, default_value = "workflows")]
    workflows: std::path::PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub(super) fn run(args: GrowthArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let (db, tmp) = scratch_db(args.db.as_deref(), "growth")?;
        let settings = softland_bench::growth::Settings {
            label: redact(&db),
            db,
            sizes: args.sizes,
            samples: args.samples,
            rounds: args.rounds,
            batch: args.batch,
            workflows: args.workflows,
            happy_path: super::bundled::SZ_TO_HK_HAPPY.to_owned(),
        };
        let report = softland_bench::growth::run(&settings, &meters(args.json)).await;
        let _ = std::fs::remove_dir_all(&tmp);
        let report = report?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            report.print();
        }
        Ok(if report.flat() && report.reports_within_target() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    })
}
