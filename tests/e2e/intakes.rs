//! Intakes over HTTP (issue "Places"): once a programme admitting by intake has opened one, it
//! takes applications only while an intake is open, each belongs to the intake of its day,
//! and the intake's places are held like a position's — the rest wait in line. Only
//! administrators open and close intakes; intakes of one programme do not overlap. HKSTP's
//! incubation in the bundled Shenzhen → Hong Kong programme draws on its intakes' places.

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

on_both_backends!(
    an_intake_admits_its_places_and_the_rest_wait,
    hkstp_admits_to_incubation_from_the_intake_s_places
);

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
    // Before its first intake the programme does not admit by intake yet: an application is
    // outside every intake, and HKSTP's admission takes no place.
    let r = s.query(Some(&firm), SUBMIT).await;
    assert!(r["errors"].is_null(), "{r}");
    let early = r["data"]["submitApplication"]["openTasks"][0]["id"].clone();

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
    for task in std::iter::once(&early).chain(&reviews) {
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
        (3, 1),
        "the early application and two of the intake's hold places; one waits: {states:?}"
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

/// The bundled Shenzhen → Hong Kong programme: HKSTP's admission takes one of the intake's
/// places (refused with POOL_FULL when none is left); a later refusal by InvestHK gives it
/// back, and approval keeps it.
async fn hkstp_admits_to_incubation_from_the_intake_s_places(s: Server) {
    let today = chrono::Utc::now()
        .with_timezone(&softland_workflow::HONG_KONG)
        .date_naive();
    let intake = json!({"workflowKey": "soft-landing-sz-to-hk", "name": "2027 incubation", "opensOn": today.to_string(), "closesOn": (today + chrono::Duration::days(90)).to_string(), "places": 1});
    let r = s.gql(Some(&s.admin), OPEN, json!({"i": intake})).await;
    assert!(r["errors"].is_null(), "{r}");

    let (ofds, investhk, hkstp) = (
        s.person("ofds", "chen"),
        s.person("investhk", "amy"),
        s.person("hkstp", "ben"),
    );
    let task_of = |r: &Value, state: &str| -> Value {
        r["data"]["act"]["openTasks"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["state"] == state))
            .map_or(Value::Null, |t| t["id"].clone())
    };
    // Two firms reach the Hong Kong reviews.
    let mut at_reviews = Vec::new();
    for firm in ["szfintech-a", "szfintech-b"] {
        let token = s.applicant_key(firm, "ceo");
        let app = s.submit_sample(&token).await;
        let r = act(
            &s,
            &ofds,
            &app["openTasks"][0]["id"],
            "nominate",
            Value::Null,
        )
        .await;
        let screening = task_of(&r, "eligibility_screening");
        let r = act(&s, &investhk, &screening, "eligible", Value::Null).await;
        at_reviews.push((
            task_of(&r, "hkstp_review"),
            task_of(&r, "investhk_setup_review"),
        ));
    }
    let (first, second) = (&at_reviews[0], &at_reviews[1]);
    let r = act(&s, &hkstp, &first.0, "admit", Value::Null).await;
    assert!(r["errors"].is_null(), "{r}");
    // The intake's one place is taken: HKSTP cannot admit the second firm.
    let r = act(&s, &hkstp, &second.0, "admit", Value::Null).await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
    assert_eq!(r["errors"][0]["extensions"]["reason"], "POOL_FULL", "{r}");
    // InvestHK refuses the first firm's set-up plan: its incubation place goes back …
    let r = act(
        &s,
        &investhk,
        &first.1,
        "reject",
        json!({"reason": "No office lease in Hong Kong yet"}),
    )
    .await;
    assert!(r["errors"].is_null(), "{r}");
    // … and the second firm gets it.
    let r = act(&s, &hkstp, &second.0, "admit", Value::Null).await;
    assert!(r["errors"].is_null(), "{r}");
    let r = s
        .query(
            Some(&s.admin),
            "{ intakes(workflowKey: \"soft-landing-sz-to-hk\") { name places placesTaken waitlisted applications } }",
        )
        .await;
    let i = &r["data"]["intakes"][0];
    assert_eq!(
        (
            i["applications"].as_i64(),
            i["placesTaken"].as_i64(),
            i["waitlisted"].as_i64()
        ),
        (Some(2), Some(1), Some(0)),
        "{r}"
    );
    // The oversight report groups the programme's applications by intake.
    let r = s
        .query(
            Some(&s.admin),
            "{ report(input: {workflowKey: \"soft-landing-sz-to-hk\"}) { byIntake { group counts { total byResult { result count } } } } }",
        )
        .await;
    assert_eq!(
        r["data"]["report"]["byIntake"],
        json!([{"group": "2027 incubation", "counts": {"total": 2, "byResult": [{"result": "open", "count": 1}, {"result": "rejected", "count": 1}]}}]),
        "{r}"
    );
}

/// `token` takes `action` on `task`; the response (`act { openTasks { id state } }`).
async fn act(s: &Server, token: &str, task: &Value, action: &str, input: Value) -> Value {
    let vars = json!({"i": {"taskId": task, "action": action, "data": input}});
    s.gql(
        Some(token),
        "mutation($i: ActInput!) { act(input: $i) { openTasks { id state } } }",
        vars,
    )
    .await
}
