//! `softland migrate-applications --plan FILE [--dry-run]`: move running applications to
//! another version of their workflow from the command line, with the same plan, dry run and
//! four-eyes approval as the API's `planMigration` (see docs/workflow-language.md).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use serde::Deserialize;
use softland_store::app_migration::{NewPlan, Selection};
use softland_workflow::migration::Timers;
use softland_workflow::{Actor, Party};

use super::db::{connect, runtime};

/// The plan file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    /// The workflow's key.
    workflow: String,
    from_version: i32,
    to_version: i32,
    /// `old_state: new_state`.
    #[serde(default)]
    mappings: BTreeMap<String, String>,
    /// `keep_elapsed` (default) or `restart`.
    #[serde(default)]
    timers: Option<String>,
    /// Only these applications.
    #[serde(default)]
    applications: Option<Vec<uuid::Uuid>>,
    /// Only those in this state.
    #[serde(default)]
    state: Option<String>,
    /// Changes to the form data: `field: CEL expression over the old data`.
    #[serde(default)]
    set: BTreeMap<String, String>,
}

/// The most a plan file may hold.
const MOST_PLAN_FILE: u64 = 1024 * 1024;

fn read(path: &Path) -> anyhow::Result<NewPlan> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if size > MOST_PLAN_FILE {
        bail!("{} is larger than 1 MiB", path.display());
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file: PlanFile = serde_saphyr::from_str(&text)
        .with_context(|| format!("{} is not a migration plan", path.display()))?;
    let timers = match file.timers.as_deref() {
        None => Timers::KeepElapsed,
        Some(t) => Timers::parse(t)
            .with_context(|| format!("`timers` is `keep_elapsed` or `restart`, not `{t}`"))?,
    };
    let selection = match (file.applications, file.state) {
        (Some(_), Some(_)) => bail!("select by `applications` or by `state`, not both"),
        (Some(ids), None) => Selection::Applications(ids),
        (None, Some(s)) => Selection::State(s),
        (None, None) => Selection::All,
    };
    Ok(NewPlan {
        workflow_key: file.workflow,
        from_version: file.from_version,
        to_version: file.to_version,
        mappings: file.mappings.into_iter().collect(),
        timers,
        selection,
        data_changes: file.set.into_iter().collect(),
    })
}

pub(super) fn run(db: &str, plan: &Path, dry_run: bool) -> anyhow::Result<ExitCode> {
    let new = read(plan)?;
    runtime()?.block_on(async {
        let store = connect(db).await?;
        let (plan, made) = store.plan_migration_once(new, "cli").await?;
        println!(
            "plan {} ({} v{} → v{}, hash {}){}",
            plan.id,
            plan.workflow_key,
            plan.from_version,
            plan.to_version,
            &plan.hash[..12],
            if made { ", recorded now" } else { "" }
        );
        if dry_run {
            let d = store.dry_run(&plan, usize::MAX).await?;
            for c in &d.checks {
                match (&c.code, &c.reason) {
                    (Some(code), Some(reason)) => println!("  {}  {code}: {reason}", c.application_id),
                    _ => println!("  {}  will move (from {})", c.application_id, c.states.join(", ")),
                }
            }
            println!("{} applications: {} will move, {} cannot", d.total, d.ok, d.total - d.ok);
            for (code, n) in &d.blocked {
                println!("  {code}: {n}");
            }
            return Ok(if d.ok == d.total { ExitCode::SUCCESS } else { ExitCode::from(1) });
        }
        if plan.approved_by.is_none() {
            println!(
                "it moves nothing until a second administrator approves it: approveMigration(id: \"{}\") over the API; then run this again",
                plan.id
            );
            return Ok(ExitCode::from(1));
        }
        let actor = Actor {
            id: "cli".into(),
            party: Party::System,
        };
        let mut moved = 0;
        loop {
            let r = store.run_migration(plan.id, &actor).await?;
            moved += r.migrated;
            let blocked = r.blocked;
            println!("moved {} (so far {moved}); {} cannot move; {} remaining", r.migrated, r.blocked, r.remaining);
            if r.remaining == 0 || r.migrated == 0 {
                return Ok(if r.remaining == 0 && blocked == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) });
            }
        }
    })
}
