//! `GET /audit/export?from=…&to=…`: the audit trail as JSON lines, for administrators — the
//! console's download, the same lines as `softland audit-export`: every application event,
//! then what people did (`"type": "action"`), with `from <= at < to`. Either bound is an
//! RFC 3339 time or a date (midnight, Hong Kong time); the default is the last 30 days. The
//! answer is at most [`MOST_BYTES`]: a longer range is refused with its code, to be narrowed or
//! exported with the command line.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;

use crate::codes::ErrorCode;
use crate::downloads::DownloadState;
use crate::error::refuse;

/// The largest export answered over HTTP.
pub const MOST_BYTES: usize = 64 * 1024 * 1024;

/// The range asked for.
#[derive(Debug, Deserialize)]
pub(crate) struct Range {
    from: Option<String>,
    to: Option<String>,
}

/// An RFC 3339 time, or a date at midnight in Hong Kong.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    day.and_hms_opt(0, 0, 0)?
        .and_local_timezone(softland_workflow::HONG_KONG)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// A `Write` that refuses to grow past [`MOST_BYTES`] (and remembers that it did).
struct Bounded(Vec<u8>, bool);

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MOST_BYTES {
            self.1 = true;
            return Err(std::io::Error::other("too large"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `GET /audit/export`.
pub(crate) async fn export(
    State(s): State<DownloadState>,
    Query(range): Query<Range>,
    headers: HeaderMap,
) -> Response {
    let caller = match crate::downloads::reader(&s.auth, &headers).await {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    if caller.require_admin().is_err() {
        return refuse(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "only administrators export the audit trail",
        );
    }
    let now = Utc::now();
    let bound = |given: &Option<String>, default: DateTime<Utc>| match given
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        None => Some(default),
        Some(t) => parse_time(t),
    };
    let (Some(from), Some(to)) = (
        bound(&range.from, now - Duration::days(30)),
        bound(&range.to, now + Duration::seconds(1)),
    ) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "`from` and `to` are RFC 3339 times or dates like 2026-12-01",
        );
    };
    let mut out = Bounded(Vec::new(), false);
    let written = async {
        s.store.audit_export(from, to, &mut out).await?;
        s.store.export_people_actions(from, to, &mut out).await
    }
    .await;
    match written {
        Ok(_) => {}
        Err(_) if out.1 => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::LimitExceeded,
                "the range holds more than 64 MiB: narrow it, or use `softland audit-export`",
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot export the audit trail");
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Internal,
                "the audit trail cannot be read right now; try again shortly",
            );
        }
    }
    let name = format!(
        "attachment; filename=\"softland-audit-{}-{}.jsonl\"",
        from.format("%Y%m%d"),
        to.format("%Y%m%d")
    );
    let mut response = (StatusCode::OK, out.0).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jsonl; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
