//! softland-documents: the content of uploaded documents, stored by its SHA-256 through the
//! `object_store` crate — a local folder (the default, beside the SQLite file) or any
//! S3-compatible service.
//!
//! ```text
//!  upload (a temporary file) ──► sniff the media type from the first bytes (PDF, PNG, JPEG,
//!        │                        Office; the client's claim is not asked)
//!        ├─► hash it, streaming (64 KiB at a time)
//!        └─► sha256/<ab>/<hash> in the object store, unless that content is there already;
//!            written through a multipart upload that appears only when complete
//! ```
//!
//! Nothing here knows who may see a document: the store records it, the policy
//! (`softland-policy`) decides. [`retention`] is the worker that removes uploads never linked
//! to an application once their retention has passed.

pub mod retention;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// Bytes read at a time while hashing and storing.
const READ: usize = 64 * 1024;
/// Bytes of each part of a multipart upload to S3 (its smallest part).
const S3_PART: usize = 5 * 1024 * 1024;
/// Bytes of each part written to a folder: small, as nothing requires more.
const FOLDER_PART: usize = 256 * 1024;

/// Where content is kept.
#[derive(Clone)]
pub enum StorageConfig {
    /// A folder of this machine.
    Folder(PathBuf),
    /// An S3-compatible service.
    S3 {
        bucket: String,
        region: String,
        /// The service's address (`http://127.0.0.1:9000`); `None`: AWS itself.
        endpoint: Option<String>,
        access_key_id: String,
        secret_access_key: String,
    },
}

impl std::fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StorageConfig::Folder(p) => f.debug_tuple("Folder").field(p).finish(),
            StorageConfig::S3 {
                bucket,
                region,
                endpoint,
                ..
            } => f
                .debug_struct("S3")
                .field("bucket", bucket)
                .field("region", region)
                .field("endpoint", endpoint)
                .finish_non_exhaustive(),
        }
    }
}

/// Why content was not stored.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Larger than the limit.
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// Empty.
    #[error("the file is empty")]
    Empty,
    /// Not a media type softland accepts (by its content).
    #[error("the file's content is {found}, not a PDF, PNG, JPEG or Office document")]
    MediaType { found: String },
    /// Reading the upload failed.
    #[error("reading the upload: {0}")]
    Io(#[from] std::io::Error),
    /// The object store failed.
    #[error("the document store: {0}")]
    Store(#[from] object_store::Error),
    /// Content a copy needs is not stored.
    #[error("the content {0} is not in the document store")]
    Missing(String),
    /// Stored content no longer hashes to its SHA-256.
    #[error("the stored content {0} no longer matches its SHA-256")]
    Corrupt(String),
}

/// The media types softland accepts, by what their content is.
pub const ALLOWED: [&str; 9] = [
    "application/pdf",
    "image/png",
    "image/jpeg",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
];

/// Content stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Its SHA-256, hex.
    pub sha256: String,
    /// Bytes.
    pub size: u64,
    /// What its bytes are.
    pub media_type: &'static str,
    /// It was already there (the same content uploaded before).
    pub deduplicated: bool,
}

/// The document content store.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    describe: String,
    /// Bytes buffered for each part of an upload.
    part: usize,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe)
    }
}

/// The media type `head` (a file's first bytes) shows, if softland accepts it.
pub fn media_type(head: &[u8]) -> Result<&'static str, Error> {
    let found = infer::get(head);
    match found.map(|t| t.mime_type()) {
        Some(m) => ALLOWED
            .iter()
            .find(|a| **a == m)
            .copied()
            .ok_or_else(|| Error::MediaType {
                found: m.to_owned(),
            }),
        None => Err(Error::MediaType {
            found: "not recognised".into(),
        }),
    }
}

/// Characters that change how a name is shown without being seen: bidirectional overrides,
/// embeddings, isolates and marks (`report\u{202E}fdp.exe` shows as `reportexe.pdf`),
/// zero-width characters and the byte-order mark.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// A name safe to show and to send back: its last path component, without control characters
/// or invisible formatting ones (bidirectional overrides, zero-width characters), at most 200
/// characters; `document` when nothing is left.
pub fn clean_filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !invisible(*c))
        .take(200)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.is_empty() {
        "document".into()
    } else {
        cleaned.to_owned()
    }
}

