//! Kernels of the date functions, and the date arithmetic the recipe's relative dates share.

use super::{dates, numbers, opt_date, opt_num, opt_str, strings, user_err};
use crate::dateformat::{DateFormat, from_millis, to_millis};
use crate::schema::DatePart;
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike};
use datafusion::arrow::array::{Array, ArrayRef, Float64Builder, StringBuilder, TimestampMillisecondBuilder};
use datafusion::common::{DataFusionError, Result as DFResult};
use std::hash::Hasher;
use std::sync::Arc;

/// `toDate(string, format)`; a value that does not match the format fails the run, as it does
/// in CRM Analytics.
pub(super) fn to_date(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
    let s = strings(&args[0])?;
    let f = strings(&args[1])?;
    let mut b = TimestampMillisecondBuilder::with_capacity(rows);
    let mut cached: Option<(String, DateFormat)> = None;
    for i in 0..rows {
        let (Some(text), Some(fmt)) = (opt_str(&s, i), opt_str(&f, i)) else {
            b.append_null();
            continue;
        };
        if cached.as_ref().is_none_or(|(p, _)| p != fmt) {
            let parsed = DateFormat::parse(fmt).map_err(user_err)?;
            cached = Some((fmt.to_string(), parsed));
        }
        let (_, format) = cached.as_ref().expect("set above");
        match format.parse_datetime(text) {
            Some(dt) => b.append_value(to_millis(&dt)),
            None => return Err(user_err(format!("toDate: '{text}' does not match the format '{fmt}'"))),
        }
    }
    Ok(Arc::new(b.finish()))
}

/// `(text, format, format, ...)`: the date of the first format the text matches, else null
/// (the recipe formatDate node, whose unreadable values are null rather than a failed run).
pub(super) fn parse_date_any(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
    let s = strings(&args[0])?;
    let mut formats = Vec::new();
    for a in &args[1..] {
        let f = strings(a)?;
        if let Some(p) = opt_str(&f, 0) {
            formats.push(DateFormat::parse(p).map_err(user_err)?);
        }
    }
    let mut b = TimestampMillisecondBuilder::with_capacity(rows);
    for i in 0..rows {
        match opt_str(&s, i).and_then(|text| formats.iter().find_map(|f| f.parse_datetime(text))) {
            Some(dt) => b.append_value(to_millis(&dt)),
            None => b.append_null(),
        }
    }
    Ok(Arc::new(b.finish()))
}

/// `toString(date, format)`.
pub(super) fn format_date(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
    let d = dates(&args[0])?;
    let f = strings(&args[1])?;
    let mut b = StringBuilder::with_capacity(rows, rows * 20);
    let mut cached: Option<(String, DateFormat)> = None;
    for i in 0..rows {
        let (Some(dt), Some(fmt)) = (opt_date(&d, i), opt_str(&f, i)) else {
            b.append_null();
            continue;
        };
        if cached.as_ref().is_none_or(|(p, _)| p != fmt) {
            cached = Some((fmt.to_string(), DateFormat::parse(fmt).map_err(user_err)?));
        }
        b.append_value(cached.as_ref().expect("set above").1.format(&dt));
    }
    Ok(Arc::new(b.finish()))
}

/// `daysBetween(d1, d2)`: calendar days from d1 to d2 (UTC), positive when d2 is later.
pub(super) fn days_between(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
    let a = dates(&args[0])?;
    let c = dates(&args[1])?;
    let mut b = Float64Builder::with_capacity(rows);
    for i in 0..rows {
        match (opt_date(&a, i), opt_date(&c, i)) {
            (Some(x), Some(y)) => b.append_value((y.date() - x.date()).num_days() as f64),
            _ => b.append_null(),
        }
    }
    Ok(Arc::new(b.finish()))
}

