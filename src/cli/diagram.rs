//! `softland diagram PATH [--format mermaid|dot]`

use std::path::Path;
use std::process::ExitCode;

use softland_workflow::diagram::{Format, render};

use super::DiagramFormat;
use super::load::load_valid;

pub(super) fn run(path: &Path, format: DiagramFormat) -> anyhow::Result<ExitCode> {
    let wf = load_valid(path)?;
    let format = match format {
        DiagramFormat::Mermaid => Format::Mermaid,
        DiagramFormat::Dot => Format::Dot,
    };
    print!("{}", render(&wf, format));
    Ok(ExitCode::SUCCESS)
}
