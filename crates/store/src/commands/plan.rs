//! The plan: what one command's events do to the rows, as data and without a database — the
//! events with their hash chain and the outbox row ([`plan_events`]), the task and timer rows
//! opened, and the changes to existing ones, collapsed per task ([`Writer`]), and the
//! application columns that follow from the instance ([`snapshot`]). The commit
//! (`commit.rs`) writes what the plan says.

use softland_workflow::Assignee;
use std::collections::HashMap;

use sea_orm::ActiveValue::Set;
use softland_workflow::{Event, EventKind, Instance, StateName, Status, Workflow};
use uuid::Uuid;

use crate::entity::enums::{AppStatus, TaskStatus, TimerStatus};
use crate::entity::{application, event, outbox, task, timer};
use crate::error::{Result, corrupt};
use crate::hash::link;
use crate::records::{EventRecord, TaskAction, TaskRecord};
use crate::rows::{event_columns, task_record};

/// Far in the future: tasks without a due time sort last in inboxes.
pub(crate) fn no_due() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::<chrono::Utc>::from_timestamp(253_402_214_400, 0)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
}

pub(crate) fn app_status(s: Status) -> AppStatus {
    match s {
        Status::Active => AppStatus::Active,
        Status::Completed => AppStatus::Completed,
        Status::Withdrawn => AppStatus::Withdrawn,
    }
}

/// What the task rows of an application need to know while events are written.
pub(crate) struct Writer<'a> {
    pub(crate) wf: &'a Workflow,
    /// The version of `wf` the application runs.
    pub(crate) version: i32,
    pub(crate) app_id: Uuid,
    pub(crate) organization: &'a str,
    /// task number -> state, for events that name only the task.
    pub(crate) task_states: HashMap<u32, StateName>,
    /// Tasks with a pending timer row (only those need timer updates).
    pub(crate) timers: std::collections::HashSet<u32>,
    /// Task rows opened by this command (inserted at the end).
    pub(crate) new_tasks: Vec<task::ActiveModel>,
    /// Timer rows opened by this command.
    pub(crate) new_timers: Vec<timer::ActiveModel>,
    /// Changes to existing task rows, collapsed per task so no row is written twice.
    pub(crate) changes: std::collections::BTreeMap<u32, TaskChange>,
    /// New statuses of existing pending timers.
    pub(crate) timer_changes: std::collections::BTreeMap<u32, TimerStatus>,
    /// The application's pools and what the command does to its places in them.
    pub(crate) places: crate::commands::plan_places::Places,
}

impl<'a> Writer<'a> {
    /// A writer for an application with no open task known yet.
    pub(crate) fn new(wf: &'a Workflow, version: i32, app_id: Uuid, organization: &'a str) -> Self {
        Writer {
            wf,
            version,
            app_id,
            organization,
            task_states: HashMap::new(),
            timers: Default::default(),
            new_tasks: Vec::new(),
            new_timers: Vec::new(),
            changes: Default::default(),
            timer_changes: Default::default(),
            places: Default::default(),
        }
    }

    /// A writer for a command on an application whose instance is `inst`, before the command:
    /// its open tasks (by state name) and pending timers.
    pub(crate) fn before(
        wf: &'a Workflow,
        version: i32,
        app_id: Uuid,
        organization: &'a str,
        inst: &Instance,
    ) -> Self {
        Writer {
            task_states: inst
                .open_tasks()
                .iter()
                .map(|t| (t.id.0, wf.state(t.state).state_name()))
                .collect(),
            timers: inst.timers().map(|(t, _)| t.0).collect(),
            ..Writer::new(wf, version, app_id, organization)
        }
    }

    /// The open tasks after this command: those open `before` that it did not close (with its
    /// reassignments and overdue flags applied), and those it opened, by task number.
    pub(crate) fn open_after(
        &self,
        before: Vec<TaskRecord>,
        opened: &[TaskRecord],
    ) -> Vec<TaskRecord> {
        let mut open: Vec<TaskRecord> = before
            .into_iter()
            .filter_map(|mut t| {
                let Some(c) = self.changes.get(&t.task_no) else {
                    return Some(t);
                };
                if c.closed.is_some() {
                    return None;
                }
                if let Some(to) = &c.reassigned_to {
                    t.assignee = Assignee::parse(to);
                    t.claimed_by = None;
                }
                t.overdue |= c.overdue;
                Some(t)
            })
            .chain(opened.iter().cloned())
            .collect();
        open.sort_by_key(|t| t.task_no);
        open
    }

    /// Whether the events change rows written earlier (not only rows this writer opened).
    pub(crate) fn changes_existing_rows(&self) -> bool {
        !self.changes.is_empty() || !self.timer_changes.is_empty()
    }
}

