//! Every console page, read in Chinese, says none of the console's English (issue 30, item
//! 7): each page a firm, a reviewer and an administrator reach is fetched in Traditional and
//! Simplified Chinese, and its visible text must hold no phrase of the English word list that
//! the Chinese lists say differently. Data people typed (a firm's English description) and
//! YAML sources are not the console's words and are left out.

use serde_json::json;

use crate::support::{Server, example};

/// The quoted strings of a `Text` as `{:?}` prints it, in field order.
fn words(text: &softland_console::i18n::Text) -> Vec<String> {
    let debug = format!("{text:?}");
    let mut out = Vec::new();
    let mut rest = debug.as_str();
    while let Some(start) = rest.find(": \"") {
        rest = &rest[start + 3..];
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let mut end = rest.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, n)) = chars.next() {
                        value.push(n);
                    }
                }
                '"' => {
                    end = i + 1;
                    break;
                }
                c => value.push(c),
            }
        }
        out.push(value);
        rest = &rest[end..];
    }
    out
}

/// What a person sees of a page: no tags, scripts, styles, code, text areas or YAML listings.
fn visible(html: &str) -> String {
    let mut text = html.to_owned();
    for (open, close) in [
        ("<script", "</script>"),
        ("<style", "</style>"),
        ("<textarea", "</textarea>"),
        ("<code", "</code>"),
        ("<ol class=\"listing\"", "</ol>"),
        ("<dl class=\"read\"", "</dl>"),
        ("<dl class=\"input\"", "</dl>"),
    ] {
        while let Some(i) = text.find(open) {
            let j = text[i..]
                .find(close)
                .map_or(text.len(), |j| i + j + close.len());
            text.replace_range(i..j, " ");
        }
    }
    let mut out = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
}

/// Whether `phrase` occurs in `text` as whole words.
fn says(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + phrase.len()..].chars().next();
        let edge = |c: Option<char>| !c.is_some_and(|c| c.is_ascii_alphanumeric());
        edge(before) && edge(after)
    })
}

#[tokio::test]
async fn every_page_speaks_the_readers_language() {
    let s = Server::start(softland_store::test_util::TestDb::sqlite());
    let put_org = "mutation($o: OrganizationInput!) { putOrganization(input: $o) { key } }";
    let named = s
        .gql(
            Some(&s.admin),
            put_org,
            json!({"o": {"key": "pengcheng-pay", "name": "Pengcheng Pay Technology Co., Ltd.", "nameZhHant": "鵬程支付科技有限公司", "nameZhHans": "鹏程支付科技有限公司", "region": "mainland"}}),
        )
        .await;
    assert!(named["errors"].is_null(), "{named}");
    let firm = s.applicant_key("pengcheng-pay", "li.wei");
    let ofds = s.reviewer_key("ofds", "chen");
    let app = s.submit_example(&firm, "soft-landing-sz-to-hk").await;
    let id = app["id"].as_str().unwrap().to_owned();
    let _ = example("soft-landing-sz-to-hk");
    // OFDS nominates; InvestHK asks a question: the history holds an action's input.
    let app = s.play("soft-landing-sz-to-hk", app, &firm, 0..1).await;
    let screening = app["openTasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["state"] == "eligibility_screening")
        .expect("the screening")["id"]
        .clone();
    let amy = s.person("investhk", "amy");
    let asked = s
        .gql(
            Some(&amy),
            "mutation($t: ID!) { act(input: {taskId: $t, action: \"request_info\", data: {question: \"Please provide audited accounts.\"}}) { id } }",
            json!({"t": screening}),
        )
        .await;
    assert!(asked["errors"].is_null(), "{asked}");
    let pages: [(&str, Vec<String>); 3] = [
        (
            firm.as_str(),
            vec![
                "/applications".into(),
                format!("/applications/{id}"),
                "/applications/new/soft-landing-sz-to-hk".into(),
                format!("/applications/{id}/withdraw"),
            ],
        ),
        (
            ofds.as_str(),
            vec!["/inbox".into(), format!("/applications/{id}")],
        ),
        (
            s.admin.as_str(),
            vec![
                "/dashboard".into(),
                "/reports".into(),
                "/workflows".into(),
                "/workflows/soft-landing-sz-to-hk".into(),
                "/workflows/soft-landing-sz-to-hk/1/retire".into(),
                "/directory".into(),
                "/directory/people/chen/keys".into(),
                "/audit".into(),
            ],
        ),
    ];
    let english = words(&softland_console::i18n::EN);
    let mut heard = Vec::new();
    for (lang, chinese) in [
        ("zh-Hant", words(&softland_console::i18n::ZH_HANT)),
        ("zh-Hans", words(&softland_console::i18n::ZH_HANS)),
    ] {
        assert_eq!(english.len(), chinese.len());
        // Phrases the Chinese list says differently, of words long enough not to be a name.
        let phrases: Vec<&str> = english
            .iter()
            .zip(&chinese)
            .filter(|(en, zh)| {
                en != zh && en.chars().filter(char::is_ascii_alphabetic).count() >= 4
            })
            .map(|(en, _)| en.split('{').next().unwrap_or(en).trim())
            // The brand, and a place every English agency name holds, are names, not words.
            .filter(|p| p.len() >= 4 && !["softland", "Hong Kong"].contains(p))
            .chain(["REVIEWER", "STAFF", "ADMIN", "mainland"])
            .collect();
        for (key, paths) in &pages {
            let cookie = crate::trust::signin::console_session(&s.url, key).await;
            let cookie = format!("{cookie}; softland_lang={lang}");
            for path in paths {
                let page = reqwest::Client::new()
                    .get(format!("{}{path}", s.url))
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(page.status(), 200, "{lang} {path}");
                let text = visible(&page.text().await.unwrap());
                for phrase in &phrases {
                    if says(&text, phrase) {
                        heard.push(format!("{lang} {path}: {phrase:?}"));
                    }
                }
            }
        }
    }
    // The history reads an action's input by its schema: the question's title in Chinese.
    let cookie = crate::trust::signin::console_session(&s.url, &firm).await;
    for (lang, label) in [
        ("zh-Hant", "向企業提出的問題"),
        ("zh-Hans", "向企业提出的问题"),
    ] {
        let page = reqwest::Client::new()
            .get(format!("{}/applications/{id}", s.url))
            .header("cookie", format!("{cookie}; softland_lang={lang}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains(&format!("<dt>{label}</dt>")),
            "{lang}: {page}"
        );
        assert!(!page.contains("<dt>Question</dt>"), "{lang}");
    }
    heard.sort();
    heard.dedup();
    assert!(
        heard.is_empty(),
        "English on Chinese pages:\n{}",
        heard.join("\n")
    );
}
