//! Four eyes before acting (issue 30, item 5): a claim its claimant could never complete is
//! refused, a claim held by someone so barred may be taken over by any colleague, nobody is
//! handed a task they could not complete, and the API says which actions a four-eyes rule bars
//! the caller from (the console offers only the others).

use serde_json::json;

use crate::support::{Server, code, on_both_backends};

on_both_backends!(claims_follow_the_four_eyes_rules);

const TASKS: &str = "query($a: ID!) { application(id: $a) { openTasks { id state assignee claimedBy barred barredBy holderBarred actions { name barredBy } } } }";
const CLAIM: &str = "mutation($t: ID!) { claimTask(taskId: $t) { id claimedBy } }";
const DELEGATE: &str =
    "mutation($t: ID!, $to: String!) { delegateTask(taskId: $t, to: $to) { id claimedBy } }";

async fn claims_follow_the_four_eyes_rules(s: Server) {
    let firm = s.applicant_key("pengcheng-pay", "li.wei");
    let app = s.submit_sample(&firm).await;
    // Up to the joint decision (nominated by ofds:chen, screened by investhk:amy).
    let app = s.play("soft-landing-sz-to-hk", app, &firm, 0..5).await;
    let chen = s.person("ofds", "chen");
    let ivy = s.person("ofds", "ivy");
    let seat = |tasks: &serde_json::Value| {
        tasks["data"]["application"]["openTasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["state"] == "joint_decision" && t["assignee"] == "ofds")
            .cloned()
            .unwrap_or_else(|| panic!("the OFDS seat: {tasks}"))
    };
    let as_chen = seat(&s.gql(Some(&chen), TASKS, json!({"a": app["id"]})).await);
    assert_eq!(as_chen["barred"], true, "{as_chen}");
    assert_eq!(as_chen["barredBy"], "OFDS nomination", "{as_chen}");
    assert!(
        as_chen["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["barredBy"] == "OFDS nomination"),
        "{as_chen}"
    );
    let as_ivy = seat(&s.gql(Some(&ivy), TASKS, json!({"a": app["id"]})).await);
    assert_eq!(as_ivy["barred"], false, "{as_ivy}");
    assert!(
        as_ivy["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["barredBy"].is_null()),
        "{as_ivy}"
    );

    // The nominator cannot claim the seat they may not cast…
    let r = s.gql(Some(&chen), CLAIM, json!({"t": as_chen["id"]})).await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    assert_eq!(r["errors"][0]["extensions"]["reason"], "FOUR_EYES", "{r}");
    // …nor be handed it.
    let r = s
        .gql(
            Some(&ivy),
            DELEGATE,
            json!({"t": as_chen["id"], "to": "chen"}),
        )
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");

    // A claim made before this rule (or by any other way) that its holder cannot complete:
    // any colleague may take it over.
    let task_id = as_chen["id"].as_str().unwrap().to_owned();
    held_by(&s, "joint_decision", "ofds", "chen").await;
    let as_ivy = seat(&s.gql(Some(&ivy), TASKS, json!({"a": app["id"]})).await);
    assert_eq!(as_ivy["holderBarred"], true, "{as_ivy}");
    let r = s.gql(Some(&ivy), CLAIM, json!({"t": task_id})).await;
    assert_eq!(r["data"]["claimTask"]["claimedBy"], "ivy", "{r}");
    // A claim whose holder may complete it is not taken over.
    let dai = s.person("ofds", "dai");
    let r = s.gql(Some(&dai), CLAIM, json!({"t": task_id})).await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
    let as_dai = seat(&s.gql(Some(&dai), TASKS, json!({"a": app["id"]})).await);
    assert_eq!(as_dai["holderBarred"], false, "{as_dai}");
    // A firm is told nothing of who holds what.
    let as_firm = s.gql(Some(&firm), TASKS, json!({"a": app["id"]})).await;
    assert!(
        as_firm["data"]["application"]["openTasks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["holderBarred"] == false && t["claimedBy"].is_null()),
        "{as_firm}"
    );
}

/// Sets the claim of `agency`'s task at `state` (one application's) behind the server's back,
/// as an older release could have left it.
async fn held_by(s: &Server, state: &str, agency: &str, person: &str) {
    use sea_orm::{ConnectionTrait, Database};
    let raw = Database::connect(s.db.url.as_str()).await.unwrap();
    raw.execute_unprepared(&format!(
        "UPDATE tasks SET claimed_by = '{person}' WHERE state = '{state}' AND assignee = '{agency}'"
    ))
    .await
    .unwrap();
}
