//! Searching by a firm's name finds it by any of its names — English, Traditional or
//! Simplified Chinese — or its key (issue 30: "Pengcheng Pay", "鵬程" and "pengcheng-pay" all
//! find `pengcheng-pay`). The indexes of `m20261128_000004` covered the English name only.
//!
//! - PostgreSQL: the `pg_trgm` GIN index moves to the expression the search matches with
//!   `LIKE`: every name and the key, lower-cased, in one text.
//! - SQLite: the FTS5 trigram table gets a column for each name and the key, kept by triggers.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES_UP: [&str; 2] = [
    "DROP INDEX IF EXISTS ix_organizations_name_trgm",
    "CREATE INDEX ix_organizations_names_trgm ON organizations \
     USING gin ((lower(key || ' ' || name || ' ' || coalesce(name_zh_hant, '') || ' ' || coalesce(name_zh_hans, ''))) gin_trgm_ops) \
     WITH (fastupdate = off)",
];

const SQLITE_UP: [&str; 9] = [
    "DROP TRIGGER organization_names_update",
    "DROP TRIGGER organization_names_delete",
    "DROP TRIGGER organization_names_insert",
    "DROP TABLE organization_names",
    "CREATE VIRTUAL TABLE organization_names USING fts5(\
     key UNINDEXED, slug, name, name_zh_hant, name_zh_hans, tokenize='trigram')",
    "CREATE TRIGGER organization_names_insert AFTER INSERT ON organizations BEGIN \
     INSERT INTO organization_names (key, slug, name, name_zh_hant, name_zh_hans) \
     VALUES (new.key, new.key, new.name, new.name_zh_hant, new.name_zh_hans); END",
    "CREATE TRIGGER organization_names_delete AFTER DELETE ON organizations BEGIN \
     DELETE FROM organization_names WHERE key = old.key; END",
    "CREATE TRIGGER organization_names_update AFTER UPDATE OF key, name, name_zh_hant, name_zh_hans \
     ON organizations BEGIN \
     UPDATE organization_names SET key = new.key, slug = new.key, name = new.name, \
     name_zh_hant = new.name_zh_hant, name_zh_hans = new.name_zh_hans WHERE key = old.key; END",
    "INSERT INTO organization_names (key, slug, name, name_zh_hant, name_zh_hans) \
     SELECT key, key, name, name_zh_hant, name_zh_hans FROM organizations",
];

const SQLITE_DOWN: [&str; 8] = [
    "DROP TRIGGER organization_names_update",
    "DROP TRIGGER organization_names_delete",
    "DROP TRIGGER organization_names_insert",
    "DROP TABLE organization_names",
    "CREATE VIRTUAL TABLE organization_names USING fts5(\
     key UNINDEXED, name, tokenize='trigram')",
    "CREATE TRIGGER organization_names_insert AFTER INSERT ON organizations BEGIN \
     INSERT INTO organization_names (key, name) VALUES (new.key, new.name); END",
    "CREATE TRIGGER organization_names_delete AFTER DELETE ON organizations BEGIN \
     DELETE FROM organization_names WHERE key = old.key; END",
    "CREATE TRIGGER organization_names_update AFTER UPDATE OF key, name ON organizations BEGIN \
     UPDATE organization_names SET key = new.key, name = new.name WHERE key = old.key; END",
];

const POSTGRES_DOWN: [&str; 2] = [
    "DROP INDEX ix_organizations_names_trgm",
    "CREATE INDEX ix_organizations_name_trgm ON organizations \
     USING gin (lower(name) gin_trgm_ops) WITH (fastupdate = off)",
];

/// Runs `statements` as one script, on one connection: dropping and re-creating triggers on
/// several pooled SQLite connections could prepare a `CREATE` against another connection's
/// stale schema ("trigger … already exists").
async fn run(m: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    m.get_connection()
        .execute_unprepared(&statements.join(";\n"))
        .await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        match m.get_database_backend() {
            DbBackend::Postgres => run(m, &POSTGRES_UP).await,
            DbBackend::Sqlite => run(m, &SQLITE_UP).await,
            _ => Err(DbErr::Migration("MySQL is not supported".into())),
        }
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        match m.get_database_backend() {
            DbBackend::Postgres => run(m, &POSTGRES_DOWN).await,
            DbBackend::Sqlite => {
                run(m, &SQLITE_DOWN).await?;
                run(
                    m,
                    &["INSERT INTO organization_names (key, name) SELECT key, name FROM organizations"],
                )
                .await
            }
            _ => Err(DbErr::Migration("MySQL is not supported".into())),
        }
    }
}
