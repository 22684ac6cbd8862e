//! Queues now: the open tasks of each agency (and the firms') by age in the assignee's working
//! days — 0–5, 5–10, 10 and more — claimed or not, whatever the period. The firms' tasks
//! (waiting on the firm) are counted per agency that asked.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use softland_workflow::Assignee;
use uuid::Uuid;

use super::measure::DAY;
use crate::Store;
use crate::entity::task;
use crate::error::Result;

/// Open tasks of one assignee now.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Queue {
    /// The agency's key, or `applicant` (waiting on the firm).
    pub assignee: String,
    /// For the firms' tasks: the agency whose information request they answer (when the
    /// task before it says).
    pub asked_by: Option<String>,
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

/// An open task's application, assignee, opening time, claim, workflow and version.
type OpenRow = (Uuid, String, DateTime<Utc>, Option<String>, String, i32);

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
                task::Column::ApplicationId,
                task::Column::Assignee,
                task::Column::OpenedAt,
                task::Column::ClaimedBy,
                task::Column::WorkflowKey,
                task::Column::WorkflowVersion,
            ])
            .filter(task::is_open());
        if let Some(key) = workflow_key {
            find = find.filter(task::Column::WorkflowKey.eq(key));
        }
        if let Some(a) = agency {
            // Its own, and the firms' (those it asked are kept below).
            find = find.filter(task::Column::Assignee.is_in([a, Assignee::Applicant.key()]));
        }
        let rows: Vec<OpenRow> = find.into_tuple().all(self.db()).await?;
        let mut seen: BTreeMap<(String, i32), bool> = BTreeMap::new();
        let mut kept: Vec<(Uuid, String, DateTime<Utc>, bool)> = Vec::new();
        for (app, assignee, opened, claimed, key, version) in rows {
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
            kept.push((app, assignee, opened, claimed.is_some()));
        }
        let waiting: Vec<(Uuid, DateTime<Utc>)> = kept
            .iter()
            .filter(|t| t.1 == Assignee::Applicant.key())
            .map(|t| (t.0, t.2))
            .collect();
        let askers = self.askers(&waiting).await?;
        let mut queues: BTreeMap<(String, Option<String>), Queue> = BTreeMap::new();
        for (app, assignee, opened, claimed) in kept {
            let asked_by = (assignee == Assignee::Applicant.key())
                .then(|| askers.get(&(app, opened)).cloned())
                .flatten();
            if let Some(a) = agency
                && assignee != a
                && asked_by.as_deref() != Some(a)
            {
                continue;
            }
            let region = self.calendars().region_of(&Assignee::parse(&assignee));
            let days = self.calendars().working_seconds(region, opened, now) as f64 / DAY;
            let q = queues
                .entry((assignee.clone(), asked_by.clone()))
                .or_insert_with(|| Queue {
                    assignee,
                    asked_by,
                    ..Queue::default()
                });
            q.bands[band(days)] += 1;
            q.claimed += u64::from(claimed);
        }
        let mut out: Vec<Queue> = queues.into_values().collect();
        out.sort_by(|a, b| {
            b.open()
                .cmp(&a.open())
                .then_with(|| a.assignee.cmp(&b.assignee))
                .then_with(|| a.asked_by.cmp(&b.asked_by))
        });
        Ok(out)
    }

    /// For each firm's task `(application, opened at)`: the agency whose task closed last at or
    /// before it opened — the one that asked.
    async fn askers(
        &self,
        waiting: &[(Uuid, DateTime<Utc>)],
    ) -> Result<HashMap<(Uuid, DateTime<Utc>), String>> {
        let mut out = HashMap::new();
        for chunk in waiting.chunks(500) {
            let ids: Vec<Uuid> = chunk.iter().map(|w| w.0).collect();
            let closed: Vec<(Uuid, String, Option<DateTime<Utc>>)> = task::Entity::find()
                .select_only()
                .columns([
                    task::Column::ApplicationId,
                    task::Column::Assignee,
                    task::Column::ClosedAt,
                ])
                .filter(task::Column::ApplicationId.is_in(ids))
                .filter(task::Column::Assignee.ne(Assignee::Applicant.key()))
                .filter(task::Column::ClosedAt.is_not_null())
                .into_tuple()
                .all(self.db())
                .await?;
            for &(app, opened) in chunk {
                let asker = closed
                    .iter()
                    .filter(|(a, _, c)| *a == app && c.is_some_and(|c| c <= opened))
                    .max_by_key(|(_, _, c)| *c)
                    .map(|(_, agency, _)| agency.clone());
                if let Some(agency) = asker {
                    out.insert((app, opened), agency);
                }
            }
        }
        Ok(out)
    }
}
