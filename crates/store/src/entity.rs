//! sea-orm entities: the tables of `softland-migrations`, seen from Rust. Only this crate sees
//! them; the rest of softland gets the records of [`crate::records`].

/// How a row's lifecycle column is stored: enums, never free strings.
pub mod enums {
    use sea_orm::entity::prelude::*;

    /// `applications.status`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
    #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
    pub enum AppStatus {
        /// Under way.
        #[sea_orm(string_value = "active")]
        Active,
        /// Reached a final state.
        #[sea_orm(string_value = "completed")]
        Completed,
        /// Withdrawn by the applicant.
        #[sea_orm(string_value = "withdrawn")]
        Withdrawn,
    }

    /// `tasks.status`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
    #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
    pub enum TaskStatus {
        /// Waiting for its assignee.
        #[sea_orm(string_value = "open")]
        Open,
        /// Completed with an action.
        #[sea_orm(string_value = "completed")]
        Completed,
        /// Closed without action.
        #[sea_orm(string_value = "cancelled")]
        Cancelled,
    }

    /// `notifications.channel`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
    #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
    pub enum Channel {
        /// An HTTP POST to a webhook endpoint.
        #[sea_orm(string_value = "webhook")]
        Webhook,
        /// An e-mail.
        #[sea_orm(string_value = "email")]
        Email,
    }

    /// `notifications.status`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
    #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
    pub enum NotificationStatus {
        /// To be sent (again) at `next_attempt_at`.
        #[sea_orm(string_value = "pending")]
        Pending,
        /// Waiting for its recipient's daily digest.
        #[sea_orm(string_value = "held")]
        Held,
        /// Accepted by the receiver.
        #[sea_orm(string_value = "delivered")]
        Delivered,
        /// Given up on after the last retry (or the endpoint was disabled).
        #[sea_orm(string_value = "failed")]
        Failed,
        /// No longer worth sending (the task it reminds of closed; sent in a digest).
        #[sea_orm(string_value = "cancelled")]
        Cancelled,
    }

    /// `timers.status`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
    #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
    pub enum TimerStatus {
        /// Not yet fired.
        #[sea_orm(string_value = "pending")]
        Pending,
        /// Fired (once).
        #[sea_orm(string_value = "fired")]
        Fired,
        /// Its task closed first.
        #[sea_orm(string_value = "cancelled")]
        Cancelled,
    }
}

pub mod definition {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "workflow_definitions")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub key: String,
        pub version: i32,
        pub title: String,
        pub source: String,
        pub form_schema: String,
        pub content_hash: String,
        pub published_by: String,
        pub published_at: DateTimeUtc,
        pub retired_at: Option<DateTimeUtc>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod organization {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "organizations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub name: String,
        pub created_at: DateTimeUtc,
        pub name_zh_hant: Option<String>,
        pub name_zh_hans: Option<String>,
        pub registration_number: Option<String>,
        pub region: Option<String>,
        pub language: Option<String>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod agency {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "agencies")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub name: String,
        pub region: String,
        pub created_at: DateTimeUtc,
        pub name_zh_hant: Option<String>,
        pub name_zh_hans: Option<String>,
        pub calendar: Option<String>,
        pub inbox_email: Option<String>,
        /// People signing in from this issuer whom the directory lacks join this agency
        /// without roles.
        pub sign_in_issuer: Option<String>,
        /// The language e-mail to its inbox is written in (`en`, `zh-Hant`, `zh-Hans`).
        pub language: Option<String>,
        /// Task-opened e-mail to its inbox comes once a day, as a digest.
        pub digest: bool,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod application {
    use sea_orm::entity::prelude::*;

    use super::enums::AppStatus;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "applications")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub workflow_key: String,
        pub workflow_version: i32,
        pub organization: String,
        pub status: AppStatus,
        pub outcome: Option<String>,
        pub active_states: Json,
        pub data: Json,
        pub instance: Json,
        pub revision: i64,
        pub last_hash: String,
        pub submitted_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod task {
    use sea_orm::entity::prelude::*;

    use super::enums::TaskStatus;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "tasks")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub application_id: Uuid,
        pub task_no: i32,
        pub state: String,
        pub title: String,
        pub assignee: String,
        pub organization: String,
        pub actions: Json,
        pub status: TaskStatus,
        pub due_at: Option<DateTimeUtc>,
        pub inbox_order: DateTimeUtc,
        pub overdue: bool,
        pub opened_at: DateTimeUtc,
        pub closed_at: Option<DateTimeUtc>,
        pub closed_by: Option<String>,
        pub closed_action: Option<String>,
        pub claimed_by: Option<String>,
        pub claimed_at: Option<DateTimeUtc>,
        pub delegated_to: Option<String>,
        /// The workflow version the task's labels come from.
        pub workflow_key: String,
        pub workflow_version: i32,
    }

    impl ActiveModelBehavior for ActiveModel {}

    /// `tasks.status = 'open'`, the value written out rather than bound: the open-task
    /// indexes are partial (`WHERE status = 'open'`), and only a literal lets PostgreSQL's
    /// generic plans (those a prepared statement gets after a few runs) use them.
    pub(crate) fn is_open() -> sea_orm::sea_query::SimpleExpr {
        Expr::cust(r#""tasks"."status" = 'open'"#)
    }
}

