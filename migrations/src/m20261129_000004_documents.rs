//! Documents (issue 16): uploaded files, stored by content (SHA-256) in the object store; a row
//! here says who uploaded what under which name, and which application it is linked to once a
//! submission or an action refers to it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Documents {
    Table,
    Id,
    Sha256,
    Filename,
    MediaType,
    Size,
    /// `organization:KEY`, `agency:KEY` or `none`: whose upload it is.
    Owner,
    UploadedBy,
    UploadedAt,
    ApplicationId,
    LinkedAt,
    ErasedAt,
    ErasedBy,
    ErasureReason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Documents::Table)
                .col(
                    ColumnDef::new(Documents::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Documents::Sha256).string().not_null())
                .col(ColumnDef::new(Documents::Filename).string().not_null())
                .col(ColumnDef::new(Documents::MediaType).string().not_null())
                .col(ColumnDef::new(Documents::Size).big_integer().not_null())
                .col(ColumnDef::new(Documents::Owner).string().not_null())
                .col(ColumnDef::new(Documents::UploadedBy).string().not_null())
                .col(
                    ColumnDef::new(Documents::UploadedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(ColumnDef::new(Documents::ApplicationId).uuid().null())
                .col(
                    ColumnDef::new(Documents::LinkedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(
                    ColumnDef::new(Documents::ErasedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(ColumnDef::new(Documents::ErasedBy).string().null())
                .col(ColumnDef::new(Documents::ErasureReason).string().null())
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("ix_documents_application", vec![Documents::ApplicationId]),
            ("ix_documents_sha256", vec![Documents::Sha256]),
            (
                "ix_documents_owner_uploaded",
                vec![Documents::Owner, Documents::UploadedAt],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Documents::Table);
            for c in cols {
                index.col(c);
            }
            m.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Documents::Table).to_owned())
            .await
    }
}
