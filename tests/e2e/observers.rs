//! Oversight (issue 33, first part): an observer of an agency that oversees a programme (the
//! workflow's `oversight:`) reads every application of it — form, history, documents — and
//! changes nothing; internal notes and reviewers' names stay with the deciding agencies; a
//! programme its agency does not oversee stays hidden. Over HTTP, on both databases.

use serde_json::json;

use crate::support::{Server, code, on_both_backends};

on_both_backends!(an_observer_reads_the_programmes_it_oversees_and_changes_nothing);

async fn an_observer_reads_the_programmes_it_oversees_and_changes_nothing(s: Server) {
    let firm = s.applicant_key("szfin", "li");
    let observer = s.key(&["--role", "observer", "--agency", "hkma", "--name", "olive"]);
    let me = s
        .query(Some(&observer), "{ me { role agency name } }")
        .await;
    assert_eq!(
        me["data"]["me"],
        json!({"role": "OBSERVER", "agency": "hkma", "name": "olive"}),
        "{me}"
    );
    // An application the HKMA has no task in (yet): at the Hong Kong reviews, with an internal
    // note of InvestHK's.
    let app = s
        .play(
            "soft-landing-sz-to-hk",
            s.submit_sample(&firm).await,
            &firm,
            0..2,
        )
        .await;
    let id = app["id"].clone();
    let amy = s.person("investhk", "amy");
    let note =
        "mutation($id: ID!) { addNote(applicationId: $id, note: \"Thin accounts.\") { id } }";
    let r = s.gql(Some(&amy), note, json!({"id": id})).await;
    assert!(r["errors"].is_null(), "{r}");

    let read = "query($id: ID!) { application(id: $id) { id data history { kind actor party note } openTasks { id state allowed { act claim release handOver } } mayWithdraw mayNote } }";
    let r = s.gql(Some(&observer), read, json!({"id": id})).await;
    let a = &r["data"]["application"];
    assert_eq!(a["id"], id, "{r}");
    assert!(a["data"].is_object(), "{r}");
    let history = a["history"].as_array().unwrap();
    assert!(
        history.iter().all(|e| e["kind"] != "note_added"),
        "no internal note: {r}"
    );
    assert!(
        history
            .iter()
            .filter(|e| e["party"] == "ofds" || e["party"] == "investhk")
            .all(|e| e["actor"].is_null()),
        "the agency, not its reviewer: {r}"
    );
    assert_eq!(
        (&a["mayWithdraw"], &a["mayNote"]),
        (&json!(false), &json!(false))
    );
    for t in a["openTasks"].as_array().unwrap() {
        assert_eq!(
            t["allowed"],
            json!({"act": false, "claim": false, "release": false, "handOver": false}),
            "{t}"
        );
    }
    let list = "{ applications(first: 20) { edges { node { id } } } }";
    let r = s.query(Some(&observer), list).await;
    let ids: Vec<&serde_json::Value> = r["data"]["applications"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"]["id"])
        .collect();
    assert_eq!(ids, vec![&id], "{r}");

    // It changes nothing: act, claim, note, submit, withdraw are refused.
    let task = app["openTasks"][0]["id"].clone();
    for (what, doc, vars) in [
        (
            "act",
            "mutation($t: ID!) { act(input: {taskId: $t, action: \"admit\"}) { id } }",
            json!({"t": task}),
        ),
        (
            "claim",
            "mutation($t: ID!) { claimTask(taskId: $t) { id } }",
            json!({"t": task}),
        ),
        ("note", note, json!({"id": id})),
        (
            "withdraw",
            "mutation($id: ID!) { withdrawApplication(id: $id) { id } }",
            json!({"id": id}),
        ),
        (
            "submit",
            "mutation($d: JSON!) { submitApplication(input: {workflowKey: \"soft-landing-sz-to-hk\", data: $d}) { id } }",
            json!({"d": crate::support::example("soft-landing-sz-to-hk")}),
        ),
    ] {
        let r = s.gql(Some(&observer), doc, vars).await;
        assert_eq!(code(&r), "FORBIDDEN", "{what}: {r}");
    }

    // A programme the HKMA does not oversee stays hidden, as if it did not exist.
    let other = s.submit_example(&firm, "internship-placement").await;
    let r = s
        .gql(Some(&observer), read, json!({"id": other["id"]}))
        .await;
    assert!(r["data"]["application"].is_null(), "{r}");
    // An HKMA reviewer is no observer: an application without an HKMA task is not theirs.
    let dora = s.person("hkma", "dora");
    let r = s.gql(Some(&dora), read, json!({"id": id})).await;
    assert!(r["data"]["application"].is_null(), "{r}");
}

/// In the console an observer has the applications of the programmes its agency oversees, and
/// on an application's page nothing to do: no action, claim, note or upload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: the full suite (scripts/with-services) installs it"]
async fn an_observer_reads_in_the_console() {
    use crate::cdp::chromium;
    use crate::console::{ENGLISH, accessible, shots, sign_in};
    let s = Server::start(softland_store::test_util::TestDb::sqlite());
    let firm = s.applicant_key("szfin", "li");
    let app = s
        .play(
            "soft-landing-sz-to-hk",
            s.submit_sample(&firm).await,
            &firm,
            0..2,
        )
        .await;
    let id = app["id"].as_str().unwrap().to_owned();
    let observer = s.key(&["--role", "observer", "--agency", "hkma", "--name", "olive"]);
    let browser = chromium();
    let dir = shots("observer");
    let mut tab = browser.tab(&format!("{}/", s.url), "observer", &dir).await;
    sign_in(&mut tab, &observer, &ENGLISH).await;
    assert_eq!(tab.path().await, "/applications");
    let nav = tab
        .eval("Array.from(document.querySelectorAll('nav a')).map(a => a.getAttribute('href')).filter(h => h.startsWith('/') && !h.startsWith('/lang'))")
        .await;
    assert_eq!(nav, json!(["/applications", "/reports"]), "{nav}");
    let text = tab.text().await;
    assert!(text.contains("SZHK-"), "{text}");
    tab.goto(&format!("{}/applications/{id}", s.url)).await;
    let forms = tab
        .eval(
            "Array.from(document.querySelectorAll('main form')).map(f => f.getAttribute('action'))",
        )
        .await;
    assert_eq!(forms, json!([]), "nothing to do: {forms}");
    let text = tab.text().await;
    assert!(text.contains("OFDS nomination"), "{text}");
    tab.screenshot("application").await;
    accessible(&mut tab, &ENGLISH, "an application, read by an observer").await;
}
