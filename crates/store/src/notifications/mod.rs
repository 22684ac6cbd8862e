//! Webhook endpoints and the notifications (webhook deliveries and e-mail) waiting to be sent
//! or already sent, with each attempt. What to send is decided above the store (fan-out in
//! `softland-notifications`, with what each recipient may see from `softland-policy`); sending
//! is `softland-notifications`' work too.
//! This module keeps the rows: endpoints here, what a notification is in `message`, the
//! queue in [`crate::notifications::queue`].

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::Store;
pub use crate::entity::enums::{Channel, NotificationStatus};
use crate::entity::{notification, notification_attempt, webhook_endpoint};
use crate::error::{Error, Result};

mod message;
pub(crate) mod queue;
pub(crate) mod relay;
pub(crate) use message::notification_record;
pub use message::{Attempt, Message, NewNotification, Notification, NotificationFilter};

/// The most endpoints one owner may register.
pub const MOST_ENDPOINTS_PER_OWNER: usize = 20;

/// A registered webhook endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Its id.
    pub id: Uuid,
    /// `organization:KEY`, `agency:KEY` or `none` (an administrator's: every application).
    pub owner: String,
    /// Where deliveries are POSTed.
    pub url: String,
    /// The event types it receives; empty: every type.
    pub event_types: Vec<String>,
    /// The owner's note.
    pub description: Option<String>,
    /// The signing secret (`whsec_…`).
    pub secret: String,
    /// The secret before the last rotation, still signing until `previous_secret_until`.
    pub previous_secret: Option<String>,
    /// When the previous secret stops signing.
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// Who registered it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it was disabled (by its owner, or after failing for days).
    pub disabled_at: Option<DateTime<Utc>>,
    /// Why.
    pub disabled_reason: Option<String>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secrets.
        f.debug_struct("Endpoint")
            .field("id", &self.id)
            .field("owner", &self.owner)
            .field("url", &self.url)
            .field("event_types", &self.event_types)
            .field("disabled_at", &self.disabled_at)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// Whether it receives events of `event_type`.
    pub fn wants(&self, event_type: &str) -> bool {
        self.disabled_at.is_none()
            && (self.event_types.is_empty() || self.event_types.iter().any(|t| t == event_type))
    }

    /// The secrets that sign a delivery made at `now`: the current one, and the previous one
    /// during its grace period.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&str> {
        let mut out = vec![self.secret.as_str()];
        if let (Some(old), Some(until)) = (&self.previous_secret, self.previous_secret_until)
            && now < until
        {
            out.push(old);
        }
        out
    }
}

/// An endpoint to register.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    /// `organization:KEY`, `agency:KEY` or `none`.
    pub owner: String,
    /// Where deliveries go (checked by the caller).
    pub url: String,
    /// Event types (checked by the caller); empty: every type.
    pub event_types: Vec<String>,
    /// The owner's note.
    pub description: Option<String>,
    /// The signing secret.
    pub secret: String,
    /// Who registers it.
    pub created_by: String,
}

pub(crate) fn endpoint_record(
    keys: &crate::directory::sealed::SecretKeys,
    m: webhook_endpoint::Model,
) -> Result<Endpoint> {
    Ok(Endpoint {
        id: m.id,
        owner: m.owner,
        url: m.url,
        event_types: m
            .event_types
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        description: m.description,
        secret: keys.open(&m.secret)?,
        previous_secret: m
            .previous_secret
            .as_deref()
            .map(|p| keys.open(p))
            .transpose()?,
        previous_secret_until: m.previous_secret_until,
        created_by: m.created_by,
        created_at: m.created_at,
        disabled_at: m.disabled_at,
        disabled_reason: m.disabled_reason,
    })
}

