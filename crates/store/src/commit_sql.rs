//! The commit's SQL: one fixed text per backend, head (an action's update, a submission's
//! insert) and [`Shape`] (which of the optional parts a command has rows for and, on
//! PostgreSQL, how many), each built once from the entities' columns when first needed, so no
//! command builds SQL. On PostgreSQL a few rows are `VALUES` whose every cell is bound (in
//! binary, typed: nothing is parsed from text), more than [`MAX_VALUES_ROWS`] one JSON array
//! unpacked with `json_populate_recordset`; on SQLite the rows always travel as one JSON array
//! per table ([`rows_json`]) unpacked with `jsonb_each` (each row handed on as binary JSON, so
//! reading a column does not parse its text again). Every value is a named slot ([`Slot`])
//! bound by [`Binds`]; a slot left unbound fails the command loudly instead of writing a NULL.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use sea_orm::{ActiveModelTrait, ColumnTrait, ColumnType, EntityName, EntityTrait, IdenStatic};
use serde_json::{Map, Value as Json};

use crate::connect::Backend;
use crate::entity::{application, event, outbox, task, timer};
use crate::error::{Result, corrupt};
use crate::plan::SNAPSHOT_COLUMNS;

/// A value the commit statement takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Slot {
    /// An `applications` column, by name (the head's values).
    Column(&'static str),
    /// The application's id.
    App,
    /// The revision the command read (an action's compare-and-set).
    Revision,
    /// The revision and hash the command leaves (the guard of everything after the head).
    NewRevision,
    NewHash,
    /// The task an action completes, and its actor: the claim the update checks (NULL: none).
    ClaimTask,
    ClaimActor,
    /// `tasks.status` open; `timers.status` pending.
    Open,
    Pending,
    /// One cell of a row bound on its own: a table's row and column (by its [`written`] order).
    Cell {
        table: Table,
        row: u8,
        col: u8,
    },
    /// A table's rows as one JSON array.
    Json(Table),
    /// The idempotency key's row (NULL scope: none); its time is the command's.
    IdemScope,
    IdemKey,
    IdemOperation,
    IdemHash,
    At,
}

/// One fixed statement and the slots its `$1, $2, …` stand for.
pub(crate) struct Statement {
    pub(crate) sql: String,
    /// SQLite: the same statements as one script in the writer's own transaction, and in a
    /// savepoint of the group's transaction.
    alone: Arc<str>,
    grouped: Arc<str>,
    shape: Shape,
    slots: Vec<Slot>,
    /// Each slot's position in `slots`.
    index: HashMap<Slot, usize>,
}

impl Statement {
    /// SQLite: the script framed for the group writer.
    pub(crate) fn framed(&self) -> crate::sqlite_group::Framed {
        crate::sqlite_group::Framed {
            alone: self.alone.clone(),
            grouped: self.grouped.clone(),
        }
    }
}

/// The rows a command writes: into a table, or changes to existing rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Table {
    Events,
    Outbox,
    Tasks,
    Timers,
    TaskChanges,
    TimerChanges,
}

/// The columns of a change to a task row ([`Table::TaskChanges`]) and their PostgreSQL types:
/// a closed task takes the status, time, closer and action; a reassigned one the new assignee
/// and no claim; overdue is only ever set.
pub(crate) const TASK_CHANGE: [(&str, &str); 7] = [
    ("task_no", "int"),
    ("status", "text"),
    ("closed_at", "timestamptz"),
    ("closed_by", "text"),
    ("closed_action", "text"),
    ("assignee", "text"),
    ("overdue", "boolean"),
];

/// The columns of a pending timer's new status ([`Table::TimerChanges`]).
pub(crate) const TIMER_CHANGE: [(&str, &str); 2] = [("task_no", "int"), ("status", "text")];

impl Table {
    /// The slot of its rows as one JSON array.
    fn json(self) -> Slot {
        Slot::Json(self)
    }

