//! Acting on a task: read the task with its application (or start from what this server last
//! wrote, `warm`), check it is the caller's, open and not claimed by someone else, run the
//! engine, and commit in one round trip.

use sea_orm::{ActiveEnum, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;
use softland_workflow::{Assignee, Command, Party, TaskId};
use uuid::Uuid;

use crate::Store;
use crate::commands::commit::Claim;
use crate::commands::idempotency::Idem;
use crate::commands::pg_commands::Held;
use crate::commands::warm::WarmTask;
use crate::commands::{Applied, Guard, Snapshot};
use crate::connect::{Backend, BackendKind};
use crate::entity::enums::TaskStatus;
use crate::entity::{application, task};
use crate::error::{ConflictReason, Error, Result};
use crate::records::{Act, Outcome, TaskRecord};
use crate::rows::task_record;

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

impl Store {
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
        let work = self.retrying(req.expected_revision.is_none(), idem.as_ref(), || {
            self.act_once(&req, idem.as_ref())
        });
        crate::traced::command("act", None, work).await
    }

    async fn act_once(&self, req: &Act, idem: Option<&Idem>) -> Result<Outcome> {
        match &self.inner.backend {
            Backend::Postgres { commands } => {
                let db = Held::get(commands).await?;
                // From what this process last wrote, if it remembers the task. A refusal there
                // may come from a stale memory: it is decided again from a fresh read (see
                // `warm`). A failure of the database or of stored data is not a decision: it
                // is reported as it is.
                if let Some(warm) = self.inner.warm.take(req.task_id) {
                    let app = warm.app.id;
                    match self.act_direct(&db, req, idem, Some(warm)).await {
                        Ok(out) => return Ok(out),
                        Err(e) if e.is_refusal() => self.inner.warm.forget(app),
                        Err(e) => {
                            self.inner.warm.forget(app);
                            return Err(e);
                        }
                    }
                }
                self.act_direct(&db, req, idem, None).await
            }
            Backend::Sqlite { .. } => self.act_direct(self.db(), req, idem, None).await,
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
        let read = match (warm, self.inner.backend.kind()) {
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
            (None, BackendKind::Postgres) => Self::read_task_pg(db, req.task_id).await?,
            (None, BackendKind::Sqlite) => {
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
        if !req
            .gate
            .may_work(&Assignee::parse(&assignee), &app.organization)
        {
            return Err(Error::NotYours {
                application_id: app.id,
                assignee,
            });
        }
        if status != TaskStatus::Open {
            return Err(ConflictReason::TaskClosed.into());
        }
        if let Some(holder) = claimed_by
            && *holder != *req.actor.id
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
            note: req.note.clone(),
        };
        let claim = Claim {
            task: req.task_id,
            actor: &req.actor.id,
        };
        let applied = Applied {
            app: Snapshot {
                row: app,
                remembered: inst,
            },
            guard: Guard {
                claim: Some(claim),
                idem,
            },
            before,
        };
        self.apply(db, &req.actor, command, applied).await
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
}
