//! Queues now: the open tasks of each agency (and the firms') by age in the assignee's working
//! days — 0–5, 5–10, 10 and more — claimed or not, whatever the period.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use softland_workflow::Assignee;

use super::measure::DAY;
use crate::Store;
use crate::entity::enums::TaskStatus as DbTaskStatus;
use crate::entity::task;
use crate::error::Result;

/// Open tasks of one assignee now.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Queue {
    /// The agency's key, or `applicant` (waiting on the firm).
    pub assignee: String,
    /// Open for under 5 working days, 5 to under 10, 10 or more.
    pub bands: [u64; 3],
    /// Of them, claimed by someone.
    pub claimed: u64,
}

impl Queue {
    /// All of its open tasks.
    pub fn open(&self) -> u64 {
        self.bands.iter().sum()
    }
}

/// The age band of `days` working days.
pub fn band(days: f64) -> usize {
    match days {
        d if d < 5.0 => 0,
        d if d < 10.0 => 1,
        _ => 2,
    }
}

/// An open task's assignee, opening time, claim, workflow and version.
type OpenRow = (String, DateTime<Utc>, Option<String>, String, i32);

impl Store {
    /// Open tasks per assignee now, of the workflows `overseen_by` oversees (all when `None`),
    /// of one workflow and one agency if asked; most open first.
    pub async fn queues(
        &self,
        overseen_by: Option<&str>,
        workflow_key: Option<&str>,
        agency: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Queue>> {
        let mut find = task::Entity::find()
            .select_only()
            .columns([
                task::Column::Assignee,
                task::Column::OpenedAt,
                task::Column::ClaimedBy,
                task::Column::WorkflowKey,
                task::Column::WorkflowVersion,
            ])
            .filter(task::Column::Status.eq(DbTaskStatus::Open));
        if let Some(key) = workflow_key {
            find = find.filter(task::Column::WorkflowKey.eq(key));
        }
        if let Some(a) = agency {
            find = find.filter(task::Column::Assignee.eq(a));
        }
        let rows: Vec<OpenRow> = find.into_tuple().all(self.db()).await?;
        let mut seen: BTreeMap<(String, i32), bool> = BTreeMap::new();
        let mut queues: BTreeMap<String, Queue> = BTreeMap::new();
        for (assignee, opened, claimed, key, version) in rows {
            if let Some(observer) = overseen_by {
                let overseen = match seen.get(&(key.clone(), version)) {
                    Some(v) => *v,
                    None => {
                        let v = self
                            .workflow(&key, version)
                            .await?
                            .oversight()
                            .iter()
                            .any(|a| a == observer);
                        seen.insert((key, version), v);
                        v
                    }
                };
                if !overseen {
                    continue;
                }
            }
            let region = self.calendars().region_of(&Assignee::parse(&assignee));
            let days = self.calendars().working_seconds(region, opened, now) as f64 / DAY;
            let q = queues.entry(assignee.clone()).or_insert_with(|| Queue {
                assignee,
                ..Queue::default()
            });
            q.bands[band(days)] += 1;
            q.claimed += u64::from(claimed.is_some());
        }
        let mut out: Vec<Queue> = queues.into_values().collect();
        out.sort_by(|a, b| {
            b.open()
                .cmp(&a.open())
                .then_with(|| a.assignee.cmp(&b.assignee))
        });
        Ok(out)
    }
}
