//! Strict conversions from stored rows to the records the store hands out: a value that cannot
//! be read is an [`Error::Unreadable`] naming the table, the row and the column — never a
//! default. Also the derived columns of an event row ([`event_columns`]).

use softland_workflow::Assignee;
use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde_json::Value;
use softland_workflow::{Event, EventKind, Status};

use crate::entity::enums::{AppStatus, TaskStatus as DbTaskStatus};
use crate::entity::{application, definition, event, task};
use crate::error::{Error, Result};
use crate::records::{
    ApplicationRecord, DefinitionRecord, EventRecord, TaskAction, TaskRecord, TaskStatus,
};

/// Reads a JSON column as `T`.
fn json<T: DeserializeOwned>(
    table: &'static str,
    id: impl ToString,
    column: &'static str,
    value: Value,
) -> Result<T> {
    serde_json::from_value(value).map_err(|e| Error::Unreadable {
        table,
        id: id.to_string(),
        column,
        why: e.to_string(),
    })
}

/// Reads a JSON text column as `T`.
fn json_text<T: DeserializeOwned>(
    table: &'static str,
    id: impl ToString,
    column: &'static str,
    text: &str,
) -> Result<T> {
    serde_json::from_str(text).map_err(|e| Error::Unreadable {
        table,
        id: id.to_string(),
        column,
        why: e.to_string(),
    })
}

pub(crate) fn status_of(s: AppStatus) -> Status {
    match s {
        AppStatus::Active => Status::Active,
        AppStatus::Completed => Status::Completed,
        AppStatus::Withdrawn => Status::Withdrawn,
    }
}

pub(crate) fn app_record(m: application::Model) -> Result<ApplicationRecord> {
    Ok(ApplicationRecord {
        active_states: json("applications", m.id, "active_states", m.active_states)?,
        id: m.id,
        workflow_key: m.workflow_key,
        workflow_version: m.workflow_version,
        organization: m.organization,
        status: status_of(m.status),
        outcome: m.outcome,
        data: m.data,
        revision: m.revision,
        submitted_at: m.submitted_at,
        updated_at: m.updated_at,
    })
}

/// One event as users see it. What it shows comes from the hashed payload, not from the columns
/// beside it (they exist for queries; `doctor` checks that they agree); a payload that does not
/// read as an event is an error.
pub(crate) fn event_record(m: event::Model) -> Result<EventRecord> {
    let id = format!("{}#{}", m.application_id, m.seq);
    let payload: Value = json_text("events", &id, "payload", &m.payload)?;
    let e: Event = json("events", &id, "payload", payload.clone())?;
    let (_, action, comment) = event_columns(&e, &mut HashMap::new());
    Ok(EventRecord {
        application_id: m.application_id,
        seq: m.seq,
        kind: e.kind.name(),
        actor: e.actor.as_deref().map(str::to_owned),
        state: m.state,
        action,
        comment,
        payload,
        at: e.at,
        hash: m.hash,
    })
}

/// The state, action and comment columns of an event row, derived from the event alone (and
/// the states of the tasks opened before it): what `doctor` checks the stored columns against.
pub(crate) fn event_columns(
    e: &Event,
    task_states: &mut HashMap<u32, softland_workflow::StateName>,
) -> (
    Option<softland_workflow::StateName>,
    Option<String>,
    Option<String>,
) {
    match &e.kind {
        EventKind::Entered { state }
        | EventKind::Exited { state }
        | EventKind::ChoiceMade { state, .. }
        | EventKind::BranchDone { state, .. }
        | EventKind::ClockPaused { state, .. }
        | EventKind::ClockResumed { state, .. } => (Some(state.clone()), None, None),
        EventKind::Migrated { states, .. } => {
            // Open tasks now belong to the new version's states.
            for name in task_states.values_mut() {
                if let Some(m) = states.iter().find(|m| m.from == *name) {
                    *name = m.to.clone();
                }
            }
            (None, None, None)
        }
        EventKind::TaskOpened { task, state, .. } => {
            task_states.insert(task.0, state.clone());
            (Some(state.clone()), None, None)
        }
        EventKind::TaskCompleted {
            task,
            action,
            comment,
            ..
        } => (
            task_states.get(&task.0).cloned(),
            Some(action.clone()),
            comment.clone(),
        ),
        EventKind::TaskCancelled { task }
        | EventKind::TaskReassigned { task, .. }
        | EventKind::TaskOverdue { task } => (task_states.get(&task.0).cloned(), None, None),
        EventKind::NoteAdded { task, .. } => (
            task.and_then(|t| task_states.get(&t.0).cloned()),
            None,
            None,
        ),
        EventKind::Withdrawn { reason } => (None, None, reason.clone()),
        EventKind::Submitted { .. }
        | EventKind::Completed { .. }
        | EventKind::DocumentLinked { .. }
        | EventKind::PlaceChanged { .. } => (None, None, None),
    }
}

