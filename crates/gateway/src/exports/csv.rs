//! `applications.csv`: one row per application — RFC 4180 (CRLF, quoted where needed), UTF-8
//! with a byte-order mark so that Excel reads Chinese names, and a header row. Times are
//! RFC 3339 in Hong Kong time; lead time is in Hong Kong working days (submission to decision;
//! empty while open), waiting on the firm in calendar days (up to now while open).

use chrono::{DateTime, Utc};
use softland_store::Store;
use softland_store::reports::Case;
use softland_store::reports::measure::{self, DAY};

use super::{Format, Meta};

/// The header row.
pub const HEADER: [&str; 12] = [
    "reference",
    "workflow",
    "workflow_version",
    "organization",
    "organization_name",
    "region",
    "submitted_at",
    "status",
    "outcome",
    "decided_at",
    "lead_time_business_days",
    "waiting_on_firm_days",
];

/// The applications export.
pub(crate) struct Applications {
    store: Store,
    now: DateTime<Utc>,
}

impl Applications {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            now: Utc::now(),
        }
    }
}

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&softland_workflow::HONG_KONG).to_rfc3339()
}

/// Writes `record` as one CSV line onto `out`.
fn row<I, T>(out: &mut Vec<u8>, record: I)
where
    I: IntoIterator<Item = T>,
    T: AsRef<[u8]>,
{
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(out);
    // Writing into memory cannot fail.
    let _ = w.write_record(record);
    let _ = w.flush();
}

impl Format for Applications {
    const MEDIA_TYPE: &'static str = "text/csv; charset=utf-8; header=present";
    const EXTENSION: &'static str = "csv";

    fn head(&mut self, meta: &Meta, out: &mut Vec<u8>) {
        self.now = meta.made_at;
        out.extend_from_slice("\u{FEFF}".as_bytes());
        row(out, HEADER);
    }

    fn case(&mut self, _pass: usize, case: &Case, out: &mut Vec<u8>) {
        let lead = measure::lead(self.store.calendars(), case, self.now);
        let days = |s: i64| format!("{:.2}", s as f64 / DAY);
        row(
            out,
            [
                case.reference.clone(),
                case.workflow_key.clone(),
                case.workflow_version.to_string(),
                case.organization.clone(),
                case.organization_name.clone(),
                case.region.clone().unwrap_or_default(),
                local(case.submitted_at),
                super::status_name(case.status).to_owned(),
                case.outcome.clone().unwrap_or_default(),
                case.decided_at.map(local).unwrap_or_default(),
                case.decided_at
                    .map(|_| days(lead.whole.business))
                    .unwrap_or_default(),
                days(lead.waiting),
            ],
        );
    }

    fn tail(&mut self, _out: &mut Vec<u8>) {}
}
