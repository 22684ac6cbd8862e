//! The HTTP application: routes, limits, authentication, graceful shutdown.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Extension, State, WebSocketUpgrade};
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use softland_store::Store;
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::authn::Authenticator;
use crate::codes::ErrorCode;
use crate::error::refuse;
use crate::graphql::build_schema;
pub use crate::pages::{Pages, Services};
use crate::state::AppState;

/// How to run the gateway.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where to listen (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    /// Where relative schema files of published workflows are resolved.
    pub workflows_dir: PathBuf,
    /// The largest request body accepted (bytes).
    pub max_body: usize,
    /// How long a request may take.
    pub request_timeout: Duration,
    /// How long a client may take to send a request's head (slow-loris connections are closed).
    pub header_timeout: Duration,
    /// Open connections at most; further clients wait in the listen queue until one closes.
    /// `None`: derived from the open-file limit (see [`connection_cap`]).
    pub max_connections: Option<usize>,
    /// OpenID Connect issuers whose tokens are accepted besides API keys.
    pub oidc: Option<crate::oidc::OidcConfig>,
    /// Session cookies carry `Secure` (browsers see softland over HTTPS).
    pub secure_cookies: bool,
    /// Pages served beside the API (the console at `/`): every path no API route takes.
    pub pages: Option<Pages>,
    /// Where documents' content is stored.
    pub documents: softland_documents::StorageConfig,
    /// How much may be uploaded (a multipart request to `/graphql` may be this much larger
    /// than `max_body`; every other request keeps `max_body`).
    pub upload_limits: crate::graphql::UploadLimits,
    /// Uploads never linked to an application are removed after this long.
    pub unlinked_retention: chrono::Duration,
    /// Which addresses webhook endpoints may have.
    pub webhooks: crate::graphql::Webhooks,
    /// Terminate TLS here with these files (reloaded when they change); `None`: plain HTTP.
    pub tls: Option<crate::transport::TlsFiles>,
    /// Reverse proxies whose `X-Forwarded-Proto` is believed.
    pub trusted_proxies: crate::transport::TrustedProxies,
    /// GraphQL requests one caller (a person, or an address) may have running at once.
    pub requests_per_caller: usize,
    /// The bearer token `/metrics` asks for (it then shows the open and overdue tasks per
    /// agency); `None`: `/metrics` is public, without them.
    pub metrics_token: Option<String>,
}

/// File descriptors kept for everything but client connections (database pool, files, logs).
const RESERVED_DESCRIPTORS: u64 = 128;
/// The most client connections, whatever the open-file limit.
const MOST_CONNECTIONS: u64 = 16_384;

/// How many client connections this process can hold: its open-file limit (raised to the hard
/// limit first) less [`RESERVED_DESCRIPTORS`], at most [`MOST_CONNECTIONS`]. Accepting beyond the
/// limit would fail for every client, polite ones too.
pub fn connection_cap() -> usize {
    let soft = rlimit::increase_nofile_limit(u64::MAX)
        .or_else(|_| rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft))
        .unwrap_or(1024);
    let cap = soft
        .saturating_sub(RESERVED_DESCRIPTORS)
        .clamp(16, MOST_CONNECTIONS);
    usize::try_from(cap).unwrap_or(16)
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            workflows_dir: PathBuf::from("workflows"),
            max_body: 1 << 20,
            request_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(5),
            max_connections: None,
            oidc: None,
            secure_cookies: false,
            pages: None,
            documents: softland_documents::StorageConfig::Folder(PathBuf::from(
                "softland-documents",
            )),
            upload_limits: crate::graphql::UploadLimits::default(),
            unlinked_retention: chrono::Duration::days(30),
            webhooks: crate::graphql::Webhooks::default(),
            tls: None,
            trusted_proxies: crate::transport::TrustedProxies::default(),
            metrics_token: None,
            requests_per_caller: crate::fairness::PER_CALLER,
        }
    }
}

