//! Applications: the list (a firm's own, an agency's involved, everything for administrators)
//! and a new application through the form generated from the workflow's JSON Schema.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use softland_gateway::ErrorCode;
use softland_gateway::Principal;

use super::{Frame, failure, html, refusal_words};
use crate::Console;
use crate::form::{self, Errors, Row as FormRow};
use crate::i18n::{Text, hk_time};
use crate::visitor::{Posted, SignedIn, Visitor};

const LIST: &str = r#"query($filter: ApplicationFilterInput) {
  applications(first: 50, filter: $filter) {
    totalCount
    nodes {
      id reference workflowKey organizationName status outcomeTitle submittedAt updatedAt
      currentStates { title }
    }
  }
  workflows { key title retiredAt mayApply forPositions }
}"#;

#[derive(Deserialize)]
struct ListAnswer {
    applications: Connection,
    workflows: Vec<WorkflowItem>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Connection {
    total_count: i64,
    nodes: Vec<Item>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Item {
    id: String,
    reference: String,
    workflow_key: String,
    organization_name: String,
    status: String,
    outcome_title: Option<String>,
    submitted_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    current_states: Vec<Title>,
}

#[derive(Deserialize)]
pub(crate) struct Title {
    pub title: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WorkflowItem {
    key: String,
    title: String,
    retired_at: Option<String>,
    may_apply: bool,
    /// Applied to for a position: the Apply link goes to the positions.
    for_positions: bool,
}

/// One row of the list.
#[derive(Debug)]
struct Row {
    id: String,
    reference: String,
    firm: String,
    workflow: String,
    status: String,
    status_class: &'static str,
    stands: String,
    submitted: String,
    updated: String,
}

/// An application's status in words, and its CSS class.
pub(crate) fn status_words(t: &Text, status: &str) -> (String, &'static str) {
    match status {
        "ACTIVE" => (t.status_active.into(), "active"),
        "COMPLETED" => (t.status_completed.into(), "completed"),
        _ => (t.status_withdrawn.into(), "withdrawn"),
    }
}

#[derive(Template)]
#[template(path = "applications.html")]
struct ListPage {
    page: Frame,
    status: String,
    total: i64,
    rows: Vec<Row>,
    workflows: Vec<WorkflowItem>,
    /// What a report's link narrowed it to (kept by the status filter).
    narrowed: Vec<(String, String)>,
}

/// The list's filter: a status, and what a report's links add — a workflow, a result
/// (`approved`, …, `withdrawn`, `open`) and a period of submission (dates, Hong Kong).
#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    status: Option<String>,
    workflow: Option<String>,
    outcome: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// Midnight in Hong Kong of `date` (`2026-11-02`), `days` days on, as the API takes times.
fn hk_midnight(date: &str, days: i64) -> Option<String> {
    let day = chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok()?
        + chrono::Duration::days(days);
    Some(format!("{day}T00:00:00+08:00"))
}

impl ListQuery {
    /// The API's filter.
    fn filter(&self, status: Option<&str>) -> Value {
        let nonempty = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let (mut status, mut outcome) = (status.map(str::to_owned), None);
        match nonempty(&self.outcome).as_deref() {
            Some("open") => status = Some("ACTIVE".into()),
            Some("withdrawn") => status = Some("WITHDRAWN".into()),
            Some(o) => outcome = Some(o.to_owned()),
            None => {}
        }
        json!({
            "status": status,
            "outcome": outcome,
            "workflowKey": nonempty(&self.workflow),
            "submittedAfter": self.from.as_deref().and_then(|d| hk_midnight(d, 0)),
            "submittedBefore": self.to.as_deref().and_then(|d| hk_midnight(d, 1)),
        })
    }

    /// What a report's link narrowed the list to, in words (empty when nothing).
    fn narrowed(&self) -> Vec<(String, String)> {
        [
            ("workflow", &self.workflow),
            ("outcome", &self.outcome),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .into_iter()
        .filter_map(|(k, v)| {
            v.as_deref()
                .filter(|v| !v.trim().is_empty())
                .map(|v| (k.to_owned(), v.to_owned()))
        })
        .collect()
    }
}

/// `GET /applications`.
pub(crate) async fn list(
    State(c): State<Console>,
    v: Visitor,
    Query(q): Query<ListQuery>,
) -> Response {
    let applicant = match v.signed_in() {
        Ok(p) => matches!(p, Principal::Applicant { .. }),
        Err(to_sign_in) => return to_sign_in,
    };
    let status = q
        .status
        .clone()
        .filter(|s| ["ACTIVE", "COMPLETED", "WITHDRAWN"].contains(&s.as_str()));
    let answer: ListAnswer = match c
        .call(&v, LIST, json!({"filter": q.filter(status.as_deref())}))
        .await
    {
        Ok(a) => a,
        Err(f) => return failure(&v, &f),
    };
    let t = v.t();
    let rows = answer
        .applications
        .nodes
        .into_iter()
        .map(|a| {
            let (status, status_class) = status_words(t, &a.status);
            let stands = match a.outcome_title {
                Some(outcome) => outcome,
                None => a
                    .current_states
                    .into_iter()
                    .map(|s| s.title)
                    .collect::<Vec<_>>()
                    .join(" · "),
            };
            Row {
                id: a.id,
                reference: a.reference,
                firm: a.organization_name,
                workflow: answer
                    .workflows
                    .iter()
                    .find(|w| w.key == a.workflow_key)
                    .map_or(a.workflow_key.clone(), |w| w.title.clone()),
                status,
                status_class,
                stands,
                submitted: hk_time(&a.submitted_at, t),
                updated: hk_time(&a.updated_at, t),
            }
        })
        .collect();
    let workflows = if applicant {
        answer
            .workflows
            .into_iter()
            .filter(|w| w.retired_at.is_none() && w.may_apply)
            .collect()
    } else {
        Vec::new()
    };
    html(&ListPage {
        page: Frame::new(&v, t.applications_title, "/applications"),
        status: status.unwrap_or_default(),
        narrowed: q.narrowed(),
        total: answer.applications.total_count,
        rows,
        workflows,
    })
}

const WORKFLOW: &str = r#"query($key: String!) {
  workflow(key: $key) { key title description applicationSchema retiredAt mayApply }
  unattachedDocuments { id filename }
}"#;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WorkflowAnswer {
    workflow: Option<WorkflowForm>,
    #[serde(default)]
    unattached_documents: Vec<Unattached>,
}

/// An upload not attached to an application yet.
#[derive(Deserialize, Debug)]
pub(crate) struct Unattached {
    id: String,
    filename: String,
}

/// Uploads as the choices of document fields.
pub(crate) fn document_choices(docs: &[Unattached]) -> Vec<form::Choice> {
    docs.iter()
        .map(|d| form::Choice {
            value: d.id.clone(),
            label: d.filename.clone(),
            selected: false,
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WorkflowForm {
    key: String,
    title: String,
    description: Option<String>,
    application_schema: Value,
    retired_at: Option<String>,
    may_apply: bool,
    #[serde(skip)]
    documents: Vec<form::Choice>,
}

#[derive(Template)]
#[template(path = "new.html")]
struct NewPage {
    page: Frame,
    t: &'static Text,
    prefix: &'static str,
    workflow_key: String,
    workflow_title: String,
    workflow_description: Option<String>,
    idempotency: String,
    return_to: String,
    refusal: Option<String>,
    general: Vec<String>,
    rows: Vec<FormRow>,
    /// The workflow takes no new applications: the page says so instead of offering the form.
    retired: bool,
    /// The workflow is not for the caller's firm (its region): the page says so instead.
    not_for_you: bool,
    /// The position applied for (its id, and its title and firm in words).
    position: Option<(String, String)>,
}

async fn workflow(c: &Console, v: &Visitor, key: &str) -> Result<WorkflowForm, Response> {
    match c
        .call::<WorkflowAnswer>(v, WORKFLOW, json!({"key": key}))
        .await
    {
        Ok(WorkflowAnswer {
            workflow: Some(mut w),
            unattached_documents,
        }) => {
            w.documents = document_choices(&unattached_documents);
            Ok(w)
        }
        Ok(WorkflowAnswer { workflow: None, .. }) => Err(failure(
            v,
            &crate::api::Failure {
                code: ErrorCode::NotFound,
                ..Default::default()
            },
        )),
        Err(f) => Err(failure(v, &f)),
    }
}

fn new_page(
    v: &Visitor,
    w: WorkflowForm,
    data: &Value,
    mut errors: Errors,
    refusal: Option<String>,
    position: Option<(String, String)>,
) -> Response {
    let t = v.t();
    let rows = form::rows_with_documents(
        &w.application_schema,
        data,
        &mut errors,
        v.lang,
        &w.documents,
    );
    html(&NewPage {
        page: Frame::new(v, format!("{}: {}", t.new_title, w.title), "/applications"),
        t,
        prefix: "",
        workflow_key: w.key,
        workflow_title: w.title,
        workflow_description: w.description,
        idempotency: softland_store::sessions::random_token().unwrap_or_default(),
        return_to: v.path.clone(),
        refusal,
        general: errors.general,
        rows,
        retired: w.retired_at.is_some(),
        not_for_you: w.retired_at.is_none() && !w.may_apply,
        position,
    })
}

/// A student's form starts from their profile: its `student` section, when it has one.
async fn profile_prefill(c: &Console, v: &Visitor, schema: &Value) -> Value {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Profile {
        student_profile: Option<Value>,
    }
    let student = matches!(&v.principal, Some(p) if p.is_student());
    if !student || schema.pointer("/properties/student").is_none() {
        return Value::Null;
    }
    match c.call::<Profile>(v, "{ studentProfile }", json!({})).await {
        Ok(Profile {
            student_profile: Some(p),
        }) => json!({ "student": p }),
        _ => Value::Null,
    }
}

/// `?position=ID`: the position a new application is for.
#[derive(Debug, Deserialize)]
pub(crate) struct NewQuery {
    position: Option<String>,
}

/// The position `id` as the page names it, when it exists.
async fn position(c: &Console, v: &Visitor, id: Option<&str>) -> Option<(String, String)> {
    let id = id?.trim();
    if id.is_empty() || id.len() > 64 {
        return None;
    }
    let words = super::positions::named(c, v, id).await?;
    Some((id.to_owned(), words))
}

/// `GET /applications/new/{workflow}`.
pub(crate) async fn new(
    State(c): State<Console>,
    SignedIn(v): SignedIn,
    Path(key): Path<String>,
    Query(q): Query<NewQuery>,
) -> Response {
    let position = position(&c, &v, q.position.as_deref()).await;
    match workflow(&c, &v, &key).await {
        Ok(w) => {
            let data = profile_prefill(&c, &v, &w.application_schema).await;
            new_page(&v, w, &data, Errors::default(), None, position)
        }
        Err(refused) => refused,
    }
}

const SUBMIT: &str = r#"mutation($input: SubmitApplicationInput!) {
  submitApplication(input: $input) { id }
}"#;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Submitted {
    submit_application: Id,
}

#[derive(Deserialize)]
pub(crate) struct Id {
    pub id: String,
}

/// `POST /applications/new/{workflow}`: submits; the API's violations come back at their
/// fields, with everything typed kept.
pub(crate) async fn submit(
    State(c): State<Console>,
    Path(key): Path<String>,
    p: Posted,
) -> Response {
    let v = &p.v;
    let w = match workflow(&c, v, &key).await {
        Ok(w) => w,
        Err(refused) => return refused,
    };
    let data = form::decode(&w.application_schema, &p.fields);
    let input = json!({
        "workflowKey": w.key,
        "data": data,
        "idempotencyKey": p.text("idempotency"),
        "positionId": p.text("position"),
    });
    match c
        .call::<Submitted>(v, SUBMIT, json!({"input": input}))
        .await
    {
        Ok(s) => Redirect::to(&format!(
            "/applications/{}?submitted={}",
            crate::visitor::encode(&s.submit_application.id),
            crate::visitor::encode(&w.key)
        ))
        .into_response(),
        Err(f) if matches!(f.code, ErrorCode::BadUserInput | ErrorCode::Forbidden) => {
            let words = refusal_words(v.t(), &f);
            let errors = Errors::from_violations(&f.violations);
            let position = position(&c, v, p.text("position")).await;
            let mut response = new_page(v, w, &data, errors, Some(words), position);
            *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            response
        }
        Err(f) => failure(v, &f),
    }
}
