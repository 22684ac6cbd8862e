//! One configuration in layers: defaults, a TOML file, secret files, `SOFTLAND_*` variables,
//! flags — each overriding the one before; `softland config check` shows the effective
//! settings and where each came from, secrets masked, and fails on anything invalid.

use std::process::Command;

use softland_store::test_util::TestDb;

use crate::support::{Server, root, temp_dir};

fn check(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_softland"))
        .args(["config", "check"])
        .args(args)
        .envs(env.iter().copied())
        .env_remove("SOFTLAND_DB")
        .env_remove("SOFTLAND_LISTEN")
        .current_dir(root())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn line<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find(|l| l.split_whitespace().next() == Some(key))
        .unwrap_or_else(|| panic!("no {key} in {out}"))
}

#[test]
fn layers_override_in_order_and_secrets_are_masked() {
    let dir = temp_dir("config");
    let file = dir.join("softland.toml");
    std::fs::write(
        &file,
        r#"
db = "postgres://softland:db-password-1@db.internal:5432/softland?sslmode=verify-full"
listen = "127.0.0.1:9001"
scheduler_seconds = 3
uploads-per-day = 100

[smtp]
url = "smtps://mailer:smtp-password-2@mail.example:465"
[mail]
from = "softland <softland@agency.example>"
[webhook]
allow = ["10.20.0.0/16"]
"#,
    )
    .unwrap();
    let secret = dir.join("oidc-secret");
    std::fs::write(&secret, "client-secret-3\n").unwrap();
    let f = file.display().to_string();
    let (code, out, err) = check(
        &["--config", &f, "--listen", "127.0.0.1:9003"],
        &[
            ("SOFTLAND_LISTEN", "127.0.0.1:9002"),
            ("SOFTLAND_UPLOADS_PER_DAY", "200"),
            ("SOFTLAND_OIDC_ISSUER", "https://login.example"),
            ("SOFTLAND_OIDC_AUDIENCE", "softland"),
            ("SOFTLAND_OIDC_CLIENT_SECRET_FILE", secret.to_str().unwrap()),
            ("SOFTLAND_PUBLIC_URL", "https://softland.example"),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with(&format!("# configuration file: {f}")),
        "{out}"
    );
    assert!(
        line(&out, "listen").contains("127.0.0.1:9003") && line(&out, "listen").ends_with("(flag)")
    );
    assert!(
        line(&out, "uploads-per-day").contains("200")
            && line(&out, "uploads-per-day").ends_with("(environment)")
    );
    assert!(
        line(&out, "scheduler-seconds").contains(" 3 ")
            && line(&out, "scheduler-seconds").ends_with("(file)")
    );
    assert!(line(&out, "webhook-allow").contains("10.20.0.0/16"));
    assert!(line(&out, "max-upload-bytes").ends_with("(default)"));
    assert!(line(&out, "oidc-client-secret").ends_with("(secret file)"));
    assert!(
        line(&out, "db").contains("softland:***@db.internal"),
        "{out}"
    );
    for secret in ["db-password-1", "smtp-password-2", "client-secret-3"] {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "{secret} printed: {out}"
        );
    }
    assert!(out.trim_end().ends_with("# valid"), "{out}");
}

#[test]
fn invalid_settings_fail_with_the_reason() {
    let dir = temp_dir("config-bad");
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    // Parsed but invalid: exit 1 and why.
    for (text, why) in [
        ("db = \"mysql://x\"\n", "neither sqlite"),
        (
            "smtp-url = \"smtp://m:25\"\n",
            "--smtp-url needs --mail-from",
        ),
        ("public-url = \"ftp://x\"\n", "public-url"),
        (
            "oidc-audience = \"softland\"\n",
            "oidc-audience needs oidc-issuer",
        ),
        ("[otlp]\nendpoint = \"udp://collector\"\n", "otlp-endpoint"),
        (
            "otlp-endpoint = \"http://collector:4318\"\notlp-sample-ratio = 1.5\n",
            "between 0 and 1",
        ),
    ] {
        let f = write("invalid.toml", text);
        let (code, out, err) = check(&["--config", &f], &[]);
        assert_eq!(code, 1, "{text}: {out}{err}");
        assert!(
            out.contains("# invalid") && out.contains(why),
            "{text}: {out}"
        );
    }
    // Not even parsed: exit 2 and why.
    for (text, why) in [
        ("dbb = \"x\"\n", "no command has the setting(s) dbb"),
        ("listen = \"nope\"\n", "invalid value 'nope' for '--listen"),
        ("listen = [1\n", "not valid TOML"),
    ] {
        let f = write("broken.toml", text);
        let (code, out, err) = check(&["--config", &f], &[]);
        assert_eq!(code, 2, "{text}: {out}{err}");
        assert!(err.contains(why), "{text}: {err}");
    }
    let (code, _, err) = check(&["--config", "/nonexistent/softland.toml"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read the configuration file"), "{err}");
}

/// `serve` reads the file named by `SOFTLAND_CONFIG`: its public URL makes the console's
/// cookies `Secure`.
#[tokio::test]
async fn serve_takes_its_settings_from_the_file() {
    let dir = temp_dir("config-serve");
    let file = dir.join("softland.toml");
    std::fs::write(&file, "public-url = \"https://softland.example\"\n").unwrap();
    let s = Server::start_with_env(
        TestDb::sqlite(),
        "127.0.0.1:0",
        &[("SOFTLAND_CONFIG", file.to_str().unwrap())],
    );
    let form = reqwest::get(format!("{}/signin", s.url)).await.unwrap();
    let cookie = form.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("Secure"), "{cookie}");
}

/// The example in docs/deploy.md names only settings that exist.
#[test]
fn the_documented_example_names_real_settings() {
    let doc = std::fs::read_to_string(root().join("docs/deploy.md")).unwrap();
    let block = doc
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a toml block in docs/deploy.md");
    // Its secret files are the operator's; the rest is checked as written.
    let text: String = block
        .lines()
        .filter(|l| !l.contains("-file"))
        .map(|l| format!("{l}\n"))
        .collect();
    let dir = temp_dir("config-doc");
    let f = dir.join("softland.toml");
    std::fs::write(&f, text).unwrap();
    let (code, out, err) = check(&["--config", f.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{out}{err}");
}
