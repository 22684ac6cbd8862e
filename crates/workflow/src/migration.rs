//! Moving a running application to another version of its workflow.
//!
//! A [`Plan`] says where each state goes: states the new version has under the same name map
//! by themselves; renamed or removed ones are mapped explicitly. [`check`] answers, for one
//! application, whether it can move and exactly why not (the dry run); [`migrate`] moves it,
//! returning the `migrated` event that [`Instance::migrate`] folds. Pure: no I/O, no clock but
//! [`Env`].

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Utc};

use crate::engine::{Actor, Env, Event, EventKind, Instance, StateMove, TaskDue};
use crate::model::{Assignee, StateId, StateKind};
use crate::schema::Violation;
use crate::workflow::Workflow;

/// What happens to running timers (open tasks' due times) when an application moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Timers {
    /// The time already spent counts: due at the task's opening plus the new version's
    /// period (unchanged when the period is).
    #[default]
    KeepElapsed,
    /// The new version's period starts again now.
    Restart,
}

impl Timers {
    /// The word as written (`keep_elapsed`, `restart`).
    pub fn as_str(self) -> &'static str {
        match self {
            Timers::KeepElapsed => "keep_elapsed",
            Timers::Restart => "restart",
        }
    }

    /// The rule a word names.
    pub fn parse(word: &str) -> Option<Self> {
        [Timers::KeepElapsed, Timers::Restart]
            .into_iter()
            .find(|t| t.as_str() == word)
    }
}

/// Where the states of version A go in version B. Claims and collected votes are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Explicit moves, old state name → new state name (inside a parallel state: per branch,
    /// the branch's own states).
    pub mappings: Vec<(String, String)>,
    /// What happens to running timers.
    pub timers: Timers,
    /// Changes to the form data: a top-level field and the CEL expression over the old data
    /// (`data`) that gives its new value (`null`: the field goes).
    pub data: Vec<(String, String)>,
}

/// A mistake in the plan itself, whatever the applications.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A mapping starts from a state the old version does not have.
    #[error("the old version has no state `{0}` to map from")]
    UnknownFrom(String),
    /// A mapping goes to a state the new version does not have.
    #[error("the new version has no state `{0}` to map to")]
    UnknownTo(String),
    /// A state is mapped twice.
    #[error("state `{0}` is mapped twice")]
    Duplicate(String),
    /// Both versions are the same one.
    #[error("a plan moves applications between two different versions")]
    SameVersion,
    /// A data change names a field neither form declares.
    #[error("neither form declares a field `{0}` to change")]
    UnknownDataField(String),
    /// A data change's expression does not compile.
    #[error("the change of `data.{field}` {message}")]
    DataChange {
        /// The field.
        field: String,
        /// Why.
        message: String,
    },
}

/// Why one application cannot move (the dry run's reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocker {
    /// It has finished: approved, rejected, withdrawn or lapsed.
    Finished,
    /// It runs on another version than the plan's.
    OtherVersion(u32),
    /// It is in a state the new version lacks, and the plan does not map it.
    Unmapped(String),
    /// Its state maps to a state of another kind.
    KindChanged {
        /// The old state.
        state: String,
        /// The new state.
        to: String,
    },
    /// A parallel state it is in has other branches in the new version, or a state of a
    /// branch maps outside that branch.
    BranchesChanged(String),
    /// Its open task's step is worked by another agency in the new version.
    AssigneeChanged {
        /// The old state.
        state: String,
        /// Who works it now.
        from: String,
    },
    /// Its form data does not satisfy the new version's form.
    Data(Vec<Violation>),
    /// A data change could not be made on its data.
    DataChangeFailed {
        /// The field.
        field: String,
        /// Why.
        message: String,
    },
}

