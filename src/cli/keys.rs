//! `softland keys create|list|revoke`.

use std::process::ExitCode;

use anyhow::bail;
use clap::{Subcommand, ValueEnum};
use softland_store::KeyRole;

use super::DbArgs;
use super::bundled::Workflows;
use super::db::{connect, runtime};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum RoleArg {
    Admin,
    Reviewer,
    Applicant,
    Observer,
    /// A student applying for themselves: no --org, no --agency.
    Student,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Create a key; its token is printed once, as the last line.
    Create {
        /// The person (or service account) of the directory the key acts as.
        #[arg(long, conflicts_with_all = ["role", "org", "org_name", "agency"])]
        person: Option<String>,
        /// Without --person: what the key may do (the person `--name` of that agency or
        /// organization is added to the directory when missing).
        #[arg(long, value_enum, required_unless_present = "person")]
        role: Option<RoleArg>,
        /// The organization (applicant keys): one the directory knows.
        #[arg(long)]
        org: Option<String>,
        /// Adds the --org organization with this (English) name when the directory lacks it;
        /// without it an unknown organization is refused, as an unknown agency is.
        #[arg(long, requires = "org")]
        org_name: Option<String>,
        /// The agency (reviewer keys).
        #[arg(long)]
        agency: Option<String>,
        /// Without --person: who holds it (their directory id; four-eyes rules compare it).
        /// With --person: what the key is for ("laptop", "back office").
        #[arg(long)]
        name: Option<String>,
        /// When the key stops working: an RFC 3339 time or a date (`2027-06-30`, midnight UTC).
        #[arg(long, value_parser = parse_expiry)]
        expires: Option<chrono::DateTime<chrono::Utc>>,
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
    /// Print a new key for sealing webhook secrets at rest (`serve --secrets-key`).
    SecretsKey,
}

fn key_role(role: RoleArg, org: Option<String>, agency: Option<String>) -> anyhow::Result<KeyRole> {
    Ok(match (role, org, agency) {
        (RoleArg::Admin, None, None) => KeyRole::Admin,
        (RoleArg::Reviewer, None, Some(agency)) => KeyRole::Reviewer { agency },
        (RoleArg::Applicant, Some(organization), None) => KeyRole::Applicant { organization },
        (RoleArg::Observer, None, Some(agency)) => KeyRole::Observer { agency },
        (RoleArg::Student, None, None) => KeyRole::Student,
        (RoleArg::Student, _, _) => bail!("a student key takes neither --org nor --agency"),
        (RoleArg::Observer, _, _) => bail!("an observer key needs --agency KEY (and no --org)"),
        (RoleArg::Reviewer, _, _) => bail!("a reviewer key needs --agency KEY (and no --org)"),
        (RoleArg::Applicant, _, _) => bail!("an applicant key needs --org NAME (and no --agency)"),
        (RoleArg::Admin, _, _) => bail!("an admin key takes neither --org nor --agency"),
    })
}

/// Refuses an organization the directory lacks, unless `name` adds it.
async fn known_organization(
    store: &softland_store::Store,
    key: &str,
    name: Option<String>,
) -> anyhow::Result<()> {
    if store.organization(key).await?.is_some() {
        return Ok(());
    }
    let Some(name) = name else {
        bail!(
            "the directory has no organization `{key}`: add it first (`softland directory load \
             FILE` with an `organizations:` entry, or the console's Directory), or give \
             --org-name \"Its Name Ltd\" to add it now"
        );
    };
    store
        .put_organization(&softland_store::directory::Organization {
            key: key.to_owned(),
            name,
            name_zh_hant: None,
            name_zh_hans: None,
            registration_number: None,
            region: None,
            language: None,
        })
        .await?;
    Ok(())
}

/// An RFC 3339 time, or a date (midnight UTC).
fn parse_expiry(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
        .map_err(|_| format!("`{text}` is neither an RFC 3339 time nor a date like 2027-06-30"))
}

pub(super) fn run(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        match cmd {
            KeysCommand::Create {
                person,
                role,
                org,
                org_name,
                agency,
                name,
                expires,
                db,
            } => {
                let store = connect(&db.db).await?;
                store.migrate().await?;
                let (key, token) = match (person, role) {
                    (Some(person), _) => {
                        let label = name.unwrap_or_else(|| "key".to_owned());
                        store.create_key_for(&person, &label, expires).await?
                    }
                    (None, Some(role)) => {
                        let role = key_role(role, org, agency)?;
                        Workflows::resolve(None)?.seed_directory(&store).await?;
                        if let KeyRole::Applicant { organization } = &role {
                            known_organization(&store, organization, org_name).await?;
                        }
                        let label = name.unwrap_or_else(|| match &role {
                            KeyRole::Admin => "admin".to_owned(),
                            KeyRole::Reviewer { agency } => format!("{agency}-reviewer"),
                            KeyRole::Observer { agency } => format!("{agency}-observer"),
                            KeyRole::Student => "student".to_owned(),
                            KeyRole::Applicant { organization } => {
                                format!("{organization}-applicant")
                            }
                        });
                        let person = store.person_for_key(&label, role).await?;
                        store.create_key_for(&person.id, &label, expires).await?
                    }
                    (None, None) => bail!("give --person ID, or --role"),
                };
                store
                    .record_action(softland_store::people_actions::NewPersonAction {
                        actor: "cli",
                        kind: "create_key",
                        subject: key.id.to_string(),
                        application_id: None,
                        detail: serde_json::json!({"person": key.person.id, "label": key.label, "expires_at": key.expires_at}),
                    })
                    .await?;
                println!(
                    "created key {} ({}) for {}; the token is shown only now:",
                    key.id, key.label, key.person.id
                );
                println!("{token}");
            }
            KeysCommand::List { db } => {
                let store = connect(&db.db).await?;
                for k in store.keys().await? {
                    let roles = k
                        .person
                        .roles
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(",");
                    let state = match (k.revoked_at, k.expires_at) {
                        (Some(t), _) => format!("revoked {t}"),
                        (None, Some(t)) => format!("expires {t}"),
                        (None, None) => "active".to_owned(),
                    };
                    println!(
                        "{}  {:<16} {:<24} {:<28} {:<14} {state}",
                        k.id,
                        k.label,
                        k.person.id,
                        k.person.membership.label(),
                        roles
                    );
                }
            }
            KeysCommand::Revoke { id, db } => {
                let store = connect(&db.db).await?;
                if !store.revoke_key(id).await? {
                    bail!("no active key {id}");
                }
                store
                    .record_action(softland_store::people_actions::NewPersonAction {
                        actor: "cli",
                        kind: "revoke_key",
                        subject: id.to_string(),
                        application_id: None,
                        detail: serde_json::json!({}),
                    })
                    .await?;
                println!("revoked {id}");
            }
            KeysCommand::SecretsKey => {
                println!("{}", softland_store::sealed::SecretKey::generate()?);
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
