//! Places (issue "Places"): the pools of places applications draw on, each application's place
//! in them, and the positions firms offer (each position is a pool).
//!
//! `pools` keeps the counts a reservation changes, and its CHECK is what makes a reservation
//! atomic: the command that would take a place past `places` fails whole, on both databases,
//! whatever the servers, and runs again seeing the pool full.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Pools {
    Table,
    Id,
    Places,
    Taken,
    Waiting,
}

#[derive(DeriveIden)]
enum PoolEntries {
    Table,
    PoolId,
    ApplicationId,
    Pool,
    Status,
    Rank,
    Since,
}

#[derive(DeriveIden)]
enum Positions {
    Table,
    Id,
    Organization,
    WorkflowKey,
    Title,
    Description,
    Location,
    Requirements,
    StartsOn,
    EndsOn,
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
                .table(Pools::Table)
                .col(ColumnDef::new(Pools::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Pools::Places).integer().not_null())
                .col(ColumnDef::new(Pools::Taken).integer().not_null().default(0))
                .col(
                    ColumnDef::new(Pools::Waiting)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .check(Expr::cust(
                    "taken >= 0 AND waiting >= 0 AND places >= 0 AND taken <= places",
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PoolEntries::Table)
                .col(ColumnDef::new(PoolEntries::PoolId).uuid().not_null())
                .col(ColumnDef::new(PoolEntries::ApplicationId).uuid().not_null())
                .col(ColumnDef::new(PoolEntries::Pool).string().not_null())
                .col(ColumnDef::new(PoolEntries::Status).string().not_null())
                .col(ColumnDef::new(PoolEntries::Rank).integer())
                .col(
                    ColumnDef::new(PoolEntries::Since)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .primary_key(
                    Index::create()
                        .col(PoolEntries::PoolId)
                        .col(PoolEntries::ApplicationId),
                )
                .to_owned(),
        )
        .await?;
        // A command reads its application's places; the promoter the first in line.
        m.create_index(
            Index::create()
                .name("ix_pool_entries_application")
                .table(PoolEntries::Table)
                .col(PoolEntries::ApplicationId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_pool_entries_line")
                .table(PoolEntries::Table)
                .col(PoolEntries::PoolId)
                .col(PoolEntries::Status)
                .col(PoolEntries::Rank)
                .col(PoolEntries::Since)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Positions::Table)
                .col(
                    ColumnDef::new(Positions::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Positions::Organization).string().not_null())
                .col(ColumnDef::new(Positions::WorkflowKey).string().not_null())
                .col(ColumnDef::new(Positions::Title).json().not_null())
                .col(ColumnDef::new(Positions::Description).json().not_null())
                .col(ColumnDef::new(Positions::Location).string().not_null())
                .col(ColumnDef::new(Positions::Requirements).string().not_null())
                .col(ColumnDef::new(Positions::StartsOn).date())
                .col(ColumnDef::new(Positions::EndsOn).date())
                .col(ColumnDef::new(Positions::ClosesOn).date().not_null())
                .col(ColumnDef::new(Positions::Status).string().not_null())
                .col(ColumnDef::new(Positions::CreatedBy).string().not_null())
                .col(
                    ColumnDef::new(Positions::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_positions_open")
                .table(Positions::Table)
                .col(Positions::Status)
                .col(Positions::ClosesOn)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Positions::Table.into_iden(),
            PoolEntries::Table.into_iden(),
            Pools::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
