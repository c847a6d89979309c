//! Scalar functions whose SAQL semantics differ from DataFusion's built-ins (1-based `substr`
//! with negative positions, strict `toDate` formats, `number_to_string` patterns, boundary
//! counting `date_diff`, ...). Each is a small Rust function over Arrow arrays wrapped in one
//! generic [`ScalarUDFImpl`], so adding a function is one entry in [`udf`].
//!
//! Dates are `Timestamp(Millisecond)` arrays in UTC.

use crate::dateformat::{DateFormat, from_millis, to_millis};
use crate::schema::DatePart;
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Float64Builder, StringArray, StringBuilder, TimestampMillisecondArray,
    TimestampMillisecondBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, TimeUnit, TimestampMillisecondType};
use datafusion::common::{DataFusionError, Result as DFResult};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

type Kernel = fn(&[ArrayRef], usize) -> DFResult<ArrayRef>;

/// A SAQL function implemented over whole arrays.
#[derive(Debug)]
pub struct SaqlUdf {
    name: &'static str,
    ret: DataType,
    signature: Signature,
    kernel: Kernel,
}

impl PartialEq for SaqlUdf {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}
impl Eq for SaqlUdf {}
impl Hash for SaqlUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state)
    }
}

impl ScalarUDFImpl for SaqlUdf {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> DFResult<DataType> {
        Ok(self.ret.clone())
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DFResult<ColumnarValue> {
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let arrays: Vec<ArrayRef> = args.args.iter().map(|a| a.to_array(rows)).collect::<DFResult<_>>()?;
        let out = (self.kernel)(&arrays, rows)?;
        if all_scalar {
            Ok(ColumnarValue::Scalar(datafusion::common::ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

fn make(name: &'static str, ret: DataType, kernel: Kernel) -> ScalarUDF {
    ScalarUDF::new_from_impl(SaqlUdf { name, ret, signature: Signature::variadic_any(Volatility::Immutable), kernel })
}

fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, None)
}

/// A value as text, the way CRM Analytics shows it: numbers without a trailing `.0`, dates in
/// ISO form.
pub fn to_text(e: Expr, ty: &crate::schema::FieldType) -> Expr {
    use crate::schema::FieldType;
    match ty {
        FieldType::Numeric { .. } => call("saql_number_to_string", vec![e, datafusion::prelude::lit("0.##########")]),
        FieldType::Date { .. } => call("saql_format_date", vec![e, datafusion::prelude::lit(ISO_FORMAT)]),
        _ => datafusion::logical_expr::cast(e, DataType::Utf8),
    }
}

/// The text form of dates: `2018-02-25T00:00:03.000Z`.
pub const ISO_FORMAT: &str = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'";

/// Builds a call of the named SAQL function.
pub fn call(name: &'static str, args: Vec<Expr>) -> Expr {
    Arc::new(udf(name)).call(args)
}

/// The function registry.
pub fn udf(name: &'static str) -> ScalarUDF {
    match name {
        "saql_substr" => make(name, DataType::Utf8, substr),
        "saql_index_of" => make(name, DataType::Float64, index_of),
        "saql_number_to_string" => make(name, DataType::Utf8, number_to_string),
        "saql_string_to_number" => make(name, DataType::Float64, string_to_number),
        "saql_to_date" => make(name, ts_type(), to_date),
        "saql_parse_date_any" => make(name, ts_type(), parse_date_any),
        "saql_format_date" => make(name, DataType::Utf8, format_date),
        "saql_days_between" => make(name, DataType::Float64, days_between),
        "saql_date_diff" => make(name, DataType::Float64, date_diff),
        "saql_date" => make(name, ts_type(), make_date),
        "saql_date_number" => make(name, DataType::Float64, date_number),
        "saql_date_shift" => make(name, ts_type(), date_shift),
        "saql_text" => make(name, DataType::Utf8, text_of),
        "saql_add_days" => make(name, ts_type(), add_days),
        "saql_add_months" => make(name, ts_type(), add_months_fn),
        "saql_months_between" => make(name, DataType::Float64, months_between),
        "saql_date_part" => make(name, DataType::Utf8, date_part),
        "saql_round" => make(name, DataType::Float64, round),
        "saql_trunc" => make(name, DataType::Float64, trunc),
        other => unreachable!("no SAQL function {other}"),
    }
}

// ---------- argument helpers ----------

fn strings(a: &ArrayRef) -> DFResult<StringArray> {
    Ok(cast(a, &DataType::Utf8)?.as_string::<i32>().clone())
}

fn numbers(a: &ArrayRef) -> DFResult<Float64Array> {
    Ok(cast(a, &DataType::Float64)?.as_primitive::<Float64Type>().clone())
}

fn dates(a: &ArrayRef) -> DFResult<TimestampMillisecondArray> {
    Ok(cast(a, &ts_type())?.as_primitive::<TimestampMillisecondType>().clone())
}

fn opt_str(a: &StringArray, i: usize) -> Option<&str> {
    a.is_valid(i).then(|| a.value(i))
}

fn opt_num(a: &Float64Array, i: usize) -> Option<f64> {
    a.is_valid(i).then(|| a.value(i))
}

fn opt_date(a: &TimestampMillisecondArray, i: usize) -> Option<NaiveDateTime> {
    if a.is_valid(i) { from_millis(a.value(i)) } else { None }
}

fn user_err(msg: String) -> DataFusionError {
    DataFusionError::Execution(msg)
}

// ---------- string functions ----------

/// `substr(s, pos [, len])`: 1-based; negative `pos` counts from the end; `pos` 0 or out of
/// range gives ""; a negative `len` gives null.
fn substr(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
    let s = strings(&args[0])?;
    let pos = numbers(&args[1])?;
    let len = args.get(2).map(numbers).transpose()?;
    let mut b = StringBuilder::with_capacity(rows, rows * 8);
    for i in 0..rows {
        let (Some(text), Some(p)) = (opt_str(&s, i), opt_num(&pos, i)) else {
            b.append_null();
            continue;
        };
        let l = match &len {
            Some(l) => match opt_num(l, i) {
                Some(v) if v < 0.0 => {
                    b.append_null();
                    continue;
                }
                Some(v) => Some(v as usize),
                None => {
                    b.append_null();
                    continue;
                }
            },
            None => None,
        };
        let chars: Vec<char> = text.chars().collect();
        let n = chars.len() as i64;
        let p = p as i64;
        let start = if p > 0 && p <= n {
            (p - 1) as usize
        } else if p < 0 && -p <= n {
            (n + p) as usize
        } else {
            b.append_value("");
            continue;
        };
        let end = match l {
            Some(l) => (start + l).min(chars.len()),
            None => chars.len(),
        };
        b.append_value(chars[start..end].iter().collect::<String>());
    }
    Ok(Arc::new(b.finish()))
}

/// `index_of(s, search [, pos [, occurrence]])`: 1-based; 0 when not found; `search` "" → null.
fn index_of(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
    let s = strings(&args[0])?;
    let search = strings(&args[1])?;
    let pos = args.get(2).map(numbers).transpose()?;
    let occ = args.get(3).map(numbers).transpose()?;
    let mut b = Float64Builder::with_capacity(rows);
    for i in 0..rows {
        let (Some(text), Some(needle)) = (opt_str(&s, i), opt_str(&search, i)) else {
            b.append_null();
            continue;
        };
        if needle.is_empty() {
            b.append_null();
            continue;
        }
        let p = pos.as_ref().map_or(Some(1.0), |a| opt_num(a, i));
        let o = occ.as_ref().map_or(Some(1.0), |a| opt_num(a, i));
        let (Some(p), Some(o)) = (p, o) else {
            b.append_null();
            continue;
        };
        if p < 1.0 || o < 1.0 {
            return Err(user_err(format!("index_of: position and occurrence must be at least 1, got {p} and {o}")));
        }
        let chars: Vec<char> = text.chars().collect();
        let needle: Vec<char> = needle.chars().collect();
        let mut found = 0;
        let mut result = 0.0;
        let mut start = p as usize - 1;
        while start + needle.len() <= chars.len() {
            if chars[start..start + needle.len()] == needle[..] {
                found += 1;
                if found == o as usize {
                    result = (start + 1) as f64;
                    break;
                }
            }
            start += 1;
        }
        b.append_value(result);
    }
    Ok(Arc::new(b.finish()))
}

/// `number_to_string(n, format)` with SAQL's format characters `0 # . , %` and `pos;neg`.
fn number_to_string(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
    let n = numbers(&args[0])?;
    let f = strings(&args[1])?;
    let mut b = StringBuilder::with_capacity(rows, rows * 8);
    for i in 0..rows {
        match (opt_num(&n, i), opt_str(&f, i)) {
            (Some(v), Some(fmt)) => b.append_value(format_number(v, fmt)),
            _ => b.append_null(),
        }
    }
    Ok(Arc::new(b.finish()))
}

/// `text(x)` (recipe `cast(x as string)` and `concat` arguments): a number as the shortest text
/// that reads back as it (`3`, not `3.0`; `0.1`), anything else as Arrow casts it.
fn text_of(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
    if !args[0].data_type().is_numeric() {
        return Ok(cast(&args[0], &DataType::Utf8)?);
    }
    let n = numbers(&args[0])?;
    let mut b = StringBuilder::with_capacity(rows, rows * 8);
    for i in 0..rows {
        match opt_num(&n, i) {
            Some(v) if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 => b.append_value(format!("{}", v as i64)),
            Some(v) => b.append_value(format!("{v}")),
            None => b.append_null(),
        }
    }
    Ok(Arc::new(b.finish()))
}

/// Renders `v` with a SAQL/Java DecimalFormat-like pattern.
pub fn format_number(v: f64, pattern: &str) -> String {
    let (pos_pat, neg_pat) = match pattern.split_once(';') {
        Some((p, n)) => (p, Some(n)),
        None => (pattern, None),
    };
    let (pat, value, minus) = match (v < 0.0, neg_pat) {
        (true, Some(n)) => (n, -v, false),
        (true, None) => (pos_pat, -v, true),
        (false, _) => (pos_pat, v, false),
    };
    let is_digit_char = |c: char| matches!(c, '0' | '#' | '.' | ',');
    let first = pat.find(is_digit_char).unwrap_or(pat.len());
    let last = pat.rfind(is_digit_char).map_or(first, |i| i + 1);
    let (prefix, body, suffix) = (&pat[..first], &pat[first..last.max(first)], &pat[last.max(first)..]);
    let mut value = value;
    if prefix.contains('%') || suffix.contains('%') {
        value *= 100.0;
    }
    // trailing commas scale by 1000 each
    let mut body = body.to_string();
    while body.ends_with(',') {
        body.pop();
        value /= 1000.0;
    }
    let (int_pat, frac_pat) = match body.split_once('.') {
        Some((a, b)) => (a.to_string(), b.to_string()),
        None => (body.clone(), String::new()),
    };
    let min_frac = frac_pat.chars().filter(|c| *c == '0').count();
    let max_frac = frac_pat.chars().filter(|c| *c == '0' || *c == '#').count();
    let grouping = int_pat.contains(',');
    let min_int = int_pat.chars().filter(|c| *c == '0').count();
    // round half away from zero at max_frac digits
    let factor = 10f64.powi(max_frac as i32);
    let rounded = (value * factor).round() / factor;
    let text = format!("{rounded:.max_frac$}");
    let (int_part, frac_part) = match text.split_once('.') {
        Some((a, b)) => (a.to_string(), b.to_string()),
        None => (text.clone(), String::new()),
    };
    let mut frac = frac_part;
    while frac.len() > min_frac && frac.ends_with('0') {
        frac.pop();
    }
    let mut int_digits = int_part.trim_start_matches('0').to_string();
    while int_digits.len() < min_int {
        int_digits.insert(0, '0');
    }
    if grouping && int_digits.len() > 3 {
        let mut grouped = String::new();
        for (i, c) in int_digits.chars().enumerate() {
            if i > 0 && (int_digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        int_digits = grouped;
    }
    let mut out = String::new();
    if minus {
        out.push('-');
    }
    out.push_str(prefix);
    out.push_str(&int_digits);
    if !frac.is_empty() {
        out.push('.');
        out.push_str(&frac);
    }
    out.push_str(suffix);
    out
}

/// `string_to_number(s)`: fails the run when `s` is not a plain number.
fn string_to_number(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
    let s = strings(&args[0])?;
    let mut b = Float64Builder::with_capacity(rows);
    for i in 0..rows {
        match opt_str(&s, i) {
            None => b.append_null(),
            Some(text) => {
                let t = text.trim();
                let plain =
                    !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
                match t.parse::<f64>() {
                    Ok(v) if plain && v.is_finite() => b.append_value(v),
                    _ => return Err(user_err(format!("string_to_number: '{text}' is not a number"))),
                }
            }
        }
    }
    Ok(Arc::new(b.finish()))
}

// ---------- math ----------

/// `round(n [, m])`, ties away from zero; `m` may be negative.
fn round(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
    scaled(args, rows, f64::round)
}

fn trunc(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
    scaled(args, rows, f64::trunc)
}

fn scaled(args: &[ArrayRef], rows: usize, f: fn(f64) -> f64) -> DFResult<ArrayRef> {
    let n = numbers(&args[0])?;
    let m = args.get(1).map(numbers).transpose()?;
    let mut b = Float64Builder::with_capacity(rows);
    for i in 0..rows {
        let digits = m.as_ref().map_or(Some(0.0), |a| opt_num(a, i));
        match (opt_num(&n, i), digits) {
            (Some(v), Some(d)) => {
                let d = d.clamp(-15.0, 15.0) as i32;
                let factor = 10f64.powi(d);
                b.append_value(f(v * factor) / factor)
            }
            _ => b.append_null(),
        }
    }
    Ok(Arc::new(b.finish()))
}

// ---------- dates ----------

/// `toDate(string, format)`; a value that does not match the format fails the run, as it does
/// in CRM Analytics.
fn to_date(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
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
fn parse_date_any(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
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
fn format_date(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
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
fn days_between(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
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
fn date_diff(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
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
fn make_date(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
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
fn date_number(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
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
fn add_days(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
    shift_dates(args, rows, |d, n| Duration::try_days(n as i64).and_then(|delta| d.checked_add_signed(delta)))
}

/// `add_months(date, n)`: the same day `n` months on, or that month's last day when it is
/// shorter (2024-01-31 + 1 month = 2024-02-29).
fn add_months_fn(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
    shift_dates(args, rows, |d, n| add_months_signed(d, n as i64))
}

/// `months_between(end, start)`, as Spark counts it: whole months when both days are the same
/// day of the month or both are month ends; otherwise whole months plus the difference of the
/// positions within the month over a 31-day month, rounded to 8 decimals.
fn months_between(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
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
fn date_shift(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
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
fn date_part(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
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
    // A part depends on the day only (or, for hours to seconds, on the time of day only), and
    // days repeat heavily (a few thousand across millions of rows): each key is rendered once,
    // looked up with a cheap hash, and a run of equal keys reuses the last text.
    const DAY_MS: i64 = 86_400_000;
    let by_time = matches!(part, DatePart::Second | DatePart::Minute | DatePart::Hour);
    let key_of = |ms: i64| if by_time { ms.rem_euclid(DAY_MS) } else { ms.div_euclid(DAY_MS) * DAY_MS };
    let mut index: std::collections::HashMap<i64, usize, std::hash::BuildHasherDefault<KeyHasher>> =
        std::collections::HashMap::default();
    let mut texts: Vec<String> = Vec::new();
    let mut last: Option<(i64, usize)> = None;
    for i in 0..rows {
        if d.is_null(i) {
            b.append_null();
            continue;
        }
        let key = key_of(d.value(i));
        let at = match last {
            Some((k, at)) if k == key => at,
            _ => {
                let at = *index.entry(key).or_insert_with(|| {
                    texts.push(match from_millis(key) {
                        Some(dt) => render_part(&dt, part, offset, year_end, fdow),
                        None => String::new(),
                    });
                    texts.len() - 1
                });
                last = Some((key, at));
                at
            }
        };
        b.append_value(texts[at].as_str());
    }
    Ok(Arc::new(b.finish()))
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

pub fn render_part(dt: &NaiveDateTime, part: DatePart, offset: u32, year_end: bool, fdow: u32) -> String {
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
        use datafusion::arrow::array::{Float64Array, StringArray, TimestampMillisecondArray};
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
    fn number_formats_from_the_saql_guide() {
        assert_eq!(format_number(1234.56, "####.#"), "1234.6");
        assert_eq!(format_number(0.03457, "#.00%"), "3.46%");
        assert_eq!(format_number(-12.3, "$#.00;($#.00)"), "($12.30)");
        assert_eq!(format_number(12000.0, "#,"), "12");
        assert_eq!(format_number(1234567.891, "#,##0.00"), "1,234,567.89");
        assert_eq!(format_number(-5.0, "0.0"), "-5.0");
        assert_eq!(format_number(0.5, "0"), "1");
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
