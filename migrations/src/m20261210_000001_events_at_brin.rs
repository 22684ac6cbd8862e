//! A write diet, part 2 (issue "Speed"): on PostgreSQL the audit log's time index is a BRIN
//! index instead of a B-tree.
//!
//! `ix_events_at` on `(at, id)` took one B-tree entry for every event — about five a command,
//! a fifth of what a command wrote into indexes. The audit log is appended in time order, so
//! a block-range index answers "which blocks hold these times" from one summary per 128
//! pages and costs nothing on insert (the range being filled is summarized later, by
//! autovacuum). What needed the B-tree's order reads otherwise now: the report keeper follows
//! the outbox (one row a command, by its key), the audit head is the outbox's last row's
//! last event, the audit export reads windows of time it sizes to the rows it finds, and the
//! one-off upgrade pass goes by the log's key. SQLite has no BRIN: its index stays.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        m.get_connection()
            .execute_unprepared(
                "DROP INDEX IF EXISTS ix_events_at; \
                 CREATE INDEX ix_events_at ON events USING brin (at) \
                 WITH (autosummarize = on)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        m.get_connection()
            .execute_unprepared(
                "DROP INDEX IF EXISTS ix_events_at; \
                 CREATE INDEX ix_events_at ON events (at, id)",
            )
            .await?;
        Ok(())
    }
}
