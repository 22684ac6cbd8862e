//! Browser sessions and the sign-in attempts that make them (issue 14). A session's cookie value
//! is a random 256-bit token stored only as its SHA-256, with the CSRF token that the browser
//! must send back with every request the cookie authenticates. A sign-in attempt (the state,
//! nonce and PKCE verifier of one authorization request) is used once and lives ten minutes.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::Store;
use crate::directory::Person;
use crate::entity::{session, sign_in};
use crate::error::{Error, Result};
use crate::hash::sha256_hex;

/// How long a sign-in attempt waits for the identity provider's answer.
const SIGN_IN_WAIT: i64 = 10 * 60;
/// At most this many sign-in attempts wait at once: anyone may start one, so a flood of
/// them is refused (`Unavailable`) rather than grown without bound.
const MOST_WAITING: u64 = 10_000;

/// One authorization request waiting for its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    /// The issuer asked.
    pub issuer: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier.
    pub verifier: String,
    /// Where the browser goes afterwards (a path of this server).
    pub return_to: String,
}

/// A signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Who.
    pub person: Person,
    /// What state-changing requests must repeat (`X-CSRF-Token`).
    pub csrf: String,
    /// When it ends.
    pub expires_at: DateTime<Utc>,
    /// The API key that opened it (it ends when the key is revoked or expires); `None` for a
    /// session an identity provider opened.
    pub key: Option<uuid::Uuid>,
    /// When that key expires, if it does.
    pub key_expires_at: Option<DateTime<Utc>>,
}

/// A random 256-bit value, hex.
pub fn random_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Unavailable(format!("no randomness available: {e}")))?;
    Ok(hex::encode(bytes))
}

impl Store {
    /// Records a sign-in attempt under its `state` (and forgets attempts that waited too long).
    pub async fn begin_sign_in(&self, state: &str, s: &SignIn) -> Result<()> {
        let now = self.now();
        sign_in::Entity::delete_many()
            .filter(sign_in::Column::CreatedAt.lt(now - Duration::seconds(SIGN_IN_WAIT)))
            .exec(self.db())
            .await?;
        if sign_in::Entity::find().count(self.db()).await? >= MOST_WAITING {
            return Err(Error::Unavailable(
                "too many sign-ins are waiting for their identity provider".into(),
            ));
        }
        sign_in::Entity::insert(sign_in::ActiveModel {
            state: Set(state.to_owned()),
            issuer: Set(s.issuer.clone()),
            nonce: Set(s.nonce.clone()),
            verifier: Set(s.verifier.clone()),
            return_to: Set(s.return_to.clone()),
            created_at: Set(now),
        })
        .exec_without_returning(self.db())
        .await?;
        Ok(())
    }

    /// The attempt of `state`, once: taking it deletes it. `None` when unknown or too old.
    pub async fn take_sign_in(&self, state: &str) -> Result<Option<SignIn>> {
        let Some(m) = sign_in::Entity::find_by_id(state.to_owned())
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        let taken = sign_in::Entity::delete_by_id(state.to_owned())
            .exec(self.db())
            .await?
            .rows_affected
            == 1;
        let fresh = m.created_at > self.now() - Duration::seconds(SIGN_IN_WAIT);
        Ok((taken && fresh).then_some(SignIn {
            issuer: m.issuer,
            nonce: m.nonce,
            verifier: m.verifier,
            return_to: m.return_to,
        }))
    }

    /// Opens a session for `person` lasting `lifetime` — no longer than `key`, the API key that
    /// opened it, if one did — and returns the cookie's value and the CSRF token (the only time
    /// the cookie's value exists in clear).
    pub async fn open_session(
        &self,
        person: &str,
        lifetime: Duration,
        key: Option<&crate::KeyRecord>,
    ) -> Result<(String, String)> {
        let (token, csrf) = (random_token()?, random_token()?);
        let now = self.now();
        let mut ends = now + lifetime;
        if let Some(until) = key.and_then(|k| k.expires_at) {
            ends = ends.min(until);
        }
        session::Entity::insert(session::ActiveModel {
            id_hash: Set(sha256_hex(&token)),
            person_id: Set(person.to_owned()),
            csrf: Set(csrf.clone()),
            created_at: Set(now),
            expires_at: Set(ends),
            key_id: Set(key.map(|k| k.id)),
        })
        .exec_without_returning(self.db())
        .await?;
        Ok((token, csrf))
    }

    /// The session a cookie's value names, unless unknown, ended, expired, its person
    /// deactivated, or the key that opened it revoked or expired (read from the database on
    /// every request, so a revocation on any server ends it at once everywhere).
    pub async fn session(&self, token: &str) -> Result<Option<Session>> {
        let Some(m) = session::Entity::find_by_id(sha256_hex(token))
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        let now = self.now();
        if m.expires_at <= now {
            return Ok(None);
        }
        let mut key_expires_at = None;
        if let Some(key) = m.key_id {
            let live = crate::entity::api_key::Entity::find_by_id(key)
                .filter(crate::entity::api_key::Column::RevokedAt.is_null())
                .filter(crate::entity::api_key::Column::PersonId.eq(m.person_id.as_str()))
                .one(self.db())
                .await?
                .filter(|k| k.expires_at.is_none_or(|t| t > now));
            let Some(k) = live else {
                return Ok(None);
            };
            key_expires_at = k.expires_at;
        }
        Ok(self
            .person(&m.person_id)
            .await?
            .filter(|p| p.active)
            .map(|person| Session {
                person,
                csrf: m.csrf,
                expires_at: m.expires_at,
                key: m.key_id,
                key_expires_at,
            }))
    }

    /// Ends the session a cookie's value names; `false` when there was none.
    pub async fn end_session(&self, token: &str) -> Result<bool> {
        Ok(session::Entity::delete_by_id(sha256_hex(token))
            .exec(self.db())
            .await?
            .rows_affected
            == 1)
    }

    /// Ends every session of a person (deactivation).
    pub(crate) async fn end_sessions_of(
        &self,
        txn: &impl sea_orm::ConnectionTrait,
        person: &str,
    ) -> Result<()> {
        session::Entity::delete_many()
            .filter(session::Column::PersonId.eq(person))
            .exec(txn)
            .await?;
        Ok(())
    }
}
