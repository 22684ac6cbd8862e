//! What reports measure on each application, kept (issue "Oversight"): an application's
//! facts — its step times, service levels, lead time, information requests — computed once
//! per revision, so a report over a million applications reads a row each instead of their
//! tasks and events. A row is a cache: a report recomputes one whose revision is not the
//! application's, and dropping the table loses nothing.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ReportFacts {
    Table,
    ApplicationId,
    Revision,
    Facts,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ReportFacts::Table)
                .col(
                    ColumnDef::new(ReportFacts::ApplicationId)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(ReportFacts::Revision)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(ReportFacts::Facts).text().not_null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ReportFacts::Table).to_owned())
            .await
    }
}
