//! Type-checks a SAQL expression against a node's input schema and lowers it to a DataFusion
//! expression. Checking and lowering are one pass: the types decide the lowering (`+` is
//! addition for numbers and concatenation for text).
//!
//! Type rules (transformations.md 2.7): Text, Number, Boolean and Date values; a date *column*
//! reads as its ISO text (`2018-02-25T00:00:03.000Z`) as in a dataset, and `toDate('X')` of a
//! date column gives the date itself. Comparisons need the same type on both sides; `null`
//! fits anywhere. Division or modulo by zero gives null. Multi-value fields may only be used
//! with `in`, `not in` and `is null`.

use super::ast::{BinOp, Expr as Ast, ExprKind, InItem};
use super::functions::call;
use crate::schema::{FieldType, Schema};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn as f;
use datafusion::functions_nested::expr_fn as nested;
use datafusion::logical_expr::expr::Like;
use datafusion::logical_expr::{Expr, Operator, binary_expr, case, cast, ident, lit, try_cast, when};

/// The value types of SAQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SType {
    Text,
    Number,
    Bool,
    Date,
    MultiValue,
    /// The `null` literal: fits any type.
    Null,
    /// A field whose type is unknown while validating without data.
    Any,
}

impl SType {
    pub fn name(self) -> &'static str {
        match self {
            SType::Text => "Text",
            SType::Number => "Numeric",
            SType::Bool => "Boolean",
            SType::Date => "Date",
            SType::MultiValue => "MultiValue",
            SType::Null => "null",
            SType::Any => "unknown",
        }
    }

    pub fn of_field(ty: &FieldType) -> SType {
        match ty {
            FieldType::Text => SType::Text,
            FieldType::MultiValue => SType::MultiValue,
            FieldType::Numeric { .. } => SType::Number,
            FieldType::Date { .. } => SType::Text,
            FieldType::Unknown => SType::Any,
        }
    }

    fn fits(self, want: SType) -> bool {
        self == want || matches!(self, SType::Null | SType::Any) || want == SType::Any
    }

    fn run_type(self) -> DataType {
        match self {
            SType::Number => DataType::Float64,
            SType::Bool => DataType::Boolean,
            SType::Date => DataType::Timestamp(TimeUnit::Millisecond, None),
            _ => DataType::Utf8,
        }
    }
}

/// A checked and lowered expression.
#[derive(Debug, Clone)]
pub struct Typed {
    pub ty: SType,
    pub expr: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CompileError {
    pub pos: usize,
    pub message: String,
}

type CResult<T> = Result<T, CompileError>;

fn err<T>(pos: usize, message: impl Into<String>) -> CResult<T> {
    Err(CompileError { pos, message: message.into() })
}

/// The computeRelative functions `previous(f)`, `next(f)`, `first(f)`, `current(f)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelFn {
    Previous,
    Next,
    First,
    Current,
}

/// Supplies `previous(f)` and friends; only computeRelative has one.
pub trait Relative {
    fn relative(&self, func: RelFn, field: &str) -> Result<Typed, String>;
}

/// What an expression can see.
pub struct Scope<'a> {
    pub schema: &'a Schema,
    /// `now()`, in epoch milliseconds, from the run's clock.
    pub now_millis: i64,
    pub relative: Option<&'a dyn Relative>,
}

