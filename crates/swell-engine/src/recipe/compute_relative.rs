//! computeRelative: fields computed over the rows of a partition in order (`partitionBy`,
//! `orderBy: [{"fieldName", "direction": "ASC"|"DESC"}]`), each a recipe SQL formula with one
//! window function: `lag(f)` (the previous row), `lead(f)` (the next), `first_value(f)` and
//! `last_value(f)` (of the whole partition), `current(f)` (this row), `row_number()`, `rank()`,
//! `dense_rank()`. The function may sit inside a larger formula (`Amount - lag(Amount)`).

use super::formula::{FormulaField, field_type, set_field, set_fields};
use super::{enum_eq, sql};
use crate::error::Problem;
use crate::nodes::{CheckCx, PlanCx, Transform, parse};
use crate::schema::{Field, FieldType, Schema};
use datafusion::common::{DataFusionError, Result as DFResult};
use datafusion::logical_expr::cast;
use datafusion::prelude::DataFrame;
use datafusion::sql::sqlparser::ast::{Expr as SqlExpr, visit_expressions_mut};
use serde::Deserialize;
use serde_json::Value;
use std::ops::ControlFlow;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    #[serde(default)]
    partition_by: Vec<String>,
    #[serde(default)]
    order_by: Vec<OrderBy>,
    #[serde(default)]
    expression_type: Option<String>,
    fields: Vec<FormulaField>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderBy {
    #[serde(alias = "name")]
    field_name: String,
    #[serde(default)]
    direction: Option<String>,
}

/// Window functions, and whether they look at the whole partition.
const WINDOW_FUNCTIONS: &[(&str, bool)] = &[
    ("lag", false),
    ("lead", false),
    ("first_value", true),
    ("last_value", true),
    ("row_number", false),
    ("rank", false),
    ("dense_rank", false),
];

