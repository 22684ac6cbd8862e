//! Places over HTTP (issue "Places"): a firm offers a position with three places, ten
//! students (directory role `student`, no organisation) apply, and the firm's offers to all ten
//! — from its own inbox — race: on one server, and on PostgreSQL through three servers at
//! once. Exactly three hold a place, seven wait in line; a withdrawal gives a place back and
//! promotes the first in line, once.

use serde_json::{Value, json};

use crate::support::{Server, gql_at, on_both_backends};

const SUBMIT: &str = "mutation($d: JSON!, $p: ID!) { submitApplication(input: {workflowKey: \"internship-placement\", data: $d, positionId: $p}) { id openTasks { id state assignee } } }";
const ACT: &str = "mutation($t: ID!, $a: String!, $d: JSON) { act(input: {taskId: $t, action: $a, data: $d}) { id activeStates openTasks { id state assignee } } }";
const POSITION: &str =
    "query($id: ID!) { position(id: $id) { places placesTaken waitlisted organization { key } } }";
const STATES: &str = "query($id: ID!) { application(id: $id) { activeStates history { kind } } }";

on_both_backends!(
    three_places_ten_offers_three_hold_seven_wait,
    a_firm_changes_and_withdraws_its_position,
    a_student_profile_is_kept_and_starts_the_next_form
);

