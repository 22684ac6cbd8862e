//! The outbox relay: every server process follows the outbox table and publishes what any
//! process committed to its local subscribers, so a subscription sees every event whichever
//! server handled the command.
//!
//! Outbox ids come from a sequence, and a transaction holding a lower id may commit after one
//! holding a higher id. The relay therefore remembers ids it has published above its cursor,
//! and moves the cursor past a missing id only once that id has been missing for
//! [`GAP_TIMEOUT`] (a rolled-back transaction leaves a permanent gap).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::watch;

use crate::Store;
use crate::entity::outbox;
use crate::error::Result;

/// How long a missing outbox id is waited for.
pub const GAP_TIMEOUT: Duration = Duration::from_secs(5);

/// The relay's position in the outbox.
#[derive(Debug, Default)]
pub(crate) struct Cursor {
    /// Every id up to here is published or given up on.
    upto: i64,
    /// Ids above `upto` already published.
    seen: BTreeSet<i64>,
    /// Ids above `upto` not seen yet, with when they were first missed.
    missing: BTreeMap<i64, Instant>,
}

impl Cursor {
    fn advance(&mut self, now: Instant) {
        loop {
            let next = self.upto + 1;
            if self.seen.remove(&next) {
                self.upto = next;
            } else if self
                .missing
                .get(&next)
                .is_some_and(|t| now.duration_since(*t) >= GAP_TIMEOUT)
            {
                self.missing.remove(&next);
                self.upto = next;
            } else {
                return;
            }
        }
    }
}

impl Store {
    /// Starts at the current end of the outbox (subscribers get what happens from now on).
    pub(crate) async fn outbox_end(&self) -> Result<Cursor> {
        let last = outbox::Entity::find()
            .order_by_desc(outbox::Column::Id)
            .limit(1)
            .one(self.db())
            .await?;
        Ok(Cursor {
            upto: last.map_or(0, |o| o.id),
            ..Default::default()
        })
    }

    /// One relay pass: publishes the events of new outbox entries (read with one query);
    /// returns how many events.
    pub(crate) async fn relay_once(&self, cursor: &mut Cursor) -> Result<usize> {
        let rows = outbox::Entity::find()
            .filter(outbox::Column::Id.gt(cursor.upto))
            .order_by_asc(outbox::Column::Id)
            .limit(500)
            .all(self.db())
            .await?;
        let now = Instant::now();
        let mut fresh = Vec::with_capacity(rows.len());
        let mut expected = cursor.upto + 1;
        for row in rows {
            for gap in expected..row.id {
                if !cursor.seen.contains(&gap) {
                    cursor.missing.entry(gap).or_insert(now);
                }
            }
            expected = expected.max(row.id + 1);
            if cursor.seen.insert(row.id) {
                cursor.missing.remove(&row.id);
                fresh.push(row);
            }
        }
        cursor.advance(now);
        // Nobody listening in this process: nothing to read.
        if fresh.is_empty() || self.inner.events.receiver_count() == 0 {
            return Ok(0);
        }
        let mut published = 0;
        for command in self.events_of(&fresh).await? {
            for record in command.events {
                let _ = self.inner.events.send(record);
                published += 1;
            }
        }
        Ok(published)
    }

    /// Follows the outbox every `every` until `stop` turns true.
    pub fn spawn_outbox_relay(
        &self,
        every: Duration,
        mut stop: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            let mut cursor = loop {
                match store.outbox_end().await {
                    Ok(c) => break c,
                    Err(e) => {
                        tracing::warn!(error = %e, "outbox relay cannot start; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            };
            let mut log = crate::worker_log::PassLog::new("outbox relay");
            while crate::commands::scheduler::tick_or_stop(every, &mut stop).await {
                log.pass(&store.relay_once(&mut cursor).await);
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_waits_for_late_commits_then_gives_up() {
        let t0 = Instant::now();
        let mut c = Cursor {
            upto: 10,
            ..Default::default()
        };
        c.seen.insert(12);
        c.missing.insert(11, t0);
        c.advance(t0);
        assert_eq!(c.upto, 10, "11 may still commit");
        c.seen.insert(11);
        c.missing.remove(&11);
        c.advance(t0);
        assert_eq!(c.upto, 12);
        c.missing.insert(13, t0);
        c.seen.insert(14);
        c.advance(t0 + GAP_TIMEOUT);
        assert_eq!(c.upto, 14, "a gap older than the timeout is skipped");
    }
}
