//! aggregate: one row per distinct tuple of `groupings`, with `aggregations` (`{action, name,
//! label, source}`): SUM, COUNT, AVG, MIN, MAX, MEDIAN, UNIQUE (distinct count), STDDEV and
//! VAR (sample), STDDEVP and VARP (population). Nulls are skipped, as in SQL; COUNT without a
//! source counts rows.
//!
//! **Pivots** (`pivots: [{source, values: [...]}]`, Data Prep's "group columns"): each
//! aggregation is computed once per combination of the listed values (in the order listed,
//! the first pivot varying slowest), into a field named `<value>[_<value>...]_<name>` with
//! every character that is not a letter, a digit or `_` made `_`, labelled `<value> ...
//! <label>`. A row whose pivot value is not listed counts in no pivoted field; a null in
//! `values` stands for null. The fields must be known before a run, so the values must be
//! listed. INFERRED: the API documents `{source, values}`; the generated names follow the
//! pattern of Data Prep's generated names (`<grouping>_<aggregation>`). `pivot_v2` is read
//! the same way when it has that shape; the editor's object form (`sourceFields`,
//! `valueCombinations`, `pivotFieldsInfo`) names each generated field itself.
//!
//! **Hierarchical aggregation** (`nodeType: HIERARCHICAL`, `selfField`, `parentField`): each
//! record of a parent/child hierarchy (an account and its parent account, a role and its parent
//! role) gets the aggregation of its own rows and of the rows of all its descendants, one
//! output row per distinct `selfField` value: `selfField`, `parentField`, then the
//! aggregations. A row counts once for each of its ancestors present in the data; the walk
//! stops at a parent that is not in the data and at the first id seen twice (a cycle), as
//! flatten does; rows with a null `selfField` count nowhere. `groupings` may only name the
//! two hierarchy fields. `percentageField` is refused: CRM Analytics does not document what it
//! weighs. INFERRED from the API's parameter names and Data Prep's description ("roll up
//! values at each level of a hierarchy").

use super::enum_eq;
use crate::error::Problem;
use crate::nodes::flatten::{ancestry, hierarchy};
use crate::nodes::{CheckCx, NameRef, PlanCx, Transform, parse};
use crate::saql::functions::to_text;
use crate::schema::{Field, FieldType, MAX_PRECISION, Schema};
use datafusion::arrow::array::{RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field as ArrowField, Schema as ArrowSchema};
use datafusion::common::{JoinType, Result as DFResult, ScalarValue};
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::{Expr, cast, ident, lit, when};
use datafusion::prelude::DataFrame;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

/// The most (record, ancestor) pairs a hierarchical rollup joins: the rows are joined to
/// every ancestor of theirs, so a hierarchy as deep as it is long (a chain of a million
/// records) would hold the square of its size.
const MAX_ROLLUP_PAIRS: usize = 20_000_000;

/// The most fields pivots may generate (a CRM Analytics dataset holds at most 5,000 fields).
const MAX_PIVOT_FIELDS: usize = 5000;

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
    self_field: Option<String>,
    #[serde(default)]
    parent_field: Option<String>,
    #[serde(default)]
    percentage_field: Option<String>,
    #[serde(default)]
    pivots: Option<Value>,
    #[serde(default, rename = "pivot_v2", alias = "pivotV2")]
    pivot_v2: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Pivot {
    source: String,
    values: Vec<Value>,
}

/// One generated field of a pivoted aggregation: the pivot values it holds and its name.
#[derive(Debug, Clone)]
struct Cell {
    values: Vec<Option<String>>,
    prefix: String,
    label: String,
    /// Names the definition gives (the editor's `pivotFieldsInfo`): aggregation name ->
    /// (field name, label).
    named: std::collections::HashMap<String, (String, Option<String>)>,
}

