//! Notification settings of `serve`: e-mail over SMTP, which addresses webhooks may reach.

use std::time::Duration;

use clap::Args;
use softland_notifications::delivery::Deliverer;
use softland_notifications::guard::AddressPolicy;
use softland_notifications::mail::Mailer;
use softland_notifications::webhook::WebhookSender;
use softland_store::Store;

#[derive(Debug, Clone, Args)]
pub(crate) struct NotifyArgs {
    /// SMTP server for e-mail: `smtp://host:25` (STARTTLS when offered),
    /// `smtp://host:587?tls=required`, `smtps://user:password@host:465` (implicit TLS). None:
    /// no e-mail is sent (and none is an error).
    #[arg(long, env = "SOFTLAND_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// The sender of e-mail, e.g. `softland <softland@agency.example>`.
    #[arg(long, env = "SOFTLAND_MAIL_FROM")]
    mail_from: Option<String>,
    /// Networks webhook endpoints may be in besides public addresses (CIDR, e.g.
    /// `10.20.0.0/16`; repeat the flag or separate with commas). Loopback, private,
    /// link-local and metadata addresses are refused otherwise.
    #[arg(long, env = "SOFTLAND_WEBHOOK_ALLOW", value_delimiter = ',')]
    webhook_allow: Vec<ipnet::IpNet>,
    /// How long a webhook receiver (or the SMTP server) may take, in seconds.
    #[arg(long, env = "SOFTLAND_WEBHOOK_TIMEOUT_SECONDS", default_value_t = 10)]
    webhook_timeout_seconds: u64,
}

impl Default for NotifyArgs {
    fn default() -> Self {
        Self {
            smtp_url: None,
            mail_from: None,
            webhook_allow: Vec::new(),
            webhook_timeout_seconds: 10,
        }
    }
}

/// What the notification workers need, checked at start.
#[derive(Debug, Clone)]
pub(crate) struct Notify {
    pub(crate) policy: AddressPolicy,
    pub(crate) sender: WebhookSender,
    pub(crate) mailer: Option<Mailer>,
    pub(crate) timeout: Duration,
}

impl NotifyArgs {
    /// The settings, or why they are unusable (never echoing the SMTP URL: it may hold a
    /// password).
    pub(crate) fn settings(&self) -> anyhow::Result<Notify> {
        let timeout = Duration::from_secs(self.webhook_timeout_seconds.clamp(1, 120));
        let policy = AddressPolicy::new(self.webhook_allow.clone());
        let sender = WebhookSender::new(policy.clone(), timeout)?;
        let mailer = match &self.smtp_url {
            None => None,
            Some(url) => {
                let from = self.mail_from.as_deref().ok_or_else(|| {
                    anyhow::anyhow!("--smtp-url needs --mail-from (SOFTLAND_MAIL_FROM)")
                })?;
                Some(Mailer::new(url, from, timeout)?)
            }
        };
        Ok(Notify {
            policy,
            sender,
            mailer,
            timeout,
        })
    }
}

impl Notify {
    /// The delivery worker named `owner`; links point at `public_url`.
    pub(crate) fn deliverer(&self, store: &Store, owner: String, public_url: &str) -> Deliverer {
        // A lease outlasts two full attempts (a slow receiver, then a slow answer to record).
        let lease = self.timeout * 2 + Duration::from_secs(5);
        Deliverer::new(
            store.clone(),
            self.sender.clone(),
            self.mailer.clone(),
            owner,
            lease,
            public_url.to_owned(),
        )
    }
}
