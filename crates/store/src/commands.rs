//! Commands: submit, act, withdraw, fire a timer. One command is one transaction:
//!
//! 1. `BEGIN` (SQLite: `BEGIN IMMEDIATE`, so writers queue instead of deadlocking);
//! 2. an idempotency key already used? return its first result;
//! 3. load the application's snapshot, ask the engine (pure) for the events;
//! 4. append the events (hash chain), write tasks, timers and outbox rows;
//! 5. update the application with a compare-and-set on its revision; `COMMIT`.
//!
//! A lost race (CAS miss, SQLite busy, duplicate idempotency key) rolls everything back.

use std::collections::HashMap;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use serde_json::{Value, json};
use softland_workflow::{
    Actor, Command, Env, Event, EventKind, Instance, Party, StateKind, Status, TaskId, Workflow,
};
use uuid::Uuid;

use crate::Store;
use crate::connect::Backend;
use crate::entity::enums::{AppStatus, TaskStatus, TimerStatus};
use crate::entity::{application, event, idempotency, organization, outbox, task, timer};
use crate::error::{ConflictReason, Error, Result, is_busy};
use crate::hash::{genesis, link, sha256_hex};
use crate::queries::task_record;
use crate::records::{
    Act, ApplicationRecord, EventRecord, Outcome, Submit, TaskAction, TaskRecord, Withdraw,
};

/// Far in the future: tasks without a due time sort last in inboxes.
pub(crate) fn no_due() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::<chrono::Utc>::from_timestamp(253_402_214_400, 0)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
}

pub(crate) fn status_of(s: AppStatus) -> Status {
    match s {
        AppStatus::Active => Status::Active,
        AppStatus::Completed => Status::Completed,
        AppStatus::Withdrawn => Status::Withdrawn,
    }
}

fn app_status(s: Status) -> AppStatus {
    match s {
        Status::Active => AppStatus::Active,
        Status::Completed => AppStatus::Completed,
        Status::Withdrawn => AppStatus::Withdrawn,
    }
}

pub(crate) fn app_record(m: application::Model) -> ApplicationRecord {
    ApplicationRecord {
        id: m.id,
        workflow_key: m.workflow_key,
        workflow_version: m.workflow_version,
        organization: m.organization,
        status: status_of(m.status),
        outcome: m.outcome,
        active_states: serde_json::from_value(m.active_states).unwrap_or_default(),
        data: m.data,
        revision: m.revision,
        submitted_at: m.submitted_at,
        updated_at: m.updated_at,
    }
}

pub(crate) fn event_record(m: event::Model) -> EventRecord {
    EventRecord {
        application_id: m.application_id,
        seq: m.seq,
        kind: m.kind,
        actor: m.actor,
        state: m.state,
        action: m.action,
        comment: m.comment,
        payload: serde_json::from_str(&m.payload).unwrap_or(Value::Null),
        at: m.at,
        hash: m.hash,
    }
}

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::Corrupt(e.to_string())
}

/// The idempotency key of one request.
struct Idem {
    scope: String,
    key: String,
    operation: &'static str,
    request_hash: String,
}

impl Idem {
    fn new(
        actor: &Actor,
        key: Option<&String>,
        operation: &'static str,
        request: &Value,
    ) -> Option<Self> {
        let party = match &actor.party {
            Party::Applicant => "applicant".to_owned(),
            Party::Agency(a) => format!("agency:{a}"),
            Party::System => "system".to_owned(),
        };
        key.map(|k| Idem {
            scope: format!("{party}:{}", actor.id),
            key: k.clone(),
            operation,
            request_hash: sha256_hex(&request.to_string()),
        })
    }
}

/// What the task rows of an application need to know while events are written.
struct Writer<'a> {
    wf: &'a Workflow,
    app_id: Uuid,
    organization: &'a str,
    /// task number -> state, for events that name only the task.
    task_states: HashMap<u32, softland_workflow::StateId>,
    /// Tasks with a pending timer row (only those need timer updates).
    timers: std::collections::HashSet<u32>,
}

