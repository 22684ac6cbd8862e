//! The commit's SQL: one fixed text per backend, head (an action's update, a submission's
//! insert) and [`Shape`] (which of the optional parts a command has rows for and, on
//! PostgreSQL, how many), each built once from the entities' columns when first needed
//! (`commit_build.rs`), so no command builds SQL. On PostgreSQL a few rows are `VALUES` whose every cell is bound (in
//! binary, typed: nothing is parsed from text), more than [`MAX_VALUES_ROWS`] one JSON array
//! unpacked with `json_populate_recordset`; on SQLite the rows always travel as one JSON array
//! per table unpacked with `jsonb_each` (each row handed on as binary JSON, so
//! reading a column does not parse its text again). Every value is a named slot ([`Slot`])
//! bound by [`Binds`]; a slot left unbound fails the command loudly instead of writing a NULL.

use std::collections::HashMap;
use std::sync::Arc;

use sea_orm::{ActiveModelTrait, EntityName, EntityTrait, IdenStatic};
use serde_json::{Map, Value as Json};

use crate::connect::BackendKind;
use crate::error::{Result, corrupt};

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
    /// `tasks.status` open.
    Open,
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
    /// A built statement: its text for PostgreSQL (and SQLite's script, framed both ways), the
    /// shape it was built for, and its slots in `$n` order.
    pub(crate) fn new(sql: String, shape: Shape, slots: Vec<Slot>) -> Self {
        Statement {
            alone: format!("BEGIN IMMEDIATE; {sql}; COMMIT").into(),
            grouped: format!("SAVEPOINT command; {sql}; RELEASE command").into(),
            sql,
            shape,
            index: slots.iter().enumerate().map(|(i, s)| (*s, i)).collect(),
            slots,
        }
    }

    /// The slots, in `$n` order.
    #[cfg(test)]
    pub(crate) fn slots(&self) -> &[Slot] {
        &self.slots
    }

    /// SQLite: the script framed for the group writer.
    pub(crate) fn framed(&self) -> crate::commands::sqlite_group::Framed {
        crate::commands::sqlite_group::Framed {
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
    /// Changes to the application's places: its entry in a pool, and the pool's counts.
    PlaceChanges,
}

/// The columns of a change to the application's place in a pool ([`Table::PlaceChanges`]):
/// its entry's new status (rank and time), and what the pool's counts change by. The pools'
/// CHECK makes the whole command fail when a place would be taken that is not there.
pub(crate) const PLACE_CHANGE: [(&str, &str); 7] = [
    ("pool_id", "uuid"),
    ("pool", "text"),
    ("status", "text"),
    ("rank", "int"),
    ("since", "timestamptz"),
    ("taken", "int"),
    ("waiting", "int"),
];

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

/// The columns of a pending timer that fired or was cancelled ([`Table::TimerChanges`]): it is
/// deleted.
pub(crate) const TIMER_CHANGE: [(&str, &str); 2] = [("task_no", "int"), ("status", "text")];

impl Table {
    /// The slot of its rows as one JSON array.
    pub(crate) fn json(self) -> Slot {
        Slot::Json(self)
    }

    /// The optional part it is (every command appends events).
    pub(crate) fn part(self) -> Option<Part> {
        match self {
            Table::Events => None,
            Table::Outbox => Some(Part::Outbox),
            Table::Tasks => Some(Part::Tasks),
            Table::Timers => Some(Part::Timers),
            Table::TaskChanges => Some(Part::TaskChanges),
            Table::TimerChanges => Some(Part::TimerChanges),
            Table::PlaceChanges => Some(Part::Places),
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
    /// The application's places ([`Table::PlaceChanges`]).
    Places,
}

#[cfg(test)]
impl Part {
    pub(crate) const ALL: [Part; 7] = [
        Part::Outbox,
        Part::Tasks,
        Part::Timers,
        Part::TaskChanges,
        Part::TimerChanges,
        Part::Idem,
        Part::Places,
    ];
}

/// The parts one command's statement carries — a statement never runs a part with no rows
/// (on PostgreSQL each is a CTE executed on every command) — and, on PostgreSQL, how many rows
/// of each table it binds cell by cell (0: as one JSON array).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) struct Shape {
    parts: u8,
    cells: [u8; 7],
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

    pub(crate) fn cells(self, table: Table) -> usize {
        self.cells[table as usize] as usize
    }
}

/// Binds the entity rows of `table` as the statement takes them.
pub(crate) fn bind_rows<A: ActiveModelTrait>(
    b: &mut Binds<'_>,
    backend: BackendKind,
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
    backend: BackendKind,
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
pub(crate) fn cell(backend: BackendKind, v: sea_orm::Value) -> Result<Json> {
    use sea_orm::Value as V;
    Ok(match v {
        V::Bool(b) => b.into(),
        V::Int(i) => i.into(),
        V::BigInt(i) => i.into(),
        V::String(s) => s.into(),
        V::Uuid(u) => u
            .map(|u| match backend {
                BackendKind::Postgres => u.hyphenated().to_string(),
                BackendKind::Sqlite => u.simple().to_string(),
            })
            .into(),
        V::ChronoDateTimeUtc(t) => t.map(|t| timestamp(backend, t)).into(),
        V::Json(j) => match (backend, j) {
            (_, None) => Json::Null,
            (BackendKind::Postgres, Some(j)) => *j,
            (BackendKind::Sqlite, Some(j)) => Json::String(j.to_string()),
        },
        other => {
            return Err(corrupt(format!(
                "a row value of an unexpected type: {other:?}"
            )));
        }
    })
}

fn timestamp(backend: BackendKind, t: chrono::DateTime<chrono::Utc>) -> String {
    match backend {
        BackendKind::Postgres => t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        BackendKind::Sqlite => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn cells_are_what_the_backend_stores() {
        let id = uuid::Uuid::nil();
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-28T16:44:08.123456789Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            cell(BackendKind::Sqlite, id.into()).unwrap(),
            Json::from("00000000000000000000000000000000")
        );
        assert_eq!(
            cell(BackendKind::Postgres, t.into()).unwrap(),
            Json::from("2026-11-28T16:44:08.123456Z")
        );
        assert_eq!(
            cell(BackendKind::Sqlite, t.into()).unwrap(),
            Json::from("2026-11-28T16:44:08.123456789+00:00")
        );
        let j = serde_json::json!({"a": [1]});
        assert_eq!(cell(BackendKind::Postgres, j.clone().into()).unwrap(), j);
        assert_eq!(
            cell(BackendKind::Sqlite, j.into()).unwrap(),
            Json::from(r#"{"a":[1]}"#)
        );
        assert!(cell(BackendKind::Sqlite, sea_orm::Value::Double(Some(1.0))).is_err());
    }
}
