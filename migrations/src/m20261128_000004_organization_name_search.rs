//! A trigram index over organization names, so that searching applications by a piece of the
//! applicant's name finds the few organizations that match without reading every name
//! (issue 13: the search grew 6× on SQLite and 248× on PostgreSQL from 10 000 to 1 000 000
//! applications).
//!
//! - PostgreSQL: `pg_trgm` (a contrib extension, trusted since PostgreSQL 13: the database's
//!   owner may create it) and a GIN index on `lower(name)`, the expression the query matches
//!   with `LIKE`. ANALYZE keeps statistics on the indexed expression, so the planner knows how
//!   few organizations a piece of a name matches and reads their applications through
//!   `ix_applications_org_id` instead of walking every application in id order. The index
//!   takes each new name at once (`fastupdate = off`): with GIN's pending list, the names of
//!   firms added since the last VACUUM were read one by one by every search (1.4 ms of a
//!   1.9 ms search at a million applications, 0.09 ms once merged), and organizations are
//!   added far less often than searched.
//! - SQLite: an FTS5 table with the trigram tokenizer (case-insensitive) holding each
//!   organization's key and name, kept up to date by triggers. It keeps its own copy rather
//!   than pointing at `organizations`' rowids, which VACUUM may renumber (the key is no
//!   integer); renaming or removing an organization, which is rare, reads the whole table.
//!
//! Either index answers pieces of three characters or more; shorter pieces are read by
//! scanning the names, as before.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES_UP: [&str; 2] = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_organizations_name_trgm ON organizations \
     USING gin (lower(name) gin_trgm_ops) WITH (fastupdate = off)",
];

const SQLITE_UP: [&str; 5] = [
    "CREATE VIRTUAL TABLE organization_names USING fts5(\
     key UNINDEXED, name, tokenize='trigram')",
    "CREATE TRIGGER organization_names_insert AFTER INSERT ON organizations BEGIN \
     INSERT INTO organization_names (key, name) VALUES (new.key, new.name); END",
    "CREATE TRIGGER organization_names_delete AFTER DELETE ON organizations BEGIN \
     DELETE FROM organization_names WHERE key = old.key; END",
    "CREATE TRIGGER organization_names_update AFTER UPDATE OF key, name ON organizations BEGIN \
     UPDATE organization_names SET key = new.key, name = new.name WHERE key = old.key; END",
    "INSERT INTO organization_names (key, name) SELECT key, name FROM organizations",
];

const SQLITE_DOWN: [&str; 4] = [
    "DROP TRIGGER organization_names_update",
    "DROP TRIGGER organization_names_delete",
    "DROP TRIGGER organization_names_insert",
    "DROP TABLE organization_names",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let statements: &[&str] = match m.get_database_backend() {
            DbBackend::Postgres => &POSTGRES_UP,
            DbBackend::Sqlite => &SQLITE_UP,
            _ => return Err(DbErr::Migration("MySQL is not supported".into())),
        };
        for sql in statements {
            m.get_connection().execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let statements: &[&str] = match m.get_database_backend() {
            // The extension stays: other schemas of the database may use it.
            DbBackend::Postgres => &["DROP INDEX ix_organizations_name_trgm"],
            DbBackend::Sqlite => &SQLITE_DOWN,
            _ => return Err(DbErr::Migration("MySQL is not supported".into())),
        };
        for sql in statements {
            m.get_connection().execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
