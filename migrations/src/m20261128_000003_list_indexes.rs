//! Indexes for the inbox's and the application list's filters (issue 13), found by timing
//! every filter at 10 000 and 1 000 000 applications (`softland growth`):
//!
//! - an inbox by opened date needs its own order (`ix_tasks_inbox_opened`);
//! - filters that let few tasks or applications through — overdue tasks, tasks claimed by
//!   someone, applications with an outcome — get partial indexes over those few rows only,
//!   so they cost nearly nothing to keep up (the queries repeat the index's condition
//!   literally, so both databases can use them with bound values);
//! - a window of submission times (`ix_applications_submitted`; never updated).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Name, table, columns and the condition of a partial index.
const INDEXES: [(&str, &str, &str, Option<&str>); 5] = [
    (
        "ix_tasks_inbox_opened",
        "tasks",
        "assignee, status, opened_at, id",
        None,
    ),
    (
        "ix_tasks_overdue",
        "tasks",
        "assignee, status, inbox_order, id",
        Some("overdue"),
    ),
    (
        "ix_tasks_claimed",
        "tasks",
        "assignee, status, claimed_by, inbox_order, id",
        Some("claimed_by IS NOT NULL"),
    ),
    (
        "ix_applications_outcome",
        "applications",
        "outcome, id",
        Some("outcome IS NOT NULL"),
    ),
    (
        "ix_applications_submitted",
        "applications",
        "submitted_at, id",
        None,
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, columns, condition) in INDEXES {
            let condition = condition.map(|c| format!(" WHERE {c}")).unwrap_or_default();
            m.get_connection()
                .execute_unprepared(&format!(
                    "CREATE INDEX {name} ON {table} ({columns}){condition}"
                ))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, ..) in INDEXES {
            m.drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
