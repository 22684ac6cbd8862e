//! Signing in and out, and the language switch.
//!
//! Two ways in: the identity provider (the gateway's `/auth/login`, when configured) and an
//! **API key** typed into the form — for deployments without a provider. Either opens the same
//! session: an `HttpOnly`, `SameSite=Lax` cookie (`Secure` behind HTTPS), whose CSRF token every
//! form repeats. The sign-in form itself carries a token of a short-lived `SameSite=Strict`
//! cookie, so no other site can sign a browser in as someone else.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use softland_gateway::Principal;
use softland_gateway::signin::{
    SESSION_COOKIE, SESSION_HOURS, cookie_value, safe_return, set_cookie,
};
use softland_store::sessions::random_token;
use softland_workflow::Lang;

use super::{Frame, html};
use crate::Console;
use crate::visitor::{LANG_COOKIE, Posted, Visitor};

/// The sign-in form's own CSRF cookie.
const LOGIN_COOKIE: &str = "softland_login";
/// Longer than any API key.
const MAX_KEY: usize = 256;

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    page: Frame,
    provider: bool,
    failed: bool,
    login_csrf: String,
    return_to: String,
}

/// The query of `/signin`.
#[derive(Debug, Deserialize)]
pub(crate) struct SignInQuery {
    return_to: Option<String>,
}

fn sign_in_page(c: &Console, v: &Visitor, return_to: String, failed: bool) -> Response {
    let Ok(token) = random_token() else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let page = SignInPage {
        page: Frame::new(v, v.t().sign_in, ""),
        provider: c.browser_sign_in,
        failed,
        login_csrf: token.clone(),
        return_to,
    };
    let cookie = cookie::Cookie::build((LOGIN_COOKIE, token))
        .path("/signin")
        .http_only(true)
        .secure(c.secure_cookies)
        .same_site(cookie::SameSite::Strict)
        .max_age(cookie::time::Duration::minutes(30))
        .build()
        .to_string();
    let status = if failed {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    (status, [(header::SET_COOKIE, cookie)], html(&page)).into_response()
}

/// `GET /signin`.
pub(crate) async fn page(
    State(c): State<Console>,
    v: Visitor,
    Query(q): Query<SignInQuery>,
) -> Response {
    let return_to = safe_return(q.return_to.as_deref());
    if v.principal.is_some() {
        return Redirect::to(&return_to).into_response();
    }
    sign_in_page(&c, &v, return_to, false)
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub(crate) struct SignInForm {
    csrf: String,
    api_key: String,
    return_to: Option<String>,
}

/// `POST /signin`: an API key opens a session for its person.
pub(crate) async fn submit(
    State(c): State<Console>,
    v: Visitor,
    headers: HeaderMap,
    peer: Option<axum::Extension<softland_gateway::transport::Peer>>,
    Form(form): Form<SignInForm>,
) -> Response {
    let return_to = safe_return(form.return_to.as_deref());
    // An address that has used up its failed sign-ins waits, whatever key it tries now.
    let ip = peer.map(|p| p.addr.ip());
    if ip.is_some_and(|ip| c.failures.blocked(ip)) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed sign-ins from your address; wait a minute (LIMIT_EXCEEDED)\n",
        )
            .into_response();
    }
    if cookie_value(&headers, LOGIN_COOKIE).is_none_or(|t| t.is_empty() || t != form.csrf) {
        return sign_in_page(&c, &v, return_to, true);
    }
    let key = form.api_key.trim();
    if key.is_empty() || key.len() > MAX_KEY {
        return sign_in_page(&c, &v, return_to, true);
    }
    let key = match c.store.authenticate(key).await {
        Ok(Some(k)) if k.person.active => k,
        Ok(_) => {
            if let Some(ip) = ip {
                c.failures.failed(ip);
            }
            return sign_in_page(&c, &v, return_to, true);
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot check an API key");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let person = key.person.clone();
    if Principal::of_person(person.clone()).is_none() {
        return sign_in_page(&c, &v, return_to, true);
    }
    let token = match c
        .store
        .open_session(
            &person.id,
            chrono::Duration::hours(SESSION_HOURS),
            Some(&key),
        )
        .await
    {
        Ok((token, _csrf)) => token,
        Err(e) => {
            tracing::error!(error = %e, "cannot open a session");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    tracing::info!(
        person = person.id,
        "signed in to the console with an API key"
    );
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, return_to),
            (
                header::SET_COOKIE,
                set_cookie(
                    SESSION_COOKIE,
                    token,
                    "/",
                    SESSION_HOURS * 3600,
                    c.secure_cookies,
                ),
            ),
        ],
    )
        .into_response()
}

/// `POST /signout`: ends the session.
pub(crate) async fn sign_out(
    State(c): State<Console>,
    headers: HeaderMap,
    _signed_in: Posted,
) -> Response {
    if let Some(token) = cookie_value(&headers, SESSION_COOKIE)
        && let Err(e) = c.store.end_session(&token).await
    {
        tracing::error!(error = %e, "cannot end a session");
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/signin".to_owned()),
            (
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, String::new(), "/", 0, c.secure_cookies),
            ),
        ],
    )
        .into_response()
}

/// The query of `/lang/{tag}`.
#[derive(Debug, Deserialize)]
pub(crate) struct LangQuery {
    back: Option<String>,
}

/// `GET /lang/{tag}?back=…`: remembers the language, goes back.
pub(crate) async fn language(
    State(c): State<Console>,
    Path(tag): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let back = safe_return(q.back.as_deref());
    let Some(lang) = Lang::from_tag(&tag) else {
        return Redirect::to(&back).into_response();
    };
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, back),
            (
                header::SET_COOKIE,
                set_cookie(
                    LANG_COOKIE,
                    lang.tag().to_owned(),
                    "/",
                    365 * 24 * 3600,
                    c.secure_cookies,
                ),
            ),
        ],
    )
        .into_response()
}
