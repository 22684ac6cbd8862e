//! The scenarios, backend-agnostic.

mod audit_log;
mod dashboard;
mod directory;
mod documents;
mod notifications;
pub use audit_log::*;
pub use dashboard::*;
pub use directory::*;
pub use documents::*;
pub use notifications::*;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use softland_store::test_util::TestDb;
use softland_store::{
    Act, ApplicationFilter, ApplicationRecord, ClaimRights, Claimant, ConflictReason, Error,
    InboxOwner, KeyRole, Outcome, Store, Submit, TaskRecord, TaskStatus, Withdraw,
};
use softland_workflow::{Actor, Assignee, EventName, Party, Rejection, Status};
use uuid::Uuid;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn example(key: &str) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join(format!("workflows/examples/{key}.json"))).unwrap(),
    )
    .unwrap()
}

/// A store with the bundled workflows published and a clock the test moves.
pub struct Fixture {
    pub store: Store,
    pub offset: Arc<AtomicI64>,
}

pub async fn fixture(db: &TestDb) -> Fixture {
    let offset = Arc::new(AtomicI64::new(0));
    let o = offset.clone();
    let t0: DateTime<Utc> = "2026-11-24T01:00:00Z".parse().unwrap();
    let store = Store::open(&db.url)
        .await
        .unwrap()
        .with_clock(move || t0 + Duration::seconds(o.load(Ordering::SeqCst)))
        .unwrap();
    store
        .publish_dir(&root().join("workflows"), "test")
        .await
        .unwrap();
    Fixture { store, offset }
}

impl Fixture {
    pub fn advance(&self, d: Duration) {
        self.offset.fetch_add(d.num_seconds(), Ordering::SeqCst);
    }

    pub async fn submit(&self, key: &str, org: &str) -> Outcome {
        // A programme of positions is applied to for one: a host firm's, offered here.
        let position = match key {
            "internship-placement" => Some(self.position(key).await),
            _ => None,
        };
        self.store
            .submit(Submit {
                position,
                workflow_key: key.into(),
                organization: org.into(),
                actor: Actor::applicant(format!("{org}-user")),
                data: example(key),
                idempotency_key: None,
            })
            .await
            .unwrap()
    }

    /// A position of programme `key` with room for every scenario's students, offered by a
    /// host firm.
    pub async fn position(&self, key: &str) -> Uuid {
        self.store
            .offer_position(
                "scenario-host-firm",
                "hr",
                softland_store::places::NewPosition {
                    workflow_key: key.into(),
                    title: serde_json::json!({"en": "Payments intern"}),
                    description: serde_json::json!({"en": "Payments engineering"}),
                    location: "Shenzhen".into(),
                    requirements: String::new(),
                    starts_on: None,
                    ends_on: None,
                    closes_on: chrono::NaiveDate::from_ymd_opt(2099, 6, 30).expect("a date"),
                    places: 1000,
                },
            )
            .await
            .expect("a position")
            .id
    }

    /// Submits the workflow's example form for `org`; the new application's id.
    pub async fn submitted(&self, key: &str, org: &str) -> Uuid {
        self.submit(key, org).await.application.id
    }

    /// The first `limit` applications `filter` lists.
    pub async fn listed(&self, filter: ApplicationFilter, limit: u64) -> Vec<ApplicationRecord> {
        let page = self.store.applications(&filter, limit, None).await.unwrap();
        page.items.into_iter().map(|(_, a)| a).collect()
    }

    pub async fn open_task(&self, app: Uuid, state: &str, assignee: &str) -> TaskRecord {
        let tasks = self.store.tasks_of(app, true).await.unwrap();
        tasks
            .iter()
            .find(|t| t.state == state && t.assignee.key() == assignee)
            .cloned()
            .unwrap_or_else(|| panic!("no open {state} task for {assignee}: {tasks:?}"))
    }

    /// OFDS nominates and InvestHK finds the firm eligible: the parallel reviews open.
    pub async fn to_parallel_reviews(&self, app: Uuid) {
        self.act(app, "ofds_nomination", "ofds:chen", "nominate", None)
            .await
            .unwrap();
        self.act(
            app,
            "eligibility_screening",
            "investhk:amy",
            "eligible",
            None,
        )
        .await
        .unwrap();
    }

    /// `who` is `agency:person` or `applicant`.
    pub async fn act(
        &self,
        app: Uuid,
        state: &str,
        who: &str,
        action: &str,
        input: Option<Value>,
    ) -> Result<Outcome, Error> {
        let (actor, assignee) = match who.split_once(':') {
            Some((agency, person)) => (Actor::reviewer(person, agency), agency.to_owned()),
            None => (Actor::applicant("applicant-user"), "applicant".to_owned()),
        };
        let task = self.open_task(app, state, &assignee).await;
        self.store
            .act(Act {
                input,
                ..Act::new(task.id, actor, action)
            })
            .await
    }
}

/// What the API answers as `CONFLICT`: a lost race, or a rejection because the application or
/// task moved on meanwhile.
fn is_conflict(e: &Error) -> bool {
    matches!(
        e,
        Error::Conflict(_)
            | Error::Rejected(
                Rejection::Finished | Rejection::TaskNotOpen(_) | Rejection::NotDue(_)
            )
    )
}

pub async fn publishing_versions_and_pinning(db: &TestDb) {
    let f = fixture(db).await;
    let again = f
        .store
        .publish_dir(&root().join("workflows"), "test")
        .await
        .unwrap();
    assert_eq!(again.len(), 3);
    assert!(
        again
            .iter()
            .all(|(_, p)| !p.changed && p.definition.version == 1),
        "unchanged files publish nothing"
    );

    let old = f.submit("internship-placement", "student-1").await;
    assert_eq!(old.application.workflow_version, 1);
    // A changed definition becomes version 2; the running application stays on version 1.
    let dir = root().join("workflows");
    let source =
        std::fs::read_to_string(dir.join("internship-placement.yaml")).unwrap() + "\n# revised\n";
    let loader = move |rel: &str| std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string());
    let v2 = f.store.publish(&source, loader, "admin").await.unwrap();
    assert!(v2.changed);
    assert_eq!(v2.definition.version, 2);
    let new = f.submit("internship-placement", "student-2").await;
    assert_eq!(new.application.workflow_version, 2);
    f.act(
        old.application.id,
        "eligibility_check",
        "programme_office:pat",
        "eligible",
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        f.store
            .application(old.application.id)
            .await
            .unwrap()
            .unwrap()
            .workflow_version,
        1
    );

    // Retiring stops new submissions only (for the position offered before, too).
    let position = f.position("internship-placement").await;
    f.store.retire("internship-placement", 2).await.unwrap();
    let err = f
        .store
        .submit(Submit {
            position: Some(position),
            workflow_key: "internship-placement".into(),
            organization: "s3".into(),
            actor: Actor::applicant("s3"),
            data: example("internship-placement"),
            idempotency_key: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Retired { version: 2, .. }), "{err}");
    f.act(
        new.application.id,
        "eligibility_check",
        "programme_office:pat",
        "eligible",
        None,
    )
    .await
    .unwrap();

    let broken = f
        .store
        .publish("key: x\n", |_: &str| Err("no files".to_owned()), "admin")
        .await
        .unwrap_err();
    assert!(matches!(broken, Error::InvalidDefinition(_)));
}

