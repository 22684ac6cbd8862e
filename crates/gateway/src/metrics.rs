//! Prometheus metrics: requests, errors by code, transitions, latency. `/metrics` renders them.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the recorder once per process (later calls reuse it).
pub(crate) fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| match PrometheusBuilder::new().install_recorder() {
            Ok(h) => Some(h),
            Err(e) => {
                tracing::warn!(error = %e, "metrics recorder not installed");
                None
            }
        })
        .clone()
}

pub(crate) fn error(code: crate::codes::ErrorCode) {
    metrics::counter!("softland_errors_total", "code" => code.as_str()).increment(1);
}

pub(crate) fn transition(workflow: &str, state: &str, action: &str) {
    metrics::counter!("softland_transitions_total", "workflow" => workflow.to_owned(), "state" => state.to_owned(), "action" => action.to_owned()).increment(1);
}

pub(crate) fn request(seconds: f64, status: u16) {
    metrics::counter!("softland_http_requests_total", "status" => status.to_string()).increment(1);
    metrics::histogram!("softland_http_request_duration_seconds").record(seconds);
}

/// Open and overdue tasks by assignee, refreshed at each scrape.
pub(crate) fn tasks(counts: &[(String, u64, u64)]) {
    for (assignee, open, overdue) in counts {
        metrics::gauge!("softland_open_tasks", "assignee" => assignee.clone()).set(*open as f64);
        metrics::gauge!("softland_overdue_tasks", "assignee" => assignee.clone())
            .set(*overdue as f64);
    }
}

/// Days left until each region's holiday table ends (negative once it has), at each scrape:
/// alert well before zero — business-day due dates past the end are estimates.
pub(crate) fn calendar_coverage(calendars: &softland_workflow::Calendars) {
    let today = chrono::Utc::now().date_naive();
    for (name, region) in [
        ("hk", softland_workflow::Region::HongKong),
        ("mainland", softland_workflow::Region::Mainland),
    ] {
        if let Some(until) = calendars.covered_until(region) {
            metrics::gauge!("softland_calendar_coverage_days", "region" => name)
                .set((until - today).num_days() as f64);
        }
    }
}
