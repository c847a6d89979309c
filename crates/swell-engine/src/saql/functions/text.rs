//! Kernels of the text functions.

use super::{numbers, opt_num, opt_str, strings, user_err};
use datafusion::arrow::array::{Array, ArrayRef, Float64Builder, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result as DFResult;
use std::sync::Arc;

/// `substr(s, pos [, len])`: 1-based; negative `pos` counts from the end; `pos` 0 or out of
/// range gives ""; a negative `len` gives null.
pub(super) fn substr(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
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
pub(super) fn index_of(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
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
pub(super) fn number_to_string(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
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
pub(super) fn text_of(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
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
pub(super) fn format_number(v: f64, pattern: &str) -> String {
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
pub(super) fn string_to_number(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
