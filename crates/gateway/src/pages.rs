//! Pages served beside the API (the console): what they are built from.

use axum::Router;
use softland_store::Store;

use crate::graphql::SoftlandSchema;

/// What pages served beside the API are built from: the API's own schema (so pages go through
/// the same policy as every GraphQL client) and store (for sessions).
#[derive(Clone)]
pub struct Services {
    /// The GraphQL schema the API serves.
    pub schema: SoftlandSchema,
    /// The store.
    pub store: Store,
    /// Whether browsers can sign in with an identity provider (`/auth/login`).
    pub browser_sign_in: bool,
    /// Whether session cookies carry `Secure`.
    pub secure_cookies: bool,
    /// Failed authentications per address (the console's sign-in counts its own).
    pub failures: crate::throttle::Failures,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("browser_sign_in", &self.browser_sign_in)
            .field("secure_cookies", &self.secure_cookies)
            .finish_non_exhaustive()
    }
}

/// Builds the pages served beside the API.
pub type Pages = fn(Services) -> Router;
