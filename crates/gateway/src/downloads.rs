//! `GET /documents/{id}`: a document's content, to whoever may read it (the policy's
//! `sees_document`) — with the same bearer token as the API or the console's session cookie.
//! Anyone else, and any id that names nothing, gets the same `404`. The answer carries the
//! stored media type (checked against the content at upload), `X-Content-Type-Options:
//! nosniff` and a Content-Security-Policy under which an uploaded document could run nothing.
//! PDFs and raster images open in the browser for reading (`Content-Disposition: inline`);
//! everything else — HTML, SVG, office files — downloads (`attachment`).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use softland_store::Store;

use crate::authn::{Authenticator, Refusal};
use crate::codes::ErrorCode;
use crate::error::refuse;
use crate::graphql::Documents;

/// What the download route needs.
#[derive(Debug, Clone)]
pub(crate) struct DownloadState {
    pub store: Store,
    pub auth: Authenticator,
    pub documents: Documents,
}

fn not_found() -> Response {
    refuse(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        "document not found",
    )
}

fn unavailable() -> Response {
    refuse(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal,
        "the document cannot be read right now; try again shortly",
    )
}

/// Media types a browser shows for reading without running anything of the document's: PDFs
/// (in the browser's PDF viewer) and the raster images softland accepts. Never HTML or SVG.
const READ_INLINE: [&str; 3] = ["application/pdf", "image/png", "image/jpeg"];

/// The Content-Security-Policy of a document: nothing may run or load. Raster images are
/// shown in a sandbox; a PDF cannot be (browsers refuse to start their PDF viewer in a
/// sandboxed document), so it may embed itself (`object-src 'self'`) and nothing else.
fn policy(media_type: &str) -> HeaderValue {
    HeaderValue::from_static(match media_type {
        "application/pdf" => {
            "default-src 'none'; object-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'; form-action 'none'; base-uri 'none'"
        }
        m if m.starts_with("image/") && READ_INLINE.contains(&m) => {
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
        }
        _ => "default-src 'none'; sandbox",
    })
}

/// `filename*=UTF-8''…`: the name percent-encoded, so any name is a safe header; `inline` for
/// what browsers show for reading (see [`READ_INLINE`]), else `attachment`.
fn disposition(filename: &str, media_type: &str) -> HeaderValue {
    let kind = if READ_INLINE.contains(&media_type) {
        "inline"
    } else {
        "attachment"
    };
    let mut encoded = String::new();
    for b in filename.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    HeaderValue::from_str(&format!("{kind}; filename*=UTF-8''{encoded}"))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// Who reads a file-like answer (a document, the audit export): the API's bearer token or the
/// console's session cookie — else the refusal to answer with (401, or 503 when the store is
/// unavailable), before any work is done for the caller.
pub(crate) async fn reader(
    auth: &crate::authn::Authenticator,
    headers: &HeaderMap,
) -> Result<softland_policy::Principal, Response> {
    match auth.reader(headers).await {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(refuse(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "missing or invalid credentials: send `Authorization: Bearer <token>`",
        )),
        Err(Refusal::Unreachable) => Err(refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            "the database is out of reach for a moment; try again",
        )),
        Err(Refusal::Unavailable | Refusal::NoCsrf) => Err(unavailable()),
    }
}

/// `GET /documents/{id}`.
pub(crate) async fn download(
    State(s): State<DownloadState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let caller = match reader(&s.auth, &headers).await {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return not_found();
    };
    let doc = match s.store.document(id).await {
        Ok(Some(d)) => d,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read a document's record");
            return unavailable();
        }
    };
    match caller.sees_document(&s.store, &doc).await {
        Ok(true) => {}
        Ok(false) => return not_found(),
        Err(_) => return unavailable(),
    }
    if doc.erased_at.is_some() {
        return refuse(
            StatusCode::GONE,
            ErrorCode::NotFound,
            "this document's content was erased",
        );
    }
    let chunks = match s.documents.storage.get(&doc.sha256).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            tracing::error!(document = %doc.id, sha256 = doc.sha256, "a document's content is missing");
            return unavailable();
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot read a document's content");
            return unavailable();
        }
    };
    let body = Body::from_stream(chunks.map(|c| c.map_err(std::io::Error::other)));
    let media = HeaderValue::from_str(&doc.media_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    let mut response = (StatusCode::OK, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, media);
    h.insert(
        header::CONTENT_DISPOSITION,
        disposition(
            &softland_documents::download_name(&doc.filename, &doc.media_type),
            &doc.media_type,
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CONTENT_SECURITY_POLICY, policy(&doc.media_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Ok(len) = HeaderValue::from_str(&doc.size.to_string()) {
        h.insert(header::CONTENT_LENGTH, len);
    }
    response
}