/// `date_diff(part, start, end)`: the number of `part` boundaries crossed from start to end.
pub(super) fn date_diff(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
    let part = strings(&args[0])?;
    let a = dates(&args[1])?;
    let c = dates(&args[2])?;
    let mut b = Float64Builder::with_capacity(rows);
    for i in 0..rows {
        let (Some(p), Some(x), Some(y)) = (opt_str(&part, i), opt_date(&a, i), opt_date(&c, i)) else {
            b.append_null();
            continue;
        };
        let months = |d: &NaiveDateTime| d.year() as i64 * 12 + d.month0() as i64;
        let v = match p.to_ascii_lowercase().as_str() {
            "year" => (y.year() - x.year()) as i64,
            "quarter" => (months(&y) / 3) - (months(&x) / 3),
            "month" => months(&y) - months(&x),
            "week" => {
                let start = |d: &NaiveDateTime| {
                    let date = d.date();
                    date - Duration::days(date.weekday().num_days_from_sunday() as i64)
                };
                (start(&y) - start(&x)).num_days() / 7
            }
            "day" => (y.date() - x.date()).num_days(),
            "hour" => trunc_div(to_millis(&y), 3_600_000) - trunc_div(to_millis(&x), 3_600_000),
            "minute" => trunc_div(to_millis(&y), 60_000) - trunc_div(to_millis(&x), 60_000),
            "second" => trunc_div(to_millis(&y), 1000) - trunc_div(to_millis(&x), 1000),
            other => return Err(user_err(format!("date_diff: unknown date part '{other}'"))),
        };
        b.append_value(v as f64);
    }
    Ok(Arc::new(b.finish()))
}

fn trunc_div(a: i64, b: i64) -> i64 {
    a.div_euclid(b)
}

/// `date(year, month, day)`.
pub(super) fn make_date(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
    let y = numbers(&args[0])?;
    let m = numbers(&args[1])?;
    let d = numbers(&args[2])?;
    let mut b = TimestampMillisecondBuilder::with_capacity(rows);
    for i in 0..rows {
        match (opt_num(&y, i), opt_num(&m, i), opt_num(&d, i)) {
            (Some(y), Some(m), Some(d)) => match NaiveDate::from_ymd_opt(y as i32, m as u32, d as u32) {
                Some(date) => b.append_value(to_millis(&date.and_hms_opt(0, 0, 0).expect("midnight"))),
                None => return Err(user_err(format!("date: {y}-{m}-{d} is not a valid date"))),
            },
            _ => b.append_null(),
        }
    }
    Ok(Arc::new(b.finish()))
}

/// The Sunday a week starts on (the engine's weeks start on Sunday).
pub(crate) fn week_start(d: NaiveDate) -> NaiveDate {
    d - Duration::days(d.weekday().num_days_from_sunday() as i64)
}

/// `d` moved by `n` months, either way; a day the target month lacks becomes its last day.
pub(crate) fn add_months_signed(d: NaiveDate, n: i64) -> Option<NaiveDate> {
    let months = chrono::Months::new(u32::try_from(n.unsigned_abs()).ok()?);
    if n >= 0 { d.checked_add_months(months) } else { d.checked_sub_months(months) }
}

pub(crate) fn quarter_start(d: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year(), (d.month0() / 3) * 3 + 1, 1).expect("valid")
}

pub(crate) fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).expect("valid")
}

fn add_months(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_add_months(chrono::Months::new(n)).unwrap_or(d)
}

/// `day_in_week`, `day_in_month`, `day_in_quarter`, `day_in_year`, `days_in_month`, ...
pub(super) fn date_number(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
    let name = strings(&args[0])?;
    let d = dates(&args[1])?;
    let mut b = Float64Builder::with_capacity(rows);
    for i in 0..rows {
        let (Some(n), Some(dt)) = (opt_str(&name, i), opt_date(&d, i)) else {
            b.append_null();
            continue;
        };
        let date = dt.date();
        let v = match n {
            "day_in_week" => date.weekday().num_days_from_sunday() as i64 + 1,
            "day_in_month" => date.day() as i64,
            "day_in_quarter" => (date - quarter_start(date)).num_days() + 1,
            "day_in_year" => date.ordinal() as i64,
            "days_in_month" => (add_months(month_start(date), 1) - month_start(date)).num_days(),
            "days_in_quarter" => (add_months(quarter_start(date), 3) - quarter_start(date)).num_days(),
            "days_in_year" => {
                if NaiveDate::from_ymd_opt(date.year(), 2, 29).is_some() {
                    366
                } else {
                    365
                }
            }
            other => return Err(user_err(format!("unknown date function {other}"))),
        };
        b.append_value(v as f64);
    }
    Ok(Arc::new(b.finish()))
}

