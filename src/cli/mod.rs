//! Command-line interface: one module per subcommand.

mod backup;
mod bench;
mod bundled;
mod calendars;
mod config;
mod db;
mod demo;
mod diagram;
mod directory;
mod growth;
mod keys;
mod load;
mod migrate_applications;
mod notify;
mod progress;
mod serve;
mod service;
mod simulate;
mod simulate_pools;
mod storage;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

pub use load::load_workflow;

/// softland — soft-landing applications between Shenzhen and Hong Kong.
#[derive(Debug, Parser)]
#[command(name = "softland", version, about, long_about = None)]
struct Cli {
    /// A TOML file of settings (keys are the flags' names); environment variables and flags
    /// override it. See docs/deploy.md.
    #[arg(long, global = true, env = "SOFTLAND_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check workflow definitions; prints `path:line:column: code: message` for every problem.
    Validate {
        /// Workflow YAML files (or directories of them).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Draw a workflow as a Mermaid or Graphviz diagram.
    Diagram {
        /// The workflow YAML file.
        path: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = DiagramFormat::Mermaid)]
        format: DiagramFormat,
    },
    /// Dry-run an application through a workflow with a scripted sequence of actions.
    Simulate {
        /// The workflow YAML file.
        path: PathBuf,
        /// The application form data (JSON).
        #[arg(long)]
        data: PathBuf,
        /// The script of actions (YAML): see docs/workflow-language.md.
        #[arg(long)]
        script: PathBuf,
        /// Print every event as JSON lines instead of the readable trace.
        #[arg(long)]
        json: bool,
    },
    /// Run the GraphQL service: migrations applied, workflows loaded, scheduler running.
    Serve(Box<serve::ServeArgs>),
    /// A guided tour: starts softland on a free port with a temporary database and walks one
    /// Shenzhen → Hong Kong application through every step with real GraphQL calls.
    Demo {
        /// Directory of workflow YAML files (default: `./workflows` if there is one, else the
        /// workflows bundled in the binary).
        #[arg(long)]
        workflows: Option<PathBuf>,
    },
    /// Load generator: full lifecycles over HTTP GraphQL against a server it starts; prints
    /// throughput, latency percentiles per operation, errors by code and the server's peak RSS.
    Bench(bench::BenchArgs),
    /// Growth benchmark: bulk-loads applications up to each size (default 10 000 and 1 000 000)
    /// and times an agency's inbox page, a firm's application list and a lookup at each.
    Growth(growth::GrowthArgs),
    /// Manage API keys (tokens are shown once, stored hashed).
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// The directory: agencies, organizations and people.
    #[command(subcommand)]
    Directory(directory::DirectoryCommand),
    /// Apply pending database migrations (the server also does this at start).
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Move running applications to another version of their workflow, as a plan file says
    /// (see docs/workflow-language.md): `--dry-run` lists, per application, whether it would
    /// move or why not; without it, an approved plan runs (one transaction per application,
    /// resumable). A new plan waits for a second administrator's `approveMigration`.
    MigrateApplications {
        #[command(flatten)]
        db: DbArgs,
        /// The plan (YAML): `workflow`, `from_version`, `to_version`, `mappings`, `timers`,
        /// and `applications` or `state` to narrow it.
        #[arg(long)]
        plan: PathBuf,
        /// Only say what would happen.
        #[arg(long)]
        dry_run: bool,
    },
    /// Check every application: it must equal the fold of its events, and the audit hash chain
    /// must be intact. Exit 1 on any problem.
    Doctor {
        #[command(flatten)]
        db: DbArgs,
        /// Folder of holiday tables the server uses (`hk.txt`, `mainland.txt`), to report how
        /// long they still cover.
        #[arg(long, env = "SOFTLAND_CALENDARS")]
        calendars: Option<PathBuf>,
        /// Where documents are kept: their stored bytes are checked against their SHA-256.
        #[command(flatten)]
        storage: storage::StorageArgs,
    },
    /// The configuration: `softland config check` prints the effective settings of `serve`
    /// (defaults, file, environment, flags; secrets masked) and exits 1 if any is invalid.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Back up the database and the documents it refers to into a new folder, while serving:
    /// SQLite as a consistent copy, PostgreSQL with pg_dump; see docs/deploy.md.
    Backup(backup::BackupArgs),
    /// Restore a backup into a new SQLite file or an empty PostgreSQL database (and the
    /// documents into the document store), then check it as `doctor` does; exit 1 on a problem.
    Restore(backup::RestoreArgs),
    /// Ask a running server whether it is ready (`GET /readyz`); exit 0 when it is, 1 when
    /// not: a container's health check, with no shell or curl in the image.
    Healthcheck {
        /// The server's readiness address.
        #[arg(
            long,
            env = "SOFTLAND_HEALTHCHECK_URL",
            default_value = "http://127.0.0.1:8080/readyz"
        )]
        url: String,
    },
    /// Write the audit log of a period as JSON lines (to stdout).
    AuditExport {
        #[command(flatten)]
        db: DbArgs,
        /// Start (inclusive), RFC 3339, e.g. 2026-01-01T00:00:00Z.
        #[arg(long)]
        from: chrono::DateTime<chrono::Utc>,
        /// End (exclusive), RFC 3339.
        #[arg(long)]
        to: chrono::DateTime<chrono::Utc>,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the effective settings of `serve` with where each comes from; exit 1 if invalid.
    Check(Box<serve::ServeArgs>),
}

