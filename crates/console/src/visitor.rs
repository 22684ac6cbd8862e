//! Who is looking at a page: the browser's session (its cookie, its CSRF token), and the
//! language the page speaks — the `softland_lang` cookie set by the switch on every page, else
//! the browser's `Accept-Language`, else English.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use softland_gateway::Principal;
use softland_gateway::graphql::RequestLang;
use softland_gateway::signin::{cookie_value, session_of};
use softland_workflow::Lang;

use crate::Console;
use crate::i18n::{Text, text};

/// The language cookie.
pub(crate) const LANG_COOKIE: &str = "softland_lang";

/// The person behind a request (if signed in) and the page's language.
#[derive(Debug, Clone)]
pub(crate) struct Visitor {
    /// The caller as the API's policy sees them; `None`: not signed in.
    pub principal: Option<Principal>,
    /// Their display name.
    pub display_name: String,
    /// What forms must repeat.
    pub csrf: String,
    pub lang: Lang,
    /// The path and query asked for (where sign-in comes back to).
    pub path: String,
}

impl Visitor {
    /// The page's words.
    pub fn t(&self) -> &'static Text {
        text(self.lang)
    }

    /// The signed-in caller, else a redirect to the sign-in page that comes back here.
    pub fn signed_in(&self) -> Result<&Principal, Response> {
        self.principal.as_ref().ok_or_else(|| {
            Redirect::to(&format!("/signin?return_to={}", encode(&self.path))).into_response()
        })
    }

    /// Whether a posted form repeats this session's CSRF token.
    pub fn csrf_ok(&self, posted: &str) -> bool {
        self.principal.is_some() && !self.csrf.is_empty() && posted == self.csrf
    }
}

/// The language of a request: the cookie's, else `Accept-Language`'s.
pub(crate) fn lang_of(headers: &HeaderMap) -> Lang {
    cookie_value(headers, LANG_COOKIE)
        .and_then(|tag| Lang::from_tag(&tag))
        .unwrap_or_else(|| {
            RequestLang::from_header(
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok()),
            )
            .0
        })
}

/// `s` percent-encoded for a query value.
pub(crate) fn encode(s: &str) -> String {
    askama::filters::urlencode_strict(s)
        .map(|e| e.to_string())
        .unwrap_or_default()
}

impl FromRequestParts<Console> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Console) -> Result<Self, Response> {
        let lang = lang_of(&parts.headers);
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into());
        let session = session_of(&state.store, &parts.headers)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "cannot read the session");
                (StatusCode::SERVICE_UNAVAILABLE, text(lang).refused_other).into_response()
            })?;
        Ok(match session {
            Some(s) => Visitor {
                display_name: s.person.display_name.clone(),
                principal: Principal::of_person(s.person),
                csrf: s.csrf,
                lang,
                path,
            },
            None => Visitor {
                principal: None,
                display_name: String::new(),
                csrf: String::new(),
                lang,
                path,
            },
        })
    }
}

/// A posted form of a signed-in visitor that repeats their session's CSRF token: what every
/// state-changing page handler takes. Anyone else is sent to sign in (no session) or refused
/// (`403`, no or another token).
#[derive(Debug)]
pub(crate) struct Posted {
    pub v: Visitor,
    /// The form's fields, in order (a name may repeat: check boxes, list items).
    pub fields: Vec<(String, String)>,
}

impl Posted {
    /// The value of the first field named `name` (empty when absent).
    pub fn field(&self, name: &str) -> &str {
        field(&self.fields, name)
    }

    /// The trimmed value of field `name`; `None` when it is empty or absent.
    pub fn text(&self, name: &str) -> Option<&str> {
        Some(self.field(name).trim()).filter(|s| !s.is_empty())
    }
}

impl axum::extract::FromRequest<Console> for Posted {
    type Rejection = Response;

    async fn from_request(
        request: axum::extract::Request,
        state: &Console,
    ) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let v = Visitor::from_request_parts(&mut parts, state).await?;
        v.signed_in()?;
        let request = axum::extract::Request::from_parts(parts, body);
        let axum::Form(fields) = axum::Form::<Vec<(String, String)>>::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let posted = Posted { v, fields };
        if posted.v.csrf_ok(posted.field("csrf")) {
            Ok(posted)
        } else {
            Err(StatusCode::FORBIDDEN.into_response())
        }
    }
}

/// The value of the first field named `name` (empty when absent).
pub(crate) fn field<'f>(fields: &'f [(String, String)], name: &str) -> &'f str {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// A signed-in visitor: page handlers that need one take this; anyone else is sent to sign in
/// and brought back.
#[derive(Debug)]
pub(crate) struct SignedIn(pub Visitor);

impl FromRequestParts<Console> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Console) -> Result<Self, Response> {
        let v = Visitor::from_request_parts(parts, state).await?;
        v.signed_in()?;
        Ok(SignedIn(v))
    }
}
