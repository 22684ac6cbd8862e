use crate::support::{Run, softland, softland_in, temp_dir};

/// `softland simulate` of the sz-to-hk workflow on its example application with a script of
/// `workflows/examples/`.
fn simulate_sz_to_hk(script: &str, more: &[&str]) -> Run {
    let script = format!("workflows/examples/{script}");
    let mut args = vec![
        "simulate",
        "workflows/soft-landing-sz-to-hk.yaml",
        "--data",
        "workflows/examples/soft-landing-sz-to-hk.json",
        "--script",
        &script,
    ];
    args.extend_from_slice(more);
    softland(&args)
}

/// The shared happy path the tests and benchmarks take runs to approval in the simulator too.
#[test]
fn the_shared_happy_path_runs_to_approval() {
    let run = simulate_sz_to_hk("soft-landing-sz-to-hk.happy.yaml", &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("status:  Completed (approved)"),
        "{}",
        run.stdout
    );
}

#[test]
fn the_sample_script_runs_to_approval() {
    let run = simulate_sz_to_hk("soft-landing-sz-to-hk.script.yaml", &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let out = &run.stdout;
    assert!(out.contains("status:  Completed (approved)"), "{out}");
    assert!(out.contains("path:    ofds_nomination → eligibility_screening → eligibility_information → eligibility_screening → hong_kong_reviews"), "{out}");
    assert!(
        out.contains("⏰ task #5 overdue"),
        "the HKSTP timer fires after 30 days:\n{out}"
    );
    assert!(
        out.contains("◇ licence_check chose hkma_sandbox_referral (condition 1)"),
        "{out}"
    );
    assert!(
        out.contains("✗ task #10 cancelled"),
        "the third seat is cancelled:\n{out}"
    );
    // OFDS counts mainland working days: 10 from Tue 24 Nov 2026 is Tue 8 Dec.
    assert!(
        out.contains("+ task #1 ofds_nomination for ofds, due 2026-12-08 09:00 +08:00"),
        "{out}"
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
    assert_eq!(
        events.first().and_then(|e| e["kind"].as_str()),
        Some("submitted")
    );
    assert_eq!(
        events.last().and_then(|e| e["kind"].as_str()),
        Some("completed")
    );
    assert_eq!(
        events.last().and_then(|e| e["outcome"].as_str()),
        Some("approved")
    );
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
    assert!(
        run.stdout
            .contains("step 1 rejected (BAD_USER_INPUT): invalid input: /reason"),
        "{}",
        run.stdout
    );
}
