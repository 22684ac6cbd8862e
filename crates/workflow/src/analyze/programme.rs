//! What a definition says about its programme rather than one step: the agencies that oversee
//! it (`oversight:`), and which actions ask the firm for information (decided once, for the
//! engine).

use super::*;

impl Analyzer<'_> {
    /// `oversight`: agencies the definition lists in `agencies`.
    pub(super) fn oversight(&mut self, names: &[Sp<String>]) -> Vec<String> {
        let mut out = Vec::new();
        for o in names {
            if self.agencies.contains(&o.v.as_str()) {
                out.push(o.v.clone());
            } else {
                self.d.push(
                    o.pos,
                    Code::UnknownAgency,
                    format!(
                        "`oversight` names `{}`, which `agencies` does not list",
                        o.v
                    ),
                );
            }
        }
        out
    }
}

/// Marks the actions that ask the firm for information (they go to an applicant's task that
/// comes back): what the engine asks on every action, decided once here.
pub(super) fn mark_requests(kinds: &mut [Option<StateKind>]) {
    let marks: Vec<Vec<bool>> = kinds
        .iter()
        .enumerate()
        .map(|(i, k)| match k {
            Some(StateKind::Task(t)) => {
                let kind_of = |s: StateId| kinds.get(s.index()).and_then(Option::as_ref);
                t.actions
                    .iter()
                    .map(|a| is_request(kind_of, id(i), a.to))
                    .collect()
            }
            _ => Vec::new(),
        })
        .collect();
    for (k, marks) in kinds.iter_mut().zip(marks) {
        if let Some(StateKind::Task(t)) = k {
            for (a, request) in t.actions.iter_mut().zip(marks) {
                a.request = request;
            }
        }
    }
}
