//! What rests on disk and what leaves as a file: the upload allowance, download names,
//! sealed webhook secrets, owner-only files.

use std::time::{Duration, Instant};

use serde_json::json;
use softland_store::test_util::TestDb;

use crate::support::{Server, code};

/// `--uploads-per-day 3` and twenty uploads at once: exactly three are accepted.
async fn the_upload_allowance_holds_under_concurrency(db: TestDb) {
    let s = Server::start_with_env(db, "127.0.0.1:0", &[("SOFTLAND_UPLOADS_PER_DAY", "3")]);
    let firm = s.applicant_key("pengcheng-pay", "li.wei");
    let pdf = crate::documents::pdf();
    let all = futures_util::future::join_all((0..20).map(|i| {
        let (s, firm, pdf) = (&s, &firm, pdf.clone());
        async move {
            crate::documents::upload(s, firm, &format!("plan-{i}.pdf"), "application/pdf", pdf)
                .await
        }
    }))
    .await;
    let accepted = all.iter().filter(|(_, r)| r["errors"].is_null()).count();
    assert_eq!(accepted, 3, "{all:?}");
    assert!(
        all.iter()
            .filter(|(_, r)| !r["errors"].is_null())
            .all(|(_, r)| code(r) == "LIMIT_EXCEEDED"),
        "{all:?}"
    );
}

crate::support::on_both_databases!(the_upload_allowance_holds_under_concurrency);

/// A PDF uploaded as `plan.html` (or with a right-to-left override in its name) is saved by
/// the browser under a name ending `.pdf`; PDFs and images open in the browser for reading.
#[tokio::test]
async fn downloads_are_saved_under_their_contents_extension() {
    let s = Server::start(TestDb::sqlite());
    let firm = s.applicant_key("pengcheng-pay", "li.wei");
    let mut pdf = crate::documents::pdf();
    pdf.extend_from_slice(b"<html><script>alert(1)</script></html>");
    for (name, saved) in [
        ("plan.html", "plan.html.pdf"),
        ("statement.svg", "statement.svg.pdf"),
        ("invoice.hta", "invoice.hta.pdf"),
        ("report\u{202E}fdp.exe", "reportfdp.exe.pdf"),
    ] {
        let (_, r) = crate::documents::upload(&s, &firm, name, "text/html", pdf.clone()).await;
        let url = r["data"]["uploadDocument"]["url"]
            .as_str()
            .expect("uploaded")
            .to_owned();
        let got = reqwest::Client::new()
            .get(format!("{}{url}", s.url))
            .bearer_auth(&firm)
            .send()
            .await
            .unwrap();
        assert_eq!(got.headers()["content-type"], "application/pdf");
        let disposition = got.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        let encoded: String = saved
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        assert_eq!(
            disposition,
            format!("inline; filename*=UTF-8''{encoded}"),
            "{name:?}: a PDF is read in the browser, under its content's extension"
        );
    }
    // A PNG opens in the browser too, in a sandbox where nothing runs.
    let png: Vec<u8> = [
        &b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89"[..],
        &b"\0\0\0\rIDATx\x9cc\xf8\x0f\0\0\x01\x01\0\x05\x18\xd8N\0\0\0\0IEND\xaeB`\x82"[..],
    ]
    .concat();
    let (_, r) = crate::documents::upload(&s, &firm, "logo.png", "image/png", png).await;
    let url = r["data"]["uploadDocument"]["url"]
        .as_str()
        .unwrap_or_else(|| panic!("uploaded: {r}"))
        .to_owned();
    let got = reqwest::Client::new()
        .get(format!("{}{url}", s.url))
        .bearer_auth(&firm)
        .send()
        .await
        .unwrap();
    assert_eq!(got.headers()["content-type"], "image/png");
    assert!(
        got.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline; "),
        "{:?}",
        got.headers()
    );
    let csp = got.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.ends_with("sandbox") && !csp.contains("script"), "{csp}");
}

/// The file of a server's SQLite database.
fn sqlite_file(s: &Server) -> String {
    let url = s.db.url.trim_start_matches("sqlite://");
    url.split('?').next().unwrap_or(url).to_owned()
}

/// The live SQLite database is its owner's only.
#[tokio::test]
async fn the_sqlite_file_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let s = Server::start(TestDb::sqlite());
    let path = sqlite_file(&s);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{path}");
}

