//! `softland keys create|list|revoke`.

use std::process::ExitCode;

use anyhow::bail;
use clap::{Subcommand, ValueEnum};
use softland_store::KeyRole;

use super::DbArgs;
use super::db::{connect, runtime};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum RoleArg {
    Admin,
    Reviewer,
    Applicant,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Create a key; its token is printed once, as the last line.
    Create {
        /// What the key may do.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The organization (applicant keys).
        #[arg(long)]
        org: Option<String>,
        /// The agency (reviewer keys).
        #[arg(long)]
        agency: Option<String>,
        /// Who holds it (recorded as the actor; four-eyes rules compare it).
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List keys (never their tokens).
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke a key by id.
    Revoke {
        /// The key's id (from `keys list`).
        id: uuid::Uuid,
        #[command(flatten)]
        db: DbArgs,
    },
}

pub(super) fn run(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        match cmd {
            KeysCommand::Create {
                role,
                org,
                agency,
                name,
                db,
            } => {
                let role = match (role, org, agency) {
                    (RoleArg::Admin, None, None) => KeyRole::Admin,
                    (RoleArg::Reviewer, None, Some(agency)) => KeyRole::Reviewer { agency },
                    (RoleArg::Applicant, Some(organization), None) => {
                        KeyRole::Applicant { organization }
                    }
                    (RoleArg::Reviewer, _, _) => {
                        bail!("a reviewer key needs --agency KEY (and no --org)")
                    }
                    (RoleArg::Applicant, _, _) => {
                        bail!("an applicant key needs --org NAME (and no --agency)")
                    }
                    (RoleArg::Admin, _, _) => {
                        bail!("an admin key takes neither --org nor --agency")
                    }
                };
                let store = connect(&db.db).await?;
                store.migrate().await?;
                let label = name.unwrap_or_else(|| match &role {
                    KeyRole::Admin => "admin".to_owned(),
                    KeyRole::Reviewer { agency } => format!("{agency}-reviewer"),
                    KeyRole::Applicant { organization } => format!("{organization}-applicant"),
                });
                let (key, token) = store.create_key(&label, role).await?;
                println!(
                    "created key {} ({label}); the token is shown only now:",
                    key.id
                );
                println!("{token}");
            }
            KeysCommand::List { db } => {
                let store = connect(&db.db).await?;
                for k in store.keys().await? {
                    let scope = match &k.role {
                        KeyRole::Admin => "admin".to_owned(),
                        KeyRole::Reviewer { agency } => format!("reviewer of {agency}"),
                        KeyRole::Applicant { organization } => {
                            format!("applicant for {organization}")
                        }
                    };
                    let state = k
                        .revoked_at
                        .map_or("active".to_owned(), |t| format!("revoked {t}"));
                    println!("{}  {:<20} {:<30} {state}", k.id, k.label, scope);
                }
            }
            KeysCommand::Revoke { id, db } => {
                let store = connect(&db.db).await?;
                if !store.revoke_key(id).await? {
                    bail!("no active key {id}");
                }
                println!("revoked {id}");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
