use crate::support::softland;

#[test]
fn demo_walks_an_application_to_approval() {
    let run = softland(&["demo"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let out = &run.stdout;
    assert!(out.contains("refused (FORBIDDEN): four-eyes rule"), "{out}");
    assert!(
        out.contains("now in: hong_kong_reviews, hkstp_review, investhk_setup_review"),
        "{out}"
    );
    assert!(out.contains("outcome: approved"), "{out}");
    assert!(
        out.contains("softland doctor: 1 application(s)") && out.contains("0 problem(s)"),
        "{out}"
    );
}
