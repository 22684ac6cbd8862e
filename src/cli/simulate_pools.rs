//! `softland simulate`'s pools: the places other applications hold (the script's `pools:`),
//! what the simulated application's changes do to the levels, and a place given back by
//! another application (`free: POOL`), which moves the waitlist up.

use std::collections::BTreeMap;

use softland_workflow::script::Level;
use softland_workflow::{Event, EventKind, Instance, PlaceStatus, Workflow};

/// Each pool's places and how many other applications hold.
pub(super) struct Levels {
    pools: BTreeMap<String, Level>,
}

impl Levels {
    /// The workflow's pools at the levels the script gives (a pool it does not name has one
    /// place, free).
    pub(super) fn new(wf: &Workflow, given: &BTreeMap<String, Level>) -> anyhow::Result<Self> {
        if let Some(unknown) = given.keys().find(|k| wf.pool(k).is_none()) {
            anyhow::bail!(
                "the script's `pools` names `{unknown}`, which the workflow does not declare"
            );
        }
        let pools = wf
            .pools()
            .iter()
            .map(|p| {
                let level = given.get(p.name()).copied().unwrap_or(Level {
                    places: 1,
                    taken: 0,
                });
                (p.name().to_owned(), level)
            })
            .collect();
        Ok(Levels { pools })
    }

    /// The pools whose places other applications hold all of.
    pub(super) fn full(&self) -> Vec<String> {
        self.pools
            .iter()
            .filter(|(_, l)| l.taken >= l.places)
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// Another application gives back a place of `pool`.
    pub(super) fn free(&mut self, pool: &str) -> anyhow::Result<()> {
        let Some(level) = self.pools.get_mut(pool) else {
            anyhow::bail!("`free: {pool}`: the workflow has no pool `{pool}`");
        };
        if level.taken == 0 {
            anyhow::bail!("`free: {pool}`: no other application holds a place of it");
        }
        level.taken -= 1;
        Ok(())
    }

    /// The level of `pool` with the simulated application's own place, as a line.
    pub(super) fn line(&self, pool: &str, app: &Instance) -> String {
        let Some(l) = self.pools.get(pool) else {
            return String::new();
        };
        let own = app.place(pool);
        let taken = l.taken + u32::from(own.is_some_and(PlaceStatus::takes_place));
        let waiting = if own == Some(PlaceStatus::Waiting) {
            ", this application in line"
        } else {
            ""
        };
        format!(
            "    ▤ pool {pool}: {taken} of {} places taken{waiting}",
            l.places
        )
    }

    /// Prints the level of each pool `events` changed.
    pub(super) fn show(&self, events: &[Event], app: &Instance, json: bool) {
        if json {
            return;
        }
        let mut shown: Vec<&str> = Vec::new();
        for e in events {
            if let EventKind::PlaceChanged { pool, .. } = &e.kind
                && !shown.contains(&pool.as_str())
            {
                shown.push(pool);
                println!("{}", self.line(pool, app));
            }
        }
    }
}
