//! Who a task is for: the applicant, or a partner agency by key.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Who a task is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assignee {
    /// The applicant firm (or student).
    Applicant,
    /// A partner agency, by key (`hkstp`, `investhk`, `ofds`, …).
    Agency(String),
}

/// The word that names the applicant wherever an assignee or a party is written as text
/// (definitions, stored rows, events' payloads, the API): every other word is an agency's key.
const APPLICANT: &str = "applicant";

impl Assignee {
    /// `"applicant"` or the agency key.
    pub fn key(&self) -> &str {
        match self {
            Assignee::Applicant => APPLICANT,
            Assignee::Agency(a) => a,
        }
    }

    /// The assignee a key names: `"applicant"`, or an agency.
    pub fn parse(key: &str) -> Self {
        if key == APPLICANT {
            Assignee::Applicant
        } else {
            Assignee::Agency(key.to_owned())
        }
    }

    /// Whether this is the applicant.
    pub fn is_applicant(&self) -> bool {
        matches!(self, Assignee::Applicant)
    }

    /// The agency's key, for an agency.
    pub fn agency(&self) -> Option<&str> {
        match self {
            Assignee::Applicant => None,
            Assignee::Agency(a) => Some(a),
        }
    }
}

impl fmt::Display for Assignee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}
