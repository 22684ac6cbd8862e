//! Due periods, reminders and counts as a definition gives them: checked against the state's actions and the calendar's words.

use super::*;

impl Analyzer<'_> {
    pub(super) fn due(
        &mut self,
        i: usize,
        due: Option<&RawDue>,
        actions: &[&str],
    ) -> Option<Option<DueSpec>> {
        let Some(due) = due else { return Some(None) };
        let within = due.within.as_ref()?;
        let count = if due.business {
            DayCount::Business
        } else {
            DayCount::Calendar
        };
        let period = match DuePeriod::parse(&within.v, count) {
            Ok(p) => Some(p),
            Err(e) => {
                self.d
                    .push(within.pos, Code::InvalidDuration, e.to_string());
                None
            }
        };
        let overdue = match &due.overdue {
            None => Some(Overdue::Flag),
            Some(o) => match &o.v {
                RawOverdue::Escalate(t) => {
                    self.resolve(Some(i), t).map(|t| Overdue::Escalate(id(t)))
                }
                RawOverdue::Reassign(a) => self
                    .assignee(a)
                    .map(|a| Overdue::Reassign(a.key().to_owned())),
                RawOverdue::Action(a) => {
                    if actions.contains(&a.v.as_str()) {
                        Some(Overdue::Action(a.v.clone()))
                    } else {
                        let hint = self.d.did_you_mean(&a.v, actions.iter().copied());
                        self.d.push(a.pos, Code::UnknownAction, format!("overdue action `{}` is not offered by this task (offers: {}){hint}", a.v, actions.join(", ")));
                        None
                    }
                }
            },
        };
        let remind = self.remind(due, period.as_ref());
        let on_request = match &due.on_request {
            None => Some(OnRequest::Pause),
            Some(w) => OnRequest::parse(&w.v).or_else(|| {
                self.d.push(
                    w.pos,
                    Code::InvalidValue,
                    format!(
                        "`on_request` must be `pause`, `run` or `restart`, not `{}`",
                        w.v
                    ),
                );
                None
            }),
        };
        let max_pauses = match &due.max_pauses {
            None => Some(None),
            Some(n) => match n.v.parse::<u16>() {
                Ok(k) if k >= 1 => Some(Some(k)),
                _ => {
                    self.d.push(
                        n.pos,
                        Code::InvalidValue,
                        format!(
                            "`max_pauses` must be a whole number from 1 to {}, not `{}`",
                            u16::MAX,
                            n.v
                        ),
                    );
                    None
                }
            },
        };
        if let (Some(n), Some(OnRequest::Run | OnRequest::Restart)) = (&due.max_pauses, on_request)
        {
            self.d.push(
                n.pos,
                Code::InvalidValue,
                "`max_pauses` caps pauses, but this step's clock never pauses (`on_request` is not `pause`)",
            );
        }
        Some(Some(DueSpec {
            period: period?,
            overdue: overdue?,
            remind: remind?,
            on_request: on_request?,
            max_pauses: max_pauses?,
        }))
    }

    /// `remind`: how long before the due time (default [`DEFAULT_REMIND_DAYS`] days, counted as
    /// the period counts), or `none`. Business periods remind in whole days and weeks;
    /// calendar periods also in hours, minutes and seconds, never months or years. An explicit
    /// reminder must come after the task opens.
    pub(super) fn remind(
        &mut self,
        due: &RawDue,
        period: Option<&DuePeriod>,
    ) -> Option<Option<DuePeriod>> {
        let count = if due.business {
            DayCount::Business
        } else {
            DayCount::Calendar
        };
        let Some(r) = &due.remind else {
            return Some(Some(DuePeriod::days(DEFAULT_REMIND_DAYS, count)));
        };
        if r.v == "none" {
            return Some(None);
        }
        let parsed = DuePeriod::parse(&r.v, count).and_then(|p| {
            if p.fixed_seconds().is_some() {
                Ok(p)
            } else {
                Err(crate::duration::PeriodError {
                    text: r.v.clone(),
                    why: "a reminder takes no months or years",
                })
            }
        });
        let remind = match parsed {
            Ok(p) => p,
            Err(e) => {
                self.d.push(
                    r.pos,
                    Code::InvalidDuration,
                    format!("`remind` takes a time before the due time (business days: days and weeks), or `none`: {e}"),
                );
                return None;
            }
        };
        if let (Some(within), Some(lead)) = (
            period.and_then(DuePeriod::fixed_seconds),
            remind.fixed_seconds(),
        ) && lead >= within
        {
            let within_text = period.map(DuePeriod::text).unwrap_or_default();
            self.d.push(
                r.pos,
                Code::InvalidDuration,
                format!(
                    "`remind: {}` comes before the task opens (it is due within {within_text})",
                    r.v
                ),
            );
            return None;
        }
        Some(Some(remind))
    }

    /// A step whose clock is declared to pause (`on_request: pause` or `max_pauses`) needs an
    /// information request that comes back to it: otherwise the clock could never resume.
    pub(super) fn check_pauses(&mut self, kinds: &[Option<StateKind>]) {
        let kind_of = |s: StateId| kinds.get(s.index()).and_then(Option::as_ref);
        for (i, raw) in self.states.iter().enumerate() {
            let RawKind::Task { due: Some(due), .. } = &raw.kind else {
                continue;
            };
            let declared = match (&due.on_request, &due.max_pauses) {
                (Some(w), _) if w.v == "pause" => w,
                (None, Some(n)) => n,
                _ => continue,
            };
            let Some(Some(StateKind::Task(t))) = kinds.get(i) else {
                continue;
            };
            if !t.actions.iter().any(|a| is_request(kind_of, id(i), a.to)) {
                self.d.push(
                    declared.pos,
                    Code::PauseCannotResume,
                    format!(
                        "the clock of `{}` pauses on an information request, but none of its actions goes to an applicant's task that comes back to it: the clock could never resume (add such a request, or remove `on_request`/`max_pauses`)",
                        raw.name.v
                    ),
                );
            }
        }
    }

    /// `upgrade_at`: states where an application waits (a task or an approval), each known.
    pub(super) fn upgrade_at(
        &mut self,
        names: &[Sp<String>],
        kinds: &[Option<StateKind>],
    ) -> Vec<StateId> {
        let mut out = Vec::new();
        for n in names {
            let Some(i) = self.resolve(None, n) else {
                continue;
            };
            match kinds.get(i) {
                Some(Some(StateKind::Task(_) | StateKind::Approval(_))) => out.push(id(i)),
                Some(Some(other)) => self.d.push(
                    n.pos,
                    Code::InvalidValue,
                    format!(
                        "`upgrade_at` names states where an application waits (a task or an approval); `{}` is a {} state",
                        n.v,
                        other.type_name()
                    ),
                ),
                _ => {}
            }
        }
        out
    }

    pub(super) fn count(&mut self, c: &Sp<Count>, n: usize, what: &str) -> Option<u16> {
        let k = match c.v {
            Count::All => n as i64,
            Count::Any => 1,
            Count::N(k) => k,
        };
        if k < 1 || k > n as i64 {
            self.d.push(c.pos, Code::JoinCannotFire, format!("{what} needs {k}, but there are only {n}; it can never fire (use 1..={n}, `any` or `all`)"));
            return None;
        }
        u16::try_from(k).ok()
    }
}
