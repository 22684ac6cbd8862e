//! Connections held for a whole command.
//!
//! PostgreSQL:
//! An action is two statements (read the task with its application, then one statement that
//! writes everything). Through sea-orm's pool each statement checks a connection out and back
//! in, and sqlx pings every connection it gets back: two extra round trips per command, with
//! the PostgreSQL backend woken for each. Commands therefore take one connection from this
//! pool for both statements, and a connection goes back without a ping when its statements
//! finished. One whose statement was interrupted (the request was cancelled mid-way, or the
//! connection failed) is in an unknown state and is discarded instead; one idle for a while is
//! pinged before reuse, since a server or firewall may have dropped it.
//!
//! SQLite: a command's writes run as one script on the writer connection
//! ([`crate::Store::run_script`]); sqlx hands each statement to SQLite's thread separately, so
//! one script instead of ten statements keeps the single writer's turn short.

use std::sync::Arc;
use std::time::Duration;

use deadpool::Runtime;
use deadpool::managed::{self, Metrics, Object, RecycleError, RecycleResult};
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::{self, ConnectOptions, Connection};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, RuntimeErr, Statement};
use sea_query_sqlx::SqlxValues;
use tokio::sync::Mutex;

use crate::error::{Error, Result};

/// Connections idle longer than this are pinged before reuse.
const IDLE_PING: Duration = Duration::from_secs(30);

/// Makes and checks command connections.
#[derive(Debug)]
pub(crate) struct Manager {
    options: PgConnectOptions,
}

/// A command connection.
#[derive(Debug)]
pub(crate) struct Conn {
    raw: PgConnection,
    /// A statement started and did not finish cleanly: what the connection holds is unknown.
    interrupted: bool,
}

impl managed::Manager for Manager {
    type Type = Conn;
    type Error = sqlx::Error;

    async fn create(&self) -> std::result::Result<Conn, sqlx::Error> {
        Ok(Conn {
            raw: PgConnection::connect_with(&self.options).await?,
            interrupted: false,
        })
    }

    async fn recycle(&self, conn: &mut Conn, metrics: &Metrics) -> RecycleResult<sqlx::Error> {
        if conn.interrupted {
            return Err(RecycleError::message("a statement on it was interrupted"));
        }
        if metrics.last_used() > IDLE_PING {
            conn.raw.ping().await.map_err(RecycleError::Backend)?;
        }
        Ok(())
    }
}

/// The pool of command connections.
pub(crate) type Pool = managed::Pool<Manager>;

/// A pool of at most `size` connections to `url`, made as they are needed.
pub(crate) fn pool(url: &str, size: usize, timeout: Duration) -> Result<Pool> {
    let options: PgConnectOptions = url
        .parse::<PgConnectOptions>()
        .map_err(|e| Error::Db(DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e)))))?
        .disable_statement_logging();
    managed::Pool::builder(Manager { options })
        .max_size(size)
        .wait_timeout(Some(timeout))
        .create_timeout(Some(timeout))
        .recycle_timeout(Some(timeout))
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(|e| Error::Corrupt(format!("cannot build the command pool: {e}")))
}

/// Closes the idle connections gracefully and the pool.
pub(crate) async fn close(pool: &Pool) {
    let idle = pool.status().available;
    for _ in 0..idle {
        let Ok(obj) = pool.timeout_get(&managed::Timeouts::wait_millis(0)).await else {
            break;
        };
        let _ = Object::take(obj).raw.close().await;
    }
    pool.close();
}

/// One connection checked out for a command; runs sea-orm statements.
pub(crate) struct Held(Mutex<Object<Manager>>);

impl Held {
    /// Checks a connection out of `pool`.
    pub(crate) async fn get(pool: &Pool) -> Result<Self> {
        use sea_orm::error::ConnAcquireErr;
        let obj = pool.get().await.map_err(|e| {
            Error::Db(match e {
                managed::PoolError::Backend(e) => DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e))),
                managed::PoolError::Timeout(_) => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
                _ => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
            })
        })?;
        Ok(Self(Mutex::new(obj)))
    }
}

fn query(stmt: &Statement) -> sqlx::query::Query<'_, sqlx::Postgres, SqlxValues> {
    let values = stmt.values.clone().unwrap_or(sea_orm::Values(Vec::new()));
    sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql.as_str()), SqlxValues(values))
}

