//! `softland serve`: zero configuration — SQLite file, bundled workflows, 127.0.0.1:8080.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use softland_gateway::Settings;
use softland_store::KeyRole;

use super::bundled::Workflows;
use super::db::{redact, runtime};
use super::service::Service;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Database URL: `sqlite://PATH?mode=rwc` or `postgres://USER@HOST:PORT/DB`.
    #[arg(
        long,
        env = "SOFTLAND_DB",
        default_value = "sqlite://softland.db?mode=rwc"
    )]
    db: String,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "SOFTLAND_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Directory of workflow YAML files, published at start when their content is new (default:
    /// `./workflows` if there is one, else the workflows bundled in the binary).
    #[arg(long, env = "SOFTLAND_WORKFLOWS")]
    workflows: Option<PathBuf>,
    /// Folder of holiday tables (`hk.txt`, `mainland.txt`) replacing the bundled ones; see
    /// docs/calendars.md.
    #[arg(long, env = "SOFTLAND_CALENDARS")]
    calendars: Option<PathBuf>,
    /// Log format.
    #[arg(long, env = "SOFTLAND_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    log_format: LogFormat,
    /// Serve HTTPS with this certificate chain (PEM, leaf first); with --tls-key. Reloaded
    /// when the files change, without a restart.
    #[arg(long, env = "SOFTLAND_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, env = "SOFTLAND_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// How often the certificate files are looked at for a change, in seconds.
    #[arg(long, env = "SOFTLAND_TLS_RELOAD_SECONDS", default_value_t = 10)]
    tls_reload_seconds: u64,
    /// Reverse proxies (CIDR; repeat or separate with commas) whose `X-Forwarded-Proto` is
    /// believed: behind them, cookies are `Secure` when the browser used HTTPS. Anyone else's
    /// forwarded headers are dropped.
    #[arg(long, env = "SOFTLAND_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<ipnet::IpNet>,
    /// PostgreSQL: connections each pool (queries, commands) grows to.
    #[arg(long, env = "SOFTLAND_POOL_SIZE", default_value_t = softland_store::DEFAULT_POOL_SIZE)]
    pool_size: u32,
    /// PostgreSQL: command connections opened at start (the first commands after a start do
    /// not each open one).
    #[arg(long, env = "SOFTLAND_CONNECTIONS_AT_START", default_value_t = 8)]
    connections_at_start: usize,
    /// How often the scheduler looks for due timers, in seconds.
    #[arg(long, env = "SOFTLAND_SCHEDULER_SECONDS", default_value_t = 5)]
    scheduler_seconds: u64,
    /// OpenID Connect issuer URLs whose bearer tokens (JWTs) are accepted besides API keys
    /// (repeat the flag, or separate with commas in the variable).
    #[arg(long, env = "SOFTLAND_OIDC_ISSUER", value_delimiter = ',')]
    oidc_issuer: Vec<String>,
    /// The audience those tokens must carry (softland's client id at the provider).
    #[arg(long, env = "SOFTLAND_OIDC_AUDIENCE")]
    oidc_audience: Option<String>,
    /// Which claim names the person: `email` (a directory person's address; `email_verified`
    /// must not be false) or `sub` (a directory id).
    #[arg(long, env = "SOFTLAND_OIDC_CLAIM", value_enum, default_value_t = ClaimArg::Email)]
    oidc_claim: ClaimArg,
    /// An issuer's keys are fetched again for a token with an unknown key id at most this
    /// often, in seconds (rotation is picked up; made-up key ids cost little).
    #[arg(long, env = "SOFTLAND_OIDC_REFETCH_SECONDS", default_value_t = 30)]
    oidc_refetch_seconds: u64,
    /// The client secret of softland at the identity provider (its client id is the audience):
    /// with --public-url, browsers sign in at /auth/login (authorization code with PKCE).
    #[arg(long, env = "SOFTLAND_OIDC_CLIENT_SECRET", hide_env_values = true)]
    oidc_client_secret: Option<String>,
    #[command(flatten)]
    storage: super::storage::StorageArgs,
    #[command(flatten)]
    notify: super::notify::NotifyArgs,
    /// Uploads never linked to an application are removed after this many days.
    #[arg(long, env = "SOFTLAND_UNLINKED_RETENTION_DAYS", default_value_t = 30)]
    unlinked_retention_days: i64,
    /// Documents an organisation (or agency) may upload in 24 hours.
    #[arg(long, env = "SOFTLAND_UPLOADS_PER_DAY", default_value_t = 500)]
    uploads_per_day: i64,
    /// Bytes of documents an organisation (or agency) may upload in 24 hours.
    #[arg(long, env = "SOFTLAND_UPLOAD_BYTES_PER_DAY", default_value_t = 2 * 1024 * 1024 * 1024)]
    upload_bytes_per_day: i64,
    /// The largest document an upload may carry, in bytes.
    #[arg(long, env = "SOFTLAND_MAX_UPLOAD_BYTES", default_value_t = 25 * 1024 * 1024)]
    max_upload_bytes: u64,
    /// Send traces (OpenTelemetry, OTLP over HTTP with protobuf) to this collector, e.g.
    /// `http://127.0.0.1:4318`: a span per request (with the GraphQL operation's name) and per
    /// command (with the application's id); log lines name their trace. A caller's W3C
    /// `traceparent` header is followed. Needs the `otlp` cargo feature (built by default).
    #[arg(long, env = "SOFTLAND_OTLP_ENDPOINT")]
    otlp_endpoint: Option<String>,
    /// The share (0 to 1) of the traces begun here that are sent (a caller's `traceparent`
    /// decides for the traces it began).
    #[arg(long, env = "SOFTLAND_OTLP_SAMPLE_RATIO", default_value_t = 1.0)]
    otlp_sample_ratio: f64,
    /// How long sending one batch of spans may take, in seconds.
    #[arg(long, env = "SOFTLAND_OTLP_TIMEOUT_SECONDS", default_value_t = 10)]
    otlp_timeout_seconds: u64,
    /// softland's address as browsers see it (e.g. `https://softland.example`); the identity
    /// provider sends them back to `<public-url>/auth/callback`.
    #[arg(long, env = "SOFTLAND_PUBLIC_URL")]
    public_url: Option<String>,
    /// GraphQL requests one caller (a person, whatever keys they use; or an address) may have
    /// running at once; more wait up to 5 s for their turn, then get 429.
    #[arg(long, env = "SOFTLAND_REQUESTS_PER_CALLER", default_value_t = softland_gateway::fairness::PER_CALLER)]
    requests_per_caller: usize,
    /// The key webhook signing secrets are sealed with at rest (32 bytes, base64; make one
    /// with `softland keys secrets-key`). Without it, a SQLite server keeps one in
    /// `<database file>.secrets-key` (owner-only, beside the database, never in its backups);
    /// a PostgreSQL server stores the secrets unsealed and says so at start.
    #[arg(long, env = "SOFTLAND_SECRETS_KEY", hide_env_values = true)]
    secrets_key: Option<String>,
    /// Keys secrets were sealed with before a rotation (repeat or separate with commas): read,
    /// and resealed under `--secrets-key` at start.
    #[arg(
        long,
        env = "SOFTLAND_SECRETS_KEY_PREVIOUS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    secrets_key_previous: Vec<String>,
    /// The bearer token Prometheus sends to read `/metrics`; with it, `/metrics` also has the
    /// open and overdue tasks per agency. Without one, `/metrics` is public and has neither.
    #[arg(long, env = "SOFTLAND_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ClaimArg {
    Email,
    Sub,
}

