//! How large a request's body may be: an upload (a multipart request to `/graphql`, or to the
//! console's `/uploads`) up to the upload limit, everything else 1 MiB (`Settings::max_body`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::State;
use axum::http::{Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::BodyExt;

use crate::codes::ErrorCode;
use crate::error::refuse;

/// The largest bodies: a multipart request to `/graphql` or to the console's
/// `/uploads` (an upload) may carry `upload` bytes; every other request `body`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimits {
    pub body: usize,
    pub upload: usize,
}

/// Set when a request's body went past its limit while being read (a streamed body that
/// declared no length), so that a handler answers `413` whatever its body parser made of the
/// read error.
#[derive(Debug, Clone, Default)]
pub(crate) struct BodyCut(Arc<AtomicBool>);

impl BodyCut {
    /// Whether the body was cut off at the limit.
    pub(crate) fn happened(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Caps each request's body: refused at once when `Content-Length` says it is too large, cut
/// off (`413`) when a streamed body goes past the limit.
pub(crate) async fn limit_body(
    State(limits): State<BodyLimits>,
    request: Request<axum::body::Body>,
    next: Next,
) -> Response {
    let upload = matches!(request.uri().path(), "/graphql" | "/uploads")
        && request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("multipart/form-data"));
    let limit = if upload { limits.upload } else { limits.body };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            "the request body is too large",
        );
    }
    let cut = BodyCut::default();
    let (mut parts, body) = request.into_parts();
    parts.extensions.insert(cut.clone());
    let body = http_body_util::Limited::new(body, limit).map_err(move |e| {
        if e.is::<http_body_util::LengthLimitError>() {
            cut.0.store(true, Ordering::Relaxed);
        }
        e
    });
    next.run(Request::from_parts(parts, axum::body::Body::new(body)))
        .await
}