/// The file-name extensions of an accepted media type, the usual one first.
pub fn extensions(media_type: &str) -> &'static [&'static str] {
    match media_type {
        "application/pdf" => &["pdf"],
        "image/png" => &["png"],
        "image/jpeg" => &["jpg", "jpeg"],
        "application/msword" => &["doc"],
        "application/vnd.ms-excel" => &["xls"],
        "application/vnd.ms-powerpoint" => &["ppt"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => &["docx"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => &["xlsx"],
        "application/vnd.openxmlformats-officedocument.presentationml.presentation" => &["pptx"],
        _ => &["bin"],
    }
}

/// The name a download is saved under: the cleaned name, its extension the one its content
/// is (`plan.html` holding a PDF is saved as `plan.html.pdf`), so that opening the saved file
/// opens what softland checked it is — never a page or a program.
pub fn download_name(filename: &str, media_type: &str) -> String {
    let name = clean_filename(filename);
    let wanted = extensions(media_type);
    let has = name
        .rsplit_once('.')
        .is_some_and(|(_, ext)| wanted.iter().any(|w| ext.eq_ignore_ascii_case(w)));
    if has {
        name
    } else {
        format!("{name}.{}", wanted[0])
    }
}

fn key(sha256: &str) -> ObjectPath {
    ObjectPath::from(format!("sha256/{}/{sha256}", &sha256[..2]))
}

impl Storage {
    /// Opens the store `config` names (creating a folder if needed).
    pub fn open(config: &StorageConfig) -> Result<Self, Error> {
        match config {
            StorageConfig::Folder(dir) => {
                std::fs::create_dir_all(dir)?;
                let store = object_store::local::LocalFileSystem::new_with_prefix(dir)?;
                Ok(Storage {
                    store: Arc::new(store),
                    describe: format!("folder {}", dir.display()),
                    part: FOLDER_PART,
                })
            }
            StorageConfig::S3 {
                bucket,
                region,
                endpoint,
                access_key_id,
                secret_access_key,
            } => {
                let mut builder = object_store::aws::AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(region)
                    .with_access_key_id(access_key_id)
                    .with_secret_access_key(secret_access_key);
                if let Some(endpoint) = endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"))
                        .with_virtual_hosted_style_request(false);
                }
                Ok(Storage {
                    store: Arc::new(builder.build()?),
                    describe: format!("S3 bucket {bucket}"),
                    part: S3_PART,
                })
            }
        }
    }

    /// Stores the file at `path` (at most `limit` bytes); see [`Storage::put`].
    pub async fn put_file(&self, path: &Path, limit: u64) -> Result<Stored, Error> {
        self.put(tokio::fs::File::open(path).await?, limit).await
    }

    /// Stores `file`'s content (at most `limit` bytes) by its SHA-256, reading it twice — once
    /// to hash, once to store — never whole into memory.
    pub async fn put(&self, mut file: tokio::fs::File, limit: u64) -> Result<Stored, Error> {
        let size = file.metadata().await?.len();
        if size > limit {
            return Err(Error::TooLarge { limit });
        }
        if size == 0 {
            return Err(Error::Empty);
        }
        file.seek(std::io::SeekFrom::Start(0)).await?;
        let mut buf = vec![0u8; READ];
        let mut hasher = Sha256::new();
        let mut media = None;
        loop {
            let n = file.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            if media.is_none() {
                media = Some(media_type(&buf[..n])?);
            }
            hasher.update(&buf[..n]);
        }
        let sha256 = hex::encode(hasher.finalize());
        let media_type = media.ok_or(Error::Empty)?;
        let key = key(&sha256);
        if self.exists(&key).await? {
            return Ok(Stored {
                sha256,
                size,
                media_type,
                deduplicated: true,
            });
        }
        let upload = self.store.put_multipart(&key).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, self.part);
        file.seek(std::io::SeekFrom::Start(0)).await?;
        loop {
            let n = file.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            // One part in flight at a time: memory stays about two parts, whatever the size.
            writer.wait_for_capacity(1).await?;
            writer.write(&buf[..n]);
        }
        writer.finish().await?;
        Ok(Stored {
            sha256,
            size,
            media_type,
            deduplicated: false,
        })
    }

    async fn exists(&self, key: &ObjectPath) -> Result<bool, Error> {
        match self.store.head(key).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The content of `sha256`, as a stream of chunks (`None`: not stored, or erased).
    pub async fn get(
        &self,
        sha256: &str,
    ) -> Result<Option<futures_util::stream::BoxStream<'static, Result<bytes::Bytes, Error>>>, Error>
    {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        match self.store.get(&key(sha256)).await {
            Ok(found) => Ok(Some(
                found
                    .into_stream()
                    .map(|chunk| chunk.map_err(Error::from))
                    .boxed(),
            )),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes the content of `sha256` (gone already is fine).
    pub async fn delete(&self, sha256: &str) -> Result<(), Error> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(());
        }
        match self.store.delete(&key(sha256)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Copies the content of `sha256` into `target` (a backup, or back from one), streamed a
    /// part at a time and checked against its hash on the way. `Ok(false)`: `target` has it
    /// already; an error when this store lacks it or its bytes do not hash to it.
    pub async fn copy_to(&self, sha256: &str, target: &Storage) -> Result<bool, Error> {
        let key = key(sha256);
        if target.exists(&key).await? {
            return Ok(false);
        }
        let Some(mut chunks) = self.get(sha256).await? else {
            return Err(Error::Missing(sha256.to_owned()));
        };
        let upload = target.store.put_multipart(&key).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, target.part);
        let mut hasher = Sha256::new();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk?;
            hasher.update(&chunk);
            writer.wait_for_capacity(1).await?;
            writer.write(&chunk);
        }
        if hex::encode(hasher.finalize()) != sha256 {
            writer.abort().await?;
            return Err(Error::Corrupt(sha256.to_owned()));
        }
        writer.finish().await?;
        Ok(true)
    }

    /// Whether the stored bytes of `sha256` still hash to it (`None`: not stored).
    pub async fn verify(&self, sha256: &str) -> Result<Option<bool>, Error> {
        let Some(mut chunks) = self.get(sha256).await? else {
            return Ok(None);
        };
        let mut hasher = Sha256::new();
        while let Some(chunk) = chunks.next().await {
            hasher.update(&chunk?);
        }
        Ok(Some(hex::encode(hasher.finalize()) == sha256))
    }
}

#[cfg(test)]
mod tests;
