//! Bulk loading: many applications in one transaction, for growth benchmarks and for importing
//! history from another system.
//!
//! Every application goes through the same engine as a live command — form validation, task
//! rows, due dates, the hash-chained event log — so `softland doctor` holds for bulk-loaded
//! data exactly as for live data. Only the database writes differ: rows of many applications
//! share multi-row `INSERT`s. Bulk-loaded events do not go to the outbox: they are history, not
//! news for subscribers; nor do they take places of a pool (a programme's intakes and
//! positions count what live applications take).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, EntityTrait};
use serde_json::Value;
use softland_workflow::{Actor, Assignee, Command, Env, Party, Workflow};
use uuid::Uuid;

use crate::commands::plan::{Writer, plan_events, snapshot};
use crate::entity::{application, event, organization, task, timer};
use crate::error::{Error, Result};
use crate::hash::genesis;
use crate::{BackendKind, Store};

/// One application to load: submitted at `submitted_at`, then taken through `steps`.
#[derive(Debug, Clone)]
pub struct SeedApplication {
    /// The workflow (its current version).
    pub workflow_key: String,
    /// The applicant organization.
    pub organization: String,
    /// When it was submitted (and when its steps happened).
    pub submitted_at: DateTime<Utc>,
    /// The application form.
    pub data: Value,
    /// Actions taken after submission, in order.
    pub steps: Vec<SeedStep>,
}

/// One action of a [`SeedApplication`]: on the open task of `state` assigned to the actor's
/// agency (or to the applicant).
#[derive(Debug, Clone)]
pub struct SeedStep {
    /// The task's state.
    pub state: String,
    /// Who acts.
    pub actor: Actor,
    /// The action.
    pub action: String,
    /// The action's input.
    pub input: Option<Value>,
}

/// Rows per multi-row `INSERT`: well under SQLite's 32 766 and PostgreSQL's 65 535 bind
/// parameters for the widest table (tasks, 20 columns).
const CHUNK: usize = 1000;

async fn insert_chunked<A>(txn: &sea_orm::DatabaseTransaction, rows: Vec<A>) -> Result<()>
where
    A: ActiveModelTrait + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(CHUNK).collect();
        A::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

