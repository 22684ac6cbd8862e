use crate::support::{Run, assert_contains, softland, softland_in, temp_dir};

/// `softland simulate` of bundled workflow `key` on its example application with a script of
/// `workflows/examples/`.
fn simulate(key: &str, script: &str, more: &[&str]) -> Run {
    let workflow = format!("workflows/{key}.yaml");
    let data = format!("workflows/examples/{key}.json");
    let script = format!("workflows/examples/{script}");
    let mut args = vec!["simulate", &workflow, "--data", &data, "--script", &script];
    args.extend_from_slice(more);
    softland(&args)
}

fn simulate_sz_to_hk(script: &str, more: &[&str]) -> Run {
    simulate("soft-landing-sz-to-hk", script, more)
}

/// Each bundled workflow's happy path — what the tests, benchmarks and `softland growth` play —
/// runs to its good outcome in the simulator too.
#[test]
fn the_shared_happy_paths_run_to_their_outcome() {
    for (key, outcome) in [
        ("soft-landing-sz-to-hk", "approved"),
        ("soft-landing-hk-to-sz", "approved"),
        ("internship-placement", "placed"),
    ] {
        let run = simulate(key, &format!("{key}.happy.yaml"), &[]);
        assert_eq!(run.code, 0, "{key}: {}{}", run.stdout, run.stderr);
        assert_contains(&run.stdout, &[&format!("status:  Completed ({outcome})")]);
    }
}

#[test]
fn the_sample_script_runs_to_approval() {
    let run = simulate_sz_to_hk("soft-landing-sz-to-hk.script.yaml", &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_contains(
        &run.stdout,
        &[
            "status:  Completed (approved)",
            "path:    ofds_nomination → eligibility_screening → eligibility_information → eligibility_screening → hong_kong_reviews",
            // the HKSTP timer fires after 30 days
            "⏰ task #5 overdue",
            "◇ licence_check chose hkma_sandbox_referral (condition 1)",
            // the third seat is cancelled
            "✗ task #10 cancelled",
            // OFDS counts mainland working days: 10 from Tue 24 Nov 2026 is Tue 8 Dec.
            "+ task #1 ofds_nomination for ofds, due 2026-12-08 09:00 +08:00",
        ],
    );
}

#[test]
fn json_mode_prints_every_event() {
    let run = simulate_sz_to_hk("soft-landing-sz-to-hk.script.yaml", &["--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let events: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let (first, last) = (&events[0], &events[events.len() - 1]);
    assert_eq!(first["kind"], "submitted");
    assert_eq!(last["kind"], "completed");
    assert_eq!(last["outcome"], "approved");
}

#[test]
fn a_refused_step_stops_with_its_reason() {
    let dir = temp_dir("simulate-refused");
    let script = "steps:\n  - act: {state: ofds_nomination, action: decline, by: \"ofds:chen\", input: {reason: 1}}\n";
    std::fs::write(dir.join("script.yaml"), script).expect("write");
    let root = crate::support::root();
    let wf = root.join("workflows/soft-landing-sz-to-hk.yaml");
    let data = root.join("workflows/examples/soft-landing-sz-to-hk.json");
    let run = softland_in(
        &dir,
        &[
            "simulate",
            wf.to_str().unwrap_or_default(),
            "--data",
            data.to_str().unwrap_or_default(),
            "--script",
            "script.yaml",
        ],
    );
    assert_eq!(run.code, 1);
    assert_contains(
        &run.stdout,
        &["step 1 rejected (BAD_USER_INPUT): invalid input: /reason"],
    );
}