impl Cell {
    /// The field of aggregation `a` in this cell, and its label.
    fn field(&self, a: &Aggregation) -> (String, String) {
        match self.named.get(&a.name) {
            Some((name, label)) => (name.clone(), label.clone().unwrap_or_else(|| name.clone())),
            None => {
                let label = a.label.clone().unwrap_or_else(|| a.name.clone());
                (format!("{}{}", self.prefix, a.name), format!("{}{label}", self.label))
            }
        }
    }
}

/// `values` as pivot cells, every combination, the first pivot varying slowest.
fn cells(pivots: &[Pivot]) -> Vec<Cell> {
    let mut out =
        vec![Cell { values: Vec::new(), prefix: String::new(), label: String::new(), named: Default::default() }];
    for p in pivots {
        let mut next = Vec::with_capacity(out.len() * p.values.len());
        for c in &out {
            for v in &p.values {
                let v = match v {
                    Value::Null => None,
                    Value::String(s) => Some(s.clone()),
                    other => Some(other.to_string()),
                };
                let shown = v.clone().unwrap_or_else(|| "null".into());
                let mut values = c.values.clone();
                values.push(v);
                let clean: String =
                    shown.chars().map(|ch| if ch.is_ascii_alphanumeric() || ch == '_' { ch } else { '_' }).collect();
                next.push(Cell {
                    values,
                    prefix: format!("{}{clean}_", c.prefix),
                    label: format!("{}{shown} ", c.label),
                    named: Default::default(),
                });
            }
        }
        out = next;
    }
    out
}

#[derive(Debug)]
enum Shape {
    Standard,
    Pivoted { pivots: Vec<Pivot>, cells: Vec<Cell> },
    Hierarchical { self_field: String, parent_field: String },
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
    shape: Shape,
}

/// Reads `pivots` (or `pivot_v2`): absent, null or `[]` is no pivot.
fn read_pivots(node: &str, key: &str, v: &Option<Value>, problems: &mut Vec<Problem>) -> Vec<Pivot> {
    let Some(v) = v.as_ref().filter(|v| !v.is_null()) else { return Vec::new() };
    let Some(list) = v.as_array() else {
        problems.push(Problem::new(node, format!("parameters.{key}"), "must be a list of {source, values}"));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, p) in list.iter().enumerate() {
        match serde_json::from_value::<Pivot>(p.clone()) {
            Ok(p) if p.values.is_empty() => problems.push(Problem::new(
                node,
                format!("parameters.{key}[{i}].values"),
                "must list the values that become fields",
            )),
            Ok(p) => out.push(p),
            Err(e) => problems.push(Problem::new(
                node,
                format!("parameters.{key}[{i}]"),
                format!("must be {{\"source\": field, \"values\": [...]}}: {e}"),
            )),
        }
    }
    out
}

