//! A student's profile (issue "Places"): what they say of themselves once — institution, year
//! of study, residency — and the forms of their next applications start from. A student reads
//! and saves their own; nobody else has one.

use async_graphql::{Context, Json, Object};
use serde_json::Value;

use super::{principal, store};
use crate::error::{GqlResult, forbidden, from_store};

/// The most bytes a saved profile may take.
const MOST_PROFILE_BYTES: usize = 4 * 1024;

#[derive(Default, Debug)]
pub struct ProfileQuery;

#[Object]
impl ProfileQuery {
    /// The caller's profile, when a student (null until they save one or first apply).
    async fn student_profile(&self, ctx: &Context<'_>) -> GqlResult<Option<Json<Value>>> {
        let who = principal(ctx)?;
        if !who.is_student() {
            return Err(forbidden("only students have a profile"));
        }
        Ok(store(ctx)
            .student_profile(who.name())
            .await
            .map_err(from_store)?
            .map(Json))
    }
}

#[derive(Default, Debug)]
pub struct ProfileMutation;

#[Object]
impl ProfileMutation {
    /// Saves the caller's profile (a student): `name`, `email`, `university`, `programme`,
    /// `year_of_study`, `hk_permanent_resident`; any other field is refused.
    async fn save_student_profile(
        &self,
        ctx: &Context<'_>,
        profile: Json<Value>,
    ) -> GqlResult<Json<Value>> {
        let who = principal(ctx)?;
        if !who.is_student() {
            return Err(forbidden("only students have a profile"));
        }
        if profile.0.to_string().len() > MOST_PROFILE_BYTES {
            return Err(crate::error::bad_input(format!(
                "a profile takes at most {MOST_PROFILE_BYTES} bytes"
            )));
        }
        Ok(Json(
            store(ctx)
                .keep_student_profile(who.name(), &profile.0)
                .await
                .map_err(from_store)?,
        ))
    }
}
