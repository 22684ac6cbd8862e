//! Uploading a document from the console: a multipart form, its file written to a temporary
//! file as it arrives, then handed to the API's own `uploadDocument` (the same checks, limits
//! and records as any GraphQL client's upload). Back to the page it came from, where the new
//! document is one of the choices of every document field.

use softland_gateway::ErrorCode;
use std::io::Write;

use async_graphql::{Request, UploadValue, Variables};
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use softland_gateway::graphql::RequestLang;
use softland_gateway::signin::safe_return;

use super::{failure, refusal_words};
use crate::Console;
use crate::api::Failure;
use crate::visitor::SignedIn;

const UPLOAD: &str = "mutation($f: Upload!) { uploadDocument(file: $f) { id } }";

/// The longest text field of the upload form (a token, a path).
const MAX_TEXT_FIELD: usize = 2048;

/// A short text field, read chunk by chunk: `None` when it is longer than
/// [`MAX_TEXT_FIELD`] or not UTF-8 — a large text field is never held in memory.
async fn small_text(mut field: axum::extract::multipart::Field<'_>) -> Option<String> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.ok()? {
        if bytes.len() + chunk.len() > MAX_TEXT_FIELD {
            return None;
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).ok()
}

/// `POST /uploads` (multipart: `csrf`, `return_to`, then `file`).
pub(crate) async fn upload(
    State(c): State<Console>,
    SignedIn(v): SignedIn,
    mut form: Multipart,
) -> Response {
    let mut csrf = String::new();
    let mut back = String::from("/");
    let mut file = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return (StatusCode::BAD_REQUEST, e.body_text()).into_response(),
        };
        match field.name() {
            Some("csrf") => match small_text(field).await {
                Some(t) => csrf = t,
                None => return StatusCode::BAD_REQUEST.into_response(),
            },
            Some("return_to") => match small_text(field).await {
                Some(t) => back = t,
                None => return StatusCode::BAD_REQUEST.into_response(),
            },
            Some("file") => {
                // The token comes first: nothing is written for a request without it.
                if !v.csrf_ok(&csrf) {
                    return StatusCode::FORBIDDEN.into_response();
                }
                let filename = field.file_name().unwrap_or("document").to_owned();
                let content_type = field.content_type().map(str::to_owned);
                let Ok(mut tmp) = tempfile::tempfile() else {
                    return StatusCode::SERVICE_UNAVAILABLE.into_response();
                };
                let mut field = field;
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => {
                            if tmp.write_all(&chunk).is_err() {
                                return StatusCode::SERVICE_UNAVAILABLE.into_response();
                            }
                        }
                        Ok(None) => break,
                        Err(e) => return (e.status(), e.body_text()).into_response(),
                    }
                }
                file = Some(UploadValue {
                    filename,
                    content_type,
                    content: tmp,
                });
            }
            _ => {}
        }
    }
    if !v.csrf_ok(&csrf) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let back = safe_return(Some(&back));
    let Some(file) = file else {
        return Redirect::to(&back).into_response();
    };
    let mut request = Request::new(UPLOAD)
        .variables(Variables::from_json(json!({"f": null})))
        .data(RequestLang(v.lang));
    if let Some(p) = &v.principal {
        request = softland_gateway::graphql::as_caller(request, &c.store, p.clone());
    }
    request.set_upload("variables.f", file);
    let response = c.schema.execute(request).await;
    match response.errors.first() {
        None => Redirect::to(&back).into_response(),
        Some(e) => {
            let code = e
                .extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .and_then(|c| ErrorCode::parse(c.to_string().trim_matches('"')))
                .unwrap_or(ErrorCode::Internal);
            let f = Failure {
                code,
                message: e.message.clone(),
                ..Failure::default()
            };
            let words = refusal_words(v.t(), &f);
            failure(
                &v,
                &Failure {
                    code: if f.code == ErrorCode::Internal {
                        f.code
                    } else {
                        ErrorCode::BadUserInput
                    },
                    message: words,
                    ..Failure::default()
                },
            )
        }
    }
}
