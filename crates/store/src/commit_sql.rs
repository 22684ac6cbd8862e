//! The commit's SQL: one fixed text per backend, head (an action's update, a submission's
//! insert) and [`Shape`] (which of the optional parts a command has rows for), each built once
//! from the entities' columns when first needed, so no command builds SQL. The rows a
//! command writes travel as one JSON array per table ([`rows_json`]) that the statement
//! unpacks — PostgreSQL with `json_populate_recordset`, SQLite with `jsonb_each` (each row handed on as binary JSON, so reading a column does not parse its text again) — and every
//! other value is a named slot ([`Slot`]) bound by [`Binds`]; a slot left unbound fails the
//! command loudly instead of writing a NULL.

use std::sync::OnceLock;

use sea_orm::{ActiveModelTrait, ColumnTrait, ColumnType, EntityName, EntityTrait, IdenStatic};
use serde_json::{Map, Value as Json};

use crate::connect::Backend;
use crate::entity::{application, event, outbox, task, timer};
use crate::error::{Result, corrupt};
use crate::plan::SNAPSHOT_COLUMNS;

/// A value the commit statement takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// The rows, one JSON array per table.
    Events,
    Outbox,
    Tasks,
    Timers,
    TaskChanges,
    TimerChanges,
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
    pub(crate) alone: String,
    pub(crate) grouped: String,
    slots: Vec<Slot>,
}

impl Statement {
    /// SQLite: the script framed for the group writer.
    pub(crate) fn framed(&'static self) -> crate::sqlite_group::Framed {
        crate::sqlite_group::Framed {
            alone: &self.alone,
            grouped: &self.grouped,
        }
    }
}

/// What a statement does to the application row before everything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

impl Part {
    const ALL: [Part; 6] = [
        Part::Outbox,
        Part::Tasks,
        Part::Timers,
        Part::TaskChanges,
        Part::TimerChanges,
        Part::Idem,
    ];

    /// The slot holding the part's rows (the idempotency key's are several).
    pub(crate) fn rows(self) -> Option<Slot> {
        match self {
            Part::Outbox => Some(Slot::Outbox),
            Part::Tasks => Some(Slot::Tasks),
            Part::Timers => Some(Slot::Timers),
            Part::TaskChanges => Some(Slot::TaskChanges),
            Part::TimerChanges => Some(Slot::TimerChanges),
            Part::Idem => None,
        }
    }
}

/// The parts one command's statement carries: a statement never runs a part with no rows
/// (on PostgreSQL each is a CTE executed — and its JSON unpacked — on every command).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Shape(u8);

impl Shape {
    const COUNT: usize = 1 << Part::ALL.len();

    pub(crate) fn with(self, part: Part, present: bool) -> Shape {
        if present {
            Shape(self.0 | 1 << part as u8)
        } else {
            self
        }
    }

    pub(crate) fn has(self, part: Part) -> bool {
        self.0 & (1 << part as u8) != 0
    }
}

/// The commit statement of a backend, head and shape, built the first time it is asked for.
pub(crate) fn statement(backend: Backend, head: HeadKind, shape: Shape) -> &'static Statement {
    type Built = [[OnceLock<Statement>; Shape::COUNT]; 4];
    static BUILT: Built = [const { [const { OnceLock::new() }; Shape::COUNT] }; 4];
    let i = (backend == Backend::Sqlite) as usize * 2 + (head == HeadKind::Insert) as usize;
    BUILT[i][shape.0 as usize].get_or_init(|| Build::statement(backend, head, shape))
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
        let i = self
            .stmt
            .slots
            .iter()
            .position(|s| *s == slot)
            .ok_or_else(|| corrupt(format!("the commit statement has no slot {slot:?}")))?;
        self.values[i] = Some(v.into());
        Ok(())
    }

    /// Binds a slot that only some statements take (the open status: PostgreSQL's answer, an
    /// action's claim).
    pub(crate) fn offer(&mut self, slot: Slot, v: impl Into<sea_orm::Value>) {
        if let Some(i) = self.stmt.slots.iter().position(|s| *s == slot) {
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

/// A JSON array of rows, one object per row keyed by its [`written`] columns, each value as
/// `backend` reads it back from JSON into the column (see [`cell`]).
pub(crate) fn rows_json<A: ActiveModelTrait>(backend: Backend, rows: &[A]) -> Result<String> {
    let cols = written::<A::Entity>();
    let rows = rows
        .iter()
        .map(|r| {
            cols.iter()
                .map(|c| Ok((c.as_str().to_owned(), cell(backend, value_of(r, *c)?)?)))
                .collect::<Result<Map<String, Json>>>()
        })
        .collect::<Result<Vec<_>>>()?;
    serde_json::to_string(&rows).map_err(corrupt)
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

    /// `INSERT INTO table (cols) SELECT … FROM <the slot's JSON rows> WHERE guard`.
    fn insert_rows<E: EntityTrait>(&mut self, slot: Slot, guard: &str) -> String {
        let table = E::default().table_name();
        let cols = written::<E>();
        let names = cols
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let rows = self.p(slot);
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

    /// The rows of a JSON array as a relation `c` with typed columns.
    fn changes(&mut self, slot: Slot, cols: &[(&str, &str)]) -> String {
        let rows = self.p(slot);
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
        let mut out = vec![self.insert_rows::<event::Entity>(Slot::Events, guard)];
        if self.shape.has(Part::Outbox) {
            out.push(self.insert_rows::<outbox::Entity>(Slot::Outbox, guard));
        }
        if self.shape.has(Part::Tasks) {
            out.push(self.insert_rows::<task::Entity>(Slot::Tasks, guard));
        }
        if self.shape.has(Part::Timers) {
            out.push(self.insert_rows::<timer::Entity>(Slot::Timers, guard));
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
        let changes = self.changes(
            Slot::TaskChanges,
            &[
                ("task_no", "int"),
                ("status", "text"),
                ("closed_at", "timestamptz"),
                ("closed_by", "text"),
                ("closed_action", "text"),
                ("assignee", "text"),
                ("overdue", "boolean"),
            ],
        );
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
        let timer_changes = self.changes(
            Slot::TimerChanges,
            &[("task_no", "int"), ("status", "text")],
        );
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
            alone: format!("BEGIN IMMEDIATE; {sql}; COMMIT"),
            grouped: format!("SAVEPOINT command; {sql}; RELEASE command"),
            sql,
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
    /// shape's statement carries exactly its parts.
    #[test]
    fn statements_are_fixed_and_number_their_slots() {
        for backend in [Backend::Postgres, Backend::Sqlite] {
            for head in [HeadKind::Update, HeadKind::Insert] {
                for bits in 0..Shape::COUNT as u8 {
                    let shape = Shape(bits);
                    let stmt = statement(backend, head, shape);
                    let n = stmt.slots.len();
                    assert!(stmt.sql.contains(&format!("${n}")), "{}", stmt.sql);
                    assert!(!stmt.sql.contains(&format!("${}", n + 1)));
                    let mut seen = stmt.slots.clone();
                    seen.dedup();
                    assert_eq!(seen.len(), n, "a slot numbered twice");
                    for part in Part::ALL {
                        let slot = part.rows().unwrap_or(Slot::IdemKey);
                        assert_eq!(stmt.slots.contains(&slot), shape.has(part), "{part:?}");
                    }
                    assert!(std::ptr::eq(stmt, statement(backend, head, shape)));
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
