//! The policy's "no": what the caller is told, and nothing of what they may not see.

use std::borrow::Cow;

/// Why the policy refuses.
///
/// Deliberately not `Display`: a refusal is turned into an answer by the edge that speaks to
/// the caller (the gateway gives it its `extensions.code`), never passed on as text by `?`.
#[derive(Debug)]
pub enum Refusal {
    /// The caller is known, may see the thing, and may not do this (`FORBIDDEN`).
    Forbidden(Cow<'static, str>),
    /// The caller may not see the thing: answered as if it did not exist (`NOT_FOUND`). Holds
    /// what was asked for (`task`, `application`).
    Hidden(&'static str),
    /// The store could not answer, so nothing was decided.
    Store(softland_store::Error),
}

impl Refusal {
    /// A `Forbidden` refusal saying `why`.
    pub fn forbidden(why: impl Into<Cow<'static, str>>) -> Self {
        Refusal::Forbidden(why.into())
    }
}

impl From<softland_store::Error> for Refusal {
    fn from(e: softland_store::Error) -> Self {
        Refusal::Store(e)
    }
}

/// The policy's answer: the thing asked for, or why not.
pub type Decision<T> = Result<T, Refusal>;
