//! formatDate: writes a date field, or a text field holding dates in one of `sourceFormats`,
//! as text in `targetFormat` (Java patterns, as text or as the editor's `{construction}`
//! objects) into `targetField`. A text value that matches no
//! source format gives null. INFERRED: the target is a text field, as the Data Prep "Format
//! Dates" column is a dimension.

use crate::dateformat::DateFormat;
use crate::error::Problem;
use crate::nodes::{CheckCx, PlanCx, Transform, parse};
use crate::saql::functions::Udf;
use crate::schema::{Field, FieldType, Schema};
use datafusion::common::Result as DFResult;
use datafusion::logical_expr::{Expr, ident, lit};
use datafusion::prelude::DataFrame;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    source_field: String,
    #[serde(default, deserialize_with = "patterns")]
    source_formats: Vec<String>,
    target_field: Target,
    #[serde(deserialize_with = "pattern")]
    target_format: String,
}

/// A pattern as text (`"M/d/yyyy"`), or as the recipe editor saves it: `{"regex", "groups",
/// "construction": ["M", "/", "d", "/", "yyyy"]}`, whose construction joined is the pattern.
#[derive(Deserialize)]
#[serde(untagged)]
enum Pattern {
    Text(String),
    Built { construction: Vec<String> },
}

impl From<Pattern> for String {
    fn from(p: Pattern) -> String {
        match p {
            Pattern::Text(t) => t,
            Pattern::Built { construction } => construction.concat(),
        }
    }
}

fn pattern<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Pattern::deserialize(d).map(String::from)
}

fn patterns<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Vec::<Pattern>::deserialize(d)?.into_iter().map(String::from).collect())
}

#[derive(Debug, Deserialize)]
struct Target {
    name: String,
    #[serde(default)]
    label: Option<String>,
}

#[derive(Debug)]
pub struct FormatDate {
    sources: Vec<String>,
    params: Params,
}

impl FormatDate {
    pub fn parse(node: &str, params: &Value, sources: &[String]) -> Result<FormatDate, Vec<Problem>> {
        let params: Params = parse(node, params).map_err(|p| vec![p])?;
        let mut problems = Vec::new();
        if let Err(e) = DateFormat::parse(&params.target_format) {
            problems.push(Problem::new(node, "parameters.targetFormat", e));
        }
        for (i, f) in params.source_formats.iter().enumerate() {
            if let Err(e) = DateFormat::parse(f) {
                problems.push(Problem::new(node, format!("parameters.sourceFormats[{i}]"), e));
            }
        }
        if problems.is_empty() { Ok(FormatDate { sources: sources.to_vec(), params }) } else { Err(problems) }
    }

    fn field(&self) -> Field {
        Field {
            label: self.params.target_field.label.clone(),
            ..Field::new(self.params.target_field.name.clone(), FieldType::Text)
        }
    }
}

#[async_trait::async_trait]
impl Transform for FormatDate {
    fn inputs(&self) -> Vec<(String, String)> {
        super::inputs(&self.sources)
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        let input = inputs[0];
        if cx.require_field(input, &self.params.source_field, "parameters.sourceField") {
            match input.type_of(&self.params.source_field).unwrap_or(FieldType::Unknown) {
                FieldType::Text if self.params.source_formats.is_empty() => {
                    cx.problem("parameters.sourceFormats", "must list the formats of a text field's dates")
                }
                FieldType::Text | FieldType::Date { .. } | FieldType::Unknown => {}
                other => cx.problem(
                    "parameters.sourceField",
                    format!("'{}' is {}, not a date or text", self.params.source_field, other.kind_name()),
                ),
            }
        }
        let mut out = input.clone();
        out.push(self.field());
        Some(out)
    }

    async fn plan(
        &self,
        _cx: &PlanCx<'_>,
        mut inputs: Vec<DataFrame>,
        in_schemas: &[&Schema],
        _out: &Schema,
    ) -> DFResult<DataFrame> {
        let col = ident(self.params.source_field.as_str());
        let date = match in_schemas[0].type_of(&self.params.source_field) {
            Some(FieldType::Date { .. }) => col,
            _ => {
                let mut args: Vec<Expr> = vec![col];
                args.extend(self.params.source_formats.iter().map(|f| lit(f.clone())));
                Udf::ParseDateAny.call(args)
            }
        };
        let e = Udf::FormatDate.call(vec![date, lit(self.params.target_format.clone())]);
        super::formula::set_field(inputs.remove(0), in_schemas[0], e, &self.params.target_field.name)
    }
}
