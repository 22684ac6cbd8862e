//! Browser sign-in (issue 14): the OpenID Connect authorization-code flow with PKCE, ending in
//! a server-side session.
//!
//! - `GET /auth/login?return_to=/path[&issuer=N]` records a sign-in attempt (state, nonce,
//!   PKCE verifier; ten minutes, used once), sets a `softland_sign_in` cookie holding the state
//!   (binding the answer to this browser) and redirects to the provider.
//! - `GET /auth/callback?code&state` checks the cookie against the state, exchanges the code
//!   with the verifier and client secret, verifies the ID token (keys, issuer, audience, expiry,
//!   nonce) and opens a session for the directory person it names: a `softland_session` cookie
//!   (`HttpOnly`, `Secure`, `SameSite=Lax`, eight hours) whose SHA-256 the store keeps.
//! - `GET /auth/session` tells the browser who it is and its CSRF token; every GraphQL request
//!   the session cookie authenticates must send that token as `X-CSRF-Token`.
//! - `POST /auth/logout` (with the CSRF token) ends the session.
//!
//! Refusals are pages of plain words with a code, never the provider's or the store's details.

mod session;
pub use session::*;

use crate::codes::ErrorCode;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthUrl, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    StandardRevocableToken, StandardTokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use softland_store::Store;
use softland_store::sessions::{Session, SignIn, random_token};

use crate::oidc::{Identity, OidcVerifier};

/// The session cookie.
pub const SESSION_COOKIE: &str = "softland_session";
/// The sign-in attempt's cookie.
const SIGN_IN_COOKIE: &str = "softland_sign_in";
/// The header that repeats a session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a session lasts.
pub const SESSION_HOURS: i64 = 8;

/// What the sign-in routes share.
#[derive(Clone, Debug)]
pub struct SignInState {
    pub(crate) store: Store,
    pub(crate) oidc: Option<Arc<OidcVerifier>>,
    pub(crate) secure_cookies: bool,
}

/// The ID token beside the access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct IdTokenField {
    id_token: String,
}

impl ExtraTokenFields for IdTokenField {}

type TokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;
type NewClient = Client<
    BasicErrorResponse,
    TokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
>;
type OidcClient = Client<
    BasicErrorResponse,
    TokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// A page that says what went wrong, with a code.
fn refusal(status: StatusCode, code: ErrorCode, words: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{words} ({})\n", code.as_str()),
    )
        .into_response()
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Lax`, `Secure` when `secure`, living `max_age`
/// seconds (0 removes it).
pub fn set_cookie(name: &str, value: String, path: &str, max_age: i64, secure: bool) -> String {
    Cookie::build((name, value))
        .path(path.to_owned())
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(max_age))
        .build()
        .to_string()
}

/// A path of this server to go back to: `/…`, never `//host` or a backslash trick.
pub fn safe_return(path: Option<&str>) -> String {
    match path {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.contains('\\')
                && p.len() <= 512
                && !p.chars().any(char::is_control) =>
        {
            p.to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn client(v: &OidcVerifier, auth: String, token: String) -> Result<OidcClient, String> {
    let c = v.config();
    let browser = c
        .browser
        .as_ref()
        .ok_or("browser sign-in is not configured")?;
    Ok(NewClient::new(ClientId::new(c.audience.clone()))
        .set_client_secret(ClientSecret::new(browser.client_secret.clone()))
        .set_auth_uri(AuthUrl::new(auth).map_err(|e| e.to_string())?)
        .set_token_uri(TokenUrl::new(token).map_err(|e| e.to_string())?)
        .set_redirect_uri(
            RedirectUrl::new(format!(
                "{}/auth/callback",
                browser.public_url.trim_end_matches('/')
            ))
            .map_err(|e| e.to_string())?,
        ))
}

/// The query of `/auth/login`.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
    issuer: Option<usize>,
}

/// Starts a sign-in: redirects to the identity provider.
pub async fn login(State(s): State<SignInState>, Query(q): Query<LoginQuery>) -> Response {
    let Some(v) = s.oidc.as_ref().filter(|v| v.config().browser.is_some()) else {
        return refusal(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "sign-in with an identity provider is not configured",
        );
    };
    let i = q.issuer.unwrap_or(0);
    let Some(issuer) = v.config().issuers.get(i).cloned() else {
        return refusal(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "no such identity provider",
        );
    };
    let (auth, token) = match v.endpoints(i).await {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(issuer, error = %e, "cannot read the identity provider's endpoints");
            return refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "the identity provider cannot be reached; try again",
            );
        }
    };
    let client = match client(v, auth, token) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "browser sign-in is misconfigured");
            return refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "sign-in is misconfigured; it has been logged",
            );
        }
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let nonce = match random_token() {
        Ok(n) => n,
        Err(_) => {
            return refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "try again",
            );
        }
    };
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("openid".into()))
        .add_scope(Scope::new("email".into()))
        .add_extra_param("nonce", nonce.clone())
        .set_pkce_challenge(challenge)
        .url();
    let attempt = SignIn {
        issuer,
        nonce,
        verifier: verifier.secret().clone(),
        return_to: safe_return(q.return_to.as_deref()),
    };
    if let Err(e) = s.store.begin_sign_in(state.secret(), &attempt).await {
        tracing::error!(error = %e, "cannot record a sign-in attempt");
        return refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            "try again",
        );
    }
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, url.to_string()),
            (
                header::SET_COOKIE,
                set_cookie(
                    SIGN_IN_COOKIE,
                    state.secret().clone(),
                    "/auth",
                    600,
                    s.secure_cookies,
                ),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
    )
        .into_response()
}

