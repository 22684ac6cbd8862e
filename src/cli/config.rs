//! One configuration, in layers — each overriding the one before:
//!
//! 1. the defaults (`softland serve --help` shows them);
//! 2. a TOML file (`--config FILE` or `SOFTLAND_CONFIG`): keys are the flags' names, at the top
//!    level or in tables (`[smtp] url = …` is `smtp-url`), arrays for repeatable flags;
//! 3. secrets from files: `SOFTLAND_SMTP_URL_FILE=/run/secrets/smtp` (or `smtp-url-file` in
//!    the TOML file) for every secret setting — the file's content, without its final newline;
//! 4. `SOFTLAND_*` environment variables;
//! 5. flags.
//!
//! The file is read before the command line is parsed and becomes the flags' defaults, so clap
//! checks its values as it checks flags, and every command reads the keys it has (`db` for
//! `doctor` too). `softland config check` prints the effective settings of `serve`, where each
//! came from, secrets masked, and exits 1 on anything invalid.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::parser::ValueSource;

/// The largest configuration file read.
const MOST_BYTES: u64 = 256 * 1024;

/// Settings the TOML file gave, by (subcommand path, arg id).
#[derive(Debug, Default)]
pub(crate) struct FromFile {
    /// The file.
    pub(crate) path: Option<PathBuf>,
    /// Arg ids whose default the file (or a secret file) set, with which.
    pub(crate) ids: BTreeMap<String, &'static str>,
}

/// The file the command line or `SOFTLAND_CONFIG` names, if any.
fn config_path(args: &[OsString]) -> Option<PathBuf> {
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let a = a.to_string_lossy();
        if a == "--" {
            break;
        }
        if let Some(v) = a.strip_prefix("--config=") {
            return Some(PathBuf::from(v));
        }
        if a == "--config" {
            return it.next().map(PathBuf::from);
        }
    }
    std::env::var_os("SOFTLAND_CONFIG").map(PathBuf::from)
}

/// A TOML value as flag text: strings as they are, numbers and booleans written out, arrays as
/// several values.
fn texts(key: &str, v: &toml::Value) -> anyhow::Result<Vec<String>> {
    Ok(match v {
        toml::Value::String(s) => vec![s.clone()],
        toml::Value::Integer(i) => vec![i.to_string()],
        toml::Value::Float(f) => vec![f.to_string()],
        toml::Value::Boolean(b) => vec![b.to_string()],
        toml::Value::Array(items) => {
            let mut out = Vec::new();
            for i in items {
                match i {
                    toml::Value::Array(_) | toml::Value::Table(_) => {
                        bail!("`{key}`: a list of lists or tables is not a setting")
                    }
                    other => out.extend(texts(key, other)?),
                }
            }
            out
        }
        toml::Value::Datetime(d) => vec![d.to_string()],
        toml::Value::Table(_) => unreachable!("tables are flattened"),
    })
}

/// `[smtp] url = …` → `smtp-url`; `smtp_url` → `smtp-url`.
fn flatten(prefix: &str, table: &toml::Table, out: &mut BTreeMap<String, toml::Value>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.replace('_', "-")
        } else {
            format!("{prefix}-{}", k.replace('_', "-"))
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            other => {
                out.insert(key, other.clone());
            }
        }
    }
}

