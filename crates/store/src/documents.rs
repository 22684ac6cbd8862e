//! Documents' records (issue 16): who uploaded which content (by SHA-256) under which name and
//! media type, and which application it is linked to. The bytes live in the object store
//! (`softland-documents`); a record is written only once its content is stored.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, Func};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::Store;
use crate::entity::document;
use crate::error::Result;

/// A stored document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRecord {
    pub id: Uuid,
    /// The content's SHA-256, hex.
    pub sha256: String,
    /// The name it was uploaded under, cleaned of paths and control characters.
    pub filename: String,
    /// The media type its content was recognised as.
    pub media_type: String,
    /// Bytes.
    pub size: i64,
    /// Whose upload it is: `organization:KEY`, `agency:KEY` or `none`.
    pub owner: String,
    /// The person who uploaded it.
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
    /// The application it is linked to, once it is.
    pub application_id: Option<Uuid>,
    /// When its content was erased (a data-protection request); its record stays.
    pub erased_at: Option<DateTime<Utc>>,
}

/// A document to record, its content already stored.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub sha256: String,
    pub filename: String,
    pub media_type: String,
    pub size: i64,
    pub owner: String,
    pub uploaded_by: String,
}

fn record(m: document::Model) -> DocumentRecord {
    DocumentRecord {
        id: m.id,
        sha256: m.sha256,
        filename: m.filename,
        media_type: m.media_type,
        size: m.size,
        owner: m.owner,
        uploaded_by: m.uploaded_by,
        uploaded_at: m.uploaded_at,
        application_id: m.application_id,
        erased_at: m.erased_at,
    }
}

impl Store {
    /// Records an uploaded document (its content is already in the object store).
    pub async fn add_document(&self, d: NewDocument) -> Result<DocumentRecord> {
        let model = document::Model {
            id: Uuid::now_v7(),
            sha256: d.sha256,
            filename: d.filename,
            media_type: d.media_type,
            size: d.size,
            owner: d.owner,
            uploaded_by: d.uploaded_by,
            uploaded_at: self.now(),
            application_id: None,
            linked_at: None,
            erased_at: None,
        };
        document::Entity::insert(document::ActiveModel {
            id: Set(model.id),
            sha256: Set(model.sha256.clone()),
            filename: Set(model.filename.clone()),
            media_type: Set(model.media_type.clone()),
            size: Set(model.size),
            owner: Set(model.owner.clone()),
            uploaded_by: Set(model.uploaded_by.clone()),
            uploaded_at: Set(model.uploaded_at),
            application_id: Set(None),
            linked_at: Set(None),
            erased_at: Set(None),
        })
        .exec(self.db())
        .await?;
        Ok(record(model))
    }

    /// One document's record.
    pub async fn document(&self, id: Uuid) -> Result<Option<DocumentRecord>> {
        Ok(document::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .map(record))
    }

    /// Documents whose content is kept (not erased), by id, `limit` after `after`: for checking
    /// every stored content a page at a time.
    pub async fn kept_documents(
        &self,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<DocumentRecord>> {
        let mut q = document::Entity::find().filter(document::Column::ErasedAt.is_null());
        if let Some(after) = after {
            q = q.filter(document::Column::Id.gt(after));
        }
        Ok(q.order_by_asc(document::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(record)
            .collect())
    }

    /// How many documents `owner` uploaded since `since`, and their bytes together (for the
    /// per-organisation daily limit).
    pub async fn uploaded_since(&self, owner: &str, since: DateTime<Utc>) -> Result<(i64, i64)> {
        let row: Option<(i64, Option<i64>)> = document::Entity::find()
            .select_only()
            .column_as(document::Column::Id.count(), "n")
            .column_as(
                // PostgreSQL sums `bigint`s as `numeric`: back to `bigint`.
                Expr::expr(Func::cast_as(
                    Func::sum(Expr::col(document::Column::Size)),
                    Alias::new("bigint"),
                )),
                "bytes",
            )
            .filter(document::Column::Owner.eq(owner))
            .filter(document::Column::UploadedAt.gte(since))
            .into_tuple()
            .one(self.db())
            .await?;
        Ok(row.map_or((0, 0), |(n, bytes)| (n, bytes.unwrap_or(0))))
    }
}
