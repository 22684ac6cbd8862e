//! The audit trail, for administrators: what people did besides moving applications — the
//! latest 100, newest first — and a download of the whole trail (application events and
//! people's actions) for a range of dates, from the gateway's `/audit/export`.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Frame, failure, html};
use crate::Console;
use crate::i18n::{Text, hk_time};
use crate::visitor::SignedIn;

const ACTIONS: &str =
    r#"{ peopleActions(first: 100) { at actor kind subject applicationId detail } }"#;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    people_actions: Vec<Action>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Action {
    at: DateTime<Utc>,
    actor: String,
    kind: String,
    subject: String,
    application_id: Option<String>,
    detail: Value,
}

/// One row of the table.
#[derive(Debug)]
struct Row {
    when: String,
    who: String,
    what: String,
    about: String,
    application: Option<String>,
    detail: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct Page {
    page: Frame,
    t: &'static Text,
    rows: Vec<Row>,
    from: String,
    to: String,
}

/// An action's kind in the reader's words.
fn said(t: &Text, kind: &str) -> String {
    match kind {
        "claim" => t.a_claim,
        "release" => t.a_release,
        "hand_over" => t.a_hand_over,
        "put_person" => t.a_put_person,
        "deactivate_person" => t.a_deactivate_person,
        "create_key" => t.a_create_key,
        "revoke_key" => t.a_revoke_key,
        "put_agency" => t.a_put_agency,
        "put_organization" => t.a_put_organization,
        "publish" => t.a_publish,
        "retire" => t.a_retire,
        "unretire" => t.a_unretire,
        "load_directory" => t.a_load_directory,
        other => other,
    }
    .to_owned()
}

/// `GET /audit`.
pub(crate) async fn page(State(c): State<Console>, SignedIn(v): SignedIn) -> Response {
    let answer: Answer = match c.call(&v, ACTIONS, json!({})).await {
        Ok(a) => a,
        Err(f) => return failure(&v, &f),
    };
    let t = v.t();
    let rows = answer
        .people_actions
        .into_iter()
        .map(|a| Row {
            when: hk_time(&a.at, t),
            who: a.actor,
            what: said(t, &a.kind),
            about: a.subject,
            application: a.application_id,
            detail: match &a.detail {
                Value::Object(m) if m.is_empty() => String::new(),
                other => other.to_string(),
            },
        })
        .collect();
    let today = Utc::now()
        .with_timezone(&softland_workflow::HONG_KONG)
        .date_naive();
    html(&Page {
        page: Frame::new(&v, t.nav_audit, "/audit"),
        t,
        rows,
        from: (today - chrono::Duration::days(30)).to_string(),
        to: (today + chrono::Duration::days(1)).to_string(),
    })
}
