//! The console's own words in three languages, and times in Hong Kong time.
//!
//! Each language is one [`Text`] value: a word missing in one language is a compile error, not
//! an English word in a Chinese page. The workflows' labels (titles of workflows, states and
//! actions) come translated from the API itself (`Accept-Language`, see the gateway's locale
//! module); form labels from the form schema (see [`crate::form`]).

mod en;
mod zh_hans;
mod zh_hant;

pub use en::EN;
pub use zh_hans::ZH_HANS;
pub use zh_hant::ZH_HANT;

use chrono::{DateTime, FixedOffset, Utc};
use softland_workflow::Lang;

/// Every word the console's pages say.
#[derive(Debug)]
pub struct Text {
    pub skip: &'static str,
    pub nav_inbox: &'static str,
    pub nav_applications: &'static str,
    pub nav_new: &'static str,
    pub nav_workflows: &'static str,
    pub sign_in: &'static str,
    pub sign_in_intro: &'static str,
    pub sign_out: &'static str,
    pub api_key: &'static str,
    pub api_key_hint: &'static str,
    pub sign_in_with_provider: &'static str,
    pub sign_in_failed: &'static str,
    pub signed_in_as: &'static str,
    pub language: &'static str,
    pub inbox_title: &'static str,
    pub tasks: &'static str,
    pub task_one: &'static str,
    pub overdue: &'static str,
    pub due_soon: &'static str,
    pub due: &'static str,
    pub opened: &'static str,
    pub created: &'static str,
    pub claimed_by: &'static str,
    pub nobody: &'static str,
    pub task: &'static str,
    pub firm: &'static str,
    pub reference: &'static str,
    pub workflow: &'static str,
    pub filter: &'static str,
    pub claim_any: &'static str,
    pub claim_me: &'static str,
    pub claim_nobody: &'static str,
    pub overdue_any: &'static str,
    pub overdue_only: &'static str,
    pub not_overdue: &'static str,
    pub order_due: &'static str,
    pub order_opened: &'static str,
    pub empty_inbox: &'static str,
    pub live_note: &'static str,
    pub applications_title: &'static str,
    pub status: &'static str,
    pub submitted: &'static str,
    pub updated: &'static str,
    pub where_it_stands: &'static str,
    pub outcome: &'static str,
    pub status_active: &'static str,
    pub status_completed: &'static str,
    pub status_withdrawn: &'static str,
    pub any_status: &'static str,
    pub no_applications: &'static str,
    pub new_title: &'static str,
    pub apply: &'static str,
    pub submit: &'static str,
    pub draft_note: &'static str,
    pub required: &'static str,
    pub add_item: &'static str,
    pub remove_item: &'static str,
    pub choose: &'static str,
    pub form_has_errors: &'static str,
    pub open_tasks: &'static str,
    pub assigned_to: &'static str,
    pub applicant: &'static str,
    pub claim: &'static str,
    pub release: &'static str,
    pub asked: &'static str,
    pub barred_action: &'static str,
    pub take_over: &'static str,
    pub barred_you: &'static str,
    pub barred_holder: &'static str,
    pub comment: &'static str,
    pub note: &'static str,
    pub the_form: &'static str,
    pub history: &'static str,
    pub withdraw: &'static str,
    pub withdraw_reason: &'static str,
    pub add_note: &'static str,
    pub internal: &'static str,
    pub by: &'static str,
    pub system: &'static str,
    pub refused_forbidden: &'static str,
    /// `{step}` stands for the earlier step's title.
    pub four_eyes: &'static str,
    pub v_required: &'static str,
    pub v_pattern: &'static str,
    pub v_min_length: &'static str,
    pub v_max_length: &'static str,
    pub v_minimum: &'static str,
    pub v_maximum: &'static str,
    pub v_min_items: &'static str,
    pub v_max_items: &'static str,
    pub v_date: &'static str,
    pub v_email: &'static str,
    pub v_uri: &'static str,
    pub v_enum: &'static str,
    pub v_type: &'static str,
    pub v_unknown: &'static str,
    pub v_document: &'static str,
    pub v_other: &'static str,
    pub whole_form: &'static str,
    pub refused_conflict: &'static str,
    pub refused_other: &'static str,
    pub not_found: &'static str,
    pub back: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub hkt: &'static str,
    pub edit_workflow: &'static str,
    pub new_workflow: &'static str,
    pub validate: &'static str,
    pub publish: &'static str,
    pub retire: &'static str,
    pub retired: &'static str,
    pub not_for_you: &'static str,
    pub membership_none: &'static str,
    pub membership_required: &'static str,
    pub unretire: &'static str,
    pub cancel: &'static str,
    pub retire_question: &'static str,
    pub retire_only_open: &'static str,
    pub retire_older: &'static str,
    pub workflow_retired_notice: &'static str,
    pub withdraw_question: &'static str,
    pub withdraw_consequence: &'static str,
    pub in_use: &'static str,
    pub version: &'static str,
    pub versions: &'static str,
    pub key: &'static str,
    pub source: &'static str,
    pub diagram: &'static str,
    pub states: &'static str,
    pub no_problems: &'static str,
    pub problems_found: &'static str,
    /// `{line}` and `{column}` stand for the numbers.
    pub at_place: &'static str,
    /// `{column}` stands for the number.
    pub at_column: &'static str,
    pub nav_directory: &'static str,
    pub nav_audit: &'static str,
    pub audit_intro: &'static str,
    pub audit_download: &'static str,
    pub audit_from: &'static str,
    pub audit_to: &'static str,
    pub audit_when: &'static str,
    pub audit_who: &'static str,
    pub audit_what: &'static str,
    pub audit_about: &'static str,
    pub audit_none: &'static str,
    pub audit_application: &'static str,
    pub a_claim: &'static str,
    pub a_release: &'static str,
    pub a_hand_over: &'static str,
    pub a_put_person: &'static str,
    pub a_deactivate_person: &'static str,
    pub a_create_key: &'static str,
    pub a_revoke_key: &'static str,
    pub a_put_agency: &'static str,
    pub a_put_organization: &'static str,
    pub a_publish: &'static str,
    pub a_retire: &'static str,
    pub a_unretire: &'static str,
    pub a_load_directory: &'static str,
    pub api_keys: &'static str,
    pub agencies: &'static str,
    pub organizations: &'static str,
    pub people: &'static str,
    pub put_agency: &'static str,
    pub put_organization: &'static str,
    pub put_person: &'static str,
    pub deactivate: &'static str,
    pub active: &'static str,
    pub inactive: &'static str,
    pub roles: &'static str,
    pub email: &'static str,
    pub display_name: &'static str,
    pub person_id: &'static str,
    pub membership: &'static str,
    pub service_account: &'static str,
    pub region: &'static str,
    pub role_admin: &'static str,
    pub role_lead: &'static str,
    pub role_reviewer: &'static str,
    pub role_staff: &'static str,
    pub region_hk: &'static str,
    pub region_mainland: &'static str,
    pub calendar: &'static str,
    pub inbox_email: &'static str,
    pub name_en: &'static str,
    pub name_zh_hant: &'static str,
    pub name_zh_hans: &'static str,
    pub registration_number: &'static str,
    pub create_key: &'static str,
    pub label: &'static str,
    pub expires: &'static str,
    pub revoke: &'static str,
    pub revoked: &'static str,
    pub token_once: &'static str,
    pub save: &'static str,
    pub keys: &'static str,
    pub delegate: &'static str,
    pub delegate_to: &'static str,
    pub dashboard: &'static str,
    pub open_by_agency: &'static str,
    pub time_per_step: &'static str,
    pub no_steps_yet: &'static str,
    pub completed_tasks: &'static str,
    pub median: &'static str,
    pub mean: &'static str,
    pub hours: &'static str,
    pub days: &'static str,
    pub minutes: &'static str,
    pub seconds: &'static str,
    pub order: &'static str,
    pub now: &'static str,
    pub branch_done: &'static str,
    pub all_workflows: &'static str,
    pub documents: &'static str,
    pub upload_document: &'static str,
    pub upload_hint: &'static str,
    pub upload: &'static str,
    pub ev_submitted: &'static str,
    pub ev_entered: &'static str,
    pub ev_task_opened: &'static str,
    pub ev_task_completed: &'static str,
    pub ev_completed: &'static str,
    pub ev_withdrawn: &'static str,
    pub ev_note_added: &'static str,
    pub ev_reassigned: &'static str,
    pub ev_cancelled: &'static str,
    pub ev_overdue: &'static str,
    pub ev_document_linked: &'static str,
    pub ev_clock_paused: &'static str,
    pub ev_clock_resumed: &'static str,
    pub ev_migrated: &'static str,
    pub mig_title: &'static str,
    pub mig_intro: &'static str,
    pub mig_none: &'static str,
    pub mig_versions: &'static str,
    pub mig_made_by: &'static str,
    pub mig_approved_by: &'static str,
    pub mig_not_approved: &'static str,
    pub mig_moved: &'static str,
    pub mig_new: &'static str,
    pub mig_from: &'static str,
    pub mig_to: &'static str,
    pub mig_mappings: &'static str,
    pub mig_mappings_hint: &'static str,
    pub mig_timers: &'static str,
    pub mig_keep_elapsed: &'static str,
    pub mig_restart: &'static str,
    pub mig_dry_run: &'static str,
    pub mig_bad_line: &'static str,
    pub mig_same_names: &'static str,
    pub mig_only_state: &'static str,
    pub mig_only_listed: &'static str,
    pub mig_last_run: &'static str,
    pub mig_hash: &'static str,
    pub mig_dry_run_now: &'static str,
    pub mig_counts: &'static str,
    pub mig_approve: &'static str,
    pub mig_four_eyes: &'static str,
    pub mig_run: &'static str,
    pub mig_nothing: &'static str,
    pub mig_application: &'static str,
    pub mig_where: &'static str,
    pub mig_answer: &'static str,
    pub mig_will_move: &'static str,
    pub mig_first_shown: &'static str,
    pub mig_link: &'static str,
    pub mig_changes: &'static str,
    pub mig_changes_hint: &'static str,
    pub mig_bad_change: &'static str,
    pub waiting_on_firm: &'static str,
    pub waiting_clock: &'static str,
    pub waiting_clock_time: &'static str,
}

