//! What is measured on one application. Times are seconds; reports say them in days (÷ 86,400).
//!
//! - **Waiting on the firm**: while a task for the applicant is open (an information request
//!   the firm has not answered), merged where two overlap.
//! - **A task's time**: from opening to closing (or now), in calendar time and in working time
//!   of its assignee's calendar ([`Calendars::working_seconds`]); an agency's task does not
//!   count the time the application waited on the firm meanwhile.
//! - **Lead time**: submission to decision (or now), calendar and Hong Kong working time, with
//!   the time it waited on the firm beside it.
//! - **An information request**: the firm's task, asked by the agency step whose task closed as
//!   it opened.

use chrono::{DateTime, Utc};
use softland_workflow::Assignee;
use softland_workflow::duration::{Calendars, Region};

use super::{Case, CaseTask};

/// Seconds in a day: reports' unit.
pub const DAY: f64 = 86_400.0;

/// An interval of time.
pub type Span = (DateTime<Utc>, DateTime<Utc>);

/// When the application waited on the firm, in order, merged.
pub fn waiting(case: &Case, now: DateTime<Utc>) -> Vec<Span> {
    let mut spans: Vec<Span> = case
        .tasks
        .iter()
        .filter(|t| t.assignee == Assignee::Applicant)
        .map(|t| (t.opened_at, t.closed_at.unwrap_or(now)))
        .filter(|(a, b)| a < b)
        .collect();
    spans.sort();
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for (a, b) in spans {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = Ord::max(last.1, b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

/// Time spent: calendar and working seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Spent {
    /// Calendar seconds.
    pub calendar: i64,
    /// Seconds on working days of the calendar that counts.
    pub business: i64,
}

/// `[a, b)` less the parts in `waiting`, in calendar and `region`'s working seconds.
fn net(cal: &Calendars, region: Region, (a, b): Span, waiting: &[Span]) -> Spent {
    let mut spent = Spent {
        calendar: Ord::max((b - a).num_seconds(), 0),
        business: cal.working_seconds(region, a, b),
    };
    for &(w0, w1) in waiting {
        let (s, e) = (Ord::max(a, w0), Ord::min(b, w1));
        if s < e {
            spent.calendar -= (e - s).num_seconds();
            spent.business -= cal.working_seconds(region, s, e);
        }
    }
    spent
}

/// A task's time, from opening to closing (or `now`); an agency's without the waiting on the
/// firm.
pub fn task_time(cal: &Calendars, t: &CaseTask, waiting: &[Span], now: DateTime<Utc>) -> Spent {
    let span = (t.opened_at, t.closed_at.unwrap_or(now));
    let region = cal.region_of(&t.assignee);
    match t.assignee {
        Assignee::Applicant => net(cal, region, span, &[]),
        // A hosting firm's step, like an agency's, waits on the student's answers.
        Assignee::Agency(_) | Assignee::Host(_) => net(cal, region, span, waiting),
    }
}

/// An application's lead time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lead {
    /// Submission to decision (or now), whole.
    pub whole: Spent,
    /// Seconds of it it waited on the firm (calendar).
    pub waiting: i64,
}

/// Submission to decision (or `now`), on Hong Kong's calendar.
pub fn lead(cal: &Calendars, case: &Case, now: DateTime<Utc>) -> Lead {
    let span = (case.submitted_at, case.decided_at.unwrap_or(now));
    let waited = waiting(case, span.1);
    Lead {
        whole: net(cal, Region::HongKong, span, &[]),
        waiting: waited
            .iter()
            .map(|&(a, b)| {
                (Ord::min(b, span.1) - Ord::max(a, span.0))
                    .num_seconds()
                    .max(0)
            })
            .sum(),
    }
}

/// An information request: the firm's task and the agency step that asked.
#[derive(Debug, Clone, PartialEq)]
pub struct Request<'a> {
    /// The firm's task.
    pub task: &'a CaseTask,
    /// The agency task that asked (closed as the firm's opened).
    pub asked_by: Option<&'a CaseTask>,
    /// How long the firm took (or has taken so far), calendar seconds.
    pub firm_seconds: i64,
}

/// The application's information requests, in order.
pub fn requests(case: &Case, now: DateTime<Utc>) -> Vec<Request<'_>> {
    case.tasks
        .iter()
        .filter(|t| t.assignee == Assignee::Applicant)
        .map(|t| Request {
            task: t,
            asked_by: case
                .tasks
                .iter()
                .filter(|a| matches!(a.assignee, Assignee::Agency(_)))
                .filter(|a| a.closed_at.is_some_and(|c| c <= t.opened_at))
                .max_by_key(|a| (a.closed_at, a.task_no)),
            firm_seconds: (t.closed_at.unwrap_or(now) - t.opened_at)
                .num_seconds()
                .max(0),
        })
        .collect()
}
