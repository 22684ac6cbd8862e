//! A region's holiday table, and counting its working days.

use chrono::{Datelike, NaiveDate, Weekday};

use super::CalendarError;

/// Holidays and make-up working days, as sorted day numbers (binary search beats hashing here),
/// and the span the table is complete for.
#[derive(Debug, Default)]
pub(super) struct Holidays {
    off: Vec<i32>,
    on: Vec<i32>,
    /// The holidays that fall on a weekday and are not also listed as working days: each takes
    /// one working day away from a span of weekdays.
    off_weekdays: Vec<i32>,
    /// The make-up working days that fall on a weekend: each adds one.
    on_weekends: Vec<i32>,
    /// [`Self::working_days_through`] for each day from `first` on, across the days the two
    /// lists above span (up to [`MAX_SPAN_DAYS`]): one read instead of two binary searches.
    through: Vec<i64>,
    first: i32,
    /// The last day either list holds (`i32::MIN` when both are empty).
    last: i32,
    /// The days the table is complete for (`covers FROM TO`), as day numbers (days from the
    /// common era).
    covers: Option<(i32, i32)>,
}

/// The longest span of listed days counted ahead (about 30 years: 88 KiB). A table spanning
/// more is counted by binary search beyond it.
const MAX_SPAN_DAYS: i32 = 11_000;

