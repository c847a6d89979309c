//! The SAQL functions, declared once (transformations.md 2.7): each entry names a function, its
//! other spellings, how many arguments it takes, the type each argument must have and how it
//! is lowered. The checker ([`super::compile`]) reads this table for arity and argument
//! types, the suggestions for a misspelt name come from it, and the lowering calls the
//! [`Udf`] kernels by variant. Adding a function is adding an entry.
//!
//! Names are matched in any case (`daysBetween`, `DAYSBETWEEN`).

use super::ast::{Expr as Ast, ExprKind};
use super::compile::{CompileError, RelFn, SType, Scope, Typed};
use super::functions::Udf;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn as f;
use datafusion::functions_nested::expr_fn as nested;
use datafusion::logical_expr::{Expr, cast, ident, lit, try_cast, when};

type CResult<T> = Result<T, CompileError>;

/// No upper bound on the number of arguments.
const MANY: usize = usize::MAX;

/// One SAQL function.
pub struct Function {
    /// The name as the SAQL reference writes it.
    pub name: &'static str,
    /// Other spellings orgs accept for the same function.
    pub aliases: &'static [&'static str],
    /// The fewest and the most arguments ([`MANY`]: no limit).
    pub arity: (usize, usize),
    /// The type of each argument, checked before `build` runs; the last one repeats for
    /// further arguments. [`SType::Any`] leaves the argument to `build` (a field name, a type
    /// decided by the other arguments).
    pub args: &'static [SType],
    /// The lowering, given the checked arguments.
    pub build: fn(&Call<'_, '_>) -> CResult<Typed>,
}

impl Function {
    fn answers_to(&self, lname: &str) -> bool {
        self.name.eq_ignore_ascii_case(lname) || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(lname))
    }

    fn arg_type(&self, i: usize) -> SType {
        self.args.get(i).or(self.args.last()).copied().unwrap_or(SType::Any)
    }
}

/// The function called `name` (any case), if SAQL has one.
pub fn find(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.answers_to(name))
}

/// The names to suggest for a misspelt function, other spellings included (`lenght` is
/// closer to `length` than to `len`).
pub fn names() -> impl Iterator<Item = &'static str> {
    FUNCTIONS.iter().flat_map(|f| std::iter::once(f.name).chain(f.aliases.iter().copied()))
}

/// A call being lowered: the scope, the arguments as written and those already checked
/// against the declared types.
pub struct Call<'s, 'a> {
    pub scope: &'s Scope<'a>,
    /// The name as written.
    pub name: &'s str,
    /// The name in lower case: one builder serves a family (`day_in_week`, `day_in_month`).
    pub lname: String,
    pub args: &'s [Ast],
    pub pos: usize,
    checked: Vec<Option<Expr>>,
}

