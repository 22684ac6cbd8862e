//! Timers: find due ones, lease them, fire each through the normal command path.
//!
//! Several server processes may run the scheduler on one PostgreSQL database: leasing uses
//! `FOR UPDATE SKIP LOCKED`, so each timer goes to one process; and even if a lease expired
//! mid-flight, the engine refuses a second firing (`NotDue`) and the revision compare-and-set
//! refuses a concurrent one. A timer fires exactly once.

use std::time::Duration;

use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use softland_workflow::Rejection;
use tokio::sync::watch;

use crate::Store;
use crate::connect::BackendKind;
use crate::entity::enums::TimerStatus;
use crate::entity::timer;
use crate::error::{Error, Result};

/// What one scheduler pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimerRun {
    /// Timers fired.
    pub fired: u64,
    /// Timers found stale (task closed, or fired elsewhere) and retired.
    pub stale: u64,
    /// Timers left for a later pass (lost a race).
    pub retried: u64,
}

const LEASE: Duration = Duration::from_secs(60);

impl Store {
    /// Leases up to `limit` due timers for `owner` and fires them.
    pub async fn run_due_timers(&self, owner: &str, limit: u64) -> Result<TimerRun> {
        let now = self.now();
        let txn = self.begin().await?;
        let mut q = timer::Entity::find()
            .filter(timer::Column::Status.eq(TimerStatus::Pending))
            .filter(timer::Column::DueAt.lte(now))
            .filter(
                Condition::any()
                    .add(timer::Column::LeaseUntil.is_null())
                    .add(timer::Column::LeaseUntil.lt(now)),
            )
            .order_by_asc(timer::Column::DueAt)
            .limit(limit);
        if self.inner.backend.kind() == BackendKind::Postgres {
            q = q.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let due = q.all(&txn).await?;
        let until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
        for t in &due {
            timer::Entity::update_many()
                .col_expr(timer::Column::LeaseOwner, Expr::value(owner.to_owned()))
                .col_expr(timer::Column::LeaseUntil, Expr::value(until))
                .filter(timer::Column::ApplicationId.eq(t.application_id))
                .filter(timer::Column::TaskNo.eq(t.task_no))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        let mut run = TimerRun::default();
        for t in due {
            match self.fire_timer(t.application_id, t.task_no as u32).await {
                Ok(_) => run.fired += 1,
                Err(Error::Rejected(
                    Rejection::NotDue(_) | Rejection::TaskNotOpen(_) | Rejection::Finished,
                )) => {
                    // Its task closed or its application ended meanwhile: nothing to fire.
                    timer::Entity::delete_many()
                        .filter(timer::Column::ApplicationId.eq(t.application_id))
                        .filter(timer::Column::TaskNo.eq(t.task_no))
                        .filter(timer::Column::Status.eq(TimerStatus::Pending))
                        .exec(self.db())
                        .await?;
                    run.stale += 1;
                }
                Err(Error::Conflict(_)) => run.retried += 1,
                Err(e) => {
                    tracing::warn!(application = %t.application_id, task = t.task_no, error = %e, "timer failed; it will be retried");
                    run.retried += 1;
                }
            }
        }
        Ok(run)
    }

    /// Runs the scheduler every `every` until `stop` turns true.
    pub fn spawn_scheduler(
        &self,
        owner: String,
        every: Duration,
        mut stop: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            let mut log = crate::worker_log::PassLog::new("scheduler");
            while tick_or_stop(every, &mut stop).await {
                let pass = store.run_due_timers(&owner, 100).await;
                if let Ok(run) = &pass
                    && run.fired + run.stale > 0
                {
                    tracing::info!(fired = run.fired, stale = run.stale, "timers")
                }
                log.pass(&pass);
            }
        })
    }
}

/// Waits for the next period; `false` once `stop` turns true (then the loop should end).
pub(crate) async fn tick_or_stop(every: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    if *stop.borrow() {
        return false;
    }
    tokio::select! {
        _ = tokio::time::sleep(every) => {}
        _ = stop.changed() => {}
    }
    !*stop.borrow()
}
