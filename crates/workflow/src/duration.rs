//! ISO 8601 durations (`P10D`, `PT48H`, `P1M2W`) and due times in calendar or business days.
//!
//! Business days count the working days of the assigned agency's region: Hong Kong general
//! holidays or mainland public holidays with their make-up working days. The holiday tables are
//! data files (`crates/workflow/calendars/*.txt`) compiled into the crate: no I/O at run time.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Days, Duration, FixedOffset, Months, NaiveDate, Utc, Weekday};

use crate::model::Assignee;

/// A parsed ISO 8601 duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Period {
    /// Years.
    pub years: u32,
    /// Months.
    pub months: u32,
    /// Weeks.
    pub weeks: u32,
    /// Days.
    pub days: u32,
    /// Hours.
    pub hours: u32,
    /// Minutes.
    pub minutes: u32,
    /// Seconds.
    pub seconds: u32,
}

/// Why a duration did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not an ISO 8601 duration ({why}); write e.g. `P10D`, `P2W` or `PT48H`")]
pub struct PeriodError {
    text: String,
    why: &'static str,
}

impl FromStr for Period {
    type Err = PeriodError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = |why| PeriodError {
            text: text.to_owned(),
            why,
        };
        let rest = text
            .strip_prefix('P')
            .ok_or_else(|| err("it must start with `P`"))?;
        if rest.is_empty() || rest == "T" {
            return Err(err("it has no amount"));
        }
        let mut p = Period::default();
        let mut in_time = false;
        let mut number = String::new();
        let mut last_rank = 0;
        for c in rest.chars() {
            if c == 'T' {
                if in_time || !number.is_empty() {
                    return Err(err("misplaced `T`"));
                }
                in_time = true;
                continue;
            }
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            if number.is_empty() {
                return Err(err("a unit without a number"));
            }
            let n: u32 = number.parse().map_err(|_| err("a number is too large"))?;
            number.clear();
            let (slot, rank) = match (in_time, c) {
                (false, 'Y') => (&mut p.years, 1),
                (false, 'M') => (&mut p.months, 2),
                (false, 'W') => (&mut p.weeks, 3),
                (false, 'D') => (&mut p.days, 4),
                (true, 'H') => (&mut p.hours, 5),
                (true, 'M') => (&mut p.minutes, 6),
                (true, 'S') => (&mut p.seconds, 7),
                _ => return Err(err("unknown unit (use Y M W D, and H M S after T)")),
            };
            if rank <= last_rank {
                return Err(err("units out of order or repeated"));
            }
            last_rank = rank;
            *slot = n;
        }
        if !number.is_empty() {
            return Err(err("a number without a unit"));
        }
        if in_time && last_rank < 5 {
            return Err(err("`T` without hours, minutes or seconds"));
        }
        Ok(p)
    }
}

impl Period {
    fn has_time(&self) -> bool {
        self.hours + self.minutes + self.seconds > 0
    }

    /// Adds the period to `start` on the calendar.
    pub fn add_to(&self, start: DateTime<Utc>) -> DateTime<Utc> {
        let months = self.years.saturating_mul(12).saturating_add(self.months);
        let days = u64::from(self.weeks) * 7 + u64::from(self.days);
        let secs =
            i64::from(self.hours) * 3600 + i64::from(self.minutes) * 60 + i64::from(self.seconds);
        start
            .checked_add_months(Months::new(months))
            .and_then(|t| t.checked_add_days(Days::new(days)))
            .and_then(|t| t.checked_add_signed(Duration::seconds(secs)))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// Calendar days or working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayCount {
    /// Every day counts.
    Calendar,
    /// Only working days of the assignee's region count.
    Business,
}

/// A due period: a duration counted in calendar or business days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuePeriod {
    pub(crate) text: String,
    pub(crate) period: Period,
    pub(crate) count: DayCount,
}

impl DuePeriod {
    /// Parses `P10D` etc.; business days allow only whole days and weeks (a week = 5 working days).
    pub fn parse(text: &str, count: DayCount) -> Result<Self, PeriodError> {
        let period: Period = text.parse()?;
        if count == DayCount::Business
            && (period.years > 0 || period.months > 0 || period.has_time())
        {
            return Err(PeriodError {
                text: text.to_owned(),
                why: "business days take only days and weeks",
            });
        }
        Ok(Self {
            text: text.to_owned(),
            period,
            count,
        })
    }

    /// The ISO text, e.g. `P10D`.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Calendar or business days.
    pub fn count(&self) -> DayCount {
        self.count
    }
}

/// Working-day rules, by region.
pub trait BusinessCalendar {
    /// When a task opened at `start` for `assignee` falls due.
    fn due_at(
        &self,
        start: DateTime<Utc>,
        period: &DuePeriod,
        assignee: &Assignee,
    ) -> DateTime<Utc>;
}

/// A holiday region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    /// Hong Kong SAR general holidays.
    HongKong,
    /// Mainland China public holidays with make-up working days.
    Mainland,
}

/// Holidays and make-up working days, as sorted day numbers (binary search beats hashing here).
#[derive(Debug, Default)]
struct Holidays {
    off: Vec<i32>,
    on: Vec<i32>,
}

