//! The delivery worker: leases due notifications, sends them, records each attempt, retries
//! with exponential back-off and jitter for about three days, then gives up — and disables a
//! webhook endpoint that kept failing, telling its owner.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use softland_store::directory::{Membership, Role};
use softland_store::notifications::{Channel, Endpoint, Message, NewNotification, Notification};
use softland_store::{AfterAttempt, Store, notifications::Attempt};
use tokio::sync::watch;
use tracing::Instrument;
use uuid::Uuid;

use crate::letters::{self, Letter, lang_of};
use crate::mail::Mailer;
use crate::webhook::{Answer, WebhookSender};

/// The waits after each failed attempt (before jitter of ±20 %): 5 s to 12 h, about three
/// days in all; after the last, the notification has failed.
pub const BACKOFF: [Duration; 14] = [
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(2 * 60),
    Duration::from_secs(10 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(3600),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(4 * 3600),
    Duration::from_secs(8 * 3600),
    Duration::from_secs(12 * 3600),
    Duration::from_secs(12 * 3600),
    Duration::from_secs(12 * 3600),
    Duration::from_secs(12 * 3600),
    Duration::from_secs(12 * 3600),
];

/// Deliveries sent at once by one server.
const CONCURRENCY: usize = 8;

/// Sends what the queue holds.
#[derive(Debug, Clone)]
pub struct Deliverer {
    store: Store,
    webhooks: WebhookSender,
    mailer: Option<Mailer>,
    owner: String,
    lease: Duration,
    public_url: String,
}

/// The wait after `attempts` failed attempts, with jitter; `None` once they are used up.
pub fn backoff(attempts: usize, jitter: f64) -> Option<Duration> {
    let base = BACKOFF.get(attempts.checked_sub(1)?)?;
    Some(base.mul_f64(0.8 + 0.4 * jitter.clamp(0.0, 1.0)))
}

fn jitter() -> f64 {
    let mut b = [0u8; 4];
    let _ = getrandom::fill(&mut b);
    f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX)
}

impl Deliverer {
    /// A worker named `owner` (what its leases say), holding a lease at most `lease`.
    pub fn new(
        store: Store,
        webhooks: WebhookSender,
        mailer: Option<Mailer>,
        owner: String,
        lease: Duration,
        public_url: String,
    ) -> Self {
        Self {
            store,
            webhooks,
            mailer,
            owner,
            lease,
            public_url,
        }
    }

