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
    QuerySelect, TransactionTrait,
};
use tokio::sync::watch;
use uuid::Uuid;

use crate::directory::{Membership, NewPerson, Person, Role};
use crate::entity::{api_key, person};
use crate::error::{Error, Result};
use crate::hash::sha256_hex;
use crate::records::{KeyRecord, KeyRole};
use crate::{BackendKind, Store};

/// The PostgreSQL channel revocations (and deactivations) are announced on.
pub(crate) const CHANNEL: &str = "softland_keys";

fn key_record(m: api_key::Model, person: Person) -> KeyRecord {
    KeyRecord {
        id: m.id,
        label: m.label,
        person,
        created_at: m.created_at,
        expires_at: m.expires_at,
        revoked_at: m.revoked_at,
    }
}

/// A key's person, or an error naming the row when the key names none.
async fn person_of(store: &Store, m: &api_key::Model) -> Result<Person> {
    let Some(id) = &m.person_id else {
        return Err(Error::Unreadable {
            table: "api_keys",
            id: m.id.to_string(),
            column: "person_id",
            why: "the key names no person".into(),
        });
    };
    store.person(id).await?.ok_or_else(|| Error::Unreadable {
        table: "api_keys",
        id: m.id.to_string(),
        column: "person_id",
        why: format!("the directory has no person `{id}`"),
    })
}

impl Store {
    /// Creates a key for `label` acting as `role`: the person with id `label` of that
    /// membership (added with the role when there is none, or given the role when they lack
    /// it; `label@agency` when another membership's person has the id `label`). Returns the key
    /// with its token (the only time the token exists in clear). What the CLI's
    /// `keys create --agency X --label Y` does.
    pub async fn create_key(&self, label: &str, role: KeyRole) -> Result<(KeyRecord, String)> {
        let person = self.person_for_key(label, role).await?;
        self.create_key_for(&person.id, label, None).await
    }

    /// The person a key made by label acts as (see [`Store::create_key`]), added to the
    /// directory when missing. A person who exists is never changed: one without the key's
    /// role is refused (a lead or administrator gives roles in the directory).
    pub async fn person_for_key(&self, label: &str, role: KeyRole) -> Result<Person> {
        let (membership, person_role) = match &role {
            KeyRole::Admin => (Membership::None, Role::Admin),
            KeyRole::Reviewer { agency } => (Membership::Agency(agency.clone()), Role::Reviewer),
            KeyRole::Observer { agency } => (Membership::Agency(agency.clone()), Role::Observer),
            KeyRole::Applicant { organization } => {
                (Membership::Organization(organization.clone()), Role::Staff)
            }
            KeyRole::Student => (Membership::None, Role::Student),
        };
        let id = match self.person(label).await? {
            Some(p) if p.membership != membership => {
                let scope = match &membership {
                    Membership::Agency(k) | Membership::Organization(k) => k.as_str(),
                    Membership::None if person_role == Role::Student => "student",
                    Membership::None => "admin",
                };
                format!("{label}@{scope}")
            }
            _ => label.to_owned(),
        };
        if let Some(existing) = self.person(&id).await? {
            if existing.has(person_role) {
                return Ok(existing);
            }
            return Err(Error::InvalidDirectory(format!(
                "person `{id}` is in the directory without the {} role: give it to them there \
                 (a key never changes a person), or make a key for them as they are with \
                 `--person {id}`",
                person_role.as_str()
            )));
        }
        let roles = vec![person_role];
        let (agency, organization) = match membership {
            Membership::Agency(a) => (Some(a), None),
            Membership::Organization(o) => (None, Some(o)),
            Membership::None => (None, None),
        };
        self.put_person(&NewPerson {
            id,
            display_name: Some(label.to_owned()),
            email: None,
            agency,
            organization,
            roles,
            service: false,
            language: None,
        })
        .await
    }

    /// Creates a key for a person (or service account), optionally expiring; returns it with
    /// its token (the only time the token exists in clear).
    pub async fn create_key_for(
        &self,
        person: &str,
        label: &str,
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<(KeyRecord, String)> {
        self.mint_key(person, label, expires_at, None).await
    }

    /// Creates a key as [`Store::create_key_for`] does, remembering the key under whose
    /// authority it was made (`minted_by`): revoking that key revokes this one too.
    pub async fn mint_key(
        &self,
        person: &str,
        label: &str,
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
        minted_by: Option<Uuid>,
    ) -> Result<(KeyRecord, String)> {
        let Some(owner) = self.person(person).await? else {
            return Err(Error::NotFound(format!("person `{person}`")));
        };
        if !owner.active {
            return Err(Error::InvalidDirectory(format!(
                "person `{person}` is deactivated"
            )));
        }
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| Error::Unavailable(format!("no randomness available: {e}")))?;
        let token = format!("sl_{}", hex::encode(bytes));
        let model = api_key::ActiveModel {
            id: Set(Uuid::now_v7()),
            label: Set(label.to_owned()),
            token_hash: Set(sha256_hex(&token)),
            created_at: Set(self.now()),
            revoked_at: Set(None),
            person_id: Set(Some(owner.id.clone())),
            expires_at: Set(expires_at),
            minted_by: Set(minted_by),
        };
        let m = api_key::Entity::insert(model)
            .exec_with_returning(self.db())
            .await?;
        Ok((key_record(m, owner), token))
    }

