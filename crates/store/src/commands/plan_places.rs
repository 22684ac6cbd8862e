//! The plan's places: what a command's `place_changed` events do to the application's entry
//! in each pool and to the pool's counts, collapsed per pool (a command may reserve and give
//! back in one go). The pools' ids come from the store ([`Places`]), read with the
//! application: the engine knows pools by their names only.

use std::collections::HashMap;

use softland_workflow::{EventKind, Instance, PlaceChange, PlaceStatus};
use uuid::Uuid;

use crate::error::{Result, corrupt};

/// The application's pools, by name: each one's id and, before the command, its place.
#[derive(Debug, Clone, Default)]
pub(crate) struct Places {
    /// Pool name → (pool id, the application's place in it before the command).
    pub(crate) pools: HashMap<String, (Uuid, Option<PlaceStatus>)>,
    /// The rows the command writes.
    pub(crate) rows: Vec<PlaceRow>,
}

/// One pool's change by one command: the entry's new status and the counts' deltas.
#[derive(Debug, Clone)]
pub(crate) struct PlaceRow {
    pub(crate) pool_id: Uuid,
    pub(crate) pool: String,
    pub(crate) status: &'static str,
    pub(crate) rank: Option<i32>,
    pub(crate) since: chrono::DateTime<chrono::Utc>,
    pub(crate) taken: i32,
    pub(crate) waiting: i32,
}

/// The status an entry is written with: the place's, or `released`; `applied` before any.
pub(crate) const APPLIED: &str = "applied";
pub(crate) const RELEASED: &str = "released";

impl Places {
    /// The pools bound to an application, with where it stood in each (from its instance).
    pub(crate) fn bound(ids: impl IntoIterator<Item = (String, Uuid)>, inst: &Instance) -> Self {
        Places {
            pools: ids
                .into_iter()
                .map(|(name, id)| {
                    let now = inst.place(&name);
                    (name, (id, now))
                })
                .collect(),
            rows: Vec::new(),
        }
    }

    /// A new application's entry in `pool` (`applied`: no place yet).
    pub(crate) fn applied(&mut self, pool: &str, id: Uuid, at: chrono::DateTime<chrono::Utc>) {
        self.pools.insert(pool.to_owned(), (id, None));
        self.rows.push(PlaceRow {
            pool_id: id,
            pool: pool.to_owned(),
            status: APPLIED,
            rank: None,
            since: at,
            taken: 0,
            waiting: 0,
        });
    }

    /// What one event does, if it is a place's change.
    pub(crate) fn effect(&mut self, e: &softland_workflow::Event) -> Result<()> {
        let EventKind::PlaceChanged { pool, change, rank } = &e.kind else {
            return Ok(());
        };
        let Some((id, before)) = self.pools.get_mut(pool) else {
            return Err(corrupt(format!(
                "the application draws on pool `{pool}` but has no entry in it"
            )));
        };
        let after = match change {
            PlaceChange::Reserved | PlaceChange::Promoted => Some(PlaceStatus::Held),
            PlaceChange::Confirmed => Some(PlaceStatus::Confirmed),
            PlaceChange::Waitlisted => Some(PlaceStatus::Waiting),
            PlaceChange::Released => None,
        };
        let counts = |s: Option<PlaceStatus>| {
            (
                i32::from(s.is_some_and(PlaceStatus::takes_place)),
                i32::from(s == Some(PlaceStatus::Waiting)),
            )
        };
        let ((t0, w0), (t1, w1)) = (counts(*before), counts(after));
        *before = after;
        let id = *id;
        let status = after.map_or(RELEASED, PlaceStatus::word);
        match self.rows.iter_mut().find(|r| r.pool_id == id) {
            Some(row) => {
                row.status = status;
                row.rank = rank.or(row.rank);
                row.since = e.at;
                row.taken += t1 - t0;
                row.waiting += w1 - w0;
            }
            None => self.rows.push(PlaceRow {
                pool_id: id,
                pool: pool.clone(),
                status,
                rank: *rank,
                since: e.at,
                taken: t1 - t0,
                waiting: w1 - w0,
            }),
        }
        Ok(())
    }

    /// Whether the command gave a place back or joined a line: a promotion may be due.
    pub(crate) fn may_promote(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.rows
            .iter()
            .filter(|r| r.taken < 0 || r.waiting > 0)
            .map(|r| r.pool_id)
    }
}
