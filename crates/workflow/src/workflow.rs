//! [`Workflow`]: the compiled, immutable definition, and its entry points.

use std::collections::HashMap;

use crate::model::{DueSpec, NameIndex, State, StateId, StateKind, Text};
use crate::schema::{Schema, Violation};

/// A checked workflow definition. Only [`Workflow::compile`] makes one.
#[derive(Debug)]
pub struct Workflow {
    key: String,
    title: Text,
    description: Option<Text>,
    agencies: Vec<String>,
    /// Who may apply: firms of these regions (`hk`, `mainland`); empty: anyone.
    applicant_regions: Vec<String>,
    /// The prefix of its applications' references (`SZHK`).
    reference: String,
    form: Schema,
    states: Vec<State>,
    start: StateId,
    names: NameIndex,
    upgrade_at: Vec<StateId>,
    oversight: Vec<String>,
    /// The pools of places its applications draw on (`pools:`).
    pools: Vec<crate::model::Pool>,
    /// Students apply for themselves (`applicants: {students: true}`).
    students: bool,
}

impl Workflow {
    pub(crate) fn new(
        key: String,
        title: Text,
        description: Option<Text>,
        agencies: Vec<String>,
        form: Schema,
        states: Vec<State>,
        start: StateId,
    ) -> Self {
        let names: NameIndex = states
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name().to_owned(), crate::model::StateId(i as u16)))
            .collect();
        Self {
            key,
            title,
            description,
            agencies,
            applicant_regions: Vec::new(),
            reference: String::new(),
            form,
            states,
            start,
            names,
            upgrade_at: Vec::new(),
            oversight: Vec::new(),
            pools: Vec::new(),
            students: false,
        }
    }

    pub(crate) fn with_applicant_regions(mut self, regions: Vec<String>) -> Self {
        self.applicant_regions = regions;
        self
    }

    /// Sets the states where running applications move to the newest compatible version.
    pub(crate) fn with_upgrade_at(mut self, states: Vec<StateId>) -> Self {
        self.upgrade_at = states;
        self
    }

    /// Lets students apply for themselves.
    pub(crate) fn with_students(mut self, students: bool) -> Self {
        self.students = students;
        self
    }

    /// Whether students apply for themselves (`applicants: {students: true}`); firms apply
    /// as `regions` says either way.
    pub fn students_may_apply(&self) -> bool {
        self.students
    }

    /// Sets the pools of places.
    pub(crate) fn with_pools(mut self, pools: Vec<crate::model::Pool>) -> Self {
        self.pools = pools;
        self
    }

    /// The pools of places its applications draw on (`pools:`); empty for most workflows.
    pub fn pools(&self) -> &[crate::model::Pool] {
        &self.pools
    }

    /// The pool `name`.
    pub fn pool(&self, name: &str) -> Option<&crate::model::Pool> {
        self.pools.iter().find(|p| p.name() == name)
    }

    /// Sets the agencies that oversee the programme.
    pub(crate) fn with_oversight(mut self, agencies: Vec<String>) -> Self {
        self.oversight = agencies;
        self
    }

    /// The agencies that oversee the programme (`oversight:`): their observers read every
    /// application of this version.
    pub fn oversight(&self) -> &[String] {
        &self.oversight
    }

    /// Where running applications move by themselves to the newest compatible published
    /// version, on arriving there (`upgrade_at:`); empty: only a migration plan moves them.
    pub fn upgrade_at(&self) -> &[StateId] {
        &self.upgrade_at
    }

    /// Sets the reference prefix: the one given, else the key's initials (`internship-placement`
    /// → `IP`).
    pub(crate) fn with_reference(mut self, given: Option<String>) -> Self {
        self.reference = given.unwrap_or_else(|| {
            let initials: String = self
                .key
                .split('-')
                .filter_map(|w| w.chars().next())
                .map(|c| c.to_ascii_uppercase())
                .take(8)
                .collect();
            if initials.len() >= 2 {
                initials
            } else {
                self.key.to_ascii_uppercase().chars().take(8).collect()
            }
        });
        self
    }

    /// The prefix of its applications' references (`reference:`, e.g. `SZHK`).
    pub fn reference(&self) -> &str {
        &self.reference
    }

    /// Who may apply (`applicants: {regions: […]}`): firms of these regions (`hk`,
    /// `mainland`); empty when anyone may.
    pub fn applicant_regions(&self) -> &[String] {
        &self.applicant_regions
    }

    /// Whether a firm of `region` may apply. A firm whose region the directory does not
    /// record may (the directory, not the firm, decides where a firm is).
    pub fn may_apply(&self, region: Option<&str>) -> bool {
        match region {
            Some(r) if !self.applicant_regions.is_empty() => {
                self.applicant_regions.iter().any(|a| a == r)
            }
            _ => true,
        }
    }

    /// The stable key, e.g. `soft-landing-sz-to-hk`.
    pub fn key(&self) -> &str {
        &self.key
    }
    /// The title, with translations.
    pub fn title(&self) -> &Text {
        &self.title
    }
    /// The description, with translations.
    pub fn description(&self) -> Option<&Text> {
        self.description.as_ref()
    }
    /// Agency keys the workflow assigns work to.
    pub fn agencies(&self) -> &[String] {
        &self.agencies
    }
    /// The application form's JSON Schema.
    pub fn form_schema(&self) -> &serde_json::Value {
        self.form.source()
    }
    /// Checks application data against the form; every violation with its JSON pointer.
    pub fn check_form(&self, data: &serde_json::Value) -> Result<(), Vec<Violation>> {
        self.form.check(data)
    }
    /// The first state.
    pub fn start(&self) -> StateId {
        self.start
    }
    /// All states, indexed by [`StateId`].
    pub fn states(&self) -> &[State] {
        &self.states
    }
    /// One state.
    pub fn state(&self, id: StateId) -> &State {
        &self.states[id.index()]
    }
    /// Whether the applicant's step `state` is an agency asking for information: an agency's
    /// action leads there. A student's offer to accept (the host firm's offer, a promotion from
    /// the waitlist) is not.
    pub fn is_information_request(&self, state: &str) -> bool {
        let Some(target) = self.state_id(state) else {
            return false;
        };
        self.states.iter().any(|s| match &s.kind {
            StateKind::Task(t) => {
                t.assignee.agency().is_some() && t.actions.iter().any(|a| a.to == target)
            }
            _ => false,
        })
    }

    /// The title of an outcome: the title of the final state that ends with it, or the
    /// built-in label of a withdrawal.
    pub fn outcome_title(&self, outcome: &str) -> Option<Text> {
        if outcome == crate::model::WITHDRAWN {
            return Some(Text {
                en: "Withdrawn".into(),
                zh_hant: Some("已撤回".into()),
                zh_hans: Some("已撤回".into()),
            });
        }
        self.states
            .iter()
            .find(|s| matches!(&s.kind, StateKind::Final { outcome: o, .. } if o == outcome))
            .map(|s| s.title.clone())
    }

    /// A state by name.
    pub fn state_named(&self, name: &str) -> Option<&State> {
        self.state_id(name).map(|id| self.state(id))
    }
    /// When `action` of task state `from` asks the firm for information (it goes to the
    /// applicant's task, which comes back): the asking step's due spec, which says what the
    /// request does to its clock.
    pub fn request_clock(&self, from: StateId, action: &str) -> Option<&DueSpec> {
        let StateKind::Task(t) = self.state(from).kind() else {
            return None;
        };
        t.due
            .as_ref()
            .filter(|_| t.action(action).is_some_and(|a| a.request))
    }

    /// A state's id by name.
    pub fn state_id(&self, name: &str) -> Option<StateId> {
        self.names.get(name).copied()
    }
    /// Every id with its state.
    pub fn iter(&self) -> impl Iterator<Item = (StateId, &State)> {
        self.states
            .iter()
            .enumerate()
            .map(|(i, s)| (StateId(i as u16), s))
    }
    /// Top-level states (not inside a branch), in definition order.
    pub fn top_level(&self) -> impl Iterator<Item = (StateId, &State)> {
        self.iter().filter(|(_, s)| s.branch.is_none())
    }
    /// Outcomes of final states, deduplicated, in definition order.
    pub fn outcomes(&self) -> Vec<&str> {
        let mut seen = HashMap::new();
        for s in &self.states {
            if let StateKind::Final { outcome, .. } = &s.kind {
                let n = seen.len();
                seen.entry(outcome.as_str()).or_insert(n);
            }
        }
        let mut v: Vec<_> = seen.into_iter().collect();
        v.sort_by_key(|(_, i)| *i);
        v.into_iter().map(|(o, _)| o).collect()
    }
}
