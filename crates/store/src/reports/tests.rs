//! Every figure of a report against a fixture computed by hand (November 2026: the 2nd is a
//! Monday; no holiday in either region). Working days count Hong Kong time.

use chrono::{DateTime, TimeZone, Utc};
use softland_workflow::duration::Calendars;
use softland_workflow::{Assignee, HONG_KONG, Status};
use uuid::Uuid;

use super::facts::Facts;
use super::figures::{Entry, Figures, Report};
use super::{Case, CaseTask, measure};
use crate::records::TaskStatus;

const WF: &str = "soft-landing-sz-to-hk";

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    HONG_KONG
        .with_ymd_and_hms(2026, 11, day, hour, 0, 0)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("11-{day} {hour}:00 is a time"))
}

#[allow(clippy::too_many_arguments)]
fn task(
    no: u32,
    state: &str,
    assignee: &str,
    opened: DateTime<Utc>,
    closed: Option<DateTime<Utc>>,
    due: Option<DateTime<Utc>>,
) -> CaseTask {
    CaseTask {
        task_no: no,
        state: state.to_owned(),
        title: state.to_owned(),
        assignee: Assignee::parse(assignee),
        status: if closed.is_some() {
            TaskStatus::Completed
        } else {
            TaskStatus::Open
        },
        due_at: due,
        overdue: false,
        opened_at: opened,
        closed_at: closed,
        claimed: false,
        workflow_key: WF.to_owned(),
        workflow_version: 1,
    }
}

fn case(
    reference: &str,
    region: &str,
    submitted: DateTime<Utc>,
    decided: Option<(DateTime<Utc>, &str)>,
    tasks: Vec<CaseTask>,
) -> Case {
    Case {
        id: Uuid::now_v7(),
        reference: reference.to_owned(),
        workflow_key: WF.to_owned(),
        workflow_version: 1,
        organization: reference.to_lowercase(),
        organization_name: reference.to_owned(),
        region: Some(region.to_owned()),
        status: if decided.is_some() {
            Status::Completed
        } else {
            Status::Active
        },
        outcome: decided.map(|(_, o)| o.to_owned()),
        submitted_at: submitted,
        decided_at: decided.map(|(t, _)| t),
        tasks,
        reassigned: Vec::new(),
        documents: Vec::new(),
    }
}

/// A: approved, with an information request (the firm took Friday to Monday) while HKSTP's
/// review ran beside it. B: rejected, its nomination late. C: open, its nomination overdue.
fn fixture() -> Vec<Case> {
    vec![
        case(
            "A",
            "mainland",
            at(2, 9),
            Some((at(10, 9), "approved")),
            vec![
                task(
                    1,
                    "ofds_nomination",
                    "ofds",
                    at(2, 9),
                    Some(at(4, 9)),
                    Some(at(16, 9)),
                ),
                task(
                    2,
                    "eligibility_screening",
                    "investhk",
                    at(4, 9),
                    Some(at(6, 9)),
                    Some(at(11, 9)),
                ),
                task(
                    3,
                    "eligibility_information",
                    "applicant",
                    at(6, 9),
                    Some(at(9, 9)),
                    None,
                ),
                task(4, "hkstp_review", "hkstp", at(5, 9), Some(at(9, 9)), None),
                task(
                    5,
                    "eligibility_screening",
                    "investhk",
                    at(9, 9),
                    Some(at(10, 9)),
                    Some(at(16, 9)),
                ),
            ],
        ),
        case(
            "B",
            "hk",
            at(3, 12),
            Some((at(11, 0), "rejected")),
            vec![
                task(
                    1,
                    "ofds_nomination",
                    "ofds",
                    at(3, 12),
                    Some(at(10, 12)),
                    Some(at(9, 12)),
                ),
                task(
                    2,
                    "eligibility_screening",
                    "investhk",
                    at(10, 12),
                    Some(at(11, 0)),
                    Some(at(17, 12)),
                ),
            ],
        ),
        case(
            "C",
            "mainland",
            at(16, 9),
            None,
            vec![task(
                1,
                "ofds_nomination",
                "ofds",
                at(16, 9),
                None,
                Some(at(18, 9)),
            )],
        ),
    ]
}