impl ServeArgs {
    /// Where traces go, if anywhere.
    fn traces(&self) -> Option<softland_telemetry::Traces> {
        Some(softland_telemetry::Traces {
            endpoint: self.otlp_endpoint.clone()?,
            sample_ratio: self.otlp_sample_ratio,
            timeout: Duration::from_secs(self.otlp_timeout_seconds.clamp(1, 300)),
        })
    }

    /// The OpenID Connect settings, if issuers are given.
    fn oidc(&self) -> anyhow::Result<Option<softland_gateway::OidcConfig>> {
        if self.oidc_issuer.is_empty() {
            return Ok(None);
        }
        let Some(audience) = self.oidc_audience.clone() else {
            anyhow::bail!("--oidc-issuer needs --oidc-audience (SOFTLAND_OIDC_AUDIENCE)");
        };
        let mut config = softland_gateway::OidcConfig::new(self.oidc_issuer.clone(), audience);
        config.claim = match self.oidc_claim {
            ClaimArg::Email => softland_gateway::IdentityClaim::Email,
            ClaimArg::Sub => softland_gateway::IdentityClaim::Sub,
        };
        config.refetch_interval = Duration::from_secs(self.oidc_refetch_seconds);
        if let (Some(secret), Some(url)) = (&self.oidc_client_secret, &self.public_url) {
            config.browser = Some(softland_gateway::BrowserSignIn {
                client_secret: secret.clone(),
                public_url: url.clone(),
            });
        }
        softland_gateway::oidc::OidcVerifier::new(config.clone()).map_err(anyhow::Error::msg)?;
        Ok(Some(config))
    }
}

