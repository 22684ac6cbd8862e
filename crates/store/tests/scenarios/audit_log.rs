//! The audit log read in time order (the export) and its head.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use softland_store::test_util::TestDb;
use softland_store::{SeedApplication, SeedStep};
use softland_workflow::Actor;

use super::{example, fixture};

/// A busy instant (more entries at one time than an export page holds), a quiet year around
/// it and entries just outside the range: the export writes each entry of the range once, in
/// time order, and nothing else.
pub async fn the_audit_export_reads_busy_and_quiet_stretches(db: &TestDb) {
    let f = fixture(db).await;
    let from: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
    let to = from + Duration::days(365);
    let busy = from + Duration::days(200);
    let seed = |at: DateTime<Utc>, i: i64| SeedApplication {
        workflow_key: "soft-landing-sz-to-hk".into(),
        organization: format!("firm-{}", i % 4),
        submitted_at: at,
        data: example("soft-landing-sz-to-hk"),
        steps: vec![SeedStep {
            state: "ofds_nomination".into(),
            actor: Actor::reviewer("chen", "ofds"),
            action: "nominate".into(),
            input: None,
        }],
    };
    let mut seeds: Vec<SeedApplication> = (0..40)
        .map(|i| seed(from + Duration::days(9 * i) + Duration::minutes(i), i))
        .collect();
    seeds.extend((0..250).map(|i| seed(busy, i)));
    seeds.push(seed(from - Duration::milliseconds(1), 0));
    seeds.push(seed(to, 1));
    seeds.push(seed(to - Duration::milliseconds(1), 2));
    let ids = f.store.bulk_load(&seeds).await.unwrap();

    let mut expected = HashSet::new();
    for id in &ids {
        for e in f.store.history(*id).await.unwrap() {
            if e.at >= from && e.at < to {
                expected.insert((e.application_id, e.seq));
            }
        }
    }
    assert!(
        expected.len() > 1000 + 200,
        "the busy instant fills more than a page: {}",
        expected.len()
    );
    let mut out = Vec::new();
    let n = f.store.audit_export(from, to, &mut out).await.unwrap();
    let lines: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(n as usize, lines.len());
    let written: Vec<(uuid::Uuid, i64)> = lines
        .iter()
        .map(|l| {
            (
                l["application_id"].as_str().unwrap().parse().unwrap(),
                l["seq"].as_i64().unwrap(),
            )
        })
        .collect();
    let distinct: HashSet<_> = written.iter().copied().collect();
    assert_eq!(distinct.len(), written.len(), "no entry twice");
    assert_eq!(distinct, expected, "every entry of the range, nothing else");
    let times: Vec<DateTime<Utc>> = lines
        .iter()
        .map(|l| l["at"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "in time order");
}

/// The audit head is the last entry of the last command written, and moves with each command.
pub async fn the_audit_head_is_the_last_commands_last_entry(db: &TestDb) {
    let f = fixture(db).await;
    assert_eq!(f.store.audit_head().await.unwrap(), None);
    let a = f.submit("soft-landing-sz-to-hk", "firm").await.application;
    let first = f.store.audit_head().await.unwrap().unwrap();
    let last = f.store.history(a.id).await.unwrap().pop().unwrap();
    assert_eq!((first.at, &first.hash), (last.at, &last.hash));
    f.act(a.id, "ofds_nomination", "ofds:chen", "nominate", None)
        .await
        .unwrap();
    let next = f.store.audit_head().await.unwrap().unwrap();
    let last = f.store.history(a.id).await.unwrap().pop().unwrap();
    assert_eq!(next.hash, last.hash);
    assert!(next.command > first.command && next.event > first.event);
}
