//! The Spark functions of recipe formulas that swell gives a meaning of its own ([`SPARK`]:
//! name, number of arguments, rewrite), and the rewrite of a parsed formula into what
//! DataFusion runs ([`rewrite`]). The module docs of [`super::sql`] list what each means.

use crate::saql::functions::Udf;
use datafusion::sql::sqlparser::ast::{
    self, Expr as SqlExpr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, ObjectName, ObjectNamePart, Value,
};

pub type Rewrite = fn(Vec<SqlExpr>, i64) -> Option<SqlExpr>;

/// The Spark functions swell gives a meaning of its own, declared once: name, the fewest and
/// most arguments, rewrite. [`parse`] refuses a call with another number of arguments, the
/// suggestions for a misspelt function read the names. A rewrite gets the arguments and the
/// run's clock, and answers `None` for arguments it leaves to DataFusion's function of the
/// same name (`trunc(number)`).
pub static SPARK: &[(&str, (usize, usize), Rewrite)] = &[
    ("substr", (2, 3), |a, _| matches!(a.len(), 2 | 3).then(|| spark_substr(a))),
    ("substring", (2, 3), |a, _| matches!(a.len(), 2 | 3).then(|| spark_substr(a))),
    ("string", (1, 1), |a, _| (a.len() == 1).then(|| func(Udf::Text.name(), a))),
    // null if any argument is null (Spark), numbers without a trailing .0
    ("concat", (1, usize::MAX), |a, _| {
        (a.len() >= 2).then_some(())?;
        a.into_iter().map(|x| func(Udf::Text.name(), vec![x])).reduce(|l, r| SqlExpr::BinaryOp {
            left: Box::new(l),
            op: ast::BinaryOperator::StringConcat,
            right: Box::new(r),
        })
    }),
    ("year", (1, 1), |a, _| part("year", a)),
    ("quarter", (1, 1), |a, _| part("quarter", a)),
    ("month", (1, 1), |a, _| part("month", a)),
    ("day", (1, 1), |a, _| part("day", a)),
    ("dayofmonth", (1, 1), |a, _| part("day", a)),
    ("hour", (1, 1), |a, _| part("hour", a)),
    ("minute", (1, 1), |a, _| part("minute", a)),
    ("second", (1, 1), |a, _| part("second", a)),
    ("dayofyear", (1, 1), |a, _| part("doy", a)),
    // 1 = Sunday
    ("dayofweek", (1, 1), |a, _| {
        let dow = part("dow", a)?;
        Some(SqlExpr::BinaryOp { left: Box::new(dow), op: ast::BinaryOperator::Plus, right: Box::new(number("1")) })
    }),
    // ISO weeks
    ("weekofyear", (1, 1), |a, _| part("week", a)),
    // Spark's names for DataFusion's starts_with/ends_with
    ("startswith", (2, 2), |a, _| (a.len() == 2).then(|| func("starts_with", a))),
    ("endswith", (2, 2), |a, _| (a.len() == 2).then(|| func("ends_with", a))),
    ("sign", (1, 1), |a, _| (a.len() == 1).then(|| func("signum", a))),
    ("isnull", (1, 1), |a, _| one(a).map(|x| SqlExpr::IsNull(Box::new(x)))),
    ("isnotnull", (1, 1), |a, _| one(a).map(|x| SqlExpr::IsNotNull(Box::new(x)))),
    // Spark replaces every match; DataFusion only the first unless told
    ("regexp_replace", (3, 3), |mut a, _| {
        (a.len() == 3).then_some(())?;
        a.push(string("g"));
        Some(func("regexp_replace", a))
    }),
    ("date_add", (2, 2), |a, _| (a.len() == 2).then(|| func(Udf::AddDays.name(), a))),
    ("date_sub", (2, 2), |a, _| {
        let [date, days] = <[SqlExpr; 2]>::try_from(a).ok()?;
        let minus = SqlExpr::UnaryOp { op: ast::UnaryOperator::Minus, expr: Box::new(days) };
        Some(func(Udf::AddDays.name(), vec![date, minus]))
    }),
    ("add_months", (2, 2), |a, _| (a.len() == 2).then(|| func(Udf::AddMonths.name(), a))),
    // Spark's locate(substr, str): 1-based, 0 when absent
    ("locate", (2, 2), |a, _| {
        let [sub, text] = <[SqlExpr; 2]>::try_from(a).ok()?;
        Some(func("strpos", vec![text, sub]))
    }),
    ("regexp_extract", (2, 3), |a, _| matches!(a.len(), 2 | 3).then(|| regexp_extract(a))),
    // trunc(date, 'MM'); a number as the second argument is the numeric trunc
    ("trunc", (1, 2), |a, _| {
        let [date, unit] = <[SqlExpr; 2]>::try_from(a).ok()?;
        date_unit(&unit).map(|unit| func("date_trunc", vec![string(unit), date]))
    }),
    ("last_day", (1, 1), |a, _| one(a).map(|x| func(Udf::DateShift.name(), vec![string("month_last_day"), x]))),
    ("months_between", (2, 2), |a, _| (a.len() == 2).then(|| func(Udf::MonthsBetween.name(), a))),
    // Spark's arrays: array(a, b), size(x) (elements; Spark gives -1 for null, here null),
    // split(text, delimiter) (a plain delimiter: Spark reads a regex, public recipes split on
    // ';' and ',')
    ("array", (0, usize::MAX), |a, _| Some(func("make_array", a))),
    ("size", (1, 1), |a, _| (a.len() == 1).then(|| func("cardinality", a))),
    ("split", (2, 2), |a, _| (a.len() == 2).then(|| func("string_to_array", a))),
    // Spark's to_unix_timestamp is unix_timestamp with its argument required (96 calls in 9
    // public recipes); a format reads text as a date first
    ("unix_timestamp", (0, 2), unix_timestamp),
    ("to_unix_timestamp", (1, 2), |a, now| if a.is_empty() { None } else { unix_timestamp(a, now) }),
    // the run's day, UTC
    ("current_date", (0, 0), |a, now| {
        a.is_empty().then(|| func("to_timestamp_millis", vec![number(&(now - now.rem_euclid(86_400_000)).to_string())]))
    }),
    ("date_format", (2, 2), |a, _| (a.len() == 2).then(|| func(Udf::FormatDate.name(), a))),
    // to_date(text) reads Spark's default form
    ("to_date", (1, 2), |mut a, _| {
        if a.len() == 1 {
            a.push(string("yyyy-MM-dd"));
        }
        Some(func(Udf::ToDate.name(), a))
    }),
    // Spark's datediff(end, start): whole days from start to end
    ("datediff", (2, 2), |a, _| {
        let [end, start] = <[SqlExpr; 2]>::try_from(a).ok()?;
        Some(func(Udf::DaysBetween.name(), vec![start, end]))
    }),
    // the run's clock, so that a run is repeatable (tests, benchmarks)
    ("now", (0, 0), |a, now| a.is_empty().then(|| func("to_timestamp_millis", vec![number(&now.to_string())]))),
    ("current_timestamp", (0, 0), |a, now| {
        a.is_empty().then(|| func("to_timestamp_millis", vec![number(&now.to_string())]))
    }),
    ("if", (3, 3), |a, _| {
        let [cond, then, otherwise] = <[SqlExpr; 3]>::try_from(a).ok()?;
        Some(SqlExpr::Case {
            case_token: ast::helpers::attached_token::AttachedToken::empty(),
            end_token: ast::helpers::attached_token::AttachedToken::empty(),
            operand: None,
            conditions: vec![ast::CaseWhen { condition: cond, result: then }],
            else_result: Some(Box::new(otherwise)),
        })
    }),
];