/// Webhook signing secrets are sealed at rest: neither the live database nor its backup holds
/// one in clear; the key a zero-configuration server made is beside the database,
/// owner-only, and not in the backup.
#[tokio::test]
async fn webhook_secrets_are_sealed_at_rest_and_in_backups() {
    use std::os::unix::fs::PermissionsExt;
    let s = Server::start_with_env(
        TestDb::sqlite(),
        "127.0.0.1:0",
        &[("SOFTLAND_WEBHOOK_ALLOW", "127.0.0.0/8")],
    );
    let r = s
        .gql(
            Some(&s.admin),
            "mutation($i: WebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret } }",
            json!({"i": {"url": "http://127.0.0.1:9/hook"}}),
        )
        .await;
    let secret = r["data"]["createWebhookEndpoint"]["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_owned();
    let db = sqlite_file(&s);
    let holds = |path: &str| {
        std::fs::read(path).is_ok_and(|b| b.windows(secret.len()).any(|w| w == secret.as_bytes()))
    };
    for f in [db.clone(), format!("{db}-wal")] {
        assert!(!holds(&f), "{f} holds the secret in clear");
    }
    let key = format!("{db}.secrets-key");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let to = crate::support::temp_dir("sealed-backup").join("backup");
    let run = crate::support::softland(&[
        "backup",
        "--db",
        &s.db.url,
        "--to",
        &to.display().to_string(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!holds(&to.join("softland.db").display().to_string()));
    assert!(!to.join("softland.db.secrets-key").exists());
    // the endpoint still shows its (sealed-at-rest) settings through the API
    let r = s
        .query(Some(&s.admin), "{ webhookEndpoints { url } }")
        .await;
    assert_eq!(
        r["data"]["webhookEndpoints"][0]["url"], "http://127.0.0.1:9/hook",
        "{r}"
    );
}

/// The processes whose parent is `pid`.
fn children(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat")).is_ok_and(|stat| {
                // pid (comm) state ppid …: the comm may hold spaces, so read after the last ')'
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok())
                    == Some(pid)
            })
        })
        .collect()
}

/// `softland backup` killed with `kill -9` while `pg_dump` runs: `pg_dump` ends with it, and
/// `--to` is never created half-written.
#[tokio::test]
#[ignore = "PostgreSQL: set SOFTLAND_TEST_POSTGRES_URL and pass --include-ignored (CI does)"]
async fn a_killed_backup_leaves_no_pg_dump_and_no_half_written_folder() {
    let s = Server::start(TestDb::postgres().await);
    let firm = s.applicant_key("pengcheng-pay", "li.wei");
    for _ in 0..20 {
        s.submit_sample(&firm).await;
    }
    // pg_dump waits on a table the backup's counts never read (held locked meanwhile): it is
    // still running when its parent is killed, whatever the machine's speed.
    let mut locker = std::process::Command::new("psql")
        .args([
            s.db.url.as_str(),
            "-c",
            "BEGIN; LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60);",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("psql (PostgreSQL's client) runs");
    std::thread::sleep(Duration::from_millis(500));
    let base = crate::support::temp_dir("killed-backup");
    for attempt in 0..20 {
        let to = base.join(format!("backup-{attempt}"));
        let mut backup = std::process::Command::new(env!("CARGO_BIN_EXE_softland"))
            .args([
                "backup",
                "--db",
                &s.db.url,
                "--to",
                &to.display().to_string(),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut child = None;
        while Instant::now() < deadline && backup.try_wait().unwrap().is_none() {
            if let Some(c) = children(backup.id()).first() {
                child = Some(*c);
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        let Some(dump) = child else {
            let _ = backup.wait();
            continue; // finished before pg_dump was seen: try again
        };
        // Let pg_dump import the snapshot and wait on the locked table (killed any earlier,
        // it would fail on the snapshot its dead parent held, and end by itself).
        std::thread::sleep(Duration::from_secs(1));
        backup.kill().unwrap(); // SIGKILL
        backup.wait().unwrap();
        let gone = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(20));
            !std::path::Path::new(&format!("/proc/{dump}")).exists()
                || std::fs::read_to_string(format!("/proc/{dump}/stat")).is_ok_and(|st| {
                    st.rsplit_once(')')
                        .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
                })
        });
        let _ = locker.kill();
        let _ = locker.wait();
        assert!(gone, "pg_dump ({dump}) outlived the backup");
        assert!(!to.exists(), "no half-written {}", to.display());
        return;
    }
    let _ = locker.kill();
    panic!("pg_dump was never seen running in 20 backups");
}
