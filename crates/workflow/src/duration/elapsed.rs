//! How long something took in an agency's working time: the part of an interval that falls on
//! its working days (whole local days, Hong Kong time), in seconds — what reports divide by a
//! day's 86,400 to say "business days". A task opened on Friday at 10:00 and done on Monday at
//! 10:00 took one business day (14 h of Friday and 10 h of Monday), as a due date of one
//! business day would have said.

use chrono::{DateTime, Duration, NaiveTime, Utc};

use super::{Calendars, Region, local_offset};

impl Calendars {
    /// Seconds of `[start, until)` that fall on working days of `region` (0 when `until` is not
    /// after `start`).
    pub fn working_seconds(
        &self,
        region: Region,
        start: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> i64 {
        if until <= start {
            return 0;
        }
        let (from, to) = (
            start.with_timezone(&local_offset()),
            until.with_timezone(&local_offset()),
        );
        let mut seconds = 0i64;
        let mut date = from.date_naive();
        while date <= to.date_naive() {
            if self.is_working_day(region, date) {
                let begins = date.and_time(NaiveTime::MIN);
                let ends = begins + Duration::days(1);
                let a = Ord::max(begins, from.naive_local());
                let b = Ord::min(ends, to.naive_local());
                seconds += Ord::max((b - a).num_seconds(), 0);
            }
            let Some(next) = date.succ_opt() else { break };
            date = next;
        }
        seconds
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::HONG_KONG;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        HONG_KONG
            .with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| panic!("{y}-{m}-{d} {h}:00 is a time"))
    }

    #[test]
    fn weekends_and_holidays_do_not_count() {
        let c = Calendars::builtin();
        // Friday 2026-11-06 10:00 to Monday 2026-11-09 10:00: 14 h + 10 h.
        let s = c.working_seconds(Region::HongKong, at(2026, 11, 6, 10), at(2026, 11, 9, 10));
        assert_eq!(s, 24 * 3600);
        // Within one working day: the hours themselves.
        let s = c.working_seconds(Region::HongKong, at(2026, 11, 10, 9), at(2026, 11, 10, 17));
        assert_eq!(s, 8 * 3600);
        // Christmas Day (Friday 25 December 2026) is a Hong Kong holiday and the 26th a
        // Saturday: Thursday 24 09:00 to Monday 28 09:00 counts Thursday's 15 h and Monday's 9 h.
        let s = c.working_seconds(Region::HongKong, at(2026, 12, 24, 9), at(2026, 12, 28, 9));
        assert_eq!(s, 24 * 3600);
        assert_eq!(
            c.working_seconds(Region::HongKong, at(2026, 11, 9, 10), at(2026, 11, 6, 10)),
            0
        );
    }
}
