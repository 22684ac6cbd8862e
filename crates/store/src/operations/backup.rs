//! Backups: a consistent copy of a SQLite database taken while the server keeps writing, and
//! the totals a backup's manifest records (PostgreSQL is copied by `pg_dump`, which takes its
//! own snapshot).

use std::path::Path;

use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, Statement};

use crate::Store;
use crate::connect::BackendKind;
use crate::entity::{application, document, event};
use crate::error::{Error, Result};

/// What a database holds, for a backup's manifest and the check after a restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Totals {
    /// Applications.
    pub applications: u64,
    /// Audit-log events.
    pub events: u64,
    /// Document rows.
    pub documents: u64,
}

impl Store {
    /// SQLite: writes a consistent copy of the whole database to `to` (`VACUUM INTO`: one read
    /// transaction, so every command committed before it is in the copy and none after; writers
    /// go on meanwhile). `to` must not exist.
    pub async fn backup_sqlite(&self, to: &Path) -> Result<()> {
        if self.inner.backend.kind() != BackendKind::Sqlite {
            return Err(Error::Unavailable(
                "VACUUM INTO is SQLite's; back PostgreSQL up with pg_dump".into(),
            ));
        }
        let target = to
            .to_str()
            .ok_or_else(|| Error::Unavailable(format!("{} is not a UTF-8 path", to.display())))?;
        self.db()
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "VACUUM INTO ?",
                [target.into()],
            ))
            .await?;
        Ok(())
    }

    /// How many applications, events and documents the database holds.
    pub async fn totals(&self) -> Result<Totals> {
        Ok(Totals {
            applications: application::Entity::find().count(self.db()).await?,
            events: event::Entity::find().count(self.db()).await?,
            documents: document::Entity::find().count(self.db()).await?,
        })
    }
}

/// A PostgreSQL snapshot held open while `pg_dump --snapshot` copies it, with the totals it
/// holds: the manifest then says exactly what the dump holds.
#[derive(Debug)]
pub struct PgSnapshot {
    txn: sea_orm::DatabaseTransaction,
    /// The exported snapshot's name (for `pg_dump --snapshot`).
    pub name: String,
    /// What the snapshot holds.
    pub totals: Totals,
}

impl PgSnapshot {
    /// Lets the snapshot go.
    pub async fn release(self) -> Result<()> {
        self.txn.commit().await?;
        Ok(())
    }
}

impl Store {
    /// PostgreSQL: a repeatable-read snapshot, exported for `pg_dump`, and what it holds.
    pub async fn pg_snapshot(&self) -> Result<PgSnapshot> {
        use sea_orm::{IsolationLevel, TransactionTrait};
        if self.inner.backend.kind() != BackendKind::Postgres {
            return Err(Error::Unavailable(
                "snapshots for pg_dump are PostgreSQL's".into(),
            ));
        }
        let txn = self
            .db()
            .begin_with_config(Some(IsolationLevel::RepeatableRead), None)
            .await?;
        let one = |sql: &str| Statement::from_string(DbBackend::Postgres, sql.to_owned());
        let name: String = txn
            .query_one_raw(one("SELECT pg_export_snapshot() AS name"))
            .await?
            .ok_or_else(|| Error::Unavailable("no snapshot".into()))?
            .try_get("", "name")?;
        let row = txn
            .query_one_raw(one("SELECT (SELECT COUNT(*) FROM applications) AS a, \
                 (SELECT COUNT(*) FROM events) AS e, (SELECT COUNT(*) FROM documents) AS d"))
            .await?
            .ok_or_else(|| Error::Unavailable("no totals".into()))?;
        let n = |c: &str| -> Result<u64> { Ok(row.try_get::<i64>("", c)?.max(0) as u64) };
        let totals = Totals {
            applications: n("a")?,
            events: n("e")?,
            documents: n("d")?,
        };
        Ok(PgSnapshot { txn, name, totals })
    }
}
