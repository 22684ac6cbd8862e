//! Places: the definition's pools (`pools:`), what its actions do to a place, its waitlist
//! states — and the two path checks that keep a place from being confirmed unheld or held for
//! ever: every `confirm` is preceded by a `reserve` on every path to it, and every `reserve`
//! is followed by a `confirm` or `release` on every path to a final state.

use super::*;
use crate::rawdef::{RawAction, RawPlaces, RawPool};

impl Analyzer<'_> {
    /// The pools as declared: unique names, a known `per`.
    pub(super) fn pools(&mut self, raw: &[RawPool]) -> Vec<Pool> {
        let mut out: Vec<Pool> = Vec::new();
        for p in raw {
            if out.iter().any(|o| o.name == p.name.v) {
                self.d.push(
                    p.name.pos,
                    Code::DuplicateName,
                    format!("pool `{}` is declared twice", p.name.v),
                );
                continue;
            }
            let Some(per) = &p.per else { continue };
            let Some(scope) = PoolScope::parse(&per.v) else {
                self.d.push(
                    per.pos,
                    Code::InvalidValue,
                    format!(
                        "`per` of pool `{}` must be one of: {}; not `{}`",
                        p.name.v,
                        PoolScope::WORDS.join(", "),
                        per.v
                    ),
                );
                continue;
            };
            out.push(Pool {
                name: p.name.v.clone(),
                per: scope,
            });
        }
        self.pools = out.iter().map(|p| p.name.clone()).collect();
        self.per_position = out.iter().any(|p| p.per == PoolScope::Position);
        out
    }

    /// `assignee: host`: the firm offering the position applied for — only in a workflow
    /// whose applications draw on positions' places (they name the position).
    pub(super) fn host(&mut self, s: &Sp<String>) -> Option<Assignee> {
        if self.per_position {
            return Some(Assignee::Host(crate::assignee::HOST.into()));
        }
        self.d.push(
            s.pos,
            Code::UnknownAgency,
            "`host` is the firm offering the position applied for: declare a pool `per: position` in `pools` first",
        );
        None
    }

    /// A pool named by an action or a waitlist; reports an unknown one at its place.
    fn pool(&mut self, name: &Sp<String>) -> Option<String> {
        if self.pools.contains(&name.v) {
            return Some(name.v.clone());
        }
        let hint = self
            .d
            .did_you_mean(&name.v, self.pools.iter().map(String::as_str));
        let declared = if self.pools.is_empty() {
            "none".to_owned()
        } else {
            self.pools.join(", ")
        };
        self.d.push(
            name.pos,
            Code::UnknownPool,
            format!(
                "pool `{}` is not declared in `pools` ({declared}){hint}",
                name.v
            ),
        );
        None
    }

    /// What action `a` of state `i` does to a place. `Some(None)`: nothing; `None`: an error
    /// (reported).
    pub(super) fn places(&mut self, i: usize, a: &RawAction) -> Option<Option<Places>> {
        let Some(RawPlaces { op, pool }) = &a.places else {
            if let Some(w) = &a.when_full {
                self.d.push(
                    w.pos,
                    Code::InvalidValue,
                    format!(
                        "`when_full` of action `{}` needs `reserve`: only a reservation can find its pool full",
                        a.name.v
                    ),
                );
                return None;
            }
            return Some(None);
        };
        let pool = self.pool(pool)?;
        let when_full = match &a.when_full {
            None => None,
            Some(_) if *op != PlaceOp::Reserve => {
                self.d.push(
                    a.when_full.as_ref().map_or(a.name.pos, |w| w.pos),
                    Code::InvalidValue,
                    format!(
                        "`when_full` of action `{}` needs `reserve`: only a reservation can find its pool full",
                        a.name.v
                    ),
                );
                return None;
            }
            Some(w) => {
                let to = self.resolve(Some(i), w)?;
                let waits_here = matches!(
                    &self.states[to].kind,
                    RawKind::Waitlist { pool: Some(p), .. } if p.v == pool
                );
                if !waits_here {
                    self.d.push(
                        w.pos,
                        Code::InvalidTarget,
                        format!(
                            "`when_full` of action `{}` must name a `waitlist` state of pool `{pool}`; `{}` is not one",
                            a.name.v, w.v
                        ),
                    );
                    return None;
                }
                Some(id(to))
            }
        };
        Some(Some(Places {
            op: *op,
            pool,
            when_full,
        }))
    }

    /// What a final state does to a place: `confirm` (the application won it) or `release`.
    /// `Some(None)`: nothing; `None`: an error (reported).
    pub(super) fn final_places(
        &mut self,
        state: &str,
        p: Option<&RawPlaces>,
    ) -> Option<Option<Places>> {
        let Some(RawPlaces { op, pool }) = p else {
            return Some(None);
        };
        if *op == PlaceOp::Reserve {
            self.d.push(
                pool.pos,
                Code::InvalidValue,
                format!(
                    "final state `{state}` cannot reserve a place: the application ends there; it may `confirm` or `release` one"
                ),
            );
            return None;
        }
        Some(Some(Places {
            op: *op,
            pool: self.pool(pool)?,
            when_full: None,
        }))
    }

    /// A waitlist state: its pool is declared, and it promotes to a state.
    pub(super) fn waitlist(
        &mut self,
        i: usize,
        pool: Option<&Sp<String>>,
        promote_to: Option<&Sp<String>>,
    ) -> Option<StateKind> {
        let pool = pool.and_then(|p| self.pool(p));
        let to = promote_to.and_then(|t| self.resolve(Some(i), t));
        Some(StateKind::Waitlist(WaitlistSpec {
            pool: pool?,
            promote_to: id(to?),
        }))
    }

    /// The two path checks, for every pool. Run on a complete graph only.
    pub(super) fn check_places(&mut self, start: usize, kinds: &[Option<StateKind>]) {
        let pools = self.pools.clone();
        for pool in &pools {
            let edges = joined(pool, edges(kinds, self.states), self.states, kinds);
            self.confirms_are_reserved(pool, start, &edges);
            self.reserves_are_settled(pool, &edges, kinds);
        }
    }

    /// A `confirm` of `pool` must find the place held on every path from `start` to it.
    fn confirms_are_reserved(&mut self, pool: &str, start: usize, edges: &[Vec<Edge<'_>>]) {
        let held = held(pool, start, edges, |_| true);
        for (s, raw) in self.states.iter().enumerate() {
            if let RawKind::Final {
                places: Some(RawPlaces { op, pool: named }),
                ..
            } = &raw.kind
                && *op == PlaceOp::Confirm
                && named.v == pool
                && held[s] == Some(false)
            {
                self.d.push(
                    named.pos,
                    Code::ConfirmWithoutReserve,
                    format!(
                        "final state `{}` confirms a place of `{pool}`, but some path reaches it without a `reserve: {pool}` still held",
                        raw.name.v
                    ),
                );
            }
            let RawKind::Task { actions, .. } = &raw.kind else {
                continue;
            };
            for a in actions {
                let Some(RawPlaces { op, pool: named }) = &a.places else {
                    continue;
                };
                if *op == PlaceOp::Confirm && named.v == pool && held[s] == Some(false) {
                    self.d.push(
                        named.pos,
                        Code::ConfirmWithoutReserve,
                        format!(
                            "action `{}` of `{}` confirms a place of `{pool}`, but some path reaches `{}` without a `reserve: {pool}` still held",
                            a.name.v, raw.name.v, raw.name.v
                        ),
                    );
                }
            }
        }
    }

    /// After a `reserve` of `pool`, every path to a final state must `confirm` or `release`
    /// it (a withdrawal releases it by itself).
    fn reserves_are_settled(
        &mut self,
        pool: &str,
        edges: &[Vec<Edge<'_>>],
        kinds: &[Option<StateKind>],
    ) {
        // Backward: from which states some path reaches a final state without settling.
        // A final state leaks unless it confirms or gives back the place itself.
        let mut leaks: Vec<bool> = kinds
            .iter()
            .map(|k| match k {
                Some(StateKind::Final { places, .. }) => {
                    places.as_ref().is_none_or(|p| p.pool != pool)
                }
                _ => false,
            })
            .collect();
        let mut changed = true;
        while changed {
            changed = false;
            for s in 0..kinds.len() {
                if leaks[s] {
                    continue;
                }
                let leak = edges[s].iter().any(|e| {
                    !matches!(e.effect, Effect::Settles(p) | Effect::Frees(p) if p == pool)
                        && leaks[e.to]
                });
                if leak {
                    leaks[s] = true;
                    changed = true;
                }
            }
        }
        for raw in self.states {
            let RawKind::Task { actions, .. } = &raw.kind else {
                continue;
            };
            for a in actions {
                let Some(RawPlaces { op, pool: named }) = &a.places else {
                    continue;
                };
                let Some(to) = a.to.as_ref().and_then(|t| self.names.get(t.v.as_str())) else {
                    continue;
                };
                if *op == PlaceOp::Reserve && named.v == pool && leaks[*to] {
                    self.d.push(
                        named.pos,
                        Code::ReserveWithoutRelease,
                        format!(
                            "action `{}` of `{}` reserves a place of `{pool}`, but some path from `{}` reaches a final state without `confirm: {pool}` or `release: {pool}`",
                            a.name.v, raw.name.v, a.to.as_ref().map_or("", |t| t.v.as_str())
                        ),
                    );
                }
            }
        }
    }
}

/// Forward from `start` over the states `within` admits: whether a place of `pool` is held on
/// every path to each state (`None`: unreached).
fn held(
    pool: &str,
    start: usize,
    edges: &[Vec<Edge<'_>>],
    within: impl Fn(usize) -> bool,
) -> Vec<Option<bool>> {
    let mut held: Vec<Option<bool>> = vec![None; edges.len()];
    held[start] = Some(false);
    let mut work = vec![start];
    while let Some(s) = work.pop() {
        let here = held[s].unwrap_or(false);
        for e in edges[s].iter().filter(|e| within(e.to)) {
            let out = match e.effect {
                Effect::Holds(p) if p == pool => true,
                Effect::Frees(p) if p == pool => false,
                _ => here,
            };
            let next = Some(held[e.to].map_or(out, |old| old && out));
            if next != held[e.to] {
                held[e.to] = next;
                work.push(e.to);
            }
        }
    }
    held
}

/// A parallel state that joins all its branches goes on holding a place of `pool` when one
/// of its branches holds it on every path to its end: the branches' ends' edges to the next
/// state say so (the forward check meets them with "and").
fn joined<'p>(
    pool: &'p str,
    mut edges: Vec<Vec<Edge<'p>>>,
    raw: &[RawState],
    kinds: &[Option<StateKind>],
) -> Vec<Vec<Edge<'p>>> {
    for (p, k) in kinds.iter().enumerate() {
        let Some(StateKind::Parallel(ps)) = k else {
            continue;
        };
        if usize::from(ps.join) < ps.branches.len() {
            continue;
        }
        let within = |b: usize, s: usize| {
            raw[s]
                .branch
                .is_some_and(|(q, c)| (q, usize::from(c)) == (p, b))
        };
        let ends = |b: usize| {
            (0..raw.len())
                .filter(move |&s| within(b, s) && matches!(kinds[s], Some(StateKind::Done)))
        };
        let holds = (0..ps.branches.len()).any(|b| {
            let start = ps.branches[b].start.index();
            let h = held(pool, start, &edges, |s| within(b, s));
            let mut reached = ends(b).filter_map(|s| h[s]).peekable();
            reached.peek().is_some() && reached.all(|x| x)
        });
        if !holds {
            continue;
        }
        for b in 0..ps.branches.len() {
            for s in ends(b) {
                for e in &mut edges[s] {
                    e.effect = Effect::Holds(pool);
                }
            }
        }
    }
    edges
}

