//! What a report takes from one application ([`Facts::of`]): everything [`super::figures`]
//! needs that does not depend on when the report is made — step times, service levels, the
//! lead time, information requests, reassignments, the open tasks' due times. Facts are a
//! function of the application's revision, so they are kept (`super::kept`) and a report over
//! a million applications reads one row each instead of their tasks and events.
//!
//! Stored as JSON with short names (a row is read for every application of a period).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use softland_workflow::Assignee;
use softland_workflow::duration::Calendars;

use super::Case;
use super::measure::{self, Spent};
use crate::records::TaskStatus;

/// A step: its workflow, state and the agency whose task it was.
pub type StepKey = (String, String, String);

/// An application's facts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Facts {
    /// Its reference.
    #[serde(rename = "r")]
    pub reference: String,
    /// When it finished.
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<DateTime<Utc>>,
    /// Who had a task in it (agencies' keys, `applicant`).
    #[serde(rename = "a")]
    pub assignees: Vec<String>,
    /// Once decided: calendar and Hong Kong working seconds from submission, and the calendar
    /// seconds of it it waited on the firm.
    #[serde(rename = "l", default, skip_serializing_if = "Option::is_none")]
    pub lead: Option<[i64; 3]>,
    /// Its agencies' steps.
    #[serde(rename = "s", default)]
    pub steps: Vec<StepFact>,
    /// Per agency, the time of its completed tasks (calendar, working seconds).
    #[serde(rename = "t", default)]
    pub agency_time: Vec<(String, [i64; 2])>,
    /// Information requests per asking step.
    #[serde(rename = "q", default)]
    pub loops: Vec<LoopFact>,
    /// Each reassignment on overdue: the steps it counts at, the latest task's first (an
    /// agency filter takes the first of its own).
    #[serde(rename = "o", default)]
    pub reassigned: Vec<Vec<StepKey>>,
}

/// One step of an application.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StepFact {
    /// Which step.
    #[serde(rename = "k")]
    pub key: StepKey,
    /// The newest workflow version of its tasks.
    #[serde(rename = "v")]
    pub version: i32,
    /// Its completed tasks' time less the waiting on the firm (calendar, working seconds);
    /// none if none completed.
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub spent: Option<[i64; 2]>,
    /// Completed tasks with a due time, and how many of them before it.
    #[serde(rename = "w", default)]
    pub with_due: u64,
    #[serde(rename = "n", default)]
    pub on_time: u64,
    /// Its open tasks' versions and due times.
    #[serde(rename = "o", default, skip_serializing_if = "Vec::is_empty")]
    pub open_due: Vec<(i32, DateTime<Utc>)>,
}

/// The information requests one step of an application made.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LoopFact {
    /// The step that asked.
    #[serde(rename = "k")]
    pub key: StepKey,
    /// The newest version of its asking tasks.
    #[serde(rename = "v")]
    pub version: i32,
    /// Requests made.
    #[serde(rename = "n")]
    pub requests: u64,
    /// Calendar seconds the firm took, per answered request.
    #[serde(rename = "f", default)]
    pub firm: Vec<i64>,
}

fn key_of(t: &super::CaseTask) -> StepKey {
    (
        t.workflow_key.clone(),
        t.state.clone(),
        t.assignee.key().to_owned(),
    )
}

impl Facts {
    /// The facts of `case`.
    pub fn of(case: &Case, calendars: &Calendars) -> Self {
        // Any instant after every closing measures the same: the waiting on the firm is only
        // ever cut at a closed task's end.
        let last = case
            .tasks
            .iter()
            .flat_map(|t| [Some(t.opened_at), t.closed_at])
            .flatten()
            .chain(case.decided_at)
            .max()
            .unwrap_or(case.submitted_at);
        let waiting = measure::waiting(case, last);
        let mut steps: BTreeMap<StepKey, StepFact> = BTreeMap::new();
        let mut agency_time: BTreeMap<String, Spent> = BTreeMap::new();
        let mut assignees: Vec<String> = Vec::new();
        for t in &case.tasks {
            let who = t.assignee.key();
            if !assignees.iter().any(|a| a == who) {
                assignees.push(who.to_owned());
            }
            if !matches!(t.assignee, Assignee::Agency(_)) {
                continue;
            }
            let step = steps.entry(key_of(t)).or_insert_with(|| StepFact {
                key: key_of(t),
                ..StepFact::default()
            });
            step.version = Ord::max(step.version, t.workflow_version);
            match t.status {
                TaskStatus::Completed => {
                    let spent = measure::task_time(calendars, t, &waiting, last);
                    let sum = step.spent.get_or_insert([0, 0]);
                    sum[0] += spent.calendar;
                    sum[1] += spent.business;
                    let a = agency_time.entry(who.to_owned()).or_default();
                    a.calendar += spent.calendar;
                    a.business += spent.business;
                    if let (Some(due), Some(closed)) = (t.due_at, t.closed_at) {
                        step.with_due += 1;
                        step.on_time += u64::from(closed <= due);
                    }
                }
                TaskStatus::Open => {
                    if let Some(due) = t.due_at {
                        step.open_due.push((t.workflow_version, due));
                    }
                }
                TaskStatus::Cancelled => {}
            }
        }
        let reassigned = case
            .reassigned
            .iter()
            .map(|state| {
                let mut at: Vec<StepKey> = Vec::new();
                for t in case.tasks.iter().rev() {
                    if &t.state == state
                        && matches!(t.assignee, Assignee::Agency(_))
                        && !at.iter().any(|k| k.2 == t.assignee.key())
                    {
                        at.push(key_of(t));
                    }
                }
                at
            })
            .collect();
        let mut loops: BTreeMap<StepKey, LoopFact> = BTreeMap::new();
        for r in measure::requests(case, last) {
            let Some(by) = r.asked_by else { continue };
            let l = loops.entry(key_of(by)).or_insert_with(|| LoopFact {
                key: key_of(by),
                ..LoopFact::default()
            });
            l.version = Ord::max(l.version, by.workflow_version);
            l.requests += 1;
            if r.task.closed_at.is_some() {
                l.firm.push(r.firm_seconds);
            }
        }
        Self {
            reference: case.reference.clone(),
            decided_at: case.decided_at,
            assignees,
            lead: case.decided_at.map(|_| {
                let lead = measure::lead(calendars, case, last);
                [lead.whole.calendar, lead.whole.business, lead.waiting]
            }),
            steps: steps.into_values().collect(),
            agency_time: agency_time
                .into_iter()
                .map(|(a, s)| (a, [s.calendar, s.business]))
                .collect(),
            loops: loops.into_values().collect(),
            reassigned,
        }
    }
}
