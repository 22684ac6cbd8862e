//! Evolving programmes in the console (issue 32): an administrator makes a migration plan and
//! reads its dry run, a second administrator approves it, the plan runs; an application whose
//! agency waits on the firm says so, with the working days its clock has left.

use serde_json::json;

use crate::cdp::chromium;
use crate::console::{ENGLISH, accessible, shots, sign_in};
use crate::support::Server;

const KEY: &str = "soft-landing-sz-to-hk";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: the full suite (scripts/with-services) installs it"]
async fn administrators_move_running_applications_in_the_console() {
    let s = Server::start(softland_store::test_util::TestDb::sqlite());
    let firm = s.applicant_key("szfin", "li");
    let screening = s.play(KEY, s.submit_sample(&firm).await, &firm, 0..1).await;
    let asked = s.play(KEY, s.submit_sample(&firm).await, &firm, 0..1).await;
    let task = asked["openTasks"][0]["id"].clone();
    let amy = s.person("investhk", "amy");
    let r = s
        .gql(
            Some(&amy),
            "mutation($t: ID!) { act(input: {taskId: $t, action: \"request_info\", data: {question: \"Your accounts, please.\"}}) { id } }",
            json!({"t": task}),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let publish = "mutation($y: String!) { publishWorkflow(yaml: $y) { version } }";
    let r = s
        .gql(Some(&s.admin), publish, json!({"y": crate::evolving::v2()}))
        .await;
    assert_eq!(r["data"]["publishWorkflow"]["version"], 2, "{r}");

    let browser = chromium();
    let dir = shots("migrations");
    let mut admin = browser
        .tab(&format!("{}/workflows/{KEY}", s.url), "admin", &dir)
        .await;
    sign_in(&mut admin, &s.admin, &ENGLISH).await;

    // The application waiting on the firm says so.
    admin
        .goto(&format!(
            "{}/applications/{}",
            s.url,
            asked["id"].as_str().unwrap()
        ))
        .await;
    let waiting = admin
        .eval(
            "document.querySelector('#waiting') && document.querySelector('#waiting').textContent",
        )
        .await;
    let waiting = waiting.as_str().unwrap_or_default().to_owned();
    assert!(
        waiting.contains("InvestHK eligibility screening")
            && waiting.contains("working days remain"),
        "{waiting}"
    );

    admin.goto(&format!("{}/workflows/{KEY}", s.url)).await;
    admin
        .then_next_page("byText('a.button', 'Move running applications').click()")
        .await;
    assert_eq!(admin.path().await, format!("/workflows/{KEY}/migrations"));
    admin
        .eval("(() => { document.querySelector('#mig-mappings').value = 'eligibility_screening → investhk_screening'; })()")
        .await;
    admin
        .then_next_page("document.querySelector('form.card button[type=submit]').click()")
        .await;
    assert!(admin.path().await.starts_with("/migrations/"));
    let plan_path = admin.path().await;
    let text = admin.text().await;
    assert!(text.contains("2 of 2 applications would move."), "{text}");
    assert!(text.contains(screening["id"].as_str().unwrap()), "{text}");
    admin.screenshot("dry-run").await;
    accessible(&mut admin, &ENGLISH, "a migration plan's dry run").await;

    // Its maker cannot approve it.
    admin
        .then_next_page("byText('button', 'Approve this plan').click()")
        .await;
    let text = admin.text().await;
    assert!(text.contains("Not allowed"), "{text}");

    let second = s.key(&["--role", "admin", "--name", "second"]);
    let mut other = browser
        .tab(&format!("{}{plan_path}", s.url), "second", &dir)
        .await;
    sign_in(&mut other, &second, &ENGLISH).await;
    other.goto(&format!("{}{plan_path}", s.url)).await;
    other
        .then_next_page("byText('button', 'Approve this plan').click()")
        .await;
    let text = other.text().await;
    assert!(text.contains("second"), "{text}");
    other
        .then_next_page("byText('button', 'Move 2 applications').click()")
        .await;
    assert_eq!(other.path().await, plan_path);
    let moved = other
        .eval("[...document.querySelectorAll('dl.facts dt')].find(d => d.textContent === 'Moved').nextElementSibling.textContent")
        .await;
    assert!(
        moved.as_str().unwrap_or_default().starts_with('2'),
        "{moved}"
    );
    other.screenshot("moved").await;

    let q = "query($id: ID!) { application(id: $id) { workflowVersion activeStates } }";
    let r = s
        .gql(Some(&s.admin), q, json!({"id": screening["id"]}))
        .await;
    assert_eq!(r["data"]["application"]["workflowVersion"], 2, "{r}");
    assert_eq!(
        r["data"]["application"]["activeStates"],
        json!(["investhk_screening"]),
        "{r}"
    );
}
