use serde_json::Value;

use crate::support::softland;

/// `field` of every object in the array `list`, as text.
fn each<'a>(list: &'a Value, field: &str) -> Vec<&'a str> {
    let items = list.as_array().expect("an array");
    items.iter().map(|o| o[field].as_str().unwrap()).collect()
}

#[test]
fn bench_runs_lifecycles_and_reports_json() {
    let run = softland(&[
        "bench",
        "--lifecycles",
        "20",
        "--clients",
        "4",
        "--raw-seconds",
        "1",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON report");
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
    assert_eq!(each(&report["operations"], "operation"), ["act", "submit"]);
    // 20 lifecycles: 2 with an information request (9 actions), 2 rejected by HKSTP (nominate,
    // eligible, reject: 3), 16 plain (7).
    let acts = report["operations"][0]["count"].as_u64().unwrap();
    assert_eq!(acts, 2 * 9 + 2 * 3 + 16 * 7);
    assert!(
        report["server_peak_rss_mib"]
            .as_f64()
            .is_some_and(|m| m > 1.0 && m < 500.0)
    );
    // the raw SQLite rate of the same rows, measured in the same run, and the ratio to it
    let raw = &report["raw"];
    let tps = raw["transactions_per_second"].as_f64().expect("raw rate");
    assert!(tps > 0.0, "{raw}");
    let ratio = raw["ratio"].as_f64().unwrap();
    let expected = report["commands_per_second"].as_f64().unwrap() / tps;
    assert!((ratio - expected).abs() < 1e-9, "{raw}");
}

#[test]
fn growth_loads_in_bulk_and_times_the_queries() {
    let run = softland(&[
        "growth",
        "--sizes",
        "300,900",
        "--samples",
        "20",
        "--batch",
        "250",
        "--rounds",
        "2",
        "--json",
    ]);
    // Exit 1 means a query degraded: a timing, not a failure of the tool (no timed assertions).
    assert!(
        run.code == 0 || run.code == 1,
        "{}{}",
        run.stdout,
        run.stderr
    );
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON report");
    let sizes = report["sizes"].as_array().unwrap();
    assert_eq!(
        sizes
            .iter()
            .map(|s| s["applications"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [300, 900]
    );
    for s in sizes {
        let queries = each(&s["queries"], "query");
        // Every inbox filter and order, every list filter, the lookup, and the console's pages.
        assert_eq!(queries.len(), 20, "{queries:?}");
        for q in [
            "agency inbox, two pages",
            "inbox by opened date",
            "inbox, overdue only",
            "inbox, claimed by me",
            "firm's applications",
            "applications with an outcome",
            "submitted in one day",
            "organization name search",
            "application by id",
            "console: inbox page",
            "console: application page",
        ] {
            assert!(queries.contains(&q), "{q} not timed: {queries:?}");
        }
        assert!(
            s["queries"]
                .as_array()
                .unwrap()
                .iter()
                .all(|q| q["p50_ms"].as_f64().unwrap() > 0.0)
        );
    }
    // Each figure is the median of two rounds; each round's p95 is there too.
    assert_eq!(report["rounds"], 2);
    for q in sizes.iter().flat_map(|s| s["queries"].as_array().unwrap()) {
        let rounds: Vec<f64> = q["rounds_p95_ms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_f64().unwrap())
            .collect();
        assert_eq!(rounds.len(), 2, "{q}");
        let median = (rounds[0] + rounds[1]) / 2.0;
        assert!((q["p95_ms"].as_f64().unwrap() - median).abs() < 1e-9, "{q}");
    }
    let verdicts = report["verdicts"].as_array().unwrap();
    assert_eq!(verdicts.len(), 20, "one verdict per query");
    assert_eq!(
        run.code == 0,
        verdicts.iter().all(|v| v["flat"] == true),
        "the exit code follows the verdicts"
    );
}

#[test]
fn growth_refuses_sizes_out_of_order() {
    let run = softland(&["growth", "--sizes", "1000,10"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("--sizes must be ascending"),
        "{}",
        run.stderr
    );
}
