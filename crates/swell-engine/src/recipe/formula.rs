//! formula: adds fields computed by recipe SQL formulas (`expressionType: "SQL"`). Each field
//! declares its type (TEXT, NUMBER with precision/scale, DATE_ONLY, DATETIME), an optional
//! `defaultValue` for nulls; fields are added in order and a later one may read an earlier one.

use super::enum_eq;
use super::sql;
use crate::error::Problem;
use crate::nodes::{CheckCx, PlanCx, Transform, parse};
use crate::schema::{Field, FieldType, MAX_PRECISION, Schema};
use datafusion::common::{DataFusionError, Result as DFResult, ScalarValue};
use datafusion::logical_expr::{Expr, cast, ident, lit};
use datafusion::prelude::DataFrame;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    #[serde(default)]
    expression_type: Option<String>,
    fields: Vec<FormulaField>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FormulaField {
    #[serde(rename = "type")]
    pub ty: String,
    pub name: String,
    #[serde(default)]
    pub label: Option<String>,
    pub formula_expression: String,
    #[serde(default)]
    pub precision: Option<u32>,
    #[serde(default)]
    pub scale: Option<u32>,
    #[serde(default)]
    pub default_value: Option<Value>,
}

/// The dataset type of a recipe field type; `Err` names the accepted ones. A TEXT precision
/// is a maximum length (255, 1000, ...) and does not cut values; a NUMBER precision is capped
/// at 18 digits, as datasets store them.
pub fn field_type(ty: &str, precision: Option<u32>, scale: Option<u32>) -> Result<FieldType, String> {
    if enum_eq(ty, "TEXT") || enum_eq(ty, "STRING") {
        Ok(FieldType::Text)
    } else if enum_eq(ty, "NUMBER") || enum_eq(ty, "NUMERIC") {
        let max = u32::from(MAX_PRECISION);
        let precision = precision.unwrap_or(max).clamp(1, max);
        let scale = scale.unwrap_or(0).min(precision);
        Ok(FieldType::numeric(precision as u8, scale as u8))
    } else if enum_eq(ty, "DATE_ONLY") || enum_eq(ty, "DATETIME") || enum_eq(ty, "DATE") {
        Ok(FieldType::plain_date())
    } else if enum_eq(ty, "MULTIVALUE") {
        Ok(FieldType::MultiValue)
    } else {
        Err(format!("unknown type '{ty}' (TEXT, NUMBER, DATE_ONLY, DATETIME, MULTIVALUE)"))
    }
}

#[derive(Debug)]
pub struct Formula {
    sources: Vec<String>,
    fields: Vec<(FormulaField, FieldType)>,
}

impl Formula {
    pub fn parse(node: &str, params: &Value, sources: &[String]) -> Result<Formula, Vec<Problem>> {
        let p: Params = parse(node, params).map_err(|p| vec![p])?;
        let mut problems = Vec::new();
        if let Some(t) = &p.expression_type
            && !enum_eq(t, "SQL")
        {
            problems.push(Problem::new(node, "parameters.expressionType", format!("'{t}' is not supported: use SQL")));
        }
        if p.fields.is_empty() {
            problems.push(Problem::new(node, "parameters.fields", "must list at least one field"));
        }
        let mut fields = Vec::new();
        let mut syntax = Vec::new();
        for (i, f) in p.fields.into_iter().enumerate() {
            if let Err(e) = sql::parse(&f.formula_expression) {
                syntax.push(Problem::new(node, format!("parameters.fields[{i}].formulaExpression"), e));
            }
            match field_type(&f.ty, f.precision, f.scale) {
                Ok(t) => fields.push((f, t)),
                Err(m) => problems.push(Problem::new(node, format!("parameters.fields[{i}].type"), m)),
            }
        }
        // a syntax error leaves the node checkable (the check reports it with the other
        // fields' problems); a node broken otherwise reports its syntax errors now
        if problems.is_empty() {
            Ok(Formula { sources: sources.to_vec(), fields })
        } else {
            problems.extend(syntax);
            Err(problems)
        }
    }
}

/// A default value as a literal of the field's run type.
fn default_literal(v: &Value, ty: &FieldType) -> Option<Expr> {
    let text = match v {
        Value::String(s) if s.is_empty() => return None,
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    Some(cast(lit(ScalarValue::Utf8(Some(text))), ty.run_type()))
}

#[async_trait::async_trait]
impl Transform for Formula {
    fn inputs(&self) -> Vec<(String, String)> {
        super::inputs(&self.sources)
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        let mut schema = inputs[0].clone();
        for (i, (f, ty)) in self.fields.iter().enumerate() {
            let path = format!("parameters.fields[{i}].formulaExpression");
            sql::check(&f.formula_expression, &schema, |m| cx.problem(&path, m));
            schema.push(Field::labelled(f.name.clone(), f.label.clone(), ty.clone()));
        }
        Some(schema)
    }

    async fn plan(
        &self,
        cx: &PlanCx<'_>,
        mut inputs: Vec<DataFrame>,
        in_schemas: &[&Schema],
        _out: &Schema,
    ) -> DFResult<DataFrame> {
        let mut df = inputs.remove(0);
        let mut schema = in_schemas[0].clone();
        for (f, ty) in &self.fields {
            let parsed = sql::parse(&f.formula_expression).map_err(DataFusionError::Plan)?;
            let mut e = cast(sql::lower(cx.ctx, parsed, &schema, cx.now_millis)?, ty.run_type());
            if let Some(d) = f.default_value.as_ref().and_then(|v| default_literal(v, ty)) {
                e = datafusion::functions::expr_fn::coalesce(vec![e, d]);
            }
            df = set_field(df, &schema, e, &f.name)?;
            schema.push(Field::labelled(f.name.clone(), f.label.clone(), ty.clone()));
        }
        Ok(df)
    }
}

/// `df` with field `name` set to `e`: replaced where it is, or added last.
/// Sets several fields in one projection: each `(expression over the input, name)` replaces
/// the field of that name or is added after the input's fields, in order. For nodes whose
/// new fields do not read each other (split, extractGrains, bucket, typeCast).
pub fn set_fields(df: DataFrame, schema: &Schema, new: Vec<(Expr, String)>) -> DFResult<DataFrame> {
    let mut exprs: Vec<Expr> = schema
        .fields
        .iter()
        .map(|f| match new.iter().find(|(_, n)| n == &f.name) {
            Some((e, n)) => e.clone().alias(n.as_str()),
            None => ident(f.name.as_str()),
        })
        .collect();
    // a name given twice: its first expression (the checks report duplicates)
    let mut added = std::collections::HashSet::new();
    for (e, n) in &new {
        if !schema.fields.iter().any(|f| &f.name == n) && added.insert(n.as_str()) {
            exprs.push(e.clone().alias(n.as_str()));
        }
    }
    df.select(exprs)
}

pub fn set_field(df: DataFrame, schema: &Schema, e: Expr, name: &str) -> DFResult<DataFrame> {
    let mut exprs: Vec<Expr> = schema
        .fields
        .iter()
        .map(|f| if f.name == name { e.clone().alias(name) } else { ident(f.name.as_str()) })
        .collect();
    if !schema.fields.iter().any(|f| f.name == name) {
        exprs.push(e.alias(name));
    }
    df.select(exprs)
}
