//! dim2mea: adds a measure parsed from a text dimension, keeping the dimension. A value that is
//! not a number gets `measureDefault` (0 when absent). `measureType` is `long`, the only type
//! CRM Analytics offers, so the measure is truncated to an integer.

use super::{CheckCx, PlanCx, Transform};
use crate::schema::{Field, FieldType, MAX_PRECISION, Schema};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result as DFResult;
use datafusion::functions::expr_fn::{coalesce, trunc};
use datafusion::logical_expr::{cast, ident, lit, try_cast};
use datafusion::prelude::DataFrame;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dim2Mea {
    source: String,
    dimension: String,
    measure: String,
    #[serde(default)]
    measure_default: Option<Value>,
    #[serde(default)]
    measure_type: Option<String>,
}

impl Dim2Mea {
    fn default_value(&self) -> Result<f64, String> {
        match &self.measure_default {
            None | Some(Value::Null) => Ok(0.0),
            Some(Value::Number(n)) => n.as_f64().ok_or_else(|| "must be a number".to_string()),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(0.0),
            Some(Value::String(s)) => s.trim().parse().map_err(|_| format!("'{s}' is not a number")),
            Some(other) => Err(format!("must be a number, found {other}")),
        }
    }
}

#[async_trait::async_trait]
impl Transform for Dim2Mea {
    fn inputs(&self) -> Vec<(String, String)> {
        vec![("parameters.source".into(), self.source.clone())]
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        let input = inputs[0];
        match input.type_of(&self.dimension) {
            None => cx.problem("parameters.dimension", input.unknown_field(&self.dimension)),
            Some(FieldType::Text | FieldType::Unknown) => {}
            Some(other) => cx.problem(
                "parameters.dimension",
                format!("'{}' is {}, not a text dimension", self.dimension, other.kind_name()),
            ),
        }
        if input.get(&self.measure).is_some() {
            cx.problem("parameters.measure", format!("field '{}' already exists", self.measure));
        }
        if let Some(t) = &self.measure_type
            && !t.eq_ignore_ascii_case("long")
        {
            cx.problem("parameters.measureType", format!("unknown measure type '{t}' (only long)"));
        }
        if let Err(e) = self.default_value() {
            cx.problem("parameters.measureDefault", e);
        }
        let mut out = input.clone();
        out.fields.push(Field::new(self.measure.clone(), FieldType::numeric(MAX_PRECISION, 0)));
        Some(out)
    }

    async fn plan(
        &self,
        _cx: &PlanCx<'_>,
        mut inputs: Vec<DataFrame>,
        in_schemas: &[&Schema],
        _out: &Schema,
    ) -> DFResult<DataFrame> {
        let parsed = trunc(vec![try_cast(
            datafusion::functions::expr_fn::btrim(vec![cast(ident(self.dimension.as_str()), DataType::Utf8)]),
            DataType::Float64,
        )]);
        let value = coalesce(vec![parsed, lit(self.default_value().unwrap_or(0.0))]);
        super::add_field(inputs.remove(0), in_schemas[0], value, &self.measure)
    }
}
