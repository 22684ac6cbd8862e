//! The span of each HTTP request: what OpenTelemetry's HTTP and GraphQL conventions name
//! (`http.request.method`, `url.path`, `http.response.status_code`, `graphql.operation.*`),
//! the `x-request-id`, and the trace id that the log lines inside it carry. A caller's W3C
//! `traceparent` makes it part of the caller's trace.

use std::time::Duration;

use axum::http::{HeaderMap, Request, Response};
use tower_http::trace::{DefaultOnResponse, OnResponse};
use tracing::Span;
use tracing::field::Empty;

/// The longest path recorded on a span (the log line and the trace need no more to find it).
const MAX_PATH: usize = 200;

/// The span a request runs in (tower-http's `TraceLayer` enters it).
pub(crate) fn request_span<B>(req: &Request<B>) -> Span {
    let headers = req.headers();
    let method = req.method().as_str();
    let path = req.uri().path();
    let path = path.get(..MAX_PATH).unwrap_or(path);
    let span = tracing::info_span!(
        "request",
        otel.name = %format!("{method} {}", route(path)).trim_end(),
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = %method,
        url.path = %path,
        http.response.status_code = Empty,
        request_id = header(headers, "x-request-id").unwrap_or("-"),
        trace_id = Empty,
        graphql.operation.name = Empty,
        graphql.operation.type = Empty,
        // Recorded by the store when a command of the request changes an application.
        application.id = Empty,
    );
    softland_telemetry::follow_caller(
        &span,
        header(headers, "traceparent"),
        header(headers, "tracestate"),
    );
    softland_telemetry::record_trace_id(&span);
    span
}

/// Records the response's status on the request's span (server errors mark the span failed);
/// with `RUST_LOG=tower_http=debug`, a line for each request (its status and latency).
pub(crate) fn on_response<B>(res: &Response<B>, latency: Duration, span: &Span) {
    DefaultOnResponse::new().on_response(res, latency, span);
    let status = res.status();
    span.record("http.response.status_code", status.as_u16());
    if status.is_server_error() {
        span.record("otel.status_code", "error");
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The route a path took, as few names as there are routes (a span's name must not carry ids):
/// the console's pages are all "".
fn route(path: &str) -> &'static str {
    match path {
        "/graphql" => "/graphql",
        "/graphql/ws" => "/graphql/ws",
        "/auth/login" => "/auth/login",
        "/auth/callback" => "/auth/callback",
        "/auth/session" => "/auth/session",
        "/auth/logout" => "/auth/logout",
        "/healthz" => "/healthz",
        "/readyz" => "/readyz",
        "/metrics" => "/metrics",
        p if p.starts_with("/documents/") => "/documents/{id}",
        p if p.starts_with("/graphiql/") => "/graphiql/{file}",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_names_carry_no_ids() {
        assert_eq!(route("/documents/0193-abc"), "/documents/{id}");
        assert_eq!(route("/applications/0193-abc"), "");
        assert_eq!(route("/graphql"), "/graphql");
    }
}
