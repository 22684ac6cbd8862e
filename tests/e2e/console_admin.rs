//! The console for administrators and leads, and its guards (issue 15): sessions and forms
//! refused without their tokens, a workflow changed and published in the browser, the directory
//! kept by an administrator and a firm's lead.

use serde_json::json;

use crate::cdp::chromium;
use crate::console::{ENGLISH, accessible, shots, sign_in};
use crate::support::{Server, code};

/// The sign-in and every state change are guarded without a browser's help: the sign-in form
/// needs its own cookie's token, the session cookie is `HttpOnly` and `SameSite=Lax` (and
/// `Secure` when browsers see softland over HTTPS), forms need the session's CSRF token, another
/// site's `Origin` is refused, pages forbid inline script and framing, and assets come from
/// the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_sessions_and_forms_are_guarded() {
    let s = Server::start_with_env(
        softland_store::test_util::TestDb::sqlite(),
        "127.0.0.1:0",
        &[("SOFTLAND_PUBLIC_URL", "https://softland.example")],
    );
    let key = s.applicant_key("pengcheng-pay", "li.wei");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect::<Vec<_>>()
            .join("\n")
    };

    let home = http.get(format!("{}/", s.url)).send().await.unwrap();
    assert_eq!(home.status(), 303);
    assert_eq!(header(&home, "location"), "/signin?return_to=%2F");

    let form = http.get(format!("{}/signin", s.url)).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let csp = header(&form, "content-security-policy");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(header(&form, "x-content-type-options"), "nosniff");
    let login = header(&form, "set-cookie");
    assert!(
        login.contains("SameSite=Strict") && login.contains("Secure"),
        "{login}"
    );
    let login_token = login
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("softland_login=")
        .to_owned();
    let body = form.text().await.unwrap();
    assert!(!body.contains("<script>"), "no inline script");
    assert!(!body.contains(" style="), "no inline style");

    // Without the sign-in form's cookie, even the right key does not sign in.
    let no_cookie = http
        .post(format!("{}/signin", s.url))
        .form(&[("csrf", login_token.as_str()), ("api_key", key.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(no_cookie.status(), 401);
    let sign_in = |api_key: String| {
        http.post(format!("{}/signin", s.url))
            .header("cookie", format!("softland_login={login_token}"))
            .form(&[
                ("csrf", login_token.clone()),
                ("api_key", api_key),
                ("return_to", "/applications".into()),
            ])
            .send()
    };
    let wrong = sign_in("sl_wrong".into()).await.unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("unknown, expired or revoked")
    );
    let ok = sign_in(key.clone()).await.unwrap();
    assert_eq!(ok.status(), 303);
    assert_eq!(header(&ok, "location"), "/applications");
    let session = header(&ok, "set-cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(session.contains(attribute), "{attribute} in {session}");
    }
    let session = session.split(';').next().unwrap().to_owned();

    // Signed in: the list renders; a form without the CSRF token, or from another site, is
    // refused and changes nothing.
    let list = http
        .get(format!("{}/applications", s.url))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200);
    let page = list.text().await.unwrap();
    assert!(page.contains("li.wei"), "the page names who is signed in");
    let data = [("/company/name_en", "Forged Ltd")];
    let forged = http
        .post(format!("{}/applications/new/soft-landing-sz-to-hk", s.url))
        .header("cookie", &session)
        .form(&data)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let cross_site = http
        .post(format!("{}/signout", s.url))
        .header("cookie", &session)
        .header("origin", "https://evil.example")
        .form(&[("csrf", "whatever")])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    let still = http
        .get(format!("{}/applications", s.url))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), 200, "the session survived");

    // The console's upload: without the CSRF token before the file, nothing is written; an
    // oversized text field is refused, not read into memory.
    let upload = |form: reqwest::multipart::Form| {
        http.post(format!("{}/uploads", s.url))
            .header("cookie", &session)
            .multipart(form)
            .send()
    };
    let no_token = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(crate::documents::pdf()).file_name("plan.pdf"),
    );
    assert_eq!(upload(no_token).await.unwrap().status(), 403);
    let long = reqwest::multipart::Form::new().text("return_to", "/".repeat(100_000));
    assert_eq!(upload(long).await.unwrap().status(), 400);
    let listed = s.query(Some(&key), "{ applications { totalCount } }").await;
    assert_eq!(listed["data"]["applications"]["totalCount"], 0);

    // Assets come from the server itself.
    for (file, media) in [
        ("console.js", "text/javascript"),
        ("htmx.min.js", "text/javascript"),
        ("console.css", "text/css"),
    ] {
        let r = http
            .get(format!("{}/assets/{file}", s.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{file}");
        assert!(header(&r, "content-type").starts_with(media), "{file}");
    }
    let missing = http
        .get(format!("{}/assets/../Cargo.toml", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

/// An administrator changes a workflow in the console: a typo is refused with the diagnostic at
/// its line, the fixed definition publishes as version 2, and version 1 can be retired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: the full suite (scripts/with-services) installs it"]
async fn an_administrator_publishes_a_changed_workflow() {
    let s = Server::start(softland_store::test_util::TestDb::sqlite());
    let browser = chromium();
    let dir = shots("admin");
    let mut admin = browser
        .tab(&format!("{}/workflows", s.url), "admin", &dir)
        .await;
    sign_in(&mut admin, &s.admin, &ENGLISH).await;
    assert_eq!(admin.path().await, "/workflows");
    admin
        .then_next_page(
            "document.querySelector('a[href=\"/workflows/soft-landing-sz-to-hk\"]').click()",
        )
        .await;
    let text = admin.text().await;
    assert!(text.contains("OFDS nomination"), "{text}");
    admin.screenshot("workflow").await;
    admin
        .then_next_page("byText('a.button', 'Edit or add a workflow').click()")
        .await;

    // A typo: the nomination leads to a state that does not exist.
    let source = std::fs::read_to_string(
        crate::support::root().join("workflows/soft-landing-sz-to-hk.yaml"),
    )
    .unwrap();
    let typo_line = source
        .lines()
        .position(|l| l.contains("nominate: {to: eligibility_screening"))
        .expect("the nomination's line")
        + 1;
    admin
        .eval("(() => { const y = document.querySelector('#yaml'); y.value = y.value.replace('nominate: {to: eligibility_screening', 'nominate: {to: eligibility_screning'); })()")
        .await;
    admin
        .then_next_page("document.querySelector('button[value=publish]').click()")
        .await;
    let at_line = admin
        .eval(&format!(
            "(() => {{ const li = document.getElementById('line-{typo_line}'); return li && li.classList.contains('problem') ? li.querySelector('.diagnostic').textContent : null; }})()"
        ))
        .await;
    assert!(
        at_line
            .as_str()
            .unwrap_or_default()
            .contains("eligibility_screning"),
        "the diagnostic sits at line {typo_line}: {at_line}"
    );
    let summary = admin
        .eval("document.querySelector('#validation').textContent")
        .await;
    assert!(
        summary
            .as_str()
            .unwrap_or_default()
            .contains(&format!("Line {typo_line}, column")),
        "{summary}"
    );
    admin.screenshot("typo-at-its-line").await;
    accessible(&mut admin, &ENGLISH, "workflow editor with a diagnostic").await;

    // Fixed, and changed: a new version.
    admin
        .eval("(() => { const y = document.querySelector('#yaml'); y.value = y.value.replace('eligibility_screning', 'eligibility_screening').replace('title: {en: Nominate,', 'title: {en: Nominate the firm,'); })()")
        .await;
    admin
        .then_next_page("document.querySelector('button[value=publish]').click()")
        .await;
    assert_eq!(admin.path().await, "/workflows/soft-landing-sz-to-hk");
    let heading = admin.eval("document.querySelector('h1').textContent").await;
    assert!(heading.as_str().unwrap().contains("v2"), "{heading}");
    admin.screenshot("published-v2").await;

    // Version 1 retires; version 2 stays in use.
    admin
        .goto(&format!(
            "{}/workflows/soft-landing-sz-to-hk?version=1",
            s.url
        ))
        .await;
    // Retiring asks first, saying what it does: v1 is no longer what firms apply with.
    admin
        .then_next_page("byText('a.button', 'Retire v1').click()")
        .await;
    let asked = admin.text().await;
    assert!(
        asked.contains("New applications do not use this version"),
        "{asked}"
    );
    admin.then_next_page("press('Retire v1')").await;
    let heading = admin.eval("document.querySelector('h1').textContent").await;
    assert!(heading.as_str().unwrap().contains("Retired"), "{heading}");
    let listed = s
        .query(
            Some(&s.admin),
            "{ v1: workflow(key: \"soft-landing-sz-to-hk\", version: 1) { retiredAt } v2: workflow(key: \"soft-landing-sz-to-hk\", version: 2) { retiredAt } }",
        )
        .await;
    assert!(listed["data"]["v1"]["retiredAt"].is_string(), "{listed}");
    assert!(listed["data"]["v2"]["retiredAt"].is_null(), "{listed}");

    // Retiring v2, the only open version, says that firms can no longer apply; the form page
    // then says the workflow is retired; bringing v2 back opens it again.
    admin
        .goto(&format!(
            "{}/workflows/soft-landing-sz-to-hk/2/retire",
            s.url
        ))
        .await;
    let asked = admin.text().await;
    assert!(
        asked.contains("Firms can no longer apply for this workflow"),
        "{asked}"
    );
    admin.screenshot("retire-the-only-version").await;
    admin.then_next_page("press('Retire v2')").await;
    let firm = s.applicant_key("pengcheng-pay", "li.wei");
    let refused = s
        .gql(
            Some(&firm),
            "mutation($i: SubmitApplicationInput!) { submitApplication(input: $i) { id } }",
            json!({"i": {"workflowKey": "soft-landing-sz-to-hk", "data": crate::support::example("soft-landing-sz-to-hk")}}),
        )
        .await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
    let mut firm_tab = browser
        .tab(
            &format!("{}/applications/new/soft-landing-sz-to-hk", s.url),
            "admin-firm",
            &dir,
        )
        .await;
    sign_in(&mut firm_tab, &firm, &ENGLISH).await;
    let form_page = firm_tab.text().await;
    assert!(
        form_page.contains("This workflow is retired: it takes no new applications."),
        "{form_page}"
    );
    let forms = firm_tab
        .eval("document.querySelectorAll('form.generated').length")
        .await;
    assert_eq!(forms, json!(0));
    admin.then_next_page("press('Bring back v2')").await;
    let again = s.submit_example(&firm, "soft-landing-sz-to-hk").await;
    assert_eq!(again["status"], "ACTIVE", "{again}");
}

/// An administrator adds a firm and its lead in the console, makes the lead a key (shown once),
/// the lead signs in with it and manages their own staff; deactivating the lead ends their
/// session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: the full suite (scripts/with-services) installs it"]
async fn an_administrator_manages_the_directory() {
    let s = Server::start(softland_store::test_util::TestDb::sqlite());
    let browser = chromium();
    let dir = shots("directory");
    let mut admin = browser
        .tab(&format!("{}/directory", s.url), "admin", &dir)
        .await;
    sign_in(&mut admin, &s.admin, &ENGLISH).await;
    assert_eq!(admin.path().await, "/directory");
    let form = |summary: &str, fields: &str| {
        format!(
            "(() => {{ const d = byText('details.card summary', {summary:?}).closest('details'); d.open = true; fill(d.querySelector('form'), {fields}); d.querySelector('form').requestSubmit(); }})()"
        )
    };
    admin
        .then_next_page(&form(
            "Add or change an organisation",
            r#"[["key", "shenzhen-ledger"], ["name", "Shenzhen Ledger Ltd."], ["nameZhHant", "深圳賬本有限公司"], ["region", "mainland"]]"#,
        ))
        .await;
    assert!(admin.text().await.contains("Shenzhen Ledger Ltd."));
    admin
        .then_next_page(&form(
            "Add or change a person",
            r#"[["id", "wang"], ["displayName", "Wang Fang"], ["email", "wang@ledger.example.cn"], ["membership", "organization:shenzhen-ledger"], ["roles", ["STAFF", "LEAD"]]]"#,
        ))
        .await;
    let row = admin
        .eval("document.querySelector('#person-wang').textContent")
        .await;
    let row = row.as_str().unwrap_or_default();
    assert!(
        row.contains("Wang Fang") && row.contains("shenzhen-ledger"),
        "{row}"
    );
    assert!(
        row.contains("Lead") && row.contains("Staff"),
        "roles in words: {row}"
    );
    admin.screenshot("directory").await;
    accessible(&mut admin, &ENGLISH, "directory").await;

    // A key for wang, shown once.
    admin
        .then_next_page("document.querySelector('a[href=\"/directory/people/wang/keys\"]').click()")
        .await;
    admin.run("fill(document, [['label', 'laptop']])").await;
    admin
        .then_next_page("document.querySelector('form.card').requestSubmit()")
        .await;
    let token = admin
        .eval("document.querySelector('#new-token code').textContent")
        .await;
    let token = token.as_str().expect("the token").to_owned();
    assert!(token.starts_with("sl_"), "{token}");
    admin.screenshot("key-made").await;
    admin
        .goto(&format!("{}/directory/people/wang/keys", s.url))
        .await;
    assert!(
        !admin.text().await.contains(&token),
        "the token is shown only once"
    );

    // wang signs in with it, and as the firm's lead adds a colleague.
    let mut wang = browser.tab(&format!("{}/", s.url), "wang", &dir).await;
    sign_in(&mut wang, &token, &ENGLISH).await;
    let text = wang.text().await;
    assert!(
        text.contains("Wang Fang") && text.contains("Directory"),
        "{text}"
    );
    wang.goto(&format!("{}/directory", s.url)).await;
    wang.then_next_page(&form(
        "Add or change a person",
        r#"[["id", "zhou"], ["displayName", "Zhou Min"], ["roles", ["STAFF"]]]"#,
    ))
    .await;
    let added = s
        .query(
            Some(&s.admin),
            "{ people(organization: \"shenzhen-ledger\") { id roles } }",
        )
        .await;
    assert_eq!(
        added["data"]["people"],
        json!([{"id": "wang", "roles": ["LEAD", "STAFF"]}, {"id": "zhou", "roles": ["STAFF"]}]),
        "{added}"
    );
    // A lead is not offered `ADMIN`; a forged form asking for it is refused, in words.
    let offered = wang
        .eval("Array.from(document.querySelectorAll('input[name=roles]')).map(i => i.value)")
        .await;
    assert_eq!(offered, json!(["LEAD", "REVIEWER", "STAFF"]));
    wang.eval("document.querySelector('input[name=roles]').value = 'ADMIN'")
        .await;
    wang.then_next_page(&form(
        "Add or change a person",
        r#"[["id", "sneaky"], ["roles", ["ADMIN"]]]"#,
    ))
    .await;
    let notice = wang
        .eval("document.querySelector('#notice').textContent")
        .await;
    assert!(
        notice
            .as_str()
            .unwrap_or_default()
            .starts_with("Not allowed"),
        "{notice}"
    );
    let sneaky = s
        .query(
            Some(&s.admin),
            "{ people(organization: \"shenzhen-ledger\") { id } }",
        )
        .await;
    assert_eq!(
        sneaky["data"]["people"].as_array().unwrap().len(),
        2,
        "{sneaky}"
    );

    // Deactivated: wang's session ends.
    admin
        .goto(&format!("{}/directory?organization=shenzhen-ledger", s.url))
        .await;
    admin
        .then_next_page("press('Deactivate', document.querySelector('#person-wang'))")
        .await;
    wang.goto(&format!("{}/applications", s.url)).await;
    assert_eq!(wang.path().await, "/signin");
}

/// An agency's lead releases a colleague's claim and hands the task to another colleague; the
/// firm withdraws its application, with a reason, in the console.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: the full suite (scripts/with-services) installs it"]
async fn a_lead_reassigns_and_a_firm_withdraws() {
    let s = Server::start(softland_store::test_util::TestDb::sqlite());
    let firm = s.applicant_key("pengcheng-pay", "li.wei");
    let chen = s.reviewer_key("ofds", "chen");
    let _wu = s.reviewer_key("ofds", "wu");
    let lin = s.reviewer_key("ofds", "lin");
    let lead = s
        .gql(
            Some(&s.admin),
            "mutation { putPerson(input: {id: \"lin\", agency: \"ofds\", roles: [REVIEWER, LEAD]}) { id } }",
            json!({}),
        )
        .await;
    assert!(lead["errors"].is_null(), "{lead}");
    // The firm's certificate of incorporation goes with the application.
    let (_, up) = crate::documents::upload(
        &s,
        &firm,
        "certificate.pdf",
        "application/pdf",
        crate::documents::pdf(),
    )
    .await;
    let mut data = crate::support::example("soft-landing-sz-to-hk");
    data["company"]["certificate_of_incorporation"] = up["data"]["uploadDocument"]["id"].clone();
    let app = s
        .gql(
            Some(&firm),
            "mutation($d: JSON!) { submitApplication(input: {workflowKey: \"soft-landing-sz-to-hk\", data: $d}) { id openTasks { id } } }",
            json!({"d": data}),
        )
        .await["data"]["submitApplication"]
        .clone();
    let task = app["openTasks"][0]["id"].as_str().unwrap().to_owned();
    let claimed = s
        .gql(
            Some(&chen),
            "mutation($t: ID!) { claimTask(taskId: $t) { claimedBy } }",
            json!({"t": task}),
        )
        .await;
    assert_eq!(
        claimed["data"]["claimTask"]["claimedBy"], "chen",
        "{claimed}"
    );
    let app_url = format!("{}/applications/{}", s.url, app["id"].as_str().unwrap());

    let browser = chromium();
    let dir = shots("lead-and-withdrawal");
    let mut tab = browser.tab(&app_url, "ofds-lead", &dir).await;
    sign_in(&mut tab, &lin, &ENGLISH).await;
    // The application's documents, downloaded with the console's session.
    let doc = tab
        .eval("(async () => { const a = document.querySelector('ul.documents a'); const r = await fetch(a.href); return [a.textContent, r.status, r.headers.get('content-type'), (await r.arrayBuffer()).byteLength]; })()")
        .await;
    assert_eq!(
        doc,
        json!([
            "certificate.pdf",
            200,
            "application/pdf",
            crate::documents::pdf().len()
        ]),
        "{doc}"
    );
    let meta = "document.querySelector('article.task .meta').textContent";
    assert!(
        tab.eval(meta)
            .await
            .as_str()
            .unwrap()
            .contains("Claimed by: chen")
    );
    tab.then_next_page("press('Release')").await;
    assert!(
        tab.eval(meta)
            .await
            .as_str()
            .unwrap()
            .contains("Claimed by: nobody")
    );
    tab.then_next_page("(() => { const f = document.querySelector('form.delegate'); f.querySelector('select').value = 'wu'; f.requestSubmit(); })()")
        .await;
    assert!(
        tab.eval(meta)
            .await
            .as_str()
            .unwrap()
            .contains("Claimed by: wu")
    );
    tab.screenshot("reassigned").await;
    accessible(&mut tab, &ENGLISH, "application, agency lead").await;
    // The inbox is live: a task that opens while it is on screen shows up without a reload.
    tab.goto(&format!("{}/inbox", s.url)).await;
    let rows = "document.querySelectorAll('#inbox-rows tbody tr').length";
    assert_eq!(tab.eval(rows).await, json!(1));
    s.submit_example(&firm, "soft-landing-sz-to-hk").await;
    tab.wait_for(
        &format!("{rows} === 2"),
        "the new task arrives in the open inbox",
    )
    .await;

    let mut firm_tab = browser.tab(&app_url, "firm", &dir).await;
    sign_in(&mut firm_tab, &firm, &ENGLISH).await;
    // On a 390 px phone the applications list and the application fit the screen's width
    // (wide tables scroll within it).
    firm_tab.goto(&format!("{}/applications", s.url)).await;
    firm_tab.set_width(390).await;
    for page in [format!("{}/applications", s.url), app_url.clone()] {
        firm_tab.goto(&page).await;
        let wide = firm_tab.eval("document.documentElement.scrollWidth").await;
        let culprits = firm_tab
            .eval("Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > 391).slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))")
            .await;
        assert!(
            wide.as_u64().unwrap() <= 390,
            "{page} is {wide} px wide: {culprits}"
        );
    }
    firm_tab.screenshot("applications-390px").await;
    firm_tab
        .run("fill(document, [['reason', 'We will apply next year instead.']])")
        .await;
    firm_tab
        .then_next_page(
            "press('Withdraw the application', document.querySelector('section.danger'))",
        )
        .await;
    // Withdrawing asks first, saying what it does, with the reason carried along.
    let asked = firm_tab.text().await;
    assert!(asked.contains("cannot be reopened"), "{asked}");
    let reason = firm_tab
        .eval("document.querySelector('#confirm-reason').value")
        .await;
    assert_eq!(reason, json!("We will apply next year instead."));
    firm_tab
        .then_next_page(
            "press('Withdraw the application', document.querySelector('section.danger'))",
        )
        .await;
    let status = firm_tab
        .eval("[document.querySelector('#status').textContent, document.body.innerText.includes('We will apply next year instead.')]")
        .await;
    assert_eq!(status, json!(["Withdrawn", true]), "{status}");
    firm_tab.screenshot("withdrawn").await;
}

/// Signs in to the console in Simplified Chinese (chosen on the sign-in page).
async fn sign_in_simplified(tab: &mut crate::cdp::Tab, key: &str) {
    tab.wait_for("document.querySelector('#api_key')", "the sign-in form")
        .await;
    tab.then_next_page("document.querySelector('nav.langs a[hreflang=\"zh-Hans\"]').click()")
        .await;
    assert_eq!(
        tab.eval("document.documentElement.lang").await,
        json!("zh-Hans")
    );
    tab.run(&format!("fill(document, [['api_key', {key:?}]])"))
        .await;
    tab.then_next_page("document.querySelector('form.card').requestSubmit()")
        .await;
}

/// In 简体中文: a firm's refused form says each problem as a sentence naming the field, the
/// inbox names the firm in Chinese with the application's reference, and the application page
/// heads with both (screenshots for the record).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: the full suite (scripts/with-services) installs it"]
async fn simplified_chinese_pages() {
    let s = Server::start(softland_store::test_util::TestDb::sqlite());
    let named = s
        .gql(
            Some(&s.admin),
            "mutation($o: OrganizationInput!) { putOrganization(input: $o) { key } }",
            json!({"o": {"key": "pengcheng-pay", "name": "Pengcheng Pay Technology Co., Ltd.", "nameZhHant": "鵬程支付科技有限公司", "nameZhHans": "鹏程支付科技有限公司", "region": "mainland"}}),
        )
        .await;
    assert!(named["errors"].is_null(), "{named}");
    let firm = s.applicant_key("pengcheng-pay", "li.wei");
    let chen = s.reviewer_key("ofds", "chen");
    let browser = chromium();
    let dir = shots("zh-hans");

    // The firm sends its form with a code that is not one: refused at the field, in Chinese.
    let mut firm_tab = browser
        .tab(
            &format!("{}/applications/new/soft-landing-sz-to-hk", s.url),
            "firm",
            &dir,
        )
        .await;
    sign_in_simplified(&mut firm_tab, &firm).await;
    firm_tab
        .goto(&format!("{}/applications/new/soft-landing-sz-to-hk", s.url))
        .await;
    firm_tab
        .run("fill(document, [['/company/unified_social_credit_code', '91440300MA5G2XK81']])")
        .await;
    firm_tab
        .then_next_page("document.querySelector('form.generated').requestSubmit()")
        .await;
    let errors = firm_tab
        .eval("Array.from(document.querySelectorAll('.field .error, fieldset .error')).map(e => e.textContent.trim())")
        .await;
    let errors: Vec<String> = errors
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_owned())
        .collect();
    assert!(
        errors.iter().any(|e| e.starts_with("请填写“")),
        "a missing field, named: {errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("统一社会信用代码是营业执照上的18位字母和数字")),
        "the code's own words: {errors:?}"
    );
    assert!(
        errors.iter().all(|e| !e.contains('^') && !e.is_ascii()),
        "{errors:?}"
    );
    firm_tab.screenshot("form-error").await;

    // OFDS's inbox and the application page.
    let app = s.submit_example(&firm, "soft-landing-sz-to-hk").await;
    let reference = s
        .gql(
            Some(&firm),
            "query($id: ID!) { application(id: $id) { reference } }",
            json!({"id": app["id"]}),
        )
        .await["data"]["application"]["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ofds = browser.tab(&format!("{}/inbox", s.url), "ofds", &dir).await;
    sign_in_simplified(&mut ofds, &chen).await;
    let inbox = ofds
        .eval("document.querySelector('#inbox-rows').textContent")
        .await;
    let inbox = inbox.as_str().unwrap();
    assert!(
        inbox.contains("鹏程支付科技有限公司") && inbox.contains(&reference),
        "{inbox}"
    );
    ofds.screenshot("inbox").await;
    ofds.then_next_page("document.querySelector('#inbox-rows a').click()")
        .await;
    let heading = ofds.eval("document.querySelector('h1').textContent").await;
    let heading = heading.as_str().unwrap();
    assert!(
        heading.contains("鹏程支付科技有限公司") && heading.contains(&reference),
        "{heading}"
    );
    ofds.screenshot("application").await;

    // The firm, in Shenzhen, is offered Shenzhen → Hong Kong, never Hong Kong → Shenzhen.
    firm_tab.goto(&format!("{}/applications", s.url)).await;
    let offered = firm_tab
        .eval("Array.from(document.querySelectorAll('a[href^=\"/applications/new/\"]')).map(a => a.getAttribute('href'))")
        .await;
    let offered = offered.to_string();
    assert!(
        offered.contains("/applications/new/soft-landing-sz-to-hk")
            && !offered.contains("/applications/new/soft-landing-hk-to-sz"),
        "{offered}"
    );
    // An administrator reads what people did, in Chinese: OFDS's claim.
    let task = app["openTasks"][0]["id"].clone();
    let claimed = s
        .gql(Some(&chen), crate::support::CLAIM, json!({"t": task}))
        .await;
    assert!(claimed["errors"].is_null(), "{claimed}");
    let mut admin = browser
        .tab(&format!("{}/audit", s.url), "admin", &dir)
        .await;
    sign_in_simplified(&mut admin, &s.admin).await;
    admin.goto(&format!("{}/audit", s.url)).await;
    let trail = admin
        .eval("document.querySelector('table.audit').textContent")
        .await;
    assert!(
        trail.as_str().unwrap_or_default().contains("认领任务"),
        "{trail}"
    );
    admin.screenshot("audit-trail").await;
}
