//! The reports page's tables: one row type per table, made from the API's answer, with the
//! links from counts to the applications behind them.

use super::answer::{Days, Group, Lead, Loop, Overdue, Queue, Report, Stats, Step, WorkflowName};
use super::{Asked, Choice, Page, region_word, result_word};
use crate::i18n::{Text, hk_time};
use crate::pages::Frame;
use crate::pages::names::Agency;
use crate::visitor::Visitor;

/// `median · p90 · longest`.
fn three(s: &Stats) -> String {
    if s.n == 0 {
        return "—".to_owned();
    }
    format!("{} · {} · {}", Days(s.median), Days(s.p90), Days(s.max))
}

/// The applications list of `asked`'s workflow and period (by submission) with `more`.
fn applications_link(asked: &Asked, more: &[(&str, &str)]) -> String {
    let mut q: Vec<(&str, &str)> = Vec::new();
    if !asked.workflow.is_empty() {
        q.push(("workflow", &asked.workflow));
    }
    if asked.by != "decision" {
        q.push(("from", &asked.from));
        q.push(("to", &asked.to));
    }
    q.extend_from_slice(more);
    format!(
        "/applications?{}",
        serde_urlencoded::to_string(&q).unwrap_or_default()
    )
}

#[derive(Debug)]
pub(crate) struct ResultRow {
    pub word: String,
    pub count: u64,
    pub share: String,
    pub href: String,
}

pub(crate) fn results(t: &Text, asked: &Asked, r: &Report) -> Vec<ResultRow> {
    r.volumes
        .by_result
        .iter()
        .map(|c| ResultRow {
            word: result_word(t, &c.result),
            count: c.count,
            share: format!("{:.0}%", c.share * 100.0),
            href: applications_link(asked, &[("outcome", &c.result)]),
        })
        .collect()
}

#[derive(Debug)]
pub(crate) struct GroupRow {
    pub label: String,
    pub total: u64,
    /// `approved 3 · still open 2`.
    pub results: String,
}

pub(crate) fn groups(t: &Text, groups: &[Group], label: impl Fn(&str) -> String) -> Vec<GroupRow> {
    groups
        .iter()
        .map(|g| GroupRow {
            label: label(&g.group),
            total: g.counts.total,
            results: g
                .counts
                .by_result
                .iter()
                .map(|c| format!("{} {}", result_word(t, &c.result), c.count))
                .collect::<Vec<_>>()
                .join(" · "),
        })
        .collect()
}

#[derive(Debug)]
pub(crate) struct LeadRow {
    pub word: String,
    pub n: u64,
    pub href: String,
    pub calendar: String,
    pub business: String,
    pub waiting: String,
}

impl LeadRow {
    pub fn of(t: &Text, asked: &Asked, l: &Lead) -> Self {
        Self {
            word: result_word(t, &l.result),
            n: l.calendar_days.n,
            href: applications_link(asked, &[("outcome", &l.result)]),
            calendar: three(&l.calendar_days),
            business: three(&l.business_days),
            waiting: Days(l.waiting_on_firm_days.median).to_string(),
        }
    }
}

#[derive(Debug)]
pub(crate) struct StepRow {
    pub title: String,
    pub agency: String,
    pub n: u64,
    pub calendar: String,
    pub business: String,
    pub business_median: f64,
    pub total: String,
    pub with_due: u64,
    pub on_time: u64,
    pub share: String,
    pub reassigned: u64,
}

impl StepRow {
    pub fn of(s: &Step, name: &impl Fn(&str) -> String) -> Self {
        let agency = name(&s.agency);
        Self {
            title: s.title.clone().unwrap_or_else(|| agency.clone()),
            agency,
            n: s.business_days.n,
            calendar: three(&s.calendar_days),
            business: three(&s.business_days),
            business_median: s.business_days.median,
            total: Days(s.business_days.total).to_string(),
            with_due: s.with_due,
            on_time: s.on_time,
            share: s
                .on_time_share
                .map_or_else(|| "—".to_owned(), |x| format!("{:.0}%", x * 100.0)),
            reassigned: s.reassigned,
        }
    }
}

#[derive(Debug)]
pub(crate) struct OverdueRow {
    pub href: String,
    pub reference: String,
    pub title: String,
    pub agency: String,
    pub due: String,
    pub days: String,
}

