//! The bundled holiday tables against an independent source (PyPI `holidays`, its output kept in
//! `calendars/oracle-holidays.json` by `calendars/oracle.py`; `.ci/run` regenerates it from the
//! pinned package and fails on any difference), and due dates past a table's end.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{Datelike, NaiveDate, Weekday};
use serde_json::Value;
use softland_workflow::{Calendars, EventKind, Region};

fn oracle() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(
            common::root().join("crates/workflow/calendars/oracle-holidays.json"),
        )
        .unwrap(),
    )
    .unwrap()
}

fn dates(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_owned())
        .collect()
}

/// Every day of every year the oracle lists: a weekday off, or a weekend day worked, exactly
/// when the oracle says so.
#[test]
fn the_bundled_tables_agree_with_an_independent_source() {
    let cal = Calendars::builtin();
    let oracle = oracle();
    for (key, region) in [("hk", Region::HongKong), ("mainland", Region::Mainland)] {
        let years = oracle[key].as_object().unwrap();
        assert!(!years.is_empty());
        for (year, want) in years {
            let year: i32 = year.parse().unwrap();
            let (mut off, mut on) = (Vec::new(), Vec::new());
            let mut d = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
            while d.year() == year {
                let weekend = matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
                let working = cal.is_working_day(region, d);
                if !weekend && !working {
                    off.push(d.to_string());
                }
                if weekend && working {
                    on.push(d.to_string());
                }
                d = d.succ_opt().unwrap();
            }
            assert_eq!(off, dates(&want["off"]), "{key} {year}: weekdays off");
            assert_eq!(on, dates(&want["on"]), "{key} {year}: weekend days worked");
        }
    }
}

/// Every year a table covers is checked against the source.
#[test]
fn every_covered_year_is_checked() {
    let cal = Calendars::builtin();
    let oracle = oracle();
    for (key, region) in [("hk", Region::HongKong), ("mainland", Region::Mainland)] {
        let until = cal.covered_until(region).unwrap();
        for year in 2026..=until.year() {
            assert!(
                oracle[key][year.to_string()].is_object(),
                "{key} covers {year}: add it to calendars/oracle.py"
            );
        }
    }
}

/// A task due in business days from 2028-01-24 — past the end of both tables, across Lunar New
/// Year — is marked as an estimate instead of being counted silently; one inside the tables is
/// not.
#[test]
fn due_dates_past_the_tables_are_marked_estimated() {
    let wf = common::bundled("soft-landing-sz-to-hk");
    let cal = Calendars::builtin();
    for (now, estimated) in [
        ("2028-01-24T02:00:00Z", true),
        ("2026-03-02T02:00:00Z", false),
    ] {
        let env = softland_workflow::Env {
            now: now.parse().unwrap(),
            calendar: &cal,
            full: &[],
            unbound: &[],
            host: None,
        };
        let (_, events) = wf
            .submit(
                &softland_workflow::Actor::applicant("firm"),
                common::example("soft-landing-sz-to-hk"),
                env,
            )
            .unwrap();
        let flags: Vec<bool> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::TaskOpened {
                    due_at: Some(_),
                    due_estimated,
                    ..
                } => Some(*due_estimated),
                _ => None,
            })
            .collect();
        assert_eq!(flags, [estimated], "{now}");
    }
}
