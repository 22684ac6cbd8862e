//! The directory's rows: adding, changing, listing and deactivating agencies, organizations
//! and people (the types are in [`crate::directory`]).

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use crate::directory::{
    Agency, Directory, Loaded, Membership, NewPerson, Organization, Person, REGIONS, Role,
    agency_record, check_email, check_id, check_language, check_roles, check_text, invalid,
    organization_record, person_record,
};
use crate::entity::enums::TaskStatus;
use crate::entity::{agency, api_key, organization, person, task};
use crate::error::{Error, Result};
use crate::{Backend, Store};

impl Store {
    /// Every agency, by key.
    pub async fn agencies(&self) -> Result<Vec<Agency>> {
        Ok(agency::Entity::find()
            .order_by_asc(agency::Column::Key)
            .all(self.db())
            .await?
            .into_iter()
            .map(agency_record)
            .collect())
    }

    /// Every organization, by key.
    pub async fn organizations(&self) -> Result<Vec<Organization>> {
        Ok(organization::Entity::find()
            .order_by_asc(organization::Column::Key)
            .all(self.db())
            .await?
            .into_iter()
            .map(organization_record)
            .collect())
    }

    /// Adds an agency or changes its names, region, calendar and inbox address. Its due dates
    /// count the working days of its calendar (its region's unless named) from now on, in this
    /// server; other servers on the database take the change at their next start.
    pub async fn put_agency(&self, a: &Agency) -> Result<Agency> {
        check_id("agency key", &a.key)?;
        check_text("an agency's name", &a.name)?;
        for (what, text) in [
            ("a Traditional Chinese name", &a.name_zh_hant),
            ("a Simplified Chinese name", &a.name_zh_hans),
            ("a sign-in issuer", &a.sign_in_issuer),
        ] {
            text.as_deref().map(|t| check_text(what, t)).transpose()?;
        }
        for (what, value) in [
            ("region", Some(&a.region)),
            ("calendar", a.calendar.as_ref()),
        ] {
            if let Some(v) = value
                && !REGIONS.contains(&v.as_str())
            {
                return Err(invalid(format!(
                    "agency `{}`: {what} must be `hk` or `mainland`",
                    a.key
                )));
            }
        }
        let inbox_email = a.inbox_email.as_deref().map(check_email).transpose()?;
        check_language(&format!("agency `{}`", a.key), a.language.as_ref())?;
        let model = agency::ActiveModel {
            key: Set(a.key.clone()),
            name: Set(a.name.clone()),
            region: Set(a.region.clone()),
            created_at: Set(self.now()),
            name_zh_hant: Set(a.name_zh_hant.clone()),
            name_zh_hans: Set(a.name_zh_hans.clone()),
            calendar: Set(a.calendar.clone()),
            inbox_email: Set(inbox_email),
            sign_in_issuer: Set(a.sign_in_issuer.clone()),
            language: Set(a.language.clone()),
            digest: Set(a.digest),
        };
        agency::Entity::insert(model)
            .on_conflict(
                OnConflict::column(agency::Column::Key)
                    .update_columns([
                        agency::Column::Name,
                        agency::Column::Region,
                        agency::Column::NameZhHant,
                        agency::Column::NameZhHans,
                        agency::Column::Calendar,
                        agency::Column::InboxEmail,
                        agency::Column::SignInIssuer,
                        agency::Column::Language,
                        agency::Column::Digest,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(self.db())
            .await?;
        let stored = self
            .agency(&a.key)
            .await?
            .ok_or_else(|| Error::NotFound(format!("agency `{}`", a.key)))?;
        self.count_days_of(&stored);
        Ok(stored)
    }

    /// Due dates of `a`'s tasks count the working days of its calendar.
    fn count_days_of(&self, a: &Agency) {
        let region = match a.calendar.as_deref().unwrap_or(&a.region) {
            "mainland" => softland_workflow::Region::Mainland,
            _ => softland_workflow::Region::HongKong,
        };
        self.inner.calendars.set_region(&a.key, region);
    }

    /// Every agency's calendar, as the directory holds them (at start).
    pub(crate) async fn count_days_of_every_agency(&self) -> Result<()> {
        for a in self.agencies().await? {
            self.count_days_of(&a);
        }
        Ok(())
    }

    /// One agency.
    pub async fn agency(&self, key: &str) -> Result<Option<Agency>> {
        Ok(agency::Entity::find_by_id(key.to_owned())
            .one(self.db())
            .await?
            .map(agency_record))
    }

    /// One organization.
    pub async fn organization(&self, key: &str) -> Result<Option<Organization>> {
        Ok(organization::Entity::find_by_id(key.to_owned())
            .one(self.db())
            .await?
            .map(organization_record))
    }

    /// Adds an organization or changes its names, registration number and region.
    pub async fn put_organization(&self, o: &Organization) -> Result<Organization> {
        check_id("organization key", &o.key)?;
        check_text("an organization's name", &o.name)?;
        for (what, text) in [
            ("a Traditional Chinese name", &o.name_zh_hant),
            ("a Simplified Chinese name", &o.name_zh_hans),
            ("a registration number", &o.registration_number),
        ] {
            text.as_deref().map(|t| check_text(what, t)).transpose()?;
        }
        check_language(&format!("organization `{}`", o.key), o.language.as_ref())?;
        if let Some(r) = &o.region
            && !REGIONS.contains(&r.as_str())
        {
            return Err(invalid(format!(
                "organization `{}`: region must be `hk` or `mainland`",
                o.key
            )));
        }
        let model = organization::ActiveModel {
            key: Set(o.key.clone()),
            name: Set(o.name.clone()),
            created_at: Set(self.now()),
            name_zh_hant: Set(o.name_zh_hant.clone()),
            name_zh_hans: Set(o.name_zh_hans.clone()),
            registration_number: Set(o.registration_number.clone()),
            region: Set(o.region.clone()),
            language: Set(o.language.clone()),
        };
        organization::Entity::insert(model)
            .on_conflict(
                OnConflict::column(organization::Column::Key)
                    .update_columns([
                        organization::Column::Name,
                        organization::Column::NameZhHant,
                        organization::Column::NameZhHans,
                        organization::Column::RegistrationNumber,
                        organization::Column::Region,
                        organization::Column::Language,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(self.db())
            .await?;
        Ok(o.clone())
    }

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
            .filter(task::Column::Status.eq(TaskStatus::Open))
            .exec(&txn)
            .await?;
        self.end_sessions_of(&txn, id).await?;
        if self.inner.backend == Backend::Postgres {
            txn.execute_unprepared(&format!("NOTIFY {}", crate::keys::CHANNEL))
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
            None => format!("{base}-{}", &crate::sessions::random_token()?[..8]),
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

    /// Loads a directory: agencies, then organizations, then people (each added or updated).
    pub async fn load_directory(&self, d: &Directory) -> Result<Loaded> {
        for a in &d.agencies {
            self.put_agency(a).await?;
        }
        for o in &d.organizations {
            self.put_organization(o).await?;
        }
        for p in &d.people {
            self.put_person(p).await?;
        }
        Ok(Loaded {
            agencies: d.agencies.len(),
            organizations: d.organizations.len(),
            people: d.people.len(),
        })
    }

    /// Adds the agencies, organizations and people of a seed file that the directory lacks,
    /// leaving every existing entry as an administrator set it.
    pub async fn seed_directory(&self, yaml: &str) -> Result<Loaded> {
        let d = Directory::parse_yaml(yaml)?;
        let mut missing = Directory::default();
        for a in d.agencies {
            if self.agency(&a.key).await?.is_none() {
                missing.agencies.push(a);
            }
        }
        let known: std::collections::BTreeSet<String> = self
            .organizations()
            .await?
            .into_iter()
            .map(|o| o.key)
            .collect();
        missing.organizations = d
            .organizations
            .into_iter()
            .filter(|o| !known.contains(&o.key))
            .collect();
        for p in d.people {
            if self.person(&p.id).await?.is_none() {
                missing.people.push(p);
            }
        }
        self.load_directory(&missing).await
    }

    /// Refuses agency keys the directory does not know (a workflow that names one).
    pub(crate) async fn unknown_agencies(&self, keys: &[String]) -> Result<Vec<String>> {
        let known: std::collections::BTreeSet<String> = agency::Entity::find()
            .filter(agency::Column::Key.is_in(keys.iter().cloned()))
            .all(self.db())
            .await?
            .into_iter()
            .map(|a| a.key)
            .collect();
        Ok(keys
            .iter()
            .filter(|k| !known.contains(*k))
            .cloned()
            .collect())
    }
}
