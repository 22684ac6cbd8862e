//! The directory (issue 14): agencies, organizations and people; keys that act as a person,
//! expire and die with their person; workflows that name unknown agencies refused at publish;
//! keys made before the directory become people.

use chrono::Duration;
use softland_store::directory::{Membership, NewPerson, Role};
use softland_store::test_util::TestDb;
use softland_store::{Error, KeyRole};

use super::{fixture, root};

fn reviewer(id: &str, agency: &str, roles: Vec<Role>) -> NewPerson {
    NewPerson {
        id: id.into(),
        display_name: Some(format!("{id} (display)")),
        email: Some(format!("{id}@{agency}.example.org")),
        agency: Some(agency.into()),
        organization: None,
        roles,
        service: false,
        language: None,
    }
}

pub async fn the_directory_holds_agencies_and_people(db: &TestDb) {
    let f = fixture(db).await;
    // Publishing the folder seeded its agencies, names in three languages.
    let hkstp = f.store.agency("hkstp").await.unwrap().unwrap();
    assert_eq!(hkstp.name_zh_hant.as_deref(), Some("香港科技園公司"));
    assert_eq!(hkstp.region, "hk");
    assert_eq!(
        f.store.agency("ofds").await.unwrap().unwrap().region,
        "mainland"
    );

    // An agency counts the working days of its region, or of the calendar it names.
    use softland_workflow::{Assignee, Region};
    let region_of = |key: &str| f.store.calendars().region_of(&Assignee::Agency(key.into()));
    assert_eq!(region_of("ofds"), Region::Mainland);
    assert_eq!(region_of("host_firm"), Region::HongKong, "its calendar: hk");
    let mut qianhai = softland_store::directory::Agency {
        key: "qianhai".into(),
        name: "Qianhai Authority".into(),
        name_zh_hant: None,
        name_zh_hans: None,
        region: "mainland".into(),
        calendar: None,
        inbox_email: None,
        sign_in_issuer: None,
        language: None,
        digest: false,
    };
    f.store.put_agency(&qianhai).await.unwrap();
    assert_eq!(region_of("qianhai"), Region::Mainland);
    qianhai.calendar = Some("hk".into());
    f.store.put_agency(&qianhai).await.unwrap();
    assert_eq!(region_of("qianhai"), Region::HongKong);
    for bad in [
        softland_store::directory::Agency {
            calendar: Some("mars".into()),
            ..qianhai.clone()
        },
        softland_store::directory::Agency {
            name_zh_hans: Some("前".repeat(201)),
            ..qianhai.clone()
        },
    ] {
        let err = f.store.put_agency(&bad).await.unwrap_err();
        assert!(matches!(err, Error::InvalidDirectory(_)), "{err:?}");
    }
    // A restart reads every agency's calendar from the directory.
    let reopened = softland_store::Store::open(&db.url).await.unwrap();
    assert_eq!(
        reopened
            .calendars()
            .region_of(&Assignee::Agency("qianhai".into())),
        Region::HongKong
    );

    // People: membership and roles must fit, the agency must exist, e-mail addresses are unique.
    let lead = f
        .store
        .put_person(&reviewer("ivy", "hkstp", vec![Role::Lead, Role::Reviewer]))
        .await
        .unwrap();
    assert_eq!(lead.membership, Membership::Agency("hkstp".into()));
    assert_eq!(lead.roles, vec![Role::Lead, Role::Reviewer]);
    assert_eq!(lead.email.as_deref(), Some("ivy@hkstp.example.org"));
    for (bad, why) in [
        (
            reviewer("x1", "hkmaa", vec![Role::Reviewer]),
            "unknown agency",
        ),
        (
            reviewer("x2", "hkstp", vec![Role::Staff]),
            "staff of an agency",
        ),
        (
            NewPerson {
                agency: None,
                ..reviewer("x3", "hkstp", vec![Role::Reviewer])
            },
            "a reviewer of no agency",
        ),
        (
            reviewer("bad id", "hkstp", vec![Role::Reviewer]),
            "id with a space",
        ),
        (
            NewPerson {
                email: Some("IVY@hkstp.example.org".into()),
                ..reviewer("x4", "hkstp", vec![Role::Reviewer])
            },
            "another person's e-mail, in other case",
        ),
        (
            NewPerson {
                agency: None,
                organization: Some("firm".into()),
                ..reviewer("ivy", "hkstp", vec![Role::Staff])
            },
            "a new membership for an existing person",
        ),
    ] {
        let err = f.store.put_person(&bad).await.unwrap_err();
        assert!(matches!(err, Error::InvalidDirectory(_)), "{why}: {err:?}");
    }
    assert_eq!(
        f.store
            .person_by_email("Ivy@HKSTP.example.org")
            .await
            .unwrap()
            .map(|p| p.id),
        Some("ivy".into())
    );
    // An organization's staff: the organization is added when missing.
    let staff = f
        .store
        .put_person(&NewPerson {
            id: "li".into(),
            display_name: None,
            email: None,
            agency: None,
            organization: Some("qianhai-ledger".into()),
            roles: vec![Role::Staff],
            service: false,
            language: None,
        })
        .await
        .unwrap();
    assert_eq!(staff.display_name, "li");
    assert!(
        f.store
            .organizations()
            .await
            .unwrap()
            .iter()
            .any(|o| o.key == "qianhai-ledger")
    );
    let hkstp_people = f
        .store
        .people(Some(&Membership::Agency("hkstp".into())))
        .await
        .unwrap();
    assert_eq!(
        hkstp_people
            .iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>(),
        vec!["ivy"]
    );

    // Two reviewers called "amy" at two agencies are two people.
    let (a, _) = f
        .store
        .create_key(
            "amy",
            KeyRole::Reviewer {
                agency: "investhk".into(),
            },
        )
        .await
        .unwrap();
    let (b, _) = f
        .store
        .create_key(
            "amy",
            KeyRole::Reviewer {
                agency: "hkstp".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (a.person.id.as_str(), b.person.id.as_str()),
        ("amy", "amy@hkstp")
    );
    // A key for an agency the directory does not know is refused.
    let err = f
        .store
        .create_key(
            "x",
            KeyRole::Reviewer {
                agency: "hkmaa".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidDirectory(_)), "{err:?}");
}

pub async fn keys_expire_and_die_with_their_person(db: &TestDb) {
    let f = fixture(db).await;
    f.store
        .put_person(&reviewer("ivy", "hkstp", vec![Role::Reviewer]))
        .await
        .unwrap();
    let now = f.store.now();
    let (_, soon) = f
        .store
        .create_key_for("ivy", "laptop", Some(now + Duration::hours(1)))
        .await
        .unwrap();
    let (_, lasting) = f.store.create_key_for("ivy", "desk", None).await.unwrap();
    let found = f.store.authenticate(&soon).await.unwrap().unwrap();
    assert_eq!(found.person.id, "ivy");
    f.advance(Duration::hours(2));
    assert!(
        f.store.authenticate(&soon).await.unwrap().is_none(),
        "an expired key stops working (also when remembered)"
    );
    assert!(f.store.authenticate(&lasting).await.unwrap().is_some());
    assert!(f.store.deactivate_person("ivy").await.unwrap());
    assert!(!f.store.deactivate_person("ivy").await.unwrap(), "once");
    assert!(f.store.authenticate(&lasting).await.unwrap().is_none());
    assert!(
        f.store
            .keys_of("ivy")
            .await
            .unwrap()
            .iter()
            .all(|k| k.revoked_at.is_some()),
        "a deactivated person's keys are revoked"
    );
    let err = f
        .store
        .create_key_for("ivy", "new", None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidDirectory(_)), "{err:?}");
    let err = f
        .store
        .create_key_for("nobody", "new", None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
}

pub async fn workflows_naming_unknown_agencies_are_refused(db: &TestDb) {
    let f = fixture(db).await;
    let source = std::fs::read_to_string(root().join("workflows/soft-landing-sz-to-hk.yaml"))
        .unwrap()
        .replace(
            "agencies: [ofds, investhk, hkstp, hkma]",
            "agencies: [ofds, investhk, hkstp, hkmaa]",
        )
        .replace("oversight: [hkma, ofds]", "oversight: [hkmaa, ofds]")
        .replace("assignee: hkma\n", "assignee: hkmaa\n");
    let loader = softland_store::SchemaFiles::beside(&root().join("workflows"));
    let err = f.store.publish(&source, loader, "admin").await.unwrap_err();
    let Error::InvalidDefinition(d) = err else {
        panic!("{err:?}");
    };
    let d: Vec<_> = d.iter().collect();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].code.as_str(), "unknown-agency");
    assert!(d[0].message.contains("`hkmaa`"), "{}", d[0].message);
    let (n, line) = source
        .lines()
        .enumerate()
        .find(|(_, l)| l.starts_with("agencies:"))
        .unwrap();
    assert_eq!(
        (d[0].pos.line, d[0].pos.column),
        (n as u32 + 1, line.find("hkmaa").unwrap() as u32 + 1)
    );
}

