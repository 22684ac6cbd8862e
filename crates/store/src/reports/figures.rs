//! A report's figures over the cases of a period, gathered one case at a time
//! ([`Figures::add`]) so that a period of any size is read a page at a time.
//!
//! Conventions (docs/oversight.md says them to readers): a step's time is one sample per
//! application — the sum of its completed tasks at that step, for that agency, less the time
//! the application waited on the firm; an agency's, the sum of its completed tasks in the
//! application. Cancelled tasks (a seat not needed, a branch left) count nowhere. Days are
//! 86,400 s of calendar time, or of the agency's working days. The median of an even count is
//! the mean of the middle two; p90 is the nearest rank (the ⌈0.9·n⌉-th smallest).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Utc};
use softland_workflow::duration::Calendars;
use softland_workflow::{Assignee, HONG_KONG};

use super::Case;
use super::measure::{self, DAY, Spent};
pub use super::report::{Counts, LeadFigures, Loops, Overdue, Report, Stats, StepFigures};
use crate::records::TaskStatus;

/// Overdue tasks a report lists by name, at most (the count says how many in all).
pub const MOST_LISTED: usize = 50;

/// Steps named as bottlenecks.
pub const BOTTLENECKS: usize = 5;

type StepKey = (String, String, String);

#[derive(Debug, Default)]
struct StepSamples {
    version: i32,
    calendar: Vec<f64>,
    business: Vec<f64>,
    with_due: u64,
    on_time: u64,
    reassigned: u64,
}

#[derive(Debug, Default)]
struct LoopSamples {
    version: i32,
    requests: u64,
    applications: u64,
    firm: Vec<f64>,
}

/// Figures being gathered.
#[derive(Debug)]
pub struct Figures<'c> {
    calendars: &'c Calendars,
    now: DateTime<Utc>,
    by_decision: bool,
    agency: Option<String>,
    results: BTreeMap<String, u64>,
    months: BTreeMap<String, BTreeMap<String, u64>>,
    regions: BTreeMap<String, BTreeMap<String, u64>>,
    leads: BTreeMap<String, [Vec<f64>; 3]>,
    steps: BTreeMap<StepKey, StepSamples>,
    agencies: BTreeMap<String, StepSamples>,
    overdue: Vec<Overdue>,
    overdue_total: u64,
    loops: BTreeMap<StepKey, LoopSamples>,
}

/// Longest overdue first (the earliest due), then by reference.
fn by_age(a: &Overdue, b: &Overdue) -> std::cmp::Ordering {
    a.due_at
        .cmp(&b.due_at)
        .then_with(|| a.reference.cmp(&b.reference))
}

fn counts(map: BTreeMap<String, u64>) -> Counts {
    let mut by_result: Vec<(String, u64)> = map.into_iter().collect();
    by_result.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Counts {
        total: by_result.iter().map(|(_, n)| n).sum(),
        by_result,
    }
}

fn days(seconds: i64) -> f64 {
    seconds as f64 / DAY
}

impl<'c> Figures<'c> {
    /// Gathering for a period by submission (or by decision), for one agency's steps only or
    /// all, as of `now`.
    pub fn new(
        calendars: &'c Calendars,
        now: DateTime<Utc>,
        by_decision: bool,
        agency: Option<String>,
    ) -> Self {
        Self {
            calendars,
            now,
            by_decision,
            agency,
            results: BTreeMap::new(),
            months: BTreeMap::new(),
            regions: BTreeMap::new(),
            leads: BTreeMap::new(),
            steps: BTreeMap::new(),
            agencies: BTreeMap::new(),
            overdue: Vec::new(),
            overdue_total: 0,
            loops: BTreeMap::new(),
        }
    }

    fn counts_step(&self, assignee: &Assignee) -> bool {
        match (assignee, &self.agency) {
            (Assignee::Agency(a), Some(only)) => a == only,
            (Assignee::Agency(_), None) => true,
            (Assignee::Applicant, _) => false,
        }
    }