/// The recipe editor's `pivot_v2`: `{sourceFields: [f...], valueCombinations: [[v...]...],
/// pivotFieldsInfo: {<aggregation>: [{name, label}...]}}`, one combination per cell, named
/// as `pivotFieldsInfo` says for each aggregation (4 public recipes; their names put the
/// value after the aggregation and drop characters such as `-`, so they are read, never
/// derived). The pivots it adds carry no value list: the cells are the combinations.
fn editor_pivot(node: &str, v: &Value, pivots: &mut Vec<Pivot>, problems: &mut Vec<Problem>) -> Vec<Cell> {
    let path = "parameters.pivot_v2";
    let fields: Vec<String> = match v.get("sourceFields").and_then(Value::as_array) {
        Some(list) => list.iter().filter_map(|f| f.as_str().map(str::to_string)).collect(),
        None => {
            problems.push(Problem::new(node, format!("{path}.sourceFields"), "must list the fields to pivot on"));
            return Vec::new();
        }
    };
    let combinations = v.get("valueCombinations").and_then(Value::as_array).cloned().unwrap_or_default();
    let info = v.get("pivotFieldsInfo").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut out = Vec::new();
    for (i, combination) in combinations.iter().enumerate() {
        let values: Vec<Option<String>> = match combination.as_array() {
            Some(vs) if vs.len() == fields.len() => vs
                .iter()
                .map(|x| match x {
                    Value::Null => None,
                    Value::String(s) => Some(s.clone()),
                    other => Some(other.to_string()),
                })
                .collect(),
            _ => {
                problems.push(Problem::new(
                    node,
                    format!("{path}.valueCombinations[{i}]"),
                    format!("must list one value for each of the {} source field(s)", fields.len()),
                ));
                continue;
            }
        };
        let shown: Vec<String> = values.iter().map(|x| x.clone().unwrap_or_else(|| "null".into())).collect();
        let mut named = std::collections::HashMap::new();
        for (aggregation, names) in &info {
            if let Some(n) = names.get(i).and_then(|n| n.get("name")).and_then(Value::as_str) {
                let label = names[i].get("label").and_then(Value::as_str).map(str::to_string);
                named.insert(aggregation.clone(), (n.to_string(), label));
            }
        }
        out.push(Cell {
            values,
            prefix: format!("{}_", shown.join("_")),
            label: format!("{} ", shown.join(" ")),
            named,
        });
    }
    if out.is_empty() {
        problems.push(Problem::new(
            node,
            format!("{path}.valueCombinations"),
            "must list the values that become fields",
        ));
    }
    pivots.extend(fields.into_iter().map(|source| Pivot { source, values: Vec::new() }));
    out
}

impl Aggregate {
    pub fn parse(node: &str, params: &Value, sources: &[String]) -> Result<Aggregate, Vec<Problem>> {
        let p: Params = parse(node, params).map_err(|p| vec![p])?;
        let mut problems = Vec::new();
        let mut pivots = read_pivots(node, "pivots", &p.pivots, &mut problems);
        let editor_cells = match &p.pivot_v2 {
            Some(v @ Value::Object(_)) => Some(editor_pivot(node, v, &mut pivots, &mut problems)),
            other => {
                pivots.extend(read_pivots(node, "pivot_v2", other, &mut problems));
                None
            }
        };
        let hierarchical = match p.node_type.as_deref() {
            None => false,
            Some(t) if enum_eq(t, "STANDARD") => false,
            Some(t) if enum_eq(t, "HIERARCHICAL") => true,
            Some(t) => {
                problems.push(Problem::new(
                    node,
                    "parameters.nodeType",
                    format!("'{t}' is not STANDARD or HIERARCHICAL"),
                ));
                false
            }
        };
        let shape = if hierarchical {
            let mut field = |key: &str, v: &Option<String>| match v.as_deref().map(str::trim) {
                Some(name) if !name.is_empty() => name.to_string(),
                _ => {
                    problems.push(Problem::new(
                        node,
                        format!("parameters.{key}"),
                        "is required for hierarchical aggregation",
                    ));
                    String::new()
                }
            };
            let self_field = field("selfField", &p.self_field);
            let parent_field = field("parentField", &p.parent_field);
            if p.percentage_field.as_deref().is_some_and(|f| !f.trim().is_empty()) {
                problems.push(Problem::new(
                    node,
                    "parameters.percentageField",
                    "is not supported: CRM Analytics does not document how it weighs the rollup",
                ));
            }
            if !pivots.is_empty() {
                problems.push(Problem::new(
                    node,
                    "parameters.pivots",
                    "cannot be combined with hierarchical aggregation",
                ));
            }
            for (i, g) in p.groupings.iter().enumerate() {
                if g.name() != self_field && g.name() != parent_field {
                    problems.push(Problem::new(
                        node,
                        format!("parameters.groupings[{i}]"),
                        format!(
                            "'{}': hierarchical aggregation groups by selfField and parentField only; \
                             join other fields back after it",
                            g.name()
                        ),
                    ));
                }
            }
            Shape::Hierarchical { self_field, parent_field }
        } else if pivots.is_empty() {
            Shape::Standard
        } else {
            // counted before the combinations are made: 1,000 x 1,000 x 1,000 values must not be
            let count = match &editor_cells {
                Some(cells) => p.aggregations.len().saturating_mul(cells.len()),
                None => pivots.iter().fold(p.aggregations.len(), |n, pivot| n.saturating_mul(pivot.values.len())),
            };
            if count > MAX_PIVOT_FIELDS {
                problems.push(Problem::new(
                    node,
                    "parameters.pivots",
                    format!("would make {count} fields; a dataset holds at most {MAX_PIVOT_FIELDS}"),
                ));
                Shape::Standard
            } else {
                let cells = editor_cells.unwrap_or_else(|| cells(&pivots));
                Shape::Pivoted { pivots, cells }
            }
        };
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
            Ok(Aggregate { sources: sources.to_vec(), groupings, aggregations, shape })
        } else {
            Err(problems)
        }
    }
}

