//! Documents over HTTP (issue 16): an upload is a GraphQL multipart request; its content is
//! recognised from its bytes (the client's claim and the file's name are not trusted), stored by
//! hash and downloaded by its uploader's organisation (and administrators) only — before it is
//! linked to an application, nobody else, not even a reviewer. Limits answer with codes; every
//! other request keeps the 1 MiB body limit.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::{Server, code, on_both_backends, root};

on_both_backends!(
    documents_in_a_folder,
    documents_are_linked_by_submissions_and_answers
);

/// Where a test server keeps documents, and how many objects it holds.
enum Kept {
    Folder(std::path::PathBuf),
    S3 { url: String, bucket: String },
}

impl Kept {
    async fn objects(&self) -> usize {
        match self {
            Kept::Folder(dir) => walk(dir).len(),
            Kept::S3 { url, bucket } => {
                let listing = reqwest::get(format!("{url}/{bucket}?list-type=2"))
                    .await
                    .expect("the bucket's listing")
                    .text()
                    .await
                    .unwrap();
                listing.matches("<Key>").count()
            }
        }
    }
}

async fn documents_in_a_folder(s: Server) {
    let dir = crate::support::documents_dir(&s.db.url);
    let kept = Kept::Folder(dir.clone());
    documents_upload_and_download_by_their_owners(&s, &kept).await;

    // `softland doctor` checks the stored bytes against their hashes.
    let doctor = || {
        crate::support::softland(&[
            "doctor",
            "--db",
            &s.db.url,
            "--documents",
            dir.to_str().unwrap(),
        ])
    };
    let clean = doctor();
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);
    assert!(
        clean.stdout.contains("checked 2 documents"),
        "{}",
        clean.stdout
    );
    let stored = walk(&dir);
    std::fs::write(&stored[0], b"%PDF-1.4 something else").unwrap();
    let tampered = doctor();
    assert_eq!(tampered.code, 1, "{}", tampered.stdout);
    assert!(
        tampered.stdout.contains("no longer matches its SHA-256"),
        "{}",
        tampered.stdout
    );
    std::fs::remove_file(&stored[0]).unwrap();
    let missing = doctor();
    assert!(
        missing
            .stdout
            .contains("is missing from the document store"),
        "{}",
        missing.stdout
    );
}

