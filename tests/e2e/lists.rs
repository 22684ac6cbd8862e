//! Inboxes and lists people can work with (issue 13, third part): every inbox filter and
//! order, the applications filters, and `totalCount` over every page. Over HTTP, on both
//! databases.

use serde_json::{Value, json};

use crate::support::{CLAIM, Server, WITHDRAW, code, on_both_backends};

on_both_backends!(inboxes_and_lists_filter_and_count);

const INBOX: &str = "query($f: InboxFilterInput, $o: InboxOrderBy, $first: Int, $after: String) { inbox(filter: $f, orderBy: $o, first: $first, after: $after) { totalCount pageInfo { endCursor hasNextPage } nodes { id applicationId claimedBy } } }";
const APPS: &str = "query($f: ApplicationFilterInput) { applications(filter: $f) { totalCount nodes { id organization } } }";

async fn inboxes_and_lists_filter_and_count(s: Server) {
    let firm = s.applicant_key("pengcheng-pay", "li");
    let other = s.applicant_key("qianhai-ledger", "mo");
    let chen = s.reviewer_key("ofds", "chen");
    let admin = s.key(&["--role", "admin", "--name", "root"]);
    let mut ids = Vec::new();
    for token in [&firm, &firm, &firm, &other] {
        ids.push(
            s.submit_sample(token).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let inbox = |f: Value, o: Value, first: i32, after: Value| {
        let (s, chen) = (&s, &chen);
        async move {
            let r = s
                .gql(
                    Some(chen),
                    INBOX,
                    json!({"f": f, "o": o, "first": first, "after": after}),
                )
                .await;
            assert!(r["errors"].is_null(), "{r}");
            r["data"]["inbox"].clone()
        }
    };
    let count = |f: Value| {
        let inbox = &inbox;
        async move {
            inbox(f, Value::Null, 1, Value::Null).await["totalCount"]
                .as_u64()
                .unwrap()
        }
    };
    // Everything, counted over all pages though a page holds one.
    let all = inbox(Value::Null, Value::Null, 1, Value::Null).await;
    assert_eq!(all["totalCount"], 4, "{all}");
    assert_eq!(all["nodes"].as_array().unwrap().len(), 1);
    assert_eq!(all["pageInfo"]["hasNextPage"], true);
    // Counted up to a bound: past it, one more than the bound says "more"; under it, exact.
    for (up_to, n) in [(2, 3), (4, 4), (10, 4)] {
        let r = s
            .gql(
                Some(&chen),
                "query($u: Int!) { inbox(first: 1) { totalCount(upTo: $u) } applications { totalCount(upTo: $u) } }",
                json!({"u": up_to}),
            )
            .await;
        assert!(r["errors"].is_null(), "{r}");
        assert_eq!(r["data"]["inbox"]["totalCount"], n, "upTo {up_to}: {r}");
        assert_eq!(
            r["data"]["applications"]["totalCount"], n,
            "upTo {up_to}: {r}"
        );
    }
    let r = s
        .query(Some(&chen), "{ inbox(first: 1) { totalCount(upTo: 0) } }")
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    // Claim one.
    let first_task = all["nodes"][0]["id"].clone();
    let r = s.gql(Some(&chen), CLAIM, json!({"t": first_task})).await;
    assert!(r["errors"].is_null(), "{r}");
    let far = "2100-01-01T00:00:00Z";
    let past = "2000-01-01T00:00:00Z";
    for (filter, n) in [
        (json!({"claim": "ME"}), 1),
        (json!({"claim": "ANYONE"}), 1),
        (json!({"claim": "NOBODY"}), 3),
        (json!({"organization": "qianhai-ledger"}), 1),
        (json!({"organization": "pengcheng-pay"}), 3),
        (json!({"state": "ofds_nomination"}), 4),
        (json!({"state": "hkstp_review"}), 0),
        (json!({"workflowKey": "soft-landing-sz-to-hk"}), 4),
        (json!({"workflowKey": "internship-placement"}), 0),
        (json!({"overdue": false}), 4),
        (json!({"overdue": true}), 0),
        (json!({"dueBefore": far}), 4),
        (json!({"dueBefore": past}), 0),
        (json!({"dueAfter": past}), 4),
        (json!({"dueAfter": far}), 0),
        (
            json!({"claim": "NOBODY", "organization": "pengcheng-pay"}),
            2,
        ),
    ] {
        assert_eq!(count(filter.clone()).await, n, "{filter}");
    }
    // Oldest first: the submission order; pages follow with their cursors.
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = inbox(Value::Null, json!("OPENED_AT"), 3, after.clone()).await;
        for n in page["nodes"].as_array().unwrap() {
            seen.push(n["applicationId"].as_str().unwrap().to_owned());
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, ids);
    // A cursor of one order is refused by the other.
    let due_cursor = all["pageInfo"]["endCursor"].clone();
    let r = s
        .gql(
            Some(&chen),
            INBOX,
            json!({"o": "OPENED_AT", "after": due_cursor, "first": 1}),
        )
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");

    // Applications.
    let apps = |token: String, f: Value| {
        let s = &s;
        async move {
            let r = s.gql(Some(&token), APPS, json!({"f": f})).await;
            assert!(r["errors"].is_null(), "{r}");
            r["data"]["applications"]["totalCount"].as_u64().unwrap()
        }
    };
    let r = s.gql(Some(&firm), WITHDRAW, json!({"id": ids[0]})).await;
    assert!(r["errors"].is_null(), "{r}");
    for (token, filter, n) in [
        (&firm, Value::Null, 3),
        (&firm, json!({"organization": "qianhai-ledger"}), 0),
        (&firm, json!({"status": "ACTIVE"}), 2),
        (&firm, json!({"outcome": "withdrawn"}), 1),
        (&admin, Value::Null, 4),
        (&admin, json!({"search": "QIANHAI"}), 1),
        (&admin, json!({"search": "pay"}), 3),
        (&admin, json!({"search": "%"}), 0),
        // Through the names' trigram index (three characters or more), literally.
        (&admin, json!({"search": "NG-PA"}), 3),
        (&admin, json!({"search": "hai-ledger"}), 1),
        (&admin, json!({"search": "pay\""}), 0),
        (&admin, json!({"submittedAfter": far}), 0),
        (
            &admin,
            json!({"submittedBefore": far, "workflowKey": "soft-landing-sz-to-hk"}),
            4,
        ),
        (&chen, Value::Null, 4),
        (
            &chen,
            json!({"organization": "pengcheng-pay", "status": "WITHDRAWN"}),
            1,
        ),
    ] {
        assert_eq!(apps(token.clone(), filter.clone()).await, n, "{filter}");
    }
}