/// A bound, ready-to-run gateway.
pub struct Application {
    listener: TcpListener,
    router: Router,
    header_timeout: Duration,
    max_connections: usize,
    tls: Option<Arc<crate::transport::ReloadingCert>>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("addr", &self.listener.local_addr().ok())
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Binds the listener and builds the routes.
    pub async fn build(settings: Settings, store: Store) -> std::io::Result<Self> {
        let listener = TcpListener::bind(settings.listen).await?;
        let tls = settings
            .tls
            .clone()
            .map(crate::transport::ReloadingCert::open)
            .transpose()?;
        let oidc = match settings.oidc.clone() {
            None => None,
            Some(config) => {
                let verifier = crate::oidc::OidcVerifier::new(config)
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
                let verifier = std::sync::Arc::new(verifier);
                let warm = verifier.clone();
                tokio::spawn(async move { warm.warm().await });
                Some(verifier)
            }
        };
        let sign_in = crate::signin::SignInState {
            store: store.clone(),
            oidc: oidc.clone(),
            secure_cookies: settings.secure_cookies,
        };
        let browser_sign_in = oidc.as_ref().is_some_and(|v| v.config().browser.is_some());
        let auth = Authenticator::new(store.clone(), oidc);
        let storage = softland_documents::Storage::open(&settings.documents)
            .map_err(|e| std::io::Error::other(format!("the document store: {e}")))?;
        let documents = crate::graphql::Documents {
            storage,
            limits: settings.upload_limits,
        };
        let max_connections = settings.max_connections.unwrap_or_else(connection_cap);
        let state = AppState {
            sockets: crate::ws::Sockets::new(max_connections / 2),
            max_message: settings.max_body,
            shares: crate::fairness::Shares::new(
                settings.requests_per_caller,
                crate::fairness::WAIT,
            ),
            metrics_token: settings.metrics_token.clone().map(Arc::from),
            failures: crate::throttle::Failures::default(),
            documents: documents.clone(),
            schema: build_schema(
                store.clone(),
                settings.workflows_dir.clone(),
                auth.clone(),
                documents,
                settings.webhooks.clone(),
            ),
            store,
            auth,
            sign_in,
            metrics: crate::metrics::install(),
        };
        let pages = settings.pages.map(|pages| {
            pages(Services {
                schema: state.schema.clone(),
                store: state.store.clone(),
                browser_sign_in,
                secure_cookies: settings.secure_cookies,
                failures: state.failures.clone(),
            })
        });
        let router = Router::new()
            .route(
                "/graphql",
                get(crate::graphiql::page).post(crate::http::graphql),
            )
            .route("/graphiql/{file}", get(crate::graphiql::asset))
            .route("/graphql/ws", get(graphql_ws))
            .route("/documents/{id}", get(crate::downloads::download))
            .route("/audit/export", get(crate::audit_export::export))
            .route(
                "/reports/applications.csv",
                get(crate::exports::applications_csv),
            )
            .route("/reports/event-log.xes", get(crate::exports::event_log_xes))
            .route(
                "/reports/event-log.jsonocel",
                get(crate::exports::event_log_ocel),
            )
            .route("/auth/login", get(crate::signin::login))
            .route("/auth/callback", get(crate::signin::callback))
            .route("/auth/session", get(crate::signin::whoami))
            .route("/auth/logout", axum::routing::post(crate::signin::logout))
            .route("/healthz", get(|| async { "ok" }))
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics));
        let router = match pages {
            Some(pages) => router.fallback_service(pages),
            None => router,
        };
        let router = router
            .layer(middleware::from_fn(observe))
            .layer(middleware::map_response(coded_too_large))
            .layer(middleware::from_fn_with_state(
                crate::body_limit::BodyLimits {
                    body: settings.max_body,
                    upload: settings.max_body
                        + usize::try_from(settings.upload_limits.file_bytes).unwrap_or(usize::MAX),
                },
                crate::body_limit::limit_body,
            ))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                settings.request_timeout,
            ))
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(crate::traces::request_span)
                    .on_response(crate::traces::on_response),
            )
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(middleware::from_fn_with_state(
                settings.trusted_proxies.clone(),
                crate::transport::secure_cookies,
            ))
            .with_state(state);
        Ok(Self {
            listener,
            router,
            header_timeout: settings.header_timeout,
            max_connections,
            tls,
        })
    }

    /// Whether it terminates TLS (`https://`).
    pub fn is_https(&self) -> bool {
        self.tls.is_some()
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves; in-flight requests finish first (see
    /// [`crate::transport::serve`]).
    pub async fn run_until_stopped(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        crate::transport::serve(
            self.listener,
            self.router,
            self.header_timeout,
            self.max_connections,
            self.tls,
            shutdown,
        )
        .await
    }
}

/// WebSocket subscriptions (see [`crate::ws`]): graphql-transport-ws only, authenticated at
/// `connection_init`; the token stays with the connection, so its subscriptions end when the
/// key is revoked (see `graphql::subscription`).
async fn graphql_ws(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<Extension<crate::transport::Peer>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let speaks = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case(crate::ws::SUBPROTOCOL));
    if !speaks {
        return refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "speak the graphql-transport-ws subprotocol (Sec-WebSocket-Protocol: graphql-transport-ws)",
        );
    }
    let ip = peer.as_deref().map(|p| p.addr.ip());
    if ip.is_some_and(|ip| state.failures.blocked(ip)) {
        return crate::http::too_many_failures();
    }
    let Some(permit) = state.sockets.admit() else {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::LimitExceeded,
            "too many subscription connections are open; try again shortly",
        );
    };
    // Browsers always send `Origin` on a WebSocket upgrade: the cookie is taken only from
    // this server's own pages.
    let https = crate::transport::browser_https(&headers, peer.as_deref());
    let same_origin = crate::transport::origin_matches(&headers, https) == Some(true);
    let ws_upgrade = crate::ws::Upgrade {
        bearer: crate::authn::bearer(&headers).map(str::to_owned),
        lang: crate::graphql::RequestLang::from_header(
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        ),
        same_origin_headers: same_origin.then_some(headers),
        failures: (state.failures.clone(), ip),
        store: state.store.clone(),
    };
    let (schema, auth) = (state.schema.clone(), state.auth.clone());
    upgrade
        .protocols([crate::ws::SUBPROTOCOL])
        .max_message_size(state.max_message)
        .max_frame_size(state.max_message)
        .on_upgrade(move |socket| crate::ws::serve(socket, schema, auth, ws_upgrade, permit))
}

