//! What each caller may do: act on tasks, submit and withdraw, apply for a workflow, claim,
//! release and hand on, publish.

use softland_store::{ClaimRights, Claimant, Store, TaskGate};
use softland_workflow::{Actor, Assignee};

use crate::{Decision, Principal, Refusal};

impl Principal {
    /// The engine's actor for this caller; administrators do not act on tasks.
    pub fn actor(&self) -> Decision<Actor> {
        match self {
            Principal::Reviewer { name, agency, .. } => Ok(Actor::reviewer(name, agency)),
            Principal::Applicant { name, .. } => Ok(Actor::applicant(name)),
            Principal::Admin { .. } => Err(Refusal::forbidden(
                "administrators do not act on tasks; use a reviewer or applicant key",
            )),
        }
    }

    /// Only administrators publish and retire workflows, keep the directory's agencies and
    /// organizations, read the dashboard and the people's-actions audit.
    pub fn require_admin(&self) -> Decision<()> {
        match self {
            Principal::Admin { .. } => Ok(()),
            _ => Err(Refusal::forbidden("only administrators may do this")),
        }
    }

    /// The organization an applicant submits and withdraws for; only applicants do.
    pub fn organization(&self) -> Decision<&str> {
        match self {
            Principal::Applicant { organization, .. } => Ok(organization),
            _ => Err(Refusal::forbidden(
                "only applicants submit and withdraw applications",
            )),
        }
    }

    /// The organization an applicant acts for (what its idempotency keys are scoped to).
    pub fn acting_organization(&self) -> Option<String> {
        match self {
            Principal::Applicant { organization, .. } => Some(organization.clone()),
            _ => None,
        }
    }

    /// Whether the caller may apply for the workflow `key` (its current version's
    /// `applicants:`): a firm the directory places in one of its regions, or whose region the
    /// directory does not record. Only applicants apply.
    pub async fn may_apply(&self, store: &Store, key: &str) -> Decision<bool> {
        let Principal::Applicant { organization, .. } = self else {
            return Ok(false);
        };
        let region = store
            .organization(organization)
            .await?
            .and_then(|o| o.region);
        if region.is_none() {
            return Ok(true);
        }
        let Some(current) = store.definition(key, None).await? else {
            return Ok(true);
        };
        let wf = store.workflow(key, current.version).await?;
        Ok(wf.may_apply(region.as_deref()))
    }

    /// Who releases or delegates claims, with what rights: an agency's lead anyone's of the
    /// agency, an administrator anyone's of every agency, a reviewer their own; firms none.
    pub fn claimant(&self) -> Decision<Claimant> {
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
            Principal::Applicant { .. } => Err(Refusal::forbidden(
                "claims are for agencies' reviewers and administrators",
            )),
        }
    }
}

/// Whose tasks a caller works, asked by the store when it has read the task of an action:
/// a reviewer their agency's; a firm the applicant's tasks of its own organization's
/// applications; an administrator none.
impl TaskGate for Principal {
    fn may_work(&self, assignee: &Assignee, organization: &str) -> bool {
        match (self, assignee) {
            (Principal::Reviewer { agency, .. }, Assignee::Agency(a)) => a == agency,
            (
                Principal::Applicant {
                    organization: own, ..
                },
                Assignee::Applicant,
            ) => own == organization,
            _ => false,
        }
    }
}
