//! Notifications (issue 17): webhook endpoints with their signing secrets, one row per message
//! to send (a webhook delivery or an e-mail) with its attempts, and the language people,
//! agencies and organisations read their e-mail in.
//!
//! The outbox's `delivered_at` now means "turned into notifications": rows committed before
//! this migration are marked so, so that history is not announced again.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    /// `organization:KEY`, `agency:KEY` or `none` (an administrator's: everything).
    Owner,
    Url,
    /// Space-separated event types; empty: every type.
    EventTypes,
    Description,
    Secret,
    PreviousSecret,
    PreviousSecretUntil,
    CreatedBy,
    CreatedAt,
    DisabledAt,
    DisabledReason,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    /// `webhook` or `email`.
    Channel,
    EndpointId,
    Recipient,
    Language,
    EventType,
    ApplicationId,
    Seq,
    TaskNo,
    Subject,
    Body,
    Html,
    /// `pending`, `held` (waiting for a digest), `delivered`, `failed` or `cancelled`.
    Status,
    Attempts,
    NextAttemptAt,
    LeaseOwner,
    LeaseUntil,
    LastStatus,
    LastError,
    CreatedAt,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum NotificationAttempts {
    Table,
    Id,
    NotificationId,
    At,
    StatusCode,
    LatencyMs,
    Error,
}

#[derive(DeriveIden)]
enum Agencies {
    Table,
    Language,
    Digest,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Language,
}

#[derive(DeriveIden)]
enum People {
    Table,
    Language,
}

fn at(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).timestamp_with_time_zone().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(WebhookEndpoints::Table)
                .col(
                    ColumnDef::new(WebhookEndpoints::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(WebhookEndpoints::Owner).string().not_null())
                .col(ColumnDef::new(WebhookEndpoints::Url).string().not_null())
                .col(
                    ColumnDef::new(WebhookEndpoints::EventTypes)
                        .string()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(WebhookEndpoints::Description)
                        .string()
                        .null(),
                )
                .col(ColumnDef::new(WebhookEndpoints::Secret).string().not_null())
                .col(
                    ColumnDef::new(WebhookEndpoints::PreviousSecret)
                        .string()
                        .null(),
                )
                .col(at(WebhookEndpoints::PreviousSecretUntil).null())
                .col(
                    ColumnDef::new(WebhookEndpoints::CreatedBy)
                        .string()
                        .not_null(),
                )
                .col(at(WebhookEndpoints::CreatedAt).not_null())
                .col(at(WebhookEndpoints::DisabledAt).null())
                .col(
                    ColumnDef::new(WebhookEndpoints::DisabledReason)
                        .string()
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_webhook_endpoints_owner")
                .table(WebhookEndpoints::Table)
                .col(WebhookEndpoints::Owner)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Notifications::Table)
                .col(
                    ColumnDef::new(Notifications::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Notifications::Channel).string().not_null())
                .col(ColumnDef::new(Notifications::EndpointId).uuid().null())
                .col(ColumnDef::new(Notifications::Recipient).string().null())
                .col(ColumnDef::new(Notifications::Language).string().not_null())
                .col(ColumnDef::new(Notifications::EventType).string().not_null())
                .col(ColumnDef::new(Notifications::ApplicationId).uuid().null())
                .col(ColumnDef::new(Notifications::Seq).big_integer().null())
                .col(ColumnDef::new(Notifications::TaskNo).integer().null())
                .col(ColumnDef::new(Notifications::Subject).string().null())
                .col(ColumnDef::new(Notifications::Body).text().not_null())
                .col(ColumnDef::new(Notifications::Html).text().null())
                .col(ColumnDef::new(Notifications::Status).string().not_null())
                .col(
                    ColumnDef::new(Notifications::Attempts)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .col(at(Notifications::NextAttemptAt).not_null())
                .col(ColumnDef::new(Notifications::LeaseOwner).string().null())
                .col(at(Notifications::LeaseUntil).null())
                .col(ColumnDef::new(Notifications::LastStatus).integer().null())
                .col(ColumnDef::new(Notifications::LastError).string().null())
                .col(at(Notifications::CreatedAt).not_null())
                .col(at(Notifications::DeliveredAt).null())
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            (
                "ix_notifications_due",
                vec![Notifications::Status, Notifications::NextAttemptAt],
            ),
            (
                "ix_notifications_order",
                vec![
                    Notifications::EndpointId,
                    Notifications::ApplicationId,
                    Notifications::Seq,
                ],
            ),
            ("ix_notifications_created", vec![Notifications::CreatedAt]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Notifications::Table);
            for c in cols {
                index.col(c);
            }
            m.create_index(index.to_owned()).await?;
        }
        m.create_table(
            Table::create()
                .table(NotificationAttempts::Table)
                .col(
                    ColumnDef::new(NotificationAttempts::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(NotificationAttempts::NotificationId)
                        .uuid()
                        .not_null(),
                )
                .col(at(NotificationAttempts::At).not_null())
                .col(
                    ColumnDef::new(NotificationAttempts::StatusCode)
                        .integer()
                        .null(),
                )
                .col(
                    ColumnDef::new(NotificationAttempts::LatencyMs)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(NotificationAttempts::Error).string().null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_notification_attempts_of")
                .table(NotificationAttempts::Table)
                .col(NotificationAttempts::NotificationId)
                .to_owned(),
        )
        .await?;
        // One column per statement: SQLite alters one at a time.
        for alter in [
            Table::alter()
                .table(Agencies::Table)
                .add_column(ColumnDef::new(Agencies::Language).string().null())
                .to_owned(),
            Table::alter()
                .table(Agencies::Table)
                .add_column(
                    ColumnDef::new(Agencies::Digest)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .to_owned(),
            Table::alter()
                .table(Organizations::Table)
                .add_column(ColumnDef::new(Organizations::Language).string().null())
                .to_owned(),
            Table::alter()
                .table(People::Table)
                .add_column(ColumnDef::new(People::Language).string().null())
                .to_owned(),
        ] {
            m.alter_table(alter).await?;
        }
        m.get_connection()
            .execute_unprepared(
                "UPDATE outbox SET delivered_at = created_at WHERE delivered_at IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            NotificationAttempts::Table.into_iden(),
            Notifications::Table.into_iden(),
            WebhookEndpoints::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        for (t, c) in [
            (Agencies::Table.into_iden(), Agencies::Language.into_iden()),
            (Agencies::Table.into_iden(), Agencies::Digest.into_iden()),
            (
                Organizations::Table.into_iden(),
                Organizations::Language.into_iden(),
            ),
            (People::Table.into_iden(), People::Language.into_iden()),
        ] {
            m.alter_table(Table::alter().table(t).drop_column(c).to_owned())
                .await?;
        }
        Ok(())
    }
}
