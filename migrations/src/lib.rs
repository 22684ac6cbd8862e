//! softland's database schema as sea-orm migrations, applied by `softland migrate` and at start.
//!
//! Each migration is one self-contained file with its own identifiers: it imports no entity, so
//! it still compiles when the entities change.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_initial;
mod m20261125_000001_outbox_per_command;
mod m20261128_000001_event_state_names;
mod m20261128_000002_task_workflow;
mod m20261128_000003_list_indexes;
mod m20261128_000004_organization_name_search;
mod m20261129_000001_directory;
mod m20261129_000002_sessions;
mod m20261129_000003_sign_in_issuer;
mod m20261129_000004_documents;
mod m20261129_000005_notifications;
mod m20261129_000006_outbox_unannounced_index;
mod m20261129_000007_sqlite_open_task_indexes;
mod m20261206_000001_session_keys;
mod m20261206_000002_organization_names_all;
mod m20261206_000003_application_numbers;
mod m20261206_000004_people_actions;
mod m20261207_000001_migration_plans;
mod m20261207_000002_report_facts;
mod m20261208_000001_places;
mod m20261208_000002_intakes;
mod m20261208_000003_student_profiles;
mod m20261209_000001_write_diet;
mod m20261210_000001_events_at_brin;

/// Every migration, in order.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_initial::Migration),
            Box::new(m20261125_000001_outbox_per_command::Migration),
            Box::new(m20261128_000001_event_state_names::Migration),
            Box::new(m20261128_000002_task_workflow::Migration),
            Box::new(m20261128_000003_list_indexes::Migration),
            Box::new(m20261128_000004_organization_name_search::Migration),
            Box::new(m20261129_000001_directory::Migration),
            Box::new(m20261129_000002_sessions::Migration),
            Box::new(m20261129_000003_sign_in_issuer::Migration),
            Box::new(m20261129_000004_documents::Migration),
            Box::new(m20261129_000005_notifications::Migration),
            Box::new(m20261129_000006_outbox_unannounced_index::Migration),
            Box::new(m20261129_000007_sqlite_open_task_indexes::Migration),
            Box::new(m20261206_000001_session_keys::Migration),
            Box::new(m20261206_000002_organization_names_all::Migration),
            Box::new(m20261206_000003_application_numbers::Migration),
            Box::new(m20261206_000004_people_actions::Migration),
            Box::new(m20261207_000001_migration_plans::Migration),
            Box::new(m20261207_000002_report_facts::Migration),
            Box::new(m20261208_000001_places::Migration),
            Box::new(m20261208_000002_intakes::Migration),
            Box::new(m20261208_000003_student_profiles::Migration),
            Box::new(m20261209_000001_write_diet::Migration),
            Box::new(m20261210_000001_events_at_brin::Migration),
        ]
    }
}