impl Store {
    /// Registers an endpoint; refused past [`MOST_ENDPOINTS_PER_OWNER`] for one owner.
    pub async fn add_webhook_endpoint(&self, e: NewEndpoint) -> Result<Endpoint> {
        let owned = self.webhook_endpoints(Some(&e.owner)).await?.len();
        if owned >= MOST_ENDPOINTS_PER_OWNER {
            return Err(Error::Forbidden(format!(
                "at most {MOST_ENDPOINTS_PER_OWNER} webhook endpoints per owner"
            )));
        }
        let id = Uuid::now_v7();
        webhook_endpoint::Entity::insert(webhook_endpoint::ActiveModel {
            id: Set(id),
            owner: Set(e.owner),
            url: Set(e.url),
            event_types: Set(e.event_types.join(" ")),
            description: Set(e.description),
            secret: Set(self.secret_keys().seal(&e.secret)?),
            previous_secret: Set(None),
            previous_secret_until: Set(None),
            created_by: Set(e.created_by),
            created_at: Set(self.now()),
            disabled_at: Set(None),
            disabled_reason: Set(None),
        })
        .exec_without_returning(self.db())
        .await?;
        self.webhook_endpoint(id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("webhook endpoint {id}")))
    }

    /// One endpoint.
    pub async fn webhook_endpoint(&self, id: Uuid) -> Result<Option<Endpoint>> {
        let keys = self.secret_keys();
        webhook_endpoint::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .map(|m| endpoint_record(&keys, m))
            .transpose()
    }

    /// One owner's endpoints (`None`: everyone's), oldest first.
    pub async fn webhook_endpoints(&self, owner: Option<&str>) -> Result<Vec<Endpoint>> {
        let mut q = webhook_endpoint::Entity::find().order_by_asc(webhook_endpoint::Column::Id);
        if let Some(owner) = owner {
            q = q.filter(webhook_endpoint::Column::Owner.eq(owner));
        }
        let keys = self.secret_keys();
        q.all(self.db())
            .await?
            .into_iter()
            .map(|m| endpoint_record(&keys, m))
            .collect()
    }

    /// Endpoints that receive deliveries.
    pub async fn enabled_webhook_endpoints(&self) -> Result<Vec<Endpoint>> {
        let keys = self.secret_keys();
        webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::DisabledAt.is_null())
            .order_by_asc(webhook_endpoint::Column::Id)
            .all(self.db())
            .await?
            .into_iter()
            .map(|m| endpoint_record(&keys, m))
            .collect()
    }

    /// Replaces the signing secret; the old one keeps signing until `grace_until`.
    pub async fn rotate_webhook_secret(
        &self,
        id: Uuid,
        secret: String,
        grace_until: DateTime<Utc>,
    ) -> Result<Endpoint> {
        let e = self
            .webhook_endpoint(id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("webhook endpoint {id}")))?;
        webhook_endpoint::Entity::update_many()
            .col_expr(
                webhook_endpoint::Column::Secret,
                Expr::value(self.secret_keys().seal(&secret)?),
            )
            .col_expr(
                webhook_endpoint::Column::PreviousSecret,
                Expr::value(Some(self.secret_keys().seal(&e.secret)?)),
            )
            .col_expr(
                webhook_endpoint::Column::PreviousSecretUntil,
                Expr::value(Some(grace_until)),
            )
            .filter(webhook_endpoint::Column::Id.eq(id))
            .exec(self.db())
            .await?;
        self.webhook_endpoint(id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("webhook endpoint {id}")))
    }

    /// Disables an endpoint (`Some(reason)`) or enables it again (`None`). Disabling leaves its
    /// waiting deliveries failed; they can be redelivered.
    pub async fn set_webhook_endpoint_disabled(
        &self,
        id: Uuid,
        reason: Option<String>,
    ) -> Result<Endpoint> {
        let now = self.now();
        let txn = self.begin().await?;
        webhook_endpoint::Entity::update_many()
            .col_expr(
                webhook_endpoint::Column::DisabledAt,
                Expr::value(reason.as_ref().map(|_| now)),
            )
            .col_expr(
                webhook_endpoint::Column::DisabledReason,
                Expr::value(reason.clone()),
            )
            .filter(webhook_endpoint::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        if let Some(reason) = reason {
            notification::Entity::update_many()
                .col_expr(
                    notification::Column::Status,
                    Expr::value(NotificationStatus::Failed),
                )
                .col_expr(
                    notification::Column::LastError,
                    Expr::value(Some(format!("endpoint disabled: {reason}"))),
                )
                .filter(notification::Column::EndpointId.eq(id))
                .filter(notification::Column::Status.eq(NotificationStatus::Pending))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        self.webhook_endpoint(id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("webhook endpoint {id}")))
    }

    /// Removes an endpoint; its undelivered deliveries are cancelled, its log kept.
    pub async fn delete_webhook_endpoint(&self, id: Uuid) -> Result<bool> {
        let txn = self.begin().await?;
        notification::Entity::update_many()
            .col_expr(
                notification::Column::Status,
                Expr::value(NotificationStatus::Cancelled),
            )
            .filter(notification::Column::EndpointId.eq(id))
            .filter(notification::Column::Status.eq(NotificationStatus::Pending))
            .exec(&txn)
            .await?;
        let gone = webhook_endpoint::Entity::delete_by_id(id)
            .exec(&txn)
            .await?
            .rows_affected;
        txn.commit().await?;
        Ok(gone > 0)
    }

    /// One notification.
    pub async fn notification(&self, id: Uuid) -> Result<Option<Notification>> {
        Ok(notification::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .map(notification_record))
    }

    /// Notifications, newest first: up to `limit` made before `before` (a notification id
    /// from an earlier page).
    pub async fn notifications(
        &self,
        filter: &NotificationFilter,
        before: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<Notification>> {
        let mut q = notification::Entity::find().order_by_desc(notification::Column::Id);
        if let Some(e) = filter.endpoint_id {
            q = q.filter(notification::Column::EndpointId.eq(e));
        }
        if let Some(s) = filter.status {
            q = q.filter(notification::Column::Status.eq(s));
        }
        if let Some(c) = filter.channel {
            q = q.filter(notification::Column::Channel.eq(c));
        }
        if let Some(a) = filter.application_id {
            q = q.filter(notification::Column::ApplicationId.eq(a));
        }
        if let Some(b) = before {
            q = q.filter(notification::Column::Id.lt(b));
        }
        Ok(q.limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(notification_record)
            .collect())
    }

    /// A notification's attempts, oldest first (at most the last 100).
    pub async fn notification_attempts(&self, id: Uuid) -> Result<Vec<Attempt>> {
        let mut rows = notification_attempt::Entity::find()
            .filter(notification_attempt::Column::NotificationId.eq(id))
            .order_by_desc(notification_attempt::Column::Id)
            .limit(100)
            .all(self.db())
            .await?;
        rows.reverse();
        Ok(rows
            .into_iter()
            .map(|a| Attempt {
                at: a.at,
                status_code: a.status_code,
                latency_ms: a.latency_ms,
                error: a.error,
            })
            .collect())
    }

    /// Sends a notification again, with the same id: now, as if new (a failed or delivered
    /// one). `false` when there is no such notification.
    pub async fn redeliver(&self, id: Uuid) -> Result<bool> {
        let changed = notification::Entity::update_many()
            .col_expr(
                notification::Column::Status,
                Expr::value(NotificationStatus::Pending),
            )
            .col_expr(notification::Column::NextAttemptAt, Expr::value(self.now()))
            .col_expr(notification::Column::Attempts, Expr::value(0))
            .col_expr(
                notification::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(notification::Column::Id.eq(id))
            .exec(self.db())
            .await?
            .rows_affected;
        Ok(changed > 0)
    }
}

/// Sealing webhook secrets at rest (see `sealed`).
impl Store {
    /// The keys webhook secrets are sealed with (set once, at start; without it they are
    /// stored as they are).
    pub fn use_secret_keys(&self, keys: crate::directory::sealed::SecretKeys) {
        let _ = self.inner.secrets.set(keys);
    }

    pub(crate) fn secret_keys(&self) -> crate::directory::sealed::SecretKeys {
        self.inner.secrets.get().cloned().unwrap_or_default()
    }

    /// Seals every webhook secret not yet sealed under the current key (plain ones, and ones
    /// under a previous key); how many were resealed.
    pub async fn reseal_secrets(&self) -> Result<usize> {
        let keys = self.secret_keys();
        let mut resealed = 0;
        for m in webhook_endpoint::Entity::find().all(self.db()).await? {
            let secret_ok = keys.current(&m.secret);
            let previous_ok = m.previous_secret.as_deref().is_none_or(|p| keys.current(p));
            if secret_ok && previous_ok {
                continue;
            }
            let secret = keys.seal(&keys.open(&m.secret)?)?;
            let previous = match &m.previous_secret {
                Some(p) => Some(keys.seal(&keys.open(p)?)?),
                None => None,
            };
            webhook_endpoint::Entity::update_many()
                .col_expr(webhook_endpoint::Column::Secret, Expr::value(secret))
                .col_expr(
                    webhook_endpoint::Column::PreviousSecret,
                    Expr::value(previous),
                )
                .filter(webhook_endpoint::Column::Id.eq(m.id))
                .filter(webhook_endpoint::Column::Secret.eq(m.secret.clone()))
                .exec(self.db())
                .await?;
            resealed += 1;
        }
        Ok(resealed)
    }
}
