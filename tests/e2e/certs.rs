//! Test certificate authorities and server certificates, made with `openssl` (the HTTPS and
//! PostgreSQL TLS tests).

use std::process::Command;

/// Runs `openssl ARGS` in `dir` (making test CAs and certificates); panics with its stderr.
pub fn openssl(args: &[&str], dir: &std::path::Path) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A test certificate authority in `dir`: `NAME.pem` and `NAME.key` (P-256, two days).
pub fn make_ca(dir: &std::path::Path, name: &str) {
    let subject = format!("/CN=softland test CA {name}");
    let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &subject,
            "-keyout",
            &key,
            "-out",
            &pem,
        ],
        dir,
    );
}

/// A server certificate `NAME.pem` / `NAME.key` in `dir` for the names `san`
/// (`DNS:localhost,IP:127.0.0.1`), common name `cn`, signed by the CA `ca` of [`make_ca`].
pub fn server_cert(dir: &std::path::Path, ca: &str, name: &str, cn: &str, san: &str) {
    let ext = format!("{name}.ext");
    std::fs::write(
        dir.join(&ext),
        format!("subjectAltName={san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"),
    )
    .expect("the extensions file");
    let (key, csr, pem) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.pem"),
    );
    let subject = format!("/CN={cn}");
    openssl(
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            &subject,
            "-keyout",
            &key,
            "-out",
            &csr,
        ],
        dir,
    );
    let (ca_pem, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_pem,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &pem,
        ],
        dir,
    );
}
