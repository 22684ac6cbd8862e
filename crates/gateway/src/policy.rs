//! Who may do what: deny by default, decided here and nowhere else.
//!
//! Callers are people of the directory (`softland_store::directory`); a key acts as its person.
//!
//! | role | sees | acts on | inbox (query and `inboxEvents`) |
//! |---|---|---|---|
//! | admin | every application | publishes and retires workflows; manages the directory and keys; releases and delegates any agency's claims | none |
//! | agency lead (agency A) | as a reviewer of A | as a reviewer of A; releases and delegates any claim of A; manages A's people and keys | A's open tasks |
//! | reviewer (agency A) | applications that have or had a task for A | A's tasks | A's open tasks |
//! | staff (organization O; a lead also manages O's people and keys) | O's applications | O's applicant tasks; submits and withdraws for O | O's open applicant tasks |
//!
//! What each sees of an application's history (queries and subscriptions alike):
//!
//! | entry field | admin, reviewer | applicant |
//! |---|---|---|
//! | `party` (the agency that acted, or `applicant`) | yes | yes |
//! | `actor` (the person) | yes | for its own organization's people only; an agency's reviewer is shown by `party` |
//! | `comment`, `input` (questions, answers, reasons) | yes | yes |
//! | `note` (internal notes, any agency's) | yes | no: the entry is left out of its history |
//! | `claimedBy` of a task (who at an agency holds it) | yes | no |

use softland_store::directory::{Membership, Person, Role};
use softland_store::{ApplicationRecord, ClaimRights, Claimant, InboxOwner, Store};
use softland_workflow::Actor;

use crate::error::{GqlResult, forbidden};

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An administrator.
    Admin {
        /// The person's directory id (recorded as the actor).
        name: String,
    },
    /// A reviewer (or lead) of one agency.
    Reviewer {
        /// The person's directory id: what four-eyes rules and claims compare.
        name: String,
        /// The agency key.
        agency: String,
        /// An agency lead: any claim of the agency, the agency's people and keys.
        lead: bool,
    },
    /// Someone acting for one applicant organization.
    Applicant {
        /// The person's directory id.
        name: String,
        /// The organization key.
        organization: String,
        /// The organization's lead: its staff and keys.
        lead: bool,
    },
}

impl Principal {
    /// Who a person is to the policy: an administrator whatever else they are; else their
    /// membership's role. `None` for a person with no role that grants access.
    pub fn of_person(p: Person) -> Option<Self> {
        let lead = p.has(Role::Lead);
        if p.has(Role::Admin) {
            return Some(Principal::Admin { name: p.id });
        }
        match p.membership {
            Membership::Agency(agency) if lead || p.has(Role::Reviewer) => {
                Some(Principal::Reviewer {
                    name: p.id,
                    agency,
                    lead,
                })
            }
            Membership::Organization(organization) if lead || p.has(Role::Staff) => {
                Some(Principal::Applicant {
                    name: p.id,
                    organization,
                    lead,
                })
            }
            _ => None,
        }
    }
}

impl Principal {
    /// The engine's actor for this caller; admins do not act on tasks.
    pub fn actor(&self) -> GqlResult<Actor> {
        match self {
            Principal::Reviewer { name, agency, .. } => Ok(Actor::reviewer(name, agency)),
            Principal::Applicant { name, .. } => Ok(Actor::applicant(name)),
            Principal::Admin { .. } => Err(forbidden(
                "administrators do not act on tasks; use a reviewer or applicant key",
            )),
        }
    }

    /// Only admins publish and retire workflows.
    pub fn require_admin(&self) -> GqlResult<()> {
        match self {
            Principal::Admin { .. } => Ok(()),
            _ => Err(forbidden("only administrators may do this")),
        }
    }

    /// The organization an applicant submits for.
    pub fn organization(&self) -> GqlResult<&str> {
        match self {
            Principal::Applicant { organization, .. } => Ok(organization),
            _ => Err(forbidden(
                "only applicants submit and withdraw applications",
            )),
        }
    }

    /// Whether the caller may apply for the workflow `key` (its current version's
    /// `applicants:`): a firm the directory places in one of its regions, or whose region the
    /// directory does not record. Only applicants apply.
    pub async fn may_apply(&self, store: &Store, key: &str) -> GqlResult<bool> {
        let Principal::Applicant { organization, .. } = self else {
            return Ok(false);
        };
        let from = crate::error::from_store;
        let region = store
            .organization(organization)
            .await
            .map_err(from)?
            .and_then(|o| o.region);
        if region.is_none() {
            return Ok(true);
        }
        let Some(current) = store.definition(key, None).await.map_err(from)? else {
            return Ok(true);
        };
        let wf = store.workflow(key, current.version).await.map_err(from)?;
        Ok(wf.may_apply(region.as_deref()))
    }

    /// Whether the caller may see an application. Callers that may not see it must get the
    /// same answer as for an application that does not exist.
    pub async fn can_see(&self, store: &Store, app: &ApplicationRecord) -> GqlResult<bool> {
        Ok(match self {
            Principal::Admin { .. } => true,
            Principal::Applicant { organization, .. } => app.organization == *organization,
            Principal::Reviewer { agency, .. } => store
                .agency_involved(app.id, agency)
                .await
                .map_err(crate::error::from_store)?,
        })
    }

