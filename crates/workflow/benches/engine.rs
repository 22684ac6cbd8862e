//! Engine benchmarks: compiling a definition, and whole applications through
//! `soft-landing-sz-to-hk` in memory. Run: `cargo bench -p softland-workflow --bench engine`.
//!
//! Throughput is reported in state transitions (state entries) per second.
//!
//! `compile_hostile` compiles 1 MiB definitions built to be expensive to check — thousands of
//! long state names each with a mistyped target (every one a "did you mean" candidate), names
//! too long to get a hint, and conditions at the size bounds. Each must compile (to its
//! diagnostics) well under a second.
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

/// One whole application along the shared happy path (`common::sz_to_hk_happy_steps`): submit,
/// nominate, screen, two parallel reviews, the choice, the HKMA referral and a 2-of-3 joint
/// decision. Returns the number of state transitions.
fn lifecycle(
    wf: &Workflow,
    data: Value,
    env: Env<'_>,
    steps: &[(String, String, String, String)],
) -> usize {
    let (mut app, events) = wf.submit(&Actor::applicant("firm"), data, env).unwrap();
    let mut transitions = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Entered { .. }))
        .count();
    for (state, agency, person, action) in steps {
        let t = task(wf, &app, state, agency);
        let cmd = Command::Act {
            task: t,
            action: action.to_owned(),
            comment: None,
            input: None,
            note: None,
        };
        let events = wf
            .execute(
                &mut app,
                &Actor::reviewer(person.as_str(), agency.as_str()),
                cmd,
                env,
            )
            .unwrap();
        transitions += events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Entered { .. }))
            .count();
    }
    assert_eq!(app.outcome(), Some("approved"));
    transitions
}

/// About `bytes` of YAML: task states with long, similar names, each going to a mistyped name
/// of the next one (`name_len` characters each).
fn mistyped_targets(bytes: usize, name_len: usize) -> String {
    let mut y = String::from("key: hostile\ntitle: Hostile\nstart: s0\nstates:\n");
    let name = |i: usize| {
        let tail = format!("_{i}");
        format!(
            "{}{tail}",
            "state_of_review_".repeat(name_len / 16 + 1)[..name_len.saturating_sub(tail.len())]
                .to_owned()
        )
    };
    let mut i = 0;
    while y.len() < bytes {
        let next = name(i + 1);
        // swap two letters: a typo one edit away
        let typo = format!("{}x{}", &next[..3], &next[4..]);
        y.push_str(&format!(
            "  {}:\n    type: task\n    assignee: ofds\n    actions:\n      go: {{to: {typo}}}\n",
            name(i)
        ));
        i += 1;
    }
    y.push_str("  done: {type: final, outcome: approved}\n");
    y
}

/// About `bytes` of YAML: choice states whose conditions sit at the bounds (100 operators,
/// 12 brackets deep, one comprehension).
fn big_conditions(bytes: usize) -> String {
    let mut y = String::from(
        "key: hostile\ntitle: Hostile\nform:\n  type: object\n  properties:\n    items: {type: array, items: {type: integer}}\n    n: {type: integer}\nstart: c0\nstates:\n",
    );
    let condition = format!(
        "{}data.n{} > 0 && data.items.exists(x, x > 1) && {}",
        "(".repeat(12),
        ")".repeat(12),
        vec!["data.n > 1"; 30].join(" || ")
    );
    let mut i = 0;
    while y.len() < bytes {
        y.push_str(&format!(
            "  c{i}:\n    type: choice\n    choices:\n      - when: '{condition}'\n        to: c{}\n    otherwise: done\n",
            i + 1
        ));
        i += 1;
    }
    y.push_str(&format!(
        "  c{i}: {{type: final, outcome: approved}}\n  done: {{type: final, outcome: rejected}}\n"
    ));
    y
}

fn hostile(c: &mut Criterion) {
    let cases = [
        (
            "mistyped-targets-60-char-names",
            mistyped_targets(1 << 20, 60),
        ),
        (
            "mistyped-targets-200-char-names",
            mistyped_targets(1 << 20, 200),
        ),
        ("conditions-at-the-bounds", big_conditions(1 << 20)),
    ];
    let mut g = c.benchmark_group("compile_hostile");
    g.sample_size(10);
    for (name, source) in &cases {
        let errors = Workflow::compile(source).err().map_or(0, |d| d.len());
        eprintln!("{name}: {} KiB, {errors} diagnostics", source.len() / 1024);
        g.throughput(Throughput::Bytes(source.len() as u64));
        g.bench_function(*name, |b| b.iter(|| Workflow::compile(source)));
    }
    g.finish();
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
        full: &[],
        unbound: &[],
        host: None,
    };
    let steps = common::sz_to_hk_happy_steps();
    let per_lifecycle = lifecycle(&wf, data.clone(), env, &steps);
    eprintln!(
        "one soft-landing-sz-to-hk lifecycle = 8 commands, {per_lifecycle} state transitions"
    );

    let mut g = c.benchmark_group("lifecycle");
    g.throughput(Throughput::Elements(per_lifecycle as u64));
    g.bench_function("soft-landing-sz-to-hk", |b| {
        b.iter_batched(
            || data.clone(),
            |d| lifecycle(&wf, d, env, &steps),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(engine, benches, hostile);
criterion_main!(engine);