/// Where the database is (shared by every command that uses it).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct DbArgs {
    /// Database URL: `sqlite://PATH?mode=rwc` (default) or `postgres://USER@HOST:PORT/DB`.
    #[arg(
        long,
        env = "SOFTLAND_DB",
        default_value = "sqlite://softland.db?mode=rwc"
    )]
    pub(crate) db: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DiagramFormat {
    Mermaid,
    Dot,
}

/// Parses the command line and runs the command.
pub fn run() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let (cmd, from_file) = match config::layered(Cli::command(), &args) {
        Ok(layered) => layered,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let matches = cmd.clone().get_matches_from(&args);
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let result = match cli.command {
        Command::Config(ConfigCommand::Check(args)) => {
            let check = cmd
                .find_subcommand("config")
                .and_then(|c| c.find_subcommand("check"));
            let found = matches
                .subcommand_matches("config")
                .and_then(|m| m.subcommand_matches("check"));
            match (check, found) {
                (Some(c), Some(m)) => {
                    config::print_check(c, m, &from_file, || serve::validate(&args))
                }
                _ => Ok(ExitCode::from(2)),
            }
        }
        Command::Validate { paths } => validate::run(&paths),
        Command::Diagram { path, format } => diagram::run(&path, format),
        Command::Simulate {
            path,
            data,
            script,
            json,
        } => simulate::run(&path, &data, &script, json),
        Command::Serve(args) => serve::run(*args),
        Command::Keys(cmd) => keys::run(cmd),
        Command::Directory(cmd) => directory::run(cmd),
        Command::Bench(args) => bench::run(args),
        Command::Growth(args) => growth::run(args),
        Command::Demo { workflows } => demo::run(workflows),
        Command::Migrate { db } => db::migrate(&db.db),
        Command::MigrateApplications { db, plan, dry_run } => {
            migrate_applications::run(&db.db, &plan, dry_run)
        }
        Command::Doctor {
            db,
            calendars,
            storage,
        } => storage
            .config(&db.db)
            .and_then(|s| db::doctor(&db.db, calendars.as_ref(), &s)),
        Command::AuditExport { db, from, to } => db::audit_export(&db.db, from, to),
        Command::Backup(args) => backup::backup(args),
        Command::Healthcheck { url } => db::healthcheck(&url),
        Command::Restore(args) => backup::restore(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
