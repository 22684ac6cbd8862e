//! Positions: the internship positions firms offer. Students browse the open ones and apply
//! for one; a firm's staff offer positions and close their own. What each may do is the
//! API's (the policy's) to say: the page offers, the API decides.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use softland_gateway::{ErrorCode, Principal};

use super::{Frame, failure, html, refusal_words};
use crate::Console;
use crate::visitor::{Posted, SignedIn, Visitor, encode};

/// The programme students apply to for a position.
pub(crate) const INTERNSHIPS: &str = "internship-placement";

const LIST: &str = r#"query($mine: PositionFilterInput!, $open: PositionFilterInput!, $own: Boolean!) {
  open: positions(first: 100, filter: $open) { ...P }
  mine: positions(first: 100, filter: $mine) @include(if: $own) { ...P }
}
fragment P on Position {
  id title description location places placesTaken waitlisted closesOn status open
  organization { key name nameZhHant nameZhHans }
}"#;

#[derive(Deserialize)]
struct ListAnswer {
    open: Vec<Item>,
    #[serde(default)]
    mine: Vec<Item>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Firm {
    key: String,
    name: String,
    name_zh_hant: Option<String>,
    name_zh_hans: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Item {
    id: String,
    title: String,
    description: String,
    location: String,
    places: i64,
    places_taken: i64,
    waitlisted: i64,
    closes_on: String,
    open: bool,
    organization: Firm,
}

/// One position as the page shows it.
struct Row {
    id: String,
    title: String,
    description: String,
    firm: String,
    location: String,
    places: i64,
    taken: i64,
    waitlisted: i64,
    closes_on: String,
    open: bool,
    /// The viewer's firm offers it.
    own: bool,
    /// The page that applies for it.
    apply: String,
}

#[derive(Template)]
#[template(path = "positions.html")]
struct Page {
    page: Frame,
    /// Open positions.
    rows: Vec<Row>,
    /// The viewer's firm's positions (open or not), for a firm's staff.
    mine: Vec<Row>,
    /// Whether the viewer applies (a student), or offers (a firm's staff).
    applies: bool,
    offers: bool,
    refusal: Option<String>,
    form: Vec<(String, String)>,
}

impl Page {
    /// What the visitor typed in the offer form's field `name` (after a refusal).
    fn typed(&self, name: &str) -> &str {
        crate::visitor::field(&self.form, name)
    }
}

fn rows(v: &Visitor, items: Vec<Item>, own: Option<&str>) -> Vec<Row> {
    items
        .into_iter()
        .map(|p| Row {
            own: own == Some(p.organization.key.as_str()),
            apply: apply_link(&p.id),
            firm: super::in_lang(
                v.lang,
                &p.organization.name,
                p.organization.name_zh_hant.as_deref(),
                p.organization.name_zh_hans.as_deref(),
            )
            .to_owned(),
            id: p.id,
            title: p.title,
            description: p.description,
            location: p.location,
            places: p.places,
            taken: p.places_taken,
            waitlisted: p.waitlisted,
            closes_on: p.closes_on,
            open: p.open,
        })
        .collect()
}

async fn page(
    c: &Console,
    v: &Visitor,
    refusal: Option<String>,
    form: Vec<(String, String)>,
) -> Response {
    let (applies, firm) = match &v.principal {
        Some(p @ Principal::Applicant { organization, .. }) => {
            if p.is_student() {
                (true, None)
            } else {
                (false, Some(organization.clone()))
            }
        }
        _ => (false, None),
    };
    let vars = json!({
        "open": {"open": true},
        "mine": {"organization": firm},
        "own": firm.is_some(),
    });
    let answer: ListAnswer = match c.call(v, LIST, vars).await {
        Ok(a) => a,
        Err(f) => return failure(v, &f),
    };
    let t = v.t();
    html(&Page {
        page: Frame::new(v, t.pos_title, "/positions"),
        rows: rows(v, answer.open, firm.as_deref()),
        mine: rows(v, answer.mine, firm.as_deref()),
        applies,
        offers: firm.is_some(),
        refusal,
        form,
    })
}

/// `GET /positions`.
pub(crate) async fn list(State(c): State<Console>, SignedIn(v): SignedIn) -> Response {
    page(&c, &v, None, Vec::new()).await
}

const OFFER: &str =
    r#"mutation($input: OfferPositionInput!) { offerPosition(input: $input) { id } }"#;

/// `POST /positions`: a firm's staff offer a position; a refusal comes back at the form,
/// with everything typed kept.
pub(crate) async fn offer(State(c): State<Console>, p: Posted) -> Response {
    let text = |name: &str| p.text(name).map(str::to_owned);
    let places = p.field("places").trim().parse::<i64>().unwrap_or(0);
    let input = json!({
        "title": p.field("title").trim(),
        "titleZhHant": text("title_zh_hant"),
        "titleZhHans": text("title_zh_hans"),
        "description": p.field("description").trim(),
        "location": text("location"),
        "requirements": text("requirements"),
        "places": places,
        "closesOn": p.field("closes_on").trim(),
        "startsOn": text("starts_on"),
        "endsOn": text("ends_on"),
        "workflowKey": INTERNSHIPS,
    });
    match c.call::<Value>(&p.v, OFFER, json!({"input": input})).await {
        Ok(_) => Redirect::to("/positions").into_response(),
        Err(f) if matches!(f.code, ErrorCode::BadUserInput | ErrorCode::Forbidden) => {
            let words = refusal_words(p.v.t(), &f);
            let mut response = page(&c, &p.v, Some(words), p.fields.clone()).await;
            *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            response
        }
        Err(f) => failure(&p.v, &f),
    }
}

const CLOSE: &str = r#"mutation($id: ID!) { closePosition(id: $id) { id } }"#;

/// `POST /positions/{id}/close`.
pub(crate) async fn close(State(c): State<Console>, Path(id): Path<String>, p: Posted) -> Response {
    match c.call::<Value>(&p.v, CLOSE, json!({"id": id})).await {
        Ok(_) => Redirect::to("/positions").into_response(),
        Err(f) => failure(&p.v, &f),
    }
}

const ONE: &str = r#"query($id: ID!) { position(id: $id) { title organization { name nameZhHant nameZhHans } } }"#;

/// A position's title and firm, in words ("Payments intern · Pengcheng Pay"), for the page
/// that applies for it; `None` for one that does not exist.
pub(crate) async fn named(c: &Console, v: &Visitor, id: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct One {
        position: Option<Named>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Named {
        title: String,
        organization: Firm2,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Firm2 {
        name: String,
        name_zh_hant: Option<String>,
        name_zh_hans: Option<String>,
    }
    let one: One = c.call(v, ONE, json!({"id": id})).await.ok()?;
    let p = one.position?;
    let firm = super::in_lang(
        v.lang,
        &p.organization.name,
        p.organization.name_zh_hant.as_deref(),
        p.organization.name_zh_hans.as_deref(),
    );
    Some(format!("{} · {firm}", p.title))
}

/// The link that applies for position `id`.
pub(crate) fn apply_link(id: &str) -> String {
    format!("/applications/new/{INTERNSHIPS}?position={}", encode(id))
}