pub mod event {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub application_id: Uuid,
        pub seq: i64,
        pub kind: String,
        pub actor: Option<String>,
        pub state: Option<String>,
        pub action: Option<String>,
        pub comment: Option<String>,
        pub payload: String,
        pub at: DateTimeUtc,
        pub prev_hash: String,
        pub hash: String,
        /// Events written before they named their states: the payload the hash covers
        /// (`payload` is its named form). NULL: `payload` itself is hashed.
        pub hashed_payload: Option<String>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod person_action {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "people_actions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub at: DateTimeUtc,
        pub actor: String,
        pub kind: String,
        pub subject: String,
        pub application_id: Option<Uuid>,
        pub detail: Json,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod migration_plan {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "migration_plans")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub workflow_key: String,
        pub from_version: i32,
        pub to_version: i32,
        pub plan: Json,
        pub hash: String,
        pub created_by: String,
        pub created_at: DateTimeUtc,
        pub approved_by: Option<String>,
        pub approved_at: Option<DateTimeUtc>,
        pub migrated: i64,
        pub last_run_at: Option<DateTimeUtc>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod upgrade {
    use sea_orm::entity::prelude::*;

    /// A rewrite of stored data the store carries out once, after the migration that asks
    /// for it: when, and how many rows it changed.
    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "upgrades")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        pub applied_at: Option<DateTimeUtc>,
        pub rows: i64,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod timer {
    use sea_orm::entity::prelude::*;

    use super::enums::TimerStatus;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "timers")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub application_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub task_no: i32,
        pub due_at: DateTimeUtc,
        pub status: TimerStatus,
        pub lease_owner: Option<String>,
        pub lease_until: Option<DateTimeUtc>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod outbox {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub application_id: Uuid,
        /// The first event the command appended.
        pub first_seq: i64,
        /// The last event the command appended.
        pub last_seq: i64,
        pub created_at: DateTimeUtc,
        pub delivered_at: Option<DateTimeUtc>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod api_key {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "api_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub label: String,
        pub token_hash: String,
        pub created_at: DateTimeUtc,
        pub revoked_at: Option<DateTimeUtc>,
        /// The person (or service account) the key acts as; NULL only in a damaged row.
        pub person_id: Option<String>,
        pub expires_at: Option<DateTimeUtc>,
        /// The key under whose authority this one was made through the API, if any.
        pub minted_by: Option<Uuid>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod person {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "people")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub display_name: String,
        pub email: Option<String>,
        pub agency: Option<String>,
        pub organization: Option<String>,
        /// Space-separated: `admin`, `lead`, `reviewer`, `staff`.
        pub roles: String,
        pub service: bool,
        pub active: bool,
        pub created_at: DateTimeUtc,
        pub deactivated_at: Option<DateTimeUtc>,
        pub language: Option<String>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod idempotency {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "idempotency_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub scope: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub operation: String,
        pub request_hash: String,
        pub application_id: Uuid,
        pub revision: i64,
        pub created_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod session {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sessions")]
    pub struct Model {
        /// SHA-256 of the cookie's value.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id_hash: String,
        pub person_id: String,
        pub csrf: String,
        pub created_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
        /// The API key that opened it (the console's sign-in); NULL for an identity provider's.
        pub key_id: Option<Uuid>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod sign_in {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sign_ins")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub state: String,
        pub issuer: String,
        pub nonce: String,
        pub verifier: String,
        pub return_to: String,
        pub created_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod document {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "documents")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub sha256: String,
        pub filename: String,
        pub media_type: String,
        pub size: i64,
        /// `organization:KEY`, `agency:KEY` or `none`.
        pub owner: String,
        pub uploaded_by: String,
        pub uploaded_at: DateTimeUtc,
        pub application_id: Option<Uuid>,
        pub linked_at: Option<DateTimeUtc>,
        pub erased_at: Option<DateTimeUtc>,
        pub erased_by: Option<String>,
        pub erasure_reason: Option<String>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

mod notifications;
mod places;
mod reports;
pub use notifications::{notification, notification_attempt, webhook_endpoint};
pub use places::{intake, pool, position, student_profile};
pub use reports::report_fact;
