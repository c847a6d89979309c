//! typeCast ("To Measure", "To Dimension", "To Date"): converts fields to another type,
//! `fields: [{name, newProperties: {name?, label?, typeProperties: {type, precision?, scale?}}}]`.
//!
//! The converted value goes to `newProperties.name`; when that is another name the original
//! field stays and the converted one is added after the input's fields (Data Prep's pattern
//! is a `schema` block that then drops the original and renames the copy back). Without a
//! new name the field is converted in place. Text that does not parse as the new type gives
//! null; numbers become text by their scale; dates become ISO text. (INFERRED: Data Prep's
//! typeCast parameters are the schema node's field changes; seen in public recipe notes.)

use super::formula::{field_type, set_fields};
use super::schema::convert;
use crate::error::Problem;
use crate::nodes::{CheckCx, PlanCx, Transform, parse};
use crate::schema::{Field, FieldType, Schema};
use datafusion::common::Result as DFResult;
use datafusion::logical_expr::ident;
use datafusion::prelude::DataFrame;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
struct Params {
    fields: Vec<Cast>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cast {
    name: String,
    new_properties: NewProperties,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewProperties {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    label: Option<String>,
    type_properties: TypeProperties,
}

#[derive(Debug, Deserialize)]
struct TypeProperties {
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    precision: Option<u32>,
    #[serde(default)]
    scale: Option<u32>,
}

#[derive(Debug)]
pub struct TypeCast {
    sources: Vec<String>,
    /// (source field, target field, label, new type)
    casts: Vec<(String, String, Option<String>, FieldType)>,
}

impl TypeCast {
    pub fn parse(node: &str, params: &Value, sources: &[String]) -> Result<TypeCast, Vec<Problem>> {
        let p: Params = parse(node, params).map_err(|p| vec![p])?;
        let mut problems = Vec::new();
        if p.fields.is_empty() {
            problems.push(Problem::new(node, "parameters.fields", "must list at least one field"));
        }
        let mut casts = Vec::new();
        for (i, c) in p.fields.into_iter().enumerate() {
            let t = &c.new_properties.type_properties;
            match field_type(&t.ty, t.precision, t.scale) {
                Ok(ty) => {
                    let target =
                        c.new_properties.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| c.name.clone());
                    casts.push((c.name, target, c.new_properties.label, ty));
                }
                Err(m) => problems.push(Problem::new(
                    node,
                    format!("parameters.fields[{i}].newProperties.typeProperties.type"),
                    m,
                )),
            }
        }
        if problems.is_empty() { Ok(TypeCast { sources: sources.to_vec(), casts }) } else { Err(problems) }
    }

    fn output(&self, input: &Schema) -> Schema {
        let mut out = input.clone();
        for (source, target, label, ty) in &self.casts {
            let label = label.clone().or_else(|| input.get(source).and_then(|f| f.label.clone()));
            let field = Field::labelled(target.clone(), label, ty.clone());
            match out.fields.iter_mut().find(|f| &f.name == target) {
                Some(existing) => *existing = field,
                None => out.push(field),
            }
        }
        out
    }
}

#[async_trait::async_trait]
impl Transform for TypeCast {
    fn inputs(&self) -> Vec<(String, String)> {
        super::inputs(&self.sources)
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        let input = inputs[0];
        for (i, (source, target, _, ty)) in self.casts.iter().enumerate() {
            if !cx.require_field(input, source, format!("parameters.fields[{i}].name")) {
                continue;
            }
            if matches!(ty, FieldType::MultiValue) || input.type_of(source) == Some(FieldType::MultiValue) {
                cx.problem(
                    format!("parameters.fields[{i}]"),
                    format!("'{source}' cannot be cast to or from a multi-value field"),
                );
            }
            if target != source && input.get(target).is_some() {
                cx.problem(
                    format!("parameters.fields[{i}].newProperties.name"),
                    format!("'{target}' already exists; cast in place (no new name) or pick another name"),
                );
            }
        }
        Some(self.output(input))
    }

    async fn plan(
        &self,
        _cx: &PlanCx<'_>,
        mut inputs: Vec<DataFrame>,
        in_schemas: &[&Schema],
        _out: &Schema,
    ) -> DFResult<DataFrame> {
        let input = in_schemas[0];
        let new = self
            .casts
            .iter()
            .map(|(source, target, _, ty)| {
                let before = input.type_of(source).unwrap_or(FieldType::Unknown);
                (convert(ident(source.as_str()), &before, ty), target.clone())
            })
            .collect();
        set_fields(inputs.remove(0), input, new)
    }
}
