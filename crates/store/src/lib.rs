//! softland-store: every step durable, concurrent-safe and audited.
//!
//! ```text
//!   command ─► BEGIN ─► load application (snapshot) ─► engine.execute ─► events
//!                         │                                             │
//!                         │   append events (hash chain), CAS revision, tasks, timers, outbox
//!                         └──────────────────────────── COMMIT ◄────────┘
//! ```
//!
//! One command is one transaction. The application row carries a revision: the update is a
//! compare-and-set, so of two reviewers acting at once exactly one wins and the other gets
//! [`Error::Conflict`]. Idempotency keys make retries safe. SQLite (WAL) is the embedded default;
//! PostgreSQL is the production backend. SQL and sea-orm types stay inside this crate.

pub mod baseline;
mod bulk;
mod commands;
mod connect;
mod definitions;
mod doctor;
mod entity;
mod error;
mod hash;
mod held;
mod keys;
mod queries;
mod records;
mod relay;
mod scheduler;
mod tasks;
#[cfg(feature = "test-util")]
pub mod test_util;
mod warm;

pub use bulk::{SeedApplication, SeedStep};
pub use connect::{Backend, Store};
pub use doctor::Report as DoctorReport;
pub use error::{ConflictReason, Error, Result};
pub use keys::{KeyRecord, KeyRole};
pub use records::*;
pub use scheduler::TimerRun;
