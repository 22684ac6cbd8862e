//! [`Instance`]: one application's state, which is exactly the fold of its events.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::event::{Event, EventKind, Remaining, TaskId, UnknownState};
use crate::Workflow;
use crate::model::{APPROVE, Assignee, OnRequest, PlaceStatus, StateId, StateKind, StateName};

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
    pub(crate) voters: Vec<Arc<str>>,
}

/// An agency step's clock around its information requests to the firm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Clock {
    pub(crate) state: StateId,
    /// What the step's next task starts from, until it opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) held: Option<Held>,
    /// How many times its clock has paused.
    pub(crate) pauses: u16,
}

/// A clock held while the firm answers: paused with the time left, or left running to the
/// time it was due. Either way, the reviewer who asked gets the task back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Held {
    Paused {
        remaining: Remaining,
        asked_by: Option<String>,
        since: DateTime<Utc>,
    },
    Running {
        due_at: DateTime<Utc>,
        asked_by: Option<String>,
    },
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
    pub(crate) actors: Vec<(StateId, Arc<str>)>,
    pub(crate) next_task: u32,
    /// Clocks of steps that asked the firm for information (none: never asked, or asked
    /// before softland paused clocks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) clocks: Vec<Clock>,
    pub(crate) version: u64,
    pub(crate) submitted_at: Option<DateTime<Utc>>,
    pub(crate) updated_at: Option<DateTime<Utc>>,
    /// Its places: each pool it holds a place of or waits in line for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) places: Vec<(String, PlaceStatus)>,
    /// The firm hosting it (see [`EventKind::Submitted`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) host: Option<String>,
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
            clocks: Vec::new(),
            version: 0,
            submitted_at: None,
            updated_at: None,
            places: Vec::new(),
            host: None,
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
            (name.index_in(workflow.states()))
                .or_else(|| workflow.state_id(name.as_str()))
                .ok_or_else(|| UnknownState(name.to_string()))
        };
        match &event.kind {
            EventKind::Submitted { data, host } => {
                self.data = Arc::clone(data);
                self.host = host.clone();
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
                let state = id(state)?;
                if let Some(c) = self.clocks.iter_mut().find(|c| c.state == state) {
                    c.held = None;
                }
            }
            EventKind::TaskCompleted { task, action, .. } => {
                if let Some(pos) = self.tasks.iter().position(|t| t.id == *task) {
                    let t = self.tasks.remove(pos);
                    let actor = event.actor.clone().unwrap_or_default();
                    if let Some(v) = self.votes.iter_mut().find(|v| v.state == t.state) {
                        if action == APPROVE {
                            v.approvals += 1;
                        } else {
                            v.rejections += 1;
                        }
                        v.voters.push(Arc::clone(&actor));
                    }
                    self.hold_running_clock(workflow, &t, action, &actor);
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
            EventKind::ClockPaused {
                state, remaining, ..
            } => {
                let state = id(state)?;
                let asked_by = event.actor.as_deref().map(str::to_owned);
                let c = self.clock(state);
                c.held = Some(Held::Paused {
                    remaining: *remaining,
                    asked_by,
                    since: event.at,
                });
                c.pauses = c.pauses.saturating_add(1);
            }
            // The new task's `task_opened` clears what was held.
            EventKind::ClockResumed { state, .. } => {
                id(state)?;
            }
            EventKind::PlaceChanged { pool, change, .. } => self.change_place(pool, *change),
            EventKind::Migrated { to_version, .. } => {
                return Err(UnknownState(format!(
                    "(a migration to version {to_version}: fold it with `Instance::migrate`)"
                )));
            }
        }
        self.version += 1;
        self.updated_at = Some(event.at);
        Ok(())
    }

    /// Every state the application is in or holds something of: active states, open tasks'
    /// states, approvals' votes, parallel states' finished branches.
    pub(crate) fn live_states(&self) -> impl Iterator<Item = StateId> + '_ {
        self.active
            .iter()
            .copied()
            .chain(self.tasks.iter().map(|t| t.state))
            .chain(self.votes.iter().map(|v| v.state))
            .chain(self.branches_done.iter().map(|(p, _)| *p))
    }

    /// The steps it remembers but is not in: where someone acted (what four-eyes rules
    /// check), and steps whose clock waits on the firm.
    pub(crate) fn remembered_states(&self) -> impl Iterator<Item = StateId> + '_ {
        self.actors
            .iter()
            .map(|(s, _)| *s)
            .chain(self.clocks.iter().map(|c| c.state))
    }

    /// Folds a `migrated` event: every state the instance names moves from `from` to `to`
    /// as the event says (a step done earlier, or one whose clock waits on the firm, that the
    /// new version lacks is forgotten: four eyes no longer remember it, and the step's period
    /// starts again should it come back), and
    /// open tasks take the due times it gives.
    pub fn migrate(
        &mut self,
        from: &Workflow,
        to: &Workflow,
        event: &Event,
    ) -> Result<(), UnknownState> {
        let EventKind::Migrated {
            states, due, data, ..
        } = &event.kind
        else {
            return Err(UnknownState(format!(
                "(not a migration: {})",
                event.kind.name()
            )));
        };
        let moved: Vec<(StateId, StateId)> = states
            .iter()
            .map(|m| {
                let a = from.state_id(m.from.as_str());
                let b = to.state_id(m.to.as_str());
                a.zip(b).ok_or_else(|| UnknownState(m.to.to_string()))
            })
            .collect::<Result<_, _>>()?;
        let map = |s: StateId| moved.iter().find(|(a, _)| *a == s).map(|(_, b)| *b);
        let must = |s: StateId| map(s).ok_or_else(|| UnknownState(from.state(s).name().to_owned()));
        for s in &mut self.active {
            *s = must(*s)?;
        }
        for t in &mut self.tasks {
            t.state = must(t.state)?;
            if let Some(d) = due.iter().find(|d| d.task == t.id) {
                t.due_at = d.due_at;
            }
        }
        for v in &mut self.votes {
            v.state = must(v.state)?;
        }
        for (p, _) in &mut self.branches_done {
            *p = must(*p)?;
        }
        self.clocks = std::mem::take(&mut self.clocks)
            .into_iter()
            .filter_map(|c| map(c.state).map(|state| Clock { state, ..c }))
            .collect();
        self.actors = std::mem::take(&mut self.actors)
            .into_iter()
            .filter_map(|(s, a)| map(s).map(|s| (s, a)))
            .collect();
        if let Some(data) = data {
            self.data = Arc::clone(data);
        }
        self.version += 1;
        self.updated_at = Some(event.at);
        Ok(())
    }

    /// Rebuilds an instance from events that may cross versions: it starts on `first` and
    /// each `migrated` event moves it to the version `version_of` gives.
    pub fn replay_versions<'w, 'e>(
        first: &'w Workflow,
        version_of: impl Fn(u32) -> Option<&'w Workflow>,
        events: impl IntoIterator<Item = &'e Event>,
    ) -> Result<Self, UnknownState> {
        let mut i = Self::default();
        let mut wf = first;
        for e in events {
            match &e.kind {
                EventKind::Migrated { to_version, .. } => {
                    let to = version_of(*to_version)
                        .ok_or_else(|| UnknownState(format!("(version {to_version})")))?;
                    i.migrate(wf, to, e)?;
                    wf = to;
                }
                _ => i.apply(wf, e)?,
            }
        }
        Ok(i)
    }

    /// The steps whose clock is paused while the firm answers: each with the time it has
    /// left and since when it waits.
    pub fn paused_clocks(&self) -> impl Iterator<Item = (StateId, Remaining, DateTime<Utc>)> + '_ {
        self.clocks.iter().filter_map(|c| match &c.held {
            Some(Held::Paused {
                remaining, since, ..
            }) => Some((c.state, *remaining, *since)),
            _ => None,
        })
    }

    /// The clock of `state`, created on first use.
    fn clock(&mut self, state: StateId) -> &mut Clock {
        let at = match self.clocks.iter().position(|c| c.state == state) {
            Some(at) => at,
            None => {
                self.clocks.push(Clock {
                    state,
                    held: None,
                    pauses: 0,
                });
                self.clocks.len() - 1
            }
        };
        &mut self.clocks[at]
    }

    /// After task `t` took `action`: when that asked the firm for information and the step's
    /// clock keeps running (`on_request: run`, or `max_pauses` reached), remember when the
    /// step was due so its next task is due then too. (A pause comes as its own event.)
    fn hold_running_clock(&mut self, wf: &Workflow, t: &OpenTask, action: &str, actor: &str) {
        // The default (pause, no cap) never runs on: no need to look the action up.
        let Some(StateKind::Task(spec)) = wf.states().get(t.state.index()).map(|s| s.kind()) else {
            return;
        };
        match spec.due() {
            Some(d) if d.on_request() != OnRequest::Pause || d.max_pauses().is_some() => {}
            _ => return,
        }
        let Some((due, due_at)) = wf.request_clock(t.state, action).zip(t.due_at) else {
            return;
        };
        let pauses = self
            .clocks
            .iter()
            .find(|c| c.state == t.state)
            .map_or(0, |c| c.pauses);
        if due.effective(pauses) == OnRequest::Run {
            self.clock(t.state).held = Some(Held::Running {
                due_at,
                asked_by: Some(actor.to_owned()),
            });
        }
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
