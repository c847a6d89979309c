//! The recipe formula dialect ("SQL" expression type, Spark SQL based): parsed with
//! DataFusion's SQL parser and lowered to DataFusion expressions, with the few Spark meanings
//! that differ rewritten first:
//!
//! - `"Account.Name"`, `Account.Name` and `Name` are field references (a dotted name is one
//!   field, as joins name them `<qualifier>.<field>`); `'text'` is a string;
//! - `substr`/`substring` count from 1 and treat position 0 as 1 (Spark), negative positions
//!   from the end;
//! - `concat` is null if any argument is null (Spark), unlike DataFusion's; numbers in it,
//!   `string(x)` and `cast(x as string)` print without a trailing `.0` (`3`, `0.5`): measures
//!   compute as floats here, where Spark's would print their decimal scale (`3.00`);
//! - `year`, `quarter`, `month`, `day`/`dayofmonth`, `hour`, `minute`, `second`, `dayofweek`
//!   (1 = Sunday), `dayofyear` are date parts;
//! - `date_format(date, 'yyyy-MM-dd')` and `to_date(text, 'dd/MM/yyyy')` take Java patterns;
//! - `datediff(end, start)` counts whole days;
//! - `if(cond, a, b)` is `case when cond then a else b end`;
//! - `x / 0` and `x % 0` are null (Spark's default), not an error or an infinity;
//! - `startsWith`/`endsWith` (Spark 3.3 names, seen in real sqlFilter nodes) are
//!   `starts_with`/`ends_with`;
//! - Spark functions DataFusion lacks or means differently: `sign`, `weekofyear` (ISO weeks),
//!   `isnull`/`isnotnull`, `regexp_replace` (every match), `date_add`/`date_sub` (days, to a
//!   date), `add_months` (clamped to the month's end), `last_day`, `months_between` (Spark's
//!   31-day fraction), `unix_timestamp` and `to_unix_timestamp` (seconds), `current_date()` (the run's day, UTC),
//!   `locate`, `regexp_extract`, `trunc(date, 'MM')`;
//! - `now()` is the run's clock (fixed in tests and benchmarks).
//!
//! Function names are matched in any case; field names exactly.
//!
//! **Why not datafusion-spark** (evaluated for DataFusion 55, December 2026): it has Spark's
//! `date_add`, `date_sub`, `add_months`, `last_day`, `datediff`, `trunc`, `substring`, `concat`,
//! `if` and `unix_timestamp`, but (1) its date functions take and give `Date32` (Spark's DATE)
//! while recipe dates run as millisecond timestamps here, so every call would cast in and
//! out; (2) `concat` and `string` print Spark's decimal scale (`3.00`) where we print `3`
//! deliberately (see above); (3) adding it turns on features of crates DataFusion's Parquet
//! reader shares (`twox-hash`, `rand`, `bigdecimal`), which rebuilds DataFusion and makes
//! test and release builds differ. What it would replace is about 80 lines of kernels in
//! [`crate::saql::functions`] that the conformance fixtures pin. Worth another look when the
//! recipe engine runs dates as `Date32`.

use crate::saql::functions::Udf;
use crate::schema::{FieldType, Schema};
use datafusion::arrow::datatypes::{Field as ArrowField, Schema as ArrowSchema};
use datafusion::common::{DFSchema, Result as DFResult};
use datafusion::logical_expr::Expr;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::{self, Expr as SqlExpr, FunctionArguments, Value, visit_expressions_mut};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use std::ops::ControlFlow;
use std::sync::OnceLock;

/// The longest formula read, in bytes.
pub const MAX_FORMULA_LENGTH: usize = 100_000;

/// The most operators a formula may hold. Every later step (DataFusion's planner, its
/// optimizer, ours) walks a formula recursively, and `a + b + c + ...` is as deep as it is
/// long; the public recipes we know use at most 22.
pub const MAX_FORMULA_OPERATORS: usize = 1_000;

