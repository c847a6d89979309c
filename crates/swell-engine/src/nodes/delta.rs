//! delta: the change of a measure between consecutive records of the same dimension value,
//! ordered by an epoch field: `outputMeasure = inputMeasure - previous inputMeasure`. The first
//! record of each dimension value gets 0.

use super::{CheckCx, PlanCx, Transform};
use crate::schema::{Field, FieldType, Schema};
use datafusion::common::Result as DFResult;
use datafusion::functions::expr_fn::coalesce;
use datafusion::functions_window::expr_fn::lag;
use datafusion::logical_expr::{ExprFunctionExt, ident, lit};
use datafusion::prelude::DataFrame;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delta {
    source: String,
    dimension: String,
    epoch: String,
    input_measure: String,
    output_measure: String,
}

#[async_trait::async_trait]
impl Transform for Delta {
    fn inputs(&self) -> Vec<(String, String)> {
        vec![("parameters.source".into(), self.source.clone())]
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        let input = inputs[0];
        cx.require_field(input, &self.dimension, "parameters.dimension");
        match input.type_of(&self.epoch) {
            None => cx.problem("parameters.epoch", input.unknown_field(&self.epoch)),
            Some(FieldType::Numeric { .. } | FieldType::Date { .. } | FieldType::Unknown) => {}
            Some(other) => cx.problem(
                "parameters.epoch",
                format!("'{}' is {}; use an epoch field such as X_day_epoch", self.epoch, other.kind_name()),
            ),
        }
        let ty = match input.type_of(&self.input_measure) {
            None => {
                cx.problem("parameters.inputMeasure", input.unknown_field(&self.input_measure));
                return None;
            }
            Some(t @ (FieldType::Numeric { .. } | FieldType::Unknown)) => t,
            Some(other) => {
                cx.problem(
                    "parameters.inputMeasure",
                    format!("'{}' is {}, not a measure", self.input_measure, other.kind_name()),
                );
                return None;
            }
        };
        if input.get(&self.output_measure).is_some() {
            cx.problem("parameters.outputMeasure", format!("field '{}' already exists", self.output_measure));
        }
        let mut out = input.clone();
        out.fields.push(Field::new(self.output_measure.clone(), ty));
        Some(out)
    }

    async fn plan(
        &self,
        _cx: &PlanCx<'_>,
        mut inputs: Vec<DataFrame>,
        in_schemas: &[&Schema],
        _out: &Schema,
    ) -> DFResult<DataFrame> {
        let m = ident(self.input_measure.as_str());
        let previous = lag(m.clone(), Some(1), None)
            .partition_by(vec![ident(self.dimension.as_str())])
            .order_by(vec![ident(self.epoch.as_str()).sort(true, true)])
            .build()?;
        let delta = coalesce(vec![m - previous, lit(0.0)]);
        super::add_field(inputs.remove(0), in_schemas[0], delta, &self.output_measure)
    }
}
