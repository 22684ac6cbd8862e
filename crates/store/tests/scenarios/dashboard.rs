//! The administrators' dashboard: open and overdue tasks per assignee, time per step.

use chrono::Duration;
use softland_store::dashboard::AssigneeLoad;
use softland_store::test_util::TestDb;

use super::fixture;

pub async fn the_dashboard_counts_open_overdue_and_step_times(db: &TestDb) {
    let f = fixture(db).await;
    let mut apps = Vec::new();
    for org in ["a", "b", "c"] {
        apps.push(f.submitted("soft-landing-sz-to-hk", org).await);
    }
    // Two hours later OFDS nominates one; a month later the other two are overdue.
    f.advance(Duration::hours(2));
    f.act(apps[0], "ofds_nomination", "ofds:chen", "nominate", None)
        .await
        .unwrap();
    f.advance(Duration::days(30));
    let load = f.store.open_tasks_by_assignee(f.store.now()).await.unwrap();
    assert_eq!(
        load,
        [
            AssigneeLoad {
                assignee: "ofds".into(),
                open: 2,
                overdue: 2
            },
            AssigneeLoad {
                assignee: "investhk".into(),
                open: 1,
                overdue: 1
            },
        ]
    );
    let steps = f.store.step_times().await.unwrap();
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert_eq!(steps[0].state, "ofds_nomination");
    assert_eq!(steps[0].completed, 1);
    assert!((steps[0].median_hours - 2.0).abs() < 1e-6, "{steps:?}");
}

/// Reports keep each application's facts: a pass measures those without (or with stale) facts
/// only, and a report after a change counts the change.
pub async fn reports_keep_facts_and_measure_what_changed(db: &TestDb) {
    use softland_store::reports::CaseQuery;
    let f = fixture(db).await;
    let from = f.store.now();
    let apps = [
        f.submitted("soft-landing-sz-to-hk", "a").await,
        f.submitted("soft-landing-sz-to-hk", "b").await,
    ];
    assert_eq!(f.store.keep_report_facts().await.unwrap(), 2);
    assert_eq!(f.store.keep_report_facts().await.unwrap(), 0, "all kept");
    let period = CaseQuery::submitted(from, from + Duration::days(1));
    let steps = |r: &softland_store::reports::figures::Report| {
        r.steps
            .iter()
            .find(|s| s.state == "ofds_nomination")
            .map_or(0, |s| s.calendar.n)
    };
    let before = f.store.report(&period, None, f.store.now()).await.unwrap();
    assert_eq!((before.volumes.total, steps(&before)), (2, 0));
    f.advance(Duration::hours(2));
    f.act(apps[0], "ofds_nomination", "ofds:chen", "nominate", None)
        .await
        .unwrap();
    // The report measures the changed application itself (no keeper ran) …
    let after = f.store.report(&period, None, f.store.now()).await.unwrap();
    assert_eq!((after.volumes.total, steps(&after)), (2, 1));
    assert_eq!(after.steps[0].calendar.median, 2.0 / 24.0, "{after:?}");
    // … and keeps its facts.
    assert_eq!(f.store.keep_report_facts().await.unwrap(), 0);
}