pub async fn a_whole_application_is_persisted_and_audited(db: &TestDb) {
    let f = fixture(db).await;
    let sub = f.submit("soft-landing-sz-to-hk", "pengcheng-pay").await;
    let id = sub.application.id;
    assert_eq!(sub.application.status, Status::Active);
    assert_eq!(sub.application.active_states, vec!["ofds_nomination"]);
    let inbox = f
        .store
        .inbox(
            &InboxOwner::Agency("ofds".into()),
            &Default::default(),
            10,
            None,
        )
        .await
        .unwrap();
    assert_eq!(inbox.items.len(), 1);
    assert_eq!(
        inbox.items[0]
            .1
            .actions
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>(),
        vec!["nominate", "decline"]
    );

    f.to_parallel_reviews(id).await;
    f.act(id, "hkstp_review", "hkstp:ben", "admit", None)
        .await
        .unwrap();
    f.act(id, "investhk_setup_review", "investhk:carl", "clear", None)
        .await
        .unwrap();
    f.act(
        id,
        "hkma_sandbox_referral",
        "hkma:dora",
        "admit_to_sandbox",
        None,
    )
    .await
    .unwrap();
    f.act(id, "joint_decision", "investhk:amy", "approve", None)
        .await
        .unwrap();
    let last = f
        .act(id, "joint_decision", "hkstp:ben", "approve", None)
        .await
        .unwrap();

    let app = last.application;
    assert_eq!(app.status, Status::Completed);
    assert_eq!(app.outcome.as_deref(), Some("approved"));
    assert!(f.store.tasks_of(id, true).await.unwrap().is_empty());
    let all = f.store.tasks_of(id, false).await.unwrap();
    assert_eq!(
        all.iter()
            .filter(|t| t.status == TaskStatus::Cancelled)
            .count(),
        1,
        "the third joint-decision seat"
    );
    let history = f.store.history(id).await.unwrap();
    assert_eq!(history.len() as i64, app.revision);
    assert_eq!(
        history.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=app.revision).collect::<Vec<_>>()
    );
    let completed = history
        .iter()
        .find(|e| e.kind == EventName::TaskCompleted && e.action.as_deref() == Some("admit"))
        .unwrap();
    assert_eq!(
        (completed.actor.as_deref(), completed.state.as_deref()),
        (Some("ben"), Some("hkstp_review"))
    );
    assert_eq!(doctor_clean(&f.store).await.applications, 1);

    // The engine's rejections come through typed, and change nothing.
    let other = f.submit("soft-landing-sz-to-hk", "other-firm").await;
    let err = f
        .act(
            other.application.id,
            "ofds_nomination",
            "ofds:chen",
            "decline",
            Some(json!({"reason": 1})),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Rejected(Rejection::InvalidInput { .. })),
        "{err:?}"
    );
    let task = f
        .open_task(other.application.id, "ofds_nomination", "ofds")
        .await;
    let err = f
        .store
        .act(gated(
            Act::new(task.id, Actor::reviewer("amy", "investhk"), "nominate"),
            None,
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotYours { .. }), "{err:?}");
    assert_eq!(
        f.store
            .application(other.application.id)
            .await
            .unwrap()
            .unwrap()
            .revision,
        other.application.revision
    );
}

pub async fn concurrent_actions_on_one_task_have_one_winner(db: &TestDb) {
    let f = fixture(db).await;
    let sub = f.submit("soft-landing-sz-to-hk", "firm").await;
    let task = f
        .open_task(sub.application.id, "ofds_nomination", "ofds")
        .await;
    let mut handles = Vec::new();
    for i in 0..8 {
        let store = f.store.clone();
        handles.push(tokio::spawn(async move {
            store
                .act(Act::new(
                    task.id,
                    Actor::reviewer(format!("officer-{i}"), "ofds"),
                    "nominate",
                ))
                .await
        }));
    }
    let mut wins = 0;
    for h in handles {
        match h.await.unwrap() {
            Ok(_) => wins += 1,
            Err(e) => assert!(is_conflict(&e), "a loser must get a conflict, got: {e}"),
        }
    }
    assert_eq!(wins, 1);
    let history = f.store.history(sub.application.id).await.unwrap();
    assert_eq!(
        history
            .iter()
            .filter(|e| e.kind == EventName::TaskCompleted)
            .count(),
        1,
        "never applied twice"
    );
    doctor_clean(&f.store).await;
}

pub async fn concurrent_actions_on_sibling_tasks_both_succeed(db: &TestDb) {
    let f = fixture(db).await;
    let id = f.submitted("soft-landing-sz-to-hk", "firm").await;
    f.to_parallel_reviews(id).await;
    let a = f.open_task(id, "hkstp_review", "hkstp").await;
    let b = f.open_task(id, "investhk_setup_review", "investhk").await;
    let (s1, s2) = (f.store.clone(), f.store.clone());
    let h1 = tokio::spawn(async move {
        s1.act(Act::new(a.id, Actor::reviewer("ben", "hkstp"), "admit"))
            .await
    });
    let h2 = tokio::spawn(async move {
        s2.act(Act::new(b.id, Actor::reviewer("carl", "investhk"), "clear"))
            .await
    });
    h1.await.unwrap().unwrap();
    h2.await.unwrap().unwrap();
    let app = f.store.application(id).await.unwrap().unwrap();
    assert_eq!(
        app.active_states,
        vec!["hkma_sandbox_referral"],
        "both branches done, joined, choice taken"
    );
    doctor_clean(&f.store).await;
}

pub async fn stale_expected_revision_is_a_conflict(db: &TestDb) {
    let f = fixture(db).await;
    let sub = f.submit("soft-landing-sz-to-hk", "firm").await;
    let task = f
        .open_task(sub.application.id, "ofds_nomination", "ofds")
        .await;
    let act = |rev| Act {
        expected_revision: Some(rev),
        ..Act::new(task.id, Actor::reviewer("chen", "ofds"), "nominate")
    };
    let err = f
        .store
        .act(act(sub.application.revision - 1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Conflict(ConflictReason::StaleRevision { .. })),
        "{err}"
    );
    f.store.act(act(sub.application.revision)).await.unwrap();
    let err = f
        .store
        .act(act(sub.application.revision))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Conflict(ConflictReason::TaskClosed)),
        "a closed task: {err}"
    );
}

pub async fn idempotent_submissions_never_duplicate(db: &TestDb) {
    let f = fixture(db).await;
    let submit = |key: &str| Submit {
        position: None,
        workflow_key: "soft-landing-sz-to-hk".into(),
        organization: "firm".into(),
        actor: Actor::applicant("firm-user"),
        data: example("soft-landing-sz-to-hk"),
        idempotency_key: Some(key.into()),
    };
    let first = f.store.submit(submit("k1")).await.unwrap();
    let again = f.store.submit(submit("k1")).await.unwrap();
    assert!(again.replayed && !first.replayed);
    assert_eq!(first.application.id, again.application.id);
    // Many retries at the same moment still make one application.
    let mut handles = Vec::new();
    for _ in 0..8 {
        let store = f.store.clone();
        let s = submit("k2");
        handles.push(tokio::spawn(async move { store.submit(s).await }));
    }
    let mut ids = std::collections::HashSet::new();
    for h in handles {
        ids.insert(h.await.unwrap().unwrap().application.id);
    }
    assert_eq!(ids.len(), 1);
    let all = f
        .listed(
            ApplicationFilter {
                organization: Some("firm".into()),
                ..Default::default()
            },
            100,
        )
        .await;
    assert_eq!(all.len(), 2, "k1 and k2: two applications, not ten");
    // The same key for a different request is refused.
    let mut other = submit("k1");
    other.data["company"]["name_en"] = json!("Another Company Ltd");
    let err = f.store.submit(other).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict(ConflictReason::IdempotencyKeyReused(_))
        ),
        "{err}"
    );
}

