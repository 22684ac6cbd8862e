//! Administrators' workflows: the published ones and their versions, each version's YAML source
//! and diagram, an editor that validates (diagnostics at their line and column) and publishes,
//! and retiring a version.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use softland_gateway::ErrorCode;

use super::{ConfirmPage, Frame, failure, html, refusal_words};
use crate::Console;
use crate::i18n::Text;
use crate::visitor::{Posted, SignedIn, encode};

/// Versions a workflow page lists at most (the newest).
const MOST_VERSIONS: i64 = 20;

const LIST: &str = r#"{ workflows { key version title retiredAt } }"#;

#[derive(Deserialize)]
struct ListAnswer {
    workflows: Vec<Summary>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Summary {
    key: String,
    version: i64,
    title: String,
    retired_at: Option<String>,
}

#[derive(Template)]
#[template(path = "workflows.html")]
struct ListPage {
    page: Frame,
    workflows: Vec<Summary>,
}

/// `GET /workflows`.
pub(crate) async fn list(State(c): State<Console>, SignedIn(v): SignedIn) -> Response {
    match c.call::<ListAnswer>(&v, LIST, json!({})).await {
        Ok(a) => html(&ListPage {
            page: Frame::new(&v, v.t().nav_workflows, "/workflows"),
            workflows: a.workflows,
        }),
        Err(f) => failure(&v, &f),
    }
}

const ONE: &str = r#"query($key: String!, $version: Int) {
  latest: workflow(key: $key) { version }
  workflow(key: $key, version: $version) {
    key version title description source retiredAt
    states { name title kind assignees parallel branch }
  }
}"#;

#[derive(Deserialize)]
struct OneAnswer {
    latest: Option<Version>,
    workflow: Option<Detail>,
}