impl Store {
    pub(crate) async fn begin(&self) -> Result<DatabaseTransaction> {
        let opts = TransactionOptions {
            sqlite_transaction_mode: (self.inner.backend == Backend::Sqlite)
                .then_some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        self.db().begin_with_options(opts).await.map_err(|e| {
            if is_busy(&e) {
                ConflictReason::ConcurrentUpdate.into()
            } else {
                e.into()
            }
        })
    }

    /// Submits an application to the latest non-retired version of its workflow.
    pub async fn submit(&self, req: Submit) -> Result<Outcome> {
        let request = json!({"workflow": req.workflow_key, "organization": req.organization, "data": req.data});
        let idem = Idem::new(&req.actor, req.idempotency_key.as_ref(), "submit", &request);
        let result = self.submit_once(&req, idem.as_ref()).await;
        self.settle(result, idem.as_ref()).await
    }

    async fn submit_once(&self, req: &Submit, idem: Option<&Idem>) -> Result<Outcome> {
        {
            let txn = self.begin().await?;
            if let Some(done) = self.replay_idempotent(&txn, idem).await? {
                return Ok(done);
            }
            let version = self.current_version(&txn, &req.workflow_key).await?;
            let wf = self.workflow_on(&txn, &req.workflow_key, version).await?;
            let now = self.now();
            let env = Env {
                now,
                calendar: &self.inner.calendars,
            };
            let (inst, events) = wf.submit(&req.actor, req.data.clone(), env)?;
            organization::Entity::insert(organization::ActiveModel {
                key: Set(req.organization.clone()),
                name: Set(req.organization.clone()),
                created_at: Set(now),
            })
            .on_conflict_do_nothing()
            .exec(&txn)
            .await?;
            let id = Uuid::now_v7();
            let mut w = Writer {
                wf: &wf,
                app_id: id,
                organization: &req.organization,
                task_states: HashMap::new(),
                timers: Default::default(),
            };
            let log = self
                .write_events(&txn, &mut w, 1, &genesis(id), &events, now)
                .await?;
            Self::insert_log(&txn, log.events, log.outbox).await?;
            let (records, last_hash, opened) = (log.records, log.last_hash, log.opened);
            let model = application::ActiveModel {
                id: Set(id),
                workflow_key: Set(req.workflow_key.clone()),
                workflow_version: Set(version),
                organization: Set(req.organization.clone()),
                data: Set(inst.data().clone()),
                submitted_at: Set(now),
                ..snapshot(&wf, &inst, last_hash, now)?
            };
            let app = application::Entity::insert(model)
                .exec_with_returning(&txn)
                .await?;
            self.remember(&txn, idem, app.id, app.revision).await?;
            txn.commit().await?;
            Ok(Outcome {
                application: app_record(app),
                events: records,
                opened,
                replayed: false,
            })
        }
    }

    /// Takes an action on a task.
    pub async fn act(&self, req: Act) -> Result<Outcome> {
        let request = json!({"task": req.task_id, "action": req.action, "comment": req.comment, "input": req.input, "expected": req.expected_revision});
        let idem = Idem::new(&req.actor, req.idempotency_key.as_ref(), "act", &request);
        self.retrying(req.expected_revision.is_none(), idem.as_ref(), || {
            self.act_once(&req, idem.as_ref())
        })
        .await
    }

    async fn act_once(&self, req: &Act, idem: Option<&Idem>) -> Result<Outcome> {
        {
            let txn = self.begin().await?;
            if let Some(done) = self.replay_idempotent(&txn, idem).await? {
                return Ok(done);
            }
            let t = task::Entity::find_by_id(req.task_id)
                .one(&txn)
                .await?
                .ok_or_else(|| Error::NotFound(format!("task {}", req.task_id)))?;
            if t.status != TaskStatus::Open {
                return Err(ConflictReason::TaskClosed.into());
            }
            if let Some(holder) = &t.claimed_by
                && *holder != req.actor.id
                && matches!(req.actor.party, Party::Agency(_))
            {
                return Err(ConflictReason::ClaimedByOther(holder.clone()).into());
            }
            let app = self.load_app(&txn, t.application_id).await?;
            if let Some(expected) = req.expected_revision
                && expected != app.revision
            {
                return Err(ConflictReason::StaleRevision {
                    expected,
                    actual: app.revision,
                }
                .into());
            }
            let command = Command::Act {
                task: TaskId(t.task_no as u32),
                action: req.action.clone(),
                comment: req.comment.clone(),
                input: req.input.clone(),
            };
            let out = self.apply(&txn, app, &req.actor, command).await?;
            self.remember(&txn, idem, out.application.id, out.application.revision)
                .await?;
            txn.commit().await?;
            Ok(out)
        }
    }

    /// Withdraws an application (the applicant only).
    pub async fn withdraw(&self, req: Withdraw) -> Result<Outcome> {
        let request = json!({"application": req.application_id, "reason": req.reason});
        let idem = Idem::new(
            &req.actor,
            req.idempotency_key.as_ref(),
            "withdraw",
            &request,
        );
        self.retrying(true, idem.as_ref(), || {
            self.withdraw_once(&req, idem.as_ref())
        })
        .await
    }

    async fn withdraw_once(&self, req: &Withdraw, idem: Option<&Idem>) -> Result<Outcome> {
        {
            let txn = self.begin().await?;
            if let Some(done) = self.replay_idempotent(&txn, idem).await? {
                return Ok(done);
            }
            let app = self.load_app(&txn, req.application_id).await?;
            let out = self
                .apply(
                    &txn,
                    app,
                    &req.actor,
                    Command::Withdraw {
                        reason: req.reason.clone(),
                    },
                )
                .await?;
            self.remember(&txn, idem, out.application.id, out.application.revision)
                .await?;
            txn.commit().await?;
            Ok(out)
        }
    }

    /// Fires the timer of task `task_no` through the same command path (actor `system`).
    pub async fn fire_timer(&self, application_id: Uuid, task_no: u32) -> Result<Outcome> {
        self.retrying(true, None, || async {
            let txn = self.begin().await?;
            let app = self.load_app(&txn, application_id).await?;
            let out = self
                .apply(
                    &txn,
                    app,
                    &Actor::system(),
                    Command::FireTimer {
                        task: TaskId(task_no),
                    },
                )
                .await?;
            txn.commit().await?;
            Ok(out)
        })
        .await
    }

    /// Runs a command; when it lost a race to another writer of the same application and the
    /// client did not pin a revision, runs it again on the new state (a few times at most).
    async fn retrying<F, Fut>(
        &self,
        may_retry: bool,
        idem: Option<&Idem>,
        mut once: F,
    ) -> Result<Outcome>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Outcome>>,
    {
        let mut attempt = 0;
        loop {
            let result = self.settle(once().await, idem).await;
            match result {
                Err(Error::Conflict(ConflictReason::ConcurrentUpdate))
                    if may_retry && attempt < 8 =>
                {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(2 << attempt.min(6))).await;
                }
                other => return other,
            }
        }
    }

