//! Commands: submit, act, withdraw, fire a timer. One command is one round trip.
//!
//! No command holds a transaction across the engine's work:
//! 1. an idempotency key already used? return its first result;
//! 2. read the task and its application — or, on PostgreSQL, start from what this server's own
//!    last command wrote (`warm`) — and ask the engine (pure) for the events;
//! 3. one round trip ([`commit_command`]): compare-and-set the revision (and that the task is
//!    still open and not claimed by someone else), and only if that matched append the events
//!    (hash chain) and write outbox, task, timer and idempotency rows.
//!
//! Withdrawals and timers take the same steps (read the row, run the engine, commit with the
//! revision compared). A lost race (CAS miss, SQLite busy, duplicate idempotency key) writes
//! nothing, and `retrying` runs the command again on the new state.
//!
//! ```text
//!   commands (this file) ─► plan (events → rows, pure) ─► commit (one round trip per backend)
//!        └─► idempotency (keys, replays, retries)
//! ```

pub(crate) mod act;
pub(crate) mod claims;
pub(crate) mod commit;
pub(crate) mod commit_build;
pub(crate) mod commit_sql;
pub(crate) mod idempotency;
pub(crate) mod numbers;
pub(crate) mod pg_commands;
pub(crate) mod plan;
pub(crate) mod plan_places;
pub(crate) mod scheduler;
pub(crate) mod sqlite_group;
pub(crate) mod warm;

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseTransaction, EntityTrait,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use serde_json::{Value, json};
use softland_workflow::{Actor, Command, Env, Instance, TaskId};
use uuid::Uuid;

use crate::Store;
use crate::commands::commit::{Claim, Head, commit_command};
use crate::commands::idempotency::Idem;
use crate::commands::pg_commands::Held;
use crate::commands::plan::{SNAPSHOT_COLUMNS, Writer, plan_events, snapshot};
use crate::connect::{Backend, BackendKind};
use crate::entity::application;
use crate::error::{ConflictReason, Error, Result, corrupt, is_busy};
use crate::hash::genesis;
use crate::records::{Outcome, Submit, TaskRecord, Withdraw};
use crate::rows::app_record;

/// What a command starts from: the application's row, and the engine's instance when this
/// process remembers it (then the row's JSON columns were left out of the read).
pub(crate) struct Snapshot {
    /// The application's row.
    pub(crate) row: application::Model,
    /// The instance this process last wrote, if it remembers it.
    pub(crate) remembered: Option<Instance>,
}

/// What the command's write checks beside the revision: the claim it needs (an action on a
/// claimable task) and the idempotency key it records.
#[derive(Default)]
pub(crate) struct Guard<'a> {
    /// The task the actor must hold or be free to take.
    pub(crate) claim: Option<Claim<'a>>,
    /// The request's idempotency key.
    pub(crate) idem: Option<&'a Idem>,
}

/// One command's starting point for [`Store::apply`].
pub(crate) struct Applied<'a> {
    /// The application as read.
    pub(crate) app: Snapshot,
    /// What the write checks.
    pub(crate) guard: Guard<'a>,
    /// The application's open tasks before the command, when the read had them.
    pub(crate) before: Option<Vec<TaskRecord>>,
}

impl Applied<'_> {
    /// From a row read fresh: nothing remembered, nothing guarded but the revision.
    pub(crate) fn fresh(row: application::Model) -> Self {
        Applied {
            app: Snapshot {
                row,
                remembered: None,
            },
            guard: Guard::default(),
            before: None,
        }
    }
}

