//! A task names its workflow and version, so that its labels are looked up from the
//! definition in the language asked for (not frozen in English) and inboxes filter by workflow.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tasks {
    Table,
    WorkflowKey,
    WorkflowVersion,
}

fn alter() -> TableAlterStatement {
    Table::alter().table(Tasks::Table).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One alteration per statement: SQLite takes no more.
        m.alter_table(
            alter()
                .add_column(
                    ColumnDef::new(Tasks::WorkflowKey)
                        .string()
                        .not_null()
                        .default(""),
                )
                .to_owned(),
        )
        .await?;
        m.alter_table(
            alter()
                .add_column(
                    ColumnDef::new(Tasks::WorkflowVersion)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(
                "UPDATE tasks SET \
                 workflow_key = (SELECT a.workflow_key FROM applications a WHERE a.id = tasks.application_id), \
                 workflow_version = (SELECT a.workflow_version FROM applications a WHERE a.id = tasks.application_id)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(alter().drop_column(Tasks::WorkflowVersion).to_owned())
            .await?;
        m.alter_table(alter().drop_column(Tasks::WorkflowKey).to_owned())
            .await
    }
}
