//! filter: keeps the rows that match every `filterExpressions` entry (`{field, operator,
//! operands, type}`; operands are strings read as the `type` says). sqlFilter keeps the rows
//! where a recipe SQL predicate is true (`sqlFilterExpression`, or `filterExpressions` with
//! `{"type": "SQL", "expression"}`; both forms are in use). A null never matches a comparison,
//! as in SQL; IS_NULL / IS_NOT_NULL test for it.
//!
//! EQUAL, LIKE, CONTAINS, STARTS_WITH and ENDS_WITH take one operand or several, and match
//! when any of them does (Data Prep writes EQUAL with a list for "equals any of", as real
//! recipes show); NOT_EQUAL and NOT_CONTAINS with several match when none does. Comparisons
//! take one operand, IN_RANGE two (inclusive), IN / NOT_IN one or more.

use super::{enum_eq, sql};
use crate::dateformat::to_millis;
use crate::error::Problem;
use crate::nodes::{CheckCx, PlanCx, Transform, parse};
use crate::schema::{FieldType, Schema};
use chrono::{NaiveDate, NaiveDateTime};
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

/// One condition, read and checked.
#[derive(Debug, Clone)]
struct Cond {
    field: String,
    op: Op,
    kind: Kind,
    operands: Vec<ScalarValue>,
}

#[derive(Debug)]
pub struct Filter {
    sources: Vec<String>,
    conditions: Vec<Cond>,
}

fn operand_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A date operand: `2024-01-31`, `2024-01-31T10:00:00(.000)(Z)` or `2024-01-31 10:00:00`.
fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim().trim_end_matches('Z');
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(to_millis(&d.and_hms_opt(0, 0, 0)?));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|dt| to_millis(&dt))
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
                operands.push(value);
            }
            conditions.push(Cond { field, op, kind, operands });
        }
        if problems.is_empty() { Ok(Filter { sources: sources.to_vec(), conditions }) } else { Err(problems) }
    }
}

fn condition(c: &Cond) -> Expr {
    let col = ident(c.field.as_str());
    let v = |i: usize| lit(c.operands[i].clone());
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
        _cx: &PlanCx<'_>,
        mut inputs: Vec<DataFrame>,
        in_schemas: &[&Schema],
        _out: &Schema,
    ) -> DFResult<DataFrame> {
        let pred = self
            .conditions
            .iter()
            .map(|c| {
                let mut c = c.clone();
                if c.kind == Kind::Text && in_schemas[0].type_of(&c.field) == Some(FieldType::MultiValue) {
                    c.kind = Kind::MultiValue;
                }
                condition(&c)
            })
            .reduce(Expr::and)
            .unwrap_or_else(|| lit(true));
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
