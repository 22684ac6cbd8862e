//! `/reports`: the programme's figures for a period (issue "Oversight"), for observers and
//! administrators — each as a chart drawn on the server beside its table, a period picker, the
//! downloads of the same period, and links from the counts to the applications behind them.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;
use softland_gateway::ErrorCode;

use super::charts::{Chart, PALETTE};
use super::names::party_name;
use super::{Frame, failure, html};
use crate::Console;
use crate::i18n::{Text, hk_time};
use crate::visitor::SignedIn;

mod answer;
mod rows;

use answer::{Answer, Days};
use rows::{GroupRow, LeadRow, LoopRow, OverdueRow, QueueRow, ResultRow, StepRow};

const REPORT: &str = r#"query($input: ReportInput!) {
  agencies { key name nameZhHant nameZhHans }
  workflows { key title }
  report(input: $input) {
    from to by madeAt auditHead
    volumes { total byResult { result count share } }
    byMonth { group counts { total byResult { result count } } }
    byRegion { group counts { total byResult { result count } } }
    byIntake { group counts { total byResult { result count } } }
    leadTimes { result calendarDays { n median p90 max } businessDays { n median p90 max } waitingOnFirmDays { n median p90 max } }
    steps { workflowKey state title agency calendarDays { n median p90 max } businessDays { n median p90 max total } withDue onTime onTimeShare reassigned }
    agencies { agency calendarDays { n median p90 max } businessDays { n median p90 max total } withDue onTime onTimeShare reassigned }
    bottlenecks { workflowKey state title agency businessDays { n median p90 max total } }
    overdue { applicationId reference title agency dueAt businessDaysOverdue }
    overdueTotal
    queues { assignee askedBy open under5Days from5To10Days over10Days claimed unclaimed }
    informationRequests { state title agency requests applications firmDays { n median p90 max } }
  }
}"#;

/// The period and filters, as the picker sends them (and the links carry them).
#[derive(Debug, Default, Deserialize, Serialize, Clone)]
pub(crate) struct Asked {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    by: String,
    #[serde(default)]
    workflow: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    agency: String,
}

impl Asked {
    /// The API's input: empty fields left out.
    fn input(&self) -> serde_json::Value {
        let some = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_owned());
        json!({
            "from": some(&self.from),
            "to": some(&self.to),
            "by": if self.by == "decision" { "DECISION" } else { "SUBMISSION" },
            "workflowKey": some(&self.workflow),
            "region": some(&self.region),
            "agency": some(&self.agency),
        })
    }

    /// The query string of the same period and filters (for downloads and links).
    fn query(&self) -> String {
        serde_urlencoded::to_string(self).unwrap_or_default()
    }
}

/// A choice of a picker's list.
#[derive(Debug)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct Page {
    page: Frame,
    t: &'static Text,
    asked: Asked,
    query: String,
    problem: Option<String>,
    workflows: Vec<Choice>,
    agencies: Vec<Choice>,
    regions: Vec<Choice>,
    made: String,
    total: u64,
    results: Vec<ResultRow>,
    result_chart: String,
    months: Vec<GroupRow>,
    month_chart: String,
    regions_rows: Vec<GroupRow>,
    intakes_rows: Vec<GroupRow>,
    leads: Vec<LeadRow>,
    steps: Vec<StepRow>,
    step_chart: String,
    agency_rows: Vec<StepRow>,
    service_chart: String,
    overdue: Vec<OverdueRow>,
    overdue_total: String,
    queues: Vec<QueueRow>,
    queue_chart: String,
    bottlenecks: Vec<StepRow>,
    loops: Vec<LoopRow>,
}

/// What a result is called.
pub(super) fn result_word(t: &Text, result: &str) -> String {
    match result {
        "approved" => t.rep_approved,
        "rejected" => t.rep_rejected,
        "lapsed" => t.rep_lapsed,
        "withdrawn" => t.rep_withdrawn,
        "open" => t.rep_open,
        other => other,
    }
    .to_owned()
}

/// What a region is called.
pub(super) fn region_word(t: &Text, region: &str) -> String {
    match region {
        "mainland" => t.rep_mainland,
        "hk" => t.rep_hk,
        "unknown" => t.rep_unknown,
        other => other,
    }
    .to_owned()
}

