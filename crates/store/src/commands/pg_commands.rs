//! PostgreSQL: connections held for a whole command.
//!
//! An action is two statements (read the task with its application, then one statement that
//! writes everything). Through sea-orm's pool each statement checks a connection out and back
//! in, and sqlx pings every connection it gets back: two extra round trips per command, with
//! the PostgreSQL backend woken for each. Commands therefore take one connection from this
//! pool for both statements, and a connection goes back without a ping when its statements
//! finished. One whose statement was interrupted (the request was cancelled mid-way, or the
//! connection failed) is in an unknown state and is discarded instead; one idle for a while is
//! pinged before reuse, since a server or firewall may have dropped it.

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
        .map_err(|e| Error::Unavailable(format!("cannot build the command pool: {e}")))
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

/// The statement as sqlx runs it; its values move rather than being copied.
fn query(stmt: Statement) -> sqlx::query::Query<'static, sqlx::Postgres, SqlxValues> {
    let values = stmt.values.unwrap_or(sea_orm::Values(Vec::new()));
    sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql), SqlxValues(values))
}

/// Records whether the connection is still usable after a statement, and converts its error.
/// The server refusing a statement (a constraint, say) leaves the connection ready for the
/// next; any other failure may not, nor does the server saying it is shutting down or is no
/// longer the primary (a failover: the next command must find the new one).
fn settle<T>(
    conn: &mut Conn,
    result: std::result::Result<T, sqlx::Error>,
    kind: fn(RuntimeErr) -> DbErr,
) -> std::result::Result<T, DbErr> {
    conn.interrupted = matches!(&result, Err(e) if !matches!(e, sqlx::Error::Database(_))
        || crate::error::sqlx_unreachable(e));
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
        let result = query(stmt).execute(&mut conn.raw).await;
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
        let result = query(stmt).fetch_optional(&mut conn.raw).await;
        settle(&mut conn, result, DbErr::Query).map(|row| row.map(QueryResult::from))
    }

    async fn query_all_raw(&self, stmt: Statement) -> std::result::Result<Vec<QueryResult>, DbErr> {
        let mut conn = self.0.lock().await;
        conn.interrupted = true;
        let result = query(stmt).fetch_all(&mut conn.raw).await;
        settle(&mut conn, result, DbErr::Query)
            .map(|rows| rows.into_iter().map(QueryResult::from).collect())
    }
}