impl Store {
    /// Loads applications in one transaction; returns their ids in order. Any refused step
    /// refuses the whole batch (nothing is written).
    pub async fn bulk_load(&self, seeds: &[SeedApplication]) -> Result<Vec<Uuid>> {
        let txn = self.begin().await?;
        let mut workflows: HashMap<&str, (i32, Arc<Workflow>)> = HashMap::new();
        let mut ids = Vec::with_capacity(seeds.len());
        let (mut apps, mut events, mut tasks, mut timers) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut organizations = BTreeSet::new();
        for seed in seeds {
            let (version, wf) = match workflows.get(seed.workflow_key.as_str()) {
                Some(found) => found.clone(),
                None => {
                    let version = self.current_version(&txn, &seed.workflow_key).await?;
                    let wf = self.workflow_on(&txn, &seed.workflow_key, version).await?;
                    workflows.insert(&seed.workflow_key, (version, wf.clone()));
                    (version, wf)
                }
            };
            // Loaded history draws on no pool's places: it is outside every intake and
            // position (the pools count what live commands take).
            let unbound: Vec<String> = wf.pools().iter().map(|p| p.name().to_owned()).collect();
            let env = Env {
                now: seed.submitted_at,
                calendar: &self.inner.calendars,
                full: &[],
                unbound: &unbound,
                host: None,
            };
            let submitter = Actor::applicant(format!("{}-user", seed.organization));
            let (mut inst, mut log) = wf.submit(&submitter, seed.data.clone(), env)?;
            for step in &seed.steps {
                let party = match &step.actor.party {
                    Party::Agency(a) => &**a,
                    Party::Applicant => Assignee::Applicant.key(),
                    Party::System => "system",
                };
                let task = inst
                    .open_tasks()
                    .iter()
                    .find(|t| wf.state(t.state).name() == step.state && t.assignee.key() == party)
                    .ok_or_else(|| {
                        Error::NotFound(format!("an open `{}` task for `{party}`", step.state))
                    })?
                    .id;
                log.extend(wf.execute(
                    &mut inst,
                    &step.actor,
                    Command::Act {
                        task,
                        action: step.action.clone(),
                        comment: None,
                        input: step.input.clone(),
                        note: None,
                    },
                    env,
                )?);
            }
            // Time-ordered ids from the submission time, so "newest first" lists stay true.
            let id = Uuid::new_v7(uuid::Timestamp::from_unix(
                uuid::NoContext,
                seed.submitted_at.timestamp().max(0) as u64,
                seed.submitted_at.timestamp_subsec_nanos(),
            ));
            let mut w = Writer::new(&wf, version, id, &seed.organization);
            let written = plan_events(&mut w, 1, &genesis(id), &log, seed.submitted_at)?;
            if w.changes_existing_rows() {
                // Every task row is new here, so closing one edits the unsaved row; only an
                // overdue escalation would change a row, and steps are actions.
                return Err(Error::Corrupt(
                    "bulk loading supports actions only, not timer effects".into(),
                ));
            }
            events.extend(written.events);
            tasks.append(&mut w.new_tasks);
            timers.append(&mut w.new_timers);
            organizations.insert(seed.organization.clone());
            apps.push(application::ActiveModel {
                id: Set(id),
                workflow_key: Set(seed.workflow_key.clone()),
                workflow_version: Set(version),
                organization: Set(seed.organization.clone()),
                data: Set(inst.data().clone()),
                submitted_at: Set(seed.submitted_at),
                ..snapshot(&wf, &inst, written.last_hash, seed.submitted_at)?
            });
            ids.push(id);
        }
        let now = self.now();
        for chunk in organizations.into_iter().collect::<Vec<_>>().chunks(CHUNK) {
            organization::Entity::insert_many(chunk.iter().map(|key| organization::ActiveModel {
                key: Set(key.clone()),
                name: Set(key.clone()),
                created_at: Set(now),
                ..Default::default()
            }))
            .on_conflict_do_nothing()
            .exec_without_returning(&txn)
            .await?;
        }
        insert_chunked(&txn, apps).await?;
        insert_chunked::<event::ActiveModel>(&txn, events).await?;
        insert_chunked::<task::ActiveModel>(&txn, tasks).await?;
        insert_chunked::<timer::ActiveModel>(&txn, timers).await?;
        txn.commit().await?;
        Ok(ids)
    }
}

impl Store {
    /// Refreshes the query planner's statistics (after a bulk load, so the planner knows the
    /// tables' new sizes before autovacuum or the next `PRAGMA optimize` would tell it). On
    /// PostgreSQL it vacuums too (`VACUUM (ANALYZE)`): that sets the visibility map the
    /// index-only scans of counts and inbox pages need, which autovacuum would set only later.
    pub async fn analyze(&self) -> Result<()> {
        use sea_orm::ConnectionTrait;
        let sql = match self.inner.backend.kind() {
            BackendKind::Postgres => "VACUUM (ANALYZE)",
            BackendKind::Sqlite => "ANALYZE",
        };
        self.db().execute_unprepared(sql).await?;
        Ok(())
    }
}

impl Store {
    /// Every `every`-th application id in id order (for benchmarks that need real ids).
    pub async fn sample_application_ids(&self, every: usize) -> Result<Vec<Uuid>> {
        use sea_orm::{QueryOrder, QuerySelect};
        let ids: Vec<Uuid> = application::Entity::find()
            .select_only()
            .column(application::Column::Id)
            .order_by_asc(application::Column::Id)
            .into_tuple()
            .all(self.db())
            .await?;
        Ok(ids.into_iter().step_by(every.max(1)).collect())
    }
}