/// A date and a number to a date at midnight (Spark's date arithmetic gives dates).
fn shift_dates(
    args: &[ArrayRef],
    rows: usize,
    shift: impl Fn(NaiveDate, f64) -> Option<NaiveDate>,
) -> DFResult<ArrayRef> {
    let d = dates(&args[0])?;
    let n = numbers(&args[1])?;
    let mut b = TimestampMillisecondBuilder::with_capacity(rows);
    for i in 0..rows {
        let day = match (opt_date(&d, i), opt_num(&n, i)) {
            (Some(dt), Some(n)) => shift(dt.date(), n),
            _ => None,
        };
        b.append_option(day.map(|d| to_millis(&d.and_hms_opt(0, 0, 0).expect("midnight"))));
    }
    Ok(Arc::new(b.finish()))
}

/// `add_days(date, n)` (the recipe `date_add` / `date_sub`): `n` whole days on.
pub(super) fn add_days(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
    shift_dates(args, rows, |d, n| Duration::try_days(n as i64).and_then(|delta| d.checked_add_signed(delta)))
}

/// `add_months(date, n)`: the same day `n` months on, or that month's last day when it is
/// shorter (2024-01-31 + 1 month = 2024-02-29).
pub(super) fn add_months_fn(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
    shift_dates(args, rows, |d, n| add_months_signed(d, n as i64))
}

/// `months_between(end, start)`, as Spark counts it: whole months when both days are the same
/// day of the month or both are month ends; otherwise whole months plus the difference of the
/// positions within the month over a 31-day month, rounded to 8 decimals.
pub(super) fn months_between(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
    let a = dates(&args[0])?;
    let b_ = dates(&args[1])?;
    let mut b = Float64Builder::with_capacity(rows);
    let is_month_end = |d: NaiveDate| d.succ_opt().is_none_or(|next| next.month() != d.month());
    for i in 0..rows {
        let (Some(x), Some(y)) = (opt_date(&a, i), opt_date(&b_, i)) else {
            b.append_null();
            continue;
        };
        let months = ((x.year() - y.year()) * 12 + x.month() as i32 - y.month() as i32) as f64;
        let (dx, dy) = (x.date(), y.date());
        if dx.day() == dy.day() || (is_month_end(dx) && is_month_end(dy)) {
            b.append_value(months);
            continue;
        }
        let within = |t: NaiveDateTime| (t.day() as f64 - 1.0) * 86_400.0 + t.num_seconds_from_midnight() as f64;
        let v = months + (within(x) - within(y)) / (31.0 * 86_400.0);
        b.append_value((v * 1e8).round() / 1e8);
    }
    Ok(Arc::new(b.finish()))
}

/// `week_first_day`, `month_first_day`, ..., `year_last_day`.
pub(super) fn date_shift(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
    let name = strings(&args[0])?;
    let d = dates(&args[1])?;
    let mut b = TimestampMillisecondBuilder::with_capacity(rows);
    for i in 0..rows {
        let (Some(n), Some(dt)) = (opt_str(&name, i), opt_date(&d, i)) else {
            b.append_null();
            continue;
        };
        let date = dt.date();
        let week_start = week_start(date);
        let year_start = NaiveDate::from_ymd_opt(date.year(), 1, 1).expect("valid");
        let out = match n {
            "week_first_day" => week_start,
            "week_last_day" => week_start + Duration::days(6),
            "month_first_day" => month_start(date),
            "month_last_day" => add_months(month_start(date), 1) - Duration::days(1),
            "quarter_first_day" => quarter_start(date),
            "quarter_last_day" => add_months(quarter_start(date), 3) - Duration::days(1),
            "year_first_day" => year_start,
            "year_last_day" => add_months(year_start, 12) - Duration::days(1),
            other => return Err(user_err(format!("unknown date function {other}"))),
        };
        b.append_value(to_millis(&out.and_hms_opt(0, 0, 0).expect("midnight")));
    }
    Ok(Arc::new(b.finish()))
}

