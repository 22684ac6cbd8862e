//! Who a task is for: the applicant, or a partner agency by key.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Who a task is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assignee {
    /// The applicant firm (or student).
    Applicant,
    /// A partner agency, by key (`hkstp`, `investhk`, `ofds`, …). Shared: a definition's
    /// tasks, their events and the open tasks all hold it.
    Agency(Arc<str>),
    /// The firm hosting the application: the one offering the position applied for. Holds
    /// its key as written (`host:FIRM`); a definition's `assignee: host` is `host` until the
    /// engine opens the task for an application whose firm it knows.
    Host(Arc<str>),
}

/// The word a definition names the hosting firm by, and the prefix of a resolved one.
pub const HOST: &str = "host";

/// The word that names the applicant wherever an assignee or a party is written as text
/// (definitions, stored rows, events' payloads, the API): every other word is an agency's key.
const APPLICANT: &str = "applicant";

impl Assignee {
    /// `"applicant"` or the agency key.
    pub fn key(&self) -> &str {
        match self {
            Assignee::Applicant => APPLICANT,
            Assignee::Agency(a) | Assignee::Host(a) => a,
        }
    }

    /// The assignee a key names: `"applicant"`, the hosting firm (`host`, `host:FIRM`), or an
    /// agency.
    pub fn parse(key: &str) -> Self {
        if key == APPLICANT {
            Assignee::Applicant
        } else if key == HOST || key.starts_with("host:") {
            Assignee::Host(key.into())
        } else {
            Assignee::Agency(key.into())
        }
    }

    /// The hosting firm `firm`.
    pub fn host(firm: &str) -> Self {
        Assignee::Host(format!("{HOST}:{firm}").into())
    }

    /// For the hosting firm: its key, once known.
    pub fn host_firm(&self) -> Option<&str> {
        match self {
            Assignee::Host(k) => k.strip_prefix("host:"),
            _ => None,
        }
    }

    /// Whether this is the applicant.
    pub fn is_applicant(&self) -> bool {
        matches!(self, Assignee::Applicant)
    }

    /// The agency's key, for an agency.
    pub fn agency(&self) -> Option<&str> {
        match self {
            Assignee::Applicant | Assignee::Host(_) => None,
            Assignee::Agency(a) => Some(a),
        }
    }
}

impl fmt::Display for Assignee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}
