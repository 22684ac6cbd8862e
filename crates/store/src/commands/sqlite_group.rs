//! SQLite: group commit. A command's writes run as one script on the writer connection
//! ([`run`]); sqlx hands each statement to SQLite's thread separately, so one script instead of
//! ten statements keeps the single writer's turn short. Scripts queued at the same time share
//! one transaction and one disk wait ([`spawn_group_writer`]).

use std::sync::Arc;

use sea_orm::sqlx;
use sea_orm::{DbErr, RuntimeErr};
use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, Result};

/// SQLite: one command's writes for the group writer, and where its answer goes.
pub(crate) struct Job {
    script: Framed,
    values: Vec<sea_orm::Value>,
    reply: oneshot::Sender<Result<i64>>,
}

/// A command's script framed two ways: as its own transaction (`BEGIN IMMEDIATE … COMMIT`),
/// and as a savepoint of a group's transaction.
#[derive(Clone)]
pub(crate) struct Framed {
    pub(crate) alone: std::sync::Arc<str>,
    pub(crate) grouped: std::sync::Arc<str>,
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

/// Runs a command's script, framed as its own transaction or as a savepoint, in one call,
/// every statement of it: a fetch of one row could stop before the frame's end.
async fn run_job(
    conn: &mut sqlx::SqliteConnection,
    framed: std::sync::Arc<str>,
    values: Vec<sea_orm::Value>,
) -> std::result::Result<Vec<sqlx::sqlite::SqliteRow>, sqlx::Error> {
    sqlx::query_with(
        sqlx::AssertSqlSafe(framed),
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
        let result = run_job(&mut conn, job.script.alone.clone(), job.values).await;
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
        let result = run_job(&mut conn, job.script.grouped.clone(), job.values).await;
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

/// Runs a command's writes (`$n` placeholders; the last statement selects a count) through the
/// group writer; returns the count. Dropping the future does not stop the command: the writer
/// runs what it was given, like any request a server received.
pub(crate) async fn run(
    group: &mpsc::Sender<Job>,
    script: Framed,
    values: Vec<sea_orm::Value>,
) -> Result<i64> {
    let (reply, answer) = oneshot::channel();
    group
        .send(Job {
            script,
            values,
            reply,
        })
        .await
        .map_err(|_| Error::Unavailable("the group writer stopped".into()))?;
    answer
        .await
        .map_err(|_| Error::Unavailable("the group writer dropped a command".into()))?
}