/// What taking an edge does to a pool's place.
#[derive(Clone, Copy)]
enum Effect<'a> {
    None,
    /// A reservation or a promotion: the place is held.
    Holds(&'a str),
    /// A confirmation: the place is kept for good.
    Settles(&'a str),
    /// A release, or going to the waitlist: no place is held.
    Frees(&'a str),
}

struct Edge<'a> {
    to: usize,
    effect: Effect<'a>,
}

/// Every state's edges with what each does to a place.
fn edges<'k>(kinds: &'k [Option<StateKind>], raw: &[RawState]) -> Vec<Vec<Edge<'k>>> {
    let plain = |to: StateId| Edge {
        to: to.index(),
        effect: Effect::None,
    };
    let escalation = |due: Option<&DueSpec>| match due {
        Some(DueSpec {
            overdue: Overdue::Escalate(t),
            ..
        }) => Some(plain(*t)),
        _ => None,
    };
    kinds
        .iter()
        .enumerate()
        .map(|(i, k)| match k {
            None | Some(StateKind::Final { .. }) => Vec::new(),
            Some(StateKind::Task(t)) => {
                let mut out = Vec::new();
                for a in &t.actions {
                    let effect = match &a.places {
                        None => Effect::None,
                        Some(p) => match p.op {
                            PlaceOp::Reserve => Effect::Holds(&p.pool),
                            PlaceOp::Confirm => Effect::Settles(&p.pool),
                            PlaceOp::Release => Effect::Frees(&p.pool),
                        },
                    };
                    out.push(Edge {
                        to: a.to.index(),
                        effect,
                    });
                    if let Some(p) = &a.places
                        && let Some(w) = p.when_full
                    {
                        out.push(Edge {
                            to: w.index(),
                            effect: Effect::Frees(&p.pool),
                        });
                    }
                }
                out.extend(escalation(t.due.as_ref()));
                out
            }
            Some(StateKind::Approval(a)) => [plain(a.approved), plain(a.rejected)]
                .into_iter()
                .chain(escalation(a.due.as_ref()))
                .collect(),
            Some(StateKind::Choice(c)) => c
                .rules
                .iter()
                .map(|(_, t)| plain(*t))
                .chain([plain(c.otherwise)])
                .collect(),
            Some(StateKind::Parallel(p)) => p.branches.iter().map(|b| plain(b.start)).collect(),
            Some(StateKind::Waitlist(w)) => vec![Edge {
                to: w.promote_to.index(),
                effect: Effect::Holds(&w.pool),
            }],
            Some(StateKind::Done) => match raw[i].branch {
                Some((p, _)) => match &kinds[p] {
                    Some(StateKind::Parallel(ps)) => vec![plain(ps.next)],
                    _ => Vec::new(),
                },
                None => Vec::new(),
            },
        })
        .collect()
}
