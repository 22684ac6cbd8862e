//! softland-store: persistence of applications, tasks, the audit log, timers and the outbox
//! with sea-orm (SQLite by default, PostgreSQL in production). Built in issue #3; this crate
//! is part of the workspace layout and holds no code yet.
