//! The signed-in browser: who it is, its CSRF token, signing out, and which directory person an identity names.

use super::*;

/// The session a request's cookie names, if any.
pub async fn session_of(
    store: &Store,
    headers: &HeaderMap,
) -> Result<Option<Session>, softland_store::Error> {
    match cookie_value(headers, SESSION_COOKIE) {
        Some(token) => store.session(&token).await,
        None => Ok(None),
    }
}

/// Who the browser is, and the CSRF token its requests must repeat.
pub async fn whoami(State(s): State<SignInState>, headers: HeaderMap) -> Response {
    match session_of(&s.store, &headers).await {
        Ok(Some(session)) => (
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(serde_json::json!({
                "person": {
                    "id": session.person.id,
                    "displayName": session.person.display_name,
                    "membership": session.person.membership.label(),
                },
                "csrfToken": session.csrf,
                "expiresAt": session.expires_at,
            })),
        )
            .into_response(),
        Ok(None) => refusal(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "not signed in",
        ),
        Err(_) => refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            "try again",
        ),
    }
}

/// Ends the session (the CSRF token must come with it).
pub async fn logout(State(s): State<SignInState>, headers: HeaderMap) -> Response {
    let session = match session_of(&s.store, &headers).await {
        Ok(Some(session)) => session,
        Ok(None) => {
            return refusal(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthenticated,
                "not signed in",
            );
        }
        Err(_) => {
            return refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "try again",
            );
        }
    };
    if !csrf_matches(&headers, &session) {
        return refusal(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "the request lacks this session's X-CSRF-Token",
        );
    }
    if let Some(token) = cookie_value(&headers, SESSION_COOKIE) {
        let _ = s.store.end_session(&token).await;
    }
    (
        StatusCode::NO_CONTENT,
        [(
            header::SET_COOKIE,
            set_cookie(SESSION_COOKIE, String::new(), "/", 0, s.secure_cookies),
        )],
    )
        .into_response()
}

/// Whether the request repeats the session's CSRF token.
pub fn csrf_matches(headers: &HeaderMap, session: &Session) -> bool {
    headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t == session.csrf)
}

/// The directory person a verified identity names, if `issuer` may speak for them (see
/// `Store::issuer_speaks_for`: their agency's sign-in issuer, or the server's one issuer);
/// someone unknown whose issuer an agency admits joins it as a new person without roles (see
/// `Store::join_on_sign_in`), and so still has no access. `issuers`: how many issuers the
/// server trusts.
pub async fn person_signing_in(
    store: &Store,
    issuer: &str,
    identity: &Identity,
    issuers: usize,
) -> Result<Option<softland_store::directory::Person>, softland_store::Error> {
    let found = match identity {
        Identity::Id(id) => store.person(id).await?,
        Identity::Email(email) => store.person_by_email(email).await?,
    };
    let sole = issuers == 1;
    match (found, identity) {
        (Some(p), _) => Ok(store
            .issuer_speaks_for(issuer, &p, sole)
            .await?
            .then_some(p)),
        (None, Identity::Email(email)) => store.join_on_sign_in(issuer, email).await,
        (None, Identity::Id(_)) => Ok(None),
    }
}