/// The report over the fixture, from each case's facts as they are kept (read back from
/// JSON).
fn report(agency: Option<&str>) -> Report {
    let calendars = Calendars::builtin();
    let mut kept = Figures::new(&calendars, at(20, 9), false, agency.map(str::to_owned));
    for c in fixture() {
        let facts = Facts::of(&c, &calendars);
        let stored: Facts = serde_json::from_str(&serde_json::to_string(&facts).unwrap()).unwrap();
        assert_eq!(stored, facts);
        let entry = Entry {
            id: c.id,
            result: c.result(),
            submitted_at: c.submitted_at,
            region: c.region.as_deref(),
            // The mainland firms applied in an intake; the Hong Kong one in none.
            intake: (c.region.as_deref() == Some("mainland")).then_some("2026 autumn"),
        };
        kept.add(&entry, &stored);
    }
    kept.finish()
}

#[test]
fn waiting_on_the_firm_is_measured_and_left_out_of_agency_time() {
    let calendars = Calendars::builtin();
    let a = &fixture()[0];
    assert_eq!(measure::waiting(a, at(20, 9)), vec![(at(6, 9), at(9, 9))]);
    // HKSTP's review, Thursday 09:00 to Monday 09:00 (4 days; 2 working days: Thursday's 15 h,
    // Friday's 24 h, Monday's 9 h), less the firm's Friday 09:00 to Monday 09:00 (3 days; 1
    // working day: Friday's 15 h, Monday's 9 h).
    let spent = measure::task_time(
        &calendars,
        &a.tasks[3],
        &measure::waiting(a, at(20, 9)),
        at(20, 9),
    );
    assert_eq!((spent.calendar, spent.business), (86_400, 86_400));
    // Monday 2 09:00 to Tuesday 10 09:00: 8 days; 15 h + 5 × 24 h + 9 h = 6 working days.
    let lead = measure::lead(&calendars, a, at(20, 9));
    assert_eq!(
        (lead.whole.calendar, lead.whole.business, lead.waiting),
        (8 * 86_400, 6 * 86_400, 3 * 86_400)
    );
}

#[test]
fn volumes_and_lead_times() {
    let r = report(None);
    assert_eq!(r.volumes.total, 3);
    assert_eq!(
        r.volumes.by_result,
        vec![
            ("approved".into(), 1),
            ("open".into(), 1),
            ("rejected".into(), 1)
        ]
    );
    assert_eq!(r.by_month.len(), 1);
    assert_eq!(
        (r.by_month[0].0.as_str(), r.by_month[0].1.total),
        ("2026-11", 3)
    );
    let regions: Vec<(&str, u64, u64)> = r
        .by_region
        .iter()
        .map(|(region, c)| (region.as_str(), c.total, c.of("approved")))
        .collect();
    assert_eq!(regions, vec![("hk", 1, 0), ("mainland", 2, 1)]);
    let intakes: Vec<(&str, u64, u64)> = r
        .by_intake
        .iter()
        .map(|(intake, c)| (intake.as_str(), c.total, c.of("approved")))
        .collect();
    assert_eq!(intakes, vec![("2026 autumn", 2, 1)], "none for no intake");
    let leads: Vec<(&str, f64, f64, f64)> = r
        .lead_times
        .iter()
        .map(|l| {
            (
                l.result.as_str(),
                l.calendar.median,
                l.business.median,
                l.waiting.median,
            )
        })
        .collect();
    // B: Tuesday 3 12:00 to Wednesday 11 00:00 — 7.5 days; 12 h + 3 × 24 h + 2 × 24 h = 5.5
    // working days.
    assert_eq!(
        leads,
        vec![("approved", 8.0, 6.0, 3.0), ("rejected", 7.5, 5.5, 0.0)]
    );
}

