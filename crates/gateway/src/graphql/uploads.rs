//! Uploading documents (issue 16): `uploadDocument(file: Upload!)` through the GraphQL
//! multipart request specification. async-graphql writes the file to a temporary file as it
//! arrives; softland-documents checks its bytes' media type, hashes it and stores it by hash;
//! the store records it as the caller's organisation's (or agency's) upload. Who may read a
//! document is decided by [`softland_policy::Principal::sees_document`].

use async_graphql::{Context, ID, Object, SimpleObject, Upload};
use chrono::{DateTime, Utc};
use softland_documents::{Error as ContentError, Storage, clean_filename};
use softland_store::documents::{Allowance, DocumentRecord, NewDocument};

use super::{principal, store};
use crate::codes::ErrorCode;
use crate::error::{GqlResult, bad_input, coded, from_store, refused};

/// How much may be uploaded.
#[derive(Debug, Clone, Copy)]
pub struct UploadLimits {
    /// Bytes per file.
    pub file_bytes: u64,
    /// Files per organisation (or agency) in 24 hours.
    pub files_per_day: i64,
    /// Bytes per organisation (or agency) in 24 hours.
    pub bytes_per_day: i64,
}

impl Default for UploadLimits {
    fn default() -> Self {
        UploadLimits {
            file_bytes: 25 * 1024 * 1024,
            files_per_day: 500,
            bytes_per_day: 2 * 1024 * 1024 * 1024,
        }
    }
}

/// Where documents' content goes, and how much may come.
#[derive(Debug, Clone)]
pub struct Documents {
    pub storage: Storage,
    pub limits: UploadLimits,
}

/// An uploaded document.
#[derive(SimpleObject, Debug, Clone)]
pub struct Document {
    /// Its id.
    pub id: ID,
    /// The name it was uploaded under (without any path).
    pub filename: String,
    /// What its content is (recognised from its bytes).
    pub media_type: String,
    /// Bytes.
    pub size: i64,
    /// Its content's SHA-256, hex.
    pub sha256: String,
    /// When it was uploaded.
    pub uploaded_at: DateTime<Utc>,
    /// Where to download it (the same credentials as the API, or the console's session).
    pub url: String,
    /// When its content was erased (a data-protection request), if it was.
    pub erased_at: Option<DateTime<Utc>>,
}

impl From<DocumentRecord> for Document {
    fn from(d: DocumentRecord) -> Self {
        Document {
            url: format!("/documents/{}", d.id),
            id: ID(d.id.to_string()),
            filename: d.filename,
            media_type: d.media_type,
            size: d.size,
            sha256: d.sha256,
            uploaded_at: d.uploaded_at,
            erased_at: d.erased_at,
        }
    }
}

/// Uploads not attached yet.
#[derive(Debug, Default)]
pub struct DocumentsQuery;

#[Object]
impl DocumentsQuery {
    /// The caller's organisation's (or agency's) uploads not linked to an application yet,
    /// newest first (at most 100): what a form can name.
    async fn unattached_documents(&self, ctx: &Context<'_>) -> GqlResult<Vec<Document>> {
        let who = principal(ctx)?;
        Ok(store(ctx)
            .unlinked_documents(&who.membership().label(), 100)
            .await
            .map_err(from_store)?
            .into_iter()
            .map(Document::from)
            .collect())
    }
}

/// The upload mutation.
#[derive(Debug, Default)]
pub struct UploadMutation;

