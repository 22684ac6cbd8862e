//! What each caller may do: act on tasks, submit and withdraw, apply for a workflow, claim,
//! release and hand on, publish.

use softland_store::{ClaimRights, Claimant, Store, TaskGate};
use softland_workflow::{Actor, Assignee};

use crate::{Decision, Principal, Refusal};

impl Principal {
    /// The engine's actor for this caller; administrators do not act on tasks.
    pub fn actor(&self) -> Decision<Actor> {
        match self {
            Principal::Reviewer { name, agency, .. } => {
                Ok(Actor::reviewer(name.as_str(), agency.as_str()))
            }
            Principal::Applicant { name, .. } => Ok(Actor::applicant(name.as_str())),
            Principal::Admin { .. } => Err(Refusal::forbidden(
                "administrators do not act on tasks; use a reviewer or applicant key",
            )),
            Principal::Observer { .. } => Err(Refusal::forbidden(
                "observers read the programmes their agency oversees; they change nothing",
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

    /// Who plans, approves and runs a migration of running applications to another version:
    /// administrators only, acting for no party (the `migrated` events name them).
    pub fn migrator(&self) -> Decision<Actor> {
        match self {
            Principal::Admin { name } => Ok(Actor {
                id: name.as_str().into(),
                party: softland_workflow::Party::System,
            }),
            _ => Err(Refusal::forbidden(
                "only administrators move applications to another workflow version",
            )),
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

    /// The firm a caller offers positions for: staff of a firm offer their own firm's.
    pub fn offers_positions(&self) -> Decision<&str> {
        match self {
            Principal::Applicant { organization, .. } if !self.is_student() => Ok(organization),
            _ => Err(Refusal::forbidden(
                "only a firm's staff offer its positions",
            )),
        }
    }

    /// Whether the caller may close a position `organization` offers: its own firm's staff,
    /// and administrators.
    pub fn may_close_position(&self, organization: &str) -> bool {
        match self {
            Principal::Admin { .. } => true,
            _ if self.is_student() => false,
            Principal::Applicant {
                organization: own, ..
            } => own == organization,
            _ => false,
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
        // A student applies to programmes open to students (`applicants: {students: true}`).
        if self.is_student() {
            let Some(current) = store.definition(key, None).await? else {
                return Ok(true);
            };
            let wf = store.workflow(key, current.version).await?;
            return Ok(wf.students_may_apply());
        }
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
            Principal::Observer { .. } => Err(Refusal::forbidden(
                "observers read the programmes their agency oversees; they change nothing",
            )),
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
            (Principal::Reviewer { agency, .. }, Assignee::Agency(a)) => **a == **agency,
            (
                Principal::Applicant {
                    organization: own, ..
                },
                Assignee::Applicant,
            ) => own == organization,
            // The hosting firm's task is its staff's (a student hosts nothing).
            (
                Principal::Applicant {
                    organization: own, ..
                },
                Assignee::Host(_),
            ) => assignee.host_firm() == Some(own.as_str()),
            _ => false,
        }
    }
}

/// What the policy needs to know of an open task to say what the caller may do with it.
#[derive(Debug, Clone, Copy)]
pub struct OpenTask<'a> {
    /// Who it is for.
    pub assignee: &'a Assignee,
    /// Its application's organization.
    pub organization: &'a str,
    /// Who holds its claim.
    pub holder: Option<&'a str>,
    /// Whether a four-eyes rule (or a vote already cast) leaves the caller none of its actions.
    pub barred: bool,
    /// Whether the same holds for its claim's holder.
    pub holder_barred: bool,
}

/// What a caller may do with an open task: what pages offer, and what the API accepts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskMoves {
    /// Take one of its actions: it is the caller's to work, no four-eyes rule bars them, and
    /// nobody else holds its claim.
    pub act: bool,
    /// Its claims are the caller's side's to keep (an agency task of a reviewer's agency).
    pub claimable: bool,
    /// Claim it: unclaimed, or held by someone barred from it (take over).
    pub claim: bool,
    /// Release its claim: the holder, a lead of the agency, an administrator.
    pub release: bool,
    /// Hand it to a colleague: unclaimed or held by the caller, a lead, the holder barred; an
    /// administrator any.
    pub hand_over: bool,
}

impl Principal {
    /// What the caller may do with the open task `t`.
    pub fn task_moves(&self, t: &OpenTask<'_>) -> TaskMoves {
        let works = self.may_work(t.assignee, t.organization);
        let held_by_me = t.holder == Some(self.name());
        match self {
            Principal::Applicant { .. } => TaskMoves {
                act: works && !t.barred,
                ..TaskMoves::default()
            },
            Principal::Reviewer { lead, .. } => TaskMoves {
                act: works && !t.barred && (t.holder.is_none() || held_by_me),
                claimable: works,
                claim: works
                    && !t.barred
                    && (t.holder.is_none() || (t.holder_barred && !held_by_me)),
                release: works && t.holder.is_some() && (held_by_me || *lead),
                hand_over: works && (t.holder.is_none() || held_by_me || *lead || t.holder_barred),
            },
            Principal::Admin { .. } => TaskMoves {
                release: t.holder.is_some() && t.assignee.agency().is_some(),
                hand_over: t.assignee.agency().is_some(),
                ..TaskMoves::default()
            },
            Principal::Observer { .. } => TaskMoves::default(),
        }
    }

    /// Whether the caller may withdraw `organization`'s application (`active`: not yet
    /// decided or withdrawn): its own firm's people, while it is active.
    pub fn may_withdraw(&self, organization: &str, active: bool) -> bool {
        active
            && matches!(self, Principal::Applicant { organization: own, .. } if own == organization)
    }

    /// Whether the caller may upload documents: anyone who works applications (for their
    /// organisation or agency) and administrators; not an observer, who changes nothing.
    pub fn may_upload(&self) -> Decision<()> {
        match self {
            Principal::Observer { .. } => Err(Refusal::forbidden(
                "observers read the programmes their agency oversees; they upload nothing",
            )),
            Principal::Admin { .. } | Principal::Reviewer { .. } | Principal::Applicant { .. } => {
                Ok(())
            }
        }
    }

    /// Whether the caller may write internal notes: agencies' reviewers (administrators and
    /// agencies' reviewers read them; a note is written by someone who acts for an agency).
    pub fn may_note(&self) -> bool {
        matches!(self, Principal::Reviewer { .. })
    }
}
