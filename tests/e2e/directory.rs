//! The directory over GraphQL (issue 14): administrators and leads manage people and their
//! keys; a lead works any claim of the agency; deactivation ends a person's access at once;
//! people of other agencies and organizations are out of sight.

use serde_json::{Value, json};

use crate::support::{CLAIM, Server, code, on_both_backends, softland, temp_dir};

on_both_backends!(
    leads_and_administrators_manage_people_and_keys,
    the_cli_loads_and_lists_the_directory
);

const PUT_PERSON: &str = "mutation($p: PersonInput!) { putPerson(input: $p) { id displayName agency organization roles active } }";
const CREATE_KEY: &str = "mutation($p: ID!, $l: String!, $e: DateTime) { createApiKey(input: {personId: $p, label: $l, expiresAt: $e}) { token key { id personId expiresAt } } }";
const RELEASE: &str = "mutation($t: ID!) { releaseTask(taskId: $t) { id claimedBy } }";
const DELEGATE: &str =
    "mutation($t: ID!, $to: String!) { delegateTask(taskId: $t, to: $to) { id claimedBy } }";

fn person(id: &str, agency: Option<&str>, org: Option<&str>, roles: &[&str]) -> Value {
    json!({"p": {"id": id, "displayName": format!("{id} display"), "agency": agency, "organization": org, "roles": roles}})
}