/// An S3-compatible server (`moto_server` from PyPI, which `.ci/run` installs) on loopback,
/// killed when dropped.
struct Moto {
    child: std::process::Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn moto() -> Moto {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = std::process::Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("moto_server starts (pip install 'moto[server]'; .ci/run does)");
    // Dropped (killed and waited for) whatever happens next.
    let moto = Moto {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..100 {
        if reqwest::get(format!("{}/moto-api/", moto.url))
            .await
            .is_ok()
        {
            return moto;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("moto_server did not start on {}", moto.url);
}

/// The same on an S3-compatible service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Python's moto (an S3 server): the full suite (scripts/with-services) installs it"]
async fn documents_in_an_s3_bucket() {
    let s3 = moto().await;
    let bucket = "softland-documents";
    let made = reqwest::Client::new()
        .put(format!("{}/{bucket}", s3.url))
        .send()
        .await
        .expect("the bucket is made");
    assert!(made.status().is_success(), "{}", made.status());
    let s = Server::start_with_env(
        softland_store::test_util::TestDb::sqlite(),
        "127.0.0.1:0",
        &[
            ("SOFTLAND_S3_BUCKET", bucket),
            ("SOFTLAND_S3_ENDPOINT", s3.url.as_str()),
            ("SOFTLAND_S3_ACCESS_KEY_ID", "test"),
            ("SOFTLAND_S3_SECRET_ACCESS_KEY", "test"),
        ],
    );
    let kept = Kept::S3 {
        url: s3.url.clone(),
        bucket: bucket.into(),
    };
    documents_upload_and_download_by_their_owners(&s, &kept).await;
    linking(
        &s,
        &[
            "--s3-bucket",
            bucket,
            "--s3-endpoint",
            &s3.url,
            "--s3-access-key-id",
            "test",
            "--s3-secret-access-key",
            "test",
        ],
    )
    .await;
}

const UPLOAD: &str =
    "mutation($f: Upload!) { uploadDocument(file: $f) { id filename mediaType size sha256 url } }";

pub(crate) fn pdf() -> Vec<u8> {
    std::fs::read(root().join("workflows/examples/business-plan.pdf")).expect("the sample PDF")
}

/// A GraphQL multipart request (the specification Apollo Upload and most clients follow).
pub(crate) async fn upload(
    s: &Server,
    token: &str,
    filename: &str,
    claimed: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let operations = json!({"query": UPLOAD, "variables": {"f": null}});
    let form = reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({"0": ["variables.f"]}).to_string())
        .part(
            "0",
            reqwest::multipart::Part::bytes(bytes)
                .file_name(filename.to_owned())
                .mime_str(claimed)
                .expect("a media type"),
        );
    let r = reqwest::Client::new()
        .post(format!("{}/graphql", s.url))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("the upload is answered");
    let status = r.status().as_u16();
    (status, r.json().await.expect("JSON"))
}

async fn download(s: &Server, token: Option<&str>, url: &str) -> reqwest::Response {
    let mut r = reqwest::Client::new().get(format!("{}{url}", s.url));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().await.expect("the download is answered")
}

async fn documents_upload_and_download_by_their_owners(s: &Server, kept: &Kept) {
    let firm = s.applicant_key("pengcheng-pay", "li.wei");
    let colleague = s.applicant_key("pengcheng-pay", "wang");
    let other = s.applicant_key("other-firm", "zhang");
    let ofds = s.reviewer_key("ofds", "chen");
    let bytes = pdf();

    // The name loses its path; the claimed type is ignored: the bytes are a PDF.
    let (status, r) = upload(
        s,
        &firm,
        "../../secret/plan.pdf",
        "text/html",
        bytes.clone(),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    let doc = &r["data"]["uploadDocument"];
    assert_eq!(doc["filename"], "plan.pdf", "{r}");
    assert_eq!(doc["mediaType"], "application/pdf");
    assert_eq!(doc["size"], bytes.len());
    assert_eq!(doc["sha256"], hex::encode(Sha256::digest(&bytes)));
    let url = doc["url"].as_str().expect("a url").to_owned();
    assert!(url.starts_with("/documents/"), "{url}");

    // The organisation's people and administrators read it; nobody else learns it exists.
    for token in [&firm, &colleague, &s.admin] {
        let r = download(s, Some(token), &url).await;
        assert_eq!(r.status(), 200);
        let h = r.headers().clone();
        assert_eq!(h["content-type"], "application/pdf");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(
            h["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("inline; filename*=UTF-8''plan.pdf"),
            "a PDF opens in the browser for reading"
        );
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.starts_with("default-src 'none'") && !csp.contains("script"),
            "{csp}"
        );
        assert_eq!(r.bytes().await.unwrap().as_ref(), bytes.as_slice());
    }
    for token in [&other, &ofds] {
        let r = download(s, Some(token), &url).await;
        assert_eq!(r.status(), 404, "another firm, an agency not involved");
        let body: Value = r.json().await.unwrap();
        assert_eq!(code(&body), "NOT_FOUND");
    }
    assert_eq!(download(s, None, &url).await.status(), 401);
    let missing = download(
        s,
        Some(&firm),
        "/documents/00000000-0000-0000-0000-000000000000",
    )
    .await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        download(s, Some(&firm), "/documents/../../Cargo.toml")
            .await
            .status(),
        404
    );

    // The same content again: stored once, recorded twice.
    let (_, again) = upload(s, &firm, "copy.pdf", "application/pdf", bytes.clone()).await;
    assert_eq!(again["data"]["uploadDocument"]["sha256"], doc["sha256"]);
    assert_ne!(again["data"]["uploadDocument"]["id"], doc["id"]);
    assert_eq!(kept.objects().await, 1, "one copy of the content");

    // HTML claiming to be a PDF, an empty file, a file without a name's help: refused by bytes.
    for (name, content) in [
        (
            "invoice.pdf",
            b"<html><script>alert(1)</script></html>".to_vec(),
        ),
        ("empty.pdf", Vec::new()),
        (
            "x.exe",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff".to_vec(),
        ),
    ] {
        let (_, r) = upload(s, &firm, name, "application/pdf", content).await;
        assert_eq!(code(&r), "BAD_USER_INPUT", "{name}: {r}");
    }
    // Without credentials nothing is stored.
    let (_, r) = upload(s, "sl_nobody", "plan.pdf", "application/pdf", bytes.clone()).await;
    assert_eq!(code(&r), "UNAUTHENTICATED", "{r}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A file over the configured limit is refused with a code; a JSON request over 1 MiB still is,
/// uploads do not widen it.
#[tokio::test]
async fn uploads_have_limits_and_other_requests_keep_theirs() {
    let s = Server::start_with_env(
        softland_store::test_util::TestDb::sqlite(),
        "127.0.0.1:0",
        &[
            ("SOFTLAND_MAX_UPLOAD_BYTES", "4096"),
            ("SOFTLAND_UPLOADS_PER_DAY", "2"),
            ("SOFTLAND_UPLOAD_BYTES_PER_DAY", "1500"),
        ],
    );
    let firm = s.applicant_key("pengcheng-pay", "li.wei");
    let mut big = pdf();
    big.resize(8192, b' ');
    let (_, r) = upload(&s, &firm, "big.pdf", "application/pdf", big).await;
    assert_eq!(code(&r), "PAYLOAD_TOO_LARGE", "{r}");
    let (_, r) = upload(&s, &firm, "plan.pdf", "application/pdf", pdf()).await;
    assert!(r["errors"].is_null(), "under the limit: {r}");
    let (_, r) = upload(&s, &firm, "plan-2.pdf", "application/pdf", pdf()).await;
    assert!(r["errors"].is_null(), "the second of the day: {r}");
    let (_, r) = upload(&s, &firm, "plan-3.pdf", "application/pdf", pdf()).await;
    assert_eq!(code(&r), "LIMIT_EXCEEDED", "the third of the day: {r}");
    // Another organisation has its own allowance — of files, and of bytes (1 500 a day here).
    let other = s.applicant_key("other-firm", "zhang");
    let (_, r) = upload(&s, &other, "plan.pdf", "application/pdf", pdf()).await;
    assert!(r["errors"].is_null(), "{r}");
    let mut thousand = pdf();
    thousand.resize(1000, b' ');
    let (_, r) = upload(&s, &other, "plan-2.pdf", "application/pdf", thousand).await;
    assert_eq!(code(&r), "LIMIT_EXCEEDED", "over the day's bytes: {r}");
    let huge = json!({"query": "{ me { name } }", "variables": {"pad": "x".repeat(2 << 20)}});
    let r = reqwest::Client::new()
        .post(format!("{}/graphql", s.url))
        .bearer_auth(&firm)
        .json(&huge)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
}

const SUBMIT: &str = "mutation($d: JSON!) { submitApplication(input: {workflowKey: \"soft-landing-sz-to-hk\", data: $d}) { id openTasks { id } } }";
const OPEN_TASKS: &str = "query($a: ID!) { application(id: $a) { openTasks { id } } }";
const DOCS: &str = "query($a: ID!) { application(id: $a) { documents { id sha256 filename } history { kind input note } } }";

/// A submission names its certificate of incorporation; an answer to InvestHK's question
/// carries the audited accounts. Each is linked (an event with the content's SHA-256), read by
/// the agencies the application involves and by nobody else, and belongs to that application
/// alone.
async fn documents_are_linked_by_submissions_and_answers(s: Server) {
    let dir = crate::support::documents_dir(&s.db.url);
    linking(&s, &["--documents", dir.to_str().unwrap()]).await;
}

/// The linking scenario on `s`; `storage` are `softland doctor`'s flags for its document store.
async fn linking(s: &Server, storage: &[&str]) {
    let firm = s.applicant_key("pengcheng-pay", "li.wei");
    let other = s.applicant_key("other-firm", "zhang");
    let ofds = s.reviewer_key("ofds", "chen");
    let investhk = s.reviewer_key("investhk", "amy");
    let hkma = s.reviewer_key("hkma", "dora");
    let upload_id = |r: &Value| {
        r["data"]["uploadDocument"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (_, r) = upload(s, &firm, "certificate.pdf", "application/pdf", pdf()).await;
    let certificate = upload_id(&r);
    let (_, r) = upload(s, &other, "theirs.pdf", "application/pdf", pdf()).await;
    let theirs = upload_id(&r);

    // Another firm's document, or a made-up id: refused at its field.
    let mut data = crate::support::example("soft-landing-sz-to-hk");
    for bad in [
        theirs.as_str(),
        "not-an-id",
        "00000000-0000-0000-0000-000000000000",
    ] {
        data["company"]["certificate_of_incorporation"] = json!(bad);
        let r = s.gql(Some(&firm), SUBMIT, json!({"d": data})).await;
        assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
        let v = &r["errors"][0]["extensions"]["violations"][0];
        assert_eq!(v["path"], "/company/certificate_of_incorporation", "{r}");
        assert_eq!(v["message"], "no such document of yours", "{r}");
    }
    data["company"]["certificate_of_incorporation"] = json!(certificate);
    let r = s.gql(Some(&firm), SUBMIT, json!({"d": data})).await;
    assert!(r["errors"].is_null(), "{r}");
    let app = r["data"]["submitApplication"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s.gql(Some(&firm), DOCS, json!({"a": app})).await;
    let docs = &r["data"]["application"]["documents"];
    assert_eq!(docs.as_array().unwrap().len(), 1, "{r}");
    assert_eq!(docs[0]["id"], certificate.as_str());
    let linked: Vec<&Value> = r["data"]["application"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "document_linked")
        .collect();
    assert_eq!(linked.len(), 1, "one link event: {r}");

    // OFDS has the task: it reads the certificate; the HKMA (not involved yet) and another firm
    // do not.
    let url = format!("/documents/{certificate}");
    assert_eq!(download(s, Some(&ofds), &url).await.status(), 200);
    assert_eq!(download(s, Some(&hkma), &url).await.status(), 404);
    assert_eq!(download(s, Some(&other), &url).await.status(), 404);

    // A document already linked belongs to its application alone.
    let r = s.gql(Some(&firm), SUBMIT, json!({"d": data})).await;
    assert_eq!(
        r["errors"][0]["extensions"]["violations"][0]["message"],
        "this document belongs to another application",
        "{r}"
    );

    // OFDS nominates; InvestHK asks; the firm answers with the audited accounts.
    let task = |r: &Value| {
        r["data"]["act"]["openTasks"][0]["id"]
            .as_str()
            .map(str::to_owned)
    };
    const ACT: &str = "mutation($t: ID!, $a: String!, $i: JSON) { act(input: {taskId: $t, action: $a, data: $i}) { openTasks { id assignee } } }";
    let first = {
        let r = s.gql(Some(&firm), OPEN_TASKS, json!({"a": app})).await;
        r["data"]["application"]["openTasks"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let r = s
        .gql(Some(&ofds), ACT, json!({"t": first, "a": "nominate"}))
        .await;
    let screening = task(&r).expect("eligibility screening");
    let r = s
        .gql(Some(&investhk), ACT, json!({"t": screening, "a": "request_info", "i": {"question": "Your audited accounts, please."}}))
        .await;
    let answer_task = task(&r).expect("the firm's answer");
    let mut accounts = pdf();
    accounts.extend_from_slice(b"\n% the audited accounts\n");
    let (_, r) = upload(s, &firm, "accounts-2025.pdf", "application/pdf", accounts).await;
    let accounts = upload_id(&r);
    let r = s
        .gql(Some(&firm), ACT, json!({"t": answer_task, "a": "answer", "i": {"answer": "Attached.", "documents": [accounts]}}))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let r = s.gql(Some(&investhk), DOCS, json!({"a": app})).await;
    let names: Vec<&str> = r["data"]["application"]["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["filename"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["certificate.pdf", "accounts-2025.pdf"], "{r}");
    assert_eq!(
        download(s, Some(&investhk), &format!("/documents/{accounts}"))
            .await
            .status(),
        200
    );

    // A data-protection request: an administrator erases the certificate's content. Its record
    // stays (hash, name), the erasure is in the history, the download is gone, the chain holds.
    const ERASE: &str =
        "mutation($d: ID!, $r: String!) { eraseDocument(id: $d, reason: $r) { sha256 erasedAt } }";
    let refused = s
        .gql(
            Some(&firm),
            ERASE,
            json!({"d": certificate, "r": "PDPO request"}),
        )
        .await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    let r = s
        .gql(
            Some(&s.admin),
            ERASE,
            json!({"d": certificate, "r": "PDPO data access and correction request"}),
        )
        .await;
    assert!(r["data"]["eraseDocument"]["erasedAt"].is_string(), "{r}");
    let r = download(s, Some(&ofds), &url).await;
    assert_eq!(r.status(), 410);
    let r = s.gql(Some(&s.admin), DOCS, json!({"a": app})).await;
    let certificate_record = r["data"]["application"]["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == certificate.as_str())
        .cloned()
        .expect("the erased document's record stays");
    assert_eq!(certificate_record["filename"], "certificate.pdf");
    let history = r["data"]["application"]["history"].to_string();
    assert!(
        history.contains("note_added"),
        "the erasure is recorded: {history}"
    );
    let mine = s.gql(Some(&firm), DOCS, json!({"a": app})).await;
    assert!(mine["errors"].is_null(), "{mine}");

    // The record still verifies with the links in it.
    let mut args = vec!["doctor", "--db", &s.db.url];
    args.extend_from_slice(storage);
    let doctor = crate::support::softland(&args);
    assert_eq!(doctor.code, 0, "{}{}", doctor.stdout, doctor.stderr);
}

/// `kill -9` while an upload is arriving: after the restart the acknowledged document is whole
/// and readable, and the interrupted one left nothing — no record, no content.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_during_an_upload_leaves_nothing_half_written() {
    use tokio::io::AsyncWriteExt;
    let mut s = Server::start(softland_store::test_util::TestDb::sqlite());
    let firm = s.applicant_key("pengcheng-pay", "li.wei");
    let (_, r) = upload(&s, &firm, "plan.pdf", "application/pdf", pdf()).await;
    let kept = r["data"]["uploadDocument"]["url"]
        .as_str()
        .unwrap()
        .to_owned();

    // A multipart request of 8 MiB, of which only the first half arrives before the crash.
    let boundary = "softland-crash-test";
    let operations = json!({"query": UPLOAD, "variables": {"f": null}}).to_string();
    let mut file = pdf();
    file.resize(8 << 20, b' ');
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{operations}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{{\"0\": [\"variables.f\"]}}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"0\"; filename=\"big.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let addr = s.url.trim_start_matches("http://").to_owned();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {firm}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(&body[..body.len() / 2]).await.unwrap();
    conn.flush().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    s.crash_and_restart();
    drop(conn);

    // The acknowledged document is whole; nothing of the interrupted one exists.
    let r = download(&s, Some(&firm), &kept).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), pdf().as_slice());
    let store = softland_store::Store::open(&s.db.url).await.unwrap();
    let records = store.kept_documents(None, 100).await.unwrap();
    assert_eq!(records.len(), 1, "only the acknowledged upload is recorded");
    let stored = walk(&crate::support::documents_dir(&s.db.url));
    assert_eq!(stored.len(), 1, "only its content is stored: {stored:?}");
    let doctor = crate::support::softland(&[
        "doctor",
        "--db",
        &s.db.url,
        "--documents",
        crate::support::documents_dir(&s.db.url).to_str().unwrap(),
    ]);
    assert_eq!(doctor.code, 0, "{}{}", doctor.stdout, doctor.stderr);
}
