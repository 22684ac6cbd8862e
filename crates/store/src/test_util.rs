//! Fresh databases for tests: a temporary SQLite file, or a newly created PostgreSQL database
//! (named after a UUID) on the server in `SOFTLAND_TEST_POSTGRES_URL`.

use sea_orm::{ConnectionTrait, Database};
use uuid::Uuid;

use crate::Store;

/// The variable naming the PostgreSQL server for tests.
pub const POSTGRES_ENV: &str = "SOFTLAND_TEST_POSTGRES_URL";

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDb {
    /// Its URL.
    pub url: String,
    path: Option<std::path::PathBuf>,
    /// `(server URL, database name)` of a PostgreSQL database to drop afterwards.
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// A new SQLite database in a temporary file.
    pub fn sqlite() -> Self {
        let path = std::env::temp_dir().join(format!("softland-test-{}.db", Uuid::new_v4()));
        Self {
            url: format!("sqlite://{}?mode=rwc", path.display()),
            path: Some(path),
            postgres: None,
        }
    }

    /// A new, empty PostgreSQL database. Panics when the variable is unset or the server is
    /// unreachable: a PostgreSQL test must never pass without PostgreSQL.
    pub async fn postgres() -> Self {
        let admin = std::env::var(POSTGRES_ENV).unwrap_or_else(|_| {
            panic!("{POSTGRES_ENV} is not set: PostgreSQL tests need a server (CI sets it)")
        });
        Self::postgres_on(&admin).await
    }

    /// A new, empty PostgreSQL database on the server `admin` connects to (a highly available
    /// cluster's proxy, say). Panics when the server is unreachable.
    pub async fn postgres_on(admin: &str) -> Self {
        let admin = admin.to_owned();
        let name = format!("softland_test_{}", Uuid::new_v4().simple());
        let db = Database::connect(admin.as_str())
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is unreachable: {e}"));
        db.execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        let _ = db.close().await;
        let base = admin.split('?').next().unwrap_or(&admin);
        let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
        Self {
            url: format!("{base}/{name}"),
            path: None,
            postgres: Some((admin.clone(), name)),
        }
    }

    /// Opens the store (migrated).
    pub async fn open(&self) -> Store {
        Store::open(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", self.url))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.postgres.take() {
            // Drop is not async: a short-lived thread with its own runtime drops the database
            // (FORCE closes connections a test left open).
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async {
                    if let Ok(db) = Database::connect(admin.as_str()).await {
                        let _ = db
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await;
                        let _ = db.close().await;
                    }
                });
            })
            .join();
        }
        if let Some(path) = &self.path {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
}

/// Rewrites an application's events as softland stored them before events named their states
/// — each state as its index in the workflow version, the chain hashed over that payload —
/// and marks the `event-state-names` upgrade pending again: a database from then, migrated.
/// Open a new [`Store`] afterwards (opening upgrades it; a store's memory of its own last
/// writes would not know of this rewrite).
pub async fn as_before_state_names(store: &Store, app: Uuid) {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

    use crate::entity::{application, event, upgrade};
    use crate::hash::{genesis, link};

    let db = store.db();
    let row = application::Entity::find_by_id(app)
        .one(db)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("no application {app}"));
    let wf = store
        .workflow(&row.workflow_key, row.workflow_version)
        .await
        .unwrap_or_else(|e| panic!("its workflow: {e}"));
    let events = event::Entity::find()
        .filter(event::Column::ApplicationId.eq(app))
        .order_by_asc(event::Column::Seq)
        .all(db)
        .await
        .unwrap_or_else(|e| panic!("its events: {e}"));
    let mut prev = genesis(app);
    for e in events {
        let mut v: serde_json::Value =
            serde_json::from_str(&e.payload).unwrap_or_else(|e| panic!("payload: {e}"));
        for key in ["state", "to"] {
            if let Some(name) = v.get(key).and_then(|n| n.as_str()) {
                let index = wf
                    .state_id(name)
                    .unwrap_or_else(|| panic!("no state {name}"))
                    .index();
                v[key] = index.into();
            }
        }
        let payload = v.to_string();
        let hash = link(&prev, e.seq, &payload);
        event::Entity::update_many()
            .col_expr(event::Column::Payload, Expr::value(payload))
            .col_expr(event::Column::PrevHash, Expr::value(prev))
            .col_expr(event::Column::Hash, Expr::value(hash.clone()))
            .filter(event::Column::Id.eq(e.id))
            .exec(db)
            .await
            .unwrap_or_else(|e| panic!("rewrite: {e}"));
        prev = hash;
    }
    application::Entity::update_many()
        .col_expr(application::Column::LastHash, Expr::value(prev))
        .filter(application::Column::Id.eq(app))
        .exec(db)
        .await
        .unwrap_or_else(|e| panic!("last hash: {e}"));
    upgrade::Entity::update_many()
        .col_expr(
            upgrade::Column::AppliedAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(upgrade::Column::Name.eq("event-state-names"))
        .exec(db)
        .await
        .unwrap_or_else(|e| panic!("upgrade row: {e}"));
}