/// Refuses a formula too long, with too many operators or with a `.` the parser would
/// backtrack on, before it is parsed (which would build the deep tree, or take exponential
/// time). Every text given to the SQL parser goes through this first (formulas, filters, a
/// digest's SOQL conditions).
pub fn precheck(text: &str) -> Result<(), String> {
    let dialect = &GenericDialect {};
    use datafusion::sql::sqlparser::keywords::Keyword;
    use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
    if text.len() > MAX_FORMULA_LENGTH {
        return Err(format!(
            "the formula is {} characters long; at most {MAX_FORMULA_LENGTH} are read",
            text.chars().count()
        ));
    }
    let spanned = Tokenizer::new(dialect, text).tokenize_with_location().map_err(|e| clean(&e.to_string(), text))?;
    check_dots(&spanned)?;
    let tokens: Vec<&Token> = spanned.iter().map(|t| &t.token).collect();
    let operators = tokens
        .iter()
        .filter(|t| match t {
            Token::Plus
            | Token::Minus
            | Token::Mul
            | Token::Div
            | Token::Mod
            | Token::StringConcat
            | Token::Eq
            | Token::DoubleEq
            | Token::Neq
            | Token::Lt
            | Token::Gt
            | Token::LtEq
            | Token::GtEq
            | Token::Pipe
            | Token::Ampersand
            | Token::Caret => true,
            Token::Word(w) => matches!(w.keyword, Keyword::AND | Keyword::OR | Keyword::NOT),
            _ => false,
        })
        .count();
    if operators > MAX_FORMULA_OPERATORS {
        return Err(format!(
            "the formula has {operators} operators; at most {MAX_FORMULA_OPERATORS} are read (split it into several fields)"
        ));
    }
    Ok(())
}

/// Refuses a `.` that does not join two parts of a field name (`Account.Name`), before
/// parsing. The SQL parser reads what follows a `.` by trying an expression first and, when
/// that fails, a plain name, and a chain whose parse fails late is read again from each of
/// its `.`s: twice the work per link (a fuzzer found 100-byte formulas taking 30 s). Between
/// two names, followed by neither `(` nor `[`, every such retry fails at once. Formulas only
/// use `.` inside field names (which real recipes quote: `"Account.Name"`) and numbers.
fn check_dots(tokens: &[datafusion::sql::sqlparser::tokenizer::TokenWithSpan]) -> Result<(), String> {
    use datafusion::sql::sqlparser::tokenizer::Token;
    let solid: Vec<_> = tokens.iter().filter(|t| !matches!(t.token, Token::Whitespace(_))).collect();
    for (i, t) in solid.iter().enumerate() {
        if t.token != Token::Period {
            continue;
        }
        let word = |j: Option<usize>| j.and_then(|j| solid.get(j)).is_some_and(|t| matches!(t.token, Token::Word(_)));
        if let Some(t) = solid.get(i + 2).filter(|t| matches!(t.token, Token::LParen | Token::LBracket))
            && word(Some(i + 1))
        {
            return Err(format!(
                "'{}' at line {}, column {} follows a dotted field name, which cannot be called or indexed",
                t.token, t.span.start.line, t.span.start.column
            ));
        }
        if !word(i.checked_sub(1)) || !word(Some(i + 1)) {
            return Err(format!(
                "'.' at line {}, column {} does not join two parts of a field name (as in Account.Name); \
                 quote a field name that holds other characters (\"Amount (USD)\")",
                t.span.start.line, t.span.start.column
            ));
        }
    }
    Ok(())
}

