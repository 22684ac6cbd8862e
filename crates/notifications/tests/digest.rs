//! Daily digests: task-opened messages held for an agency's inbox become one message listing
//! them when their time comes; the held ones are kept, cancelled, in the log.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use softland_notifications::delivery::Deliverer;
use softland_notifications::guard::AddressPolicy;
use softland_notifications::webhook::WebhookSender;
use softland_store::Store;
use softland_store::notifications::{
    Message, NewNotification, NotificationFilter, NotificationStatus,
};
use softland_store::test_util::TestDb;

fn held(subject: &str, link: &str, at: chrono::DateTime<chrono::Utc>) -> NewNotification {
    let m = Message::email(
        "inbox@investhk.example".into(),
        "zh-Hant",
        "task.opened",
        subject.into(),
        link.into(),
        None,
    );
    NewNotification {
        message: m,
        status: NotificationStatus::Held,
        send_at: at,
    }
}

#[tokio::test]
async fn held_messages_become_one_digest() {
    let db = TestDb::sqlite();
    let store = Store::open(&db.url).await.unwrap();
    let now = store.now();
    store
        .queue(vec![
            held(
                "投資推廣署審核 — A",
                "http://x/applications/a",
                now - chrono::Duration::seconds(1),
            ),
            held(
                "投資推廣署審核 — B",
                "http://x/applications/b",
                now - chrono::Duration::seconds(1),
            ),
            held(
                "later",
                "http://x/applications/c",
                now + chrono::Duration::hours(1),
            ),
        ])
        .await
        .unwrap();
    let sender = WebhookSender::new(AddressPolicy::default(), Duration::from_secs(1)).unwrap();
    let worker = Deliverer::new(
        store.clone(),
        sender,
        None,
        "test".into(),
        Duration::from_secs(10),
        "http://x".into(),
    );
    worker.run_once().await.unwrap();
    let all = store
        .notifications(&NotificationFilter::default(), None, 100)
        .await
        .unwrap();
    let digest = all
        .iter()
        .find(|n| n.message.event_type == "digest")
        .unwrap();
    assert_eq!(
        digest.message.recipient.as_deref(),
        Some("inbox@investhk.example")
    );
    assert_eq!(digest.message.language, "zh-Hant");
    assert_eq!(
        digest.message.subject.as_deref(),
        Some("每日摘要：inbox@investhk.example (2)")
    );
    assert!(digest.message.body.contains("http://x/applications/a"));
    assert!(digest.message.body.contains("http://x/applications/b"));
    assert!(
        !digest.message.body.contains("applications/c"),
        "not due yet"
    );
    assert!(
        digest
            .message
            .html
            .as_deref()
            .unwrap()
            .contains("href=\"http://x/inbox\"")
    );
    // No e-mail configured here: the attempt says so.
    assert_eq!(digest.status, NotificationStatus::Failed);
    assert_eq!(
        digest.last_error.as_deref(),
        Some("e-mail is not configured")
    );
    let statuses: Vec<_> = all
        .iter()
        .filter(|n| n.message.event_type == "task.opened")
        .map(|n| (n.message.subject.clone().unwrap(), n.status))
        .collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|(_, s)| *s == NotificationStatus::Cancelled)
            .count(),
        2
    );
    assert!(statuses.contains(&("later".into(), NotificationStatus::Held)));
}
