//! filter: keeps the rows that match every `filterExpressions` entry (`{field, operator,
//! operands, type}`; operands are strings read as the `type` says). sqlFilter keeps the rows
//! where a recipe SQL predicate is true (`sqlFilterExpression`, or `filterExpressions` with
//! `{"type": "SQL", "expression"}`; both forms are in use). A null never matches a comparison,
//! as in SQL; IS_NULL / IS_NOT_NULL test for it.
//!
//! EQUAL, LIKE, CONTAINS, STARTS_WITH and ENDS_WITH take one operand or several, and match
//! when any of them does (Data Prep writes EQUAL with a list for "equals any of", as real
//! recipes show); NOT_EQUAL and NOT_CONTAINS with several match when none does. Comparisons
//! take one operand, IN_RANGE two (inclusive), IN / NOT_IN one or more. NOT is NOT_EQUAL and
//! DOES_NOT_CONTAIN is NOT_CONTAINS (the editor's names).
//!
//! A date operand is a date, a date-time, epoch milliseconds, or a relative date `{"argument":
//! -6, "type": "N_MONTHS"}` ([`super::relative`]): a whole period counted from the run's clock.
//! IN_RANGE of relative bounds runs from the start of the first's period to the end of the
//! second's ("the last 6 months through this month"); EQUAL means within the period, GREATER
//! after it, LESS before it. INFERRED: Data Prep's editor shows these as relative date ranges
//! of whole periods; the API does not say more.
//!
//! `filterBooleanLogic` (`"1 AND (2 OR 3)"`, conditions numbered from 1) combines the
//! conditions; without it all must hold.

use super::logic::Logic;
use super::relative::{DateBound, date_bound};
use super::{enum_eq, sql};
use crate::dateformat::to_millis;
use crate::error::Problem;
use crate::nodes::{CheckCx, PlanCx, Transform, parse};
use crate::schema::{FieldType, Schema};
use chrono::NaiveDate;
use datafusion::common::{DataFusionError, Result as DFResult, ScalarValue};
use datafusion::functions::expr_fn as f;
use datafusion::logical_expr::{Expr, ident, lit};
use datafusion::prelude::DataFrame;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Condition {
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    operator: Option<String>,
    #[serde(default)]
    operands: Vec<Value>,
    #[serde(rename = "type", default)]
    ty: Option<String>,
    /// The SQL form: `{"type": "SQL", "expression": "..."}`.
    #[serde(default)]
    expression: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    #[serde(default)]
    filter_expressions: Vec<Condition>,
    #[serde(default)]
    sql_filter_expression: Option<String>,
    /// How the conditions combine, by number from 1 (`"1 AND (2 OR 3)"`); all must hold
    /// when absent.
    #[serde(default)]
    filter_boolean_logic: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Equal,
    NotEqual,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
    IsNull,
    IsNotNull,
    In,
    NotIn,
    InRange,
    Like,
    Contains,
    NotContains,
    StartsWith,
    EndsWith,
}

const OPS: &[(&str, Op)] = &[
    ("EQUAL", Op::Equal),
    ("NOT_EQUAL", Op::NotEqual),
    ("GREATER_THAN", Op::Greater),
    ("GREATER_OR_EQUAL", Op::GreaterOrEqual),
    ("GREATER_THAN_OR_EQUAL", Op::GreaterOrEqual),
    ("LESS_THAN", Op::Less),
    ("LESS_OR_EQUAL", Op::LessOrEqual),
    ("LESS_THAN_OR_EQUAL", Op::LessOrEqual),
    ("IS_NULL", Op::IsNull),
    ("IS_NOT_NULL", Op::IsNotNull),
    ("IN", Op::In),
    ("NOT_IN", Op::NotIn),
    ("IN_RANGE", Op::InRange),
    ("BETWEEN", Op::InRange),
    ("LIKE", Op::Like),
    ("CONTAINS", Op::Contains),
    ("NOT_CONTAINS", Op::NotContains),
    ("DOES_NOT_CONTAIN", Op::NotContains),
    // the recipe editor's "is not" / "is not any of" (24 conditions of the public recipes)
    ("NOT", Op::NotEqual),
    ("STARTS_WITH", Op::StartsWith),
    ("ENDS_WITH", Op::EndsWith),
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Text,
    Number,
    Date,
    MultiValue,
}

/// An operand: a value, or a relative date resolved against the run's clock.
#[derive(Debug, Clone)]
enum Operand {
    Value(ScalarValue),
    Relative(DateBound),
}

/// One condition, read and checked.
#[derive(Debug, Clone)]
struct Cond {
    field: String,
    op: Op,
    kind: Kind,
    operands: Vec<Operand>,
}

