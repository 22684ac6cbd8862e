//! `schemas/graphql/schema.graphql` is the exported SDL; this fails when code and file drift.
//! Regenerate with `UPDATE_SDL=1 cargo test --test e2e sdl`.

use crate::support::root;

#[test]
fn exported_sdl_matches_the_code() {
    let path = root().join("schemas/graphql/schema.graphql");
    let sdl = softland_gateway::sdl();
    if std::env::var_os("UPDATE_SDL").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &sdl).unwrap();
    }
    let file = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        file == sdl,
        "schemas/graphql/schema.graphql is out of date: run `UPDATE_SDL=1 cargo test --test e2e sdl`"
    );
    // The inbox keeps its contract (`first`, `after`, a `TaskConnection`); the filters added
    // after them are optional.
    assert!(
        sdl.lines().any(|l| {
            let l = l.trim();
            l.starts_with("inbox(first: Int, after: String") && l.ends_with("): TaskConnection!")
        }),
        "the fixed contract needs `inbox(first: Int, after: String…): TaskConnection!`"
    );
    for name in [
        "submitApplication(input: SubmitApplicationInput!): Application!",
        "applicationEvents(applicationId: ID): ApplicationEvent!",
        "scalar JSON",
        "scalar DateTime",
    ] {
        assert!(sdl.contains(name), "the fixed contract needs `{name}`");
    }
}
