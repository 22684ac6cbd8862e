//! The commit: one round trip that writes a command's planned rows, guarded by the
//! application's revision ([`commit_command`]) — every command (submission, action,
//! withdrawal, timer) on both backends. The SQL is fixed (`commit_sql.rs`); this binds it.

use sea_orm::{ActiveEnum, ActiveModelTrait, ConnectionTrait, IdenStatic};
use serde_json::Value;
use softland_workflow::Assignee;
use uuid::Uuid;

use crate::Store;
use crate::commands::commit_build::statement;
use crate::commands::commit_sql::{
    Binds, HeadKind, PLACE_CHANGE, Part, Shape, Slot, TASK_CHANGE, TIMER_CHANGE, Table, bind_rows,
    bind_values, value_of, written,
};
use crate::commands::idempotency::Idem;
use crate::commands::plan::{Log, SNAPSHOT_COLUMNS, Writer};
use crate::connect::Backend;
use crate::entity::application;
use crate::entity::enums::TaskStatus;
use crate::error::{Result, corrupt};
use crate::records::{TaskAction, TaskRecord};

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
    workflow_key: String,
    workflow_version: i32,
}

impl OpenTaskRow {
    fn record(self) -> TaskRecord {
        TaskRecord {
            id: self.id,
            application_id: self.application_id,
            task_no: self.task_no as u32,
            state: self.state,
            title: self.title,
            assignee: Assignee::parse(&self.assignee),
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
            workflow_key: self.workflow_key,
            workflow_version: self.workflow_version,
        }
    }
}

/// What the statement does to the application row before everything else.
pub(crate) enum Head<'a> {
    /// A command on an existing application: compare-and-set the revision and, for an action,
    /// the claim of the task it completes.
    Update {
        app: Uuid,
        revision: i64,
        /// The snapshot columns; the instance's JSON is moved into the statement.
        update: &'a mut application::ActiveModel,
        claim: Option<Claim<'a>>,
        idem: Option<&'a Idem>,
    },
    /// A submission: insert the application (and its organization, if new).
    Insert {
        row: &'a application::ActiveModel,
        idem: Option<&'a Idem>,
    },
}

/// An action's task, open and unclaimed or claimed by its actor when the statement runs.
#[derive(Clone, Copy)]
pub(crate) struct Claim<'a> {
    pub(crate) task: Uuid,
    pub(crate) actor: &'a str,
}

