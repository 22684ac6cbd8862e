//! The outbox rows not yet announced (fan-out's queue) are found by a partial index that holds
//! only them, instead of an index over every row's `delivered_at`: marking a row announced
//! then removes it from a small index rather than rewriting an entry of a large one.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS ix_outbox_pending")
            .await?;
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS ix_outbox_unannounced ON outbox (id) WHERE delivered_at IS NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS ix_outbox_unannounced")
            .await?;
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS ix_outbox_pending ON outbox (delivered_at, id)",
        )
        .await?;
        Ok(())
    }
}