/// Keys made before the directory (a label, a role, an agency or organization) become people
/// when the directory's migration runs; two labels alike at two agencies become two people.
pub async fn keys_made_before_the_directory_become_people(db: &TestDb) {
    use sea_orm::{ConnectionTrait, Database};
    use softland_migrations::{Migrator, MigratorTrait};
    let f = fixture(db).await;
    let conn = Database::connect(&db.url).await.unwrap();
    // Down to before the directory's migration: the later ones first.
    let all = Migrator::migrations();
    let directory = all
        .iter()
        .position(|m| m.name().ends_with("_directory"))
        .unwrap();
    Migrator::down(&conn, Some((all.len() - directory) as u32))
        .await
        .unwrap();
    let backend = conn.get_database_backend();
    for (i, (label, role, agency, org)) in [
        ("amy", "reviewer", Some("investhk"), None),
        ("amy", "reviewer", Some("hkstp"), None),
        ("amy", "reviewer", Some("investhk"), None),
        ("root", "admin", None, None),
        ("li", "applicant", None, Some("firm")),
    ]
    .into_iter()
    .enumerate()
    {
        conn.execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm::DbBackend::Postgres => {
                    "INSERT INTO api_keys (id, label, token_hash, role, agency, organization, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)"
                }
                _ => {
                    "INSERT INTO api_keys (id, label, token_hash, role, agency, organization, created_at) \
                     VALUES (?, ?, ?, ?, ?, ?, ?)"
                }
            },
            [
                uuid::Uuid::now_v7().into(),
                label.into(),
                format!("hash-{i}").into(),
                role.into(),
                agency.map(str::to_owned).into(),
                org.map(str::to_owned).into(),
                (f.store.now() + Duration::seconds(i as i64)).into(),
            ],
        ))
        .await
        .unwrap();
    }
    Migrator::up(&conn, None).await.unwrap();
    let keys = f.store.keys().await.unwrap();
    let people: Vec<(String, String, Vec<Role>)> = keys
        .iter()
        .map(|k| {
            (
                k.person.id.clone(),
                k.person.membership.label(),
                k.person.roles.clone(),
            )
        })
        .collect();
    assert_eq!(
        people,
        vec![
            ("amy".into(), "agency:investhk".into(), vec![Role::Reviewer]),
            (
                "amy@hkstp".into(),
                "agency:hkstp".into(),
                vec![Role::Reviewer]
            ),
            ("amy".into(), "agency:investhk".into(), vec![Role::Reviewer]),
            ("root".into(), "none".into(), vec![Role::Admin]),
            ("li".into(), "organization:firm".into(), vec![Role::Staff]),
        ]
    );
    assert_eq!(
        f.store
            .person("amy@hkstp")
            .await
            .unwrap()
            .unwrap()
            .display_name,
        "amy"
    );
}
