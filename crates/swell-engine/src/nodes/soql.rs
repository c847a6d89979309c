//! SOQL in digests: the date literals of `filterConditions` and the WHERE clause of
//! `complexFilterConditions` (the stored form's `passthroughFilter`), which CRM Analytics hands
//! to Salesforce and swell evaluates itself, on the synced copy.
//!
//! [`to_sql`] rewrites what SOQL has and SQL lacks, outside string literals, and leaves the
//! rest to the SQL parser:
//! - a comparison with a date literal (`CreatedDate >= LAST_N_DAYS:730`, `= THIS_FISCAL_YEAR`)
//!   becomes a comparison with the literal's [start, end) instants;
//! - `= null` and `!= null` become `IS NULL` and `IS NOT NULL` (in SQL they are never true);
//! - `= true` and `!= false` compare the field as lower-case text, so that a checkbox held as
//!   text (`TRUE`, `False`, as CSV files hold them) or as a boolean compares the same;
//! - `CALENDAR_YEAR(f)`, `CALENDAR_MONTH(f)`, `CALENDAR_QUARTER(f)`, `DAY_IN_MONTH(f)` become
//!   `date_part(...)`.
//!
//! Once parsed, [`soql_semantics`] gives text comparisons SOQL's meaning: they ignore case,
//! and checkbox fields held as text (as CSV files and most databases' exports hold them)
//! compare with `true`/`false`.
//!
//! INFERRED: fiscal literals use a fiscal year starting in January, since a digest names no
//! org's fiscal settings.

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result as DFResult, ScalarValue};
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, Operator, lit};

/// A SOQL date literal as [start, end) in epoch milliseconds (UTC), counted from `now_millis`.
pub fn date_literal(v: &str, now_millis: i64) -> Option<(i64, i64)> {
    let today = DateTime::<Utc>::from_timestamp_millis(now_millis)?.date_naive();
    let ms = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|dt| dt.and_utc().timestamp_millis());
    let upper = v.trim().to_ascii_uppercase();
    let (name, n) = match upper.split_once(':') {
        Some((a, b)) => (a.to_string(), Some(b.trim().parse::<i64>().ok().filter(|n| *n >= 0)?)),
        None => (upper.clone(), None),
    };
    let name = name.replace("_FISCAL_", "_");
    let month = NaiveDate::from_ymd_opt(today.year(), today.month(), 1)?;
    let quarter = NaiveDate::from_ymd_opt(today.year(), (today.month0() / 3) * 3 + 1, 1)?;
    let year = NaiveDate::from_ymd_opt(today.year(), 1, 1)?;
    let week = today - Duration::days(i64::from(today.weekday().num_days_from_sunday()));
    let months = |d: NaiveDate, k: i64| -> Option<NaiveDate> {
        if k >= 0 {
            d.checked_add_months(Months::new(u32::try_from(k).ok()?))
        } else {
            d.checked_sub_months(Months::new(u32::try_from(-k).ok()?))
        }
    };
    let days = |d: NaiveDate, k: i64| d.checked_add_signed(Duration::try_days(k)?);
    let (a, b) = match (name.as_str(), n) {
        ("TODAY", None) => (today, days(today, 1)?),
        ("YESTERDAY", None) => (days(today, -1)?, today),
        ("TOMORROW", None) => (days(today, 1)?, days(today, 2)?),
        ("LAST_N_DAYS", Some(n)) => (days(today, -n)?, days(today, 1)?),
        ("NEXT_N_DAYS", Some(n)) => (today, days(today, n + 1)?),
        ("THIS_WEEK", None) => (week, days(week, 7)?),
        ("LAST_WEEK", None) => (days(week, -7)?, week),
        ("NEXT_WEEK", None) => (days(week, 7)?, days(week, 14)?),
        ("THIS_MONTH", None) => (month, months(month, 1)?),
        ("LAST_MONTH", None) => (months(month, -1)?, month),
        ("NEXT_MONTH", None) => (months(month, 1)?, months(month, 2)?),
        ("LAST_N_MONTHS", Some(n)) => (months(month, -n)?, month),
        ("NEXT_N_MONTHS", Some(n)) => (months(month, 1)?, months(month, n + 1)?),
        ("THIS_QUARTER", None) => (quarter, months(quarter, 3)?),
        ("LAST_QUARTER", None) => (months(quarter, -3)?, quarter),
        ("NEXT_QUARTER", None) => (months(quarter, 3)?, months(quarter, 6)?),
        ("LAST_N_QUARTERS", Some(n)) => (months(quarter, -3 * n)?, quarter),
        ("NEXT_N_QUARTERS", Some(n)) => (months(quarter, 3)?, months(quarter, 3 * n + 3)?),
        ("THIS_YEAR", None) => (year, months(year, 12)?),
        ("LAST_YEAR", None) => (months(year, -12)?, year),
        ("NEXT_YEAR", None) => (months(year, 12)?, months(year, 24)?),
        ("LAST_N_YEARS", Some(n)) => (months(year, -12 * n)?, year),
        ("NEXT_N_YEARS", Some(n)) => (months(year, 12)?, months(year, 12 * n + 12)?),
        _ => return None,
    };
    Some((ms(a)?, ms(b)?))
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A text literal, as written (quotes included).
    Text(String),
    /// A word: a field, a keyword, a date literal (`LAST_N_DAYS:7`), a number.
    Word(String),
    Op(String),
    Space(String),
    Other(char),
}

