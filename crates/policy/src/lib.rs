//! softland-policy: who may see and do what — deny by default, decided here and nowhere else.
//!
//! The API's resolvers, the console (through the API), subscriptions, the notifications'
//! fan-out (webhooks and e-mail), downloads and exports all ask a [`Principal`]; none decides
//! on its own. Nothing here knows GraphQL or HTTP: a "no" is a [`Refusal`], which the edge that
//! answers the caller turns into its code.
//!
//! Callers are people of the directory (`softland_store::directory`); a key acts as its person,
//! a webhook endpoint as its owner ([`Principal::of_endpoint`]).
//!
//! | role | sees | acts on | inbox (query and `inboxEvents`) |
//! |---|---|---|---|
//! | admin | every application | publishes and retires workflows; manages the directory and keys; releases and delegates any agency's claims | none |
//! | agency lead (agency A) | as a reviewer of A | as a reviewer of A; releases and delegates any claim of A; manages A's people and keys | A's open tasks |
//! | reviewer (agency A) | applications that have or had a task for A | A's tasks | A's open tasks |
//! | observer (agency A) | every application of the programmes whose `oversight:` names A | nothing; reads their reports and exports | none |
//! | staff (organization O; a lead also manages O's people and keys) | O's applications | O's applicant tasks; submits and withdraws for O | O's open applicant tasks |
//!
//! What each sees of an application's history (queries, subscriptions, webhooks alike):
//!
//! | entry field | admin, reviewer | applicant |
//! |---|---|---|
//! | `party` (the agency that acted, or `applicant`) | yes | yes |
//! | `actor` (the person) | yes | for its own organization's people only; an agency's reviewer is shown by `party` |
//! | `comment`, `input` (questions, answers, reasons) | yes | yes |
//! | `note` (internal notes, any agency's) | yes | no: the entry is left out of its history |
//! | `claimedBy` of a task (who at an agency holds it) | yes | no |
//!
//! `tests.rs` enumerates role × relation × action against these tables.

mod acts;
mod directory;
mod principal;
mod refusal;
mod reports;
mod sees;
#[cfg(test)]
mod tests;

pub use acts::{OpenTask, TaskMoves};
pub use directory::{Authority, Minted, key_minting};
pub use principal::{Principal, STUDENT_SCOPE, student_scope};
pub use refusal::{Decision, Refusal};
pub use reports::ReportScope;
