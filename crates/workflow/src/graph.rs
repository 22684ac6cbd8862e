//! The state graph of a definition being checked, built from the resolved kinds only:
//! reachability, a way to a final state, branches that can finish.

use crate::diagnostic::{Code, Diagnostics};
use crate::model::*;
use crate::rawdef::RawState;

/// The state graph, for reachability checks. Built from the resolved kinds only.
pub(crate) struct Graph {
    succ: Vec<Vec<usize>>,
}

impl Graph {
    pub(crate) fn new(kinds: &[Option<StateKind>], raw: &[RawState]) -> Self {
        let mut succ = vec![Vec::new(); kinds.len()];
        for (i, k) in kinds.iter().enumerate() {
            let Some(k) = k else { continue };
            let edges = &mut succ[i];
            match k {
                StateKind::Task(t) => {
                    edges.extend(t.actions.iter().map(|a| a.to.index()));
                    edges.extend(
                        t.actions
                            .iter()
                            .filter_map(|a| a.places.as_ref()?.when_full.map(StateId::index)),
                    );
                    if let Some(DueSpec {
                        overdue: Overdue::Escalate(t),
                        ..
                    }) = &t.due
                    {
                        edges.push(t.index());
                    }
                }
                StateKind::Approval(a) => {
                    edges.extend([a.approved.index(), a.rejected.index()]);
                    if let Some(DueSpec {
                        overdue: Overdue::Escalate(t),
                        ..
                    }) = &a.due
                    {
                        edges.push(t.index());
                    }
                }
                StateKind::Choice(c) => {
                    edges.extend(c.rules.iter().map(|(_, t)| t.index()));
                    edges.push(c.otherwise.index());
                }
                StateKind::Parallel(p) => edges.extend(p.branches.iter().map(|b| b.start.index())),
                StateKind::Final { .. } => {}
                StateKind::Waitlist(w) => edges.push(w.promote_to.index()),
                StateKind::Done => {
                    // A finished branch leads (through the join) to the parallel's `next`.
                    if let Some((p, _)) = raw[i].branch
                        && let Some(StateKind::Parallel(ps)) = &kinds[p]
                    {
                        edges.push(ps.next.index());
                    }
                }
            }
        }
        Self { succ }
    }

    pub(crate) fn reach(&self, from: usize, within: impl Fn(usize) -> bool) -> Vec<bool> {
        let mut seen = vec![false; self.succ.len()];
        let mut stack = vec![from];
        while let Some(s) = stack.pop() {
            if seen[s] || !within(s) {
                continue;
            }
            seen[s] = true;
            stack.extend(self.succ[s].iter().copied());
        }
        seen
    }

    /// Reports unreachable states, states with no way to a final one, branches that cannot
    /// finish, joins that cannot fire and choice-only cycles.
    pub(crate) fn check(
        &self,
        states: &[RawState],
        d: &mut Diagnostics,
        start: usize,
        kinds: &[Option<StateKind>],
    ) {
        let reachable = self.reach(start, |_| true);
        // Backwards from final states.
        let mut can_finish = vec![false; kinds.len()];
        let mut changed = true;
        for (i, k) in kinds.iter().enumerate() {
            can_finish[i] = matches!(k, Some(StateKind::Final { .. }));
        }
        while changed {
            changed = false;
            for i in 0..kinds.len() {
                if !can_finish[i] && self.succ[i].iter().any(|&s| can_finish[s]) {
                    can_finish[i] = true;
                    changed = true;
                }
            }
        }
        for (i, k) in kinds.iter().enumerate() {
            let st = &states[i];
            let Some(k) = k else { continue };
            if !reachable[i] {
                d.push(
                    st.name.pos,
                    Code::UnreachableState,
                    format!("state `{}` can never be reached from `start`", st.name.v),
                );
                continue;
            }
            if !can_finish[i] && !matches!(k, StateKind::Done) {
                d.push(st.name.pos, Code::NoPathToFinal, format!("no path leads from state `{}` to a final state: applications there would be stuck", st.name.v));
            }
            if let StateKind::Parallel(p) = k {
                let mut finishing = 0;
                for (b, br) in p.branches.iter().enumerate() {
                    let in_branch = |s: usize| states[s].branch == Some((i, b as u16));
                    let seen = self.reach(br.start.index(), |s| {
                        in_branch(s) || states[s].branch.is_none()
                    });
                    let done = seen.iter().enumerate().any(|(s, &r)| {
                        r && in_branch(s) && matches!(kinds[s], Some(StateKind::Done))
                    });
                    let exits = seen
                        .iter()
                        .enumerate()
                        .any(|(s, &r)| r && states[s].branch.is_none());
                    if done {
                        finishing += 1;
                    } else if !exits {
                        d.push(states[br.start.index()].name.pos, Code::BranchCannotFinish, format!("branch `{}` of `{}` can never finish: no path from `{}` reaches a `done` state or leaves the parallel", br.name, st.name.v, states[br.start.index()].name.v));
                    }
                }
                if finishing < p.join {
                    d.push(st.name.pos, Code::JoinCannotFire, format!("the join of `{}` needs {} finished branches, but only {finishing} can reach a `done` state", st.name.v, p.join));
                }
            }
        }
        // Cycles made only of choice states would loop forever.
        let is_choice = |s: usize| matches!(kinds[s], Some(StateKind::Choice(_)));
        for i in (0..kinds.len()).filter(|&i| is_choice(i)) {
            let back = self.succ[i]
                .iter()
                .any(|&s| is_choice(s) && self.reach(s, is_choice)[i]);
            if back {
                let st = &states[i];
                d.push(st.name.pos, Code::ChoiceCycle, format!("choice `{}` can lead back to itself through choices only, which would loop forever", st.name.v));
            }
        }
    }
}
