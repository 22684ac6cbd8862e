//! Fresh databases for tests: a temporary SQLite file, or a newly created PostgreSQL database
//! (named after a UUID) on the server in `SOFTLAND_TEST_POSTGRES_URL`.

use sea_orm::{ConnectionTrait, Database};
use uuid::Uuid;

use crate::Store;

/// The variable naming the PostgreSQL server for tests.
pub const POSTGRES_ENV: &str = "SOFTLAND_TEST_POSTGRES_URL";

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDb {
    /// Its URL.
    pub url: String,
    path: Option<std::path::PathBuf>,
    /// `(server URL, database name)` of a PostgreSQL database to drop afterwards.
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// A new SQLite database in a temporary file.
    pub fn sqlite() -> Self {
        let path = std::env::temp_dir().join(format!("softland-test-{}.db", Uuid::new_v4()));
        Self {
            url: format!("sqlite://{}?mode=rwc", path.display()),
            path: Some(path),
            postgres: None,
        }
    }

    /// A new, empty PostgreSQL database. Panics when the variable is unset or the server is
    /// unreachable: a PostgreSQL test must never pass without PostgreSQL.
    pub async fn postgres() -> Self {
        let admin = std::env::var(POSTGRES_ENV).unwrap_or_else(|_| {
            panic!("{POSTGRES_ENV} is not set: PostgreSQL tests need a server (CI sets it)")
        });
        let name = format!("softland_test_{}", Uuid::new_v4().simple());
        let db = Database::connect(admin.as_str())
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is unreachable: {e}"));
        db.execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        let _ = db.close().await;
        let base = admin.split('?').next().unwrap_or(&admin);
        let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
        Self {
            url: format!("{base}/{name}"),
            path: None,
            postgres: Some((admin.clone(), name)),
        }
    }

    /// Opens the store (migrated).
    pub async fn open(&self) -> Store {
        Store::open(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", self.url))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.postgres.take() {
            // Drop is not async: a short-lived thread with its own runtime drops the database
            // (FORCE closes connections a test left open).
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async {
                    if let Ok(db) = Database::connect(admin.as_str()).await {
                        let _ = db
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await;
                        let _ = db.close().await;
                    }
                });
            })
            .join();
        }
        if let Some(path) = &self.path {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
}

/// A plain sea-orm connection pool to a SQLite file with softland's settings (WAL, full sync,
/// busy timeout), for measuring what SQLite itself commits.
pub async fn raw_sqlite(url: &str) -> sea_orm::DatabaseConnection {
    use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
    let mut opts = sea_orm::ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .max_connections(8)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(std::time::Duration::from_secs(10))
        });
    Database::connect(opts)
        .await
        .unwrap_or_else(|e| panic!("cannot open {url}: {e}"))
}

/// The minimal rows of one transition on SQLite, in one `BEGIN IMMEDIATE` transaction: read
/// the revision, update it with a revision check, insert one event, upsert one task.
pub async fn raw_sqlite_transition(db: &sea_orm::DatabaseConnection, aid: i64) -> bool {
    use sea_orm::{DbBackend, Statement, TransactionTrait};
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