/// The words of `lang`.
pub fn text(lang: Lang) -> &'static Text {
    match lang {
        Lang::En => &EN,
        Lang::ZhHant => &ZH_HANT,
        Lang::ZhHans => &ZH_HANS,
    }
}

/// Each language's name in itself, for the switch on every page.
pub fn endonym(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "English",
        Lang::ZhHant => "繁體中文",
        Lang::ZhHans => "简体中文",
    }
}

/// Hong Kong time (UTC+8 all year: Hong Kong keeps no daylight saving).
fn hong_kong() -> FixedOffset {
    softland_workflow::HONG_KONG
}

/// `2026-11-29 14:05 HKT` (the zone in the page's language).
pub fn hk_time(at: &DateTime<Utc>, t: &Text) -> String {
    format!(
        "{} {}",
        at.with_timezone(&hong_kong()).format("%Y-%m-%d %H:%M"),
        t.hkt
    )
}

/// A property or kind name in words: `unified_social_credit_code` → `Unified social credit code`.
pub fn humanize(name: &str) -> String {
    let words = name.replace(['_', '-'], " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// What an audit-log entry's `kind` means, in words (a kind this build does not know, by its
/// name).
pub fn event_kind(kind: &str, t: &Text) -> String {
    use softland_workflow::EventName as K;
    let Some(known) = K::parse(kind) else {
        return humanize(kind);
    };
    match known {
        K::Submitted => t.ev_submitted.to_owned(),
        K::Entered => t.ev_entered.to_owned(),
        K::TaskOpened => t.ev_task_opened.to_owned(),
        K::TaskCompleted => t.ev_task_completed.to_owned(),
        K::Completed => t.ev_completed.to_owned(),
        K::Withdrawn => t.ev_withdrawn.to_owned(),
        K::NoteAdded => t.ev_note_added.to_owned(),
        K::TaskReassigned => t.ev_reassigned.to_owned(),
        K::TaskCancelled => t.ev_cancelled.to_owned(),
        K::TaskOverdue => t.ev_overdue.to_owned(),
        K::DocumentLinked => t.ev_document_linked.to_owned(),
        K::ClockPaused => t.ev_clock_paused.to_owned(),
        K::ClockResumed => t.ev_clock_resumed.to_owned(),
        K::Migrated => t.ev_migrated.to_owned(),
        K::Exited | K::ChoiceMade | K::BranchDone => humanize(kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_show_in_hong_kong_with_the_zone() {
        let at = DateTime::parse_from_rfc3339("2026-11-29T16:30:00Z")
            .map(|d| d.with_timezone(&Utc))
            .expect("a time");
        assert_eq!(hk_time(&at, &EN), "2026-11-30 00:30 HKT");
        assert_eq!(hk_time(&at, &ZH_HANT), "2026-11-30 00:30 香港時間");
    }
}
