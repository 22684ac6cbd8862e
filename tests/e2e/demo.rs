use crate::support::{softland_in, temp_dir};

/// The demo runs from any folder (the binary carries the bundled workflows), shows the
/// four-eyes rule of the joint decision, and leaves no temporary folder behind.
#[test]
fn demo_walks_an_application_to_approval() {
    let elsewhere = temp_dir("demo-elsewhere");
    let run = softland_in(&elsewhere, &["demo"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let out = &run.stdout;
    assert!(out.contains("refused (FORBIDDEN): four-eyes rule"), "{out}");
    assert!(
        out.contains("now in: hong_kong_reviews, hkstp_review, investhk_setup_review"),
        "{out}"
    );
    assert!(out.contains("outcome: approved"), "{out}");
    assert!(
        out.contains("OFDS (chen) tries to approve")
            && out.matches("refused (FORBIDDEN): four-eyes rule").count() == 2,
        "the nominator may not decide: {out}"
    );
    let db = out
        .lines()
        .find_map(|l| l.split_once("temporary database (")?.1.strip_suffix(')'))
        .expect("the demo names its database");
    let folder = std::path::Path::new(db).parent().unwrap();
    assert!(!folder.exists(), "{} is left behind", folder.display());
    assert!(
        out.contains("softland doctor: 1 application(s)") && out.contains("0 problem(s)"),
        "{out}"
    );
}
