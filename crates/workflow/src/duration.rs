//! ISO 8601 durations (`P10D`, `PT48H`, `P1M2W`) and due times in calendar or business days.
//!
//! Business days count the working days of the assigned agency's region: Hong Kong general
//! holidays or mainland public holidays with their make-up working days. The holiday tables are
//! data: the bundled files (`crates/workflow/calendars/*.txt`) are the default, and an operator
//! can hand in newer ones ([`Calendars::from_texts`]) without a rebuild. Each table says up to
//! which day it is complete (`covers FROM TO`); a business-day due date past that day is counted
//! with weekends and the holidays the table does list, and marked as estimated
//! ([`BusinessCalendar::covers`]) — never computed silently.

use rustc_hash::FxHashMap;
use std::str::FromStr;

use chrono::{DateTime, Days, Duration, FixedOffset, Months, NaiveDate, Utc};

use crate::assignee::Assignee;

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
    pub(crate) text: String,
    pub(crate) why: &'static str,
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
#[derive(Debug, Clone)]
pub struct DuePeriod {
    /// As the definition wrote it; `None` for a count of days the engine works out (a reminder's
    /// lead, a paused clock's remainder), whose text is only made when asked for.
    pub(crate) text: Option<String>,
    pub(crate) period: Period,
    pub(crate) count: DayCount,
}

impl PartialEq for DuePeriod {
    fn eq(&self, other: &Self) -> bool {
        (self.period, self.count) == (other.period, other.count) && self.text() == other.text()
    }
}

impl Eq for DuePeriod {}

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
            text: Some(text.to_owned()),
            period,
            count,
        })
    }

    /// The ISO text, e.g. `P10D`.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        match &self.text {
            Some(t) => t.as_str().into(),
            None => format!("P{}D", self.period.days).into(),
        }
    }

    /// Calendar or business days.
    pub fn count(&self) -> DayCount {
        self.count
    }

    /// Its length in seconds when it has no years or months (a business day counts as a day,
    /// a business week as 5 days: for comparing periods of one count).
    pub fn fixed_seconds(&self) -> Option<u64> {
        let p = &self.period;
        (p.years == 0 && p.months == 0).then(|| {
            u64::from(self.whole_days()) * 86_400
                + u64::from(p.hours) * 3600
                + u64::from(p.minutes) * 60
                + u64::from(p.seconds)
        })
    }

    /// Its days and weeks as days (a business week is 5 days), ignoring any other part.
    pub fn whole_days(&self) -> u32 {
        let week = match self.count {
            DayCount::Business => 5,
            DayCount::Calendar => 7,
        };
        self.period
            .weeks
            .saturating_mul(week)
            .saturating_add(self.period.days)
    }

    /// `days` days counted as `count`.
    pub fn days(days: u32, count: DayCount) -> Self {
        Self {
            text: None,
            period: Period {
                days,
                ..Period::default()
            },
            count,
        }
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

    /// How many working days of `assignee` fall after `start`'s day, up to and including
    /// `until`'s day (0 when `until` is not after `start`): what a business-day period due at
    /// `until` has left at `start`.
    fn working_days_between(
        &self,
        start: DateTime<Utc>,
        until: DateTime<Utc>,
        assignee: &Assignee,
    ) -> u32;

    /// Whether the working days of `assignee` between `start` and `until` are all known (the
    /// holiday table covers them). A business-day due date that is not covered is an estimate.
    fn covers(&self, _start: DateTime<Utc>, _until: DateTime<Utc>, _assignee: &Assignee) -> bool {
        true
    }

    /// [`Self::due_at`], and whether that is an estimate: business days not all covered
    /// ([`Self::covers`]).
    fn due(
        &self,
        start: DateTime<Utc>,
        period: &DuePeriod,
        assignee: &Assignee,
    ) -> (DateTime<Utc>, bool) {
        let at = self.due_at(start, period, assignee);
        let estimated = period.count() == DayCount::Business && !self.covers(start, at, assignee);
        (at, estimated)
    }
}

/// A holiday region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    /// Hong Kong SAR general holidays.
    HongKong,
    /// Mainland China public holidays with make-up working days.
    Mainland,
}

/// Why a holiday table does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{table}, line {line}: {message}")]
pub struct CalendarError {
    /// Which table (`hk`, `mainland`).
    pub table: &'static str,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// The built-in Hong Kong and mainland calendars, with agency → region assignments.
///
/// Agencies default to Hong Kong; `ofds` (Shenzhen) is mainland. Applicants count Hong Kong days.
#[derive(Debug)]
pub struct Calendars {
    hk: Holidays,
    mainland: Holidays,
    /// Which region's days an agency counts: the built-in assignments, then the directory's
    /// (which may change while the server runs).
    regions: std::sync::RwLock<FxHashMap<String, Region>>,
}

impl Default for Calendars {
    fn default() -> Self {
        Self::builtin()
    }
}

/// The bundled Hong Kong table.
pub const BUNDLED_HK: &str = include_str!("../calendars/hk.txt");
/// The bundled mainland table.
pub const BUNDLED_MAINLAND: &str = include_str!("../calendars/mainland.txt");

/// Hong Kong and mainland time: both regions observe UTC+8 all year (no daylight saving). The
/// one definition of it: every crate shows and counts local time with this.
pub const HONG_KONG: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

fn local_offset() -> FixedOffset {
    HONG_KONG
}

impl Calendars {
    /// The bundled holiday tables (their `covers` lines say which years).
    pub fn builtin() -> Self {
        // The bundled tables are part of the build and parse (a unit test says so).
        Self::from_texts(BUNDLED_HK, BUNDLED_MAINLAND).unwrap_or_else(|_| Self {
            hk: Holidays::default(),
            mainland: Holidays::default(),
            regions: std::sync::RwLock::new(Self::default_regions()),
        })
    }

