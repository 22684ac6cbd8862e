//! The directory's people: adding, changing, listing and deactivating them, and who joins on
//! first sign-in (the types are in [`crate::directory`]; agencies and organizations in
//! `bodies`).

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use crate::directory::{
    Membership, NewPerson, Person, Role, check_email, check_id, check_language, check_roles,
    check_text, invalid, person_record,
};
use crate::entity::{agency, api_key, organization, person, task};
use crate::error::{Error, Result};
use crate::{BackendKind, Store};

impl Store {
    /// One person.
    pub async fn person(&self, id: &str) -> Result<Option<Person>> {
        person::Entity::find_by_id(id.to_owned())
            .one(self.db())
            .await?
            .map(person_record)
            .transpose()
    }

    /// The person with an e-mail address (any case).
    pub async fn person_by_email(&self, email: &str) -> Result<Option<Person>> {
        person::Entity::find()
            .filter(person::Column::Email.eq(email.trim().to_lowercase()))
            .one(self.db())
            .await?
            .map(person_record)
            .transpose()
    }

    /// The people of a membership (every person with `None`), by id.
    pub async fn people(&self, of: Option<&Membership>) -> Result<Vec<Person>> {
        let mut q = person::Entity::find().order_by_asc(person::Column::Id);
        match of {
            None => {}
            Some(Membership::Agency(a)) => q = q.filter(person::Column::Agency.eq(a.as_str())),
            Some(Membership::Organization(o)) => {
                q = q.filter(person::Column::Organization.eq(o.as_str()))
            }
            Some(Membership::None) => {
                q = q
                    .filter(person::Column::Agency.is_null())
                    .filter(person::Column::Organization.is_null())
            }
        }
        q.all(self.db())
            .await?
            .into_iter()
            .map(person_record)
            .collect()
    }

