//! The bundled workflows, carried in the binary: `serve` and `demo` use them when no workflows
//! folder is given and none is found, so softland runs from any folder.

use std::path::PathBuf;

use anyhow::bail;
use softland_store::{Published, Store};

/// The bundled definitions, by file name.
const WORKFLOWS: &[(&str, &str)] = &[
    (
        "internship-placement.yaml",
        include_str!("../../workflows/internship-placement.yaml"),
    ),
    (
        "soft-landing-hk-to-sz.yaml",
        include_str!("../../workflows/soft-landing-hk-to-sz.yaml"),
    ),
    (
        "soft-landing-sz-to-hk.yaml",
        include_str!("../../workflows/soft-landing-sz-to-hk.yaml"),
    ),
];

/// Their forms, by the name the definitions give (`form: {file: …}`).
const FORMS: &[(&str, &str)] = &[
    (
        "../schemas/forms/internship-placement.json",
        include_str!("../../schemas/forms/internship-placement.json"),
    ),
    (
        "../schemas/forms/soft-landing-hk-to-sz.json",
        include_str!("../../schemas/forms/soft-landing-hk-to-sz.json"),
    ),
    (
        "../schemas/forms/soft-landing-sz-to-hk.json",
        include_str!("../../schemas/forms/soft-landing-sz-to-hk.json"),
    ),
];

/// The agencies the bundled workflows name (added at start when the directory lacks them).
const BUNDLED_AGENCIES: &str = include_str!("../../workflows/directory/agencies.yaml");

/// The shared happy path of `soft-landing-sz-to-hk` (what `softland growth` seeds).
pub(crate) const SZ_TO_HK_HAPPY: &str =
    include_str!("../../workflows/examples/soft-landing-sz-to-hk.happy.yaml");

/// A valid sample application of `soft-landing-sz-to-hk` (what the demo submits).
/// A small PDF the demo uploads (a business plan's first page).
pub(crate) const SAMPLE_PDF: &[u8] = include_bytes!("../../workflows/examples/business-plan.pdf");
pub(crate) const SZ_TO_HK_EXAMPLE: &str =
    include_str!("../../workflows/examples/soft-landing-sz-to-hk.json");

fn bundled_form(name: &str) -> Result<String, String> {
    FORMS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| (*text).to_owned())
        .ok_or_else(|| format!("`{name}` is not one of the bundled forms"))
}

/// Where the workflows published at start come from.
#[derive(Debug, Clone)]
pub(crate) enum Workflows {
    /// A folder of `*.yaml` files (schema files under its sibling `schemas/`).
    Folder(PathBuf),
    /// The definitions carried in the binary.
    Bundled,
}

impl Workflows {
    /// The folder given (it must exist); else `./workflows` when there is one; else the bundled
    /// definitions.
    pub(crate) fn resolve(given: Option<PathBuf>) -> anyhow::Result<Self> {
        match given {
            Some(dir) if dir.is_dir() => Ok(Self::Folder(dir)),
            Some(dir) => bail!(
                "the workflows folder {} does not exist (leave --workflows out to use the bundled workflows)",
                dir.display()
            ),
            None if PathBuf::from("workflows").is_dir() => {
                Ok(Self::Folder(PathBuf::from("workflows")))
            }
            None => Ok(Self::Bundled),
        }
    }

    /// The folder API definitions resolve `form: {file: …}` against (none for the bundled
    /// set: then only inline forms can be validated or published over the API).
    pub(crate) fn folder(&self) -> PathBuf {
        match self {
            Self::Folder(dir) => dir.clone(),
            Self::Bundled => PathBuf::from("workflows"),
        }
    }

    /// What this is, for the log.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Folder(dir) => dir.display().to_string(),
            Self::Bundled => "the bundled workflows".to_owned(),
        }
    }

    /// Adds the agencies these workflows name when the directory lacks them.
    pub(crate) async fn seed_directory(&self, store: &Store) -> anyhow::Result<()> {
        match self {
            Self::Folder(dir) => {
                let seed = dir.join(softland_store::DIRECTORY_SEED);
                if seed.is_file() {
                    let text = std::fs::read_to_string(&seed)?;
                    if let Err(e) = store.seed_directory(&text).await {
                        anyhow::bail!("cannot load {}: {e}", seed.display());
                    }
                }
            }
            Self::Bundled => {
                store.seed_directory(BUNDLED_AGENCIES).await?;
            }
        }
        Ok(())
    }

    /// Publishes every definition whose content no version has yet.
    pub(crate) async fn publish(
        &self,
        store: &Store,
        by: &str,
    ) -> softland_store::Result<Vec<(String, Published)>> {
        match self {
            Self::Folder(dir) => store.publish_dir(dir, by).await,
            Self::Bundled => {
                store.seed_directory(BUNDLED_AGENCIES).await?;
                let files = WORKFLOWS
                    .iter()
                    .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
                    .collect();
                store.publish_files(files, bundled_form, by).await
            }
        }
    }
}
