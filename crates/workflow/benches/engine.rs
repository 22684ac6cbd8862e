//! Engine benchmarks: compiling a definition, and whole applications through
//! `soft-landing-sz-to-hk` in memory. Run: `cargo bench -p softland-workflow --bench engine`.
//!
//! Throughput is reported in state transitions (state entries) per second.
//!
//! The bench uses the `softland` binary's allocator (mimalloc), as the engine runs there.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::Value;
use softland_workflow::{Actor, Calendars, Command, Env, EventKind, Instance, Workflow};

#[path = "../tests/common/mod.rs"]
mod common;

fn task(wf: &Workflow, app: &Instance, state: &str, assignee: &str) -> softland_workflow::TaskId {
    let s = wf.state_id(state).unwrap();
    app.open_tasks()
        .iter()
        .find(|t| t.state == s && t.assignee.key() == assignee)
        .unwrap()
        .id
}

/// One whole application: submit, nominate, screen, two parallel reviews, the choice, the HKMA
/// referral and a 2-of-3 joint decision. Returns the number of state transitions.
fn lifecycle(wf: &Workflow, data: Value, env: Env<'_>) -> usize {
    let (mut app, events) = wf.submit(&Actor::applicant("firm"), data, env).unwrap();
    let mut transitions = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Entered { .. }))
        .count();
    let steps = [
        ("ofds_nomination", "ofds", "chen", "nominate"),
        ("eligibility_screening", "investhk", "amy", "eligible"),
        ("hkstp_review", "hkstp", "ben", "admit"),
        ("investhk_setup_review", "investhk", "carl", "clear"),
        ("hkma_sandbox_referral", "hkma", "dora", "admit_to_sandbox"),
        ("joint_decision", "investhk", "amy", "approve"),
        ("joint_decision", "ofds", "chen", "approve"),
    ];
    for (state, agency, person, action) in steps {
        let t = task(wf, &app, state, agency);
        let cmd = Command::Act {
            task: t,
            action: action.to_owned(),
            comment: None,
            input: None,
        };
        let events = wf
            .execute(&mut app, &Actor::reviewer(person, agency), cmd, env)
            .unwrap();
        transitions += events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Entered { .. }))
            .count();
    }
    assert_eq!(app.outcome(), Some("approved"));
    transitions
}

fn benches(c: &mut Criterion) {
    let root = common::root();
    let source =
        std::fs::read_to_string(root.join("workflows/soft-landing-sz-to-hk.yaml")).unwrap();
    let form =
        std::fs::read_to_string(root.join("schemas/forms/soft-landing-sz-to-hk.json")).unwrap();
    let loader = move |_: &str| Ok::<_, String>(form.clone());

    let mut g = c.benchmark_group("compile");
    g.bench_function("soft-landing-sz-to-hk", |b| {
        b.iter(|| Workflow::compile_with(&source, &loader).unwrap())
    });
    g.finish();

    let wf = common::bundled("soft-landing-sz-to-hk");
    let data = common::example("soft-landing-sz-to-hk");
    let cal = Calendars::builtin();
    let env = Env {
        now: common::t0(),
        calendar: &cal,
    };
    let per_lifecycle = lifecycle(&wf, data.clone(), env);
    eprintln!(
        "one soft-landing-sz-to-hk lifecycle = 8 commands, {per_lifecycle} state transitions"
    );

    let mut g = c.benchmark_group("lifecycle");
    g.throughput(Throughput::Elements(per_lifecycle as u64));
    g.bench_function("soft-landing-sz-to-hk", |b| {
        b.iter_batched(
            || data.clone(),
            |d| lifecycle(&wf, d, env),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(engine, benches);
criterion_main!(engine);
