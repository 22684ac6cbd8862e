//! Commands: submit, act, withdraw, fire a timer. One command is one transaction.
//!
//! Submissions and actions (the hot path) hold no transaction across the engine's work:
//! 1. an idempotency key already used? return its first result;
//! 2. read the task and its application — or, on PostgreSQL, start from what this server's own
//!    last command wrote (`warm`) — and ask the engine (pure) for the events;
//! 3. one round trip ([`commit_command`]): compare-and-set the revision (and that the task is
//!    still open and not claimed by someone else), and only if that matched append the events
//!    (hash chain) and write outbox, task, timer and idempotency rows.
//!
//! Withdrawals and timers run the same steps inside `BEGIN … COMMIT` (SQLite: `BEGIN
//! IMMEDIATE`). A lost race (CAS miss, SQLite busy, duplicate idempotency key) writes nothing.

use std::collections::HashMap;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use serde_json::{Value, json};
use softland_workflow::{
    Actor, Command, Env, Event, EventKind, Instance, Party, Status, TaskId, Workflow,
};
use uuid::Uuid;

use crate::Store;
use crate::connect::{Backend, Engine};
use crate::entity::enums::{AppStatus, TaskStatus, TimerStatus};
use crate::entity::{application, event, idempotency, outbox, task, timer};
use crate::error::{ConflictReason, Error, Result, is_busy};
use crate::hash::{genesis, link, sha256_hex};
use crate::pg_commands::Held;
use crate::records::{Act, EventRecord, Outcome, Submit, TaskAction, TaskRecord, Withdraw};
use crate::rows::{app_record, event_columns, task_record};
use crate::warm::WarmTask;

/// Far in the future: tasks without a due time sort last in inboxes.
pub(crate) fn no_due() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::<chrono::Utc>::from_timestamp(253_402_214_400, 0)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
}

fn app_status(s: Status) -> AppStatus {
    match s {
        Status::Active => AppStatus::Active,
        Status::Completed => AppStatus::Completed,
        Status::Withdrawn => AppStatus::Withdrawn,
    }
}

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::Corrupt(e.to_string())
}

/// The idempotency key of one request. Keys are scoped to the caller's whole identity: the
/// person and what they act for (an agency, or — for applicants — their organization), so two
/// people of the same name in different organizations never share a key.
struct Idem {
    scope: String,
    key: String,
    operation: &'static str,
    request_hash: String,
    /// The applicant's organization: a replayed application must be theirs.
    organization: Option<String>,
}

impl Idem {
    fn new(
        actor: &Actor,
        organization: Option<&str>,
        key: Option<&String>,
        operation: &'static str,
        request: &Value,
    ) -> Option<Self> {
        let party = match &actor.party {
            Party::Applicant => format!("applicant:{}", organization.unwrap_or_default()),
            Party::Agency(a) => format!("agency:{a}"),
            Party::System => "system".to_owned(),
        };
        key.map(|k| Idem {
            scope: format!("{party}:{}", actor.id),
            key: k.clone(),
            operation,
            request_hash: sha256_hex(&request.to_string()),
            organization: match actor.party {
                Party::Applicant => organization.map(str::to_owned),
                _ => None,
            },
        })
    }
}

/// What the task rows of an application need to know while events are written.
pub(crate) struct Writer<'a> {
    wf: &'a Workflow,
    app_id: Uuid,
    organization: &'a str,
    /// task number -> state, for events that name only the task.
    task_states: HashMap<u32, softland_workflow::StateId>,
    /// Tasks with a pending timer row (only those need timer updates).
    timers: std::collections::HashSet<u32>,
    /// Task rows opened by this command (inserted at the end).
    pub(crate) new_tasks: Vec<task::ActiveModel>,
    /// Timer rows opened by this command.
    pub(crate) new_timers: Vec<timer::ActiveModel>,
    /// Changes to existing task rows, collapsed per task so no row is written twice.
    changes: std::collections::BTreeMap<u32, TaskChange>,
    /// New statuses of existing pending timers.
    timer_changes: std::collections::BTreeMap<u32, TimerStatus>,
}

impl<'a> Writer<'a> {
    /// A writer for an application with no open task known yet.
    pub(crate) fn new(wf: &'a Workflow, app_id: Uuid, organization: &'a str) -> Self {
        Writer {
            wf,
            app_id,
            organization,
            task_states: HashMap::new(),
            timers: Default::default(),
            new_tasks: Vec::new(),
            new_timers: Vec::new(),
            changes: Default::default(),
            timer_changes: Default::default(),
        }
    }

    /// The open tasks after this command: those open `before` that it did not close (with its
    /// reassignments and overdue flags applied), and those it opened, by task number.
    pub(crate) fn open_after(
        &self,
        before: Vec<TaskRecord>,
        opened: &[TaskRecord],
    ) -> Vec<TaskRecord> {
        let mut open: Vec<TaskRecord> = before
            .into_iter()
            .filter_map(|mut t| {
                let Some(c) = self.changes.get(&t.task_no) else {
                    return Some(t);
                };
                if c.closed.is_some() {
                    return None;
                }
                if let Some(to) = &c.reassigned_to {
                    t.assignee = to.clone();
                    t.claimed_by = None;
                }
                t.overdue |= c.overdue;
                Some(t)
            })
            .chain(opened.iter().cloned())
            .collect();
        open.sort_by_key(|t| t.task_no);
        open
    }

    /// Whether the events change rows written earlier (not only rows this writer opened).
    pub(crate) fn changes_existing_rows(&self) -> bool {
        !self.changes.is_empty() || !self.timer_changes.is_empty()
    }
}

/// A PostgreSQL action run without a surrounding transaction: the statement itself checks the
/// task's claim and records the idempotency key.
#[derive(Clone, Copy)]
struct Direct<'a> {
    task: Uuid,
    actor: &'a str,
    idem: Option<&'a Idem>,
}

/// How a task closed.
#[derive(Debug, Clone)]
struct Closed {
    status: TaskStatus,
    at: chrono::DateTime<chrono::Utc>,
    by: Option<String>,
    action: Option<String>,
}

/// A task read for an action, with its application.
struct TaskRead {
    status: TaskStatus,
    claimed_by: Option<String>,
    task_no: i32,
    assignee: String,
    app: application::Model,
    /// The application's open tasks when the read had them (else the commit returns them).
    open_tasks: Option<Vec<TaskRecord>>,
}

