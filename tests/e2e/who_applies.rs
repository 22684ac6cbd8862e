//! Who may apply (issue 30, item 15): a workflow's `applicants: {regions: […]}` names the
//! firms it is for. A firm the directory places elsewhere is neither offered it (the API's
//! `mayApply`, the console's Apply list and form page) nor can submit it; a firm whose region
//! the directory does not record may apply to any.

use serde_json::json;

use crate::support::{Server, code, example, on_both_backends};

on_both_backends!(a_workflow_is_offered_to_the_firms_it_is_for);

const PUT_ORG: &str = "mutation($o: OrganizationInput!) { putOrganization(input: $o) { key } }";
const OFFERED: &str = "{ workflows { key mayApply applicantRegions } }";
const SUBMIT: &str =
    "mutation($i: SubmitApplicationInput!) { submitApplication(input: $i) { id } }";

async fn a_workflow_is_offered_to_the_firms_it_is_for(s: Server) {
    for (key, name, region) in [
        ("pengcheng-pay", "Pengcheng Pay Ltd", Some("mainland")),
        ("harbour-ledger", "Harbour Ledger Ltd", Some("hk")),
        ("somewhere-ltd", "Somewhere Ltd", None),
    ] {
        let r = s
            .gql(
                Some(&s.admin),
                PUT_ORG,
                json!({"o": {"key": key, "name": name, "region": region}}),
            )
            .await;
        assert!(r["errors"].is_null(), "{r}");
    }
    let shenzhen = s.applicant_key("pengcheng-pay", "li.wei");
    let hong_kong = s.applicant_key("harbour-ledger", "mary");
    let unplaced = s.applicant_key("somewhere-ltd", "x");
    let offered = |r: &serde_json::Value, key: &str| {
        r["data"]["workflows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["key"] == key)
            .map(|w| w["mayApply"].clone())
            .unwrap_or_else(|| panic!("{key}: {r}"))
    };
    let r = s.query(Some(&shenzhen), OFFERED).await;
    assert_eq!(offered(&r, "soft-landing-sz-to-hk"), true, "{r}");
    assert_eq!(offered(&r, "soft-landing-hk-to-sz"), false, "{r}");
    let r = s.query(Some(&hong_kong), OFFERED).await;
    assert_eq!(offered(&r, "soft-landing-sz-to-hk"), false, "{r}");
    assert_eq!(offered(&r, "soft-landing-hk-to-sz"), true, "{r}");
    let r = s.query(Some(&unplaced), OFFERED).await;
    assert_eq!(offered(&r, "soft-landing-hk-to-sz"), true, "{r}");

    // Submitting where one is not offered is refused, before anything is stored.
    let submit = |key: &str| json!({"i": {"workflowKey": key, "data": example(key)}});
    let r = s
        .gql(Some(&shenzhen), SUBMIT, submit("soft-landing-hk-to-sz"))
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    let r = s
        .gql(Some(&hong_kong), SUBMIT, submit("soft-landing-hk-to-sz"))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let r = s
        .gql(Some(&shenzhen), SUBMIT, submit("soft-landing-sz-to-hk"))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let listed = s
        .query(Some(&shenzhen), "{ applications { totalCount } }")
        .await;
    assert_eq!(listed["data"]["applications"]["totalCount"], 1, "{listed}");

    // The console offers Apply only for what the firm may apply for, and says why on the form
    // page of another.
    let cookie = crate::trust::signin::console_session(&s.url, &shenzhen).await;
    let page = |path: &str| {
        let (url, cookie) = (format!("{}{path}", s.url), cookie.clone());
        async move {
            reqwest::Client::new()
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let list = page("/applications").await;
    assert!(
        list.contains("/applications/new/soft-landing-sz-to-hk"),
        "{list}"
    );
    assert!(
        !list.contains("/applications/new/soft-landing-hk-to-sz"),
        "{list}"
    );
    let form = page("/applications/new/soft-landing-hk-to-sz").await;
    assert!(
        form.contains("This workflow is for firms of another region"),
        "{form}"
    );
    assert!(!form.contains("class=\"generated\""), "no form is offered");
}
