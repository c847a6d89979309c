use super::*;
use chrono::{NaiveDate, TimeZone};
use serde_json::json;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("a test instant").with_timezone(&Utc)
}

fn schedule(v: Value) -> Schedule {
    Schedule::from_input(&v).unwrap_or_else(|e| panic!("{v} should be valid: {e:?}"))
}

fn errors(v: Value) -> Vec<String> {
    match Schedule::from_input(&v) {
        Ok(s) => panic!("{v} should be refused, got {s:?}"),
        Err(e) => e.iter().map(ToString::to_string).collect(),
    }
}

/// The runs after `from`, `n` of them, as RFC 3339 UTC strings.
fn runs(s: &Schedule, from: &str, n: usize) -> Vec<String> {
    let mut at = utc(from);
    let mut out = Vec::new();
    for _ in 0..n {
        at = s.next_after(at).expect("a next run");
        out.push(at.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    }
    out
}

fn daily(hour: u32, minute: u32, zone: &str) -> Schedule {
    schedule(json!({"frequency": "daily", "time": {"hour": hour, "minute": minute, "timeZone": zone}}))
}

// ---- the seed's five bodies ----

#[test]
fn seed_hourly_runs_every_three_hours_and_stops_queuing_at_eight_pm() {
    let s = schedule(json!({
        "frequency": "hourly",
        "daysOfWeek": ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
        "hourlyInterval": 3,
        "lastHour": 20,
        "time": {"hour": 2, "minute": 30, "timezone": "America/Los_Angeles"}
    }));
    // 2027-01-04 is a Monday, PST (UTC-8): 02:30, 05:30, ..., 17:30, then the next day
    assert_eq!(
        runs(&s, "2027-01-04T08:00:00Z", 7),
        [
            "2027-01-04T10:30:00Z",
            "2027-01-04T13:30:00Z",
            "2027-01-04T16:30:00Z",
            "2027-01-04T19:30:00Z",
            "2027-01-04T22:30:00Z",
            "2027-01-05T01:30:00Z",
            "2027-01-05T10:30:00Z",
        ]
    );
}

#[test]
fn seed_weekly_runs_on_the_named_days() {
    let s = schedule(json!({
        "frequency": "weekly",
        "daysOfWeek": ["Monday", "Wednesday", "Friday"],
        "time": {"hour": 6, "minute": 0, "timeZone": "America/New_York"}
    }));
    assert_eq!(
        runs(&s, "2027-01-04T00:00:00Z", 4),
        ["2027-01-04T11:00:00Z", "2027-01-06T11:00:00Z", "2027-01-08T11:00:00Z", "2027-01-11T11:00:00Z"]
    );
}

#[test]
fn seed_monthly_specific_days_skip_months_without_the_day() {
    let s = schedule(json!({
        "frequency": "monthly",
        "daysOfMonth": [15, 31],
        "time": {"hour": 0, "minute": 0, "timeZone": "UTC"}
    }));
    assert_eq!(
        runs(&s, "2027-01-20T00:00:00Z", 5),
        [
            "2027-01-31T00:00:00Z",
            "2027-02-15T00:00:00Z",
            "2027-03-15T00:00:00Z",
            "2027-03-31T00:00:00Z",
            "2027-04-15T00:00:00Z"
        ]
    );
}

#[test]
fn seed_monthly_relative_first_sunday() {
    let s = schedule(json!({
        "frequency": "monthlyrelative",
        "weekInMonth": "First",
        "dayInWeek": "Sunday",
        "time": {"hour": 1, "minute": 0, "timeZone": "America/Los_Angeles"}
    }));
    // first Sundays of 2027: Jan 3, Feb 7, Mar 7
    assert_eq!(
        runs(&s, "2027-01-01T00:00:00Z", 3),
        ["2027-01-03T09:00:00Z", "2027-02-07T09:00:00Z", "2027-03-07T09:00:00Z"]
    );
}

#[test]
fn seed_event_driven_has_no_time_and_no_next_run() {
    let s = schedule(json!({"frequency": "eventdriven", "triggerRule": "$ALL_SALESFORCE_OBJECTS"}));
    assert_eq!(
        s.frequency,
        Frequency::EventDriven { rule: TriggerRule { terms: vec![TriggerTerm::AllSalesforceObjects] } }
    );
    assert_eq!(s.next_after(utc("2027-01-01T00:00:00Z")), None);
    // without a rule: after the local connection syncs, as the docs describe the event
    assert_eq!(schedule(json!({"frequency": "eventdriven"})), s);
}

// ---- frequencies ----

#[test]
fn minutely_every_fifteen_minutes_until_last_hour() {
    let s = schedule(json!({
        "frequency": "minutely", "minutelyInterval": 15, "lastHour": 1,
        "time": {"hour": 0, "minute": 10, "timeZone": "UTC"}
    }));
    assert_eq!(
        runs(&s, "2027-01-01T00:00:00Z", 4),
        ["2027-01-01T00:10:00Z", "2027-01-01T00:25:00Z", "2027-01-01T00:40:00Z", "2027-01-01T00:55:00Z"]
    );
    assert_eq!(runs(&s, "2027-01-01T00:55:00Z", 1), ["2027-01-02T00:10:00Z"]);
}

#[test]
fn hourly_without_last_hour_runs_to_the_end_of_the_day() {
    let s = schedule(json!({
        "frequency": "hourly", "hourlyInterval": 6, "time": {"hour": 5, "minute": 0, "timeZone": "UTC"}
    }));
    assert_eq!(
        runs(&s, "2027-01-01T00:00:00Z", 4),
        ["2027-01-01T05:00:00Z", "2027-01-01T11:00:00Z", "2027-01-01T17:00:00Z", "2027-01-01T23:00:00Z"]
    );
    assert_eq!(runs(&s, "2027-01-01T23:00:00Z", 1), ["2027-01-02T05:00:00Z"]);
}

#[test]
fn hourly_on_some_days_only() {
    let s = schedule(json!({
        "frequency": "hourly", "hourlyInterval": 12, "daysOfWeek": ["saturday"],
        "time": {"hour": 0, "minute": 0, "timeZone": "UTC"}
    }));
    // 2027-01-02 and 2027-01-09 are Saturdays
    assert_eq!(
        runs(&s, "2027-01-01T00:00:00Z", 3),
        ["2027-01-02T00:00:00Z", "2027-01-02T12:00:00Z", "2027-01-09T00:00:00Z"]
    );
}

#[test]
fn daily_runs_the_same_day_when_the_time_is_still_ahead() {
    let s = daily(9, 0, "Asia/Kolkata");
    assert_eq!(runs(&s, "2027-01-01T03:00:00Z", 2), ["2027-01-01T03:30:00Z", "2027-01-02T03:30:00Z"]);
    // a run exactly at `after` is not the next one
    assert_eq!(runs(&s, "2027-01-01T03:30:00Z", 1), ["2027-01-02T03:30:00Z"]);
}

#[test]
fn monthly_last_day_follows_month_lengths_and_leap_years() {
    let s = schedule(
        json!({"frequency": "monthly", "daysOfMonth": [-1], "time": {"hour": 23, "minute": 0, "timeZone": "UTC"}}),
    );
    assert_eq!(
        runs(&s, "2027-12-31T23:00:00Z", 4),
        ["2028-01-31T23:00:00Z", "2028-02-29T23:00:00Z", "2028-03-31T23:00:00Z", "2028-04-30T23:00:00Z"]
    );
    assert_eq!(runs(&s, "2027-02-01T00:00:00Z", 1), ["2027-02-28T23:00:00Z"]);
}

#[test]
fn monthly_on_the_29th_skips_february_except_in_leap_years() {
    let s = schedule(
        json!({"frequency": "monthly", "daysOfMonth": [29], "time": {"hour": 0, "minute": 0, "timeZone": "UTC"}}),
    );
    assert_eq!(runs(&s, "2027-01-30T00:00:00Z", 1), ["2027-03-29T00:00:00Z"]);
    assert_eq!(runs(&s, "2028-01-30T00:00:00Z", 1), ["2028-02-29T00:00:00Z"]);
}

#[test]
fn monthly_relative_last_friday_and_the_docs_days_of_week_form() {
    let s = schedule(json!({
        "frequency": "monthlyrelative", "weekInMonth": "last", "daysOfWeek": ["Friday"],
        "time": {"hour": 12, "minute": 0, "timeZone": "UTC"}
    }));
    // last Fridays: 2027-01-29, 2027-02-26, 2027-04-30
    assert_eq!(
        runs(&s, "2027-01-01T00:00:00Z", 4),
        ["2027-01-29T12:00:00Z", "2027-02-26T12:00:00Z", "2027-03-26T12:00:00Z", "2027-04-30T12:00:00Z"]
    );
    let fourth = schedule(json!({
        "frequency": "monthlyrelative", "weekInMonth": "Fourth", "dayInWeek": "Friday",
        "time": {"hour": 12, "minute": 0, "timeZone": "UTC"}
    }));
    // April 2027 has five Fridays: the fourth is the 23rd, the last the 30th
    assert_eq!(runs(&fourth, "2027-04-01T00:00:00Z", 1), ["2027-04-23T12:00:00Z"]);
}

#[test]
fn none_never_runs_and_an_empty_body_is_none() {
    assert_eq!(schedule(json!({})), Schedule::none());
    assert_eq!(schedule(json!({"frequency": "None"})).next_after(utc("2027-01-01T00:00:00Z")), None);
}

// ---- daylight saving time ----

#[test]
fn los_angeles_spring_forward_runs_at_the_end_of_the_gap() {
    // 2027-03-14 02:00 PST -> 03:00 PDT: 02:30 does not exist
    let s = daily(2, 30, "America/Los_Angeles");
    assert_eq!(
        runs(&s, "2027-03-13T00:00:00Z", 3),
        ["2027-03-13T10:30:00Z", "2027-03-14T10:00:00Z", "2027-03-15T09:30:00Z"]
    );
}

#[test]
fn los_angeles_fall_back_runs_once_at_the_first_occurrence() {
    // 2027-11-07 02:00 PDT -> 01:00 PST: 01:30 happens at 08:30Z and 09:30Z
    let s = daily(1, 30, "America/Los_Angeles");
    assert_eq!(
        runs(&s, "2027-11-06T00:00:00Z", 3),
        ["2027-11-06T08:30:00Z", "2027-11-07T08:30:00Z", "2027-11-08T09:30:00Z"]
    );
    let hourly = schedule(json!({
        "frequency": "hourly", "hourlyInterval": 1, "lastHour": 4,
        "time": {"hour": 0, "minute": 0, "timeZone": "America/Los_Angeles"}
    }));
    // wall-clock hours: 00:00 PDT, 01:00 PDT, 02:00 PST, 03:00 PST (01:00 PST is not run again)
    assert_eq!(
        runs(&hourly, "2027-11-07T06:00:00Z", 4),
        ["2027-11-07T07:00:00Z", "2027-11-07T08:00:00Z", "2027-11-07T10:00:00Z", "2027-11-07T11:00:00Z"]
    );
}

#[test]
fn hourly_runs_inside_a_gap_collapse_into_one() {
    let s = schedule(json!({
        "frequency": "minutely", "minutelyInterval": 15, "lastHour": 4,
        "time": {"hour": 1, "minute": 30, "timeZone": "America/Los_Angeles"}
    }));
    // 01:30 01:45 PST, then 02:00..02:45 do not exist and run once at 03:00 PDT, then 03:15
    assert_eq!(
        runs(&s, "2027-03-14T09:00:00Z", 4),
        ["2027-03-14T09:30:00Z", "2027-03-14T09:45:00Z", "2027-03-14T10:00:00Z", "2027-03-14T10:15:00Z"]
    );
}

#[test]
fn london_spring_forward_and_fall_back() {
    // 2027-03-28 01:00 GMT -> 02:00 BST; 2027-10-31 02:00 BST -> 01:00 GMT
    let s = daily(1, 30, "Europe/London");
    assert_eq!(runs(&s, "2027-03-27T12:00:00Z", 2), ["2027-03-28T01:00:00Z", "2027-03-29T00:30:00Z"]);
    assert_eq!(runs(&s, "2027-10-30T12:00:00Z", 2), ["2027-10-31T00:30:00Z", "2027-11-01T01:30:00Z"]);
}

#[test]
fn sydney_southern_hemisphere() {
    // 2027-04-04 03:00 AEDT -> 02:00 AEST (02:30 twice); 2027-10-03 02:00 AEST -> 03:00 AEDT
    let s = daily(2, 30, "Australia/Sydney");
    assert_eq!(runs(&s, "2027-04-03T12:00:00Z", 2), ["2027-04-03T15:30:00Z", "2027-04-04T16:30:00Z"]);
    assert_eq!(runs(&s, "2027-10-01T12:00:00Z", 2), ["2027-10-01T16:30:00Z", "2027-10-02T16:00:00Z"]);
}

#[test]
fn kolkata_half_hour_offset_has_no_transitions() {
    let s = daily(0, 15, "Asia/Kolkata");
    assert_eq!(runs(&s, "2027-03-14T00:00:00Z", 2), ["2027-03-14T18:45:00Z", "2027-03-15T18:45:00Z"]);
    let z = ZoneInfo::of(chrono_tz::Asia::Kolkata, utc("2027-03-14T00:00:00Z"));
    assert_eq!((z.gmt_offset, z.name.as_str()), (5.5, "India Standard Time"));
}

#[test]
fn st_johns_half_hour_offset_with_transitions() {
    // 2027-03-14 02:00 NST (-3:30) -> 03:00 NDT (-2:30); 2027-11-07 02:00 NDT -> 01:00 NST
    let s = daily(2, 30, "America/St_Johns");
    assert_eq!(runs(&s, "2027-03-13T00:00:00Z", 2), ["2027-03-13T06:00:00Z", "2027-03-14T05:30:00Z"]);
    let s = daily(1, 30, "America/St_Johns");
    assert_eq!(runs(&s, "2027-11-06T12:00:00Z", 2), ["2027-11-07T04:00:00Z", "2027-11-08T05:00:00Z"]);
}

/// The reference: every local run time of every date in the range, resolved by the policy,
/// sorted and deduplicated. Stepping with `next_after` must give exactly these instants.
fn reference(s: &Schedule, from: NaiveDate, to: NaiveDate) -> Vec<DateTime<Utc>> {
    let time = s.time.expect("a timed schedule");
    let mut all: Vec<DateTime<Utc>> = from
        .iter_days()
        .take_while(|d| *d <= to)
        .flat_map(|d| s.times_on(d, time).into_iter().map(move |t| next::resolve(time.zone, d.and_time(t))))
        .collect();
    all.sort();
    all.dedup();
    all
}

#[test]
fn two_years_of_runs_per_zone_have_no_duplicates_and_no_skips() {
    let zones = ["America/Los_Angeles", "Europe/London", "Australia/Sydney", "Asia/Kolkata", "America/St_Johns", "UTC"];
    for zone in zones {
        let bodies = [
            json!({"frequency": "daily", "time": {"hour": 2, "minute": 30, "timeZone": zone}}),
            json!({"frequency": "daily", "time": {"hour": 1, "minute": 30, "timeZone": zone}}),
            json!({"frequency": "hourly", "hourlyInterval": 1, "time": {"hour": 0, "minute": 0, "timeZone": zone}}),
            json!({"frequency": "minutely", "minutelyInterval": 20, "time": {"hour": 0, "minute": 5, "timeZone": zone}}),
            json!({"frequency": "monthly", "daysOfMonth": [-1], "time": {"hour": 2, "minute": 0, "timeZone": zone}}),
            json!({"frequency": "monthlyrelative", "weekInMonth": "first", "dayInWeek": "sunday", "time": {"hour": 2, "minute": 15, "timeZone": zone}}),
        ];
        for body in bodies {
            let s = schedule(body.clone());
            let tz = s.time.expect("timed").zone;
            let (from, to) =
                (NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(), NaiveDate::from_ymd_opt(2028, 12, 31).unwrap());
            let start =
                tz.from_local_datetime(&from.and_hms_opt(0, 0, 0).unwrap()).earliest().unwrap().with_timezone(&Utc);
            let end = tz.from_local_datetime(&to.and_hms_opt(0, 0, 0).unwrap()).earliest().unwrap().with_timezone(&Utc);
            let expected: Vec<_> = reference(&s, from, to).into_iter().filter(|t| *t >= start && *t < end).collect();
            let mut stepped = Vec::new();
            let mut at = start - chrono::Duration::seconds(1);
            while let Some(next) = s.next_after(at) {
                if next >= end {
                    break;
                }
                assert!(next > at, "{body}: {next} does not follow {at}");
                stepped.push(next);
                at = next;
            }
            assert_eq!(stepped.len(), expected.len(), "{body}");
            assert_eq!(stepped, expected, "{body}");
        }
    }
}

// ---- validation ----

#[test]
fn every_wrong_field_is_named() {
    let e = errors(json!({
        "frequency": "hourly", "hourlyInterval": 5, "lastHour": 1, "daysOfWeek": ["Monday", "Funday"],
        "time": {"hour": 24, "minute": 60, "timeZone": "Mars/Olympus"}
    }));
    assert_eq!(
        e,
        [
            "time.hour: must be 0 to 23, got 24",
            "time.minute: must be 0 to 59, got 60",
            "time.timeZone: unknown time zone 'Mars/Olympus': use an IANA zone id such as America/Los_Angeles",
            "hourlyInterval: must be one of [1, 2, 3, 4, 6, 8, 12], got 5",
            "daysOfWeek[1]: must be a day name (Monday..Sunday), got \"Funday\"",
        ]
    );
}

#[test]
fn last_hour_before_the_start_is_refused() {
    let e =
        errors(json!({"frequency": "hourly", "hourlyInterval": 1, "lastHour": 8, "time": {"hour": 9, "minute": 0}}));
    assert_eq!(e, ["lastHour: is 8:00, not after the start time 09:00: nothing would run"]);
}

#[test]
fn month_days_are_checked() {
    let e = errors(json!({"frequency": "monthly", "daysOfMonth": [32], "time": {"hour": 1}}));
    assert_eq!(e, ["daysOfMonth[0]: must be 1 to 31, or -1 for the last day, got 32"]);
    let e = errors(json!({"frequency": "monthly", "daysOfMonth": [-1, 15], "time": {"hour": 1}}));
    assert_eq!(e, ["daysOfMonth: -1 (the last day) cannot be combined with other days"]);
}

#[test]
fn fields_the_frequency_does_not_use_are_refused() {
    let e = errors(json!({"frequency": "weekly", "daysOfWeek": ["monday"], "hourInterval": 2, "time": {"hour": 1}}));
    assert_eq!(e, ["hourInterval: is not a field of a weekly schedule"]);
    let e = errors(json!({"frequency": "daily", "time": {"hour": 1, "second": 3}}));
    assert_eq!(e, ["time.second: is not a field of time (hour, minute, timeZone)"]);
}

#[test]
fn unknown_frequency_missing_time_and_bad_rules() {
    assert_eq!(
        errors(json!({"frequency": "yearly"})),
        [
            "frequency: unknown frequency 'yearly': one of none, minutely, hourly, daily, weekly, monthly, monthlyrelative, eventdriven"
        ]
    );
    assert_eq!(errors(json!({"frequency": "weekly", "daysOfWeek": ["monday"]}))[0].split(':').next(), Some("time"));
    assert_eq!(
        errors(json!({"frequency": "eventdriven", "triggerRule": "$ALL_SALESFORCE_OBJECTS OR recipe:05v000000000001"})),
        ["triggerRule: expected AND between terms, found 'OR'"]
    );
    assert_eq!(
        errors(
            json!({"frequency": "eventdriven", "triggerRule": "$ALL_SALESFORCE_OBJECTS AND recipe:02K000000000001"})
        ),
        ["triggerRule: 'recipe:02K000000000001': a recipe id starts with 05v"]
    );
    assert_eq!(errors(json!({"frequency": "minutely", "minutelyInterval": 7, "time": {"hour": 0}})).len(), 1);
}

#[test]
fn enums_are_matched_in_any_case_and_written_lowercase() {
    let s = schedule(json!({
        "frequency": "MonthlyRelative", "weekInMonth": "LAST", "dayInWeek": "FRIDAY", "notificationLevel": "Warnings",
        "time": {"hour": 3, "minute": 5, "timeZone": "america/los_angeles"}
    }));
    let out = s.to_json(utc("2027-01-01T00:00:00Z"));
    assert_eq!(
        out,
        json!({
            "frequency": "monthlyrelative", "notificationLevel": "warnings",
            "time": {"hour": 3, "minute": 5, "timeZone": {"gmtOffset": -8.0, "name": "Pacific Standard Time", "zoneId": "America/Los_Angeles"}},
            "weekInMonth": "last", "dayInWeek": "friday"
        })
    );
}

#[test]
fn the_output_form_reads_back_unchanged() {
    let bodies = [
        json!({"frequency": "hourly", "hourlyInterval": 3, "lastHour": 20, "daysOfWeek": ["Monday"], "time": {"hour": 2, "minute": 30, "timezone": "Europe/Paris"}}),
        json!({"frequency": "minutely", "minutelyInterval": 30, "time": {"hour": 0, "minute": 0, "timeZone": "UTC"}}),
        json!({"frequency": "monthly", "daysOfMonth": [1, 15], "time": {"hour": 2, "minute": 0, "timeZone": "Asia/Tokyo"}}),
        json!({"frequency": "monthlyrelative", "weekInMonth": "second", "daysOfWeek": ["monday", "friday"], "time": {"hour": 2, "timeZone": "UTC"}}),
        json!({"frequency": "eventdriven", "triggerRule": "$all_salesforce_objects and dataflow:02K000000000001"}),
        json!({"frequency": "none"}),
    ];
    for body in bodies {
        let s = schedule(body);
        let mut out = s.to_json(utc("2027-06-01T00:00:00Z"));
        out["assetId"] = json!("02K000000000001AAA");
        out["nextScheduledDate"] = json!("2027-06-01T00:00:00.000Z");
        assert_eq!(schedule(out), s);
    }
}

/// Schedule inputs that once crashed the fuzz target (`fuzz/regressions/schedule/`): each is
/// a schedule or a list of problems, and its next ticks are computed.
#[test]
fn fuzz_regressions_are_answered() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/schedule");
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let bytes = std::fs::read(entry.path()).unwrap();
        if let Ok(input) = serde_json::from_slice::<serde_json::Value>(&bytes)
            && let Ok(schedule) = Schedule::from_input(&input)
        {
            let _ = schedule.next_after(utc("2026-01-01T00:00:00Z"));
        }
    }
}

/// The `scheduleType` a dataflow's scheduleAttributes show can be sent back; a wrong one is
/// an error naming it.
#[test]
fn schedule_type_read_back_is_accepted_when_it_agrees() {
    let daily = serde_json::json!({"frequency": "daily", "scheduleType": "timedriven",
        "time": {"hour": 6, "minute": 0, "timeZone": "UTC"}});
    assert!(Schedule::from_input(&daily).is_ok());
    let wrong = serde_json::json!({"frequency": "daily", "scheduleType": "eventdriven",
        "time": {"hour": 6, "minute": 0, "timeZone": "UTC"}});
    let errors = Schedule::from_input(&wrong).unwrap_err();
    assert!(errors.iter().any(|e| e.to_string().contains("scheduleType")), "{errors:?}");
    let event = serde_json::json!({"frequency": "eventdriven", "scheduleType": "EventDriven"});
    assert!(Schedule::from_input(&event).is_ok());
}
