//! Intakes (issue "Places"): a programme admits by intake — dates and a number of places (the
//! pool with the intake's id). An application belongs to the intake open when it was
//! submitted; a programme's intakes do not overlap.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Intakes {
    Table,
    Id,
    WorkflowKey,
    Name,
    OpensOn,
    ClosesOn,
    Status,
    CreatedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Intakes::Table)
                .col(ColumnDef::new(Intakes::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Intakes::WorkflowKey).string().not_null())
                .col(ColumnDef::new(Intakes::Name).string().not_null())
                .col(ColumnDef::new(Intakes::OpensOn).date().not_null())
                .col(ColumnDef::new(Intakes::ClosesOn).date().not_null())
                .col(ColumnDef::new(Intakes::Status).string().not_null())
                .col(ColumnDef::new(Intakes::CreatedBy).string().not_null())
                .col(
                    ColumnDef::new(Intakes::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_intakes_workflow")
                .table(Intakes::Table)
                .col(Intakes::WorkflowKey)
                .col(Intakes::OpensOn)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Intakes::Table).to_owned())
            .await
    }
}
