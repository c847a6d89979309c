//! split: cuts a text field at `delimiter` into `targetFields` (part i goes to target i;
//! missing parts are null, extra parts are dropped).

use crate::error::Problem;
use crate::nodes::{CheckCx, PlanCx, Transform, parse};
use crate::schema::{Field, FieldType, Schema};
use datafusion::common::Result as DFResult;
use datafusion::functions::expr_fn as f;
use datafusion::logical_expr::{Expr, ident, lit};
use datafusion::prelude::DataFrame;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    source_field: String,
    delimiter: String,
    target_fields: Vec<Target>,
}

#[derive(Debug, Deserialize)]
struct Target {
    name: String,
    #[serde(default)]
    label: Option<String>,
}

#[derive(Debug)]
pub struct Split {
    sources: Vec<String>,
    params: Params,
}

impl Split {
    pub fn parse(node: &str, params: &Value, sources: &[String]) -> Result<Split, Vec<Problem>> {
        let params: Params = parse(node, params).map_err(|p| vec![p])?;
        let mut problems = Vec::new();
        if params.delimiter.is_empty() {
            problems.push(Problem::new(node, "parameters.delimiter", "must not be empty"));
        }
        if params.target_fields.is_empty() {
            problems.push(Problem::new(node, "parameters.targetFields", "must list at least one field"));
        }
        if problems.is_empty() { Ok(Split { sources: sources.to_vec(), params }) } else { Err(problems) }
    }
}

#[async_trait::async_trait]
impl Transform for Split {
    fn inputs(&self) -> Vec<(String, String)> {
        super::inputs(&self.sources)
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        let input = inputs[0];
        if cx.require_field(input, &self.params.source_field, "parameters.sourceField") {
            let ty = input.type_of(&self.params.source_field).unwrap_or(FieldType::Unknown);
            if !matches!(ty, FieldType::Text | FieldType::Unknown) {
                cx.problem(
                    "parameters.sourceField",
                    format!("'{}' is {}, not text", self.params.source_field, ty.kind_name()),
                );
            }
        }
        let mut out = input.clone();
        for t in &self.params.target_fields {
            out.push(Field::labelled(t.name.clone(), t.label.clone(), FieldType::Text));
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
        let src = || ident(self.params.source_field.as_str());
        let mut new = Vec::new();
        for (i, t) in self.params.target_fields.iter().enumerate() {
            let n = (i + 1) as i64;
            // part n exists when the text holds at least n - 1 delimiters
            let parts = f::length(src()) - f::length(f::replace(src(), lit(self.params.delimiter.clone()), lit("")));
            let count = parts / lit(self.params.delimiter.chars().count() as i64);
            let e: Expr = datafusion::logical_expr::when(
                count.gt_eq(lit(n - 1)),
                f::split_part(src(), lit(self.params.delimiter.clone()), lit(n)),
            )
            .otherwise(lit(datafusion::common::ScalarValue::Utf8(None)))?;
            new.push((e, t.name.clone()));
        }
        super::formula::set_fields(inputs.remove(0), in_schemas[0], new)
    }
}