/// What happens to an existing task row in one command.
#[derive(Debug, Default, Clone)]
struct TaskChange {
    closed: Option<Closed>,
    reassigned_to: Option<String>,
    overdue: bool,
}

impl Store {
    pub(crate) async fn begin(&self) -> Result<DatabaseTransaction> {
        let opts = TransactionOptions {
            sqlite_transaction_mode: (self.inner.backend == Backend::Sqlite)
                .then_some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        self.writer().begin_with_options(opts).await.map_err(|e| {
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
        let idem = Idem::new(
            &req.actor,
            Some(&req.organization),
            req.idempotency_key.as_ref(),
            "submit",
            &request,
        );
        let result = self.submit_once(&req, idem.as_ref()).await;
        self.settle(result, idem.as_ref()).await
    }

    async fn submit_once(&self, req: &Submit, idem: Option<&Idem>) -> Result<Outcome> {
        match &self.inner.engine {
            Engine::Postgres { commands } => {
                let db = Held::get(commands).await?;
                // With the version this process last submitted to, if it remembers one; the
                // statement inserts only if that is still the current version (see
                // `commit_command`), and otherwise the version is looked up again.
                if let Some(version) = self.remembered_version(&req.workflow_key) {
                    match self.submit_direct(&db, req, idem, Some(version)).await {
                        Err(Error::Conflict(ConflictReason::ConcurrentUpdate)) => {
                            self.forget_version(&req.workflow_key)
                        }
                        done => return done,
                    }
                }
                self.submit_direct(&db, req, idem, None).await
            }
            Engine::Sqlite { .. } => self.submit_direct(self.db(), req, idem, None).await,
        }
    }

    fn remembered_version(&self, key: &str) -> Option<i32> {
        let versions = self
            .inner
            .versions
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        versions.get(key).copied()
    }

    fn remember_version(&self, key: &str, version: i32) {
        let mut versions = self
            .inner
            .versions
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        versions.insert(key.to_owned(), version);
    }

    fn forget_version(&self, key: &str) {
        let mut versions = self
            .inner
            .versions
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        versions.remove(key);
    }

    /// A submission: the workflow's current version is read, the engine runs, and one round
    /// trip ([`commit_command`]) inserts the application with its organization, events,
    /// outbox, task, timer and idempotency rows. No transaction is held across the engine's
    /// work. `db` reads (PostgreSQL: the command's own connection; SQLite: the read pool).
    async fn submit_direct(
        &self,
        db: &impl ConnectionTrait,
        req: &Submit,
        idem: Option<&Idem>,
        remembered: Option<i32>,
    ) -> Result<Outcome> {
        if let Some(done) = self.replay_idempotent(db, idem).await? {
            return Ok(done);
        }
        let version = match remembered {
            Some(v) => v,
            None => self.current_version(db, &req.workflow_key).await?,
        };
        let wf = self.workflow_on(db, &req.workflow_key, version).await?;
        let now = self.now();
        let env = Env {
            now,
            calendar: &self.inner.calendars,
        };
        let (inst, events) = wf.submit(&req.actor, req.data.clone(), env)?;
        let id = Uuid::now_v7();
        let mut w = Writer::new(&wf, id, &req.organization);
        let log = Self::plan_events(&mut w, 1, &genesis(id), &events, now)?;
        let row = application::ActiveModel {
            id: Set(id),
            workflow_key: Set(req.workflow_key.clone()),
            workflow_version: Set(version),
            organization: Set(req.organization.clone()),
            data: Set(inst.data().clone()),
            submitted_at: Set(now),
            ..snapshot(&wf, &inst, log.last_hash.clone(), now)?
        };
        // Not inserted: a version was published or retired meanwhile.
        if !commit_command(self, db, Head::Insert { row: &row, idem }, &log, &w)
            .await?
            .0
        {
            return Err(ConflictReason::ConcurrentUpdate.into());
        }
        if self.inner.backend == Backend::Postgres {
            self.remember_version(&req.workflow_key, version);
        }
        let mut app = application::Model::try_from(row).map_err(corrupt)?;
        // Remembered without its JSON columns: the instance holds them.
        let data = std::mem::take(&mut app.data);
        app.instance = Value::Null;
        if self.inner.backend == Backend::Postgres {
            self.inner.warm.put(app.clone(), inst, &log.opened);
        }
        Ok(Outcome {
            application: app_record(application::Model { data, ..app })?,
            events: log.records,
            open_tasks: Some(log.opened.clone()),
            opened: log.opened,
            replayed: false,
        })
    }

    /// Takes an action on a task.
    pub async fn act(&self, req: Act) -> Result<Outcome> {
        let request = json!({"task": req.task_id, "action": req.action, "comment": req.comment, "input": req.input, "expected": req.expected_revision});
        let idem = Idem::new(
            &req.actor,
            req.organization.as_deref(),
            req.idempotency_key.as_ref(),
            "act",
            &request,
        );
        self.retrying(req.expected_revision.is_none(), idem.as_ref(), || {
            self.act_once(&req, idem.as_ref())
        })
        .await
    }

    async fn act_once(&self, req: &Act, idem: Option<&Idem>) -> Result<Outcome> {
        match &self.inner.engine {
            Engine::Postgres { commands } => {
                let db = Held::get(commands).await?;
                // From what this process last wrote, if it remembers the task; whatever goes
                // wrong there is decided again from a fresh read (see `warm`).
                if let Some(warm) = self.inner.warm.take(req.task_id) {
                    let app = warm.app.id;
                    match self.act_direct(&db, req, idem, Some(warm)).await {
                        Ok(out) => return Ok(out),
                        Err(_) => self.inner.warm.forget(app),
                    }
                }
                self.act_direct(&db, req, idem, None).await
            }
            Engine::Sqlite { .. } => self.act_direct(self.db(), req, idem, None).await,
        }
    }

    /// Withdraws an application (the applicant only).
    pub async fn withdraw(&self, req: Withdraw) -> Result<Outcome> {
        let request = json!({"application": req.application_id, "reason": req.reason});
        let idem = Idem::new(
            &req.actor,
            Some(&req.organization),
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
            if app.organization != req.organization {
                return Err(Error::NotFound("application".to_owned()));
            }
            let out = self
                .apply(
                    &txn,
                    (app, None),
                    &req.actor,
                    Command::Withdraw {
                        reason: req.reason.clone(),
                    },
                    None,
                    None,
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
                    (app, None),
                    &Actor::system(),
                    Command::FireTimer {
                        task: TaskId(task_no),
                    },
                    None,
                    None,
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

    /// An action: read the task with its application (or start from `warm`, what this process
    /// last wrote), run the engine, then one round trip ([`commit_command`]) that
    /// compare-and-sets the revision (and the claim) and writes everything else only if it
    /// matched. No transaction is held across the engine's work. `db` reads (PostgreSQL: the
    /// command's own connection, one joined query, the open tasks coming back from the commit;
    /// SQLite: the read pool, the open tasks read too).
    async fn act_direct(
        &self,
        db: &impl ConnectionTrait,
        req: &Act,
        idem: Option<&Idem>,
        warm: Option<WarmTask>,
    ) -> Result<Outcome> {
        if let Some(done) = self.replay_idempotent(db, idem).await? {
            return Ok(done);
        }
        let mut inst = None;
        let read = match (warm, self.inner.backend) {
            // Remembered as open; the claim is checked by the commit statement alone.
            (Some(w), _) => {
                inst = Some(w.inst);
                TaskRead {
                    status: TaskStatus::Open,
                    claimed_by: None,
                    task_no: w.task_no,
                    assignee: w.assignee,
                    app: w.app,
                    open_tasks: None,
                }
            }
            (None, Backend::Postgres) => Self::read_task_pg(db, req.task_id).await?,
            (None, Backend::Sqlite) => {
                let t = task::Entity::find_by_id(req.task_id)
                    .one(db)
                    .await?
                    .ok_or_else(|| Error::NotFound(format!("task {}", req.task_id)))?;
                let app = self.load_app(db, t.application_id).await?;
                let before = task::Entity::find()
                    .filter(task::Column::ApplicationId.eq(app.id))
                    .filter(task::Column::Status.eq(TaskStatus::Open))
                    .order_by_asc(task::Column::TaskNo)
                    .all(db)
                    .await?
                    .into_iter()
                    .map(task_record)
                    .collect::<Result<_>>()?;
                TaskRead {
                    status: t.status,
                    claimed_by: t.claimed_by,
                    task_no: t.task_no,
                    assignee: t.assignee,
                    app,
                    open_tasks: Some(before),
                }
            }
        };
        let TaskRead {
            status,
            claimed_by,
            task_no,
            assignee,
            app,
            open_tasks: before,
        } = read;
        ensure_yours(req, &assignee, &app.organization, app.id)?;
        if status != TaskStatus::Open {
            return Err(ConflictReason::TaskClosed.into());
        }
        if let Some(holder) = claimed_by
            && holder != req.actor.id
            && matches!(req.actor.party, Party::Agency(_))
        {
            return Err(ConflictReason::ClaimedByOther(holder).into());
        }
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
            task: TaskId(task_no as u32),
            action: req.action.clone(),
            comment: req.comment.clone(),
            input: req.input.clone(),
        };
        let direct = Direct {
            task: req.task_id,
            actor: &req.actor.id,
            idem,
        };
        self.apply(db, (app, inst), &req.actor, command, Some(direct), before)
            .await
    }

    /// PostgreSQL: the task (status, claim, number, assignee) with its application, in one
    /// query.
    async fn read_task_pg(db: &impl ConnectionTrait, task_id: Uuid) -> Result<TaskRead> {
        use sea_orm::{DbBackend, FromQueryResult, Statement};
        let sql = "SELECT t.status AS t_status, t.claimed_by AS t_claimed_by, t.task_no AS t_task_no, t.assignee AS t_assignee, a.* FROM tasks t JOIN applications a ON a.id = t.application_id WHERE t.id = $1";
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                sql,
                [task_id.into()],
            ))
            .await?
            .ok_or_else(|| Error::NotFound(format!("task {task_id}")))?;
        let status: String = row.try_get("", "t_status")?;
        let status = TaskStatus::try_from_value(&status).map_err(|e| Error::Unreadable {
            table: "tasks",
            id: task_id.to_string(),
            column: "status",
            why: e.to_string(),
        })?;
        Ok(TaskRead {
            status,
            claimed_by: row.try_get("", "t_claimed_by")?,
            task_no: row.try_get("", "t_task_no")?,
            assignee: row.try_get("", "t_assignee")?,
            app: application::Model::from_query_result(&row, "")?,
            // The open tasks come back from the commit statement.
            open_tasks: None,
        })
    }

    async fn load_app(&self, txn: &impl ConnectionTrait, id: Uuid) -> Result<application::Model> {
        application::Entity::find_by_id(id)
            .one(txn)
            .await?
            .ok_or_else(|| Error::NotFound(format!("application {id}")))
    }

    /// Runs the engine on the application's snapshot and writes what it decided. The
    /// application is its row, with the engine's instance when this process remembers it
    /// (then the row's JSON columns are left out).
    async fn apply(
        &self,
        txn: &impl ConnectionTrait,
        (mut app, remembered): (application::Model, Option<Instance>),
        actor: &Actor,
        command: Command,
        direct: Option<Direct<'_>>,
        before: Option<Vec<TaskRecord>>,
    ) -> Result<Outcome> {
        let wf = self
            .workflow_on(txn, &app.workflow_key, app.workflow_version)
            .await?;
        // The remembered instance carries its form data; a row read fresh lends its own.
        let mut inst = match remembered {
            Some(inst) => inst,
            None => {
                let mut inst = <Instance as serde::Deserialize>::deserialize(&app.instance)
                    .map_err(corrupt)?;
                inst.set_data(std::sync::Arc::new(std::mem::take(&mut app.data)));
                inst
            }
        };
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
            task_states,
            timers,
            ..Writer::new(&wf, app.id, &app.organization)
        };
        let mut log = Self::plan_events(&mut w, app.revision + 1, &app.last_hash, &events, now)?;
        let (records, opened) = (
            std::mem::take(&mut log.records),
            std::mem::take(&mut log.opened),
        );
        let mut update = snapshot(&wf, &inst, log.last_hash.clone(), now)?;
        let remember = self.inner.backend == Backend::Postgres && direct.is_some();
        let (won, open_before) = match (self.inner.backend, &direct) {
            // One round trip: the revision compare-and-set, and the events and outbox rows
            // inserted only if it matched.
            (Backend::Postgres, _) | (Backend::Sqlite, Some(_)) => {
                let head = Head::Update {
                    app: app.id,
                    revision: app.revision,
                    update: &mut update,
                    direct,
                };
                commit_command(self, txn, head, &log, &w).await?
            }
            // Inside a transaction the caller began (withdrawal, timers).
            (Backend::Sqlite, None) => {
                Self::write_rows(
                    txn,
                    w.app_id,
                    log,
                    &mut w.new_tasks,
                    &mut w.new_timers,
                    &w.changes,
                    &w.timer_changes,
                )
                .await?;
                let res = application::Entity::update_many()
                    .set(update.clone())
                    .filter(application::Column::Id.eq(app.id))
                    .filter(application::Column::Revision.eq(app.revision))
                    .exec(txn)
                    .await?;
                (res.rows_affected == 1, None)
            }
        };
        if !won {
            return Err(ConflictReason::ConcurrentUpdate.into());
        }
        let open_tasks = before
            .or(open_before)
            .map(|before| w.open_after(before, &opened));
        // The new row is the old one with the snapshot columns replaced: no need to read it.
        // Its instance and form data stay with the engine's `inst`, not copied into it.
        let mut updated: application::ActiveModel = app.into();
        for col in [
            application::Column::Status,
            application::Column::Outcome,
            application::Column::ActiveStates,
            application::Column::Revision,
            application::Column::LastHash,
            application::Column::UpdatedAt,
        ] {
            updated.set(
                col,
                update
                    .take(col)
                    .into_value()
                    .ok_or_else(|| corrupt("snapshot column unset"))?,
            );
        }
        let row = application::Model {
            instance: Value::Null,
            data: Value::Null,
            ..application::Model::try_from(updated).map_err(corrupt)?
        };
        let application = app_record(application::Model {
            data: inst.data().clone(),
            ..row.clone()
        })?;
        // Only a statement that committed on its own is remembered (a caller's transaction
        // could still roll back).
        match (&open_tasks, remember) {
            (Some(open), true) => self.inner.warm.put(row, inst, open),
            _ => self.inner.warm.forget(row.id),
        }
        Ok(Outcome {
            application,
            events: records,
            opened,
            open_tasks,
            replayed: false,
        })
    }

    /// The rows a command's events make, without writing any: the events with their hash
    /// chain, the outbox row, and (in `w`) the task and timer rows opened and changed.
    pub(crate) fn plan_events(
        w: &mut Writer<'_>,
        first_seq: i64,
        prev_hash: &str,
        events: &[Event],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Log> {
        let mut prev = prev_hash.to_owned();
        let mut rows = Vec::with_capacity(events.len());
        let mut records = Vec::with_capacity(events.len());
        for (i, e) in events.iter().enumerate() {
            let seq = first_seq + i as i64;
            let payload = serde_json::to_string(e).map_err(corrupt)?;
            let hash = link(&prev, seq, &payload);
            let (state, action, comment) = event_columns(e, &mut w.task_states);
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
            records.push(record);
            prev = hash;
            task_effects(w, e)?;
        }
        let opened = w
            .new_tasks
            .iter()
            .filter(|t| matches!(t.status, sea_orm::ActiveValue::Set(TaskStatus::Open)))
            .map(|t| {
                task::Model::try_from(t.clone())
                    .map_err(corrupt)
                    .and_then(task_record)
            })
            .collect::<Result<Vec<_>>>()?;
        // One outbox row for the command: the relay reads the events it names.
        let outbox = match events.len() {
            0 => Vec::new(),
            n => vec![outbox::ActiveModel {
                application_id: Set(w.app_id),
                first_seq: Set(first_seq),
                last_seq: Set(first_seq + n as i64 - 1),
                created_at: Set(now),
                delivered_at: Set(None),
                ..Default::default()
            }],
        };
        Ok(Log {
            records,
            last_hash: prev,
            opened,
            events: rows,
            outbox,
        })
    }

    /// The first result of an idempotency key, if it was used already.
    async fn replay_idempotent(
        &self,
        txn: &impl ConnectionTrait,
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
        // Ownership before any replay: a key is only ever found in its own caller's scope, and
        // the application it names must still be the caller's organization's.
        if idem
            .organization
            .as_ref()
            .is_some_and(|o| *o != app.organization)
        {
            return Err(Error::NotFound("application".to_owned()));
        }
        Ok(Some(Outcome {
            application: app_record(app)?,
            events: vec![],
            opened: vec![],
            open_tasks: None,
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

    /// After the transaction: turn a lost race into a replay (same
    /// idempotency key committed meanwhile) or a conflict.
    async fn settle(&self, result: Result<Outcome>, idem: Option<&Idem>) -> Result<Outcome> {
        match result {
            // Subscribers hear of committed events through the outbox relay, whichever
            // process committed them.
            Ok(out) => Ok(out),
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

/// The task and timer rows one event changes, as data: new rows, and changes to existing rows
/// collapsed per task (a command may flag a task overdue and then complete it).
fn task_effects(w: &mut Writer<'_>, e: &Event) -> Result<()> {
    match &e.kind {
        EventKind::TaskOpened {
            task,
            state,
            assignee,
            due_at,
            due_estimated,
        } => {
            let st = w.wf.state(*state);
            if *due_estimated {
                // Not silent: the event says so, and operators are told (see docs/calendars.md).
                tracing::warn!(
                    application = %w.app_id,
                    task = task.0,
                    assignee = assignee.key(),
                    due_at = ?due_at,
                    "due date counted past the end of the holiday table: an estimate; add the next year's table"
                );
            }
            let actions: Vec<TaskAction> = st
                .offered_actions()
                .into_iter()
                .map(|a| TaskAction {
                    name: a.name,
                    title: a.title.en,
                    input_schema: a.input_schema,
                })
                .collect();
            w.new_tasks.push(task::ActiveModel {
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
                w.new_timers.push(timer::ActiveModel {
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
            close_task(w, e, task.0, TaskStatus::Completed, Some(action.clone()))
        }
        EventKind::TaskCancelled { task } => close_task(w, e, task.0, TaskStatus::Cancelled, None),
        EventKind::TaskReassigned { task, assignee } => {
            let c = w.changes.entry(task.0).or_default();
            c.reassigned_to = Some(assignee.key().to_owned());
            c.overdue = true;
            if w.timers.remove(&task.0) {
                w.timer_changes.insert(task.0, TimerStatus::Fired);
            }
        }
        EventKind::TaskOverdue { task } => {
            w.changes.entry(task.0).or_default().overdue = true;
            if w.timers.remove(&task.0) {
                w.timer_changes.insert(task.0, TimerStatus::Fired);
            }
        }
        _ => {}
    }
    Ok(())
}

/// Closes a task: one opened by this same command is still an unsaved row; others get a
/// change. Its pending timer is cancelled.
fn close_task(
    w: &mut Writer<'_>,
    e: &Event,
    task_no: u32,
    status: TaskStatus,
    action: Option<String>,
) {
    let closed_by = e.actor.as_deref().map(str::to_owned);
    let no = task_no as i32;
    if let Some(t) = w
        .new_tasks
        .iter_mut()
        .find(|t| matches!(&t.task_no, sea_orm::ActiveValue::Set(n) if *n == no))
    {
        t.status = Set(status);
        t.closed_at = Set(Some(e.at));
        t.closed_by = Set(closed_by);
        t.closed_action = Set(action);
        w.new_timers
            .retain(|tm| !matches!(&tm.task_no, sea_orm::ActiveValue::Set(n) if *n == no));
        w.timers.remove(&task_no);
        return;
    }
    w.changes.entry(task_no).or_default().closed = Some(Closed {
        status,
        at: e.at,
        by: closed_by,
        action,
    });
    if w.timers.remove(&task_no) {
        w.timer_changes.insert(task_no, TimerStatus::Cancelled);
    }
}

/// An open task row as PostgreSQL's `json_agg` gives it.
#[derive(serde::Deserialize)]
struct OpenTaskRow {
    id: Uuid,
    application_id: Uuid,
    task_no: i32,
    state: String,
    title: String,
    assignee: String,
    organization: String,
    actions: Vec<TaskAction>,
    due_at: Option<chrono::DateTime<chrono::Utc>>,
    overdue: bool,
    opened_at: chrono::DateTime<chrono::Utc>,
    claimed_by: Option<String>,
}

impl OpenTaskRow {
    fn record(self) -> TaskRecord {
        TaskRecord {
            id: self.id,
            application_id: self.application_id,
            task_no: self.task_no as u32,
            state: self.state,
            title: self.title,
            assignee: self.assignee,
            organization: self.organization,
            actions: self.actions,
            status: crate::records::TaskStatus::Open,
            due_at: self.due_at,
            overdue: self.overdue,
            opened_at: self.opened_at,
            closed_at: None,
            closed_by: None,
            closed_action: None,
            claimed_by: self.claimed_by,
        }
    }
}

/// Refuses a task that is not the actor's to work (see [`Error::NotYours`]).
fn ensure_yours(req: &Act, assignee: &str, organization: &str, application_id: Uuid) -> Result<()> {
    let yours = match &req.actor.party {
        Party::Agency(agency) => agency == assignee,
        Party::Applicant => {
            assignee == "applicant"
                && req
                    .organization
                    .as_deref()
                    .is_none_or(|o| o == organization)
        }
        Party::System => true,
    };
    if yours {
        Ok(())
    } else {
        Err(Error::NotYours {
            application_id,
            assignee: assignee.to_owned(),
        })
    }
}

/// What writing a command's events produced; the event and outbox rows still to insert.
pub(crate) struct Log {
    records: Vec<EventRecord>,
    pub(crate) last_hash: String,
    opened: Vec<TaskRecord>,
    pub(crate) events: Vec<event::ActiveModel>,
    outbox: Vec<outbox::ActiveModel>,
}

impl Store {
    /// Writes a command's rows with one statement each (SQLite, and submissions).
    async fn write_rows(
        txn: &impl ConnectionTrait,
        app: Uuid,
        log: Log,
        new_tasks: &mut Vec<task::ActiveModel>,
        new_timers: &mut Vec<timer::ActiveModel>,
        changes: &std::collections::BTreeMap<u32, TaskChange>,
        timer_changes: &std::collections::BTreeMap<u32, TimerStatus>,
    ) -> Result<()> {
        event::Entity::insert_many(log.events)
            .exec_without_returning(txn)
            .await?;
        if !log.outbox.is_empty() {
            outbox::Entity::insert_many(log.outbox)
                .exec_without_returning(txn)
                .await?;
        }
        if !new_tasks.is_empty() {
            task::Entity::insert_many(std::mem::take(new_tasks))
                .exec_without_returning(txn)
                .await?;
        }
        if !new_timers.is_empty() {
            timer::Entity::insert_many(std::mem::take(new_timers))
                .exec_without_returning(txn)
                .await?;
        }
        for (no, c) in changes {
            let mut q = task::Entity::update_many();
            if let Some(Closed {
                status,
                at,
                by,
                action,
            }) = &c.closed
            {
                q = q
                    .col_expr(task::Column::Status, Expr::value(*status))
                    .col_expr(task::Column::ClosedAt, Expr::value(*at))
                    .col_expr(task::Column::ClosedBy, Expr::value(by.clone()))
                    .col_expr(task::Column::ClosedAction, Expr::value(action.clone()));
            }
            if let Some(to) = &c.reassigned_to {
                q = q
                    .col_expr(task::Column::Assignee, Expr::value(to.clone()))
                    .col_expr(task::Column::ClaimedBy, Expr::value(Option::<String>::None));
            }
            if c.overdue {
                q = q.col_expr(task::Column::Overdue, Expr::value(true));
            }
            q.filter(task::Column::ApplicationId.eq(app))
                .filter(task::Column::TaskNo.eq(*no as i32))
                .exec(txn)
                .await?;
        }
        for (no, status) in timer_changes {
            timer::Entity::update_many()
                .col_expr(timer::Column::Status, Expr::value(*status))
                .filter(timer::Column::ApplicationId.eq(app))
                .filter(timer::Column::TaskNo.eq(*no as i32))
                .filter(timer::Column::Status.eq(TimerStatus::Pending))
                .exec(txn)
                .await?;
        }
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

/// What the PostgreSQL statement does to the application row before everything else.
enum Head<'a> {
    /// An action: compare-and-set the revision (and, run directly, the task's claim).
    Update {
        app: Uuid,
        revision: i64,
        /// The snapshot columns; the instance's JSON is moved into the statement.
        update: &'a mut application::ActiveModel,
        direct: Option<Direct<'a>>,
    },
    /// A submission: insert the application (and its organization, if new).
    Insert {
        row: &'a application::ActiveModel,
        idem: Option<&'a Idem>,
    },
}

/// The whole command as one round trip. For an action it compare-and-sets the application's
/// revision (and, run directly, the task's claim), and — only if that matched — appends events
/// and the outbox row, inserts the new task and timer rows and applies the task and timer
/// changes; a submission inserts the application with all of its rows.
///
/// On PostgreSQL that is one statement of data-modifying CTEs, each guarded by the head's
/// `RETURNING`. On SQLite it is one script run in one call on the writer connection —
/// `BEGIN IMMEDIATE`, the head, the other statements, `COMMIT` — where each statement after
/// the head is guarded by the application row now carrying this command's revision and hash
/// (if the head did not match, the row has another writer's hash or the old revision, and
/// nothing is written; a second writer with an identical hash would still be stopped by the
/// events' unique sequence). Returns whether the head matched.
async fn commit_command(
    store: &Store,
    txn: &impl ConnectionTrait,
    head: Head<'_>,
    log: &Log,
    w: &Writer<'_>,
) -> Result<(bool, Option<Vec<TaskRecord>>)> {
    use sea_orm::{DbBackend, Statement};
    let backend = store.inner.backend;
    let mut values: Vec<sea_orm::Value> = Vec::new();
    let mut p = |v: sea_orm::Value| {
        values.push(v);
        format!("${}", values.len())
    };
    // The head comes first in `ctes`; `early` runs before it, unguarded.
    let mut ctes = Vec::new();
    let mut early = Vec::new();
    let app_p;
    let new_p;
    let idem_row;
    match head {
        Head::Update {
            app,
            revision,
            update,
            direct,
        } => {
            let instance = update
                .take(application::Column::Instance)
                .into_value()
                .ok_or_else(|| corrupt("no `instance` column"))?;
            let mut set = vec![format!("instance = {}", p(instance))];
            for (name, col) in [
                ("status", application::Column::Status),
                ("outcome", application::Column::Outcome),
                ("active_states", application::Column::ActiveStates),
                ("revision", application::Column::Revision),
                ("last_hash", application::Column::LastHash),
                ("updated_at", application::Column::UpdatedAt),
            ] {
                set.push(format!("{name} = {}", p(value_of(update, col)?)));
            }
            let set = set.join(", ");
            app_p = p(app.into());
            let rev_p = p(revision.into());
            new_p = (
                p(value_of(update, application::Column::Revision)?),
                p(value_of(update, application::Column::LastHash)?),
            );
            // Without a surrounding transaction the task's claim is checked in the same statement.
            let guard = match &direct {
                Some(d) => format!(
                    " AND EXISTS (SELECT 1 FROM tasks WHERE id = {} AND status = {} AND (claimed_by IS NULL OR claimed_by = {}))",
                    p(d.task.into()),
                    p(TaskStatus::Open.to_value().into()),
                    p(d.actor.to_owned().into())
                ),
                None => String::new(),
            };
            ctes.push(format!(
                "UPDATE applications SET {set} WHERE id = {app_p} AND revision = {rev_p}{guard}"
            ));
            idem_row = direct.and_then(|d| d.idem).map(|i| (i, app, &*update));
        }
        Head::Insert { row, idem } => {
            use application::Column as A;
            let cols = [
                ("id", A::Id),
                ("workflow_key", A::WorkflowKey),
                ("workflow_version", A::WorkflowVersion),
                ("organization", A::Organization),
                ("status", A::Status),
                ("outcome", A::Outcome),
                ("active_states", A::ActiveStates),
                ("data", A::Data),
                ("instance", A::Instance),
                ("revision", A::Revision),
                ("last_hash", A::LastHash),
                ("submitted_at", A::SubmittedAt),
                ("updated_at", A::UpdatedAt),
            ];
            let names: Vec<&str> = cols.iter().map(|(n, _)| *n).collect();
            let vals = cols
                .iter()
                .map(|(_, c)| Ok(p(value_of(row, *c)?)))
                .collect::<Result<Vec<_>>>()?;
            let id = match value_of(row, A::Id)? {
                sea_orm::Value::Uuid(Some(id)) => id,
                _ => return Err(corrupt("a new application without an id")),
            };
            // The id, organization and submission time are reused below by placeholder.
            let placeholder = |name: &str| {
                names
                    .iter()
                    .position(|n| *n == name)
                    .map(|i| vals[i].clone())
                    .ok_or_else(|| corrupt(format!("no `{name}` column")))
            };
            app_p = placeholder("id")?;
            new_p = (placeholder("revision")?, placeholder("last_hash")?);
            let (org_p, at_p) = (placeholder("organization")?, placeholder("submitted_at")?);
            // Not guarded: it may or may not insert, and the application insert decides.
            early.push(format!(
                "INSERT INTO organizations (key, name, created_at) VALUES ({org_p}, {org_p}, {at_p}) ON CONFLICT DO NOTHING"
            ));
            // Only into the workflow's current version: none newer, this one not retired.
            let (key_p, version_p) = (
                placeholder("workflow_key")?,
                placeholder("workflow_version")?,
            );
            ctes.push(format!(
                "INSERT INTO applications ({}) SELECT {} WHERE NOT EXISTS (SELECT 1 FROM workflow_definitions WHERE key = {key_p} AND (version > {version_p} OR (version = {version_p} AND retired_at IS NOT NULL)))",
                names.join(", "),
                vals.join(", ")
            ));
            idem_row = idem.map(|i| (i, id, row));
        }
    }
    // PostgreSQL: the head's RETURNING; SQLite: the row as this command leaves it.
    let guard = match backend {
        Backend::Postgres => "EXISTS (SELECT 1 FROM up)".to_owned(),
        Backend::Sqlite => format!(
            "EXISTS (SELECT 1 FROM applications WHERE id = {app_p} AND revision = {} AND last_hash = {})",
            new_p.0, new_p.1
        ),
    };
    // SQLite has no column list on a VALUES alias.
    let alias = backend == Backend::Postgres;
    if let Some((idem, app, row)) = idem_row {
        ctes.push(idem_insert(idem, app, row, &guard, &mut p)?);
    }

    /// `INSERT INTO table (cols) SELECT * FROM (VALUES …) v(cols) WHERE <guard>` for some rows.
    fn insert<A: ActiveModelTrait>(
        table: &str,
        cols: &[(&str, <A::Entity as EntityTrait>::Column)],
        rows: &[A],
        (guard, alias): (&str, bool),
        p: &mut dyn FnMut(sea_orm::Value) -> String,
    ) -> Result<Option<String>> {
        if rows.is_empty() {
            return Ok(None);
        }
        let names: Vec<&str> = cols.iter().map(|(n, _)| *n).collect();
        let mut tuples = Vec::with_capacity(rows.len());
        for r in rows {
            let vals = cols
                .iter()
                .map(|(_, c)| Ok(p(value_of(r, *c)?)))
                .collect::<Result<Vec<_>>>()?;
            tuples.push(format!("({})", vals.join(", ")));
        }
        let names = names.join(", ");
        let alias = if alias {
            format!(" AS v({names})")
        } else {
            String::new()
        };
        Ok(Some(format!(
            "INSERT INTO {table} ({names}) SELECT * FROM (VALUES {}){alias} WHERE {guard}",
            tuples.join(", ")
        )))
    }

    use event::Column as E;
    let ev = [
        ("application_id", E::ApplicationId),
        ("seq", E::Seq),
        ("kind", E::Kind),
        ("actor", E::Actor),
        ("state", E::State),
        ("action", E::Action),
        ("comment", E::Comment),
        ("payload", E::Payload),
        ("at", E::At),
        ("prev_hash", E::PrevHash),
        ("hash", E::Hash),
    ];
    use outbox::Column as O;
    let ob = [
        ("application_id", O::ApplicationId),
        ("first_seq", O::FirstSeq),
        ("last_seq", O::LastSeq),
        ("created_at", O::CreatedAt),
    ];
    use task::Column as T;
    let tk = [
        ("id", T::Id),
        ("application_id", T::ApplicationId),
        ("task_no", T::TaskNo),
        ("state", T::State),
        ("title", T::Title),
        ("assignee", T::Assignee),
        ("organization", T::Organization),
        ("actions", T::Actions),
        ("status", T::Status),
        ("due_at", T::DueAt),
        ("inbox_order", T::InboxOrder),
        ("overdue", T::Overdue),
        ("opened_at", T::OpenedAt),
        ("closed_at", T::ClosedAt),
        ("closed_by", T::ClosedBy),
        ("closed_action", T::ClosedAction),
        ("claimed_by", T::ClaimedBy),
        ("claimed_at", T::ClaimedAt),
        ("delegated_to", T::DelegatedTo),
    ];
    use timer::Column as M;
    let tm = [
        ("application_id", M::ApplicationId),
        ("task_no", M::TaskNo),
        ("due_at", M::DueAt),
        ("status", M::Status),
        ("lease_owner", M::LeaseOwner),
        ("lease_until", M::LeaseUntil),
    ];
    let inserts = [
        insert("events", &ev, &log.events, (&guard, alias), &mut p)?,
        insert("outbox", &ob, &log.outbox, (&guard, alias), &mut p)?,
        insert("tasks", &tk, &w.new_tasks, (&guard, alias), &mut p)?,
        insert("timers", &tm, &w.new_timers, (&guard, alias), &mut p)?,
    ];
    ctes.extend(inserts.into_iter().flatten());
    for (no, c) in &w.changes {
        let mut sets = Vec::new();
        if let Some(Closed {
            status,
            at,
            by,
            action,
        }) = &c.closed
        {
            sets.push(format!(
                "status = {}",
                p(sea_orm::Value::from(status.to_value()))
            ));
            sets.push(format!("closed_at = {}", p((*at).into())));
            sets.push(format!("closed_by = {}", p(by.clone().into())));
            sets.push(format!("closed_action = {}", p(action.clone().into())));
        }
        if let Some(to) = &c.reassigned_to {
            sets.push(format!("assignee = {}", p(to.clone().into())));
            sets.push("claimed_by = NULL".to_owned());
        }
        if c.overdue {
            sets.push("overdue = TRUE".to_owned());
        }
        if sets.is_empty() {
            continue;
        }
        let no_p = p((*no as i32).into());
        ctes.push(format!(
            "UPDATE tasks SET {} WHERE application_id = {app_p} AND task_no = {no_p} AND {guard}",
            sets.join(", ")
        ));
    }
    for (no, status) in &w.timer_changes {
        let st = p(sea_orm::Value::from(status.to_value()));
        let no_p = p((*no as i32).into());
        let pending = p(TimerStatus::Pending.to_value().into());
        ctes.push(format!("UPDATE timers SET status = {st} WHERE application_id = {app_p} AND task_no = {no_p} AND status = {pending} AND {guard}"));
    }
    match &store.inner.engine {
        Engine::Postgres { .. } => {
            let mut parts = early
                .iter()
                .enumerate()
                .map(|(i, sql)| format!("e{i} AS ({sql})"))
                .collect::<Vec<_>>();
            let mut rest = ctes.iter();
            let head = rest
                .next()
                .ok_or_else(|| corrupt("a command without a head"))?;
            parts.push(format!("up AS ({head} RETURNING id)"));
            parts.extend(rest.enumerate().map(|(i, sql)| format!("s{i} AS ({sql})")));
            // The open tasks as they were before this statement (its own writes are not
            // visible to it): with the command's changes they give the open tasks after it.
            let open = p(TaskStatus::Open.to_value().into());
            let sql = format!(
                "WITH {} SELECT (SELECT count(*) FROM up) AS n, (SELECT coalesce(json_agg(o), '[]'::json) FROM tasks o WHERE o.application_id = {app_p} AND o.status = {open}) AS open",
                parts.join(", ")
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
            let open: Value = row.try_get("", "open")?;
            let open = serde_json::from_value::<Vec<OpenTaskRow>>(open)
                .map_err(corrupt)?
                .into_iter()
                .map(OpenTaskRow::record)
                .collect();
            Ok((n == 1, Some(open)))
        }
        Engine::Sqlite { group, .. } => {
            // The script ends by reading back whether the row carries this command's revision
            // and hash (SQLite's change counts are not reset by BEGIN, so they cannot tell).
            // The group writer runs it in a savepoint of a transaction shared with the
            // commands queued beside it.
            let script = format!(
                "{}; SELECT count(*) FROM applications WHERE id = {app_p} AND revision = {} AND last_hash = {}",
                early
                    .iter()
                    .chain(&ctes)
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join("; "),
                new_p.0,
                new_p.1
            );
            Ok((
                crate::sqlite_group::run(group, script, values).await? == 1,
                None,
            ))
        }
    }
}

/// The idempotency key's row, written only if the head of the statement matched.
fn idem_insert(
    idem: &Idem,
    app: Uuid,
    row: &application::ActiveModel,
    guard: &str,
    p: &mut dyn FnMut(sea_orm::Value) -> String,
) -> Result<String> {
    let vals = [
        p(idem.scope.clone().into()),
        p(idem.key.clone().into()),
        p(idem.operation.to_owned().into()),
        p(idem.request_hash.clone().into()),
        p(app.into()),
        p(value_of(row, application::Column::Revision)?),
        p(value_of(row, application::Column::UpdatedAt)?),
    ];
    Ok(format!(
        "INSERT INTO idempotency_keys (scope, key, operation, request_hash, application_id, revision, created_at) SELECT {} WHERE {guard}",
        vals.join(", ")
    ))
}

/// The application columns that follow from the instance.
pub(crate) fn snapshot(
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

/// The pure plan: engine events → the rows one command makes, without a database.
#[cfg(test)]
mod plan_tests {
    use super::*;
    use softland_workflow::Calendars;

    fn workflow() -> Workflow {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let source = std::fs::read_to_string(root.join("workflows/soft-landing-sz-to-hk.yaml"))
            .expect("yaml");
        let form = std::fs::read_to_string(root.join("schemas/forms/soft-landing-sz-to-hk.json"))
            .expect("form");
        Workflow::compile_with(&source, &move |_: &str| Ok::<_, String>(form.clone()))
            .expect("bundled workflow")
    }

    fn sample() -> Value {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        serde_json::from_str(
            &std::fs::read_to_string(root.join("workflows/examples/soft-landing-sz-to-hk.json"))
                .expect("sample"),
        )
        .expect("json")
    }

    fn set<T: Clone + Into<sea_orm::Value>>(v: &sea_orm::ActiveValue<T>) -> T {
        match v {
            sea_orm::ActiveValue::Set(x) | sea_orm::ActiveValue::Unchanged(x) => x.clone(),
            sea_orm::ActiveValue::NotSet => panic!("a planned column is not set"),
        }
    }

    /// A submission: every event row chained to the one before, one outbox row spanning them,
    /// and a task row (with the definition's actions) and a timer for each task it opened.
    #[test]
    fn a_submission_plans_chained_events_an_outbox_row_and_its_tasks() {
        let wf = workflow();
        let cal = Calendars::builtin();
        let now = "2026-03-02T02:00:00Z".parse().expect("time");
        let env = Env {
            now,
            calendar: &cal,
        };
        let (_, events) = wf
            .submit(&Actor::applicant("li"), sample(), env)
            .expect("submits");
        let id = Uuid::nil();
        let mut w = Writer::new(&wf, id, "firm");
        let log = Store::plan_events(&mut w, 1, &genesis(id), &events, now).expect("plans");
        assert_eq!(log.events.len(), events.len());
        let mut prev = genesis(id);
        for (i, row) in log.events.iter().enumerate() {
            let seq = set(&row.seq);
            assert_eq!(seq, i as i64 + 1);
            assert_eq!(set(&row.prev_hash), prev);
            let hash = set(&row.hash);
            assert_eq!(hash, link(&prev, seq, &set(&row.payload)));
            prev = hash;
        }
        assert_eq!(log.last_hash, prev);
        assert_eq!(log.outbox.len(), 1);
        assert_eq!(
            (set(&log.outbox[0].first_seq), set(&log.outbox[0].last_seq)),
            (1, events.len() as i64)
        );
        let opened: Vec<String> = w.new_tasks.iter().map(|t| set(&t.state)).collect();
        assert_eq!(opened, ["ofds_nomination"]);
        let actions: Vec<TaskAction> =
            serde_json::from_value(set(&w.new_tasks[0].actions)).expect("actions");
        let names: Vec<&str> = actions.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["nominate", "decline"]);
        assert_eq!(
            w.new_timers.len(),
            1,
            "the nomination is due in business days"
        );
        assert!(w.changes.is_empty() && w.timer_changes.is_empty());
    }

    /// An action: the task it completes is closed (with who and which action), its timer
    /// cancelled, and the next state's tasks opened — as changes, not new rows, for the old one.
    #[test]
    fn an_action_plans_the_closed_task_its_timer_and_the_next_tasks() {
        let wf = workflow();
        let cal = Calendars::builtin();
        let now = "2026-03-02T02:00:00Z".parse().expect("time");
        let env = Env {
            now,
            calendar: &cal,
        };
        let (mut inst, _) = wf
            .submit(&Actor::applicant("li"), sample(), env)
            .expect("submits");
        let task = inst.open_tasks()[0].id;
        let mut w = Writer {
            task_states: inst
                .open_tasks()
                .iter()
                .map(|t| (t.id.0, t.state))
                .collect(),
            timers: inst.timers().map(|(t, _)| t.0).collect(),
            ..Writer::new(&wf, Uuid::nil(), "firm")
        };
        let events = wf
            .execute(
                &mut inst,
                &Actor::reviewer("chen", "ofds"),
                Command::Act {
                    task,
                    action: "nominate".into(),
                    comment: Some("strong".into()),
                    input: None,
                },
                env,
            )
            .expect("nominates");
        let log = Store::plan_events(&mut w, 7, "prev", &events, now).expect("plans");
        assert_eq!(set(&log.events[0].seq), 7);
        let closed = w.changes[&task.0].closed.as_ref().expect("the task closes");
        assert_eq!(closed.status, TaskStatus::Completed);
        assert_eq!(
            (closed.by.as_deref(), closed.action.as_deref()),
            (Some("chen"), Some("nominate"))
        );
        assert_eq!(w.timer_changes[&task.0], TimerStatus::Cancelled);
        let opened: Vec<String> = w.new_tasks.iter().map(|t| set(&t.state)).collect();
        assert_eq!(opened, ["eligibility_screening"]);
        let completed = log
            .records
            .iter()
            .find(|r| r.kind == "task_completed")
            .expect("recorded");
        assert_eq!(
            (completed.state.as_deref(), completed.comment.as_deref()),
            (Some("ofds_nomination"), Some("strong"))
        );
    }
}
