//! Workflow definitions: publish (a new version only when the content changed), retire, and
//! load compiled workflows (cached: a version never changes once published).

pub(crate) mod schema_files;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use softland_workflow::{Code, Diagnostic, Pos, Workflow};

use crate::Store;
use crate::entity::definition;
use crate::error::{ConflictReason, Error, Result};
use crate::hash::sha256_hex;
use crate::records::{DefinitionRecord, Published};
use crate::rows::definition_record;

/// When content already published is published again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Republish {
    /// As a new version, unless it is the latest (not retired) version's content.
    UnlessLatest,
    /// Never: content any version has is left as it is.
    Never,
}

/// Definitions compiled at once; more wait (compiling is CPU work, and a hostile caller could
/// otherwise start any number).
const COMPILING_AT_ONCE: usize = 4;

static COMPILING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(COMPILING_AT_ONCE);

/// Compiles a definition on a thread of its own with [`softland_workflow::COMPILE_STACK`]:
/// compiling is CPU work (up to the body limit of a hostile definition) that must not hold an
/// async worker thread, and the CEL parser needs more stack than a worker has.
pub async fn compile_off_runtime(
    source: String,
    loader: impl softland_workflow::SchemaLoader + Send + 'static,
) -> Result<std::result::Result<Workflow, softland_workflow::Diagnostics>> {
    let _turn = COMPILING
        .acquire()
        .await
        .map_err(|e| Error::Unavailable(format!("the compiler is closed: {e}")))?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("softland-compile".to_owned())
        .stack_size(softland_workflow::COMPILE_STACK)
        .spawn(move || {
            let _ = tx.send(Workflow::compile_with(&source, &loader));
        })
        .map_err(|e| Error::Unavailable(format!("cannot start a compiler thread: {e}")))?;
    rx.await
        .map_err(|_| Error::Unavailable("the compiler thread stopped".to_owned()))
}

/// Compiles stored source with its stored form (the form may have come from a file).
/// A published version that no longer compiles (a later release bounds something it uses) is
/// stored data this server cannot read — its failure, not the caller's input.
async fn compile_stored(
    key: &str,
    version: i32,
    source: &str,
    form_schema: &str,
) -> Result<Workflow> {
    let form = form_schema.to_owned();
    let loader = move |_: &str| Ok::<_, String>(form.clone());
    compile_off_runtime(source.to_owned(), loader)
        .await?
        .map_err(|d| Error::Unreadable {
            table: "definitions",
            id: format!("{key} v{version}"),
            column: "source",
            why: format!("it no longer compiles:\n{}", d.render("source")),
        })
}

impl Store {
    /// Publishes a definition. `loader` resolves `form: {file: …}`. When the latest version of
    /// the key has the same content (and is not retired), nothing is stored and `changed` is
    /// false: an administrator may publish older content again, or a retired version's content,
    /// as a new version.
    pub async fn publish(
        &self,
        source: &str,
        loader: impl softland_workflow::SchemaLoader + Send + 'static,
        by: &str,
    ) -> Result<Published> {
        self.publish_as(source, loader, by, Republish::UnlessLatest)
            .await
    }

    async fn publish_as(
        &self,
        source: &str,
        loader: impl softland_workflow::SchemaLoader + Send + 'static,
        by: &str,
        mode: Republish,
    ) -> Result<Published> {
        let wf = compile_off_runtime(source.to_owned(), loader)
            .await?
            .map_err(Error::InvalidDefinition)?;
        let form_schema =
            serde_json::to_string(wf.form_schema()).map_err(|e| Error::Corrupt(e.to_string()))?;
        let hash = sha256_hex(&format!("{source}\n{form_schema}"));
        let latest = definition::Entity::find()
            .filter(definition::Column::Key.eq(wf.key()))
            .order_by_desc(definition::Column::Version)
            .one(self.db())
            .await?;
        if mode == Republish::Never {
            // Content published before, as any version, retired or not, stays as it is.
            let earlier = definition::Entity::find()
                .filter(definition::Column::Key.eq(wf.key()))
                .filter(definition::Column::ContentHash.eq(hash.as_str()))
                .order_by_desc(definition::Column::Version)
                .one(self.db())
                .await?;
            if let Some(earlier) = earlier {
                return Ok(Published {
                    definition: definition_record(earlier)?,
                    changed: false,
                });
            }
        }
        if let Some(latest) = &latest
            && latest.content_hash == hash
            && latest.retired_at.is_none()
        {
            return Ok(Published {
                definition: definition_record(latest.clone())?,
                changed: false,
            });
        }
        let unknown = self.unknown_agencies(wf.agencies()).await?;
        if !unknown.is_empty() {
            return Err(Error::InvalidDefinition(
                unknown
                    .iter()
                    .map(|key| {
                        Diagnostic::new(
                            agency_pos(source, key),
                            Code::UnknownAgency,
                            format!(
                                "the directory has no agency `{key}`; an administrator adds it \
                                 (`softland directory load`, or the `putAgency` mutation) first"
                            ),
                        )
                    })
                    .collect(),
            ));
        }
        let version = latest.map_or(1, |l| l.version + 1);
        let now = self.now();
        let model = definition::ActiveModel {
            key: Set(wf.key().to_owned()),
            version: Set(version),
            title: Set(wf.title().en.clone()),
            source: Set(source.to_owned()),
            form_schema: Set(form_schema),
            content_hash: Set(hash),
            published_by: Set(by.to_owned()),
            published_at: Set(now),
            retired_at: Set(None),
            ..Default::default()
        };
        let inserted = match definition::Entity::insert(model)
            .exec_with_returning(self.db())
            .await
        {
            Ok(m) => m,
            Err(e) if crate::error::is_unique_violation(&e) => {
                return Err(ConflictReason::ConcurrentPublish(wf.key().to_owned()).into());
            }
            Err(e) => return Err(e.into()),
        };
        tracing::info!(key = wf.key(), version, "published workflow");
        self.inner
            .workflows
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert((wf.key().to_owned(), version), Arc::new(wf));
        Ok(Published {
            definition: definition_record(inserted)?,
            changed: true,
        })
    }