impl Store {
    pub(crate) async fn begin(&self) -> Result<DatabaseTransaction> {
        let opts = TransactionOptions {
            sqlite_transaction_mode: (self.inner.backend.kind() == BackendKind::Sqlite)
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
        let request = json!({"workflow": req.workflow_key, "organization": req.organization, "data": req.data, "position": req.position});
        let idem = Idem::new(
            &req.actor,
            Some(&req.organization),
            req.idempotency_key.as_ref(),
            "submit",
            &request,
        );
        crate::traced::command("submit", None, async {
            let result = self.submit_once(&req, idem.as_ref()).await;
            self.settle(result, idem.as_ref()).await
        })
        .await
    }

    async fn submit_once(&self, req: &Submit, idem: Option<&Idem>) -> Result<Outcome> {
        match &self.inner.backend {
            Backend::Postgres { commands } => {
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
            Backend::Sqlite { .. } => self.submit_direct(self.db(), req, idem, None).await,
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
        let owner = crate::documents::links::owner_of(&req.actor, &req.organization);
        let links = self
            .links(db, wf.form_schema(), &req.data, &owner, None)
            .await?;
        let now = self.now();
        let submission = Box::pin(self.places_for_submission(db, &wf, req.position, now)).await?;
        let env = Env {
            now,
            calendar: &self.inner.calendars,
            full: &[],
            unbound: &submission.unbound,
            host: submission.host.as_deref(),
        };
        let (mut inst, events) = wf.submit(&req.actor, req.data.clone(), env)?;
        let events = crate::documents::links::with_links(&wf, &mut inst, events, &links)?;
        let id = Uuid::now_v7();
        let mut w = Writer::new(&wf, version, id, &req.organization);
        w.places = submission.places;
        let log = plan_events(&mut w, 1, &genesis(id), &events, now)?;
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
        if self.inner.backend.kind() == BackendKind::Postgres {
            self.remember_version(&req.workflow_key, version);
        }
        self.after_links(id, &links).await;
        let mut app = application::Model::try_from(row).map_err(corrupt)?;
        // Remembered without its JSON columns: the instance holds them.
        let data = std::mem::take(&mut app.data);
        app.instance = Value::Null;
        if self.inner.backend.kind() == BackendKind::Postgres {
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

    /// Names the application on the documents a committed command linked. Its events already
    /// record the links: a failure here is repaired when the application's documents are next
    /// read ([`Store::documents_of`]), so it is logged, not returned.
    async fn after_links(&self, app: Uuid, links: &[crate::documents::links::Link]) {
        if let Err(e) = self.name_application(app, links).await {
            tracing::warn!(error = %e, application = %app, "documents linked; their rows name the application later");
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
        let work = self.retrying(true, idem.as_ref(), || {
            self.withdraw_once(&req, idem.as_ref())
        });
        crate::traced::command("withdraw", Some(req.application_id), work).await
    }

    async fn withdraw_once(&self, req: &Withdraw, idem: Option<&Idem>) -> Result<Outcome> {
        let db = self.db();
        if let Some(done) = self.replay_idempotent(db, idem).await? {
            return Ok(done);
        }
        let app = self.load_app(db, req.application_id).await?;
        if app.organization != req.organization {
            return Err(Error::NotFound("application".to_owned()));
        }
        let command = Command::Withdraw {
            reason: req.reason.clone(),
        };
        let applied = Applied {
            guard: Guard { claim: None, idem },
            ..Applied::fresh(app)
        };
        self.apply(db, &req.actor, command, applied).await
    }

    /// Adds an internal note (an agency's reviewer or an administrator; the engine refuses a
    /// firm). Who may see the application is the policy's (`softland-policy`).
    pub async fn add_note(
        &self,
        application_id: Uuid,
        actor: Actor,
        note: String,
    ) -> Result<Outcome> {
        let work = self.retrying(true, None, || async {
            let app = self.load_app(self.db(), application_id).await?;
            let command = Command::Note { note: note.clone() };
            self.apply(self.db(), &actor, command, Applied::fresh(app))
                .await
        });
        crate::traced::command("note", Some(application_id), work).await
    }

    /// Fires the timer of task `task_no` through the same command path (actor `system`).
    pub async fn fire_timer(&self, application_id: Uuid, task_no: u32) -> Result<Outcome> {
        let work = self.retrying(true, None, || async {
            let app = self.load_app(self.db(), application_id).await?;
            let command = Command::FireTimer {
                task: TaskId(task_no),
            };
            self.apply(self.db(), &Actor::system(), command, Applied::fresh(app))
                .await
        });
        crate::traced::command("fire timer", Some(application_id), work).await
    }

    pub(crate) async fn load_app(
        &self,
        txn: &impl ConnectionTrait,
        id: Uuid,
    ) -> Result<application::Model> {
        application::Entity::find_by_id(id)
            .one(txn)
            .await?
            .ok_or_else(|| Error::NotFound(format!("application {id}")))
    }

    /// Runs the engine on the application's snapshot and writes what it decided (see
    /// [`Applied`] for what the command starts from and what its write checks).
    pub(crate) async fn apply(
        &self,
        db: &impl ConnectionTrait,
        actor: &Actor,
        command: Command,
        applied: Applied<'_>,
    ) -> Result<Outcome> {
        let Applied {
            app: Snapshot {
                row: mut app,
                remembered,
            },
            guard: Guard { claim, idem },
            before,
        } = applied;
        let wf = self
            .workflow_on(db, &app.workflow_key, app.workflow_version)
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
        // The tasks and timers open before the command.
        let links = match &command {
            Command::Act {
                task,
                action,
                input: Some(input),
                ..
            } => {
                let schema = inst
                    .task(*task)
                    .map(|t| wf.state(t.state))
                    .and_then(|s| s.offered_actions().into_iter().find(|a| a.name == *action))
                    .and_then(|a| a.input_schema);
                match schema {
                    Some(schema) => {
                        let owner = crate::documents::links::owner_of(actor, &app.organization);
                        self.links(db, &schema, input, &owner, Some(app.id)).await?
                    }
                    None => Vec::new(),
                }
            }
            _ => Vec::new(),
        };
        let mut w = Writer::before(&wf, app.workflow_version, app.id, &app.organization, &inst);
        // The application's places and which of its pools are full, for a workflow with pools.
        // Boxed: every command's future would otherwise carry the read's size (and the
        // nested commands of a move on arrival or a promotion its stack).
        let (full, unbound) = match Box::pin(self.places_of(db, &wf, app.id, &inst)).await? {
            Some(read) => {
                w.places = read.places;
                (read.full, read.unbound)
            }
            None => (Vec::new(), Vec::new()),
        };
        let now = self.now();
        let env = Env {
            now,
            calendar: &self.inner.calendars,
            full: &full,
            unbound: &unbound,
            host: None,
        };
        let events = wf.execute(&mut inst, actor, command, env)?;
        let events = crate::documents::links::with_links(&wf, &mut inst, events, &links)?;
        let mut log = plan_events(&mut w, app.revision + 1, &app.last_hash, &events, now)?;
        let (records, opened) = (
            std::mem::take(&mut log.records),
            std::mem::take(&mut log.opened),
        );
        let mut update = snapshot(&wf, &inst, log.last_hash.clone(), now)?;
        let head = Head::Update {
            app: app.id,
            revision: app.revision,
            update: &mut update,
            claim,
            idem,
        };
        let (won, open_before) = commit_command(self, db, head, &log, &w).await?;
        if !won {
            return Err(ConflictReason::ConcurrentUpdate.into());
        }
        self.after_links(app.id, &links).await;
        let promotions: Vec<Uuid> = w.places.may_promote().collect();
        if !promotions.is_empty() {
            // Boxed: a promotion is a command of its own.
            Box::pin(self.promote_after(promotions)).await;
        }
        let open_tasks = before
            .or(open_before)
            .map(|before| w.open_after(before, &opened));
        // The new row is the old one with the snapshot columns replaced: no need to read it.
        // Its instance and form data stay with the engine's `inst`, not copied into it.
        let mut updated: application::ActiveModel = app.into();
        for col in SNAPSHOT_COLUMNS {
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
        // PostgreSQL remembers what it wrote (the open tasks came back with the commit).
        match (&open_tasks, self.inner.backend.kind()) {
            (Some(open), BackendKind::Postgres) => self.inner.warm.put(row, inst, open),
            _ => self.inner.warm.forget(row.id),
        }
        let outcome = Outcome {
            application,
            events: records,
            opened,
            open_tasks,
            replayed: false,
        };
        if crate::app_migration::arrives_at_safe_state(&wf, &events) {
            // Boxed: the move is a command of its own, and every command's future would
            // otherwise carry its size.
            return Ok(Box::pin(self.upgraded(outcome)).await);
        }
        Ok(outcome)
    }

    /// After a command that brought the application to one of its version's `upgrade_at`
    /// states: moved to the newest version it fits, it is answered as it now is. The command
    /// is done either way: a failed move is logged, not the command's failure.
    async fn upgraded(&self, mut outcome: Outcome) -> Outcome {
        let a = &outcome.application;
        match self
            .upgrade_on_arrival(a.id, &a.workflow_key, a.workflow_version)
            .await
        {
            Ok(false) => {}
            Ok(true) => match self.application(a.id).await {
                Ok(Some(now)) => {
                    outcome.application = now;
                    outcome.open_tasks = None;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "moved on arrival; reading it back failed"),
            },
            Err(e) => {
                tracing::warn!(error = %e, application = %a.id, "could not move the application to a newer version on arrival")
            }
        }
        outcome
    }
}