#[test]
fn step_and_agency_times_service_levels_and_bottlenecks() {
    let r = report(None);
    let step = |state: &str| {
        r.steps
            .iter()
            .find(|s| s.state == state)
            .unwrap_or_else(|| panic!("no step {state}: {:?}", r.steps))
    };
    // OFDS: A 2 days (2 working); B 7 days (Tuesday 12:00 to Tuesday 12:00: 5 working).
    let ofds = step("ofds_nomination");
    assert_eq!(
        (
            ofds.calendar.n,
            ofds.calendar.median,
            ofds.calendar.p90,
            ofds.calendar.max
        ),
        (2, 4.5, 7.0, 7.0)
    );
    assert_eq!(
        (ofds.business.median, ofds.business.p90, ofds.business.max),
        (3.5, 5.0, 5.0)
    );
    assert_eq!((ofds.with_due, ofds.on_time), (2, 1));
    assert_eq!(ofds.on_time_share(), Some(0.5));
    // InvestHK's screening: A's two visits (2 + 1 days, the firm's 3 days between them not
    // counted), B's half day.
    let screening = step("eligibility_screening");
    assert_eq!(
        (screening.calendar.median, screening.calendar.max),
        (1.75, 3.0)
    );
    assert_eq!(
        (screening.business.median, screening.business.max),
        (1.75, 3.0)
    );
    assert_eq!((screening.with_due, screening.on_time), (3, 3));
    let hkstp = step("hkstp_review");
    assert_eq!(
        (hkstp.calendar.median, hkstp.business.median, hkstp.with_due),
        (1.0, 1.0, 0)
    );
    assert!(
        r.steps.iter().all(|s| s.agency != "applicant"),
        "the firm's tasks are no agency's step"
    );
    // Slowest median first.
    let order: Vec<&str> = r.steps.iter().map(|s| s.state.as_str()).collect();
    assert_eq!(
        order,
        vec!["ofds_nomination", "eligibility_screening", "hkstp_review"]
    );
    let agencies: Vec<(&str, f64, u64, u64)> = r
        .agencies
        .iter()
        .map(|a| (a.agency.as_str(), a.business.median, a.with_due, a.on_time))
        .collect();
    assert_eq!(
        agencies,
        vec![
            ("ofds", 3.5, 2, 1),
            ("investhk", 1.75, 3, 3),
            ("hkstp", 1.0, 0, 0)
        ]
    );
    // Waited longest in all: OFDS 7 working days, InvestHK 3.5, HKSTP 1.
    let worst: Vec<(&str, f64)> = r
        .bottlenecks
        .iter()
        .map(|b| (b.state.as_str(), b.business.total))
        .collect();
    assert_eq!(
        worst,
        vec![
            ("ofds_nomination", 7.0),
            ("eligibility_screening", 3.5),
            ("hkstp_review", 1.0)
        ]
    );
}

#[test]
fn overdue_and_information_requests() {
    let r = report(None);
    assert_eq!(r.overdue_total, 1);
    let o = &r.overdue[0];
    // Due Wednesday 18 09:00, now Friday 20 09:00: two working days over.
    assert_eq!(
        (
            o.reference.as_str(),
            o.state.as_str(),
            o.agency.as_str(),
            o.business_days
        ),
        ("C", "ofds_nomination", "ofds", 2.0)
    );
    assert_eq!(r.loops.len(), 1);
    let l = &r.loops[0];
    assert_eq!(
        (
            l.state.as_str(),
            l.agency.as_str(),
            l.requests,
            l.applications
        ),
        ("eligibility_screening", "investhk", 1, 1)
    );
    assert_eq!((l.firm.n, l.firm.median), (1, 3.0));
}

#[test]
fn an_agency_filter_keeps_its_applications_and_steps() {
    let r = report(Some("investhk"));
    assert_eq!(r.volumes.total, 2, "C had no InvestHK task");
    assert_eq!(r.steps.len(), 1);
    assert_eq!(r.steps[0].state, "eligibility_screening");
    assert_eq!(r.overdue_total, 0);
    assert_eq!(r.loops.len(), 1);
}
