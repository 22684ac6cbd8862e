//! A student and a firm walk the whole internship in a real browser (issue "Places"): the
//! firm's staff offer a position from the console, a student (directory role `student`, no
//! organisation) finds it among the open positions and applies through the generated form,
//! the programme office finds the student eligible, the firm offers a place from its own inbox
//! (the position's count shows it taken), the student accepts, the programme office approves,
//! and the student sees the placement. Screenshots of every step go to
//! `<target>/tmp/console-screenshots/internship-*`.

use serde_json::{Value, json};

use crate::cdp::chromium;
use crate::console::{ENGLISH, accessible, shots, sign_in};
use crate::support::{Server, example};

/// The example application as `(JSON pointer, value)` pairs: what a person types.
fn typed(data: &Value, pointer: &str, out: &mut Vec<(String, Value)>) {
    match data {
        Value::Object(map) => {
            for (k, v) in map {
                typed(v, &format!("{pointer}/{k}"), out);
            }
        }
        other => out.push((pointer.to_owned(), other.clone())),
    }
}

crate::support::on_both_backends!(
    "needs Chromium: the full suite (scripts/with-services) installs it";
    a_student_and_a_firm_walk_an_internship_in_the_console
);

async fn a_student_and_a_firm_walk_an_internship_in_the_console(s: Server) {
    let name = if s.db.url.starts_with("postgres") {
        "internship-postgres"
    } else {
        "internship"
    };
    let firm_key = s.applicant_key("pengcheng-pay", "li.wei");
    let named = s
        .gql(
            Some(&s.admin),
            "mutation($o: OrganizationInput!) { putOrganization(input: $o) { key } }",
            json!({"o": {"key": "pengcheng-pay", "name": "Pengcheng Pay Technology Co., Ltd.", "nameZhHant": "鵬程支付科技有限公司", "nameZhHans": "鹏程支付科技有限公司", "region": "mainland"}}),
        )
        .await;
    assert!(named["errors"].is_null(), "{named}");
    let student_key = s.key(&["--role", "student", "--name", "wong.ka.yan"]);
    let browser = chromium();
    let dir = shots(name);
    let root = format!("{}/", s.url);
    let w = &ENGLISH;

    // The firm offers a position with two places.
    let mut firm = browser.tab(&root, "firm", &dir).await;
    sign_in(&mut firm, &firm_key, w).await;
    firm.goto(&format!("{}/positions", s.url)).await;
    firm.run(
        "fill(document, [['title', 'Payments engineering intern'], ['title_zh_hant', '支付工程實習生'], ['description', 'Build cross-boundary payment rails with our Shenzhen team'], ['location', 'Shenzhen, Nanshan'], ['places', '2'], ['closes_on', '2099-06-30']])",
    )
    .await;
    firm.screenshot("offer-position").await;
    firm.then_next_page("document.querySelector('form[action=\"/positions\"]').requestSubmit()")
        .await;
    let text = firm.text().await;
    assert!(text.contains("Your firm's positions"), "{text}");
    assert!(text.contains("Payments engineering intern"), "{text}");
    accessible(&mut firm, w, "positions (firm)").await;
    firm.screenshot("position-offered").await;

    // The student finds it and applies.
    let mut student = browser.tab(&root, "student", &dir).await;
    sign_in(&mut student, &student_key, w).await;
    student
        .then_next_page(
            "byText('a.button', 'Apply: Shenzhen fintech summer internship for Hong Kong students').click()",
        )
        .await;
    assert_eq!(student.path().await, "/positions");
    let text = student.text().await;
    assert!(text.contains("Payments engineering intern"), "{text}");
    assert!(
        text.contains("Pengcheng Pay Technology Co., Ltd."),
        "{text}"
    );
    accessible(&mut student, w, "positions (student)").await;
    student.screenshot("open-positions").await;
    student
        .then_next_page("byText('a.button', 'Apply for this position').click()")
        .await;
    student
        .wait_for(
            "document.querySelector('form.generated')",
            "the generated form",
        )
        .await;
    let applying = student
        .eval("document.querySelector('#position').textContent")
        .await;
    assert!(
        applying
            .as_str()
            .is_some_and(|t| t.contains("Payments engineering intern")),
        "{applying}"
    );
    let mut fields = Vec::new();
    typed(&example("internship-placement"), "", &mut fields);
    student
        .run(&format!(
            "fill(document.querySelector('form.generated'), {})",
            serde_json::to_string(&fields).unwrap()
        ))
        .await;
    student.screenshot("application-filled").await;
    student
        .then_next_page("document.querySelector('form.generated').requestSubmit()")
        .await;
    let app_path = student.path().await;
    assert!(app_path.starts_with("/applications/"), "{app_path}");
    let app_id = app_path
        .trim_start_matches("/applications/")
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    let text = student.text().await;
    assert!(text.contains("Eligibility check"), "{text}");
    student.screenshot("submitted").await;

    // The programme office finds the student eligible (over the API: the console walk of an
    // agency's reviewer is the soft-landing test's).
    let office = s.person("programme_office", "pat");
    let open = |app: &Value| app["openTasks"].as_array().cloned().unwrap_or_default();
    let q = "query($id: ID!) { application(id: $id) { openTasks { id state } } }";
    let app = s.gql(Some(&office), q, json!({"id": app_id})).await;
    let task = open(&app["data"]["application"])[0]["id"].clone();
    let r = s
        .gql(
            Some(&office),
            "mutation($t: ID!) { act(input: {taskId: $t, action: \"eligible\"}) { id } }",
            json!({"t": task}),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");

    // The firm's inbox holds the interview; it offers a place with a mentor.
    firm.goto(&format!("{}/inbox", s.url)).await;
    let text = firm.text().await;
    assert!(text.contains("Host firm interview"), "{text}");
    firm.screenshot("firm-inbox").await;
    firm.goto(&format!("{}/applications/{app_id}", s.url)).await;
    firm.then_next_page("act('Host firm interview', 'Offer a place', [['/mentor', 'Ms Lee'], ['/stipend_cny', '6000']])")
        .await;
    let text = firm.text().await;
    assert!(text.contains("Accept the offer"), "{text}");
    // The history says what happened to the place; the student is named as the directory
    // names them, not by the scope their applications are filed under.
    assert!(text.contains("Place reserved"), "{text}");
    assert!(!text.contains("student:"), "{text}");
    assert!(text.contains("the host firm"), "{text}");
    firm.screenshot("offered").await;
    firm.goto(&format!("{}/positions", s.url)).await;
    let taken = firm
        .eval("Array.from(document.querySelectorAll('table tbody tr')).map(r => Array.from(r.cells).map(c => c.textContent.trim()))[0]")
        .await;
    assert_eq!(taken[1], json!("2"), "places: {taken}");
    assert_eq!(taken[2], json!("1"), "one taken: {taken}");

    // The student accepts the offer.
    student
        .goto(&format!("{}/applications/{app_id}", s.url))
        .await;
    student.screenshot("offer-to-accept").await;
    student
        .then_next_page("act('Accept the offer', 'Accept', [])")
        .await;
    let text = student.text().await;
    assert!(text.contains("Programme office approval"), "{text}");

    // A second programme officer approves; the student sees the placement.
    let quinn = s.person("programme_office", "quinn");
    let app = s.gql(Some(&quinn), q, json!({"id": app_id})).await;
    let task = open(&app["data"]["application"])[0]["id"].clone();
    let r = s
        .gql(
            Some(&quinn),
            "mutation($t: ID!) { act(input: {taskId: $t, action: \"approve\"}) { status outcome } }",
            json!({"t": task}),
        )
        .await;
    assert_eq!(r["data"]["act"]["outcome"], "placed", "{r}");
    student
        .goto(&format!("{}/applications/{app_id}", s.url))
        .await;
    let text = student.text().await;
    assert!(text.contains("Placed"), "{text}");
    accessible(&mut student, w, "placed").await;
    student.screenshot("placed").await;
}