#[derive(Debug)]
pub struct Filter {
    sources: Vec<String>,
    conditions: Vec<Cond>,
    logic: Option<Logic>,
}

fn operand_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A date operand: a date literal ([`swell_core::DateLiteral`]), or epoch milliseconds
/// (`"1546300800000"`, as the recipe editor saves a picked date-time).
fn parse_date(s: &str) -> Option<i64> {
    let t = s.trim();
    if !t.is_empty() && t.trim_start_matches('-').chars().all(|c| c.is_ascii_digit()) {
        return t.parse().ok();
    }
    swell_core::DateLiteral::parse(t).map(|d| d.millis())
}

impl Filter {
    pub fn parse(node: &str, params: &Value, sources: &[String]) -> Result<Filter, Vec<Problem>> {
        let p: Params = parse(node, params).map_err(|p| vec![p])?;
        let mut problems = Vec::new();
        let mut conditions = Vec::new();
        if p.filter_expressions.is_empty() {
            problems.push(Problem::new(node, "parameters.filterExpressions", "must list at least one condition"));
        }
        for (i, c) in p.filter_expressions.iter().enumerate() {
            let path = format!("parameters.filterExpressions[{i}]");
            let mut err = |field: &str, m: String| problems.push(Problem::new(node, format!("{path}.{field}"), m));
            let Some(field) = c.field.clone().filter(|f| !f.is_empty()) else {
                err("field", "is required".into());
                continue;
            };
            let Some(op) =
                c.operator.as_deref().and_then(|o| OPS.iter().find(|(n, _)| enum_eq(n, o)).map(|(_, op)| *op))
            else {
                let names: Vec<&str> = OPS.iter().map(|(n, _)| *n).collect();
                err(
                    "operator",
                    format!(
                        "{} is not an operator: use one of {}",
                        c.operator.as_deref().map_or("a missing value".to_string(), |o| format!("'{o}'")),
                        names.join(", ")
                    ),
                );
                continue;
            };
            let ty = c.ty.clone().unwrap_or_else(|| "TEXT".into());
            let kind = if enum_eq(&ty, "TEXT") {
                Kind::Text
            } else if enum_eq(&ty, "NUMBER") || enum_eq(&ty, "NUMERIC") {
                Kind::Number
            } else if enum_eq(&ty, "DATE_ONLY") || enum_eq(&ty, "DATETIME") || enum_eq(&ty, "DATE") {
                Kind::Date
            } else if enum_eq(&ty, "MULTIVALUE") {
                Kind::MultiValue
            } else {
                err("type", format!("unknown type '{ty}' (TEXT, NUMBER, DATE_ONLY, DATETIME, MULTIVALUE)"));
                continue;
            };
            let wanted = match op {
                Op::IsNull | Op::IsNotNull => Some(0),
                Op::InRange => Some(2),
                Op::Greater | Op::GreaterOrEqual | Op::Less | Op::LessOrEqual => Some(1),
                _ => None,
            };
            match wanted {
                Some(n) if c.operands.len() != n => {
                    err(
                        "operands",
                        format!(
                            "{} takes {n} operand(s), found {}",
                            c.operator.as_deref().unwrap_or(""),
                            c.operands.len()
                        ),
                    );
                    continue;
                }
                None if c.operands.is_empty() => {
                    err("operands", "must list at least one value".into());
                    continue;
                }
                _ => {}
            }
            let mut operands = Vec::new();
            for (j, v) in c.operands.iter().enumerate() {
                let opath = format!("{path}.operands[{j}]");
                if v.is_object() {
                    match (kind, date_bound(&Some(v.clone()))) {
                        (Kind::Date, Ok(Some(bound))) => operands.push(Operand::Relative(bound)),
                        (Kind::Date, Err(m)) => problems.push(Problem::new(node, opath, m)),
                        _ => problems.push(Problem::new(
                            node,
                            opath,
                            format!("a relative date ({v}) is an operand of DATE_ONLY or DATETIME conditions"),
                        )),
                    }
                    continue;
                }
                let Some(text) = operand_text(v) else {
                    problems.push(Problem::new(node, opath, format!("must be a string, found {v}")));
                    continue;
                };
                let value = match kind {
                    Kind::Number => match text.trim().parse::<f64>() {
                        Ok(n) => ScalarValue::Float64(Some(n)),
                        Err(_) => {
                            problems.push(Problem::new(node, opath, format!("'{text}' is not a number")));
                            continue;
                        }
                    },
                    Kind::Date => match parse_date(&text) {
                        Some(ms) => ScalarValue::TimestampMillisecond(Some(ms), None),
                        None => {
                            problems.push(Problem::new(
                                node,
                                opath,
                                format!("'{text}' is not a date (yyyy-MM-dd or yyyy-MM-ddTHH:mm:ss)"),
                            ));
                            continue;
                        }
                    },
                    Kind::Text | Kind::MultiValue => ScalarValue::Utf8(Some(text)),
                };
                operands.push(Operand::Value(value));
            }
            conditions.push(Cond { field, op, kind, operands });
        }
        let logic = match p.filter_boolean_logic.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
            None => None,
            Some(text) => match Logic::parse(text, p.filter_expressions.len()) {
                Ok(l) => Some(l),
                Err(m) => {
                    problems.push(Problem::new(node, "parameters.filterBooleanLogic", m));
                    None
                }
            },
        };
        if problems.is_empty() { Ok(Filter { sources: sources.to_vec(), conditions, logic }) } else { Err(problems) }
    }
}

