//! softland-bench: the figures the speed and memory targets are checked by, as library code the
//! `softland bench` and `softland growth` commands call (the command line parses arguments,
//! picks the database, shows progress and prints; everything measured is here).
//!
//! - [`lifecycles`]: whole applications over real HTTP GraphQL against a `softland serve` it
//!   starts as a child process (so the server's own peak memory can be read), with the
//!   database's raw rate beside it.
//! - [`baseline`]: that raw rate — what the database itself commits per second for the rows
//!   of one transition, with no engine, no ORM and no HTTP.
//! - [`growth`]: queries and console pages timed as a database grows to millions of
//!   applications.
//!
//! Nothing here asserts a time: benchmarks print figures, and `docs/perf/ab.sh` compares
//! builds by alternating runs.

pub mod baseline;
pub mod growth;
pub mod lifecycles;

/// Progress shown while a benchmark runs (the command line's bar; nothing for JSON output).
pub trait Meter: Send + Sync {
    /// `done` of the total so far.
    fn show(&self, done: u64);
    /// Finished at `done`.
    fn finish(&self, done: u64);
}

/// Makes a [`Meter`] for `total` units (`what` is being done, counted in `unit`).
pub type Meters<'a> = &'a (dyn Fn(String, &'static str, u64) -> Box<dyn Meter> + Sync);
