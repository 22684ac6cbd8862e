//! What the engine does to places: an action's `reserve`, `confirm` or `release`, a full
//! pool's waitlist, a promotion from it, and the places given back when an application ends.

use super::*;
use crate::engine::event::PlaceChange;

impl Exec<'_> {
    /// Takes, confirms or gives back the action's place; returns where a full pool sends the
    /// application instead of the action's target (its waitlist).
    pub(super) fn place(&mut self, places: &Places, rank: Option<i32>) -> Option<StateId> {
        let pool = places.pool.clone();
        if self.env.unbound.contains(&pool) {
            return None;
        }
        let now = self.inst.place(&pool);
        match places.op {
            PlaceOp::Reserve => {
                if now.is_some_and(PlaceStatus::takes_place) {
                    return None;
                }
                let full = self.env.full.contains(&pool);
                let (change, to) = match (full, places.when_full) {
                    (true, Some(waitlist)) => (PlaceChange::Waitlisted, Some(waitlist)),
                    // Refused before anything ran (`Workflow::check_places`).
                    _ => (PlaceChange::Reserved, None),
                };
                self.emit(EventKind::PlaceChanged { pool, change, rank });
                to
            }
            PlaceOp::Confirm => {
                if now == Some(PlaceStatus::Held) {
                    self.emit(EventKind::PlaceChanged {
                        pool,
                        change: PlaceChange::Confirmed,
                        rank: None,
                    });
                }
                None
            }
            PlaceOp::Release => {
                if now.is_some() {
                    self.emit(EventKind::PlaceChanged {
                        pool,
                        change: PlaceChange::Released,
                        rank: None,
                    });
                }
                None
            }
        }
    }

    /// Gives back every place (or wait in line) whose status `which` picks.
    pub(super) fn release_places(&mut self, which: impl Fn(PlaceStatus) -> bool) {
        let pools: Vec<String> = self
            .inst
            .places
            .iter()
            .filter(|(_, s)| which(*s))
            .map(|(p, _)| p.clone())
            .collect();
        for pool in pools {
            self.emit(EventKind::PlaceChanged {
                pool,
                change: PlaceChange::Released,
                rank: None,
            });
        }
    }

    /// The first in line of `pool`'s waitlist holds the place that came free and goes on.
    pub(super) fn promote(&mut self, pool: &str) -> Result<(), Rejection> {
        let wf = self.wf;
        let waiting = self.inst.place(pool) == Some(PlaceStatus::Waiting);
        let at = self
            .inst
            .active
            .iter()
            .copied()
            .find_map(|s| match wf.state(s).kind() {
                StateKind::Waitlist(w) if w.pool == pool => Some((s, w.promote_to)),
                _ => None,
            });
        let (Some((state, to)), true) = (at, waiting) else {
            return Err(Rejection::NotWaiting {
                pool: pool.to_owned(),
            });
        };
        self.emit(EventKind::PlaceChanged {
            pool: pool.to_owned(),
            change: PlaceChange::Promoted,
            rank: None,
        });
        self.go(state, to);
        Ok(())
    }
}

impl Workflow {
    /// Refuses an action that would reserve a place of a full pool with nowhere to wait.
    pub(super) fn check_places(
        &self,
        inst: &Instance,
        state: StateId,
        action: &str,
        env: &Env<'_>,
    ) -> Result<(), Rejection> {
        let StateKind::Task(t) = self.state(state).kind() else {
            return Ok(());
        };
        let Some(p) = t.action(action).and_then(|a| a.places.as_ref()) else {
            return Ok(());
        };
        let holds = inst.place(&p.pool).is_some_and(PlaceStatus::takes_place);
        if p.op == PlaceOp::Reserve
            && p.when_full.is_none()
            && !holds
            && env.full.contains(&p.pool)
            && !env.unbound.contains(&p.pool)
        {
            return Err(Rejection::PoolFull {
                pool: p.pool.clone(),
            });
        }
        Ok(())
    }
}

impl Instance {
    /// Where it stands with each pool: a place held or confirmed, or waiting in line.
    pub fn places(&self) -> &[(String, PlaceStatus)] {
        &self.places
    }

    /// Where it stands with `pool`, if anywhere.
    pub fn place(&self, pool: &str) -> Option<PlaceStatus> {
        self.places.iter().find(|(p, _)| p == pool).map(|(_, s)| *s)
    }

    /// Folds a `place_changed` event.
    pub(super) fn change_place(&mut self, pool: &str, change: PlaceChange) {
        let status = match change {
            PlaceChange::Reserved | PlaceChange::Promoted => Some(PlaceStatus::Held),
            PlaceChange::Confirmed => Some(PlaceStatus::Confirmed),
            PlaceChange::Waitlisted => Some(PlaceStatus::Waiting),
            PlaceChange::Released => None,
        };
        self.places.retain(|(p, _)| p != pool);
        if let Some(status) = status {
            self.places.push((pool.to_owned(), status));
        }
    }
}
