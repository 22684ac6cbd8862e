//! The initial schema: definitions, organizations, agencies, applications, tasks, the audit log
//! (events with a hash chain), timers, the outbox, API keys and idempotency keys.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WorkflowDefinitions {
    Table,
    Id,
    Key,
    Version,
    Title,
    Source,
    FormSchema,
    ContentHash,
    PublishedBy,
    PublishedAt,
    RetiredAt,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Key,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Agencies {
    Table,
    Key,
    Name,
    Region,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Applications {
    Table,
    Id,
    WorkflowKey,
    WorkflowVersion,
    Organization,
    Status,
    Outcome,
    ActiveStates,
    Data,
    Instance,
    Revision,
    LastHash,
    SubmittedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Id,
    ApplicationId,
    TaskNo,
    State,
    Title,
    Assignee,
    Organization,
    Actions,
    Status,
    DueAt,
    InboxOrder,
    Overdue,
    OpenedAt,
    ClosedAt,
    ClosedBy,
    ClosedAction,
    ClaimedBy,
    ClaimedAt,
    DelegatedTo,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    ApplicationId,
    Seq,
    Kind,
    Actor,
    State,
    Action,
    Comment,
    Payload,
    At,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum Timers {
    Table,
    ApplicationId,
    TaskNo,
    DueAt,
    Status,
    LeaseOwner,
    LeaseUntil,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    ApplicationId,
    Seq,
    Kind,
    Payload,
    CreatedAt,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    Label,
    TokenHash,
    Role,
    Agency,
    Organization,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Scope,
    Key,
    Operation,
    RequestHash,
    ApplicationId,
    Revision,
    CreatedAt,
}

fn col<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
}

fn index(
    table: impl IntoIden + 'static,
    name: &str,
    cols: &[&'static str],
) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(Alias::new(*c));
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(WorkflowDefinitions::Table)
                .col(
                    col(WorkflowDefinitions::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(col(WorkflowDefinitions::Key).string().not_null())
                .col(col(WorkflowDefinitions::Version).integer().not_null())
                .col(col(WorkflowDefinitions::Title).string().not_null())
                .col(col(WorkflowDefinitions::Source).text().not_null())
                .col(col(WorkflowDefinitions::FormSchema).text().not_null())
                .col(col(WorkflowDefinitions::ContentHash).string().not_null())
                .col(col(WorkflowDefinitions::PublishedBy).string().not_null())
                .col(
                    col(WorkflowDefinitions::PublishedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    col(WorkflowDefinitions::RetiredAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                WorkflowDefinitions::Table,
                "ux_definitions_key_version",
                &["key", "version"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            WorkflowDefinitions::Table,
            "ix_definitions_key_hash",
            &["key", "content_hash"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Organizations::Table)
                .col(col(Organizations::Key).string().not_null().primary_key())
                .col(col(Organizations::Name).string().not_null())
                .col(
                    col(Organizations::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Agencies::Table)
                .col(col(Agencies::Key).string().not_null().primary_key())
                .col(col(Agencies::Name).string().not_null())
                .col(col(Agencies::Region).string().not_null())
                .col(
                    col(Agencies::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Applications::Table)
                .col(col(Applications::Id).uuid().not_null().primary_key())
                .col(col(Applications::WorkflowKey).string().not_null())
                .col(col(Applications::WorkflowVersion).integer().not_null())
                .col(col(Applications::Organization).string().not_null())
                .col(col(Applications::Status).string().not_null())
                .col(col(Applications::Outcome).string().null())
                .col(col(Applications::ActiveStates).json_binary().not_null())
                .col(col(Applications::Data).json_binary().not_null())
                .col(col(Applications::Instance).json_binary().not_null())
                .col(col(Applications::Revision).big_integer().not_null())
                .col(col(Applications::LastHash).string().not_null())
                .col(
                    col(Applications::SubmittedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    col(Applications::UpdatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        // A firm's applications by status (keyset on id), and the same for all firms.
        m.create_index(index(
            Applications::Table,
            "ix_applications_org_status_id",
            &["organization", "status", "id"],
        ))
        .await?;
        m.create_index(index(
            Applications::Table,
            "ix_applications_org_id",
            &["organization", "id"],
        ))
        .await?;
        m.create_index(index(
            Applications::Table,
            "ix_applications_status_id",
            &["status", "id"],
        ))
        .await?;
        m.create_index(index(
            Applications::Table,
            "ix_applications_workflow_id",
            &["workflow_key", "id"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Tasks::Table)
                .col(col(Tasks::Id).uuid().not_null().primary_key())
                .col(col(Tasks::ApplicationId).uuid().not_null())
                .col(col(Tasks::TaskNo).integer().not_null())
                .col(col(Tasks::State).string().not_null())
                .col(col(Tasks::Title).string().not_null())
                .col(col(Tasks::Assignee).string().not_null())
                .col(col(Tasks::Organization).string().not_null())
                .col(col(Tasks::Actions).json_binary().not_null())
                .col(col(Tasks::Status).string().not_null())
                .col(col(Tasks::DueAt).timestamp_with_time_zone().null())
                .col(col(Tasks::InboxOrder).timestamp_with_time_zone().not_null())
                .col(col(Tasks::Overdue).boolean().not_null())
                .col(col(Tasks::OpenedAt).timestamp_with_time_zone().not_null())
                .col(col(Tasks::ClosedAt).timestamp_with_time_zone().null())
                .col(col(Tasks::ClosedBy).string().null())
                .col(col(Tasks::ClosedAction).string().null())
                .col(col(Tasks::ClaimedBy).string().null())
                .col(col(Tasks::ClaimedAt).timestamp_with_time_zone().null())
                .col(col(Tasks::DelegatedTo).string().null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                Tasks::Table,
                "ux_tasks_application_no",
                &["application_id", "task_no"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        // An agency's (or a firm's) open tasks, soonest due first (keyset on inbox_order, id).
        m.create_index(index(
            Tasks::Table,
            "ix_tasks_inbox",
            &["assignee", "status", "inbox_order", "id"],
        ))
        .await?;
        m.create_index(index(
            Tasks::Table,
            "ix_tasks_applicant_inbox",
            &["organization", "assignee", "status", "inbox_order", "id"],
        ))
        .await?;
        // Which applications an agency has (had) tasks on.
        m.create_index(index(
            Tasks::Table,
            "ix_tasks_assignee_application",
            &["assignee", "application_id"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Events::Table)
                .col(
                    col(Events::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(col(Events::ApplicationId).uuid().not_null())
                .col(col(Events::Seq).big_integer().not_null())
                .col(col(Events::Kind).string().not_null())
                .col(col(Events::Actor).string().null())
                .col(col(Events::State).string().null())
                .col(col(Events::Action).string().null())
                .col(col(Events::Comment).text().null())
                .col(col(Events::Payload).text().not_null())
                .col(col(Events::At).timestamp_with_time_zone().not_null())
                .col(col(Events::PrevHash).string().not_null())
                .col(col(Events::Hash).string().not_null())
                .to_owned(),
        )
        .await?;
        // An application's history; the unique pair also forbids a second writer's sequence.
        m.create_index(
            index(
                Events::Table,
                "ux_events_application_seq",
                &["application_id", "seq"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(index(Events::Table, "ix_events_at", &["at", "id"]))
            .await?;

        m.create_table(
            Table::create()
                .table(Timers::Table)
                .col(col(Timers::ApplicationId).uuid().not_null())
                .col(col(Timers::TaskNo).integer().not_null())
                .col(col(Timers::DueAt).timestamp_with_time_zone().not_null())
                .col(col(Timers::Status).string().not_null())
                .col(col(Timers::LeaseOwner).string().null())
                .col(col(Timers::LeaseUntil).timestamp_with_time_zone().null())
                .primary_key(
                    Index::create()
                        .col(Timers::ApplicationId)
                        .col(Timers::TaskNo),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(Timers::Table, "ix_timers_due", &["status", "due_at"]))
            .await?;

        m.create_table(
            Table::create()
                .table(Outbox::Table)
                .col(
                    col(Outbox::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(col(Outbox::ApplicationId).uuid().not_null())
                .col(col(Outbox::Seq).big_integer().not_null())
                .col(col(Outbox::Kind).string().not_null())
                .col(col(Outbox::Payload).text().not_null())
                .col(col(Outbox::CreatedAt).timestamp_with_time_zone().not_null())
                .col(col(Outbox::DeliveredAt).timestamp_with_time_zone().null())
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            Outbox::Table,
            "ix_outbox_pending",
            &["delivered_at", "id"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(ApiKeys::Table)
                .col(col(ApiKeys::Id).uuid().not_null().primary_key())
                .col(col(ApiKeys::Label).string().not_null())
                .col(col(ApiKeys::TokenHash).string().not_null().unique_key())
                .col(col(ApiKeys::Role).string().not_null())
                .col(col(ApiKeys::Agency).string().null())
                .col(col(ApiKeys::Organization).string().null())
                .col(
                    col(ApiKeys::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(col(ApiKeys::RevokedAt).timestamp_with_time_zone().null())
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(IdempotencyKeys::Table)
                .col(col(IdempotencyKeys::Scope).string().not_null())
                .col(col(IdempotencyKeys::Key).string().not_null())
                .col(col(IdempotencyKeys::Operation).string().not_null())
                .col(col(IdempotencyKeys::RequestHash).string().not_null())
                .col(col(IdempotencyKeys::ApplicationId).uuid().not_null())
                .col(col(IdempotencyKeys::Revision).big_integer().not_null())
                .col(
                    col(IdempotencyKeys::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .primary_key(
                    Index::create()
                        .col(IdempotencyKeys::Scope)
                        .col(IdempotencyKeys::Key),
                )
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            IdempotencyKeys::Table.into_iden(),
            ApiKeys::Table.into_iden(),
            Outbox::Table.into_iden(),
            Timers::Table.into_iden(),
            Events::Table.into_iden(),
            Tasks::Table.into_iden(),
            Applications::Table.into_iden(),
            Agencies::Table.into_iden(),
            Organizations::Table.into_iden(),
            WorkflowDefinitions::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
