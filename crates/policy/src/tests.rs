//! The policy as a table: every role, in every relation to one application, asked every
//! question the API, the console, subscriptions and the fan-out ask. A rule changed here
//! changes one cell, and the table says which.

use chrono::Utc;
use serde_json::json;
use softland_store::directory::{Membership, Role};
use softland_store::documents::DocumentRecord;
use softland_store::test_util::TestDb;
use softland_store::{ApplicationFilter, EventRecord, Store, Submit, TaskGate};
use softland_workflow::{Actor, Assignee, EventName};

use crate::{OpenTask, Principal, Refusal};

/// A workflow whose submission opens one task for `hkstp`.
const WORKFLOW: &str = r#"
key: table
title: The policy's table
agencies: [hkstp, investhk, hkma]
oversight: [hkma]
form: {type: object}
start: review
states:
  review:
    type: task
    assignee: hkstp
    actions: {done: {to: end}}
  end: {type: final, outcome: approved}
"#;

/// The callers, in the table's column order.
fn callers() -> [(&'static str, Principal); 8] {
    let reviewer = |name: &str, agency: &str, lead| Principal::Reviewer {
        name: name.into(),
        agency: agency.into(),
        lead,
    };
    let staff = |name: &str, organization: &str, lead| Principal::Applicant {
        name: name.into(),
        organization: organization.into(),
        lead,
    };
    [
        (
            "admin",
            Principal::Admin {
                name: "root".into(),
            },
        ),
        (
            "lead of the involved agency",
            reviewer("hana", "hkstp", true),
        ),
        (
            "reviewer of the involved agency",
            reviewer("ivy", "hkstp", false),
        ),
        (
            "reviewer of another agency",
            reviewer("amy", "investhk", false),
        ),
        (
            "observer of the overseeing agency",
            Principal::Observer {
                name: "olive".into(),
                agency: "hkma".into(),
            },
        ),
        ("lead of the applicant firm", staff("li", "firm-a", true)),
        ("staff of the applicant firm", staff("wu", "firm-a", false)),
        ("staff of another firm", staff("zoe", "firm-b", false)),
    ]
}

/// One entry of history: `kind` by `party`, with `payload` fields added.
fn entry(app: uuid::Uuid, kind: EventName, party: &str, extra: serde_json::Value) -> EventRecord {
    let mut payload = json!({"kind": kind.as_str(), "party": party});
    if let (Some(p), Some(x)) = (payload.as_object_mut(), extra.as_object()) {
        p.extend(x.clone());
    }
    EventRecord {
        application_id: app,
        seq: 2,
        kind,
        actor: Some("someone".into()),
        state: Some("review".into()),
        action: None,
        comment: None,
        payload,
        at: Utc::now(),
        hash: String::new(),
    }
}

fn document(owner: &str, application_id: Option<uuid::Uuid>) -> DocumentRecord {
    DocumentRecord {
        id: uuid::Uuid::now_v7(),
        sha256: "0".repeat(64),
        filename: "plan.pdf".into(),
        media_type: "application/pdf".into(),
        size: 1,
        owner: owner.into(),
        uploaded_by: "li".into(),
        uploaded_at: Utc::now(),
        application_id,
        erased_at: None,
    }
}

/// An open task of `firm-a`'s application for `assignee`, held by `holder`, nobody barred.
fn open<'a>(assignee: &'a Assignee, holder: Option<&'a str>) -> OpenTask<'a> {
    OpenTask {
        assignee,
        organization: "firm-a",
        holder,
        barred: false,
        holder_barred: false,
    }
}

async fn answers(store: &Store, who: &Principal, app: uuid::Uuid) -> Vec<(&'static str, bool)> {
    let hkstp = Assignee::Agency("hkstp".into());
    let record = store.application(app).await.unwrap().unwrap();
    let note = entry(
        app,
        EventName::NoteAdded,
        "hkstp",
        json!({"note": "internal"}),
    );
    let by_reviewer = entry(app, EventName::TaskCompleted, "hkstp", json!({}));
    let by_firm = entry(app, EventName::TaskCompleted, "applicant", json!({}));
    let mut list = ApplicationFilter::default();
    let own_list = who.scope_applications(&mut list);
    let mut other = ApplicationFilter {
        organization: Some("firm-b".into()),
        ..Default::default()
    };
    let other_list = who.scope_applications(&mut other) && other.organization.is_some();
    vec![
        (
            "sees the application",
            who.can_see(store, &record).await.unwrap(),
        ),
        (
            "sees it in a batch (a page's)",
            who.visible_among(store, vec![record.clone()])
                .await
                .unwrap()
                .contains(&record),
        ),
        ("sees an internal note", who.entry(note).is_some()),
        (
            "sees which reviewer acted",
            who.entry(by_reviewer).unwrap().actor.is_some(),
        ),
        (
            "sees which of the firm's people acted",
            who.entry(by_firm).unwrap().actor.is_some(),
        ),
        ("sees who holds a claim", who.sees_reviewers()),
        (
            "lists applications (narrowed to what it sees)",
            own_list
                && (list.agency.is_some()
                    || list.organization.is_some()
                    || list.overseen_by.is_some()
                    || who.is_admin()),
        ),
        (
            "lists another firm's applications",
            other_list && !matches!(who, Principal::Reviewer { .. }),
        ),
        (
            "works the agency's task",
            who.may_work(&Assignee::Agency("hkstp".into()), "firm-a"),
        ),
        (
            "works the firm's task",
            who.may_work(&Assignee::Applicant, "firm-a"),
        ),
        (
            "has the agency's task in its inbox",
            who.inbox_holds(&Assignee::Agency("hkstp".into()), "firm-a"),
        ),
        (
            "has the firm's task in its inbox",
            who.inbox_holds(&Assignee::Applicant, "firm-a"),
        ),
        ("acts on tasks", who.actor().is_ok()),
        ("submits and withdraws", who.organization().is_ok()),
        ("releases and hands on claims", who.claimant().is_ok()),
        (
            "releases colleagues' claims",
            who.claimant()
                .is_ok_and(|c| c.rights != softland_store::ClaimRights::Own),
        ),
        ("publishes workflows", who.require_admin().is_ok()),
        (
            "moves applications to another version",
            who.migrator().is_ok(),
        ),
        (
            "manages the agency's people",
            who.manages(&Membership::Agency("hkstp".into())),
        ),
        (
            "manages the firm's people",
            who.manages(&Membership::Organization("firm-a".into())),
        ),
        (
            "makes an administrator",
            who.may_put_person(&Membership::None, &[Role::Admin])
                .is_ok(),
        ),
        (
            "reads the application's documents",
            who.sees_document(store, &document("organization:firm-a", Some(app)))
                .await
                .unwrap(),
        ),
        (
            "reads the firm's unlinked upload",
            who.sees_document(store, &document("organization:firm-a", None))
                .await
                .unwrap(),
        ),
        (
            "acts on the agency's unclaimed task",
            who.task_moves(&open(&hkstp, None)).act,
        ),
        (
            "claims the agency's unclaimed task",
            who.task_moves(&open(&hkstp, None)).claim,
        ),
        (
            "releases a colleague's claim",
            who.task_moves(&open(&hkstp, Some("kai"))).release,
        ),
        (
            "hands on a colleague's claim",
            who.task_moves(&open(&hkstp, Some("kai"))).hand_over,
        ),
        (
            "acts on the firm's task",
            who.task_moves(&open(&Assignee::Applicant, None)).act,
        ),
        (
            "withdraws the application",
            who.may_withdraw("firm-a", true),
        ),
        (
            "withdraws a decided application",
            who.may_withdraw("firm-a", false),
        ),
        ("writes an internal note", who.may_note()),
        ("uploads a document", who.may_upload().is_ok()),
        (
            "manages the agency's webhook endpoints",
            who.manages_endpoint("agency:hkstp"),
        ),
        ("sends an e-mail again", who.may_redeliver(None)),
        ("reads the programme's reports", who.report_scope().is_ok()),
        (
            "lists everyone in the directory",
            who.people_scope(None).is_none(),
        ),
    ]
}

#[rustfmt::skip]
const TABLE: [(&str, [u8; 8]); 36] = [
    //                                                  admin  lead  rev  other-agency  observer  firm-lead  staff  other-firm
    ("sees the application",                            [1,     1,    1,   0,            1,        1,         1,     0]),
    ("sees it in a batch (a page's)",                   [1,     1,    1,   0,            1,        1,         1,     0]),
    ("sees an internal note",                           [1,     1,    1,   1,            0,        0,         0,     0]),
    ("sees which reviewer acted",                       [1,     1,    1,   1,            0,        0,         0,     0]),
    ("sees which of the firm's people acted",           [1,     1,    1,   1,            1,        1,         1,     1]),
    ("sees who holds a claim",                          [1,     1,    1,   1,            0,        0,         0,     0]),
    ("lists applications (narrowed to what it sees)",   [1,     1,    1,   1,            1,        1,         1,     1]),
    ("lists another firm's applications",               [1,     0,    0,   0,            1,        0,         0,     1]),
    ("works the agency's task",                         [0,     1,    1,   0,            0,        0,         0,     0]),
    ("works the firm's task",                           [0,     0,    0,   0,            0,        1,         1,     0]),
    ("has the agency's task in its inbox",              [0,     1,    1,   0,            0,        0,         0,     0]),
    ("has the firm's task in its inbox",                [0,     0,    0,   0,            0,        1,         1,     0]),
    ("acts on tasks",                                   [0,     1,    1,   1,            0,        1,         1,     1]),
    ("submits and withdraws",                           [0,     0,    0,   0,            0,        1,         1,     1]),
    ("releases and hands on claims",                    [1,     1,    1,   1,            0,        0,         0,     0]),
    ("releases colleagues' claims",                     [1,     1,    0,   0,            0,        0,         0,     0]),
    ("publishes workflows",                             [1,     0,    0,   0,            0,        0,         0,     0]),
    ("moves applications to another version",           [1,     0,    0,   0,            0,        0,         0,     0]),
    ("manages the agency's people",                     [1,     1,    0,   0,            0,        0,         0,     0]),
    ("manages the firm's people",                       [1,     0,    0,   0,            0,        1,         0,     0]),
    ("makes an administrator",                          [1,     0,    0,   0,            0,        0,         0,     0]),
    ("reads the application's documents",               [1,     1,    1,   0,            1,        1,         1,     0]),
    ("reads the firm's unlinked upload",                [1,     0,    0,   0,            0,        1,         1,     0]),
    ("acts on the agency's unclaimed task",             [0,     1,    1,   0,            0,        0,         0,     0]),
    ("claims the agency's unclaimed task",              [0,     1,    1,   0,            0,        0,         0,     0]),
    ("releases a colleague's claim",                    [1,     1,    0,   0,            0,        0,         0,     0]),
    ("hands on a colleague's claim",                    [1,     1,    0,   0,            0,        0,         0,     0]),
    ("acts on the firm's task",                         [0,     0,    0,   0,            0,        1,         1,     0]),
    ("withdraws the application",                       [0,     0,    0,   0,            0,        1,         1,     0]),
    ("withdraws a decided application",                 [0,     0,    0,   0,            0,        0,         0,     0]),
    ("writes an internal note",                         [0,     1,    1,   1,            0,        0,         0,     0]),
    ("uploads a document",                              [1,     1,    1,   1,            0,        1,         1,     1]),
    ("manages the agency's webhook endpoints",          [1,     1,    0,   0,            0,        0,         0,     0]),
    ("sends an e-mail again",                           [1,     0,    0,   0,            0,        0,         0,     0]),
    ("reads the programme's reports",                   [1,     0,    0,   0,            1,        0,         0,     0]),
    ("lists everyone in the directory",                 [1,     0,    0,   0,            0,        0,         0,     0]),
];

/// A store holding one application of `firm-a`, waiting on `hkstp`.
async fn one_application() -> (TestDb, Store, uuid::Uuid) {
    let db = TestDb::sqlite();
    let store = db.open().await;
    for key in ["hkstp", "investhk", "hkma"] {
        let agency = serde_json::from_value(json!({"key": key, "name": key, "region": "hk"}));
        store.put_agency(&agency.unwrap()).await.unwrap();
    }
    store
        .publish(WORKFLOW, |_: &str| Err("no files".to_owned()), "root")
        .await
        .unwrap();
    let app = store
        .submit(Submit {
            position: None,
            workflow_key: "table".into(),
            organization: "firm-a".into(),
            actor: Actor::applicant("li"),
            data: json!({}),
            idempotency_key: None,
        })
        .await
        .unwrap()
        .application
        .id;
    (db, store, app)
}

#[tokio::test]
async fn every_role_in_every_relation() {
    let (_db, store, app) = one_application().await;
    let mut wrong = Vec::new();
    for (column, (role, who)) in callers().into_iter().enumerate() {
        let got = answers(&store, &who, app).await;
        assert_eq!(got.len(), TABLE.len(), "every question has a row");
        for ((question, answer), (row, expected)) in got.iter().zip(TABLE.iter()) {
            assert_eq!(question, row, "the table's rows follow the questions");
            if *answer != (expected[column] == 1) {
                wrong.push(format!(
                    "{role} / {question}: {answer}, the table says {}",
                    expected[column]
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the policy differs from its table:\n{}",
        wrong.join("\n")
    );
}

/// What a refusal tells: another agency's task is `Hidden` from those who cannot see its
/// application, `Forbidden` to those who can.
#[tokio::test]
async fn a_task_not_yours_is_hidden_unless_its_application_is_seen() {
    let (_db, store, app) = one_application().await;
    let hkstp = Assignee::Agency("hkstp".into());
    let [
        _,
        _,
        _,
        (_, other_agency),
        (_, observer),
        _,
        (_, staff),
        (_, other_firm),
    ] = callers();
    assert!(matches!(
        other_agency.not_yours(&store, app, &hkstp).await,
        Refusal::Hidden("task")
    ));
    assert!(matches!(
        other_firm.not_yours(&store, app, &hkstp).await,
        Refusal::Hidden("task")
    ));
    assert!(matches!(
        staff.not_yours(&store, app, &hkstp).await,
        Refusal::Forbidden(_)
    ));
    // An observer reads the application: acting on its task is forbidden, not hidden.
    assert!(matches!(
        observer.not_yours(&store, app, &hkstp).await,
        Refusal::Forbidden(_)
    ));
}

/// A webhook endpoint sees as its owner, never as a lead.
#[test]
fn an_endpoint_is_its_owner() {
    let owner = |m: &str| {
        Principal::of_endpoint(&softland_store::notifications::Endpoint {
            id: uuid::Uuid::now_v7(),
            owner: m.into(),
            url: "https://example.org/hook".into(),
            event_types: Vec::new(),
            description: None,
            secret: String::new(),
            previous_secret: None,
            previous_secret_until: None,
            created_by: "root".into(),
            created_at: Utc::now(),
            disabled_at: None,
            disabled_reason: None,
        })
    };
    assert!(
        matches!(owner("agency:hkstp"), Principal::Reviewer { agency, lead: false, .. } if agency == "hkstp")
    );
    assert!(
        matches!(owner("organization:firm-a"), Principal::Applicant { organization, lead: false, .. } if organization == "firm-a")
    );
    assert!(owner("none").is_admin());
}
