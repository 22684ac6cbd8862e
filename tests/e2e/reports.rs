//! The programme's report over GraphQL (issue 33): an observer of the HKMA reads the figures
//! of the programmes the HKMA oversees for a period — volumes, times, service levels, queues —
//! and a reviewer reads none. On both databases. (Every figure is checked against a
//! hand-computed fixture in the store's `reports::tests`; here, that the API says them.)

use serde_json::json;

use crate::support::{Server, code, on_both_backends};

const REPORT: &str = r#"query($input: ReportInput!) { report(input: $input) {
  from to by madeAt auditHead
  volumes { total byResult { result count share } }
  byMonth { group counts { total } }
  byRegion { group counts { total } }
  leadTimes { result calendarDays { n median } businessDays { n median } waitingOnFirmDays { n } }
  steps { workflowKey state title agency calendarDays { n median p90 max } businessDays { n median } withDue onTime onTimeShare reassigned }
  agencies { agency title businessDays { n } }
  bottlenecks { state }
  overdue { reference } overdueTotal
  queues { assignee open under5Days from5To10Days over10Days claimed unclaimed }
  informationRequests { state requests }
} }"#;

on_both_backends!(an_observer_reads_the_programme_report);

async fn an_observer_reads_the_programme_report(s: Server) {
    let put = "mutation($o: OrganizationInput!) { putOrganization(input: $o) { key } }";
    let org = json!({"o": {"key": "szfin", "name": "Shenzhen Fin Ltd", "region": "mainland"}});
    let r = s.gql(Some(&s.admin), put, org).await;
    assert!(r["errors"].is_null(), "{r}");
    let firm = s.applicant_key("szfin", "li");
    let key = "soft-landing-sz-to-hk";
    let approved = s.play(key, s.submit_sample(&firm).await, &firm, ..).await;
    assert_eq!(approved["outcome"], "approved");
    s.play(key, s.submit_sample(&firm).await, &firm, 0..1).await;
    s.submit_example(&firm, "internship-placement").await;
    let observer = s.key(&["--role", "observer", "--agency", "hkma", "--name", "olive"]);

    let r = s.gql(Some(&observer), REPORT, json!({"input": {}})).await;
    assert!(r["errors"].is_null(), "{r}");
    let report = &r["data"]["report"];
    assert_eq!(report["by"], "SUBMISSION");
    assert_eq!(
        report["volumes"]["total"], 2,
        "the overseen programme only: {r}"
    );
    let results = &report["volumes"]["byResult"];
    assert!(
        results
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == &json!({"result": "approved", "count": 1, "share": 0.5})),
        "{results}"
    );
    assert_eq!(report["byMonth"].as_array().unwrap().len(), 1);
    assert_eq!(report["byRegion"][0]["group"], "mainland", "{r}");
    let lead = &report["leadTimes"][0];
    assert_eq!(
        (&lead["result"], &lead["calendarDays"]["n"]),
        (&json!("approved"), &json!(1))
    );
    let steps = report["steps"].as_array().unwrap();
    let nomination = steps
        .iter()
        .find(|s| s["state"] == "ofds_nomination")
        .expect("OFDS's step");
    assert_eq!(nomination["title"], "OFDS nomination");
    assert_eq!(
        nomination["calendarDays"]["n"], 2,
        "both applications were nominated: {nomination}"
    );
    assert_eq!(
        (&nomination["withDue"], &nomination["onTime"]),
        (&json!(2), &json!(2))
    );
    assert!(steps.iter().any(|s| s["state"] == "joint_decision"), "{r}");
    assert!(!report["bottlenecks"].as_array().unwrap().is_empty());
    assert_eq!(report["overdueTotal"], 0);
    // The second application waits on InvestHK's screening now.
    let queues = report["queues"].as_array().unwrap();
    let investhk = queues
        .iter()
        .find(|q| q["assignee"] == "investhk")
        .expect("InvestHK's queue");
    assert_eq!(
        (
            &investhk["open"],
            &investhk["under5Days"],
            &investhk["unclaimed"]
        ),
        (&json!(1), &json!(1), &json!(1))
    );
    let head = report["auditHead"].as_str().unwrap();
    assert_eq!(
        head.split_once(':').map(|(_, h)| h.len()),
        Some(64),
        "{head}"
    );

    // An agency filter keeps its applications and steps; the Chinese titles follow the locale.
    let r = s
        .gql(
            Some(&observer),
            REPORT,
            json!({"input": {"agency": "hkma"}}),
        )
        .await;
    let report = &r["data"]["report"];
    assert_eq!(
        report["volumes"]["total"], 1,
        "only the approved one reached the HKMA: {r}"
    );
    let states: Vec<&str> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["hkma_sandbox_referral"]);
    let zh = s
        .gql(
            Some(&observer),
            "{ report(input: {agency: \"hkma\"}) { steps { title(locale: \"zh-Hant\") } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        zh["data"]["report"]["steps"][0]["title"], "金管局金融科技監管沙盒轉介",
        "{zh}"
    );

    // By decision: the approved one, decided today.
    let r = s
        .gql(
            Some(&observer),
            REPORT,
            json!({"input": {"by": "DECISION"}}),
        )
        .await;
    assert_eq!(r["data"]["report"]["volumes"]["total"], 1, "{r}");
    // Bad periods are coded; reviewers and firms read no report.
    let r = s
        .gql(
            Some(&observer),
            REPORT,
            json!({"input": {"from": "2026-12-31", "to": "2026-01-01"}}),
        )
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    for token in [s.person("hkma", "dora"), firm.clone()] {
        let r = s.gql(Some(&token), REPORT, json!({"input": {}})).await;
        assert_eq!(code(&r), "FORBIDDEN", "{r}");
    }
    let r = s.gql(Some(&s.admin), REPORT, json!({"input": {}})).await;
    assert_eq!(
        r["data"]["report"]["volumes"]["total"], 3,
        "an administrator's covers every programme: {r}"
    );

    // InvestHK asks a firm for information: the firm's task waits in InvestHK's queue of
    // requests, and the request is counted at the step that asked.
    let app = s.play(key, s.submit_sample(&firm).await, &firm, 0..1).await;
    // A report keeps every application's facts as of now; the request below changes this
    // one's, and the next report measures it again.
    let asked = "{ report(input: {agency: \"investhk\"}) { informationRequests { requests } } }";
    let r = s.gql(Some(&observer), asked, json!({})).await;
    assert_eq!(r["data"]["report"]["informationRequests"], json!([]), "{r}");
    let task = app["openTasks"][0]["id"].clone();
    let amy = s.person("investhk", "amy");
    let ask = "mutation($t: ID!) { act(input: {taskId: $t, action: \"request_info\", data: {question: \"Your licence?\"}}) { id } }";
    let r = s.gql(Some(&amy), ask, json!({"t": task})).await;
    assert!(r["errors"].is_null(), "{r}");
    let r = s
        .gql(Some(&observer), "{ report(input: {agency: \"investhk\"}) { queues { assignee askedBy open } informationRequests { state agency requests applications } } }", json!({}))
        .await;
    let report = &r["data"]["report"];
    let queues = report["queues"].as_array().unwrap();
    assert!(
        queues.contains(&json!({"assignee": "applicant", "askedBy": "investhk", "open": 1})),
        "{r}"
    );
    assert_eq!(
        report["informationRequests"],
        json!([{"state": "eligibility_screening", "agency": "investhk", "requests": 1, "applications": 1}]),
        "{r}"
    );
}

