//! The console in a real browser (issue 15): headless Chromium walks a whole
//! `soft-landing-sz-to-hk` application, each person in a browser context of their own signed in
//! with an API key — the firm submits through the generated form (fixing a field the server
//! refused), OFDS nominates, InvestHK asks a question, the firm reads it and answers, HKSTP and
//! InvestHK review in parallel (a four-eyes refusal shown), the HKMA referral, the 2-of-3 joint
//! decision (another four-eyes refusal), and the firm sees the outcome; another firm cannot
//! open the application by URL; sign-out ends the session. Screenshots of every step go to
//! `<target>/tmp/console-screenshots/`.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::cdp::{Tab, chromium};
use crate::support::{Server, example};

/// Where this test's screenshots go.
pub(crate) fn shots(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("console-screenshots")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The example application as `(JSON pointer, value)` pairs: what a person types.
fn typed(data: &Value, pointer: &str, out: &mut Vec<(String, Value)>) {
    match data {
        Value::Object(map) => {
            for (k, v) in map {
                typed(v, &format!("{pointer}/{k}"), out);
            }
        }
        Value::Array(items) if pointer.ends_with("existing_licences") => {
            out.push((format!("{pointer}[]"), Value::Array(items.clone())));
        }
        other => out.push((pointer.to_owned(), other.clone())),
    }
}

/// What the walk reads and clicks, in the language it walks in.
pub(crate) struct Words {
    /// The language switch's tag (`None`: the browser's default, English).
    switch: Option<&'static str>,
    api_key: &'static str,
    company: &'static str,
    apply: &'static str,
    ofds_nomination: &'static str,
    nominate: &'static str,
    eligibility: &'static str,
    request_info: &'static str,
    answer_task: &'static str,
    uscc_error: &'static str,
    too_short: &'static str,
    firm_name: &'static str,
    task_one: &'static str,
    tasks: &'static str,
    overdue: &'static str,
    answer: &'static str,
    eligible: &'static str,
    setup: &'static str,
    clear: &'static str,
    hkstp: &'static str,
    admit: &'static str,
    hkma: &'static str,
    sandbox: &'static str,
    joint: &'static str,
    approve: &'static str,
    claim: &'static str,
    claimed_by_chen: &'static str,
    not_yours: &'static str,
    hong_kong_time: &'static str,
    outcome: [&'static str; 2],
    investhk: &'static str,
}

pub(crate) const ENGLISH: Words = Words {
    switch: None,
    api_key: "API key",
    company: "Company",
    apply: "Apply: Shenzhen → Hong Kong fintech soft landing",
    ofds_nomination: "OFDS nomination",
    nominate: "Nominate",
    eligibility: "InvestHK eligibility screening",
    request_info: "Request information",
    answer_task: "Answer InvestHK's questions",
    uscc_error: "The unified social credit code is the 18 letters and digits on the business licence, e.g. 91440300MA5G2XK81W.",
    too_short: "needs at least 5 characters",
    firm_name: "Pengcheng Pay Technology Co., Ltd.",
    task_one: "task",
    tasks: "tasks",
    overdue: "Overdue",
    answer: "Answer",
    eligible: "Eligible",
    setup: "InvestHK business set-up review",
    clear: "Clear set-up plan",
    hkstp: "HKSTP incubation and space review",
    admit: "Admit to incubation",
    hkma: "HKMA Fintech Supervisory Sandbox referral",
    sandbox: "Admit to sandbox",
    joint: "Joint decision",
    approve: "Approve",
    claim: "Claim",
    claimed_by_chen: "Claimed by: chen",
    not_yours: "does not exist, or you may not see it",
    hong_kong_time: "HKT",
    outcome: ["Completed", "Approved"],
    investhk: "Invest Hong Kong",
};

const TRADITIONAL_CHINESE: Words = Words {
    switch: Some("zh-Hant"),
    api_key: "API 金鑰",
    company: "公司",
    apply: "申請: 深圳金融科技企業赴港軟著陸",
    ofds_nomination: "深圳金融辦提名",
    nominate: "提名",
    eligibility: "投資推廣署資格審核",
    request_info: "要求補充資料",
    answer_task: "回覆投資推廣署查詢",
    uscc_error: "統一社會信用代碼是營業執照上的18位字母和數字，例如 91440300MA5G2XK81W。",
    too_short: "最少需要 5 個字元",
    firm_name: "鵬程支付科技有限公司",
    task_one: "項工作",
    tasks: "項工作",
    overdue: "已逾期",
    answer: "回覆",
    eligible: "符合資格",
    setup: "投資推廣署公司設立審批",
    clear: "批准設立計劃",
    hkstp: "科技園培育及場地審批",
    admit: "接納培育",
    hkma: "金管局金融科技監管沙盒轉介",
    sandbox: "納入沙盒",
    joint: "聯合決定",
    approve: "批准",
    claim: "認領",
    claimed_by_chen: "處理人: chen",
    not_yours: "此頁不存在，或你無權查看。",
    hong_kong_time: "香港時間",
    outcome: ["已完成", "已批准"],
    investhk: "投資推廣署",
};

/// Signs `tab` in with `key` (switching to the walk's language first, as a person would with
/// the switch on the page) and waits for the page sign-in leads to.
pub(crate) async fn sign_in(tab: &mut Tab, key: &str, w: &Words) {
    tab.wait_for("document.querySelector('#api_key')", "the sign-in form")
        .await;
    if let Some(tag) = w.switch {
        tab.then_next_page(&format!(
            "document.querySelector('nav.langs a[hreflang={tag:?}]').click()"
        ))
        .await;
        let label = tab
            .eval("document.querySelector('label[for=api_key]').textContent")
            .await;
        assert_eq!(label, json!(w.api_key));
        assert_eq!(tab.eval("document.documentElement.lang").await, json!(tag));
    }
    tab.run(&format!("fill(document, [['api_key', {key:?}]])"))
        .await;
    tab.then_next_page("document.querySelector('form.card').requestSubmit()")
        .await;
}

/// Fails on any serious or critical accessibility violation of the page (English walk only:
/// the pages are the same in every language).
pub(crate) async fn accessible(tab: &mut Tab, w: &Words, page: &str) {
    if w.switch.is_none() {
        let violations = tab.accessibility_violations().await;
        assert!(violations.is_empty(), "{page}: {violations:#?}");
    }
}

/// Acts on the application page and waits for the page that follows.
async fn act(tab: &mut Tab, task: &str, action: &str, fields: Value) {
    tab.then_next_page(&format!("act({task:?}, {action:?}, {fields})"))
        .await;
}

/// The refusal shown at the form just submitted.
/// What the page says on the task titled `task` of someone a four-eyes rule bars from it, and
/// how many actions it offers them (of a joint decision's seats, the one that says so).
async fn barred(tab: &mut Tab, task: &str) -> (String, u64) {
    let v = tab
        .eval(&format!(
            "(() => {{ const all = Array.from(document.querySelectorAll('article.task')).filter(a => a.querySelector('h3').textContent.trim() === {task:?}); const a = all.find(a => a.querySelector('.notice.barred')) || all[0]; const n = a.querySelector('.notice.barred'); return [n ? n.textContent : '', a.querySelectorAll('details.action').length]; }})()"
        ))
        .await;
    (
        v[0].as_str().unwrap_or_default().to_owned(),
        v[1].as_u64().unwrap_or(u64::MAX),
    )
}

crate::support::on_both_backends!(
    "needs Chromium: the full suite (scripts/with-services) installs it";
    a_whole_application_is_worked_in_the_console
);

/// In English, on both databases.
async fn a_whole_application_is_worked_in_the_console(s: Server) {
    let name = if s.db.url.starts_with("postgres") {
        "sz-to-hk-en-postgres"
    } else {
        "sz-to-hk-en"
    };
    walk(s, &ENGLISH, name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: the full suite (scripts/with-services) installs it"]
async fn a_whole_application_is_worked_in_the_console_in_traditional_chinese() {
    let s = Server::start(softland_store::test_util::TestDb::sqlite());
    walk(s, &TRADITIONAL_CHINESE, "sz-to-hk-zh-hant").await;
}

async fn walk(s: Server, w: &Words, name: &str) {
    let firm_key = s.applicant_key("pengcheng-pay", "li.wei");
    // The firm as the directory names it, in three languages.
    let named = s
        .gql(
            Some(&s.admin),
            "mutation($o: OrganizationInput!) { putOrganization(input: $o) { key } }",
            json!({"o": {"key": "pengcheng-pay", "name": "Pengcheng Pay Technology Co., Ltd.", "nameZhHant": "鵬程支付科技有限公司", "nameZhHans": "鹏程支付科技有限公司", "region": "mainland"}}),
        )
        .await;
    assert!(named["errors"].is_null(), "{named}");
    let other_key = s.applicant_key("other-firm", "zhang");
    let chen = s.reviewer_key("ofds", "chen");
    let amy = s.reviewer_key("investhk", "amy");
    let carl = s.reviewer_key("investhk", "carl");
    let ben = s.reviewer_key("hkstp", "ben");
    let dora = s.reviewer_key("hkma", "dora");
    let browser = chromium();
    let dir = shots(name);
    let root = format!("{}/", s.url);

    // The firm: the console asks it to sign in, with an API key.
    let mut firm = browser.tab(&root, "firm", &dir).await;
    assert_eq!(firm.path().await, "/signin");
    firm.screenshot("sign-in").await;
    accessible(&mut firm, w, "sign-in").await;
    sign_in(&mut firm, &firm_key, w).await;
    accessible(&mut firm, w, "applications").await;
    assert_eq!(firm.path().await, "/applications");
    firm.then_next_page(&format!("byText('a.button', {:?}).click()", w.apply))
        .await;
    firm.wait_for(
        "document.querySelector('form.generated')",
        "the generated form",
    )
    .await;
    // The generated form: sections, choices, check boxes, a list, dates, required marks.
    let shape = firm
        .eval(
            "({legends: Array.from(document.querySelectorAll('form.generated legend')).map(l => l.textContent.trim()),
              district: document.querySelector('select[name=\"/company/district\"]') !== null,
              incorporated: document.querySelector('input[name=\"/company/incorporated_on\"]').type,
              activities: document.querySelectorAll('input[type=checkbox][name=\"/licensing/regulated_activities\"]').length,
              list: document.querySelector('[data-list] input[name=\"/licensing/existing_licences[]\"]') !== null,
              required: document.querySelectorAll('.required').length})",
        )
        .await;
    assert_eq!(shape["legends"][0], json!(w.company), "{shape}");
    assert_eq!(shape["district"], json!(true), "{shape}");
    assert_eq!(shape["incorporated"], json!("date"), "{shape}");
    assert_eq!(shape["activities"], json!(6), "{shape}");
    assert_eq!(shape["list"], json!(true), "{shape}");
    assert!(shape["required"].as_i64().unwrap() >= 15, "{shape}");

    // A credit code the schema refuses: the server's violation shows at its field.
    let mut fields = Vec::new();
    typed(&example("soft-landing-sz-to-hk"), "", &mut fields);
    let bad: Vec<(String, Value)> = fields
        .iter()
        .map(|(k, v)| {
            if k.ends_with("unified_social_credit_code") {
                (k.clone(), json!("not-a-code"))
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect();
    firm.run(&format!(
        "fill(document.querySelector('form.generated'), {})",
        serde_json::to_string(&bad).unwrap()
    ))
    .await;
    firm.screenshot("new-application-filled").await;
    // The draft is kept in the browser: a reload brings back what was typed.
    let form_url = format!("{}{}", s.url, firm.path().await);
    firm.goto(&form_url).await;
    let kept = firm
        .eval("[document.querySelector('[name=\"/company/name_en\"]').value, document.querySelectorAll('[name=\"/licensing/regulated_activities\"]:checked').length]")
        .await;
    assert_eq!(
        kept,
        json!(["Pengcheng Pay Technology Co., Ltd.", 1]),
        "{kept}"
    );
    firm.then_next_page("document.querySelector('form.generated').requestSubmit()")
        .await;
    let error = firm
        .eval("(() => { const i = document.querySelector('[name=\"/company/unified_social_credit_code\"]'); const e = document.getElementById(i.getAttribute('aria-describedby')); return {invalid: i.getAttribute('aria-invalid'), error: e && e.textContent, kept: document.querySelector('[name=\"/company/name_en\"]').value}; })()")
        .await;
    assert_eq!(error["invalid"], json!("true"), "{error}");
    // The field's own words, in the page's language — not the validator's English or its
    // regular expression.
    assert_eq!(error["error"], json!(w.uscc_error), "{error}");
    assert_eq!(
        error["kept"],
        json!("Pengcheng Pay Technology Co., Ltd."),
        "what was typed is kept: {error}"
    );
    firm.screenshot("field-error").await;
    accessible(&mut firm, w, "new application with an error").await;
    firm.run("fill(document.querySelector('form.generated'), [['/company/unified_social_credit_code', '91440300MA5G2XK81W']])")
        .await;
    firm.then_next_page("document.querySelector('form.generated').requestSubmit()")
        .await;
    let app_path = firm.path().await;
    assert!(app_path.starts_with("/applications/"), "{app_path}");
    let app_url = format!("{}{app_path}", s.url);
    let text = firm.text().await;
    assert!(text.contains(w.ofds_nomination), "{text}");
    assert!(text.contains(w.hong_kong_time), "{text}");
    assert!(
        text.contains("Pengcheng Pay Technology Co., Ltd."),
        "{text}"
    );
    firm.screenshot("submitted").await;
    // Submitted: the draft is gone.
    firm.goto(&form_url).await;
    let empty = firm
        .eval("document.querySelector('[name=\"/company/name_en\"]').value")
        .await;
    assert_eq!(empty, json!(""), "the draft was cleared");
    firm.goto(&app_url).await;

    // Another firm cannot open it by its URL.
    let mut other = browser.tab(&root, "other-firm", &dir).await;
    sign_in(&mut other, &other_key, w).await;
    other.goto(&app_url).await;
    let text = other.text().await;
    assert!(text.contains(w.not_yours), "{text}");
    assert!(!text.contains("Pengcheng"), "{text}");
    other.screenshot("not-theirs").await;

    // OFDS: the task is in the inbox; claim it, nominate.
    let mut ofds = browser.tab(&root, "ofds", &dir).await;
    sign_in(&mut ofds, &chen, w).await;
    assert_eq!(ofds.path().await, "/inbox");
    ofds.wait_for(
        &format!("document.querySelector('#inbox-rows a') && document.querySelector('#inbox-rows').textContent.includes({:?})", w.firm_name),
        "the task in OFDS's inbox, under the firm's name in the page's language",
    )
    .await;
    ofds.screenshot("inbox").await;
    accessible(&mut ofds, w, "inbox").await;
    // The firm filter finds the firm by a piece of any of its names or its key; the counts
    // follow the filters, in the right number.
    let rows = "[document.querySelectorAll('#inbox-rows tbody tr').length, document.querySelector('.counts').textContent.replace(/\\s+/g, ' ').trim()]";
    for (piece, found) in [
        ("鵬程", 1),
        ("pengcheng pay", 1),
        ("pengcheng-pay", 1),
        ("nosuch", 0),
    ] {
        let url = reqwest::Url::parse_with_params(&format!("{}/inbox", s.url), [("firm", piece)])
            .unwrap();
        ofds.goto(url.as_str()).await;
        let seen = ofds.eval(rows).await;
        assert_eq!(seen[0], json!(found), "{piece}: {seen}");
        let counts = seen[1].as_str().unwrap_or_default();
        assert!(
            counts.starts_with(&format!(
                "{found} {}",
                if found == 1 { w.task_one } else { w.tasks }
            )),
            "{piece}: {counts}"
        );
        assert!(
            counts.ends_with(&format!("0 {}", w.overdue)),
            "{piece}: {counts}"
        );
    }
    ofds.goto(&format!("{}/inbox", s.url)).await;
    ofds.then_next_page("document.querySelector('#inbox-rows a').click()")
        .await;
    ofds.then_next_page(&format!("press({:?})", w.claim)).await;
    let text = ofds.text().await;
    assert!(text.contains(w.claimed_by_chen), "{text}");
    accessible(&mut ofds, w, "application, reviewer").await;
    act(
        &mut ofds,
        w.ofds_nomination,
        w.nominate,
        json!([["comment", "Strong GBA payments player"]]),
    )
    .await;
    ofds.screenshot("nominated").await;

    // The administrators' dashboard: InvestHK has the task now; the nomination took time.
    let mut admin = browser.tab(&root, "admin", &dir).await;
    sign_in(&mut admin, &s.admin, w).await;
    assert_eq!(admin.path().await, "/dashboard");
    let load = admin
        .eval("Array.from(document.querySelectorAll('#load-table tbody tr')).map(r => Array.from(r.cells).map(c => c.textContent))")
        .await;
    assert_eq!(load, json!([[w.investhk, "1", "0"]]), "{load}");
    let steps = admin
        .eval("Array.from(document.querySelectorAll('#steps-table tbody tr')).map(r => r.cells[1].textContent)")
        .await;
    assert_eq!(steps, json!([w.ofds_nomination]), "{steps}");
    assert_eq!(
        admin
            .eval("document.querySelectorAll('svg.chart rect').length")
            .await,
        json!(2),
        "a bar for InvestHK's open tasks, one for the nomination's time"
    );
    // A step done in seconds says so (it read "0.0 h"), and no label is clipped: every label
    // starts inside its chart.
    let median = admin
        .eval("document.querySelector('#steps-table tbody tr').cells[3].textContent")
        .await;
    assert!(
        !median.as_str().unwrap_or_default().starts_with("0.0"),
        "{median}"
    );
    let clipped = admin
        .eval("Array.from(document.querySelectorAll('svg.chart text[text-anchor=end]')).filter(t => t.getBBox().x < 0).map(t => t.textContent)")
        .await;
    assert_eq!(clipped, json!([]), "labels clipped at the chart's edge");
    admin.screenshot("dashboard").await;
    accessible(&mut admin, w, "dashboard").await;

    // InvestHK asks the firm a question.
    let mut investhk = browser.tab(&app_url, "investhk-amy", &dir).await;
    sign_in(&mut investhk, &amy, w).await;
    assert_eq!(investhk.path().await, app_path);
    // Too short a question: the action's form comes back with the violation at its field.
    act(
        &mut investhk,
        w.eligibility,
        w.request_info,
        json!([["/question", "Hi"]]),
    )
    .await;
    let at_field = investhk
        .eval("(() => { const i = document.querySelector('details.action[open] [name=\"/question\"]'); return [i.getAttribute('aria-invalid'), document.getElementById(i.getAttribute('aria-describedby')).textContent, i.value]; })()")
        .await;
    assert_eq!(at_field[0], json!("true"), "{at_field}");
    assert!(
        at_field[1]
            .as_str()
            .unwrap_or_default()
            .contains(w.too_short),
        "{at_field}"
    );
    assert_eq!(
        at_field[2],
        json!("Hi"),
        "what was typed is kept: {at_field}"
    );
    act(
        &mut investhk,
        w.eligibility,
        w.request_info,
        json!([["/question", "Please provide audited accounts for FY2025."]]),
    )
    .await;
    investhk.screenshot("question-asked").await;

    // The firm reads the question where it answers it (the task's card, not only History).
    firm.goto(&app_url).await;
    let asked = firm
        .eval(&format!(
            "(() => {{ const a = Array.from(document.querySelectorAll('article.task')).find(a => a.querySelector('h3').textContent.trim() === {:?}); const q = a && a.querySelector('.asked'); return q ? q.textContent : ''; }})()",
            w.answer_task
        ))
        .await;
    let asked = asked.as_str().unwrap_or_default();
    assert!(
        asked.contains("Please provide audited accounts for FY2025."),
        "the answer card shows the question: {asked}"
    );
    // The diagram marks where the application stands: with the firm.
    let now = firm
        .eval("Array.from(document.querySelectorAll('ol.flow [aria-current=step] > .step-title')).map(e => e.textContent)")
        .await;
    assert_eq!(now, json!([w.answer_task]), "{now}");
    firm.screenshot("question-read").await;
    // The audited accounts, uploaded from the console, go with the answer.
    firm.set_file(
        "#upload-file",
        &crate::support::root().join("workflows/examples/business-plan.pdf"),
    )
    .await;
    firm.then_next_page("document.querySelector('form.upload').requestSubmit()")
        .await;
    let landed = firm.path().await;
    assert_eq!(
        landed,
        app_path,
        "back where the upload started: {}",
        firm.text().await
    );
    let choice = firm
        .eval("(() => { const i = document.querySelector('input[name=\"/documents\"]'); return [i.value, i.closest('label').textContent.trim()]; })()")
        .await;
    assert_eq!(choice[1], json!("business-plan.pdf"), "{choice}");
    act(
        &mut firm,
        w.answer_task,
        w.answer,
        json!([
            ["/answer", "Audited accounts attached."],
            [
                "/attachments[]",
                ["https://pengchengpay.example.cn/fy2025.pdf"]
            ],
            ["/documents", [choice[0].clone()]]
        ]),
    )
    .await;
    let text = firm.text().await;
    assert!(text.contains("Audited accounts attached."), "{text}");
    // The history names the answer's document by its file name, as a link, not by its id.
    let named = firm
        .eval("Array.from(document.querySelectorAll('ol.timeline dl.input a')).map(a => a.textContent)")
        .await;
    assert_eq!(named, json!(["business-plan.pdf"]), "{named}");
    let attached = firm
        .eval("Array.from(document.querySelectorAll('ul.documents a')).map(a => a.textContent)")
        .await;
    assert_eq!(
        attached,
        json!(["business-plan.pdf"]),
        "the answer's document is attached"
    );

    // InvestHK finds it eligible; the Hong Kong reviews run in parallel.
    investhk.goto(&app_url).await;
    act(&mut investhk, w.eligibility, w.eligible, json!([])).await;
    // Four eyes: who screened eligibility may not clear the set-up plan, so the page offers
    // amy only what she may do (reject), and says why, naming the step.
    let (said, actions) = barred(&mut investhk, w.setup).await;
    assert!(said.contains(w.eligibility), "the step is named: {said}");
    assert!(said.contains(w.clear), "the action is named: {said}");
    assert_eq!(actions, 1, "only the action she may take is offered");
    investhk.screenshot("four-eyes-barred").await;
    accessible(&mut investhk, w, "an action the viewer is barred from").await;
    // So amy hands the set-up review over to carl.
    investhk
        .then_next_page(&format!(
            "(() => {{ const task = Array.from(document.querySelectorAll('article.task')).find(a => a.querySelector('h3').textContent.trim() === {:?}); const f = task.querySelector('form.delegate'); f.querySelector('select').value = 'carl'; f.requestSubmit(); }})()",
            w.setup
        ))
        .await;
    let claimed = investhk
        .eval(&format!(
            "Array.from(document.querySelectorAll('article.task')).find(a => a.querySelector('h3').textContent.trim() === {:?}).querySelector('.meta').textContent",
            w.setup
        ))
        .await;
    assert!(
        claimed.as_str().unwrap_or_default().contains("carl"),
        "handed over: {claimed}"
    );
    let mut carl_tab = browser.tab(&app_url, "investhk-carl", &dir).await;
    sign_in(&mut carl_tab, &carl, w).await;
    act(&mut carl_tab, w.setup, w.clear, json!([])).await;
    let mut hkstp = browser.tab(&app_url, "hkstp", &dir).await;
    sign_in(&mut hkstp, &ben, w).await;
    act(&mut hkstp, w.hkstp, w.admit, json!([])).await;
    // The parallel reviews in the diagram: HKSTP's branch is done, InvestHK's set-up still open.
    let now = hkstp
        .eval("Array.from(document.querySelectorAll('ol.flow [aria-current=step] > .step-title')).map(e => e.textContent)")
        .await;
    assert!(now.as_array().is_some_and(|a| a.len() == 1), "{now}");
    hkstp.screenshot("diagram-after-hkstp").await;

    // A stored-value facility: the HKMA referral.
    let mut hkma = browser.tab(&app_url, "hkma", &dir).await;
    sign_in(&mut hkma, &dora, w).await;
    act(&mut hkma, w.hkma, w.sandbox, json!([])).await;

    // The joint decision, 2 of 3: OFDS nominated, so OFDS may not decide.
    investhk.goto(&app_url).await;
    act(&mut investhk, w.joint, w.approve, json!([])).await;
    ofds.goto(&app_url).await;
    let (said, actions) = barred(&mut ofds, w.joint).await;
    assert!(
        said.contains(w.ofds_nomination),
        "the step is named: {said}"
    );
    assert_eq!(actions, 0, "{said}");
    ofds.screenshot("joint-decision-barred").await;
    hkstp.goto(&app_url).await;
    act(&mut hkstp, w.joint, w.approve, json!([])).await;

    // The firm sees the outcome.
    firm.goto(&app_url).await;
    let status = firm
        .eval("[document.querySelector('#status').textContent, document.querySelector('#stands').textContent]")
        .await;
    assert_eq!(status, json!(w.outcome));
    let outcome = firm
        .eval("Array.from(document.querySelectorAll('ul.outcomes [aria-current=step] > .step-title')).map(e => e.textContent)")
        .await;
    assert_eq!(
        outcome,
        json!([w.outcome[1]]),
        "the diagram marks the outcome"
    );
    firm.screenshot("approved").await;
    accessible(&mut firm, w, "application, firm").await;

    // Sign-out ends the session: the console asks to sign in again.
    firm.then_next_page("document.querySelector('form.signout').requestSubmit()")
        .await;
    assert_eq!(firm.path().await, "/signin");
    firm.goto(&format!("{}/applications", s.url)).await;
    assert_eq!(firm.path().await, "/signin");
}
