//! The programme's exports (issue 33, a fixed contract): `GET /reports/applications.csv`,
//! `/reports/event-log.xes` and `/reports/event-log.jsonocel`, for observers (the programmes
//! their agency oversees) and administrators, each saying its period, filters, time and the
//! audit log's head. Over HTTP on both databases; pm4py reads the XES and the OCEL.

use serde_json::{Value, json};

use crate::support::{Server, on_both_backends, temp_dir};

const KEY: &str = "soft-landing-sz-to-hk";

/// The period around today, as the exports take it.
fn period() -> String {
    let today = chrono::Utc::now()
        .with_timezone(&softland_workflow::HONG_KONG)
        .date_naive();
    format!(
        "from={}&to={}",
        today - chrono::Duration::days(1),
        today + chrono::Duration::days(1)
    )
}

/// GETs `path` with `token`: the status, the headers and the body.
async fn get(
    s: &Server,
    token: Option<&str>,
    path: &str,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = reqwest::Client::new().get(format!("{}{path}", s.url));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.expect("the server answers");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.expect("a body"))
}

/// Two applications of the Shenzhen → Hong Kong programme — one approved, one at its second
/// step — and one of the internship programme, which the HKMA does not oversee.
async fn programme(s: &Server) -> (Value, Value) {
    let firm = s.applicant_key("szfin", "li");
    let approved = s.play(KEY, s.submit_sample(&firm).await, &firm, ..).await;
    assert_eq!(approved["outcome"], "approved", "{approved}");
    let open = s.play(KEY, s.submit_sample(&firm).await, &firm, 0..1).await;
    s.submit_example(&firm, "internship-placement").await;
    (approved, open)
}

/// The reference of application `id`, as the API says it.
async fn reference(s: &Server, id: &Value) -> String {
    let r = s
        .gql(
            Some(&s.admin),
            "query($id: ID!) { application(id: $id) { reference } }",
            json!({"id": id}),
        )
        .await;
    r["data"]["application"]["reference"]
        .as_str()
        .expect("a reference")
        .to_owned()
}

on_both_backends!(observers_and_administrators_export_the_programme);