#[derive(Debug)]
pub struct ComputeRelative {
    sources: Vec<String>,
    params: Params,
    types: Vec<FieldType>,
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl ComputeRelative {
    pub fn parse(node: &str, params: &Value, sources: &[String]) -> Result<ComputeRelative, Vec<Problem>> {
        let p: Params = parse(node, params).map_err(|p| vec![p])?;
        let mut problems = Vec::new();
        if let Some(t) = &p.expression_type
            && !enum_eq(t, "SQL")
        {
            problems.push(Problem::new(node, "parameters.expressionType", format!("'{t}' is not supported: use SQL")));
        }
        for (i, o) in p.order_by.iter().enumerate() {
            if let Some(d) = &o.direction
                && !enum_eq(d, "ASC")
                && !enum_eq(d, "DESC")
            {
                problems.push(Problem::new(
                    node,
                    format!("parameters.orderBy[{i}].direction"),
                    format!("'{d}' is not ASC or DESC"),
                ));
            }
        }
        if p.fields.is_empty() {
            problems.push(Problem::new(node, "parameters.fields", "must list at least one field"));
        }
        let mut types = Vec::new();
        for (i, f) in p.fields.iter().enumerate() {
            match sql::parse(&f.formula_expression) {
                Ok(e) if window_calls(&e) != 1 => problems.push(Problem::new(
                    node,
                    format!("parameters.fields[{i}].formulaExpression"),
                    "must use exactly one window function: lag, lead, first_value, last_value, current, row_number, rank or dense_rank",
                )),
                Ok(_) => {}
                Err(e) => problems.push(Problem::new(node, format!("parameters.fields[{i}].formulaExpression"), e)),
            }
            match field_type(&f.ty, f.precision, f.scale) {
                Ok(t) => types.push(t),
                Err(m) => problems.push(Problem::new(node, format!("parameters.fields[{i}].type"), m)),
            }
        }
        if problems.is_empty() {
            Ok(ComputeRelative { sources: sources.to_vec(), params: p, types })
        } else {
            Err(problems)
        }
    }

    /// `OVER (...)` for a function that sees the whole partition or not.
    fn over(&self, whole: bool) -> String {
        let mut spec = Vec::new();
        if !self.params.partition_by.is_empty() {
            let cols: Vec<String> = self.params.partition_by.iter().map(|c| quote(c)).collect();
            spec.push(format!("PARTITION BY {}", cols.join(", ")));
        }
        if !self.params.order_by.is_empty() {
            let cols: Vec<String> = self
                .params
                .order_by
                .iter()
                .map(|o| {
                    let desc = o.direction.as_deref().is_some_and(|d| enum_eq(d, "DESC"));
                    format!("{} {}", quote(&o.field_name), if desc { "DESC" } else { "ASC" })
                })
                .collect();
            spec.push(format!("ORDER BY {}", cols.join(", ")));
        }
        if whole {
            spec.push("ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING".into());
        }
        format!("row_number() OVER ({})", spec.join(" "))
    }

    /// The formula with its window function given this node's window.
    fn windowed(&self, text: &str) -> Result<SqlExpr, String> {
        let mut e = sql::parse(text)?;
        let windows = [false, true].map(|whole| match sql::parse(&self.over(whole)) {
            Ok(SqlExpr::Function(f)) => f.over,
            _ => None,
        });
        let _ = visit_expressions_mut(&mut e, |x| {
            if let SqlExpr::Function(f) = x {
                let name = f.name.to_string().to_ascii_lowercase();
                if name == "current"
                    && let Some(arg) = single_arg(f)
                {
                    *x = arg;
                } else if let Some((_, whole)) = WINDOW_FUNCTIONS.iter().find(|(n, _)| *n == name)
                    && f.over.is_none()
                {
                    f.over = windows[usize::from(*whole)].clone();
                }
            }
            ControlFlow::<()>::Continue(())
        });
        Ok(e)
    }
}

fn single_arg(f: &datafusion::sql::sqlparser::ast::Function) -> Option<SqlExpr> {
    use datafusion::sql::sqlparser::ast::{FunctionArg, FunctionArgExpr, FunctionArguments};
    match &f.args {
        FunctionArguments::List(l) if l.args.len() == 1 => match &l.args[0] {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
            _ => None,
        },
        _ => None,
    }
}

impl ComputeRelative {
    /// The fields computed from the dataflow's neighbours operator (see
    /// nodes/compute_relative/neighbours.rs) when every window call is `lag(field)` or
    /// `lead(field)` of an input field and the partition fields can be compared; `None`
    /// otherwise, and when a field replaces an input field (fields are then set one after the
    /// other, as they always were).
    fn plan_neighbours(
        &self,
        df: DataFrame,
        input: &Schema,
        exprs: &[(datafusion::logical_expr::Expr, &FormulaField, &FieldType)],
    ) -> DFResult<Option<DataFrame>> {
        use crate::nodes::compute_relative::neighbours;
        if self.params.partition_by.is_empty()
            || !neighbours::comparable(df.schema(), &self.params.partition_by)
            || exprs.iter().any(|(_, f, _)| input.contains(&f.name))
        {
            return Ok(None);
        }
        let arrow = df.schema().clone();
        let mut reads = Vec::new();
        let mut fields = Vec::new();
        for (e, f, _) in exprs {
            let Some(e) = neighbours::reads_of(e.clone(), &mut reads) else { return Ok(None) };
            fields.push((e, f.name.clone()));
        }
        reads.sort();
        reads.dedup();
        if reads.iter().any(|(c, _)| arrow.field_with_unqualified_name(c).is_err()) {
            return Ok(None);
        }
        let order = self
            .params
            .order_by
            .iter()
            .map(|o| (o.field_name.clone(), !o.direction.as_deref().is_some_and(|d| enum_eq(d, "DESC"))))
            .collect();
        let (state, plan) = df.into_parts();
        let plan = neighbours::neighbours(plan, self.params.partition_by.clone(), order, reads)?;
        set_fields(DataFrame::new(state, plan), input, fields).map(Some)
    }
}

/// How many window function calls a formula makes.
fn window_calls(e: &SqlExpr) -> usize {
    let mut e = e.clone();
    let mut n = 0;
    let _ = visit_expressions_mut(&mut e, |x| {
        if let SqlExpr::Function(f) = x {
            let name = f.name.to_string().to_ascii_lowercase();
            if name == "current" || WINDOW_FUNCTIONS.iter().any(|(w, _)| *w == name) {
                n += 1;
            }
        }
        ControlFlow::<()>::Continue(())
    });
    n
}

#[async_trait::async_trait]
impl Transform for ComputeRelative {
    fn inputs(&self) -> Vec<(String, String)> {
        super::inputs(&self.sources)
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        let input = inputs[0];
        for (i, p) in self.params.partition_by.iter().enumerate() {
            cx.require_field(input, p, format!("parameters.partitionBy[{i}]"));
        }
        for (i, o) in self.params.order_by.iter().enumerate() {
            cx.require_field(input, &o.field_name, format!("parameters.orderBy[{i}].fieldName"));
        }
        let mut out = input.clone();
        for (i, (f, ty)) in self.params.fields.iter().zip(&self.types).enumerate() {
            let path = format!("parameters.fields[{i}].formulaExpression");
            for name in sql::parse(&f.formula_expression).map(|e| sql::fields(&e)).unwrap_or_default() {
                if !input.contains(&name) {
                    cx.problem(&path, input.unknown_field(&name));
                }
            }
            out.push(Field::labelled(f.name.clone(), f.label.clone(), ty.clone()));
        }
        Some(out)
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
        // every field reads the input rows: lower them all against the input schema first
        let mut exprs = Vec::new();
        for (f, ty) in self.params.fields.iter().zip(&self.types) {
            let windowed = self.windowed(&f.formula_expression).map_err(DataFusionError::Plan)?;
            exprs.push((cast(sql::lower(cx.ctx, windowed, in_schemas[0], cx.now_millis)?, ty.run_type()), f, ty));
        }
        if let Some(df) = self.plan_neighbours(df.clone(), in_schemas[0], &exprs)? {
            return Ok(df);
        }
        for (e, f, ty) in exprs {
            df = set_field(df, &schema, e, &f.name)?;
            schema.push(Field::labelled(f.name.clone(), f.label.clone(), ty.clone()));
        }
        Ok(df)
    }
}
