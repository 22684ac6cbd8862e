//! A plan's dry run (per application: will move, or exactly why not) and its run: one
//! transaction per application, compare-and-set on its revision, so an application being acted
//! on while the plan runs is retried, then left for the next run, never half-moved.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use softland_workflow::migration::Migration;
use softland_workflow::{Actor, Env, EventKind, Instance, TaskDue, Workflow};
use uuid::Uuid;

use super::{PlanRecord, Selection, version};
use crate::Store;
use crate::commands::plan::{Writer, no_due, plan_events, snapshot, task_actions};
use crate::entity::enums::{TaskStatus, TimerStatus};
use crate::entity::{application, event, migration_plan, outbox, task, timer};
use crate::error::{ConflictReason, Error, Result, corrupt, is_busy};

/// How long one run may work before it returns what is left for the next.
const RUN_BUDGET: Duration = Duration::from_secs(20);

/// Attempts per application before a run leaves it for the next (it was being acted on).
const ATTEMPTS: usize = 4;

/// One application's answer in a dry run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The application.
    pub application_id: Uuid,
    /// The states it is in (old version).
    pub states: Vec<String>,
    /// Whether it would move.
    pub ok: bool,
    /// Why not, as a stable code (`unmapped-state`, `finished`, …).
    pub code: Option<&'static str>,
    /// Why not, in words.
    pub reason: Option<String>,
}

/// A dry run: every application the plan touches, with counts.
#[derive(Debug, Clone, Default)]
pub struct DryRun {
    /// The first `limit` answers, in application order.
    pub checks: Vec<Check>,
    /// Applications the plan touches.
    pub total: u64,
    /// Those that would move.
    pub ok: u64,
    /// Those that could not, by reason code.
    pub blocked: Vec<(&'static str, u64)>,
}

/// What one run did.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The plan after the run.
    pub plan: PlanRecord,
    /// Applications moved by this run.
    pub migrated: u64,
    /// Applications that cannot move (see the dry run).
    pub blocked: u64,
    /// Applications still to move: busy every time it tried, or not reached within the run's
    /// time. Running the plan again continues with them.
    pub remaining: u64,
}

/// The versions and the engine's plan, for one pass.
pub(super) struct Pass {
    from: Arc<Workflow>,
    to: Arc<Workflow>,
    plan: PlanRecord,
    rules: softland_workflow::migration::Plan,
}

impl Pass {
    pub(super) fn migration(&self) -> Migration<'_> {
        // Checked when the plan was stored; both versions are immutable.
        Migration::new(
            (&self.from, version(self.plan.from_version)),
            (&self.to, version(self.plan.to_version)),
            &self.rules,
        )
        .unwrap_or_else(|_| unreachable!("a stored plan was checked against both versions"))
    }
}

impl Store {
    pub(super) async fn pass(&self, plan: PlanRecord) -> Result<Pass> {
        let from = self.workflow(&plan.workflow_key, plan.from_version).await?;
        let to = self.workflow(&plan.workflow_key, plan.to_version).await?;
        Migration::new(
            (&from, version(plan.from_version)),
            (&to, version(plan.to_version)),
            &plan.plan(),
        )
        .map_err(|e| Error::InvalidPlan(format!("{e:?}")))?;
        Ok(Pass {
            rules: plan.plan(),
            from,
            to,
            plan,
        })
    }

    /// For every application the plan touches: whether it would move, or exactly why not. The
    /// first `limit` answers are listed; the counts cover all.
    pub async fn dry_run(&self, plan: &PlanRecord, limit: usize) -> Result<DryRun> {
        let pass = self.pass(plan.clone()).await?;
        let m = pass.migration();
        let mut out = DryRun::default();
        let (mut cursor, mut listed) = (None, 0);
        let note = |out: &mut DryRun, check: Check| {
            out.total += 1;
            match check.code {
                None => out.ok += 1,
                Some(code) => match out.blocked.iter_mut().find(|(c, _)| *c == code) {
                    Some((_, n)) => *n += 1,
                    None => out.blocked.push((code, 1)),
                },
            }
            if out.checks.len() < limit {
                out.checks.push(check);
            }
        };
        loop {
            let (page, missing) = self.page(plan, &mut cursor, &mut listed).await?;
            for id in missing {
                note(
                    &mut out,
                    Check {
                        application_id: id,
                        states: Vec::new(),
                        ok: false,
                        code: Some("not-found"),
                        reason: Some(format!("no application {id} of `{}`", plan.workflow_key)),
                    },
                );
            }
            if page.is_empty()
                && !matches!(plan.selection, Selection::Applications(ref ids) if listed < ids.len())
            {
                break;
            }
            for c in page {
                let states = states_of(&pass.from, &c.inst);
                let answer = m.check(version(c.row.workflow_version), &c.inst);
                let (code, reason) = match answer {
                    Ok(_) => (None, None),
                    Err(b) => (Some(b.code()), Some(b.to_string())),
                };
                note(
                    &mut out,
                    Check {
                        application_id: c.row.id,
                        states,
                        ok: code.is_none(),
                        code,
                        reason,
                    },
                );
            }
        }
        Ok(out)
    }