    /// The optional part it is (every command appends events).
    fn part(self) -> Option<Part> {
        match self {
            Table::Events => None,
            Table::Outbox => Some(Part::Outbox),
            Table::Tasks => Some(Part::Tasks),
            Table::Timers => Some(Part::Timers),
            Table::TaskChanges => Some(Part::TaskChanges),
            Table::TimerChanges => Some(Part::TimerChanges),
        }
    }
}

/// PostgreSQL: the most rows of a table a statement binds cell by cell (more travel as JSON).
pub(crate) const MAX_VALUES_ROWS: usize = 8;

/// What a statement does to the application row before everything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum HeadKind {
    /// A command on an existing application: compare-and-set its revision.
    Update,
    /// A submission: insert it.
    Insert,
}

/// A part of the commit a command may have nothing for (every command appends events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Outbox,
    Tasks,
    Timers,
    TaskChanges,
    TimerChanges,
    /// The idempotency key's row.
    Idem,
}

#[cfg(test)]
impl Part {
    const ALL: [Part; 6] = [
        Part::Outbox,
        Part::Tasks,
        Part::Timers,
        Part::TaskChanges,
        Part::TimerChanges,
        Part::Idem,
    ];
}

/// The parts one command's statement carries — a statement never runs a part with no rows
/// (on PostgreSQL each is a CTE executed on every command) — and, on PostgreSQL, how many rows
/// of each table it binds cell by cell (0: as one JSON array).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) struct Shape {
    parts: u8,
    cells: [u8; 6],
}

impl Shape {
    pub(crate) fn with(mut self, part: Part, present: bool) -> Shape {
        if present {
            self.parts |= 1 << part as u8;
        }
        self
    }

    /// `n` rows of `table`: bound cell by cell up to [`MAX_VALUES_ROWS`], else as JSON.
    pub(crate) fn rows(self, table: Table, n: usize) -> Shape {
        let mut s = match table.part() {
            Some(part) => self.with(part, n > 0),
            None => self,
        };
        if n <= MAX_VALUES_ROWS {
            s.cells[table as usize] = n as u8;
        }
        s
    }

    pub(crate) fn has(self, part: Part) -> bool {
        self.parts & (1 << part as u8) != 0
    }

    fn cells(self, table: Table) -> usize {
        self.cells[table as usize] as usize
    }
}

/// Shapes kept built; a workload's commands come in a few dozen (a command of yet another
/// shape beyond this gets its statement built for it alone).
const KEPT: usize = 4096;

/// The commit statement of a backend, head and shape, built the first time it is asked for.
pub(crate) fn statement(backend: Backend, head: HeadKind, shape: Shape) -> Arc<Statement> {
    type Built = HashMap<(Backend, HeadKind, Shape), Arc<Statement>>;
    static BUILT: LazyLock<Mutex<Built>> = LazyLock::new(Mutex::default);
    let key = (backend, head, shape);
    if let Some(s) = BUILT.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return s.clone();
    }
    let built = Arc::new(Build::statement(backend, head, shape));
    let mut kept = BUILT.lock().unwrap_or_else(|p| p.into_inner());
    if kept.len() < KEPT {
        kept.insert(key, built.clone());
    }
    built
}

/// Binds the entity rows of `table` as the statement takes them.
pub(crate) fn bind_rows<A: ActiveModelTrait>(
    b: &mut Binds<'_>,
    backend: Backend,
    table: Table,
    rows: &[A],
) -> Result<()> {
    let cols = written::<A::Entity>();
    let names: Vec<&str> = cols.iter().map(|c| c.as_str()).collect();
    let rows = rows
        .iter()
        .map(|r| cols.iter().map(|c| value_of(r, *c)).collect())
        .collect::<Result<Vec<Vec<_>>>>()?;
    bind_values(b, backend, table, &names, rows)
}

