//! A state's name as events record it.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{State, StateId};

/// A state, by its name in the YAML — what events record, so that the audit log means the same
/// whichever version of the workflow reads it (indexes are only stable within one version).
///
/// A workflow's own names also carry their index in it ([`Self::index_in`]), so the engine
/// finds the state an event it just made names without looking the name up. Equality, order,
/// hashing and the stored form are the name's alone.
#[derive(Clone)]
pub struct StateName {
    name: Arc<str>,
    id: Option<StateId>,
}

impl StateName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The workflow's own name of its state `id`.
    pub(crate) fn of_state(name: &str, id: StateId) -> Self {
        Self {
            name: name.into(),
            id: Some(id),
        }
    }

    /// The state's id, if this is the very name `states` holds for it (a name read from the
    /// store, or made by another version of the workflow, is looked up by its text instead).
    pub(crate) fn index_in(&self, states: &[State]) -> Option<StateId> {
        let id = self.id?;
        let own = &states.get(id.index())?.name;
        Arc::ptr_eq(&own.name, &self.name).then_some(id)
    }
}

impl From<&str> for StateName {
    fn from(s: &str) -> Self {
        Self {
            name: s.into(),
            id: None,
        }
    }
}

impl PartialEq for StateName {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for StateName {}

impl std::hash::Hash for StateName {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl PartialOrd for StateName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for StateName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.name.cmp(&other.name)
    }
}

impl Serialize for StateName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name)
    }
}

impl<'de> Deserialize<'de> for StateName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Arc::<str>::deserialize(deserializer).map(|name| Self { name, id: None })
    }
}

impl std::fmt::Debug for StateName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("StateName").field(&self.name).finish()
    }
}

impl std::fmt::Display for StateName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Workflow;

    #[test]
    fn only_the_workflows_own_name_carries_its_index() {
        let def = |first: &str, second: &str| {
            format!(
                "key: k\ntitle: K\nagencies: [ofds]\nform: {{type: object}}\nstart: {first}\n\
                 states:\n  {first}: {{type: task, assignee: ofds, actions: {{go: {second}}}}}\n  \
                 {second}: {{type: final, outcome: approved}}\n"
            )
        };
        let wf = Workflow::compile(&def("a", "b")).expect("compiles");
        let own = wf.states()[1].state_name();
        assert_eq!(own.index_in(wf.states()), Some(StateId(1)));
        // the same text read back from the store, or made by another version, is looked up
        let stored: StateName = serde_json::from_str("\"b\"").expect("a name");
        assert_eq!(stored.index_in(wf.states()), None);
        let other = Workflow::compile(&def("b", "a")).expect("compiles");
        assert_eq!(other.states()[0].state_name().index_in(wf.states()), None);
        // the index is not part of what the name is
        assert_eq!(stored, own);
        assert_eq!(serde_json::to_string(&own).expect("serializes"), "\"b\"");
    }
}