    async fn load_app(&self, txn: &DatabaseTransaction, id: Uuid) -> Result<application::Model> {
        application::Entity::find_by_id(id)
            .one(txn)
            .await?
            .ok_or_else(|| Error::NotFound(format!("application {id}")))
    }

    /// Runs the engine on the application's snapshot and writes what it decided.
    async fn apply(
        &self,
        txn: &DatabaseTransaction,
        app: application::Model,
        actor: &Actor,
        command: Command,
    ) -> Result<Outcome> {
        let wf = self
            .workflow_on(txn, &app.workflow_key, app.workflow_version)
            .await?;
        let mut inst: Instance = serde_json::from_value(app.instance.clone()).map_err(corrupt)?;
        inst.set_data(std::sync::Arc::new(app.data.clone()));
        let task_states = inst
            .open_tasks()
            .iter()
            .map(|t| (t.id.0, t.state))
            .collect();
        let timers = inst.timers().map(|(t, _)| t.0).collect();
        let now = self.now();
        let env = Env {
            now,
            calendar: &self.inner.calendars,
        };
        let events = wf.execute(&mut inst, actor, command, env)?;
        let mut w = Writer {
            wf: &wf,
            app_id: app.id,
            organization: &app.organization,
            task_states,
            timers,
        };
        let log = self
            .write_events(txn, &mut w, app.revision + 1, &app.last_hash, &events, now)
            .await?;
        let (records, opened) = (log.records, log.opened);
        let update = snapshot(&wf, &inst, log.last_hash, now)?;
        let won = match self.inner.backend {
            // One round trip: the revision compare-and-set, and the events and outbox rows
            // inserted only if it matched.
            Backend::Postgres => {
                pg_commit_log(txn, app.id, app.revision, &update, &log.events, &log.outbox).await?
            }
            Backend::Sqlite => {
                Self::insert_log(txn, log.events, log.outbox).await?;
                let res = application::Entity::update_many()
                    .set(update.clone())
                    .filter(application::Column::Id.eq(app.id))
                    .filter(application::Column::Revision.eq(app.revision))
                    .exec(txn)
                    .await?;
                res.rows_affected == 1
            }
        };
        if !won {
            return Err(ConflictReason::ConcurrentUpdate.into());
        }
        // The new row is the old one with the snapshot columns replaced: no need to read it.
        let mut updated: application::ActiveModel = app.into();
        for col in [
            application::Column::Status,
            application::Column::Outcome,
            application::Column::ActiveStates,
            application::Column::Instance,
            application::Column::Revision,
            application::Column::LastHash,
            application::Column::UpdatedAt,
        ] {
            updated.set(
                col,
                update
                    .get(col)
                    .into_value()
                    .ok_or_else(|| corrupt("snapshot column unset"))?,
            );
        }
        let updated = application::Model::try_from(updated).map_err(corrupt)?;
        Ok(Outcome {
            application: app_record(updated),
            events: records,
            opened,
            replayed: false,
        })
    }

