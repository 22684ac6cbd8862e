//! `softland validate PATH...`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::load::load_workflow;

pub(super) fn run(paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|e| e == "yaml" || e == "yml"))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    let mut failed = 0;
    for file in &files {
        if !check(file) {
            failed += 1;
        }
    }
    if failed > 0 {
        eprintln!("{failed} of {} workflow file(s) have problems", files.len());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Validates one file (and its example application, if there is one); prints the outcome.
fn check(file: &Path) -> bool {
    let shown = file.display().to_string();
    let wf = match load_workflow(file) {
        Err(e) => {
            println!("{shown}: error: {e:#}");
            return false;
        }
        Ok(Err(diags)) => {
            print!("{}", diags.render(&shown));
            return false;
        }
        Ok(Ok(wf)) => wf,
    };
    let example = file
        .parent()
        .unwrap_or(Path::new("."))
        .join("examples")
        .join(format!("{}.json", wf.key()));
    if example.exists() {
        let ex_shown = example.display().to_string();
        let data = match std::fs::read_to_string(&example)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
        {
            Ok(d) => d,
            Err(e) => {
                println!("{ex_shown}: error: {e}");
                return false;
            }
        };
        if let Err(violations) = wf.check_form(&data) {
            for v in violations {
                println!(
                    "{ex_shown}: form-violation: {} {}",
                    if v.path.is_empty() { "/" } else { &v.path },
                    v.message
                );
            }
            return false;
        }
    }
    println!("{shown}: ok ({}, {} states)", wf.key(), wf.states().len());
    true
}
