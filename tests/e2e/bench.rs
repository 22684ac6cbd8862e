use crate::support::softland;

#[test]
fn bench_runs_lifecycles_and_reports_json() {
    let run = softland(&["bench", "--lifecycles", "20", "--clients", "4", "--json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON report");
    assert_eq!(report["lifecycles"], 20);
    assert_eq!(
        report["errors"],
        serde_json::json!({}),
        "no errors: {report}"
    );
    assert!(
        report["commands_per_second"]
            .as_f64()
            .is_some_and(|v| v > 0.0)
    );
    let ops: Vec<&str> = report["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["operation"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["act", "submit"]);
    // 20 lifecycles: 2 with an information request (9 actions), 2 rejected by HKSTP (nominate,
    // eligible, reject: 3), 16 plain (7).
    let acts = report["operations"][0]["count"].as_u64().unwrap();
    assert_eq!(acts, 2 * 9 + 2 * 3 + 16 * 7);
    assert!(
        report["server_peak_rss_mib"]
            .as_f64()
            .is_some_and(|m| m > 1.0 && m < 500.0)
    );
}
