//! bucket: maps the values of a field to bucket values, one new field per entry of
//! `fields: [{name, label?, type?, bucketsSetup: {sourceField: {name, type?}, buckets:
//! [{value, sourceValues: [...]}], defaultBucketValue?, nullBucketValue?,
//! isPassthroughEnabled?}}]`.
//!
//! For each row: a null source gives `nullBucketValue` (null when unset); a source value
//! listed in a bucket's `sourceValues` gives that bucket's `value` (the first bucket that
//! lists it); any other value gives itself when `isPassthroughEnabled`, else
//! `defaultBucketValue` (null when unset). Values compare as text, so a numeric or date
//! source matches `sourceValues` written as they print (`"5"`, `"2024-01-31"`). The new
//! field is text, or a number when `type` is NUMBER. Range buckets (`algorithm` set) are
//! refused naming the node: their parameters are not documented.

use super::enum_eq;
use super::formula::set_fields;
use crate::error::Problem;
use crate::nodes::{CheckCx, PlanCx, Transform, parse};
use crate::schema::{Field, FieldType, Schema};
use datafusion::common::{Result as DFResult, ScalarValue};
use datafusion::logical_expr::{Expr, ident, lit, try_cast, when};
use datafusion::prelude::DataFrame;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
struct Params {
    fields: Vec<BucketField>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BucketField {
    name: String,
    #[serde(default)]
    label: Option<String>,
    #[serde(default, rename = "type")]
    ty: Option<String>,
    buckets_setup: Setup,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Setup {
    source_field: SourceField,
    #[serde(default)]
    buckets: Vec<Bucket>,
    #[serde(default)]
    default_bucket_value: Option<Value>,
    #[serde(default)]
    null_bucket_value: Option<Value>,
    #[serde(default)]
    is_passthrough_enabled: Option<bool>,
    #[serde(default)]
    algorithm: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct SourceField {
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bucket {
    value: Value,
    #[serde(default)]
    source_values: Vec<Value>,
}

/// A JSON scalar as the text it compares as; null stays null.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[derive(Debug)]
pub struct BucketNode {
    sources: Vec<String>,
    fields: Vec<(BucketField, FieldType)>,
}

impl BucketNode {
    pub fn parse(node: &str, params: &Value, sources: &[String]) -> Result<BucketNode, Vec<Problem>> {
        let p: Params = parse(node, params).map_err(|p| vec![p])?;
        let mut problems = Vec::new();
        if p.fields.is_empty() {
            problems.push(Problem::new(node, "parameters.fields", "must list at least one field"));
        }
        let mut fields = Vec::new();
        for (i, f) in p.fields.into_iter().enumerate() {
            let at = format!("parameters.fields[{i}]");
            if f.buckets_setup.algorithm.as_ref().is_some_and(|a| !a.is_null()) {
                problems.push(Problem::new(
                    node,
                    format!("{at}.bucketsSetup.algorithm"),
                    "range buckets are not supported yet: list the values of each bucket in sourceValues",
                ));
            }
            let ty = match f.ty.as_deref() {
                None => FieldType::Text,
                Some(t) if enum_eq(t, "TEXT") || enum_eq(t, "DIMENSION") => FieldType::Text,
                Some(t) if enum_eq(t, "NUMBER") || enum_eq(t, "MEASURE") => {
                    FieldType::numeric(crate::schema::MAX_PRECISION, crate::schema::DEFAULT_FLOAT_SCALE)
                }
                Some(t) => {
                    problems.push(Problem::new(node, format!("{at}.type"), format!("'{t}' is not TEXT or NUMBER")));
                    continue;
                }
            };
            for (j, b) in f.buckets_setup.buckets.iter().enumerate() {
                if ty.is_numeric() && text(&b.value).is_some_and(|v| v.trim().parse::<f64>().is_err()) {
                    problems.push(Problem::new(
                        node,
                        format!("{at}.bucketsSetup.buckets[{j}].value"),
                        format!("'{}' is not a number, and the field is NUMBER", text(&b.value).unwrap_or_default()),
                    ));
                }
            }
            fields.push((f, ty));
        }
        if problems.is_empty() { Ok(BucketNode { sources: sources.to_vec(), fields }) } else { Err(problems) }
    }

    fn expr(&self, f: &BucketField, ty: &FieldType, source_ty: &FieldType) -> DFResult<Expr> {
        let setup = &f.buckets_setup;
        let source = ident(setup.source_field.name.as_str());
        let as_text = crate::saql::functions::to_text(source.clone(), source_ty);
        let value = |v: Option<String>| -> Expr {
            match (v, ty.is_numeric()) {
                (None, true) => lit(ScalarValue::Float64(None)),
                (None, false) => lit(ScalarValue::Utf8(None)),
                (Some(s), true) => lit(s.trim().parse::<f64>().unwrap_or_default()),
                (Some(s), false) => lit(s),
            }
        };
        let mut case = when(source.clone().is_null(), value(setup.null_bucket_value.as_ref().and_then(text)));
        for b in &setup.buckets {
            let listed: Vec<Expr> = b.source_values.iter().filter_map(text).map(lit).collect();
            if !listed.is_empty() {
                case = case.when(as_text.clone().in_list(listed, false), value(text(&b.value)));
            }
        }
        let other = if setup.is_passthrough_enabled.unwrap_or(false) {
            if ty.is_numeric() { try_cast(as_text, ty.run_type()) } else { as_text }
        } else {
            value(setup.default_bucket_value.as_ref().and_then(text))
        };
        case.otherwise(other)
    }
}

#[async_trait::async_trait]
impl Transform for BucketNode {
    fn inputs(&self) -> Vec<(String, String)> {
        super::inputs(&self.sources)
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        let input = inputs[0];
        let mut out = input.clone();
        for (i, (f, ty)) in self.fields.iter().enumerate() {
            let source = &f.buckets_setup.source_field.name;
            if cx.require_field(input, source, format!("parameters.fields[{i}].bucketsSetup.sourceField.name"))
                && input.type_of(source) == Some(FieldType::MultiValue)
            {
                cx.problem(
                    format!("parameters.fields[{i}].bucketsSetup.sourceField.name"),
                    format!("'{source}' is multi-value; bucket a text, number or date field"),
                );
            }
            if out.get(&f.name).is_some() {
                cx.problem(format!("parameters.fields[{i}].name"), format!("'{}' already exists", f.name));
            }
            out.push(Field::labelled(f.name.clone(), f.label.clone(), ty.clone()));
        }
        Some(out)
    }

    async fn plan(
        &self,
        _cx: &PlanCx<'_>,
        mut inputs: Vec<DataFrame>,
        in_schemas: &[&Schema],
        _out: &Schema,
    ) -> DFResult<DataFrame> {
        let mut new = Vec::new();
        for (f, ty) in &self.fields {
            let source_ty = in_schemas[0].type_of(&f.buckets_setup.source_field.name).unwrap_or(FieldType::Text);
            new.push((self.expr(f, ty, &source_ty)?, f.name.clone()));
        }
        set_fields(inputs.remove(0), in_schemas[0], new)
    }
}