pub async fn idempotent_actions_apply_once(db: &TestDb) {
    let f = fixture(db).await;
    let sub = f.submit("soft-landing-sz-to-hk", "firm").await;
    let task = f
        .open_task(sub.application.id, "ofds_nomination", "ofds")
        .await;
    let act = || Act {
        comment: Some("ok".into()),
        idempotency_key: Some("a1".into()),
        ..Act::new(task.id, Actor::reviewer("chen", "ofds"), "nominate")
    };
    let mut handles = Vec::new();
    for _ in 0..6 {
        let store = f.store.clone();
        let a = act();
        handles.push(tokio::spawn(async move { store.act(a).await }));
    }
    let mut applied = 0;
    let mut revisions = std::collections::HashSet::new();
    for h in handles {
        let out = h.await.unwrap().unwrap();
        if !out.replayed {
            applied += 1;
        }
        revisions.insert(out.application.revision);
    }
    assert_eq!(
        applied, 1,
        "exactly one request applied, the others replayed its result"
    );
    let history = f.store.history(sub.application.id).await.unwrap();
    assert_eq!(
        history
            .iter()
            .filter(|e| e.kind == EventName::TaskCompleted)
            .count(),
        1
    );
    let replay = f.store.act(act()).await.unwrap();
    assert!(replay.replayed);
    assert_eq!(
        f.store.history(sub.application.id).await.unwrap().len(),
        history.len()
    );
}

pub async fn claims_release_and_delegation(db: &TestDb) {
    let f = fixture(db).await;
    let id = f.submitted("soft-landing-sz-to-hk", "firm").await;
    let task = f.open_task(id, "ofds_nomination", "ofds").await;
    let chen = Actor::reviewer("chen", "ofds");
    let dai = Actor::reviewer("dai", "ofds");
    let claimed = f.store.claim(task.id, &chen).await.unwrap();
    assert_eq!(claimed.claimed_by.as_deref(), Some("chen"));
    let err = f.store.claim(task.id, &dai).await.unwrap_err();
    assert!(
        matches!(err, Error::Conflict(ConflictReason::ClaimedByOther(ref h)) if h == "chen"),
        "{err}"
    );
    let err = f
        .store
        .claim(task.id, &Actor::reviewer("amy", "investhk"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotYours { .. }), "{err:?}");
    let act = |actor: &Actor| Act::new(task.id, actor.clone(), "nominate");
    let err = f.store.act(act(&dai)).await.unwrap_err();
    assert!(
        matches!(err, Error::Conflict(ConflictReason::ClaimedByOther(_))),
        "{err}"
    );
    let by = |who: &str, rights| Claimant::of_agency(who, "ofds", rights);
    let err = f
        .store
        .release(task.id, &by("dai", ClaimRights::Own))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    // Another agency's lead is refused as for a task that is not theirs.
    let err = f
        .store
        .release(
            task.id,
            &Claimant::of_agency("amy", "investhk", ClaimRights::Any),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotYours { .. }), "{err:?}");
    let released = f
        .store
        .release(task.id, &by("dai", ClaimRights::Any))
        .await
        .unwrap();
    assert_eq!(released.claimed_by, None, "an agency lead may release");
    // An administrator plays every agency's lead.
    f.store.claim(task.id, &chen).await.unwrap();
    let admin = Claimant {
        person: "root".into(),
        agency: None,
        rights: ClaimRights::Everywhere,
    };
    let released = f.store.release(task.id, &admin).await.unwrap();
    assert_eq!(released.claimed_by, None, "an administrator may release");
    // Delegation goes only to an active reviewer of the task's agency.
    for (to, why) in [
        ("nobody", "a name nobody holds"),
        ("amy", "a reviewer of another agency"),
        ("wang", "a deactivated reviewer"),
    ] {
        if to == "wang" {
            f.store
                .person_for_key(
                    "wang",
                    KeyRole::Reviewer {
                        agency: "ofds".into(),
                    },
                )
                .await
                .unwrap();
            assert!(f.store.deactivate_person("wang").await.unwrap());
        }
        let err = f
            .store
            .delegate(task.id, &by("chen", ClaimRights::Own), to)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidDirectory(_)), "{why}: {err:?}");
    }
    f.store
        .person_for_key(
            "dai",
            KeyRole::Reviewer {
                agency: "ofds".into(),
            },
        )
        .await
        .unwrap();
    let delegated = f
        .store
        .delegate(task.id, &by("chen", ClaimRights::Own), "dai")
        .await
        .unwrap();
    assert_eq!(delegated.claimed_by.as_deref(), Some("dai"));
    // Deactivating the holder releases the claim.
    assert!(f.store.deactivate_person("dai").await.unwrap());
    let task_now = f.store.task(task.id).await.unwrap().unwrap();
    assert_eq!(
        task_now.claimed_by, None,
        "a deactivated person's claims are released"
    );
    f.store.claim(task.id, &chen).await.unwrap();
    f.store.act(act(&chen)).await.unwrap();
}

pub async fn timers_fire_exactly_once(db: &TestDb) {
    let f = fixture(db).await;
    let id = f.submitted("soft-landing-sz-to-hk", "firm").await;
    f.act(id, "ofds_nomination", "ofds:chen", "nominate", None)
        .await
        .unwrap();
    f.act(
        id,
        "eligibility_screening",
        "investhk:amy",
        "request_info",
        Some(json!({"question": "Audited accounts?"})),
    )
    .await
    .unwrap();
    assert_eq!(
        f.store.run_due_timers("s1", 100).await.unwrap().fired,
        0,
        "nothing due yet"
    );
    f.advance(Duration::days(31));
    // Three schedulers at once: the RFI timer fires once and the application lapses.
    let (a, b, c) = tokio::join!(
        f.store.run_due_timers("s1", 100),
        f.store.run_due_timers("s2", 100),
        f.store.run_due_timers("s3", 100)
    );
    let fired = a.unwrap().fired + b.unwrap().fired + c.unwrap().fired;
    assert_eq!(fired, 1);
    let app = f.store.application(id).await.unwrap().unwrap();
    assert_eq!(app.outcome.as_deref(), Some("lapsed"));
    let history = f.store.history(id).await.unwrap();
    assert_eq!(
        history
            .iter()
            .filter(|e| e.kind == EventName::TaskOverdue)
            .count(),
        1
    );
    assert_eq!(f.store.run_due_timers("s1", 100).await.unwrap().fired, 0);
    // Business-day due times: submitted Fri 25 Dec 2026 (the clock moved 31 days), OFDS counts
    // 10 mainland working days: 28-31 Dec, (1 Jan is a holiday) 4-8 Jan, 11 Jan.
    let other = f.submitted("soft-landing-sz-to-hk", "firm2").await;
    let t = f.open_task(other, "ofds_nomination", "ofds").await;
    assert_eq!(t.due_at, Some("2027-01-11T01:00:00Z".parse().unwrap()));
}

/// Every item of a keyset-paginated list, fetching page after page with the previous page's
/// last cursor, and the last cursor seen.
async fn every_page<T, F, Fut>(mut fetch: F) -> (Vec<T>, Option<String>)
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = softland_store::Result<softland_store::Page<T>>>,
{
    let (mut items, mut after) = (Vec::new(), None);
    loop {
        let page = fetch(after.clone()).await.unwrap();
        after = page.items.last().map(|(c, _)| c.clone()).or(after);
        let has_next = page.has_next;
        items.extend(page.items.into_iter().map(|(_, item)| item));
        if !has_next {
            return (items, after);
        }
    }
}

