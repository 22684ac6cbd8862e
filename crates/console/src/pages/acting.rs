//! What the forms of an application page post: an action (its form becomes the action's
//! `data`; a refusal comes back at the form, with what was typed), claim, release, hand over,
//! withdraw, and internal notes — each one GraphQL mutation as the signed-in person.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::application::{Refused, render};
use super::applications::field;
use super::{failure, refusal_words};
use crate::Console;
use crate::form;
use crate::visitor::{Visitor, encode};

/// Where a posted task form goes back to, after checking its CSRF token.
fn posted<'f>(v: &Visitor, fields: &'f [(String, String)]) -> Result<&'f str, Response> {
    v.signed_in()?;
    if !v.csrf_ok(field(fields, "csrf")) {
        return Err(StatusCode::FORBIDDEN.into_response());
    }
    Ok(field(fields, "application"))
}

fn back_to(application: &str, anchor: &str) -> Response {
    Redirect::to(&format!("/applications/{}{anchor}", encode(application))).into_response()
}

const ACT: &str = r#"mutation($input: ActInput!) { act(input: $input) { id } }"#;
const SCHEMA_OF: &str = r#"query($id: ID!) {
  node(id: $id) { ... on Task { actions { name inputSchema } } }
}"#;

#[derive(Deserialize)]
struct NodeAnswer {
    node: Option<TaskActions>,
}

#[derive(Deserialize)]
struct TaskActions {
    #[serde(default)]
    actions: Vec<ActionSchema>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActionSchema {
    name: String,
    input_schema: Option<Value>,
}

/// `POST /tasks/{id}/act`: the action's form becomes its `data`; a refusal comes back at the
/// form, with what was typed.
pub(crate) async fn act(
    State(c): State<Console>,
    v: Visitor,
    Path(task): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let application = match posted(&v, &fields) {
        Ok(a) => a,
        Err(refused) => return refused,
    };
    let action = field(&fields, "action");
    let schema = match c
        .call::<NodeAnswer>(&v, SCHEMA_OF, json!({"id": task}))
        .await
    {
        Ok(NodeAnswer { node: Some(n) }) => n
            .actions
            .into_iter()
            .find(|a| a.name == action)
            .and_then(|a| a.input_schema),
        Ok(NodeAnswer { node: None }) => None,
        Err(f) => return failure(&v, &f),
    };
    let data = schema.as_ref().map(|s| form::decode(s, &fields));
    let text = |name: &str| Some(field(&fields, name).trim()).filter(|s| !s.is_empty());
    let input = json!({
        "taskId": task,
        "action": action,
        "data": data,
        "comment": text("comment"),
        "note": text("note"),
        "expectedRevision": field(&fields, "revision").parse::<i64>().ok(),
        "idempotencyKey": text("idempotency"),
    });
    match c.call::<Value>(&v, ACT, json!({"input": input})).await {
        Ok(_) => back_to(application, ""),
        Err(f) if f.code == "INTERNAL" || f.code.is_empty() => failure(&v, &f),
        Err(f) => {
            let refused = Refused {
                task: &task,
                action,
                fields: &fields,
                failure: f,
            };
            render(&c, &v, application, Some(refused), None, None).await
        }
    }
}

/// `POST /tasks/{id}/claim`.
pub(crate) async fn claim(
    State(c): State<Console>,
    v: Visitor,
    Path(task): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let query = "mutation($id: ID!) { claimTask(taskId: $id) { id } }";
    on_task(&c, &v, &fields, query, json!({"id": task}), &task).await
}

/// `POST /tasks/{id}/delegate`: hands the task to the colleague the form names.
pub(crate) async fn delegate(
    State(c): State<Console>,
    v: Visitor,
    Path(task): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let to = field(&fields, "to");
    let query = "mutation($id: ID!, $to: String!) { delegateTask(taskId: $id, to: $to) { id } }";
    on_task(&c, &v, &fields, query, json!({"id": task, "to": to}), &task).await
}

/// `POST /tasks/{id}/release`.
pub(crate) async fn release(
    State(c): State<Console>,
    v: Visitor,
    Path(task): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let query = "mutation($id: ID!) { releaseTask(taskId: $id) { id } }";
    on_task(&c, &v, &fields, query, json!({"id": task}), &task).await
}

/// Claims, releases or delegates `task`, then shows it again (or the refusal above it).
async fn on_task(
    c: &Console,
    v: &Visitor,
    fields: &[(String, String)],
    query: &str,
    variables: Value,
    task: &str,
) -> Response {
    let application = match posted(v, fields) {
        Ok(a) => a,
        Err(refused) => return refused,
    };
    match c.call::<Value>(v, query, variables).await {
        Ok(_) => back_to(application, &format!("#task-{}", encode(task))),
        Err(f) => {
            let words = refusal_words(v.t(), &f);
            render(c, v, application, None, Some(words), None).await
        }
    }
}

const WITHDRAW: &str = r#"mutation($id: ID!, $reason: String, $key: String) {
  withdrawApplication(id: $id, reason: $reason, idempotencyKey: $key) { id }
}"#;

/// `POST /applications/{id}/withdraw`.
pub(crate) async fn withdraw(
    State(c): State<Console>,
    v: Visitor,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(refused) = posted(&v, &fields) {
        return refused;
    }
    let reason = Some(field(&fields, "reason").trim()).filter(|s| !s.is_empty());
    let key = Some(field(&fields, "idempotency")).filter(|s| !s.is_empty());
    match c
        .call::<Value>(
            &v,
            WITHDRAW,
            json!({"id": id, "reason": reason, "key": key}),
        )
        .await
    {
        Ok(_) => back_to(&id, ""),
        Err(f) => {
            let words = refusal_words(v.t(), &f);
            render(&c, &v, &id, None, Some(words), None).await
        }
    }
}

const NOTE: &str =
    r#"mutation($id: ID!, $note: String!) { addNote(applicationId: $id, note: $note) { id } }"#;

/// `POST /applications/{id}/note`.
pub(crate) async fn note(
    State(c): State<Console>,
    v: Visitor,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(refused) = posted(&v, &fields) {
        return refused;
    }
    match c
        .call::<Value>(&v, NOTE, json!({"id": id, "note": field(&fields, "note")}))
        .await
    {
        Ok(_) => back_to(&id, "#history"),
        Err(f) => {
            let words = refusal_words(v.t(), &f);
            render(&c, &v, &id, None, Some(words), None).await
        }
    }
}
