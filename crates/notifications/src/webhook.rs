//! Sending one webhook delivery: a POST of the stored JSON body, signed, with a timeout and a
//! cap on how much of the answer is read.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use softland_store::notifications::{Endpoint, Notification};

use crate::guard::AddressPolicy;
use crate::signing;

/// The most bytes of a receiver's answer read (the rest is dropped).
pub const MOST_RESPONSE_BYTES: usize = 16 * 1024;

/// What a receiver answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A 2xx status.
    Accepted(u16),
    /// `410 Gone`: the receiver asks not to be called again (the endpoint is disabled).
    Gone,
    /// Another status.
    Status(u16),
    /// No answer: refused address, connection failure, timeout.
    Failed(String),
}

/// Posts deliveries.
#[derive(Debug, Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
    policy: AddressPolicy,
}

impl WebhookSender {
    /// A sender reaching what `policy` permits, waiting at most `timeout` per delivery.
    pub fn new(policy: AddressPolicy, timeout: Duration) -> reqwest::Result<Self> {
        let client = reqwest::Client::builder()
            .dns_resolver(policy.resolver())
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(timeout)
            .timeout(timeout)
            .user_agent(concat!("softland-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, policy })
    }

    /// The policy it follows.
    pub fn policy(&self) -> &AddressPolicy {
        &self.policy
    }

    /// Sends `n` to `endpoint`, signed with the secrets valid at `now`; how long it took.
    pub async fn send(
        &self,
        endpoint: &Endpoint,
        n: &Notification,
        now: DateTime<Utc>,
    ) -> (Answer, Duration) {
        let started = Instant::now();
        let answer = self.post(endpoint, n, now).await;
        (answer, started.elapsed())
    }

    async fn post(&self, endpoint: &Endpoint, n: &Notification, now: DateTime<Utc>) -> Answer {
        // The address is checked again at connection time by the resolver; this refuses
        // literal addresses, which are not resolved.
        let url = match self.policy.check_url(&endpoint.url) {
            Ok(u) => u,
            Err(e) => return Answer::Failed(e.to_string()),
        };
        let id = message_id(n);
        let timestamp = now.timestamp();
        let signature = match signing::sign(
            &endpoint.signing_secrets(now),
            &id,
            timestamp,
            n.message.body.as_bytes(),
        ) {
            Ok(s) => s,
            Err(e) => return Answer::Failed(e.to_string()),
        };
        let sent = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(n.message.body.clone())
            .send()
            .await;
        let mut response = match sent {
            Ok(r) => r,
            Err(e) => return Answer::Failed(describe(&e)),
        };
        let status = response.status().as_u16();
        // Read (and drop) at most MOST_RESPONSE_BYTES of the answer, so the connection can
        // be reused without trusting the receiver's size.
        let mut read = 0;
        while let Ok(Some(chunk)) = response.chunk().await {
            read += chunk.len();
            if read >= MOST_RESPONSE_BYTES {
                break;
            }
        }
        match status {
            200..=299 => Answer::Accepted(status),
            410 => Answer::Gone,
            s => Answer::Status(s),
        }
    }
}

/// The `webhook-id` of every attempt of `n`.
pub fn message_id(n: &Notification) -> String {
    format!("msg_{}", n.id.simple())
}

/// An HTTP client error in words that name no internals: what failed, not where in the code.
fn describe(e: &reqwest::Error) -> String {
    let mut why = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    // The resolver's refusal is worth saying.
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<crate::guard::Refusal>() {
            why = r.to_string();
            break;
        }
        source = s.source();
    }
    why
}
