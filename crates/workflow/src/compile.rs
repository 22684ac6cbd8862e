//! Compiling a definition: YAML text → spanned tree ([`crate::yaml`]) → raw definition
//! ([`crate::raw`]) → checked [`Workflow`] ([`crate::analyze`]), every problem collected on the
//! way. The compiler never touches the file system: schema files come through a
//! [`SchemaLoader`].

use crate::diagnostic::Diagnostics;
use crate::schema::SchemaLoader;
use crate::workflow::Workflow;

/// The stack a thread compiling a definition should have. The CEL parser recurses deeply per
/// bracket level (about 170 KiB a level in a debug build, far less optimised); with conditions
/// bounded to 12 levels (see `docs/workflow-language.md`, `condition-too-complex`) this leaves a
/// wide margin. Async runtimes' worker threads have 2 MiB: compile elsewhere.
pub const COMPILE_STACK: usize = 16 * 1024 * 1024;

impl Workflow {
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
}
