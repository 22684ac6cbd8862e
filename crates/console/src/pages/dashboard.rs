//! The administrators' dashboard: open and overdue tasks per agency, and time spent per step,
//! each as a bar chart (SVG drawn here: no script, nothing from elsewhere) over a table of the
//! same numbers.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::charts::{Chart, PALETTE, duration};
use super::names::{Agency, party_name};
use super::{Frame, failure, html};
use crate::Console;
use crate::i18n::Text;
use crate::visitor::SignedIn;

const DASHBOARD: &str = r#"{
  agencies { key name nameZhHant nameZhHans }
  dashboard {
    openTasks { assignee open overdue }
    stepTimes { workflowKey title completed medianHours meanHours }
  }
}"#;

#[derive(Deserialize)]
struct Answer {
    agencies: Vec<Agency>,
    dashboard: Numbers,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Numbers {
    open_tasks: Vec<Load>,
    step_times: Vec<Step>,
}

#[derive(Deserialize)]
struct Load {
    assignee: String,
    open: i64,
    overdue: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Step {
    workflow_key: String,
    title: String,
    completed: i64,
    median_hours: f64,
    mean_hours: f64,
}

/// A step's row of the table.
#[derive(Debug)]
struct StepRow {
    workflow: String,
    title: String,
    completed: i64,
    median: String,
    mean: String,
}

/// An assignee's row of the table.
#[derive(Debug)]
struct LoadRow {
    name: String,
    open: i64,
    overdue: i64,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Page {
    page: Frame,
    t: &'static Text,
    loads: Vec<LoadRow>,
    load_chart: String,
    steps: Vec<StepRow>,
    step_chart: String,
}

/// `GET /dashboard`.
pub(crate) async fn page(State(c): State<Console>, SignedIn(v): SignedIn) -> Response {
    let answer: Answer = match c.call(&v, DASHBOARD, json!({})).await {
        Ok(a) => a,
        Err(f) => return failure(&v, &f),
    };
    let t = v.t();
    let loads: Vec<LoadRow> = answer
        .dashboard
        .open_tasks
        .into_iter()
        .map(|l| LoadRow {
            name: party_name(&answer.agencies, &l.assignee, v.lang, t),
            open: l.open,
            overdue: l.overdue,
        })
        .collect();
    let load_chart = Chart::stacked(
        "load-heading",
        &[PALETTE[2], PALETTE[0]],
        loads
            .iter()
            .map(|l| {
                (
                    l.name.clone(),
                    vec![l.overdue as f64, (l.open - l.overdue) as f64],
                    format!("{} ({} {})", l.open, l.overdue, t.overdue),
                )
            })
            .collect(),
    );
    let steps: Vec<StepRow> = answer
        .dashboard
        .step_times
        .iter()
        .map(|s| StepRow {
            workflow: s.workflow_key.clone(),
            title: s.title.clone(),
            completed: s.completed,
            median: duration(s.median_hours, t),
            mean: duration(s.mean_hours, t),
        })
        .collect();
    let step_chart = Chart::of(
        "steps-heading",
        answer
            .dashboard
            .step_times
            .iter()
            .map(|s| (s.title.clone(), s.median_hours, duration(s.median_hours, t)))
            .collect(),
    );
    html(&Page {
        page: Frame::new(&v, t.dashboard, "/dashboard"),
        t,
        loads,
        load_chart: load_chart.svg(),
        steps,
        step_chart: step_chart.svg(),
    })
}
