//! filter: keeps the rows matching a condition, written either in the compact syntax
//! (`filter`) or as a SAQL predicate (`saqlFilter`). A row is kept only when the condition is
//! true (null is not true).
//!
//! Compact syntax: conditions separated by `,` are ANDed; each is `field:OP:values` with `EQ`
//! (values separated by `|`, ORed), `N` (none of the values) or `R` (inclusive range
//! `low:high`, either bound may be empty). A backslash escapes `: , |` and itself. Text is
//! compared as text, case-sensitively; measures compare numerically.

use super::{CheckCx, PlanCx, Transform, parse};
use crate::error::Problem;
use crate::saql::{self, SType, Scope};
use crate::schema::{FieldType, Schema};
use datafusion::common::{DataFusionError, Result as DFResult};
use datafusion::logical_expr::{Expr, ident, lit};
use datafusion::prelude::DataFrame;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    source: String,
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    saql_filter: Option<String>,
}

#[derive(Debug)]
pub struct Filter {
    source: String,
    condition: Condition,
}

#[derive(Debug)]
enum Condition {
    Compact(Vec<Compact>),
    Saql(String),
}

#[derive(Debug, Clone, PartialEq)]
struct Compact {
    field: String,
    op: CompactOp,
}

#[derive(Debug, Clone, PartialEq)]
enum CompactOp {
    Eq(Vec<String>),
    NotEq(Vec<String>),
    Range(Option<String>, Option<String>),
}

impl Filter {
    pub fn parse(node: &str, params: &Value) -> Result<Self, Vec<Problem>> {
        let p: Params = parse(node, params).map_err(|e| vec![e])?;
        let condition =
            match (p.filter.filter(|s| !s.trim().is_empty()), p.saql_filter.filter(|s| !s.trim().is_empty())) {
                (Some(_), Some(_)) => {
                    return Err(vec![Problem::new(node, "parameters", "give either filter or saqlFilter, not both")]);
                }
                (Some(f), None) => {
                    Condition::Compact(parse_compact(&f).map_err(|m| vec![Problem::new(node, "parameters.filter", m)])?)
                }
                (None, Some(s)) => Condition::Saql(s),
                (None, None) => {
                    return Err(vec![Problem::new(node, "parameters", "needs a filter or a saqlFilter condition")]);
                }
            };
        Ok(Filter { source: p.source, condition })
    }

    fn predicate(&self, schema: &Schema, now_millis: i64) -> Result<Expr, (String, String)> {
        match &self.condition {
            Condition::Saql(src) => {
                let scope = Scope { schema, now_millis, relative: None };
                let t = saql::compile(src, &scope).map_err(|m| ("parameters.saqlFilter".to_string(), m))?;
                if !matches!(t.ty, SType::Bool | SType::Any | SType::Null) {
                    return Err((
                        "parameters.saqlFilter".into(),
                        format!("the condition must be true or false, found a {} value", t.ty.name()),
                    ));
                }
                Ok(t.expr)
            }
            Condition::Compact(conds) => {
                let mut all = Vec::new();
                for c in conds {
                    let ty = schema
                        .type_of(&c.field)
                        .ok_or_else(|| ("parameters.filter".to_string(), schema.unknown_field(&c.field)))?;
                    all.push(compact_expr(c, &ty).map_err(|m| ("parameters.filter".to_string(), m))?);
                }
                Ok(all.into_iter().reduce(Expr::and).unwrap_or_else(|| lit(true)))
            }
        }
    }
}

fn value_expr(v: &str, ty: &FieldType, field: &str) -> Result<Expr, String> {
    match ty {
        FieldType::Numeric { .. } => {
            v.trim().parse::<f64>().map(lit).map_err(|_| format!("'{v}' is not a number, but '{field}' is a measure"))
        }
        _ => Ok(lit(v.to_string())),
    }
}