    /// One pass: digests that are due, then up to 64 notifications; how many were tried.
    pub async fn run_once(&self) -> softland_store::Result<usize> {
        self.make_digests().await?;
        let until = self.store.now()
            + chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::seconds(60));
        let due = self
            .store
            .claim_notifications(&self.owner, 64, until)
            .await?;
        let tried = due.len();
        let endpoints: HashMap<Uuid, Endpoint> =
            if due.iter().any(|n| n.message.endpoint_id.is_some()) {
                self.store
                    .webhook_endpoints(None)
                    .await?
                    .into_iter()
                    .map(|e| (e.id, e))
                    .collect()
            } else {
                HashMap::new()
            };
        let endpoints = &endpoints;
        futures_util::stream::iter(due)
            .for_each_concurrent(CONCURRENCY, |n| {
                let span = attempt_span(&n);
                async move {
                    if let Err(e) = self.deliver(&n, endpoints).await {
                        tracing::warn!(notification = %n.id, error = %e, "a notification could not be recorded; its lease will expire and it will be sent again");
                    }
                }
                .instrument(span)
            })
            .await;
        Ok(tried)
    }

    async fn deliver(
        &self,
        n: &Notification,
        endpoints: &HashMap<Uuid, Endpoint>,
    ) -> softland_store::Result<()> {
        let now = self.store.now();
        let (attempt, after) = match n.message.channel {
            Channel::Webhook => {
                let Some(endpoint) = n.message.endpoint_id.and_then(|id| endpoints.get(&id)) else {
                    self.finish(n, None, AfterAttempt::Cancelled).await?;
                    return Ok(());
                };
                if endpoint.disabled_at.is_some() {
                    self.finish(n, None, AfterAttempt::Failed).await?;
                    return Ok(());
                }
                let (answer, took) = self.webhooks.send(endpoint, n, now).await;
                let latency_ms = i64::try_from(took.as_millis()).unwrap_or(i64::MAX);
                let (status, error) = match &answer {
                    Answer::Accepted(s) | Answer::Status(s) => (Some(i32::from(*s)), None),
                    Answer::Gone => (Some(410), Some("the receiver answered 410 Gone".to_owned())),
                    Answer::Failed(why) => (None, Some(why.clone())),
                };
                let after = match answer {
                    Answer::Accepted(_) => AfterAttempt::Delivered,
                    Answer::Gone => AfterAttempt::Failed,
                    _ => self.retry_or_fail(n, now),
                };
                if after == AfterAttempt::Failed {
                    let reason = error.clone().unwrap_or_else(|| {
                        format!(
                            "failed for about three days (last status {})",
                            status.unwrap_or(0)
                        )
                    });
                    self.disable(endpoint, &reason).await?;
                }
                let attempt = Attempt {
                    at: now,
                    status_code: status,
                    latency_ms,
                    error,
                };
                (Some(attempt), after)
            }
            Channel::Email => {
                if let (Some(app), Some(task)) = (n.message.application_id, n.message.task_no)
                    && !self.store.task_awaits(app, task).await?
                {
                    self.finish(n, None, AfterAttempt::Cancelled).await?;
                    return Ok(());
                }
                let Some(mailer) = &self.mailer else {
                    let attempt = Attempt {
                        at: now,
                        status_code: None,
                        latency_ms: 0,
                        error: Some("e-mail is not configured".to_owned()),
                    };
                    self.finish(n, Some(attempt), AfterAttempt::Failed).await?;
                    return Ok(());
                };
                let started = std::time::Instant::now();
                let sent = mailer.send(n).await;
                let latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
                let (status, error, after) = match sent {
                    Ok(code) => (Some(i32::from(code)), None, AfterAttempt::Delivered),
                    Err(e) if e.is_transient() => {
                        (None, Some(e.to_string()), self.retry_or_fail(n, now))
                    }
                    Err(e) => (None, Some(e.to_string()), AfterAttempt::Failed),
                };
                (
                    Some(Attempt {
                        at: now,
                        status_code: status,
                        latency_ms,
                        error,
                    }),
                    after,
                )
            }
        };
        tracing::Span::current().record("outcome", outcome(after));
        metrics::counter!(
            "softland_notifications_total",
            "channel" => match n.message.channel { Channel::Webhook => "webhook", Channel::Email => "email" },
            "outcome" => outcome(after),
        )
        .increment(1);
        self.finish(n, attempt, after).await
    }

    fn retry_or_fail(&self, n: &Notification, now: DateTime<Utc>) -> AfterAttempt {
        let attempts = usize::try_from(n.attempts).unwrap_or(0) + 1;
        match backoff(attempts, jitter()) {
            Some(wait) => AfterAttempt::RetryAt(
                now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(12)),
            ),
            None => AfterAttempt::Failed,
        }
    }

    async fn finish(
        &self,
        n: &Notification,
        attempt: Option<Attempt>,
        after: AfterAttempt,
    ) -> softland_store::Result<()> {
        if !self
            .store
            .record_attempt(n.id, &self.owner, attempt, after)
            .await?
        {
            tracing::info!(notification = %n.id, "lease lost before the attempt was recorded; another server has it");
        }
        Ok(())
    }

    /// Disables `endpoint` and tells its owner's leads (administrators for theirs) by e-mail.
    async fn disable(&self, endpoint: &Endpoint, reason: &str) -> softland_store::Result<()> {
        self.store
            .set_webhook_endpoint_disabled(endpoint.id, Some(reason.to_owned()))
            .await?;
        tracing::warn!(endpoint = %endpoint.id, reason, "webhook endpoint disabled");
        if self.mailer.is_none() {
            return Ok(());
        }
        let membership = Membership::parse(&endpoint.owner);
        let people = self.store.people(Some(&membership)).await?;
        let wanted = if membership == Membership::None {
            Role::Admin
        } else {
            Role::Lead
        };
        let mut out = Vec::new();
        for p in people.into_iter().filter(|p| p.active && p.has(wanted)) {
            let Some(email) = p.email else { continue };
            let lang = lang_of(p.language.as_deref());
            let w = letters::write(
                &Letter::EndpointDisabled {
                    url: endpoint.url.clone(),
                    reason: reason.to_owned(),
                    link: format!("{}/", self.public_url),
                },
                lang,
            );
            out.push(self.mail_now(email, lang.tag(), "endpoint.disabled", w));
        }
        self.store.queue(out).await
    }

    /// An e-mail about no application, to send now.
    fn mail_now(
        &self,
        to: String,
        language: &str,
        event_type: &str,
        w: letters::Written,
    ) -> NewNotification {
        let m = Message::email(to, language, event_type, w.subject, w.text, Some(w.html));
        NewNotification::pending(m, self.store.now())
    }

    /// Held task-opened messages become one digest per recipient.
    async fn make_digests(&self) -> softland_store::Result<()> {
        let held = self.store.held_notifications(500).await?;
        let mut by: HashMap<(String, String), Vec<Notification>> = HashMap::new();
        for n in held {
            let key = (
                n.message.recipient.clone().unwrap_or_default(),
                n.message.language.clone(),
            );
            by.entry(key).or_default().push(n);
        }
        for ((recipient, language), items) in by {
            let lang = lang_of(Some(&language));
            // A held message keeps its subject and, as its body, its page.
            let tasks = items
                .iter()
                .map(|n| {
                    (
                        n.message.subject.clone().unwrap_or_default(),
                        n.message.body.clone(),
                    )
                })
                .collect();
            let w = letters::write(
                &Letter::Digest {
                    inbox: recipient.clone(),
                    tasks,
                    link: format!("{}/inbox", self.public_url),
                },
                lang,
            );
            let ids: Vec<Uuid> = items.iter().map(|n| n.id).collect();
            self.store
                .replace_held(&ids, self.mail_now(recipient, &language, "digest", w))
                .await?;
        }
        Ok(())
    }

    /// Runs a pass every `every` until `stop` turns true (at once again after a full pass).
    pub fn spawn(
        self,
        every: Duration,
        mut stop: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut log = softland_store::worker_log::PassLog::new("notification delivery");
            loop {
                let pass = self.run_once().await;
                log.pass(&pass);
                let busy = pass.is_ok_and(|n| n >= 64);
                if *stop.borrow() {
                    return;
                }
                if !busy {
                    tokio::select! {
                        _ = tokio::time::sleep(every) => {}
                        _ = stop.changed() => return,
                    }
                }
            }
        })
    }
}

/// How an attempt ended, as the metrics and the traces name it.
fn outcome(after: AfterAttempt) -> &'static str {
    match after {
        AfterAttempt::Delivered => "delivered",
        AfterAttempt::RetryAt(_) => "retry",
        AfterAttempt::Failed => "failed",
        AfterAttempt::Cancelled => "cancelled",
    }
}

/// The span of one attempt to deliver `n`: a trace of its own (the request whose command
/// queued it is long over), named for the channel, with the notification, its application and
/// event type, which attempt it is and how it ended; its log lines carry its trace id.
fn attempt_span(n: &Notification) -> tracing::Span {
    let span = tracing::info_span!(
        parent: None,
        "deliver",
        otel.name = match n.message.channel {
            Channel::Webhook => "deliver webhook",
            Channel::Email => "deliver e-mail",
        },
        notification.id = %n.id,
        application.id = tracing::field::Empty,
        event.type = n.message.event_type.as_str(),
        attempt = n.attempts + 1,
        outcome = tracing::field::Empty,
        trace_id = tracing::field::Empty,
    );
    if let Some(app) = n.message.application_id {
        span.record("application.id", tracing::field::display(app));
    }
    softland_telemetry::record_trace_id(&span);
    span
}
