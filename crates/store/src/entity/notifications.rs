//! The notification tables (issue 17).

pub mod webhook_endpoint {
    use sea_orm::entity::prelude::*;

    /// Where a firm's, an agency's or an administrator's system is told of events.
    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_endpoints")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// `organization:KEY`, `agency:KEY` or `none` (an administrator's).
        pub owner: String,
        pub url: String,
        /// Space-separated; empty: every type.
        pub event_types: String,
        pub description: Option<String>,
        pub secret: String,
        pub previous_secret: Option<String>,
        pub previous_secret_until: Option<DateTimeUtc>,
        pub created_by: String,
        pub created_at: DateTimeUtc,
        pub disabled_at: Option<DateTimeUtc>,
        pub disabled_reason: Option<String>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod notification {
    use sea_orm::entity::prelude::*;

    use super::super::enums::{Channel, NotificationStatus};

    /// One message to send: a webhook delivery or an e-mail.
    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notifications")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub channel: Channel,
        pub endpoint_id: Option<Uuid>,
        pub recipient: Option<String>,
        pub language: String,
        pub event_type: String,
        pub application_id: Option<Uuid>,
        pub seq: Option<i64>,
        pub task_no: Option<i32>,
        pub subject: Option<String>,
        pub body: String,
        pub html: Option<String>,
        pub status: NotificationStatus,
        pub attempts: i32,
        pub next_attempt_at: DateTimeUtc,
        pub lease_owner: Option<String>,
        pub lease_until: Option<DateTimeUtc>,
        pub last_status: Option<i32>,
        pub last_error: Option<String>,
        pub created_at: DateTimeUtc,
        pub delivered_at: Option<DateTimeUtc>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod notification_attempt {
    use sea_orm::entity::prelude::*;

    /// One try at sending a notification.
    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notification_attempts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub notification_id: Uuid,
        pub at: DateTimeUtc,
        pub status_code: Option<i32>,
        pub latency_ms: i64,
        pub error: Option<String>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}