fn read_secret(path: &std::path::Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the secret file {}", path.display()))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

/// The command line's `Command`, with the file's settings and secret files as defaults.
pub(crate) fn layered(
    mut cmd: clap::Command,
    args: &[OsString],
) -> anyhow::Result<(clap::Command, FromFile)> {
    let mut from = FromFile::default();
    let mut settings = BTreeMap::new();
    if let Some(path) = config_path(args) {
        let size = std::fs::metadata(&path)
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?
            .len();
        if size > MOST_BYTES {
            bail!("{} is larger than {MOST_BYTES} bytes", path.display());
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        let table: toml::Table = toml::from_str(&text)
            .with_context(|| format!("{} is not valid TOML", path.display()))?;
        flatten("", &table, &mut settings);
        from.path = Some(path);
    }
    let mut used = BTreeSet::new();
    cmd = apply(cmd, &settings, &mut used, &mut from.ids)?;
    let unknown: Vec<&String> = settings.keys().filter(|k| !used.contains(*k)).collect();
    if let Some(path) = &from.path
        && !unknown.is_empty()
    {
        let names: Vec<&str> = unknown.iter().map(|k| k.as_str()).collect();
        bail!(
            "{}: no command has the setting(s) {} (keys are flag names: `db`, `listen`, `smtp-url` or [smtp] url, …)",
            path.display(),
            names.join(", ")
        );
    }
    Ok((cmd, from))
}

fn apply(
    mut cmd: clap::Command,
    settings: &BTreeMap<String, toml::Value>,
    used: &mut BTreeSet<String>,
    ids: &mut BTreeMap<String, &'static str>,
) -> anyhow::Result<clap::Command> {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for name in names {
        let mut failed = None;
        cmd = cmd.mut_subcommand(&name, |sub| match apply(sub, settings, used, ids) {
            Ok(s) => s,
            Err(e) => {
                failed = Some(e);
                clap::Command::new("failed")
            }
        });
        if let Some(e) = failed {
            return Err(e);
        }
    }
    let args: Vec<(String, String, bool, Option<String>)> = cmd
        .get_arguments()
        .filter_map(|a| {
            a.get_long().map(|l| {
                (
                    a.get_id().to_string(),
                    l.to_owned(),
                    a.is_hide_env_values_set(),
                    a.get_env().map(|e| e.to_string_lossy().into_owned()),
                )
            })
        })
        .collect();
    for (id, long, secret, env) in args {
        let mut values = None;
        let mut source = "file";
        if let Some(v) = settings.get(&long) {
            used.insert(long.clone());
            values = Some(texts(&long, v)?);
        }
        if secret {
            // `SOFTLAND_X_FILE`, else `x-file` in the TOML file.
            let file_key = format!("{long}-file");
            let file = env
                .as_ref()
                .and_then(|e| std::env::var_os(format!("{e}_FILE")))
                .map(PathBuf::from)
                .or_else(|| {
                    settings
                        .get(&file_key)
                        .and_then(|v| v.as_str())
                        .map(PathBuf::from)
                });
            if settings.contains_key(&file_key) {
                used.insert(file_key);
            }
            if let Some(path) = file {
                values = Some(vec![read_secret(&path)?]);
                source = "secret file";
            }
        }
        if let Some(values) = values {
            ids.insert(id.clone(), source);
            cmd = cmd.mut_arg(&id, |a| a.default_values(values));
        }
    }
    Ok(cmd)
}

/// Where a setting's value came from.
pub(crate) fn source_of(m: &clap::ArgMatches, id: &str, from: &FromFile) -> &'static str {
    match m.value_source(id) {
        Some(ValueSource::CommandLine) => "flag",
        Some(ValueSource::EnvVariable) => "environment",
        Some(ValueSource::DefaultValue) => from.ids.get(id).copied().unwrap_or("default"),
        _ => "default",
    }
}

/// `softland config check`: the effective settings of `serve` with their sources, secrets
/// masked; `check` validates them as `serve` would at start.
pub(crate) fn print_check(
    cmd: &clap::Command,
    m: &clap::ArgMatches,
    from: &FromFile,
    check: impl FnOnce() -> anyhow::Result<()>,
) -> anyhow::Result<std::process::ExitCode> {
    if let Some(p) = &from.path {
        println!("# configuration file: {}", p.display());
    }
    for a in cmd.get_arguments() {
        let id = a.get_id().as_str();
        let Some(long) = a.get_long() else { continue };
        if matches!(id, "help" | "version" | "config") {
            continue;
        }
        let raw: Vec<String> = m
            .get_raw(id)
            .map(|vs| vs.map(|v| v.to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        let shown = if raw.is_empty() {
            "(not set)".to_owned()
        } else if a.is_hide_env_values_set() {
            "********".to_owned()
        } else {
            raw.iter()
                .map(|v| super::db::redact(v))
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!("{long:<28} {shown:<60} ({})", source_of(m, id, from));
    }
    match check() {
        Ok(()) => {
            println!("# valid");
            Ok(std::process::ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("# invalid: {e:#}");
            Ok(std::process::ExitCode::FAILURE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_and_underscores_become_flag_names() {
        let table: toml::Table = toml::from_str(
            "db = \"sqlite://x.db\"\nscheduler_seconds = 2\n[smtp]\nurl = \"smtp://m:25\"\n[oidc]\nissuer = [\"https://a\", \"https://b\"]\n",
        )
        .expect("toml");
        let mut out = BTreeMap::new();
        flatten("", &table, &mut out);
        let keys: Vec<&str> = out.keys().map(String::as_str).collect();
        assert_eq!(keys, ["db", "oidc-issuer", "scheduler-seconds", "smtp-url"]);
        assert_eq!(
            texts("oidc-issuer", &out["oidc-issuer"]).expect("texts"),
            ["https://a", "https://b"]
        );
        assert_eq!(
            texts("scheduler-seconds", &out["scheduler-seconds"]).expect("texts"),
            ["2"]
        );
    }
}
