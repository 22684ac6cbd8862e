//! Who the caller is: an administrator, a reviewer (or lead) of an agency, or someone acting
//! for an applicant organization — made from a directory person, or from a webhook endpoint's
//! owner when events are delivered to it.

use softland_store::directory::{Membership, Person, Role};
use softland_store::notifications::Endpoint;

/// What a student's applications are filed under, before their directory id: organisation
/// keys never hold `:`, so none can be mistaken for it.
pub use softland_store::directory::STUDENT_SCOPE;

/// The scope a student's applications are filed under (`student:ID`).
pub fn student_scope(id: &str) -> String {
    format!("{STUDENT_SCOPE}{id}")
}

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
    /// An observer of an agency that oversees programmes (a workflow's `oversight:`): reads
    /// every application of those programmes, changes nothing.
    Observer {
        /// The person's directory id.
        name: String,
        /// The agency key.
        agency: String,
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
            Membership::Agency(agency) if p.has(Role::Observer) => {
                Some(Principal::Observer { name: p.id, agency })
            }
            Membership::Organization(organization) if lead || p.has(Role::Staff) => {
                Some(Principal::Applicant {
                    name: p.id,
                    organization,
                    lead,
                })
            }
            // A student applies for themselves: their applications are filed under their own
            // scope (`student:ID`), which no organisation shares.
            Membership::None if p.has(Role::Student) => Some(Principal::Applicant {
                organization: student_scope(&p.id),
                name: p.id,
                lead: false,
            }),
            _ => None,
        }
    }

    /// Whether the caller is a student applying for themselves (not a firm's staff).
    pub fn is_student(&self) -> bool {
        matches!(self, Principal::Applicant { organization, .. } if organization.starts_with(STUDENT_SCOPE))
    }

    /// Who a webhook endpoint's deliveries are filtered for: its owner, as a reviewer of the
    /// owning agency, staff of the owning organization, or (owned by nobody: an
    /// administrator's) an administrator. An endpoint is never a lead.
    pub fn of_endpoint(e: &Endpoint) -> Self {
        let name = format!("webhook:{}", e.id);
        match Membership::parse(&e.owner) {
            Membership::Agency(agency) => Principal::Reviewer {
                name,
                agency,
                lead: false,
            },
            Membership::Organization(organization) => Principal::Applicant {
                name,
                organization,
                lead: false,
            },
            Membership::None => Principal::Admin { name },
        }
    }

    /// The person's name (the key's label): what claims record.
    pub fn name(&self) -> &str {
        match self {
            Principal::Admin { name }
            | Principal::Reviewer { name, .. }
            | Principal::Observer { name, .. }
            | Principal::Applicant { name, .. } => name,
        }
    }

    /// Who this is, as one string (role, name and scope): what per-caller limits count by.
    pub fn identity(&self) -> String {
        match self {
            Principal::Admin { name } => format!("admin:{name}"),
            Principal::Reviewer { name, agency, .. } => format!("reviewer:{agency}:{name}"),
            Principal::Observer { name, agency } => format!("observer:{agency}:{name}"),
            Principal::Applicant {
                name, organization, ..
            } => format!("applicant:{organization}:{name}"),
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
            Principal::Reviewer { agency, .. } | Principal::Observer { agency, .. } => {
                Membership::Agency(agency.clone())
            }
            Principal::Applicant { organization, .. } => {
                Membership::Organization(organization.clone())
            }
        }
    }
}
