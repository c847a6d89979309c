//! When a schedule runs next: one pure function of the schedule and an instant.
//!
//! A schedule names wall-clock times in its zone. Each local date has a list of run times
//! (the start time; for hourly and minutely schedules every interval after it, counted in
//! wall-clock time, while before `lastHour`:00 or, without it, until 23:59), and each local
//! time becomes an instant by this policy:
//!
//! - **A local time that does not exist** (the hour skipped when clocks spring forward) runs
//!   at the first instant after the gap: 02:30 on a spring-forward day in Los Angeles runs at
//!   03:00 PDT. Several run times inside one gap run once.
//! - **A local time that happens twice** (clocks fall back) runs once, at its first occurrence
//!   (01:30 PDT, not 01:30 PST).
//! - `lastHour` is exclusive: the seed's `lastHour: 20` "stops queuing at 8:00pm", so an hourly
//!   schedule from 02:30 every 3 hours runs at 02:30, 05:30, ..., 17:30.
//! - A monthly day that a month lacks (31, 30, 29 in February) is skipped in that month; `-1`
//!   is the last day of every month.
//!
//! [`Schedule::next_after`] returns the first run strictly after the given instant, so
//! stepping from one run to the next never repeats a run and never skips one that the policy
//! keeps.

use super::{Days, Frequency, MonthDays, Schedule, TimeOfDay, WeekInMonth};
use chrono::offset::LocalResult;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// No schedule waits longer than this between runs (monthly on the 31st: two months).
const HORIZON_DAYS: usize = 400;

impl Schedule {
    /// The first run strictly after `after`, or `None` when the schedule never runs by time
    /// (`none`, `eventdriven`).
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let time = self.time?;
        if !self.frequency.is_timed() {
            return None;
        }
        // a run time of the previous local date may fall after `after` across a gap
        let first = after.with_timezone(&time.zone).date_naive().pred_opt()?;
        first.iter_days().take(HORIZON_DAYS).find_map(|date| {
            self.times_on(date, time).into_iter().map(|t| resolve(time.zone, date.and_time(t))).find(|at| *at > after)
        })
    }

    /// The local run times of one date, in order.
    pub fn times_on(&self, date: NaiveDate, time: TimeOfDay) -> Vec<NaiveTime> {
        let start = time.hour * 60 + time.minute;
        let every = |step: u32, days: &Days, last_hour: &Option<u32>| -> Vec<NaiveTime> {
            if !days.contains(date.weekday()) {
                return Vec::new();
            }
            let end = last_hour.map_or(24 * 60, |h| h * 60);
            (start..end).step_by(step as usize).filter_map(|m| NaiveTime::from_hms_opt(m / 60, m % 60, 0)).collect()
        };
        let at_start = || vec![NaiveTime::from_hms_opt(time.hour, time.minute, 0).unwrap_or_default()];
        match &self.frequency {
            Frequency::None | Frequency::EventDriven { .. } => Vec::new(),
            Frequency::Minutely { interval, days, last_hour } => every(*interval, days, last_hour),
            Frequency::Hourly { interval, days, last_hour } => every(interval * 60, days, last_hour),
            Frequency::Daily => at_start(),
            Frequency::Weekly { days } if days.contains(date.weekday()) => at_start(),
            Frequency::Monthly { days: MonthDays::Last } if is_last_day(date) => at_start(),
            Frequency::Monthly { days: MonthDays::Days(bits) } if bits & (1 << date.day()) != 0 => at_start(),
            Frequency::MonthlyRelative { week, days } if days.contains(date.weekday()) && in_week(date, *week) => {
                at_start()
            }
            _ => Vec::new(),
        }
    }
}

fn is_last_day(date: NaiveDate) -> bool {
    date.succ_opt().is_none_or(|next| next.month() != date.month())
}

/// Whether `date` is the first..fourth or the last of its weekday in its month.
fn in_week(date: NaiveDate, week: WeekInMonth) -> bool {
    let nth = (date.day() - 1) / 7; // 0 for days 1..7
    match week {
        WeekInMonth::First => nth == 0,
        WeekInMonth::Second => nth == 1,
        WeekInMonth::Third => nth == 2,
        WeekInMonth::Fourth => nth == 3,
        WeekInMonth::Last => (date + Duration::days(7)).month() != date.month(),
    }
}

/// The instant of a local time under the policy above.
pub fn resolve(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, second) => first.min(second).with_timezone(&Utc),
        LocalResult::None => {
            // inside a gap: the first local minute after it is the instant the gap ends
            // (transitions are on whole minutes; no gap is longer than a day)
            let mut t = local;
            for _ in 0..24 * 60 {
                t += Duration::minutes(1);
                if let Some(at) = zone.from_local_datetime(&t).earliest() {
                    return at.with_timezone(&Utc);
                }
            }
            local.and_utc()
        }
    }
}