impl Holidays {
    /// Parses a table: `covers YYYY-MM-DD YYYY-MM-DD` once, then `YYYY-MM-DD holiday|workday
    /// description` lines; `#` starts a comment. Anything else is an error at its line.
    pub(super) fn parse(table: &'static str, text: &str) -> Result<Self, CalendarError> {
        let mut h = Holidays::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |message: String| CalendarError {
                table,
                line: i + 1,
                message,
            };
            let date = |s: Option<&str>| {
                let s = s.unwrap_or_default();
                NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map_err(|_| err(format!("`{s}` is not a date (YYYY-MM-DD)")))
            };
            let mut parts = line.split_whitespace();
            let first = parts.next();
            if first == Some("covers") {
                let (from, to) = (date(parts.next())?, date(parts.next())?);
                if h.covers.is_some() || to < from {
                    return Err(err(
                        "one `covers FROM TO` line, with FROM before TO".to_owned()
                    ));
                }
                h.covers = Some((from.num_days_from_ce(), to.num_days_from_ce()));
                continue;
            }
            let day = date(first)?.num_days_from_ce();
            match parts.next() {
                Some("holiday") => h.off.push(day),
                Some("workday") => h.on.push(day),
                other => {
                    return Err(err(format!(
                        "`{}` is neither `holiday` nor `workday`",
                        other.unwrap_or_default()
                    )));
                }
            }
        }
        if h.covers.is_none() {
            return Err(CalendarError {
                table,
                line: 1,
                message: "the table needs a `covers FROM TO` line: the days it is complete for"
                    .to_owned(),
            });
        }
        h.off.sort_unstable();
        h.on.sort_unstable();
        h.off_weekdays = (h.off.iter().copied())
            .filter(|&d| is_weekday(d) && h.on.binary_search(&d).is_err())
            .collect();
        h.off_weekdays.dedup();
        h.on_weekends = h.on.iter().copied().filter(|&d| !is_weekday(d)).collect();
        h.on_weekends.dedup();
        let listed = || h.off_weekdays.iter().chain(&h.on_weekends).copied();
        h.last = listed().max().unwrap_or(i32::MIN);
        if let Some(first) = listed().min() {
            let end = h.last.min(first.saturating_add(MAX_SPAN_DAYS));
            h.through = (first..=end).map(|d| h.counted_through(d)).collect();
            h.first = first;
        }
        Ok(h)
    }

    /// Whether the table is complete for day `d` (days from the common era).
    pub(super) fn covers_day(&self, d: i32) -> bool {
        self.covers.is_some_and(|(from, to)| from <= d && d <= to)
    }

    /// The last day the table is complete for.
    pub(super) fn covered_until(&self) -> Option<NaiveDate> {
        NaiveDate::from_num_days_from_ce_opt(self.covers?.1)
    }

    pub(super) fn is_working_day(&self, d: NaiveDate) -> bool {
        let n = d.num_days_from_ce();
        if self.on.binary_search(&n).is_ok() {
            return true;
        }
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && self.off.binary_search(&n).is_err()
    }

    /// How many working days fall after day `a` up to and including day `b` (0 when `b` is
    /// not after `a`): the weekdays between them, less the weekday holidays, plus the weekend
    /// make-up days — by arithmetic and binary searches, not day by day.
    fn working_days_in(&self, a: i32, b: i32) -> i64 {
        if b <= a {
            return 0;
        }
        self.working_days_through(b) - self.working_days_through(a)
    }

    /// Working days from the first representable day through day `d`, less a constant: only
    /// differences mean anything. Before the first listed day and after the last no list
    /// needs searching.
    fn working_days_through(&self, d: i32) -> i64 {
        let counted = d
            .checked_sub(self.first)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.through.get(i));
        match counted {
            Some(n) => *n,
            None if d < self.first => weekdays_through(d),
            None if d > self.last => {
                weekdays_through(d) - self.off_weekdays.len() as i64 + self.on_weekends.len() as i64
            }
            // within a span longer than the table
            None => self.counted_through(d),
        }
    }

    /// [`Self::working_days_through`] by binary search of the lists.
    fn counted_through(&self, d: i32) -> i64 {
        let listed = |days: &[i32]| days.partition_point(|&x| x <= d) as i64;
        weekdays_through(d) - listed(&self.off_weekdays) + listed(&self.on_weekends)
    }

    /// [`Self::working_days_in`] for day numbers (days from the common era); at most
    /// `u32::MAX`.
    pub(super) fn working_days_after(&self, a: i32, b: i32) -> u32 {
        u32::try_from(self.working_days_in(a, b)).unwrap_or(u32::MAX)
    }

    /// The `n`th working day after `start` (`start` itself when `n` is 0); `None` past the
    /// last representable date.
    #[cfg(test)]
    fn add_working_days(&self, start: NaiveDate, n: u32) -> Option<NaiveDate> {
        let day = self.nth_working_day_after(start.num_days_from_ce(), n)?;
        NaiveDate::from_num_days_from_ce_opt(day)
    }

    /// The `n`th working day after day `a` (days from the common era; `a` itself when `n` is
    /// 0); `None` past the last representable date.
    pub(super) fn nth_working_day_after(&self, a: i32, n: u32) -> Option<i32> {
        let (last, n) = (i64::from(NaiveDate::MAX.num_days_from_ce()), i64::from(n));
        // Working days up to `b` must reach this.
        let target = self.working_days_through(a) + n;
        // Every day adds at most one working day: the answer is at least `n` days on, and from
        // a day short of the target by `k` it is at least `k` days further. Jumping by the
        // shortfall never passes the first day the count reaches the target — a working day,
        // the one sought.
        let mut b = i64::from(a) + n;
        loop {
            if b > last {
                return None;
            }
            let day = b as i32; // within NaiveDate's range, checked above
            let short = target - self.working_days_through(day);
            if short <= 0 {
                return Some(day);
            }
            b += short;
        }
    }
}

/// Whether day number `d` (days from the common era; day 1 was a Monday) is Monday to Friday.
fn is_weekday(d: i32) -> bool {
    (d - 1).rem_euclid(7) < 5
}