impl OverdueRow {
    pub fn of(t: &Text, o: &Overdue, name: &impl Fn(&str) -> String) -> Self {
        Self {
            href: format!("/applications/{}", o.application_id),
            reference: o.reference.clone(),
            title: o.title.clone(),
            agency: name(&o.agency),
            due: hk_time(&o.due_at, t),
            days: Days(o.business_days_overdue).to_string(),
        }
    }
}

#[derive(Debug)]
pub(crate) struct QueueRow {
    pub name: String,
    pub open: u64,
    pub bands: [u64; 3],
    pub claimed: u64,
    pub unclaimed: u64,
}

impl QueueRow {
    pub fn of(t: &Text, q: &Queue, name: &impl Fn(&str) -> String) -> Self {
        Self {
            name: match &q.asked_by {
                Some(agency) => t.rep_asked_by.replace("{agency}", &name(agency)),
                None => name(&q.assignee),
            },
            open: q.open,
            bands: [q.under5_days, q.from5_to10_days, q.over10_days],
            claimed: q.claimed,
            unclaimed: q.unclaimed,
        }
    }
}

#[derive(Debug)]
pub(crate) struct LoopRow {
    pub title: String,
    pub agency: String,
    pub requests: u64,
    pub applications: u64,
    pub firm: String,
}

impl LoopRow {
    pub fn of(l: &Loop, name: &impl Fn(&str) -> String) -> Self {
        Self {
            title: l.title.clone(),
            agency: name(&l.agency),
            requests: l.requests,
            applications: l.applications,
            firm: Days(l.firm_days.median).to_string(),
        }
    }
}

pub(super) fn workflow_choices(t: &Text, workflows: &[WorkflowName], chosen: &str) -> Vec<Choice> {
    let mut out = vec![Choice {
        value: String::new(),
        label: t.rep_all.to_owned(),
        selected: chosen.is_empty(),
    }];
    let mut seen = std::collections::BTreeSet::new();
    for w in workflows {
        if seen.insert(w.key.clone()) {
            out.push(Choice {
                value: w.key.clone(),
                label: w.title.clone(),
                selected: w.key == chosen,
            });
        }
    }
    out
}

pub(super) fn agency_choices(
    t: &Text,
    agencies: &[Agency],
    chosen: &str,
    name: &impl Fn(&str) -> String,
) -> Vec<Choice> {
    std::iter::once(Choice {
        value: String::new(),
        label: t.rep_all.to_owned(),
        selected: chosen.is_empty(),
    })
    .chain(agencies.iter().map(|a| Choice {
        value: a.key().to_owned(),
        label: name(a.key()),
        selected: a.key() == chosen,
    }))
    .collect()
}

pub(super) fn region_choices(t: &Text, chosen: &str) -> Vec<Choice> {
    ["", "mainland", "hk"]
        .into_iter()
        .map(|r| Choice {
            value: r.to_owned(),
            label: if r.is_empty() {
                t.rep_all.to_owned()
            } else {
                region_word(t, r)
            },
            selected: r == chosen,
        })
        .collect()
}

/// The page with its picker and a problem instead of figures.
pub(super) fn empty_page(v: &Visitor, asked: Asked, problem: String) -> Page {
    let t = v.t();
    Page {
        page: Frame::new(v, t.rep_title, "/reports"),
        t,
        query: asked.query(),
        problem: Some(problem),
        workflows: workflow_choices(t, &[], &asked.workflow),
        agencies: agency_choices(t, &[], &asked.agency, &|k: &str| k.to_owned()),
        regions: region_choices(t, &asked.region),
        made: String::new(),
        total: 0,
        results: Vec::new(),
        result_chart: String::new(),
        months: Vec::new(),
        month_chart: String::new(),
        regions_rows: Vec::new(),
        intakes_rows: Vec::new(),
        leads: Vec::new(),
        steps: Vec::new(),
        step_chart: String::new(),
        agency_rows: Vec::new(),
        service_chart: String::new(),
        overdue: Vec::new(),
        overdue_total: String::new(),
        queues: Vec::new(),
        queue_chart: String::new(),
        bottlenecks: Vec::new(),
        loops: Vec::new(),
        asked,
    }
}
