//! [`Instance`]: one application's state, which is exactly the fold of its events.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::event::{Event, EventKind, TaskId, UnknownState};
use crate::Workflow;
use crate::model::{APPROVE, Assignee, StateId, StateKind, StateName};

/// Where an application is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Work is under way.
    Active,
    /// A final state was reached (see the outcome).
    Completed,
    /// The applicant withdrew it.
    Withdrawn,
}

/// An open task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenTask {
    /// Its number within the application.
    pub id: TaskId,
    /// The state it belongs to.
    pub state: StateId,
    /// Who works it.
    pub assignee: Assignee,
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
    /// When it falls due.
    pub due_at: Option<DateTime<Utc>>,
    /// Whether its due time has already fired.
    pub overdue: bool,
}

/// Votes so far in an active approval state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Votes {
    pub(crate) state: StateId,
    pub(crate) approvals: u16,
    pub(crate) rejections: u16,
    pub(crate) voters: Vec<String>,
}

/// One application's state. Change it only by applying events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub(crate) status: Status,
    pub(crate) outcome: Option<String>,
    /// The form data: not part of the serialized snapshot (it is in the `submitted` event and
    /// stored once beside the snapshot); see [`Instance::set_data`].
    #[serde(skip, default = "null_data")]
    pub(crate) data: Arc<Value>,
    pub(crate) active: Vec<StateId>,
    pub(crate) tasks: Vec<OpenTask>,
    pub(crate) branches_done: Vec<(StateId, u16)>,
    pub(crate) votes: Vec<Votes>,
    /// `(state, actor)` for every completed task: what four-eyes rules check.
    pub(crate) actors: Vec<(StateId, String)>,
    pub(crate) next_task: u32,
    pub(crate) version: u64,
    pub(crate) submitted_at: Option<DateTime<Utc>>,
    pub(crate) updated_at: Option<DateTime<Utc>>,
}

fn null_data() -> Arc<Value> {
    Arc::new(Value::Null)
}

impl Default for Instance {
    fn default() -> Self {
        Self {
            status: Status::Active,
            outcome: None,
            data: Arc::new(Value::Null),
            active: Vec::new(),
            tasks: Vec::new(),
            branches_done: Vec::new(),
            votes: Vec::new(),
            actors: Vec::new(),
            next_task: 1,
            version: 0,
            submitted_at: None,
            updated_at: None,
        }
    }
}

