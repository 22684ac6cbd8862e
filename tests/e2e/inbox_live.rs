//! An inbox, live (issue 13): a reviewer's console learns that a task arrived for its agency
//! or left it, and a firm that a question arrived for it — and nobody hears of another's
//! tasks. Over HTTP, on both databases.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Server, Ws, on_both_backends, ws_next, ws_subscribe};

on_both_backends!(tasks_arrive_and_leave_inboxes_live);

const INBOX_EVENTS: &str =
    "subscription { inboxEvents { change at task { id state assignee applicationId } } }";
const ACT: &str = "mutation($t: ID!, $a: String!, $d: JSON) { act(input: {taskId: $t, action: $a, data: $d}) { openTasks { id state } } }";

/// The next inbox change on `ws`: (change, state, assignee, task id).
async fn next(ws: &mut Ws) -> (String, String, String, String) {
    let v = ws_next(ws, Duration::from_secs(10))
        .await
        .expect("an inbox event arrives");
    let e = &v["payload"]["data"]["inboxEvents"];
    assert!(e.is_object(), "{v}");
    assert!(e["at"].is_string(), "{v}");
    let s = |v: &Value| v.as_str().unwrap().to_owned();
    (
        s(&e["change"]),
        s(&e["task"]["state"]),
        s(&e["task"]["assignee"]),
        s(&e["task"]["id"]),
    )
}

async fn tasks_arrive_and_leave_inboxes_live(s: Server) {
    let firm = s.applicant_key("pengcheng-pay", "li.wei");
    let other_firm = s.applicant_key("qianhai-ledger", "zhou");
    let ofds = s.reviewer_key("ofds", "chen");
    let investhk = s.reviewer_key("investhk", "amy");
    let hkma = s.reviewer_key("hkma", "ho");
    let admin = s.key(&["--role", "admin", "--name", "root"]);
    let mut live = Vec::new();
    for token in [&firm, &other_firm, &ofds, &investhk, &hkma] {
        live.push(ws_subscribe(&s.url, token, INBOX_EVENTS, json!({})).await);
    }
    let [firm_ws, other_ws, ofds_ws, investhk_ws, hkma_ws] = &mut live[..] else {
        unreachable!()
    };
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Submitting opens OFDS's nomination: it arrives in OFDS's inbox.
    let app = s.submit_sample(&firm).await;
    let (change, state, assignee, nomination) = next(ofds_ws).await;
    assert_eq!(
        (change.as_str(), state.as_str(), assignee.as_str()),
        ("ARRIVED", "ofds_nomination", "ofds")
    );
    assert_eq!(nomination, app["openTasks"][0]["id"]);

    // OFDS nominates: the task leaves OFDS's inbox, InvestHK's screening arrives in its own.
    let act = |token: &String, task: &str, action: &str, data: Value| {
        let (s, token) = (&s, token.clone());
        let v = json!({"t": task, "a": action, "d": data});
        async move {
            let r = s.gql(Some(&token), ACT, v).await;
            assert!(r["errors"].is_null(), "{r}");
        }
    };
    act(&ofds, &nomination, "nominate", Value::Null).await;
    let (change, _, _, id) = next(ofds_ws).await;
    assert_eq!(
        (change.as_str(), id.as_str()),
        ("LEFT", nomination.as_str())
    );
    let (change, state, _, screening) = next(investhk_ws).await;
    assert_eq!(
        (change.as_str(), state.as_str()),
        ("ARRIVED", "eligibility_screening")
    );

    // InvestHK asks a question: it leaves InvestHK and arrives at the firm.
    act(
        &investhk,
        &screening,
        "request_info",
        json!({"question": "Please send the audited accounts."}),
    )
    .await;
    assert_eq!(next(investhk_ws).await.0, "LEFT");
    let (change, state, assignee, question) = next(firm_ws).await;
    assert_eq!(
        (change.as_str(), state.as_str(), assignee.as_str()),
        ("ARRIVED", "eligibility_information", "applicant")
    );

    // The firm answers: the screening comes back to InvestHK.
    act(&firm, &question, "answer", json!({"answer": "Attached."})).await;
    assert_eq!(next(firm_ws).await.0, "LEFT");
    let (change, state, _, _) = next(investhk_ws).await;
    assert_eq!(
        (change.as_str(), state.as_str()),
        ("ARRIVED", "eligibility_screening")
    );

    // Another firm and an agency not involved heard nothing; OFDS nothing more.
    for ws in [other_ws, hkma_ws, ofds_ws] {
        let more = ws_next(ws, Duration::from_millis(500)).await;
        assert!(more.is_none(), "{more:?}");
    }

    // Administrators have no inbox: a coded refusal, not a silent stream.
    let mut ws = ws_subscribe(&s.url, &admin, INBOX_EVENTS, json!({})).await;
    let v = ws_next(&mut ws, Duration::from_secs(10)).await.unwrap();
    assert_eq!(
        v["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{v}"
    );
}
