//! Documents' records: erasure keeps shared content, the sweep removes old unlinked uploads.

use chrono::Duration;
use softland_store::documents::NewDocument;
use softland_store::test_util::TestDb;

use super::fixture;

fn doc(owner: &str, sha: char) -> NewDocument {
    NewDocument {
        sha256: sha.to_string().repeat(64),
        filename: "plan.pdf".into(),
        media_type: "application/pdf".into(),
        size: 629,
        owner: owner.into(),
        uploaded_by: "someone".into(),
    }
}

pub async fn erasure_keeps_shared_content_and_the_sweep_takes_old_uploads(db: &TestDb) {
    let f = fixture(db).await;
    let a = f
        .store
        .add_document(doc("organization:a", 'a'))
        .await
        .unwrap();
    let b = f
        .store
        .add_document(doc("organization:b", 'a'))
        .await
        .unwrap();
    let c = f
        .store
        .add_document(doc("organization:a", 'c'))
        .await
        .unwrap();
    assert_eq!(
        f.store
            .uploaded_since("organization:a", f.store.now() - Duration::hours(1))
            .await
            .unwrap(),
        (2, 2 * 629)
    );

    // Erasing one of two documents with the same content keeps the content; the last one frees it.
    let first = f
        .store
        .erase_document(a.id, "admin", "PDPO")
        .await
        .unwrap()
        .unwrap();
    assert!(first.newly && !first.delete_content);
    let again = f
        .store
        .erase_document(a.id, "admin", "PDPO")
        .await
        .unwrap()
        .unwrap();
    assert!(
        !again.newly && !again.delete_content,
        "erasing twice changes nothing"
    );
    let last = f
        .store
        .erase_document(b.id, "admin", "PIPL")
        .await
        .unwrap()
        .unwrap();
    assert!(last.newly && last.delete_content);
    assert!(
        f.store
            .erase_document(uuid::Uuid::nil(), "admin", "x")
            .await
            .unwrap()
            .is_none()
    );
    let kept: Vec<_> = f
        .store
        .kept_documents(None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(kept, [c.id]);

    // A month later the unlinked upload is swept, its content returned for deletion; the
    // erased records stay (they record the erasure).
    f.advance(Duration::days(31));
    let orphans = f
        .store
        .sweep_unlinked(f.store.now() - Duration::days(30))
        .await
        .unwrap();
    assert_eq!(orphans, ["c".repeat(64)]);
    assert!(f.store.document(c.id).await.unwrap().is_none());
    assert!(
        f.store
            .document(a.id)
            .await
            .unwrap()
            .is_some_and(|d| d.erased_at.is_some())
    );
}

/// A workflow whose applicant adds documents again and again, 50 at a time.
const DOCUMENT_LOOP: &str = r#"
key: document-loop
title: Documents, again and again
agencies: []
form:
  type: object
  properties:
    name: {type: string}
start: collect
states:
  collect:
    type: task
    assignee: applicant
    actions:
      more:
        to: collect
        input:
          type: object
          properties:
            documents: {type: array, maxItems: 60, items: {type: string, format: softland-document}}
      done: finished
  finished: {type: final, outcome: done}
"#;

/// The applicant adds `ids` to the document loop's application `app`.
async fn more(
    f: &super::Fixture,
    app: uuid::Uuid,
    ids: &[String],
) -> Result<softland_store::Outcome, softland_store::Error> {
    let task = f.open_task(app, "collect", "applicant").await;
    f.store
        .act(softland_store::Act {
            input: Some(serde_json::json!({"documents": ids})),
            organization: Some("a".into()),
            ..softland_store::Act::new(
                task.id,
                softland_workflow::Actor::applicant("a-user"),
                "more",
            )
        })
        .await
}

pub async fn an_application_holds_a_bounded_number_of_documents(db: &TestDb) {
    use serde_json::json;
    use softland_store::Submit;
    use softland_workflow::Actor;
    let f = fixture(db).await;
    f.store
        .publish(DOCUMENT_LOOP, |_: &str| Err("no files".to_owned()), "admin")
        .await
        .unwrap();
    let app = f
        .store
        .submit(Submit {
            position: None,
            workflow_key: "document-loop".into(),
            organization: "a".into(),
            actor: Actor::applicant("a-user"),
            data: json!({"name": "x"}),
            idempotency_key: None,
        })
        .await
        .unwrap()
        .application
        .id;
    let mut uploads = Vec::new();
    for i in 0..(softland_store::MOST_PER_APPLICATION + 10) {
        let mut d = doc("organization:a", 'b');
        d.sha256 = format!("{i:064x}");
        uploads.push(f.store.add_document(d).await.unwrap().id.to_string());
    }
    // More than 50 in one action: refused.
    let too_many = more(&f, app, &uploads[..51]).await.unwrap_err();
    assert!(
        format!("{too_many}").contains("at most 50 documents"),
        "{too_many}"
    );
    // 50 at a time up to 200; the 201st is refused, with its reason.
    for chunk in uploads[..200].chunks(50) {
        more(&f, app, chunk).await.unwrap();
    }
    assert_eq!(f.store.documents_of(app).await.unwrap().len(), 200);
    let over = more(&f, app, &uploads[200..201]).await.unwrap_err();
    assert!(
        format!("{over}").contains("at most 200 documents"),
        "{over}"
    );
}
