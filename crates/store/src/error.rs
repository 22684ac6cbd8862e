//! The store's errors. The gateway maps [`Error::code`] to GraphQL `extensions.code`.

use softland_workflow::{Diagnostics, Rejection};
use uuid::Uuid;

/// Result with the store's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a concurrent-safety check refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConflictReason {
    /// The client's `expectedRevision` is not the application's revision.
    #[error("the application is at revision {actual}, not {expected}: reload and retry")]
    StaleRevision {
        /// What the client expected.
        expected: i64,
        /// What it is.
        actual: i64,
    },
    /// Another command changed the application between our read and our write.
    #[error("the application was changed by another request at the same time: reload and retry")]
    ConcurrentUpdate,
    /// The task is already completed or cancelled.
    #[error("the task is already closed")]
    TaskClosed,
    /// Someone else holds the task's claim.
    #[error("the task is claimed by `{0}`")]
    ClaimedByOther(String),
    /// The idempotency key was used for a different request.
    #[error("idempotency key `{0}` was already used for a different request")]
    IdempotencyKeyReused(String),
    /// A definition with this version was published concurrently.
    #[error("another version of `{0}` was published at the same time: retry")]
    ConcurrentPublish(String),
    /// The migration plan was approved already.
    #[error("the migration plan is already approved")]
    AlreadyApproved,
}

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database failed or is unreachable.
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// The database URL is not one softland supports.
    #[error(
        "unsupported database URL `{0}`: use sqlite://PATH?mode=rwc or postgres://USER@HOST:PORT/DB"
    )]
    UnsupportedUrl(String),
    /// The thing asked for does not exist (or is not visible).
    #[error("{0} not found")]
    NotFound(String),
    /// The engine refused the command; nothing changed.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// A concurrency check refused the command; nothing changed.
    #[error("conflict: {0}")]
    Conflict(#[from] ConflictReason),
    /// The actor may not do this (claims, delegation).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The task is not the actor's to work: it is assigned elsewhere, or belongs to another
    /// organization's application. Checked before claims and revisions, so it reveals nothing
    /// more about the task; the edge decides whether to say so or to answer "not found".
    #[error("forbidden: this task is for `{assignee}`")]
    NotYours {
        /// The task's application (for the edge's visibility check).
        application_id: Uuid,
        /// The task's assignee.
        assignee: String,
    },
    /// The workflow definition does not compile.
    #[error("invalid workflow definition:\n{0}")]
    InvalidDefinition(Diagnostics),
    /// New submissions to a retired workflow version are refused.
    #[error("workflow `{key}` version {version} is retired")]
    Retired {
        /// The workflow key.
        key: String,
        /// The retired version.
        version: i32,
    },
    /// The server cannot do this now: one of its own workers or pools stopped or could not be
    /// made (the compiler thread, SQLite's group writer, PostgreSQL's command pool), or the
    /// system refused it something (randomness). Not the caller's fault, nor corruption.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A workflow file of the folder published at start does not compile.
    #[error("{file} does not compile:\n{}", diagnostics.render(file))]
    WorkflowFile {
        /// The file.
        file: String,
        /// What is wrong with it.
        diagnostics: Diagnostics,
    },
    /// A stored row cannot be read: where, and why.
    #[error("the `{column}` of {table} row {id} cannot be read: {why}")]
    Unreadable {
        /// The table.
        table: &'static str,
        /// The row (its key).
        id: String,
        /// The column.
        column: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// A directory entry (agency, organization, person) that cannot be taken as given.
    #[error("{0}")]
    InvalidDirectory(String),
    /// A migration plan that cannot be taken as given (a state a version lacks, too many
    /// mappings, a plan not yet approved…).
    #[error("{0}")]
    InvalidPlan(String),
    /// A position that cannot be taken as given (no places, a closing date passed, a
    /// position closed or of another programme).
    #[error("{0}")]
    InvalidPosition(String),
    /// A page cursor this list did not hand out.
    #[error("`{0}` is not a cursor from this list")]
    BadCursor(String),
    /// Stored data does not parse (the doctor reports details).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Reading workflow files failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl Error {
    /// Whether this is a decision about the request (a conflict, a rejection, something not
    /// found or not the caller's) rather than a failure of the database or of stored data.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Error::Rejected(_)
                | Error::Conflict(_)
                | Error::NotFound(_)
                | Error::Forbidden(_)
                | Error::NotYours { .. }
                | Error::Retired { .. }
                | Error::InvalidDefinition(_)
                | Error::BadCursor(_)
                | Error::InvalidDirectory(_)
                | Error::InvalidPlan(_)
        )
    }

    /// Whether the database could not be reached or stopped serving writes mid-request — a
    /// connection lost or refused, the pool timing out, a server shutting down or starting,
    /// a primary demoted under the connection (PostgreSQL's failover): nothing the caller
    /// did, and worth trying again (with its idempotency key, a command is safe to retry
    /// whether or not it committed).
    pub fn is_unreachable(&self) -> bool {
        match self {
            Error::Db(e) => is_unreachable(e),
            _ => false,
        }
    }

    /// Whether the database refused because of a unique-key clash (a concurrent duplicate).
    pub(crate) fn is_unique_violation(&self) -> bool {
        match self {
            Error::Db(e) => is_unique_violation(e),
            _ => false,
        }
    }
}

