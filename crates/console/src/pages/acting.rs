//! What the forms of an application page post: an action (its form becomes the action's
//! `data`; a refusal comes back at the form, with what was typed), claim, release, hand over,
//! withdraw, and internal notes — each one GraphQL mutation as the signed-in person.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use softland_gateway::ErrorCode;

use super::application::{Refused, render};
use super::{failure, refusal_words};
use crate::Console;
use crate::form;
use crate::visitor::{Posted, encode};

fn back_to(application: &str, anchor: &str) -> Response {
    Redirect::to(&format!("/applications/{}{anchor}", encode(application))).into_response()
}

/// Runs a mutation of `application`, then shows it again at `anchor` — or with the refusal
/// above it.
async fn then_show(
    c: &Console,
    p: &Posted,
    application: &str,
    query: &str,
    variables: Value,
    anchor: &str,
) -> Response {
    match c.call::<Value>(&p.v, query, variables).await {
        Ok(_) => back_to(application, anchor),
        Err(f) => {
            let words = refusal_words(p.v.t(), &f);
            render(c, &p.v, application, None, Some(words), None).await
        }
    }
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
pub(crate) async fn act(State(c): State<Console>, Path(task): Path<String>, p: Posted) -> Response {
    let (v, fields) = (&p.v, &p.fields);
    let application = p.field("application");
    let action = p.field("action");
    let schema = match c
        .call::<NodeAnswer>(v, SCHEMA_OF, json!({"id": task}))
        .await
    {
        Ok(NodeAnswer { node: Some(n) }) => n
            .actions
            .into_iter()
            .find(|a| a.name == action)
            .and_then(|a| a.input_schema),
        Ok(NodeAnswer { node: None }) => None,
        Err(f) => return failure(v, &f),
    };
    let data = schema.as_ref().map(|s| form::decode(s, fields));
    let text = |name: &str| p.text(name);
    let input = json!({
        "taskId": task,
        "action": action,
        "data": data,
        "comment": text("comment"),
        "note": text("note"),
        "expectedRevision": p.field("revision").parse::<i64>().ok(),
        "idempotencyKey": text("idempotency"),
    });
    match c.call::<Value>(v, ACT, json!({"input": input})).await {
        Ok(_) => back_to(application, ""),
        Err(f) if f.code == ErrorCode::Internal => failure(v, &f),
        Err(f) => {
            let refused = Refused {
                task: &task,
                action,
                fields,
                failure: f,
            };
            render(&c, v, application, Some(refused), None, None).await
        }
    }
}

/// A claim, release or hand-over of `task`; back to the task on its application's page.
async fn on_task(c: &Console, task: &str, p: &Posted, query: &str, variables: Value) -> Response {
    let anchor = format!("#task-{}", encode(task));
    then_show(c, p, p.field("application"), query, variables, &anchor).await
}

/// `POST /tasks/{id}/claim`.
pub(crate) async fn claim(
    State(c): State<Console>,
    Path(task): Path<String>,
    p: Posted,
) -> Response {
    let query = "mutation($id: ID!) { claimTask(taskId: $id) { id } }";
    on_task(&c, &task, &p, query, json!({"id": task})).await
}

/// `POST /tasks/{id}/delegate`: hands the task to the colleague the form names.
pub(crate) async fn delegate(
    State(c): State<Console>,
    Path(task): Path<String>,
    p: Posted,
) -> Response {
    let query = "mutation($id: ID!, $to: String!) { delegateTask(taskId: $id, to: $to) { id } }";
    let variables = json!({"id": task, "to": p.field("to")});
    on_task(&c, &task, &p, query, variables).await
}

/// `POST /tasks/{id}/release`.
pub(crate) async fn release(
    State(c): State<Console>,
    Path(task): Path<String>,
    p: Posted,
) -> Response {
    let query = "mutation($id: ID!) { releaseTask(taskId: $id) { id } }";
    on_task(&c, &task, &p, query, json!({"id": task})).await
}

const WITHDRAW: &str = r#"mutation($id: ID!, $reason: String, $key: String) {
  withdrawApplication(id: $id, reason: $reason, idempotencyKey: $key) { id }
}"#;

/// The reason typed on the application page, carried to the question.
#[derive(Deserialize)]
pub(crate) struct WithdrawQuery {
    #[serde(default)]
    reason: String,
}

/// `GET /applications/{id}/withdraw`: what withdrawing does, asked first (the reason typed on
/// the application page comes along).
pub(crate) async fn withdraw_question(
    crate::visitor::SignedIn(v): crate::visitor::SignedIn,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<WithdrawQuery>,
) -> Response {
    let t = v.t();
    let back = format!("/applications/{}", encode(&id));
    super::html(&super::ConfirmPage {
        page: super::Frame::new(&v, t.withdraw_question, "/applications"),
        consequence: t.withdraw_consequence.to_owned(),
        action: format!("{back}/withdraw"),
        button: t.withdraw.to_owned(),
        back,
        fields: vec![("reason", t.withdraw_reason, q.reason)],
    })
}

/// `POST /applications/{id}/withdraw`.
pub(crate) async fn withdraw(
    State(c): State<Console>,
    Path(id): Path<String>,
    p: Posted,
) -> Response {
    let variables = json!({"id": id, "reason": p.text("reason"), "key": p.text("idempotency")});
    then_show(&c, &p, &id, WITHDRAW, variables, "").await
}

const NOTE: &str =
    r#"mutation($id: ID!, $note: String!) { addNote(applicationId: $id, note: $note) { id } }"#;

/// `POST /applications/{id}/note`.
pub(crate) async fn note(State(c): State<Console>, Path(id): Path<String>, p: Posted) -> Response {
    let variables = json!({"id": id, "note": p.field("note")});
    then_show(&c, &p, &id, NOTE, variables, "#history").await
}
