//! Intakes over HTTP (issue "Places"): a programme admitting by intake takes applications only
//! while an intake is open, each belongs to the intake of its day, and the intake's places are
//! held like a position's — the rest wait in line. Only administrators open and close
//! intakes; intakes of one programme do not overlap.

use serde_json::{Value, json};

use crate::support::{Server, code, on_both_backends};

const INCUBATION: &str = r#"
key: incubation-intake
title: Incubation by intake
agencies: [hkstp]
form: {type: object}
pools:
  desks: {per: intake}
start: review
states:
  review:
    type: task
    assignee: hkstp
    actions:
      admit: {to: admitted_pending, reserve: desks, when_full: waitlist}
      reject: rejected
  waitlist: {type: waitlist, pool: desks, promote_to: admitted_pending}
  admitted_pending:
    type: task
    assignee: hkstp
    actions:
      confirm: {to: admitted, confirm: desks}
      withdraw_offer: {to: rejected, release: desks}
  admitted: {type: final, outcome: admitted}
  rejected: {type: final, outcome: rejected}
"#;

const SUBMIT: &str = "mutation { submitApplication(input: {workflowKey: \"incubation-intake\", data: {}}) { id openTasks { id state } } }";
const OPEN: &str = "mutation($i: OpenIntakeInput!) { openIntake(input: $i) { id name places placesTaken waitlisted applications status } }";
const INTAKES: &str = "{ intakes(workflowKey: \"incubation-intake\") { id name places placesTaken waitlisted applications status } }";

on_both_backends!(an_intake_admits_its_places_and_the_rest_wait);

async fn an_intake_admits_its_places_and_the_rest_wait(s: Server) {
    let r = s
        .gql(
            Some(&s.admin),
            "mutation($y: String!) { publishWorkflow(yaml: $y) { key } }",
            json!({"y": INCUBATION}),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let firm = s.applicant_key("incubatee-0", "ceo");
    // No intake is open: the programme takes no application.
    let r = s.query(Some(&firm), SUBMIT).await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");

    let today = chrono::Utc::now()
        .with_timezone(&softland_workflow::HONG_KONG)
        .date_naive();
    let intake = json!({"workflowKey": "incubation-intake", "name": "Spring intake", "opensOn": (today - chrono::Duration::days(1)).to_string(), "closesOn": (today + chrono::Duration::days(30)).to_string(), "places": 2});
    // Only administrators open intakes.
    let r = s.gql(Some(&firm), OPEN, json!({"i": intake})).await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    let r = s.gql(Some(&s.admin), OPEN, json!({"i": intake})).await;
    assert!(r["errors"].is_null(), "{r}");
    let id = r["data"]["openIntake"]["id"].clone();
    // Another over the same days is refused: an application belongs to one intake.
    let r = s.gql(Some(&s.admin), OPEN, json!({"i": intake})).await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");

    // Three firms apply; HKSTP admits all three: two hold the intake's places, one waits.
    let hkstp = s.person("hkstp", "ben");
    let mut reviews = Vec::new();
    for i in 0..3 {
        let token = s.applicant_key(&format!("incubatee-{i}"), "ceo");
        let r = s.query(Some(&token), SUBMIT).await;
        assert!(r["errors"].is_null(), "{r}");
        reviews.push(r["data"]["submitApplication"]["openTasks"][0]["id"].clone());
    }
    let mut states = Vec::new();
    for task in &reviews {
        let r = s
            .gql(
                Some(&hkstp),
                "mutation($t: ID!) { act(input: {taskId: $t, action: \"admit\"}) { activeStates } }",
                json!({"t": task}),
            )
            .await;
        assert!(r["errors"].is_null(), "{r}");
        states.push(r["data"]["act"]["activeStates"][0].clone());
    }
    let count = |st: &str| states.iter().filter(|s| **s == json!(st)).count();
    assert_eq!(
        (count("admitted_pending"), count("waitlist")),
        (2, 1),
        "{states:?}"
    );
    let r = s.query(Some(&firm), INTAKES).await;
    let i: &Value = &r["data"]["intakes"][0];
    assert_eq!(
        (
            i["applications"].as_i64(),
            i["placesTaken"].as_i64(),
            i["waitlisted"].as_i64()
        ),
        (Some(3), Some(2), Some(1)),
        "{r}"
    );

    // Closed early: no more applications.
    let r = s
        .gql(
            Some(&s.admin),
            "mutation($id: ID!) { closeIntake(id: $id) { status } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(r["data"]["closeIntake"]["status"], "closed", "{r}");
    let r = s.query(Some(&firm), SUBMIT).await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
}
