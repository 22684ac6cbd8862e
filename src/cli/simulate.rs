//! `softland simulate PATH --data FILE --script FILE`: a dry run with a simulated clock.
//!
//! The script is YAML:
//!
//! ```yaml
//! start: 2026-11-24T09:00:00+08:00   # optional; the simulated clock's first reading
//! applicant: pengcheng-pay           # optional; who submits (actor id)
//! steps:
//!   - act: {state: ofds_nomination, action: nominate, by: "ofds:officer-chen"}
//!   - advance: P11D                  # move the clock; due timers fire
//!   - act: {state: eligibility_information, action: answer, by: applicant, input: {answer: "…"}}
//!   - withdraw: {reason: "changed plans"}
//! ```

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::{DateTime, FixedOffset, Utc};
use serde_json::Value;
use softland_gateway::ErrorCode;
use softland_workflow::duration::Period;
use softland_workflow::script::{Script, Step};
use softland_workflow::{Actor, Calendars, Command, Env, Event, EventKind, Instance, Workflow};

use super::load::load_valid;

const HKT: FixedOffset = softland_workflow::HONG_KONG;

fn show(t: DateTime<Utc>) -> String {
    t.with_timezone(&HKT)
        .format("%Y-%m-%d %H:%M %:z")
        .to_string()
}

/// `investhk:amy` -> reviewer amy of investhk; `applicant` or `applicant:x` -> the applicant.
struct Sim<'a> {
    wf: &'a Workflow,
    json: bool,
    path: Vec<String>,
}

impl Sim<'_> {
    fn print(&mut self, events: &[Event]) -> anyhow::Result<()> {
        for e in events {
            if self.json {
                println!("{}", serde_json::to_string(e)?);
                continue;
            }
            let name = |s: &softland_workflow::StateName| s.to_string();
            match &e.kind {
                EventKind::Submitted { .. } => {
                    println!("  submitted by {}", e.actor.as_deref().unwrap_or("?"))
                }
                EventKind::Entered { state } => {
                    self.path.push(name(state));
                    println!("  → {}", name(state));
                }
                EventKind::Exited { .. } => {}
                EventKind::DocumentLinked {
                    document, pointer, ..
                } => println!("    📎 document {document} linked at {pointer}"),
                EventKind::TaskOpened {
                    task,
                    state,
                    assignee,
                    due_at,
                    due_estimated,
                    ..
                } => {
                    let estimate = if *due_estimated {
                        " (estimated: past the end of the holiday table)"
                    } else {
                        ""
                    };
                    let due = due_at
                        .map(|d| format!(", due {}{estimate}", show(d)))
                        .unwrap_or_default();
                    println!("    + task #{task} {} for {assignee}{due}", name(state));
                }
                EventKind::TaskCompleted {
                    task,
                    action,
                    comment,
                    ..
                } => {
                    let c = comment
                        .as_ref()
                        .map(|c| format!(" — {c}"))
                        .unwrap_or_default();
                    println!(
                        "    ✓ task #{task} {action} by {}{c}",
                        e.actor.as_deref().unwrap_or("?")
                    );
                }
                EventKind::TaskCancelled { task } => println!("    ✗ task #{task} cancelled"),
                EventKind::TaskReassigned { task, assignee, .. } => {
                    println!("    ↪ task #{task} reassigned to {assignee}")
                }
                EventKind::TaskOverdue { task } => println!("    ⏰ task #{task} overdue"),
                EventKind::ClockPaused {
                    state, remaining, ..
                } => {
                    let left = match remaining {
                        softland_workflow::Remaining::BusinessDays(d) => {
                            format!("{d} working days")
                        }
                        softland_workflow::Remaining::Seconds(s) => format!("{s} s"),
                    };
                    println!("    ⏸ {}'s clock paused with {left} left", name(state))
                }
                EventKind::ClockResumed { state, due_at } => {
                    println!(
                        "    ▶ {}'s clock resumed, due {}",
                        name(state),
                        show(*due_at)
                    )
                }
                EventKind::Migrated {
                    from_version,
                    to_version,
                    ..
                } => println!("    ⇢ moved from version {from_version} to {to_version}"),
                EventKind::ChoiceMade {
                    state,
                    rule,
                    to,
                    errors,
                } => {
                    let why =
                        rule.map_or("otherwise".to_owned(), |r| format!("condition {}", r + 1));
                    println!("    ◇ {} chose {} ({why})", name(state), name(to));
                    for err in errors {
                        println!("      ! condition error: {err}");
                    }
                }
                EventKind::BranchDone { state, branch } => {
                    let b = match self.wf.state_named(state.as_str()).map(|s| s.kind()) {
                        Some(softland_workflow::StateKind::Parallel(p)) => p
                            .branches()
                            .get(usize::from(*branch))
                            .map_or_else(|| branch.to_string(), |b| b.name().to_owned()),
                        _ => branch.to_string(),
                    };
                    println!("    ‖ branch {b} of {} done", name(state));
                }
                EventKind::PlaceChanged { pool, change, rank } => {
                    let rank = rank.map(|r| format!(" (rank {r})")).unwrap_or_default();
                    println!("    ◎ place of {pool}: {}{rank}", change.word())
                }
                EventKind::Completed { outcome } => println!("  ■ completed: {outcome}"),
                EventKind::NoteAdded { note, .. } => println!("    ✎ internal note: {note}"),
                EventKind::Withdrawn { reason } => println!(
                    "  ■ withdrawn{}",
                    reason
                        .as_ref()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                ),
            }
        }
        Ok(())
    }
}

