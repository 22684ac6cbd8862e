//! The pure engine: `(workflow, instance, command, actor, clock) -> events | rejection`.
//!
//! ```text
//!   command ──► check (no change) ──► Rejection
//!                    │ ok
//!                    ▼
//!              transitions ──emit──► Event ──apply──► Instance
//!                                      └──────────────► returned to the caller (store, tests)
//! ```
//!
//! Every change goes through [`Instance::apply`], so replaying the returned events on the
//! previous instance (or all events from the start) reproduces the instance exactly. A rejected
//! command changes nothing and produces no events. No I/O, no clock: time comes in [`Env`].

mod commands;
mod places;

mod command;
mod event;
mod four_eyes;
mod instance;

use std::sync::{Arc, LazyLock};

use chrono::{DateTime, Utc};
use serde_json::Value;

pub use command::{Actor, Command, Party, Rejection};
pub use event::{
    Event, EventKind, EventName, PlaceChange, Remaining, StateMove, TaskDue, TaskId, UnknownState,
    name_legacy_states,
};

use command::NOTES_ARE_INTERNAL;
use instance::Held;
pub use instance::{Instance, OpenTask, Status};

use crate::Workflow;
use crate::duration::{BusinessCalendar, DayCount, DuePeriod};
use crate::expr::to_cel_fields;
use crate::model::{
    Assignee, DueSpec, OnRequest, Overdue, PlaceOp, PlaceStatus, Places, SEAT_ACTIONS, StateId,
    StateKind,
};

/// The outside world the engine may look at: the time, and working-day calendars.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    /// Now.
    pub now: DateTime<Utc>,
    /// Working days for business-day due periods.
    pub calendar: &'a dyn BusinessCalendar,
    /// The pools (by name) this application draws on that have no place left, as the store
    /// read them before the command; the store's write takes the place only if one is still
    /// there, and runs the command again if not.
    pub full: &'a [String],
    /// The workflow's pools this application draws on nothing of: it was submitted before
    /// its programme opened any intake, or it came from a version without the pool. Its
    /// place operations on them do nothing.
    pub unbound: &'a [String],
    /// A new application's hosting firm (the one offering the position applied for): its
    /// `assignee: host` tasks are that firm's. Read at submission only; the instance keeps it.
    pub host: Option<&'a str>,
}

impl std::fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

/// Runs transitions, emitting each event onto the instance and into the output.
struct Exec<'a> {
    wf: &'a Workflow,
    inst: &'a mut Instance,
    env: Env<'a>,
    actor: Arc<str>,
    party: Option<Arc<str>>,
    events: Vec<Event>,
}

impl<'a> Exec<'a> {
    fn new(wf: &'a Workflow, inst: &'a mut Instance, env: Env<'a>, actor: &Actor) -> Self {
        Exec {
            wf,
            inst,
            env,
            actor: Arc::clone(&actor.id),
            party: party_of(actor),
            events: Vec::with_capacity(8),
        }
    }
}

/// What an actor acts for, as recorded in events.
fn party_of(actor: &Actor) -> Option<Arc<str>> {
    match &actor.party {
        Party::Agency(a) => Some(Arc::clone(a)),
        Party::Applicant => {
            static APPLICANT: LazyLock<Arc<str>> =
                LazyLock::new(|| Arc::from(crate::Assignee::Applicant.key()));
            Some(Arc::clone(&APPLICANT))
        }
        Party::System => None,
    }
}