pub(crate) fn is_unique_violation(e: &sea_orm::DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Stored or planned data that cannot be what it must be.
pub(crate) fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::Corrupt(e.to_string())
}

/// SQLite reports a busy database or a stale snapshot as an error: for a command it means
/// another writer won, which is a conflict, not a failure. Decided by the database's own error
/// code (SQLite's primary result codes `SQLITE_BUSY` 5 and `SQLITE_LOCKED` 6, extended codes
/// included; PostgreSQL's SQLSTATE 40001 `serialization_failure`), never by message text.
/// A command's write that broke the pools' CHECK: it would have taken a place another command
/// took first. Nothing was written; it is run again, and sees the pool full (a conflict like a
/// concurrent update, retried). Any other failure is returned as it is.
pub(crate) fn place_taken_meanwhile(e: sea_orm::DbErr) -> Error {
    if is_check_violation(&e) {
        ConflictReason::ConcurrentUpdate.into()
    } else {
        e.into()
    }
}

/// PostgreSQL's `check_violation` (23514), SQLite's `SQLITE_CONSTRAINT_CHECK` (275).
fn is_check_violation(e: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    let (DbErr::Exec(RuntimeErr::SqlxError(sqlx)) | DbErr::Query(RuntimeErr::SqlxError(sqlx))) = e
    else {
        return false;
    };
    sqlx.as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|code| code == "23514" || code == "275")
}

/// See [`Error::is_unreachable`]. PostgreSQL's SQLSTATEs: class 08 (connection exception),
/// 57P01 `admin_shutdown`, 57P02 `crash_shutdown`, 57P03 `cannot_connect_now`, 25006
/// `read_only_sql_transaction` (a write reached a server that is a replica now); and the
/// driver's own: an I/O error, a pool timed out or closed, a protocol error on a dropped
/// connection.
pub(crate) fn is_unreachable(e: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    let sqlx = match e {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(s))
        | DbErr::Query(RuntimeErr::SqlxError(s))
        | DbErr::Conn(RuntimeErr::SqlxError(s)) => s,
        _ => return false,
    };
    sqlx_unreachable(sqlx)
}

/// [`is_unreachable`] for sqlx's own error: the connection failed, the pool gave none, or the
/// server said it cannot serve (SQLSTATE class 08, shutting down or starting (57P01–57P03),
/// read-only (25006): a standby).
pub(crate) fn sqlx_unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        other => other
            .as_database_error()
            .and_then(|db| db.code())
            .is_some_and(|code| {
                code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "25006")
            }),
    }
}

pub(crate) fn is_busy(e: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    let (DbErr::Exec(RuntimeErr::SqlxError(sqlx))
    | DbErr::Query(RuntimeErr::SqlxError(sqlx))
    | DbErr::Conn(RuntimeErr::SqlxError(sqlx))) = e
    else {
        return false;
    };
    let Some(db) = sqlx.as_database_error() else {
        return false;
    };
    let Some(code) = db.code() else {
        return false;
    };
    if code == "40001" {
        return true;
    }
    code.parse::<u32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PostgreSQL server that is not there (a primary gone in a failover, before the proxy
    /// routes to the new one) is out of reach, not a failure of ours; a bad statement is not.
    #[tokio::test]
    async fn a_database_out_of_reach_is_unreachable() {
        use sea_orm::{ConnectOptions, Database};
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        let mut o = ConnectOptions::new("postgres://postgres@127.0.0.1:1/softland");
        o.connect_timeout(std::time::Duration::from_secs(2))
            .sqlx_logging(false);
        let e = Database::connect(o).await.expect_err("nobody listens");
        assert!(Error::Db(e).is_unreachable());
        let sqlite = Database::connect("sqlite::memory:").await.expect("sqlite");
        let e = sea_orm::ConnectionTrait::execute_unprepared(&sqlite, "SELEC 1")
            .await
            .expect_err("syntax");
        assert!(!Error::Db(e).is_unreachable());
        assert!(!Error::NotFound("x".into()).is_unreachable());
    }

    /// A real busy SQLite database is recognised by its code.
    #[tokio::test]
    async fn a_locked_sqlite_database_is_busy() {
        use sea_orm::{ConnectOptions, ConnectionTrait, Database};
        let path = std::env::temp_dir().join(format!("softland-busy-{}.db", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let open = || {
            let mut o = ConnectOptions::new(url.clone());
            o.max_connections(1)
                .sqlx_logging(false)
                .map_sqlx_sqlite_opts(|o| o.busy_timeout(std::time::Duration::ZERO));
            Database::connect(o)
        };
        let (a, b) = (open().await.expect("a"), open().await.expect("b"));
        a.execute_unprepared("CREATE TABLE t (x INTEGER)")
            .await
            .expect("table");
        a.execute_unprepared("BEGIN IMMEDIATE")
            .await
            .expect("a writes");
        let e = b
            .execute_unprepared("BEGIN IMMEDIATE")
            .await
            .expect_err("b must wait for a");
        assert!(is_busy(&e), "{e}");
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn busy_is_told_by_code_not_by_words() {
        use sea_orm::{DbErr, RuntimeErr};
        // A message that merely says "database is locked" is not a busy database.
        assert!(!is_busy(&DbErr::Exec(RuntimeErr::Internal(
            "database is locked".to_owned()
        ))));
    }
}