/// Log lines on stderr and, with an OTLP endpoint, traces; held until the service stopped.
fn init_telemetry(args: &ServeArgs) -> anyhow::Result<softland_telemetry::Telemetry> {
    let format = match args.log_format {
        LogFormat::Pretty => softland_telemetry::LogFormat::Pretty,
        LogFormat::Json => softland_telemetry::LogFormat::Json,
    };
    Ok(softland_telemetry::init(format, args.traces().as_ref())?)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing in-flight requests");
}

fn tls_files(args: &ServeArgs) -> Option<softland_gateway::transport::TlsFiles> {
    Some(softland_gateway::transport::TlsFiles {
        cert: args.tls_cert.clone()?,
        key: args.tls_key.clone()?,
        reload_every: Duration::from_secs(args.tls_reload_seconds.clamp(1, 3600)),
    })
}

/// Checks the settings as a start would, without starting: what `config check` reports.
pub(super) fn validate(args: &ServeArgs) -> anyhow::Result<()> {
    let db = &args.db;
    if !(db.starts_with("sqlite:")
        || db.starts_with("postgres://")
        || db.starts_with("postgresql://"))
    {
        anyhow::bail!(
            "db: `{}` is neither sqlite://… nor postgres://…",
            redact(db)
        );
    }
    if let Some(url) = &args.public_url {
        let ok = reqwest::Url::parse(url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !ok {
            anyhow::bail!("public-url: `{url}` is not an http:// or https:// address");
        }
    }
    if args.oidc_audience.is_some() && args.oidc_issuer.is_empty() {
        anyhow::bail!("oidc-audience needs oidc-issuer");
    }
    if args.oidc_client_secret.is_some() && args.public_url.is_none() {
        anyhow::bail!(
            "oidc-client-secret needs public-url (browsers come back to <public-url>/auth/callback)"
        );
    }
    args.oidc()?;
    // The SMTP pool is built (and dropped) on a runtime, as lettre needs. Not called from one.
    runtime()?.block_on(async { args.notify.settings().map(drop) })?;
    args.storage.config(&args.db)?;
    if args.tls_cert.is_some() != args.tls_key.is_some() {
        anyhow::bail!("tls-cert and tls-key go together");
    }
    if let Some(files) = tls_files(args) {
        softland_gateway::transport::ReloadingCert::open(files).context("the TLS certificate")?;
    }
    if let Some(traces) = args.traces() {
        softland_telemetry::check(&traces)?;
    }
    if !(1..=3600).contains(&args.scheduler_seconds) {
        anyhow::bail!("scheduler-seconds: between 1 and 3600");
    }
    Ok(())
}

pub(super) fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let telemetry = init_telemetry(&args)?;
    validate(&args)?;
    if telemetry.sends_traces() {
        tracing::info!(
            endpoint = %redact(args.otlp_endpoint.as_deref().unwrap_or_default()),
            "sending traces"
        );
    }
    let workflows = Workflows::resolve(args.workflows.clone())?;
    let calendars = super::calendars::load(args.calendars.as_ref())?;
    for w in super::calendars::warnings(&calendars) {
        tracing::warn!("{w}");
    }
    runtime()?.block_on(async {
        let store = softland_store::Store::open_with_pool(&args.db, calendars, args.pool_size).await.with_context(|| format!("cannot open the database {}", redact(&args.db)))?;
        tracing::info!(db = %redact(&args.db), "database ready");
        match secret_keys(&args)? {
            Some(keys) => {
                store.use_secret_keys(keys);
                let resealed = store.reseal_secrets().await.context("cannot seal the webhook secrets")?;
                if resealed > 0 {
                    tracing::info!(resealed, "webhook secrets sealed under the current key");
                }
            }
            None => tracing::warn!("webhook secrets are stored unsealed: set SOFTLAND_SECRETS_KEY (docs/deploy.md)"),
        }
        for (file, p) in workflows.publish(&store, "softland serve").await.with_context(|| format!("cannot publish {}", workflows.describe()))? {
            let what = if p.changed { "published" } else { "already published" };
            tracing::info!(file, key = p.definition.key, version = p.definition.version, "{what}");
        }
        let mut stdout = std::io::stdout();
        if !store.has_admin_key().await? {
            let (_, token) = store.create_key("admin", KeyRole::Admin).await?;
            writeln!(stdout, "First start: created an admin API key. It is shown only now; keep it:\n\n    {token}\n")?;
            writeln!(stdout, "Use it as `Authorization: Bearer {token}` (create more with `softland keys create`).")?;
        }
        // PostgreSQL: the first commands after a start should not each open a connection.
        match store.open_command_connections(args.connections_at_start.min(args.pool_size as usize)).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(connections = n, "command connections open"),
            Err(e) => tracing::warn!(error = %e, "could not open command connections ahead; they open as needed"),
        }
        let secure_cookies = args.public_url.as_deref().is_some_and(|u| u.starts_with("https://"));
        let documents = args.storage.config(&args.db)?;
        let upload_limits = softland_gateway::graphql::UploadLimits { file_bytes: args.max_upload_bytes, files_per_day: args.uploads_per_day, bytes_per_day: args.upload_bytes_per_day };
        let unlinked_retention = chrono::Duration::days(args.unlinked_retention_days.max(1));
        let tls = tls_files(&args);
        let scheme = if tls.is_some() { "https" } else { "http" };
        let trusted_proxies = softland_gateway::transport::TrustedProxies(args.trusted_proxies.clone());
        let settings = Settings { listen: args.listen, workflows_dir: workflows.folder(), oidc: args.oidc()?, secure_cookies, documents, upload_limits, unlinked_retention, tls, trusted_proxies, metrics_token: args.metrics_token.clone(), requests_per_caller: args.requests_per_caller, ..Settings::default() };
        let notify = args.notify.settings()?;
        let service = Service::start(&store, settings, Duration::from_secs(args.scheduler_seconds.max(1)), format!("{}-{}", hostname(), std::process::id()), &notify, args.public_url.clone())
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = service.addr();
        writeln!(stdout, "softland listening on {scheme}://{addr} — console: {scheme}://{addr}/ — GraphiQL: {scheme}://{addr}/graphql")?;
        stdout.flush()?;
        service.run_until(shutdown_signal()).await?;
        store.close().await?;
        tracing::info!("stopped");
        Ok::<_, anyhow::Error>(())
    })?;
    // The spans of the last requests are sent before the process ends.
    drop(telemetry);
    Ok(ExitCode::SUCCESS)
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "softland".to_owned())
}

