//! The audit log read in time order: `softland audit-export` and `GET /audit/export`.
//!
//! On PostgreSQL the log's time index is a BRIN index (migration `m20261210_000001`): it
//! tells which blocks hold a span of time, not the entries' order, so a read costs the blocks
//! of its whole span and sorts what it finds. An export therefore reads windows of time, each
//! sized to just under a page of entries by the density the last read showed, and pages through
//! a window by `(at, id)` when it holds more: every read touches about as much as it returns,
//! however long the range and however busy its days. On SQLite the index is a B-tree and the windows
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

/// The next window: about nine tenths of a page at the density the last read showed — `rows`
/// entries over `span` — so that most windows are read whole in one query, each touching
/// about what it returns. At most twice the last window (a quiet stretch grows it by doubling).
fn next_width(last: TimeDelta, rows: u64, span: TimeDelta) -> TimeDelta {
    let aim = match rows {
        0 => last * 2,
        n => {
            let per_page = span.num_milliseconds().max(1) as f64 * (PAGE as f64 * 0.9) / n as f64;
            TimeDelta::milliseconds(per_page.min(WIDEST.num_milliseconds() as f64) as i64)
        }
    };
    aim.min(last * 2).clamp(NARROWEST, WIDEST)
}

/// One line of the audit export: `value` as JSON.
pub(crate) fn write_line<W: Write + ?Sized>(
    out: &mut W,
    value: &impl serde::Serialize,
) -> Result<()> {
    let line = serde_json::to_string(value).map_err(|e| Error::Corrupt(e.to_string()))?;
    writeln!(out, "{line}").map_err(|e| Error::Io {
        path: "audit export".into(),
        source: e,
    })
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
            let (start, before) = (after.0, n);
            let end = start.checked_add_signed(width).map_or(to, |e| e.min(to));
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
                write_line(out, &event_record(m)?)?;
                n += 1;
            }
            if full {
                // More may follow inside the window: read on from the last entry, over about
                // a page's time at the density of this one.
                width = next_width(width, PAGE, after.0 - first.unwrap_or(after.0));
            } else {
                // The window is done: the next starts at its end.
                after = (end, i64::MIN);
                width = next_width(width, n - before, end - start);
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
        let hour = TimeDelta::hours(1);
        // A page's worth in ten minutes: the next window is nine tenths of that.
        assert_eq!(
            next_width(hour, PAGE, TimeDelta::minutes(10)),
            TimeDelta::minutes(9)
        );
        // A quiet window doubles, and never past the widest.
        assert_eq!(next_width(hour, 0, hour), hour * 2);
        assert_eq!(next_width(hour, 10, hour), hour * 2);
        assert_eq!(next_width(WIDEST, 0, WIDEST), WIDEST);
        // A page at one instant: the narrowest.
        assert_eq!(next_width(hour, PAGE, TimeDelta::zero()), NARROWEST);
    }
}
