//! What people do besides moving applications (issue 30): claims, releases, hand-overs, keys
//! made and revoked, directory changes, workflows published, retired and brought back. Kept
//! beside the applications' events — not as revisions of any application — for administrators
//! to read and `audit-export` to write.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PeopleActions {
    Table,
    Id,
    At,
    Actor,
    Kind,
    Subject,
    ApplicationId,
    Detail,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PeopleActions::Table)
                .col(
                    ColumnDef::new(PeopleActions::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(PeopleActions::At)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(ColumnDef::new(PeopleActions::Actor).string().not_null())
                .col(ColumnDef::new(PeopleActions::Kind).string().not_null())
                .col(ColumnDef::new(PeopleActions::Subject).string().not_null())
                .col(ColumnDef::new(PeopleActions::ApplicationId).uuid().null())
                .col(ColumnDef::new(PeopleActions::Detail).json().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_people_actions_at")
                .table(PeopleActions::Table)
                .col(PeopleActions::At)
                .col(PeopleActions::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(PeopleActions::Table).to_owned())
            .await
    }
}