/// In the console an observer of the HKMA opens Reports: the period picker, a chart beside
/// each table (no label clipped), the downloads of the period, and a count that leads to the
/// applications behind it; in Chinese too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: the full suite (scripts/with-services) installs it"]
async fn an_observer_reads_the_reports_in_the_console() {
    use crate::cdp::chromium;
    use crate::console::{ENGLISH, accessible, shots, sign_in};
    let s = Server::start(softland_store::test_util::TestDb::sqlite());
    let firm = s.applicant_key("szfin", "li");
    let key = "soft-landing-sz-to-hk";
    s.play(key, s.submit_sample(&firm).await, &firm, ..).await;
    s.play(key, s.submit_sample(&firm).await, &firm, 0..1).await;
    let observer = s.key(&["--role", "observer", "--agency", "hkma", "--name", "olive"]);
    let browser = chromium();
    let dir = shots("reports");
    let mut tab = browser.tab(&format!("{}/", s.url), "observer", &dir).await;
    sign_in(&mut tab, &observer, &ENGLISH).await;
    tab.goto(&format!("{}/reports", s.url)).await;
    let rows = |table: &str| {
        format!(
            "Array.from(document.querySelectorAll('#{table} tbody tr')).map(r => Array.from(r.cells).map(c => c.textContent))"
        )
    };
    let volumes = tab.eval(&rows("volumes-table")).await;
    assert_eq!(
        volumes,
        json!([["approved", "1", "50%"], ["still open", "1", "50%"]]),
        "{volumes}"
    );
    let charts = tab
        .eval("document.querySelectorAll('svg.chart').length")
        .await;
    assert!(
        charts.as_u64().unwrap() >= 4,
        "volumes, months, steps, agencies, queues: {charts}"
    );
    let clipped = tab
        .eval("Array.from(document.querySelectorAll('svg.chart text[text-anchor=end]')).filter(t => t.getBBox().x < 0).map(t => t.textContent)")
        .await;
    assert_eq!(clipped, json!([]), "labels clipped at a chart's edge");
    let steps = tab.eval(&rows("steps-table")).await;
    assert!(
        steps
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r[0] == "OFDS nomination"),
        "{steps}"
    );
    let queues = tab.eval(&rows("queues-table")).await;
    assert_eq!(queues[0][1], "1", "InvestHK's screening waits: {queues}");
    let csv = tab
        .eval("document.getElementById('download-csv').getAttribute('href')")
        .await;
    assert!(
        csv.as_str()
            .unwrap()
            .starts_with("/reports/applications.csv?from="),
        "{csv}"
    );
    let made = tab
        .eval("document.getElementById('made').textContent")
        .await;
    assert!(
        made.as_str().unwrap().contains(':'),
        "the audit head: {made}"
    );
    tab.screenshot("reports").await;
    accessible(&mut tab, &ENGLISH, "reports").await;

    // The approved count leads to the approved application.
    tab.then_next_page("document.querySelector('#volumes-table tbody tr a').click()")
        .await;
    assert_eq!(tab.path().await, "/applications");
    let listed = tab
        .eval("document.querySelectorAll('table.applications tbody tr').length")
        .await;
    assert_eq!(listed, json!(1), "{}", tab.text().await);

    // A period with nothing in it, and one that cannot be.
    tab.goto(&format!("{}/reports?from=2020-01-01&to=2020-01-31", s.url))
        .await;
    let text = tab.text().await;
    assert!(text.contains("No applications in this period."), "{text}");
    tab.goto(&format!("{}/reports?from=2020-02-01&to=2020-01-01", s.url))
        .await;
    let alert = tab
        .eval("document.querySelector('[role=alert]').textContent")
        .await;
    assert!(alert.as_str().unwrap().contains("two dates"), "{alert}");

    // In Traditional Chinese.
    tab.goto(&format!("{}/lang/zh-Hant?back=/reports", s.url))
        .await;
    let heading = tab.eval("document.querySelector('h1').textContent").await;
    assert_eq!(heading, "報告");
    let steps = tab.eval(&rows("steps-table")).await;
    assert!(
        steps
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r[0] == "深圳金融辦提名"),
        "{steps}"
    );
    tab.screenshot("reports-zh-hant").await;
}