    /// Adds a person, or updates one with the same id (their roles and service flag, and their
    /// display name and e-mail where given — left out, they stay; never their membership, which
    /// would rewrite who they acted for). The agency must exist; an organization is added (named
    /// by its key) if it does not.
    pub async fn put_person(&self, p: &NewPerson) -> Result<Person> {
        check_id("person id", &p.id)?;
        let existing = self.person(&p.id).await?;
        let display_name = p
            .display_name
            .clone()
            .or_else(|| existing.as_ref().map(|e| e.display_name.clone()))
            .unwrap_or_else(|| p.id.clone());
        check_text("a display name", &display_name)?;
        let email = match (&p.email, &existing) {
            (Some(e), _) => Some(check_email(e)?),
            (None, Some(e)) => e.email.clone(),
            (None, None) => None,
        };
        let membership = match (&p.agency, &p.organization) {
            (Some(_), Some(_)) => {
                return Err(invalid(format!(
                    "person `{}` belongs to an agency or an organization, not both",
                    p.id
                )));
            }
            (Some(a), None) => {
                if self.agency(a).await?.is_none() {
                    return Err(invalid(format!(
                        "person `{}`: the directory has no agency `{a}`",
                        p.id
                    )));
                }
                Membership::Agency(a.clone())
            }
            (None, Some(o)) => {
                check_id("organization key", o)?;
                self.ensure_organization(o).await?;
                Membership::Organization(o.clone())
            }
            (None, None) => Membership::None,
        };
        let mut roles = p.roles.clone();
        roles.sort();
        roles.dedup();
        check_roles(&membership, &roles)?;
        check_language(&format!("person `{}`", p.id), p.language.as_ref())?;
        if let Some(existing) = &existing
            && existing.membership != membership
        {
            return Err(invalid(format!(
                "person `{}` belongs to `{}`; a new membership needs a new person",
                p.id,
                existing.membership.label()
            )));
        }
        if let Some(email) = &email
            && let Some(other) = self.person_by_email(email).await?
            && other.id != p.id
        {
            return Err(invalid(format!(
                "person `{}`: another person has that e-mail address",
                p.id
            )));
        }
        let (agency, organization) = membership.columns();
        let words = roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let model = person::ActiveModel {
            id: Set(p.id.clone()),
            display_name: Set(display_name),
            email: Set(email),
            agency: Set(agency),
            organization: Set(organization),
            roles: Set(words),
            service: Set(p.service),
            active: Set(true),
            created_at: Set(self.now()),
            deactivated_at: Set(None),
            language: Set(p.language.clone()),
        };
        person::Entity::insert(model)
            .on_conflict(
                OnConflict::column(person::Column::Id)
                    .update_columns([
                        person::Column::DisplayName,
                        person::Column::Email,
                        person::Column::Roles,
                        person::Column::Service,
                        person::Column::Language,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(self.db())
            .await?;
        self.keys_changed();
        self.person(&p.id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("person `{}`", p.id)))
    }

    async fn ensure_organization(&self, key: &str) -> Result<()> {
        organization::Entity::insert(organization::ActiveModel {
            key: Set(key.to_owned()),
            name: Set(key.to_owned()),
            created_at: Set(self.now()),
            ..Default::default()
        })
        .on_conflict_do_nothing()
        .exec_without_returning(self.db())
        .await?;
        Ok(())
    }

    /// Deactivates a person: their keys are revoked and their claims released, in one
    /// transaction; every server forgets what it remembered of their keys. `false` when there
    /// is no such active person.
    pub async fn deactivate_person(&self, id: &str) -> Result<bool> {
        let now = self.now();
        let is_admin = self
            .person(id)
            .await?
            .is_some_and(|p| p.active && p.has(Role::Admin));
        let txn = self.db().begin().await?;
        // Someone must be left to administer: the only active administrator stays.
        let admins: Vec<String> = person::Entity::find()
            .select_only()
            .column(person::Column::Roles)
            .filter(person::Column::Active.eq(true))
            .filter(person::Column::Id.ne(id))
            .into_tuple()
            .all(&txn)
            .await?;
        if is_admin && !admins.iter().any(|r| r.split(' ').any(|w| w == "admin")) {
            return Err(invalid(format!(
                "`{id}` is the only active administrator: make someone else an administrator \
                 first"
            )));
        }
        let res = person::Entity::update_many()
            .col_expr(person::Column::Active, Expr::value(false))
            .col_expr(person::Column::DeactivatedAt, Expr::value(now))
            .filter(person::Column::Id.eq(id))
            .filter(person::Column::Active.eq(true))
            .exec(&txn)
            .await?;
        if res.rows_affected == 0 {
            return Ok(false);
        }
        api_key::Entity::update_many()
            .col_expr(api_key::Column::RevokedAt, Expr::value(now))
            .filter(api_key::Column::PersonId.eq(id))
            .filter(api_key::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        task::Entity::update_many()
            .col_expr(task::Column::ClaimedBy, Expr::value(Option::<String>::None))
            .col_expr(
                task::Column::ClaimedAt,
                Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
            )
            .filter(task::Column::ClaimedBy.eq(id))
            .filter(task::is_open())
            .exec(&txn)
            .await?;
        self.end_sessions_of(&txn, id).await?;
        if self.inner.backend.kind() == BackendKind::Postgres {
            txn.execute_unprepared(&format!("NOTIFY {}", crate::directory::keys::CHANNEL))
                .await?;
        }
        txn.commit().await?;
        self.keys_changed();
        Ok(true)
    }

    /// Someone signing in from `issuer` whom the directory lacks (no person has the e-mail
    /// address `email`): added to the agency that admits that issuer's people, without roles
    /// (no access until a lead or administrator gives them one). Admission only ever creates
    /// a new person: their id is the address where no one has it, else the address with a
    /// suffix — an existing person whose *id* happens to equal the address is never handed
    /// out. `None` when no agency admits the issuer.
    pub async fn join_on_sign_in(&self, issuer: &str, email: &str) -> Result<Option<Person>> {
        let issuer = issuer.trim_end_matches('/');
        let Some(a) = agency::Entity::find()
            .filter(agency::Column::SignInIssuer.is_in([issuer.to_owned(), format!("{issuer}/")]))
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        let email = check_email(email)?;
        if let Some(p) = self.person_by_email(&email).await? {
            return Ok(Some(p));
        }
        let base: String = email
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
            .take(48)
            .collect();
        let mut id = None;
        for n in 1..=9 {
            let candidate = if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            if !candidate.is_empty() && self.person(&candidate).await?.is_none() {
                id = Some(candidate);
                break;
            }
        }
        let id = match id {
            Some(id) => id,
            None => format!(
                "{base}-{}",
                &crate::directory::sessions::random_token()?[..8]
            ),
        };
        let p = NewPerson {
            id,
            display_name: Some(email.clone()),
            email: Some(email),
            agency: Some(a.key),
            organization: None,
            roles: Vec::new(),
            service: false,
            language: None,
        };
        let added = self.put_person(&p).await?;
        tracing::info!(
            person = added.id,
            issuer,
            "added on first sign-in, without roles"
        );
        Ok(Some(added))
    }

    /// Whether tokens of `issuer` may speak for `person`: the issuer their agency signs in
    /// with, where it names one; otherwise only the server's one identity provider (`sole`),
    /// never one of several.
    pub async fn issuer_speaks_for(
        &self,
        issuer: &str,
        person: &Person,
        sole: bool,
    ) -> Result<bool> {
        let bound = match &person.membership {
            Membership::Agency(a) => self.agency(a).await?.and_then(|a| a.sign_in_issuer),
            _ => None,
        };
        Ok(match bound {
            Some(b) => b.trim_end_matches('/') == issuer.trim_end_matches('/'),
            None => sole,
        })
    }
}
