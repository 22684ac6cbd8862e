//! softland-gateway: GraphQL over HTTP for firms, partner reviewers and administrators.
//!
//! ```text
//!  client ──HTTP──► axum ── /graphql ──► auth (Bearer token -> Principal)
//!                     │                    └─► async-graphql resolvers ──► policy ──► store
//!                     ├── /graphql/ws  (graphql-transport-ws subscriptions)
//!                     ├── /healthz /readyz
//!                     └── /metrics     (Prometheus)
//! ```
//!
//! Resolvers translate between GraphQL and the store; who may do what is decided in
//! [`policy`], and business rules live in the workflow engine.

mod app;
pub mod codes;
mod error;
pub mod graphql;
mod metrics;
pub mod policy;

pub use app::{Application, Settings};
pub use codes::ErrorCode;
pub use graphql::{SoftlandSchema, build_schema, sdl};
pub use policy::Principal;
