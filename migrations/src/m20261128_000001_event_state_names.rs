//! Events name their states instead of giving their index in one workflow version. Rows
//! written before keep the payload their hash covers in `hashed_payload`, and `payload`
//! becomes the named form; the store does that rewriting when it opens (it needs the
//! workflows to know the names) and records it in `upgrades`, which this creates with the
//! upgrade pending.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Events {
    Table,
    HashedPayload,
}

#[derive(DeriveIden)]
enum Upgrades {
    Table,
    Name,
    AppliedAt,
    Rows,
}

/// The upgrade the store carries out.
const UPGRADE: &str = "event-state-names";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Events::Table)
                .add_column(ColumnDef::new(Events::HashedPayload).text().null())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Upgrades::Table)
                .col(
                    ColumnDef::new(Upgrades::Name)
                        .string()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(Upgrades::AppliedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(
                    ColumnDef::new(Upgrades::Rows)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(Upgrades::Table)
                .columns([Upgrades::Name])
                .values([UPGRADE.into()])
                .map_err(|e| DbErr::Custom(e.to_string()))?
                .to_owned(),
        )
        .await
    }

    /// Back to indexes: each rewritten event gets the payload its hash covers again (events
    /// written since carry names, which an older softland cannot read).
    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(
                "UPDATE events SET payload = hashed_payload WHERE hashed_payload IS NOT NULL",
            )
            .await?;
        m.drop_table(Table::drop().table(Upgrades::Table).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(Events::Table)
                .drop_column(Events::HashedPayload)
                .to_owned(),
        )
        .await
    }
}
