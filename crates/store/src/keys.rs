//! API keys: random 256-bit tokens, shown once, stored only as SHA-256 hashes (enough for
//! machine-generated secrets: there is nothing to brute-force).
//!
//! On PostgreSQL a server remembers the keys it has authenticated, so a request costs no
//! key lookup, but only while it listens for revocations: revoking a key notifies every
//! listening server in the revoking transaction (`NOTIFY softland_keys`), and a server forgets
//! every remembered key when it hears one, or when its listening connection drops (it may have
//! missed one). A revoked key therefore stops working everywhere as soon as the notification
//! arrives (milliseconds). SQLite has no notifications: every request looks its key up.

use std::time::Duration;

use sea_orm::sea_query::Expr;
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};
use tokio::sync::watch;
use uuid::Uuid;

use crate::entity::api_key;
use crate::error::{Error, Result};
use crate::hash::sha256_hex;
use crate::records::{KeyRecord, KeyRole};
use crate::{Backend, Store};

/// The PostgreSQL channel revocations are announced on.
const CHANNEL: &str = "softland_keys";

fn key_record(m: api_key::Model) -> Result<KeyRecord> {
    let role = match (m.role.as_str(), m.agency, m.organization) {
        ("admin", _, _) => KeyRole::Admin,
        ("reviewer", Some(agency), _) => KeyRole::Reviewer { agency },
        ("applicant", _, Some(organization)) => KeyRole::Applicant { organization },
        (other, _, _) => {
            return Err(Error::Corrupt(format!(
                "API key {} has an unknown role `{other}`",
                m.id
            )));
        }
    };
    Ok(KeyRecord {
        id: m.id,
        label: m.label,
        role,
        created_at: m.created_at,
        revoked_at: m.revoked_at,
    })
}

impl Store {
    /// Creates a key; returns it with its token (the only time the token exists in clear).
    pub async fn create_key(&self, label: &str, role: KeyRole) -> Result<(KeyRecord, String)> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| Error::Unavailable(format!("no randomness available: {e}")))?;
        let token = format!("sl_{}", hex::encode(bytes));
        let (role_name, agency, organization) = match &role {
            KeyRole::Admin => ("admin", None, None),
            KeyRole::Reviewer { agency } => ("reviewer", Some(agency.clone()), None),
            KeyRole::Applicant { organization } => ("applicant", None, Some(organization.clone())),
        };
        let model = api_key::ActiveModel {
            id: Set(Uuid::now_v7()),
            label: Set(label.to_owned()),
            token_hash: Set(sha256_hex(&token)),
            role: Set(role_name.to_owned()),
            agency: Set(agency),
            organization: Set(organization),
            created_at: Set(self.now()),
            revoked_at: Set(None),
        };
        let m = api_key::Entity::insert(model)
            .exec_with_returning(self.db())
            .await?;
        Ok((key_record(m)?, token))
    }

    /// The key a token belongs to, unless unknown or revoked.
    pub async fn authenticate(&self, token: &str) -> Result<Option<KeyRecord>> {
        let hash = sha256_hex(token);
        let generation = match self.inner.keys.get(&hash) {
            Ok(key) => return Ok(Some(key)),
            Err(generation) => generation,
        };
        let found = api_key::Entity::find()
            .filter(api_key::Column::TokenHash.eq(hash.as_str()))
            .filter(api_key::Column::RevokedAt.is_null())
            .one(self.db())
            .await?
            .map(key_record)
            .transpose()?;
        if let (Some(generation), Some(key)) = (generation, &found) {
            self.inner.keys.fill(generation, hash, key);
        }
        Ok(found)
    }

    /// PostgreSQL: listens for key revocations until `stop` turns true, reconnecting after a
    /// lost connection; while it listens, [`Store::authenticate`] remembers keys. `None` on
    /// SQLite (no notifications; keys are always looked up).
    pub fn spawn_key_watch(
        &self,
        mut stop: watch::Receiver<bool>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        if self.inner.backend != Backend::Postgres {
            return None;
        }
        let store = self.clone();
        Some(tokio::spawn(async move {
            let cache = &store.inner.keys;
            loop {
                let pool = store.db().get_postgres_connection_pool();
                match listen(pool).await {
                    Ok(mut listener) => {
                        cache.forget(Some(true));
                        loop {
                            tokio::select! {
                                _ = stop.changed() => break,
                                heard = listener.try_recv() => match heard {
                                    Ok(Some(_)) => cache.forget(None),
                                    Ok(None) | Err(_) => break,
                                },
                            }
                        }
                        cache.forget(Some(false));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for key revocations; looking keys up")
                    }
                }
                if *stop.borrow() {
                    return;
                }
                tokio::select! {
                    _ = stop.changed() => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }))
    }

    /// Every key, oldest first.
    pub async fn keys(&self) -> Result<Vec<KeyRecord>> {
        api_key::Entity::find()
            .order_by_asc(api_key::Column::Id)
            .all(self.db())
            .await?
            .into_iter()
            .map(key_record)
            .collect()
    }

    /// Whether any admin key is active (the first start creates one when none is).
    pub async fn has_admin_key(&self) -> Result<bool> {
        Ok(self
            .keys()
            .await?
            .iter()
            .any(|k| k.role == KeyRole::Admin && k.revoked_at.is_none()))
    }

    /// Revokes a key; `false` when there is no such active key. On PostgreSQL the same
    /// transaction notifies every server that remembers keys.
    pub async fn revoke_key(&self, id: Uuid) -> Result<bool> {
        let txn = self.db().begin().await?;
        let res = api_key::Entity::update_many()
            .col_expr(api_key::Column::RevokedAt, Expr::value(self.now()))
            .filter(api_key::Column::Id.eq(id))
            .filter(api_key::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        if self.inner.backend == Backend::Postgres && res.rows_affected == 1 {
            txn.execute_unprepared(&format!("NOTIFY {CHANNEL}")).await?;
        }
        txn.commit().await?;
        self.inner.keys.forget(None);
        Ok(res.rows_affected == 1)
    }
}

async fn listen(
    pool: &sea_orm::sqlx::PgPool,
) -> std::result::Result<PgListener, sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}