/// The token of a new key for `person`, made by `by`.
async fn key_for(s: &Server, by: &str, person: &str) -> String {
    let r = s
        .gql(Some(by), CREATE_KEY, json!({"p": person, "l": "laptop"}))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    r["data"]["createApiKey"]["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn leads_and_administrators_manage_people_and_keys(s: Server) {
    let admin = s.admin.clone();
    // The agencies the bundled workflows name are in the directory, in three languages.
    let r = s
        .query(Some(&admin), "{ agencies { key nameZhHant region } }")
        .await;
    let agencies = r["data"]["agencies"].as_array().unwrap();
    assert!(
        agencies
            .iter()
            .any(|a| a["key"] == "hkstp" && a["nameZhHant"] == "香港科技園公司"),
        "{r}"
    );
    let r = s
        .gql(
            Some(&admin),
            PUT_PERSON,
            person("ivy", Some("ofds"), None, &["LEAD", "REVIEWER"]),
        )
        .await;
    assert_eq!(
        r["data"]["putPerson"]["roles"],
        json!(["LEAD", "REVIEWER"]),
        "{r}"
    );
    let ivy = key_for(&s, &admin, "ivy").await;
    let r = s
        .query(Some(&ivy), "{ me { name role lead agency } }")
        .await;
    assert_eq!(
        r["data"]["me"],
        json!({"name": "ivy", "role": "REVIEWER", "lead": true, "agency": "ofds"})
    );

    // The lead adds colleagues and makes their keys; not outside the agency, not admins.
    for (id, roles) in [("chen", ["REVIEWER"]), ("dai", ["REVIEWER"])] {
        let r = s
            .gql(
                Some(&ivy),
                PUT_PERSON,
                person(id, Some("ofds"), None, &roles),
            )
            .await;
        assert!(r["errors"].is_null(), "{r}");
    }
    let chen = key_for(&s, &ivy, "chen").await;
    for (vars, why) in [
        (
            person("eve", Some("hkstp"), None, &["REVIEWER"]),
            "another agency",
        ),
        (
            person("mal", Some("ofds"), None, &["ADMIN"]),
            "an administrator",
        ),
    ] {
        let r = s.gql(Some(&ivy), PUT_PERSON, vars).await;
        assert_eq!(code(&r), "FORBIDDEN", "{why}: {r}");
    }
    let r = s
        .gql(
            Some(&chen),
            PUT_PERSON,
            person("x", Some("ofds"), None, &["REVIEWER"]),
        )
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "a reviewer is no lead: {r}");
    let r = s
        .gql(
            Some(&admin),
            PUT_PERSON,
            person("y", Some("hkmaa"), None, &["REVIEWER"]),
        )
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "an unknown agency: {r}");

    // Colleagues see each other; nobody else's people.
    let r = s.query(Some(&chen), "{ people { id } }").await;
    let ids: Vec<&str> = r["data"]["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["chen", "dai", "ivy"], "{r}");
    let firm = s.applicant_key("pengcheng-pay", "li");
    let r = s
        .query(Some(&firm), "{ people(agency: \"ofds\") { id } }")
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    let r = s
        .gql(Some(&firm), CREATE_KEY, json!({"p": "chen", "l": "x"}))
        .await;
    assert_eq!(
        code(&r),
        "NOT_FOUND",
        "another party's person is not found: {r}"
    );

    // A lead releases and delegates anyone's claim of the agency; only to an active colleague.
    let app = s.submit_sample(&firm).await;
    let task = app["openTasks"][0]["id"].clone();
    let r = s.gql(Some(&chen), CLAIM, json!({"t": task})).await;
    assert_eq!(r["data"]["claimTask"]["claimedBy"], "chen", "{r}");
    let r = s.gql(Some(&ivy), RELEASE, json!({"t": task})).await;
    assert_eq!(r["data"]["releaseTask"]["claimedBy"], Value::Null, "{r}");
    let r = s
        .gql(Some(&ivy), DELEGATE, json!({"t": task, "to": "nobody"}))
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    let r = s
        .gql(Some(&ivy), DELEGATE, json!({"t": task, "to": "chen"}))
        .await;
    assert_eq!(r["data"]["delegateTask"]["claimedBy"], "chen", "{r}");
    // An administrator plays the lead's part.
    let r = s.gql(Some(&admin), RELEASE, json!({"t": task})).await;
    assert_eq!(r["data"]["releaseTask"]["claimedBy"], Value::Null, "{r}");

    // Deactivation: the key stops at once, claims are released, keys are listed revoked.
    let r = s.gql(Some(&chen), CLAIM, json!({"t": task})).await;
    assert!(r["errors"].is_null(), "{r}");
    let r = s
        .gql(
            Some(&ivy),
            "mutation { deactivatePerson(id: \"chen\") { active } }",
            json!({}),
        )
        .await;
    assert_eq!(r["data"]["deactivatePerson"]["active"], false, "{r}");
    let r = s.query(Some(&chen), "{ me { name } }").await;
    assert_eq!(code(&r), "UNAUTHENTICATED", "{r}");
    // The only active administrator cannot deactivate themselves (nobody would be left).
    let me = s.query(Some(&admin), "{ me { name } }").await;
    let name = me["data"]["me"]["name"].as_str().unwrap().to_owned();
    let r = s
        .gql(
            Some(&admin),
            "mutation($id: ID!) { deactivatePerson(id: $id) { active } }",
            json!({"id": name}),
        )
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("only active administrator"),
        "{r}"
    );
    assert!(s.query(Some(&admin), "{ me { name } }").await["errors"].is_null());
    let r = s
        .query(Some(&ivy), "{ apiKeys(personId: \"chen\") { revokedAt } }")
        .await;
    assert!(
        r["data"]["apiKeys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| !k["revokedAt"].is_null()),
        "{r}"
    );
    let r = s
        .gql(
            Some(&ivy),
            "query($t: ID!) { node(id: $t) { ... on Task { claimedBy } } }",
            json!({"t": task}),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    assert_eq!(r["data"]["node"]["claimedBy"], Value::Null, "{r}");

    // An expired key does not sign in.
    let r = s
        .gql(
            Some(&admin),
            CREATE_KEY,
            json!({"p": "dai", "l": "old", "e": "2020-01-01T00:00:00Z"}),
        )
        .await;
    let old = r["data"]["createApiKey"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s.query(Some(&old), "{ me { name } }").await;
    assert_eq!(code(&r), "UNAUTHENTICATED", "{r}");
}

async fn the_cli_loads_and_lists_the_directory(s: Server) {
    let dir = temp_dir(&format!("directory-cli-{}", uuid::Uuid::new_v4()));
    let db = s.db.url.clone();
    let yaml = dir.join("directory.yaml");
    std::fs::write(
        &yaml,
        "organizations:\n  - {key: pengcheng-pay, name: Pengcheng Pay Ltd, name_zh_hans: 鹏城支付有限公司, registration_number: 91440300MA5XXXXXXX, region: mainland}\n\
         people:\n  - {id: li.wei, display_name: Li Wei, organization: pengcheng-pay, roles: [lead, staff]}\n",
    )
    .unwrap();
    let run = softland(&["directory", "load", yaml.to_str().unwrap(), "--db", &db]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("1 organizations, 1 people"),
        "{}",
        run.stdout
    );
    let csv = dir.join("people.csv");
    std::fs::write(
        &csv,
        "id,display_name,email,agency,roles\nchen,Chen Hui,chen@ofds.example,ofds,reviewer\nivy,Ivy Ho,,ofds,lead reviewer\n",
    )
    .unwrap();
    let run = softland(&["directory", "load", csv.to_str().unwrap(), "--db", &db]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = softland(&["directory", "people", "--agency", "ofds", "--db", &db]);
    assert!(
        run.stdout.contains("chen") && run.stdout.contains("lead,reviewer"),
        "{}",
        run.stdout
    );
    // A bad row is refused with its row number; an unknown agency is refused for keys too.
    std::fs::write(&csv, "id,agency,roles\nx,ofds,reviewer\ny,ofds,superuser\n").unwrap();
    let run = softland(&["directory", "load", csv.to_str().unwrap(), "--db", &db]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("row 3"), "{}", run.stderr);
    let run = softland(&[
        "keys", "create", "--role", "reviewer", "--agency", "hkmaa", "--name", "z", "--db", &db,
    ]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("hkmaa"), "{}", run.stderr);
    // Keys for a person, one already expired; deactivation from the command line.
    let chen = s.key(&["--person", "chen", "--name", "laptop"]);
    let old = s.key(&[
        "--person",
        "chen",
        "--name",
        "old",
        "--expires",
        "2020-01-01",
    ]);
    let me = "{ me { name } }";
    assert_eq!(s.query(Some(&chen), me).await["data"]["me"]["name"], "chen");
    assert_eq!(code(&s.query(Some(&old), me).await), "UNAUTHENTICATED");
    let run = softland(&["directory", "deactivate", "chen", "--db", &db]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(code(&s.query(Some(&chen), me).await), "UNAUTHENTICATED");

    // Loading merges: HKSTP's Simplified Chinese name and the firm's registration number stay
    // when a file leaves them out; an empty string clears a field (documented in the README).
    std::fs::write(
        &yaml,
        "agencies:\n  - {key: hkstp, name: Hong Kong Science and Technology Parks Corporation, name_zh_hant: 香港科技園公司, region: hk, inbox_email: softlanding@hkstp.example}\n\
         organizations:\n  - {key: pengcheng-pay, name: Pengcheng Pay Ltd, region: mainland, name_zh_hans: \"\"}\n\
         people:\n  - {id: li.wei, email: li.wei@pengcheng.example}\n",
    )
    .unwrap();
    let run = softland(&["directory", "load", yaml.to_str().unwrap(), "--db", &db]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let r = s
        .query(
            Some(&s.admin),
            "{ agencies { key nameZhHans inboxEmail } organizations { key nameZhHans registrationNumber } people(organization: \"pengcheng-pay\") { id displayName email roles } }",
        )
        .await;
    let hkstp = r["data"]["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == "hkstp")
        .cloned()
        .unwrap();
    assert_eq!(hkstp["nameZhHans"], "香港科技园公司", "kept: {r}");
    assert_eq!(hkstp["inboxEmail"], "softlanding@hkstp.example", "{r}");
    assert_eq!(
        r["data"]["organizations"][0],
        json!({"key": "pengcheng-pay", "nameZhHans": null, "registrationNumber": "91440300MA5XXXXXXX"}),
        "{r}"
    );
    assert_eq!(
        r["data"]["people"][0],
        json!({"id": "li.wei", "displayName": "Li Wei", "email": "li.wei@pengcheng.example", "roles": ["LEAD", "STAFF"]}),
        "{r}"
    );

    // A key never changes its person; an organization the directory lacks is refused.
    let run = softland(&[
        "keys",
        "create",
        "--role",
        "applicant",
        "--org",
        "pengcheng-pay",
        "--name",
        "li.wei",
        "--db",
        &db,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let r = s
        .query(
            Some(&s.admin),
            "{ people(organization: \"pengcheng-pay\") { displayName roles } }",
        )
        .await;
    assert_eq!(
        r["data"]["people"][0],
        json!({"displayName": "Li Wei", "roles": ["LEAD", "STAFF"]}),
        "{r}"
    );
    let run = softland(&[
        "keys",
        "create",
        "--role",
        "applicant",
        "--org",
        "nosuch-firm",
        "--name",
        "z",
        "--db",
        &db,
    ]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("no organization `nosuch-firm`"),
        "{}",
        run.stderr
    );
    let r = s.query(Some(&s.admin), "{ organizations { key } }").await;
    assert!(
        !r.to_string().contains("nosuch-firm"),
        "nothing was added: {r}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
