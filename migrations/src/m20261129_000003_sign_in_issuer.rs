//! An agency may name an identity provider whose unknown people join it when they first sign in
//! (issue 14): added without roles — no access — until a lead or administrator gives them one.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Agencies {
    Table,
    SignInIssuer,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Agencies::Table)
                .add_column(ColumnDef::new(Agencies::SignInIssuer).string().null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Agencies::Table)
                .drop_column(Agencies::SignInIssuer)
                .to_owned(),
        )
        .await
    }
}
