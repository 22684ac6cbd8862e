//! Applications get a number people can say and search for (issue 30): the reference
//! `SZHK-2026-0042` is the workflow's prefix, the year it was submitted and this number,
//! unique across every programme and never reused. A number is given once, when the
//! application is first submitted or first shown, and kept.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApplicationNumbers {
    Table,
    Number,
    ApplicationId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ApplicationNumbers::Table)
                .col(
                    ColumnDef::new(ApplicationNumbers::Number)
                        .integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(ApplicationNumbers::ApplicationId)
                        .uuid()
                        .not_null()
                        .unique_key(),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ApplicationNumbers::Table).to_owned())
            .await
    }
}
