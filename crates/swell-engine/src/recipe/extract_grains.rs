//! extractGrains: adds date parts of date fields as numbers (`grainExtractions: [{"source",
//! "targets": [{"name", "label", "grainType"}]}]`): Year, Quarter, Month, Week, Day, Hour,
//! Minute, Second, DayEpoch, SecondEpoch. Fiscal grains need a fiscal calendar swell does
//! not have yet and are refused naming the target.

use super::enum_eq;
use crate::error::Problem;
use crate::nodes::{CheckCx, PlanCx, Transform, parse};
use crate::schema::{Field, FieldType, MAX_PRECISION, Schema};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result as DFResult;
use datafusion::functions::expr_fn as f;
use datafusion::logical_expr::{Expr, cast, ident, lit};
use datafusion::prelude::DataFrame;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    grain_extractions: Vec<Extraction>,
}

#[derive(Debug, Deserialize)]
struct Extraction {
    source: String,
    targets: Vec<Target>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    name: String,
    #[serde(default)]
    label: Option<String>,
    grain_type: String,
}

/// Grain names and the date_part unit (empty for the epochs).
const GRAINS: &[(&str, &str)] = &[
    ("YEAR", "year"),
    ("QUARTER", "quarter"),
    ("MONTH", "month"),
    ("WEEK", "week"),
    ("DAY", "day"),
    ("HOUR", "hour"),
    ("MINUTE", "minute"),
    ("SECOND", "second"),
    ("DAY_EPOCH", ""),
    ("SECOND_EPOCH", ""),
    // the recipe editor's spelling (4 targets of the public recipes)
    ("SEC_EPOCH", ""),
];

#[derive(Debug)]
pub struct ExtractGrains {
    sources: Vec<String>,
    /// (source field, target name, label, grain)
    targets: Vec<(String, String, Option<String>, &'static str)>,
}

impl ExtractGrains {
    pub fn parse(node: &str, params: &Value, sources: &[String]) -> Result<ExtractGrains, Vec<Problem>> {
        let p: Params = parse(node, params).map_err(|p| vec![p])?;
        let mut problems = Vec::new();
        let mut targets = Vec::new();
        for (i, e) in p.grain_extractions.into_iter().enumerate() {
            for (j, t) in e.targets.into_iter().enumerate() {
                let path = format!("parameters.grainExtractions[{i}].targets[{j}].grainType");
                match GRAINS.iter().find(|(g, _)| enum_eq(g, &t.grain_type)) {
                    Some((g, _)) => targets.push((e.source.clone(), t.name, t.label, *g)),
                    None if t.grain_type.to_ascii_lowercase().starts_with("fiscal") => problems.push(Problem::new(
                        node,
                        path,
                        format!("'{}' is not supported yet: fiscal grains need a fiscal calendar", t.grain_type),
                    )),
                    None => problems.push(Problem::new(
                        node,
                        path,
                        format!(
                            "unknown grain '{}' (Year, Quarter, Month, Week, Day, Hour, Minute, Second, DayEpoch, SecondEpoch)",
                            t.grain_type
                        ),
                    )),
                }
            }
        }
        if problems.is_empty() { Ok(ExtractGrains { sources: sources.to_vec(), targets }) } else { Err(problems) }
    }
}

#[async_trait::async_trait]
impl Transform for ExtractGrains {
    fn inputs(&self) -> Vec<(String, String)> {
        super::inputs(&self.sources)
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        let input = inputs[0];
        let mut out = input.clone();
        for (i, (source, name, label, _)) in self.targets.iter().enumerate() {
            if cx.require_field(input, source, format!("parameters.grainExtractions[{i}].source")) {
                let ty = input.type_of(source).unwrap_or(FieldType::Unknown);
                if !matches!(ty, FieldType::Date { .. } | FieldType::Unknown) {
                    cx.problem(
                        format!("parameters.grainExtractions[{i}].source"),
                        format!("'{source}' is {}, not a date", ty.kind_name()),
                    );
                }
            }
            out.push(Field::labelled(name.clone(), label.clone(), FieldType::numeric(MAX_PRECISION, 0)));
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
        for (source, name, _label, grain) in &self.targets {
            let col = ident(source.as_str());
            let millis = || cast(col.clone(), DataType::Int64);
            let e: Expr = match *grain {
                "DAY_EPOCH" => f::floor(cast(millis(), DataType::Float64) / lit(86_400_000.0)),
                "SECOND_EPOCH" | "SEC_EPOCH" => f::floor(cast(millis(), DataType::Float64) / lit(1000.0)),
                other => {
                    let unit = GRAINS.iter().find(|(g, _)| *g == other).map_or("year", |(_, u)| *u);
                    cast(f::date_part(lit(unit), col.clone()), DataType::Float64)
                }
            };
            new.push((e, name.clone()));
        }
        super::formula::set_fields(inputs.remove(0), in_schemas[0], new)
    }
}