#[derive(Deserialize)]
struct Version {
    version: i64,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Detail {
    key: String,
    version: i64,
    title: String,
    description: Option<String>,
    source: String,
    retired_at: Option<String>,
    states: Vec<crate::diagram::StateInfo>,
}

#[derive(Template)]
#[template(path = "workflow.html")]
struct DetailPage {
    page: Frame,
    t: &'static Text,
    w: Detail,
    /// The version new applications use (the latest).
    latest: i64,
    versions: Vec<i64>,
    lines: Vec<Line>,
    map: Vec<crate::diagram::Step>,
}

/// The query of a workflow page.
#[derive(Debug, Deserialize)]
pub(crate) struct VersionQuery {
    version: Option<i64>,
}

/// `GET /workflows/{key}?version=N`.
pub(crate) async fn detail(
    State(c): State<Console>,
    SignedIn(v): SignedIn,
    Path(key): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Response {
    let answer: OneAnswer = match c
        .call(&v, ONE, json!({"key": key, "version": q.version}))
        .await
    {
        Ok(a) => a,
        Err(f) => return failure(&v, &f),
    };
    let (Some(latest), Some(w)) = (answer.latest, answer.workflow) else {
        return failure(
            &v,
            &crate::api::Failure {
                code: ErrorCode::NotFound,
                ..Default::default()
            },
        );
    };
    let oldest = (latest.version - MOST_VERSIONS + 1).max(1);
    html(&DetailPage {
        page: Frame::new(&v, format!("{} v{}", w.title, w.version), "/workflows"),
        t: v.t(),
        versions: (oldest..=latest.version).rev().collect(),
        latest: latest.version,
        lines: listing(&w.source, &[]),
        map: crate::diagram::map(&w.states, &[], &|a: &str| a.to_owned()),
        w,
    })
}

/// One line of a YAML listing, with the diagnostics found on it.
#[derive(Debug)]
struct Line {
    number: usize,
    text: String,
    problems: Vec<Problem>,
}

/// One diagnostic of a validation.
#[derive(Debug, Clone, Deserialize)]
struct Problem {
    message: String,
    code: Option<String>,
    line: Option<i64>,
    column: Option<i64>,
    /// Where, in words (`Line 3, column 5`).
    #[serde(skip)]
    place: String,
    /// The column, in words (shown under its line).
    #[serde(skip)]
    at_column: String,
}

impl Problem {
    fn placed(mut self, t: &Text) -> Self {
        let column = self.column.unwrap_or(1).to_string();
        if let Some(line) = self.line {
            self.place = t
                .at_place
                .replace("{line}", &line.to_string())
                .replace("{column}", &column);
        }
        self.at_column = t.at_column.replace("{column}", &column);
        self
    }
}

/// `source` line by line, each line with the problems found on it.
fn listing(source: &str, problems: &[Problem]) -> Vec<Line> {
    source
        .lines()
        .enumerate()
        .map(|(i, text)| Line {
            number: i + 1,
            text: text.to_owned(),
            problems: problems
                .iter()
                .filter(|p| p.line == i64::try_from(i + 1).ok())
                .cloned()
                .collect(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "workflow_edit.html")]
struct EditPage {
    page: Frame,
    t: &'static Text,
    yaml: String,
    checked: bool,
    problems: Vec<Problem>,
    lines: Vec<Line>,
    refusal: Option<String>,
}

/// The query of the editor.
#[derive(Debug, Deserialize)]
pub(crate) struct EditQuery {
    from: Option<String>,
}

const SOURCE: &str = r#"query($key: String!) { workflow(key: $key) { source } }"#;

#[derive(Deserialize)]
struct SourceAnswer {
    workflow: Option<Source>,
}

#[derive(Deserialize)]
struct Source {
    source: String,
}

/// `GET /workflows/edit?from=KEY`: the editor, with a published workflow's source to start.
pub(crate) async fn edit(
    State(c): State<Console>,
    SignedIn(v): SignedIn,
    Query(q): Query<EditQuery>,
) -> Response {
    let yaml = match q.from {
        Some(key) => match c
            .call::<SourceAnswer>(&v, SOURCE, json!({"key": key}))
            .await
        {
            Ok(a) => a.workflow.map(|w| w.source).unwrap_or_default(),
            Err(f) => return failure(&v, &f),
        },
        None => String::new(),
    };
    html(&EditPage {
        page: Frame::new(&v, v.t().edit_workflow, "/workflows"),
        t: v.t(),
        yaml,
        checked: false,
        problems: Vec::new(),
        lines: Vec::new(),
        refusal: None,
    })
}

const VALIDATE: &str = r#"mutation($yaml: String!) {
  validateWorkflow(yaml: $yaml) { ok errors { message code line column } }
}"#;
const PUBLISH: &str =
    r#"mutation($yaml: String!) { publishWorkflow(yaml: $yaml) { key version } }"#;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Validated {
    validate_workflow: Validation,
}

#[derive(Deserialize)]
struct Validation {
    ok: bool,
    errors: Vec<Problem>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Published {
    publish_workflow: Summary2,
}

#[derive(Deserialize)]
struct Summary2 {
    key: String,
    version: i64,
}

/// `POST /workflows/edit`: validates; publishes when asked and there is nothing to fix.
pub(crate) async fn check(State(c): State<Console>, p: Posted) -> Response {
    let v = &p.v;
    let yaml = p.field("yaml").replace("\r\n", "\n");
    let publish = p.field("intent") == "publish";
    let validation = match c
        .call::<Validated>(v, VALIDATE, json!({"yaml": yaml}))
        .await
    {
        Ok(a) => Validation {
            ok: a.validate_workflow.ok,
            errors: a
                .validate_workflow
                .errors
                .into_iter()
                .map(|p| p.placed(v.t()))
                .collect(),
        },
        Err(f) => return failure(v, &f),
    };
    let mut refusal = None;
    if validation.ok && publish {
        match c.call::<Published>(v, PUBLISH, json!({"yaml": yaml})).await {
            Ok(p) => {
                return Redirect::to(&format!(
                    "/workflows/{}?version={}",
                    encode(&p.publish_workflow.key),
                    p.publish_workflow.version
                ))
                .into_response();
            }
            Err(f) => refusal = Some(refusal_words(v.t(), &f)),
        }
    }
    let status = if validation.ok && refusal.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = EditPage {
        page: Frame::new(v, v.t().edit_workflow, "/workflows"),
        t: v.t(),
        lines: listing(&yaml, &validation.errors),
        yaml,
        checked: true,
        problems: validation.errors,
        refusal,
    };
    (status, html(&page)).into_response()
}

const RETIRE: &str = r#"mutation($key: String!, $version: Int!) {
  retireWorkflow(key: $key, version: $version) { key }
}"#;

const UNRETIRE: &str = r#"mutation($key: String!, $version: Int!) {
  unretireWorkflow(key: $key, version: $version) { key }
}"#;

/// `GET /workflows/{key}/{version}/retire`: what retiring the version does, asked first.
pub(crate) async fn retire_question(
    State(c): State<Console>,
    SignedIn(v): SignedIn,
    Path((key, version)): Path<(String, i64)>,
) -> Response {
    let answer: OneAnswer = match c
        .call(&v, ONE, json!({"key": key, "version": version}))
        .await
    {
        Ok(a) => a,
        Err(f) => return failure(&v, &f),
    };
    let (Some(latest), Some(w)) = (answer.latest, answer.workflow) else {
        return failure(
            &v,
            &crate::api::Failure {
                code: ErrorCode::NotFound,
                ..Default::default()
            },
        );
    };
    let t = v.t();
    let back = format!("/workflows/{}?version={version}", encode(&key));
    if w.retired_at.is_some() {
        return Redirect::to(&back).into_response();
    }
    let consequence = if latest.version == w.version {
        t.retire_only_open
    } else {
        t.retire_older
    };
    html(&ConfirmPage {
        page: Frame::new(
            &v,
            format!("{} {} v{}", t.retire_question, w.title, w.version),
            "/workflows",
        ),
        consequence: consequence.to_owned(),
        action: format!("/workflows/{}/{version}/retire", encode(&key)),
        button: format!("{} v{version}", t.retire),
        back,
        fields: Vec::new(),
    })
}

/// `POST /workflows/{key}/{version}/retire` and `…/unretire`.
async fn set_retired(c: &Console, p: &Posted, key: &str, version: i64, retire: bool) -> Response {
    let v = &p.v;
    let mutation = if retire { RETIRE } else { UNRETIRE };
    match c
        .call::<Value>(v, mutation, json!({"key": key, "version": version}))
        .await
    {
        Ok(_) => {
            Redirect::to(&format!("/workflows/{}?version={version}", encode(key))).into_response()
        }
        Err(f) => failure(v, &f),
    }
}

/// `POST /workflows/{key}/{version}/retire`.
pub(crate) async fn retire(
    State(c): State<Console>,
    Path((key, version)): Path<(String, i64)>,
    p: Posted,
) -> Response {
    set_retired(&c, &p, &key, version, true).await
}

/// `POST /workflows/{key}/{version}/unretire`.
pub(crate) async fn unretire(
    State(c): State<Console>,
    Path((key, version)): Path<(String, i64)>,
    p: Posted,
) -> Response {
    set_retired(&c, &p, &key, version, false).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_sit_at_their_lines() {
        let problems = vec![
            Problem {
                message: "unknown state `ghost`".into(),
                code: Some("unknown-state".into()),
                line: Some(2),
                column: Some(5),
                place: String::new(),
                at_column: String::new(),
            }
            .placed(&crate::i18n::EN),
        ];
        let lines = listing("key: x\nto: ghost\nend: y", &problems);
        assert_eq!(lines.len(), 3);
        assert!(lines[0].problems.is_empty());
        assert_eq!(lines[1].number, 2);
        assert_eq!(lines[1].problems[0].message, "unknown state `ghost`");
        assert_eq!(lines[1].problems[0].place, "Line 2, column 5");
        assert!(lines[2].problems.is_empty());
    }
}
