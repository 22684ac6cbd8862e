//! The schema files a definition may name with `form: {file: …}`.
//!
//! A definition can arrive from anyone with a key (`validateWorkflow`) or an administrator
//! (`publishWorkflow`), so the name it gives is hostile: it may only reach a regular file inside
//! the schemas folder, checked after canonicalisation (no `..`, absolute path or symbolic link
//! leads out), of at most [`MAX_SCHEMA_FILE`] bytes. Every refusal says the same thing whether
//! or not something exists at the path, and nothing quotes the file's content.
//!
//! Schemas travel with the versions that use them: a name no file answers is looked up among the
//! forms published versions were given by that name ([`crate::Store::published_forms`]), so an
//! administrator can change any published workflow on any server, whatever its folder holds.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use softland_workflow::SchemaLoader;

/// The largest schema file read.
pub const MAX_SCHEMA_FILE: u64 = 256 * 1024;

/// Resolves `form: {file: …}` names against a workflows folder, reading only files under its
/// schemas folder.
#[derive(Debug, Clone)]
pub struct SchemaFiles {
    /// Where relative names are resolved (the folder of the workflow files).
    base: PathBuf,
    /// The canonical schemas folder, if there is one.
    root: Option<PathBuf>,
    /// The forms published versions named, by name: what a name no file answers reads.
    published: Arc<HashMap<String, String>>,
}

impl SchemaFiles {
    /// Names are resolved relative to `workflows`; only files under `schemas` are read.
    pub fn new(workflows: &Path, schemas: &Path) -> Self {
        Self {
            base: workflows.to_path_buf(),
            root: schemas.canonicalize().ok(),
            published: Arc::default(),
        }
    }

    /// These files, then the forms published versions gave these names.
    pub fn with_published(mut self, published: HashMap<String, String>) -> Self {
        self.published = Arc::new(published);
        self
    }

    /// The layout of the repository and of the bundled workflows: the schemas folder is the
    /// workflows folder's sibling `schemas/` (`form: {file: ../schemas/forms/x.json}`).
    pub fn beside(workflows: &Path) -> Self {
        Self::new(workflows, &workflows.join("..").join("schemas"))
    }

    fn refused(name: &str) -> String {
        format!(
            "`{name}` is not a schema file of this server: name a `.json` file under its schemas folder (e.g. `../schemas/forms/x.json`) or the form of a published version, or inline the schema"
        )
    }

    /// The file's text, if `name` leads to a regular file under the schemas folder; else the
    /// form a published version gave that name.
    pub fn read(&self, name: &str) -> Result<String, String> {
        match self.read_file(name) {
            Ok(text) => Ok(text),
            Err(e) => self.published.get(name).cloned().ok_or(e),
        }
    }

    fn read_file(&self, name: &str) -> Result<String, String> {
        let refused = || Self::refused(name);
        let root = self.root.as_ref().ok_or_else(refused)?;
        if name.is_empty() || name.contains('\0') || Path::new(name).is_absolute() {
            return Err(refused());
        }
        let path = self.base.join(name).canonicalize().map_err(|_| refused())?;
        if !path.starts_with(root) {
            return Err(refused());
        }
        // Opened by its canonical path: a regular file (not a device, FIFO or folder).
        let file = std::fs::File::open(&path).map_err(|_| refused())?;
        let meta = file.metadata().map_err(|_| refused())?;
        if !meta.is_file() {
            return Err(refused());
        }
        if meta.len() > MAX_SCHEMA_FILE {
            return Err(format!(
                "`{name}` is larger than {} KiB",
                MAX_SCHEMA_FILE / 1024
            ));
        }
        let mut text = String::new();
        file.take(MAX_SCHEMA_FILE + 1)
            .read_to_string(&mut text)
            .map_err(|_| format!("`{name}` is not a UTF-8 text file"))?;
        if text.len() as u64 > MAX_SCHEMA_FILE {
            return Err(format!(
                "`{name}` is larger than {} KiB",
                MAX_SCHEMA_FILE / 1024
            ));
        }
        Ok(text)
    }
}

impl SchemaLoader for SchemaFiles {
    fn load(&self, path: &str) -> Result<String, String> {
        self.read(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> (PathBuf, SchemaFiles) {
        let dir = std::env::temp_dir().join(format!(
            "softland-schema-files-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        std::fs::create_dir_all(dir.join("workflows")).unwrap();
        std::fs::create_dir_all(dir.join("schemas/forms")).unwrap();
        std::fs::write(dir.join("schemas/forms/a.json"), r#"{"type":"object"}"#).unwrap();
        std::fs::write(dir.join("secret.json"), r#"{"api_key":"sk_live_x"}"#).unwrap();
        std::fs::write(
            dir.join("schemas/forms/big.json"),
            vec![b' '; MAX_SCHEMA_FILE as usize + 1],
        )
        .unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.join("secret.json"), dir.join("schemas/forms/link.json"))
            .unwrap();
        let files = SchemaFiles::beside(&dir.join("workflows"));
        (dir, files)
    }

    #[test]
    fn reads_only_regular_files_under_the_schemas_folder() {
        let (dir, files) = layout();
        assert_eq!(
            files.read("../schemas/forms/a.json").unwrap(),
            r#"{"type":"object"}"#
        );
        let secret = dir.join("secret.json").display().to_string();
        let refusals = [
            secret.as_str(),
            "../secret.json",
            "../schemas/../secret.json",
            "../schemas/forms/link.json",
            "/etc/passwd",
            "/dev/zero",
            "/dev/stdin",
            "/nonexistent/x.json",
            "../schemas/forms/missing.json",
            "../schemas/forms",
        ];
        for name in refusals {
            let e = files.read(name).unwrap_err();
            assert_eq!(e, SchemaFiles::refused(name), "{name}");
            assert!(!e.contains("sk_live"));
        }
        assert!(
            files
                .read("../schemas/forms/big.json")
                .unwrap_err()
                .contains("larger than")
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_name_no_file_answers_reads_the_published_form() {
        let (dir, files) = layout();
        let files = files.with_published(HashMap::from([
            ("../schemas/forms/gone.json".to_owned(), "{}".to_owned()),
            ("../schemas/forms/a.json".to_owned(), "old".to_owned()),
        ]));
        assert_eq!(files.read("../schemas/forms/gone.json").unwrap(), "{}");
        assert_eq!(
            files.read("../schemas/forms/a.json").unwrap(),
            r#"{"type":"object"}"#,
            "the server's file is newer than what was published"
        );
        assert!(files.read("../secret.json").is_err());
        let _ = std::fs::remove_dir_all(dir);
    }
}
