//! Who reads the programme's reports and exports: administrators (every programme) and
//! observers (the programmes their agency oversees). Reviewers and firms do not: a report is
//! about every application of a programme, most of which are not theirs to see.

use crate::{Decision, Principal, Refusal};

/// The programmes a caller's reports cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportScope {
    /// Every programme (administrators).
    All,
    /// The programmes whose `oversight:` names this agency (its observers).
    OverseenBy(String),
}

impl ReportScope {
    /// The agency whose oversight narrows it, if any.
    pub fn overseen_by(&self) -> Option<&str> {
        match self {
            ReportScope::All => None,
            ReportScope::OverseenBy(a) => Some(a),
        }
    }
}

impl Principal {
    /// What the caller's reports and exports cover; reviewers and firms read none.
    pub fn report_scope(&self) -> Decision<ReportScope> {
        match self {
            Principal::Admin { .. } => Ok(ReportScope::All),
            Principal::Observer { agency, .. } => Ok(ReportScope::OverseenBy(agency.clone())),
            _ => Err(Refusal::forbidden(
                "reports are for the programme's observers and administrators",
            )),
        }
    }
}
