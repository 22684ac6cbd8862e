//! TLS to PostgreSQL: the local server is switched to TLS with a certificate authority this test
//! creates (openssl), for the name `localhost`. `sslmode=verify-full` with that CA and that
//! name connects; another CA, or another name for the same server, is refused with a clear
//! message. The settings are put back afterwards (other tests keep connecting without TLS).

use std::path::Path;
use std::process::Command;

use sea_orm::{ConnectionTrait, Database};
use softland_store::test_util::TestDb;

use crate::certs::{make_ca, server_cert};
use crate::support::{softland, temp_dir};

/// Runs SQL as the superuser, outside a transaction (ALTER SYSTEM needs that).
async fn admin(sql: &str) {
    let url =
        std::env::var("SOFTLAND_TEST_POSTGRES_URL").expect("CI sets SOFTLAND_TEST_POSTGRES_URL");
    let db = Database::connect(url.as_str()).await.unwrap();
    db.execute_unprepared(sql).await.unwrap();
    db.close().await.unwrap();
}

#[tokio::test]
#[ignore = "PostgreSQL: set SOFTLAND_TEST_POSTGRES_URL and pass --include-ignored (CI does); needs root to hand the key to the postgres user"]
async fn verify_full_needs_the_right_ca_and_host_name() {
    let db = TestDb::postgres().await;
    let work = temp_dir("pg-tls");
    make_ca(&work, "right");
    make_ca(&work, "wrong");
    // The server's certificate: for `localhost` only, signed by the right CA.
    server_cert(&work, "right", "server", "localhost", "DNS:localhost");
    // Where the postgres user can read them, the key its own and private.
    let keep =
        Path::new("/var/lib/postgresql").join(format!("softland-tls-{}", std::process::id()));
    std::fs::create_dir_all(&keep).unwrap();
    for f in ["server.pem", "server.key"] {
        std::fs::copy(work.join(f), keep.join(f)).unwrap();
    }
    let chown = Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(&keep)
        .status()
        .unwrap();
    assert!(chown.success(), "the test runs as root (CI does)");
    let chmod = Command::new("chmod")
        .arg("600")
        .arg(keep.join("server.key"))
        .status()
        .unwrap();
    assert!(chmod.success());
    admin(&format!(
        "ALTER SYSTEM SET ssl_cert_file = '{}'",
        keep.join("server.pem").display()
    ))
    .await;
    admin(&format!(
        "ALTER SYSTEM SET ssl_key_file = '{}'",
        keep.join("server.key").display()
    ))
    .await;
    admin("ALTER SYSTEM SET ssl = on").await;
    admin("SELECT pg_reload_conf()").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    let (base, name) = db.url.rsplit_once('/').unwrap();
    let port = base.rsplit(':').next().unwrap();
    let url = |host: &str, ca: &str| {
        format!(
            "postgres://postgres@{host}:{port}/{name}?sslmode=verify-full&sslrootcert={}",
            work.join(ca).display()
        )
    };
    let right = softland(&["migrate", "--db", &url("localhost", "right.pem")]);
    let wrong_ca = softland(&["migrate", "--db", &url("localhost", "wrong.pem")]);
    let wrong_host = softland(&["migrate", "--db", &url("127.0.0.1", "right.pem")]);
    let missing_ca = softland(&["migrate", "--db", &url("localhost", "no-such.pem")]);
    // The session really is encrypted.
    let psql = Command::new("psql")
        .arg(url("localhost", "right.pem").replace(
            "sslmode=verify-full&",
            "sslmode=verify-full&application_name=tls-check&",
        ))
        .args([
            "-tAc",
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        ])
        .output()
        .unwrap();

    admin("ALTER SYSTEM RESET ssl").await;
    admin("ALTER SYSTEM RESET ssl_cert_file").await;
    admin("ALTER SYSTEM RESET ssl_key_file").await;
    admin("SELECT pg_reload_conf()").await;
    let _ = std::fs::remove_dir_all(&keep);

    assert_eq!(right.code, 0, "{}{}", right.stdout, right.stderr);
    assert_eq!(
        String::from_utf8_lossy(&psql.stdout).trim(),
        "t",
        "{psql:?}"
    );
    for (what, run) in [
        ("another CA", &wrong_ca),
        ("another host name", &wrong_host),
        ("a missing CA file", &missing_ca),
    ] {
        assert_ne!(run.code, 0, "{what}: {}", run.stdout);
        assert!(
            run.stderr.contains("cannot connect") && !run.stderr.contains("panicked"),
            "{what}: {}",
            run.stderr
        );
        eprintln!("{what}: {}", run.stderr.lines().next().unwrap_or_default());
    }
    assert!(
        wrong_ca.stderr.to_lowercase().contains("certificate"),
        "says why: {}",
        wrong_ca.stderr
    );
}