impl Exec<'_> {
    fn emit(&mut self, kind: EventKind) {
        // Moved once, into the command's list of events, and applied from there.
        self.events.push(Event {
            at: self.env.now,
            actor: Some(Arc::clone(&self.actor)),
            party: self.party.clone(),
            kind,
        });
        if let Some(e) = self.events.last() {
            // The engine names states from `self.wf` itself: they always resolve.
            let applied = self.inst.apply(self.wf, e);
            debug_assert!(applied.is_ok(), "{applied:?}");
        }
    }

    fn open_task(&mut self, state: StateId, assignee: Assignee, due: Option<&DueSpec>) {
        // `assignee: host` is the firm hosting this application, once it has one.
        let assignee = match (&assignee, &self.inst.host) {
            (Assignee::Host(k), Some(firm)) if &**k == crate::assignee::HOST => {
                Assignee::host(firm)
            }
            _ => assignee,
        };
        let task = TaskId(self.inst.next_task);
        let now = self.env.now;
        // A step that asked the firm for information starts from its held clock.
        let held = self
            .inst
            .clocks
            .iter()
            .find(|c| c.state == state)
            .and_then(|c| c.held.clone());
        // Whether the due date is an estimate, where the calendar said so with it.
        let mut estimated = None;
        let (due_at, asked_by, days) = match (&held, due) {
            (
                Some(Held::Paused {
                    remaining,
                    asked_by,
                    ..
                }),
                Some(_),
            ) => {
                let at = self.resume_at(*remaining, &assignee);
                self.emit(EventKind::ClockResumed {
                    state: self.wf.state(state).state_name(),
                    due_at: at,
                });
                let days = match remaining {
                    Remaining::BusinessDays(d) => Some(*d),
                    Remaining::Seconds(_) => None,
                };
                (Some(at), asked_by.clone(), days)
            }
            (Some(Held::Running { due_at, asked_by }), Some(_)) => {
                (Some(*due_at), asked_by.clone(), None)
            }
            _ => match due {
                Some(d) => {
                    let (at, estimate) = self.env.calendar.due(now, &d.period, &assignee);
                    estimated = Some(estimate);
                    (Some(at), None, Some(d.period.whole_days()))
                }
                None => (None, None, None),
            },
        };
        // Business days past the end of the holiday table are an estimate: say so.
        let due_estimated = estimated.unwrap_or_else(|| {
            due.zip(due_at).is_some_and(|(d, at)| {
                d.period.count() == DayCount::Business
                    && !self.env.calendar.covers(now, at, &assignee)
            })
        });
        let remind_at = due
            .zip(due_at)
            .and_then(|(d, at)| self.remind_at(d, at, days, &assignee));
        // The task comes back to the reviewer who asked, unless four eyes bar them from it.
        let returns_to = asked_by
            .filter(|person| self.wf.barred(self.inst, state, person).is_none())
            .map(Arc::from);
        self.emit(EventKind::TaskOpened {
            task,
            state: self.wf.state(state).state_name(),
            assignee,
            due_at,
            due_estimated,
            remind_at,
            returns_to,
        });
    }

    /// When a paused step falls due on resuming now: now plus the time that remained, in
    /// working days of the assignee's calendar or in seconds.
    fn resume_at(&self, remaining: Remaining, assignee: &Assignee) -> DateTime<Utc> {
        let now = self.env.now;
        match remaining {
            Remaining::BusinessDays(days) => {
                self.env
                    .calendar
                    .due_at(now, &DuePeriod::days(days, DayCount::Business), assignee)
            }
            Remaining::Seconds(secs) => chrono::Duration::try_seconds(secs)
                .and_then(|d| now.checked_add_signed(d))
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        }
    }

    /// The time task `task` of `state` (due at `due_at`) has left now, as its period counts.
    fn remaining(&self, due: &DueSpec, due_at: DateTime<Utc>, assignee: &Assignee) -> Remaining {
        let now = self.env.now;
        match due.period.count() {
            DayCount::Business => Remaining::BusinessDays(
                self.env
                    .calendar
                    .working_days_between(now, due_at, assignee),
            ),
            DayCount::Calendar => Remaining::Seconds((due_at - now).num_seconds().max(0)),
        }
    }

    /// When the assignee of a task due at `due_at` is reminded: the reminder period before
    /// it, counted as the due period counts (business periods: `days` working days from now
    /// to the due time, less the reminder's); none when that is not after now.
    fn remind_at(
        &self,
        due: &DueSpec,
        due_at: DateTime<Utc>,
        days: Option<u32>,
        assignee: &Assignee,
    ) -> Option<DateTime<Utc>> {
        let remind = due.remind.as_ref()?;
        let at = match due.period.count() {
            DayCount::Calendar => {
                let secs = i64::try_from(remind.fixed_seconds()?).ok()?;
                due_at.checked_sub_signed(chrono::Duration::try_seconds(secs)?)?
            }
            DayCount::Business => {
                let lead = days?.checked_sub(remind.whole_days()).filter(|d| *d > 0)?;
                self.env.calendar.due_at(
                    self.env.now,
                    &DuePeriod::days(lead, DayCount::Business),
                    assignee,
                )
            }
        };
        (at > self.env.now).then_some(at)
    }

    fn enter(&mut self, state: StateId) {
        self.emit(EventKind::Entered {
            state: self.wf.state(state).state_name(),
        });
        let wf = self.wf;
        match wf.state(state).kind() {
            StateKind::Task(t) => self.open_task(state, t.assignee.clone(), t.due.as_ref()),
            StateKind::Approval(a) => {
                for seat in &a.seats {
                    self.open_task(state, seat.clone(), a.due.as_ref());
                }
            }
            StateKind::Choice(c) => {
                // The fields CEL reads, converted once, and only if a condition needs CEL.
                let mut cel_data = None;
                let mut errors = Vec::new();
                let mut chosen = None;
                for (i, (cond, to)) in c.rules.iter().enumerate() {
                    let decided = cond.decide(&self.inst.data).map(Ok);
                    match decided.unwrap_or_else(|| {
                        cond.eval(cel_data.get_or_insert_with(|| {
                            to_cel_fields(
                                &self.inst.data,
                                c.rules.iter().map(|(cond, _)| cond.fields()),
                            )
                        }))
                    }) {
                        Ok(true) => {
                            chosen = Some((i as u16, *to));
                            break;
                        }
                        Ok(false) => {}
                        Err(e) => errors.push(format!("`{}`: {e}", cond.source())),
                    }
                }
                let (rule, to) = chosen.map_or((None, c.otherwise), |(i, t)| (Some(i), t));
                self.emit(EventKind::ChoiceMade {
                    state: wf.state(state).state_name(),
                    rule,
                    to: wf.state(to).state_name(),
                    errors,
                });
                self.go(state, to);
            }
            StateKind::Parallel(p) => {
                for b in &p.branches {
                    self.enter(b.start);
                }
            }
            StateKind::Final { outcome, places } => {
                let outcome = outcome.clone();
                // The place this end confirms is what the application won; any other place
                // held but never confirmed, or a wait in line, ends with the application.
                if let Some(p) = places {
                    self.place(p, None);
                }
                self.release_places(|status| status != PlaceStatus::Confirmed);
                self.emit(EventKind::Completed { outcome });
            }
            // It waits, with no task, until a place comes free (`Command::Promote`).
            StateKind::Waitlist(_) => {}
            StateKind::Done => {
                if let Some((parallel, branch)) = wf.state(state).branch() {
                    self.emit(EventKind::BranchDone {
                        state: wf.state(parallel).state_name(),
                        branch,
                    });
                    let StateKind::Parallel(p) = wf.state(parallel).kind() else {
                        return;
                    };
                    let done = self
                        .inst
                        .branches_done
                        .iter()
                        .filter(|(s, _)| *s == parallel)
                        .count();
                    if done >= usize::from(p.join) {
                        self.exit_parallel(parallel);
                        self.enter(p.next);
                    }
                }
            }
        }
    }

    /// Leaves `from` for `to`. Leaving a branch for a state outside the parallel cancels the
    /// sibling branches.
    fn go(&mut self, from: StateId, to: StateId) {
        self.emit(EventKind::Exited {
            state: self.wf.state(from).state_name(),
        });
        let wf = self.wf;
        if let (Some((parallel, _)), None) = (wf.state(from).branch(), wf.state(to).branch()) {
            self.exit_parallel(parallel);
        }
        self.enter(to);
    }

    /// Cancels every open task inside `parallel` and exits its states and itself.
    fn exit_parallel(&mut self, parallel: StateId) {
        let wf = self.wf;
        let inside = |s: StateId| wf.state(s).branch().is_some_and(|(p, _)| p == parallel);
        let tasks: Vec<TaskId> = self
            .inst
            .tasks
            .iter()
            .filter(|t| inside(t.state))
            .map(|t| t.id)
            .collect();
        for task in tasks {
            self.emit(EventKind::TaskCancelled { task });
        }
        let states: Vec<StateId> = self
            .inst
            .active
            .iter()
            .copied()
            .filter(|s| inside(*s))
            .collect();
        for state in states {
            self.emit(EventKind::Exited {
                state: wf.state(state).state_name(),
            });
        }
        self.emit(EventKind::Exited {
            state: wf.state(parallel).state_name(),
        });
    }

    fn cancel_tasks_of(&mut self, state: StateId) {
        let tasks: Vec<TaskId> = self
            .inst
            .tasks
            .iter()
            .filter(|t| t.state == state)
            .map(|t| t.id)
            .collect();
        for task in tasks {
            self.emit(EventKind::TaskCancelled { task });
        }
    }

    /// When an action of `task` asks the firm for information and the step's clock (`due`)
    /// pauses for it: the time the step has left.
    fn pause_on_request(
        &self,
        task: TaskId,
        state: StateId,
        due: Option<&DueSpec>,
    ) -> Option<Remaining> {
        let due = due?;
        let pauses = self
            .inst
            .clocks
            .iter()
            .find(|c| c.state == state)
            .map_or(0, |c| c.pauses);
        if due.effective(pauses) != OnRequest::Pause {
            return None;
        }
        let t = self.inst.task(task)?;
        Some(self.remaining(due, t.due_at?, &t.assignee))
    }

    fn complete(
        &mut self,
        task: TaskId,
        state: StateId,
        action: String,
        comment: Option<String>,
        input: Option<Value>,
    ) {
        let wf = self.wf;
        match wf.state(state).kind() {
            StateKind::Task(t) => {
                let Some(spec) = t.action(&action) else {
                    return;
                };
                let to = spec.to;
                let pause = spec
                    .request
                    .then(|| self.pause_on_request(task, state, t.due.as_ref()))
                    .flatten();
                let rank = input
                    .as_ref()
                    .and_then(|i| i.get("rank"))
                    .and_then(Value::as_i64)
                    .and_then(|r| i32::try_from(r).ok());
                self.emit(EventKind::TaskCompleted {
                    task,
                    action,
                    comment,
                    input,
                });
                if let Some(remaining) = pause {
                    self.emit(EventKind::ClockPaused {
                        state: wf.state(state).state_name(),
                        task,
                        remaining,
                    });
                }
                let to = match &spec.places {
                    Some(places) => self.place(places, rank).unwrap_or(to),
                    None => to,
                };
                self.go(state, to);
            }
            StateKind::Approval(a) => {
                self.emit(EventKind::TaskCompleted {
                    task,
                    action,
                    comment,
                    input,
                });
                let Some(v) = self.inst.votes.iter().find(|v| v.state == state) else {
                    return;
                };
                let seats = a.seats.len() as u16;
                let target = if v.approvals >= a.required {
                    Some(a.approved)
                } else if v.rejections > seats - a.required {
                    Some(a.rejected)
                } else {
                    None
                };
                if let Some(to) = target {
                    self.cancel_tasks_of(state);
                    self.go(state, to);
                }
            }
            _ => {}
        }
    }
}
