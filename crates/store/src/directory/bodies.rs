//! The directory's agencies and organizations: adding, changing and listing them (the types
//! are in [`crate::directory`]).

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::Store;

/// What a student's applications are filed under, before their directory id (the policy's
/// `student_scope`).
pub const STUDENT_SCOPE: &str = "student:";
use crate::directory::{
    Agency, Organization, REGIONS, agency_record, check_email, check_id, check_language,
    check_text, invalid, organization_record,
};
use crate::entity::{agency, organization};
use crate::error::{Error, Result};

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

    /// Every organization, by key (not the scopes students' applications are filed under:
    /// a student belongs to none).
    pub async fn organizations(&self) -> Result<Vec<Organization>> {
        Ok(organization::Entity::find()
            .filter(organization::Column::Key.not_like(format!("{STUDENT_SCOPE}%")))
            .order_by_asc(organization::Column::Key)
            .all(self.db())
            .await?
            .into_iter()
            .map(organization_record)
            .collect())
    }

    /// Files a student's applications under their own scope (`student:ID`), named as the
    /// directory names the person, the first time they apply. Organisation keys never hold
    /// `:`, so no organisation can be this scope.
    pub async fn file_student(&self, scope: &str, person: &str) -> Result<()> {
        if !scope.starts_with(STUDENT_SCOPE) || self.organization(scope).await?.is_some() {
            return Ok(());
        }
        let name = self
            .person(person)
            .await?
            .map(|p| p.display_name)
            .unwrap_or_else(|| person.to_owned());
        let model = organization::ActiveModel {
            key: Set(scope.to_owned()),
            name: Set(name),
            created_at: Set(self.now()),
            name_zh_hant: Set(None),
            name_zh_hans: Set(None),
            registration_number: Set(None),
            region: Set(None),
            language: Set(None),
        };
        organization::Entity::insert(model)
            .on_conflict(
                OnConflict::column(organization::Column::Key)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(self.db())
            .await?;
        Ok(())
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
