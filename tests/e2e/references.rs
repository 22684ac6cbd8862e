//! Applications have references people can say and search for (issue 30, item 8):
//! `SZHK-2026-0042` — the workflow's prefix, the year submitted (Hong Kong time) and a number
//! unique across programmes — in the API, the console's lists and pages, and the search.

use serde_json::json;

use crate::support::{Server, example, on_both_backends};

on_both_backends!(applications_have_references_people_can_search_for);

const SUBMIT: &str =
    "mutation($i: SubmitApplicationInput!) { submitApplication(input: $i) { id reference } }";
const SEARCH: &str = "query($s: String!) { applications(filter: {search: $s}) { totalCount nodes { id reference } } }";

async fn applications_have_references_people_can_search_for(s: Server) {
    let firm = s.applicant_key("pengcheng-pay", "li.wei");
    let year = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y")
        .to_string();
    let mut submitted = Vec::new();
    for key in [
        "soft-landing-sz-to-hk",
        "soft-landing-sz-to-hk",
        "soft-landing-hk-to-sz",
    ] {
        let r = s
            .gql(
                Some(&firm),
                SUBMIT,
                json!({"i": {"workflowKey": key, "data": example(key)}}),
            )
            .await;
        assert!(r["errors"].is_null(), "{r}");
        submitted.push(r["data"]["submitApplication"].clone());
    }
    let references: Vec<&str> = submitted
        .iter()
        .map(|a| a["reference"].as_str().unwrap())
        .collect();
    assert_eq!(
        references,
        [
            format!("SZHK-{year}-0001"),
            format!("SZHK-{year}-0002"),
            format!("HKSZ-{year}-0003")
        ],
        "numbered in the order submitted, unique across programmes"
    );
    // Stable: asked again, the same.
    let again = s
        .gql(
            Some(&firm),
            "query($id: ID!) { application(id: $id) { reference } }",
            json!({"id": submitted[1]["id"]}),
        )
        .await;
    assert_eq!(again["data"]["application"]["reference"], references[1]);
    // Searchable, in any case.
    for text in [references[1].to_owned(), references[1].to_lowercase()] {
        let r = s.gql(Some(&firm), SEARCH, json!({"s": text})).await;
        assert_eq!(r["data"]["applications"]["totalCount"], 1, "{text}: {r}");
        assert_eq!(
            r["data"]["applications"]["nodes"][0]["id"], submitted[1]["id"],
            "{r}"
        );
    }
    // The console's list links each application by its reference.
    let cookie = crate::trust::signin::console_session(&s.url, &firm).await;
    let list = reqwest::Client::new()
        .get(format!("{}/applications", s.url))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for reference in &references {
        assert!(list.contains(&format!(">{reference}</a>")), "{list}");
    }
}
