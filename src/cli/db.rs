//! `softland migrate`, `softland doctor`, `softland audit-export`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};
use softland_store::Store;

/// Each worker thread's stack. A request may run commands inside commands (a move to a new
/// version on arrival, a promotion from a waitlist after a release), each a deep chain of
/// futures under the GraphQL resolvers; tokio's 2 MiB default ran out in debug builds.
const WORKER_STACK: usize = 8 * 1024 * 1024;

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .thread_stack_size(WORKER_STACK)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub(crate) async fn connect(url: &str) -> anyhow::Result<Store> {
    Store::connect(url)
        .await
        .with_context(|| format!("cannot connect to {}", redact(url)))
}

/// The database a measuring command runs on: `db` when given, else a new SQLite file in a
/// directory of its own, `softland-<command>-<pid>` under the system's temporary directory.
/// Returns the URL and that directory (the caller removes it afterwards).
pub(crate) fn scratch_db(db: Option<&str>, command: &str) -> std::io::Result<(String, PathBuf)> {
    let tmp = std::env::temp_dir().join(format!("softland-{command}-{}", std::process::id()));
    let url = match db {
        Some(db) => db.to_owned(),
        None => {
            std::fs::create_dir_all(&tmp)?;
            format!(
                "sqlite://{}?mode=rwc",
                tmp.join(format!("{command}.db")).display()
            )
        }
    };
    Ok((url, tmp))
}

/// Query parameters and `key=value` words that carry a credential.
const SECRETS: [&str; 12] = [
    "password",
    "passwd",
    "pwd",
    "sslpassword",
    "api_key",
    "apikey",
    "api-key",
    "token",
    "access_token",
    "secret",
    "client_secret",
    "authorization",
];

fn secret(name: &str) -> bool {
    SECRETS.iter().any(|s| name.eq_ignore_ascii_case(s))
}

/// A URL (or a libpq `key=value` string) without its credentials, for messages and logs: the
/// password of `user:password@`, and the value of every credential-like query parameter
/// (`?password=`, `?api_key=`, `?token=` …), become `***`.
pub(crate) fn redact(text: &str) -> String {
    if text.contains("://")
        && let Ok(mut u) = url::Url::parse(text)
    {
        if u.password().is_some() {
            let _ = u.set_password(Some("***"));
        }
        if u.query().is_some_and(|q| !q.is_empty()) {
            let pairs: Vec<(String, String)> = u
                .query_pairs()
                .map(|(k, v)| {
                    let v = if secret(&k) {
                        "***".into()
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect();
            u.query_pairs_mut().clear().extend_pairs(pairs);
        }
        return u.to_string();
    }
    text.split(' ')
        .map(|w| match w.split_once('=') {
            Some((k, _)) if secret(k) => format!("{k}=***"),
            _ => w.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) fn migrate(url: &str) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let store = connect(url).await?;
        let pending = store.pending_migrations().await?;
        store.migrate().await.context("migration failed")?;
        if pending.is_empty() {
            println!("{}: up to date", redact(url));
        }
        for m in pending {
            println!("applied {m}");
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub(super) fn doctor(
    url: &str,
    calendars: Option<&PathBuf>,
    documents: &softland_documents::StorageConfig,
) -> anyhow::Result<ExitCode> {
    let cal = super::calendars::load(calendars)?;
    runtime()?.block_on(async {
        let store = connect(url).await?;
        let mut report = store.doctor().await?;
        let storage = softland_documents::Storage::open(documents)?;
        let checked = check_documents(&store, &storage, &mut report.problems).await?;
        for p in &report.problems {
            println!("problem: {p}");
        }
        println!("checked {checked} documents' content against their SHA-256");
        for (name, until, left) in super::calendars::coverage(&cal, Utc::now().date_naive()) {
            println!("calendar {name}: covers days up to {until} ({left} days from today)");
        }
        for w in super::calendars::warnings(&cal) {
            println!("warning: {w}");
        }
        println!(
            "checked {} applications, {} events: {} problem(s)",
            report.applications,
            report.events,
            report.problems.len()
        );
        Ok(if report.problems.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    })
}

/// Whether every kept document's stored bytes still hash to its SHA-256; what does not is added
/// to `problems`. Returns how many were checked.
async fn check_documents(
    store: &Store,
    storage: &softland_documents::Storage,
    problems: &mut Vec<String>,
) -> anyhow::Result<usize> {
    let mut after = None;
    let mut checked = 0;
    loop {
        let page = store.kept_documents(after, 500).await?;
        let Some(last) = page.last() else {
            return Ok(checked);
        };
        after = Some(last.id);
        for d in &page {
            checked += 1;
            match storage.verify(&d.sha256).await? {
                Some(true) => {}
                Some(false) => problems.push(format!(
                    "document {}: its stored content no longer matches its SHA-256 {}",
                    d.id, d.sha256
                )),
                None => problems.push(format!(
                    "document {}: its content ({}) is missing from the document store",
                    d.id, d.sha256
                )),
            }
        }
    }
}

pub(super) fn audit_export(
    url: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let store = connect(url).await?;
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        let n = store.audit_export(from, to, &mut out).await?;
        let actions = store.export_people_actions(from, to, &mut out).await?;
        out.flush()?;
        eprintln!("{n} events, {actions} actions of people");
        Ok(ExitCode::SUCCESS)
    })
}

/// `softland healthcheck`: whether `url` answers 2xx within 5 seconds.
pub(super) fn healthcheck(url: &str) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(5))
            .no_proxy()
            .build()?;
        match client.get(url).send().await {
            Ok(r) if r.status().is_success() => {
                println!("ready");
                Ok(ExitCode::SUCCESS)
            }
            Ok(r) => {
                println!("not ready: {}", r.status());
                Ok(ExitCode::FAILURE)
            }
            Err(e) => {
                println!(
                    "not ready: {}",
                    if e.is_timeout() {
                        "no answer in 5 s"
                    } else {
                        "cannot connect"
                    }
                );
                Ok(ExitCode::FAILURE)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_appear_in_messages() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/softland"),
            "postgres://app:***@db:5432/softland"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1:5432/test"),
            "postgres://postgres@127.0.0.1:5432/test"
        );
        assert_eq!(
            redact("sqlite://softland.db?mode=rwc"),
            "sqlite://softland.db?mode=rwc"
        );
        assert_eq!(
            redact("postgres://app@db/softland?password=s3cret&sslmode=require"),
            "postgres://app@db/softland?password=***&sslmode=require"
        );
        assert_eq!(
            redact("https://otlp.example/v1/traces?api_key=s3cret"),
            "https://otlp.example/v1/traces?api_key=***"
        );
        assert_eq!(
            redact("host=db user=app password=s3cret dbname=softland"),
            "host=db user=app password=*** dbname=softland"
        );
    }
}