/// `GET /reports`.
pub(crate) async fn page(
    State(c): State<Console>,
    SignedIn(v): SignedIn,
    Query(asked): Query<Asked>,
) -> Response {
    let t = v.t();
    let answer: Option<Answer> = match c.call(&v, REPORT, json!({"input": asked.input()})).await {
        Ok(a) => Some(a),
        Err(f) if f.code == ErrorCode::BadUserInput => None,
        Err(f) => return failure(&v, &f),
    };
    let Some(answer) = answer else {
        return html(&rows::empty_page(&v, asked, t.rep_bad_period.to_owned()));
    };
    let r = &answer.report;
    let asked = Asked {
        from: r.from.clone(),
        to: r.to.clone(),
        by: if r.by == "DECISION" {
            "decision".into()
        } else {
            "submission".into()
        },
        ..asked
    };
    let query = asked.query();
    let name = |key: &str| party_name(&answer.agencies, key, v.lang, t);
    let results = rows::results(t, &asked, r);
    let result_chart = Chart::of(
        "volumes-heading",
        results
            .iter()
            .map(|x| (x.word.clone(), x.count as f64, x.count.to_string()))
            .collect(),
    );
    let months = rows::groups(t, &r.by_month, |m| m.to_owned());
    let month_chart = Chart::of(
        "months-heading",
        months
            .iter()
            .map(|m| (m.label.clone(), m.total as f64, m.total.to_string()))
            .collect(),
    );
    let steps: Vec<StepRow> = r.steps.iter().map(|s| StepRow::of(s, &name)).collect();
    let step_chart = Chart::of(
        "steps-heading",
        steps
            .iter()
            .map(|s| {
                (
                    s.title.clone(),
                    s.business_median,
                    Days(s.business_median).to_string(),
                )
            })
            .collect(),
    );
    let agency_rows: Vec<StepRow> = r.agencies.iter().map(|s| StepRow::of(s, &name)).collect();
    let service_chart = Chart::stacked(
        "agencies-heading",
        &[PALETTE[0], PALETTE[2]],
        agency_rows
            .iter()
            .filter(|a| a.with_due > 0)
            .map(|a| {
                (
                    a.agency.clone(),
                    vec![a.on_time as f64, (a.with_due - a.on_time) as f64],
                    format!("{} / {} {}", a.on_time, a.with_due, t.rep_on_time),
                )
            })
            .collect(),
    );
    let queues: Vec<QueueRow> = r.queues.iter().map(|q| QueueRow::of(t, q, &name)).collect();
    let queue_chart = Chart::stacked(
        "queues-heading",
        &PALETTE,
        queues
            .iter()
            .map(|q| {
                (
                    q.name.clone(),
                    vec![q.bands[0] as f64, q.bands[1] as f64, q.bands[2] as f64],
                    q.open.to_string(),
                )
            })
            .collect(),
    );
    html(&Page {
        page: Frame::new(&v, t.rep_title, "/reports"),
        t,
        problem: None,
        workflows: rows::workflow_choices(t, &answer.workflows, &asked.workflow),
        agencies: rows::agency_choices(t, &answer.agencies, &asked.agency, &name),
        regions: rows::region_choices(t, &asked.region),
        made: t
            .rep_made
            .replace("{at}", &hk_time(&r.made_at, t))
            .replace("{head}", r.audit_head.as_deref().unwrap_or("—")),
        total: r.volumes.total,
        results,
        result_chart: result_chart.svg(),
        regions_rows: rows::groups(t, &r.by_region, |g| region_word(t, g)),
        intakes_rows: rows::groups(t, &r.by_intake, str::to_owned),
        months,
        month_chart: month_chart.svg(),
        leads: r
            .lead_times
            .iter()
            .map(|l| LeadRow::of(t, &asked, l))
            .collect(),
        steps,
        step_chart: step_chart.svg(),
        agency_rows,
        service_chart: service_chart.svg(),
        overdue: r
            .overdue
            .iter()
            .map(|o| OverdueRow::of(t, o, &name))
            .collect(),
        overdue_total: if r.overdue_total == 0 {
            t.rep_overdue_none.to_owned()
        } else {
            t.rep_overdue_total
                .replace("{n}", &r.overdue_total.to_string())
        },
        queues,
        queue_chart: queue_chart.svg(),
        bottlenecks: r
            .bottlenecks
            .iter()
            .map(|s| StepRow::of(s, &name))
            .collect(),
        loops: r
            .information_requests
            .iter()
            .map(|l| LoopRow::of(l, &name))
            .collect(),
        query,
        asked,
    })
}
