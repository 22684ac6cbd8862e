//! Browser sessions (issue 14): a person signed in through their identity provider holds a
//! session cookie whose SHA-256 is stored here with the CSRF token that state-changing requests
//! must repeat; sign-in attempts (state, nonce, PKCE verifier) wait here for the provider's
//! answer for a few minutes, each used once.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sessions {
    Table,
    IdHash,
    PersonId,
    Csrf,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum SignIns {
    Table,
    State,
    Issuer,
    Nonce,
    Verifier,
    ReturnTo,
    CreatedAt,
}

fn at(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn text(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).string().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(text(Sessions::IdHash).primary_key())
                .col(text(Sessions::PersonId))
                .col(text(Sessions::Csrf))
                .col(at(Sessions::CreatedAt))
                .col(at(Sessions::ExpiresAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_sessions_person")
                .table(Sessions::Table)
                .col(Sessions::PersonId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SignIns::Table)
                .col(text(SignIns::State).primary_key())
                .col(text(SignIns::Issuer))
                .col(text(SignIns::Nonce))
                .col(text(SignIns::Verifier))
                .col(text(SignIns::ReturnTo))
                .col(at(SignIns::CreatedAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SignIns::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Sessions::Table).to_owned())
            .await
    }
}
