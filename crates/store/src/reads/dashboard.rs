//! What the administrators' dashboard shows: open and overdue tasks per assignee, and how long
//! each step's tasks took from opening to completion.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::Store;
use crate::entity::enums::TaskStatus as DbTaskStatus;
use crate::entity::task;
use crate::error::Result;

/// Completed tasks the step times are measured on, at most (a sample: the dashboard must not
/// read every task ever completed).
pub const STEP_SAMPLE: u64 = 20_000;

/// Open tasks of one assignee (an agency's key, or `applicant`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssigneeLoad {
    pub assignee: String,
    pub open: i64,
    pub overdue: i64,
}

/// How long one step's tasks took.
#[derive(Debug, Clone, PartialEq)]
pub struct StepTime {
    pub workflow_key: String,
    /// The workflow version its labels come from (the newest of the sample).
    pub workflow_version: i32,
    pub state: String,
    /// Completed tasks measured.
    pub completed: i64,
    /// Median hours from opening to completion.
    pub median_hours: f64,
    /// Mean hours from opening to completion.
    pub mean_hours: f64,
}

impl Store {
    /// Open and overdue (due before `now`) tasks per assignee, most open first.
    pub async fn open_tasks_by_assignee(&self, now: DateTime<Utc>) -> Result<Vec<AssigneeLoad>> {
        let overdue = Expr::case(task::Column::DueAt.lt(now), 1).finally(0).sum();
        let rows: Vec<(String, i64, Option<i64>)> = task::Entity::find()
            .select_only()
            .column(task::Column::Assignee)
            .column_as(task::Column::Id.count(), "open")
            .column_as(overdue, "overdue")
            .filter(task::is_open())
            .group_by(task::Column::Assignee)
            .into_tuple()
            .all(self.db())
            .await?;
        let mut out: Vec<AssigneeLoad> = rows
            .into_iter()
            .map(|(assignee, open, overdue)| AssigneeLoad {
                assignee,
                open,
                overdue: overdue.unwrap_or(0),
            })
            .collect();
        out.sort_by(|a, b| {
            b.open
                .cmp(&a.open)
                .then_with(|| a.assignee.cmp(&b.assignee))
        });
        Ok(out)
    }

    /// Time from opening to completion per step, over at most [`STEP_SAMPLE`] completed tasks.
    pub async fn step_times(&self) -> Result<Vec<StepTime>> {
        let rows: Vec<Sample> = task::Entity::find()
            .select_only()
            .column(task::Column::WorkflowKey)
            .column(task::Column::WorkflowVersion)
            .column(task::Column::State)
            .column(task::Column::OpenedAt)
            .column(task::Column::ClosedAt)
            .filter(task::Column::Status.eq(DbTaskStatus::Completed))
            .limit(STEP_SAMPLE)
            .into_tuple()
            .all(self.db())
            .await?;
        Ok(summarize(rows))
    }
}

type Sample = (String, i32, String, DateTime<Utc>, Option<DateTime<Utc>>);

/// Median and mean hours per `(workflow, state)`, slowest median first.
fn summarize(rows: Vec<Sample>) -> Vec<StepTime> {
    let mut by_step: BTreeMap<(String, String), (i32, Vec<f64>)> = BTreeMap::new();
    for (key, version, state, opened, closed) in rows {
        let Some(closed) = closed else { continue };
        let hours = Ord::max((closed - opened).num_seconds(), 0) as f64 / 3600.0;
        let entry = by_step.entry((key, state)).or_insert((version, Vec::new()));
        entry.0 = Ord::max(entry.0, version);
        entry.1.push(hours);
    }
    let mut out: Vec<StepTime> = by_step
        .into_iter()
        .map(|((workflow_key, state), (workflow_version, mut hours))| {
            hours.sort_by(f64::total_cmp);
            let n = hours.len();
            let median = if n % 2 == 1 {
                hours[n / 2]
            } else {
                (hours[n / 2 - 1] + hours[n / 2]) / 2.0
            };
            StepTime {
                workflow_key,
                workflow_version,
                state,
                completed: n as i64,
                median_hours: median,
                mean_hours: hours.iter().sum::<f64>() / n as f64,
            }
        })
        .collect();
    out.sort_by(|a, b| b.median_hours.total_cmp(&a.median_hours));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::hours(hours)
    }

    #[test]
    fn step_times_are_medians_and_means_per_step() {
        let rows = vec![
            ("wf".into(), 1, "review".into(), at(0), Some(at(10))),
            ("wf".into(), 2, "review".into(), at(0), Some(at(20))),
            ("wf".into(), 2, "review".into(), at(0), Some(at(60))),
            ("wf".into(), 1, "nominate".into(), at(0), Some(at(1))),
            ("wf".into(), 1, "nominate".into(), at(0), Some(at(3))),
            ("wf".into(), 1, "nominate".into(), at(5), None),
        ];
        let steps = summarize(rows);
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0].state, "review");
        assert_eq!(steps[0].workflow_version, 2);
        assert_eq!(steps[0].completed, 3);
        assert!((steps[0].median_hours - 20.0).abs() < 1e-9);
        assert!((steps[0].mean_hours - 30.0).abs() < 1e-9);
        assert_eq!(steps[1].state, "nominate");
        assert_eq!(steps[1].completed, 2);
        assert!((steps[1].median_hours - 2.0).abs() < 1e-9);
    }
}
