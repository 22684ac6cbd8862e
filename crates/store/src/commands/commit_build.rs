//! Builds the commit statements ([`statement`]): one fixed text per backend, head and
//! [`Shape`], made from the entities' columns the first time a command of that shape comes,
//! and kept. The types they are made of, and the binding of values, are in `commit_sql.rs`.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use sea_orm::{ColumnTrait, ColumnType, EntityTrait, IdenStatic};

use crate::commands::commit_sql::{
    HeadKind, PLACE_CHANGE, Part, Shape, Slot, Statement, TASK_CHANGE, TIMER_CHANGE, Table, written,
};
use crate::commands::plan::SNAPSHOT_COLUMNS;
use crate::connect::BackendKind;
use crate::entity::{application, event, outbox, task, timer};

/// Shapes kept built; a workload's commands come in a few dozen (a command of yet another
/// shape beyond this gets its statement built for it alone).
const KEPT: usize = 4096;

/// The commit statement of a backend, head and shape, built the first time it is asked for.
pub(crate) fn statement(backend: BackendKind, head: HeadKind, shape: Shape) -> Arc<Statement> {
    type Built = HashMap<(BackendKind, HeadKind, Shape), Arc<Statement>>;
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

/// Builds one statement, numbering slots as they are first used.
struct Build {
    backend: BackendKind,
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
                BackendKind::Postgres => format!(" AS v({names})"),
                BackendKind::Sqlite => String::new(),
            };
            return format!(
                "INSERT INTO {table} ({names}) SELECT * FROM (VALUES {tuples}){alias} WHERE {guard}"
            );
        }
        let rows = self.p(t.json());
        match self.backend {
            BackendKind::Postgres => format!(
                "INSERT INTO {table} ({names}) SELECT {names} FROM json_populate_recordset(NULL::{table}, {rows}::json) WHERE {guard}"
            ),
            BackendKind::Sqlite => {
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
                BackendKind::Postgres => {
                    let types: Vec<_> = cols.iter().map(|(_, ty)| Some(*ty)).collect();
                    let tuples = self.values(t, &types);
                    format!("(VALUES {tuples}) AS c({})", names.join(", "))
                }
                // SQLite names a VALUES relation's columns column1, column2, …; its values
                // keep the types they were bound with.
                BackendKind::Sqlite => {
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
            BackendKind::Postgres => format!(
                "json_to_recordset({rows}::json) AS c({})",
                list(|n, t| format!("{n} {t}"))
            ),
            BackendKind::Sqlite => format!(
                "(SELECT {} FROM jsonb_each({rows})) AS c",
                list(|n, t| match t {
                    "uuid" => format!("unhex(value->>'{n}') AS {n}"),
                    _ => format!("value->>'{n}' AS {n}"),
                })
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
        if self.shape.has(Part::Places) {
            out.extend(self.places(&app, guard));
        }
        if self.shape.has(Part::Idem) {
            out.push(self.idem(guard));
        }
        out
    }

    /// The pools' counts change by what the command took or gave back (their CHECK fails the
    /// whole command if that would take a place that is not there), and the application's
    /// entry in each pool takes its new status; a rank given earlier stays unless a new one
    /// is, and the time is when it entered this status.
    fn places(&mut self, app: &str, guard: &str) -> [String; 2] {
        let counts = self.changes(Table::PlaceChanges, &PLACE_CHANGE);
        let entries = self.changes(Table::PlaceChanges, &PLACE_CHANGE);
        [
            format!(
                "UPDATE pools SET taken = pools.taken + c.taken, waiting = pools.waiting + c.waiting FROM {counts} WHERE pools.id = c.pool_id AND (c.taken <> 0 OR c.waiting <> 0) AND {guard}"
            ),
            format!(
                "INSERT INTO pool_entries (pool_id, application_id, pool, status, rank, since) SELECT c.pool_id, {app}, c.pool, c.status, c.rank, c.since FROM {entries} WHERE {guard} ON CONFLICT (pool_id, application_id) DO UPDATE SET status = excluded.status, rank = coalesce(excluded.rank, pool_entries.rank), since = excluded.since"
            ),
        ]
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
        // A timer that fired, or whose task closed first, is deleted: only pending timers are
        // kept (the audit log has what happened). A deletion writes no index entry, where a
        // status update wrote one in each of the table's indexes. Found by the primary key
        // alone: a condition on `status` would let the planner scan every pending timer
        // (`ix_timers_due`) instead — cost growing with the table.
        format!(
            "DELETE FROM timers WHERE timers.application_id = {app} AND timers.task_no IN (SELECT c.task_no FROM {timer_changes}) AND {guard}"
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
            BackendKind::Postgres => "EXISTS (SELECT 1 FROM up)".to_owned(),
            BackendKind::Sqlite => self.sqlite_guard(),
        };
        let tail = self.tail(&guard);
        let app = self.p(Slot::App);
        let sql = match self.backend {
            BackendKind::Postgres => {
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
            BackendKind::Sqlite => {
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
        Statement::new(sql, self.shape, self.slots)
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
    fn statement(backend: BackendKind, head: HeadKind, shape: Shape) -> Statement {
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
    use crate::commands::commit_sql::MAX_VALUES_ROWS;

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
            Table::PlaceChanges,
        ];
        for backend in [BackendKind::Postgres, BackendKind::Sqlite] {
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
                        let slots = stmt.slots();
                        let k = slots.len();
                        assert!(stmt.sql.contains(&format!("${k}")), "{}", stmt.sql);
                        assert!(!stmt.sql.contains(&format!("${}", k + 1)));
                        let mut seen = slots.to_vec();
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
}