/// The whole command as one round trip of a fixed statement. The head compare-and-sets the
/// application's revision (and an action's claim) or inserts a submission; only if it matched
/// are the events and outbox row appended, the new task and timer rows inserted, the task and
/// timer changes applied and the idempotency key recorded.
///
/// On PostgreSQL that is one statement of data-modifying CTEs, each guarded by the head's
/// `RETURNING`; it also returns the open tasks as they were before it. On SQLite it is one
/// script run in one call on the group writer, where each statement after the head is guarded
/// by the application row now carrying this command's revision and hash (if the head did not
/// match, the row has another writer's hash or the old revision, and nothing is written; a
/// second writer with an identical hash would still be stopped by the events' unique
/// sequence). Returns whether the head matched.
pub(crate) async fn commit_command(
    store: &Store,
    db: &impl ConnectionTrait,
    head: Head<'_>,
    log: &Log,
    w: &Writer<'_>,
) -> Result<(bool, Option<Vec<TaskRecord>>)> {
    use sea_orm::{DbBackend, Statement};
    let backend = store.inner.backend.kind();
    // The rows of each part decide the statement.
    let idem = match &head {
        Head::Update { idem, .. } | Head::Insert { idem, .. } => *idem,
    };
    let shape = Shape::default()
        .rows(Table::Events, log.events.len())
        .rows(Table::Outbox, log.outbox.len())
        .rows(Table::Tasks, w.new_tasks.len())
        .rows(Table::Timers, w.new_timers.len())
        .rows(Table::TaskChanges, w.changes.len())
        .rows(Table::TimerChanges, w.timer_changes.len())
        .rows(Table::PlaceChanges, w.places.rows.len())
        .with(Part::Idem, idem.is_some());
    let kind = match head {
        Head::Update { .. } => HeadKind::Update,
        Head::Insert { .. } => HeadKind::Insert,
    };
    let stmt = statement(backend, kind, shape);
    let mut b = Binds::new(&stmt);
    let row: &application::ActiveModel = match head {
        Head::Update {
            app,
            revision,
            update,
            claim,
            ..
        } => {
            let instance = update.take(application::Column::Instance);
            b.set(
                Slot::Column(application::Column::Instance.as_str()),
                instance
                    .into_value()
                    .ok_or_else(|| corrupt("no `instance` column"))?,
            )?;
            for col in SNAPSHOT_COLUMNS {
                b.set(Slot::Column(col.as_str()), value_of(update, col)?)?;
            }
            b.set(Slot::App, app)?;
            b.set(Slot::Revision, revision)?;
            b.set(Slot::ClaimTask, claim.map(|c| c.task))?;
            b.set(Slot::ClaimActor, claim.map(|c| c.actor.to_owned()))?;
            &*update
        }
        Head::Insert { row, .. } => {
            use application::Column as A;
            for col in written::<application::Entity>() {
                match col {
                    A::Id => b.set(Slot::App, value_of(row, col)?)?,
                    A::Revision | A::LastHash => {}
                    _ => b.set(Slot::Column(col.as_str()), value_of(row, col)?)?,
                }
            }
            row
        }
    };
    // Values only some shapes take (the idempotency row, SQLite's guard, timer changes).
    b.offer(
        Slot::NewRevision,
        value_of(row, application::Column::Revision)?,
    );
    b.offer(Slot::NewHash, value_of(row, application::Column::LastHash)?);
    let at = value_of(row, application::Column::UpdatedAt)?;
    b.offer(Slot::At, at);
    b.offer(Slot::Open, TaskStatus::Open.to_value());
    if let Some(i) = idem {
        b.set(Slot::IdemScope, i.scope.clone())?;
        b.set(Slot::IdemKey, i.key.clone())?;
        b.set(Slot::IdemOperation, i.operation.to_owned())?;
        b.set(Slot::IdemHash, i.request_hash.clone())?;
    }
    bind_rows(&mut b, backend, Table::Events, &log.events)?;
    bind_rows(&mut b, backend, Table::Outbox, &log.outbox)?;
    bind_rows(&mut b, backend, Table::Tasks, &w.new_tasks)?;
    bind_rows(&mut b, backend, Table::Timers, &w.new_timers)?;
    bind_values(
        &mut b,
        backend,
        Table::TaskChanges,
        &names(&TASK_CHANGE),
        task_changes(w),
    )?;
    bind_values(
        &mut b,
        backend,
        Table::TimerChanges,
        &names(&TIMER_CHANGE),
        timer_changes(w),
    )?;
    bind_values(
        &mut b,
        backend,
        Table::PlaceChanges,
        &names(&PLACE_CHANGE),
        place_changes(w),
    )?;
    let values = b.finish()?;
    match &store.inner.backend {
        Backend::Postgres { .. } => {
            let row = db
                .query_one_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    stmt.sql.clone(),
                    values,
                ))
                .await
                .map_err(crate::error::place_taken_meanwhile)?
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
        Backend::Sqlite { group, .. } => {
            let n = crate::commands::sqlite_group::run(group, stmt.framed(), values)
                .await
                .map_err(|e| match e {
                    crate::error::Error::Db(db) => crate::error::place_taken_meanwhile(db),
                    other => other,
                })?;
            Ok((n == 1, None))
        }
    }
}

fn names<const N: usize>(cols: &[(&'static str, &str); N]) -> [&'static str; N] {
    cols.map(|(n, _)| n)
}

/// The changes to existing task rows, in [`TASK_CHANGE`]'s columns.
fn task_changes(w: &Writer<'_>) -> Vec<Vec<sea_orm::Value>> {
    w.changes
        .iter()
        .map(|(no, c)| {
            let closed = c.closed.as_ref();
            vec![
                (*no as i32).into(),
                closed.map(|c| c.status.to_value()).into(),
                closed.map(|c| c.at).into(),
                closed.and_then(|c| c.by.clone()).into(),
                closed.and_then(|c| c.action.clone()).into(),
                c.reassigned_to.clone().into(),
                c.overdue.into(),
            ]
        })
        .collect()
}

/// The changes to the application's places, in [`PLACE_CHANGE`]'s columns.
fn place_changes(w: &Writer<'_>) -> Vec<Vec<sea_orm::Value>> {
    w.places
        .rows
        .iter()
        .map(|p| {
            vec![
                p.pool_id.into(),
                p.pool.clone().into(),
                p.status.to_owned().into(),
                p.rank.into(),
                p.since.into(),
                p.taken.into(),
                p.waiting.into(),
            ]
        })
        .collect()
}

/// The new statuses of pending timers, in [`TIMER_CHANGE`]'s columns.
fn timer_changes(w: &Writer<'_>) -> Vec<Vec<sea_orm::Value>> {
    w.timer_changes
        .iter()
        .map(|(no, st)| vec![(*no as i32).into(), st.to_value().into()])
        .collect()
}
