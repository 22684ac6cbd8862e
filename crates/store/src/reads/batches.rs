//! Reads of many rows at once, for pages that show many: one query where a lookup per row
//! would take one each (the API's loaders batch a page's lookups into these).

use std::collections::HashSet;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::Store;
use crate::directory::Organization;
use crate::entity::{application, organization, task};
use crate::error::Result;
use crate::records::ApplicationRecord;
use crate::rows::app_record;

/// The most keys one batched read takes; longer lists are read in chunks of this many (a
/// statement's bound parameters are limited: SQLite's to 32,766, PostgreSQL's to 65,535).
pub(crate) const CHUNK: usize = 1000;

impl Store {
    /// The applications of `ids` that exist, in no particular order.
    pub async fn applications_by_id(&self, ids: &[Uuid]) -> Result<Vec<ApplicationRecord>> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let rows = application::Entity::find()
                .filter(application::Column::Id.is_in(chunk.iter().copied()))
                .all(self.db())
                .await?;
            for row in rows {
                found.push(app_record(row)?);
            }
        }
        Ok(found)
    }

    /// Which of the applications `ids` `agency` has or had a task in: those its reviewers
    /// see.
    pub async fn agency_involved_among(&self, ids: &[Uuid], agency: &str) -> Result<HashSet<Uuid>> {
        let mut involved = HashSet::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let rows: Vec<Uuid> = task::Entity::find()
                .select_only()
                .column(task::Column::ApplicationId)
                .distinct()
                .filter(task::Column::ApplicationId.is_in(chunk.iter().copied()))
                .filter(task::Column::Assignee.eq(agency))
                .into_tuple()
                .all(self.db())
                .await?;
            involved.extend(rows);
        }
        Ok(involved)
    }

    /// The organizations of `keys` that exist, in no particular order.
    pub async fn organizations_by_key(&self, keys: &[String]) -> Result<Vec<Organization>> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(CHUNK) {
            let rows = organization::Entity::find()
                .filter(organization::Column::Key.is_in(chunk.iter().cloned()))
                .all(self.db())
                .await?;
            found.extend(rows.into_iter().map(crate::directory::organization_record));
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use softland_workflow::Actor;

    use super::*;
    use crate::Submit;
    use crate::test_util::TestDb;

    /// Submission opens one task, for `hkstp`.
    const WORKFLOW: &str = r#"
key: batches
title: Batched reads
agencies: [hkstp, investhk]
form: {type: object}
start: review
states:
  review:
    type: task
    assignee: hkstp
    actions: {done: {to: end}}
  end: {type: final, outcome: approved}
"#;

    /// Each batched read answers what its one-at-a-time read answers for each key, leaves
    /// out keys that name nothing, and reads lists longer than a chunk whole.
    async fn batches_agree_with_lookups(db: TestDb) {
        let store = db.open().await;
        for key in ["hkstp", "investhk"] {
            let agency = serde_json::from_value(json!({"key": key, "name": key, "region": "hk"}));
            store.put_agency(&agency.unwrap()).await.unwrap();
        }
        let firm = serde_json::from_value(json!({"key": "firm-a", "name": "Firm A"})).unwrap();
        store.put_organization(&firm).await.unwrap();
        store
            .publish(WORKFLOW, |_: &str| Err("no files".to_owned()), "root")
            .await
            .unwrap();
        let mut ids = Vec::new();
        for _ in 0..3 {
            let submitted = store
                .submit(Submit {
                    position: None,
                    workflow_key: "batches".into(),
                    organization: "firm-a".into(),
                    actor: Actor::applicant("li"),
                    data: json!({}),
                    idempotency_key: None,
                })
                .await
                .unwrap();
            ids.push(submitted.application.id);
        }
        // More keys than one chunk, most of them naming nothing.
        let mut asked: Vec<Uuid> = (0..2 * CHUNK).map(|_| Uuid::now_v7()).collect();
        asked.extend(&ids);

        let mut found = store.applications_by_id(&asked).await.unwrap();
        found.sort_by_key(|a| a.id);
        let mut one_by_one = Vec::new();
        for id in &ids {
            one_by_one.push(store.application(*id).await.unwrap().unwrap());
        }
        assert_eq!(found, one_by_one);

        let involved = store.agency_involved_among(&asked, "hkstp").await.unwrap();
        assert_eq!(involved, ids.iter().copied().collect());
        let other = store.agency_involved_among(&asked, "investhk").await;
        assert_eq!(other.unwrap(), HashSet::new());

        let keys = ["nobody".to_owned(), "firm-a".to_owned()];
        let orgs = store.organizations_by_key(&keys).await.unwrap();
        assert_eq!(
            orgs,
            vec![store.organization("firm-a").await.unwrap().unwrap()]
        );
        assert!(store.applications_by_id(&[]).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn batches_agree_with_lookups_sqlite() {
        batches_agree_with_lookups(TestDb::sqlite()).await;
    }

    #[tokio::test]
    #[ignore = "PostgreSQL: set SOFTLAND_TEST_POSTGRES_URL and pass --include-ignored (CI does)"]
    async fn batches_agree_with_lookups_postgres() {
        batches_agree_with_lookups(TestDb::postgres().await).await;
    }
}
