//! Stage 3: raw definition -> checked [`Workflow`]. Resolves every name, compiles conditions
//! and schemas, and checks the graph: reachability, a path to a final state from everywhere,
//! branches that can finish, joins and k-of-n approvals that can fire, no choice-only cycles.

mod conditions;
mod due;
mod places;
mod programme;

use std::collections::HashMap;

use serde_json::Value;

use crate::diagnostic::{Code, Diagnostics, Pos};
use crate::duration::{DayCount, DuePeriod};
use crate::expr::{Condition, ConditionError};
use crate::form::load_form;
use crate::graph::Graph;
use crate::model::*;
use crate::rawdef::{Count, RawDef, RawDue, RawKind, RawOverdue, RawState, Sp};
use crate::schema::{Schema, SchemaLoader};
use crate::workflow::Workflow;

/// Agencies are referenced by key; the applicant is always available.
const APPLICANT: Assignee = Assignee::Applicant;

struct Analyzer<'a> {
    d: &'a mut Diagnostics,
    states: &'a [RawState],
    names: HashMap<&'a str, usize>,
    agencies: Vec<&'a str>,
    /// Characters of condition text compiled so far (bounded per definition).
    condition_chars: usize,
    /// The pools `pools:` declares, by name.
    pools: Vec<String>,
    /// Whether one of them is a position's: then `assignee: host` names its firm.
    per_position: bool,
}

/// The most condition text one definition may hold, all choices together: parsing CEL costs
/// about half a second per MiB, and real definitions hold a few hundred characters.
pub const MAX_CONDITIONS_TOTAL: usize = 64 * 1024;

pub(crate) fn analyze(
    def: RawDef,
    loader: Option<&dyn SchemaLoader>,
    d: &mut Diagnostics,
) -> Option<Workflow> {
    let form = load_form(def.form.as_ref(), loader, d);
    let mut a = Analyzer {
        d,
        states: &def.states,
        names: HashMap::new(),
        agencies: vec![],
        condition_chars: 0,
        pools: vec![],
        per_position: false,
    };
    let pools = a.pools(&def.pools);
    for agency in &def.agencies {
        if a.agencies.contains(&agency.v.as_str()) {
            a.d.push(
                agency.pos,
                Code::DuplicateName,
                format!("agency `{}` is listed twice", agency.v),
            );
        }
        a.agencies.push(&agency.v);
    }
    for (i, s) in def.states.iter().enumerate() {
        if let Some(first) = a.names.get(s.name.v.as_str()) {
            let first = def.states[*first].name.pos;
            a.d.push(s.name.pos, Code::DuplicateName, format!("state `{}` is defined twice (first at line {}); state names must be unique across all branches", s.name.v, first.line));
        } else {
            a.names.insert(&s.name.v, i);
        }
    }
    let start = def.start.as_ref().and_then(|s| {
        let id = a.resolve(None, s)?;
        if def.states[id].branch.is_some() {
            a.d.push(
                s.pos,
                Code::InvalidTarget,
                format!(
                    "`start` must be a top-level state; `{}` is inside a parallel branch",
                    s.v
                ),
            );
            return None;
        }
        Some(id)
    });
    let kinds: Vec<Option<StateKind>> = (0..def.states.len())
        .map(|i| a.state(i, form.as_ref().map(Schema::source)))
        .collect();
    a.check_pauses(&kinds);
    let mut kinds = kinds;
    programme::mark_requests(&mut kinds);
    let upgrade_at = a.upgrade_at(&def.upgrade_at, &kinds);
    let oversight = a.oversight(&def.oversight);
    let graph = Graph::new(&kinds, &def.states);
    // Graph checks need the whole graph: with a state missing, they would only echo its errors.
    if let (Some(start), true) = (start, kinds.iter().all(Option::is_some)) {
        graph.check(a.states, a.d, start, &kinds);
        a.check_places(start, &kinds);
    }
    let errors = !a.d.is_empty();
    let (Some(key), Some(title), Some(form), Some(start), false) =
        (def.key, def.title, form, start, errors)
    else {
        return None;
    };
    let mut states = Vec::with_capacity(def.states.len());
    for (i, (raw, kind)) in def.states.into_iter().zip(kinds).enumerate() {
        let kind = kind?;
        states.push(State {
            title: raw.title.unwrap_or_else(|| Text::en(humanize(&raw.name.v))),
            name: StateName::of_state(&raw.name.v, id(i)),
            kind,
            branch: raw.branch.map(|(p, b)| (id(p), b)),
        });
    }
    Some(
        Workflow::new(
            key.v,
            title,
            def.description,
            def.agencies.into_iter().map(|a| a.v).collect(),
            form,
            states,
            id(start),
        )
        .with_applicant_regions(def.applicant_regions.into_iter().map(|r| r.v).collect())
        .with_reference(def.reference.map(|r| r.v))
        .with_upgrade_at(upgrade_at)
        .with_oversight(oversight)
        .with_pools(pools)
        .with_students(def.students),
    )
}

fn id(i: usize) -> StateId {
    StateId(u16::try_from(i).unwrap_or(u16::MAX))
}