pub async fn inbox_and_lists_paginate_by_keyset(db: &TestDb) {
    let f = fixture(db).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            f.submitted(
                "soft-landing-sz-to-hk",
                if i % 2 == 0 { "even" } else { "odd" },
            )
            .await,
        );
        f.advance(Duration::hours(1));
    }
    let owner = InboxOwner::Agency("ofds".into());
    let (tasks, _) = every_page(|after| {
        let (store, owner) = (&f.store, &owner);
        async move {
            store
                .inbox(owner, &Default::default(), 2, after.as_deref())
                .await
        }
    })
    .await;
    let seen: Vec<Uuid> = tasks.iter().map(|t| t.application_id).collect();
    assert_eq!(seen, ids, "soonest due first, every task once");
    let even = ApplicationFilter {
        organization: Some("even".into()),
        ..Default::default()
    };
    let evens = f.store.applications(&even, 2, None).await.unwrap();
    assert_eq!(evens.items.len(), 2);
    assert!(evens.has_next);
    let after_evens = Some(evens.items[1].0.as_str());
    let rest = f.store.applications(&even, 2, after_evens).await.unwrap();
    assert_eq!(rest.items.len(), 1);
    assert!(!rest.has_next);
    assert_eq!(rest.items[0].1.id, ids[0], "newest first");
    // A window of submission times pages in submission order, newest first, with its own
    // cursors (an id cursor is refused there, and a time cursor elsewhere).
    let t0 = f
        .store
        .application(ids[0])
        .await
        .unwrap()
        .unwrap()
        .submitted_at;
    let window = ApplicationFilter {
        submitted_after: Some(t0 + Duration::minutes(30)),
        submitted_before: Some(t0 + Duration::hours(4)),
        ..Default::default()
    };
    let (apps, last) = every_page(|after| {
        let (store, window) = (&f.store, &window);
        async move { store.applications(window, 2, after.as_deref()).await }
    })
    .await;
    let seen: Vec<Uuid> = apps.iter().map(|a| a.id).collect();
    assert_eq!(seen, [ids[3], ids[2], ids[1]], "the window, newest first");
    let time_cursor = last.unwrap();
    assert!(time_cursor.starts_with("submitted|"), "{time_cursor}");
    let id_cursor = ids[2].to_string();
    for (filter, cursor) in [
        (&window, id_cursor.as_str()),
        (&ApplicationFilter::default(), time_cursor.as_str()),
    ] {
        let err = f
            .store
            .applications(filter, 2, Some(cursor))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::BadCursor(_)), "{err:?}");
    }
    // Agency visibility: HKMA has had no task yet.
    let hkma = f
        .listed(
            ApplicationFilter {
                agency: Some("hkma".into()),
                ..Default::default()
            },
            10,
        )
        .await;
    assert!(hkma.is_empty());
    let ofds = f
        .listed(
            ApplicationFilter {
                agency: Some("ofds".into()),
                status: Some(Status::Active),
                ..Default::default()
            },
            10,
        )
        .await;
    assert_eq!(ofds.len(), 5);
    assert!(
        f.store
            .applications(&ApplicationFilter::default(), 10, Some("not-a-cursor"))
            .await
            .is_err()
    );
}

pub async fn withdrawal_closes_tasks_and_timers(db: &TestDb) {
    let f = fixture(db).await;
    let id = f.submitted("soft-landing-sz-to-hk", "firm").await;
    f.to_parallel_reviews(id).await;
    let out = f
        .store
        .withdraw(Withdraw {
            reason: Some("plans changed".into()),
            ..Withdraw::new(id, "firm", Actor::applicant("firm-user"))
        })
        .await
        .unwrap();
    assert_eq!(out.application.status, Status::Withdrawn);
    assert!(f.store.tasks_of(id, true).await.unwrap().is_empty());
    f.advance(Duration::days(60));
    let run = f.store.run_due_timers("s", 100).await.unwrap();
    assert_eq!(run.fired, 0, "timers of closed tasks never fire");
    let err = f
        .store
        .withdraw(Withdraw::new(id, "firm", Actor::applicant("firm-user")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Rejected(Rejection::Finished)),
        "{err:?}"
    );
}

/// A nominated application, and a doctor that finds nothing wrong yet.
async fn nominated_and_clean(db: &TestDb) -> (Fixture, Uuid) {
    let f = fixture(db).await;
    let id = f.submitted("soft-landing-sz-to-hk", "firm").await;
    f.act(id, "ofds_nomination", "ofds:chen", "nominate", None)
        .await
        .unwrap();
    doctor_clean(&f.store).await;
    (f, id)
}

/// Events stored with state indexes (before events named their states) are named when the
/// store opens; the hash chain is not rewritten but stays checkable through the payload it
/// covers, the application goes on, and an edit of the named payload is still caught.
pub async fn events_stored_with_state_indexes_are_named_and_still_verify(db: &TestDb) {
    use sea_orm::{ConnectionTrait, Database};
    let (f, id) = nominated_and_clean(db).await;
    softland_store::test_util::as_before_state_names(&f.store, id).await;
    let raw = Database::connect(db.url.as_str()).await.unwrap();
    let legacy = raw
        .query_one_raw(sea_orm::Statement::from_string(
            raw.get_database_backend(),
            "SELECT payload FROM events WHERE kind = 'entered' ORDER BY seq LIMIT 1",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<String>("", "payload")
        .unwrap();
    assert!(legacy.contains(r#""state":0"#), "{legacy}");

    // Opening migrates and upgrades.
    let store = Store::open(&db.url).await.unwrap();
    doctor_clean(&store).await;
    let history = store.history(id).await.unwrap();
    let entered = history
        .iter()
        .find(|e| e.kind == EventName::Entered)
        .unwrap();
    assert_eq!(entered.payload["state"], "ofds_nomination");
    assert_eq!(entered.state.as_deref(), Some("ofds_nomination"));
    // The application goes on: its chain continues from the hashes it had.
    let g = Fixture {
        store,
        offset: f.offset.clone(),
    };
    g.act(
        id,
        "eligibility_screening",
        "investhk:wong",
        "eligible",
        None,
    )
    .await
    .unwrap();
    let store = g.store;
    doctor_clean(&store).await;
    // Opening again changes nothing.
    let again = Store::open(&db.url).await.unwrap();
    doctor_clean(&again).await;

    // The named payload is not what the hash covers, but an edit of it is still caught.
    tamper(
        db,
        "UPDATE events SET payload = replace(payload, 'ofds_nomination', 'licence_check') WHERE seq = 2",
    )
    .await;
    doctor_finds(&store, "event 2 has a payload that is not the named form").await;
}

pub async fn doctor_detects_tampering(db: &TestDb) {
    let (f, _) = nominated_and_clean(db).await;
    tamper(
        db,
        "UPDATE events SET payload = replace(payload, 'chen', 'mallory') WHERE seq = 4",
    )
    .await;
    doctor_finds(&f.store, "hash chain broken at event 4").await;
}

/// The columns shown beside the hashed payload (actor, action, comment, …) are checked too: an
/// edit is reported by `doctor`, and the history still shows what was hashed.
pub async fn doctor_detects_edited_columns(db: &TestDb) {
    let (f, id) = nominated_and_clean(db).await;
    let completed = f
        .store
        .history(id)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.kind == EventName::TaskCompleted)
        .expect("the nomination is in the history");
    tamper(db, &format!(
        "UPDATE events SET actor = 'mallory', action = 'reject', comment = 'forged' WHERE seq = {} AND kind = 'task_completed'",
        completed.seq
    ))
    .await;
    for column in ["actor", "action", "comment"] {
        doctor_finds(
            &f.store,
            &format!("event {} has a `{column}` column", completed.seq),
        )
        .await;
    }
    let shown = f
        .store
        .history(id)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.seq == completed.seq)
        .unwrap();
    assert_eq!(
        shown.actor, completed.actor,
        "the history shows the hashed actor"
    );
    assert_eq!(shown.action.as_deref(), Some("nominate"));
    assert_eq!(shown.comment, completed.comment);
}

pub async fn audit_export_writes_every_event(db: &TestDb) {
    let f = fixture(db).await;
    let a = f.submit("soft-landing-sz-to-hk", "firm").await.application;
    f.act(a.id, "ofds_nomination", "ofds:chen", "nominate", None)
        .await
        .unwrap();
    let b = f
        .submit("internship-placement", "student")
        .await
        .application;
    let total =
        f.store.history(a.id).await.unwrap().len() + f.store.history(b.id).await.unwrap().len();
    let mut out = Vec::new();
    let from: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
    let n = f
        .store
        .audit_export(from, from + Duration::days(730), &mut out)
        .await
        .unwrap();
    assert_eq!(n as usize, total);
    let lines: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), total);
    assert!(
        lines
            .iter()
            .all(|l| l["hash"].as_str().is_some_and(|h| h.len() == 64))
    );
}

