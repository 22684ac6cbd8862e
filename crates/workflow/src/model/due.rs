//! When a task falls due, what happens then, and what a request for information does to
//! its clock.

use crate::duration::DuePeriod;

use super::StateId;

/// Days before a task's due time that its assignee is reminded, unless the workflow says
/// otherwise (`due: {remind: …}`).
pub const DEFAULT_REMIND_DAYS: u32 = 2;

/// When a task falls due and what happens then.
#[derive(Debug)]
pub struct DueSpec {
    pub(crate) period: DuePeriod,
    pub(crate) overdue: Overdue,
    /// How long before the due time the assignee is reminded, counted as the period counts
    /// (business periods: whole days); `None`: no reminder.
    pub(crate) remind: Option<DuePeriod>,
    /// What an information request to the applicant does to the clock (`on_request`).
    pub(crate) on_request: OnRequest,
    /// How many times the clock may pause at this step (`max_pauses`); later requests leave
    /// it running. `None`: no cap.
    pub(crate) max_pauses: Option<u16>,
}

/// What an information request to the applicant does to the asking step's clock
/// (`due: {on_request: …}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnRequest {
    /// The clock stops while the firm answers; on the answer the step is due after the time
    /// that remained (the default).
    Pause,
    /// The clock keeps running: the step is due when it was due before the request.
    Run,
    /// The step starts again with its whole period.
    Restart,
}

impl OnRequest {
    /// The word as written (`pause`, `run`, `restart`).
    pub fn as_str(self) -> &'static str {
        match self {
            OnRequest::Pause => "pause",
            OnRequest::Run => "run",
            OnRequest::Restart => "restart",
        }
    }

    /// The mode a word names.
    pub fn parse(word: &str) -> Option<Self> {
        [OnRequest::Pause, OnRequest::Run, OnRequest::Restart]
            .into_iter()
            .find(|m| m.as_str() == word)
    }
}

impl DueSpec {
    /// The period (calendar or business days).
    pub fn period(&self) -> &DuePeriod {
        &self.period
    }
    /// What happens when the task is overdue.
    pub fn overdue(&self) -> &Overdue {
        &self.overdue
    }
    /// How long before the due time the assignee is reminded (counted as the period counts);
    /// `None`: never.
    pub fn remind(&self) -> Option<&DuePeriod> {
        self.remind.as_ref()
    }
    /// What an information request to the applicant does to the clock.
    pub fn on_request(&self) -> OnRequest {
        self.on_request
    }
    /// The cap on pauses at this step, if any.
    pub fn max_pauses(&self) -> Option<u16> {
        self.max_pauses
    }
    /// What a request does once the clock has paused `pauses` times: past the cap it runs.
    pub fn effective(&self, pauses: u16) -> OnRequest {
        match (self.on_request, self.max_pauses) {
            (OnRequest::Pause, Some(cap)) if pauses >= cap => OnRequest::Run,
            (mode, _) => mode,
        }
    }
}

/// What an overdue timer does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overdue {
    /// Nothing but record that the task is overdue (it stays open).
    Flag,
    /// Cancel the task and move to another state.
    Escalate(StateId),
    /// Hand the task to another agency.
    Reassign(String),
    /// Take one of the task's actions automatically (actor `system`).
    Action(String),
}
