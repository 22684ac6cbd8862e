//! Helpers shared by the workflow crate's tests and benchmark.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use softland_workflow::{
    Actor, Calendars, Command, Env, Event, Instance, Rejection, StateKind, TaskId, Workflow,
};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Compiles a bundled workflow from `workflows/KEY.yaml`.
pub fn bundled(key: &str) -> Workflow {
    let dir = root().join("workflows");
    let source = std::fs::read_to_string(dir.join(format!("{key}.yaml"))).unwrap();
    let loader = move |rel: &str| std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string());
    Workflow::compile_with(&source, &loader)
        .unwrap_or_else(|d| panic!("{key} does not compile:\n{d}"))
}

/// The sample application `workflows/examples/KEY.json`.
pub fn example(key: &str) -> Value {
    let text =
        std::fs::read_to_string(root().join(format!("workflows/examples/{key}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

pub fn t0() -> DateTime<Utc> {
    "2026-11-24T01:00:00Z".parse().unwrap()
}

/// A running application with the helpers tests need.
pub struct App<'w> {
    pub wf: &'w Workflow,
    pub inst: Instance,
    pub events: Vec<Event>,
    pub now: DateTime<Utc>,
    pub cal: Calendars,
}

impl<'w> App<'w> {
    pub fn submit(wf: &'w Workflow, data: Value) -> Self {
        let cal = Calendars::builtin();
        let now = t0();
        let (inst, events) = wf
            .submit(
                &Actor::applicant("firm"),
                data,
                Env {
                    now,
                    calendar: &cal,
                    full: &[],
                    unbound: &[],
                    host: None,
                },
            )
            .expect("submits");
        Self {
            wf,
            inst,
            events,
            now,
            cal,
        }
    }

    /// The open task in state `name` that belongs to `assignee` (agency key or "applicant").
    pub fn task(&self, name: &str, assignee: &str) -> TaskId {
        let state = self
            .wf
            .state_id(name)
            .unwrap_or_else(|| panic!("no state {name}"));
        self.inst
            .open_tasks()
            .iter()
            .find(|t| t.state == state && t.assignee.key() == assignee)
            .unwrap_or_else(|| {
                panic!(
                    "no open {name} task for {assignee}; open: {:?}",
                    self.open()
                )
            })
            .id
    }

    pub fn open(&self) -> Vec<String> {
        self.inst
            .open_tasks()
            .iter()
            .map(|t| format!("{}:{}", self.wf.state(t.state).name(), t.assignee))
            .collect()
    }

    pub fn active(&self) -> Vec<&str> {
        self.inst
            .active_states()
            .iter()
            .map(|s| self.wf.state(*s).name())
            .collect()
    }

    pub fn run(&mut self, actor: &Actor, cmd: Command) -> Result<Vec<Event>, Rejection> {
        let env = Env {
            now: self.now,
            calendar: &self.cal,
            full: &[],
            unbound: &[],
            host: None,
        };
        let events = self.wf.execute(&mut self.inst, actor, cmd, env)?;
        self.events.extend(events.iter().cloned());
        Ok(events)
    }

    /// `who` is `applicant` or `agency:person`.
    pub fn act(
        &mut self,
        state: &str,
        who: &str,
        action: &str,
        input: Option<Value>,
    ) -> Result<Vec<Event>, Rejection> {
        let (actor, assignee) = match who.split_once(':') {
            Some((agency, person)) => (Actor::reviewer(person, agency), agency.to_owned()),
            None => (Actor::applicant("firm"), "applicant".to_owned()),
        };
        let task = self.task(state, &assignee);
        self.run(
            &actor,
            Command::Act {
                task,
                action: action.into(),
                comment: None,
                input,
                note: None,
            },
        )
    }
}

pub fn reason() -> Option<Value> {
    Some(json!({"reason": "does not meet the criteria"}))
}

/// The shared scripted happy path of `soft-landing-sz-to-hk` (with the sandbox referral):
/// `workflows/examples/soft-landing-sz-to-hk.happy.yaml`.
pub fn sz_to_hk_happy_script() -> softland_workflow::script::Script {
    softland_workflow::script::Script::parse(
        &std::fs::read_to_string(
            root().join("workflows/examples/soft-landing-sz-to-hk.happy.yaml"),
        )
        .unwrap(),
    )
    .unwrap()
}

/// The shared happy path's agency steps as (state, agency, person, action).
pub fn sz_to_hk_happy_steps() -> Vec<(String, String, String, String)> {
    sz_to_hk_happy_script().agency_steps()
}

/// Runs the whole happy path of `soft-landing-sz-to-hk` (the shared script). Returns the
/// number of state transitions (state entries) it made.
pub fn sz_to_hk_happy_path(app: &mut App<'_>) -> usize {
    for step in sz_to_hk_happy_script().acts() {
        app.act(&step.state, &step.by, &step.action, step.input.clone())
            .unwrap();
    }
    app.events
        .iter()
        .filter(|e| matches!(e.kind, softland_workflow::EventKind::Entered { .. }))
        .count()
}

/// An sz-to-hk application OFDS has nominated: InvestHK's screening is open.
pub fn nominated(wf: &Workflow) -> App<'_> {
    let mut app = App::submit(wf, example("soft-landing-sz-to-hk"));
    app.act("ofds_nomination", "ofds:chen", "nominate", None)
        .unwrap();
    app
}

/// An sz-to-hk application InvestHK (amy) found eligible: the Hong Kong reviews are open.
pub fn at_hong_kong_reviews(wf: &Workflow) -> App<'_> {
    let mut app = nominated(wf);
    app.act("eligibility_screening", "investhk:amy", "eligible", None)
        .unwrap();
    app
}

/// A parallel state never joins before its rule is met: whenever a parallel state is left for
/// its `next` state, at least `join` branches had finished; while one is active, fewer have.
pub fn joins_respected(wf: &Workflow, inst: &Instance, events: &[Event]) -> bool {
    use softland_workflow::EventKind;
    let mut done: std::collections::HashMap<softland_workflow::StateId, usize> = Default::default();
    let mut just_left = None;
    // Events name their states; this workflow gives the ids.
    let id = |name: &softland_workflow::StateName| wf.state_id(name.as_str()).unwrap();
    for e in events {
        match &e.kind {
            EventKind::Entered { state } => {
                let state = id(state);
                if let Some((p, n)) = just_left.take()
                    && let StateKind::Parallel(ps) = wf.state(p).kind()
                    && ps.next() == state
                    && n < usize::from(ps.join())
                {
                    return false;
                }
                if let StateKind::Parallel(_) = wf.state(state).kind() {
                    done.insert(state, 0);
                }
            }
            EventKind::BranchDone { state, .. } => *done.entry(id(state)).or_default() += 1,
            EventKind::Exited { state } => {
                let state = id(state);
                if let Some(n) = done.remove(&state) {
                    just_left = Some((state, n));
                }
            }
            _ => {}
        }
    }
    inst.active_states()
        .iter()
        .all(|s| match wf.state(*s).kind() {
            StateKind::Parallel(p) => done.get(s).copied().unwrap_or(0) < usize::from(p.join()),
            _ => true,
        })
}
