//! Who a bearer token names: an API key (`sl_…`, looked up in the store) or, when OpenID
//! Connect issuers are configured, a JWT from one of them (see [`crate::oidc`]). Either way the
//! caller is a person of the directory; an unknown, deactivated or service person (service
//! accounts sign in with keys only) gets no access.

use std::sync::Arc;

use softland_store::Store;

use crate::oidc::{Identity, OidcVerifier, looks_like_jwt};
use crate::policy::Principal;

/// Turns bearer tokens into principals.
#[derive(Debug, Clone)]
pub struct Authenticator {
    store: Store,
    oidc: Option<Arc<OidcVerifier>>,
}

impl Authenticator {
    /// API keys only, or also tokens of `oidc`'s issuers.
    pub fn new(store: Store, oidc: Option<Arc<OidcVerifier>>) -> Self {
        Authenticator { store, oidc }
    }

    /// The caller `token` names: `Ok(None)` for an unknown, expired, revoked or refused one;
    /// `Err` when the database could not say.
    pub async fn principal(&self, token: &str) -> Result<Option<Principal>, softland_store::Error> {
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
            let person = person_signing_in(&self.store, &issuer, &identity).await?;
            return Ok(person
                .filter(|p| p.active && !p.service)
                .and_then(Principal::of_person));
        }
        Ok(self
            .store
            .authenticate(token)
            .await?
            .and_then(|k| Principal::of_person(k.person)))
    }
}

/// The directory person a verified identity names; someone unknown whose issuer an agency
/// admits joins it without roles (see `Store::join_on_sign_in`), and so still has no access.
pub async fn person_signing_in(
    store: &Store,
    issuer: &str,
    identity: &Identity,
) -> Result<Option<softland_store::directory::Person>, softland_store::Error> {
    let found = match identity {
        Identity::Id(id) => store.person(id).await?,
        Identity::Email(email) => store.person_by_email(email).await?,
    };
    match (found, identity) {
        (Some(p), _) => Ok(Some(p)),
        (None, Identity::Email(email)) => store.join_on_sign_in(issuer, email).await,
        (None, Identity::Id(_)) => Ok(None),
    }
}
