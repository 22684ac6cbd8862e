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
//! one script instead of ten statements keeps the single writer's turn short. Scripts queued
//! at the same time share one transaction and one disk wait ([`spawn_group_writer`]).

use std::sync::Arc;
use std::time::Duration;

use deadpool::Runtime;
use deadpool::managed::{self, Metrics, Object, RecycleError, RecycleResult};
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::{self, ConnectOptions, Connection};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, RuntimeErr, Statement};
use sea_query_sqlx::SqlxValues;
use tokio::sync::{Mutex, mpsc, oneshot};

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

/// The statement as sqlx runs it; its values move rather than being copied.
fn query(stmt: Statement) -> sqlx::query::Query<'static, sqlx::Postgres, SqlxValues> {
    let values = stmt.values.unwrap_or(sea_orm::Values(Vec::new()));
    sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql), SqlxValues(values))
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

/// SQLite: one command's writes for the group writer, and where its answer goes.
pub(crate) struct Job {
    script: String,
    values: Vec<sea_orm::Value>,
    reply: oneshot::Sender<Result<i64>>,
}

/// The most commands one SQLite transaction carries.
const GROUP: usize = 64;

/// SQLite's group commit. Every commit of a write transaction waits for the disk (WAL,
/// `synchronous=FULL`), and SQLite has one writer at a time, so commands that each commit
/// queue behind one another's disk waits. This task takes every command queued when it is
/// free and runs them in one transaction, each in its own savepoint: a command that fails is
/// rolled back to its savepoint alone, and none is answered before the transaction's COMMIT
/// returns — an answered command is on disk, as before, while one disk wait serves them all.
pub(crate) fn spawn_group_writer(pool: sqlx::SqlitePool) -> mpsc::Sender<Job> {
    let (tx, mut rx) = mpsc::channel::<Job>(1024);
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut jobs = vec![first];
            while jobs.len() < GROUP {
                match rx.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            run_group(&pool, jobs).await;
        }
    });
    tx
}

fn exec_err(e: sqlx::Error) -> Error {
    Error::Db(DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e))))
}

/// The same failure for each command of a group (the error is not `Clone`).
fn group_err(e: &sqlx::Error) -> Error {
    Error::Db(DbErr::Exec(RuntimeErr::Internal(e.to_string())))
}

/// The count a command's script selects (its last statement).
fn selected(rows: Vec<sqlx::sqlite::SqliteRow>) -> Result<i64> {
    use sqlx::Row;
    rows.first()
        .ok_or_else(|| Error::Corrupt("the command script selected nothing".into()))
        .and_then(|row| {
            row.try_get::<i64, _>(0)
                .map_err(|e| Error::Db(DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))))
        })
}

/// Answers every command of a group with the same failure.
fn fail_all(jobs: impl IntoIterator<Item = Job>, e: &sqlx::Error) {
    for job in jobs {
        let _ = job.reply.send(Err(group_err(e)));
    }
}

/// Runs a command's script between `open` and `close` (its transaction or savepoint) in one
/// call, every statement of it: a fetch of one row could stop before `close`.
async fn run_job(
    conn: &mut sqlx::SqliteConnection,
    (open, close): (&str, &str),
    script: &str,
    values: Vec<sea_orm::Value>,
) -> std::result::Result<Vec<sqlx::sqlite::SqliteRow>, sqlx::Error> {
    sqlx::query_with(
        sqlx::AssertSqlSafe(format!("{open}; {script}; {close}")),
        sea_query_sqlx::SqlxValues(sea_orm::Values(values)),
    )
    .fetch_all(conn)
    .await
}

async fn run_group(pool: &sqlx::SqlitePool, mut jobs: Vec<Job>) {
    let mut conn = match pool.acquire().await {
        Ok(c) => c,
        Err(e) => return fail_all(jobs, &e),
    };
    // Alone: its own transaction, in one call.
    if jobs.len() == 1 {
        let Some(job) = jobs.pop() else { return };
        let result = run_job(
            &mut conn,
            ("BEGIN IMMEDIATE", "COMMIT"),
            &job.script,
            job.values,
        )
        .await;
        let answer = match result {
            Ok(rows) => selected(rows),
            Err(e) => {
                // "no transaction is active" when it failed at BEGIN.
                let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
                Err(exec_err(e))
            }
        };
        let _ = job.reply.send(answer);
        return;
    }
    if let Err(e) = sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut *conn).await {
        return fail_all(jobs, &e);
    }
    let mut answers: Vec<(oneshot::Sender<Result<i64>>, Result<i64>)> =
        Vec::with_capacity(jobs.len());
    let mut jobs = jobs.into_iter();
    while let Some(job) = jobs.next() {
        let result = run_job(
            &mut conn,
            ("SAVEPOINT command", "RELEASE command"),
            &job.script,
            job.values,
        )
        .await;
        let answer = match result {
            Ok(rows) => selected(rows),
            Err(e) => {
                // Undo this command alone; the others in the group stand. If that fails, SQLite
                // rolled the whole transaction back itself (disk full, I/O error): the group
                // fails, and nothing more runs outside a transaction.
                if let Err(undo) = sqlx::raw_sql("ROLLBACK TO command; RELEASE command")
                    .execute(&mut *conn)
                    .await
                {
                    tracing::warn!(error = %undo, "a failed command took its group down");
                    let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
                    let _ = job.reply.send(Err(exec_err(e)));
                    for (reply, _) in answers {
                        let _ = reply.send(Err(group_err(&undo)));
                    }
                    return fail_all(jobs, &undo);
                }
                Err(exec_err(e))
            }
        };
        answers.push((job.reply, answer));
    }
    match sqlx::raw_sql("COMMIT").execute(&mut *conn).await {
        Ok(_) => {
            for (reply, answer) in answers {
                let _ = reply.send(answer);
            }
        }
        Err(e) => {
            let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
            for (reply, answer) in answers {
                let _ = reply.send(answer.and(Err(group_err(&e))));
            }
        }
    }
}

impl crate::Store {
    /// SQLite: runs a command's writes (`$n` placeholders; the last statement selects a count)
    /// through the group writer; returns the count. Dropping the future does not stop the
    /// command: the writer runs what it was given, like any request a server received.
    pub(crate) async fn run_script(
        &self,
        script: String,
        values: Vec<sea_orm::Value>,
    ) -> Result<i64> {
        let group = self
            .inner
            .group
            .as_ref()
            .ok_or_else(|| Error::Corrupt("the group writer exists on SQLite only".into()))?;
        let (reply, answer) = oneshot::channel();
        group
            .send(Job {
                script,
                values,
                reply,
            })
            .await
            .map_err(|_| Error::Corrupt("the group writer stopped".into()))?;
        answer
            .await
            .map_err(|_| Error::Corrupt("the group writer dropped a command".into()))?
    }
}
