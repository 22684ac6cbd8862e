//! The notification queue: each committed command is fanned out once, however many processes
//! try; deliveries wait for earlier events of the same application and endpoint; a lease is
//! its holder's.

use softland_store::notifications::{
    Attempt, Channel, Message, NewEndpoint, NewNotification, NotificationFilter,
};
use softland_store::test_util::TestDb;
use softland_store::{AfterAttempt, Store};
use uuid::Uuid;

use super::fixture;

fn delivery(
    endpoint: Uuid,
    app: Uuid,
    seq: i64,
    at: chrono::DateTime<chrono::Utc>,
) -> NewNotification {
    let body = format!("{{\"seq\":{seq}}}");
    NewNotification::pending(
        Message::webhook(endpoint, "task.opened", app, seq, body),
        at,
    )
}

pub async fn each_command_is_fanned_out_once_and_deliveries_keep_their_order(db: &TestDb) {
    let f = fixture(db).await;
    // A second process on the same clock.
    let offset = f.offset.clone();
    let t0 = f.store.now();
    let other = Store::open(&db.url)
        .await
        .unwrap()
        .with_clock(move || {
            t0 + chrono::Duration::seconds(offset.load(std::sync::atomic::Ordering::SeqCst))
        })
        .unwrap();
    let a = f.submitted("soft-landing-sz-to-hk", "firm").await;
    f.act(a, "ofds_nomination", "ofds:chen", "nominate", None)
        .await
        .unwrap();
    let b = f.submitted("soft-landing-sz-to-hk", "firm").await;

    // Two processes fan out at once: every command's events come out once between them.
    let (one, two) = tokio::join!(f.store.fan_out(100, true), other.fan_out(100, true));
    let (one, two) = (one.unwrap(), two.unwrap());
    let mark = |fan: &softland_store::FanOut| -> Vec<NewNotification> {
        fan.commands
            .iter()
            .flat_map(|c| c.events.iter().map(move |e| (c.application_id, e.seq)))
            .map(|(app, seq)| {
                let m = Message::email(
                    "x@example.org".into(),
                    "en",
                    "task.opened",
                    "Task".into(),
                    format!("{{\"seq\":{seq}}}"),
                    None,
                );
                NewNotification::pending(m.about(app, seq, None), f.store.now())
            })
            .collect()
    };
    let (m1, m2) = (mark(&one), mark(&two));
    let (q1, q2) = tokio::join!(
        f.store.finish_fan_out(one, m1),
        other.finish_fan_out(two, m2)
    );
    let queued = q1.unwrap() + q2.unwrap();
    let events = f.store.history(a).await.unwrap().len() + f.store.history(b).await.unwrap().len();
    assert_eq!(queued, events, "each event once");
    // Nothing is left to fan out.
    let again = f.store.fan_out(100, true).await.unwrap();
    assert!(again.commands.is_empty());
    f.store.finish_fan_out(again, Vec::new()).await.unwrap();
    let all = f
        .store
        .notifications(&NotificationFilter::default(), None, 1000)
        .await
        .unwrap();
    assert_eq!(all.len(), events);

    // Deliveries to one endpoint wait for the earlier events of the same application.
    let e = f
        .store
        .add_webhook_endpoint(NewEndpoint {
            owner: "none".into(),
            url: "https://example.org/hook".into(),
            event_types: Vec::new(),
            description: None,
            secret: "whsec_c2VjcmV0".into(),
            created_by: "admin".into(),
        })
        .await
        .unwrap();
    let now = f.store.now();
    f.store
        .queue(vec![
            delivery(e.id, a, 3, now),
            delivery(e.id, a, 1, now),
            delivery(e.id, a, 2, now),
            delivery(e.id, b, 1, now),
        ])
        .await
        .unwrap();
    let lease = now + chrono::Duration::seconds(60);
    let webhooks = |list: Vec<softland_store::notifications::Notification>| {
        let mut out: Vec<(Uuid, i64)> = list
            .into_iter()
            .filter(|n| n.message.channel == Channel::Webhook)
            .map(|n| (n.message.application_id.unwrap(), n.message.seq.unwrap()))
            .collect();
        out.sort();
        out
    };
    let first = f.store.claim_notifications("p1", 100, lease).await.unwrap();
    let mut expected = vec![(a, 1), (b, 1)];
    expected.sort();
    assert_eq!(
        webhooks(first.clone()),
        expected,
        "a's 2 and 3 wait for its 1"
    );
    // Leased: nobody else gets them; and only the holder records an attempt.
    let none = other.claim_notifications("p2", 100, lease).await.unwrap();
    assert!(webhooks(none).is_empty());
    let a1 = first
        .iter()
        .find(|n| n.message.application_id == Some(a) && n.message.channel == Channel::Webhook)
        .unwrap();
    let attempt = Attempt {
        at: now,
        status_code: Some(500),
        latency_ms: 3,
        error: None,
    };
    assert!(
        !other
            .record_attempt(a1.id, "p2", Some(attempt.clone()), AfterAttempt::Delivered)
            .await
            .unwrap(),
        "not p2's lease"
    );
    // A retry later keeps a's 2 waiting.
    assert!(
        f.store
            .record_attempt(
                a1.id,
                "p1",
                Some(attempt),
                AfterAttempt::RetryAt(now + chrono::Duration::minutes(5))
            )
            .await
            .unwrap()
    );
    let b1 = first
        .iter()
        .find(|n| n.message.application_id == Some(b) && n.message.channel == Channel::Webhook)
        .unwrap();
    assert!(
        f.store
            .record_attempt(b1.id, "p1", None, AfterAttempt::Delivered)
            .await
            .unwrap()
    );
    let later = f
        .store
        .claim_notifications("p1", 100, lease + chrono::Duration::minutes(10))
        .await
        .unwrap();
    assert!(
        webhooks(later).is_empty(),
        "a's 1 is not due, so 2 and 3 wait"
    );
    f.advance(chrono::Duration::minutes(6));
    let retried = f
        .store
        .claim_notifications("p1", 100, lease + chrono::Duration::minutes(10))
        .await
        .unwrap();
    assert_eq!(webhooks(retried.clone()), vec![(a, 1)]);
    let again = retried
        .iter()
        .find(|n| n.message.channel == Channel::Webhook)
        .unwrap();
    assert_eq!(
        again.id, a1.id,
        "the same notification, so the same webhook-id"
    );
    assert_eq!(again.attempts, 1);
    let log = f.store.notification_attempts(a1.id).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status_code, Some(500));
}