impl Holidays {
    fn parse(text: &str) -> Self {
        let mut h = Holidays::default();
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let mut parts = line.split_whitespace();
            let (Some(date), Some(kind)) = (parts.next(), parts.next()) else {
                continue;
            };
            let Ok(date) = NaiveDate::parse_from_str(date, "%Y-%m-%d") else {
                continue;
            };
            match kind {
                "holiday" => h.off.push(date.num_days_from_ce()),
                "workday" => h.on.push(date.num_days_from_ce()),
                _ => {}
            }
        }
        h.off.sort_unstable();
        h.on.sort_unstable();
        h
    }

    fn is_working_day(&self, d: NaiveDate) -> bool {
        let n = d.num_days_from_ce();
        if self.on.binary_search(&n).is_ok() {
            return true;
        }
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && self.off.binary_search(&n).is_err()
    }
}

/// The built-in Hong Kong and mainland calendars, with agency → region assignments.
///
/// Agencies default to Hong Kong; `ofds` (Shenzhen) is mainland. Applicants count Hong Kong days.
#[derive(Debug)]
pub struct Calendars {
    hk: Holidays,
    mainland: Holidays,
    regions: HashMap<String, Region>,
}

impl Default for Calendars {
    fn default() -> Self {
        Self::builtin()
    }
}

/// Both regions observe UTC+8 all year.
const UTC8: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

fn local_offset() -> FixedOffset {
    UTC8
}

impl Calendars {
    /// The bundled 2026–2027 holiday tables.
    pub fn builtin() -> Self {
        let mut regions = HashMap::new();
        regions.insert("ofds".to_owned(), Region::Mainland);
        Self {
            hk: Holidays::parse(include_str!("../calendars/hk.txt")),
            mainland: Holidays::parse(include_str!("../calendars/mainland.txt")),
            regions,
        }
    }

    /// Assigns an agency to a region (agencies are configuration).
    pub fn set_region(&mut self, agency: impl Into<String>, region: Region) {
        self.regions.insert(agency.into(), region);
    }

    /// The region whose working days count for `assignee`.
    pub fn region_of(&self, assignee: &Assignee) -> Region {
        match assignee {
            Assignee::Applicant => Region::HongKong,
            Assignee::Agency(a) => self.regions.get(a).copied().unwrap_or(Region::HongKong),
        }
    }

    /// Whether `date` is a working day in `region`.
    pub fn is_working_day(&self, region: Region, date: NaiveDate) -> bool {
        match region {
            Region::HongKong => self.hk.is_working_day(date),
            Region::Mainland => self.mainland.is_working_day(date),
        }
    }
}

impl BusinessCalendar for Calendars {
    fn due_at(&self, start: DateTime<Utc>, due: &DuePeriod, assignee: &Assignee) -> DateTime<Utc> {
        match due.count {
            DayCount::Calendar => due.period.add_to(start),
            DayCount::Business => {
                let region = self.region_of(assignee);
                let local = start.with_timezone(&local_offset());
                let mut date = local.date_naive();
                let mut left = due.period.weeks * 5 + due.period.days;
                while left > 0 {
                    let Some(next) = date.succ_opt() else {
                        return DateTime::<Utc>::MAX_UTC;
                    };
                    date = next;
                    if self.is_working_day(region, date) {
                        left -= 1;
                    }
                }
                date.and_time(local.time())
                    .and_local_timezone(local_offset())
                    .single()
                    .map_or(DateTime::<Utc>::MAX_UTC, |t| t.with_timezone(&Utc))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("valid timestamp")
    }

    #[test]
    fn parses_iso_durations() {
        assert_eq!("P10D".parse::<Period>().map(|p| p.days), Ok(10));
        let p: Period = "P1Y2M3W4DT5H6M7S".parse().expect("full form");
        assert_eq!(
            (
                p.years, p.months, p.weeks, p.days, p.hours, p.minutes, p.seconds
            ),
            (1, 2, 3, 4, 5, 6, 7)
        );
        for bad in [
            "10D", "P", "PT", "P1H", "PD", "P1D2", "P2D1Y", "P1DT", "PxD",
        ] {
            assert!(bad.parse::<Period>().is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn business_days_take_days_only() {
        assert!(DuePeriod::parse("P1M", DayCount::Business).is_err());
        assert!(DuePeriod::parse("PT4H", DayCount::Business).is_err());
        assert!(DuePeriod::parse("P2W", DayCount::Business).is_ok());
    }

    #[test]
    fn calendar_days_add_plainly() {
        let due = DuePeriod::parse("P10D", DayCount::Calendar).expect("valid");
        let c = Calendars::builtin();
        let t = c.due_at(
            at("2026-02-13T02:00:00Z"),
            &due,
            &Assignee::Agency("hkstp".into()),
        );
        assert_eq!(t, at("2026-02-23T02:00:00Z"));
    }

    #[test]
    fn business_days_skip_hong_kong_lunar_new_year() {
        // Friday 13 Feb 2026 (HKT 10:00). Working days after: Mon 16, Fri 20, Mon 23 (17-19 are holidays).
        let due = DuePeriod::parse("P3D", DayCount::Business).expect("valid");
        let c = Calendars::builtin();
        let t = c.due_at(
            at("2026-02-13T02:00:00Z"),
            &due,
            &Assignee::Agency("hkstp".into()),
        );
        assert_eq!(t, at("2026-02-23T02:00:00Z"));
    }

    #[test]
    fn business_days_follow_mainland_make_up_days() {
        // Friday 13 Feb 2026. Mainland: Sat 14 is a make-up working day, 15-23 are holidays.
        let due = DuePeriod::parse("P2D", DayCount::Business).expect("valid");
        let c = Calendars::builtin();
        let t = c.due_at(
            at("2026-02-13T02:00:00Z"),
            &due,
            &Assignee::Agency("ofds".into()),
        );
        assert_eq!(t, at("2026-02-24T02:00:00Z"));
    }
}