/// The instants a relative operand spans: [start of its period, start of the next).
fn period(bound: &DateBound, now_millis: i64) -> (Expr, Expr) {
    let today =
        crate::dateformat::from_millis(now_millis).map_or_else(|| chrono::Utc::now().date_naive(), |d| d.date());
    let at = |d: Option<NaiveDate>| {
        let ms = d.and_then(|d| d.and_hms_opt(0, 0, 0)).map(|dt| to_millis(&dt));
        lit(ScalarValue::TimestampMillisecond(ms, None))
    };
    (at(bound.period_start(today)), at(bound.period_end(today)))
}

fn condition(c: &Cond, now_millis: i64) -> Expr {
    let col = ident(c.field.as_str());
    // a relative operand is a whole period: in it, before it, after it
    if let Some(i) = c.operands.iter().position(|o| matches!(o, Operand::Relative(_))) {
        let bounds: Vec<(Expr, Expr)> = c
            .operands
            .iter()
            .map(|o| match o {
                Operand::Relative(b) => period(b, now_millis),
                Operand::Value(v) => (lit(v.clone()), lit(v.clone())),
            })
            .collect();
        let (start, end) = bounds[i].clone();
        return match c.op {
            Op::InRange => col.clone().gt_eq(bounds[0].0.clone()).and(match &c.operands[1] {
                Operand::Relative(_) => col.lt(bounds[1].1.clone()),
                Operand::Value(_) => col.lt_eq(bounds[1].1.clone()),
            }),
            Op::Greater => col.gt_eq(end),
            Op::GreaterOrEqual => col.gt_eq(start),
            Op::Less => col.lt(start),
            Op::LessOrEqual => col.lt(end),
            Op::NotEqual | Op::NotIn => col.clone().lt(start).or(col.gt_eq(end)),
            _ => col.clone().gt_eq(start).and(col.lt(end)),
        };
    }
    let value = |i: usize| match &c.operands[i] {
        Operand::Value(v) => v.clone(),
        Operand::Relative(_) => unreachable!("relative operands are handled above"),
    };
    let v = |i: usize| lit(value(i));
    // a multi-value field matches when any of its values does
    if c.kind == Kind::MultiValue {
        let any = |values: Vec<Expr>| {
            values
                .into_iter()
                .map(|x| datafusion::functions_nested::expr_fn::array_has(col.clone(), x))
                .reduce(Expr::or)
                .unwrap_or_else(|| lit(false))
        };
        return match c.op {
            Op::IsNull => col.is_null(),
            Op::IsNotNull => col.is_not_null(),
            Op::NotEqual | Op::NotIn => datafusion::logical_expr::not(any((0..c.operands.len()).map(v).collect())),
            _ => any((0..c.operands.len()).map(v).collect()),
        };
    }
    let n = c.operands.len();
    let any = |each: &dyn Fn(Expr) -> Expr| (0..n).map(|i| each(v(i))).reduce(Expr::or).unwrap_or(lit(false));
    match c.op {
        Op::Equal if n == 1 => col.eq(v(0)),
        Op::NotEqual if n == 1 => col.not_eq(v(0)),
        Op::Equal => col.in_list((0..n).map(v).collect(), false),
        Op::NotEqual => col.in_list((0..n).map(v).collect(), true),
        Op::Greater => col.gt(v(0)),
        Op::GreaterOrEqual => col.gt_eq(v(0)),
        Op::Less => col.lt(v(0)),
        Op::LessOrEqual => col.lt_eq(v(0)),
        Op::IsNull => col.is_null(),
        Op::IsNotNull => col.is_not_null(),
        Op::In => col.in_list((0..c.operands.len()).map(v).collect(), false),
        Op::NotIn => col.in_list((0..c.operands.len()).map(v).collect(), true),
        Op::InRange => col.clone().gt_eq(v(0)).and(col.lt_eq(v(1))),
        Op::Like => any(&|x| col.clone().like(x)),
        Op::Contains => any(&|x| f::strpos(col.clone(), x).gt(lit(0i64))),
        Op::NotContains => {
            (0..n).map(|i| f::strpos(col.clone(), v(i)).eq(lit(0i64))).reduce(Expr::and).unwrap_or(lit(true))
        }
        Op::StartsWith => any(&|x| f::starts_with(col.clone(), x)),
        Op::EndsWith => any(&|x| f::ends_with(col.clone(), x)),
    }
}

