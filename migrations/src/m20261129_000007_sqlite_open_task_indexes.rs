//! On SQLite, the three inbox indexes hold open tasks only. Every inbox reads open tasks
//! (`status = 'open'`, bound as a value: SQLite's planner checks a bound value against a
//! partial index's condition), yet with `status` in their keys every task stayed in all three
//! after it closed — nearly every row of a database that has run a while — and closing a task
//! moved its entries instead of removing them. SQLite's single writer pays for each entry.
//!
//! PostgreSQL keeps the full indexes: its generic plans, which serve a statement once it has
//! run a few times, cannot prove a bound `status` against a partial index's condition.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `(full index, its columns; open-task index, its columns)`: the key loses `status`, which
/// the condition fixes. New names: an index is never dropped and made again under one name
/// (the pool's other connections may still see the old schema).
const INDEXES: [(&str, &str, &str, &str); 3] = [
    (
        "ix_tasks_inbox",
        "assignee, status, inbox_order, id",
        "ix_tasks_open_inbox",
        "assignee, inbox_order, id",
    ),
    (
        "ix_tasks_applicant_inbox",
        "organization, assignee, status, inbox_order, id",
        "ix_tasks_open_applicant_inbox",
        "organization, assignee, inbox_order, id",
    ),
    (
        "ix_tasks_inbox_opened",
        "assignee, status, opened_at, id",
        "ix_tasks_open_by_opening",
        "assignee, opened_at, id",
    ),
];

/// On `backend` only: the inbox indexes over open tasks (`open_only`), or back to the full
/// ones. PostgreSQL's turn came later (`m20261209_000001_write_diet`).
pub(crate) async fn rebuild(
    m: &SchemaManager<'_>,
    backend: DbBackend,
    open_only: bool,
) -> Result<(), DbErr> {
    if m.get_database_backend() != backend {
        return Ok(());
    }
    let db = m.get_connection();
    for (full, full_columns, open, open_columns) in INDEXES {
        let (create, drop) = if open_only {
            (
                format!(
                    "CREATE INDEX IF NOT EXISTS {open} ON tasks ({open_columns}) \
                     WHERE status = 'open'"
                ),
                full,
            )
        } else {
            (
                format!("CREATE INDEX IF NOT EXISTS {full} ON tasks ({full_columns})"),
                open,
            )
        };
        db.execute_unprepared(&create).await?;
        db.execute_unprepared(&format!("DROP INDEX IF EXISTS {drop}"))
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rebuild(m, DbBackend::Sqlite, true).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rebuild(m, DbBackend::Sqlite, false).await
    }
}
