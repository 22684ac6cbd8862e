//! A report's figures over the cases of a period, gathered one case at a time
//! ([`Figures::add`]) so that a period of any size is read a page at a time.
//!
//! Conventions (docs/oversight.md says them to readers): a step's time is one sample per
//! application — the sum of its completed tasks at that step, for that agency, less the time
//! the application waited on the firm; an agency's, the sum of its completed tasks in the
//! application. Cancelled tasks (a seat not needed, a branch left) count nowhere. Days are
//! 86,400 s of calendar time, or of the agency's working days. The median of an even count is
//! the mean of the middle two; p90 is the nearest rank (the ⌈0.9·n⌉-th smallest).

use std::borrow::Borrow;
use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use softland_workflow::duration::Calendars;
use softland_workflow::{Assignee, HONG_KONG};

use super::facts::Facts;
use super::measure::DAY;
pub use super::report::{Counts, LeadFigures, Loops, Overdue, Report, Stats, StepFigures};

/// Overdue tasks a report lists by name, at most (the count says how many in all).
pub const MOST_LISTED: usize = 50;

/// Steps named as bottlenecks.
pub const BOTTLENECKS: usize = 5;

use super::facts::StepKey;

/// What a report reads of an application beside its [`Facts`].
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    /// Its id.
    pub id: uuid::Uuid,
    /// What it came to ([`super::Case::result`]).
    pub result: &'a str,
    /// When it was submitted.
    pub submitted_at: DateTime<Utc>,
    /// Its applicant's region, if the directory says.
    pub region: Option<&'a str>,
    /// The intake it belongs to (its name), if its programme admits by intake.
    pub intake: Option<&'a str>,
}

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
    months: BTreeMap<(i32, u32), BTreeMap<String, u64>>,
    regions: BTreeMap<String, BTreeMap<String, u64>>,
    intakes: BTreeMap<String, BTreeMap<String, u64>>,
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

/// The value of `key` in `map`, made (a copy of the key, once) if it has none.
fn slot<'m, K, Q, V>(map: &'m mut BTreeMap<K, V>, key: &Q) -> &'m mut V
where
    K: Borrow<Q> + Ord,
    Q: Ord + ToOwned<Owned = K> + ?Sized,
    V: Default,
{
    if !map.contains_key(key) {
        map.insert(key.to_owned(), V::default());
    }
    map.get_mut(key).expect("inserted above")
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
            intakes: BTreeMap::new(),
            leads: BTreeMap::new(),
            steps: BTreeMap::new(),
            agencies: BTreeMap::new(),
            overdue: Vec::new(),
            overdue_total: 0,
            loops: BTreeMap::new(),
        }
    }

    fn counts(&self, agency: &str) -> bool {
        self.agency.as_deref().is_none_or(|only| only == agency)
    }

    /// Takes one application of the period into the figures (one an agency filter leaves
    /// out — the agency had no task in it — counts nowhere).
    pub fn add(&mut self, entry: &Entry<'_>, facts: &Facts) {
        if let Some(only) = &self.agency
            && !facts.assignees.iter().any(|a| a == only)
        {
            return;
        }
        let result = entry.result;
        *slot(&mut self.results, result) += 1;
        let dated = if self.by_decision {
            facts.decided_at.unwrap_or(entry.submitted_at)
        } else {
            entry.submitted_at
        };
        let local = dated.with_timezone(&HONG_KONG);
        *slot(
            slot(&mut self.months, &(local.year(), local.month())),
            result,
        ) += 1;
        let region = entry.region.unwrap_or("unknown");
        *slot(slot(&mut self.regions, region), result) += 1;
        if let Some(intake) = entry.intake {
            *slot(slot(&mut self.intakes, intake), result) += 1;
        }
        if let Some([calendar, business, waiting]) = facts.lead {
            let l = slot(&mut self.leads, result);
            l[0].push(days(calendar));
            l[1].push(days(business));
            l[2].push(days(waiting));
        }
        self.steps_of(entry, facts);
        self.loops_of(facts);
    }

    fn steps_of(&mut self, entry: &Entry<'_>, facts: &Facts) {
        for fact in &facts.steps {
            let (workflow_key, state, agency) = &fact.key;
            if !self.counts(agency) {
                continue;
            }
            let step = slot(&mut self.steps, &fact.key);
            step.version = Ord::max(step.version, fact.version);
            if let Some([calendar, business]) = fact.spent {
                step.calendar.push(days(calendar));
                step.business.push(days(business));
            }
            step.with_due += fact.with_due;
            step.on_time += fact.on_time;
            for &(version, due) in fact.open_due.iter().filter(|(_, d)| *d < self.now) {
                self.overdue_total += 1;
                self.overdue.push(Overdue {
                    application_id: entry.id,
                    reference: facts.reference.clone(),
                    workflow_key: workflow_key.clone(),
                    workflow_version: version,
                    state: state.clone(),
                    agency: agency.clone(),
                    due_at: due,
                    // said once the list is cut to the longest overdue (`finish`)
                    business_days: 0.0,
                });
                // Only the longest overdue are listed: the list stays short.
                if self.overdue.len() >= 4 * MOST_LISTED {
                    self.overdue.sort_by(by_age);
                    self.overdue.truncate(MOST_LISTED);
                }
            }
        }
        for at in &facts.reassigned {
            if let Some(key) = at.iter().find(|k| self.counts(&k.2)) {
                slot(&mut self.steps, key).reassigned += 1;
            }
        }
        for (agency, [calendar, business]) in &facts.agency_time {
            if self.counts(agency) {
                let a = slot(&mut self.agencies, agency.as_str());
                a.calendar.push(days(*calendar));
                a.business.push(days(*business));
            }
        }
    }

    fn loops_of(&mut self, facts: &Facts) {
        for fact in &facts.loops {
            if !self.counts(&fact.key.2) {
                continue;
            }
            let l = slot(&mut self.loops, &fact.key);
            l.version = Ord::max(l.version, fact.version);
            l.requests += fact.requests;
            l.applications += 1;
            l.firm.extend(fact.firm.iter().map(|&s| days(s)));
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
        for o in &mut overdue {
            let region = self
                .calendars
                .region_of(&Assignee::Agency(o.agency.as_str().into()));
            o.business_days = days(self.calendars.working_seconds(region, o.due_at, self.now));
        }
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
                .map(|((year, month), c)| (format!("{year:04}-{month:02}"), counts(c)))
                .collect(),
            by_region: self
                .regions
                .into_iter()
                .map(|(r, c)| (r, counts(c)))
                .collect(),
            by_intake: self
                .intakes
                .into_iter()
                .map(|(i, c)| (i, counts(c)))
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