    /// The key a token belongs to, unless unknown, revoked, expired, or its person deactivated.
    pub async fn authenticate(&self, token: &str) -> Result<Option<KeyRecord>> {
        let hash = sha256_hex(token);
        let now = self.now();
        let generation = match self.inner.keys.get(&hash) {
            Ok(key) => return Ok(key.expires_at.is_none_or(|t| t > now).then_some(key)),
            Err(generation) => generation,
        };
        // The key and its person in one read (every request on SQLite, which remembers none).
        let owner: sea_orm::RelationDef = api_key::Entity::belongs_to(person::Entity)
            .from(api_key::Column::PersonId)
            .to(person::Column::Id)
            .into();
        let Some((m, owner)) = api_key::Entity::find()
            .filter(api_key::Column::TokenHash.eq(hash.as_str()))
            .filter(api_key::Column::RevokedAt.is_null())
            .join(sea_orm::JoinType::LeftJoin, owner)
            .select_also(person::Entity)
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        let person = match owner {
            Some(p) => crate::directory::person_record(p)?,
            None => person_of(self, &m).await?,
        };
        if !person.active {
            return Ok(None);
        }
        let key = key_record(m, person);
        if let Some(generation) = generation {
            self.inner.keys.fill(generation, hash, &key);
        }
        Ok(key.expires_at.is_none_or(|t| t > now).then_some(key))
    }

    /// Every server forgets the keys (and people) it remembered.
    pub(crate) fn keys_changed(&self) {
        self.inner.keys.forget(None);
    }

    /// PostgreSQL: listens for key revocations until `stop` turns true, reconnecting after a
    /// lost connection; while it listens, [`Store::authenticate`] remembers keys. `None` on
    /// SQLite (no notifications; keys are always looked up).
    pub fn spawn_key_watch(
        &self,
        mut stop: watch::Receiver<bool>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        if self.inner.backend.kind() != BackendKind::Postgres {
            return None;
        }
        let store = self.clone();
        Some(tokio::spawn(async move {
            let cache = &store.inner.keys;
            let mut log = crate::worker_log::PassLog::new("key revocation listener");
            loop {
                let pool = store.db().get_postgres_connection_pool();
                match listen(pool).await {
                    Ok(mut listener) => {
                        log.succeeded();
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
                    // Meanwhile keys are looked up in the database on every request.
                    Err(e) => log.failed_with(crate::error::sqlx_unreachable(&e), &e),
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
        let people: std::collections::HashMap<String, Person> = self
            .people(None)
            .await?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        let mut out = Vec::new();
        for m in api_key::Entity::find()
            .order_by_asc(api_key::Column::Id)
            .all(self.db())
            .await?
        {
            let person = match m.person_id.as_ref().and_then(|id| people.get(id)) {
                Some(p) => p.clone(),
                None => person_of(self, &m).await?,
            };
            out.push(key_record(m, person));
        }
        Ok(out)
    }

    /// The keys of one person, oldest first.
    pub async fn keys_of(&self, person: &str) -> Result<Vec<KeyRecord>> {
        Ok(self
            .keys()
            .await?
            .into_iter()
            .filter(|k| k.person.id == person)
            .collect())
    }

    /// Whether any administrator can sign in with a key (the first start creates one when
    /// none can).
    pub async fn has_admin_key(&self) -> Result<bool> {
        let now = self.now();
        Ok(self.keys().await?.iter().any(|k| {
            k.person.active
                && k.person.has(Role::Admin)
                && k.revoked_at.is_none()
                && k.expires_at.is_none_or(|t| t > now)
        }))
    }

    /// Revokes a key; `false` when there is no such active key. With it go the browser
    /// sessions it opened and the keys made under its authority (`minted_by`, transitively).
    /// On PostgreSQL the same transaction notifies every server that remembers keys.
    pub async fn revoke_key(&self, id: Uuid) -> Result<bool> {
        let txn = self.db().begin().await?;
        let now = self.now();
        let res = api_key::Entity::update_many()
            .col_expr(api_key::Column::RevokedAt, Expr::value(now))
            .filter(api_key::Column::Id.eq(id))
            .filter(api_key::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        let mut gone = vec![id];
        // A chain of keys each made under the previous one is short; bounded all the same.
        for _ in 0..64 {
            if gone.is_empty() {
                break;
            }
            crate::entity::session::Entity::delete_many()
                .filter(crate::entity::session::Column::KeyId.is_in(gone.clone()))
                .exec(&txn)
                .await?;
            let minted: Vec<Uuid> = api_key::Entity::find()
                .filter(api_key::Column::MintedBy.is_in(gone))
                .filter(api_key::Column::RevokedAt.is_null())
                .all(&txn)
                .await?
                .into_iter()
                .map(|k| k.id)
                .collect();
            if !minted.is_empty() {
                api_key::Entity::update_many()
                    .col_expr(api_key::Column::RevokedAt, Expr::value(now))
                    .filter(api_key::Column::Id.is_in(minted.clone()))
                    .exec(&txn)
                    .await?;
            }
            gone = minted;
        }
        if self.inner.backend.kind() == BackendKind::Postgres && res.rows_affected == 1 {
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
