//! The kinds of state as written: task, its due period, approval, choice and parallel.

use super::*;

impl Reader<'_> {
    pub(super) fn task(&mut self, f: &Fields<'_>, what: &str) -> RawKind {
        let assignee = self.req_string(f, "assignee", what);
        let mut actions = Vec::new();
        if let Some(n) = self.required(f, "actions", what)
            && let Some(af) = self.entries(n, &format!("the actions of {what}"), None)
        {
            if af.entries.is_empty() {
                self.err(
                    af.pos,
                    Code::InvalidValue,
                    format!("{what} must offer at least one action"),
                );
            }
            for (name, body) in af.entries {
                let awhat = format!("action `{}` of {what}", name.value);
                let name = Sp {
                    v: name.value.clone(),
                    pos: pos_of(name),
                };
                // `approve: next_state` is short for `approve: {to: next_state}`.
                if let Node::Str(_) = body.value {
                    let to = self.string(body, &awhat);
                    actions.push(RawAction {
                        name,
                        title: None,
                        to,
                        input: None,
                        distinct_from: vec![],
                        places: None,
                        when_full: None,
                    });
                    continue;
                }
                let Some(b) = self.entries(body, &awhat, Some(keys::ACTION)) else {
                    continue;
                };
                actions.push(RawAction {
                    title: self.opt_text(&b, "title", &awhat),
                    to: self.req_string(&b, "to", &awhat),
                    input: b.get("input").map(|i| Sp {
                        v: i.value.to_json(),
                        pos: pos_of(i),
                    }),
                    distinct_from: b
                        .get("distinct_from")
                        .map(|d| self.strings(d, "a step name"))
                        .unwrap_or_default(),
                    places: self.places(&b, &awhat),
                    when_full: self.opt_string(&b, "when_full", &awhat),
                    name,
                });
            }
        }
        let due = f.get("due").and_then(|n| self.due(n, what));
        RawKind::Task {
            assignee,
            actions,
            due,
        }
    }

    pub(super) fn due(&mut self, n: &SNode, what: &str) -> Option<RawDue> {
        let dwhat = format!("`due` of {what}");
        // `due: P10D` is short for `due: {within: P10D}`.
        if let Node::Str(_) = n.value {
            return Some(RawDue {
                within: self.string(n, &dwhat),
                business: false,
                overdue: None,
                remind: None,
                on_request: None,
                max_pauses: None,
            });
        }
        let f = self.entries(n, &dwhat, Some(keys::DUE))?;
        let within = self.req_string(&f, "within", &dwhat);
        let business = match self.opt_string(&f, "days", &dwhat) {
            None => false,
            Some(s) if s.v == "calendar" => false,
            Some(s) if s.v == "business" => true,
            Some(s) => {
                self.err(
                    s.pos,
                    Code::InvalidValue,
                    format!("`days` must be `calendar` or `business`, not `{}`", s.v),
                );
                false
            }
        };
        let overdue = f.get("overdue").and_then(|o| {
            let owhat = format!("`overdue` of {what}");
            let of = self.entries(o, &owhat, Some(keys::OVERDUE))?;
            if of.entries.len() != 1 {
                self.err(
                    of.pos,
                    Code::InvalidValue,
                    format!("{owhat} takes exactly one of: {}", keys::OVERDUE.join(", ")),
                );
            }
            let (k, v) = of.entries.first()?;
            let s = self.string(v, &owhat)?;
            let pos = s.pos;
            let v = match k.value.as_str() {
                "escalate_to" => RawOverdue::Escalate(s),
                "reassign_to" => RawOverdue::Reassign(s),
                _ => RawOverdue::Action(s),
            };
            Some(Sp { v, pos })
        });
        Some(RawDue {
            within,
            business,
            overdue,
            remind: self.opt_string(&f, "remind", &dwhat),
            on_request: self.opt_string(&f, "on_request", &dwhat),
            max_pauses: self.opt_string(&f, "max_pauses", &dwhat),
        })
    }

    pub(super) fn approval(&mut self, f: &Fields<'_>, what: &str) -> RawKind {
        let seats = self
            .required(f, "seats", what)
            .map(|n| self.strings(n, "a seat (agency key)"))
            .unwrap_or_default();
        let required = self
            .required(f, "required", what)
            .and_then(|n| self.count(n, &format!("`required` of {what}")));
        RawKind::Approval(RawApproval {
            seats,
            required,
            approved: self.req_string(f, "approved", what),
            rejected: self.req_string(f, "rejected", what),
            due: f.get("due").and_then(|n| self.due(n, what)),
            distinct_from: f
                .get("distinct_from")
                .map(|d| self.strings(d, "a step name"))
                .unwrap_or_default(),
        })
    }

    pub(super) fn choice(&mut self, f: &Fields<'_>, what: &str) -> RawKind {
        let mut rules = Vec::new();
        if let Some(n) = self.required(f, "choices", what) {
            match &n.value {
                Node::Seq(items) if !items.is_empty() => {
                    for item in items {
                        let Some(rf) =
                            self.entries(item, &format!("a choice of {what}"), Some(keys::RULE))
                        else {
                            continue;
                        };
                        let when = self.req_string(&rf, "when", &format!("a choice of {what}"));
                        let to = self.req_string(&rf, "to", &format!("a choice of {what}"));
                        if let Some(when) = when {
                            rules.push((when, to));
                        }
                    }
                }
                other => self.err(
                    pos_of(n),
                    Code::WrongType,
                    format!(
                        "`choices` of {what} must be a non-empty list of {{when, to}}, found {}",
                        other.kind()
                    ),
                ),
            }
        }
        let otherwise = match f.get("otherwise") {
            Some(n) => self.string(n, &format!("`otherwise` of {what}")),
            None => {
                self.err(
                    f.pos,
                    Code::MissingOtherwise,
                    format!("{what} needs `otherwise`: where to go when no condition holds"),
                );
                None
            }
        };
        RawKind::Choice { rules, otherwise }
    }

    pub(super) fn parallel(
        &mut self,
        f: &Fields<'_>,
        what: &str,
        index: usize,
        out: &mut Vec<RawState>,
    ) -> RawKind {
        let mut branches = Vec::new();
        if let Some(n) = self.required(f, "branches", what)
            && let Some(bf) = self.entries(n, &format!("the branches of {what}"), None)
        {
            if bf.entries.len() < 2 {
                self.err(
                    bf.pos,
                    Code::InvalidValue,
                    format!("{what} needs at least two branches"),
                );
            }
            for (i, (bname, body)) in bf.entries.iter().enumerate() {
                let bwhat = format!("branch `{}` of {what}", bname.value);
                let Some(b) = self.entries(body, &bwhat, Some(keys::BRANCH)) else {
                    continue;
                };
                let start = self.req_string(&b, "start", &bwhat);
                let number = u16::try_from(i).unwrap_or(u16::MAX);
                if let Some(states) = self.required(&b, "states", &bwhat) {
                    self.states(states, Some((index, number)), out);
                }
                branches.push(RawBranch {
                    name: Sp {
                        v: bname.value.clone(),
                        pos: pos_of(bname),
                    },
                    start,
                });
            }
        }
        let join = f
            .get("join")
            .and_then(|n| self.count(n, &format!("`join` of {what}")));
        let next = self.req_string(f, "next", what);
        RawKind::Parallel {
            branches,
            join,
            next,
        }
    }
}