/// Two separate OS processes act on the same task at the same instant: one wins.
pub async fn two_processes_one_winner(db: &TestDb) {
    let f = fixture(db).await;
    let mut tasks = Vec::new();
    for i in 0..5 {
        let id = f
            .submit("soft-landing-sz-to-hk", &format!("firm-{i}"))
            .await
            .application
            .id;
        tasks.push(f.open_task(id, "ofds_nomination", "ofds").await.id);
    }
    let helper = env!("CARGO_BIN_EXE_store-race-helper");
    let start = (Utc::now() + Duration::milliseconds(1500)).timestamp_millis();
    let ids: Vec<String> = tasks.iter().map(Uuid::to_string).collect();
    let spawn = |who: &str| {
        std::process::Command::new(helper)
            .args([&db.url, who, &start.to_string()])
            .args(&ids)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (p1, p2) = (spawn("officer-a"), spawn("officer-b"));
    let (o1, o2) = (
        p1.wait_with_output().unwrap(),
        p2.wait_with_output().unwrap(),
    );
    assert!(o1.status.success() && o2.status.success());
    let results: Vec<String> = [o1, o2]
        .iter()
        .flat_map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    for task in &ids {
        let mine: Vec<&String> = results
            .iter()
            .filter(|l| l.starts_with(task.as_str()))
            .collect();
        assert_eq!(mine.len(), 2, "{results:?}");
        assert_eq!(
            mine.iter().filter(|l| l.ends_with(" ok")).count(),
            1,
            "exactly one winner for {task}: {mine:?}"
        );
        assert_eq!(
            mine.iter().filter(|l| l.ends_with(" CONFLICT")).count(),
            1,
            "the loser gets a conflict: {mine:?}"
        );
    }
    doctor_clean(&f.store).await;
}

/// Subscribers of one process hear of commits made through another process's store.
pub async fn the_relay_publishes_what_any_process_commits(db: &TestDb) {
    let f = fixture(db).await;
    let other = Store::open(&db.url).await.unwrap();
    let mut rx = other.subscribe();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let relay = other.spawn_outbox_relay(std::time::Duration::from_millis(20), stop_rx);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let sub = f.submit("soft-landing-sz-to-hk", "firm").await;
    let id = sub.application.id;
    f.act(id, "ofds_nomination", "ofds:chen", "nominate", None)
        .await
        .unwrap();
    let total = f.store.history(id).await.unwrap().len();
    let mut seqs = Vec::new();
    while seqs.len() < total {
        let e = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
            .await
            .expect("relayed in time")
            .unwrap();
        assert_eq!(e.application_id, id);
        seqs.push(e.seq);
    }
    assert_eq!(
        seqs,
        (1..=total as i64).collect::<Vec<_>>(),
        "every event once, in order"
    );
    stop_tx.send(true).unwrap();
    relay.await.unwrap();
}

/// The gate the policy puts on an action (`softland-policy`, which sits above the store and is
/// tested there): a reviewer works their agency's tasks; an applicant the applicant tasks of
/// the organization it acts for.
#[derive(Debug)]
struct Scoped {
    party: Party,
    organization: Option<String>,
}

impl softland_store::TaskGate for Scoped {
    fn may_work(&self, assignee: &Assignee, organization: &str) -> bool {
        match (&self.party, assignee) {
            (Party::Agency(a), Assignee::Agency(b)) => **a == **b,
            (Party::Applicant, Assignee::Applicant) => {
                self.organization.as_deref() == Some(organization)
            }
            _ => false,
        }
    }
}

/// `act` with the policy's gate for its actor (acting for `organization`).
fn gated(act: Act, organization: Option<&str>) -> Act {
    Act {
        organization: organization.map(str::to_owned),
        gate: Arc::new(Scoped {
            party: act.actor.party.clone(),
            organization: organization.map(str::to_owned),
        }),
        ..act
    }
}

/// A task that is not the actor's — another agency's, or an applicant task of another
/// organization — is refused as `NotYours` before its claim or revision is looked at, so the
/// refusal reveals nothing else; nothing is written.
pub async fn tasks_of_others_are_refused_first(db: &TestDb) {
    let f = fixture(db).await;
    let app = f
        .submit("soft-landing-sz-to-hk", "pengcheng")
        .await
        .application;
    let nomination = f.open_task(app.id, "ofds_nomination", "ofds").await;
    f.store
        .claim(nomination.id, &Actor::reviewer("chen", "ofds"))
        .await
        .unwrap();
    let act = |actor: Actor, organization: Option<&str>, task: Uuid| {
        gated(
            Act {
                expected_revision: Some(999),
                ..Act::new(task, actor, "nominate")
            },
            organization,
        )
    };
    let err = f
        .store
        .act(act(Actor::reviewer("amy", "investhk"), None, nomination.id))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::NotYours { application_id, assignee } if *application_id == app.id && assignee == "ofds"),
        "{err:?}"
    );
    // the applicant is not ofds either
    let err = f
        .store
        .act(act(
            Actor::applicant("li"),
            Some("pengcheng"),
            nomination.id,
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotYours { .. }), "{err:?}");

    // an applicant task: the own organization may answer, another may not
    f.act(app.id, "ofds_nomination", "ofds:chen", "nominate", None)
        .await
        .unwrap();
    f.act(
        app.id,
        "eligibility_screening",
        "investhk:amy",
        "request_info",
        Some(json!({"question": "Audited accounts?"})),
    )
    .await
    .unwrap();
    let info = f
        .open_task(app.id, "eligibility_information", "applicant")
        .await;
    let answer = |org: &str| {
        gated(
            Act {
                input: Some(json!({"answer": "Attached."})),
                ..Act::new(info.id, Actor::applicant("li"), "answer")
            },
            Some(org),
        )
    };
    let err = f.store.act(answer("rival-firm")).await.unwrap_err();
    assert!(matches!(err, Error::NotYours { .. }), "{err:?}");
    let before = f.store.history(app.id).await.unwrap().len();
    let done = f.store.act(answer("pengcheng")).await.unwrap();
    assert!(!done.events.is_empty());
    assert_eq!(
        f.store.history(app.id).await.unwrap().len(),
        before + done.events.len()
    );
}

