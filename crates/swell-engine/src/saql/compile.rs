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
use crate::schema::{FieldType, Schema};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn as f;
use datafusion::functions_nested::expr_fn as nested;
use datafusion::logical_expr::expr::Like;
use datafusion::logical_expr::{Expr, Operator, binary_expr, case, cast, ident, lit, when};

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

    pub(super) fn run_type(self) -> DataType {
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
    pub(super) fn typed_null(&self, t: Typed, want: SType) -> Typed {
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

    pub(super) fn expect_compiled(&self, t: Typed, pos: usize, want: SType, context: &str) -> CResult<Typed> {
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

    /// A function call, checked and lowered by its entry in [`super::catalog`].
    fn call(&self, name: &str, args: &[Ast], pos: usize) -> CResult<Typed> {
        let Some(func) = super::catalog::find(name) else {
            let hint = crate::error::suggest(name, super::catalog::names());
            return err(pos, crate::error::unknown("function", name, hint));
        };
        let call = super::catalog::Call::check(self, func, name, args, pos)?;
        (func.build)(&call)
    }
}

/// The common type of two values, if they have one.
pub fn unify(a: SType, b: SType) -> Option<SType> {
    match (a, b) {
        (x, y) if x == y => Some(x),
        (SType::Null, y) | (SType::Any, y) => Some(y),
        (x, SType::Null) | (x, SType::Any) => Some(x),
        _ => None,
    }
}