fn tokens(text: &str) -> Vec<Tok> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c == '\'' {
            i += 1;
            while i < chars.len() {
                if chars[i] == '\\' {
                    i += 2;
                    continue;
                }
                if chars[i] == '\'' {
                    i += 1;
                    break;
                }
                i += 1;
            }
            out.push(Tok::Text(chars[start..i.min(chars.len())].iter().collect()));
        } else if c.is_whitespace() {
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            out.push(Tok::Space(chars[start..i].iter().collect()));
        } else if c.is_alphanumeric() || c == '_' || c == '.' {
            while i < chars.len() && (chars[i].is_alphanumeric() || "_.:".contains(chars[i])) {
                i += 1;
            }
            out.push(Tok::Word(chars[start..i].iter().collect()));
        } else if "=<>!".contains(c) {
            while i < chars.len() && "=<>!".contains(chars[i]) {
                i += 1;
            }
            out.push(Tok::Op(chars[start..i].iter().collect()));
        } else {
            out.push(Tok::Other(c));
            i += 1;
        }
    }
    out
}

fn instant(ms: i64) -> String {
    let dt = DateTime::<Utc>::from_timestamp_millis(ms).map(|d| d.naive_utc()).unwrap_or_default();
    format!("TIMESTAMP '{}'", dt.format("%Y-%m-%d %H:%M:%S"))
}