    /// Whether the caller may read a document: whoever may see the application it is linked
    /// to; before it is linked, its uploader's organisation (or agency) — and administrators.
    pub async fn sees_document(
        &self,
        store: &Store,
        doc: &softland_store::documents::DocumentRecord,
    ) -> GqlResult<bool> {
        match doc.application_id {
            Some(id) => match store
                .application(id)
                .await
                .map_err(crate::error::from_store)?
            {
                Some(app) => self.can_see(store, &app).await,
                None => Ok(false),
            },
            None => Ok(self.is_admin() || self.membership().label() == doc.owner),
        }
    }

    /// Whose inbox the caller works (administrators have none).
    pub fn inbox(&self) -> Option<InboxOwner> {
        match self {
            Principal::Admin { .. } => None,
            Principal::Reviewer { agency, .. } => Some(InboxOwner::Agency(agency.clone())),
            Principal::Applicant { organization, .. } => {
                Some(InboxOwner::Applicant(organization.clone()))
            }
        }
    }

    /// Whether the caller writes and reads internal notes (agencies' reviewers and
    /// administrators; never a firm).
    pub fn reads_internal_notes(&self) -> bool {
        !matches!(self, Principal::Applicant { .. })
    }

    /// Whether the caller may see which reviewer of an agency acted (firms see the agency).
    pub fn sees_reviewers(&self) -> bool {
        !matches!(self, Principal::Applicant { .. })
    }

    /// The person's name (the key's label): what claims record.
    pub fn name(&self) -> &str {
        match self {
            Principal::Admin { name }
            | Principal::Reviewer { name, .. }
            | Principal::Applicant { name, .. } => name,
        }
    }

    /// Who this is, as one string (role, name and scope): what per-caller limits count by.
    pub fn identity(&self) -> String {
        match self {
            Principal::Admin { name } => format!("admin:{name}"),
            Principal::Reviewer { name, agency, .. } => format!("reviewer:{agency}:{name}"),
            Principal::Applicant {
                name, organization, ..
            } => {
                format!("applicant:{organization}:{name}")
            }
        }
    }

    /// The organization an applicant acts for; the store refuses (as `NotYours`) tasks that are
    /// not the caller's — another agency's, or another organization's — before anything else.
    pub fn acting_organization(&self) -> Option<String> {
        match self {
            Principal::Applicant { organization, .. } => Some(organization.clone()),
            _ => None,
        }
    }

    /// The answer to acting on a task that is not the caller's: `FORBIDDEN` when the caller may
    /// see its application, otherwise the same `NOT_FOUND` as for a task that does not exist.
    pub async fn refusal(
        &self,
        store: &Store,
        application: uuid::Uuid,
        assignee: &str,
    ) -> async_graphql::Error {
        let visible = match store.application(application).await {
            Ok(Some(app)) => match self.can_see(store, &app).await {
                Ok(v) => v,
                Err(e) => return e,
            },
            Ok(None) => false,
            Err(e) => return crate::error::from_store(e),
        };
        if visible {
            forbidden(format!("this task is for `{assignee}`"))
        } else {
            crate::error::not_found("task")
        }
    }

    /// Who releases or delegates claims, with what rights: an agency's lead anyone's of the
    /// agency, an administrator anyone's of every agency, a reviewer their own; firms none.
    pub fn claimant(&self) -> GqlResult<Claimant> {
        match self {
            Principal::Admin { name } => Ok(Claimant {
                person: name.clone(),
                agency: None,
                rights: ClaimRights::Everywhere,
            }),
            Principal::Reviewer { name, agency, lead } => Ok(Claimant::of_agency(
                name.clone(),
                agency.clone(),
                if *lead {
                    ClaimRights::Any
                } else {
                    ClaimRights::Own
                },
            )),
            Principal::Applicant { .. } => Err(forbidden(
                "claims are for agencies' reviewers and administrators",
            )),
        }
    }

    /// Whether the caller is an administrator.
    pub fn is_admin(&self) -> bool {
        matches!(self, Principal::Admin { .. })
    }

    /// The caller's own membership.
    pub fn membership(&self) -> Membership {
        match self {
            Principal::Admin { .. } => Membership::None,
            Principal::Reviewer { agency, .. } => Membership::Agency(agency.clone()),
            Principal::Applicant { organization, .. } => {
                Membership::Organization(organization.clone())
            }
        }
    }

    /// Whether the caller may see the people of `membership`: administrators everyone's,
    /// everyone else their own colleagues' (a reviewer delegates to one).
    pub fn sees_people_of(&self, membership: &Membership) -> bool {
        self.is_admin() || (*membership != Membership::None && self.membership() == *membership)
    }

    /// Whether the caller may add (or change) a person of `membership` with `roles`:
    /// administrators anyone; a lead their own agency's or organization's people, with any role
    /// but administrator.
    pub fn may_put_person(&self, membership: &Membership, roles: &[Role]) -> GqlResult<()> {
        if self.is_admin() {
            return Ok(());
        }
        if !self.manages(membership) {
            return Err(forbidden(
                "leads manage their own agency's or organization's people; administrators everyone",
            ));
        }
        if roles.contains(&Role::Admin) {
            return Err(forbidden("only administrators make administrators"));
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
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

/// What a key made through the API becomes: its expiry and the key it was made under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Minted {
    /// When it expires: what was asked, but never after the maker's own credential.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
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
    asked: Option<chrono::DateTime<chrono::Utc>>,
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
