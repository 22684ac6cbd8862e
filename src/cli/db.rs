//! `softland migrate`, `softland doctor`, `softland audit-export`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};
use softland_store::Store;

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
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

/// The URL without a password, for messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if url[s + 3..at].contains(':') => {
            let user_end = s + 3 + url[s + 3..at].find(':').unwrap_or(0);
            format!("{}:***{}", &url[..user_end], &url[at..])
        }
        _ => url.to_owned(),
    }
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

pub(super) fn doctor(url: &str, calendars: Option<&PathBuf>) -> anyhow::Result<ExitCode> {
    let cal = super::calendars::load(calendars)?;
    runtime()?.block_on(async {
        let store = connect(url).await?;
        let report = store.doctor().await?;
        for p in &report.problems {
            println!("problem: {p}");
        }
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
        out.flush()?;
        eprintln!("{n} events");
        Ok(ExitCode::SUCCESS)
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
    }
}
