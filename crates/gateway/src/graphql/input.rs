//! What every resolver checks its input with: ids, and the longest strings taken.

use async_graphql::ID;

use crate::error::{GqlResult, bad_input};

/// The longest idempotency key, in characters.
pub const MAX_IDEMPOTENCY_KEY: usize = 200;
/// The longest name (workflow key, action, colleague), in characters.
pub const MAX_NAME: usize = 200;
/// The longest comment or reason, in characters.
pub const MAX_TEXT: usize = 20_000;

/// Refuses a string longer than `max` characters, naming the field.
pub(crate) fn bounded(field: &str, value: Option<&str>, max: usize) -> GqlResult<()> {
    match value {
        Some(v) if v.chars().count() > max => Err(bad_input(format!(
            "`{field}` is longer than {max} characters"
        ))),
        _ => Ok(()),
    }
}

/// The UUID an id names; an id that is none is `NOT_FOUND`, as for one that names nothing.
pub(crate) fn parse_id(id: &ID, what: &str) -> GqlResult<uuid::Uuid> {
    id.parse::<uuid::Uuid>()
        .map_err(|_| crate::error::not_found(what.to_owned()))
}

/// A date field (`YYYY-MM-DD`), or BAD_USER_INPUT naming the field.
pub(crate) fn parse_date(field: &str, v: &str) -> GqlResult<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| crate::error::bad_input(format!("`{field}` must be a date like 2027-06-30")))
}
