//! [`Workflow`]: the compiled, immutable definition, and its entry points.

use std::collections::HashMap;

use crate::diagnostic::Diagnostics;
use crate::model::{NameIndex, State, StateId, StateKind, Text};
use crate::schema::{Schema, Violation};

/// Supplies schema files named by `form: {file: …}`. The CLI and the store implement it; the
/// compiler itself never touches the file system.
pub trait SchemaLoader {
    /// The text of the schema file at `path` (relative to the workflow file).
    fn load(&self, path: &str) -> Result<String, String>;
}

impl<F: Fn(&str) -> Result<String, String>> SchemaLoader for F {
    fn load(&self, path: &str) -> Result<String, String> {
        self(path)
    }
}

/// The stack a thread compiling a definition should have. The CEL parser recurses deeply per
/// bracket level (about 170 KiB a level in a debug build, far less optimised); with conditions
/// bounded to 12 levels (see `docs/workflow-language.md`, `condition-too-complex`) this leaves a
/// wide margin. Async runtimes' worker threads have 2 MiB: compile elsewhere.
pub const COMPILE_STACK: usize = 16 * 1024 * 1024;

/// A checked workflow definition. Only [`Workflow::compile`] makes one.
#[derive(Debug)]
pub struct Workflow {
    key: String,
    title: Text,
    description: Option<Text>,
    agencies: Vec<String>,
    form: Schema,
    states: Vec<State>,
    start: StateId,
    names: NameIndex,
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
            .map(|(i, s)| (s.name.clone(), crate::model::StateId(i as u16)))
            .collect();
        Self {
            key,
            title,
            description,
            agencies,
            form,
            states,
            start,
            names,
        }
    }

    /// Compiles a YAML definition whose form schema is inline.
    ///
    /// ```
    /// let yaml = r#"
    /// key: tiny
    /// title: A tiny workflow
    /// agencies: [hkstp]
    /// form: {type: object}
    /// start: review
    /// states:
    ///   review:
    ///     type: task
    ///     assignee: hkstp
    ///     actions: {approve: done, reject: refused}
    ///   done: {type: final, outcome: approved}
    ///   refused: {type: final, outcome: rejected}
    /// "#;
    /// let wf = softland_workflow::Workflow::compile(yaml).unwrap();
    /// assert_eq!(wf.key(), "tiny");
    ///
    /// let broken = yaml.replace("approve: done", "approve: dnoe");
    /// let errors = softland_workflow::Workflow::compile(&broken).unwrap_err();
    /// let first = errors.iter().next().unwrap();
    /// assert_eq!(first.code.as_str(), "unknown-target");
    /// assert_eq!((first.pos.line, first.pos.column), (11, 24));
    /// assert!(first.message.contains("did you mean `done`?"));
    /// ```
    pub fn compile(source: &str) -> Result<Self, Diagnostics> {
        Self::compile_inner(source, None)
    }

    /// Compiles a definition; `loader` supplies schema files named by `form: {file: …}`.
    pub fn compile_with(source: &str, loader: &dyn SchemaLoader) -> Result<Self, Diagnostics> {
        Self::compile_inner(source, Some(loader))
    }

    fn compile_inner(source: &str, loader: Option<&dyn SchemaLoader>) -> Result<Self, Diagnostics> {
        let mut d = Diagnostics::default();
        let workflow = crate::yaml::parse(source, &mut d).and_then(|root| {
            let raw = crate::raw::Reader::new(&mut d).definition(&root);
            crate::analyze::analyze(raw, loader, &mut d)
        });
        match workflow {
            Some(w) if d.is_empty() => Ok(w),
            _ => Err(d.finish()),
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
            if let StateKind::Final { outcome } = &s.kind {
                let n = seen.len();
                seen.entry(outcome.as_str()).or_insert(n);
            }
        }
        let mut v: Vec<_> = seen.into_iter().collect();
        v.sort_by_key(|(_, i)| *i);
        v.into_iter().map(|(o, _)| o).collect()
    }
}
