//! The directory: agencies, organizations and people (issue 14).
//!
//! A person has a stable id (what events record as the actor and what four-eyes rules, quorum
//! seats and claims compare), a display name, an e-mail address, one membership — an agency,
//! an organization, or none (a platform administrator) — and roles. A service account is a
//! person that only machines act as (a firm's back-office system). Deactivating a person
//! revokes their keys and releases their claims; their past actions stay in the record.

pub(crate) mod bodies;
pub mod profiles;
pub use bodies::STUDENT_SCOPE;
pub(crate) mod key_cache;
pub(crate) mod keys;
pub(crate) mod load;
pub(crate) mod people;
pub mod people_actions;
pub mod sealed;
pub mod sessions;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::entity::{agency, organization, person};
use crate::error::{Error, Result};

/// What a person may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Publishes workflows and manages the directory; plays an agency lead's part everywhere.
    Admin,
    /// An agency's lead (any claim of the agency) or an organization's lead (its staff).
    Lead,
    /// Works an agency's inbox.
    Reviewer,
    /// Submits and answers for an organization.
    Staff,
    /// Reads every application of the programmes its agency oversees (a workflow's
    /// `oversight:`) and changes nothing.
    Observer,
    /// A student applying for themselves (belongs to no organisation): applies to
    /// programmes open to students (`applicants: {students: true}`) and answers its own.
    Student,
}

impl Role {
    /// Every role, in the order they are stored.
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Lead,
        Role::Reviewer,
        Role::Staff,
        Role::Observer,
        Role::Student,
    ];

    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Lead => "lead",
            Role::Reviewer => "reviewer",
            Role::Staff => "staff",
            Role::Observer => "observer",
            Role::Student => "student",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("`{s}` is not a role (admin, lead, reviewer, staff, observer, student)")
            })
    }
}

/// Where a person belongs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Membership {
    /// A partner agency, by key.
    Agency(String),
    /// An applicant organization, by key.
    Organization(String),
    /// Neither: a platform administrator.
    None,
}

impl Membership {
    pub(crate) fn columns(&self) -> (Option<String>, Option<String>) {
        match self {
            Membership::Agency(a) => (Some(a.clone()), None),
            Membership::Organization(o) => (None, Some(o.clone())),
            Membership::None => (None, None),
        }
    }

    /// The membership a [`Membership::label`] names (`none` for anything else).
    pub fn parse(label: &str) -> Self {
        match label.split_once(':') {
            Some(("agency", a)) => Membership::Agency(a.to_owned()),
            Some(("organization", o)) => Membership::Organization(o.to_owned()),
            _ => Membership::None,
        }
    }

    /// `agency:KEY`, `organization:KEY` or `none`.
    pub fn label(&self) -> String {
        match self {
            Membership::Agency(a) => format!("agency:{a}"),
            Membership::Organization(o) => format!("organization:{o}"),
            Membership::None => "none".to_owned(),
        }
    }
}

/// A person (or service account) of the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    /// The stable id: what the record names as the actor.
    pub id: String,
    /// How people see them.
    pub display_name: String,
    /// Their e-mail address, lower-cased.
    pub email: Option<String>,
    /// Their agency or organization.
    pub membership: Membership,
    /// What they may do, sorted.
    pub roles: Vec<Role>,
    /// Only machines act as this account.
    pub service: bool,
    /// False once deactivated.
    pub active: bool,
    /// When added.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When deactivated.
    pub deactivated_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The language their e-mail is written in (`en`, `zh-Hant`, `zh-Hans`); none: their
    /// agency's or organization's, else English.
    pub language: Option<String>,
}

impl Person {
    /// Whether the person holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// A person to add (or, with an existing id, to update).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    /// The stable id (letters, digits, `.`, `_`, `-`, `@`; 1 to 64 characters).
    pub id: String,
    /// How people see them (default: the id).
    #[serde(default)]
    pub display_name: Option<String>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Agency key (exclusive with `organization`).
    #[serde(default)]
    pub agency: Option<String>,
    /// Organization key (exclusive with `agency`).
    #[serde(default)]
    pub organization: Option<String>,
    /// Roles.
    pub roles: Vec<Role>,
    /// A service account.
    #[serde(default)]
    pub service: bool,
    /// The language their e-mail is written in (`en`, `zh-Hant`, `zh-Hans`).
    #[serde(default)]
    pub language: Option<String>,
}

/// A partner agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agency {
    /// The key workflows name (`hkstp`).
    pub key: String,
    /// English name.
    pub name: String,
    /// Traditional Chinese name.
    #[serde(default)]
    pub name_zh_hant: Option<String>,
    /// Simplified Chinese name.
    #[serde(default)]
    pub name_zh_hans: Option<String>,
    /// `hk` or `mainland`.
    pub region: String,
    /// The holiday calendar its due dates count working days by, `hk` or `mainland` (default:
    /// its region's).
    #[serde(default)]
    pub calendar: Option<String>,
    /// Where notifications for its inbox go.
    #[serde(default)]
    pub inbox_email: Option<String>,
    /// An identity provider (issuer URL) whose people the directory lacks join this agency
    /// when they first sign in, without roles (no access) until a lead gives them one. None:
    /// nobody unknown is added (the default).
    #[serde(default)]
    pub sign_in_issuer: Option<String>,
    /// The language e-mail to its inbox is written in (`en`, `zh-Hant`, `zh-Hans`; default
    /// English).
    #[serde(default)]
    pub language: Option<String>,
    /// Task-opened e-mail to its inbox comes once a day as one digest, not one per task.
    #[serde(default)]
    pub digest: bool,
}

