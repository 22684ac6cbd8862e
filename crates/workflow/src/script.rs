//! Scripts: a sequence of actions (and clock advances) to run an application through a
//! workflow — what `softland simulate` runs, and the shared happy paths the tests and
//! benchmarks take (`workflows/examples/*.happy.yaml`). Parsing only; no I/O.

use chrono::{DateTime, FixedOffset};
use serde::Deserialize;
use serde_json::Value;

use crate::Assignee;
use crate::engine::Actor;

/// A parsed script.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// When the application is submitted (default: a fixed day).
    #[serde(default)]
    pub start: Option<DateTime<FixedOffset>>,
    /// The applicant's organization (default `applicant`).
    #[serde(default)]
    pub applicant: Option<String>,
    /// The pools' levels when the application is submitted (`pools: {places: {places: 3,
    /// taken: 3}}`: full); a pool not named has one place, free.
    #[serde(default)]
    pub pools: std::collections::BTreeMap<String, Level>,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// One step of a script.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Someone takes an action on the open task of a state.
    Act(ActStep),
    /// The clock moves on by an ISO 8601 duration (timers fall due).
    Advance(String),
    /// The applicant withdraws.
    Withdraw(WithdrawStep),
    /// Another application gives back a place of the pool named (its waitlist moves up).
    Free(String),
}

/// A pool's level in a simulation.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    /// Its places.
    pub places: u32,
    /// How many are taken by other applications.
    #[serde(default)]
    pub taken: u32,
}

/// An action in a script.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActStep {
    /// The state whose open task is acted on.
    pub state: String,
    /// The action.
    pub action: String,
    /// `applicant`, or `AGENCY:PERSON` (e.g. `investhk:amy`).
    pub by: String,
    /// A comment for the record.
    #[serde(default)]
    pub comment: Option<String>,
    /// The action's input.
    #[serde(default)]
    pub input: Option<Value>,
}

/// A withdrawal in a script.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WithdrawStep {
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
}

impl Script {
    /// Parses a script (YAML).
    pub fn parse(text: &str) -> Result<Self, String> {
        serde_saphyr::from_str(text).map_err(|e| e.to_string())
    }

    /// The script's actions, in order (advances and withdrawals left out).
    pub fn acts(&self) -> impl Iterator<Item = &ActStep> {
        self.steps.iter().filter_map(|s| match s {
            Step::Act(a) => Some(a),
            _ => None,
        })
    }
}

impl Script {
    /// The agencies' actions as (state, agency, person, action), in order — how the tests and
    /// benchmarks walk a happy path.
    pub fn agency_steps(&self) -> Vec<(String, String, String, String)> {
        self.acts()
            .filter_map(|a| {
                let (agency, person) = a.agency_person()?;
                Some((
                    a.state.clone(),
                    agency.to_owned(),
                    person.to_owned(),
                    a.action.clone(),
                ))
            })
            .collect()
    }
}

impl ActStep {
    /// The agency and the person of an agency's step (`None` for the applicant).
    pub fn agency_person(&self) -> Option<(&str, &str)> {
        match self.by.split_once(':') {
            Some((agency, person)) if Assignee::parse(agency).agency().is_some() => {
                Some((agency, person))
            }
            _ => None,
        }
    }

    /// Who acts: `applicant` acts for `applicant_id`.
    pub fn actor(&self, applicant_id: &str) -> Result<Actor, String> {
        match self.by.split_once(':') {
            None if Assignee::parse(&self.by).is_applicant() => Ok(Actor::applicant(applicant_id)),
            Some((who, id)) if Assignee::parse(who).is_applicant() => Ok(Actor::applicant(id)),
            // The hosting firm's staff act for their firm, as an applicant party.
            Some((crate::assignee::HOST, id)) if !id.is_empty() => Ok(Actor::applicant(id)),
            Some((agency, id)) if !agency.is_empty() && !id.is_empty() => {
                Ok(Actor::reviewer(id, agency))
            }
            _ => Err(format!(
                "`by: {}` must be `applicant`, `host:PERSON` (the hosting firm's) or `AGENCY:PERSON` (e.g. `investhk:amy`)",
                self.by
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_happy_path_parses() {
        let s = Script::parse(include_str!(
            "../../../workflows/examples/soft-landing-sz-to-hk.happy.yaml"
        ))
        .expect("the happy path parses");
        let acts: Vec<_> = s.acts().collect();
        assert_eq!(acts.len(), 7);
        assert_eq!(acts[0].agency_person(), Some(("ofds", "chen")));
        assert!(Script::parse("steps: [{act: {state: x}}]").is_err());
    }
}
