use super::*;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("valid timestamp")
}

#[test]
fn parses_iso_durations() {
    assert_eq!("P10D".parse::<Period>().map(|p| p.days), Ok(10));
    let p: Period = "P1Y2M3W4DT5H6M7S".parse().expect("full form");
    assert_eq!(
        (
            p.years, p.months, p.weeks, p.days, p.hours, p.minutes, p.seconds
        ),
        (1, 2, 3, 4, 5, 6, 7)
    );
    for bad in [
        "10D", "P", "PT", "P1H", "PD", "P1D2", "P2D1Y", "P1DT", "PxD",
    ] {
        assert!(bad.parse::<Period>().is_err(), "{bad} should not parse");
    }
}

#[test]
fn business_days_take_days_only() {
    assert!(DuePeriod::parse("P1M", DayCount::Business).is_err());
    assert!(DuePeriod::parse("PT4H", DayCount::Business).is_err());
    assert!(DuePeriod::parse("P2W", DayCount::Business).is_ok());
}

/// When a task of HKSTP (Hong Kong) opened at `from` falls due.
fn hkstp_due(period: &str, days: DayCount, from: &str) -> DateTime<Utc> {
    let due = DuePeriod::parse(period, days).expect("valid");
    Calendars::builtin().due_at(at(from), &due, &Assignee::Agency("hkstp".into()))
}

#[test]
fn calendar_days_add_plainly() {
    assert_eq!(
        hkstp_due("P10D", DayCount::Calendar, "2026-02-13T02:00:00Z"),
        at("2026-02-23T02:00:00Z")
    );
}

#[test]
fn business_days_skip_hong_kong_lunar_new_year() {
    // Friday 13 Feb 2026 (HKT 10:00). Working days after: Mon 16, Fri 20, Mon 23 (17-19 are holidays).
    assert_eq!(
        hkstp_due("P3D", DayCount::Business, "2026-02-13T02:00:00Z"),
        at("2026-02-23T02:00:00Z")
    );
}

#[test]
fn the_bundled_tables_parse_and_say_what_they_cover() {
    let c = Calendars::from_texts(BUNDLED_HK, BUNDLED_MAINLAND).expect("bundled tables");
    assert!(c.covered_until(Region::HongKong).is_some());
    assert!(c.covered_until(Region::Mainland).is_some());
}

#[test]
fn tables_are_checked_line_by_line() {
    let ok = "covers 2030-01-01 2030-12-31\n2030-01-01 holiday New Year\n";
    assert!(Calendars::from_texts(ok, ok).is_ok());
    let e = Calendars::from_texts("covers 2030-01-01 2030-12-31\n2030-13-01 holiday x\n", ok)
        .expect_err("a bad date");
    assert_eq!((e.table, e.line), ("hk", 2));
    let e = Calendars::from_texts(ok, "covers 2030-01-01 2030-12-31\n2030-01-02 feast\n")
        .expect_err("a bad kind");
    assert_eq!((e.table, e.line), ("mainland", 2));
    let e = Calendars::from_texts(ok, "2030-01-02 holiday x\n").expect_err("no covers");
    assert!(e.message.contains("covers"), "{e}");
}

#[test]
fn due_dates_past_the_table_are_not_covered() {
    let c = Calendars::builtin();
    let ofds = Assignee::Agency("ofds".into());
    let end = c.covered_until(Region::Mainland).expect("covered");
    let inside = end.and_hms_opt(1, 0, 0).expect("time").and_utc();
    assert!(c.covers(inside - Duration::days(3), inside, &ofds));
    let past = inside + Duration::days(40);
    assert!(!c.covers(inside, past, &ofds));
}

#[test]
fn business_days_follow_mainland_make_up_days() {
    // Friday 13 Feb 2026. Mainland: Sat 14 is a make-up working day, 15-23 are holidays.
    let due = DuePeriod::parse("P2D", DayCount::Business).expect("valid");
    let c = Calendars::builtin();
    let t = c.due_at(
        at("2026-02-13T02:00:00Z"),
        &due,
        &Assignee::Agency("ofds".into()),
    );
    assert_eq!(t, at("2026-02-24T02:00:00Z"));
}