impl Scope<'_> {
    pub fn compile(&self, e: &Ast) -> CResult<Typed> {
        match &e.kind {
            ExprKind::Null => Ok(Typed { ty: SType::Null, expr: lit(ScalarValue::Null) }),
            ExprKind::Bool(b) => Ok(Typed { ty: SType::Bool, expr: lit(*b) }),
            ExprKind::Num(n) => Ok(Typed { ty: SType::Number, expr: lit(*n) }),
            ExprKind::Str(s) => Ok(Typed { ty: SType::Text, expr: lit(s.clone()) }),
            ExprKind::Field(name) => self.field(name, e.pos),
            ExprKind::Neg(inner) => {
                let t = self.expect(inner, SType::Number, "unary '-'")?;
                Ok(Typed { ty: SType::Number, expr: Expr::Negative(Box::new(t.expr)) })
            }
            ExprKind::Not(inner) => {
                let t = self.expect(inner, SType::Bool, "'!'")?;
                Ok(Typed { ty: SType::Bool, expr: Expr::Not(Box::new(t.expr)) })
            }
            ExprKind::Binary { op, left, right } => self.binary(*op, left, right, e.pos),
            ExprKind::IsNull { expr, negated } => {
                let t = self.compile(expr)?;
                let out = if *negated { t.expr.is_not_null() } else { t.expr.is_null() };
                Ok(Typed { ty: SType::Bool, expr: out })
            }
            ExprKind::Like { expr, pattern, negated } => {
                let t = self.expect(expr, SType::Text, "'like'")?;
                let p = self.expect(pattern, SType::Text, "'like'")?;
                let like = Expr::Like(Like::new(*negated, Box::new(t.expr), Box::new(p.expr), Some('\\'), false));
                Ok(Typed { ty: SType::Bool, expr: like })
            }
            ExprKind::Matches { expr, pattern } => {
                let t = self.expect(expr, SType::Text, "'matches'")?;
                let p = self.expect(pattern, SType::Text, "'matches'")?;
                let found = f::strpos(f::lower(t.expr), f::lower(p.expr)).gt(lit(0i64));
                Ok(Typed { ty: SType::Bool, expr: found })
            }
            ExprKind::In { expr, items, negated } => self.in_list(expr, items, *negated),
            ExprKind::Case { operand, whens, otherwise } => {
                self.case(operand.as_deref(), whens, otherwise.as_deref(), e.pos)
            }
            ExprKind::Call { name, args } => self.call(name, args, e.pos),
        }
    }

    /// Compiles `e` and checks it has type `want` (null and unknown fit).
    pub fn expect(&self, e: &Ast, want: SType, context: &str) -> CResult<Typed> {
        let t = self.compile(e)?;
        if t.ty == SType::MultiValue && want != SType::MultiValue {
            return err(
                e.pos,
                format!("multi-value fields can only be used with 'in', 'not in' and 'is null', not with {context}"),
            );
        }
        if !t.ty.fits(want) {
            return err(e.pos, format!("{context} needs a {} value, found {}", want.name(), t.ty.name()));
        }
        Ok(self.typed_null(t, want))
    }

    /// Gives a bare `null` the run type of the context so that kernels see a typed column.
    fn typed_null(&self, t: Typed, want: SType) -> Typed {
        if t.ty == SType::Null && want != SType::Any {
            Typed { ty: SType::Null, expr: cast(t.expr, want.run_type()) }
        } else {
            t
        }
    }

    fn field(&self, name: &str, pos: usize) -> CResult<Typed> {
        let Some(field) = self.schema.get(name) else {
            if self.schema.open {
                return Ok(Typed { ty: SType::Any, expr: ident(name) });
            }
            return err(pos, self.schema.unknown_field(name));
        };
        let column = ident(name);
        if field.ty.is_date() {
            let text = super::functions::to_text(column, &field.ty);
            return Ok(Typed { ty: SType::Text, expr: text });
        }
        Ok(Typed { ty: SType::of_field(&field.ty), expr: column })
    }

    fn binary(&self, op: BinOp, left: &Ast, right: &Ast, pos: usize) -> CResult<Typed> {
        match op {
            BinOp::And | BinOp::Or => {
                let l = self.expect(left, SType::Bool, &format!("'{}'", op.symbol()))?;
                let r = self.expect(right, SType::Bool, &format!("'{}'", op.symbol()))?;
                let expr = if op == BinOp::And { l.expr.and(r.expr) } else { l.expr.or(r.expr) };
                Ok(Typed { ty: SType::Bool, expr })
            }
            BinOp::Add => {
                let l = self.compile(left)?;
                let r = self.compile(right)?;
                let text = |t: SType| t == SType::Text;
                if text(l.ty) || text(r.ty) {
                    let l = self.expect_compiled(l, left.pos, SType::Text, "'+' on text")?;
                    let r = self.expect_compiled(r, right.pos, SType::Text, "'+' on text")?;
                    return Ok(Typed { ty: SType::Text, expr: binary_expr(l.expr, Operator::StringConcat, r.expr) });
                }
                // two fields of unknown type (checked without data) may be texts: '+' joins them
                if l.ty == SType::Any && r.ty == SType::Any {
                    return Ok(Typed { ty: SType::Any, expr: l.expr + r.expr });
                }
                let l = self.expect_compiled(l, left.pos, SType::Number, "'+'")?;
                let r = self.expect_compiled(r, right.pos, SType::Number, "'+'")?;
                Ok(Typed { ty: SType::Number, expr: l.expr + r.expr })
            }
            BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
                let ctx = format!("'{}'", op.symbol());
                let l = self.expect(left, SType::Number, &ctx)?;
                let r = self.expect(right, SType::Number, &ctx)?;
                let expr = match op {
                    BinOp::Sub => l.expr - r.expr,
                    BinOp::Mul => l.expr * r.expr,
                    BinOp::Div => l.expr / f::nullif(r.expr, lit(0.0)),
                    _ => l.expr % f::nullif(r.expr, lit(0.0)),
                };
                Ok(Typed { ty: SType::Number, expr })
            }
            _ => {
                let l = self.compile(left)?;
                let r = self.compile(right)?;
                for (t, p) in [(&l, left.pos), (&r, right.pos)] {
                    if t.ty == SType::MultiValue {
                        return err(p, "multi-value fields can only be compared with 'in' and 'not in'");
                    }
                }
                let ty = unify(l.ty, r.ty).ok_or_else(|| CompileError {
                    pos,
                    message: format!("cannot compare {} with {} using '{}'", l.ty.name(), r.ty.name(), op.symbol()),
                })?;
                let l = self.typed_null(l, ty);
                let r = self.typed_null(r, ty);
                let operator = match op {
                    BinOp::Eq => Operator::Eq,
                    BinOp::NotEq => Operator::NotEq,
                    BinOp::Lt => Operator::Lt,
                    BinOp::LtEq => Operator::LtEq,
                    BinOp::Gt => Operator::Gt,
                    _ => Operator::GtEq,
                };
                Ok(Typed { ty: SType::Bool, expr: binary_expr(l.expr, operator, r.expr) })
            }
        }
    }

    fn expect_compiled(&self, t: Typed, pos: usize, want: SType, context: &str) -> CResult<Typed> {
        if !t.ty.fits(want) {
            return err(pos, format!("{context} needs a {} value, found {}", want.name(), t.ty.name()));
        }
        Ok(self.typed_null(t, want))
    }

    fn in_list(&self, expr: &Ast, items: &[InItem], negated: bool) -> CResult<Typed> {
        let subject = self.compile(expr)?;
        let elem_ty = if subject.ty == SType::MultiValue { SType::Text } else { subject.ty };
        let mut values = Vec::new();
        // (lower bound: subject >= it; upper bound: subject <= it, or < it when exclusive)
        type Upper = Option<(Expr, bool)>;
        let mut ranges: Vec<(Option<Expr>, Upper)> = Vec::new();
        for item in items {
            match item {
                InItem::Value(v) => match self.relative_date(&subject, v) {
                    // a relative date in a list is its whole period
                    Some((start, end)) => ranges.push((Some(start), Some((end, true)))),
                    None => values.push(self.expect(v, elem_ty, "'in'")?.expr),
                },
                InItem::Range(a, b) => {
                    if subject.ty == SType::MultiValue {
                        return err(
                            a.as_ref().or(b.as_ref()).map_or(expr.pos, |x| x.pos),
                            "ranges cannot be used with a multi-value field",
                        );
                    }
                    let lo = match a {
                        None => None,
                        Some(a) => match self.relative_date(&subject, a) {
                            Some((start, _)) => Some(start),
                            None => Some(self.expect(a, elem_ty, "a range")?.expr),
                        },
                    };
                    let hi = match b {
                        None => None,
                        Some(b) => match self.relative_date(&subject, b) {
                            Some((_, end)) => Some((end, true)),
                            None => Some((self.expect(b, elem_ty, "a range")?.expr, false)),
                        },
                    };
                    ranges.push((lo, hi));
                }
            }
        }
        let mut parts = Vec::new();
        if !values.is_empty() {
            parts.push(if subject.ty == SType::MultiValue {
                nested::array_has_any(subject.expr.clone(), nested::make_array(values))
            } else {
                subject.expr.clone().in_list(values, false)
            });
        }
        for (lo, hi) in ranges {
            let lower = lo.map(|lo| subject.expr.clone().gt_eq(lo));
            let upper = hi.map(
                |(hi, exclusive)| {
                    if exclusive { subject.expr.clone().lt(hi) } else { subject.expr.clone().lt_eq(hi) }
                },
            );
            // an open range still needs a value: null is in no range
            let part = match (lower, upper) {
                (Some(l), Some(u)) => l.and(u),
                (Some(x), None) | (None, Some(x)) => x,
                (None, None) => subject.expr.clone().is_not_null(),
            };
            parts.push(part);
        }
        // an empty array matches nothing
        let any = parts.into_iter().reduce(Expr::or).unwrap_or_else(|| lit(false));
        Ok(Typed { ty: SType::Bool, expr: if negated { Expr::Not(Box::new(any)) } else { any } })
    }

    /// A relative date string (`"1 year ago"`, see [`super::relative`]) compared with a date:
    /// its period's first instant and the first instant after it.
    fn relative_date(&self, subject: &Typed, item: &Ast) -> Option<(Expr, Expr)> {
        let ExprKind::Str(text) = &item.kind else { return None };
        if subject.ty != SType::Date {
            return None;
        }
        let relative = super::relative::RelativeDate::parse(text)?;
        let today = crate::dateformat::from_millis(self.now_millis)?.date();
        let (start, end) = relative.period(today)?;
        let at = |d: chrono::NaiveDate| {
            let ms = d.and_hms_opt(0, 0, 0).map(|dt| crate::dateformat::to_millis(&dt));
            lit(ScalarValue::TimestampMillisecond(ms, None))
        };
        Some((at(start), at(end)))
    }

    fn case(&self, operand: Option<&Ast>, whens: &[(Ast, Ast)], otherwise: Option<&Ast>, pos: usize) -> CResult<Typed> {
        let operand = operand.map(|o| self.compile(o)).transpose()?;
        let mut conds = Vec::new();
        let mut results = Vec::new();
        for (w, t) in whens {
            let c = match &operand {
                Some(op) => {
                    let v = self.compile(w)?;
                    if unify(op.ty, v.ty).is_none() {
                        return err(
                            w.pos,
                            format!("'when' value is {} but the case operand is {}", v.ty.name(), op.ty.name()),
                        );
                    }
                    v
                }
                None => self.expect(w, SType::Bool, "'when'")?,
            };
            conds.push(c.expr);
            results.push((t.pos, self.compile(t)?));
        }
        let other = otherwise.map(|o| Ok::<_, CompileError>((o.pos, self.compile(o)?))).transpose()?;
        let mut ty = SType::Null;
        for (p, r) in results.iter().chain(other.iter()) {
            ty = unify(ty, r.ty).ok_or_else(|| CompileError {
                pos: *p,
                message: format!("case branches must have one type: found {} and {}", ty.name(), r.ty.name()),
            })?;
        }
        if ty == SType::MultiValue {
            return err(pos, "a case cannot return a multi-value field");
        }
        let out_ty = if ty == SType::Null { SType::Text } else { ty };
        let mut branches = conds.into_iter().zip(results.into_iter().map(|(_, r)| self.typed_null(r, out_ty).expr));
        let (c0, r0) = branches.next().expect("at least one when");
        let mut builder = match &operand {
            Some(op) => case(op.expr.clone()).when(c0, r0),
            None => when(c0, r0),
        };
        for (c, r) in branches {
            builder.when(c, r);
        }
        let expr = match other {
            Some((_, o)) => builder.otherwise(self.typed_null(o, out_ty).expr),
            None => builder.end(),
        }
        .map_err(|e| CompileError { pos, message: e.to_string() })?;
        Ok(Typed { ty, expr })
    }

    fn call(&self, name: &str, args: &[Ast], pos: usize) -> CResult<Typed> {
        let lname = name.to_ascii_lowercase();
        let arity = |min: usize, max: usize| -> CResult<()> {
            if args.len() < min || args.len() > max {
                let want = if min == max { format!("{min}") } else { format!("{min} to {max}") };
                return err(pos, format!("{name}() takes {want} argument(s), got {}", args.len()));
            }
            Ok(())
        };
        let text =
            |i: usize| self.expect(&args[i], SType::Text, &format!("argument {} of {name}()", i + 1)).map(|t| t.expr);
        let num =
            |i: usize| self.expect(&args[i], SType::Number, &format!("argument {} of {name}()", i + 1)).map(|t| t.expr);
        let date =
            |i: usize| self.expect(&args[i], SType::Date, &format!("argument {} of {name}()", i + 1)).map(|t| t.expr);
        let number = |expr: Expr| Ok(Typed { ty: SType::Number, expr });
        let string = |expr: Expr| Ok(Typed { ty: SType::Text, expr });
        let boolean = |expr: Expr| Ok(Typed { ty: SType::Bool, expr });
        let a_date = |expr: Expr| Ok(Typed { ty: SType::Date, expr });
        let null_if_empty = |arg: Expr, then: Expr| {
            when(arg.eq(lit("")), lit(ScalarValue::Utf8(None)))
                .otherwise(then)
                .map_err(|e| CompileError { pos, message: e.to_string() })
        };
        let rel = match lname.as_str() {
            "previous" => Some(RelFn::Previous),
            "next" => Some(RelFn::Next),
            "first" => Some(RelFn::First),
            "current" => Some(RelFn::Current),
            _ => None,
        };
        if let Some(rel) = rel {
            arity(1, 1)?;
            let Some(relative) = self.relative else {
                return err(pos, format!("{name}() can only be used in a computeRelative node"));
            };
            let field = match &args[0].kind {
                ExprKind::Field(f) => f,
                _ => return err(args[0].pos, format!("{name}() takes a field name")),
            };
            return relative.relative(rel, field).map_err(|message| CompileError { pos: args[0].pos, message });
        }
        match lname.as_str() {
            // ----- string -----
            "substr" | "substring" => {
                arity(2, 3)?;
                let mut a = vec![text(0)?, num(1)?];
                if args.len() == 3 {
                    a.push(num(2)?);
                }
                string(call("saql_substr", a))
            }
            "len" | "length" => {
                arity(1, 1)?;
                number(cast(f::character_length(text(0)?), DataType::Float64))
            }
            "lower" => {
                arity(1, 1)?;
                string(f::lower(text(0)?))
            }
            "upper" => {
                arity(1, 1)?;
                string(f::upper(text(0)?))
            }
            "trim" | "ltrim" | "rtrim" => {
                arity(1, 2)?;
                let mut a = vec![text(0)?];
                a.push(if args.len() == 2 { text(1)? } else { lit(" ") });
                string(match lname.as_str() {
                    "trim" => f::btrim(a),
                    "ltrim" => f::ltrim(a),
                    _ => f::rtrim(a),
                })
            }
            "replace" => {
                arity(3, 3)?;
                let search = text(1)?;
                string(null_if_empty(search.clone(), f::replace(text(0)?, search, text(2)?))?)
            }
            "index_of" => {
                arity(2, 4)?;
                let mut a = vec![text(0)?, text(1)?];
                for i in 2..args.len() {
                    a.push(num(i)?);
                }
                number(call("saql_index_of", a))
            }
            "starts_with" | "ends_with" => {
                arity(2, 2)?;
                let affix = text(1)?;
                let test = if lname == "starts_with" {
                    f::starts_with(text(0)?, affix.clone())
                } else {
                    f::ends_with(text(0)?, affix.clone())
                };
                boolean(
                    when(affix.eq(lit("")), lit(ScalarValue::Boolean(None)))
                        .otherwise(test)
                        .map_err(|e| CompileError { pos, message: e.to_string() })?,
                )
            }
            "number_to_string" => {
                arity(2, 2)?;
                string(call("saql_number_to_string", vec![num(0)?, text(1)?]))
            }
            "string_to_number" => {
                arity(1, 1)?;
                number(call("saql_string_to_number", vec![text(0)?]))
            }
            "mv_to_string" => {
                arity(1, 2)?;
                let mv = self.expect(&args[0], SType::MultiValue, "argument 1 of mv_to_string()")?.expr;
                let sep = if args.len() == 2 { text(1)? } else { lit(", ") };
                string(nested::array_to_string(mv, sep))
            }
            "chr" => {
                arity(1, 1)?;
                string(f::chr(cast(num(0)?, DataType::Int64)))
            }
            // ----- math -----
            "abs" | "ceil" | "floor" | "sqrt" | "exp" | "sin" | "cos" | "tan" | "asin" | "acos" | "atan"
            | "degrees" | "radians" => {
                arity(1, 1)?;
                let x = num(0)?;
                number(match lname.as_str() {
                    "abs" => f::abs(x),
                    "ceil" => f::ceil(x),
                    "floor" => f::floor(x),
                    "sqrt" => when(x.clone().lt(lit(0.0)), lit(ScalarValue::Float64(None)))
                        .otherwise(f::sqrt(x))
                        .map_err(|e| CompileError { pos, message: e.to_string() })?,
                    "exp" => f::exp(x),
                    "sin" => f::sin(x),
                    "cos" => f::cos(x),
                    "tan" => f::tan(x),
                    "asin" => f::asin(x),
                    "acos" => f::acos(x),
                    "atan" => f::atan(x),
                    "degrees" => f::degrees(x),
                    _ => f::radians(x),
                })
            }
            "round" | "trunc" => {
                arity(1, 2)?;
                let mut a = vec![num(0)?];
                if args.len() == 2 {
                    a.push(num(1)?);
                }
                number(call(if lname == "round" { "saql_round" } else { "saql_trunc" }, a))
            }
            "power" => {
                arity(2, 2)?;
                let (m, n) = (num(0)?, num(1)?);
                let undefined = m.clone().eq(lit(0.0)).and(n.clone().lt(lit(0.0)));
                number(
                    when(undefined, lit(ScalarValue::Float64(None)))
                        .otherwise(f::power(m, n))
                        .map_err(|e| CompileError { pos, message: e.to_string() })?,
                )
            }
            "log" => {
                arity(2, 2)?;
                let (base, x) = (num(0)?, num(1)?);
                let bad = base.clone().lt_eq(lit(0.0)).or(base.clone().eq(lit(1.0))).or(x.clone().lt_eq(lit(0.0)));
                number(
                    when(bad, lit(ScalarValue::Float64(None)))
                        .otherwise(f::log(base, x))
                        .map_err(|e| CompileError { pos, message: e.to_string() })?,
                )
            }
            "sign" => {
                arity(1, 1)?;
                let x = num(0)?;
                number(
                    when(x.clone().gt(lit(0.0)), lit(1.0))
                        .when(x.clone().lt(lit(0.0)), lit(-1.0))
                        .when(x.eq(lit(0.0)), lit(0.0))
                        .end()
                        .map_err(|e| CompileError { pos, message: e.to_string() })?,
                )
            }
            "pi" => {
                arity(0, 0)?;
                number(lit(std::f64::consts::PI))
            }
            // ----- dates -----
            "todate" => {
                arity(1, 2)?;
                // toDate('DateColumn') is the date itself
                if let ExprKind::Field(fname) = &args[0].kind
                    && self.schema.get(fname).is_some_and(|f| f.ty.is_date())
                {
                    return a_date(ident(fname.as_str()));
                }
                let first = self.compile(&args[0])?;
                if args.len() == 1 && first.ty == SType::Number {
                    let millis = cast(first.expr * lit(1000.0), DataType::Int64);
                    return a_date(cast(millis, SType::Date.run_type()));
                }
                let s = self.expect_compiled(first, args[0].pos, SType::Text, "argument 1 of toDate()")?;
                let fmt = if args.len() == 2 { text(1)? } else { lit("yyyy-MM-dd HH:mm:ss") };
                if let ExprKind::Str(pattern) = args.get(1).map(|a| &a.kind).unwrap_or(&ExprKind::Null)
                    && let Err(e) = crate::dateformat::DateFormat::parse(pattern)
                {
                    return err(args[1].pos, e);
                }
                a_date(call("saql_to_date", vec![s.expr, fmt]))
            }
            "tostring" | "date_to_string" => {
                arity(2, 2)?;
                if let ExprKind::Str(pattern) = &args[1].kind
                    && let Err(e) = crate::dateformat::DateFormat::parse(pattern)
                {
                    return err(args[1].pos, e);
                }
                string(call("saql_format_date", vec![date(0)?, text(1)?]))
            }
            "date_to_epoch" => {
                arity(1, 1)?;
                number(cast(cast(date(0)?, DataType::Int64), DataType::Float64) / lit(1000.0))
            }
            "daysbetween" => {
                arity(2, 2)?;
                number(call("saql_days_between", vec![date(0)?, date(1)?]))
            }
            "date_diff" => {
                arity(3, 3)?;
                if let ExprKind::Str(part) = &args[0].kind
                    && !["year", "quarter", "month", "week", "day", "hour", "minute", "second"]
                        .contains(&part.to_ascii_lowercase().as_str())
                {
                    return err(
                        args[0].pos,
                        format!(
                            "date_diff: unknown date part \"{part}\" (year, quarter, month, week, day, hour, minute or second)"
                        ),
                    );
                }
                number(call("saql_date_diff", vec![text(0)?, date(1)?, date(2)?]))
            }
            "now" => {
                arity(0, 0)?;
                a_date(lit(ScalarValue::TimestampMillisecond(Some(self.now_millis), None)))
            }
            "date" => {
                arity(3, 3)?;
                // the date parts of a date are text fields (`'CloseDate_Year'`): read as numbers
                let part = |i: usize| -> CResult<Expr> {
                    let t = self.compile(&args[i])?;
                    match t.ty {
                        SType::Text => Ok(try_cast(t.expr, DataType::Float64)),
                        _ => num(i),
                    }
                };
                a_date(call("saql_date", vec![part(0)?, part(1)?, part(2)?]))
            }
            "day_in_week" | "day_in_month" | "day_in_quarter" | "day_in_year" | "days_in_month" | "days_in_quarter"
            | "days_in_year" => {
                arity(1, 1)?;
                number(call("saql_date_number", vec![lit(lname.clone()), date(0)?]))
            }
            "week_first_day" | "week_last_day" | "month_first_day" | "month_last_day" | "quarter_first_day"
            | "quarter_last_day" | "year_first_day" | "year_last_day" => {
                arity(1, 1)?;
                a_date(call("saql_date_shift", vec![lit(lname.clone()), date(0)?]))
            }
            // ----- other -----
            "coalesce" => {
                if args.is_empty() {
                    return err(pos, "coalesce() takes at least one argument");
                }
                let compiled = args.iter().map(|a| self.compile(a)).collect::<CResult<Vec<_>>>()?;
                let mut ty = SType::Null;
                for (a, t) in args.iter().zip(&compiled) {
                    ty = unify(ty, t.ty).ok_or_else(|| CompileError {
                        pos: a.pos,
                        message: format!(
                            "coalesce() arguments must have one type: found {} and {}",
                            ty.name(),
                            t.ty.name()
                        ),
                    })?;
                }
                let exprs = compiled.into_iter().map(|t| self.typed_null(t, ty).expr).collect();
                Ok(Typed { ty, expr: f::coalesce(exprs) })
            }
            _ => err(
                pos,
                crate::error::unknown("function", name, crate::error::suggest(name, KNOWN_FUNCTIONS.iter().copied())),
            ),
        }
    }
}

