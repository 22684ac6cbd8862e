//! softland-store: every step durable, concurrent-safe and audited.
//!
//! ```text
//!   command ─► read application (or what this server last wrote) ─► engine.execute ─► events
//!                                                                                    │
//!   one round trip: CAS revision (+ task open, claim) ─► events (hash chain), outbox, │
//!                   tasks, timers, idempotency key — written only if the CAS matched ◄┘
//! ```
//!
//! One command is one transaction: on PostgreSQL one statement, on SQLite one script in a
//! transaction the group writer may share with other commands (each in its own savepoint). The
//! application row carries a revision: the write is a compare-and-set, so of two reviewers
//! acting at once exactly one wins and the other gets [`Error::Conflict`]. Idempotency keys
//! make retries safe. SQLite (WAL) is the embedded default; PostgreSQL is the production
//! backend. SQL and sea-orm types stay inside this crate.

pub mod app_migration;
mod commands;
mod connect;
mod definitions;
pub mod directory;
pub mod documents;
mod entity;
mod error;
mod hash;
pub mod notifications;
mod operations;
pub mod places;
mod reads;
mod records;
pub mod reports;
mod rows;
#[cfg(feature = "test-util")]
pub mod test_util;
mod traced;
pub mod worker_log;

pub use commands::numbers::{reference, reference_number};
pub use commands::scheduler::TimerRun;
pub use connect::{BackendKind, DEFAULT_POOL_SIZE, Store};
pub use definitions::schema_files::{MAX_SCHEMA_FILE, SchemaFiles};
pub use definitions::{DIRECTORY_SEED, compile_off_runtime};
pub use directory::{people_actions, sealed, sessions};
pub use documents::links::{MOST_LINKS, MOST_PER_APPLICATION};
pub use error::{ConflictReason, Error, Result};
pub use notifications::queue::{AfterAttempt, Committed, FanOut};
pub use operations::backup::Totals;
pub use operations::bulk::{SeedApplication, SeedStep};
pub use operations::doctor::Report as DoctorReport;
pub use reads::dashboard;
pub use records::*;