/// An applicant organization (a firm).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    /// The key applications are filed under.
    pub key: String,
    /// English name.
    pub name: String,
    /// Traditional Chinese name.
    #[serde(default)]
    pub name_zh_hant: Option<String>,
    /// Simplified Chinese name.
    #[serde(default)]
    pub name_zh_hans: Option<String>,
    /// A mainland unified social credit code or a Hong Kong business registration number.
    #[serde(default)]
    pub registration_number: Option<String>,
    /// `hk` or `mainland`.
    #[serde(default)]
    pub region: Option<String>,
    /// The language its people's e-mail is written in when they have none of their own.
    #[serde(default)]
    pub language: Option<String>,
}

/// A whole directory, as loaded from a file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Directory {
    /// Agencies.
    #[serde(default)]
    pub agencies: Vec<Agency>,
    /// Organizations.
    #[serde(default)]
    pub organizations: Vec<Organization>,
    /// People.
    #[serde(default)]
    pub people: Vec<NewPerson>,
}

impl Directory {
    /// Reads a directory file (YAML: `agencies`, `organizations`, `people` lists).
    pub fn parse_yaml(text: &str) -> Result<Self> {
        serde_saphyr::from_str(text).map_err(|e| invalid(e.to_string()))
    }
}

/// How many of each a load added or changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Loaded {
    /// Agencies.
    pub agencies: usize,
    /// Organizations.
    pub organizations: usize,
    /// People.
    pub people: usize,
}

pub(crate) const REGIONS: [&str; 2] = ["hk", "mainland"];

pub(crate) fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidDirectory(msg.into())
}

/// Keys and ids: letters, digits, `.`, `_`, `-`, `@`; 1 to 64 characters.
pub(crate) fn check_id(what: &str, id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "{what} `{}` must be 1 to 64 letters, digits, `.`, `_`, `-` or `@`",
            id.chars().take(64).collect::<String>()
        )))
    }
}

pub(crate) fn check_text(what: &str, text: &str) -> Result<()> {
    if text.trim().is_empty() || text.chars().count() > 200 {
        return Err(invalid(format!("{what} must be 1 to 200 characters")));
    }
    Ok(())
}

/// The languages e-mail is written in.
pub const LANGUAGES: [&str; 3] = ["en", "zh-Hant", "zh-Hans"];

pub(crate) fn check_language(what: &str, language: Option<&String>) -> Result<()> {
    match language {
        Some(l) if !LANGUAGES.contains(&l.as_str()) => Err(invalid(format!(
            "{what}: language must be one of `en`, `zh-Hant`, `zh-Hans`"
        ))),
        _ => Ok(()),
    }
}

pub(crate) fn check_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    let ok = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace)
        });
    if ok {
        Ok(email)
    } else {
        Err(invalid(
            "an e-mail address must look like `name@example.org`",
        ))
    }
}

pub(crate) fn person_record(m: person::Model) -> Result<Person> {
    let membership = match (m.agency, m.organization) {
        (Some(a), None) => Membership::Agency(a),
        (None, Some(o)) => Membership::Organization(o),
        (None, None) => Membership::None,
        (Some(_), Some(_)) => {
            return Err(Error::Unreadable {
                table: "people",
                id: m.id,
                column: "organization",
                why: "both an agency and an organization are set".into(),
            });
        }
    };
    let mut roles = Vec::new();
    for word in m.roles.split_whitespace() {
        roles.push(word.parse::<Role>().map_err(|why| Error::Unreadable {
            table: "people",
            id: m.id.clone(),
            column: "roles",
            why,
        })?);
    }
    roles.sort();
    roles.dedup();
    Ok(Person {
        id: m.id,
        display_name: m.display_name,
        email: m.email,
        membership,
        roles,
        service: m.service,
        active: m.active,
        created_at: m.created_at,
        deactivated_at: m.deactivated_at,
        language: m.language,
    })
}

pub(crate) fn agency_record(m: agency::Model) -> Agency {
    Agency {
        key: m.key,
        name: m.name,
        name_zh_hant: m.name_zh_hant,
        name_zh_hans: m.name_zh_hans,
        region: m.region,
        calendar: m.calendar,
        inbox_email: m.inbox_email,
        sign_in_issuer: m.sign_in_issuer,
        language: m.language,
        digest: m.digest,
    }
}

pub(crate) fn organization_record(m: organization::Model) -> Organization {
    Organization {
        key: m.key,
        name: m.name,
        name_zh_hant: m.name_zh_hant,
        name_zh_hans: m.name_zh_hans,
        registration_number: m.registration_number,
        region: m.region,
        language: m.language,
    }
}

/// The roles a membership allows: reviewers belong to an agency, staff to an organization,
/// leads to either, students to none; administrators to anything. A person without roles has no access (someone
/// added at first sign-in, waiting for a lead).
pub(crate) fn check_roles(membership: &Membership, roles: &[Role]) -> Result<()> {
    for role in roles {
        let fits = matches!(
            (role, membership),
            (Role::Admin, _)
                | (Role::Reviewer | Role::Observer, Membership::Agency(_))
                | (Role::Staff, Membership::Organization(_))
                | (Role::Student, Membership::None)
                | (
                    Role::Lead,
                    Membership::Agency(_) | Membership::Organization(_)
                )
        );
        if !fits {
            return Err(invalid(format!(
                "the role `{role}` does not fit the membership `{}`",
                membership.label()
            )));
        }
    }
    Ok(())
}