/// The generated date columns (`X_Year`, `X_Week_Fiscal`, ...): arguments are the date, the
/// part's suffix, the fiscal month offset, year-end fiscal year (0/1) and the first day of week.
pub(super) fn date_part(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
    let d = dates(&args[0])?;
    let part = strings(&args[1])?;
    let offset = numbers(&args[2])?;
    let year_end = numbers(&args[3])?;
    let fdow = numbers(&args[4])?;
    let part = DatePart::from_suffix(opt_str(&part, 0).unwrap_or_default())
        .ok_or_else(|| DataFusionError::Internal("bad date part".into()))?;
    let offset = opt_num(&offset, 0).unwrap_or(0.0) as u32;
    let year_end = opt_num(&year_end, 0).unwrap_or(1.0) != 0.0;
    let fdow = opt_num(&fdow, 0).unwrap_or(0.0) as u32;
    let mut b = StringBuilder::with_capacity(rows, rows * 4);
    const DAY_MS: i64 = 86_400_000;
    // Hours to seconds depend on the time of day only: plain arithmetic, no calendar.
    let time_of_day = match part {
        DatePart::Second => Some((1_000, 60)),
        DatePart::Minute => Some((60_000, 60)),
        DatePart::Hour => Some((3_600_000, 24)),
        _ => None,
    };
    if let Some((unit, modulus)) = time_of_day {
        for i in 0..rows {
            if d.is_null(i) {
                b.append_null();
            } else {
                let n = (d.value(i).rem_euclid(DAY_MS) / unit % modulus) as usize;
                b.append_value(&TWO_DIGITS[2 * n..2 * n + 2]);
            }
        }
        return Ok(Arc::new(b.finish()));
    }
    // The other parts depend on the day only, and days repeat heavily (a few thousand across
    // millions of rows, spread over every batch): each day's text is rendered once per thread
    // and part and kept across batches; a run of equal days reuses the last text.
    let params = (part as u64) << 48 | u64::from(offset) << 16 | u64::from(year_end) << 8 | u64::from(fdow);
    DAY_TEXTS.with(|memo| {
        let mut memo = memo.borrow_mut();
        if memo.len() > 64 {
            memo.clear();
        }
        let texts = memo.entry(params).or_default();
        if texts.len() > 1 << 20 {
            texts.clear();
        }
        let mut last: Option<i64> = None;
        let mut last_text = String::new();
        for i in 0..rows {
            if d.is_null(i) {
                b.append_null();
                continue;
            }
            let day = d.value(i).div_euclid(DAY_MS);
            if last != Some(day) {
                let text = texts.entry(day).or_insert_with(|| {
                    from_millis(day * DAY_MS)
                        .map(|dt| render_part(&dt, part, offset, year_end, fdow))
                        .unwrap_or_default()
                        .into_boxed_str()
                });
                last_text.clear();
                last_text.push_str(text);
                last = Some(day);
            }
            b.append_value(last_text.as_str());
        }
    });
    Ok(Arc::new(b.finish()))
}

/// "00" to "99", two bytes each.
const TWO_DIGITS: &str = "0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849\
    5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

type DayTexts = std::collections::HashMap<i64, Box<str>, std::hash::BuildHasherDefault<KeyHasher>>;

thread_local! {
    /// Rendered day parts by (part, fiscal offset, year end, first day of week), then by day
    /// number: bounded (cleared past 64 calendars or a million days).
    static DAY_TEXTS: std::cell::RefCell<std::collections::HashMap<u64, DayTexts>> = Default::default();
}

