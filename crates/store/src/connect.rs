//! Connecting: SQLite (WAL, busy timeout, full sync) or PostgreSQL (bounded timeouts), and
//! running migrations.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};
use softland_migrations::{Migrator, MigratorTrait};
use softland_workflow::{Calendars, Workflow};
use tokio::sync::broadcast;

use crate::error::{Error, Result};
use crate::records::EventRecord;

/// Which database a [`Backend`] is, without its parts (as `std::io::ErrorKind` is to an
/// error): what callers outside the store are told, and what SQL text is written for. Never
/// stored: always read off the store's one [`Backend`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// Embedded SQLite in WAL mode.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

type Clock = dyn Fn() -> DateTime<Utc> + Send + Sync;

/// The database, with what only it has — chosen once when the store connects, and the one
/// place that choice is kept: code that needs one of these parts matches on this enum and gets
/// it, never a run-time "exists on X only"; code that only writes SQL asks its [`kind`].
///
/// [`kind`]: Backend::kind
pub(crate) enum Backend {
    /// SQLite.
    Sqlite {
        /// A one-connection pool that every write transaction goes through, so writers of this
        /// process queue in order on the pool instead of sleeping in SQLite's busy handler
        /// (which backs off up to 100 ms at a time).
        writer: DatabaseConnection,
        /// The group writer commands' writes go through (see `sqlite_group`).
        group: tokio::sync::mpsc::Sender<crate::commands::sqlite_group::Job>,
    },
    /// PostgreSQL.
    Postgres {
        /// Connections commands hold for all of their statements (see `pg_commands`).
        commands: crate::commands::pg_commands::Pool,
    },
}

impl Backend {
    /// Which database this is.
    pub(crate) fn kind(&self) -> BackendKind {
        match self {
            Backend::Sqlite { .. } => BackendKind::Sqlite,
            Backend::Postgres { .. } => BackendKind::Postgres,
        }
    }
}

pub(crate) struct Inner {
    pub(crate) db: DatabaseConnection,
    pub(crate) backend: Backend,
    pub(crate) workflows: RwLock<HashMap<(String, i32), Arc<Workflow>>>,
    pub(crate) calendars: Calendars,
    pub(crate) clock: Box<Clock>,
    pub(crate) events: broadcast::Sender<EventRecord>,
    /// Authenticated keys, remembered while revocations are heard (see `keys`).
    pub(crate) keys: crate::directory::key_cache::KeyCache,
    /// Applications as this process's last commands left them (see `warm`).
    pub(crate) warm: crate::commands::warm::Warm,
    /// PostgreSQL: each workflow's version this process last submitted to; a submission
    /// checks in its statement that it is still the current one.
    pub(crate) versions: std::sync::Mutex<HashMap<String, i32>>,
    /// The keys secrets at rest are sealed with (see `sealed`).
    pub(crate) secrets: std::sync::OnceLock<crate::directory::sealed::SecretKeys>,
}

/// The store. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.inner.backend.kind())
            .finish_non_exhaustive()
    }
}

/// Connections each PostgreSQL pool (queries, commands) grows to unless told otherwise.
pub const DEFAULT_POOL_SIZE: u32 = 20;

impl Store {
    /// Connects and applies pending migrations.
    pub async fn open(url: &str) -> Result<Self> {
        Self::open_with_calendars(url, Calendars::builtin()).await
    }

    /// Connects and applies pending migrations; due dates count working days of `calendars`.
    pub async fn open_with_calendars(url: &str, calendars: Calendars) -> Result<Self> {
        let store = Self::connect_with_calendars(url, calendars).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without migrating. `sqlite://softland.db?mode=rwc` or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with_calendars(url, Calendars::builtin()).await
    }

    /// The holiday calendars due dates are counted with.
    pub fn calendars(&self) -> &Calendars {
        &self.inner.calendars
    }

    async fn connect_with_calendars(url: &str, calendars: Calendars) -> Result<Self> {
        Self::connect_with(url, calendars, DEFAULT_POOL_SIZE).await
    }

    /// Opens (migrating) with `pool_size` connections at most in each PostgreSQL pool (queries,
    /// commands); SQLite keeps its own sizes.
    pub async fn open_with_pool(url: &str, calendars: Calendars, pool_size: u32) -> Result<Self> {
        let store = Self::connect_with(url, calendars, pool_size.clamp(2, 500)).await?;
        store.migrate().await?;
        Ok(store)
    }

