//! The conversation is part of the record (issue 13, first part): the question an agency asks
//! and the firm's answer are in the history, for both of them; a firm sees which agency acted,
//! not which reviewer. Over HTTP, on both databases.

use serde_json::{Value, json};

use crate::support::{Server, on_both_backends, root};

on_both_backends!(questions_and_answers_are_in_the_history);

const SUBMIT: &str = "mutation($d: JSON!) { submitApplication(input: {workflowKey: \"soft-landing-sz-to-hk\", data: $d}) { id openTasks { id state assignee } } }";
const ACT: &str = "mutation($t: ID!, $a: String!, $d: JSON) { act(input: {taskId: $t, action: $a, data: $d}) { id openTasks { id state assignee } } }";
const HISTORY: &str =
    "query($id: ID!) { application(id: $id) { history { kind actor party state action input } } }";

fn task(app: &Value, state: &str) -> String {
    app["openTasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["state"] == state)
        .unwrap_or_else(|| panic!("no {state} task in {app}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn questions_and_answers_are_in_the_history(s: Server) {
    let firm = s.key(&[
        "--role",
        "applicant",
        "--org",
        "pengcheng-pay",
        "--name",
        "li.wei",
    ]);
    let ofds = s.key(&["--role", "reviewer", "--agency", "ofds", "--name", "chen"]);
    let investhk = s.key(&[
        "--role", "reviewer", "--agency", "investhk", "--name", "amy",
    ]);
    let data: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("workflows/examples/soft-landing-sz-to-hk.json"))
            .unwrap(),
    )
    .unwrap();
    let r = s.gql(Some(&firm), SUBMIT, json!({"d": data})).await;
    let app = r["data"]["submitApplication"].clone();
    let id = app["id"].clone();
    let act = |token: String, app: Value, state: &'static str, action: &'static str, d: Value| {
        let s = &s;
        async move {
            let r = s
                .gql(
                    Some(&token),
                    ACT,
                    json!({"t": task(&app, state), "a": action, "d": d}),
                )
                .await;
            assert!(r["errors"].is_null(), "{action}: {r}");
            r["data"]["act"].clone()
        }
    };
    let app = act(ofds, app, "ofds_nomination", "nominate", Value::Null).await;
    let question = "Please send the audited accounts for FY2025.";
    let app = act(
        investhk.clone(),
        app,
        "eligibility_screening",
        "request_info",
        json!({"question": question}),
    )
    .await;
    let answer = "Audited accounts attached.";
    act(
        firm.clone(),
        app,
        "eligibility_information",
        "answer",
        json!({"answer": answer}),
    )
    .await;

    let history = |token: String| {
        let s = &s;
        let id = id.clone();
        async move {
            let r = s.gql(Some(&token), HISTORY, json!({"id": id})).await;
            assert!(r["errors"].is_null(), "{r}");
            r["data"]["application"]["history"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["kind"] == "task_completed")
                .cloned()
                .collect::<Vec<Value>>()
        }
    };
    // The firm reads the question, and sees InvestHK asked it — not who at InvestHK.
    let seen = history(firm).await;
    let asked = seen.iter().find(|e| e["action"] == "request_info").unwrap();
    assert_eq!(asked["input"]["question"], question, "{asked}");
    assert_eq!(
        (asked["party"].as_str(), asked["actor"].as_str()),
        (Some("investhk"), None)
    );
    let answered = seen.iter().find(|e| e["action"] == "answer").unwrap();
    assert_eq!(answered["input"]["answer"], answer);
    assert_eq!(
        (answered["party"].as_str(), answered["actor"].as_str()),
        (Some("applicant"), Some("li.wei")),
        "a firm sees its own people"
    );
    // The agency reads the answer, and sees the person who asked.
    let seen = history(investhk).await;
    let answered = seen.iter().find(|e| e["action"] == "answer").unwrap();
    assert_eq!(answered["input"]["answer"], answer);
    let asked = seen.iter().find(|e| e["action"] == "request_info").unwrap();
    assert_eq!(asked["actor"], "amy");
}