/// `hkstp_review` -> `Hkstp review`.
fn humanize(name: &str) -> String {
    let s = name.replace(['_', '-'], " ");
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

impl<'a> Analyzer<'a> {
    /// Resolves a target written in state `from` (None: top level).
    fn resolve(&mut self, from: Option<usize>, target: &Sp<String>) -> Option<usize> {
        let Some(&to) = self.names.get(target.v.as_str()) else {
            let hint = self.d.did_you_mean(&target.v, self.names.keys().copied());
            self.d.push(
                target.pos,
                Code::UnknownTarget,
                format!("state `{}` does not exist{hint}", target.v),
            );
            return None;
        };
        let from_branch = from.and_then(|f| self.states[f].branch);
        let to_branch = self.states[to].branch;
        if let Some((p, b)) = to_branch
            && from_branch != Some((p, b))
        {
            let parallel = &self.states[p].name.v;
            self.d.push(target.pos, Code::InvalidTarget, format!("`{}` is inside a branch of parallel state `{parallel}`; enter the parallel state `{parallel}` instead", target.v));
            return None;
        }
        if let (Some((p, _)), None) = (from_branch, to_branch)
            && p == to
        {
            self.d.push(
                target.pos,
                Code::InvalidTarget,
                format!(
                    "a branch cannot re-enter its own parallel state `{}`",
                    target.v
                ),
            );
            return None;
        }
        Some(to)
    }

    fn assignee(&mut self, s: &Sp<String>) -> Option<Assignee> {
        if s.v == APPLICANT.key() {
            return Some(Assignee::Applicant);
        }
        if s.v == crate::assignee::HOST && !self.agencies.contains(&s.v.as_str()) {
            return self.host(s);
        }
        if !self.agencies.contains(&s.v.as_str()) {
            let hint = self
                .d
                .did_you_mean(&s.v, self.agencies.iter().copied().chain([APPLICANT.key()]));
            let known = if self.agencies.is_empty() {
                "none".to_owned()
            } else {
                self.agencies.join(", ")
            };
            self.d.push(
                s.pos,
                Code::UnknownAgency,
                format!(
                    "`{}` is not `applicant` nor an agency listed in `agencies` ({known}){hint}",
                    s.v
                ),
            );
            return None;
        }
        Some(Assignee::Agency(s.v.as_str().into()))
    }

    fn steps(&mut self, names: &[Sp<String>]) -> Option<Vec<StateId>> {
        let mut out = Vec::new();
        let mut ok = true;
        for n in names {
            match self.names.get(n.v.as_str()) {
                Some(&i)
                    if matches!(
                        self.states[i].kind,
                        RawKind::Task { .. } | RawKind::Approval(_)
                    ) =>
                {
                    out.push(id(i))
                }
                Some(_) => {
                    self.d.push(
                        n.pos,
                        Code::UnknownStep,
                        format!(
                            "four-eyes rule names `{}`, which is not a task or approval step",
                            n.v
                        ),
                    );
                    ok = false;
                }
                None => {
                    let hint = self.d.did_you_mean(&n.v, self.names.keys().copied());
                    self.d.push(
                        n.pos,
                        Code::UnknownStep,
                        format!("four-eyes rule names unknown step `{}`{hint}", n.v),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    /// Resolves one state; `None` when it has errors (already reported).
    fn state(&mut self, i: usize, form: Option<&Value>) -> Option<StateKind> {
        let states = self.states;
        let st = &states[i];
        let in_branch = st.branch.is_some();
        match &st.kind {
            RawKind::Invalid => None,
            RawKind::Final { outcome, places } => {
                if in_branch {
                    self.d.push(st.name.pos, Code::Misplaced, format!("final state `{}` cannot be inside a parallel branch; exit the branch to a top-level final state", st.name.v));
                }
                let places = self.final_places(&st.name.v, places.as_ref())?;
                Some(StateKind::Final {
                    outcome: outcome.as_ref()?.v.clone(),
                    places,
                })
            }
            RawKind::Waitlist { pool, promote_to } => {
                if in_branch {
                    self.d.push(
                        st.name.pos,
                        Code::Misplaced,
                        format!(
                            "waitlist `{}` cannot be inside a parallel branch",
                            st.name.v
                        ),
                    );
                    return None;
                }
                self.waitlist(i, pool.as_ref(), promote_to.as_ref())
            }
            RawKind::Done => {
                if !in_branch {
                    self.d.push(st.name.pos, Code::Misplaced, format!("`done` state `{}` ends a parallel branch; it cannot be used outside one", st.name.v));
                    return None;
                }
                Some(StateKind::Done)
            }
            RawKind::Task {
                assignee,
                actions,
                due,
            } => {
                let assignee = assignee.as_ref().and_then(|a| self.assignee(a));
                let mut specs = Vec::new();
                let mut ok = true;
                for a in actions {
                    let to = a.to.as_ref().and_then(|t| self.resolve(Some(i), t));
                    let input = match &a.input {
                        None => Some(None),
                        Some(schema) => match Schema::compile(schema.v.clone()) {
                            Ok(s) => Some(Some(s)),
                            Err(e) => {
                                self.d.push(
                                    schema.pos,
                                    Code::InvalidSchema,
                                    format!(
                                        "input of action `{}` is not a valid JSON Schema: {e}",
                                        a.name.v
                                    ),
                                );
                                None
                            }
                        },
                    };
                    let distinct = self.steps(&a.distinct_from);
                    let places = self.places(i, a);
                    match (to, input, distinct, places) {
                        (Some(to), Some(input), Some(distinct_from), Some(places)) => {
                            specs.push(ActionSpec {
                                name: a.name.v.clone(),
                                title: a
                                    .title
                                    .clone()
                                    .unwrap_or_else(|| Text::en(humanize(&a.name.v))),
                                to: id(to),
                                input,
                                distinct_from,
                                // Known once every state is: see `mark_requests`.
                                request: false,
                                places,
                            })
                        }
                        _ => ok = false,
                    }
                }
                let names: Vec<&str> = actions.iter().map(|a| a.name.v.as_str()).collect();
                let due = self.due(i, due.as_ref(), &names);
                if !ok {
                    return None;
                }
                Some(StateKind::Task(TaskSpec {
                    assignee: assignee?,
                    actions: specs,
                    due: due?,
                }))
            }
            RawKind::Approval(ap) => {
                let seats: Vec<Option<Assignee>> =
                    ap.seats.iter().map(|s| self.assignee(s)).collect();
                if ap.seats.is_empty() {
                    self.d.push(
                        st.name.pos,
                        Code::InvalidValue,
                        format!("approval `{}` needs at least one seat", st.name.v),
                    );
                }
                let required = ap.required.as_ref().and_then(|c| {
                    self.count(
                        c,
                        ap.seats.len(),
                        &format!("`required` of approval `{}`", st.name.v),
                    )
                });
                let approved = ap.approved.as_ref().and_then(|t| self.resolve(Some(i), t));
                let rejected = ap.rejected.as_ref().and_then(|t| self.resolve(Some(i), t));
                let due = self.due(i, ap.due.as_ref(), &SEAT_ACTIONS);
                let distinct = self.steps(&ap.distinct_from);
                let seats: Option<Vec<Assignee>> = seats.into_iter().collect();
                Some(StateKind::Approval(ApprovalSpec {
                    seats: seats.filter(|s| !s.is_empty())?,
                    required: required?,
                    approved: id(approved?),
                    rejected: id(rejected?),
                    due: due?,
                    distinct_from: distinct?,
                }))
            }
            RawKind::Choice { rules, otherwise } => {
                let mut out = Vec::new();
                let mut ok = true;
                for (when, to) in rules {
                    self.condition_chars += when.v.len();
                    if self.condition_chars > MAX_CONDITIONS_TOTAL {
                        self.d.push(
                            when.pos,
                            Code::ConditionTooComplex,
                            format!("the definition's conditions add up to more than {} KiB; decide with fewer, shorter conditions", MAX_CONDITIONS_TOTAL / 1024),
                        );
                        ok = false;
                        continue;
                    }
                    let cond = match Condition::compile(&when.v, form) {
                        Ok(c) => Some(c),
                        Err(errs) => {
                            for e in errs {
                                self.condition_error(when, e);
                            }
                            None
                        }
                    };
                    let to = to.as_ref().and_then(|t| self.resolve(Some(i), t));
                    match (cond, to) {
                        (Some(c), Some(t)) => out.push((c, id(t))),
                        _ => ok = false,
                    }
                }
                let otherwise = otherwise.as_ref().and_then(|t| self.resolve(Some(i), t));
                (ok && !out.is_empty()).then_some(())?;
                Some(StateKind::Choice(ChoiceSpec {
                    rules: out,
                    otherwise: id(otherwise?),
                }))
            }
            RawKind::Parallel {
                branches,
                join,
                next,
            } => {
                if in_branch {
                    self.d.push(st.name.pos, Code::Misplaced, format!("parallel state `{}` is inside another parallel branch; nested parallel states are not supported (flatten the branches)", st.name.v));
                }
                let mut out = Vec::new();
                for (b, br) in branches.iter().enumerate() {
                    let Some(start) = &br.start else { continue };
                    let Some(&s) = self.names.get(start.v.as_str()) else {
                        self.resolve(None, start);
                        continue;
                    };
                    if self.states[s].branch != Some((i, b as u16)) {
                        self.d.push(start.pos, Code::InvalidTarget, format!("branch `{}` must start at one of its own states; `{}` is not in it", br.name.v, start.v));
                        continue;
                    }
                    out.push(Branch {
                        name: br.name.v.clone(),
                        start: id(s),
                    });
                }
                let n = branches.len();
                let join = match join {
                    None => u16::try_from(n).ok(),
                    Some(c) => self.count(c, n, &format!("`join` of parallel `{}`", st.name.v)),
                };
                let next = next.as_ref().and_then(|t| self.resolve(Some(i), t));
                (out.len() == n && n >= 2).then_some(())?;
                Some(StateKind::Parallel(ParallelSpec {
                    branches: out,
                    join: join?,
                    next: id(next?),
                }))
            }
        }
    }
}
