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
    /// A stable code for the edge (GraphQL `extensions.code`).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Rejected(r) => r.code(),
            Error::Conflict(_) => "CONFLICT",
            Error::NotFound(_) => "NOT_FOUND",
            Error::Forbidden(_) | Error::NotYours { .. } => "FORBIDDEN",
            Error::InvalidDefinition(_) | Error::Retired { .. } => "BAD_USER_INPUT",
            Error::Db(_) | Error::UnsupportedUrl(_) | Error::Corrupt(_) | Error::Io { .. } => {
                "INTERNAL"
            }
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

/// SQLite reports a busy database or a stale snapshot as an error: for a command it means
/// another writer won, which is a conflict, not a failure.
pub(crate) fn is_busy(e: &sea_orm::DbErr) -> bool {
    let s = e.to_string();
    s.contains("database is locked")
        || s.contains("SQLITE_BUSY")
        || s.contains("could not serialize")
}