/// Spark SQL's spellings that the SQL parser does not know, rewritten outside quotes: `\'`
/// inside a text literal is a quote (`''`), and `!` before anything but `=` is NOT (a public
/// recipe filters on `!(StageName = 'Closed Won' OR ...)`). Lengths may change, so positions
/// in errors count in the rewritten text; both spellings are rare.
fn spark_spellings(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\\') && !text.contains('!') {
        return std::borrow::Cow::Borrowed(text);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some('\'') if c == '\\' && i + 1 < chars.len() => {
                // \' is a quote, \\ a backslash; other escapes stay as written
                match chars[i + 1] {
                    '\'' => out.push_str("''"),
                    '\\' => out.push('\\'),
                    other => {
                        out.push('\\');
                        out.push(other);
                    }
                }
                i += 2;
                continue;
            }
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' || c == '`' => quote = Some(c),
            None if c == '!' && chars.get(i + 1) != Some(&'=') => {
                out.push_str(" NOT ");
                i += 1;
                continue;
            }
            None => {}
        }
        out.push(c);
        i += 1;
    }
    std::borrow::Cow::Owned(out)
}

/// Parses a formula; the error names the position (`at line 1, column 9`). A Spark function
/// of [`super::spark::SPARK`] called with a number of arguments it does not take is refused here, so that
/// `swell validate` says so and DataFusion's messages about its own signatures never show.
pub fn parse(text: &str) -> Result<SqlExpr, String> {
    let mut expr = parse_sql(&spark_spellings(text))?;
    let mut wrong = None;
    let _ = visit_expressions_mut(&mut expr, |e| {
        // `substr(x)` parses as a SUBSTRING without a start
        if let SqlExpr::Substring { substring_from: None, .. } = e {
            wrong = Some("substr() takes 2 to 3 argument(s), got 1".to_string());
            return ControlFlow::Break(());
        }
        if let SqlExpr::Function(f) = e {
            let name = f.name.to_string().to_ascii_lowercase();
            let given = match &f.args {
                FunctionArguments::List(list) => list.args.len(),
                _ => 0,
            };
            if let Some((min, max)) = super::spark::arity(&name)
                && (given < min || given > max)
            {
                let want = match (min, max) {
                    (min, usize::MAX) => format!("at least {min}"),
                    (min, max) if min == max => min.to_string(),
                    (min, max) => format!("{min} to {max}"),
                };
                let at = f.name.0.first().and_then(|p| p.as_ident()).map(|i| i.span.start);
                let place = at.map(|l| format!(" at line {}, column {}", l.line, l.column)).unwrap_or_default();
                wrong = Some(format!("{name}() takes {want} argument(s), got {given}{place}"));
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    });
    match wrong {
        Some(m) => Err(m),
        None => Ok(expr),
    }
}

/// DataFusion's functions that make a series out of nothing (the session knows them; Spark's
/// formulas do not): one call can ask for billions of values per row.
const SERIES_FUNCTIONS: &[&str] = &["generate_series", "range", "array_repeat", "unnest"];

/// Parses one SQL expression computed from a row's fields (a formula, a filter, a digest's
/// SOQL condition once made SQL): checked first ([`precheck`]), nothing left over, and no
/// query or placeholder inside. The error names the position.
pub fn parse_sql(text: &str) -> Result<SqlExpr, String> {
    let dialect = GenericDialect {};
    precheck(text)?;
    let mut parser = Parser::new(&dialect).try_with_sql(text).map_err(|e| clean(&e.to_string(), text))?;
    let expr = parser.parse_expr().map_err(|e| clean(&e.to_string(), text))?;
    // anything left over is a mistake (`a b`, a stray `)`)
    let next = parser.peek_token();
    if next.token != datafusion::sql::sqlparser::tokenizer::Token::EOF {
        return Err(format!(
            "unexpected '{}' at line {}, column {}",
            next.token, next.span.start.line, next.span.start.column
        ));
    }
    // it computes from the row's fields: a query inside would read tables the run does not
    // have (or the session's own catalog, its table functions) and could cost without bound;
    // a placeholder (`$1`, `?`) has no value to take
    let mut expr = expr;
    let mut refused = None;
    let _ = visit_expressions_mut(&mut expr, |e| {
        match e {
            SqlExpr::Subquery(_) | SqlExpr::Exists { .. } | SqlExpr::InSubquery { .. } => {
                refused = Some(
                    "an expression cannot hold a query (SELECT, EXISTS, IN (SELECT ...)): it computes from the row's fields"
                        .to_string(),
                );
            }
            SqlExpr::Function(f) if SERIES_FUNCTIONS.contains(&f.name.to_string().to_ascii_lowercase().as_str()) => {
                refused = Some(format!(
                    "{}() makes a series of values, which no row-level expression of CRM Analytics has (a probe filled the memory with one)",
                    f.name
                ));
            }
            SqlExpr::Value(v) => {
                if let Value::Placeholder(p) = &v.value {
                    refused = Some(format!(
                        "'{p}' at line {}, column {} is a placeholder, which nothing fills: name a field or write a value",
                        v.span.start.line, v.span.start.column
                    ));
                }
            }
            _ => {}
        }
        if refused.is_some() { std::ops::ControlFlow::Break(()) } else { std::ops::ControlFlow::Continue(()) }
    });
    match refused {
        Some(m) => Err(m),
        None => Ok(expr),
    }
}

fn clean(message: &str, text: &str) -> String {
    let m = message.strip_prefix("sql parser error: ").unwrap_or(message);
    let m = m.replace("Line: ", "line ").replace("Column: ", "column ");
    if m.contains("line ") {
        return m;
    }
    // the parser names no position when the formula ends too early
    let lines: Vec<&str> = text.split('\n').collect();
    let last = lines.last().map_or(0, |l| l.chars().count());
    format!("{m} at line {}, column {}", lines.len(), last + 1)
}

/// The field names a formula reads.
pub fn fields(expr: &SqlExpr) -> Vec<String> {
    let mut expr = expr.clone();
    let mut out = Vec::new();
    let _ = visit_expressions_mut(&mut expr, |e| {
        match e {
            SqlExpr::Identifier(id) => out.push(id.value.clone()),
            SqlExpr::CompoundIdentifier(parts) => {
                out.push(parts.iter().map(|p| p.value.as_str()).collect::<Vec<_>>().join("."))
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    out
}

/// Checks a formula against the fields it can read: syntax, every field, and with known types
/// the functions and types too. Problems go to `report` (a message each).
pub fn check(text: &str, schema: &Schema, mut report: impl FnMut(String)) -> Option<Expr> {
    let parsed = match parse(text) {
        Ok(p) => p,
        Err(e) => {
            report(e);
            return None;
        }
    };
    let mut ok = true;
    for name in fields(&parsed) {
        if !schema.contains(&name) {
            report(schema.unknown_field(&name));
            ok = false;
        }
    }
    if !ok || schema.open || schema.fields.iter().any(|f| f.ty == FieldType::Unknown) {
        return None;
    }
    // typing the expression checks every call's arguments against its signature
    let typed = lower(context(), parsed, schema, 0).and_then(|e| {
        datafusion::logical_expr::ExprSchemable::get_type(&e, &df_schema(schema)?)?;
        Ok(e)
    });
    match typed {
        Ok(e) => Some(e),
        Err(e) => {
            report(unknown_function(&crate::error::clean_df_message(&e.to_string())));
            None
        }
    }
}

/// DataFusion's "Invalid function 'x'.\nDid you mean 'y'?" in one line, with a suggestion
/// of ours (DataFusion's is not stable between runs and may name swell's internal functions);
/// a wrong argument count without the list of signatures.
fn unknown_function(message: &str) -> String {
    let Some(rest) = message.strip_prefix("Invalid function '") else {
        // "Function 'power' expects 2 arguments but received 1. No function matches ...",
        // "Function 'trunc' failed to match any signature, errors: ..."
        let first = message
            .split(". No function matches")
            .next()
            .and_then(|m| m.split(", errors:").next())
            .unwrap_or(message)
            .replace("failed to match any signature", "cannot take these arguments");
        return first.split_whitespace().collect::<Vec<_>>().join(" ");
    };
    let name = rest.split('\'').next().unwrap_or_default();
    let hint = crate::error::suggest(name, function_names().iter().map(String::as_str));
    crate::error::unknown("function", name, hint)
}

/// The functions a formula can call: Spark names swell rewrites, and DataFusion's own.
fn function_names() -> &'static Vec<String> {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let state = context().state();
        let mut names: Vec<String> = super::spark::names().map(str::to_string).collect();
        names.extend(state.scalar_functions().keys().cloned());
        names.extend(state.aggregate_functions().keys().cloned());
        names.retain(|n| !Udf::is_internal(n));
        names.sort();
        names.dedup();
        names
    })
}

/// Lowers a parsed formula over `schema` (the run types of its fields) in `ctx`; `now()` is
/// the run's clock, `now_millis`.
pub fn lower(ctx: &SessionContext, mut expr: SqlExpr, schema: &Schema, now_millis: i64) -> DFResult<Expr> {
    let _ = visit_expressions_mut(&mut expr, |e| {
        super::spark::rewrite(e, now_millis);
        ControlFlow::<()>::Continue(())
    });
    let state = ctx.state();
    let with_alias = ast::ExprWithAlias { expr, alias: None };
    state.create_logical_expr_from_sql_expr(with_alias, &df_schema(schema)?)
}

/// The run types of a schema's fields, as DataFusion sees them.
fn df_schema(schema: &Schema) -> DFResult<DFSchema> {
    let arrow = ArrowSchema::new(
        schema.fields.iter().map(|f| ArrowField::new(f.name.clone(), f.ty.run_type(), true)).collect::<Vec<_>>(),
    );
    DFSchema::try_from(arrow)
}

/// A context with the recipe functions, for checking formulas without a run.
fn context() -> &'static SessionContext {
    static CTX: OnceLock<SessionContext> = OnceLock::new();
    CTX.get_or_init(|| {
        let ctx = SessionContext::new();
        register(&ctx);
        ctx
    })
}

/// Registers the functions the rewritten formulas call.
pub fn register(ctx: &SessionContext) {
    for f in Udf::ALL {
        ctx.register_udf(f.udf());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spark_escapes_and_negation_are_read() {
        assert_eq!(spark_spellings(r"a = '26% || \'x\' == 75%'"), "a = '26% || ''x'' == 75%'");
        assert_eq!(spark_spellings("!(a = 1 OR b != 2) AND c = '!'"), " NOT (a = 1 OR b != 2) AND c = '!'");
        assert_eq!(spark_spellings(r#""odd!name" = 1"#), r#""odd!name" = 1"#);
        assert!(parse(r"case when a = 'it\'s' then 1 end").is_ok());
        assert!(parse("!(StageName = 'Closed Won' OR StageName = 'Closed Lost')").is_ok());
    }

    /// The hostile probe of issue 12: `(select count(*) from range(300000) a cross join ...)`
    /// checked as a formula and kept a job busy.
    #[test]
    fn queries_are_not_formulas() {
        for q in
            ["(select 1)", "(select count(*) from range(10))", "exists (select 1)", "a in (select 1)", "1 + (select 2)"]
        {
            let e = parse(q).unwrap_err();
            assert!(e.contains("cannot hold a query"), "{q}: {e}");
        }
    }

    /// issue 12 (found by the formula fuzzer): 100-byte formulas took 30 s, because the
    /// parser read the rest of a `.` chain again at each link once a late part failed. The
    /// chains here are 40 links long: at two tries a link they would never finish.
    #[test]
    fn dot_chains_are_read_once() {
        let chain = vec!["Bt"; 40].join(".");
        for tail in [".~t", ".$1", "[[a & s", ".f(x", "[1].x.~", " ~ .x", ".'x'.~"] {
            let text = format!("{chain}{tail}");
            let e = parse(&text).unwrap_err();
            assert!(e.contains("line 1, column"), "{text}: {e}");
        }
        let e = parse("zt.Bt.zt.Bt.~t.t.Bt").unwrap_err();
        assert!(e.starts_with("'.' at line 1, column 12 does not join two parts of a field name"), "{e}");
        // field names with dots, quoted or not, and numbers still read
        for ok in [
            r#""Account.Owner.Name""#,
            "Account.Owner.Name",
            "Account . Name",
            "1.5 + a.b",
            "coalesce(\"Setup.Name\", Id)",
        ] {
            assert!(parse(ok).is_ok(), "{ok}: {:?}", parse(ok));
        }
        assert_eq!(fields(&parse("Account.Owner.Name || x").unwrap()), ["Account.Owner.Name", "x"]);
        let e = parse("lower(Name).x").unwrap_err();
        assert!(e.contains("column 12"), "{e}");
        let e = parse("Setup.Name[1]").unwrap_err();
        assert!(e.starts_with("'[' at line 1, column 11 follows a dotted field name"), "{e}");
        for f in ["generate_series(1, 300000000)", "cast(range(1, 10) as string)", "array_repeat(Name, 1000000000)"] {
            let e = parse(f).unwrap_err();
            assert!(e.contains("makes a series of values"), "{f}: {e}");
        }
        for p in ["$1 + Amount", "? = 1", "Amount > :low"] {
            let e = parse(p).unwrap_err();
            assert!(e.contains("is a placeholder"), "{p}: {e}");
        }
    }

    #[test]
    fn parse_errors_name_the_position() {
        let e = parse("Amount * ").unwrap_err();
        assert_eq!(e, "Expected: an expression, found: EOF at line 1, column 10");
        let e = parse("Amount Amount").unwrap_err();
        assert!(e.starts_with("unexpected 'Amount' at line 1, column 8"), "{e}");
    }

    #[test]
    fn unknown_functions_are_named_in_one_line() {
        let schema = Schema::new(vec![crate::schema::Field::new("Amount", FieldType::numeric(18, 2))]);
        let mut problems = Vec::new();
        check("sin(Amount) + sgn(Amount) + days_betwen(Amount, Amount)", &schema, |p| problems.push(p));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("unknown function 'sgn'"), "{problems:?}");
        assert!(!problems[0].contains('\n') && !problems[0].contains("saql_"), "{problems:?}");
        let mut problems = Vec::new();
        check("days_betwen(Amount, Amount) + weekofyeer(Amount)", &schema, |p| problems.push(p));
        assert_eq!(problems, ["unknown function 'days_betwen'"], "nothing close enough");
        let mut problems = Vec::new();
        check("weekofyeer(Amount)", &schema, |p| problems.push(p));
        assert_eq!(problems, ["unknown function 'weekofyeer' (did you mean 'weekofyear'?)"]);
    }

    /// The hostile probe of session 11: a Spark function called with the wrong number of
    /// arguments was "unknown function 'datediff' (did you mean 'datediff'?)" at run time and
    /// valid to `swell validate`; `substr(x)` gave x.
    #[test]
    fn spark_functions_take_their_number_of_arguments() {
        for (f, message) in [
            ("datediff(CloseDate)", "datediff() takes 2 argument(s), got 1 at line 1, column 1"),
            ("if(Amount > 0, 'pos')", "if() takes 3 argument(s), got 2 at line 1, column 1"),
            ("1 + to_unix_timestamp()", "to_unix_timestamp() takes 1 to 2 argument(s), got 0 at line 1, column 5"),
            ("concat()", "concat() takes at least 1 argument(s), got 0 at line 1, column 1"),
            ("substr(Name)", "substr() takes 2 to 3 argument(s), got 1"),
            ("YEAR(a, b)", "year() takes 1 argument(s), got 2 at line 1, column 1"),
        ] {
            assert_eq!(parse(f).unwrap_err(), message, "{f}");
        }
        for ok in ["trunc(Amount)", "trunc(CloseDate, 'MM')", "unix_timestamp()", "array()", "to_date(Name)"] {
            assert!(parse(ok).is_ok(), "{ok}: {:?}", parse(ok));
        }
    }

    #[test]
    fn dotted_and_quoted_names_are_fields() {
        let e = parse(r#"coalesce("User.Profile.Name", 'Undefined') || Account.Name || Amount"#).unwrap();
        assert_eq!(fields(&e), ["User.Profile.Name", "Account.Name", "Amount"]);
    }

    /// issue 12, finding 4: a formula of 5,000 terms is refused before it is parsed.
    #[test]
    fn huge_formulas_are_refused_before_parsing() {
        let long = vec!["a"; 5_000].join(" + ");
        assert!(parse(&long).unwrap_err().contains("4999 operators"));
        let ors = vec!["a = 1"; 3_000].join(" OR ");
        assert!(parse(&ors).unwrap_err().contains("operators"));
        assert!(parse(&"x".repeat(MAX_FORMULA_LENGTH + 1)).unwrap_err().contains("characters long"));
        assert!(parse(&vec!["a"; 500].join(" + ")).is_ok());
    }
}
