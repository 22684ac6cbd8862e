//! Administrators move running applications to a new version of their workflow: a workflow's
//! plans and a form to make one (`/workflows/{key}/migrations`), and one plan with its dry run,
//! its approval by a second administrator and its run (`/migrations/{id}`). Every decision is
//! the API's (`planMigration`, `approveMigration`, `runMigration`).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Frame, failure, html, refusal_words};
use crate::Console;
use crate::i18n::{Text, hk_time};
use crate::visitor::{Posted, SignedIn, Visitor, encode};

/// Dry-run answers a plan's page lists (the counts cover all).
const SHOWN: i64 = 500;

const PLANS: &str = r#"query($key: String!) {
  workflow(key: $key) { key title version }
  migrationPlans(workflowKey: $key) { id fromVersion toVersion createdBy createdAt approvedBy migrated }
}"#;

#[derive(Deserialize)]
struct PlansAnswer {
    workflow: Option<Workflow>,
    #[serde(rename = "migrationPlans")]
    plans: Vec<PlanRow>,
}

#[derive(Deserialize, Debug)]
struct Workflow {
    key: String,
    title: String,
    version: i64,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct PlanRow {
    id: String,
    from_version: i64,
    to_version: i64,
    created_by: String,
    created_at: chrono::DateTime<chrono::Utc>,
    approved_by: Option<String>,
    migrated: i64,
    #[serde(skip)]
    when: String,
}

#[derive(Template)]
#[template(path = "migrations.html")]
struct PlansPage {
    page: Frame,
    t: &'static Text,
    w: Workflow,
    plans: Vec<PlanRow>,
    from: i64,
    to: i64,
    mappings: String,
    changes: String,
    restart: bool,
    refusal: Option<String>,
}

/// What the plan form held (shown again when it is refused).
struct Filled {
    from: i64,
    to: i64,
    mappings: String,
    changes: String,
    restart: bool,
}

async fn plans_page(
    c: &Console,
    v: &Visitor,
    key: &str,
    form: Option<Filled>,
    refusal: Option<String>,
) -> Response {
    let answer: PlansAnswer = match c.call(v, PLANS, json!({"key": key})).await {
        Ok(a) => a,
        Err(f) => return failure(v, &f),
    };
    let Some(w) = answer.workflow else {
        return failure(
            v,
            &crate::api::Failure {
                code: softland_gateway::ErrorCode::NotFound,
                ..Default::default()
            },
        );
    };
    let t = v.t();
    let plans = answer
        .plans
        .into_iter()
        .map(|p| PlanRow {
            when: hk_time(&p.created_at, t),
            ..p
        })
        .collect();
    let f = form.unwrap_or(Filled {
        from: (w.version - 1).max(1),
        to: w.version,
        mappings: String::new(),
        changes: String::new(),
        restart: false,
    });
    html(&PlansPage {
        page: Frame::new(v, format!("{} · {}", t.mig_title, w.title), "/workflows"),
        t,
        w,
        plans,
        from: f.from,
        to: f.to,
        mappings: f.mappings,
        changes: f.changes,
        restart: f.restart,
        refusal,
    })
}

/// `GET /workflows/{key}/migrations`.
pub(crate) async fn plans(
    State(c): State<Console>,
    SignedIn(v): SignedIn,
    Path(key): Path<String>,
) -> Response {
    plans_page(&c, &v, &key, None, None).await
}

/// `field = CEL expression`, one per line.
fn data_changes(text: &str) -> Result<Vec<Value>, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| match line.split_once('=') {
            Some((field, expr)) if !field.trim().is_empty() && !expr.trim().is_empty() => {
                Ok(json!({"field": field.trim(), "expression": expr.trim()}))
            }
            _ => Err(line.to_owned()),
        })
        .collect()
}

/// `old → new`, `old -> new` or `old: new`, one per line.
fn mappings(text: &str) -> Result<Vec<Value>, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let (from, to) = ["→", "->", ":"]
                .iter()
                .find_map(|sep| line.split_once(sep))
                .ok_or_else(|| line.to_owned())?;
            let (from, to) = (from.trim(), to.trim());
            if from.is_empty() || to.is_empty() {
                return Err(line.to_owned());
            }
            Ok(json!({"from": from, "to": to}))
        })
        .collect()
}

const PLAN: &str = r#"mutation($i: PlanMigrationInput!) { planMigration(input: $i) { id } }"#;

/// `POST /workflows/{key}/migrations`: records the plan, then shows its dry run.
pub(crate) async fn make(State(c): State<Console>, Path(key): Path<String>, p: Posted) -> Response {
    let v = &p.v;
    let t = v.t();
    let number = |name: &str| p.field(name).trim().parse::<i64>().unwrap_or(0);
    let (from, to) = (number("from"), number("to"));
    let form = Filled {
        from,
        to,
        mappings: p.field("mappings").to_owned(),
        changes: p.field("changes").to_owned(),
        restart: p.field("timers") == "restart",
    };
    let list = match mappings(&form.mappings) {
        Ok(list) => list,
        Err(line) => {
            let why = t.mig_bad_line.replace("{line}", &line);
            return plans_page(&c, v, &key, Some(form), Some(why)).await;
        }
    };
    let changes = match data_changes(&form.changes) {
        Ok(list) => list,
        Err(line) => {
            let why = t.mig_bad_change.replace("{line}", &line);
            return plans_page(&c, v, &key, Some(form), Some(why)).await;
        }
    };
    let restart = form.restart;
    let input = json!({
        "workflowKey": key,
        "fromVersion": from,
        "toVersion": to,
        "mappings": list,
        "dataChanges": changes,
        "timers": if restart { "RESTART" } else { "KEEP_ELAPSED" },
    });
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Made {
        plan_migration: Id,
    }
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    match c.call::<Made>(v, PLAN, json!({"i": input})).await {
        Ok(m) => {
            Redirect::to(&format!("/migrations/{}", encode(&m.plan_migration.id))).into_response()
        }
        Err(f) => plans_page(&c, v, &key, Some(form), Some(refusal_words(t, &f))).await,
    }
}