/// The only argument of a one-argument call.
fn one(a: Vec<SqlExpr>) -> Option<SqlExpr> {
    let [x] = <[SqlExpr; 1]>::try_from(a).ok()?;
    Some(x)
}

/// A date part of the only argument.
fn part(name: &str, a: Vec<SqlExpr>) -> Option<SqlExpr> {
    one(a).map(|x| func("date_part", vec![string(name), x]))
}

/// `unix_timestamp()` (the run's clock), `unix_timestamp(date)`, `unix_timestamp(text, format)`:
/// seconds.
fn unix_timestamp(a: Vec<SqlExpr>, now: i64) -> Option<SqlExpr> {
    match a.len() {
        0 => Some(number(&now.div_euclid(1000).to_string())),
        1 => Some(func("to_unixtime", a)),
        2 => Some(func("to_unixtime", vec![func(Udf::ToDate.name(), a)])),
        _ => None,
    }
}

fn func(name: &str, args: Vec<SqlExpr>) -> SqlExpr {
    SqlExpr::Function(ast::Function {
        name: ObjectName(vec![ObjectNamePart::Identifier(Ident::new(name))]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(ast::FunctionArgumentList {
            duplicate_treatment: None,
            args: args.into_iter().map(|a| FunctionArg::Unnamed(FunctionArgExpr::Expr(a))).collect(),
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

fn number(n: &str) -> SqlExpr {
    SqlExpr::Value(Value::Number(n.to_string(), false).into())
}

/// Spark's substr: 1-based, position 0 read as 1, negative positions from the end.
fn spark_substr(args: Vec<SqlExpr>) -> SqlExpr {
    let pos = SqlExpr::Case {
        case_token: ast::helpers::attached_token::AttachedToken::empty(),
        end_token: ast::helpers::attached_token::AttachedToken::empty(),
        operand: None,
        conditions: vec![ast::CaseWhen {
            condition: SqlExpr::BinaryOp {
                left: Box::new(args[1].clone()),
                op: ast::BinaryOperator::Eq,
                right: Box::new(number("0")),
            },
            result: number("1"),
        }],
        else_result: Some(Box::new(args[1].clone())),
    };
    let mut a = vec![args[0].clone(), pos];
    a.extend(args.get(2).cloned());
    func(Udf::Substr.name(), a)
}

fn string(s: &str) -> SqlExpr {
    SqlExpr::Value(Value::SingleQuotedString(s.to_string()).into())
}

/// Spark's `regexp_extract(str, pattern[, group])`: the group's text (0 = the whole match,
/// 1 by default), "" when the pattern does not match, null for a null string. The pattern is
/// wrapped in a group so that DataFusion's `regexp_match` (groups only) holds the whole match
/// first.
fn regexp_extract(args: Vec<SqlExpr>) -> SqlExpr {
    let group = args.get(2).cloned().unwrap_or_else(|| number("1"));
    let pattern = func("concat", vec![string("("), args[1].clone(), string(")")]);
    let index =
        SqlExpr::BinaryOp { left: Box::new(group), op: ast::BinaryOperator::Plus, right: Box::new(number("1")) };
    let found = func("array_element", vec![func("regexp_match", vec![args[0].clone(), pattern]), index]);
    SqlExpr::Case {
        case_token: ast::helpers::attached_token::AttachedToken::empty(),
        end_token: ast::helpers::attached_token::AttachedToken::empty(),
        operand: None,
        conditions: vec![ast::CaseWhen {
            condition: SqlExpr::IsNull(Box::new(args[0].clone())),
            result: SqlExpr::Value(Value::Null.into()),
        }],
        else_result: Some(Box::new(func("coalesce", vec![found, string("")]))),
    }
}

/// The date unit of Spark's `trunc(date, 'MM')`, when the second argument names one (a number
/// there is the numeric `trunc`).
fn date_unit(e: &SqlExpr) -> Option<&'static str> {
    let SqlExpr::Value(v) = e else { return None };
    let Value::SingleQuotedString(s) = &v.value else { return None };
    Some(match s.to_ascii_uppercase().as_str() {
        "YEAR" | "YYYY" | "YY" => "year",
        "QUARTER" => "quarter",
        "MONTH" | "MM" | "MON" => "month",
        "WEEK" => "week",
        _ => return None,
    })
}

/// The plain arguments of a call, if that is all it has.
fn plain_args(f: &ast::Function) -> Option<Vec<SqlExpr>> {
    let FunctionArguments::List(list) = &f.args else {
        return matches!(f.args, FunctionArguments::None | FunctionArguments::Subquery(_)).then(Vec::new);
    };
    list.args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

pub fn rewrite(e: &mut SqlExpr, now_millis: i64) {
    match e {
        // every field reference quoted, so that names keep their case and dots
        SqlExpr::Identifier(id) if id.quote_style.is_none() || id.quote_style == Some('"') => {
            *id = Ident::with_quote('"', id.value.clone());
        }
        SqlExpr::CompoundIdentifier(parts) => {
            let joined = parts.iter().map(|p| p.value.as_str()).collect::<Vec<_>>().join(".");
            *e = SqlExpr::Identifier(Ident::with_quote('"', joined));
        }
        // numbers as text without a trailing .0
        SqlExpr::Cast {
            expr,
            data_type:
                ast::DataType::String(_)
                | ast::DataType::Varchar(_)
                | ast::DataType::Text
                | ast::DataType::Char(_)
                | ast::DataType::CharVarying(_),
            ..
        } => {
            *e = func(Udf::Text.name(), vec![(**expr).clone()]);
        }
        // Spark (non-ANSI) gives null for a division or modulo by zero
        SqlExpr::BinaryOp { op: ast::BinaryOperator::Divide | ast::BinaryOperator::Modulo, right, .. } => {
            let r = std::mem::replace(&mut **right, number("0"));
            **right = func("nullif", vec![r, number("0")]);
        }
        // the parser reads substr(...) and substring(...) as this form
        SqlExpr::Substring { expr, substring_from, substring_for, .. } => {
            let mut args = vec![(**expr).clone()];
            args.push(substring_from.as_deref().cloned().unwrap_or_else(|| number("1")));
            args.extend(substring_for.as_deref().cloned());
            *e = spark_substr(args);
        }
        SqlExpr::Function(f) => {
            // function names in any case (the run's parser keeps identifiers as written)
            for part in &mut f.name.0 {
                if let ObjectNamePart::Identifier(id) = part
                    && id.quote_style.is_none()
                {
                    id.value = id.value.to_ascii_lowercase();
                }
            }
            let name = f.name.to_string();
            let Some(args) = plain_args(f) else { return };
            let replaced = SPARK.iter().find(|(n, ..)| *n == name).and_then(|(.., rewrite)| rewrite(args, now_millis));
            if let Some(r) = replaced {
                *e = r;
            }
        }
        _ => {}
    }
}

/// The fewest and most arguments of a Spark function swell rewrites, by name (lower case).
pub fn arity(name: &str) -> Option<(usize, usize)> {
    SPARK.iter().find(|(n, ..)| *n == name).map(|(_, a, _)| *a)
}

/// The names of the Spark functions swell rewrites.
pub fn names() -> impl Iterator<Item = &'static str> {
    SPARK.iter().map(|(n, ..)| *n)
}