    /// Appends events with their hash chain, and writes task, timer and outbox rows.
    async fn write_events(
        &self,
        txn: &DatabaseTransaction,
        w: &mut Writer<'_>,
        first_seq: i64,
        prev_hash: &str,
        events: &[Event],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Log> {
        let mut prev = prev_hash.to_owned();
        let mut rows = Vec::with_capacity(events.len());
        let mut out_rows = Vec::with_capacity(events.len());
        let mut records = Vec::with_capacity(events.len());
        let mut new_tasks = Vec::new();
        let mut new_timers = Vec::new();
        for (i, e) in events.iter().enumerate() {
            let seq = first_seq + i as i64;
            let payload = serde_json::to_string(e).map_err(corrupt)?;
            let hash = link(&prev, seq, &payload);
            let (state, action, comment) = match &e.kind {
                EventKind::Entered { state }
                | EventKind::Exited { state }
                | EventKind::ChoiceMade { state, .. }
                | EventKind::BranchDone { state, .. } => (Some(*state), None, None),
                EventKind::TaskOpened { task, state, .. } => {
                    w.task_states.insert(task.0, *state);
                    (Some(*state), None, None)
                }
                EventKind::TaskCompleted {
                    task,
                    action,
                    comment,
                    ..
                } => (
                    w.task_states.get(&task.0).copied(),
                    Some(action.clone()),
                    comment.clone(),
                ),
                EventKind::TaskCancelled { task }
                | EventKind::TaskReassigned { task, .. }
                | EventKind::TaskOverdue { task } => {
                    (w.task_states.get(&task.0).copied(), None, None)
                }
                EventKind::Withdrawn { reason } => (None, None, reason.clone()),
                EventKind::Submitted { .. } | EventKind::Completed { .. } => (None, None, None),
            };
            let state_name = state.map(|s| w.wf.state(s).name().to_owned());
            let record = EventRecord {
                application_id: w.app_id,
                seq,
                kind: e.kind.name().to_owned(),
                actor: e.actor.as_deref().map(str::to_owned),
                state: state_name.clone(),
                action: action.clone(),
                comment: comment.clone(),
                payload: serde_json::to_value(e).map_err(corrupt)?,
                at: e.at,
                hash: hash.clone(),
            };
            rows.push(event::ActiveModel {
                application_id: Set(w.app_id),
                seq: Set(seq),
                kind: Set(record.kind.clone()),
                actor: Set(record.actor.clone()),
                state: Set(state_name),
                action: Set(action),
                comment: Set(comment),
                payload: Set(payload.clone()),
                at: Set(e.at),
                prev_hash: Set(prev.clone()),
                hash: Set(hash.clone()),
                ..Default::default()
            });
            out_rows.push(outbox::ActiveModel {
                application_id: Set(w.app_id),
                seq: Set(seq),
                kind: Set(record.kind.clone()),
                payload: Set(payload.clone()),
                created_at: Set(now),
                delivered_at: Set(None),
                ..Default::default()
            });
            records.push(record);
            prev = hash;
            self.task_effects(txn, w, e, &mut new_tasks, &mut new_timers)
                .await?;
        }
        let opened = new_tasks
            .iter()
            .filter(|t| matches!(t.status, sea_orm::ActiveValue::Set(TaskStatus::Open)))
            .map(|t| {
                task::Model::try_from(t.clone())
                    .map(task_record)
                    .map_err(corrupt)
            })
            .collect::<Result<Vec<_>>>()?;
        if !new_tasks.is_empty() {
            task::Entity::insert_many(new_tasks)
                .exec_without_returning(txn)
                .await?;
        }
        if !new_timers.is_empty() {
            timer::Entity::insert_many(new_timers)
                .exec_without_returning(txn)
                .await?;
        }
        Ok(Log {
            records,
            last_hash: prev,
            opened,
            events: rows,
            outbox: out_rows,
        })
    }

    /// The task and timer rows one event changes. Inserts are batched by the caller; they are
    /// for tasks opened by this same command, which no update in it can concern before insert
    /// except a close in the same command, handled here by updating the pending row.
    async fn task_effects(
        &self,
        txn: &DatabaseTransaction,
        w: &mut Writer<'_>,
        e: &Event,
        new_tasks: &mut Vec<task::ActiveModel>,
        new_timers: &mut Vec<timer::ActiveModel>,
    ) -> Result<()> {
        match &e.kind {
            EventKind::TaskOpened {
                task,
                state,
                assignee,
                due_at,
            } => {
                let st = w.wf.state(*state);
                let actions: Vec<TaskAction> = match st.kind() {
                    StateKind::Task(t) => t
                        .actions()
                        .iter()
                        .map(|a| TaskAction {
                            name: a.name().to_owned(),
                            title: a.title().en.clone(),
                            input_schema: a.input_schema().cloned(),
                        })
                        .collect(),
                    _ => ["approve", "reject"]
                        .iter()
                        .map(|n| TaskAction {
                            name: (*n).to_owned(),
                            title: capitalize(n),
                            input_schema: None,
                        })
                        .collect(),
                };
                new_tasks.push(task::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    application_id: Set(w.app_id),
                    task_no: Set(task.0 as i32),
                    state: Set(st.name().to_owned()),
                    title: Set(st.title().en.clone()),
                    assignee: Set(assignee.key().to_owned()),
                    organization: Set(w.organization.to_owned()),
                    actions: Set(serde_json::to_value(actions).map_err(corrupt)?),
                    status: Set(TaskStatus::Open),
                    due_at: Set(*due_at),
                    inbox_order: Set(due_at.unwrap_or_else(no_due)),
                    overdue: Set(false),
                    opened_at: Set(e.at),
                    closed_at: Set(None),
                    closed_by: Set(None),
                    closed_action: Set(None),
                    claimed_by: Set(None),
                    claimed_at: Set(None),
                    delegated_to: Set(None),
                });
                if let Some(due) = due_at {
                    w.timers.insert(task.0);
                    new_timers.push(timer::ActiveModel {
                        application_id: Set(w.app_id),
                        task_no: Set(task.0 as i32),
                        due_at: Set(*due),
                        status: Set(TimerStatus::Pending),
                        lease_owner: Set(None),
                        lease_until: Set(None),
                    });
                }
            }
            EventKind::TaskCompleted { task, action, .. } => {
                self.close_task(
                    txn,
                    w,
                    e,
                    task.0,
                    TaskStatus::Completed,
                    Some(action.clone()),
                    new_tasks,
                    new_timers,
                )
                .await?;
            }
            EventKind::TaskCancelled { task } => {
                self.close_task(
                    txn,
                    w,
                    e,
                    task.0,
                    TaskStatus::Cancelled,
                    None,
                    new_tasks,
                    new_timers,
                )
                .await?;
            }
            EventKind::TaskReassigned { task, assignee } => {
                task::Entity::update_many()
                    .col_expr(task::Column::Assignee, Expr::value(assignee.key()))
                    .col_expr(task::Column::Overdue, Expr::value(true))
                    .col_expr(task::Column::ClaimedBy, Expr::value(Option::<String>::None))
                    .filter(task::Column::ApplicationId.eq(w.app_id))
                    .filter(task::Column::TaskNo.eq(task.0 as i32))
                    .exec(txn)
                    .await?;
                if w.timers.remove(&task.0) {
                    self.set_timer(txn, w.app_id, task.0, TimerStatus::Fired)
                        .await?;
                }
            }
            EventKind::TaskOverdue { task } => {
                task::Entity::update_many()
                    .col_expr(task::Column::Overdue, Expr::value(true))
                    .filter(task::Column::ApplicationId.eq(w.app_id))
                    .filter(task::Column::TaskNo.eq(task.0 as i32))
                    .exec(txn)
                    .await?;
                if w.timers.remove(&task.0) {
                    self.set_timer(txn, w.app_id, task.0, TimerStatus::Fired)
                        .await?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Closes a task: one opened by this same command is still an unsaved row; others are
    /// updated in place. Its timer is cancelled.
    #[allow(clippy::too_many_arguments)]
    async fn close_task(
        &self,
        txn: &DatabaseTransaction,
        w: &mut Writer<'_>,
        e: &Event,
        task_no: u32,
        status: TaskStatus,
        action: Option<String>,
        new_tasks: &mut [task::ActiveModel],
        new_timers: &mut Vec<timer::ActiveModel>,
    ) -> Result<()> {
        let closed_by = e.actor.as_deref().map(str::to_owned);
        let no = task_no as i32;
        if let Some(t) = new_tasks
            .iter_mut()
            .find(|t| matches!(&t.task_no, sea_orm::ActiveValue::Set(n) if *n == no))
        {
            t.status = Set(status);
            t.closed_at = Set(Some(e.at));
            t.closed_by = Set(closed_by);
            t.closed_action = Set(action);
            new_timers
                .retain(|tm| !matches!(&tm.task_no, sea_orm::ActiveValue::Set(n) if *n == no));
            w.timers.remove(&task_no);
            return Ok(());
        }
        task::Entity::update_many()
            .col_expr(task::Column::Status, Expr::value(status))
            .col_expr(task::Column::ClosedAt, Expr::value(e.at))
            .col_expr(task::Column::ClosedBy, Expr::value(closed_by))
            .col_expr(task::Column::ClosedAction, Expr::value(action))
            .filter(task::Column::ApplicationId.eq(w.app_id))
            .filter(task::Column::TaskNo.eq(no))
            .exec(txn)
            .await?;
        if w.timers.remove(&task_no) {
            self.set_timer(txn, w.app_id, task_no, TimerStatus::Cancelled)
                .await?;
        }
        Ok(())
    }

    async fn set_timer(
        &self,
        txn: &DatabaseTransaction,
        app: Uuid,
        task_no: u32,
        status: TimerStatus,
    ) -> Result<()> {
        timer::Entity::update_many()
            .col_expr(timer::Column::Status, Expr::value(status))
            .filter(timer::Column::ApplicationId.eq(app))
            .filter(timer::Column::TaskNo.eq(task_no as i32))
            .filter(timer::Column::Status.eq(TimerStatus::Pending))
            .exec(txn)
            .await?;
        Ok(())
    }

    /// The first result of an idempotency key, if it was used already.
    async fn replay_idempotent(
        &self,
        txn: &DatabaseTransaction,
        idem: Option<&Idem>,
    ) -> Result<Option<Outcome>> {
        let Some(idem) = idem else { return Ok(None) };
        let Some(found) = idempotency::Entity::find_by_id((idem.scope.clone(), idem.key.clone()))
            .one(txn)
            .await?
        else {
            return Ok(None);
        };
        if found.operation != idem.operation || found.request_hash != idem.request_hash {
            return Err(ConflictReason::IdempotencyKeyReused(idem.key.clone()).into());
        }
        let app = self.load_app(txn, found.application_id).await?;
        Ok(Some(Outcome {
            application: app_record(app),
            events: vec![],
            opened: vec![],
            replayed: true,
        }))
    }

    async fn remember(
        &self,
        txn: &DatabaseTransaction,
        idem: Option<&Idem>,
        app: Uuid,
        revision: i64,
    ) -> Result<()> {
        let Some(idem) = idem else { return Ok(()) };
        idempotency::Entity::insert(idempotency::ActiveModel {
            scope: Set(idem.scope.clone()),
            key: Set(idem.key.clone()),
            operation: Set(idem.operation.to_owned()),
            request_hash: Set(idem.request_hash.clone()),
            application_id: Set(app),
            revision: Set(revision),
            created_at: Set(self.now()),
        })
        .exec_without_returning(txn)
        .await?;
        Ok(())
    }

    /// After the transaction: publish committed events; turn a lost race into a replay (same
    /// idempotency key committed meanwhile) or a conflict.
    async fn settle(&self, result: Result<Outcome>, idem: Option<&Idem>) -> Result<Outcome> {
        match result {
            Ok(out) => {
                for e in &out.events {
                    let _ = self.inner.events.send(e.clone());
                }
                Ok(out)
            }
            Err(e) => {
                // With an idempotency key, any refusal may be the shadow of the same request
                // committing meanwhile (e.g. the task read as closed): check for its result.
                let raced = e.is_unique_violation()
                    || matches!(e, Error::Conflict(_) | Error::Rejected(_))
                    || matches!(&e, Error::Db(d) if is_busy(d));
                if raced {
                    if let Some(idem) = idem {
                        let txn = self.db().begin().await?;
                        let replay = self.replay_idempotent(&txn, Some(idem)).await;
                        txn.rollback().await?;
                        if let Some(done) = replay? {
                            return Ok(done);
                        }
                    }
                    if matches!(&e, Error::Db(d) if is_busy(d)) || e.is_unique_violation() {
                        return Err(ConflictReason::ConcurrentUpdate.into());
                    }
                }
                Err(e)
            }
        }
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// What writing a command's events produced; the event and outbox rows still to insert.
struct Log {
    records: Vec<EventRecord>,
    last_hash: String,
    opened: Vec<TaskRecord>,
    events: Vec<event::ActiveModel>,
    outbox: Vec<outbox::ActiveModel>,
}

impl Store {
    async fn insert_log(
        txn: &DatabaseTransaction,
        events: Vec<event::ActiveModel>,
        outbox: Vec<outbox::ActiveModel>,
    ) -> Result<()> {
        event::Entity::insert_many(events)
            .exec_without_returning(txn)
            .await?;
        outbox::Entity::insert_many(outbox)
            .exec_without_returning(txn)
            .await?;
        Ok(())
    }
}

fn value_of<A: ActiveModelTrait>(
    am: &A,
    col: <A::Entity as EntityTrait>::Column,
) -> Result<sea_orm::Value> {
    am.get(col)
        .into_value()
        .ok_or_else(|| corrupt("a row value is unset"))
}

/// PostgreSQL: compare-and-set the application and append its events and outbox rows in one
/// statement (data-modifying CTEs); the inserts happen only when the revision matched.
/// Returns whether it matched.
async fn pg_commit_log(
    txn: &DatabaseTransaction,
    app: Uuid,
    revision: i64,
    update: &application::ActiveModel,
    events: &[event::ActiveModel],
    outbox_rows: &[outbox::ActiveModel],
) -> Result<bool> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let mut values: Vec<sea_orm::Value> = Vec::new();
    let mut param = |v: sea_orm::Value| {
        values.push(v);
        format!("${}", values.len())
    };
    let set = [
        ("status", application::Column::Status),
        ("outcome", application::Column::Outcome),
        ("active_states", application::Column::ActiveStates),
        ("instance", application::Column::Instance),
        ("revision", application::Column::Revision),
        ("last_hash", application::Column::LastHash),
        ("updated_at", application::Column::UpdatedAt),
    ]
    .into_iter()
    .map(|(name, col)| Ok(format!("{name} = {}", param(value_of(update, col)?))))
    .collect::<Result<Vec<_>>>()?
    .join(", ");
    let (id_p, rev_p) = (param(app.into()), param(revision.into()));
    let ev_cols = [
        event::Column::ApplicationId,
        event::Column::Seq,
        event::Column::Kind,
        event::Column::Actor,
        event::Column::State,
        event::Column::Action,
        event::Column::Comment,
        event::Column::Payload,
        event::Column::At,
        event::Column::PrevHash,
        event::Column::Hash,
    ];
    let mut ev_rows = Vec::with_capacity(events.len());
    for e in events {
        let row = ev_cols
            .iter()
            .map(|c| Ok(param(value_of(e, *c)?)))
            .collect::<Result<Vec<_>>>()?;
        ev_rows.push(format!("({})", row.join(", ")));
    }
    let ob_cols = [
        outbox::Column::ApplicationId,
        outbox::Column::Seq,
        outbox::Column::Kind,
        outbox::Column::Payload,
        outbox::Column::CreatedAt,
    ];
    let mut ob_rows = Vec::with_capacity(outbox_rows.len());
    for o in outbox_rows {
        let row = ob_cols
            .iter()
            .map(|c| Ok(param(value_of(o, *c)?)))
            .collect::<Result<Vec<_>>>()?;
        ob_rows.push(format!("({})", row.join(", ")));
    }
    let sql = format!(
        "WITH up AS (UPDATE applications SET {set} WHERE id = {id_p} AND revision = {rev_p} RETURNING id), \
         ev AS (INSERT INTO events (application_id, seq, kind, actor, state, action, comment, payload, at, prev_hash, hash) \
                SELECT * FROM (VALUES {}) AS v(application_id, seq, kind, actor, state, action, comment, payload, at, prev_hash, hash) \
                WHERE EXISTS (SELECT 1 FROM up)), \
         ob AS (INSERT INTO outbox (application_id, seq, kind, payload, created_at) \
                SELECT * FROM (VALUES {}) AS v(application_id, seq, kind, payload, created_at) \
                WHERE EXISTS (SELECT 1 FROM up)) \
         SELECT count(*) AS n FROM up",
        ev_rows.join(", "),
        ob_rows.join(", ")
    );
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            values,
        ))
        .await?
        .ok_or_else(|| corrupt("the commit statement returned no row"))?;
    let n: i64 = row.try_get("", "n")?;
    Ok(n == 1)
}

/// The application columns that follow from the instance.
fn snapshot(
    wf: &Workflow,
    inst: &Instance,
    last_hash: String,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<application::ActiveModel> {
    let active: Vec<&str> = inst
        .active_states()
        .iter()
        .map(|s| wf.state(*s).name())
        .collect();
    Ok(application::ActiveModel {
        status: Set(app_status(inst.status())),
        outcome: Set(inst.outcome().map(str::to_owned)),
        active_states: Set(serde_json::to_value(active).map_err(corrupt)?),
        instance: Set(serde_json::to_value(inst).map_err(corrupt)?),
        revision: Set(inst.version() as i64),
        last_hash: Set(last_hash),
        updated_at: Set(now),
        ..Default::default()
    })
}