/// How many (record, ancestor present in the data) pairs a rollup joins, counting the record
/// itself; stops counting past `limit`, so that a long chain costs at most `limit` steps.
fn rollup_pairs(parents: &std::collections::HashMap<String, Option<String>>, limit: usize) -> usize {
    let mut total = 0;
    for id in parents.keys() {
        total += 1;
        let mut seen = std::collections::HashSet::from([id.as_str()]);
        let mut current = parents.get(id).and_then(|p| p.as_deref());
        while let Some(p) = current.filter(|p| parents.contains_key(*p) && seen.insert(p)) {
            total += 1;
            if total > limit {
                return total;
            }
            current = parents.get(p).and_then(|p| p.as_deref());
        }
    }
    total
}

impl Aggregate {
    /// The aggregate of one aggregation, over the rows where `only` holds (all rows without).
    fn measure(a: &Aggregation, action: Action, only: Option<Expr>) -> DFResult<Expr> {
        let value = a.source.as_deref().map_or_else(|| lit(1i64), ident);
        let c = match only {
            Some(cond) => when(cond, value).end()?,
            None => value,
        };
        Ok(match action {
            Action::Sum => agg::sum(c),
            Action::Count => agg::count(c),
            Action::Avg => agg::avg(c),
            Action::Min => agg::min(c),
            Action::Max => agg::max(c),
            Action::Median => agg::median(c),
            Action::Unique => agg::count_distinct(c),
            Action::Stddev => agg::stddev(c),
            Action::StddevP => agg::stddev_pop(c),
            Action::Var => agg::var_sample(c),
            Action::VarP => agg::var_pop(c),
        })
    }

    fn measures(&self) -> DFResult<Vec<Expr>> {
        self.aggregations
            .iter()
            .map(|(a, action)| Ok(Self::measure(a, *action, None)?.alias(a.name.as_str())))
            .collect()
    }