impl Blocker {
    /// A stable code for the reason (`unmapped-state`, …).
    pub fn code(&self) -> &'static str {
        match self {
            Blocker::Finished => "finished",
            Blocker::OtherVersion(_) => "other-version",
            Blocker::Unmapped(_) => "unmapped-state",
            Blocker::KindChanged { .. } => "kind-changed",
            Blocker::BranchesChanged(_) => "branches-changed",
            Blocker::AssigneeChanged { .. } => "assignee-changed",
            Blocker::Data(_) => "data-invalid",
            Blocker::DataChangeFailed { .. } => "data-change-failed",
        }
    }
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Blocker::Finished => f.write_str("finished: only running applications move"),
            Blocker::OtherVersion(v) => write!(f, "it runs on version {v}, not the plan's"),
            Blocker::Unmapped(s) => write!(
                f,
                "active state `{s}` is not in the new version: map it (`{s}` → a new state)"
            ),
            Blocker::KindChanged { state, to } => {
                write!(f, "state `{state}` maps to `{to}`, a state of another kind")
            }
            Blocker::BranchesChanged(s) => write!(
                f,
                "the branches of parallel state `{s}` differ between the versions"
            ),
            Blocker::AssigneeChanged { state, from } => write!(
                f,
                "the open task at `{state}` is {from}'s, but the new version gives the step to another agency"
            ),
            Blocker::DataChangeFailed { field, message } => {
                write!(
                    f,
                    "the change of `data.{field}` failed on its data: {message}"
                )
            }
            Blocker::Data(v) => {
                f.write_str("its form data does not fit the new version's form:")?;
                for (i, v) in v.iter().take(3).enumerate() {
                    let sep = if i == 0 { " " } else { "; " };
                    write!(f, "{sep}{} {}", v.path, v.message)?;
                }
                Ok(())
            }
        }
    }
}

