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

mod act;
mod backup;
pub mod baseline;
mod bulk;
mod commands;
mod commit;
mod commit_build;
mod commit_sql;
mod connect;
pub mod dashboard;
mod definitions;
pub mod directory;
mod directory_load;
mod numbers;
pub mod people_actions;
pub use numbers::{reference, reference_number};
mod doctor;
pub mod documents;
mod entity;
mod error;
mod hash;
mod idempotency;
mod inbox;
mod key_cache;
mod keys;
mod links;
pub mod notifications;
mod notify_queue;
mod people;
mod pg_commands;
mod plan;
mod queries;
mod records;
mod relay;
mod rows;
mod scheduler;
mod schema_files;
pub mod sealed;
pub mod sessions;
mod sqlite_group;
mod tasks;
#[cfg(feature = "test-util")]
pub mod test_util;
mod traced;
mod upgrade;
mod warm;

pub use backup::Totals;
pub use bulk::{SeedApplication, SeedStep};
pub use connect::{Backend, DEFAULT_POOL_SIZE, Store};
pub use definitions::{DIRECTORY_SEED, compile_off_runtime};
pub use doctor::Report as DoctorReport;
pub use error::{ConflictReason, Error, Result};
pub use links::{MOST_LINKS, MOST_PER_APPLICATION};
pub use notify_queue::{AfterAttempt, Committed, FanOut};
pub use records::*;
pub use scheduler::TimerRun;
pub use schema_files::{MAX_SCHEMA_FILE, SchemaFiles};