/// SOQL's comparisons on text, in SQL: `=`, `!=`, `IN` and `LIKE` ignore case in SOQL
/// (`Name = 'acme'` finds Acme), and a checkbox field is in a list of `true`/`false`
/// (`IsWon IN (false)`) although a synced copy read from text holds it as text ([`to_sql`]
/// already made `IsClosed = false` a comparison of text, before the SQL planner, which refuses
/// `NOT (text = false)`). Comparisons of other types are left as they are.
pub fn soql_semantics(expr: Expr, schema: &DFSchema) -> DFResult<Expr> {
    use datafusion::functions::expr_fn::lower;
    use datafusion::logical_expr::expr::{InList, Like};
    let text = |e: &Expr| {
        e.get_type(schema).is_ok_and(|t| matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View))
    };
    let text_literal = |e: &Expr| {
        matches!(e, Expr::Literal(ScalarValue::Utf8(_) | ScalarValue::LargeUtf8(_) | ScalarValue::Utf8View(_), _))
    };
    expr.transform_up(|e| {
        match &e {
            Expr::BinaryExpr(BinaryExpr { left, op: op @ (Operator::Eq | Operator::NotEq), right })
                if text(left) && text(right) && (text_literal(left) || text_literal(right)) =>
            {
                let compared = Expr::BinaryExpr(BinaryExpr::new(
                    Box::new(lower(left.as_ref().clone())),
                    *op,
                    Box::new(lower(right.as_ref().clone())),
                ));
                return Ok(Transformed::yes(compared));
            }
            Expr::InList(InList { expr, list, negated })
                if text(expr) && list.iter().all(|v| matches!(v, Expr::Literal(ScalarValue::Boolean(Some(_)), _))) =>
            {
                let list = list
                    .iter()
                    .map(|v| match v {
                        Expr::Literal(ScalarValue::Boolean(Some(b)), _) => lit(b.to_string()),
                        other => other.clone(),
                    })
                    .collect();
                return Ok(Transformed::yes(lower(expr.as_ref().clone()).in_list(list, *negated)));
            }
            Expr::InList(InList { expr, list, negated }) if text(expr) && list.iter().all(text_literal) => {
                let list = list.iter().map(|v| lower(v.clone())).collect();
                return Ok(Transformed::yes(lower(expr.as_ref().clone()).in_list(list, *negated)));
            }
            Expr::Like(Like { case_insensitive: false, negated, expr, pattern, escape_char }) if text(expr) => {
                let like = Like::new(*negated, expr.clone(), pattern.clone(), *escape_char, true);
                return Ok(Transformed::yes(Expr::Like(like)));
            }
            _ => {}
        }
        Ok(Transformed::no(e))
    })
    .map(|t| t.data)
}

/// A field as SQL names it: a relationship path (`RecordType.DeveloperName`) is one column of
/// that name, as a copy that holds it calls it (SQL would read a table and a column).
fn field_sql(word: &str) -> std::borrow::Cow<'_, str> {
    if word.contains('.') && word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        std::borrow::Cow::Owned(format!("\"{word}\""))
    } else {
        std::borrow::Cow::Borrowed(word)
    }
}

/// The fields a condition made by [`to_sql`] reads (none when it does not parse: the caller's
/// parse reports that).
pub fn fields_of(sql: &str) -> Vec<String> {
    crate::recipe::sql::parse_sql(sql).map(|e| crate::recipe::sql::fields(&e)).unwrap_or_default()
}

