//! What every route shares: the schema, the store, authentication, and the limits that live
//! across requests (WebSocket places, each caller's share, failed sign-ins).

use std::sync::Arc;

use softland_store::Store;

use crate::authn::Authenticator;
use crate::graphql::SoftlandSchema;

/// The routes' shared state.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) documents: crate::graphql::Documents,
    pub(crate) schema: SoftlandSchema,
    pub(crate) store: Store,
    pub(crate) auth: Authenticator,
    pub(crate) sign_in: crate::signin::SignInState,
    pub(crate) metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// WebSocket connections open at once (half the connection cap).
    pub(crate) sockets: crate::ws::Sockets,
    /// The largest WebSocket message (the HTTP body limit).
    pub(crate) max_message: usize,
    /// Each caller's share of concurrent requests.
    pub(crate) shares: crate::fairness::Shares,
    /// What `/metrics` asks for.
    pub(crate) metrics_token: Option<Arc<str>>,
    /// Failed authentications per address.
    pub(crate) failures: crate::throttle::Failures,
}

impl axum::extract::FromRef<AppState> for crate::downloads::DownloadState {
    fn from_ref(s: &AppState) -> Self {
        crate::downloads::DownloadState {
            store: s.store.clone(),
            auth: s.auth.clone(),
            documents: s.documents.clone(),
        }
    }
}

impl axum::extract::FromRef<AppState> for crate::signin::SignInState {
    fn from_ref(state: &AppState) -> Self {
        state.sign_in.clone()
    }
}
