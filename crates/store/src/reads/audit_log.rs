//! The audit log read in time order: `softland audit-export` and `GET /audit/export`.
//!
//! On PostgreSQL the log's time index is a BRIN index (migration `m20261210_000001`): it
//! tells which blocks hold a span of time, not the entries' order, so a read costs the blocks
//! of its whole span and sorts what it finds. An export therefore reads windows of time, each
//! sized to hold a few pages of entries by the density the last full page showed, and pages
//! through each window by `(at, id)`: every read touches about as much as it returns, however
//! long the range and however busy its days. On SQLite the index is a B-tree and the windows
//! only add a read per empty stretch.

use std::io::Write;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::Store;
use crate::entity::event;
use crate::error::{Error, Result};
use crate::reads::queries::after_pair;
use crate::rows::event_record;

/// Entries read at a time.
const PAGE: u64 = 1000;

/// The first window, and the narrowest and widest any window gets.
const FIRST: TimeDelta = TimeDelta::hours(1);
const NARROWEST: TimeDelta = TimeDelta::seconds(1);
const WIDEST: TimeDelta = TimeDelta::days(31);

/// The window after one that filled a page: about four pages' worth at the density that page
/// showed (`span` the time between its first and last entry).
fn after_full_page(span: TimeDelta) -> TimeDelta {
    (span * 4).clamp(NARROWEST, WIDEST)
}

impl Store {
    /// Writes every event with `from <= at < to` as JSON lines, in time order (and of those
    /// at one time, in the order they were written); returns how many.
    pub async fn audit_export<W: Write + ?Sized>(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        out: &mut W,
    ) -> Result<u64> {
        let mut n = 0;
        // Every entry up to `after`, in `(at, id)` order, is written.
        let mut after = (from, i64::MIN);
        let mut width = FIRST;
        while after.0 < to {
            let end = after.0.checked_add_signed(width).map_or(to, |e| e.min(to));
            let rows = event::Entity::find()
                .filter(after_pair(
                    event::Column::At,
                    after.0,
                    event::Column::Id,
                    after.1,
                ))
                .filter(event::Column::At.lt(end))
                .order_by_asc(event::Column::At)
                .order_by_asc(event::Column::Id)
                .limit(PAGE)
                .all(self.db())
                .await?;
            let full = rows.len() as u64 == PAGE;
            let first = rows.first().map(|m| m.at);
            for m in rows {
                after = (m.at, m.id);
                let line = serde_json::to_string(&event_record(m)?)
                    .map_err(|e| Error::Corrupt(e.to_string()))?;
                writeln!(out, "{line}").map_err(|e| Error::Io {
                    path: "audit export".into(),
                    source: e,
                })?;
                n += 1;
            }
            if full {
                // More may follow inside the window: read on from the last entry.
                width = after_full_page(after.0 - first.unwrap_or(after.0));
            } else {
                // The window is done: the next starts at its end, twice as wide.
                after = (end, i64::MIN);
                width = (width * 2).min(WIDEST);
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_follow_the_density_within_bounds() {
        assert_eq!(after_full_page(TimeDelta::zero()), NARROWEST);
        assert_eq!(
            after_full_page(TimeDelta::minutes(10)),
            TimeDelta::minutes(40)
        );
        assert_eq!(after_full_page(TimeDelta::days(30)), WIDEST);
    }
}