/// The query of `/auth/callback`.
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
}

/// The provider's answer: exchanges the code, opens a session.
pub async fn callback(
    State(s): State<SignInState>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let Some(v) = s.oidc.as_ref().filter(|v| v.config().browser.is_some()) else {
        return refusal(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "sign-in with an identity provider is not configured",
        );
    };
    let (Some(code), Some(state)) = (q.code, q.state) else {
        return refusal(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "the sign-in was not completed",
        );
    };
    // The answer must come to the browser that asked (no sign-in forced on someone else).
    if cookie_value(&headers, SIGN_IN_COOKIE).as_deref() != Some(state.as_str()) {
        return refusal(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "this sign-in was not started in this browser",
        );
    }
    let attempt = match s.store.take_sign_in(&state).await {
        Ok(Some(a)) => a,
        Ok(None) => {
            return refusal(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "this sign-in expired or was used; start again",
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot read a sign-in attempt");
            return refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "try again",
            );
        }
    };
    let Some(i) = v.config().issuers.iter().position(|u| *u == attempt.issuer) else {
        return refusal(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "start again",
        );
    };
    let exchanged = async {
        let (auth, token) = v.endpoints(i).await?;
        let client = client(v, auth, token)?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        let send = |req: oauth2::HttpRequest| {
            let http = http.clone();
            async move {
                let (parts, body) = req.into_parts();
                let resp = http
                    .request(parts.method, parts.uri.to_string())
                    .headers(parts.headers)
                    .body(body)
                    .send()
                    .await?;
                let mut out = oauth2::http::Response::builder().status(resp.status());
                for (k, val) in resp.headers() {
                    out = out.header(k, val);
                }
                let bytes = resp.bytes().await?;
                Ok::<_, reqwest::Error>(out.body(bytes.to_vec()).unwrap_or_default())
            }
        };
        let answer = client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(PkceCodeVerifier::new(attempt.verifier.clone()))
            .request_async(&send)
            .await
            .map_err(|e| format!("the token endpoint refused: {e}"))?;
        Ok::<_, String>(answer.extra_fields().id_token.clone())
    };
    let id_token = match exchanged.await {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, "sign-in failed at the token exchange");
            return refusal(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthenticated,
                "the identity provider did not confirm the sign-in",
            );
        }
    };
    let (issuer, identity) = match v.verify_id_token(&id_token, &attempt.nonce).await {
        Ok(verified) => verified,
        Err(why) => {
            tracing::warn!(%why, "sign-in refused: the ID token");
            return refusal(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthenticated,
                "the identity provider did not confirm the sign-in",
            );
        }
    };
    let person = person_signing_in(&s.store, &issuer, &identity, v.config().issuers.len()).await;
    let person = match person {
        Ok(Some(p)) if p.active && !p.service && !p.roles.is_empty() => p,
        Ok(Some(p)) if p.active && p.roles.is_empty() => {
            return refusal(
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                "you are in softland's directory, waiting for your agency's lead to give you a role",
            );
        }
        Ok(_) => {
            return refusal(
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                "you are not in softland's directory; ask your agency's or organisation's lead",
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot look the person up");
            return refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "try again",
            );
        }
    };
    let (token, _csrf) = match s
        .store
        .open_session(&person.id, chrono::Duration::hours(SESSION_HOURS), None)
        .await
    {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "cannot open a session");
            return refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "try again",
            );
        }
    };
    tracing::info!(person = person.id, "signed in");
    let mut resp = (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, attempt.return_to),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
    )
        .into_response();
    let headers = resp.headers_mut();
    for c in [
        set_cookie(
            SESSION_COOKIE,
            token,
            "/",
            SESSION_HOURS * 3600,
            s.secure_cookies,
        ),
        set_cookie(SIGN_IN_COOKIE, String::new(), "/auth", 0, s.secure_cookies),
    ] {
        if let Ok(v) = c.parse() {
            headers.append(header::SET_COOKIE, v);
        }
    }
    resp
}