/// Records whether the connection is still usable after a statement, and converts its error.
/// The server refusing a statement (a constraint, say) leaves the connection ready for the
/// next; any other failure may not.
fn settle<T>(
    conn: &mut Conn,
    result: std::result::Result<T, sqlx::Error>,
    kind: fn(RuntimeErr) -> DbErr,
) -> std::result::Result<T, DbErr> {
    conn.interrupted = matches!(&result, Err(e) if !matches!(e, sqlx::Error::Database(_)));
    result.map_err(|e| kind(RuntimeErr::SqlxError(Arc::new(e))))
}

#[sea_orm::prelude::async_trait::async_trait]
impl ConnectionTrait for Held {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Postgres
    }

    async fn execute_raw(&self, stmt: Statement) -> std::result::Result<ExecResult, DbErr> {
        let mut conn = self.0.lock().await;
        conn.interrupted = true;
        let result = query(&stmt).execute(&mut conn.raw).await;
        settle(&mut conn, result, DbErr::Exec).map(ExecResult::from)
    }

    async fn execute_unprepared(&self, sql: &str) -> std::result::Result<ExecResult, DbErr> {
        let mut conn = self.0.lock().await;
        conn.interrupted = true;
        let result = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut conn.raw)
            .await;
        settle(&mut conn, result, DbErr::Exec).map(ExecResult::from)
    }

    async fn query_one_raw(
        &self,
        stmt: Statement,
    ) -> std::result::Result<Option<QueryResult>, DbErr> {
        let mut conn = self.0.lock().await;
        conn.interrupted = true;
        let result = query(&stmt).fetch_optional(&mut conn.raw).await;
        settle(&mut conn, result, DbErr::Query).map(|row| row.map(QueryResult::from))
    }

    async fn query_all_raw(&self, stmt: Statement) -> std::result::Result<Vec<QueryResult>, DbErr> {
        let mut conn = self.0.lock().await;
        conn.interrupted = true;
        let result = query(&stmt).fetch_all(&mut conn.raw).await;
        settle(&mut conn, result, DbErr::Query)
            .map(|rows| rows.into_iter().map(QueryResult::from).collect())
    }
}

/// SQLite: a writer connection checked out for one script; if the script fails or its future
/// is dropped part-way, the transaction it may have left open is rolled back on the same
/// connection before the connection goes back to the pool.
struct RollbackUnlessDone(Option<sqlx::pool::PoolConnection<sqlx::Sqlite>>);

impl Drop for RollbackUnlessDone {
    fn drop(&mut self) {
        if let Some(mut conn) = self.0.take() {
            tokio::spawn(async move {
                // "no transaction is active" when the script got as far as its COMMIT.
                let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
            });
        }
    }
}

impl crate::Store {
    /// SQLite: runs a command's script (`BEGIN IMMEDIATE; …; SELECT <count>; COMMIT`, `$n`
    /// placeholders) in one call on the writer connection, so its statements cost one
    /// hand-over to SQLite's thread instead of one each; returns the count the script selects.
    pub(crate) async fn run_script(
        &self,
        script: String,
        values: Vec<sea_orm::Value>,
    ) -> Result<i64> {
        let pool = self.writer().get_sqlite_connection_pool();
        let conn = pool
            .acquire()
            .await
            .map_err(|e| Error::Db(DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e)))))?;
        let mut held = RollbackUnlessDone(Some(conn));
        let conn = held
            .0
            .as_mut()
            .ok_or_else(|| Error::Corrupt("no writer connection".into()))?;
        let result = sqlx::query_with(
            sqlx::AssertSqlSafe(script),
            sea_query_sqlx::SqlxValues(sea_orm::Values(values)),
        )
        // Every statement runs (a fetch of one row could stop before the COMMIT).
        .fetch_all(&mut **conn)
        .await;
        match result {
            Ok(rows) => {
                held.0 = None;
                use sqlx::Row;
                let row = rows
                    .first()
                    .ok_or_else(|| Error::Corrupt("the command script selected nothing".into()))?;
                row.try_get::<i64, _>(0)
                    .map_err(|e| Error::Db(DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))))
            }
            // `held` rolls back on drop.
            Err(e) => Err(Error::Db(DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e))))),
        }
    }
}
