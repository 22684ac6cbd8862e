//! Students' profiles (issue "Places"): what a student says of themselves once — institution,
//! year of study, residency — and the forms of their next applications start from.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StudentProfiles {
    Table,
    PersonId,
    Profile,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(StudentProfiles::Table)
                .col(
                    ColumnDef::new(StudentProfiles::PersonId)
                        .string()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(StudentProfiles::Profile).json().not_null())
                .col(
                    ColumnDef::new(StudentProfiles::UpdatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(StudentProfiles::Table).to_owned())
            .await
    }
}
