//! `softland directory load|agencies|people|deactivate`: the directory of agencies,
//! organizations and people.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use softland_store::directory::{Membership, Role};

use super::DbArgs;
use super::db::{connect, runtime};

#[derive(Debug, Subcommand)]
pub(crate) enum DirectoryCommand {
    /// Add or update agencies, organizations and people from a YAML file (`agencies:`,
    /// `organizations:`, `people:` lists; see the README), or people from a CSV file (`.csv`:
    /// a header row naming `id`, `roles` and any of `display_name`, `email`, `agency`,
    /// `organization`, `service`; several roles separated by spaces). A person's membership
    /// never changes.
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

/// The largest directory file read.
const MOST_BYTES: u64 = 16 * 1024 * 1024;

/// One row of a people CSV file.
#[derive(Debug, serde::Deserialize)]
struct PersonRow {
    id: String,
    roles: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    agency: Option<String>,
    #[serde(default)]
    organization: Option<String>,
    #[serde(default)]
    service: Option<bool>,
}

/// People from CSV (see `Load`) as a directory file's `people:` list; empty cells are absent
/// values (loading keeps what the directory has for them).
fn people_csv(text: &str) -> anyhow::Result<serde_json::Value> {
    let mut people = Vec::new();
    let mut rows = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    for (n, row) in rows.deserialize::<PersonRow>().enumerate() {
        let row = row.with_context(|| format!("row {}", n + 2))?;
        let roles = row
            .roles
            .split_whitespace()
            .map(|r| r.parse::<Role>().map_err(anyhow::Error::msg))
            .collect::<anyhow::Result<Vec<_>>>()
            .with_context(|| format!("row {}", n + 2))?;
        let mut person = serde_json::Map::new();
        person.insert("id".into(), row.id.into());
        person.insert("roles".into(), roles.iter().map(|r| r.as_str()).collect());
        for (name, cell) in [
            ("display_name", row.display_name),
            ("email", row.email),
            ("agency", row.agency),
            ("organization", row.organization),
        ] {
            if let Some(cell) = cell.filter(|c| !c.trim().is_empty()) {
                person.insert(name.into(), cell.into());
            }
        }
        if let Some(service) = row.service {
            person.insert("service".into(), service.into());
        }
        people.push(serde_json::Value::Object(person));
    }
    Ok(serde_json::json!({ "people": people }))
}

pub(super) fn run(cmd: DirectoryCommand) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        match cmd {
            DirectoryCommand::Load { file, db } => {
                let size = std::fs::metadata(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?
                    .len();
                if size > MOST_BYTES {
                    bail!("{} is larger than {MOST_BYTES} bytes", file.display());
                }
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let store = connect(&db.db).await?;
                store.migrate().await?;
                let n = if file
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
                {
                    let people = people_csv(&text)
                        .with_context(|| format!("{} is not a people file", file.display()))?;
                    store.merge_directory(people).await?
                } else {
                    store
                        .load_directory_file(&text)
                        .await
                        .with_context(|| format!("{} is not a directory file", file.display()))?
                };
                store
                    .record_action(softland_store::people_actions::NewPersonAction {
                        actor: "cli",
                        kind: "load_directory",
                        subject: file.display().to_string(),
                        application_id: None,
                        detail: serde_json::json!({"agencies": n.agencies, "organizations": n.organizations, "people": n.people}),
                    })
                    .await?;
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
                store
                    .record_action(softland_store::people_actions::NewPersonAction {
                        actor: "cli",
                        kind: "deactivate_person",
                        subject: id.clone(),
                        application_id: None,
                        detail: serde_json::json!({}),
                    })
                    .await?;
                println!("deactivated {id}: keys revoked, claims released");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