    /// Takes one application of the period into the figures (one an agency filter leaves
    /// out — the agency had no task in it — counts nowhere).
    pub fn add(&mut self, case: &Case) {
        if let Some(only) = &self.agency
            && !case.tasks.iter().any(|t| t.assignee.key() == only.as_str())
        {
            return;
        }
        let result = case.result().to_owned();
        *self.results.entry(result.clone()).or_default() += 1;
        let dated = if self.by_decision {
            case.decided_at.unwrap_or(case.submitted_at)
        } else {
            case.submitted_at
        };
        let local = dated.with_timezone(&HONG_KONG);
        let month = format!("{:04}-{:02}", local.year(), local.month());
        *self
            .months
            .entry(month)
            .or_default()
            .entry(result.clone())
            .or_default() += 1;
        let region = case.region.clone().unwrap_or_else(|| "unknown".to_owned());
        *self
            .regions
            .entry(region)
            .or_default()
            .entry(result.clone())
            .or_default() += 1;
        if case.decided_at.is_some() {
            let lead = measure::lead(self.calendars, case, self.now);
            let l = self.leads.entry(result).or_default();
            l[0].push(days(lead.whole.calendar));
            l[1].push(days(lead.whole.business));
            l[2].push(days(lead.waiting));
        }
        self.steps_of(case);
        self.loops_of(case);
    }

    fn steps_of(&mut self, case: &Case) {
        let waiting = measure::waiting(case, self.now);
        let mut per_step: BTreeMap<StepKey, Spent> = BTreeMap::new();
        let mut per_agency: BTreeMap<String, Spent> = BTreeMap::new();
        for t in &case.tasks {
            if !self.counts_step(&t.assignee) {
                continue;
            }
            let key = (
                t.workflow_key.clone(),
                t.state.clone(),
                t.assignee.key().to_owned(),
            );
            let step = self.steps.entry(key.clone()).or_default();
            step.version = Ord::max(step.version, t.workflow_version);
            match t.status {
                TaskStatus::Completed => {
                    let spent = measure::task_time(self.calendars, t, &waiting, self.now);
                    for sum in [
                        per_step.entry(key).or_default(),
                        per_agency.entry(t.assignee.key().to_owned()).or_default(),
                    ] {
                        sum.calendar += spent.calendar;
                        sum.business += spent.business;
                    }
                    if let (Some(due), Some(closed)) = (t.due_at, t.closed_at) {
                        step.with_due += 1;
                        step.on_time += u64::from(closed <= due);
                    }
                }
                TaskStatus::Open => {
                    if let Some(due) = t.due_at.filter(|d| *d < self.now) {
                        let region = self.calendars.region_of(&t.assignee);
                        self.overdue.push(Overdue {
                            application_id: case.id,
                            reference: case.reference.clone(),
                            workflow_key: t.workflow_key.clone(),
                            workflow_version: t.workflow_version,
                            state: t.state.clone(),
                            agency: t.assignee.key().to_owned(),
                            due_at: due,
                            business_days: days(
                                self.calendars.working_seconds(region, due, self.now),
                            ),
                        });
                        self.overdue_total += 1;
                        // Only the longest overdue are listed: the list stays short.
                        if self.overdue.len() >= 4 * MOST_LISTED {
                            self.overdue.sort_by(by_age);
                            self.overdue.truncate(MOST_LISTED);
                        }
                    }
                }
                TaskStatus::Cancelled => {}
            }
        }
        for state in &case.reassigned {
            if let Some(t) = case
                .tasks
                .iter()
                .rev()
                .find(|t| &t.state == state && self.counts_step(&t.assignee))
            {
                let key = (
                    t.workflow_key.clone(),
                    t.state.clone(),
                    t.assignee.key().to_owned(),
                );
                self.steps.entry(key).or_default().reassigned += 1;
            }
        }
        for (key, spent) in per_step {
            let step = self.steps.entry(key).or_default();
            step.calendar.push(days(spent.calendar));
            step.business.push(days(spent.business));
        }
        for (agency, spent) in per_agency {
            let a = self.agencies.entry(agency).or_default();
            a.calendar.push(days(spent.calendar));
            a.business.push(days(spent.business));
        }
    }