impl<'s, 'a> Call<'s, 'a> {
    /// Checks the arity and the declared argument types of `func` called as `name`.
    pub fn check(scope: &'s Scope<'a>, func: &Function, name: &'s str, args: &'s [Ast], pos: usize) -> CResult<Self> {
        let (min, max) = func.arity;
        if args.len() < min || args.len() > max {
            let want = match (min, max) {
                (_, MANY) => format!("at least {min}"),
                (min, max) if min == max => format!("{min}"),
                _ => format!("{min} to {max}"),
            };
            return Err(CompileError {
                pos,
                message: format!("{name}() takes {want} argument(s), got {}", args.len()),
            });
        }
        let mut checked = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            checked.push(match func.arg_type(i) {
                SType::Any => None,
                ty => Some(scope.expect(a, ty, &format!("argument {} of {name}()", i + 1))?.expr),
            });
        }
        Ok(Call { scope, name, lname: name.to_ascii_lowercase(), args, pos, checked })
    }

    /// The checked argument `i`.
    pub fn arg(&self, i: usize) -> CResult<Expr> {
        self.checked.get(i).cloned().flatten().ok_or_else(|| CompileError {
            pos: self.pos,
            message: format!("internal: argument {} of {}() was not checked", i + 1, self.name),
        })
    }

    /// The checked arguments `from..`, as many as were given.
    pub fn rest(&self, from: usize) -> CResult<Vec<Expr>> {
        (from..self.args.len()).map(|i| self.arg(i)).collect()
    }

    /// The checked arguments.
    pub fn all(&self) -> CResult<Vec<Expr>> {
        self.rest(0)
    }

    fn err<T>(&self, pos: usize, message: impl Into<String>) -> CResult<T> {
        Err(CompileError { pos, message: message.into() })
    }

    /// `when(cond, null).otherwise(then)`: SAQL's null for undefined results.
    fn null_when(&self, cond: Expr, null: ScalarValue, then: Expr) -> CResult<Expr> {
        when(cond, lit(null)).otherwise(then).map_err(|e| CompileError { pos: self.pos, message: e.to_string() })
    }

    /// The argument `i` when it is a string literal.
    fn literal(&self, i: usize) -> Option<&str> {
        match self.args.get(i).map(|a| &a.kind) {
            Some(ExprKind::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// Refuses a date pattern literal that does not parse, at its position.
    fn check_pattern(&self, i: usize) -> CResult<()> {
        if let Some(pattern) = self.literal(i)
            && let Err(e) = crate::dateformat::DateFormat::parse(pattern)
        {
            return self.err(self.args[i].pos, e);
        }
        Ok(())
    }
}

fn typed(ty: SType, expr: Expr) -> CResult<Typed> {
    Ok(Typed { ty, expr })
}
fn number(expr: Expr) -> CResult<Typed> {
    typed(SType::Number, expr)
}
fn text(expr: Expr) -> CResult<Typed> {
    typed(SType::Text, expr)
}
fn boolean(expr: Expr) -> CResult<Typed> {
    typed(SType::Bool, expr)
}
fn date(expr: Expr) -> CResult<Typed> {
    typed(SType::Date, expr)
}

fn trim(c: &Call<'_, '_>, op: fn(Vec<Expr>) -> Expr) -> CResult<Typed> {
    let chars = if c.args.len() == 2 { c.arg(1)? } else { lit(" ") };
    text(op(vec![c.arg(0)?, chars]))
}

fn affix(c: &Call<'_, '_>, op: fn(Expr, Expr) -> Expr) -> CResult<Typed> {
    let affix = c.arg(1)?;
    boolean(c.null_when(affix.clone().eq(lit("")), ScalarValue::Boolean(None), op(c.arg(0)?, affix))?)
}

fn math(c: &Call<'_, '_>, op: fn(Expr) -> Expr) -> CResult<Typed> {
    number(op(c.arg(0)?))
}

fn relative(c: &Call<'_, '_>, func: RelFn) -> CResult<Typed> {
    let Some(relative) = c.scope.relative else {
        return c.err(c.pos, format!("{}() can only be used in a computeRelative node", c.name));
    };
    let ExprKind::Field(field) = &c.args[0].kind else {
        return c.err(c.args[0].pos, format!("{}() takes a field name", c.name));
    };
    relative.relative(func, field).map_err(|message| CompileError { pos: c.args[0].pos, message })
}

/// The date parts `date_diff` counts boundaries of.
const DATE_DIFF_PARTS: &[&str] = &["year", "quarter", "month", "week", "day", "hour", "minute", "second"];

use SType::{Any, Date as D, MultiValue as Mv, Number as N, Text as T};

/// Every SAQL function swell runs.
pub static FUNCTIONS: &[Function] = &[
    // ----- text -----
    Function {
        name: "substr",
        aliases: &["substring"],
        arity: (2, 3),
        args: &[T, N, N],
        build: |c| text(Udf::Substr.call(c.all()?)),
    },
    Function {
        name: "len",
        aliases: &["length"],
        arity: (1, 1),
        args: &[T],
        build: |c| number(cast(f::character_length(c.arg(0)?), DataType::Float64)),
    },
    Function { name: "lower", aliases: &[], arity: (1, 1), args: &[T], build: |c| text(f::lower(c.arg(0)?)) },
    Function { name: "upper", aliases: &[], arity: (1, 1), args: &[T], build: |c| text(f::upper(c.arg(0)?)) },
    Function { name: "trim", aliases: &[], arity: (1, 2), args: &[T], build: |c| trim(c, f::btrim) },
    Function { name: "ltrim", aliases: &[], arity: (1, 2), args: &[T], build: |c| trim(c, f::ltrim) },
    Function { name: "rtrim", aliases: &[], arity: (1, 2), args: &[T], build: |c| trim(c, f::rtrim) },
    Function {
        name: "replace",
        aliases: &[],
        arity: (3, 3),
        args: &[T],
        // an empty search text gives null
        build: |c| {
            let search = c.arg(1)?;
            let replaced = f::replace(c.arg(0)?, search.clone(), c.arg(2)?);
            text(c.null_when(search.eq(lit("")), ScalarValue::Utf8(None), replaced)?)
        },
    },
    Function {
        name: "index_of",
        aliases: &[],
        arity: (2, 4),
        args: &[T, T, N, N],
        build: |c| number(Udf::IndexOf.call(c.all()?)),
    },
    Function { name: "starts_with", aliases: &[], arity: (2, 2), args: &[T], build: |c| affix(c, f::starts_with) },
    Function { name: "ends_with", aliases: &[], arity: (2, 2), args: &[T], build: |c| affix(c, f::ends_with) },
    Function {
        name: "number_to_string",
        aliases: &[],
        arity: (2, 2),
        args: &[N, T],
        build: |c| text(Udf::NumberToString.call(c.all()?)),
    },
    Function {
        name: "string_to_number",
        aliases: &[],
        arity: (1, 1),
        args: &[T],
        build: |c| number(Udf::StringToNumber.call(c.all()?)),
    },
    Function {
        name: "mv_to_string",
        aliases: &[],
        arity: (1, 2),
        args: &[Mv, T],
        build: |c| {
            let sep = if c.args.len() == 2 { c.arg(1)? } else { lit(", ") };
            text(nested::array_to_string(c.arg(0)?, sep))
        },
    },
    Function {
        name: "chr",
        aliases: &[],
        arity: (1, 1),
        args: &[N],
        build: |c| text(f::chr(cast(c.arg(0)?, DataType::Int64))),
    },
    // ----- math -----
    Function { name: "abs", aliases: &[], arity: (1, 1), args: &[N], build: |c| math(c, f::abs) },
    Function { name: "ceil", aliases: &[], arity: (1, 1), args: &[N], build: |c| math(c, f::ceil) },
    Function { name: "floor", aliases: &[], arity: (1, 1), args: &[N], build: |c| math(c, f::floor) },
    Function {
        name: "sqrt",
        aliases: &[],
        arity: (1, 1),
        args: &[N],
        build: |c| {
            let x = c.arg(0)?;
            number(c.null_when(x.clone().lt(lit(0.0)), ScalarValue::Float64(None), f::sqrt(x))?)
        },
    },
    Function { name: "exp", aliases: &[], arity: (1, 1), args: &[N], build: |c| math(c, f::exp) },
    Function { name: "sin", aliases: &[], arity: (1, 1), args: &[N], build: |c| math(c, f::sin) },
    Function { name: "cos", aliases: &[], arity: (1, 1), args: &[N], build: |c| math(c, f::cos) },
    Function { name: "tan", aliases: &[], arity: (1, 1), args: &[N], build: |c| math(c, f::tan) },
    Function { name: "asin", aliases: &[], arity: (1, 1), args: &[N], build: |c| math(c, f::asin) },
    Function { name: "acos", aliases: &[], arity: (1, 1), args: &[N], build: |c| math(c, f::acos) },
    Function { name: "atan", aliases: &[], arity: (1, 1), args: &[N], build: |c| math(c, f::atan) },
    Function { name: "degrees", aliases: &[], arity: (1, 1), args: &[N], build: |c| math(c, f::degrees) },
    Function { name: "radians", aliases: &[], arity: (1, 1), args: &[N], build: |c| math(c, f::radians) },
    Function { name: "round", aliases: &[], arity: (1, 2), args: &[N], build: |c| number(Udf::Round.call(c.all()?)) },
    Function { name: "trunc", aliases: &[], arity: (1, 2), args: &[N], build: |c| number(Udf::Trunc.call(c.all()?)) },
    Function {
        name: "power",
        aliases: &[],
        arity: (2, 2),
        args: &[N],
        // 0 to a negative power is undefined: null
        build: |c| {
            let (m, n) = (c.arg(0)?, c.arg(1)?);
            let undefined = m.clone().eq(lit(0.0)).and(n.clone().lt(lit(0.0)));
            number(c.null_when(undefined, ScalarValue::Float64(None), f::power(m, n))?)
        },
    },
    Function {
        name: "log",
        aliases: &[],
        arity: (2, 2),
        args: &[N],
        build: |c| {
            let (base, x) = (c.arg(0)?, c.arg(1)?);
            let bad = base.clone().lt_eq(lit(0.0)).or(base.clone().eq(lit(1.0))).or(x.clone().lt_eq(lit(0.0)));
            number(c.null_when(bad, ScalarValue::Float64(None), f::log(base, x))?)
        },
    },
    Function {
        name: "sign",
        aliases: &[],
        arity: (1, 1),
        args: &[N],
        build: |c| {
            let x = c.arg(0)?;
            let sign = when(x.clone().gt(lit(0.0)), lit(1.0))
                .when(x.clone().lt(lit(0.0)), lit(-1.0))
                .when(x.eq(lit(0.0)), lit(0.0))
                .end()
                .map_err(|e| CompileError { pos: c.pos, message: e.to_string() })?;
            number(sign)
        },
    },
    Function { name: "pi", aliases: &[], arity: (0, 0), args: &[], build: |_| number(lit(std::f64::consts::PI)) },
    // ----- dates -----
    Function {
        name: "toDate",
        aliases: &[],
        arity: (1, 2),
        args: &[Any, T],
        build: |c| {
            // toDate('DateColumn') is the date itself
            if let ExprKind::Field(name) = &c.args[0].kind
                && c.scope.schema.get(name).is_some_and(|f| f.ty.is_date())
            {
                return date(ident(name.as_str()));
            }
            let first = c.scope.compile(&c.args[0])?;
            // toDate(epoch seconds)
            if c.args.len() == 1 && first.ty == SType::Number {
                let millis = cast(first.expr * lit(1000.0), DataType::Int64);
                return date(cast(millis, SType::Date.run_type()));
            }
            let s = c.scope.expect_compiled(first, c.args[0].pos, T, "argument 1 of toDate()")?;
            let pattern = if c.args.len() == 2 { c.arg(1)? } else { lit("yyyy-MM-dd HH:mm:ss") };
            c.check_pattern(1)?;
            date(Udf::ToDate.call(vec![s.expr, pattern]))
        },
    },
    Function {
        name: "toString",
        aliases: &["date_to_string"],
        arity: (2, 2),
        args: &[D, T],
        build: |c| {
            c.check_pattern(1)?;
            text(Udf::FormatDate.call(c.all()?))
        },
    },
    Function {
        name: "date_to_epoch",
        aliases: &[],
        arity: (1, 1),
        args: &[D],
        build: |c| number(cast(cast(c.arg(0)?, DataType::Int64), DataType::Float64) / lit(1000.0)),
    },
    Function {
        name: "daysBetween",
        aliases: &[],
        arity: (2, 2),
        args: &[D, D],
        build: |c| number(Udf::DaysBetween.call(c.all()?)),
    },
    Function {
        name: "date_diff",
        aliases: &[],
        arity: (3, 3),
        args: &[T, D, D],
        build: |c| {
            if let Some(part) = c.literal(0)
                && !DATE_DIFF_PARTS.contains(&part.to_ascii_lowercase().as_str())
            {
                return c.err(
                    c.args[0].pos,
                    format!(
                        "date_diff: unknown date part \"{part}\" (year, quarter, month, week, day, hour, minute or second)"
                    ),
                );
            }
            number(Udf::DateDiff.call(c.all()?))
        },
    },
    Function {
        name: "now",
        aliases: &[],
        arity: (0, 0),
        args: &[],
        build: |c| date(lit(ScalarValue::TimestampMillisecond(Some(c.scope.now_millis), None))),
    },
    Function {
        name: "date",
        aliases: &[],
        arity: (3, 3),
        args: &[Any],
        build: |c| {
            // the date parts of a date are text fields (`'CloseDate_Year'`): read as numbers
            let part = |i: usize| -> CResult<Expr> {
                let t = c.scope.compile(&c.args[i])?;
                match t.ty {
                    SType::Text => Ok(try_cast(t.expr, DataType::Float64)),
                    _ => {
                        Ok(c.scope.expect_compiled(t, c.args[i].pos, N, &format!("argument {} of date()", i + 1))?.expr)
                    }
                }
            };
            date(Udf::Date.call(vec![part(0)?, part(1)?, part(2)?]))
        },
    },
    day_number("day_in_week"),
    day_number("day_in_month"),
    day_number("day_in_quarter"),
    day_number("day_in_year"),
    day_number("days_in_month"),
    day_number("days_in_quarter"),
    day_number("days_in_year"),
    period_bound("week_first_day"),
    period_bound("week_last_day"),
    period_bound("month_first_day"),
    period_bound("month_last_day"),
    period_bound("quarter_first_day"),
    period_bound("quarter_last_day"),
    period_bound("year_first_day"),
    period_bound("year_last_day"),
    // ----- other -----
    Function {
        name: "coalesce",
        aliases: &[],
        arity: (1, MANY),
        args: &[Any],
        // the arguments' common type
        build: |c| {
            let compiled = c.args.iter().map(|a| c.scope.compile(a)).collect::<CResult<Vec<_>>>()?;
            let mut ty = SType::Null;
            for (a, t) in c.args.iter().zip(&compiled) {
                ty = super::compile::unify(ty, t.ty).ok_or_else(|| CompileError {
                    pos: a.pos,
                    message: format!(
                        "coalesce() arguments must have one type: found {} and {}",
                        ty.name(),
                        t.ty.name()
                    ),
                })?;
            }
            let exprs = compiled.into_iter().map(|t| c.scope.typed_null(t, ty).expr).collect();
            typed(ty, f::coalesce(exprs))
        },
    },
    // ----- computeRelative -----
    Function { name: "previous", aliases: &[], arity: (1, 1), args: &[Any], build: |c| relative(c, RelFn::Previous) },
    Function { name: "next", aliases: &[], arity: (1, 1), args: &[Any], build: |c| relative(c, RelFn::Next) },
    Function { name: "first", aliases: &[], arity: (1, 1), args: &[Any], build: |c| relative(c, RelFn::First) },
    Function { name: "current", aliases: &[], arity: (1, 1), args: &[Any], build: |c| relative(c, RelFn::Current) },
];

/// `day_in_week(d)` and the other day counts of a date: one kernel, told which by name.
const fn day_number(name: &'static str) -> Function {
    Function {
        name,
        aliases: &[],
        arity: (1, 1),
        args: &[D],
        build: |c| number(Udf::DateNumber.call(vec![lit(c.lname.clone()), c.arg(0)?])),
    }
}

/// `month_first_day(d)` and the other period bounds of a date: one kernel, told which by name.
const fn period_bound(name: &'static str) -> Function {
    Function {
        name,
        aliases: &[],
        arity: (1, 1),
        args: &[D],
        build: |c| date(Udf::DateShift.call(vec![lit(c.lname.clone()), c.arg(0)?])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_declared_once() {
        let mut all: Vec<String> = FUNCTIONS
            .iter()
            .flat_map(|f| std::iter::once(f.name).chain(f.aliases.iter().copied()))
            .map(str::to_ascii_lowercase)
            .collect();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n, "a name or alias appears twice");
        for f in FUNCTIONS {
            assert!(f.arity.0 <= f.arity.1, "{}", f.name);
            assert!(f.args.len() <= f.arity.1, "{}: more argument types than arguments", f.name);
        }
        assert!(find("DAYSBETWEEN").is_some() && find("substring").is_some() && find("sgn").is_none());
    }

    /// Every function lowers when called with arguments of its declared types, at its fewest
    /// and its most arguments, and is refused, naming its arity, with one too many: the table
    /// and the builders agree.
    #[test]
    fn every_function_lowers_with_its_declared_arguments() {
        use crate::schema::{Field, FieldType, Schema};
        let schema = Schema::new(vec![
            Field::new("Name", FieldType::Text),
            Field::new("Amount", FieldType::numeric(18, 2)),
            Field::new("CloseDate", FieldType::plain_date()),
            Field::new("Flags", FieldType::MultiValue),
        ]);
        let scope = Scope { schema: &schema, now_millis: 0, relative: None };
        let sample = |f: &Function, i: usize| -> &'static str {
            match f.arg_type(i) {
                SType::Text if f.name == "date_diff" => "\"month\"",
                SType::Text if matches!(f.name, "toDate" | "toString") => "\"yyyy-MM-dd\"",
                SType::Text => "Name",
                SType::Number => "Amount",
                SType::Date => "toDate(CloseDate)",
                SType::MultiValue => "Flags",
                _ if f.name == "toDate" => "\"2024-01-31\"",
                _ if f.name == "date" => "2024",
                _ => "Name",
            }
        };
        for f in FUNCTIONS {
            let (min, max) = f.arity;
            let counts = if max == MANY { vec![min, min + 2] } else { vec![min, max] };
            for n in counts {
                let args: Vec<&str> = (0..n).map(|i| sample(f, i)).collect();
                let src = format!("{}({})", f.name, args.join(", "));
                match super::super::compile(&src, &scope) {
                    Ok(_) => {}
                    Err(e) if matches!(f.name, "previous" | "next" | "first" | "current") => {
                        assert!(e.contains("only be used in a computeRelative node"), "{src}: {e}")
                    }
                    Err(e) => panic!("{src}: {e}"),
                }
            }
            if max != MANY {
                let args: Vec<&str> = (0..=max).map(|i| sample(f, i)).collect();
                let src = format!("{}({})", f.name, args.join(", "));
                let e = super::super::compile(&src, &scope).unwrap_err();
                assert!(
                    e.contains(&format!("{}() takes", f.name)) && e.contains(&format!("got {}", max + 1)),
                    "{src}: {e}"
                );
            }
        }
    }
}
