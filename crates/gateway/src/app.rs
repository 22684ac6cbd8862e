//! The HTTP application: routes, limits, authentication, graceful shutdown.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use async_graphql::Data;
use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
use axum::Router;
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use softland_store::Store;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::graphql::{SoftlandSchema, build_schema};
use crate::policy::Principal;

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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            workflows_dir: PathBuf::from("workflows"),
            max_body: 1 << 20,
            request_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Clone)]
struct AppState {
    schema: SoftlandSchema,
    store: Store,
    metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

/// A bound, ready-to-run gateway.
pub struct Application {
    listener: TcpListener,
    router: Router,
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
        let state = AppState {
            schema: build_schema(store.clone(), settings.workflows_dir.clone()),
            store,
            metrics: crate::metrics::install(),
        };
        let router = Router::new()
            .route("/graphql", get(graphiql).post(graphql))
            .route("/graphql/ws", get(graphql_ws))
            .route("/healthz", get(|| async { "ok" }))
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics))
            .layer(middleware::from_fn(observe))
            .layer(RequestBodyLimitLayer::new(settings.max_body))
            .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, settings.request_timeout))
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }))
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .with_state(state);
        Ok(Self { listener, router })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves; in-flight requests finish first.
    pub async fn run_until_stopped(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// The caller from `Authorization: Bearer <token>`; `None` when absent or unknown.
async fn authenticate(store: &Store, headers: &HeaderMap) -> Option<Principal> {
    let token = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?
        .trim();
    store
        .authenticate(token)
        .await
        .ok()
        .flatten()
        .map(Principal::from)
}

async fn graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: GraphQLRequest,
) -> GraphQLResponse {
    let mut req = req.into_inner();
    if let Some(p) = authenticate(&state.store, &headers).await {
        req = req.data(p);
    }
    let mut resp = state.schema.execute(req).await;
    // Parse and validation errors come from async-graphql without a code: they are the
    // client's. Every error leaves with one.
    for e in &mut resp.errors {
        let ext = e.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            ext.set("code", "BAD_USER_INPUT");
            crate::metrics::error("BAD_USER_INPUT");
        }
    }
    resp.into()
}

async fn graphiql() -> impl IntoResponse {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .finish(),
    )
}

/// WebSocket subscriptions; the token comes in `connection_init` as `{"authorization": "Bearer …"}`
/// (or the upgrade request's header).
async fn graphql_ws(
    State(state): State<AppState>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let from_header = authenticate(&state.store, &headers).await;
    let store = state.store.clone();
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            GraphQLWebSocket::new(socket, state.schema.clone(), protocol)
                .on_connection_init(move |payload| async move {
                    let mut data = Data::default();
                    let token = payload
                        .get("authorization")
                        .or_else(|| payload.get("Authorization"))
                        .and_then(|v| v.as_str())
                        .map(|s| s.trim_start_matches("Bearer ").trim().to_owned());
                    let principal = match token {
                        Some(t) => store
                            .authenticate(&t)
                            .await
                            .ok()
                            .flatten()
                            .map(Principal::from),
                        None => from_header,
                    };
                    if let Some(p) = principal {
                        data.insert(p);
                    }
                    Ok(data)
                })
                .serve()
        })
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
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    match state.store.open_task_counts().await {
        Ok(counts) => crate::metrics::tasks(&counts),
        Err(e) => tracing::warn!(error = %e, "task counts unavailable"),
    }
    match &state.metrics {
        Some(h) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            h.render(),
        )
            .into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, "metrics unavailable").into_response(),
    }
}

/// Request count and latency.
async fn observe(req: Request<axum::body::Body>, next: Next) -> Response {
    let start = Instant::now();
    let res = next.run(req).await;
    crate::metrics::request(start.elapsed().as_secs_f64(), res.status().as_u16());
    res
}