    fn loops_of(&mut self, case: &Case) {
        let mut asked: HashMap<StepKey, ()> = HashMap::new();
        for r in measure::requests(case, self.now) {
            let Some(by) = r.asked_by.filter(|a| self.counts_step(&a.assignee)) else {
                continue;
            };
            let key = (
                by.workflow_key.clone(),
                by.state.clone(),
                by.assignee.key().to_owned(),
            );
            let l = self.loops.entry(key.clone()).or_default();
            l.version = Ord::max(l.version, by.workflow_version);
            l.requests += 1;
            if asked.insert(key, ()).is_none() {
                l.applications += 1;
            }
            if r.task.closed_at.is_some() {
                l.firm.push(days(r.firm_seconds));
            }
        }
    }

    /// The report.
    pub fn finish(self) -> Report {
        let mut steps: Vec<StepFigures> = self
            .steps
            .into_iter()
            .map(|((workflow_key, state, agency), s)| StepFigures {
                workflow_key,
                workflow_version: s.version,
                state,
                agency,
                calendar: Stats::of(s.calendar),
                business: Stats::of(s.business),
                with_due: s.with_due,
                on_time: s.on_time,
                reassigned: s.reassigned,
            })
            .collect();
        // A step only ever cancelled here (a seat not needed) or still open says nothing.
        steps.retain(|s| s.calendar.n > 0 || s.with_due > 0 || s.reassigned > 0);
        let slowest = |a: &StepFigures, b: &StepFigures| {
            b.business
                .median
                .total_cmp(&a.business.median)
                .then_with(|| {
                    (&a.workflow_key, &a.state, &a.agency).cmp(&(
                        &b.workflow_key,
                        &b.state,
                        &b.agency,
                    ))
                })
        };
        steps.sort_by(slowest);
        let mut agencies: Vec<StepFigures> = self
            .agencies
            .into_iter()
            .map(|(agency, s)| {
                let of_agency = steps.iter().filter(|f| f.agency == agency);
                let (with_due, on_time, reassigned) = of_agency.fold((0, 0, 0), |acc, f| {
                    (acc.0 + f.with_due, acc.1 + f.on_time, acc.2 + f.reassigned)
                });
                StepFigures {
                    agency,
                    calendar: Stats::of(s.calendar),
                    business: Stats::of(s.business),
                    with_due,
                    on_time,
                    reassigned,
                    ..StepFigures::default()
                }
            })
            .collect();
        agencies.sort_by(slowest);
        let mut bottlenecks: Vec<StepFigures> =
            steps.iter().filter(|s| s.business.n > 0).cloned().collect();
        bottlenecks.sort_by(|a, b| {
            b.business
                .total
                .total_cmp(&a.business.total)
                .then_with(|| slowest(a, b))
        });
        bottlenecks.truncate(BOTTLENECKS);
        let mut overdue = self.overdue;
        overdue.sort_by(by_age);
        let overdue_total = self.overdue_total;
        overdue.truncate(MOST_LISTED);
        let mut loops: Vec<Loops> = self
            .loops
            .into_iter()
            .map(|((workflow_key, state, agency), l)| Loops {
                workflow_key,
                workflow_version: l.version,
                state,
                agency,
                requests: l.requests,
                applications: l.applications,
                firm: Stats::of(l.firm),
            })
            .collect();
        loops.sort_by(|a, b| {
            b.requests
                .cmp(&a.requests)
                .then_with(|| a.state.cmp(&b.state))
        });
        Report {
            volumes: counts(self.results),
            by_month: self
                .months
                .into_iter()
                .map(|(m, c)| (m, counts(c)))
                .collect(),
            by_region: self
                .regions
                .into_iter()
                .map(|(r, c)| (r, counts(c)))
                .collect(),
            lead_times: self
                .leads
                .into_iter()
                .map(|(result, [calendar, business, waiting])| LeadFigures {
                    result,
                    calendar: Stats::of(calendar),
                    business: Stats::of(business),
                    waiting: Stats::of(waiting),
                })
                .collect(),
            steps,
            agencies,
            overdue,
            overdue_total,
            bottlenecks,
            loops,
        }
    }
}