/// Bulk-loaded applications are what live commands would have written: the doctor finds every
/// one equal to the fold of its events with an intact hash chain, their tasks are in the
/// inboxes, lists see them newest first, and a bad step refuses the whole batch.
pub async fn bulk_loaded_applications_are_sound(db: &TestDb) {
    use softland_store::{SeedApplication, SeedStep};
    let f = fixture(db).await;
    let step = |state: &str, who: Actor, action: &str| SeedStep {
        state: state.into(),
        actor: who,
        action: action.into(),
        input: None,
    };
    let t0: DateTime<Utc> = "2026-01-05T02:00:00Z".parse().unwrap();
    let seeds: Vec<SeedApplication> = (0..30)
        .map(|i| {
            let mut steps = Vec::new();
            if i % 3 >= 1 {
                steps.push(step(
                    "ofds_nomination",
                    Actor::reviewer("chen", "ofds"),
                    "nominate",
                ));
            }
            if i % 3 == 2 {
                steps.push(step(
                    "eligibility_screening",
                    Actor::reviewer("amy", "investhk"),
                    "eligible",
                ));
            }
            SeedApplication {
                workflow_key: "soft-landing-sz-to-hk".into(),
                organization: format!("firm-{}", i % 4),
                submitted_at: t0 + Duration::hours(i),
                data: example("soft-landing-sz-to-hk"),
                steps,
            }
        })
        .collect();
    let ids = f.store.bulk_load(&seeds).await.unwrap();
    assert_eq!(ids.len(), 30);
    assert_eq!(doctor_clean(&f.store).await.applications, 30);

    // 10 nominations open at OFDS; 10 screenings at InvestHK; 10 × 2 parallel reviews.
    let count = |owner: InboxOwner| {
        let store = f.store.clone();
        async move {
            store
                .inbox(&owner, &Default::default(), 100, None)
                .await
                .unwrap()
                .items
                .len()
        }
    };
    assert_eq!(count(InboxOwner::Agency("ofds".into())).await, 10);
    assert_eq!(count(InboxOwner::Agency("investhk".into())).await, 20);
    assert_eq!(count(InboxOwner::Agency("hkstp".into())).await, 10);
    let history = f.store.history(ids[29]).await.unwrap();
    assert_eq!(history[0].kind, EventName::Submitted);
    assert!(history.iter().all(|e| e.at == t0 + Duration::hours(29)));

    // newest submission first
    let firm = f
        .listed(
            ApplicationFilter {
                organization: Some("firm-1".into()),
                ..Default::default()
            },
            100,
        )
        .await;
    let listed: Vec<Uuid> = firm.iter().map(|a| a.id).collect();
    let expected: Vec<Uuid> = (0..30)
        .rev()
        .filter(|i| i % 4 == 1)
        .map(|i| ids[i])
        .collect();
    assert_eq!(listed, expected);

    // a step on a task that is not open refuses the batch
    let mut bad = seeds[0].clone();
    bad.steps = vec![step(
        "hkstp_review",
        Actor::reviewer("ben", "hkstp"),
        "admit",
    )];
    let err = f
        .store
        .bulk_load(&[seeds[1].clone(), bad])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    assert_eq!(f.store.doctor().await.unwrap().applications, 30);
}