/// The keys webhook secrets are sealed with: `--secrets-key` (and the previous ones), else —
/// on a SQLite file — the key kept beside the database (made on first start); else none.
fn secret_keys(args: &ServeArgs) -> anyhow::Result<Option<softland_store::sealed::SecretKeys>> {
    use softland_store::sealed::{SecretKey, SecretKeys};
    let previous = args
        .secrets_key_previous
        .iter()
        .map(|k| SecretKey::from_base64(k))
        .collect::<Result<Vec<_>, _>>()
        .context("--secrets-key-previous")?;
    if let Some(k) = &args.secrets_key {
        let current = SecretKey::from_base64(k).context("--secrets-key")?;
        return Ok(Some(SecretKeys::new(current, previous)));
    }
    let Some(db_file) = args
        .db
        .strip_prefix("sqlite://")
        .map(|rest| rest.split('?').next().unwrap_or_default())
        .filter(|p| !p.is_empty() && !p.contains(":memory:"))
    else {
        return Ok(None);
    };
    let file = std::path::PathBuf::from(format!("{db_file}.secrets-key"));
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let key = SecretKey::generate()?;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&file)
                .with_context(|| format!("cannot create {}", file.display()))?;
            writeln!(f, "{key}")?;
            f.sync_all()?;
            tracing::info!(file = %file.display(), "made the key webhook secrets are sealed with; keep it with the database, apart from its backups");
            key
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", file.display())),
    };
    let current = SecretKey::from_base64(&text).with_context(|| format!("{}", file.display()))?;
    Ok(Some(SecretKeys::new(current, previous)))
}