const ONE: &str = r#"query($id: ID!, $first: Int) {
  migrationPlan(id: $id) {
    id hash workflowKey fromVersion toVersion timers state applicationIds
    mappings { from to } dataChanges { field expression } createdBy createdAt approvedBy approvedAt migrated lastRunAt
    dryRun(first: $first) { applicationId ok reason code states }
    dryRunCounts { total ok blocked { code count } }
  }
}"#;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OneAnswer {
    migration_plan: Plan,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Plan {
    id: String,
    hash: String,
    workflow_key: String,
    from_version: i64,
    to_version: i64,
    timers: String,
    state: Option<String>,
    application_ids: Option<Vec<String>>,
    mappings: Vec<Mapping>,
    data_changes: Vec<DataChange>,
    created_by: String,
    approved_by: Option<String>,
    migrated: i64,
    last_run_at: Option<chrono::DateTime<chrono::Utc>>,
    dry_run: Vec<Check>,
    dry_run_counts: Counts,
}

#[derive(Deserialize, Debug)]
struct Mapping {
    from: String,
    to: String,
}

#[derive(Deserialize, Debug)]
struct DataChange {
    field: String,
    expression: String,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Check {
    application_id: String,
    ok: bool,
    reason: Option<String>,
    states: Vec<String>,
}

#[derive(Deserialize, Debug)]
struct Counts {
    total: i64,
    ok: i64,
    blocked: Vec<Blocked>,
}

#[derive(Deserialize, Debug)]
struct Blocked {
    code: String,
    count: i64,
}

#[derive(Template)]
#[template(path = "migration.html")]
struct PlanPage {
    page: Frame,
    t: &'static Text,
    p: Plan,
    last_run: Option<String>,
    shown_all: bool,
}

/// `GET /migrations/{id}`: the plan, its dry run now, and what may be done with it.
pub(crate) async fn plan(
    State(c): State<Console>,
    SignedIn(v): SignedIn,
    Path(id): Path<String>,
) -> Response {
    let answer: OneAnswer = match c.call(&v, ONE, json!({"id": id, "first": SHOWN})).await {
        Ok(a) => a,
        Err(f) => return failure(&v, &f),
    };
    let t = v.t();
    let p = answer.migration_plan;
    html(&PlanPage {
        page: Frame::new(
            &v,
            format!(
                "{} · {} v{} → v{}",
                t.mig_title, p.workflow_key, p.from_version, p.to_version
            ),
            "/workflows",
        ),
        t,
        last_run: p.last_run_at.as_ref().map(|at| hk_time(at, t)),
        shown_all: i64::try_from(p.dry_run.len()).unwrap_or(i64::MAX) >= p.dry_run_counts.total,
        p,
    })
}

const APPROVE: &str = r#"mutation($id: ID!) { approveMigration(id: $id) { id } }"#;
const RUN: &str = r#"mutation($id: ID!) { runMigration(id: $id) { migrated remaining } }"#;

/// `POST /migrations/{id}/approve` and `…/run`.
async fn call_then_back(c: &Console, p: &Posted, id: &str, mutation: &str) -> Response {
    match c.call::<Value>(&p.v, mutation, json!({"id": id})).await {
        Ok(_) => Redirect::to(&format!("/migrations/{}", encode(id))).into_response(),
        Err(f) => failure(&p.v, &f),
    }
}

/// `POST /migrations/{id}/approve`.
pub(crate) async fn approve(
    State(c): State<Console>,
    Path(id): Path<String>,
    p: Posted,
) -> Response {
    call_then_back(&c, &p, &id, APPROVE).await
}

/// `POST /migrations/{id}/run`.
pub(crate) async fn run(State(c): State<Console>, Path(id): Path<String>, p: Posted) -> Response {
    call_then_back(&c, &p, &id, RUN).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings_are_read_one_per_line_in_any_of_three_spellings() {
        let got = mappings("a → b\n\n c -> d \ne: f\n").unwrap();
        assert_eq!(
            got,
            vec![
                json!({"from": "a", "to": "b"}),
                json!({"from": "c", "to": "d"}),
                json!({"from": "e", "to": "f"})
            ]
        );
        assert_eq!(mappings("only_one").unwrap_err(), "only_one");
        assert_eq!(mappings("a ->").unwrap_err(), "a ->");
        assert_eq!(
            data_changes("staff = data.count * 2\n").unwrap(),
            vec![json!({"field": "staff", "expression": "data.count * 2"})]
        );
        assert_eq!(data_changes("staff").unwrap_err(), "staff");
    }
}
