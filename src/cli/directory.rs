//! `softland directory load|agencies|people|deactivate`: the directory of agencies,
//! organizations and people.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use softland_store::directory::{Directory, Membership};

use super::DbArgs;
use super::db::{connect, runtime};

#[derive(Debug, Subcommand)]
pub(crate) enum DirectoryCommand {
    /// Add or update agencies, organizations and people from a YAML file (see
    /// `workflows/directory/` for the format). A person's membership never changes.
    Load {
        /// The file.
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List the agencies.
    Agencies {
        #[command(flatten)]
        db: DbArgs,
    },
    /// List people (of one agency or organization).
    People {
        /// Only this agency's.
        #[arg(long, conflicts_with = "org")]
        agency: Option<String>,
        /// Only this organization's.
        #[arg(long)]
        org: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Deactivate a person: their keys are revoked and their claims released.
    Deactivate {
        /// The person's id.
        id: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

pub(super) fn run(cmd: DirectoryCommand) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        match cmd {
            DirectoryCommand::Load { file, db } => {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let directory = Directory::parse_yaml(&text)
                    .with_context(|| format!("{} is not a directory file", file.display()))?;
                let store = connect(&db.db).await?;
                store.migrate().await?;
                let n = store.load_directory(&directory).await?;
                println!(
                    "loaded {} agencies, {} organizations, {} people",
                    n.agencies, n.organizations, n.people
                );
            }
            DirectoryCommand::Agencies { db } => {
                let store = connect(&db.db).await?;
                for a in store.agencies().await? {
                    println!("{:<18} {:<9} {}", a.key, a.region, a.name);
                }
            }
            DirectoryCommand::People { agency, org, db } => {
                let store = connect(&db.db).await?;
                let of = match (agency, org) {
                    (Some(a), _) => Some(Membership::Agency(a)),
                    (None, Some(o)) => Some(Membership::Organization(o)),
                    (None, None) => None,
                };
                for p in store.people(of.as_ref()).await? {
                    let roles = p.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>();
                    println!(
                        "{:<24} {:<28} {:<20} {:<8} {}",
                        p.id,
                        p.membership.label(),
                        roles.join(","),
                        if p.active { "active" } else { "inactive" },
                        p.display_name
                    );
                }
            }
            DirectoryCommand::Deactivate { id, db } => {
                let store = connect(&db.db).await?;
                if !store.deactivate_person(&id).await? {
                    bail!("no active person `{id}`");
                }
                println!("deactivated {id}: keys revoked, claims released");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