/// How many of days 1 to `d` are Monday to Friday (weeks start on day 1, a Monday); for `d`
/// before day 1, the same count going back (negative), so that differences hold everywhere.
fn weekdays_through(d: i32) -> i64 {
    let d = i64::from(d);
    5 * d.div_euclid(7) + d.rem_euclid(7).min(5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Day by day, as the rule reads (what the arithmetic replaced).
    fn one_day_at_a_time(h: &Holidays, start: NaiveDate, n: u32) -> Option<NaiveDate> {
        let (mut date, mut left) = (start, n);
        while left > 0 {
            date = date.succ_opt()?;
            if h.is_working_day(date) {
                left -= 1;
            }
        }
        Some(date)
    }

    fn counted_day_by_day(h: &Holidays, a: NaiveDate, b: NaiveDate) -> u32 {
        a.iter_days()
            .skip(1)
            .take_while(|d| *d <= b)
            .filter(|d| h.is_working_day(*d))
            .count() as u32
    }

    /// The bundled mainland table (holidays on weekdays and weekends, make-up Saturdays and
    /// Sundays), and a table whose entries clash: a day both a holiday and a working day (a
    /// working day), repeated lines, a holiday on a Sunday.
    fn tables() -> [Holidays; 3] {
        let clash = "covers 2026-01-01 2026-12-31\n2026-03-02 holiday x\n2026-03-02 workday x\n\
                     2026-03-03 holiday x\n2026-03-03 holiday x\n2026-03-08 holiday x\n\
                     2026-03-07 workday x\n2026-03-07 workday x\n";
        [
            Holidays::parse("mainland", crate::duration::BUNDLED_MAINLAND).unwrap(),
            Holidays::parse("hk", crate::duration::BUNDLED_HK).unwrap(),
            Holidays::parse("clash", clash).unwrap(),
        ]
    }

    proptest! {
        #[test]
        fn arithmetic_agrees_with_counting_day_by_day(
            table in 0usize..3,
            from in 737_000i32..740_500, // 2018 to 2028: the tables' years and around them
            n in 0u32..400,
            span in 0i32..500,
        ) {
            let h = &tables()[table];
            let start = NaiveDate::from_num_days_from_ce_opt(from).unwrap();
            prop_assert_eq!(h.add_working_days(start, n), one_day_at_a_time(h, start, n));
            let end = NaiveDate::from_num_days_from_ce_opt(from + span).unwrap();
            let days = |d: NaiveDate| d.num_days_from_ce();
            prop_assert_eq!(
                h.working_days_after(days(start), days(end)),
                counted_day_by_day(h, start, end)
            );
            prop_assert_eq!(h.working_days_after(days(end), days(start)), 0);
        }
    }

    /// A table whose listed days span more than is counted ahead: the days past the table and
    /// before the last listed day are counted by search.
    fn wide() -> Holidays {
        let text = "covers 2000-01-01 2060-12-31\n2000-01-03 holiday x\n2001-01-06 workday x\n\
                    2035-05-01 holiday x\n2048-03-07 workday x\n2059-06-02 holiday x\n";
        let h = Holidays::parse("wide", text).unwrap();
        assert_eq!(h.through.len(), MAX_SPAN_DAYS as usize + 1);
        h
    }

    proptest! {
        #[test]
        fn a_wide_table_counts_as_day_by_day(from in 730_000i32..752_000, n in 0u32..400) {
            let h = wide();
            let start = NaiveDate::from_num_days_from_ce_opt(from).unwrap();
            prop_assert_eq!(h.add_working_days(start, n), one_day_at_a_time(&h, start, n));
        }
    }

    #[test]
    fn the_last_dates_end_in_none() {
        let h = &tables()[0];
        assert_eq!(h.add_working_days(NaiveDate::MAX, 1), None);
        assert_eq!(h.add_working_days(NaiveDate::MAX, 0), Some(NaiveDate::MAX));
        let near = NaiveDate::MAX - chrono::Days::new(3);
        assert_eq!(h.add_working_days(near, 30), None);
        assert_eq!(
            h.add_working_days(NaiveDate::MIN, 3),
            one_day_at_a_time(h, NaiveDate::MIN, 3)
        );
    }
}
