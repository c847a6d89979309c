//! Relative dates of SAQL filters: the strings of `in [...]` lists on dates, as in
//! `date('CloseDate_Year', 'CloseDate_Month', 'CloseDate_Day') in ["1 year ago".."current year"]`.
//!
//! A relative date names a whole period counted from the run's clock: `current day`, `N days
//! ago`, `N months ahead`, with the units day, week, month, quarter, year, fiscal_quarter and
//! fiscal_year (singular or plural, any case), optionally shifted by more periods, as in
//! `"1 day ago - 1 year"` or `"current day - 2 years"` (79 such strings in 14 public
//! definitions). A range runs from the start of its first bound's period to the end of its
//! last's; a single value in the list matches its whole period; an open end
//! (`[.."current day"]`) is unbounded. Weeks start on Sunday, as the engine's other weeks.
//!
//! INFERRED: fiscal periods count from January, since an expression names no fiscal calendar
//! (the field's own offset is not known inside SAQL).

use super::functions::{add_months_signed, month_start, quarter_start, week_start};
use chrono::{Datelike, Duration, NaiveDate};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl Unit {
    fn parse(word: &str) -> Option<Unit> {
        let w = word.to_ascii_lowercase();
        let w = w.strip_suffix('s').unwrap_or(&w);
        Some(match w {
            "day" => Unit::Day,
            "week" => Unit::Week,
            "month" => Unit::Month,
            "quarter" | "fiscal_quarter" => Unit::Quarter,
            "year" | "fiscal_year" => Unit::Year,
            _ => return None,
        })
    }

    fn start(self, day: NaiveDate) -> Option<NaiveDate> {
        Some(match self {
            Unit::Day => day,
            Unit::Week => week_start(day),
            Unit::Month => month_start(day),
            Unit::Quarter => quarter_start(day),
            Unit::Year => NaiveDate::from_ymd_opt(day.year(), 1, 1)?,
        })
    }

    /// `day` moved by `n` of this unit.
    fn shift(self, day: NaiveDate, n: i64) -> Option<NaiveDate> {
        match self {
            Unit::Day => day.checked_add_signed(Duration::try_days(n)?),
            Unit::Week => day.checked_add_signed(Duration::try_weeks(n)?),
            Unit::Month => add_months_signed(day, n),
            Unit::Quarter => add_months_signed(day, n.checked_mul(3)?),
            Unit::Year => add_months_signed(day, n.checked_mul(12)?),
        }
    }
}

/// A period named relative to today.
#[derive(Debug, Clone, PartialEq)]
pub struct RelativeDate {
    unit: Unit,
    /// Periods from the current one (negative: ago).
    offset: i64,
    /// A further shift: `- 1 year`.
    shifts: Vec<(i64, Unit)>,
}

impl RelativeDate {
    /// Reads a relative date string; `None` when `text` is not one (it may be an absolute date).
    pub fn parse(text: &str) -> Option<RelativeDate> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let (unit, offset, rest) = match words.as_slice() {
            [c, u, rest @ ..] if c.eq_ignore_ascii_case("current") => (Unit::parse(u)?, 0, rest),
            [n, u, dir, rest @ ..] => {
                let n: i64 = n.parse().ok()?;
                let sign = match dir.to_ascii_lowercase().as_str() {
                    "ago" => -1,
                    "ahead" => 1,
                    _ => return None,
                };
                (Unit::parse(u)?, n.checked_mul(sign)?, rest)
            }
            _ => return None,
        };
        let mut shifts = Vec::new();
        let mut rest = rest;
        while let [op, n, u, more @ ..] = rest {
            let sign = match *op {
                "-" => -1,
                "+" => 1,
                _ => return None,
            };
            shifts.push((n.parse::<i64>().ok()?.checked_mul(sign)?, Unit::parse(u)?));
            rest = more;
        }
        rest.is_empty().then_some(RelativeDate { unit, offset, shifts })
    }

    /// The period's first day and the first day after it.
    pub fn period(&self, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        let mut start = self.unit.shift(self.unit.start(today)?, self.offset)?;
        let mut end = self.unit.shift(start, 1)?;
        for (n, unit) in &self.shifts {
            start = unit.shift(start, *n)?;
            end = unit.shift(end, *n)?;
        }
        Some((start, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn period(text: &str) -> (NaiveDate, NaiveDate) {
        // a Wednesday
        RelativeDate::parse(text).unwrap_or_else(|| panic!("{text}")).period(day("2024-05-15")).unwrap()
    }

    #[test]
    fn names_whole_periods_from_today() {
        assert_eq!(period("current day"), (day("2024-05-15"), day("2024-05-16")));
        assert_eq!(period("Current Year"), (day("2024-01-01"), day("2025-01-01")));
        assert_eq!(period("1 day ago"), (day("2024-05-14"), day("2024-05-15")));
        assert_eq!(period("180 days ago").0, day("2023-11-17"));
        assert_eq!(period("2 weeks ago"), (day("2024-04-28"), day("2024-05-05")), "weeks start on Sunday");
        assert_eq!(period("1 month ahead"), (day("2024-06-01"), day("2024-07-01")));
        assert_eq!(period("3 year ago"), (day("2021-01-01"), day("2022-01-01")));
        assert_eq!(period("1 quarter ago"), (day("2024-01-01"), day("2024-04-01")));
        assert_eq!(period("current fiscal_year"), (day("2024-01-01"), day("2025-01-01")));
        assert_eq!(period("2 fiscal_years ago").0, day("2022-01-01"));
        assert_eq!(period("1 day ago - 1 year"), (day("2023-05-14"), day("2023-05-15")));
        assert_eq!(period("current day - 2 years"), (day("2022-05-15"), day("2022-05-16")));
    }

    #[test]
    fn other_strings_are_not_relative_dates() {
        for text in ["2024-01-01", "current", "one day ago", "1 day before", "1 fortnight ago", "current day -", ""] {
            assert_eq!(RelativeDate::parse(text), None, "{text}");
        }
        assert_eq!(
            RelativeDate::parse("9223372036854775807 years ago").and_then(|r| r.period(day("2024-01-01"))),
            None
        );
    }
}
