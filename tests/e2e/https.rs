//! HTTPS: `serve` terminates TLS with certificate files (made here with openssl) and picks up
//! new ones without a restart; cookies are `Secure` whenever the browser sees HTTPS — over
//! softland's own TLS, or behind a proxy it trusts, never on a forwarded header from anyone else.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use softland_store::test_util::TestDb;

use crate::certs::{make_ca, server_cert};
use crate::support::{Server, temp_dir};

fn client(dir: &Path) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(dir.join("ca.pem")).unwrap()).unwrap();
    reqwest::Client::builder()
        .add_root_certificate(ca)
        .tls_info(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn served_cert(r: &reqwest::Response) -> Vec<u8> {
    r.extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|i| i.peer_certificate())
        .expect("a TLS connection")
        .to_vec()
}

fn der_of(pem_file: &Path) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(["x509", "-outform", "DER", "-in"])
        .arg(pem_file)
        .output()
        .unwrap();
    out.stdout
}

#[tokio::test]
async fn https_with_certificates_reloaded_from_their_files() {
    let dir = temp_dir("https");
    make_ca(&dir, "ca");
    server_cert(
        &dir,
        "ca",
        "first",
        "softland first",
        "IP:127.0.0.1,DNS:localhost",
    );
    let (cert, key) = (dir.join("tls.pem"), dir.join("tls.key"));
    std::fs::copy(dir.join("first.pem"), &cert).unwrap();
    std::fs::copy(dir.join("first.key"), &key).unwrap();
    let s = Server::start_with_env(
        TestDb::sqlite(),
        "127.0.0.1:0",
        &[
            ("SOFTLAND_TLS_CERT", cert.to_str().unwrap()),
            ("SOFTLAND_TLS_KEY", key.to_str().unwrap()),
            ("SOFTLAND_TLS_RELOAD_SECONDS", "1"),
        ],
    );
    assert!(s.url.starts_with("https://127.0.0.1:"), "{}", s.url);
    let http = client(&dir);
    let ready = http.get(format!("{}/readyz", s.url)).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(served_cert(&ready), der_of(&dir.join("first.pem")));
    // The browser sees HTTPS: the console's cookies are Secure (no --public-url needed).
    let form = http.get(format!("{}/signin", s.url)).send().await.unwrap();
    let cookie = form.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("Secure"), "{cookie}");
    // Plain HTTP on that port is not served.
    let plain = reqwest::get(s.url.replace("https://", "http://") + "/readyz").await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());

    // A renewed certificate: written over the old files, picked up without a restart.
    server_cert(
        &dir,
        "ca",
        "second",
        "softland second",
        "IP:127.0.0.1,DNS:localhost",
    );
    std::fs::copy(dir.join("second.key"), dir.join("tls.key.new")).unwrap();
    std::fs::copy(dir.join("second.pem"), dir.join("tls.pem.new")).unwrap();
    std::fs::rename(dir.join("tls.key.new"), &key).unwrap();
    std::fs::rename(dir.join("tls.pem.new"), &cert).unwrap();
    let want = der_of(&dir.join("second.pem"));
    let start = Instant::now();
    loop {
        // A new client: a new connection, a new handshake.
        let r = client(&dir)
            .get(format!("{}/readyz", s.url))
            .send()
            .await
            .unwrap();
        if served_cert(&r) == want {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the renewed certificate is served"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn forwarded_https_is_believed_only_from_trusted_proxies() {
    let trusted = Server::start_with_env(
        TestDb::sqlite(),
        "127.0.0.1:0",
        &[("SOFTLAND_TRUSTED_PROXIES", "127.0.0.1/32")],
    );
    let untrusted = Server::start(TestDb::sqlite());
    let cookie = |url: String, proto: Option<&'static str>| async move {
        let mut req = reqwest::Client::new().get(format!("{url}/signin"));
        if let Some(p) = proto {
            req = req.header("x-forwarded-proto", p);
        }
        let r = req.send().await.unwrap();
        r.headers()["set-cookie"].to_str().unwrap().to_owned()
    };
    assert!(
        cookie(trusted.url.clone(), Some("https"))
            .await
            .contains("Secure")
    );
    assert!(
        !cookie(trusted.url.clone(), Some("http"))
            .await
            .contains("Secure")
    );
    assert!(!cookie(trusted.url.clone(), None).await.contains("Secure"));
    assert!(
        !cookie(untrusted.url.clone(), Some("https"))
            .await
            .contains("Secure"),
        "anyone can send the header: believed only from the proxies configured"
    );
}
