//! The content store's tests, on a temporary folder.

use super::*;

const PDF: &[u8] = include_bytes!("../../../workflows/examples/business-plan.pdf");

fn folder(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("softland-documents-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a folder");
    dir
}

fn file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("a file");
    p
}

#[tokio::test]
async fn content_is_stored_by_its_hash_once_and_reads_back() {
    let dir = folder("roundtrip");
    let storage = Storage::open(&StorageConfig::Folder(dir.join("store"))).expect("a store");
    let upload = file(&dir, "plan.pdf", PDF);
    let stored = storage.put_file(&upload, 1 << 20).await.expect("stored");
    assert_eq!(stored.media_type, "application/pdf");
    assert_eq!(stored.size, PDF.len() as u64);
    assert_eq!(stored.sha256, hex::encode(Sha256::digest(PDF)));
    assert!(!stored.deduplicated);
    assert!(
        dir.join("store/sha256")
            .join(&stored.sha256[..2])
            .join(&stored.sha256)
            .is_file()
    );
    let again = storage.put_file(&upload, 1 << 20).await.expect("stored");
    assert!(again.deduplicated, "the same content is stored once");
    let mut bytes = Vec::new();
    let mut chunks = storage.get(&stored.sha256).await.unwrap().expect("content");
    while let Some(chunk) = chunks.next().await {
        bytes.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(bytes, PDF);
    assert_eq!(storage.verify(&stored.sha256).await.unwrap(), Some(true));
    assert!(storage.get(&"0".repeat(64)).await.unwrap().is_none());
    assert!(storage.get("../../etc/passwd").await.unwrap().is_none());
}

#[tokio::test]
async fn limits_and_forged_types_are_refused() {
    let dir = folder("limits");
    let storage = Storage::open(&StorageConfig::Folder(dir.join("store"))).expect("a store");
    let big = file(&dir, "big.pdf", PDF);
    assert!(matches!(
        storage.put_file(&big, 100).await,
        Err(Error::TooLarge { limit: 100 })
    ));
    let empty = file(&dir, "empty.pdf", b"");
    assert!(matches!(
        storage.put_file(&empty, 100).await,
        Err(Error::Empty)
    ));
    // HTML named `.pdf`: its bytes say what it is.
    let html = file(
        &dir,
        "invoice.pdf",
        b"<html><script>alert(1)</script></html>",
    );
    assert!(matches!(
        storage.put_file(&html, 1 << 20).await,
        Err(Error::MediaType { .. })
    ));
    let zip = file(
        &dir,
        "a.zip",
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00rest-of-a-zip-file",
    );
    assert!(matches!(
        storage.put_file(&zip, 1 << 20).await,
        Err(Error::MediaType { .. })
    ));
    assert!(
        !dir.join("store/sha256").exists(),
        "nothing refused was stored"
    );
}

#[test]
fn filenames_lose_paths_and_control_characters() {
    for (given, cleaned) in [
        ("plan.pdf", "plan.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\li\\plan.pdf", "plan.pdf"),
        ("a\u{0}b\r\nc.pdf", "abc.pdf"),
        ("", "document"),
        ("..", "document"),
        ("/", "document"),
        (".hidden.pdf", "hidden.pdf"),
        ("公司註冊證書.pdf", "公司註冊證書.pdf"),
        ("report\u{202E}fdp.exe", "reportfdp.exe"),
        ("a\u{200B}b\u{2067}c\u{FEFF}.pdf", "abc.pdf"),
    ] {
        assert_eq!(clean_filename(given), cleaned, "{given:?}");
    }
    assert_eq!(clean_filename(&"x".repeat(500)).chars().count(), 200);
}

#[test]
fn downloads_are_named_for_what_their_content_is() {
    let pdf = "application/pdf";
    for (given, media, saved) in [
        ("plan.pdf", pdf, "plan.pdf"),
        ("PLAN.PDF", pdf, "PLAN.PDF"),
        ("plan.html", pdf, "plan.html.pdf"),
        ("statement.svg", pdf, "statement.svg.pdf"),
        ("invoice.hta", pdf, "invoice.hta.pdf"),
        ("report\u{202E}fdp.exe", pdf, "reportfdp.exe.pdf"),
        ("photo.jpeg", "image/jpeg", "photo.jpeg"),
        ("photo", "image/jpeg", "photo.jpg"),
        (
            "sheet.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "sheet.xlsx",
        ),
    ] {
        assert_eq!(download_name(given, media), saved, "{given:?}");
    }
}
