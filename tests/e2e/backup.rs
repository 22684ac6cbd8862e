//! `softland backup` under load and `softland restore` into an empty database: every command
//! acknowledged before the backup began is in the restored database, the documents come along,
//! and `softland doctor` finds nothing wrong.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use softland_store::test_util::TestDb;

use crate::documents::upload;
use crate::support::{Server, on_both_backends, softland, temp_dir};

on_both_backends!(a_backup_taken_under_load_restores_every_acknowledged_command);

async fn a_backup_taken_under_load_restores_every_acknowledged_command(s: Server) {
    let firm = s.applicant_key("acme", "li.wei");
    let pdf =
        std::fs::read(crate::support::root().join("workflows/examples/business-plan.pdf")).unwrap();
    let (status, doc) = upload(&s, &firm, "plan.pdf", "application/pdf", pdf).await;
    assert_eq!(status, 200, "{doc}");

    // Firms keep submitting while the backup is taken.
    let acknowledged: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for _ in 0..4 {
        let (url, firm, acked, stop) = (
            s.url.clone(),
            firm.clone(),
            acknowledged.clone(),
            stop.clone(),
        );
        load.push(tokio::spawn(async move {
            const SUBMIT: &str = "mutation($k: String!, $d: JSON!) { submitApplication(input: {workflowKey: $k, data: $d}) { id } }";
            let data = crate::support::example("soft-landing-sz-to-hk");
            while !stop.load(Ordering::SeqCst) {
                let r = crate::support::gql_at(&url, Some(&firm), SUBMIT, json!({"k": "soft-landing-sz-to-hk", "d": data})).await;
                if let Some(id) = r["data"]["submitApplication"]["id"].as_str() {
                    acked.lock().unwrap().push((Instant::now(), id.to_owned()));
                }
            }
        }));
    }
    while acknowledged.lock().unwrap().len() < 20 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let kind = if s.db.url.starts_with("sqlite") {
        "sqlite"
    } else {
        "postgres"
    };
    let dir = temp_dir(&format!("backup-{kind}")).join("backup");
    let began = Instant::now();
    let db_url = s.db.url.clone();
    let docs = crate::support::documents_dir(&s.db.url);
    let dir_arg = dir.display().to_string();
    let backup = tokio::task::spawn_blocking(move || {
        softland(&[
            "backup",
            "--db",
            &db_url,
            "--to",
            &dir_arg,
            "--documents",
            &docs.display().to_string(),
        ])
    })
    .await
    .unwrap();
    stop.store(true, Ordering::SeqCst);
    for l in load {
        l.await.unwrap();
    }
    assert_eq!(backup.code, 0, "{}{}", backup.stdout, backup.stderr);
    assert!(backup.stdout.contains("backed up"), "{}", backup.stdout);
    let before: Vec<String> = acknowledged
        .lock()
        .unwrap()
        .iter()
        .filter(|(at, _)| *at < began)
        .map(|(_, id)| id.clone())
        .collect();
    let total = acknowledged.lock().unwrap().len();
    assert!(
        total > before.len(),
        "the load went on during the backup ({total} acknowledged)"
    );

    // Owner-only, every folder and file (issue 29), and nothing half-written left beside it.
    fn modes(path: &std::path::Path, out: &mut Vec<(String, u32)>) {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).unwrap();
        out.push((
            path.display().to_string(),
            meta.permissions().mode() & 0o777,
        ));
        if meta.is_dir() {
            for e in std::fs::read_dir(path).unwrap() {
                modes(&e.unwrap().path(), out);
            }
        }
    }
    let mut seen = Vec::new();
    modes(&dir, &mut seen);
    for (path, mode) in &seen {
        let dir_or_file = std::path::Path::new(path).is_dir();
        assert_eq!(*mode, if dir_or_file { 0o700 } else { 0o600 }, "{path}");
    }
    let beside: Vec<_> = std::fs::read_dir(dir.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".partial-"))
        .collect();
    assert!(beside.is_empty(), "{beside:?}");

    // A backup goes only into a new folder.
    let again = softland(&[
        "backup",
        "--db",
        &s.db.url,
        "--to",
        &dir.display().to_string(),
    ]);
    assert_ne!(again.code, 0);
    assert!(again.stderr.contains("not empty"), "{}", again.stderr);

    // Into an empty database of the same kind, with a fresh document folder.
    let target = if s.db.url.starts_with("sqlite") {
        TestDb::sqlite()
    } else {
        TestDb::postgres().await
    };
    let restored_docs = temp_dir(&format!("restored-docs-{kind}"));
    let restore_into = |db: &str| {
        softland(&[
            "restore",
            "--from",
            &dir.display().to_string(),
            "--db",
            db,
            "--documents",
            &restored_docs.display().to_string(),
        ])
    };
    let restore = restore_into(&target.url);
    assert_eq!(restore.code, 0, "{}{}", restore.stdout, restore.stderr);
    assert!(
        restore.stdout.contains("doctor: 0 problem(s)"),
        "{}",
        restore.stdout
    );
    // Not over an existing database.
    let twice = restore_into(&target.url);
    assert_ne!(twice.code, 0, "{}", twice.stdout);

    let store = softland_store::Store::open(&target.url).await.unwrap();
    for id in &before {
        let app = store.application(id.parse().unwrap()).await.unwrap();
        assert!(
            app.is_some(),
            "acknowledged before the backup began, so in it: {id}"
        );
    }
    store.close().await.unwrap();
    let doctor = softland(&[
        "doctor",
        "--db",
        &target.url,
        "--documents",
        &restored_docs.display().to_string(),
    ]);
    assert_eq!(doctor.code, 0, "{}", doctor.stdout);
    assert!(
        doctor.stdout.contains("checked 1 documents"),
        "{}",
        doctor.stdout
    );
    eprintln!(
        "{} acknowledged before the backup began, {total} in all; restored: {}",
        before.len(),
        restore.stdout.trim()
    );
}

/// The container's health check: `softland healthcheck` asks `/readyz`; no shell or curl.
#[tokio::test]
async fn the_health_check_says_whether_the_server_is_ready() {
    let mut s = Server::start(TestDb::sqlite());
    let url = format!("{}/readyz", s.url);
    let ready = tokio::task::spawn_blocking({
        let url = url.clone();
        move || softland(&["healthcheck", "--url", &url])
    })
    .await
    .unwrap();
    assert_eq!(ready.code, 0, "{}{}", ready.stdout, ready.stderr);
    assert_eq!(ready.stdout.trim(), "ready");
    assert!(s.stop());
    let gone = tokio::task::spawn_blocking(move || softland(&["healthcheck", "--url", &url]))
        .await
        .unwrap();
    assert_eq!(gone.code, 1);
    assert_eq!(gone.stdout.trim(), "not ready: cannot connect");
}
