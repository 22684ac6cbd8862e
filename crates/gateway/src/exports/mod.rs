//! The programme's exports (issue "Oversight", a fixed contract), for observers and
//! administrators, authenticated like the API (bearer token or console session):
//!
//! - `GET /reports/applications.csv` — one row per application ([`csv`]);
//! - `GET /reports/event-log.xes` — the event log in XES, IEEE 1849 ([`xes`]);
//! - `GET /reports/event-log.jsonocel` — the same as OCEL 2.0 JSON ([`ocel`]).
//!
//! Each takes `from` and `to` (dates, Hong Kong time, both days included), and optionally
//! `workflow`, `region`, `outcome` and `by=submission|decision`. The answer is streamed a page
//! of applications at a time, so its size does not grow the server's memory; its headers (and
//! the XES log's and OCEL document's own metadata) say the period, the filters, when it was
//! made and the head of the audit log then (`X-Softland-Audit-Head: <event id>:<hash>`), so a
//! figure can be traced back to the entries it was made from.

mod csv;
mod ocel;
pub(crate) mod period;
mod xes;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures_util::stream;
use serde::Deserialize;
use softland_store::Store;
use softland_store::reports::AuditHead;
use softland_store::reports::{Case, CaseCursor, CaseQuery, PAGE};

use crate::codes::ErrorCode;
use crate::downloads::DownloadState;
use crate::error::refuse;
use period::{Period, PeriodAsked};

/// A status as exports write it.
fn status_name(s: softland_workflow::Status) -> &'static str {
    match s {
        softland_workflow::Status::Active => "active",
        softland_workflow::Status::Completed => "completed",
        softland_workflow::Status::Withdrawn => "withdrawn",
    }
}

/// What an export states about itself.
pub(crate) struct Meta {
    pub period: Period,
    pub query: CaseQuery,
    pub made_at: DateTime<Utc>,
    pub head: Option<AuditHead>,
}

impl Meta {
    /// `period=…; by=…; workflow=…` — what was asked, in one line.
    fn filters(&self) -> String {
        let mut parts = vec![format!("by={}", self.period.by_name())];
        for (name, value) in [
            ("workflow", &self.query.workflow_key),
            ("region", &self.query.region),
            ("outcome", &self.query.outcome),
            ("overseen-by", &self.query.overseen_by),
        ] {
            if let Some(v) = value {
                parts.push(format!("{name}={v}"));
            }
        }
        parts.join("; ")
    }

    /// `<event id>:<hash>`, or `none` before the first entry.
    fn head(&self) -> String {
        self.head
            .as_ref()
            .map_or_else(|| "none".to_owned(), |h| format!("{}:{}", h.event, h.hash))
    }
}

/// One export format: a head, one or more passes over the cases, a tail.
pub(crate) trait Format: Send + 'static {
    /// The media type answered.
    const MEDIA_TYPE: &'static str;
    /// The file name's extension.
    const EXTENSION: &'static str;
    /// How many passes over the cases it makes.
    const PASSES: usize = 1;
    /// What comes first.
    fn head(&mut self, meta: &Meta, out: &mut Vec<u8>);
    /// What comes between pass `pass` and the next.
    fn between(&mut self, _pass: usize, _out: &mut Vec<u8>) {}
    /// One case, in pass `pass`.
    fn case(&mut self, pass: usize, case: &Case, out: &mut Vec<u8>);
    /// What comes last.
    fn tail(&mut self, out: &mut Vec<u8>);
}

enum Stage {
    Head,
    Pass(usize, Option<CaseCursor>),
    Tail,
    Done,
}

/// The export as a stream of pages.
fn body<F: Format>(store: Store, meta: Meta, format: F) -> Body {
    let state = (store, meta, format, Stage::Head);
    let pages = stream::unfold(state, |(store, meta, mut format, stage)| async move {
        let mut out = Vec::new();
        let next = match stage {
            Stage::Done => return None,
            Stage::Head => {
                format.head(&meta, &mut out);
                Stage::Pass(0, None)
            }
            Stage::Pass(pass, after) => match store.cases(&meta.query, after, PAGE).await {
                Ok((cases, more)) => {
                    for case in cases {
                        format.case(pass, &case.as_of(meta.made_at), &mut out);
                    }
                    match more {
                        Some(cursor) => Stage::Pass(pass, Some(cursor)),
                        None if pass + 1 < F::PASSES => {
                            format.between(pass, &mut out);
                            Stage::Pass(pass + 1, None)
                        }
                        None => Stage::Tail,
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "an export stopped: the store failed");
                    let failed = std::io::Error::other("the export stopped; try again");
                    return Some((Err(failed), (store, meta, format, Stage::Done)));
                }
            },
            Stage::Tail => {
                format.tail(&mut out);
                Stage::Done
            }
        };
        Some((Ok(Bytes::from(out)), (store, meta, format, next)))
    });
    Body::from_stream(pages)
}