/// A SOQL WHERE clause as SQL DataFusion reads (see the module docs).
pub fn to_sql(soql: &str, now_millis: i64) -> String {
    let toks = tokens(soql);
    let mut out = String::with_capacity(soql.len() + 32);
    let mut i = 0;
    // the next token that is not a space, from `j`
    let next = |j: usize| (j..toks.len()).find(|&k| !matches!(toks[k], Tok::Space(_)));
    while i < toks.len() {
        if let Tok::Word(field) = &toks[i]
            && let Some(o) = next(i + 1)
            && let Tok::Op(op) = &toks[o]
            && let Some(v) = next(o + 1)
            && let Tok::Word(value) = &toks[v]
        {
            let op = if op == "<>" { "!=" } else { op.as_str() };
            let field = &field_sql(field);
            if value.eq_ignore_ascii_case("null") && (op == "=" || op == "!=") {
                out.push_str(&format!("{field} IS {}NULL", if op == "!=" { "NOT " } else { "" }));
                i = v + 1;
                continue;
            }
            // a checkbox: held as a boolean, or as text in a copy read from text
            if (value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false")) && (op == "=" || op == "!=")
            {
                out.push_str(&format!("lower(CAST({field} AS VARCHAR)) {op} '{}'", value.to_ascii_lowercase()));
                i = v + 1;
                continue;
            }
            if let Some((a, b)) = date_literal(value, now_millis) {
                let (a, b) = (instant(a), instant(b));
                let cond = match op {
                    "=" => format!("({field} >= {a} AND {field} < {b})"),
                    "!=" => format!("({field} < {a} OR {field} >= {b})"),
                    ">" => format!("{field} >= {b}"),
                    ">=" => format!("{field} >= {a}"),
                    "<" => format!("{field} < {a}"),
                    "<=" => format!("{field} < {b}"),
                    _ => format!("{field} {op} {value}"),
                };
                out.push_str(&cond);
                i = v + 1;
                continue;
            }
        }
        match &toks[i] {
            Tok::Word(w) if next(i + 1).is_some_and(|k| toks[k] == Tok::Other('(')) => {
                let part = match w.to_ascii_uppercase().as_str() {
                    "CALENDAR_YEAR" | "FISCAL_YEAR" => Some("year"),
                    "CALENDAR_MONTH" | "FISCAL_MONTH" => Some("month"),
                    "CALENDAR_QUARTER" | "FISCAL_QUARTER" => Some("quarter"),
                    "DAY_IN_MONTH" => Some("day"),
                    "HOUR_IN_DAY" => Some("hour"),
                    _ => None,
                };
                match part {
                    Some(p) => {
                        // date_part('year', f): the opening parenthesis follows
                        let k = next(i + 1).expect("checked");
                        out.push_str(&format!("date_part('{p}', "));
                        i = k + 1;
                        continue;
                    }
                    None => out.push_str(w),
                }
            }
            Tok::Word(w) => out.push_str(&field_sql(w)),
            Tok::Text(t) | Tok::Op(t) | Tok::Space(t) => out.push_str(t),
            Tok::Other(c) => out.push(*c),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-05-15 (a Wednesday) at noon.
    const NOW: i64 = 1_715_774_400_000;

    fn day(ms: i64) -> String {
        DateTime::<Utc>::from_timestamp_millis(ms).unwrap().format("%Y-%m-%d").to_string()
    }

    fn range(v: &str) -> (String, String) {
        let (a, b) = date_literal(v, NOW).unwrap_or_else(|| panic!("{v}"));
        (day(a), day(b))
    }

    #[test]
    fn date_literals_are_periods() {
        assert_eq!(range("TODAY"), ("2024-05-15".into(), "2024-05-16".into()));
        assert_eq!(range("Last_n_days:7"), ("2024-05-08".into(), "2024-05-16".into()));
        assert_eq!(range("THIS_WEEK"), ("2024-05-12".into(), "2024-05-19".into()));
        assert_eq!(range("LAST_QUARTER"), ("2024-01-01".into(), "2024-04-01".into()));
        assert_eq!(range("LAST_N_FISCAL_YEARS:3"), ("2021-01-01".into(), "2024-01-01".into()));
        assert_eq!(range("THIS_FISCAL_YEAR"), ("2024-01-01".into(), "2025-01-01".into()));
        assert_eq!(range("NEXT_N_MONTHS:2"), ("2024-06-01".into(), "2024-08-01".into()));
        assert_eq!(date_literal("LAST_N_DAYS:x", NOW), None);
        assert_eq!(date_literal("LAST_N_DAYS:-3", NOW), None);
        assert_eq!(date_literal("SOMEDAY", NOW), None);
    }

    #[test]
    fn soql_becomes_sql() {
        assert_eq!(to_sql("CreatedDate >= LAST_N_DAYS:730", NOW), "CreatedDate >= TIMESTAMP '2022-05-16 00:00:00'");
        assert_eq!(
            to_sql("Case__r.Actual_Create_Date__c = THIS_FISCAL_YEAR OR Id != null", NOW),
            "(\"Case__r.Actual_Create_Date__c\" >= TIMESTAMP '2024-01-01 00:00:00' AND \"Case__r.Actual_Create_Date__c\" < TIMESTAMP '2025-01-01 00:00:00') OR Id IS NOT NULL"
        );
        assert_eq!(to_sql("CALENDAR_YEAR(Invoice_Date__c)>=2016", NOW), "date_part('year', Invoice_Date__c)>=2016");
        // text literals are left alone
        assert_eq!(to_sql("Name = 'TODAY' AND Type = 'Queue'", NOW), "Name = 'TODAY' AND Type = 'Queue'");
        assert_eq!(to_sql("Owner = null", NOW), "Owner IS NULL");
        assert_eq!(
            to_sql("RecordType.DeveloperName IN ('A', 'B') AND Amount > 1.5", NOW),
            "\"RecordType.DeveloperName\" IN ('A', 'B') AND Amount > 1.5"
        );
    }
}
