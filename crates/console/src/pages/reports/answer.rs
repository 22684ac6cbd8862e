//! The API's answer to the reports page's query.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::super::names::Agency;

#[derive(Deserialize)]
pub(crate) struct Answer {
    pub agencies: Vec<Agency>,
    pub workflows: Vec<WorkflowName>,
    pub report: Report,
}

#[derive(Deserialize)]
pub(crate) struct WorkflowName {
    pub key: String,
    pub title: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Report {
    pub from: String,
    pub to: String,
    pub by: String,
    pub made_at: DateTime<Utc>,
    pub audit_head: Option<String>,
    pub volumes: Counts,
    pub by_month: Vec<Group>,
    pub by_region: Vec<Group>,
    pub by_intake: Vec<Group>,
    pub lead_times: Vec<Lead>,
    pub steps: Vec<Step>,
    pub agencies: Vec<Step>,
    pub bottlenecks: Vec<Step>,
    pub overdue: Vec<Overdue>,
    pub overdue_total: u64,
    pub queues: Vec<Queue>,
    pub information_requests: Vec<Loop>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Counts {
    pub total: u64,
    pub by_result: Vec<ResultCount>,
}

#[derive(Deserialize)]
pub(crate) struct ResultCount {
    pub result: String,
    pub count: u64,
    #[serde(default)]
    pub share: f64,
}

#[derive(Deserialize)]
pub(crate) struct Group {
    pub group: String,
    pub counts: Counts,
}

#[derive(Deserialize, Default, Clone, Copy)]
pub(crate) struct Stats {
    pub n: u64,
    pub median: f64,
    pub p90: f64,
    pub max: f64,
    #[serde(default)]
    pub total: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Lead {
    pub result: String,
    pub calendar_days: Stats,
    pub business_days: Stats,
    pub waiting_on_firm_days: Stats,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Step {
    pub title: Option<String>,
    pub agency: String,
    #[serde(default)]
    pub calendar_days: Stats,
    pub business_days: Stats,
    #[serde(default)]
    pub with_due: u64,
    #[serde(default)]
    pub on_time: u64,
    #[serde(default)]
    pub on_time_share: Option<f64>,
    #[serde(default)]
    pub reassigned: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Overdue {
    pub application_id: String,
    pub reference: String,
    pub title: String,
    pub agency: String,
    pub due_at: DateTime<Utc>,
    pub business_days_overdue: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Queue {
    pub assignee: String,
    pub asked_by: Option<String>,
    pub open: u64,
    pub under5_days: u64,
    pub from5_to10_days: u64,
    pub over10_days: u64,
    pub claimed: u64,
    pub unclaimed: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Loop {
    pub title: String,
    pub agency: String,
    pub requests: u64,
    pub applications: u64,
    pub firm_days: Stats,
}

/// Days as a page says them: one decimal.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Days(pub f64);

impl std::fmt::Display for Days {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.1}", self.0)
    }
}