    /// Runs an approved plan: moves every application of its selection that can move, one
    /// transaction each, for up to 20 seconds; run it again to continue (it is resumable:
    /// moved applications are on the new version and are not touched again).
    pub async fn run_migration(&self, id: Uuid, actor: &Actor) -> Result<RunReport> {
        let plan = self.migration_plan(id).await?;
        if plan.approved_by.is_none() {
            return Err(Error::Forbidden(
                "a migration plan runs once a second administrator has approved it (approveMigration)".into(),
            ));
        }
        let pass = self.pass(plan.clone()).await?;
        let m = pass.migration();
        let started = Instant::now();
        let (mut migrated, mut blocked, mut remaining) = (0u64, 0u64, 0u64);
        let (mut cursor, mut listed) = (None, 0);
        let mut busy: Vec<Uuid> = Vec::new();
        loop {
            let (page, _) = self.page(&plan, &mut cursor, &mut listed).await?;
            let more =
                matches!(&plan.selection, Selection::Applications(ids) if listed < ids.len());
            if page.is_empty() && !more {
                break;
            }
            if started.elapsed() > RUN_BUDGET {
                remaining += page.len() as u64 + self.left_after(&plan, cursor, listed).await?;
                break;
            }
            for c in page {
                if m.check(version(c.row.workflow_version), &c.inst).is_err() {
                    blocked += 1;
                    continue;
                }
                match self.move_one(&pass, &m, c.row.id, actor).await? {
                    Moved::Done => migrated += 1,
                    Moved::Blocked => blocked += 1,
                    Moved::Busy => busy.push(c.row.id),
                }
            }
        }
        // Those that were busy get one more turn at the end.
        for id in busy {
            match self.move_one(&pass, &m, id, actor).await? {
                Moved::Done => migrated += 1,
                Moved::Blocked => blocked += 1,
                Moved::Busy => remaining += 1,
            }
        }
        migration_plan::Entity::update_many()
            .col_expr(
                migration_plan::Column::Migrated,
                Expr::col(migration_plan::Column::Migrated).add(migrated as i64),
            )
            .col_expr(migration_plan::Column::LastRunAt, Expr::value(self.now()))
            .filter(migration_plan::Column::Id.eq(id))
            .exec(self.db())
            .await?;
        let plan = self.migration_plan(id).await?;
        self.note_plan(&actor.id, "run_migration", &plan).await;
        Ok(RunReport {
            plan,
            migrated,
            blocked,
            remaining,
        })
    }