/// How a task closed.
#[derive(Debug, Clone)]
pub(crate) struct Closed {
    pub(crate) status: TaskStatus,
    pub(crate) at: chrono::DateTime<chrono::Utc>,
    pub(crate) by: Option<String>,
    pub(crate) action: Option<String>,
}

/// What happens to an existing task row in one command.
#[derive(Debug, Default, Clone)]
pub(crate) struct TaskChange {
    pub(crate) closed: Option<Closed>,
    pub(crate) reassigned_to: Option<String>,
    pub(crate) overdue: bool,
}

/// What writing a command's events produced; the event and outbox rows still to insert.
pub(crate) struct Log {
    pub(crate) records: Vec<EventRecord>,
    pub(crate) last_hash: String,
    pub(crate) opened: Vec<TaskRecord>,
    pub(crate) events: Vec<event::ActiveModel>,
    pub(crate) outbox: Vec<outbox::ActiveModel>,
}

/// The rows a command's events make, without writing any: the events with their hash
/// chain, the outbox row, and (in `w`) the task and timer rows opened and changed.
pub(crate) fn plan_events(
    w: &mut Writer<'_>,
    first_seq: i64,
    prev_hash: &str,
    events: &[Event],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Log> {
    let mut prev = prev_hash.to_owned();
    let mut rows = Vec::with_capacity(events.len());
    let mut records = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        let seq = first_seq + i as i64;
        let payload = serde_json::to_string(e).map_err(corrupt)?;
        let hash = link(&prev, seq, &payload);
        let (state, action, comment) = event_columns(e, &mut w.task_states);
        let state_name = state.map(|s| s.to_string());
        let record = EventRecord {
            application_id: w.app_id,
            seq,
            kind: e.kind.name(),
            actor: e.actor.as_deref().map(str::to_owned),
            state: state_name.clone(),
            action: action.clone(),
            comment: comment.clone(),
            payload: serde_json::to_value(e).map_err(corrupt)?,
            at: e.at,
            hash: hash.clone(),
        };
        rows.push(event::ActiveModel {
            application_id: Set(w.app_id),
            seq: Set(seq),
            kind: Set(record.kind.as_str().to_owned()),
            actor: Set(record.actor.clone()),
            state: Set(state_name),
            action: Set(action),
            comment: Set(comment),
            payload: Set(payload.clone()),
            at: Set(e.at),
            prev_hash: Set(prev.clone()),
            hash: Set(hash.clone()),
            hashed_payload: Set(None),
            ..Default::default()
        });
        records.push(record);
        prev = hash;
        task_effects(w, e)?;
        w.places.effect(e)?;
    }
    let opened = w
        .new_tasks
        .iter()
        .filter(|t| matches!(t.status, sea_orm::ActiveValue::Set(TaskStatus::Open)))
        .map(|t| {
            task::Model::try_from(t.clone())
                .map_err(corrupt)
                .and_then(task_record)
        })
        .collect::<Result<Vec<_>>>()?;
    // One outbox row for the command: the relay reads the events it names.
    let outbox = match events.len() {
        0 => Vec::new(),
        n => vec![outbox::ActiveModel {
            application_id: Set(w.app_id),
            first_seq: Set(first_seq),
            last_seq: Set(first_seq + n as i64 - 1),
            created_at: Set(now),
            delivered_at: Set(None),
            ..Default::default()
        }],
    };
    Ok(Log {
        records,
        last_hash: prev,
        opened,
        events: rows,
        outbox,
    })
}