fn compact_expr(c: &Compact, ty: &FieldType) -> Result<Expr, String> {
    let column = if ty.is_date() {
        crate::saql::functions::to_text(ident(c.field.as_str()), ty)
    } else {
        ident(c.field.as_str())
    };
    let list = |vals: &[String]| vals.iter().map(|v| value_expr(v, ty, &c.field)).collect::<Result<Vec<_>, _>>();
    if *ty == FieldType::MultiValue {
        let vals = match &c.op {
            CompactOp::Eq(v) | CompactOp::NotEq(v) => v,
            CompactOp::Range(..) => {
                return Err(format!("'{}' is multi-value and cannot be filtered with a range", c.field));
            }
        };
        let any = datafusion::functions_nested::expr_fn::array_has_any(
            column,
            datafusion::functions_nested::expr_fn::make_array(list(vals)?),
        );
        return Ok(if matches!(c.op, CompactOp::NotEq(_)) { Expr::Not(Box::new(any)) } else { any });
    }
    Ok(match &c.op {
        CompactOp::Eq(vals) => column.in_list(list(vals)?, false),
        CompactOp::NotEq(vals) => column.in_list(list(vals)?, true),
        CompactOp::Range(lo, hi) => {
            let mut parts = Vec::new();
            if let Some(lo) = lo {
                parts.push(column.clone().gt_eq(value_expr(lo, ty, &c.field)?));
            }
            if let Some(hi) = hi {
                parts.push(column.clone().lt_eq(value_expr(hi, ty, &c.field)?));
            }
            parts.into_iter().reduce(Expr::and).unwrap_or_else(|| column.is_not_null())
        }
    })
}

/// Splits on `sep` where it is not escaped, unescaping the parts.
fn split_escaped(s: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                if n != sep {
                    parts.last_mut().expect("non-empty").push('\\');
                }
                parts.last_mut().expect("non-empty").push(n);
            }
        } else if c == sep {
            parts.push(String::new());
        } else {
            parts.last_mut().expect("non-empty").push(c);
        }
    }
    parts
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn parse_compact(src: &str) -> Result<Vec<Compact>, String> {
    let mut out = Vec::new();
    for (i, cond) in split_escaped(src, ',').into_iter().enumerate() {
        let cond = cond.trim();
        let parts = split_escaped(cond, ':');
        let where_ = format!("condition {} ('{cond}')", i + 1);
        if parts.len() < 3 {
            return Err(format!("{where_} must look like field:EQ:value, field:N:value or field:R:low:high"));
        }
        let field = unescape(parts[0].trim());
        if field.is_empty() {
            return Err(format!("{where_} has no field name"));
        }
        let values = |s: &str| split_escaped(s, '|').iter().map(|v| unescape(v)).collect::<Vec<_>>();
        let op = match parts[1].trim() {
            "EQ" if parts.len() == 3 => CompactOp::Eq(values(&parts[2])),
            "N" if parts.len() == 3 => CompactOp::NotEq(values(&parts[2])),
            "R" if parts.len() == 4 => {
                let bound = |s: &str| Some(unescape(s.trim())).filter(|v| !v.is_empty());
                CompactOp::Range(bound(&parts[2]), bound(&parts[3]))
            }
            // INFERRED: `field:R:low` (2 public definitions) is open above
            "R" if parts.len() == 3 => {
                CompactOp::Range(Some(unescape(parts[2].trim())).filter(|v| !v.is_empty()), None)
            }
            "R" => return Err(format!("{where_}: a range is field:R:low:high")),
            "EQ" | "N" => return Err(format!("{where_}: escape ':' in values as '\\:'")),
            other => return Err(format!("{where_}: unknown operator '{other}' (EQ, N or R)")),
        };
        out.push(Compact { field, op });
    }
    Ok(out)
}

#[async_trait::async_trait]
impl Transform for Filter {
    fn inputs(&self) -> Vec<(String, String)> {
        vec![("parameters.source".into(), self.source.clone())]
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        if let Err((path, msg)) = self.predicate(inputs[0], cx.now_millis) {
            cx.problem(path, msg);
        }
        Some(inputs[0].clone())
    }

    fn defers_companions(&self) -> bool {
        true
    }

    async fn plan(
        &self,
        cx: &PlanCx<'_>,
        mut inputs: Vec<DataFrame>,
        in_schemas: &[&Schema],
        _out: &Schema,
    ) -> DFResult<DataFrame> {
        let e = self
            .predicate(in_schemas[0], cx.now_millis)
            .map_err(|(p, m)| DataFusionError::Plan(format!("{p}: {m}")))?;
        inputs.remove(0).filter(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_syntax() {
        let c = parse_compact("UserType:EQ:Standard|PowerPartner, Amount:R:100:").unwrap();
        assert_eq!(c[0].op, CompactOp::Eq(vec!["Standard".into(), "PowerPartner".into()]));
        assert_eq!(c[1].op, CompactOp::Range(Some("100".into()), None));
        let c = parse_compact(r"Name:EQ:a\:b\|c|d\,e").unwrap();
        assert_eq!(c[0].op, CompactOp::Eq(vec!["a:b|c".into(), "d,e".into()]));
        assert!(parse_compact("Name:XX:a").unwrap_err().contains("unknown operator 'XX'"));
        assert!(parse_compact("Name").is_err());
    }
}
