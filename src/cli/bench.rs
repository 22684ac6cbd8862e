//! `softland bench`: full application lifecycles over real HTTP GraphQL against a server it
//! starts (SQLite or PostgreSQL by `--db`); what is measured is `softland_bench::lifecycles`.

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use softland_store::Store;

use super::db::{redact, runtime, scratch_db};
use super::progress::meters;

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Database for the server (default: a new temporary SQLite file).
    #[arg(long)]
    db: Option<String>,
    /// Full lifecycles to run.
    #[arg(long, default_value_t = 200)]
    lifecycles: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Directory of workflow YAML files.
    #[arg(long, default_value = "workflows")]
    workflows: std::path::PathBuf,
    /// Seconds to measure the database's own rate (pgbench, or sqlite in WAL mode) at the same
    /// client count after the run; 0 skips it.
    #[arg(long, default_value_t = 10)]
    raw_seconds: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub(super) fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let (db, tmp) = scratch_db(args.db.as_deref(), "bench")?;
        let store = Store::open(&db)
            .await
            .with_context(|| format!("cannot open {}", redact(&db)))?;
        super::bundled::Workflows::Folder(args.workflows.clone())
            .seed_directory(&store)
            .await?;
        let settings = softland_bench::lifecycles::Settings {
            label: redact(&db),
            db,
            lifecycles: args.lifecycles,
            clients: args.clients,
            workflows: args.workflows,
            raw_seconds: args.raw_seconds,
            quiet: args.json,
        };
        let report = softland_bench::lifecycles::run(settings, store, &meters(args.json)).await;
        let _ = std::fs::remove_dir_all(&tmp);
        let report = report?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            report.print();
        }
        Ok(if report.errors.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    })
}