pub(super) fn run(path: &Path, data: &Path, script: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let wf = load_valid(path)?;
    let data: Value = serde_json::from_str(
        &std::fs::read_to_string(data)
            .with_context(|| format!("cannot read {}", data.display()))?,
    )
    .with_context(|| format!("{} is not valid JSON", data.display()))?;
    let script_text = std::fs::read_to_string(script)
        .with_context(|| format!("cannot read {}", script.display()))?;
    let script =
        Script::parse(&script_text).map_err(|e| anyhow::anyhow!("{}: {e}", script.display()))?;
    let calendar = Calendars::builtin();
    let mut now: DateTime<Utc> = script.start.map_or_else(
        || "2026-11-24T01:00:00Z".parse().unwrap_or_default(),
        |t| t.with_timezone(&Utc),
    );
    let applicant = script
        .applicant
        .unwrap_or_else(|| softland_workflow::Assignee::Applicant.key().to_owned());
    let mut sim = Sim {
        wf: &wf,
        json,
        path: Vec::new(),
    };
    let mut levels = super::simulate_pools::Levels::new(&wf, &script.pools)?;

    if !json {
        println!("{} — simulated from {}", wf.title(), show(now));
        println!("[{}] submit", show(now));
    }
    // A programme of positions is applied to for a position: the simulated one's firm hosts.
    let host = wf
        .pools()
        .iter()
        .any(|p| p.per() == softland_workflow::PoolScope::Position)
        .then_some("host-firm");
    let env = Env {
        now,
        calendar: &calendar,
        full: &[],
        unbound: &[],
        host,
    };
    let (mut app, events) = match wf.submit(&Actor::applicant(applicant.as_str()), data, env) {
        Ok(r) => r,
        Err(e) => {
            println!("  rejected ({}): {e}", ErrorCode::from(&e));
            return Ok(ExitCode::FAILURE);
        }
    };
    sim.print(&events)?;
    levels.show(&events, &app, json);

    for (n, step) in script.steps.into_iter().enumerate() {
        let n = n + 1;
        let full = levels.full();
        let env = Env {
            now,
            calendar: &calendar,
            full: &full,
            unbound: &[],
            host: None,
        };
        let result = match step {
            Step::Free(pool) => {
                if !json {
                    println!(
                        "[{}] step {n}: another application gives back a place of {pool}",
                        show(now)
                    );
                }
                levels
                    .free(&pool)
                    .map_err(|e| anyhow::anyhow!("step {n}: {e}"))?;
                if !json {
                    println!("{}", levels.line(&pool, &app));
                }
                if app.place(&pool) != Some(softland_workflow::PlaceStatus::Waiting) {
                    continue;
                }
                // The first in line — this application — is promoted.
                wf.execute(&mut app, &Actor::system(), Command::Promote { pool }, env)
            }
            Step::Advance(by) => {
                let period: Period = by.parse().map_err(|e| anyhow::anyhow!("step {n}: {e}"))?;
                now = period.add_to(now);
                if !json {
                    println!("[{}] step {n}: advance {by}", show(now));
                }
                fire_timers(&wf, &mut app, now, &calendar, &mut sim)?;
                continue;
            }
            Step::Withdraw(w) => {
                if !json {
                    println!("[{}] step {n}: withdraw", show(now));
                }
                wf.execute(
                    &mut app,
                    &Actor::applicant(applicant.as_str()),
                    Command::Withdraw { reason: w.reason },
                    env,
                )
            }
            Step::Act(a) => {
                let who = a
                    .actor(&applicant)
                    .map_err(|e| anyhow::anyhow!("step {n}: {e}"))?;
                if !json {
                    println!(
                        "[{}] step {n}: {} {} on {}",
                        show(now),
                        a.by,
                        a.action,
                        a.state
                    );
                }
                let Some(task) = find_task(&wf, &app, &a.state, &who) else {
                    let open: Vec<String> = app
                        .open_tasks()
                        .iter()
                        .map(|t| format!("{} ({})", wf.state(t.state).name(), t.assignee))
                        .collect();
                    println!(
                        "  step {n} failed: no open task in `{}` for {}; open: {}",
                        a.state,
                        a.by,
                        if open.is_empty() {
                            "none".to_owned()
                        } else {
                            open.join(", ")
                        }
                    );
                    return Ok(ExitCode::FAILURE);
                };
                wf.execute(
                    &mut app,
                    &who,
                    Command::Act {
                        task,
                        action: a.action,
                        comment: a.comment,
                        input: a.input,
                        note: None,
                    },
                    env,
                )
            }
        };
        match result {
            Ok(events) => {
                sim.print(&events)?;
                levels.show(&events, &app, json);
            }
            Err(e) => {
                println!("  step {n} rejected ({}): {e}", ErrorCode::from(&e));
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    if !json {
        summary(&wf, &app, &sim.path);
    }
    Ok(ExitCode::SUCCESS)
}

/// The open task in `state` that `who` may work (for approvals: their agency's seat).
fn find_task(
    wf: &Workflow,
    app: &Instance,
    state: &str,
    who: &Actor,
) -> Option<softland_workflow::TaskId> {
    let state = wf.state_id(state)?;
    let in_state = app.open_tasks().iter().filter(|t| t.state == state);
    let mine = in_state.clone().find(|t| match (&t.assignee, &who.party) {
        (softland_workflow::Assignee::Applicant, softland_workflow::Party::Applicant) => true,
        (softland_workflow::Assignee::Agency(a), softland_workflow::Party::Agency(b)) => **a == **b,
        (softland_workflow::Assignee::Host(_), softland_workflow::Party::Applicant) => true,
        _ => false,
    });
    mine.or_else(|| in_state.clone().next()).map(|t| t.id)
}

fn fire_timers(
    wf: &Workflow,
    app: &mut Instance,
    now: DateTime<Utc>,
    calendar: &Calendars,
    sim: &mut Sim<'_>,
) -> anyhow::Result<()> {
    // Firing one timer may open tasks with timers of their own; repeat until none is due.
    for _ in 0..1000 {
        let Some(task) = app.due_timers(now).into_iter().next() else {
            return Ok(());
        };
        let env = Env {
            now,
            calendar,
            full: &[],
            unbound: &[],
            host: None,
        };
        match wf.execute(app, &Actor::system(), Command::FireTimer { task }, env) {
            Ok(events) => sim.print(&events)?,
            Err(e) => bail!("timer of task {task} was refused: {e}"),
        }
    }
    bail!("more than 1000 timers fired in one step; the workflow may escalate in a loop")
}

fn summary(wf: &Workflow, app: &Instance, path: &[String]) {
    println!();
    println!(
        "status:  {:?}{}",
        app.status(),
        app.outcome().map(|o| format!(" ({o})")).unwrap_or_default()
    );
    println!("path:    {}", path.join(" → "));
    if app.open_tasks().is_empty() {
        println!("open:    none");
    }
    for t in app.open_tasks() {
        println!(
            "open:    task #{} {} for {}",
            t.id,
            wf.state(t.state).name(),
            t.assignee
        );
    }
    let mut timers: Vec<_> = app.timers().collect();
    timers.sort_by_key(|(_, at)| *at);
    for (task, at) in timers {
        let name = app
            .task(task)
            .map(|t| wf.state(t.state).name())
            .unwrap_or("?");
        println!("timer:   task #{task} {name} would fire at {}", show(at));
    }
    println!("events:  {}", app.version());
}