    /// Every record's own rows and its descendants' rows, aggregated: the hierarchy (two text
    /// columns) is collected, each record's ancestors computed, and the rows joined to them.
    async fn roll_up(
        &self,
        cx: &PlanCx<'_>,
        input: DataFrame,
        schema: &Schema,
        self_field: &str,
        parent_field: &str,
    ) -> DFResult<DataFrame> {
        let self_ty = schema.type_of(self_field).unwrap_or(FieldType::Text);
        let parent_ty = schema.type_of(parent_field).unwrap_or(FieldType::Text);
        let parents = hierarchy(&input, schema, self_field, parent_field).await?;
        if rollup_pairs(&parents, MAX_ROLLUP_PAIRS) > MAX_ROLLUP_PAIRS {
            return Err(datafusion::common::DataFusionError::Execution(format!(
                "the hierarchy of '{self_field}' is too deep to roll up: more than {MAX_ROLLUP_PAIRS} \
                 record-ancestor pairs; check '{parent_field}' for long chains"
            )));
        }
        let mut ids: Vec<String> = parents.keys().cloned().collect();
        ids.sort();
        let chains = ancestry(&parents, &ids, true);
        let (mut desc, mut anc, mut anc_parent) = (StringBuilder::new(), StringBuilder::new(), StringBuilder::new());
        for (id, chain) in ids.iter().zip(&chains) {
            for a in chain.iter().filter(|a| parents.contains_key(*a)) {
                desc.append_value(id);
                anc.append_value(a);
                anc_parent.append_option(parents.get(a).cloned().flatten());
            }
        }
        let closure = RecordBatch::try_new(
            Arc::new(ArrowSchema::new(vec![
                ArrowField::new("__swell_desc", DataType::Utf8, false),
                ArrowField::new("__swell_anc", DataType::Utf8, false),
                ArrowField::new("__swell_anc_parent", DataType::Utf8, true),
            ])),
            vec![Arc::new(desc.finish()), Arc::new(anc.finish()), Arc::new(anc_parent.finish())],
        )?;
        let keyed = input.with_column("__swell_self", to_text(ident(self_field), &self_ty))?;
        let joined = cx.ctx.read_batch(closure)?.join_on(
            keyed,
            JoinType::Inner,
            vec![ident("__swell_desc").eq(ident("__swell_self"))],
        )?;
        let rolled = joined.aggregate(vec![ident("__swell_anc"), ident("__swell_anc_parent")], self.measures()?)?;
        let mut out = vec![
            cast(ident("__swell_anc"), self_ty.run_type()).alias(self_field),
            cast(ident("__swell_anc_parent"), parent_ty.run_type()).alias(parent_field),
        ];
        out.extend(self.aggregations.iter().map(|(a, _)| ident(a.name.as_str())));
        rolled.select(out)
    }
}

#[async_trait::async_trait]
impl Transform for Aggregate {
    fn inputs(&self) -> Vec<(String, String)> {
        super::inputs(&self.sources)
    }