async fn readyz(State(state): State<AppState>) -> Response {
    match (
        state.store.ping().await,
        state.store.pending_migrations().await,
    ) {
        (Ok(()), Ok(p)) if p.is_empty() => (StatusCode::OK, "ready").into_response(),
        (Ok(()), Ok(p)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("migrations pending: {}", p.join(", ")),
        )
            .into_response(),
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(error = %e, "not ready");
            // A standby answers but takes no writes: during a failover the proxy or the URL
            // still leads to the old primary, now demoted.
            let why = match e {
                softland_store::Error::Unavailable(_) => "database is a standby (read-only)",
                _ => "database unreachable",
            };
            (StatusCode::SERVICE_UNAVAILABLE, why).into_response()
        }
    }
}

/// `/metrics`. With a metrics token configured it must come as the bearer token (compared in
/// constant time), and the open and overdue tasks per agency are included; without one,
/// anyone reads the operational metrics — never the per-agency task counts, which the API
/// shows administrators only.
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    use subtle::ConstantTimeEq;
    if let Some(token) = &state.metrics_token {
        let given = crate::authn::bearer(&headers).unwrap_or_default();
        if !bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
            return refuse(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthenticated,
                "send the metrics token: `Authorization: Bearer <token>` (see docs/deploy.md)",
            );
        }
        match state.store.open_task_counts().await {
            Ok(counts) => crate::metrics::tasks(&counts),
            Err(e) => tracing::warn!(error = %e, "task counts unavailable"),
        }
    }
    crate::metrics::calendar_coverage(state.store.calendars());
    match &state.metrics {
        Some(h) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            h.render(),
        )
            .into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, "metrics unavailable").into_response(),
    }
}

/// The body limit answers a too-large `Content-Length` itself, in plain text: say it as every
/// other refusal is said.
async fn coded_too_large(res: Response) -> Response {
    let plain = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|t| !t.as_bytes().starts_with(b"application/json"));
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE && plain {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            "the request body is too large",
        );
    }
    res
}

/// Request count and latency.
async fn observe(req: Request<axum::body::Body>, next: Next) -> Response {
    let start = Instant::now();
    let res = next.run(req).await;
    crate::metrics::request(start.elapsed().as_secs_f64(), res.status().as_u16());
    res
}
