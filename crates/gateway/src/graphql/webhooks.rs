//! Webhook endpoints and the notification log over GraphQL. An endpoint belongs to the
//! caller's organization or agency (an administrator's to nobody: it sees every application);
//! its lead manages it (administrators all). What each endpoint receives is filtered as the
//! API filters it for its owner (see `crate::notify`).

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use softland_notifications::guard::AddressPolicy;
use softland_notifications::{EventType, signing};
use softland_store::notifications::{
    self as n, Channel, Endpoint, NewEndpoint, NotificationFilter, NotificationStatus,
};

use super::input::parse_id;
use super::{principal, store};
use crate::error::{GqlResult, bad_input, forbidden, from_store, not_found, refused};
use softland_policy::Principal;

/// How long a rotated-out secret keeps signing.
const ROTATION_GRACE_HOURS: i64 = 24;

/// Which addresses webhooks may reach (the operator's `--webhook-allow`).
#[derive(Debug, Clone, Default)]
pub struct Webhooks {
    /// The address policy.
    pub policy: AddressPolicy,
}

/// A new endpoint.
#[derive(InputObject, Debug)]
pub struct WebhookEndpointInput {
    /// Where deliveries are POSTed: `https://…` (or `http://…`), a public address unless the
    /// operator allows its network.
    pub url: String,
    /// The event types it receives (see `webhookEventTypes`); null or empty: all.
    pub event_types: Option<Vec<String>>,
    /// A note for people (at most 200 characters).
    pub description: Option<String>,
}

/// A webhook endpoint (never its secret, which is shown once).
#[derive(SimpleObject, Debug)]
#[graphql(name = "WebhookEndpoint", complex)]
pub struct EndpointView {
    /// Its id.
    pub id: ID,
    /// `organization:KEY`, `agency:KEY` or `none` (an administrator's).
    pub owner: String,
    /// Where deliveries go.
    pub url: String,
    /// The event types it receives (empty: all).
    pub event_types: Vec<String>,
    /// The owner's note.
    pub description: Option<String>,
    /// Who registered it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it was disabled, by its owner or after failing for about three days.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Why.
    pub disabled_reason: Option<String>,
    /// Until when the secret before the last rotation still signs.
    pub previous_secret_until: Option<DateTime<Utc>>,
}

impl From<Endpoint> for EndpointView {
    fn from(e: Endpoint) -> Self {
        Self {
            id: ID(e.id.to_string()),
            owner: e.owner,
            url: e.url,
            event_types: e.event_types,
            description: e.description,
            created_by: e.created_by,
            created_at: e.created_at,
            disabled_at: e.disabled_at,
            disabled_reason: e.disabled_reason,
            previous_secret_until: e.previous_secret_until,
        }
    }
}

#[async_graphql::ComplexObject]
impl EndpointView {
    /// Its latest deliveries, newest first (at most 100).
    #[graphql(complexity = "super::limits::page_cost(Some(first), child_complexity)")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        status: Option<DeliveryStatus>,
    ) -> GqlResult<Vec<NotificationView>> {
        let filter = NotificationFilter {
            endpoint_id: Some(parse_id(&self.id, "webhook endpoint")?),
            status: status.map(Into::into),
            ..Default::default()
        };
        list(ctx, &filter, None, first).await
    }
}

/// A new endpoint and its signing secret.
#[derive(SimpleObject, Debug)]
pub struct CreatedWebhookEndpoint {
    /// The endpoint.
    pub endpoint: EndpointView,
    /// The signing secret (`whsec_…`): shown once, here. Verify each delivery's
    /// `webhook-signature` with it (Standard Webhooks).
    pub secret: String,
}

/// Where a notification stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "NotificationStatus")]
pub enum DeliveryStatus {
    /// Waiting to be sent (again).
    Pending,
    /// Waiting for a daily digest.
    Held,
    /// Accepted by the receiver.
    Delivered,
    /// Given up on.
    Failed,
    /// Not to be sent (its task closed; sent in a digest; its endpoint removed).
    Cancelled,
}

/// How a notification is sent.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "Channel")]
pub enum NotificationChannel {
    /// A signed POST to a webhook endpoint.
    Webhook,
    /// An e-mail.
    Email,
}

/// One try at sending.
#[derive(SimpleObject, Debug)]
pub struct DeliveryAttempt {
    /// When.
    pub at: DateTime<Utc>,
    /// The HTTP status (or the SMTP reply code).
    pub status_code: Option<i32>,
    /// How long it took, in milliseconds.
    pub latency_ms: i64,
    /// What went wrong.
    pub error: Option<String>,
}

