//! Who keeps the directory: whose people a caller sees, adds and changes, and what a key made
//! through the API may be.

use chrono::{DateTime, Utc};
use softland_store::directory::{Membership, Role};

use crate::{Decision, Principal, Refusal};

impl Principal {
    /// Whether the caller may see the people of `membership`: administrators everyone's,
    /// everyone else their own colleagues' (a reviewer delegates to one).
    pub fn sees_people_of(&self, membership: &Membership) -> bool {
        self.is_admin() || (*membership != Membership::None && self.membership() == *membership)
    }

    /// Whether the caller may add (or change) a person of `membership` with `roles`:
    /// administrators anyone; a lead their own agency's or organization's people, with any role
    /// but administrator.
    pub fn may_put_person(&self, membership: &Membership, roles: &[Role]) -> Decision<()> {
        if self.is_admin() {
            return Ok(());
        }
        if !self.manages(membership) {
            return Err(Refusal::forbidden(
                "leads manage their own agency's or organization's people; administrators everyone",
            ));
        }
        if roles.contains(&Role::Admin) {
            return Err(Refusal::forbidden(
                "only administrators make administrators",
            ));
        }
        Ok(())
    }

    /// Whether the caller manages the people and keys of `membership`: administrators all,
    /// a lead their own agency's or organization's.
    pub fn manages(&self, membership: &Membership) -> bool {
        match (self, membership) {
            (Principal::Admin { .. }, _) => true,
            (
                Principal::Reviewer {
                    agency, lead: true, ..
                },
                Membership::Agency(a),
            ) => a == agency,
            (
                Principal::Applicant {
                    organization,
                    lead: true,
                    ..
                },
                Membership::Organization(o),
            ) => o == organization,
            _ => false,
        }
    }
}

/// The authority a caller's credential carries beyond their person: the API key behind it (a
/// bearer key, or the key that opened a browser session) and when that key expires. A key
/// made with this credential may not outlive it (see [`key_minting`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Authority {
    /// The key behind the credential, if a key is.
    pub key: Option<uuid::Uuid>,
    /// When the credential's authority ends, if it does.
    pub until: Option<DateTime<Utc>>,
}

/// What a key made through the API becomes: its expiry and the key it was made under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Minted {
    /// When it expires: what was asked, but never after the maker's own credential.
    pub expires_at: Option<DateTime<Utc>>,
    /// The key it is revoked with: the maker's, when they make a key for themself.
    pub minted_by: Option<uuid::Uuid>,
}

/// The rule for keys made through the API (`createApiKey`, the console's key page): a key may
/// not outlive the credential that made it — it expires no later than the maker's key (a
/// bearer key, or the key a browser session was opened with), whatever was asked — and a key
/// a person makes for themself is revoked with the key it was made under. Keys made for
/// others are the directory's (a lead's or an administrator's act, recorded) and only capped.
/// A stolen browser session thus cannot mint a key that lives on after its key is revoked.
pub fn key_minting(
    maker: &Principal,
    authority: Authority,
    person: &str,
    asked: Option<DateTime<Utc>>,
) -> Minted {
    let expires_at = match (asked, authority.until) {
        (Some(a), Some(u)) => Some(a.min(u)),
        (a, u) => a.or(u),
    };
    Minted {
        expires_at,
        minted_by: authority.key.filter(|_| maker.name() == person),
    }
}

impl Principal {
    /// Whose people a people list shows: the membership asked for, else an administrator's
    /// everyone (`None`) and anyone else's own colleagues. Whether the caller may see them is
    /// [`Principal::sees_people_of`].
    pub fn people_scope(&self, asked: Option<Membership>) -> Option<Membership> {
        match asked {
            Some(m) => Some(m),
            None if self.is_admin() => None,
            None => Some(self.membership()),
        }
    }

    /// Whether the caller may make an API key for `person`: their lead or an administrator,
    /// and only an administrator for an administrator.
    pub fn may_make_key_for(&self, person: &softland_store::directory::Person) -> Decision<()> {
        if !self.manages(&person.membership) {
            return Err(Refusal::forbidden(
                "only their lead or an administrator makes a person's keys",
            ));
        }
        if person.has(Role::Admin) && !self.is_admin() {
            return Err(Refusal::forbidden(
                "only administrators make administrators' keys",
            ));
        }
        Ok(())
    }

    /// Whose webhook endpoints the caller lists and adds: an administrator's every one
    /// (`None`), a lead their agency's or organization's.
    pub fn endpoints_owner(&self) -> Decision<Option<String>> {
        if self.is_admin() {
            return Ok(None);
        }
        let own = self.membership();
        if self.manages(&own) {
            Ok(Some(own.label()))
        } else {
            Err(Refusal::forbidden(
                "leads and administrators manage webhook endpoints",
            ))
        }
    }

    /// Whether the caller manages the endpoint owned by `owner` (its deliveries, its secret):
    /// an administrator any, a lead their own agency's or organization's.
    pub fn manages_endpoint(&self, owner: &str) -> bool {
        self.manages(&Membership::parse(owner))
    }

    /// Whether the caller may send a notification again: an administrator any; otherwise the
    /// manager of the endpoint it went to (`None`: an e-mail, administrators only).
    pub fn may_redeliver(&self, endpoint_owner: Option<&str>) -> bool {
        self.is_admin() || endpoint_owner.is_some_and(|o| self.manages_endpoint(o))
    }
}
