//! What a report says, as GraphQL types: days as numbers, steps with their titles in the
//! caller's language.

use async_graphql::{ComplexObject, Context, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use softland_store::Store;
use softland_store::reports::{Queue, figures};
use softland_workflow::Text;

use super::ReportBy;
use crate::graphql::locale::{Locale, step_titles, titled};

/// Median, 90th percentile (nearest rank) and maximum of some days.
#[derive(SimpleObject, Debug, Clone, Copy)]
pub struct DayStats {
    /// How many were measured.
    pub n: u64,
    pub median: f64,
    pub p90: f64,
    pub max: f64,
    /// Their sum.
    pub total: f64,
}

impl From<figures::Stats> for DayStats {
    fn from(s: figures::Stats) -> Self {
        Self {
            n: s.n,
            median: s.median,
            p90: s.p90,
            max: s.max,
            total: s.total,
        }
    }
}

/// Applications that came to one result.
#[derive(SimpleObject, Debug)]
pub struct ResultCount {
    /// `approved`, `rejected`, `withdrawn`, `lapsed`, `open`, …
    pub result: String,
    pub count: u64,
    /// Its share of the applications counted (0 to 1): conversion from submission to it.
    pub share: f64,
}

/// Applications by result.
#[derive(SimpleObject, Debug)]
pub struct Counts {
    pub total: u64,
    /// Most first.
    pub by_result: Vec<ResultCount>,
}

impl From<figures::Counts> for Counts {
    fn from(c: figures::Counts) -> Self {
        let total = c.total;
        Self {
            total,
            by_result: c
                .by_result
                .into_iter()
                .map(|(result, count)| ResultCount {
                    result,
                    count,
                    share: if total == 0 {
                        0.0
                    } else {
                        count as f64 / total as f64
                    },
                })
                .collect(),
        }
    }
}

/// Applications of one month (`2026-11`) or one region.
#[derive(SimpleObject, Debug)]
pub struct GroupCounts {
    /// The month or the region.
    pub group: String,
    pub counts: Counts,
}

/// Lead times of the applications that came to one result.
#[derive(SimpleObject, Debug)]
pub struct LeadTime {
    pub result: String,
    /// Submission to decision, calendar days.
    pub calendar_days: DayStats,
    /// The same in Hong Kong working days.
    pub business_days: DayStats,
    /// Days of it the firm was asked for information.
    pub waiting_on_firm_days: DayStats,
}

/// A step's (or, without `state`, an agency's) times and service level.
#[derive(SimpleObject, Debug)]
#[graphql(complex)]
pub struct StepTimes {
    pub workflow_key: Option<String>,
    pub workflow_version: Option<i32>,
    /// The state's name; none for an agency's line.
    pub state: Option<String>,
    pub agency: String,
    /// Per application: its tasks' calendar days, less the waiting on the firm.
    pub calendar_days: DayStats,
    /// The same in the agency's working days.
    pub business_days: DayStats,
    /// Completed tasks that had a due time.
    pub with_due: u64,
    /// Of them, completed before it.
    pub on_time: u64,
    /// `onTime / withDue`, when any had a due time.
    pub on_time_share: Option<f64>,
    /// Tasks reassigned on overdue.
    pub reassigned: u64,
    #[graphql(skip)]
    titles: Option<Text>,
}

#[ComplexObject]
impl StepTimes {
    /// The step's title (see `Locale`); the agency's key for an agency's line.
    async fn title(&self, ctx: &Context<'_>, locale: Option<Locale>) -> String {
        let fallback = self.state.as_deref().unwrap_or(&self.agency);
        titled(ctx, locale, self.titles.as_ref(), fallback)
    }
}

/// An open task past due.
#[derive(SimpleObject, Debug)]
#[graphql(complex)]
pub struct OverdueTask {
    pub application_id: String,
    pub reference: String,
    pub workflow_key: String,
    pub state: String,
    pub agency: String,
    pub due_at: DateTime<Utc>,
    /// Working days of the agency since it fell due.
    pub business_days_overdue: f64,
    #[graphql(skip)]
    titles: Option<Text>,
}

#[ComplexObject]
impl OverdueTask {
    /// The step's title (see `Locale`).
    async fn title(&self, ctx: &Context<'_>, locale: Option<Locale>) -> String {
        titled(ctx, locale, self.titles.as_ref(), &self.state)
    }
}

/// Information requests one step made.
#[derive(SimpleObject, Debug)]
#[graphql(complex)]
pub struct RequestLoop {
    pub workflow_key: String,
    pub state: String,
    pub agency: String,
    pub requests: u64,
    /// Applications asked at least once.
    pub applications: u64,
    /// Calendar days the firm took to answer.
    pub firm_days: DayStats,
    #[graphql(skip)]
    titles: Option<Text>,
}

#[ComplexObject]
impl RequestLoop {
    /// The asking step's title (see `Locale`).
    async fn title(&self, ctx: &Context<'_>, locale: Option<Locale>) -> String {
        titled(ctx, locale, self.titles.as_ref(), &self.state)
    }
}

/// Open tasks of one assignee now, by age in its working days.
#[derive(SimpleObject, Debug)]
pub struct QueueNow {
    /// An agency's key, or `applicant` (waiting on the firm).
    pub assignee: String,
    /// For the firms' queue: the agency whose information request they answer.
    pub asked_by: Option<String>,
    pub open: u64,
    pub under5_days: u64,
    pub from5_to10_days: u64,
    pub over10_days: u64,
    pub claimed: u64,
    pub unclaimed: u64,
}

/// What a report was made of.
#[derive(Debug)]
pub struct Made {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: ReportBy,
    pub at: DateTime<Utc>,
    pub audit_head: Option<String>,
}

/// The programme's figures for a period.
#[derive(SimpleObject, Debug)]
pub struct Report {
    /// The first day of the period (Hong Kong).
    pub from: NaiveDate,
    /// Its last day, included.
    pub to: NaiveDate,
    pub by: ReportBy,
    /// When it was made.
    pub made_at: DateTime<Utc>,
    /// The audit log's newest entry then (`<event id>:<hash>`).
    pub audit_head: Option<String>,
    /// The applications of the period by result.
    pub volumes: Counts,
    /// By month (Hong Kong), in order.
    pub by_month: Vec<GroupCounts>,
    /// By the applicant's region.
    pub by_region: Vec<GroupCounts>,
    /// By the intake the applications belong to (its name), for a programme admitting by
    /// intake; applications of no intake are left out.
    pub by_intake: Vec<GroupCounts>,
    /// Decided applications' lead times, by result.
    pub lead_times: Vec<LeadTime>,
    /// Per step and agency, slowest median (working days) first.
    pub steps: Vec<StepTimes>,
    /// Per agency, slowest median first.
    pub agencies: Vec<StepTimes>,
    /// The steps applications waited at longest in all.
    pub bottlenecks: Vec<StepTimes>,
    /// Open tasks past due, longest first (at most 50).
    pub overdue: Vec<OverdueTask>,
    /// How many open tasks are past due.
    pub overdue_total: u64,
    /// Open tasks per assignee now (whatever the period).
    pub queues: Vec<QueueNow>,
    /// Information requests per asking step, most first.
    pub information_requests: Vec<RequestLoop>,
}

async fn step(store: &Store, s: figures::StepFigures) -> StepTimes {
    let named = !s.state.is_empty();
    let titles = if named {
        step_titles(store, &s.workflow_key, s.workflow_version, &s.state).await
    } else {
        None
    };
    StepTimes {
        on_time_share: s.on_time_share(),
        workflow_key: named.then(|| s.workflow_key.clone()),
        workflow_version: named.then_some(s.workflow_version),
        state: named.then(|| s.state.clone()),
        agency: s.agency,
        calendar_days: s.calendar.into(),
        business_days: s.business.into(),
        with_due: s.with_due,
        on_time: s.on_time,
        reassigned: s.reassigned,
        titles,
    }
}

impl Report {
    /// Says `figures` and `queues`.
    pub async fn new(store: &Store, r: figures::Report, queues: Vec<Queue>, made: Made) -> Self {
        let mut steps = Vec::with_capacity(r.steps.len());
        for s in r.steps {
            steps.push(step(store, s).await);
        }
        let mut agencies = Vec::new();
        for s in r.agencies {
            agencies.push(step(store, s).await);
        }
        let mut bottlenecks = Vec::new();
        for s in r.bottlenecks {
            bottlenecks.push(step(store, s).await);
        }
        let mut overdue = Vec::new();
        for o in r.overdue {
            overdue.push(OverdueTask {
                titles: step_titles(store, &o.workflow_key, o.workflow_version, &o.state).await,
                application_id: o.application_id.to_string(),
                reference: o.reference,
                workflow_key: o.workflow_key,
                state: o.state,
                agency: o.agency,
                due_at: o.due_at,
                business_days_overdue: o.business_days,
            });
        }
        let mut loops = Vec::new();
        for l in r.loops {
            loops.push(RequestLoop {
                titles: step_titles(store, &l.workflow_key, l.workflow_version, &l.state).await,
                workflow_key: l.workflow_key,
                state: l.state,
                agency: l.agency,
                requests: l.requests,
                applications: l.applications,
                firm_days: l.firm.into(),
            });
        }
        let group = |(group, counts): (String, figures::Counts)| GroupCounts {
            group,
            counts: counts.into(),
        };
        Self {
            from: made.from,
            to: made.to,
            by: made.by,
            made_at: made.at,
            audit_head: made.audit_head,
            volumes: r.volumes.into(),
            by_month: r.by_month.into_iter().map(group).collect(),
            by_region: r.by_region.into_iter().map(group).collect(),
            by_intake: r.by_intake.into_iter().map(group).collect(),
            lead_times: r
                .lead_times
                .into_iter()
                .map(|l| LeadTime {
                    result: l.result,
                    calendar_days: l.calendar.into(),
                    business_days: l.business.into(),
                    waiting_on_firm_days: l.waiting.into(),
                })
                .collect(),
            steps,
            agencies,
            bottlenecks,
            overdue,
            overdue_total: r.overdue_total,
            queues: queues
                .into_iter()
                .map(|q| QueueNow {
                    open: q.open(),
                    unclaimed: q.open() - q.claimed,
                    assignee: q.assignee,
                    asked_by: q.asked_by,
                    under5_days: q.bands[0],
                    from5_to10_days: q.bands[1],
                    over10_days: q.bands[2],
                    claimed: q.claimed,
                })
                .collect(),
            information_requests: loops,
        }
    }
}
