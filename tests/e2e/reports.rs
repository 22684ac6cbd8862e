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
    for token in [s.person("hkma", "dora"), firm] {
        let r = s.gql(Some(&token), REPORT, json!({"input": {}})).await;
        assert_eq!(code(&r), "FORBIDDEN", "{r}");
    }
    let r = s.gql(Some(&s.admin), REPORT, json!({"input": {}})).await;
    assert_eq!(
        r["data"]["report"]["volumes"]["total"], 3,
        "an administrator's covers every programme: {r}"
    );
}
