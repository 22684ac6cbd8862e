//! Plans that move running applications from one version of a workflow to another (issue 32):
//! what the plan maps, who made and who approved it (four eyes), and how far its runs got. A
//! plan that was run is kept: the `migrated` events name it by its hash.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MigrationPlans {
    Table,
    Id,
    WorkflowKey,
    FromVersion,
    ToVersion,
    Plan,
    Hash,
    CreatedBy,
    CreatedAt,
    ApprovedBy,
    ApprovedAt,
    Migrated,
    LastRunAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(MigrationPlans::Table)
                .col(
                    ColumnDef::new(MigrationPlans::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(MigrationPlans::WorkflowKey)
                        .string()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(MigrationPlans::FromVersion)
                        .integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(MigrationPlans::ToVersion)
                        .integer()
                        .not_null(),
                )
                .col(ColumnDef::new(MigrationPlans::Plan).json().not_null())
                .col(ColumnDef::new(MigrationPlans::Hash).string().not_null())
                .col(
                    ColumnDef::new(MigrationPlans::CreatedBy)
                        .string()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(MigrationPlans::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(ColumnDef::new(MigrationPlans::ApprovedBy).string().null())
                .col(
                    ColumnDef::new(MigrationPlans::ApprovedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(
                    ColumnDef::new(MigrationPlans::Migrated)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .col(
                    ColumnDef::new(MigrationPlans::LastRunAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_migration_plans_workflow")
                .table(MigrationPlans::Table)
                .col(MigrationPlans::WorkflowKey)
                .col(MigrationPlans::CreatedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(MigrationPlans::Table).to_owned())
            .await
    }
}
