//! softland-console: the web console at `/`, for firms, agency reviewers and administrators.
//!
//! ```text
//!  browser ──► axum (the gateway's router, every path the API does not take)
//!               └─► console page handler ── GraphQL, in process, as the signed-in person ──►
//!                     the API's schema ──► policy ──► store
//!                   ◄── askama template (HTML) + /assets (CSS, htmx, console.js — all embedded)
//! ```
//!
//! Pages are rendered on the server; a small script adds list items, keeps drafts and lets
//! htmx refresh the inbox. Every page asks the API (see [`api`]), so the console can do
//! nothing a GraphQL client of the same person could not. Sign-in, cookies and CSRF are in
//! [`pages::signin`] and [`visitor`]; words in three languages in [`i18n`]; forms generated
//! from JSON Schemas in [`form`]. Design notes: docs/console.md.

// The API's schema, run in process, nests async-graphql's resolver futures deeply.
#![recursion_limit = "256"]
// Handlers return an HTTP response on their refusal path, once per request: boxing it would
// only add an allocation.
#![allow(clippy::result_large_err)]

mod api;
mod assets;
pub mod diagram;
pub mod form;
pub mod i18n;
mod pages;
mod visitor;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use softland_gateway::{Services, SoftlandSchema};
use softland_store::Store;

/// What the console's handlers share.
#[derive(Clone)]
pub(crate) struct Console {
    schema: SoftlandSchema,
    store: Store,
    browser_sign_in: bool,
    secure_cookies: bool,
    failures: softland_gateway::throttle::Failures,
}

/// The console's routes, for the gateway to serve beside the API.
pub fn pages(services: Services) -> Router {
    let console = Console {
        schema: services.schema,
        store: services.store,
        browser_sign_in: services.browser_sign_in,
        secure_cookies: services.secure_cookies,
        failures: services.failures,
    };
    Router::new()
        .route("/", get(pages::home))
        .route(
            "/signin",
            get(pages::signin::page).post(pages::signin::submit),
        )
        .route("/signout", post(pages::signin::sign_out))
        .route("/lang/{tag}", get(pages::signin::language))
        .route("/assets/{file}", get(assets::serve))
        .route("/favicon.ico", get(assets::favicon))
        .route("/dashboard", get(pages::dashboard::page))
        .route("/reports", get(pages::reports::page))
        // Its size is capped by the gateway's body limit (the upload limit), not axum's.
        .route(
            "/uploads",
            post(pages::uploads::upload).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/inbox", get(pages::inbox::page))
        .route("/inbox/rows", get(pages::inbox::rows))
        .route("/applications", get(pages::applications::list))
        .route(
            "/positions",
            get(pages::positions::list).post(pages::positions::offer),
        )
        .route("/positions/{id}/close", post(pages::positions::close))
        .route(
            "/applications/new/{workflow}",
            get(pages::applications::new).post(pages::applications::submit),
        )
        .route("/applications/{id}", get(pages::application::page))
        .route(
            "/applications/{id}/withdraw",
            get(pages::acting::withdraw_question).post(pages::acting::withdraw),
        )
        .route("/applications/{id}/note", post(pages::acting::note))
        .route("/workflows", get(pages::workflows::list))
        .route(
            "/workflows/edit",
            get(pages::workflows::edit).post(pages::workflows::check),
        )
        .route("/workflows/{key}", get(pages::workflows::detail))
        .route(
            "/workflows/{key}/migrations",
            get(pages::migrations::plans).post(pages::migrations::make),
        )
        .route("/migrations/{id}", get(pages::migrations::plan))
        .route("/migrations/{id}/approve", post(pages::migrations::approve))
        .route("/migrations/{id}/run", post(pages::migrations::run))
        .route(
            "/workflows/{key}/{version}/retire",
            get(pages::workflows::retire_question).post(pages::workflows::retire),
        )
        .route(
            "/workflows/{key}/{version}/unretire",
            post(pages::workflows::unretire),
        )
        .route("/directory", get(pages::directory::page))
        .route("/audit", get(pages::audit::page))
        .route("/directory/agencies", post(pages::directory::put_agency))
        .route(
            "/directory/organizations",
            post(pages::directory::put_organization),
        )
        .route("/directory/people", post(pages::directory::put_person))
        .route(
            "/directory/people/{id}/deactivate",
            post(pages::directory::deactivate),
        )
        .route(
            "/directory/people/{id}/keys",
            get(pages::directory::keys).post(pages::directory::create_key),
        )
        .route(
            "/directory/keys/{id}/revoke",
            post(pages::directory::revoke_key),
        )
        .route("/tasks/{id}/act", post(pages::acting::act))
        .route("/tasks/{id}/claim", post(pages::acting::claim))
        .route("/tasks/{id}/release", post(pages::acting::release))
        .route("/tasks/{id}/delegate", post(pages::acting::delegate))
        .fallback(pages::not_found)
        .layer(middleware::from_fn(guard))
        .with_state(console)
}

/// The Content-Security-Policy of every page: nothing from elsewhere, no inline script or
/// style, no framing, forms post only here.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Refuses a state change another site's page started (its `Origin` is not this server's),
/// and puts the security headers on every answer.
async fn guard(request: Request, next: Next) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        // Scheme and host alike: `http://` pages may not post to the `https://` console.
        let https = softland_gateway::transport::browser_https(
            request.headers(),
            request
                .extensions()
                .get::<softland_gateway::transport::Peer>(),
        );
        let same_origin =
            softland_gateway::transport::origin_matches(request.headers(), https) != Some(false);
        if !same_origin {
            return (
                StatusCode::FORBIDDEN,
                "cross-site request refused (FORBIDDEN)\n",
            )
                .into_response();
        }
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}