/// When an outcome lists the open tasks after its command, the list (and the application
/// row) is exactly what the database holds: through an information request, parallel reviews, a claim, the 2-of-3
/// decision and a rejection that cancels a sibling branch.
pub async fn outcomes_list_the_open_tasks_the_database_holds(db: &TestDb) {
    let f = fixture(db).await;
    let check = |out: Outcome| {
        let store = f.store.clone();
        async move {
            let stored = store.tasks_of(out.application.id, true).await.unwrap();
            // The application as answered, form data included, is the stored row.
            let row = store.application(out.application.id).await.unwrap();
            assert_eq!(Some(&out.application), row.as_ref());
            if let Some(listed) = out.open_tasks {
                assert_eq!(
                    listed, stored,
                    "after revision {}",
                    out.application.revision
                );
            }
        }
    };
    let sub = f.submit("soft-landing-sz-to-hk", "pengcheng").await;
    let app = sub.application.id;
    assert!(
        sub.open_tasks.is_some(),
        "a submission knows its open tasks"
    );
    check(sub).await;
    type Step = (&'static str, &'static str, &'static str, Option<Value>);
    let to_parallel_reviews: [Step; 4] = [
        ("ofds_nomination", "ofds:chen", "nominate", None),
        (
            "eligibility_screening",
            "investhk:amy",
            "request_info",
            Some(json!({"question": "Audited accounts?"})),
        ),
        (
            "eligibility_information",
            "applicant",
            "answer",
            Some(json!({"answer": "Attached."})),
        ),
        ("eligibility_screening", "investhk:amy", "eligible", None),
    ];
    let to_decision: [Step; 5] = [
        ("investhk_setup_review", "investhk:carl", "clear", None),
        ("hkstp_review", "hkstp:ben", "admit", None),
        (
            "hkma_sandbox_referral",
            "hkma:dora",
            "admit_to_sandbox",
            None,
        ),
        ("joint_decision", "investhk:amy", "approve", None),
        ("joint_decision", "hkstp:ben", "approve", None),
    ];
    for (state, who, action, input) in to_parallel_reviews {
        check(f.act(app, state, who, action, input).await.unwrap()).await;
    }
    // a claimed task stays listed with its claim
    let review = f.open_task(app, "hkstp_review", "hkstp").await;
    f.store
        .claim(review.id, &Actor::reviewer("ben", "hkstp"))
        .await
        .unwrap();
    for (state, who, action, input) in to_decision {
        check(f.act(app, state, who, action, input).await.unwrap()).await;
    }
    assert!(
        f.store.tasks_of(app, true).await.unwrap().is_empty(),
        "2 of 3 decided: the third seat closed"
    );

    // a rejection in one branch cancels the other branch's task
    let other = f.submitted("soft-landing-sz-to-hk", "pengcheng").await;
    f.to_parallel_reviews(other).await;
    let reason = json!({"reason": "Not a technology company"});
    check(
        f.act(other, "hkstp_review", "hkstp:ben", "reject", Some(reason))
            .await
            .unwrap(),
    )
    .await;
}

/// A key revoked through one process stops working in another: on PostgreSQL the other
/// process remembers keys while it listens for revocations and forgets them when it hears
/// one; on SQLite it looks every key up.
pub async fn revoked_keys_stop_working_on_every_server(db: &TestDb) {
    use softland_store::BackendKind;
    let f = fixture(db).await;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let watch = f.store.spawn_key_watch(stop_rx);
    assert_eq!(watch.is_some(), f.store.backend() == BackendKind::Postgres);
    let other = Store::open(&db.url).await.unwrap();
    let role = KeyRole::Reviewer {
        agency: "hkstp".into(),
    };
    let (key, token) = other.create_key("reviewer", role.clone()).await.unwrap();
    let (_, kept) = other.create_key("another", role).await.unwrap();
    // Give the listener time to start, then authenticate twice (remembered on PostgreSQL).
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    for _ in 0..2 {
        let found = f.store.authenticate(&token).await.unwrap().unwrap();
        assert_eq!(found.id, key.id);
    }
    assert!(f.store.authenticate(&kept).await.unwrap().is_some());
    assert!(other.revoke_key(key.id).await.unwrap());
    let revoked_at = std::time::Instant::now();
    while f.store.authenticate(&token).await.unwrap().is_some() {
        assert!(
            revoked_at.elapsed() < std::time::Duration::from_secs(5),
            "the revocation never reached the other process"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert!(
        f.store.authenticate(&kept).await.unwrap().is_some(),
        "other keys still work"
    );
    assert!(f.store.authenticate("sl_unknown").await.unwrap().is_none());
    // SQLite has no watch, so nobody may be listening.
    let _ = stop_tx.send(true);
    if let Some(w) = watch {
        w.await.unwrap();
    }
}

/// The outbox migration goes down (one row per event again, kind and payload copied back)
/// and up again, and the relay still publishes from it.
pub async fn the_outbox_migration_goes_down_and_up(db: &TestDb) {
    use sea_orm::{ConnectionTrait, Database, Statement};
    use softland_migrations::{Migrator, MigratorTrait};
    let f = fixture(db).await;
    let app = f.submit("soft-landing-sz-to-hk", "firm").await.application;
    f.act(app.id, "ofds_nomination", "ofds:chen", "nominate", None)
        .await
        .unwrap();
    let events = f.store.history(app.id).await.unwrap().len() as i64;
    let conn = Database::connect(&db.url).await.unwrap();
    let count = |sql: &'static str| {
        let conn = &conn;
        async move {
            let row = conn
                .query_one_raw(Statement::from_string(conn.get_database_backend(), sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        }
    };
    assert_eq!(
        count("SELECT COUNT(*) FROM outbox").await,
        2,
        "one per command"
    );
    // Down to before the outbox's migration: the later ones first.
    let all = Migrator::migrations();
    let outbox = all
        .iter()
        .position(|m| m.name().ends_with("outbox_per_command"))
        .unwrap();
    Migrator::down(&conn, Some((all.len() - outbox) as u32))
        .await
        .unwrap();
    assert_eq!(
        count("SELECT COUNT(*) FROM outbox").await,
        events,
        "one per event"
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM outbox o JOIN events e ON e.application_id = o.application_id \
             AND e.seq = o.seq AND e.kind = o.kind AND e.payload = o.payload"
        )
        .await,
        events,
        "kind and payload copied back"
    );
    Migrator::up(&conn, None).await.unwrap();
    assert_eq!(
        count("SELECT COUNT(*) FROM outbox WHERE first_seq = last_seq").await,
        events
    );
    assert!(f.store.pending_migrations().await.unwrap().is_empty());
    doctor_clean(&f.store).await;
}

/// Another process claims, closes and advances tasks this process acted around: every answer
/// is the one the database holds (claimed, closed, or applied on the new revision).
pub async fn other_processes_claim_close_and_advance(db: &TestDb) {
    let f = fixture(db).await;
    let other = Store::open(&db.url).await.unwrap();
    let id = f.submitted("soft-landing-sz-to-hk", "firm").await;
    f.act(id, "ofds_nomination", "ofds:chen", "nominate", None)
        .await
        .unwrap();
    let act = |store: &Store, task: Uuid, who: &str, agency: &str, action: &str| {
        let store = store.clone();
        let (who, agency, action) = (who.to_owned(), agency.to_owned(), action.to_owned());
        async move {
            store
                .act(Act::new(task, Actor::reviewer(who, agency), action))
                .await
        }
    };
    // Claimed elsewhere: refused as claimed, not as a lost race.
    let screening = f.open_task(id, "eligibility_screening", "investhk").await;
    other
        .claim(screening.id, &Actor::reviewer("amy", "investhk"))
        .await
        .unwrap();
    match act(&f.store, screening.id, "bob", "investhk", "eligible").await {
        Err(Error::Conflict(ConflictReason::ClaimedByOther(holder))) => assert_eq!(holder, "amy"),
        other => panic!("expected ClaimedByOther, got {other:?}"),
    }
    act(&f.store, screening.id, "amy", "investhk", "eligible")
        .await
        .unwrap();
    // Advanced elsewhere: the sibling review still goes through, on the new revision.
    let hkstp = f.open_task(id, "hkstp_review", "hkstp").await;
    let setup = f.open_task(id, "investhk_setup_review", "investhk").await;
    act(&other, hkstp.id, "ben", "hkstp", "admit")
        .await
        .unwrap();
    let out = act(&f.store, setup.id, "carl", "investhk", "clear")
        .await
        .unwrap();
    assert_eq!(out.application.active_states, vec!["hkma_sandbox_referral"]);
    // Closed elsewhere: refused as closed.
    match act(&f.store, hkstp.id, "ben", "hkstp", "admit").await {
        Err(Error::Conflict(ConflictReason::TaskClosed)) => {}
        other => panic!("expected TaskClosed, got {other:?}"),
    }
    let history = f.store.history(id).await.unwrap();
    assert_eq!(
        history
            .iter()
            .filter(|e| e.kind == EventName::TaskCompleted)
            .count(),
        4,
        "nomination, screening and the two reviews, once each"
    );
    let tasks = f.store.tasks_of(id, true).await.unwrap();
    assert_eq!(
        out.open_tasks
            .as_ref()
            .map(|t| t.iter().map(|t| t.id).collect::<Vec<_>>()),
        Some(tasks.iter().map(|t| t.id).collect()),
        "the outcome lists the open tasks the database holds"
    );
    doctor_clean(&f.store).await;
}

/// Commands committed together (SQLite's group writer) stand or fall one by one: retries of
/// one idempotent submission, interleaved with distinct submissions at the same moment, give
/// one application for the retried key and one for each other, all durable when the database
/// is opened again.
pub async fn commands_committed_together_stand_alone(db: &TestDb) {
    let f = fixture(db).await;
    let submit = |key: String| Submit {
        position: None,
        workflow_key: "soft-landing-sz-to-hk".into(),
        organization: "grouped".into(),
        actor: Actor::applicant("grouped-user"),
        data: example("soft-landing-sz-to-hk"),
        idempotency_key: Some(key),
    };
    let mut handles = Vec::new();
    for i in 0..24 {
        let store = f.store.clone();
        let key = if i % 2 == 0 {
            "same".to_owned()
        } else {
            format!("distinct-{i}")
        };
        let s = submit(key);
        handles.push(tokio::spawn(async move { store.submit(s).await }));
    }
    let mut ids = std::collections::HashSet::new();
    for h in handles {
        ids.insert(h.await.unwrap().unwrap().application.id);
    }
    assert_eq!(ids.len(), 13, "one for the retried key, twelve distinct");
    f.store.close().await.unwrap();
    let reopened = Store::open(&db.url).await.unwrap();
    let all = reopened
        .applications(
            &ApplicationFilter {
                organization: Some("grouped".into()),
                ..Default::default()
            },
            100,
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        all.items
            .iter()
            .map(|(_, a)| a.id)
            .collect::<std::collections::HashSet<_>>(),
        ids
    );
    doctor_clean(&reopened).await;
}

/// A server can open its command connections before the first command needs one: on
/// PostgreSQL as many as asked, up to the pool's size, and they serve commands afterwards;
/// SQLite has none to open.
pub async fn command_connections_open_ahead(db: &TestDb) {
    use softland_store::BackendKind;
    let f = fixture(db).await;
    let postgres = f.store.backend() == BackendKind::Postgres;
    let opened = f.store.open_command_connections(4).await.unwrap();
    assert_eq!(opened, if postgres { 4 } else { 0 });
    let opened = f.store.open_command_connections(1_000).await.unwrap();
    assert_eq!(
        opened,
        if postgres { 20 } else { 0 },
        "never above the pool's size"
    );
    let app = f.submit("soft-landing-sz-to-hk", "firm").await.application;
    f.act(app.id, "ofds_nomination", "ofds:chen", "nominate", None)
        .await
        .unwrap();
}

/// Publishing the bundled folder again (what every start does) never re-publishes content some
/// version already has, so an administrator's newer version stays the latest and a retirement
/// stays; retiring twice keeps the first time.
pub async fn the_folder_never_undoes_an_administrator(db: &TestDb) {
    let f = fixture(db).await;
    let dir = root().join("workflows");
    let source =
        std::fs::read_to_string(dir.join("internship-placement.yaml")).unwrap() + "\n# revised\n";
    let v2 = f
        .store
        .publish(&source, softland_store::SchemaFiles::beside(&dir), "admin")
        .await
        .unwrap();
    assert_eq!(v2.definition.version, 2);
    let again = f.store.publish_dir(&dir, "restart").await.unwrap();
    assert!(again.iter().all(|(_, p)| !p.changed), "{again:?}");
    let latest = f
        .store
        .definition("internship-placement", None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        latest.version, 2,
        "the administrator's version stays the latest"
    );

    let retired = f.store.retire("soft-landing-hk-to-sz", 1).await.unwrap();
    let at = retired.retired_at.expect("retired");
    f.advance(Duration::hours(1));
    let twice = f.store.retire("soft-landing-hk-to-sz", 1).await.unwrap();
    assert_eq!(
        twice.retired_at,
        Some(at),
        "retiring again keeps the first time"
    );
    f.store.publish_dir(&dir, "restart").await.unwrap();
    let still = f
        .store
        .definition("soft-landing-hk-to-sz", None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (still.version, still.retired_at),
        (1, Some(at)),
        "still retired"
    );
}

/// Two firms whose staff have the same name send the same idempotency key: each gets its own
/// application; neither ever sees the other's.
pub async fn idempotency_keys_belong_to_one_organization(db: &TestDb) {
    let f = fixture(db).await;
    let submit = |org: &str| Submit {
        position: None,
        workflow_key: "soft-landing-sz-to-hk".into(),
        organization: org.into(),
        actor: Actor::applicant("li"),
        data: example("soft-landing-sz-to-hk"),
        idempotency_key: Some("same-key".into()),
    };
    let a = f.store.submit(submit("firm-a")).await.unwrap();
    let b = f.store.submit(submit("firm-b")).await.unwrap();
    assert!(!b.replayed, "firm B's key is its own");
    assert_ne!(a.application.id, b.application.id);
    assert_eq!(b.application.organization, "firm-b");
    let again = f.store.submit(submit("firm-a")).await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.application.id, a.application.id);
    // Withdrawing another firm's application is refused as not found, key or no key.
    let err = f
        .store
        .withdraw(Withdraw {
            idempotency_key: Some("withdraw-key".into()),
            ..Withdraw::new(a.application.id, "firm-b", Actor::applicant("li"))
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
}

/// A command with more rows of a table than a statement binds cell by cell (a submission
/// opening ten reviews at once, each with its timer; a withdrawal closing nine) writes them as
/// JSON: every row lands, and doctor finds the chain intact.
pub async fn wide_commands_write_every_row(db: &TestDb) {
    let f = fixture(db).await;
    let branches: String = (0..10)
        .map(|i| {
            format!(
                "      b{i}:\n        start: review_{i}\n        states:\n          review_{i}:\n            type: task\n            title: {{en: Review {i}}}\n            assignee: hkstp\n            due: {{within: P5D}}\n            actions:\n              clear: {{to: done_{i}, title: {{en: Clear}}}}\n          done_{i}: {{type: done}}\n"
            )
        })
        .collect();
    let source = format!(
        "key: wide\ntitle: {{en: Ten reviews at once}}\nagencies: [hkstp]\nform: {{file: form.json}}\nstart: reviews\nstates:\n  reviews:\n    type: parallel\n    title: {{en: Reviews}}\n    join: all\n    next: approved\n    branches:\n{branches}  approved: {{type: final, outcome: approved, title: {{en: Approved}}}}\n"
    );
    let form = |_: &str| Ok(r#"{"type": "object"}"#.to_owned());
    f.store.publish(&source, form, "admin").await.unwrap();
    let sub = f
        .store
        .submit(Submit {
            position: None,
            workflow_key: "wide".into(),
            organization: "firm".into(),
            actor: Actor::applicant("firm-user"),
            data: serde_json::json!({}),
            idempotency_key: None,
        })
        .await
        .unwrap();
    let id = sub.application.id;
    assert_eq!(f.store.tasks_of(id, true).await.unwrap().len(), 10);
    f.act(id, "review_3", "hkstp:amy", "clear", None)
        .await
        .unwrap();
    assert_eq!(f.store.tasks_of(id, true).await.unwrap().len(), 9);
    let out = f
        .store
        .withdraw(Withdraw::new(id, "firm", Actor::applicant("firm-user")))
        .await
        .unwrap();
    assert_eq!(out.application.status, Status::Withdrawn);
    assert!(f.store.tasks_of(id, true).await.unwrap().is_empty());
    let closed = f.store.tasks_of(id, false).await.unwrap();
    assert_eq!(closed.len(), 10);
    f.advance(Duration::days(30));
    let run = f.store.run_due_timers("s", 100).await.unwrap();
    assert_eq!(run.fired, 0, "every timer was cancelled with its task");
    let history = f.store.history(id).await.unwrap();
    assert!(history.len() > 2 * 10, "{}", history.len());
    doctor_clean(&f.store).await;
}

/// Runs `sql` on the database behind the store's back, as someone holding its file would.
async fn tamper(db: &TestDb, sql: &str) {
    use sea_orm::{ConnectionTrait, Database};
    let raw = Database::connect(db.url.as_str()).await.unwrap();
    raw.execute_unprepared(sql).await.unwrap();
}

/// `doctor`'s report, asserting it found nothing.
async fn doctor_clean(store: &Store) -> softland_store::DoctorReport {
    let report = store.doctor().await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    report
}

/// Asserts that `doctor` reports a problem naming `needle`.
async fn doctor_finds(store: &Store, needle: &str) {
    let report = store.doctor().await.unwrap();
    assert!(
        report.problems.iter().any(|p| p.contains(needle)),
        "{needle}: {:?}",
        report.problems
    );
}

/// The host firm of the positions students applied for is found for a page of applications
/// at once; a firm hosts neither another firm's application nor its own.
pub async fn hosts_are_found_for_a_page_at_once(db: &TestDb) {
    let f = fixture(db).await;
    let students = [
        f.submitted("internship-placement", "student-a").await,
        f.submitted("internship-placement", "student-b").await,
    ];
    let firm = f.submitted("soft-landing-sz-to-hk", "firm-x").await;
    let mut page = vec![firm, Uuid::now_v7()];
    page.extend(students);
    let hosted = f
        .store
        .hosted_among(&page, "scenario-host-firm")
        .await
        .unwrap();
    assert_eq!(hosted, students.into_iter().collect());
    let none = f.store.hosted_among(&[firm], "firm-x").await.unwrap();
    assert!(none.is_empty(), "{none:?}");
    assert!(
        f.store
            .hosted_among(&[], "firm-x")
            .await
            .unwrap()
            .is_empty()
    );
}
