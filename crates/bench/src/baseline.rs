//! The raw limit: what the database itself commits per second for the minimal rows of one
//! transition — read an application's revision, update the row with a revision check, insert
//! one event, upsert one task, in one transaction — with no engine, no ORM and no HTTP.
//! Benchmarks report softland's rate as a share of this.
//!
//! PostgreSQL: `pgbench` with a custom script, in a scratch database created next to the one
//! given and dropped afterwards. SQLite: the same statements through sqlx on a scratch file with
//! softland's settings (WAL, `synchronous=FULL`, `BEGIN IMMEDIATE`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, TransactionTrait,
};
use uuid::Uuid;

use anyhow::{Context, Result, anyhow};

/// What one raw transaction writes, for reports.
pub const TRANSITION_ROWS: &str = "read revision, update the application row with a revision check, insert one event, upsert one task; one transaction";

const ROWS: i64 = 100_000;

const SCHEMA: &str = "CREATE TABLE bench_app (id BIGINT PRIMARY KEY, revision BIGINT NOT NULL, updated_at TIMESTAMPTZ NOT NULL);
CREATE TABLE bench_event (app_id BIGINT NOT NULL, seq BIGINT NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (app_id, seq));
CREATE TABLE bench_task (app_id BIGINT NOT NULL, task_no INT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (app_id, task_no))";

/// The pgbench script (custom, `-f`).
pub const PGBENCH_SCRIPT: &str = "\\set aid random(1, 100000)
BEGIN;
SELECT revision AS rev FROM bench_app WHERE id = :aid \\gset
UPDATE bench_app SET revision = :rev + 1, updated_at = now() WHERE id = :aid AND revision = :rev;
INSERT INTO bench_event (app_id, seq, payload) VALUES (:aid, :rev + 1, '{\"kind\":\"task_completed\",\"task\":1,\"action\":\"approve\"}');
INSERT INTO bench_task (app_id, task_no, state) VALUES (:aid, 1, 'review') ON CONFLICT (app_id, task_no) DO UPDATE SET state = excluded.state;
COMMIT;
";

fn tool_error(tool: &str, message: impl Into<String>) -> anyhow::Error {
    anyhow!("{tool}: {}", message.into())
}

/// PostgreSQL's own rate at `clients` clients for `seconds`, measured with `pgbench` in a
/// scratch database on the server of `url` (the role needs `CREATEDB`).
pub async fn postgres(url: &str, clients: usize, seconds: u64) -> Result<f64> {
    let name = format!("softland_raw_{}", Uuid::new_v4().simple());
    let admin = Database::connect(url).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    let base = url.split('?').next().unwrap_or(url);
    let scratch_url = format!("{}/{name}", base.rsplit_once('/').map_or(base, |(b, _)| b));
    let result = pgbench(&scratch_url, clients, seconds).await;
    let _ = admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await;
    let _ = admin.close().await;
    result
}

async fn pgbench(url: &str, clients: usize, seconds: u64) -> Result<f64> {
    let db = Database::connect(url).await?;
    for stmt in SCHEMA.split(';') {
        db.execute_unprepared(stmt).await?;
    }
    db.execute_unprepared(&format!(
        "INSERT INTO bench_app SELECT g, 0, now() FROM generate_series(1, {ROWS}) g"
    ))
    .await?;
    db.close().await?;
    let script =
        std::env::temp_dir().join(format!("softland-pgbench-{}.sql", Uuid::new_v4().simple()));
    std::fs::write(&script, PGBENCH_SCRIPT)
        .with_context(|| format!("cannot write {}", script.display()))?;
    let out = tokio::process::Command::new("pgbench")
        .args([
            "-n",
            "-c",
            &clients.max(1).to_string(),
            "-j",
            &clients.clamp(1, 2).to_string(),
            "-T",
            &seconds.max(1).to_string(),
            "-f",
        ])
        .arg(&script)
        .arg(url)
        .output()
        .await;
    let _ = std::fs::remove_file(&script);
    let out = out.map_err(|e| tool_error("pgbench", format!("cannot run pgbench: {e}")))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            tool_error(
                "pgbench",
                format!(
                    "no rate in its output: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            )
        })
}

/// SQLite's own rate at `clients` concurrent writers for `seconds`, on a scratch file in the
/// temporary directory.
pub async fn sqlite(clients: usize, seconds: u64) -> Result<f64> {
    let path = std::env::temp_dir().join(format!("softland-raw-{}.db", Uuid::new_v4().simple()));
    let result = sqlite_at(
        &format!("sqlite://{}?mode=rwc", path.display()),
        clients,
        seconds,
    )
    .await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    result
}

async fn sqlite_at(url: &str, clients: usize, seconds: u64) -> Result<f64> {
    use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
    let mut opts = sea_orm::ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .max_connections(8)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
        });
    let db = Arc::new(Database::connect(opts).await?);
    for stmt in SCHEMA.replace("TIMESTAMPTZ", "TEXT").split(';') {
        db.execute_unprepared(stmt).await?;
    }
    db.execute_unprepared(&format!("WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < {ROWS}) INSERT INTO bench_app SELECT x, 0, datetime('now') FROM g")).await?;
    let deadline = Instant::now() + Duration::from_secs(seconds.max(1));
    let start = Instant::now();
    let handles: Vec<_> = (0..clients.max(1))
        .map(|c| {
            let db = db.clone();
            tokio::spawn(async move {
                let mut n = 0u64;
                let mut aid = (c as i64 * 7919) % ROWS + 1;
                while Instant::now() < deadline {
                    aid = aid * 48271 % ROWS + 1;
                    if sqlite_transition(&db, aid).await {
                        n += 1;
                    }
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for h in handles {
        total += h
            .await
            .map_err(|e| tool_error("sqlite", format!("writer failed: {e}")))?;
    }
    let rate = total as f64 / start.elapsed().as_secs_f64();
    if let Ok(db) = Arc::try_unwrap(db) {
        let _ = db.close().await;
    }
    Ok(rate)
}

/// One raw transition on SQLite; `false` when it lost to a concurrent writer (busy).
async fn sqlite_transition(db: &DatabaseConnection, aid: i64) -> bool {
    let opts = sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    let Ok(txn) = db.begin_with_options(opts).await else {
        return false;
    };
    let q = |sql: &str, v: Vec<sea_orm::Value>| {
        Statement::from_sql_and_values(DbBackend::Sqlite, sql, v)
    };
    let Ok(Some(row)) = txn
        .query_one_raw(q(
            "SELECT revision FROM bench_app WHERE id = ?",
            vec![aid.into()],
        ))
        .await
    else {
        return false;
    };
    let Ok(rev) = row.try_get::<i64>("", "revision") else {
        return false;
    };
    let ok = txn.execute_raw(q("UPDATE bench_app SET revision = ?, updated_at = datetime('now') WHERE id = ? AND revision = ?", vec![(rev + 1).into(), aid.into(), rev.into()])).await.is_ok()
        && txn.execute_raw(q("INSERT INTO bench_event (app_id, seq, payload) VALUES (?, ?, ?)", vec![aid.into(), (rev + 1).into(), r#"{"kind":"task_completed","task":1,"action":"approve"}"#.into()])).await.is_ok()
        && txn.execute_raw(q("INSERT INTO bench_task (app_id, task_no, state) VALUES (?, 1, 'review') ON CONFLICT (app_id, task_no) DO UPDATE SET state = excluded.state", vec![aid.into()])).await.is_ok();
    ok && txn.commit().await.is_ok()
}
