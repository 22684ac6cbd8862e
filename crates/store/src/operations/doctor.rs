//! `softland doctor`: every application must equal the fold of its events, and every event's
//! hash must chain to the one before it.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use softland_workflow::{Event, Instance};

use crate::Store;
use crate::entity::{application, event};
use crate::error::Result;
use crate::hash::{genesis, link};
use crate::rows::event_columns;

/// What the doctor found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Applications checked.
    pub applications: u64,
    /// Events checked.
    pub events: u64,
    /// Every problem, one line each (empty: all is well).
    pub problems: Vec<String>,
}

impl Store {
    /// Checks every application (fold and hash chain).
    pub async fn doctor(&self) -> Result<Report> {
        let mut report = Report::default();
        let mut after = None;
        loop {
            let mut q = application::Entity::find()
                .order_by_asc(application::Column::Id)
                .limit(200);
            if let Some(id) = after {
                q = q.filter(application::Column::Id.gt(id));
            }
            let apps = q.all(self.db()).await?;
            let Some(last) = apps.last() else {
                return Ok(report);
            };
            after = Some(last.id);
            for app in apps {
                report.applications += 1;
                self.check_application(&app, &mut report).await?;
            }
        }
    }

    async fn check_application(&self, app: &application::Model, report: &mut Report) -> Result<()> {
        let id = app.id;
        let rows = event::Entity::find()
            .filter(event::Column::ApplicationId.eq(id))
            .order_by_asc(event::Column::Seq)
            .all(self.db())
            .await?;
        // An application moved to other versions starts on the first `migrated` event's old
        // version, and each one moves it on.
        let moves = migrations_of(&rows);
        let first = moves
            .first()
            .map_or(app.workflow_version, |(from, _)| *from);
        let last = moves.last().map_or(app.workflow_version, |(_, to)| *to);
        if last != app.workflow_version {
            report.problems.push(format!(
                "application {id}: runs on version {} but its events end on version {last}",
                app.workflow_version
            ));
        }
        let mut versions = std::collections::HashMap::new();
        for v in std::iter::once(first).chain(moves.iter().map(|(_, to)| *to)) {
            match self.workflow(&app.workflow_key, v).await {
                Ok(wf) => {
                    versions.insert(v, wf);
                }
                Err(e) => {
                    report.problems.push(format!(
                        "application {id}: its workflow version {v} cannot be loaded: {e}"
                    ));
                    return Ok(());
                }
            }
        }
        let wf = std::sync::Arc::clone(&versions[&first]);
        let mut prev = genesis(id);
        let mut task_states = std::collections::HashMap::new();
        let mut events = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            report.events += 1;
            let expected_seq = i as i64 + 1;
            if row.seq != expected_seq {
                report.problems.push(format!("application {id}: event {} found where {expected_seq} was expected (missing or reordered events)", row.seq));
            }
            // Events written before they named their states: the hash covers the payload kept
            // in `hashed_payload`, and `payload` must be exactly its named form.
            let hashed = row.hashed_payload.as_deref().unwrap_or(&row.payload);
            if row.prev_hash != prev || row.hash != link(&prev, row.seq, hashed) {
                report.problems.push(format!("application {id}: hash chain broken at event {} (the event or one before it was altered)", row.seq));
            }
            if let Some(original) = &row.hashed_payload
                && !names_the_states_of(original, &row.payload, &wf)
            {
                report.problems.push(format!("application {id}: event {} has a payload that is not the named form of its hashed payload (altered)", row.seq));
            }
            prev = row.hash.clone();
            match serde_json::from_str::<Event>(&row.payload) {
                Ok(e) => {
                    // The columns beside the payload must say what the payload says.
                    let (state, action, comment) = event_columns(&e, &mut task_states);
                    let state = state.map(|s| s.to_string());
                    let differs = [
                        ("kind", row.kind != e.kind.name().as_str()),
                        ("actor", row.actor.as_deref() != e.actor.as_deref()),
                        ("state", row.state != state),
                        ("action", row.action != action),
                        ("comment", row.comment != comment),
                        // PostgreSQL keeps microseconds: a rounded time is the same time
                        (
                            "at",
                            (row.at - e.at)
                                .num_microseconds()
                                .is_none_or(|d| d.abs() > 1),
                        ),
                    ];
                    for (column, _) in differs.iter().filter(|(_, d)| *d) {
                        report.problems.push(format!("application {id}: event {} has a `{column}` column that differs from its hashed payload (altered)", row.seq));
                    }
                    events.push(e);
                }
                Err(e) => report.problems.push(format!(
                    "application {id}: event {} does not parse: {e}",
                    row.seq
                )),
            }
        }
        if app.last_hash != prev {
            report.problems.push(format!(
                "application {id}: its last hash does not match its last event"
            ));
        }
        if app.revision != rows.len() as i64 {
            report.problems.push(format!(
                "application {id}: revision {} but {} events",
                app.revision,
                rows.len()
            ));
        }
        let version_of = |v: u32| {
            i32::try_from(v)
                .ok()
                .and_then(|v| versions.get(&v))
                .map(|w| &**w)
        };
        let folded = match Instance::replay_versions(&wf, version_of, &events) {
            Ok(folded) => folded,
            Err(e) => {
                report.problems.push(format!(
                    "application {id}: its events do not fit its workflow version: {e}"
                ));
                return Ok(());
            }
        };
        let folded = serde_json::to_value(&folded)
            .map_err(|e| crate::error::Error::Corrupt(format!("application {id}: {e}")))?;
        if folded != app.instance {
            report.problems.push(format!(
                "application {id}: stored state differs from the fold of its events"
            ));
        }
        Ok(())
    }
}

/// The `(from, to)` versions of an application's `migrated` events, in order.
fn migrations_of(rows: &[event::Model]) -> Vec<(i32, i32)> {
    rows.iter()
        .filter(|r| r.kind == softland_workflow::EventName::Migrated.as_str())
        .filter_map(|r| {
            let v: serde_json::Value = serde_json::from_str(&r.payload).ok()?;
            let n = |k: &str| i32::try_from(v.get(k)?.as_i64()?).ok();
            Some((n("from_version")?, n("to_version")?))
        })
        .collect()
}

/// Whether `payload` is `original` (an event stored with state indexes) with its states named.
fn names_the_states_of(original: &str, payload: &str, wf: &softland_workflow::Workflow) -> bool {
    let (Ok(mut named), Ok(payload)) = (
        serde_json::from_str::<serde_json::Value>(original),
        serde_json::from_str::<serde_json::Value>(payload),
    ) else {
        return false;
    };
    softland_workflow::name_legacy_states(&mut named, wf).is_ok() && named == payload
}