impl Instance {
    /// Rebuilds an instance from its events, whose states `workflow` must have.
    pub fn replay<'e>(
        workflow: &Workflow,
        events: impl IntoIterator<Item = &'e Event>,
    ) -> Result<Self, UnknownState> {
        let mut i = Self::default();
        for e in events {
            i.apply(workflow, e)?;
        }
        Ok(i)
    }

    /// Applies one event. This is the only place an instance changes. Events name their
    /// states; `workflow` gives their ids (one it does not have is refused, nothing applied).
    pub fn apply(&mut self, workflow: &Workflow, event: &Event) -> Result<(), UnknownState> {
        let id = |name: &StateName| {
            workflow
                .state_id(name.as_str())
                .ok_or_else(|| UnknownState(name.to_string()))
        };
        match &event.kind {
            EventKind::Submitted { data } => {
                self.data = Arc::clone(data);
                self.submitted_at = Some(event.at);
            }
            EventKind::Entered { state } => {
                let state = &id(state)?;
                self.active.push(*state);
                if let Some(StateKind::Approval(_)) =
                    workflow.states().get(state.index()).map(|s| s.kind())
                {
                    self.votes.push(Votes {
                        state: *state,
                        approvals: 0,
                        rejections: 0,
                        voters: vec![],
                    });
                }
            }
            EventKind::Exited { state } => {
                let state = &id(state)?;
                self.active.retain(|s| s != state);
                self.branches_done.retain(|(p, _)| p != state);
                self.votes.retain(|v| v.state != *state);
            }
            EventKind::TaskOpened {
                task,
                state,
                assignee,
                due_at,
                ..
            } => {
                self.tasks.push(OpenTask {
                    id: *task,
                    state: id(state)?,
                    assignee: assignee.clone(),
                    opened_at: event.at,
                    due_at: *due_at,
                    overdue: false,
                });
                self.next_task = self.next_task.max(task.0 + 1);
            }
            EventKind::TaskCompleted { task, action, .. } => {
                if let Some(pos) = self.tasks.iter().position(|t| t.id == *task) {
                    let t = self.tasks.remove(pos);
                    let actor = event.actor.as_deref().unwrap_or_default().to_owned();
                    if let Some(v) = self.votes.iter_mut().find(|v| v.state == t.state) {
                        if action == APPROVE {
                            v.approvals += 1;
                        } else {
                            v.rejections += 1;
                        }
                        v.voters.push(actor.clone());
                    }
                    self.actors.push((t.state, actor));
                }
            }
            EventKind::NoteAdded { .. } => {}
            EventKind::TaskCancelled { task } => self.tasks.retain(|t| t.id != *task),
            EventKind::TaskReassigned { task, assignee, .. } => {
                if let Some(t) = self.tasks.iter_mut().find(|t| t.id == *task) {
                    t.assignee = assignee.clone();
                    t.overdue = true;
                }
            }
            EventKind::TaskOverdue { task } => {
                if let Some(t) = self.tasks.iter_mut().find(|t| t.id == *task) {
                    t.overdue = true;
                }
            }
            EventKind::BranchDone { state, branch } => {
                self.branches_done.push((id(state)?, *branch))
            }
            EventKind::ChoiceMade { state, to, .. } => {
                id(state)?;
                id(to)?;
            }
            EventKind::Completed { outcome } => {
                self.status = Status::Completed;
                self.outcome = Some(outcome.clone());
            }
            EventKind::Withdrawn { .. } => {
                self.status = Status::Withdrawn;
                self.outcome = Some(crate::model::WITHDRAWN.to_owned());
                self.active.clear();
            }
            // A link changes no state: it is in the record, and counts as a revision.
            EventKind::DocumentLinked { .. } => {}
        }
        self.version += 1;
        self.updated_at = Some(event.at);
        Ok(())
    }

    /// Active, completed or withdrawn.
    pub fn status(&self) -> Status {
        self.status
    }
    /// The outcome once finished (`approved`, `rejected`, `withdrawn`, …).
    pub fn outcome(&self) -> Option<&str> {
        self.outcome.as_deref()
    }
    /// The submitted form data.
    pub fn data(&self) -> &Value {
        &self.data
    }

    /// Restores the form data of a deserialized snapshot (snapshots leave it out: it never
    /// changes after submission and is stored once).
    pub fn set_data(&mut self, data: Arc<Value>) {
        self.data = data;
    }
    /// The states now active (a parallel state and the states inside its branches).
    pub fn active_states(&self) -> &[StateId] {
        &self.active
    }
    /// The open tasks, oldest first.
    pub fn open_tasks(&self) -> &[OpenTask] {
        &self.tasks
    }
    /// One open task.
    pub fn task(&self, id: TaskId) -> Option<&OpenTask> {
        self.tasks.iter().find(|t| t.id == id)
    }
    /// How many events made this instance (its revision).
    pub fn version(&self) -> u64 {
        self.version
    }
    /// When it was submitted.
    pub fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.submitted_at
    }
    /// When the last event happened.
    pub fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.updated_at
    }
    /// Whether the application has finished (completed or withdrawn).
    pub fn is_finished(&self) -> bool {
        self.status != Status::Active
    }

    /// Every pending timer: `(task, due time)` for open tasks that have not fired yet.
    pub fn timers(&self) -> impl Iterator<Item = (TaskId, DateTime<Utc>)> + '_ {
        self.tasks
            .iter()
            .filter(|t| !t.overdue)
            .filter_map(|t| t.due_at.map(|d| (t.id, d)))
    }

    /// The timers due at `now`, soonest first. A pure query: nothing changes.
    pub fn due_timers(&self, now: DateTime<Utc>) -> Vec<TaskId> {
        let mut due: Vec<_> = self.timers().filter(|(_, at)| *at <= now).collect();
        due.sort_by_key(|(id, at)| (*at, *id));
        due.into_iter().map(|(id, _)| id).collect()
    }
}
