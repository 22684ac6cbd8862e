//! Who a bearer token names: an API key (`sl_…`, looked up in the store) or, when OpenID
//! Connect issuers are configured, a JWT from one of them (see [`crate::oidc`]). Either way the
//! caller is a person of the directory; an unknown, deactivated or service person (service
//! accounts sign in with keys only) gets no access.

use std::sync::Arc;

use axum::http::{HeaderMap, header};
use softland_store::Store;

use crate::codes::ErrorCode;
use crate::oidc::{OidcVerifier, looks_like_jwt};
use softland_policy::{Authority, Principal};

/// Turns bearer tokens into principals.
#[derive(Debug, Clone)]
pub struct Authenticator {
    store: Store,
    oidc: Option<Arc<OidcVerifier>>,
}

/// Why a request's credentials could not be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The database could not say (the server's failure, not the caller's).
    Unavailable,
    /// The database was out of reach for a moment (a failover, a restart): try again.
    Unreachable,
    /// A session cookie came without the session's `X-CSRF-Token`.
    NoCsrf,
}

/// The bearer token of `Authorization: Bearer <token>`, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    Some(
        headers
            .get(header::AUTHORIZATION)?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")?
            .trim(),
    )
}

fn unavailable(e: &softland_store::Error) -> Refusal {
    if e.is_unreachable() {
        tracing::warn!(error = %e, "cannot authenticate: the database is out of reach");
        crate::metrics::error(ErrorCode::Unavailable);
        return Refusal::Unreachable;
    }
    tracing::error!(error = %e, "cannot authenticate: the key store is unavailable");
    crate::metrics::error(ErrorCode::Internal);
    Refusal::Unavailable
}

impl Authenticator {
    /// The caller of an HTTP request: its bearer token's, else its browser session's — a
    /// request the session cookie authenticates must repeat the session's CSRF token (another
    /// site can make a browser send the cookie, not the header). `Ok(None)`: no credential, or
    /// one that names nobody.
    pub async fn caller(
        &self,
        headers: &HeaderMap,
    ) -> Result<Option<(Principal, Authority)>, Refusal> {
        if let Some(token) = bearer(headers) {
            return self.authority(token).await.map_err(|e| unavailable(&e));
        }
        match crate::signin::session_of(&self.store, headers).await {
            Ok(Some(session)) if !crate::signin::csrf_matches(headers, &session) => {
                Err(Refusal::NoCsrf)
            }
            Ok(Some(session)) => {
                let authority = Authority {
                    key: session.key,
                    until: session.key_expires_at,
                };
                Ok(Principal::of_person(session.person).map(|p| (p, authority)))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(unavailable(&e)),
        }
    }

    /// The caller of a request that changes nothing (a download): its bearer token's, else its
    /// browser session's — no CSRF token needed, as another site's page cannot read the answer.
    pub async fn reader(&self, headers: &HeaderMap) -> Result<Option<Principal>, Refusal> {
        if let Some(token) = bearer(headers) {
            return self.token_caller(Some(token)).await;
        }
        match crate::signin::session_of(&self.store, headers).await {
            Ok(Some(session)) => Ok(Principal::of_person(session.person)),
            Ok(None) => Ok(None),
            Err(e) => Err(unavailable(&e)),
        }
    }

    /// The caller a token names (`Ok(None)` for none, or an unknown, expired or refused one).
    pub async fn token_caller(&self, token: Option<&str>) -> Result<Option<Principal>, Refusal> {
        match token {
            None => Ok(None),
            Some(token) => self.principal(token).await.map_err(|e| unavailable(&e)),
        }
    }

    /// API keys only, or also tokens of `oidc`'s issuers.
    pub fn new(store: Store, oidc: Option<Arc<OidcVerifier>>) -> Self {
        Authenticator { store, oidc }
    }

    /// The caller `token` names: `Ok(None)` for an unknown, expired, revoked or refused one;
    /// `Err` when the database could not say.
    pub async fn principal(&self, token: &str) -> Result<Option<Principal>, softland_store::Error> {
        Ok(self.authority(token).await?.map(|(p, _)| p))
    }

    /// The caller `token` names, with its authority (see [`Authority`]).
    async fn authority(
        &self,
        token: &str,
    ) -> Result<Option<(Principal, Authority)>, softland_store::Error> {
        if let Some(oidc) = &self.oidc
            && looks_like_jwt(token)
        {
            let (issuer, identity) = match oidc.verify(token).await {
                Ok(verified) => verified,
                Err(why) => {
                    tracing::debug!(%why, "bearer token refused");
                    return Ok(None);
                }
            };
            let person = crate::signin::person_signing_in(
                &self.store,
                &issuer,
                &identity,
                oidc.config().issuers.len(),
            )
            .await?;
            // The identity provider speaks for the person: no key stands behind the token.
            return Ok(person
                .filter(|p| p.active && !p.service)
                .and_then(Principal::of_person)
                .map(|p| (p, Authority::default())));
        }
        Ok(self.store.authenticate(token).await?.and_then(|k| {
            let authority = Authority {
                key: Some(k.id),
                until: k.expires_at,
            };
            Principal::of_person(k.person).map(|p| (p, authority))
        }))
    }
}