    /// Calendars from table texts (an operator's files, or the bundled ones).
    pub fn from_texts(hk: &str, mainland: &str) -> Result<Self, CalendarError> {
        Ok(Self {
            hk: Holidays::parse("hk", hk)?,
            mainland: Holidays::parse("mainland", mainland)?,
            regions: std::sync::RwLock::new(Self::default_regions()),
        })
    }

    fn default_regions() -> FxHashMap<String, Region> {
        FxHashMap::from_iter([("ofds".to_owned(), Region::Mainland)])
    }

    fn table(&self, region: Region) -> &Holidays {
        match region {
            Region::HongKong => &self.hk,
            Region::Mainland => &self.mainland,
        }
    }

    /// The last day `region`'s table is complete for.
    pub fn covered_until(&self, region: Region) -> Option<NaiveDate> {
        self.table(region).covered_until()
    }

    /// Assigns an agency to a region (the directory says where each agency works).
    pub fn set_region(&self, agency: impl Into<String>, region: Region) {
        self.regions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(agency.into(), region);
    }

    /// The region whose working days count for `assignee`.
    pub fn region_of(&self, assignee: &Assignee) -> Region {
        match assignee {
            Assignee::Applicant => Region::HongKong,
            // A hosting firm's days are its region's, where the directory says (by its key).
            Assignee::Agency(a) | Assignee::Host(a) => self
                .regions
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(a.strip_prefix("host:").unwrap_or(a))
                .copied()
                .unwrap_or(Region::HongKong),
        }
    }

    /// Whether `date` is a working day in `region`.
    pub fn is_working_day(&self, region: Region, date: NaiveDate) -> bool {
        self.table(region).is_working_day(date)
    }
}

/// The local day `t` falls on, as days from the common era. Both regions keep UTC+8 all
/// year, so a day is always 86,400 seconds: no date conversion needed.
fn local_day(t: DateTime<Utc>) -> i32 {
    /// 1970-01-01, in days from the common era.
    const UNIX_EPOCH: i64 = 719_163;
    let secs = t.timestamp() + i64::from(local_offset().local_minus_utc());
    // chrono's dates span ±262,143 years: their day numbers fit
    i32::try_from(secs.div_euclid(86_400) + UNIX_EPOCH).unwrap_or(i32::MAX)
}

/// `days` working days of `table` after `start`, at the same local time of day, and whether
/// the table covers both days.
fn working_days_on(table: &Holidays, start: DateTime<Utc>, days: u32) -> (DateTime<Utc>, bool) {
    let a = local_day(start);
    match table.nth_working_day_after(a, days) {
        Some(b) => (
            chrono::TimeDelta::try_days(i64::from(b - a))
                .and_then(|d| start.checked_add_signed(d))
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
            table.covers_day(a) && table.covers_day(b),
        ),
        None => (DateTime::<Utc>::MAX_UTC, false),
    }
}

impl BusinessCalendar for Calendars {
    fn covers(&self, start: DateTime<Utc>, until: DateTime<Utc>, assignee: &Assignee) -> bool {
        let table = self.table(self.region_of(assignee));
        table.covers_day(local_day(start)) && table.covers_day(local_day(until))
    }

    fn working_days_between(
        &self,
        start: DateTime<Utc>,
        until: DateTime<Utc>,
        assignee: &Assignee,
    ) -> u32 {
        self.table(self.region_of(assignee))
            .working_days_after(local_day(start), local_day(until))
    }

    fn due_at(&self, start: DateTime<Utc>, due: &DuePeriod, assignee: &Assignee) -> DateTime<Utc> {
        self.due(start, due, assignee).0
    }

    fn due(
        &self,
        start: DateTime<Utc>,
        due: &DuePeriod,
        assignee: &Assignee,
    ) -> (DateTime<Utc>, bool) {
        match due.count {
            DayCount::Calendar => (due.period.add_to(start), false),
            DayCount::Business => {
                let table = self.table(self.region_of(assignee));
                let (at, covered) = working_days_on(table, start, due.whole_days());
                (at, !covered)
            }
        }
    }
}

mod elapsed;
mod holidays;

use holidays::Holidays;

#[cfg(test)]
mod tests;