const KNOWN_FUNCTIONS: &[&str] = &[
    "substr",
    "len",
    "lower",
    "upper",
    "trim",
    "ltrim",
    "rtrim",
    "replace",
    "index_of",
    "starts_with",
    "ends_with",
    "number_to_string",
    "string_to_number",
    "mv_to_string",
    "chr",
    "abs",
    "ceil",
    "floor",
    "sqrt",
    "exp",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "degrees",
    "radians",
    "round",
    "trunc",
    "power",
    "log",
    "sign",
    "pi",
    "toDate",
    "toString",
    "date_to_string",
    "date_to_epoch",
    "daysBetween",
    "date_diff",
    "now",
    "date",
    "day_in_week",
    "day_in_month",
    "day_in_quarter",
    "day_in_year",
    "days_in_month",
    "days_in_quarter",
    "days_in_year",
    "week_first_day",
    "week_last_day",
    "month_first_day",
    "month_last_day",
    "quarter_first_day",
    "quarter_last_day",
    "year_first_day",
    "year_last_day",
    "coalesce",
    "previous",
    "next",
    "first",
    "current",
];

/// The common type of two values, if they have one.
pub fn unify(a: SType, b: SType) -> Option<SType> {
    match (a, b) {
        (x, y) if x == y => Some(x),
        (SType::Null, y) | (SType::Any, y) => Some(y),
        (x, SType::Null) | (x, SType::Any) => Some(x),
        _ => None,
    }
}
