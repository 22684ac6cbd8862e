//! The store test suite. Every scenario runs on SQLite, and on PostgreSQL when
//! `SOFTLAND_TEST_POSTGRES_URL` is set (the PostgreSQL variants are `#[ignore]`d otherwise;
//! CI runs them with `--include-ignored`), each in its own fresh database.
#![allow(clippy::unwrap_used)]

mod scenarios;

use softland_store::test_util::TestDb;

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = TestDb::sqlite();
                    scenarios::$name(&db).await;
                }
            )*
        }
        mod postgres {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                #[ignore = "PostgreSQL: set SOFTLAND_TEST_POSTGRES_URL and pass --include-ignored (CI does)"]
                async fn $name() {
                    let db = TestDb::postgres().await;
                    scenarios::$name(&db).await;
                }
            )*
        }
    };
}

on_both_backends!(
    publishing_versions_and_pinning,
    a_whole_application_is_persisted_and_audited,
    concurrent_actions_on_one_task_have_one_winner,
    concurrent_actions_on_sibling_tasks_both_succeed,
    stale_expected_revision_is_a_conflict,
    idempotent_submissions_never_duplicate,
    idempotent_actions_apply_once,
    claims_release_and_delegation,
    timers_fire_exactly_once,
    inbox_and_lists_paginate_by_keyset,
    withdrawal_closes_tasks_and_timers,
    wide_commands_write_every_row,
    doctor_detects_tampering,
    events_stored_with_state_indexes_are_named_and_still_verify,
    doctor_detects_edited_columns,
    the_folder_never_undoes_an_administrator,
    idempotency_keys_belong_to_one_organization,
    audit_export_writes_every_event,
    the_audit_export_reads_busy_and_quiet_stretches,
    the_audit_head_is_the_last_commands_last_entry,
    two_processes_one_winner,
    the_relay_publishes_what_any_process_commits,
    tasks_of_others_are_refused_first,
    bulk_loaded_applications_are_sound,
    outcomes_list_the_open_tasks_the_database_holds,
    revoked_keys_stop_working_on_every_server,
    the_directory_holds_agencies_and_people,
    keys_expire_and_die_with_their_person,
    workflows_naming_unknown_agencies_are_refused,
    keys_made_before_the_directory_become_people,
    the_outbox_migration_goes_down_and_up,
    other_processes_claim_close_and_advance,
    commands_committed_together_stand_alone,
    command_connections_open_ahead,
    the_dashboard_counts_open_overdue_and_step_times,
    reports_keep_facts_and_measure_what_changed,
    erasure_keeps_shared_content_and_the_sweep_takes_old_uploads,
    an_application_holds_a_bounded_number_of_documents,
    each_command_is_fanned_out_once_and_deliveries_keep_their_order,
    hosts_are_found_for_a_page_at_once,
);
