//! Documents' records (issue 16): who uploaded which content (by SHA-256) under which name and
//! media type, and which application it is linked to. The bytes live in the object store
//! (`softland-documents`); a record is written only once its content is stored.

pub(crate) mod links;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
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

/// What an erasure did.
#[derive(Debug, Clone)]
pub struct Erased {
    /// The document as it is now.
    pub document: DocumentRecord,
    /// No kept document has this content any more: delete it from the object store.
    pub delete_content: bool,
    /// Erased now (not before).
    pub newly: bool,
}

/// How much one owner may upload in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance {
    /// The window starts here.
    pub since: DateTime<Utc>,
    /// Documents in the window.
    pub files: i64,
    /// Bytes in the window.
    pub bytes: i64,
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

pub(crate) fn record(m: document::Model) -> DocumentRecord {
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
    /// The row of a new upload, uploaded now.
    fn document_model(&self, d: NewDocument) -> document::Model {
        document::Model {
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
            erased_by: None,
            erasure_reason: None,
        }
    }

    /// Records an uploaded document (its content is already in the object store).
    pub async fn add_document(&self, d: NewDocument) -> Result<DocumentRecord> {
        let model = self.document_model(d);
        document::Entity::insert(document::ActiveModel::from(model.clone()).reset_all())
            .exec(self.db())
            .await?;
        Ok(record(model))
    }

    /// Records an uploaded document if its owner's allowance has room for it — checked and
    /// recorded at once: concurrent uploads can never together exceed it. `None` when it has
    /// no room. One statement (`INSERT … SELECT … WHERE` the window's count and bytes leave
    /// room); on PostgreSQL under a transaction-scoped advisory lock on the owner, since two
    /// READ COMMITTED statements would both see the room before either inserted. SQLite runs
    /// one writing statement at a time.
    pub async fn add_document_within(
        &self,
        d: NewDocument,
        allowance: Allowance,
    ) -> Result<Option<DocumentRecord>> {
        use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
        let model = self.document_model(d);
        let sql = "INSERT INTO documents (id, sha256, filename, media_type, size, owner, uploaded_by, uploaded_at) \
                   SELECT $1, $2, $3, $4, $5, $6, $7, $8 \
                   WHERE (SELECT COUNT(*) FROM documents WHERE owner = $6 AND uploaded_at >= $9) < $10 \
                   AND (SELECT COALESCE(SUM(size), 0) FROM documents WHERE owner = $6 AND uploaded_at >= $9) + $5 <= $11";
        let values: Vec<sea_orm::Value> = vec![
            model.id.into(),
            model.sha256.clone().into(),
            model.filename.clone().into(),
            model.media_type.clone().into(),
            model.size.into(),
            model.owner.clone().into(),
            model.uploaded_by.clone().into(),
            model.uploaded_at.into(),
            allowance.since.into(),
            allowance.files.into(),
            allowance.bytes.into(),
        ];
        let inserted = match self.inner.backend.kind() {
            crate::BackendKind::Postgres => {
                let txn = self.db().begin().await?;
                txn.execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_advisory_xact_lock(hashtextextended($1, 29))",
                    [model.owner.clone().into()],
                ))
                .await?;
                let n = txn
                    .execute_raw(Statement::from_sql_and_values(
                        DbBackend::Postgres,
                        sql,
                        values,
                    ))
                    .await?
                    .rows_affected();
                txn.commit().await?;
                n
            }
            _ => self
                .db()
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Sqlite,
                    sql.replace('$', "?"),
                    values,
                ))
                .await?
                .rows_affected(),
        };
        Ok((inserted == 1).then(|| record(model)))
    }

    /// One document's record.
    pub async fn document(&self, id: Uuid) -> Result<Option<DocumentRecord>> {
        Ok(document::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .map(record))
    }

    /// `owner`'s uploads not linked to any application (nor erased), newest first.
    pub async fn unlinked_documents(&self, owner: &str, limit: u64) -> Result<Vec<DocumentRecord>> {
        Ok(document::Entity::find()
            .filter(document::Column::Owner.eq(owner))
            .filter(document::Column::ApplicationId.is_null())
            .filter(document::Column::ErasedAt.is_null())
            .order_by_desc(document::Column::UploadedAt)
            .order_by_desc(document::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(record)
            .collect())
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

    /// Erases a document's content for a data-protection request: its record (hash, name,
    /// who uploaded it) stays, marked erased by `by` for `reason`; the content goes unless
    /// another kept document has the same. `None`: no such document; `Some(false)`: already
    /// erased. The caller deletes the content when told to (`Erased::delete_content`).
    pub async fn erase_document(&self, id: Uuid, by: &str, reason: &str) -> Result<Option<Erased>> {
        let Some(doc) = self.document(id).await? else {
            return Ok(None);
        };
        if doc.erased_at.is_some() {
            return Ok(Some(Erased {
                document: doc,
                delete_content: false,
                newly: false,
            }));
        }
        let now = self.now();
        document::Entity::update_many()
            .col_expr(document::Column::ErasedAt, Expr::value(now))
            .col_expr(document::Column::ErasedBy, Expr::value(by))
            .col_expr(document::Column::ErasureReason, Expr::value(reason))
            .filter(document::Column::Id.eq(id))
            .filter(document::Column::ErasedAt.is_null())
            .exec(self.db())
            .await?;
        let shared = document::Entity::find()
            .filter(document::Column::Sha256.eq(doc.sha256.clone()))
            .filter(document::Column::ErasedAt.is_null())
            .count(self.db())
            .await?;
        Ok(Some(Erased {
            document: DocumentRecord {
                erased_at: Some(now),
                ..doc
            },
            delete_content: shared == 0,
            newly: true,
        }))
    }

    /// Removes uploads never linked to an application that are older than `before`; the
    /// contents no kept document shares any more are returned, for the caller to delete.
    pub async fn sweep_unlinked(&self, before: DateTime<Utc>) -> Result<Vec<String>> {
        // Erased ones stay: their row is the record of the erasure.
        let old = document::Entity::find()
            .filter(document::Column::ApplicationId.is_null())
            .filter(document::Column::ErasedAt.is_null())
            .filter(document::Column::UploadedAt.lt(before))
            .limit(1000)
            .all(self.db())
            .await?;
        let mut orphans = Vec::new();
        for d in old {
            document::Entity::delete_by_id(d.id).exec(self.db()).await?;
            let left = document::Entity::find()
                .filter(document::Column::Sha256.eq(d.sha256.clone()))
                .filter(document::Column::ErasedAt.is_null())
                .count(self.db())
                .await?;
            if left == 0 && !orphans.contains(&d.sha256) {
                orphans.push(d.sha256);
            }
        }
        Ok(orphans)
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