    fn rereads_inputs(&self) -> bool {
        matches!(self.shape, Shape::Hierarchical { .. })
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        let input = inputs[0];
        let mut out = Schema::new(Vec::new());
        let keys: Vec<(String, String)> = match &self.shape {
            Shape::Hierarchical { self_field, parent_field } => vec![
                ("parameters.selfField".into(), self_field.clone()),
                ("parameters.parentField".into(), parent_field.clone()),
            ],
            _ => self
                .groupings
                .iter()
                .enumerate()
                .map(|(i, g)| (format!("parameters.groupings[{i}]"), g.clone()))
                .collect(),
        };
        for (path, g) in keys {
            if cx.require_field(input, &g, path.clone()) {
                if matches!(self.shape, Shape::Hierarchical { .. }) && input.type_of(&g) == Some(FieldType::MultiValue)
                {
                    cx.problem(path, format!("'{g}' is multi-value; hierarchy ids must be single values"));
                }
                out.fields.push(input.get(&g).cloned().unwrap_or_else(|| Field::new(g.clone(), FieldType::Unknown)));
            }
        }
        if let Shape::Pivoted { pivots, .. } = &self.shape {
            for (i, p) in pivots.iter().enumerate() {
                let path = format!("parameters.pivots[{i}].source");
                if cx.require_field(input, &p.source, path.clone())
                    && input.type_of(&p.source) == Some(FieldType::MultiValue)
                {
                    cx.problem(path, format!("'{}' is multi-value; pivot on a single-value field", p.source));
                }
            }
        }
        let mut measures = Vec::new();
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
            measures.push((a, ty));
        }
        match &self.shape {
            Shape::Pivoted { cells, .. } => {
                for cell in cells {
                    for (a, ty) in &measures {
                        let (name, label) = cell.field(a);
                        out.fields.push(Field::labelled(name, Some(label), ty.clone()));
                    }
                }
            }
            _ => {
                for (a, ty) in measures {
                    out.fields.push(Field::labelled(a.name.clone(), a.label.clone(), ty));
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        let twice: std::collections::BTreeSet<&str> =
            out.fields.iter().map(|f| f.name.as_str()).filter(|n| !seen.insert(*n)).collect();
        for name in twice {
            cx.problem("parameters.aggregations", format!("two output fields would be named '{name}'"));
        }
        Some(out)
    }

    async fn plan(
        &self,
        cx: &PlanCx<'_>,
        mut inputs: Vec<DataFrame>,
        in_schemas: &[&Schema],
        out: &Schema,
    ) -> DFResult<DataFrame> {
        let input = inputs.remove(0);
        let groups = || self.groupings.iter().map(|g| ident(g.as_str())).collect::<Vec<_>>();
        let df = match &self.shape {
            Shape::Standard => input.aggregate(groups(), self.measures()?)?,
            Shape::Pivoted { pivots, cells } => {
                let mut aggs = Vec::new();
                for cell in cells {
                    let only = pivots
                        .iter()
                        .zip(&cell.values)
                        .map(|(p, v)| {
                            let source = ident(p.source.as_str());
                            match v {
                                Some(v) => {
                                    let ty = in_schemas[0].type_of(&p.source).unwrap_or(FieldType::Text);
                                    to_text(source, &ty).eq(lit(v.as_str()))
                                }
                                None => source.is_null(),
                            }
                        })
                        .reduce(Expr::and)
                        .unwrap_or(lit(ScalarValue::Boolean(Some(true))));
                    for (a, action) in &self.aggregations {
                        let (name, _) = cell.field(a);
                        aggs.push(Self::measure(a, *action, Some(only.clone()))?.alias(name));
                    }
                }
                input.aggregate(groups(), aggs)?
            }
            Shape::Hierarchical { self_field, parent_field } => {
                self.roll_up(cx, input, in_schemas[0], self_field, parent_field).await?
            }
        };
        // counts come back as integers: every measure computes as Float64 in a run
        df.select(
            out.fields
                .iter()
                .map(|f| cast(ident(f.name.as_str()), f.ty.run_type()).alias(f.name.as_str()))
                .collect::<Vec<_>>(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollup_pairs_are_counted_with_a_bound() {
        let map = |pairs: &[(&str, Option<&str>)]| -> std::collections::HashMap<String, Option<String>> {
            pairs.iter().map(|(s, p)| (s.to_string(), p.map(str::to_string))).collect()
        };
        // a -> b -> c, d -> missing, a cycle x <-> y
        let m = map(&[
            ("a", Some("b")),
            ("b", Some("c")),
            ("c", None),
            ("d", Some("zz")),
            ("x", Some("y")),
            ("y", Some("x")),
        ]);
        assert_eq!(rollup_pairs(&m, 100), 3 + 2 + 1 + 1 + 2 + 2);
        // a chain of 100,000 records would be 5 billion pairs: the count stops past the limit
        let chain: std::collections::HashMap<String, Option<String>> =
            (0..100_000).map(|i| (i.to_string(), (i > 0).then(|| (i - 1).to_string()))).collect();
        assert_eq!(rollup_pairs(&chain, 1_000_000), 1_000_001);
    }

    #[test]
    fn pivot_cells_cross_the_values_in_order() {
        let pivots = vec![
            Pivot { source: "Stage".into(), values: vec!["Closed Won".into(), Value::Null] },
            Pivot { source: "Year".into(), values: vec![2024.into(), "2025".into()] },
        ];
        let names: Vec<(String, String)> = cells(&pivots).into_iter().map(|c| (c.prefix, c.label)).collect();
        assert_eq!(
            names,
            [
                ("Closed_Won_2024_", "Closed Won 2024 "),
                ("Closed_Won_2025_", "Closed Won 2025 "),
                ("null_2024_", "null 2024 "),
                ("null_2025_", "null 2025 "),
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        assert_eq!(cells(&pivots)[2].values, [None, Some("2024".to_string())]);
    }
}
