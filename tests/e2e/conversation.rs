//! The conversation is part of the record (issue 13, first part): the question an agency asks
//! and the firm's answer are in the history, for both of them; a firm sees which agency acted,
//! not which reviewer. Over HTTP, on both databases.

use serde_json::{Value, json};

use crate::support::{Server, code, on_both_backends, ws_next, ws_subscribe};

on_both_backends!(questions_and_answers_are_in_the_history);

const ACT: &str = "mutation($t: ID!, $a: String!, $d: JSON, $n: String) { act(input: {taskId: $t, action: $a, data: $d, note: $n}) { id openTasks { id state assignee } } }";
const NOTE: &str =
    "mutation($id: ID!, $n: String!) { addNote(applicationId: $id, note: $n) { id } }";
const HISTORY: &str = "query($id: ID!) { application(id: $id) { history { kind actor party state action input note } } }";

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

/// What InvestHK notes for the agencies only.
const INTERNAL: &str = "Thin accounts; ask the HKMA whether a sandbox slot is likely.";

async fn questions_and_answers_are_in_the_history(s: Server) {
    let firm = s.applicant_key("pengcheng-pay", "li.wei");
    let ofds = s.reviewer_key("ofds", "chen");
    let investhk = s.reviewer_key("investhk", "amy");
    let app = s.submit_sample(&firm).await;
    let id = app["id"].clone();
    // Live, too: the firm and OFDS subscribe to the application's events.
    let query = "subscription($id: ID) { applicationEvents(applicationId: $id) { seq kind note } }";
    let mut subscribed = Vec::new();
    for token in [&firm, &ofds] {
        subscribed.push(ws_subscribe(&s.url, token, query, json!({"id": id})).await);
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // Nomination, InvestHK's question (with an internal note for the agencies), the answer.
    let question = "Please send the audited accounts for FY2025.";
    let answer = "Audited accounts attached.";
    let mut app = app;
    for (token, state, action, d) in [
        (&ofds, "ofds_nomination", "nominate", Value::Null),
        (
            &investhk,
            "eligibility_screening",
            "request_info",
            json!({"question": question}),
        ),
        (
            &firm,
            "eligibility_information",
            "answer",
            json!({"answer": answer}),
        ),
    ] {
        let note = (action == "request_info").then_some(INTERNAL);
        let vars = json!({"t": task(&app, state), "a": action, "d": d, "n": note});
        let r = s.gql(Some(token), ACT, vars).await;
        assert!(r["errors"].is_null(), "{action}: {r}");
        app = r["data"]["act"].clone();
    }

    // A note on its own: an agency involved writes one; the firm may not.
    let ofds_note = "OFDS will vouch for the founders at the joint decision.";
    let r = s
        .gql(Some(&ofds), NOTE, json!({"id": id, "n": ofds_note}))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let r = s
        .gql(Some(&firm), NOTE, json!({"id": id, "n": "let me in"}))
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    // An administrator reads notes but writes none; what each may do is the API's answer (the
    // policy's), which pages follow.
    let admin = s.key(&["--role", "admin", "--name", "root"]);
    let r = s
        .gql(Some(&admin), NOTE, json!({"id": id, "n": "from above"}))
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    let may = "query($id: ID!) { application(id: $id) { mayNote mayWithdraw openTasks { assignee allowed { act claimable claim release handOver } } } }";
    let allowed = |r: &Value| r["data"]["application"]["openTasks"][0]["allowed"].clone();
    let as_ofds = s.gql(Some(&ofds), may, json!({"id": id})).await;
    let as_firm = s.gql(Some(&firm), may, json!({"id": id})).await;
    let as_admin = s.gql(Some(&admin), may, json!({"id": id})).await;
    let as_investhk = s.gql(Some(&investhk), may, json!({"id": id})).await;
    let open = &as_investhk["data"]["application"]["openTasks"][0];
    assert_eq!(open["assignee"], "investhk", "{as_investhk}");
    assert_eq!(
        (
            &as_ofds["data"]["application"]["mayNote"],
            &as_ofds["data"]["application"]["mayWithdraw"]
        ),
        (&json!(true), &json!(false)),
        "{as_ofds}"
    );
    assert_eq!(
        (
            &as_firm["data"]["application"]["mayNote"],
            &as_firm["data"]["application"]["mayWithdraw"]
        ),
        (&json!(false), &json!(true)),
        "{as_firm}"
    );
    assert_eq!(
        as_admin["data"]["application"]["mayNote"],
        json!(false),
        "{as_admin}"
    );
    // The screening came back to amy, who asked (issue 32): claimed by her.
    assert_eq!(
        allowed(&as_investhk),
        json!({"act": true, "claimable": true, "claim": false, "release": true, "handOver": true}),
        "InvestHK's own open task, back with the reviewer who asked: {as_investhk}"
    );
    for (who, r) in [("OFDS", &as_ofds), ("the firm", &as_firm)] {
        let a = allowed(r);
        assert_eq!(
            (&a["act"], &a["claim"], &a["handOver"]),
            (&json!(false), &json!(false), &json!(false)),
            "{who}: {r}"
        );
    }
    assert_eq!(
        allowed(&as_admin),
        json!({"act": false, "claimable": false, "claim": false, "release": true, "handOver": true}),
        "an administrator releases and hands on any agency's task: {as_admin}"
    );
    // The subscriptions saw the same: OFDS both notes, the firm neither (its stream goes on
    // with the events it may see).
    let history_len = {
        let r = s.gql(Some(&ofds), HISTORY, json!({"id": id})).await;
        r["data"]["application"]["history"]
            .as_array()
            .unwrap()
            .len() as i64
    };
    let mut streams = subscribed.into_iter();
    for (ws, sees_notes) in [
        (streams.next().unwrap(), false),
        (streams.next().unwrap(), true),
    ] {
        let mut ws = ws;
        let mut kinds = Vec::new();
        let mut last = 0;
        // Up to the last event, which is OFDS's note: the firm's stream never carries it, so
        // for the firm read until the event before it, then make sure nothing else comes.
        let end = if sees_notes {
            history_len
        } else {
            history_len - 1
        };
        while last < end {
            let v = ws_next(&mut ws, std::time::Duration::from_secs(10))
                .await
                .expect("events arrive");
            let e = &v["payload"]["data"]["applicationEvents"];
            last = e["seq"].as_i64().unwrap();
            kinds.push((e["kind"].as_str().unwrap().to_owned(), e["note"].clone()));
        }
        let notes: Vec<&Value> = kinds
            .iter()
            .filter(|(k, _)| k == "note_added")
            .map(|(_, n)| n)
            .collect();
        if sees_notes {
            assert_eq!(notes, [&json!(INTERNAL), &json!(ofds_note)], "{kinds:?}");
        } else {
            assert!(notes.is_empty(), "{kinds:?}");
            let more = ws_next(&mut ws, std::time::Duration::from_millis(1500)).await;
            assert!(more.is_none(), "the firm's stream carried more: {more:?}");
        }
    }
    let all = |token: String| {
        let s = &s;
        let id = id.clone();
        async move {
            let r = s.gql(Some(&token), HISTORY, json!({"id": id})).await;
            assert!(r["errors"].is_null(), "{r}");
            r["data"]["application"]["history"]
                .as_array()
                .unwrap()
                .clone()
        }
    };
    // Internal notes: every agency involved and administrators read them; the firm's history
    // has no trace of them.
    let firm_sees = all(firm.clone()).await;
    assert!(
        firm_sees
            .iter()
            .all(|e| e["kind"] != "note_added" && e["note"].is_null()),
        "{firm_sees:?}"
    );
    assert!(
        !serde_json::to_string(&firm_sees)
            .unwrap()
            .contains("sandbox slot")
    );
    let agency_sees = all(ofds.clone()).await;
    let notes: Vec<(&str, &str, &str)> = agency_sees
        .iter()
        .filter(|e| e["kind"] == "note_added")
        .map(|e| {
            (
                e["party"].as_str().unwrap(),
                e["actor"].as_str().unwrap(),
                e["note"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        notes,
        [("investhk", "amy", INTERNAL), ("ofds", "chen", ofds_note)],
        "{agency_sees:?}"
    );
    // A firm cannot attach a note to its own action either.
    let history = |token: String| {
        let all = &all;
        async move {
            all(token)
                .await
                .into_iter()
                .filter(|e| e["kind"] == "task_completed")
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