#[Object]
impl UploadMutation {
    /// Uploads a document (a PDF, PNG, JPEG or Office file, by its content) as the caller's
    /// organisation's (or agency's). Send it as a GraphQL multipart request.
    async fn upload_document(&self, ctx: &Context<'_>, file: Upload) -> GqlResult<Document> {
        let who = principal(ctx)?;
        who.may_upload().map_err(refused)?;
        let docs = ctx.data_unchecked::<Documents>();
        let store = store(ctx);
        let owner = who.membership().label();
        let since = store.now() - chrono::Duration::hours(24);
        let (files, bytes) = store
            .uploaded_since(&owner, since)
            .await
            .map_err(from_store)?;
        let over = |what: String| {
            coded(
                ErrorCode::LimitExceeded,
                format!("at most {what} a day per organisation"),
            )
        };
        if files >= docs.limits.files_per_day {
            return Err(over(format!("{} documents", docs.limits.files_per_day)));
        }
        let value = file
            .value(ctx)
            .map_err(|_| bad_input("the request holds no file for `file`"))?;
        let filename = clean_filename(&value.filename);
        let content = tokio::fs::File::from_std(value.content);
        // The file's size, then the day's allowance, are checked before anything is stored.
        let incoming = content.metadata().await.map(|m| m.len()).unwrap_or(0);
        if incoming > docs.limits.file_bytes {
            return Err(content_refusal(&ContentError::TooLarge {
                limit: docs.limits.file_bytes,
            }));
        }
        let incoming = i64::try_from(incoming).unwrap_or(i64::MAX);
        if bytes.saturating_add(incoming) > docs.limits.bytes_per_day {
            return Err(over(format!(
                "{} bytes of documents",
                docs.limits.bytes_per_day
            )));
        }
        let stored = docs
            .storage
            .put(content, docs.limits.file_bytes)
            .await
            .map_err(|e| content_refusal(&e))?;
        let size = i64::try_from(stored.size).unwrap_or(i64::MAX);
        // The checks above refuse early; this one is the guard: checked and recorded at once,
        // so concurrent uploads cannot together pass the allowance.
        let allowance = Allowance {
            since,
            files: docs.limits.files_per_day,
            bytes: docs.limits.bytes_per_day,
        };
        let record = store
            .add_document_within(
                NewDocument {
                    sha256: stored.sha256,
                    filename,
                    media_type: stored.media_type.to_owned(),
                    size,
                    owner,
                    uploaded_by: who.name().to_owned(),
                },
                allowance,
            )
            .await
            .map_err(from_store)?
            .ok_or_else(|| {
                over(format!(
                    "{} documents and {} bytes",
                    docs.limits.files_per_day, docs.limits.bytes_per_day
                ))
            })?;
        Ok(record.into())
    }
}

/// Erasing documents (data-protection requests).
#[derive(Debug, Default)]
pub struct EraseMutation;

#[Object]
impl EraseMutation {
    /// Erases a document's content for a data-protection request (Hong Kong PDPO, mainland
    /// PIPL; administrators). Its record — hash, name, uploader — stays, marked erased; the
    /// content is deleted unless another kept document has the same; an application it is
    /// linked to records the erasure as an internal note.
    async fn erase_document(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> GqlResult<Document> {
        let who = principal(ctx)?;
        who.require_admin().map_err(refused)?;
        if reason.trim().is_empty() {
            return Err(bad_input("say why the document is erased (`reason`)"));
        }
        super::input::bounded("reason", Some(&reason), super::input::MAX_TEXT)?;
        let id = super::input::parse_id(&id, "document")?;
        let store = store(ctx);
        let erased = store
            .erase_document(id, who.name(), &reason)
            .await
            .map_err(from_store)?
            .ok_or_else(|| crate::error::not_found("document"))?;
        // The erasure is recorded on the document's row; the application's history records it
        // too, written by the administrator (as the system party: administrators act on no
        // task). A failure there is logged: the row keeps who erased it, when and why.
        if erased.newly
            && let Some(app) = erased.document.application_id
        {
            let note = format!(
                "Document {} ({}, SHA-256 {}) erased by {}: {reason}",
                erased.document.id,
                erased.document.filename,
                erased.document.sha256,
                who.name()
            );
            let actor = softland_workflow::Actor {
                id: who.name().into(),
                party: softland_workflow::Party::System,
            };
            if let Err(e) = store.add_note(app, actor, note).await {
                tracing::error!(error = %e, document = %id, "an erasure is not in its application's history");
            }
        }
        if erased.delete_content {
            let docs = ctx.data_unchecked::<Documents>();
            docs.storage
                .delete(&erased.document.sha256)
                .await
                .map_err(|e| content_refusal(&e))?;
        }
        Ok(erased.document.into())
    }
}

/// A refused upload in the API's words.
fn content_refusal(e: &ContentError) -> async_graphql::Error {
    match e {
        ContentError::TooLarge { .. } => coded(ErrorCode::PayloadTooLarge, e.to_string()),
        ContentError::Empty | ContentError::MediaType { .. } => bad_input(e.to_string()),
        ContentError::Io(_)
        | ContentError::Store(_)
        | ContentError::Missing(_)
        | ContentError::Corrupt(_) => {
            tracing::error!(error = %e, "cannot store an upload");
            coded(
                ErrorCode::Internal,
                "the document could not be stored; try again",
            )
        }
    }
}
