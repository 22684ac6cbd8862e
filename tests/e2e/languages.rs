//! Labels in three languages (issue 13, second part): every label the workflow defines, by a
//! `locale` argument and by `Accept-Language`, English where there is no translation or no
//! language softland has. Over HTTP, on both databases.

use serde_json::{Value, json};

use crate::support::{Server, WITHDRAW, code, gql_send, on_both_backends};

on_both_backends!(labels_come_in_three_languages);

/// POSTs a GraphQL request with an `Accept-Language` header.
async fn gql_in(s: &Server, token: &str, accept: &str, query: &str, vars: Value) -> Value {
    let req = reqwest::Client::new().post(format!("{}/graphql", s.url));
    let req = req.bearer_auth(token).header("accept-language", accept);
    gql_send(req, query, vars).await
}

const WORKFLOW: &str =
    "{ workflow(key: \"soft-landing-sz-to-hk\") { title description states { name title } } }";
const INBOX: &str = "{ inbox { edges { node { state title actions { name title } } } } }";
const INBOX_HANS: &str = "{ inbox { edges { node { title(locale: \"zh-Hans\") actions { title(locale: \"zh-CN\") } } } } }";

async fn labels_come_in_three_languages(s: Server) {
    let firm = s.applicant_key("pengcheng-pay", "li.wei");
    let ofds = s.reviewer_key("ofds", "chen");

    // The workflow: by argument, by header, and English without either.
    let titled = |locale: &str| {
        format!("{{ workflow(key: \"soft-landing-sz-to-hk\") {{ title(locale: \"{locale}\") }} }}")
    };
    for (locale, title) in [
        ("en", "Shenzhen → Hong Kong fintech soft landing"),
        ("zh-Hant", "深圳金融科技企業赴港軟著陸"),
        ("zh-Hans", "深圳金融科技企业赴港软着陆"),
        ("zh-HK", "深圳金融科技企業赴港軟著陸"),
    ] {
        let r = s.gql(Some(&ofds), &titled(locale), json!({})).await;
        assert_eq!(r["data"]["workflow"]["title"], title, "{locale}: {r}");
    }
    // A locale given where the workflow is fetched holds for everything inside it: HK→SZ's
    // states, its actions and its outcomes in Chinese.
    let r = s
        .gql(
            Some(&ofds),
            "{ workflow(key: \"soft-landing-hk-to-sz\", locale: \"zh-Hans\") { title states { name title actions { name title } } } }",
            json!({}),
        )
        .await;
    let states = r["data"]["workflow"]["states"].as_array().unwrap();
    let named = |name: &str| {
        states
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {r}"))
            .clone()
    };
    assert_eq!(named("approved")["title"], "已批准", "{r}");
    assert_eq!(
        named("qianhai_support")["actions"][1]["title"],
        "不提供方案",
        "{r}"
    );
    assert_eq!(named("nomination")["actions"][0]["title"], "批准", "{r}");
    let r = s.gql(Some(&ofds), WORKFLOW, json!({})).await;
    let wf = &r["data"]["workflow"];
    assert_eq!(
        wf["title"], "Shenzhen → Hong Kong fintech soft landing",
        "{r}"
    );
    assert_eq!(wf["states"][0]["title"], "OFDS nomination", "{r}");
    let r = gql_in(&s, &ofds, "zh-TW,zh;q=0.9,en;q=0.5", WORKFLOW, json!({})).await;
    let wf = &r["data"]["workflow"];
    assert_eq!(wf["title"], "深圳金融科技企業赴港軟著陸", "{r}");
    assert!(
        wf["description"]
            .as_str()
            .unwrap()
            .starts_with("深圳金融科技企業在港落戶"),
        "{r}"
    );
    assert_eq!(wf["states"][0]["name"], "ofds_nomination");
    assert_eq!(wf["states"][0]["title"], "深圳金融辦提名", "{r}");
    // The first language softland has wins; none: English.
    let r = gql_in(&s, &ofds, "fr-FR, zh-CN;q=0.8", WORKFLOW, json!({})).await;
    assert_eq!(
        r["data"]["workflow"]["title"], "深圳金融科技企业赴港软着陆",
        "{r}"
    );
    let r = gql_in(&s, &ofds, "fr, de;q=0.5", WORKFLOW, json!({})).await;
    assert_eq!(
        r["data"]["workflow"]["title"],
        "Shenzhen → Hong Kong fintech soft landing"
    );
    // An argument beats the header; a language softland lacks is a coded error.
    let r = gql_in(&s, &ofds, "zh-HK", &titled("en"), json!({})).await;
    assert_eq!(
        r["data"]["workflow"]["title"],
        "Shenzhen → Hong Kong fintech soft landing"
    );
    let r = s.gql(Some(&ofds), &titled("fr"), json!({})).await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");

    // Tasks and actions: looked up from the definition, not frozen at opening.
    let id = s.submit_sample(&firm).await["id"].clone();
    let r = gql_in(&s, &ofds, "zh-HK", INBOX, json!({})).await;
    let task = &r["data"]["inbox"]["edges"][0]["node"];
    assert_eq!(task["state"], "ofds_nomination", "{r}");
    assert_eq!(task["title"], "深圳金融辦提名", "{r}");
    assert_eq!(task["actions"][0]["name"], "nominate");
    assert_eq!(task["actions"][0]["title"], "提名");
    assert_eq!(task["actions"][1]["title"], "不予提名");
    let r = s.gql(Some(&ofds), INBOX, json!({})).await;
    let task = &r["data"]["inbox"]["edges"][0]["node"];
    assert_eq!(task["title"], "OFDS nomination", "{r}");
    assert_eq!(task["actions"][1]["title"], "Decline");
    let r = s.gql(Some(&ofds), INBOX_HANS, json!({})).await;
    let task = &r["data"]["inbox"]["edges"][0]["node"];
    assert_eq!(task["title"], "深圳金融办提名", "{r}");
    assert_eq!(task["actions"][1]["title"], "不予提名");

    // The application's states and its outcome.
    let app = "query($id: ID!) { application(id: $id) { currentStates { name title } outcomeTitle(locale: \"zh-Hans\") } }";
    let r = gql_in(&s, &firm, "zh-Hant", app, json!({"id": id})).await;
    let a = &r["data"]["application"];
    assert_eq!(
        a["currentStates"],
        json!([{"name": "ofds_nomination", "title": "深圳金融辦提名"}]),
        "{r}"
    );
    assert!(a["outcomeTitle"].is_null(), "{r}");
    let r = s.gql(Some(&firm), WITHDRAW, json!({"id": id})).await;
    assert_eq!(
        r["data"]["withdrawApplication"]["outcome"], "withdrawn",
        "{r}"
    );
    let r = gql_in(&s, &firm, "zh-Hant", app, json!({"id": id})).await;
    assert_eq!(r["data"]["application"]["outcomeTitle"], "已撤回", "{r}");
}