async fn three_places_ten_offers_three_hold_seven_wait(s: Server) {
    let postgres = s.db.url.starts_with("postgres");
    // On PostgreSQL the offers race through three servers on the one database.
    let peers: Vec<_> = if postgres {
        vec![s.another(), s.another()]
    } else {
        Vec::new()
    };
    let urls: Vec<String> = std::iter::once(s.url.clone())
        .chain(peers.iter().map(|p| p.url.clone()))
        .collect();
    let firm = s.applicant_key("sz-fintech-desk", "hr");
    let position = s.offer_position(&firm, 3).await;
    let office = s.person("programme_office", "pat");
    let data = crate::support::example("internship-placement");

    // A student offers no position.
    let student = s.key(&["--role", "student", "--name", "student-x"]);
    let r = s
        .gql(
            Some(&student),
            "mutation { offerPosition(input: {title: \"t\", description: \"d\", places: 1, closesOn: \"2099-01-01\"}) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(crate::support::code(&r), "FORBIDDEN", "{r}");

    // Ten students apply and pass the eligibility check.
    let mut students = Vec::new();
    let mut interviews = Vec::new();
    for i in 0..10 {
        let student = s.key(&["--role", "student", "--name", &format!("student-{i}")]);
        let r = s
            .gql(Some(&student), SUBMIT, json!({"d": data, "p": position}))
            .await;
        assert!(r["errors"].is_null(), "{r}");
        let app = &r["data"]["submitApplication"];
        let task = app["openTasks"][0]["id"].clone();
        let r = s
            .gql(Some(&office), ACT, json!({"t": task, "a": "eligible"}))
            .await;
        assert!(r["errors"].is_null(), "{r}");
        let interview = r["data"]["act"]["openTasks"][0].clone();
        assert_eq!(interview["state"], "interview", "{r}");
        // The firm offering the position interviews, not a shared agency.
        assert_eq!(interview["assignee"], "host:sz-fintech-desk", "{r}");
        students.push((app["id"].as_str().expect("an id").to_owned(), student));
        interviews.push(interview["id"].clone());
    }

    // The interviews are in the firm's own inbox, and the firm sees the students'
    // applications; another firm sees neither.
    let inbox = "{ inbox(first: 50) { edges { node { id state } } } }";
    let r = s.gql(Some(&firm), inbox, json!({})).await;
    let listed = r["data"]["inbox"]["edges"].as_array().map_or(0, Vec::len);
    assert_eq!(listed, 10, "{r}");
    let r = s
        .gql(Some(&firm), STATES, json!({"id": students[0].0}))
        .await;
    assert!(r["data"]["application"].is_object(), "{r}");
    let other = s.applicant_key("another-firm", "hr");
    let r = s.gql(Some(&other), inbox, json!({})).await;
    assert_eq!(
        r["data"]["inbox"]["edges"].as_array().map_or(0, Vec::len),
        0,
        "{r}"
    );
    let r = s
        .gql(Some(&other), STATES, json!({"id": students[0].0}))
        .await;
    assert!(r["data"]["application"].is_null(), "{r}");

    // Ten offers at once, each by its own interviewer at the firm, ranked 1 to 10 for the
    // waitlist.
    let hr: Vec<String> = (0..10)
        .map(|i| s.applicant_key("sz-fintech-desk", &format!("hr-{i}")))
        .collect();
    let offers = interviews.iter().enumerate().map(|(i, task)| {
        let url = urls[i % urls.len()].clone();
        let token = hr[i].clone();
        let vars = json!({"t": task, "a": "offer", "d": {"mentor": "Ms Lee", "rank": i + 1}});
        tokio::spawn(async move { gql_at(&url, Some(&token), ACT, vars).await })
    });
    for r in futures_util::future::join_all(offers).await {
        let r = r.expect("the offer ran");
        assert!(
            r["errors"].is_null(),
            "every offer is taken (held or waitlisted): {r}"
        );
    }

    let now = states(&s, &students).await;
    let in_state = |list: &[Value], st: &str| {
        list.iter()
            .filter(|a| {
                a["activeStates"]
                    .as_array()
                    .is_some_and(|v| v.iter().any(|x| x == st))
            })
            .count()
    };
    assert_eq!(in_state(&now, "offer_made"), 3, "{now:?}");
    assert_eq!(in_state(&now, "waitlisted"), 7, "{now:?}");
    let counts = s.gql(Some(&firm), POSITION, json!({"id": position})).await;
    let p = &counts["data"]["position"];
    assert_eq!(
        (
            p["places"].as_i64(),
            p["placesTaken"].as_i64(),
            p["waitlisted"].as_i64()
        ),
        (Some(3), Some(3), Some(7)),
        "{counts}"
    );
    assert_eq!(p["organization"]["key"], "sz-fintech-desk");

    // A student holding an offer withdraws: the first in line (the best rank waiting) is
    // promoted to an offer, once.
    let holder = now
        .iter()
        .position(|a| {
            a["activeStates"]
                .as_array()
                .is_some_and(|v| v.iter().any(|x| x == "offer_made"))
        })
        .expect("a holder");
    let waiting: Vec<usize> = (0..10)
        .filter(|i| {
            now[*i]["activeStates"]
                .as_array()
                .is_some_and(|v| v.iter().any(|x| x == "waitlisted"))
        })
        .collect();
    let first_in_line = *waiting.iter().min().expect("someone waits");
    let (id, token) = &students[holder];
    let r = s
        .gql(
            Some(token),
            "mutation($id: ID!) { withdrawApplication(id: $id, reason: \"another offer\") { status } }",
            json!({"id": id}),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    // The place keepers of every server run too: give them a pass to find nothing to do.
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    let after = states(&s, &students).await;
    assert_eq!(in_state(&after, "offer_made"), 3, "{after:?}");
    assert_eq!(in_state(&after, "waitlisted"), 6, "{after:?}");
    assert!(
        after[first_in_line]["activeStates"]
            .as_array()
            .is_some_and(|v| v.iter().any(|x| x == "offer_made")),
        "the best-ranked student waiting was promoted: {after:?}"
    );
    let places_changed = |a: &Value| {
        a["history"].as_array().map_or(0, |h| {
            h.iter().filter(|e| e["kind"] == "place_changed").count()
        })
    };
    // Waitlisted, then promoted: two changes, not three.
    assert_eq!(places_changed(&after[first_in_line]), 2, "{after:?}");
    let counts = s.gql(Some(&firm), POSITION, json!({"id": position})).await;
    let p = &counts["data"]["position"];
    assert_eq!(
        (p["placesTaken"].as_i64(), p["waitlisted"].as_i64()),
        (Some(3), Some(6)),
        "{counts}"
    );
}

/// Each student's application: its active states and its history's kinds.
async fn states(s: &Server, students: &[(String, String)]) -> Vec<Value> {
    let mut out = Vec::new();
    for (id, token) in students {
        let r = s.gql(Some(token), STATES, json!({"id": id})).await;
        assert!(r["errors"].is_null(), "{r}");
        out.push(r["data"]["application"].clone());
    }
    out
}

/// A firm's position is its own to change: one more place promotes the first in line at once;
/// fewer places than are taken is refused, and so is another firm; a withdrawn position is no
/// longer listed and takes no application.
async fn a_firm_changes_and_withdraws_its_position(s: Server) {
    let firm = s.applicant_key("sz-one-desk", "hr");
    let position = s.offer_position(&firm, 1).await;
    let office = s.person("programme_office", "pat");
    let data = crate::support::example("internship-placement");
    let mut offered = Vec::new();
    let mut students = Vec::new();
    for i in 0..2 {
        let student = s.key(&["--role", "student", "--name", &format!("desk-student-{i}")]);
        let r = s
            .gql(Some(&student), SUBMIT, json!({"d": data, "p": position}))
            .await;
        let app = r["data"]["submitApplication"].clone();
        let r = s
            .gql(
                Some(&office),
                ACT,
                json!({"t": app["openTasks"][0]["id"], "a": "eligible"}),
            )
            .await;
        let interview = r["data"]["act"]["openTasks"][0]["id"].clone();
        let r = s
            .gql(
                Some(&firm),
                ACT,
                json!({"t": interview, "a": "offer", "d": {"mentor": "Ms Lee"}}),
            )
            .await;
        assert!(r["errors"].is_null(), "{r}");
        offered.push(r["data"]["act"]["activeStates"][0].clone());
        students.push((app["id"].as_str().expect("an id").to_owned(), student));
    }
    assert_eq!(offered, vec![json!("offer_made"), json!("waitlisted")]);

    const CHANGE: &str = "mutation($id: ID!, $n: Int) { changePosition(id: $id, input: {places: $n, location: \"Qianhai\"}) { places placesTaken waitlisted } }";
    let other = s.applicant_key("another-desk", "hr");
    let r = s
        .gql(Some(&other), CHANGE, json!({"id": position, "n": 5}))
        .await;
    assert_eq!(crate::support::code(&r), "FORBIDDEN", "{r}");
    let r = s
        .gql(Some(&firm), CHANGE, json!({"id": position, "n": 0}))
        .await;
    assert_eq!(crate::support::code(&r), "BAD_USER_INPUT", "{r}");
    // A second place: the student in line is promoted to an offer.
    let r = s
        .gql(Some(&firm), CHANGE, json!({"id": position, "n": 2}))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let p = &r["data"]["changePosition"];
    assert_eq!(
        (p["placesTaken"].as_i64(), p["waitlisted"].as_i64()),
        (Some(2), Some(0)),
        "{r}"
    );
    let now = states(&s, &students).await;
    assert_eq!(now[1]["activeStates"], json!(["offer_made"]), "{now:?}");

    // Withdrawn: no longer among the open positions, and no one applies for it.
    let r = s
        .gql(
            Some(&firm),
            "mutation($id: ID!) { withdrawPosition(id: $id) { status } }",
            json!({"id": position}),
        )
        .await;
    assert_eq!(r["data"]["withdrawPosition"]["status"], "withdrawn", "{r}");
    let r = s
        .query(
            Some(&firm),
            "{ positions(filter: {open: true, organization: \"sz-one-desk\"}) { id } }",
        )
        .await;
    assert_eq!(r["data"]["positions"], json!([]), "{r}");
    let late = s.key(&["--role", "student", "--name", "late-student"]);
    let r = s
        .gql(Some(&late), SUBMIT, json!({"d": data, "p": position}))
        .await;
    assert_eq!(crate::support::code(&r), "BAD_USER_INPUT", "{r}");
}

/// A student says who they are once: the profile they save (only its known fields), or what
/// their application's form said of them, is what their next form starts from. Nobody but a
/// student has one.
async fn a_student_profile_is_kept_and_starts_the_next_form(s: Server) {
    let student = s.key(&["--role", "student", "--name", "chan.tai.man"]);
    const SAVE: &str = "mutation($p: JSON!) { saveStudentProfile(profile: $p) }";
    let r = s
        .gql(
            Some(&student),
            SAVE,
            json!({"p": {"university": "hku", "gpa": 4}}),
        )
        .await;
    assert_eq!(
        crate::support::code(&r),
        "BAD_USER_INPUT",
        "an unknown field: {r}"
    );
    let r = s
        .gql(
            Some(&student),
            SAVE,
            json!({"p": {"university": "hku", "year_of_study": 2, "hk_permanent_resident": true}}),
        )
        .await;
    assert_eq!(r["data"]["saveStudentProfile"]["university"], "hku", "{r}");
    let r = s.query(Some(&student), "{ studentProfile }").await;
    assert_eq!(r["data"]["studentProfile"]["year_of_study"], 2, "{r}");

    // Applying keeps what the form said of them (its student section's known fields).
    let position = s.example_position().await;
    let data = crate::support::example("internship-placement");
    let r = s
        .gql(Some(&student), SUBMIT, json!({"d": data, "p": position}))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let r = s.query(Some(&student), "{ studentProfile }").await;
    let p = &r["data"]["studentProfile"];
    assert_eq!(p["university"], data["student"]["university"], "{r}");
    assert_eq!(p["year_of_study"], data["student"]["year_of_study"], "{r}");
    assert!(
        p.get("gpa").is_none(),
        "only the profile's fields are kept: {r}"
    );

    let firm = s.applicant_key("profile-firm", "hr");
    let r = s.query(Some(&firm), "{ studentProfile }").await;
    assert_eq!(crate::support::code(&r), "FORBIDDEN", "{r}");
}
