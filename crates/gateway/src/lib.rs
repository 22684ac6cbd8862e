//! softland-gateway: GraphQL over HTTP for firms, partner reviewers and administrators.
//!
//! ```text
//!  client ──HTTP──► axum ── /graphql ──► authn (API key or OIDC JWT -> Principal)
//!                     │                    └─► async-graphql resolvers ──► policy ──► store
//!                     ├── /graphql/ws  (graphql-transport-ws subscriptions)
//!                     ├── /healthz /readyz
//!                     └── /metrics     (Prometheus)
//! ```
//!
//! Resolvers translate between GraphQL and the store; who may do what is decided in
//! [`policy`], and business rules live in the workflow engine.

mod app;
mod audit_export;
pub mod authn;
mod body_limit;
pub mod codes;
mod downloads;
mod error;
mod exports;
pub mod fairness;
mod graphiql;
pub mod graphql;
mod http;
mod intake;
mod metrics;
pub mod oidc;
mod pages;
pub mod signin;
mod state;
pub mod throttle;
mod traces;
pub mod transport;
mod ws;

pub use app::{Application, Pages, Services, Settings};
pub use codes::{ErrorCode, Reason};
pub use graphql::{SoftlandSchema, build_schema, sdl};
pub use oidc::{BrowserSignIn, IdentityClaim, OidcConfig};
pub use softland_policy::Principal;
