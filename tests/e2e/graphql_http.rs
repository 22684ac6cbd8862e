//! Standard tools against the live server (issue 13, fourth part): the introspection query
//! graphql-js's `getIntrospectionQuery` builds (as GraphiQL 3 sends it: descriptions,
//! `specifiedByURL`, `isRepeatable`, deprecated input values, `ofType` nine deep) succeeds,
//! and responses follow the GraphQL-over-HTTP specification's media types and status codes.

use serde_json::{Value, json};

use crate::support::{Server, on_both_backends, root};

on_both_backends!(
    standard_tools_work,
    any_object_is_found_again_by_its_global_id
);

/// POSTs `body` with the given headers; returns status, content type and JSON body.
async fn post(s: &Server, headers: &[(&str, &str)], body: Option<Value>) -> (u16, String, Value) {
    let mut req = reqwest::Client::new().post(format!("{}/graphql", s.url));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.body(b.to_string());
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let media = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, media, body)
}

const JSON: (&str, &str) = ("content-type", "application/json");
const WANTS_JSON: (&str, &str) = ("accept", "application/json");
const WANTS_GQL: (&str, &str) = ("accept", "application/graphql-response+json");

async fn standard_tools_work(s: Server) {
    let firm = s.applicant_key("pengcheng-pay", "li");
    let bearer = format!("Bearer {firm}");
    let auth = ("authorization", bearer.as_str());

    // The standard introspection query, anonymous as tools send it first.
    let query = std::fs::read_to_string(root().join("tests/e2e/fixtures/introspection.graphql"))
        .expect("fixture");
    let (status, _, r) = post(&s, &[JSON, WANTS_GQL], Some(json!({"query": query}))).await;
    assert_eq!(status, 200, "{r}");
    assert!(r["errors"].is_null(), "{r}");
    let types = r["data"]["__schema"]["types"].as_array().unwrap();
    assert!(types.iter().any(|t| t["name"] == "Application"), "{r}");
    assert_eq!(r["data"]["__schema"]["queryType"]["name"], "Query");
    // Ordinary queries keep their depth limit.
    let deep = format!(
        "{{ inbox {{ nodes {} id {} }} }}",
        "application { openTasks { ".repeat(8),
        "} } ".repeat(8)
    );
    let (_, _, r) = post(&s, &[JSON, auth], Some(json!({"query": deep}))).await;
    assert_eq!(
        r["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{r}"
    );

    let ok = json!({"query": "{ me { role } }"});
    let unparsable = json!({"query": "{ me { role "});
    let invalid = json!({"query": "{ me { nonsense } }"});
    let uncoercible = json!({"query": "query($id: ID!) { application(id: $id) { id } }", "variables": {"id": {"not": "an id"}}});
    let failing =
        json!({"query": "mutation { act(input: {taskId: \"nope\", action: \"x\"}) { id } }"});
    // `Accept: application/json`: JSON back, 200 even for request errors (the legacy rule).
    for body in [&ok, &unparsable, &invalid] {
        let (status, media, r) = post(&s, &[JSON, WANTS_JSON, auth], Some(body.clone())).await;
        assert_eq!(status, 200, "{body}: {r}");
        assert!(media.starts_with("application/json"), "{body}: {media}");
    }
    // No Accept header: as application/json.
    let (status, media, _) = post(&s, &[JSON, auth], Some(unparsable.clone())).await;
    assert_eq!((status, media.starts_with("application/json")), (200, true));
    // `Accept: application/graphql-response+json`: request errors are 400, coded; an error
    // while executing is 200 with its own code.
    let (status, media, r) = post(&s, &[JSON, WANTS_GQL, auth], Some(ok.clone())).await;
    assert_eq!(status, 200, "{r}");
    assert!(
        media.starts_with("application/graphql-response+json"),
        "{media}"
    );
    assert_eq!(r["data"]["me"]["role"], "APPLICANT");
    for body in [&unparsable, &invalid, &uncoercible] {
        let (status, media, r) = post(&s, &[JSON, WANTS_GQL, auth], Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {r}");
        assert!(
            media.starts_with("application/graphql-response+json"),
            "{media}"
        );
        assert_eq!(
            r["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{r}"
        );
    }
    let (status, _, r) = post(&s, &[JSON, WANTS_GQL, auth], Some(failing)).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["errors"][0]["extensions"]["code"], "NOT_FOUND", "{r}");
    // Both named: the GraphQL media type wins; refused with q=0: JSON.
    let (_, media, _) = post(
        &s,
        &[
            JSON,
            auth,
            (
                "accept",
                "application/json, application/graphql-response+json",
            ),
        ],
        Some(ok.clone()),
    )
    .await;
    assert!(
        media.starts_with("application/graphql-response+json"),
        "{media}"
    );
    let (_, media, _) = post(
        &s,
        &[
            JSON,
            auth,
            (
                "accept",
                "application/graphql-response+json;q=0, application/json",
            ),
        ],
        Some(ok.clone()),
    )
    .await;
    assert!(media.starts_with("application/json"), "{media}");
    // A POST without a content type is a client error, coded.
    let (status, _, r) = post(&s, &[auth], Some(ok)).await;
    assert!((400..500).contains(&status), "{status}: {r}");
    assert!(r["errors"][0]["extensions"]["code"].is_string(), "{r}");
}

/// GraphiQL's page and everything it loads come from the server itself (no CDN), under a
/// Content-Security-Policy that allows nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_loads_nothing_from_outside() {
    let s = Server::start(softland_store::test_util::TestDb::sqlite());
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{}{path}", s.url)).send();
    // The console's icon is where browsers look for it (an ICO holding a PNG).
    let icon = get("/favicon.ico").await.unwrap();
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/x-icon");
    let bytes = icon.bytes().await.unwrap();
    assert_eq!(&bytes[..4], &[0, 0, 1, 0], "an ICO file");
    let page = get("/graphql").await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    let html = page.text().await.unwrap();
    let mut loaded = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            loaded.push(part.split('"').next().unwrap().to_owned());
        }
    }
    assert_eq!(loaded.len(), 6, "{loaded:?}");
    for path in loaded {
        assert!(
            path.starts_with("/graphiql/"),
            "{path} is not this server's"
        );
        let r = get(&path).await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let media = r.headers()["content-type"].to_str().unwrap().to_owned();
        let body = r.text().await.unwrap();
        assert!(body.len() > 20, "{path}");
        if media.starts_with("text/css") {
            // Stylesheets pull in nothing from elsewhere either.
            assert!(!body.contains("@import"), "{path}");
            for url in body.split("url(").skip(1) {
                let target = url.trim_start_matches(['"', '\'']);
                assert!(
                    target.starts_with("data:") || target.starts_with('#'),
                    "{path}: url({target:.40}"
                );
            }
        }
    }
    let missing = get("/graphiql/../Cargo.toml").await.unwrap();
    assert_eq!(missing.status(), 404);
}

