//! Students' profiles: what a student says of themselves — name, e-mail, institution,
//! programme, year of study, residency — kept once and the start of their next application's
//! form (a form's `student` section). Only these fields, each a short text, a number or a yes
//! or no; anything else is refused.

use sea_orm::ActiveValue::Set;
use sea_orm::EntityTrait;
use sea_orm::sea_query::OnConflict;
use serde_json::{Map, Value};

use crate::Store;
use crate::entity::student_profile;
use crate::error::{Error, Result};

/// The fields a profile keeps, and what each holds.
pub const PROFILE_FIELDS: [(&str, Kind); 6] = [
    ("name", Kind::Text),
    ("email", Kind::Text),
    ("university", Kind::Text),
    ("programme", Kind::Text),
    ("year_of_study", Kind::Number),
    ("hk_permanent_resident", Kind::YesNo),
];

/// What a profile field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Up to 200 characters.
    Text,
    /// A whole number from 0 to 20.
    Number,
    /// `true` or `false`.
    YesNo,
}

/// The profile `given` keeps: its known fields, checked. `strict` refuses an unknown field or
/// a wrong value (what a student saves); otherwise they are left out (a form's section).
pub fn profile_of(given: &Value, strict: bool) -> Result<Value> {
    let Value::Object(fields) = given else {
        return Err(Error::InvalidPosition("a profile is an object".to_owned()));
    };
    let mut kept = Map::new();
    for (k, v) in fields {
        let Some((name, kind)) = PROFILE_FIELDS.iter().find(|(n, _)| n == k) else {
            if strict {
                return Err(Error::InvalidPosition(format!(
                    "a profile has no field `{}`; it keeps: {}",
                    k.chars().take(64).collect::<String>(),
                    PROFILE_FIELDS.map(|(n, _)| n).join(", ")
                )));
            }
            continue;
        };
        let ok = match kind {
            Kind::Text => v.as_str().is_some_and(|s| s.chars().count() <= 200),
            Kind::Number => v.as_u64().is_some_and(|n| n <= 20),
            Kind::YesNo => v.is_boolean(),
        };
        if ok {
            kept.insert((*name).to_owned(), v.clone());
        } else if strict {
            return Err(Error::InvalidPosition(format!(
                "profile field `{name}` must be {}",
                match kind {
                    Kind::Text => "a text of at most 200 characters",
                    Kind::Number => "a whole number from 0 to 20",
                    Kind::YesNo => "true or false",
                }
            )));
        }
    }
    Ok(Value::Object(kept))
}

impl Store {
    /// A student's profile, if they have one.
    pub async fn student_profile(&self, person: &str) -> Result<Option<Value>> {
        Ok(student_profile::Entity::find_by_id(person.to_owned())
            .one(self.db())
            .await?
            .map(|p| p.profile))
    }

    /// Keeps a student's profile (its known fields; see [`profile_of`]).
    pub async fn keep_student_profile(&self, person: &str, profile: &Value) -> Result<Value> {
        let kept = profile_of(profile, true)?;
        let row = student_profile::ActiveModel {
            person_id: Set(person.to_owned()),
            profile: Set(kept.clone()),
            updated_at: Set(self.now()),
        };
        student_profile::Entity::insert(row)
            .on_conflict(
                OnConflict::column(student_profile::Column::PersonId)
                    .update_columns([
                        student_profile::Column::Profile,
                        student_profile::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(self.db())
            .await?;
        Ok(kept)
    }
}
