//! aggregate: one row per distinct tuple of `groupings`, with `aggregations` (`{action, name,
//! label, source}`): SUM, COUNT, AVG, MIN, MAX, MEDIAN, UNIQUE (distinct count), STDDEV and
//! VAR (sample), STDDEVP and VARP (population). Nulls are skipped, as in SQL; COUNT without a
//! source counts rows. Hierarchical aggregation and pivots are refused naming the parameter.

use super::enum_eq;
use crate::error::Problem;
use crate::nodes::{CheckCx, NameRef, PlanCx, Transform, parse};
use crate::schema::{Field, FieldType, MAX_PRECISION, Schema};
use datafusion::common::Result as DFResult;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::{Expr, cast, ident, lit};
use datafusion::prelude::DataFrame;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    #[serde(default)]
    aggregations: Vec<Aggregation>,
    #[serde(default)]
    groupings: Vec<NameRef>,
    #[serde(default)]
    node_type: Option<String>,
    #[serde(default)]
    pivots: Vec<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Aggregation {
    action: String,
    name: String,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    source: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Action {
    Sum,
    Count,
    Avg,
    Min,
    Max,
    Median,
    Unique,
    Stddev,
    StddevP,
    Var,
    VarP,
}

const ACTIONS: &[(&str, Action)] = &[
    ("SUM", Action::Sum),
    ("COUNT", Action::Count),
    ("AVG", Action::Avg),
    ("AVERAGE", Action::Avg),
    ("MIN", Action::Min),
    ("MAX", Action::Max),
    ("MEDIAN", Action::Median),
    ("UNIQUE", Action::Unique),
    ("STDDEV", Action::Stddev),
    ("STDDEVP", Action::StddevP),
    ("VAR", Action::Var),
    ("VARP", Action::VarP),
];

#[derive(Debug)]
pub struct Aggregate {
    sources: Vec<String>,
    groupings: Vec<String>,
    aggregations: Vec<(Aggregation, Action)>,
}

impl Aggregate {
    pub fn parse(node: &str, params: &Value, sources: &[String]) -> Result<Aggregate, Vec<Problem>> {
        let p: Params = parse(node, params).map_err(|p| vec![p])?;
        let mut problems = Vec::new();
        if let Some(t) = &p.node_type
            && !enum_eq(t, "STANDARD")
        {
            problems.push(Problem::new(
                node,
                "parameters.nodeType",
                format!("'{t}' aggregation is not supported yet: use STANDARD"),
            ));
        }
        if !p.pivots.is_empty() {
            problems.push(Problem::new(node, "parameters.pivots", "pivots are not supported yet"));
        }
        if p.aggregations.is_empty() {
            problems.push(Problem::new(node, "parameters.aggregations", "must list at least one aggregation"));
        }
        let mut aggregations = Vec::new();
        for (i, a) in p.aggregations.into_iter().enumerate() {
            match ACTIONS.iter().find(|(n, _)| enum_eq(n, &a.action)) {
                Some((_, action)) => {
                    if a.source.is_none() && *action != Action::Count {
                        problems.push(Problem::new(
                            node,
                            format!("parameters.aggregations[{i}].source"),
                            "is required",
                        ));
                    }
                    aggregations.push((a, *action));
                }
                None => problems.push(Problem::new(
                    node,
                    format!("parameters.aggregations[{i}].action"),
                    format!(
                        "'{}' is not an aggregation: use one of {}",
                        a.action,
                        ACTIONS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                    ),
                )),
            }
        }
        let groupings = p.groupings.iter().map(|g| g.name().to_string()).collect();
        if problems.is_empty() {
            Ok(Aggregate { sources: sources.to_vec(), groupings, aggregations })
        } else {
            Err(problems)
        }
    }
}

#[async_trait::async_trait]
impl Transform for Aggregate {
    fn inputs(&self) -> Vec<(String, String)> {
        super::inputs(&self.sources)
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        let input = inputs[0];
        let mut out = Schema::new(Vec::new());
        for (i, g) in self.groupings.iter().enumerate() {
            if cx.require_field(input, g, format!("parameters.groupings[{i}]")) {
                out.fields.push(input.get(g).cloned().unwrap_or_else(|| Field::new(g.clone(), FieldType::Unknown)));
            }
        }
        for (i, (a, action)) in self.aggregations.iter().enumerate() {
            let source_ty = match &a.source {
                Some(s) if cx.require_field(input, s, format!("parameters.aggregations[{i}].source")) => {
                    input.type_of(s).unwrap_or(FieldType::Unknown)
                }
                Some(_) => continue,
                None => FieldType::Unknown,
            };
            let numeric_only = !matches!(action, Action::Count | Action::Unique | Action::Min | Action::Max);
            if numeric_only && !matches!(source_ty, FieldType::Numeric { .. } | FieldType::Unknown) {
                cx.problem(
                    format!("parameters.aggregations[{i}].source"),
                    format!(
                        "{} needs a number; '{}' is {}",
                        a.action,
                        a.source.as_deref().unwrap_or(""),
                        source_ty.kind_name()
                    ),
                );
            }
            let scale = match source_ty {
                FieldType::Numeric { scale, .. } => scale,
                _ => 0,
            };
            let ty = match action {
                Action::Count | Action::Unique => FieldType::numeric(MAX_PRECISION, 0),
                Action::Sum => FieldType::numeric(MAX_PRECISION, scale),
                Action::Min | Action::Max if source_ty != FieldType::Unknown => source_ty,
                _ => FieldType::numeric(MAX_PRECISION, scale.max(2)),
            };
            out.push(Field::labelled(a.name.clone(), a.label.clone(), ty));
        }
        Some(out)
    }

    async fn plan(
        &self,
        _cx: &PlanCx<'_>,
        mut inputs: Vec<DataFrame>,
        _in: &[&Schema],
        out: &Schema,
    ) -> DFResult<DataFrame> {
        let groups: Vec<Expr> = self.groupings.iter().map(|g| ident(g.as_str())).collect();
        let aggs: Vec<Expr> = self
            .aggregations
            .iter()
            .map(|(a, action)| {
                let c = || a.source.as_deref().map_or_else(|| lit(1i64), ident);
                let e = match action {
                    Action::Sum => agg::sum(c()),
                    Action::Count => agg::count(c()),
                    Action::Avg => agg::avg(c()),
                    Action::Min => agg::min(c()),
                    Action::Max => agg::max(c()),
                    Action::Median => agg::median(c()),
                    Action::Unique => agg::count_distinct(c()),
                    Action::Stddev => agg::stddev(c()),
                    Action::StddevP => agg::stddev_pop(c()),
                    Action::Var => agg::var_sample(c()),
                    Action::VarP => agg::var_pop(c()),
                };
                e.alias(a.name.as_str())
            })
            .collect();
        let df = inputs.remove(0).aggregate(groups, aggs)?;
        // counts come back as integers: every measure computes as Float64 in a run
        df.select(
            out.fields
                .iter()
                .map(|f| cast(ident(f.name.as_str()), f.ty.run_type()).alias(f.name.as_str()))
                .collect::<Vec<_>>(),
        )
    }
}