async fn observers_and_administrators_export_the_programme(s: Server) {
    let (approved, open) = programme(&s).await;
    let (approved_ref, open_ref) = (
        reference(&s, &approved["id"]).await,
        reference(&s, &open["id"]).await,
    );
    let observer = s.key(&["--role", "observer", "--agency", "hkma", "--name", "olive"]);
    let q = period();

    let (status, headers, body) = get(
        &s,
        Some(&observer),
        &format!("/reports/applications.csv?{q}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let head = headers["x-softland-audit-head"].to_str().unwrap();
    let (event, hash) = head.split_once(':').expect("id:hash");
    assert!(event.parse::<i64>().is_ok() && hash.len() == 64, "{head}");
    assert!(headers["x-softland-period"].to_str().unwrap().contains('/'));
    assert!(
        headers["x-softland-filters"]
            .to_str()
            .unwrap()
            .contains("overseen-by=hkma")
    );
    assert!(body.starts_with('\u{FEFF}'), "a byte-order mark for Excel");
    let mut reader = csv::Reader::from_reader(body.trim_start_matches('\u{FEFF}').as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header,
        [
            "reference",
            "workflow",
            "workflow_version",
            "organization",
            "organization_name",
            "region",
            "submitted_at",
            "status",
            "outcome",
            "decided_at",
            "lead_time_business_days",
            "waiting_on_firm_days",
        ]
    );
    assert!(body.contains("\r\n"), "RFC 4180 ends lines with CRLF");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2, "the overseen programme only: {body}");
    let row = |reference: &str| {
        rows.iter()
            .find(|r| &r[0] == reference)
            .unwrap_or_else(|| panic!("{reference} in {body}"))
    };
    let done = row(&approved_ref);
    assert_eq!(
        (&done[1], &done[7], &done[8]),
        (KEY, "completed", "approved")
    );
    assert!(
        !done[9].is_empty() && done[10].parse::<f64>().is_ok(),
        "{done:?}"
    );
    let running = row(&open_ref);
    assert_eq!(
        (&running[7], &running[8], &running[9], &running[10]),
        ("active", "", "", "")
    );
    assert_eq!(&running[11], "0.00", "no information request");

    // An administrator's covers every programme; a workflow narrows it.
    let (_, _, all) = get(
        &s,
        Some(&s.admin),
        &format!("/reports/applications.csv?{q}"),
    )
    .await;
    assert_eq!(all.trim_end().lines().count(), 4, "{all}");
    let (_, _, one) = get(
        &s,
        Some(&s.admin),
        &format!("/reports/applications.csv?{q}&workflow=internship-placement"),
    )
    .await;
    assert_eq!(one.trim_end().lines().count(), 2, "{one}");
    // Reviewers and firms read no reports; no one unauthenticated; bad dates are coded.
    let reviewer = s.person("hkma", "dora");
    let (status, _, body) = get(&s, Some(&reviewer), &format!("/reports/event-log.xes?{q}")).await;
    assert_eq!(
        (
            status,
            crate::support::code(&serde_json::from_str(&body).unwrap())
        ),
        (403, "FORBIDDEN")
    );
    let (status, _, _) = get(&s, None, &format!("/reports/applications.csv?{q}")).await;
    assert_eq!(status, 401);
    let (status, _, body) = get(
        &s,
        Some(&observer),
        "/reports/applications.csv?from=2026-13-01&to=2026-12-01",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("BAD_USER_INPUT"), "{body}");

    // XES: one trace per application, the agencies as resources, never a person.
    let (status, _, xes) = get(&s, Some(&observer), &format!("/reports/event-log.xes?{q}")).await;
    assert_eq!(status, 200);
    assert_eq!(xes.matches("<trace>").count(), 2, "{xes}");
    assert!(xes.contains(&format!(
        "<string key=\"concept:name\" value=\"{approved_ref}\"/>"
    )));
    assert!(xes.contains("softland:audit-head"));
    for name in ["chen", "amy", "ben", "carl", "dora"] {
        assert!(
            !xes.contains(&format!("\"{name}\"")),
            "no reviewer's name ({name}) in the log"
        );
    }
    assert!(xes.contains("value=\"OFDS nomination\""));
    assert!(xes.trim_end().ends_with("</log>"));

    // OCEL 2.0: every related object is there.
    let (status, _, ocel) = get(
        &s,
        Some(&observer),
        &format!("/reports/event-log.jsonocel?{q}"),
    )
    .await;
    assert_eq!(status, 200);
    let ocel: Value = serde_json::from_str(&ocel).expect("JSON");
    let objects = ocel["objects"].as_array().unwrap();
    let ids: std::collections::HashSet<&str> =
        objects.iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(
        objects
            .iter()
            .filter(|o| o["type"] == "application")
            .count(),
        2
    );
    let events = ocel["events"].as_array().unwrap();
    assert!(events.len() > 10, "{ocel}");
    for e in events {
        for r in e["relationships"].as_array().unwrap() {
            assert!(
                ids.contains(r["objectId"].as_str().unwrap()),
                "{e} relates to an object of the log"
            );
        }
    }
    assert_eq!(
        ocel["softland"]["auditHead"],
        json!(head),
        "nothing was written since the CSV"
    );
}

/// pm4py, the process-mining library, reads the XES as it is (one case per application of the
/// period) and the OCEL 2.0 JSON (its objects).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs pm4py: the full suite (scripts/with-services) installs it"]
async fn pm4py_reads_the_event_logs() {
    let s = Server::start(softland_store::test_util::TestDb::sqlite());
    programme(&s).await;
    let dir = temp_dir("pm4py");
    let q = period();
    let xes = dir.join("log.xes");
    let ocel = dir.join("log.jsonocel");
    let (_, _, body) = get(&s, Some(&s.admin), &format!("/reports/event-log.xes?{q}")).await;
    std::fs::write(&xes, body).unwrap();
    let (_, _, body) = get(
        &s,
        Some(&s.admin),
        &format!("/reports/event-log.jsonocel?{q}"),
    )
    .await;
    std::fs::write(&ocel, body).unwrap();
    let script = "import sys, pm4py\n\
        log = pm4py.read_xes(sys.argv[1])\n\
        print(log['case:concept:name'].nunique(), len(log))\n\
        o = pm4py.read_ocel2_json(sys.argv[2])\n\
        print(len(o.objects[o.objects['ocel:type'] == 'application']))\n";
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&xes)
        .arg(&ocel)
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pm4py failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    let counts: Vec<&str> = lines[0].split(' ').collect();
    assert_eq!(
        counts[0], "3",
        "one case per application of the period: {stdout}"
    );
    assert!(counts[1].parse::<u32>().unwrap() > 20, "{stdout}");
    assert_eq!(lines[1], "3", "{stdout}");
}
