//! `softland backup` and `softland restore`: the database and the documents it refers to, into
//! one folder and back.
//!
//! ```text
//! BACKUP/
//!   manifest.json    when, what (applications, events, documents), which database kind
//!   softland.db      SQLite: a consistent copy taken while serving (VACUUM INTO)
//!   softland.dump    PostgreSQL: pg_dump's custom format (its own consistent snapshot)
//!   documents/       every kept document's content, by SHA-256 (checked while copied)
//! ```
//!
//! The database is copied first, then the documents: every document the copy refers to was
//! stored before its row was written, so it is there to copy.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use softland_documents::{Storage, StorageConfig};
use softland_store::{BackendKind, Store, Totals};

use super::db::{redact, runtime};
use super::storage::StorageArgs;

const MANIFEST: &str = "manifest.json";
const SQLITE_FILE: &str = "softland.db";
const PG_FILE: &str = "softland.dump";
const DOCUMENTS: &str = "documents";

#[derive(Debug, Args)]
pub(crate) struct BackupArgs {
    #[command(flatten)]
    db: super::DbArgs,
    /// The folder to write (must not exist, or be empty).
    #[arg(long)]
    to: PathBuf,
    #[command(flatten)]
    storage: StorageArgs,
}

#[derive(Debug, Args)]
pub(crate) struct RestoreArgs {
    /// A folder `softland backup` wrote.
    #[arg(long)]
    from: PathBuf,
    /// The database to restore into: a SQLite file that does not exist yet, or an empty
    /// PostgreSQL database.
    #[command(flatten)]
    db: super::DbArgs,
    /// Where documents go (as `serve` would keep them).
    #[command(flatten)]
    storage: StorageArgs,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Manifest {
    format: u32,
    softland: String,
    created_at: chrono::DateTime<chrono::Utc>,
    database: String,
    totals: Totals,
    documents_copied: usize,
}

fn sqlite_file(url: &str) -> Option<PathBuf> {
    url.strip_prefix("sqlite://")
        .map(|rest| rest.split('?').next().unwrap_or_default())
        .filter(|p| !p.is_empty() && !p.contains(":memory:"))
        .map(PathBuf::from)
}

fn documents_at(dir: &Path) -> anyhow::Result<Storage> {
    Ok(Storage::open(&StorageConfig::Folder(dir.join(DOCUMENTS)))?)
}

/// Where util-linux's `setpriv` is (Debian has it in every install): it sets the parent-death
/// signal, then runs the tool.
const SETPRIV: &str = "/usr/bin/setpriv";

/// Runs `program` with `args`; its standard error in the error when it fails. The child ends
/// with softland: killed when this future is dropped, and — started through `setpriv
/// --pdeathsig KILL` where the system has it — by the kernel when softland itself is killed,
/// so no `pg_dump` is left running, reparented, after a `kill -9`.
async fn run_tool(program: &str, args: &[&str]) -> anyhow::Result<()> {
    let mut command = if Path::new(SETPRIV).exists() {
        let mut c = tokio::process::Command::new(SETPRIV);
        c.args(["--pdeathsig", "KILL", "--", program]);
        c
    } else {
        tokio::process::Command::new(program)
    };
    command.args(args).kill_on_drop(true);
    let out = command
        .output()
        .await
        .with_context(|| format!("cannot run {program} (install PostgreSQL's client tools)"))?;
    if !out.status.success() {
        bail!(
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Owner-only: folders 0700, files 0600 (a backup holds every application and document).
fn owner_only(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(path)?;
    if meta.is_dir() {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))?;
        for entry in std::fs::read_dir(path)? {
            owner_only(&entry?.path())?;
        }
    } else if meta.is_file() {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Backs up into a folder of its own beside `--to` (`<to>.partial-<pid>`, owner-only), renamed
/// to `--to` only when complete: a backup that is killed leaves no half-written `--to`.
pub(super) fn backup(args: BackupArgs) -> anyhow::Result<ExitCode> {
    let target = &args.to;
    if target.exists() && std::fs::read_dir(target)?.next().is_some() {
        bail!(
            "{} is not empty: back up into a new folder",
            target.display()
        );
    }
    let name = target
        .file_name()
        .context("--to names no folder")?
        .to_string_lossy()
        .into_owned();
    let partial = target.with_file_name(format!("{name}.partial-{}", std::process::id()));
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&partial)
            .with_context(|| format!("cannot create {}", partial.display()))?;
    }
    let done = write_backup(&args, &partial);
    if done.is_err() {
        let _ = std::fs::remove_dir_all(&partial);
        return done;
    }
    owner_only(&partial)?;
    if target.exists() {
        std::fs::remove_dir(target)
            .with_context(|| format!("cannot replace the empty {}", target.display()))?;
    }
    std::fs::rename(&partial, target)
        .with_context(|| format!("cannot move the backup to {}", target.display()))?;
    done
}

fn write_backup(args: &BackupArgs, dir: &Path) -> anyhow::Result<ExitCode> {
    let source = args.storage.config(&args.db.db)?;
    runtime()?.block_on(async {
        let store = Store::connect(&args.db.db)
            .await
            .with_context(|| format!("cannot connect to {}", redact(&args.db.db)))?;
        let started = chrono::Utc::now();
        let source = Storage::open(&source)?;
        let backup_documents = documents_at(dir)?;
        let (database, totals, documents) = match store.backend() {
            BackendKind::Sqlite => {
                store.backup_sqlite(&dir.join(SQLITE_FILE)).await?;
                // What the copy holds: counted in the copy, its documents listed from it.
                // (Opened read-write: the store sets its pragmas; closed, nothing is left
                // beside the file.)
                let copy = Store::connect(&format!(
                    "sqlite://{}?mode=rw",
                    dir.join(SQLITE_FILE).display()
                ))
                .await?;
                let totals = copy.totals().await?;
                let documents = copy_documents(&copy, &source, &backup_documents).await?;
                copy.close().await?;
                ("sqlite", totals, documents)
            }
            BackendKind::Postgres => {
                // pg_dump copies the snapshot the totals were counted in.
                let snapshot = store.pg_snapshot().await?;
                let file = dir.join(PG_FILE);
                let file = file
                    .to_str()
                    .context("the backup folder's path is not UTF-8")?;
                run_tool(
                    "pg_dump",
                    &[
                        "--format=custom",
                        "--no-owner",
                        "--snapshot",
                        &snapshot.name,
                        "--file",
                        file,
                        "--dbname",
                        &args.db.db,
                    ],
                )
                .await?;
                let totals = snapshot.totals;
                snapshot.release().await?;
                // Every document of the snapshot (and any added since: harmless).
                let documents = copy_documents(&store, &source, &backup_documents).await?;
                ("postgresql", totals, documents)
            }
        };
        let manifest = Manifest {
            format: 1,
            softland: env!("CARGO_PKG_VERSION").to_owned(),
            created_at: started,
            database: database.to_owned(),
            totals,
            documents_copied: documents,
        };
        std::fs::write(dir.join(MANIFEST), serde_json::to_string_pretty(&manifest)?)?;
        println!(
            "backed up {} applications, {} events and {} documents ({database}) to {}",
            totals.applications,
            totals.events,
            documents,
            args.to.display()
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// Copies every kept document of `store` from `from` to `to`; how many were copied.
async fn copy_documents(store: &Store, from: &Storage, to: &Storage) -> anyhow::Result<usize> {
    let mut after = None;
    let mut copied = 0;
    loop {
        let page = store.kept_documents(after, 500).await?;
        let Some(last) = page.last() else {
            return Ok(copied);
        };
        after = Some(last.id);
        for d in &page {
            if from
                .copy_to(&d.sha256, to)
                .await
                .with_context(|| format!("document {}", d.id))?
            {
                copied += 1;
            }
        }
    }
}

pub(super) fn restore(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let dir = &args.from;
    let manifest: Manifest = serde_json::from_str(
        &std::fs::read_to_string(dir.join(MANIFEST))
            .with_context(|| format!("{} is not a softland backup", dir.display()))?,
    )
    .with_context(|| format!("{}/{MANIFEST} does not parse", dir.display()))?;
    let target = args.storage.config(&args.db.db)?;
    let url = &args.db.db;
    match (manifest.database.as_str(), sqlite_file(url)) {
        ("sqlite", Some(file)) => {
            if file.exists() {
                bail!("{} exists: restore into a new file", file.display());
            }
            std::fs::copy(dir.join(SQLITE_FILE), &file)
                .with_context(|| format!("cannot write {}", file.display()))?;
        }
        ("postgresql", None) => {
            let file = dir.join(PG_FILE);
            let file = file
                .to_str()
                .context("the backup folder's path is not UTF-8")?;
            runtime()?.block_on(async {
                let store = Store::connect(url).await?;
                // softland's tables there already: not an empty database.
                if store.totals().await.is_ok() {
                    bail!(
                        "{} is not empty: restore into an empty database",
                        redact(url)
                    );
                }
                store.close().await?;
                run_tool(
                    "pg_restore",
                    &["--no-owner", "--exit-on-error", "--dbname", url, file],
                )
                .await
            })?;
        }
        (kind, _) => {
            bail!("this backup is of a {kind} database; restore it into one of the same kind")
        }
    }
    runtime()?.block_on(async {
        // Migrations a newer softland brings apply now.
        let store = Store::open(url)
            .await
            .with_context(|| format!("cannot open {}", redact(url)))?;
        let documents = copy_documents(&store, &documents_at(dir)?, &Storage::open(&target)?).await?;
        let totals = store.totals().await?;
        if totals != manifest.totals {
            bail!(
                "the restored database holds {totals:?}, the backup {:?}",
                manifest.totals
            );
        }
        let report = store.doctor().await?;
        for p in &report.problems {
            println!("problem: {p}");
        }
        println!(
            "restored {} applications, {} events and {} documents from the backup of {}; doctor: {} problem(s)",
            totals.applications,
            totals.events,
            documents,
            manifest.created_at,
            report.problems.len()
        );
        Ok(if report.problems.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    })
}
