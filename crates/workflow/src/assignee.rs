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

impl Assignee {
    /// `"applicant"` or the agency key.
    pub fn key(&self) -> &str {
        match self {
            Assignee::Applicant => "applicant",
            Assignee::Agency(a) => a,
        }
    }
}

impl fmt::Display for Assignee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}