/// Checks the plan against both versions.
pub fn check_plan(from: &Workflow, to: &Workflow, plan: &Plan) -> Result<(), Vec<PlanError>> {
    let mut errors = Vec::new();
    let mut seen = Vec::new();
    for (old, new) in &plan.mappings {
        if from.state_id(old).is_none() {
            errors.push(PlanError::UnknownFrom(old.clone()));
        }
        if to.state_id(new).is_none() {
            errors.push(PlanError::UnknownTo(new.clone()));
        }
        if seen.contains(&old) {
            errors.push(PlanError::Duplicate(old.clone()));
        }
        seen.push(old);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// One plan between two versions, ready to check applications against.
#[derive(Debug)]
pub struct Migration<'a> {
    from: &'a Workflow,
    to: &'a Workflow,
    from_version: u32,
    to_version: u32,
    moves: HashMap<&'a str, &'a str>,
    plan: &'a Plan,
    data: DataChanges,
}

impl<'a> Migration<'a> {
    /// A plan from `from` (version `from_version`) to `to`, checked.
    pub fn new(
        (from, from_version): (&'a Workflow, u32),
        (to, to_version): (&'a Workflow, u32),
        plan: &'a Plan,
    ) -> Result<Self, Vec<PlanError>> {
        check_plan(from, to, plan)?;
        if from_version == to_version {
            return Err(vec![PlanError::SameVersion]);
        }
        let data = DataChanges::compile(from.form_schema(), to.form_schema(), &plan.data)?;
        Ok(Migration {
            data,
            from,
            to,
            from_version,
            to_version,
            moves: plan
                .mappings
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect(),
            plan,
        })
    }

    /// Where old state `s` goes: its mapping, or the state of the same name.
    fn target(&self, s: StateId) -> Option<StateId> {
        let name = self.from.state(s).name();
        let to = self.moves.get(name).copied().unwrap_or(name);
        self.to.state_id(to)
    }

    /// Whether the application (on version `version`) can move, and if so every state it
    /// names, old to new. The dry run's answer.
    pub fn check(&self, version: u32, inst: &Instance) -> Result<Vec<StateMove>, Blocker> {
        if inst.is_finished() {
            return Err(Blocker::Finished);
        }
        if version != self.from_version {
            return Err(Blocker::OtherVersion(version));
        }
        let mut moves: Vec<(StateId, StateId)> = Vec::new();
        for s in inst.live_states() {
            if moves.iter().any(|(a, _)| *a == s) {
                continue;
            }
            let old = self.from.state(s);
            let Some(t) = self.target(s) else {
                return Err(Blocker::Unmapped(old.name().to_owned()));
            };
            let new = self.to.state(t);
            if old.kind().type_name() != new.kind().type_name() {
                return Err(Blocker::KindChanged {
                    state: old.name().to_owned(),
                    to: new.name().to_owned(),
                });
            }
            self.same_branches(s, t)?;
            moves.push((s, t));
        }
        for task in inst.open_tasks() {
            let Some(t) = self.target(task.state) else {
                continue;
            };
            // A task handed to another agency when overdue stays with it.
            let was_its = works(self.from.state(task.state).kind(), &task.assignee);
            if was_its && !works(self.to.state(t).kind(), &task.assignee) {
                return Err(Blocker::AssigneeChanged {
                    state: self.from.state(task.state).name().to_owned(),
                    from: task.assignee.key().to_owned(),
                });
            }
        }
        if self.data.is_empty() {
            self.to.check_form(inst.data()).map_err(Blocker::Data)?;
        } else {
            let data = self.data.apply(inst.data())?;
            self.to.check_form(&data).map_err(Blocker::Data)?;
        }
        // Steps done earlier (four-eyes rules name them) and steps waiting on the firm move
        // too, when the new version has them.
        for s in inst.remembered_states() {
            if let Some(t) = self.target(s)
                && !moves.iter().any(|(a, _)| *a == s)
            {
                moves.push((s, t));
            }
        }
        Ok(moves
            .into_iter()
            .map(|(a, b)| StateMove {
                from: self.from.state(a).state_name(),
                to: self.to.state(b).state_name(),
            })
            .collect())
    }

    /// A parallel state keeps its branches; a state inside a branch stays in the same branch of
    /// the parallel state its own parallel state maps to.
    fn same_branches(&self, s: StateId, t: StateId) -> Result<(), Blocker> {
        let (old, new) = (self.from.state(s), self.to.state(t));
        if let (StateKind::Parallel(a), StateKind::Parallel(b)) = (old.kind(), new.kind())
            && a.branches.len() != b.branches.len()
        {
            return Err(Blocker::BranchesChanged(old.name().to_owned()));
        }
        let same = match (old.branch(), new.branch()) {
            (None, None) => true,
            (Some((p, b)), Some((q, c))) => b == c && self.target(p) == Some(q),
            _ => false,
        };
        if same {
            Ok(())
        } else {
            let parallel = old.branch().or(new.branch()).map(|(p, _)| p);
            let name = match (old.branch(), parallel) {
                (Some((p, _)), _) => self.from.state(p).name(),
                (None, Some(q)) => self.to.state(q).name(),
                _ => old.name(),
            };
            Err(Blocker::BranchesChanged(name.to_owned()))
        }
    }

    /// Moves the application: checks it, and returns the `migrated` event, already applied.
    pub fn migrate(
        &self,
        inst: &mut Instance,
        version: u32,
        plan_hash: &str,
        actor: &Actor,
        env: Env<'_>,
    ) -> Result<Event, Blocker> {
        let states = self.check(version, inst)?;
        let due = self.due_times(inst, env);
        let data = if self.data.is_empty() {
            None
        } else {
            Some(self.data.apply(inst.data())?)
                .filter(|d| d != inst.data())
                .map(std::sync::Arc::new)
        };
        let event = Event {
            at: env.now,
            actor: Some(std::sync::Arc::clone(&actor.id)),
            party: None,
            kind: EventKind::Migrated {
                plan: plan_hash.to_owned(),
                from_version: self.from_version,
                to_version: self.to_version,
                states,
                due,
                data,
            },
        };
        inst.migrate(self.from, self.to, &event)
            .map_err(|e| Blocker::Unmapped(e.0))?;
        Ok(event)
    }

    /// Open tasks whose due time the new version's period changes, under the plan's rule.
    fn due_times(&self, inst: &Instance, env: Env<'_>) -> Vec<TaskDue> {
        inst.open_tasks()
            .iter()
            .filter(|t| !t.overdue)
            .filter_map(|t| {
                let spec = match self.to.state(self.target(t.state)?).kind() {
                    StateKind::Task(s) => s.due.as_ref(),
                    StateKind::Approval(a) => a.due.as_ref(),
                    _ => None,
                };
                let start: DateTime<Utc> = match self.plan.timers {
                    Timers::KeepElapsed => t.opened_at,
                    Timers::Restart => env.now,
                };
                let due_at = spec.map(|d| env.calendar.due_at(start, &d.period, &t.assignee));
                (due_at != t.due_at).then_some(TaskDue { task: t.id, due_at })
            })
            .collect()
    }
}

/// Whether a task of `assignee` belongs in a state of this kind in the new version.
fn works(kind: &StateKind, assignee: &Assignee) -> bool {
    match kind {
        StateKind::Task(t) => t.assignee == *assignee,
        StateKind::Approval(a) => a.seats.contains(assignee),
        _ => false,
    }
}

mod data;
use data::DataChanges;
pub use data::MOST_DATA_CHANGES;

#[cfg(test)]
mod tests;
