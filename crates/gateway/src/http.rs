//! GraphQL over HTTP (`POST /graphql`): the caller is known before a byte of the body is read,
//! the body is read within its kind's caps (`intake`), each caller waits for its share
//! (`fairness`), and the answer follows the GraphQL-over-HTTP specification's media types.

use async_graphql::ParseRequestError;
use async_graphql_axum::GraphQLResponse;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::authn::Refusal;
use crate::body_limit::BodyCut;
use crate::codes::ErrorCode;
use crate::error::refuse;
use crate::intake::Kind;
use crate::state::AppState;

pub(crate) fn too_many_failures() -> Response {
    refuse(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::LimitExceeded,
        "too many failed sign-ins from your address; wait a minute",
    )
}

fn unavailable() -> Response {
    refuse(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal,
        "the server cannot check credentials right now; try again shortly",
    )
}

/// Why a body is not a GraphQL request, in words for people (never the parser's Debug text);
/// `cut`: the body went past its limit while being read.
fn rejection(e: &ParseRequestError, cut: bool) -> Response {
    let too_large = || {
        refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            "the request body is too large",
        )
    };
    match e {
        ParseRequestError::PayloadTooLarge => too_large(),
        // A streamed body cut off at the limit surfaces as a read error of the body, whose
        // type the extractor does not keep: the limit's own flag says so.
        ParseRequestError::Io(_) if cut => too_large(),
        ParseRequestError::UnsupportedBatch => refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "batched requests (a JSON list) are not supported: send one operation per request",
        ),
        ParseRequestError::InvalidRequest(inner) => refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            &format!(
                "the body is not a GraphQL request ({{\"query\": …, \"variables\": {{…}}}}): {}",
                first_line(&inner.to_string())
            ),
        ),
        _ => refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "the body is not a GraphQL request: send JSON `{\"query\": …, \"variables\": {…}}`",
        ),
    }
}

/// The first line of a library's message, at most 200 characters.
fn first_line(s: &str) -> String {
    s.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect()
}

pub(crate) async fn graphql(
    State(state): State<AppState>,
    request: axum::extract::Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    let cut = || {
        parts
            .extensions
            .get::<BodyCut>()
            .is_some_and(BodyCut::happened)
    };
    // The GraphQL-over-HTTP specification: a POST says what its body is, and it is JSON (or
    // a multipart upload).
    let kind = match crate::intake::kind(headers) {
        None => {
            return refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::BadUserInput,
                "say what the body is: `Content-Type: application/json`",
            );
        }
        Some(Kind::Unsupported) => {
            return refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::BadUserInput,
                "send the request as `Content-Type: application/json` (or a multipart upload)",
            );
        }
        Some(kind) => kind,
    };
    // Who is asking is settled before a byte of the body is read — unless the address has
    // used up its failed authentications for now.
    let ip = parts
        .extensions
        .get::<crate::transport::Peer>()
        .map(|p| p.addr.ip());
    let credentialed =
        headers.contains_key(header::AUTHORIZATION) || headers.contains_key(header::COOKIE);
    if credentialed && ip.is_some_and(|ip| state.failures.blocked(ip)) {
        return too_many_failures();
    }
    let caller = match state.auth.caller(headers).await {
        Ok(None) if crate::authn::bearer(headers).is_some() => {
            if let Some(ip) = ip {
                state.failures.failed(ip);
            }
            None
        }
        Ok(c) => c,
        Err(Refusal::Unavailable) => return unavailable(),
        Err(Refusal::Unreachable) => {
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "the database is out of reach for a moment; try again",
            );
        }
        Err(Refusal::NoCsrf) => {
            return refuse(
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                "a request signed in by cookie must send the session's X-CSRF-Token",
            );
        }
    };
    // Each caller's share: one caller's flood waits on itself, not on everyone.
    let who = match &caller {
        Some((p, _)) => format!("person:{}", p.name()),
        None => format!(
            "address:{}",
            parts
                .extensions
                .get::<crate::transport::Peer>()
                .map_or_else(|| "unknown".to_owned(), |p| p.addr.ip().to_string())
        ),
    };
    let Some(_turn) = state.shares.turn(&who).await else {
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::LimitExceeded,
            &format!(
                "at most {} of your requests run at once; wait for one to finish",
                state.shares.per_caller()
            ),
        );
    };
    let read = match kind {
        Kind::Multipart(_) if caller.is_none() => {
            return refuse(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthenticated,
                "sign in to upload: send `Authorization: Bearer <token>`",
            );
        }
        Kind::Multipart(boundary) => {
            let file_bytes = state.documents.limits.file_bytes;
            crate::intake::multipart(body, boundary, file_bytes).await
        }
        _ => crate::intake::json(body).await,
    };
    let mut req = match read {
        Ok(r) => r,
        Err(crate::intake::Refused::Parse(e)) => return rejection(&e, cut()),
        Err(crate::intake::Refused::TooManyParts) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                &format!(
                    "a request carries at most {} files",
                    crate::intake::MAX_FILES
                ),
            );
        }
    };
    if req.query.trim().is_empty() {
        return refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "the request has no `query`: send JSON `{\"query\": …, \"variables\": {…}}`",
        );
    }
    req = req.data(crate::graphql::RequestLang::from_header(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    ));
    if let Some((p, authority)) = caller {
        req = crate::graphql::as_caller(req, &state.store, p).data(authority);
    }
    let media = Media::accepted(headers);
    let mut resp = state.schema.execute(req).await;
    // Parse and validation errors come from async-graphql without a code: they are the
    // client's. Every error leaves with one.
    crate::error::code_errors(&mut resp.errors);
    // A request error (the document does not parse or validate, the variables do not
    // coerce): nothing ran, no data, and no error has a path.
    let request_error = resp.data == async_graphql::Value::Null
        && !resp.errors.is_empty()
        && resp.errors.iter().all(|e| e.path.is_empty());
    if media == Media::GraphqlResponse && request_error {
        // Nothing ran: the specification's media type leaves `data` out altogether.
        let mut body = serde_json::to_value(&resp).unwrap_or_default();
        if let Some(map) = body.as_object_mut() {
            map.remove("data");
        }
        return (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, media.content_type())],
            axum::Json(body),
        )
            .into_response();
    }
    let mut out = GraphQLResponse::from(resp).into_response();
    out.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.content_type()),
    );
    out
}

/// The media type of a response, as the GraphQL-over-HTTP specification has it: what the
/// client accepts — `application/graphql-response+json` if it names it, else
/// `application/json` (also without an `Accept` header: the specification's legacy rule).
/// Only with the former do request errors get 400; with `application/json`, 200.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Media {
    GraphqlResponse,
    Json,
}

impl Media {
    fn accepted(headers: &HeaderMap) -> Self {
        let names_it = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|item| {
                let mut parts = item.split(';');
                let media = parts.next()?.trim();
                // `q=0` means "not acceptable".
                let refused = parts.any(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                        == Some(0.0)
                });
                (!refused).then_some(media)
            })
            .any(|m| m.eq_ignore_ascii_case("application/graphql-response+json"));
        if names_it {
            Media::GraphqlResponse
        } else {
            Media::Json
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Media::Json => "application/json; charset=utf-8",
        }
    }
}
