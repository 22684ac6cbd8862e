//! The administrators' dashboard: open and overdue tasks per agency, and time spent per step,
//! each as a bar chart (SVG drawn here: no script, nothing from elsewhere) over a table of the
//! same numbers.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

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

/// Width of a chart's bar area, in SVG units.
const BAR_AREA: f64 = 480.0;
/// The narrowest label column.
const LABEL_WIDTH: f64 = 120.0;
/// Height of one bar's row.
const ROW: i64 = 28;

/// One bar of a chart: the whole (`width`) and a highlighted part (`part`).
#[derive(Debug)]
struct Bar {
    label: String,
    value: String,
    y: i64,
    text_y: i64,
    width: i64,
    part: i64,
}

/// A horizontal bar chart.
#[derive(Debug)]
struct Chart {
    height: i64,
    bars: Vec<Bar>,
}

impl Chart {
    /// Bars of `(label, whole, part, shown value)`, scaled to the largest whole.
    fn of(rows: Vec<(String, f64, f64, String)>) -> Self {
        let most = rows.iter().map(|r| r.1).fold(0.0_f64, f64::max).max(1e-9);
        let scale = |v: f64| (v / most * BAR_AREA).round() as i64;
        let bars: Vec<Bar> = rows
            .into_iter()
            .zip(0_i64..)
            .map(|((label, whole, part, value), i)| Bar {
                label,
                value,
                y: i * ROW + 4,
                text_y: i * ROW + 19,
                width: scale(whole).max(1),
                part: scale(part),
            })
            .collect();
        Chart {
            height: i64::try_from(bars.len()).unwrap_or(0) * ROW + 8,
            bars,
        }
    }
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
    label_width: f64,
    bar_x: f64,
    value_x: f64,
    loads: Vec<LoadRow>,
    load_chart: Chart,
    steps: Vec<StepRow>,
    step_chart: Chart,
}

/// Hours in words, in the unit that shows them: `42 s`, `12 min`, `36.5 h` or, past two days,
/// `3.2 days` (a step done in minutes read "0.0 h" beside bars of different lengths).
fn duration(hours: f64, t: &Text) -> String {
    let seconds = hours * 3600.0;
    if hours >= 48.0 {
        format!("{:.1} {}", hours / 24.0, t.days)
    } else if hours >= 1.0 {
        format!("{hours:.1} {}", t.hours)
    } else if seconds >= 60.0 {
        format!("{:.0} {}", seconds / 60.0, t.minutes)
    } else {
        format!("{:.0} {}", seconds, t.seconds)
    }
}

/// About how wide `label` is drawn at 14 px (a Latin letter about 8.5 units, a Chinese
/// character 14.5): what the label column needs so that no label is clipped.
fn text_width(label: &str) -> f64 {
    label
        .chars()
        .map(|c| if c.is_ascii() { 8.5 } else { 14.5 })
        .sum()
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
    let load_chart = Chart::of(
        loads
            .iter()
            .map(|l| {
                (
                    l.name.clone(),
                    l.open as f64,
                    l.overdue as f64,
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
        answer
            .dashboard
            .step_times
            .iter()
            .map(|s| {
                (
                    s.title.clone(),
                    s.median_hours,
                    0.0,
                    duration(s.median_hours, t),
                )
            })
            .collect(),
    );
    // The label column is as wide as the longest label of either chart.
    let label_width = load_chart
        .bars
        .iter()
        .chain(&step_chart.bars)
        .map(|b| text_width(&b.label) + 8.0)
        .fold(LABEL_WIDTH, f64::max)
        .ceil();
    html(&Page {
        page: Frame::new(&v, t.dashboard, "/dashboard"),
        t,
        label_width,
        bar_x: label_width + 8.0,
        value_x: label_width + BAR_AREA + 16.0,
        loads,
        load_chart,
        steps,
        step_chart,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest() {
        let chart = Chart::of(vec![
            ("ofds".into(), 10.0, 4.0, "10".into()),
            ("hkma".into(), 5.0, 0.0, "5".into()),
        ]);
        assert_eq!(chart.bars[0].width, 480);
        assert_eq!(chart.bars[0].part, 192);
        assert_eq!(chart.bars[1].width, 240);
        assert_eq!(chart.bars[1].y, ROW + 4);
        assert_eq!(chart.height, 2 * ROW + 8);
        assert_eq!(Chart::of(Vec::new()).bars.len(), 0);
    }

    #[test]
    fn durations_are_said_in_the_unit_that_shows_them() {
        let t = &crate::i18n::EN;
        assert_eq!(duration(30.0 / 3600.0, t), "30 s");
        assert_eq!(duration(0.2, t), "12 min");
        assert_eq!(duration(36.5, t), "36.5 h");
        assert_eq!(duration(72.0, t), "3.0 days");
        assert_ne!(
            duration(0.0004, t),
            duration(0.01, t),
            "no two short steps read alike"
        );
    }

    #[test]
    fn the_label_column_fits_the_longest_label() {
        let latin = "Hong Kong Science and Technology Parks Corporation";
        assert!(text_width(latin) > 300.0, "wider than the old fixed column");
        assert!(text_width("香港科技園公司") > text_width("HKSTP"));
    }
}