    /// Publishes every `*.yaml` in `dir` whose content was never published (schema files are
    /// resolved relative to `dir`, under its sibling `schemas/` only). Returns what happened to
    /// each file, in name order.
    pub async fn publish_dir(&self, dir: &Path, by: &str) -> Result<Vec<(String, Published)>> {
        let io = |e: std::io::Error| Error::Io {
            path: dir.display().to_string(),
            source: e,
        };
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .collect();
        paths.sort();
        let seed = dir.join(DIRECTORY_SEED);
        if seed.is_file() {
            let text = std::fs::read_to_string(&seed).map_err(|e| Error::Io {
                path: seed.display().to_string(),
                source: e,
            })?;
            self.seed_directory(&text).await.map_err(|e| match e {
                Error::InvalidDirectory(why) => {
                    Error::InvalidDirectory(format!("{}: {why}", seed.display()))
                }
                other => other,
            })?;
        }
        let mut files = Vec::with_capacity(paths.len());
        for path in paths {
            let source = std::fs::read_to_string(&path).map_err(|e| Error::Io {
                path: path.display().to_string(),
                source: e,
            })?;
            files.push((path.display().to_string(), source));
        }
        self.publish_files(files, crate::SchemaFiles::beside(dir), by)
            .await
    }

    /// Publishes each `(name, source)` whose content no version has yet — retired or not — so
    /// publishing the same files again (every start does) never undoes an administrator's newer
    /// version or retirement. A file that does not compile stops the whole set.
    pub async fn publish_files(
        &self,
        files: Vec<(String, String)>,
        loader: impl softland_workflow::SchemaLoader + Clone + Send + 'static,
        by: &str,
    ) -> Result<Vec<(String, Published)>> {
        let mut out = Vec::with_capacity(files.len());
        for (name, source) in files {
            let published = self
                .publish_as(&source, loader.clone(), by, Republish::Never)
                .await
                .map_err(|e| match e {
                    Error::InvalidDefinition(diagnostics) => Error::WorkflowFile {
                        file: name.clone(),
                        diagnostics,
                    },
                    other => other,
                })?;
            out.push((name, published));
        }
        Ok(out)
    }

    /// The forms published versions were given by file name (`form: {file: …}`), the latest
    /// version's for each name: a definition sent over the API may name them on any server,
    /// whatever its folder holds (see [`crate::SchemaFiles::with_published`]).
    pub async fn published_forms(&self) -> Result<HashMap<String, String>> {
        let rows: Vec<(String, String)> = definition::Entity::find()
            .select_only()
            .column(definition::Column::Source)
            .column(definition::Column::FormSchema)
            .order_by_desc(definition::Column::PublishedAt)
            .order_by_desc(definition::Column::Version)
            .into_tuple()
            .all(self.db())
            .await?;
        let mut forms = HashMap::new();
        for (source, form) in rows {
            if let Some(name) = softland_workflow::form_file(&source) {
                forms.entry(name).or_insert(form);
            }
        }
        Ok(forms)
    }

    /// Retires a version: running applications go on, new submissions are refused. Retiring
    /// twice changes nothing: the first retirement's time stands.
    pub async fn retire(&self, key: &str, version: i32) -> Result<DefinitionRecord> {
        self.set_retired(key, version, true).await
    }

    /// Brings a retired version back: if it is the latest, new submissions use it again.
    pub async fn unretire(&self, key: &str, version: i32) -> Result<DefinitionRecord> {
        self.set_retired(key, version, false).await
    }