/// A notification: a webhook delivery or an e-mail, with its attempts.
#[derive(SimpleObject, Debug)]
#[graphql(name = "Notification", complex)]
pub struct NotificationView {
    /// Its id: a webhook delivery's `webhook-id` is `msg_` and this id without dashes.
    pub id: ID,
    /// Webhook or e-mail.
    pub channel: NotificationChannel,
    /// `task.opened`, `information.requested`, `task.reminder`, …
    pub event_type: String,
    /// The endpoint (webhooks).
    pub endpoint_id: Option<ID>,
    /// The address (e-mail).
    pub recipient: Option<String>,
    /// The language it is written in.
    pub language: String,
    /// The application it is about.
    pub application_id: Option<ID>,
    /// The audit-log entry it announces.
    pub seq: Option<i64>,
    /// An e-mail's subject.
    pub subject: Option<String>,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts so far.
    pub attempts: i32,
    /// When it is (next) tried.
    pub next_attempt_at: DateTime<Utc>,
    /// The last attempt's status code.
    pub last_status: Option<i32>,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<n::Notification> for NotificationView {
    fn from(x: n::Notification) -> Self {
        Self {
            id: ID(x.id.to_string()),
            channel: x.message.channel.into(),
            event_type: x.message.event_type,
            endpoint_id: x.message.endpoint_id.map(|e| ID(e.to_string())),
            recipient: x.message.recipient,
            language: x.message.language,
            application_id: x.message.application_id.map(|a| ID(a.to_string())),
            seq: x.message.seq,
            subject: x.message.subject,
            status: x.status.into(),
            attempts: x.attempts,
            next_attempt_at: x.next_attempt_at,
            last_status: x.last_status,
            last_error: x.last_error,
            created_at: x.created_at,
            delivered_at: x.delivered_at,
        }
    }
}

#[async_graphql::ComplexObject]
impl NotificationView {
    /// Its attempts, oldest first (the last 100).
    #[graphql(complexity = "super::limits::list_cost(super::limits::SOME, child_complexity)")]
    async fn attempt_log(&self, ctx: &Context<'_>) -> GqlResult<Vec<DeliveryAttempt>> {
        let id = parse_id(&self.id, "notification")?;
        Ok(store(ctx)
            .notification_attempts(id)
            .await
            .map_err(from_store)?
            .into_iter()
            .map(|a| DeliveryAttempt {
                at: a.at,
                status_code: a.status_code,
                latency_ms: a.latency_ms,
                error: a.error,
            })
            .collect())
    }
}

async fn list(
    ctx: &Context<'_>,
    filter: &NotificationFilter,
    before: Option<&ID>,
    first: i32,
) -> GqlResult<Vec<NotificationView>> {
    let before = before.map(|b| parse_id(b, "notification")).transpose()?;
    let first = u64::try_from(first.clamp(1, 100)).unwrap_or(20);
    Ok(store(ctx)
        .notifications(filter, before, first)
        .await
        .map_err(from_store)?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// The endpoint `id` if the caller manages it; else NOT_FOUND (as for one that does not exist).
async fn managed(ctx: &Context<'_>, who: &Principal, id: &ID) -> GqlResult<Endpoint> {
    let id = parse_id(id, "webhook endpoint")?;
    match store(ctx).webhook_endpoint(id).await.map_err(from_store)? {
        Some(e) if who.manages_endpoint(&e.owner) => Ok(e),
        _ => Err(not_found("webhook endpoint")),
    }
}

/// Webhook and notification queries.
#[derive(Debug, Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The event types an endpoint may subscribe to.
    async fn webhook_event_types(&self) -> Vec<&'static str> {
        EventType::ALL.iter().map(|t| t.as_str()).collect()
    }

    /// The endpoints the caller manages: an administrator's every one, a lead their agency's or
    /// organization's.
    async fn webhook_endpoints(&self, ctx: &Context<'_>) -> GqlResult<Vec<EndpointView>> {
        let who = principal(ctx)?;
        let owner = who.endpoints_owner().map_err(refused)?;
        Ok(store(ctx)
            .webhook_endpoints(owner.as_deref())
            .await
            .map_err(from_store)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Every notification sent, waiting or failed, newest first (administrators).
    #[graphql(complexity = "super::limits::page_cost(Some(first), child_complexity)")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        before: Option<ID>,
        status: Option<DeliveryStatus>,
        channel: Option<NotificationChannel>,
        application_id: Option<ID>,
    ) -> GqlResult<Vec<NotificationView>> {
        principal(ctx)?.require_admin().map_err(refused)?;
        let filter = NotificationFilter {
            status: status.map(Into::into),
            channel: channel.map(Into::into),
            application_id: application_id
                .map(|a| parse_id(&a, "application"))
                .transpose()?,
            ..Default::default()
        };
        list(ctx, &filter, before.as_ref(), first).await
    }
}

/// Webhook mutations.
#[derive(Debug, Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Registers an endpoint for the caller's organization or agency (administrators: for
    /// every application). Leads and administrators. The secret is in the answer, once.
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: WebhookEndpointInput,
    ) -> GqlResult<CreatedWebhookEndpoint> {
        let who = principal(ctx)?;
        if !who.manages(&who.membership()) {
            return Err(forbidden(
                "leads and administrators register webhook endpoints",
            ));
        }
        let types = input.event_types.unwrap_or_default();
        if let Some(bad) = types.iter().find(|t| EventType::parse(t).is_none()) {
            return Err(bad_input(format!(
                "`{}` is not an event type (see webhookEventTypes)",
                bad.chars().take(64).collect::<String>()
            )));
        }
        if input
            .description
            .as_ref()
            .is_some_and(|d| d.chars().count() > 200)
        {
            return Err(bad_input("a description is at most 200 characters"));
        }
        let policy = &ctx.data_unchecked::<Webhooks>().policy;
        let url = policy
            .check_resolved(&input.url)
            .await
            .map_err(|e| bad_input(e.to_string()))?;
        let secret = signing::new_secret().map_err(|e| {
            tracing::error!(error = %e, "no randomness for a webhook secret");
            crate::error::coded(crate::codes::ErrorCode::Internal, "the server failed")
        })?;
        let mut event_types = types;
        event_types.sort();
        event_types.dedup();
        let endpoint = store(ctx)
            .add_webhook_endpoint(NewEndpoint {
                owner: who.membership().label(),
                url: url.to_string(),
                event_types,
                description: input.description,
                secret: secret.clone(),
                created_by: who.name().to_owned(),
            })
            .await
            .map_err(from_store)?;
        Ok(CreatedWebhookEndpoint {
            endpoint: endpoint.into(),
            secret,
        })
    }

