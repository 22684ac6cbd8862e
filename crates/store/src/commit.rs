//! The commit: one round trip that writes a command's planned rows, guarded by the
//! application's revision ([`commit_command`]); and the plain writes of the same rows inside a
//! transaction (withdrawals, timers).

use sea_orm::IdenStatic;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use serde_json::Value;
use uuid::Uuid;

use crate::Store;
use crate::connect::{Backend, Engine};
use crate::entity::enums::{TaskStatus, TimerStatus};
use crate::entity::{application, event, outbox, task, timer};
use crate::error::{Result, corrupt};
use crate::idempotency::Idem;
use crate::plan::{Closed, Log, SNAPSHOT_COLUMNS, TaskChange, Writer};
use crate::records::{TaskAction, TaskRecord};

/// A PostgreSQL action run without a surrounding transaction: the statement itself checks the
/// task's claim and records the idempotency key.
#[derive(Clone, Copy)]
pub(crate) struct Direct<'a> {
    pub(crate) task: Uuid,
    pub(crate) actor: &'a str,
    pub(crate) idem: Option<&'a Idem>,
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

impl Store {
    /// Writes a command's rows with one statement each (SQLite, and submissions).
    pub(crate) async fn write_rows(
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

/// The columns a statement writes into `E`'s table: every column the entity has, named by the
/// entity (never typed out beside it), but an auto-increment key. A column added to an entity
/// is written — or, if a planned row leaves it unset, the command fails loudly (`value_of`).
fn written<E: EntityTrait>() -> Vec<E::Column> {
    use sea_orm::{Iterable, PrimaryKeyToColumn, PrimaryKeyTrait};
    let generated: Vec<&'static str> = if <E::PrimaryKey as PrimaryKeyTrait>::auto_increment() {
        E::PrimaryKey::iter()
            .map(|k| k.into_column().as_str())
            .collect()
    } else {
        Vec::new()
    };
    E::Column::iter()
        .filter(|c| !generated.contains(&c.as_str()))
        .collect()
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
pub(crate) enum Head<'a> {
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
pub(crate) async fn commit_command(
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
            let mut set = vec![format!(
                "{} = {}",
                application::Column::Instance.as_str(),
                p(instance)
            )];
            for col in SNAPSHOT_COLUMNS {
                set.push(format!("{} = {}", col.as_str(), p(value_of(update, col)?)));
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
            let cols = written::<application::Entity>();
            let names: Vec<&str> = cols.iter().map(|c| c.as_str()).collect();
            let vals = cols
                .iter()
                .map(|c| Ok(p(value_of(row, *c)?)))
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
        cols: &[<A::Entity as EntityTrait>::Column],
        rows: &[A],
        (guard, alias): (&str, bool),
        p: &mut dyn FnMut(sea_orm::Value) -> String,
    ) -> Result<Option<String>> {
        if rows.is_empty() {
            return Ok(None);
        }
        let names: Vec<&str> = cols.iter().map(|c| c.as_str()).collect();
        let mut tuples = Vec::with_capacity(rows.len());
        for r in rows {
            let vals = cols
                .iter()
                .map(|c| Ok(p(value_of(r, *c)?)))
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

    let ev = written::<event::Entity>();
    let ob = written::<outbox::Entity>();
    let tk = written::<task::Entity>();
    let tm = written::<timer::Entity>();
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
            let mut set = |col: task::Column, v: sea_orm::Value| {
                let v = p(v);
                sets.push(format!("{} = {v}", col.as_str()));
            };
            set(task::Column::Status, status.to_value().into());
            set(task::Column::ClosedAt, (*at).into());
            set(task::Column::ClosedBy, by.clone().into());
            set(task::Column::ClosedAction, action.clone().into());
        }
        if let Some(to) = &c.reassigned_to {
            sets.push(format!(
                "{} = {}",
                task::Column::Assignee.as_str(),
                p(to.clone().into())
            ));
            sets.push(format!(
                "{} = {}",
                task::Column::ClaimedBy.as_str(),
                p(Option::<String>::None.into())
            ));
        }
        if c.overdue {
            sets.push(format!(
                "{} = {}",
                task::Column::Overdue.as_str(),
                p(true.into())
            ));
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
