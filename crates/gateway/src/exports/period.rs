//! A report's period as people give it: `from` and `to` dates (both days included, Hong Kong
//! time) and `by=submission|decision`.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;
use softland_store::reports::{CaseQuery, PeriodBy};

/// The longest period asked at once (ten years).
pub const MOST_DAYS: i64 = 3660;

/// A period as asked.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PeriodAsked {
    pub from: Option<String>,
    pub to: Option<String>,
    pub by: Option<String>,
}

/// A period, read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Period {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub by: PeriodBy,
}

/// Midnight of `day` in Hong Kong.
fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(softland_workflow::HONG_KONG).single())
        .map_or(DateTime::<Utc>::MIN_UTC, |t| t.with_timezone(&Utc))
}

impl PeriodAsked {
    /// The period; without dates, the last 90 days up to today.
    pub fn read(&self, today: NaiveDate) -> Result<Period, &'static str> {
        let date = |given: &Option<String>| -> Result<Option<NaiveDate>, &'static str> {
            match given.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                None => Ok(None),
                Some(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| "`from` and `to` are dates like 2026-10-01"),
            }
        };
        let last_day = date(&self.to)?.unwrap_or(today);
        let first_day = date(&self.from)?.unwrap_or(last_day - Duration::days(89));
        if first_day > last_day {
            return Err("`from` is after `to`");
        }
        if (last_day - first_day).num_days() >= MOST_DAYS {
            return Err("a period is at most ten years");
        }
        let by = match self.by.as_deref().map(str::trim) {
            None | Some("") | Some("submission") => PeriodBy::Submission,
            Some("decision") => PeriodBy::Decision,
            Some(_) => return Err("`by` is `submission` or `decision`"),
        };
        Ok(Period {
            first_day,
            last_day,
            by,
        })
    }
}

impl Period {
    /// The applications of the period, unfiltered.
    pub fn query(&self) -> CaseQuery {
        CaseQuery {
            by: self.by,
            ..CaseQuery::submitted(
                midnight(self.first_day),
                midnight(self.last_day + Duration::days(1)),
            )
        }
    }

    /// `2026-10-01/2026-12-31` (ISO 8601's interval of dates).
    pub fn label(&self) -> String {
        format!("{}/{}", self.first_day, self.last_day)
    }

    /// `submission` or `decision`.
    pub fn by_name(&self) -> &'static str {
        match self.by {
            PeriodBy::Submission => "submission",
            PeriodBy::Decision => "decision",
        }
    }
}

/// Today in Hong Kong.
pub(crate) fn today() -> NaiveDate {
    Utc::now()
        .with_timezone(&softland_workflow::HONG_KONG)
        .date_naive()
}
