//! Four eyes before acting: which of a step's actions a person may not take, so pages offer
//! only what they may do, and a claim they could never complete is refused up front (a
//! colleague may take over such a claim) instead of blocking the seat until someone notices.

use crate::engine::{Instance, Rejection};
use crate::model::{SEAT_ACTIONS, StateId, StateKind};
use crate::workflow::Workflow;

impl Workflow {
    /// The step whose actor `person` was, among `steps` (four-eyes rules name them).
    pub(crate) fn acted_in(
        &self,
        inst: &Instance,
        steps: &[StateId],
        person: &str,
    ) -> Option<StateId> {
        steps
            .iter()
            .copied()
            .find(|step| inst.actors.iter().any(|(s, a)| s == step && **a == *person))
    }

    /// The actions of `state` a four-eyes rule bars `person` from in `inst`, each with the
    /// step that bars it (the step they acted at; an approval itself once they voted there).
    pub fn barred_actions(
        &self,
        inst: &Instance,
        state: StateId,
        person: &str,
    ) -> Vec<(String, StateId)> {
        match self.state(state).kind() {
            StateKind::Task(t) => t
                .actions()
                .iter()
                .filter_map(|a| {
                    self.acted_in(inst, a.distinct_from(), person)
                        .map(|step| (a.name().to_owned(), step))
                })
                .collect(),
            StateKind::Approval(a) => {
                let voted = inst
                    .votes
                    .iter()
                    .any(|v| v.state == state && v.voters.iter().any(|p| **p == *person));
                let step = if voted {
                    Some(state)
                } else {
                    self.acted_in(inst, &a.distinct_from, person)
                };
                step.map(|step| {
                    SEAT_ACTIONS
                        .iter()
                        .map(|a| ((*a).to_owned(), step))
                        .collect()
                })
                .unwrap_or_default()
            }
            _ => Vec::new(),
        }
    }

    /// Why `person` could take none of `state`'s actions in `inst` (every one is barred, see
    /// [`Workflow::barred_actions`]), or `None` when they could take at least one.
    pub fn barred(&self, inst: &Instance, state: StateId, person: &str) -> Option<Rejection> {
        let offered = match self.state(state).kind() {
            StateKind::Task(t) => t.actions().len(),
            StateKind::Approval(_) => SEAT_ACTIONS.len(),
            _ => return None,
        };
        let barred = self.barred_actions(inst, state, person);
        if offered == 0 || barred.len() < offered {
            return None;
        }
        barred.first().map(|(_, step)| Rejection::FourEyes {
            actor: person.to_owned(),
            step: self.state(*step).name().to_owned(),
        })
    }
}
