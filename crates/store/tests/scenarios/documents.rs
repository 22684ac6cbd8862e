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