    /// A new signing secret; the old one keeps signing (beside it) for 24 hours.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> GqlResult<CreatedWebhookEndpoint> {
        let who = principal(ctx)?;
        let e = managed(ctx, who, &id).await?;
        let secret = signing::new_secret().map_err(|err| {
            tracing::error!(error = %err, "no randomness for a webhook secret");
            crate::error::coded(crate::codes::ErrorCode::Internal, "the server failed")
        })?;
        let until = store(ctx).now() + chrono::Duration::hours(ROTATION_GRACE_HOURS);
        let endpoint = store(ctx)
            .rotate_webhook_secret(e.id, secret.clone(), until)
            .await
            .map_err(from_store)?;
        Ok(CreatedWebhookEndpoint {
            endpoint: endpoint.into(),
            secret,
        })
    }

    /// Disables an endpoint (its waiting deliveries fail) or enables it again.
    async fn set_webhook_endpoint_enabled(
        &self,
        ctx: &Context<'_>,
        id: ID,
        enabled: bool,
    ) -> GqlResult<EndpointView> {
        let who = principal(ctx)?;
        let e = managed(ctx, who, &id).await?;
        let reason = (!enabled).then(|| format!("disabled by {}", who.name()));
        Ok(store(ctx)
            .set_webhook_endpoint_disabled(e.id, reason)
            .await
            .map_err(from_store)?
            .into())
    }

    /// Removes an endpoint; its waiting deliveries are cancelled.
    async fn delete_webhook_endpoint(&self, ctx: &Context<'_>, id: ID) -> GqlResult<bool> {
        let who = principal(ctx)?;
        let e = managed(ctx, who, &id).await?;
        store(ctx)
            .delete_webhook_endpoint(e.id)
            .await
            .map_err(from_store)
    }

    /// Sends a notification again, now, with the same id (the endpoint's manager, or an
    /// administrator for any notification).
    async fn redeliver_notification(&self, ctx: &Context<'_>, id: ID) -> GqlResult<bool> {
        let who = principal(ctx)?;
        let nid = parse_id(&id, "notification")?;
        let found = store(ctx).notification(nid).await.map_err(from_store)?;
        let Some(found) = found else {
            return Err(not_found("notification"));
        };
        let owner = match found.message.endpoint_id {
            Some(endpoint) => store(ctx)
                .webhook_endpoint(endpoint)
                .await
                .map_err(from_store)?
                .map(|e| e.owner),
            None => None,
        };
        if !who.may_redeliver(owner.as_deref()) {
            return Err(not_found("notification"));
        }
        store(ctx).redeliver(nid).await.map_err(from_store)
    }
}
