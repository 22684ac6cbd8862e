//! Reading workflow files from disk (the workflow crate itself never does I/O).

use std::path::{Path, PathBuf};

use anyhow::Context;
use softland_workflow::{Diagnostics, Workflow};

/// Reads and compiles a workflow file. Schema files (`form: {file: …}`) are resolved relative to
/// the workflow file's directory. `Ok(Err(_))` carries the definition's diagnostics.
pub fn load_workflow(path: &Path) -> anyhow::Result<Result<Workflow, Diagnostics>> {
    let source =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let loader = move |rel: &str| -> Result<String, String> {
        let file: PathBuf = dir.join(rel);
        std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))
    };
    Ok(Workflow::compile_with(&source, &loader))
}

/// Loads a workflow or fails with its rendered diagnostics.
pub fn load_valid(path: &Path) -> anyhow::Result<Workflow> {
    match load_workflow(path)? {
        Ok(wf) => Ok(wf),
        Err(d) => anyhow::bail!(
            "{} is not a valid workflow:\n{}",
            path.display(),
            d.render(&path.display().to_string()).trim_end()
        ),
    }
}