/// A hasher for integer keys: one multiply (Fx-style) instead of SipHash, which costs more
/// than the rest of a date part's work per row. Keys are dates, not attacker-chosen.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
    fn write_i64(&mut self, i: i64) {
        self.0 = (self.0.rotate_left(5) ^ i as u64).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

/// Week number of `date` in the period starting at `start`, weeks beginning on `fdow`
/// (0 = Sunday): week 1 holds the period's first day.
fn week_of(date: NaiveDate, start: NaiveDate, fdow: u32) -> i64 {
    let shift = (start.weekday().num_days_from_sunday() + 7 - fdow) % 7;
    ((date - start).num_days() + shift as i64) / 7 + 1
}

fn render_part(dt: &NaiveDateTime, part: DatePart, offset: u32, year_end: bool, fdow: u32) -> String {
    let date = dt.date();
    // fiscal year starts on month offset+1
    let fiscal_month0 = (date.month0() + 12 - offset) % 12;
    let fy_start_year = if date.month0() >= offset { date.year() } else { date.year() - 1 };
    let fiscal_year = if offset == 0 || !year_end { fy_start_year } else { fy_start_year + 1 };
    match part {
        DatePart::Second => format!("{:02}", dt.second()),
        DatePart::Minute => format!("{:02}", dt.minute()),
        DatePart::Hour => format!("{:02}", dt.hour()),
        DatePart::Day => format!("{:02}", date.day()),
        DatePart::Week => {
            let start = NaiveDate::from_ymd_opt(date.year(), 1, 1).expect("valid");
            format!("{:02}", week_of(date, start, fdow))
        }
        DatePart::Month => format!("{:02}", date.month()),
        DatePart::Quarter => format!("{}", date.month0() / 3 + 1),
        DatePart::Year => format!("{}", date.year()),
        DatePart::MonthFiscal => format!("{:02}", fiscal_month0 + 1),
        DatePart::QuarterFiscal => format!("{}", fiscal_month0 / 3 + 1),
        DatePart::YearFiscal => format!("{fiscal_year}"),
        DatePart::WeekFiscal => {
            let start = NaiveDate::from_ymd_opt(fy_start_year, offset + 1, 1).expect("valid");
            format!("{:02}", week_of(date, start, fdow))
        }
        DatePart::SecEpoch | DatePart::DayEpoch => unreachable!("epochs are numeric"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_parts_of_date_times_before_and_after_1970() {
        use datafusion::arrow::array::{AsArray, Float64Array, StringArray, TimestampMillisecondArray};
        // 2024-02-29T13:45:30Z, 1969-12-31T23:59:59Z, null, the first again (a run), midnight
        let ms = TimestampMillisecondArray::from(vec![
            Some(1_709_214_330_000),
            Some(-1_000),
            None,
            Some(1_709_214_330_000),
            Some(1_709_164_800_000),
        ]);
        let part = |p: &str| -> Vec<Option<String>> {
            let args: Vec<ArrayRef> = vec![
                Arc::new(ms.clone()),
                Arc::new(StringArray::from(vec![p; 5])),
                Arc::new(Float64Array::from(vec![0.0; 5])),
                Arc::new(Float64Array::from(vec![1.0; 5])),
                Arc::new(Float64Array::from(vec![0.0; 5])),
            ];
            let out = date_part(&args, 5).unwrap();
            out.as_string::<i32>().iter().map(|v| v.map(str::to_string)).collect()
        };
        let some = |v: &[&str]| -> Vec<Option<String>> {
            let mut out: Vec<Option<String>> = v.iter().map(|s| Some(s.to_string())).collect();
            out.insert(2, None);
            out
        };
        assert_eq!(part("Hour"), some(&["13", "23", "13", "00"]));
        assert_eq!(part("Minute"), some(&["45", "59", "45", "00"]));
        assert_eq!(part("Second"), some(&["30", "59", "30", "00"]));
        assert_eq!(part("Day"), some(&["29", "31", "29", "29"]));
        assert_eq!(part("Month"), some(&["02", "12", "02", "02"]));
        assert_eq!(part("Year"), some(&["2024", "1969", "2024", "2024"]));
    }

    #[test]
    fn date_parts() {
        let dt = NaiveDate::from_ymd_opt(2021, 3, 4).unwrap().and_hms_opt(13, 5, 9).unwrap();
        assert_eq!(render_part(&dt, DatePart::Year, 0, true, 0), "2021");
        assert_eq!(render_part(&dt, DatePart::Quarter, 0, true, 0), "1");
        assert_eq!(render_part(&dt, DatePart::Month, 0, true, 0), "03");
        assert_eq!(render_part(&dt, DatePart::Hour, 0, true, 0), "13");
        // 2021-01-01 is a Friday; Jan 3 (Sunday) starts week 2 with Sunday weeks
        let jan3 = NaiveDate::from_ymd_opt(2021, 1, 3).unwrap().and_hms_opt(0, 0, 0).unwrap();
        assert_eq!(render_part(&jan3, DatePart::Week, 0, true, 0), "02");
        // fiscal year starting in July (offset 6), named by its ending year
        assert_eq!(render_part(&dt, DatePart::YearFiscal, 6, true, 0), "2021");
        assert_eq!(render_part(&dt, DatePart::MonthFiscal, 6, true, 0), "09");
        assert_eq!(render_part(&dt, DatePart::QuarterFiscal, 6, true, 0), "3");
        let aug = NaiveDate::from_ymd_opt(2021, 8, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        assert_eq!(render_part(&aug, DatePart::YearFiscal, 6, true, 0), "2022");
        assert_eq!(render_part(&aug, DatePart::YearFiscal, 6, false, 0), "2021");
    }
}