/// An export's query: the period and the filters.
#[derive(Debug, Deserialize)]
pub(crate) struct Asked {
    #[serde(flatten)]
    period: PeriodAsked,
    workflow: Option<String>,
    region: Option<String>,
    outcome: Option<String>,
}

/// Answers one export: the caller may read reports, the query is sound, then the stream.
async fn export<F: Format>(
    s: DownloadState,
    asked: Asked,
    headers: HeaderMap,
    format: F,
) -> Response {
    let caller = match crate::downloads::reader(&s.auth, &headers).await {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let scope = match caller.report_scope() {
        Ok(scope) => scope,
        Err(_) => {
            return refuse(
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                "exports are for the programme's observers and administrators",
            );
        }
    };
    let period = match asked.period.read(period::today()) {
        Ok(p) => p,
        Err(why) => return refuse(StatusCode::BAD_REQUEST, ErrorCode::BadUserInput, why),
    };
    let trimmed = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let query = CaseQuery {
        workflow_key: trimmed(asked.workflow),
        region: trimmed(asked.region),
        outcome: trimmed(asked.outcome),
        overseen_by: scope.overseen_by().map(str::to_owned),
        ..period.query()
    };
    if [&query.workflow_key, &query.region, &query.outcome]
        .iter()
        .any(|v| v.as_ref().is_some_and(|v| v.len() > 100))
    {
        return refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "a filter is at most 100 characters",
        );
    }
    let head = match s.store.audit_head().await {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the audit log's head");
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Internal,
                "the export cannot be made right now; try again shortly",
            );
        }
    };
    let made_at = Utc::now();
    // Applications submitted later are not in it (both passes of a two-pass export agree).
    let query = CaseQuery {
        to: Ord::min(query.to, made_at + chrono::Duration::seconds(1)),
        ..query
    };
    let meta = Meta {
        period,
        query,
        made_at,
        head,
    };
    let mut headers = HeaderMap::new();
    let name = format!(
        "attachment; filename=\"softland-{}-{}.{}\"",
        meta.period.first_day.format("%Y%m%d"),
        meta.period.last_day.format("%Y%m%d"),
        F::EXTENSION
    );
    let said = [
        (header::CONTENT_TYPE.as_str(), F::MEDIA_TYPE.to_owned()),
        (header::CONTENT_DISPOSITION.as_str(), name),
        (
            header::CACHE_CONTROL.as_str(),
            "private, no-store".to_owned(),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS.as_str(),
            "nosniff".to_owned(),
        ),
        ("x-softland-period", meta.period.label()),
        ("x-softland-filters", meta.filters()),
        ("x-softland-made-at", meta.made_at.to_rfc3339()),
        ("x-softland-audit-head", meta.head()),
    ];
    for (name, value) in said {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    (StatusCode::OK, headers, body(s.store.clone(), meta, format)).into_response()
}

/// `GET /reports/applications.csv`.
pub(crate) async fn applications_csv(
    State(s): State<DownloadState>,
    Query(asked): Query<Asked>,
    headers: HeaderMap,
) -> Response {
    let store = s.store.clone();
    export(s, asked, headers, csv::Applications::new(store)).await
}

/// `GET /reports/event-log.xes`.
pub(crate) async fn event_log_xes(
    State(s): State<DownloadState>,
    Query(asked): Query<Asked>,
    headers: HeaderMap,
) -> Response {
    export(s, asked, headers, xes::EventLog).await
}

/// `GET /reports/event-log.jsonocel`.
pub(crate) async fn event_log_ocel(
    State(s): State<DownloadState>,
    Query(asked): Query<Asked>,
    headers: HeaderMap,
) -> Response {
    export(s, asked, headers, ocel::EventLog::default()).await
}
