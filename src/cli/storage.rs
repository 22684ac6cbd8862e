//! Where documents' content is kept, for `serve` and `doctor`: a folder (the default: beside
//! the SQLite file) or an S3 bucket.

use std::path::PathBuf;

use softland_documents::StorageConfig;

#[derive(Debug, Clone, clap::Args)]
pub(crate) struct StorageArgs {
    /// Folder for documents' content (default: beside the SQLite file, `<name>-documents`; for
    /// PostgreSQL `./softland-documents`).
    #[arg(long, env = "SOFTLAND_DOCUMENTS")]
    documents: Option<PathBuf>,
    /// Keep documents in this S3 bucket instead of a folder (with --s3-region, and for a
    /// service other than AWS --s3-endpoint; credentials from --s3-access-key-id and
    /// --s3-secret-access-key).
    #[arg(long, env = "SOFTLAND_S3_BUCKET")]
    s3_bucket: Option<String>,
    /// The bucket's region.
    #[arg(long, env = "SOFTLAND_S3_REGION", default_value = "us-east-1")]
    s3_region: String,
    /// An S3-compatible service's address (`http://127.0.0.1:9000`).
    #[arg(long, env = "SOFTLAND_S3_ENDPOINT")]
    s3_endpoint: Option<String>,
    /// The access key id.
    #[arg(long, env = "SOFTLAND_S3_ACCESS_KEY_ID", hide_env_values = true)]
    s3_access_key_id: Option<String>,
    /// The secret access key.
    #[arg(long, env = "SOFTLAND_S3_SECRET_ACCESS_KEY", hide_env_values = true)]
    s3_secret_access_key: Option<String>,
}

impl StorageArgs {
    /// Where documents are kept: the S3 bucket when one is named, else the folder (by default
    /// beside the SQLite file of `db`).
    pub(crate) fn config(&self, db: &str) -> anyhow::Result<StorageConfig> {
        let Some(bucket) = self.s3_bucket.clone() else {
            return Ok(StorageConfig::Folder(
                self.documents
                    .clone()
                    .unwrap_or_else(|| documents_beside(db)),
            ));
        };
        let (Some(access_key_id), Some(secret_access_key)) = (
            self.s3_access_key_id.clone(),
            self.s3_secret_access_key.clone(),
        ) else {
            anyhow::bail!(
                "--s3-bucket needs --s3-access-key-id and --s3-secret-access-key (SOFTLAND_S3_ACCESS_KEY_ID, SOFTLAND_S3_SECRET_ACCESS_KEY)"
            );
        };
        Ok(StorageConfig::S3 {
            bucket,
            region: self.s3_region.clone(),
            endpoint: self.s3_endpoint.clone(),
            access_key_id,
            secret_access_key,
        })
    }
}

/// The documents folder beside a SQLite file (`softland.db` → `softland-documents`), else
/// `./softland-documents`.
fn documents_beside(db: &str) -> PathBuf {
    let file = db
        .strip_prefix("sqlite://")
        .map(|rest| rest.split('?').next().unwrap_or_default())
        .filter(|p| !p.is_empty() && !p.contains(":memory:"));
    match file.map(std::path::Path::new) {
        Some(path) => {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("softland");
            path.with_file_name(format!("{stem}-documents"))
        }
        None => PathBuf::from("softland-documents"),
    }
}

#[cfg(test)]
mod tests {
    use super::documents_beside;
    use std::path::PathBuf;

    #[test]
    fn documents_sit_beside_the_sqlite_file() {
        assert_eq!(
            documents_beside("sqlite://softland.db?mode=rwc"),
            PathBuf::from("softland-documents")
        );
        assert_eq!(
            documents_beside("sqlite:///var/lib/softland/main.db?mode=rwc"),
            PathBuf::from("/var/lib/softland/main-documents")
        );
        assert_eq!(
            documents_beside("postgres://u@db/softland"),
            PathBuf::from("softland-documents")
        );
    }
}