/// Relay's Global Object Identification: applications, tasks and workflow versions come back
/// from `node(id:)`; another firm's, a malformed or an unknown id is null.
async fn any_object_is_found_again_by_its_global_id(s: Server) {
    let firm = s.applicant_key("pengcheng-pay", "li");
    let other = s.applicant_key("other-firm", "mo");
    let submitted = s.submit_sample(&firm).await;
    let app = submitted["id"].clone();
    let task = submitted["openTasks"][0]["id"].clone();
    let workflow = "{ workflow(key: \"soft-landing-sz-to-hk\") { id version } }";
    let r = s.gql(Some(&firm), workflow, json!({})).await;
    let wf = r["data"]["workflow"]["id"].clone();
    assert_eq!(
        wf,
        format!(
            "workflow:soft-landing-sz-to-hk:{}",
            r["data"]["workflow"]["version"]
        )
    );
    const NODE: &str = "query($id: ID!) { node(id: $id) { __typename id ... on Task { state } ... on Workflow { key } ... on Application { organization } } }";
    for (id, typename) in [(&app, "Application"), (&task, "Task"), (&wf, "Workflow")] {
        let r = s.gql(Some(&firm), NODE, json!({"id": id})).await;
        assert_eq!(r["data"]["node"]["__typename"], typename, "{r}");
        assert_eq!(&r["data"]["node"]["id"], id, "{r}");
    }
    for (token, id) in [
        (&other, app.clone()),
        (&other, task.clone()),
        (&firm, json!("not-an-id")),
        (&firm, json!("workflow:soft-landing-sz-to-hk:999")),
        (&firm, json!("00000000-0000-0000-0000-000000000000")),
    ] {
        let r = s.gql(Some(token), NODE, json!({"id": id})).await;
        assert!(r["errors"].is_null(), "{r}");
        assert!(r["data"]["node"].is_null(), "{id}: {r}");
    }
}