    async fn connect_with(url: &str, calendars: Calendars, pool_size: u32) -> Result<Self> {
        let kind = if url.starts_with("sqlite:") {
            BackendKind::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            BackendKind::Postgres
        } else {
            return Err(Error::UnsupportedUrl(url.to_owned()));
        };
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.sqlx_logging(false)
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(5))
            // sqlx pings a connection on every checkout by default: a second round trip per
            // statement. Only connections idle for 30 s (which a server or firewall may have
            // dropped) are pinged now; a broken one still surfaces as a retried error.
            .test_before_acquire_if_idle_for(Duration::from_secs(30));
        match kind {
            BackendKind::Sqlite => {
                opts.max_connections(8)
                    .min_connections(1)
                    .map_sqlx_sqlite_opts(|o| {
                        o.journal_mode(SqliteJournalMode::Wal)
                            .synchronous(SqliteSynchronous::Full)
                            .busy_timeout(Duration::from_secs(10))
                            .foreign_keys(true)
                    });
            }
            BackendKind::Postgres => {
                // Queries; commands have a pool of their own of the same size.
                opts.max_connections(pool_size).min_connections(1);
            }
        }
        let backend = match kind {
            BackendKind::Postgres => Backend::Postgres {
                commands: crate::commands::pg_commands::pool(
                    url,
                    pool_size as usize,
                    Duration::from_secs(5),
                )?,
            },
            BackendKind::Sqlite => {
                let mut w = opts.clone();
                w.max_connections(1).min_connections(1);
                let writer = Database::connect(w).await?;
                let group = crate::commands::sqlite_group::spawn_group_writer(
                    writer.get_sqlite_connection_pool().clone(),
                );
                Backend::Sqlite { writer, group }
            }
        };
        let db = Database::connect(opts).await?;
        if kind == BackendKind::Sqlite {
            owner_only_files(url);
        }
        let (events, _) = broadcast::channel(4096);
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                backend,
                workflows: RwLock::new(HashMap::new()),
                calendars,
                clock: Box::new(Utc::now),
                events,
                keys: Default::default(),
                warm: Default::default(),
                versions: Default::default(),
                secrets: Default::default(),
            }),
        })
    }

    /// Applies pending migrations, then the rewrites of stored data they leave to the store
    /// (`upgrade.rs`).
    pub async fn migrate(&self) -> Result<()> {
        Migrator::up(&self.inner.db, None).await?;
        self.upgrade().await?;
        self.count_days_of_every_agency().await
    }

    /// Names of the migrations not yet applied.
    pub async fn pending_migrations(&self) -> Result<Vec<String>> {
        let pending = Migrator::get_pending_migrations(&self.inner.db).await?;
        Ok(pending.iter().map(|m| m.name().to_owned()).collect())
    }

    /// Whether the database answers and takes writes: a PostgreSQL server in recovery (a
    /// standby, or a primary being demoted in a switchover) is refused as `Unavailable`.
    pub async fn ping(&self) -> Result<()> {
        match self.backend() {
            BackendKind::Sqlite => self.inner.db.ping().await?,
            BackendKind::Postgres => {
                let standby = self
                    .inner
                    .db
                    .query_one_raw(Statement::from_string(
                        DbBackend::Postgres,
                        "SELECT pg_is_in_recovery() AS standby",
                    ))
                    .await?
                    .map(|row| row.try_get::<bool>("", "standby"))
                    .transpose()?
                    .unwrap_or(true);
                if standby {
                    return Err(Error::Unavailable(
                        "the database is a standby (read-only)".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Which database this is.
    pub fn backend(&self) -> BackendKind {
        self.inner.backend.kind()
    }

    /// Replaces the clock (tests and simulations).
    pub fn with_clock(
        self,
        clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static,
    ) -> Result<Self> {
        let inner = Arc::try_unwrap(self.inner).map_err(|_| {
            Error::Corrupt("the clock can only be set before the store is shared".into())
        })?;
        Ok(Self {
            inner: Arc::new(Inner {
                clock: Box::new(clock),
                ..inner
            }),
        })
    }

    /// Every committed event, from any process, as the outbox relay
    /// ([`Store::spawn_outbox_relay`]) finds it (for subscriptions).
    pub fn subscribe(&self) -> broadcast::Receiver<EventRecord> {
        self.inner.events.subscribe()
    }

    /// The store's clock (a test moves it).
    pub fn now(&self) -> DateTime<Utc> {
        (self.inner.clock)()
    }

    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.inner.db
    }

    /// PostgreSQL: opens up to `n` command connections now (at most the pool's size), so that
    /// the first commands after a start do not each wait for a connection to be made; returns
    /// how many are open. SQLite has none to open (0).
    pub async fn open_command_connections(&self, n: usize) -> Result<usize> {
        let Backend::Postgres { commands: pool } = &self.inner.backend else {
            return Ok(0);
        };
        let mut opening = tokio::task::JoinSet::new();
        for _ in 0..n.min(pool.status().max_size) {
            let pool = pool.clone();
            opening.spawn(async move { crate::commands::pg_commands::Held::get(&pool).await });
        }
        // All are held until the last is open, so each one is a new connection.
        let mut open = Vec::new();
        while let Some(joined) = opening.join_next().await {
            let held =
                joined.map_err(|e| Error::Unavailable(format!("opening a connection: {e}")))?;
            open.push(held?);
        }
        Ok(pool.status().size)
    }

    /// Where write transactions run (see [`Inner::writer`]).
    pub(crate) fn writer(&self) -> &DatabaseConnection {
        match &self.inner.backend {
            Backend::Sqlite { writer, .. } => writer,
            Backend::Postgres { .. } => &self.inner.db,
        }
    }

    /// Closes the pool (waits for connections to be returned).
    pub async fn close(self) -> Result<()> {
        if let Ok(inner) = Arc::try_unwrap(self.inner) {
            match inner.backend {
                Backend::Sqlite { writer, group } => {
                    drop(group);
                    writer.close().await?;
                }
                Backend::Postgres { commands } => {
                    crate::commands::pg_commands::close(&commands).await
                }
            }
            inner.db.close().await?;
        }
        Ok(())
    }
}

/// A SQLite database file (and its journal files) readable by its owner only: it holds every
/// application. Best effort — a file softland cannot change is left as it is, and said so.
fn owner_only_files(url: &str) {
    use std::os::unix::fs::PermissionsExt;
    let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or_default())
        .filter(|p| !p.is_empty() && !p.contains(":memory:"))
    else {
        return;
    };
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{path}{suffix}");
        if std::path::Path::new(&file).is_file()
            && let Err(e) = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
        {
            tracing::warn!(file, error = %e, "cannot make the database file owner-only");
        }
    }
}