pub(crate) fn task_record(m: task::Model) -> Result<TaskRecord> {
    Ok(TaskRecord {
        actions: json::<Vec<TaskAction>>("tasks", m.id, "actions", m.actions)?,
        id: m.id,
        application_id: m.application_id,
        task_no: m.task_no as u32,
        state: m.state,
        title: m.title,
        assignee: Assignee::parse(&m.assignee),
        organization: m.organization,
        status: match m.status {
            DbTaskStatus::Open => TaskStatus::Open,
            DbTaskStatus::Completed => TaskStatus::Completed,
            DbTaskStatus::Cancelled => TaskStatus::Cancelled,
        },
        due_at: m.due_at,
        overdue: m.overdue,
        opened_at: m.opened_at,
        closed_at: m.closed_at,
        closed_by: m.closed_by,
        closed_action: m.closed_action,
        claimed_by: m.claimed_by,
        workflow_key: m.workflow_key,
        workflow_version: m.workflow_version,
    })
}

pub(crate) fn definition_record(m: definition::Model) -> Result<DefinitionRecord> {
    let id = format!("{} v{}", m.key, m.version);
    Ok(DefinitionRecord {
        form_schema: json_text("definitions", id, "form_schema", &m.form_schema)?,
        key: m.key,
        version: m.version,
        title: m.title,
        source: m.source,
        content_hash: m.content_hash,
        published_by: m.published_by,
        published_at: m.published_at,
        retired_at: m.retired_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use softland_workflow::EventName;
    use uuid::Uuid;

    fn unreadable(e: Error) -> (&'static str, String, &'static str) {
        match e {
            Error::Unreadable {
                table, id, column, ..
            } => (table, id, column),
            other => panic!("not Unreadable: {other:?}"),
        }
    }

    #[test]
    fn an_unreadable_column_is_an_error_that_says_where() {
        let id = Uuid::nil();
        let task = task::Model {
            id,
            application_id: id,
            task_no: 1,
            state: "s".into(),
            title: "S".into(),
            assignee: "ofds".into(),
            organization: "firm".into(),
            actions: serde_json::json!("not a list of actions"),
            status: DbTaskStatus::Open,
            due_at: None,
            inbox_order: Utc::now(),
            overdue: false,
            opened_at: Utc::now(),
            closed_at: None,
            closed_by: None,
            closed_action: None,
            claimed_by: None,
            claimed_at: None,
            delegated_to: None,
            workflow_key: "soft-landing-sz-to-hk".into(),
            workflow_version: 1,
        };
        let e = task_record(task).expect_err("unreadable actions");
        assert_eq!(unreadable(e), ("tasks", id.to_string(), "actions"));

        let event = event::Model {
            id: 1,
            application_id: id,
            seq: 3,
            kind: EventName::Submitted.as_str().to_owned(),
            actor: None,
            state: None,
            action: None,
            comment: None,
            payload: "{not json".into(),
            at: Utc::now(),
            prev_hash: String::new(),
            hash: String::new(),
            hashed_payload: None,
        };
        let e = event_record(event).expect_err("unreadable payload");
        assert_eq!(unreadable(e), ("events", format!("{id}#3"), "payload"));
    }
}