/// The task and timer rows one event changes, as data: new rows, and changes to existing rows
/// collapsed per task (a command may flag a task overdue and then complete it).
fn task_effects(w: &mut Writer<'_>, e: &Event) -> Result<()> {
    match &e.kind {
        EventKind::TaskOpened {
            task,
            state,
            assignee,
            due_at,
            due_estimated,
            returns_to,
            ..
        } => {
            let st =
                w.wf.state_named(state.as_str())
                    .ok_or_else(|| corrupt(format!("the workflow has no state `{state}`")))?;
            if *due_estimated {
                // Not silent: the event says so, and operators are told (see docs/calendars.md).
                tracing::warn!(
                    application = %w.app_id,
                    task = task.0,
                    assignee = assignee.key(),
                    due_at = ?due_at,
                    "due date counted past the end of the holiday table: an estimate; add the next year's table"
                );
            }
            let actions = task_actions(st);
            w.new_tasks.push(task::ActiveModel {
                id: Set(Uuid::now_v7()),
                application_id: Set(w.app_id),
                task_no: Set(task.0 as i32),
                state: Set(st.name().to_owned()),
                title: Set(st.title().en.clone()),
                assignee: Set(assignee.key().to_owned()),
                organization: Set(w.organization.to_owned()),
                actions: Set(serde_json::to_value(actions).map_err(corrupt)?),
                status: Set(TaskStatus::Open),
                due_at: Set(*due_at),
                inbox_order: Set(due_at.unwrap_or_else(no_due)),
                overdue: Set(false),
                opened_at: Set(e.at),
                closed_at: Set(None),
                closed_by: Set(None),
                closed_action: Set(None),
                // A step that asked the firm comes back to the reviewer who asked, claimed.
                claimed_by: Set(returns_to.as_deref().map(str::to_owned)),
                claimed_at: Set(returns_to.as_ref().map(|_| e.at)),
                delegated_to: Set(None),
                workflow_key: Set(w.wf.key().to_owned()),
                workflow_version: Set(w.version),
            });
            if let Some(due) = due_at {
                w.timers.insert(task.0);
                w.new_timers.push(timer::ActiveModel {
                    application_id: Set(w.app_id),
                    task_no: Set(task.0 as i32),
                    due_at: Set(*due),
                    status: Set(TimerStatus::Pending),
                    lease_owner: Set(None),
                    lease_until: Set(None),
                });
            }
        }
        EventKind::TaskCompleted { task, action, .. } => {
            close_task(w, e, task.0, TaskStatus::Completed, Some(action.clone()))
        }
        EventKind::TaskCancelled { task } => close_task(w, e, task.0, TaskStatus::Cancelled, None),
        EventKind::TaskReassigned { task, assignee, .. } => {
            let c = w.changes.entry(task.0).or_default();
            c.reassigned_to = Some(assignee.key().to_owned());
            c.overdue = true;
            if w.timers.remove(&task.0) {
                w.timer_changes.insert(task.0, TimerStatus::Fired);
            }
        }
        EventKind::TaskOverdue { task } => {
            w.changes.entry(task.0).or_default().overdue = true;
            if w.timers.remove(&task.0) {
                w.timer_changes.insert(task.0, TimerStatus::Fired);
            }
        }
        _ => {}
    }
    Ok(())
}

/// The actions a task row of state `st` lists (what inboxes and pages offer).
pub(crate) fn task_actions(st: &softland_workflow::State) -> Vec<TaskAction> {
    st.offered_actions()
        .into_iter()
        .map(|a| TaskAction {
            name: a.name,
            title: a.title.en,
            input_schema: a.input_schema,
        })
        .collect()
}

/// Closes a task: one opened by this same command is still an unsaved row; others get a
/// change. Its pending timer is cancelled.
fn close_task(
    w: &mut Writer<'_>,
    e: &Event,
    task_no: u32,
    status: TaskStatus,
    action: Option<String>,
) {
    let closed_by = e.actor.as_deref().map(str::to_owned);
    let no = task_no as i32;
    if let Some(t) = w
        .new_tasks
        .iter_mut()
        .find(|t| matches!(&t.task_no, sea_orm::ActiveValue::Set(n) if *n == no))
    {
        t.status = Set(status);
        t.closed_at = Set(Some(e.at));
        t.closed_by = Set(closed_by);
        t.closed_action = Set(action);
        w.new_timers
            .retain(|tm| !matches!(&tm.task_no, sea_orm::ActiveValue::Set(n) if *n == no));
        w.timers.remove(&task_no);
        return;
    }
    w.changes.entry(task_no).or_default().closed = Some(Closed {
        status,
        at: e.at,
        by: closed_by,
        action,
    });
    if w.timers.remove(&task_no) {
        w.timer_changes.insert(task_no, TimerStatus::Cancelled);
    }
}

/// The application columns [`snapshot`] sets besides the instance: what a command changes in
/// the application row.
pub(crate) const SNAPSHOT_COLUMNS: [application::Column; 6] = [
    application::Column::Status,
    application::Column::Outcome,
    application::Column::ActiveStates,
    application::Column::Revision,
    application::Column::LastHash,
    application::Column::UpdatedAt,
];

/// The application columns that follow from the instance.
pub(crate) fn snapshot(
    wf: &Workflow,
    inst: &Instance,
    last_hash: String,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<application::ActiveModel> {
    let active: Vec<&str> = inst
        .active_states()
        .iter()
        .map(|s| wf.state(*s).name())
        .collect();
    Ok(application::ActiveModel {
        status: Set(app_status(inst.status())),
        outcome: Set(inst.outcome().map(str::to_owned)),
        active_states: Set(serde_json::to_value(active).map_err(corrupt)?),
        instance: Set(serde_json::to_value(inst).map_err(corrupt)?),
        revision: Set(inst.version() as i64),
        last_hash: Set(last_hash),
        updated_at: Set(now),
        ..Default::default()
    })
}

/// The pure plan: engine events → the rows one command makes, without a database.
#[cfg(test)]
#[path = "plan_tests.rs"]
mod plan_tests;
