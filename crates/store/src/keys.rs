//! API keys: random 256-bit tokens, shown once, stored only as SHA-256 hashes (enough for
//! machine-generated secrets: there is nothing to brute-force).

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use uuid::Uuid;

use crate::Store;
use crate::entity::api_key;
use crate::error::{Error, Result};
use crate::hash::sha256_hex;

/// What a key may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum KeyRole {
    /// Everything, including publishing workflows.
    Admin,
    /// A partner agency's reviewer.
    Reviewer {
        /// The agency key.
        agency: String,
    },
    /// An applicant organization.
    Applicant {
        /// The organization key.
        organization: String,
    },
}

/// A stored key (never the token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyRecord {
    /// Its id.
    pub id: Uuid,
    /// A label for people.
    pub label: String,
    /// What it may do.
    pub role: KeyRole,
    /// When it was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it was revoked.
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

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
            .map_err(|e| Error::Corrupt(format!("no randomness available: {e}")))?;
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
        let found = api_key::Entity::find()
            .filter(api_key::Column::TokenHash.eq(sha256_hex(token)))
            .filter(api_key::Column::RevokedAt.is_null())
            .one(self.db())
            .await?;
        found.map(key_record).transpose()
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

    /// Revokes a key; `false` when there is no such active key.
    pub async fn revoke_key(&self, id: Uuid) -> Result<bool> {
        let res = api_key::Entity::update_many()
            .col_expr(api_key::Column::RevokedAt, Expr::value(self.now()))
            .filter(api_key::Column::Id.eq(id))
            .filter(api_key::Column::RevokedAt.is_null())
            .exec(self.db())
            .await?;
        Ok(res.rows_affected == 1)
    }
}