    /// Moves one application, retrying when a command changed it meanwhile.
    pub(super) async fn move_one(
        &self,
        pass: &Pass,
        m: &Migration<'_>,
        id: Uuid,
        actor: &Actor,
    ) -> Result<Moved> {
        for _ in 0..ATTEMPTS {
            match self.move_once(pass, m, id, actor).await {
                Ok(moved) => return Ok(moved),
                Err(Error::Conflict(_)) => {}
                Err(Error::Db(e)) if is_busy(&e) => {}
                Err(e) => return Err(e),
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(Moved::Busy)
    }

    /// One attempt: read the application, ask the engine, write in one transaction whose
    /// update of the application row compares its revision.
    async fn move_once(
        &self,
        pass: &Pass,
        m: &Migration<'_>,
        id: Uuid,
        actor: &Actor,
    ) -> Result<Moved> {
        let mut row = self.load_app(self.db(), id).await?;
        if row.workflow_version != pass.plan.from_version {
            return Ok(Moved::Blocked);
        }
        let mut inst: Instance = serde_json::from_value(row.instance.clone()).map_err(corrupt)?;
        inst.set_data(Arc::new(std::mem::take(&mut row.data)));
        let now = self.now();
        let env = Env {
            now,
            calendar: &self.inner.calendars,
            full: &[],
            unbound: &[],
            host: None,
        };
        let Ok(event) = m.migrate(
            &mut inst,
            version(row.workflow_version),
            &pass.plan.hash,
            actor,
            env,
        ) else {
            return Ok(Moved::Blocked);
        };
        let (due, data): (Vec<TaskDue>, _) = match &event.kind {
            EventKind::Migrated { due, data, .. } => (due.clone(), data.clone()),
            _ => (Vec::new(), None),
        };
        let mut w = Writer::new(&pass.to, pass.plan.to_version, row.id, &row.organization);
        let log = plan_events(&mut w, row.revision + 1, &row.last_hash, &[event], now)?;
        let mut update = snapshot(&pass.to, &inst, log.last_hash.clone(), now)?;
        update.workflow_version = Set(pass.plan.to_version);
        if let Some(data) = data {
            update.data = Set((*data).clone());
        }
        let txn = self.begin().await?;
        let res = application::Entity::update_many()
            .set(update)
            .filter(application::Column::Id.eq(row.id))
            .filter(application::Column::Revision.eq(row.revision))
            .exec(&txn)
            .await?;
        if res.rows_affected != 1 {
            txn.rollback().await?;
            return Err(ConflictReason::ConcurrentUpdate.into());
        }
        event::Entity::insert_many(log.events).exec(&txn).await?;
        if !log.outbox.is_empty() {
            outbox::Entity::insert_many(log.outbox).exec(&txn).await?;
        }
        self.move_tasks(&txn, pass, &inst, row.id, &due).await?;
        txn.commit().await?;
        self.inner.warm.forget(row.id);
        Ok(Moved::Done)
    }

    /// The open task rows follow their states to the new version (name, title, actions), and
    /// the timers whose due time the plan changed.
    async fn move_tasks(
        &self,
        txn: &impl ConnectionTrait,
        pass: &Pass,
        inst: &Instance,
        app: Uuid,
        due: &[TaskDue],
    ) -> Result<()> {
        for t in inst.open_tasks() {
            let st = pass.to.state(t.state);
            let actions = task_actions(st);
            let mut q = task::Entity::update_many()
                .col_expr(task::Column::State, Expr::value(st.name()))
                .col_expr(task::Column::Title, Expr::value(st.title().en.clone()))
                .col_expr(
                    task::Column::Actions,
                    Expr::value(serde_json::to_value(actions).map_err(corrupt)?),
                )
                .col_expr(
                    task::Column::WorkflowVersion,
                    Expr::value(pass.plan.to_version),
                );
            let changed = due.iter().find(|d| d.task == t.id);
            if let Some(d) = changed {
                q = q
                    .col_expr(task::Column::DueAt, Expr::value(d.due_at))
                    .col_expr(
                        task::Column::InboxOrder,
                        Expr::value(d.due_at.unwrap_or_else(no_due)),
                    );
            }
            q.filter(task::Column::ApplicationId.eq(app))
                .filter(task::Column::TaskNo.eq(t.id.0 as i32))
                .filter(task::Column::Status.eq(TaskStatus::Open))
                .exec(txn)
                .await?;
            let Some(d) = changed else { continue };
            // An open task not yet overdue has a pending timer, or none when it had no due time.
            let pending = timer::Entity::update_many()
                .filter(timer::Column::ApplicationId.eq(app))
                .filter(timer::Column::TaskNo.eq(t.id.0 as i32));
            match d.due_at {
                Some(at) => {
                    let res = pending
                        .col_expr(timer::Column::DueAt, Expr::value(at))
                        .col_expr(timer::Column::Status, Expr::value(TimerStatus::Pending))
                        .exec(txn)
                        .await?;
                    if res.rows_affected == 0 {
                        timer::Entity::insert(timer::ActiveModel {
                            application_id: Set(app),
                            task_no: Set(t.id.0 as i32),
                            due_at: Set(at),
                            status: Set(TimerStatus::Pending),
                            lease_owner: Set(None),
                            lease_until: Set(None),
                        })
                        .exec(txn)
                        .await?;
                    }
                }
                None => {
                    timer::Entity::delete_many()
                        .filter(timer::Column::ApplicationId.eq(app))
                        .filter(timer::Column::TaskNo.eq(t.id.0 as i32))
                        .exec(txn)
                        .await?;
                }
            }
        }
        Ok(())
    }
}

/// What happened to one application in a run.
pub(super) enum Moved {
    Done,
    Blocked,
    Busy,
}

/// The names of the states an application is in.
fn states_of(wf: &Workflow, inst: &Instance) -> Vec<String> {
    inst.active_states()
        .iter()
        .map(|s| wf.state(*s).name().to_owned())
        .collect()
}
