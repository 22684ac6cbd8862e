//! What a notification is: its message (what it says, to whom, about what), its state in the
//! queue, its attempts.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Channel, NotificationStatus};
use crate::entity::notification;

/// What one notification says, to whom and about what: the part its sender decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Webhook or e-mail.
    pub channel: Channel,
    /// The endpoint (webhooks).
    pub endpoint_id: Option<Uuid>,
    /// The address (e-mail).
    pub recipient: Option<String>,
    /// `en`, `zh-Hant` or `zh-Hans`.
    pub language: String,
    /// `task.opened`, …
    pub event_type: String,
    /// The application it is about.
    pub application_id: Option<Uuid>,
    /// The event it announces (orders deliveries per application and endpoint).
    pub seq: Option<i64>,
    /// The task a reminder is about: not sent once the task is closed.
    pub task_no: Option<i32>,
    /// An e-mail's subject.
    pub subject: Option<String>,
    /// The webhook's JSON body, or the e-mail's plain text.
    pub body: String,
    /// The e-mail's HTML.
    pub html: Option<String>,
}

impl Message {
    /// A webhook delivery of `body` (JSON) to `endpoint`, announcing event `seq` of
    /// `application`. Webhooks are written in English.
    pub fn webhook(
        endpoint: Uuid,
        event_type: &str,
        application: Uuid,
        seq: i64,
        body: String,
    ) -> Self {
        Self {
            channel: Channel::Webhook,
            endpoint_id: Some(endpoint),
            recipient: None,
            language: "en".to_owned(),
            event_type: event_type.to_owned(),
            application_id: Some(application),
            seq: Some(seq),
            task_no: None,
            subject: None,
            body,
            html: None,
        }
    }

    /// An e-mail to `to` in `language`, about no application until [`Message::about`] says
    /// which.
    pub fn email(
        to: String,
        language: &str,
        event_type: &str,
        subject: String,
        text: String,
        html: Option<String>,
    ) -> Self {
        Self {
            channel: Channel::Email,
            endpoint_id: None,
            recipient: Some(to),
            language: language.to_owned(),
            event_type: event_type.to_owned(),
            application_id: None,
            seq: None,
            task_no: None,
            subject: Some(subject),
            body: text,
            html,
        }
    }

    /// The same message about event `seq` of `application` (and task `task_no`, for a reminder
    /// that is not sent once its task is closed).
    pub fn about(mut self, application: Uuid, seq: i64, task_no: Option<i32>) -> Self {
        self.application_id = Some(application);
        self.seq = Some(seq);
        self.task_no = task_no;
        self
    }
}

/// A notification: one webhook delivery or one e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Its id: the `webhook-id` of every attempt of a delivery.
    pub id: Uuid,
    /// What it says, to whom.
    pub message: Message,
    /// Where it stands.
    pub status: NotificationStatus,
    /// Attempts so far.
    pub attempts: i32,
    /// When it is (next) tried.
    pub next_attempt_at: DateTime<Utc>,
    /// The last attempt's HTTP status.
    pub last_status: Option<i32>,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
}

/// A notification to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    /// What it says, to whom.
    pub message: Message,
    /// `Pending`, or `Held` for a digest.
    pub status: NotificationStatus,
    /// When to send it first.
    pub send_at: DateTime<Utc>,
}

impl NewNotification {
    /// `message`, to send from `at` on.
    pub fn pending(message: Message, at: DateTime<Utc>) -> Self {
        Self {
            message,
            status: NotificationStatus::Pending,
            send_at: at,
        }
    }
}

/// One attempt at sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// When.
    pub at: DateTime<Utc>,
    /// The HTTP status (webhooks), or the SMTP reply code.
    pub status_code: Option<i32>,
    /// How long it took.
    pub latency_ms: i64,
    /// What went wrong.
    pub error: Option<String>,
}

/// Which notifications to list.
#[derive(Debug, Clone, Default)]
pub struct NotificationFilter {
    /// One endpoint's deliveries.
    pub endpoint_id: Option<Uuid>,
    /// One status.
    pub status: Option<NotificationStatus>,
    /// One channel.
    pub channel: Option<Channel>,
    /// One application's.
    pub application_id: Option<Uuid>,
}

pub(crate) fn notification_record(m: notification::Model) -> Notification {
    Notification {
        id: m.id,
        message: Message {
            channel: m.channel,
            endpoint_id: m.endpoint_id,
            recipient: m.recipient,
            language: m.language,
            event_type: m.event_type,
            application_id: m.application_id,
            seq: m.seq,
            task_no: m.task_no,
            subject: m.subject,
            body: m.body,
            html: m.html,
        },
        status: m.status,
        attempts: m.attempts,
        next_attempt_at: m.next_attempt_at,
        last_status: m.last_status,
        last_error: m.last_error,
        created_at: m.created_at,
        delivered_at: m.delivered_at,
    }
}
