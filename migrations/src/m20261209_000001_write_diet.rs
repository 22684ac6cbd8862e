//! A write diet (issue "Speed"), measured with `docs/perf/wal.sh` (WAL records and B-tree index
//! entries per command; docs/PERFORMANCE.md):
//!
//! - On PostgreSQL too, the three inbox indexes hold open tasks only (SQLite's have since
//!   `m20261129_000007`). Every inbox query now says `status = 'open'` as a literal, not a
//!   bound value, so PostgreSQL's generic plans can prove it against the indexes' condition
//!   as well as its custom plans. A task closing writes no entry into them any more (its new
//!   row version is not open); with `status` in their keys it wrote one into each.
//! - Timers that fired, or whose task closed first, are deleted instead of updated (a
//!   deletion writes no index entry); only pending timers are kept. The history is in the
//!   audit log.
//! - On PostgreSQL, the audit log's key is its hash chain's order — `(application_id, seq)`,
//!   the unique index every command already wrote — instead of a separate index on `id`:
//!   one B-tree entry fewer per event. What read entries by `id` (the report keeper's cursor,
//!   the audit head, the one-off upgrade pass) reads them by `(at, id)` along `ix_events_at`.
//!   (On SQLite `id` is the row id: its key costs nothing.)

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::m20261129_000007_sqlite_open_task_indexes::rebuild;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The audit log's primary key: `(application_id, seq)`, or (down) `id` again.
async fn rekey_events(m: &SchemaManager<'_>, by_chain: bool) -> Result<(), DbErr> {
    if m.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let sql = if by_chain {
        "ALTER TABLE events DROP CONSTRAINT events_pkey, \
         ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX ux_events_application_seq"
    } else {
        "CREATE UNIQUE INDEX ux_events_application_seq ON events (application_id, seq); \
         ALTER TABLE events DROP CONSTRAINT events_pkey, ADD PRIMARY KEY (id)"
    };
    m.get_connection().execute_unprepared(sql).await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rebuild(m, DbBackend::Postgres, true).await?;
        rekey_events(m, true).await?;
        m.get_connection()
            .execute_unprepared("DELETE FROM timers WHERE status <> 'pending'")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // The deleted timers' history stays in the audit log; they are not made again.
        rekey_events(m, false).await?;
        rebuild(m, DbBackend::Postgres, false).await
    }
}