/// Binds `table`'s rows (values in `names`' order) as the statement takes them: cell by cell,
/// or as one JSON array of objects keyed by `names` (see [`cell`]).
pub(crate) fn bind_values(
    b: &mut Binds<'_>,
    backend: Backend,
    table: Table,
    names: &[&str],
    rows: Vec<Vec<sea_orm::Value>>,
) -> Result<()> {
    if rows.is_empty() && table.part().is_some() {
        return Ok(()); // the statement has no such part
    }
    if b.stmt.shape.cells(table) == 0 {
        let json = rows
            .into_iter()
            .map(|row| {
                names
                    .iter()
                    .zip(row)
                    .map(|(n, v)| Ok(((*n).to_owned(), cell(backend, v)?)))
                    .collect::<Result<Map<String, Json>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        return b.set(table.json(), serde_json::to_string(&json).map_err(corrupt)?);
    }
    for (r, row) in rows.into_iter().enumerate() {
        for (c, v) in row.into_iter().enumerate() {
            let (row, col) = (r as u8, c as u8);
            b.set(Slot::Cell { table, row, col }, v)?;
        }
    }
    Ok(())
}

/// The values of one execution of a [`Statement`], in its slots' order.
pub(crate) struct Binds<'s> {
    stmt: &'s Statement,
    values: Vec<Option<sea_orm::Value>>,
}

impl<'s> Binds<'s> {
    pub(crate) fn new(stmt: &'s Statement) -> Self {
        Binds {
            stmt,
            values: vec![None; stmt.slots.len()],
        }
    }

    pub(crate) fn set(&mut self, slot: Slot, v: impl Into<sea_orm::Value>) -> Result<()> {
        let i = *self
            .stmt
            .index
            .get(&slot)
            .ok_or_else(|| corrupt(format!("the commit statement has no slot {slot:?}")))?;
        self.values[i] = Some(v.into());
        Ok(())
    }

    /// Binds a slot that only some statements take (the open status: PostgreSQL's answer, an
    /// action's claim).
    pub(crate) fn offer(&mut self, slot: Slot, v: impl Into<sea_orm::Value>) {
        if let Some(&i) = self.stmt.index.get(&slot) {
            self.values[i] = Some(v.into());
        }
    }

    /// Every slot's value, or the first slot left unbound.
    pub(crate) fn finish(self) -> Result<Vec<sea_orm::Value>> {
        self.values
            .into_iter()
            .zip(&self.stmt.slots)
            .map(|(v, s)| v.ok_or_else(|| corrupt(format!("commit slot {s:?} unbound"))))
            .collect()
    }
}

/// The columns a statement writes into `E`'s table: every column the entity has, named by the
/// entity (never typed out beside it), but an auto-increment key. A column added to an entity
/// is written — or, if a planned row leaves it unset, the command fails loudly.
pub(crate) fn written<E: EntityTrait>() -> Vec<E::Column> {
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

pub(crate) fn value_of<A: ActiveModelTrait>(
    am: &A,
    col: <A::Entity as EntityTrait>::Column,
) -> Result<sea_orm::Value> {
    am.get(col).into_value().ok_or_else(|| {
        corrupt(format!(
            "a `{}` row leaves `{}` unset",
            A::Entity::default().table_name(),
            col.as_str()
        ))
    })
}

/// A value as JSON that the backend's statement turns back into exactly what binding it would
/// have stored: PostgreSQL parses text into each column's type (times truncated to
/// microseconds, as sqlx binds them); SQLite stores what sqlx would — UUIDs as 16-byte blobs
/// (sent as hex, `unhex`ed), times as sqlx's RFC 3339 text, JSON as its text.
pub(crate) fn cell(backend: Backend, v: sea_orm::Value) -> Result<Json> {
    use sea_orm::Value as V;
    Ok(match v {
        V::Bool(b) => b.into(),
        V::Int(i) => i.into(),
        V::BigInt(i) => i.into(),
        V::String(s) => s.into(),
        V::Uuid(u) => u
            .map(|u| match backend {
                Backend::Postgres => u.hyphenated().to_string(),
                Backend::Sqlite => u.simple().to_string(),
            })
            .into(),
        V::ChronoDateTimeUtc(t) => t.map(|t| timestamp(backend, t)).into(),
        V::Json(j) => match (backend, j) {
            (_, None) => Json::Null,
            (Backend::Postgres, Some(j)) => *j,
            (Backend::Sqlite, Some(j)) => Json::String(j.to_string()),
        },
        other => {
            return Err(corrupt(format!(
                "a row value of an unexpected type: {other:?}"
            )));
        }
    })
}

fn timestamp(backend: Backend, t: chrono::DateTime<chrono::Utc>) -> String {
    match backend {
        Backend::Postgres => t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        Backend::Sqlite => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false),
    }
}

/// Builds one statement, numbering slots as they are first used.
struct Build {
    backend: Backend,
    shape: Shape,
    slots: Vec<Slot>,
}

impl Build {
    fn p(&mut self, slot: Slot) -> String {
        let i = match self.slots.iter().position(|s| *s == slot) {
            Some(i) => i,
            None => {
                self.slots.push(slot);
                self.slots.len() - 1
            }
        };
        format!("${}", i + 1)
    }

    /// `INSERT INTO table (cols) SELECT … FROM <the rows> WHERE guard`: the rows as `VALUES`
    /// bound cell by cell, or unpacked from one JSON array.
    fn insert_rows<E: EntityTrait>(&mut self, t: Table, guard: &str) -> String {
        let table = E::default().table_name();
        let cols = written::<E>();
        let names = cols
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        if self.shape.cells(t) > 0 {
            let tuples = self.values(t, &vec![None; cols.len()]);
            // SQLite takes no column list on a VALUES alias (its columns are in order anyway).
            let alias = match self.backend {
                Backend::Postgres => format!(" AS v({names})"),
                Backend::Sqlite => String::new(),
            };
            return format!(
                "INSERT INTO {table} ({names}) SELECT * FROM (VALUES {tuples}){alias} WHERE {guard}"
            );
        }
        let rows = self.p(t.json());
        match self.backend {
            Backend::Postgres => format!(
                "INSERT INTO {table} ({names}) SELECT {names} FROM json_populate_recordset(NULL::{table}, {rows}::json) WHERE {guard}"
            ),
            Backend::Sqlite => {
                let exprs = cols
                    .iter()
                    .map(|c| match c.def().get_column_type() {
                        ColumnType::Uuid => format!("unhex(value->>'{}')", c.as_str()),
                        _ => format!("value->>'{}'", c.as_str()),
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                format!(
                    "INSERT INTO {table} ({names}) SELECT {exprs} FROM jsonb_each({rows}) WHERE {guard}"
                )
            }
        }
    }

    /// `(cell, cell, …), (…)`: the shape's rows of `t`, each cell a slot (cast to its type,
    /// where given).
    fn values(&mut self, t: Table, types: &[Option<&str>]) -> String {
        (0..self.shape.cells(t))
            .map(|row| {
                let cells = types
                    .iter()
                    .enumerate()
                    .map(|(col, ty)| {
                        let (row, col) = (row as u8, col as u8);
                        let p = self.p(Slot::Cell { table: t, row, col });
                        match ty {
                            Some(ty) => format!("CAST({p} AS {ty})"),
                            None => p,
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("({cells})")
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A change's rows as a relation `c` with typed columns: `VALUES` or a JSON array.
    fn changes(&mut self, t: Table, cols: &[(&str, &str)]) -> String {
        if self.shape.cells(t) > 0 {
            let names: Vec<_> = cols.iter().map(|(n, _)| *n).collect();
            return match self.backend {
                Backend::Postgres => {
                    let types: Vec<_> = cols.iter().map(|(_, ty)| Some(*ty)).collect();
                    let tuples = self.values(t, &types);
                    format!("(VALUES {tuples}) AS c({})", names.join(", "))
                }
                // SQLite names a VALUES relation's columns column1, column2, …; its values
                // keep the types they were bound with.
                Backend::Sqlite => {
                    let tuples = self.values(t, &vec![None; cols.len()]);
                    let named = names
                        .iter()
                        .enumerate()
                        .map(|(i, n)| format!("column{} AS {n}", i + 1))
                        .collect::<Vec<_>>()
                        .join(", ");
                    format!("(SELECT {named} FROM (VALUES {tuples})) AS c")
                }
            };
        }
        let rows = self.p(t.json());
        let list = |each: fn(&str, &str) -> String| {
            cols.iter()
                .map(|(n, t)| each(n, t))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self.backend {
            Backend::Postgres => format!(
                "json_to_recordset({rows}::json) AS c({})",
                list(|n, t| format!("{n} {t}"))
            ),
            Backend::Sqlite => format!(
                "(SELECT {} FROM jsonb_each({rows})) AS c",
                list(|n, _| format!("value->>'{n}' AS {n}"))
            ),
        }
    }

    /// Everything after the head, each statement guarded by `guard`.
    fn tail(&mut self, guard: &str) -> Vec<String> {
        let app = self.p(Slot::App);
        let mut out = vec![self.insert_rows::<event::Entity>(Table::Events, guard)];
        if self.shape.has(Part::Outbox) {
            out.push(self.insert_rows::<outbox::Entity>(Table::Outbox, guard));
        }
        if self.shape.has(Part::Tasks) {
            out.push(self.insert_rows::<task::Entity>(Table::Tasks, guard));
        }
        if self.shape.has(Part::Timers) {
            out.push(self.insert_rows::<timer::Entity>(Table::Timers, guard));
        }
        if self.shape.has(Part::TaskChanges) {
            out.push(self.task_changes(&app, guard));
        }
        if self.shape.has(Part::TimerChanges) {
            out.push(self.timer_changes(&app, guard));
        }
        if self.shape.has(Part::Idem) {
            out.push(self.idem(guard));
        }
        out
    }

    /// A closed task takes the status, time, closer and action; a reassigned one the new
    /// assignee and no claim; overdue is only ever set.
    fn task_changes(&mut self, app: &str, guard: &str) -> String {
        let changes = self.changes(Table::TaskChanges, &TASK_CHANGE);
        format!(
            "UPDATE tasks SET status = coalesce(c.status, tasks.status), \
             closed_at = coalesce(c.closed_at, tasks.closed_at), \
             closed_by = CASE WHEN c.status IS NULL THEN tasks.closed_by ELSE c.closed_by END, \
             closed_action = CASE WHEN c.status IS NULL THEN tasks.closed_action ELSE c.closed_action END, \
             assignee = coalesce(c.assignee, tasks.assignee), \
             claimed_by = CASE WHEN c.assignee IS NULL THEN tasks.claimed_by ELSE NULL END, \
             overdue = (tasks.overdue OR c.overdue) \
             FROM {changes} WHERE tasks.application_id = {app} AND tasks.task_no = c.task_no AND {guard}"
        )
    }

    fn timer_changes(&mut self, app: &str, guard: &str) -> String {
        let timer_changes = self.changes(Table::TimerChanges, &TIMER_CHANGE);
        // Found by their primary key alone: a condition on `status` would let the planner
        // scan every pending timer (`ix_timers_due`) instead — cost growing with the table.
        let pending = self.p(Slot::Pending);
        format!(
            "UPDATE timers SET status = CASE WHEN timers.status = {pending} THEN c.status ELSE timers.status END FROM {timer_changes} WHERE timers.application_id = {app} AND timers.task_no = c.task_no AND {guard}"
        )
    }

    fn idem(&mut self, guard: &str) -> String {
        let idem = [
            Slot::IdemScope,
            Slot::IdemKey,
            Slot::IdemOperation,
            Slot::IdemHash,
            Slot::App,
            Slot::NewRevision,
            Slot::At,
        ]
        .map(|s| self.p(s));
        format!(
            "INSERT INTO idempotency_keys (scope, key, operation, request_hash, application_id, revision, created_at) SELECT {} WHERE {guard}",
            idem.join(", ")
        )
    }

    /// PostgreSQL: the statements as data-modifying CTEs after the head, guarded by its
    /// `RETURNING`, answering whether it matched and the open tasks before the statement.
    /// SQLite: a script whose last statement reads back whether the row carries this
    /// command's revision and hash.
    fn finish(mut self, early: Vec<String>, head: String) -> Statement {
        let guard = match self.backend {
            Backend::Postgres => "EXISTS (SELECT 1 FROM up)".to_owned(),
            Backend::Sqlite => self.sqlite_guard(),
        };
        let tail = self.tail(&guard);
        let app = self.p(Slot::App);
        let sql = match self.backend {
            Backend::Postgres => {
                let open = self.p(Slot::Open);
                let mut parts: Vec<String> = early
                    .iter()
                    .enumerate()
                    .map(|(i, s)| format!("e{i} AS ({s})"))
                    .collect();
                parts.push(format!("up AS ({head} RETURNING id)"));
                parts.extend(
                    tail.iter()
                        .enumerate()
                        .map(|(i, s)| format!("s{i} AS ({s})")),
                );
                format!(
                    "WITH {} SELECT (SELECT count(*) FROM up) AS n, (SELECT coalesce(json_agg(o), '[]'::json) FROM tasks o WHERE o.application_id = {app} AND o.status = {open}) AS open",
                    parts.join(", ")
                )
            }
            Backend::Sqlite => {
                let mut all = early;
                all.push(head);
                all.extend(tail);
                all.push(format!(
                    "SELECT count(*) FROM ({})",
                    self.sqlite_guard_select()
                ));
                all.join("; ")
            }
        };
        Statement {
            alone: format!("BEGIN IMMEDIATE; {sql}; COMMIT").into(),
            grouped: format!("SAVEPOINT command; {sql}; RELEASE command").into(),
            sql,
            shape: self.shape,
            index: self
                .slots
                .iter()
                .enumerate()
                .map(|(i, s)| (*s, i))
                .collect(),
            slots: self.slots,
        }
    }

    fn sqlite_guard_select(&mut self) -> String {
        let (app, rev, hash) = (
            self.p(Slot::App),
            self.p(Slot::NewRevision),
            self.p(Slot::NewHash),
        );
        format!(
            "SELECT 1 FROM applications WHERE id = {app} AND revision = {rev} AND last_hash = {hash}"
        )
    }

    fn sqlite_guard(&mut self) -> String {
        format!("EXISTS ({})", self.sqlite_guard_select())
    }
}

impl Build {
    fn statement(backend: Backend, head: HeadKind, shape: Shape) -> Statement {
        let b = Build {
            backend,
            shape,
            slots: Vec::new(),
        };
        match head {
            HeadKind::Update => b.update(),
            HeadKind::Insert => b.insert(),
        }
    }

    /// An action's head: compare-and-set the revision, and the claim of the task it completes.
    fn update(mut self) -> Statement {
        let b = &mut self;
        let cols = std::iter::once(application::Column::Instance).chain(SNAPSHOT_COLUMNS);
        let set = cols
            .map(|c| format!("{} = {}", c.as_str(), b.p(Slot::Column(c.as_str()))))
            .collect::<Vec<_>>()
            .join(", ");
        let (app, rev) = (b.p(Slot::App), b.p(Slot::Revision));
        let (task, actor, open) = (b.p(Slot::ClaimTask), b.p(Slot::ClaimActor), b.p(Slot::Open));
        let head = format!(
            "UPDATE applications SET {set} WHERE id = {app} AND revision = {rev} AND ({task} IS NULL OR EXISTS (SELECT 1 FROM tasks WHERE id = {task} AND status = {open} AND (claimed_by IS NULL OR claimed_by = {actor})))"
        );
        self.finish(Vec::new(), head)
    }

    /// A submission's head: insert the application (its organization too, if new) — only
    /// into the workflow's current version: none newer, this one not retired.
    fn insert(mut self) -> Statement {
        use application::Column as A;
        let b = &mut self;
        let cols = written::<application::Entity>();
        let names = cols
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let vals = cols
            .iter()
            .map(|c| match c {
                A::Id => b.p(Slot::App),
                A::Revision => b.p(Slot::NewRevision),
                A::LastHash => b.p(Slot::NewHash),
                _ => b.p(Slot::Column(c.as_str())),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let (org, at) = (
            b.p(Slot::Column(A::Organization.as_str())),
            b.p(Slot::Column(A::SubmittedAt.as_str())),
        );
        let (key, version) = (
            b.p(Slot::Column(A::WorkflowKey.as_str())),
            b.p(Slot::Column(A::WorkflowVersion.as_str())),
        );
        // Not guarded: it may or may not insert, and the application insert decides.
        let early = vec![format!(
            "INSERT INTO organizations (key, name, created_at) VALUES ({org}, {org}, {at}) ON CONFLICT DO NOTHING"
        )];
        let head = format!(
            "INSERT INTO applications ({names}) SELECT {vals} WHERE NOT EXISTS (SELECT 1 FROM workflow_definitions WHERE key = {key} AND (version > {version} OR (version = {version} AND retired_at IS NOT NULL)))"
        );
        self.finish(early, head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every slot a statement numbers is one a command binds, each text is fixed, and a
    /// shape's statement carries exactly its parts: on PostgreSQL a few rows bound cell by
    /// cell, more as JSON; on SQLite always JSON.
    #[test]
    fn statements_are_fixed_and_number_their_slots() {
        let tables = [
            Table::Events,
            Table::Outbox,
            Table::Tasks,
            Table::Timers,
            Table::TaskChanges,
            Table::TimerChanges,
        ];
        for backend in [Backend::Postgres, Backend::Sqlite] {
            for head in [HeadKind::Update, HeadKind::Insert] {
                for bits in 0..1u8 << Part::ALL.len() {
                    for n in [1, MAX_VALUES_ROWS, MAX_VALUES_ROWS + 1] {
                        let mut shape = Shape::default();
                        for (i, part) in Part::ALL.into_iter().enumerate() {
                            shape = shape.with(part, bits & (1 << i) != 0);
                        }
                        for t in tables {
                            let present = t.part().is_none_or(|p| shape.has(p));
                            shape = shape.rows(t, if present { n } else { 0 });
                        }
                        let stmt = statement(backend, head, shape);
                        let slots = &stmt.slots;
                        let k = slots.len();
                        assert!(stmt.sql.contains(&format!("${k}")), "{}", stmt.sql);
                        assert!(!stmt.sql.contains(&format!("${}", k + 1)));
                        let mut seen = slots.clone();
                        seen.dedup();
                        assert_eq!(seen.len(), k, "a slot numbered twice");
                        for t in tables {
                            let present = t.part().is_none_or(|p| shape.has(p));
                            let cells = slots
                                .iter()
                                .filter(|s| matches!(s, Slot::Cell { table, .. } if *table == t))
                                .count();
                            let json = slots.contains(&t.json());
                            let by_cell = n <= MAX_VALUES_ROWS;
                            assert_eq!(json, present && !by_cell, "{t:?}");
                            assert_eq!(cells > 0, present && by_cell, "{t:?}");
                        }
                        assert_eq!(slots.contains(&Slot::IdemKey), shape.has(Part::Idem));
                        assert!(Arc::ptr_eq(&stmt, &statement(backend, head, shape)));
                    }
                }
            }
        }
    }

    #[test]
    fn cells_are_what_the_backend_stores() {
        let id = uuid::Uuid::nil();
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-28T16:44:08.123456789Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            cell(Backend::Sqlite, id.into()).unwrap(),
            Json::from("00000000000000000000000000000000")
        );
        assert_eq!(
            cell(Backend::Postgres, t.into()).unwrap(),
            Json::from("2026-11-28T16:44:08.123456Z")
        );
        assert_eq!(
            cell(Backend::Sqlite, t.into()).unwrap(),
            Json::from("2026-11-28T16:44:08.123456789+00:00")
        );
        let j = serde_json::json!({"a": [1]});
        assert_eq!(cell(Backend::Postgres, j.clone().into()).unwrap(), j);
        assert_eq!(
            cell(Backend::Sqlite, j.into()).unwrap(),
            Json::from(r#"{"a":[1]}"#)
        );
        assert!(cell(Backend::Sqlite, sea_orm::Value::Double(Some(1.0))).is_err());
    }
}