#[async_trait::async_trait]
impl Transform for Filter {
    fn inputs(&self) -> Vec<(String, String)> {
        super::inputs(&self.sources)
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        for (i, c) in self.conditions.iter().enumerate() {
            let path = format!("parameters.filterExpressions[{i}].field");
            if !cx.require_field(inputs[0], &c.field, &path) {
                continue;
            }
            let actual = inputs[0].type_of(&c.field).unwrap_or(FieldType::Unknown);
            let fits = match (c.kind, &actual) {
                (_, FieldType::Unknown) => true,
                (Kind::Text, FieldType::Text) | (Kind::MultiValue, FieldType::MultiValue) => true,
                (Kind::Number, FieldType::Numeric { .. }) | (Kind::Date, FieldType::Date { .. }) => true,
                // a text condition on a multi-value field tests its values
                (Kind::Text, FieldType::MultiValue) => true,
                _ => false,
            };
            if !fits {
                cx.problem(
                    format!("parameters.filterExpressions[{i}].type"),
                    format!("field '{}' is {}, not {:?}", c.field, actual.kind_name(), c.kind),
                );
            }
        }
        Some(inputs[0].clone())
    }

    async fn plan(
        &self,
        cx: &PlanCx<'_>,
        mut inputs: Vec<DataFrame>,
        in_schemas: &[&Schema],
        _out: &Schema,
    ) -> DFResult<DataFrame> {
        let each: Vec<Expr> = self
            .conditions
            .iter()
            .map(|c| {
                let mut c = c.clone();
                if c.kind == Kind::Text && in_schemas[0].type_of(&c.field) == Some(FieldType::MultiValue) {
                    c.kind = Kind::MultiValue;
                }
                condition(&c, cx.now_millis)
            })
            .collect();
        let pred = match &self.logic {
            Some(logic) => logic.expr(&each),
            None => each.into_iter().reduce(Expr::and).unwrap_or_else(|| lit(true)),
        };
        inputs.remove(0).filter(pred)
    }
}

#[derive(Debug)]
pub struct SqlFilter {
    sources: Vec<String>,
    expression: String,
    path: String,
}

impl SqlFilter {
    pub fn parse(node: &str, params: &Value, sources: &[String]) -> Result<SqlFilter, Vec<Problem>> {
        let p: Params = parse(node, params).map_err(|p| vec![p])?;
        let (expression, path) = match (p.sql_filter_expression, p.filter_expressions.first()) {
            (Some(e), _) => (e, "parameters.sqlFilterExpression".to_string()),
            (None, Some(c)) if c.expression.is_some() => {
                (c.expression.clone().unwrap_or_default(), "parameters.filterExpressions[0].expression".to_string())
            }
            _ => {
                return Err(vec![Problem::new(
                    node,
                    "parameters.sqlFilterExpression",
                    "is required (or filterExpressions: [{\"type\": \"SQL\", \"expression\": ...}])",
                )]);
            }
        };
        if let Err(e) = sql::parse(&expression) {
            return Err(vec![Problem::new(node, path, e)]);
        }
        Ok(SqlFilter { sources: sources.to_vec(), expression, path })
    }
}

#[async_trait::async_trait]
impl Transform for SqlFilter {
    fn inputs(&self) -> Vec<(String, String)> {
        super::inputs(&self.sources)
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        let path = self.path.clone();
        sql::check(&self.expression, inputs[0], |m| cx.problem(&path, m));
        Some(inputs[0].clone())
    }

    async fn plan(
        &self,
        cx: &PlanCx<'_>,
        mut inputs: Vec<DataFrame>,
        in_schemas: &[&Schema],
        _out: &Schema,
    ) -> DFResult<DataFrame> {
        let parsed = sql::parse(&self.expression).map_err(DataFusionError::Plan)?;
        let pred = sql::lower(cx.ctx, parsed, in_schemas[0], cx.now_millis)?;
        // null is not true: the row goes
        inputs.remove(0).filter(datafusion::functions::expr_fn::coalesce(vec![pred, lit(false)]))
    }
}
