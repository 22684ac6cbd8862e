//! The audit trail holds what people do besides moving applications (issue 30, item 12):
//! claims, releases, hand-overs, keys, directory changes, workflows retired and brought back —
//! not as application revisions — for administrators over the API and the console, and in
//! `audit-export` and the console's download.

use serde_json::{Value, json};

use crate::support::{CLAIM, Server, code, on_both_backends, softland};

on_both_backends!(what_people_do_is_recorded);

const ACTIONS: &str = "{ peopleActions(first: 100) { actor kind subject applicationId detail } }";

async fn what_people_do_is_recorded(s: Server) {
    let admin = s.admin.clone();
    let ok = |r: &Value| assert!(r["errors"].is_null(), "{r}");
    ok(&s
        .gql(
            Some(&admin),
            "mutation { putOrganization(input: {key: \"pengcheng-pay\", name: \"Pengcheng Pay Ltd\"}) { key } }",
            json!({}),
        )
        .await);
    ok(&s
        .gql(
            Some(&admin),
            "mutation { putPerson(input: {id: \"ivy\", agency: \"ofds\", roles: [REVIEWER, LEAD]}) { id } }",
            json!({}),
        )
        .await);
    let key = s
        .gql(
            Some(&admin),
            "mutation { createApiKey(input: {personId: \"ivy\", label: \"laptop\"}) { key { id } token } }",
            json!({}),
        )
        .await;
    ok(&key);
    let ivy = key["data"]["createApiKey"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let spare = s
        .gql(
            Some(&admin),
            "mutation { createApiKey(input: {personId: \"ivy\", label: \"spare\"}) { key { id } } }",
            json!({}),
        )
        .await;
    ok(&spare);
    ok(&s
        .gql(
            Some(&admin),
            "mutation($id: ID!) { revokeApiKey(id: $id) { id } }",
            json!({"id": spare["data"]["createApiKey"]["key"]["id"]}),
        )
        .await);
    for verb in ["retire", "unretire"] {
        ok(&s
            .gql(
                Some(&admin),
                &format!("mutation {{ {verb}Workflow(key: \"internship-placement\", version: 1) {{ key }} }}"),
                json!({}),
            )
            .await);
    }
    // A reviewer claims, releases and hands over.
    let firm = s.applicant_key("pengcheng-pay", "li.wei");
    let app = s.submit_sample(&firm).await;
    let task = app["openTasks"][0]["id"].clone();
    ok(&s.gql(Some(&ivy), CLAIM, json!({"t": task})).await);
    ok(&s
        .gql(
            Some(&ivy),
            "mutation($t: ID!) { releaseTask(taskId: $t) { id } }",
            json!({"t": task}),
        )
        .await);
    s.reviewer_key("ofds", "chen");
    ok(&s
        .gql(
            Some(&ivy),
            "mutation($t: ID!) { delegateTask(taskId: $t, to: \"chen\") { id } }",
            json!({"t": task}),
        )
        .await);

    // Administrators read them, newest first; nobody else.
    let r = s.query(Some(&admin), ACTIONS).await;
    ok(&r);
    let actions = r["data"]["peopleActions"].as_array().unwrap();
    let kinds: Vec<&str> = actions
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "hand_over",
        "release",
        "claim",
        "unretire",
        "retire",
        "revoke_key",
        "create_key",
        "put_person",
        "put_organization",
    ] {
        assert!(kinds.contains(&kind), "{kind}: {kinds:?}");
    }
    assert_eq!(kinds[0], "hand_over", "newest first: {kinds:?}");
    let hand_over = &actions[0];
    assert_eq!(hand_over["actor"], "ivy");
    assert_eq!(hand_over["applicationId"], app["id"]);
    assert_eq!(hand_over["detail"]["to"], "chen");
    assert_eq!(code(&s.query(Some(&ivy), ACTIONS).await), "FORBIDDEN");
    // Not application revisions: the application's history holds no claim.
    let history = s
        .gql(
            Some(&admin),
            "query($id: ID!) { application(id: $id) { revision history { kind } } }",
            json!({"id": app["id"]}),
        )
        .await;
    assert!(
        !history.to_string().contains("claim"),
        "no claim in the application's events: {history}"
    );

    // `audit-export` writes them after the events; so does the console's download.
    let run = softland(&[
        "audit-export",
        "--db",
        &s.db.url,
        "--from",
        "2000-01-01T00:00:00Z",
        "--to",
        "2100-01-01T00:00:00Z",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.iter().any(|l| l["kind"] == "submitted"), "the events");
    assert!(
        lines
            .iter()
            .any(|l| l["type"] == "action" && l["kind"] == "hand_over"),
        "the actions"
    );
    let http = reqwest::Client::new();
    let export = |token: Option<String>| {
        let mut req = http.get(format!(
            "{}/audit/export?from=2000-01-01&to=2100-01-01",
            s.url
        ));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let got = export(Some(admin.clone())).await.unwrap();
    assert_eq!(got.status(), 200);
    assert!(
        got.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    let body = got.text().await.unwrap();
    assert!(body.contains("\"kind\":\"hand_over\""), "{body}");
    assert!(body.contains("\"kind\":\"submitted\""), "{body}");
    assert_eq!(export(Some(ivy.clone())).await.unwrap().status(), 403);
    assert_eq!(export(None).await.unwrap().status(), 401);
    let bad = http
        .get(format!("{}/audit/export?from=yesterday", s.url))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    // The console shows them to administrators, in words.
    let cookie = crate::trust::signin::console_session(&s.url, &admin).await;
    let page = http
        .get(format!("{}/audit", s.url))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Handed a task over"), "{page}");
    assert!(page.contains("Revoked a key"), "{page}");
    assert!(page.contains("href=\"/audit/export\"") || page.contains("action=\"/audit/export\""));
    // And the command line's own acts are recorded as the command line's.
    let run = softland(&["directory", "deactivate", "chen", "--db", &s.db.url]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let r = s.query(Some(&admin), ACTIONS).await;
    assert_eq!(r["data"]["peopleActions"][0]["actor"], "cli", "{r}");
    assert_eq!(
        r["data"]["peopleActions"][0]["kind"], "deactivate_person",
        "{r}"
    );
}