    async fn set_retired(
        &self,
        key: &str,
        version: i32,
        retired: bool,
    ) -> Result<DefinitionRecord> {
        let found = definition::Entity::find()
            .filter(definition::Column::Key.eq(key))
            .filter(definition::Column::Version.eq(version))
            .one(self.db())
            .await?
            .ok_or_else(|| Error::NotFound(format!("workflow `{key}` version {version}")))?;
        if found.retired_at.is_some() == retired {
            return definition_record(found);
        }
        let mut am: definition::ActiveModel = found.into();
        am.retired_at = Set(retired.then(|| self.now()));
        let updated = definition::Entity::update(am).exec(self.db()).await?;
        tracing::info!(key, version, retired, "retirement changed");
        definition_record(updated)
    }

    /// The latest version of each key (retired ones included; see `retired_at`).
    pub async fn definitions(&self) -> Result<Vec<DefinitionRecord>> {
        let all = definition::Entity::find()
            .order_by_asc(definition::Column::Key)
            .order_by_desc(definition::Column::Version)
            .all(self.db())
            .await?;
        let mut out: Vec<DefinitionRecord> = Vec::new();
        for m in all {
            if out.last().is_none_or(|l| l.key != m.key) {
                out.push(definition_record(m)?);
            }
        }
        Ok(out)
    }

    /// One version, or the latest when `version` is `None`.
    pub async fn definition(
        &self,
        key: &str,
        version: Option<i32>,
    ) -> Result<Option<DefinitionRecord>> {
        self.definition_on(self.db(), key, version).await
    }

    async fn definition_on<C: ConnectionTrait>(
        &self,
        conn: &C,
        key: &str,
        version: Option<i32>,
    ) -> Result<Option<DefinitionRecord>> {
        let mut q = definition::Entity::find().filter(definition::Column::Key.eq(key));
        if let Some(v) = version {
            q = q.filter(definition::Column::Version.eq(v));
        }
        q.order_by_desc(definition::Column::Version)
            .one(conn)
            .await?
            .map(definition_record)
            .transpose()
    }

    /// The compiled workflow of a version (cached).
    pub async fn workflow(&self, key: &str, version: i32) -> Result<Arc<Workflow>> {
        self.workflow_on(self.db(), key, version).await
    }

    /// The compiled workflow, read through `conn` on a cache miss (inside a transaction, so a
    /// command never needs a second pooled connection).
    pub(crate) async fn workflow_on<C: ConnectionTrait>(
        &self,
        conn: &C,
        key: &str,
        version: i32,
    ) -> Result<Arc<Workflow>> {
        let cached = self
            .inner
            .workflows
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&(key.to_owned(), version))
            .cloned();
        if let Some(wf) = cached {
            return Ok(wf);
        }
        let m = definition::Entity::find()
            .filter(definition::Column::Key.eq(key))
            .filter(definition::Column::Version.eq(version))
            .one(conn)
            .await?
            .ok_or_else(|| Error::NotFound(format!("workflow `{key}` version {version}")))?;
        let wf = Arc::new(compile_stored(key, version, &m.source, &m.form_schema).await?);
        self.inner
            .workflows
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert((key.to_owned(), version), wf.clone());
        Ok(wf)
    }

    /// The version new submissions to `key` use: the latest, unless it is retired.
    pub(crate) async fn current_version<C: ConnectionTrait>(
        &self,
        conn: &C,
        key: &str,
    ) -> Result<i32> {
        let latest = self
            .definition_on(conn, key, None)
            .await?
            .ok_or_else(|| Error::NotFound(format!("workflow `{key}`")))?;
        if latest.retired_at.is_some() {
            return Err(Error::Retired {
                key: key.to_owned(),
                version: latest.version,
            });
        }
        Ok(latest.version)
    }
}

/// Beside a folder's workflows: the agencies (and any organizations and people) they need,
/// added at start when the directory lacks them (never changing what an administrator set).
pub const DIRECTORY_SEED: &str = "directory/agencies.yaml";

/// Where `key` stands in the `agencies:` list of a workflow's source (1:1 if it cannot be
/// found: the diagnostic still names the key).
fn agency_pos(source: &str, key: &str) -> Pos {
    let mut in_list = false;
    for (n, line) in source.lines().enumerate() {
        in_list |= line.trim_start().starts_with("agencies:");
        if !in_list {
            continue;
        }
        let found = line.match_indices(key).find(|(i, _)| {
            let before = line[..*i].chars().next_back();
            let after = line[i + key.len()..].chars().next();
            let edge =
                |c: Option<char>| !c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-');
            edge(before) && edge(after)
        });
        if let Some((i, _)) = found {
            return Pos::new(n as u32 + 1, line[..i].chars().count() as u32 + 1);
        }
    }
    Pos::new(1, 1)
}
