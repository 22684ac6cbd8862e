//! A report: the figures [`super::figures::Figures`] gathers, as the API and the console show
//! them.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Median, p90 and maximum of some days.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Stats {
    /// How many.
    pub n: u64,
    /// The median.
    pub median: f64,
    /// The 90th percentile (nearest rank).
    pub p90: f64,
    /// The largest.
    pub max: f64,
    /// Their sum.
    pub total: f64,
}

impl Stats {
    /// Of these values (in any order); all zero for none.
    pub fn of(mut values: Vec<f64>) -> Self {
        let n = values.len();
        if n == 0 {
            return Self::default();
        }
        values.sort_by(f64::total_cmp);
        let median = if n % 2 == 1 {
            values[n / 2]
        } else {
            (values[n / 2 - 1] + values[n / 2]) / 2.0
        };
        let rank = (n * 9).div_ceil(10).max(1);
        Self {
            n: n as u64,
            median,
            p90: values[rank - 1],
            max: values[n - 1],
            total: values.iter().sum(),
        }
    }
}

/// Applications by what they came to.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Counts {
    /// All of them.
    pub total: u64,
    /// By result (`approved`, `rejected`, `withdrawn`, `lapsed`, `open`, …), most first.
    pub by_result: Vec<(String, u64)>,
}

impl Counts {
    /// How many came to `result`.
    pub fn of(&self, result: &str) -> u64 {
        self.by_result
            .iter()
            .find(|(r, _)| r == result)
            .map_or(0, |(_, n)| *n)
    }
}

/// Times of one step (of one workflow, for one agency), or of one agency when `state` is
/// empty.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StepFigures {
    pub workflow_key: String,
    /// The newest version seen (its labels name the step).
    pub workflow_version: i32,
    pub state: String,
    pub agency: String,
    /// Calendar days.
    pub calendar: Stats,
    /// Days of the agency's working days.
    pub business: Stats,
    /// Completed tasks with a due time, and how many of them before it.
    pub with_due: u64,
    pub on_time: u64,
    /// Tasks reassigned on overdue.
    pub reassigned: u64,
}

impl StepFigures {
    /// Share of tasks completed before due (0 to 1), if any had a due time.
    pub fn on_time_share(&self) -> Option<f64> {
        (self.with_due > 0).then(|| self.on_time as f64 / self.with_due as f64)
    }
}

/// An open task past its due time.
#[derive(Debug, Clone, PartialEq)]
pub struct Overdue {
    pub application_id: Uuid,
    pub reference: String,
    pub workflow_key: String,
    pub workflow_version: i32,
    pub state: String,
    pub agency: String,
    pub due_at: DateTime<Utc>,
    /// Working days of the agency since it fell due.
    pub business_days: f64,
}

/// Information requests a step made.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Loops {
    pub workflow_key: String,
    pub workflow_version: i32,
    pub state: String,
    pub agency: String,
    /// Requests made.
    pub requests: u64,
    /// Applications asked.
    pub applications: u64,
    /// Calendar days the firm took (answered requests).
    pub firm: Stats,
}

/// Lead times of the applications that came to one result.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LeadFigures {
    pub result: String,
    /// Submission to decision, calendar days.
    pub calendar: Stats,
    /// The same in Hong Kong working days.
    pub business: Stats,
    /// Days of it the firm was asked for information (calendar).
    pub waiting: Stats,
}

/// A report's figures.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// The applications of the period.
    pub volumes: Counts,
    /// By month of the period's date (`2026-11`, Hong Kong time), in order.
    pub by_month: Vec<(String, Counts)>,
    /// By the applicant's region (`unknown` when the directory does not say).
    pub by_region: Vec<(String, Counts)>,
    /// By the intake the applications belong to (by its name; those of no intake left out).
    pub by_intake: Vec<(String, Counts)>,
    /// Lead times of decided applications, by result.
    pub lead_times: Vec<LeadFigures>,
    /// Per step and agency, slowest median (working days) first.
    pub steps: Vec<StepFigures>,
    /// Per agency (`state` empty), slowest median first.
    pub agencies: Vec<StepFigures>,
    /// Open tasks past due, longest overdue first (at most [`super::figures::MOST_LISTED`]).
    pub overdue: Vec<Overdue>,
    /// How many open tasks are past due.
    pub overdue_total: u64,
    /// The steps where applications waited longest in all (working days), at most
    /// [`super::figures::BOTTLENECKS`].
    pub bottlenecks: Vec<StepFigures>,
    /// Information requests per asking step, most first.
    pub loops: Vec<Loops>,
}
