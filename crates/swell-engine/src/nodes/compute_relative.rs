//! computeRelative: fields computed from other rows of the same partition, in order.
//!
//! Rows are grouped by `partitionBy` and sorted by `orderBy` (several fields allowed, `asc` by
//! default, nulls last). Two forms of computed field:
//!
//! * legacy: `{"name", "expression": {"sourceField", "offset": "previous()" | "next()" |
//!   "first()" | "current()", "default"}}`; `default` fills rows where the offset row does not
//!   exist;
//!   a `default` of `"current()"` (81 public definitions) takes the row's own value;
//! * SAQL: `{"name", "type", "saqlExpression", "precision", "scale", "default"}`, or the same
//!   keys inside `expression` as orgs store them (`{"name", "expression": {"saqlExpression",
//!   "type", "scale", "default"}}`: all 73 SAQL fields of the public definitions), where
//!   `previous(f)`, `next(f)`, `first(f)` and `current(f)` read other rows (null where there is
//!   no such row). A field may read its own previous value (`previous(RunningTotal)`), which
//!   makes it a running computation.
//!
//! Fields that read only `previous()` and `next()` of the node's input fields read them from
//! swell's [`neighbours`] operator: the rows sorted by partition and order, each compared with
//! the row above and below (DataFusion's window functions cost microseconds per partition,
//! and computeRelative's partitions are often a record id with a few rows each). Other fields
//! are DataFusion window functions (lag, lead, first_value), and a field that reads its own
//! previous value cannot be vectorised: it is a window function of swell's ([`recursive`])
//! that evaluates the expression row by row within each sorted partition, feeding each row's
//! result to the next. Both forms give the same values (the neighbours form is checked
//! against an oracle in tests/engine.rs, the window form by the conformance fixtures).

pub(crate) mod neighbours;
mod recursive;

pub use neighbours::Planner as NeighboursPlanner;

use super::compute_expression::ComputedField;
use super::digest::default_literal;
use super::{CheckCx, OneOrMany, PlanCx, Transform, parse};
use crate::error::Problem;
use crate::saql::{RelFn, Relative, SType, Scope, Typed};
use crate::schema::{Field, Schema};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DataFusionError, Result as DFResult};
use datafusion::functions_window::expr_fn::{first_value, lag, lead};
use datafusion::logical_expr::{Expr, ExprFunctionExt, SortExpr, cast, ident, lit, when};
use datafusion::prelude::DataFrame;
use serde::Deserialize;
use serde_json::Value;
use std::cell::{Cell, RefCell};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    source: String,
    partition_by: OneOrMany,
    #[serde(default)]
    order_by: Vec<OrderBy>,
    computed_fields: Vec<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum OrderBy {
    Name(String),
    Field {
        #[serde(alias = "fieldName")]
        name: String,
        #[serde(default)]
        direction: Option<String>,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Legacy {
    name: String,
    #[serde(default)]
    label: Option<String>,
    expression: LegacyExpression,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LegacyExpression {
    source_field: String,
    offset: String,
    #[serde(default)]
    default: Option<Value>,
}

#[derive(Debug, Clone)]
enum Computed {
    Legacy(Legacy),
    Saql(ComputedField),
}

#[derive(Debug)]
pub struct ComputeRelative {
    source: String,
    partition_by: Vec<String>,
    order_by: Vec<(String, bool)>,
    fields: Vec<Computed>,
}

/// Placeholder column for a field's own previous value.
const PREVIOUS_SELF: &str = "__swell_previous_self";

impl ComputeRelative {
    pub fn parse(node: &str, params: &Value) -> Result<Self, Vec<Problem>> {
        let p: Params = parse(node, params).map_err(|e| vec![e])?;
        let mut problems = Vec::new();
        let mut order_by = Vec::new();
        for (i, o) in p.order_by.into_iter().enumerate() {
            match o {
                OrderBy::Name(n) => order_by.push((n, true)),
                OrderBy::Field { name, direction } => {
                    match direction.as_deref().map(str::to_ascii_lowercase).as_deref() {
                        None | Some("asc") => order_by.push((name, true)),
                        Some("desc") => order_by.push((name, false)),
                        Some(other) => problems.push(Problem::new(
                            node,
                            format!("parameters.orderBy[{i}].direction"),
                            format!("unknown direction '{other}' (asc or desc)"),
                        )),
                    }
                }
            }
        }
        let mut fields = Vec::new();
        for (i, v) in p.computed_fields.iter().enumerate() {
            let path = format!("parameters.computedFields[{i}]");
            let parsed = match v.get("expression") {
                Some(Value::Object(e)) if e.contains_key("saqlExpression") => {
                    // the stored form: the SAQL field's keys sit inside `expression`
                    let mut flat = v.as_object().cloned().unwrap_or_default();
                    flat.remove("expression");
                    for (k, x) in e {
                        flat.entry(k.clone()).or_insert_with(|| x.clone());
                    }
                    parse::<ComputedField>(node, &Value::Object(flat)).map(Computed::Saql)
                }
                Some(_) => parse::<Legacy>(node, v).map(Computed::Legacy),
                None => parse::<ComputedField>(node, v).map(Computed::Saql),
            };
            match parsed {
                Ok(c) => fields.push(c),
                Err(mut e) => {
                    e.path = e.path.replacen("parameters", &path, 1);
                    problems.push(e);
                }
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(ComputeRelative { source: p.source, partition_by: p.partition_by.into_vec(), order_by, fields })
    }

    fn window(&self) -> (Vec<Expr>, Vec<SortExpr>) {
        let partition = self.partition_by.iter().map(|p| ident(p.as_str())).collect();
        let order = self.order_by.iter().map(|(n, asc)| ident(n.as_str()).sort(*asc, !*asc)).collect();
        (partition, order)
    }

    /// Compiles field `i` against `schema`: the output field, its expression and whether it
    /// reads its own previous value. `reads` says how other rows are read.
    fn compile(
        &self,
        i: usize,
        schema: &Schema,
        now_millis: i64,
        reads: Reads<'_>,
    ) -> Result<(Field, Expr, bool), (String, String)> {
        let (partition, order) = self.window();
        match &self.fields[i] {
            Computed::Legacy(l) => {
                // an open schema (an edgemart's, while checking) has every field, of unknown type
                let open_field;
                let src = match schema.get(&l.expression.source_field) {
                    Some(f) => f,
                    None if schema.open => {
                        open_field = Field::new(l.expression.source_field.clone(), crate::schema::FieldType::Unknown);
                        &open_field
                    }
                    None => {
                        return Err((
                            "expression.sourceField".to_string(),
                            schema.unknown_field(&l.expression.source_field),
                        ));
                    }
                };
                let mut field = Field::new(l.name.clone(), src.ty.clone());
                field.label = l.label.clone();
                let own_value = l
                    .expression
                    .default
                    .as_ref()
                    .and_then(Value::as_str)
                    .is_some_and(|d| d.replace(' ', "").eq_ignore_ascii_case("current()"));
                let default = match &l.expression.default {
                    None | Some(Value::Null) => None,
                    Some(_) if own_value => None,
                    Some(d) => match default_literal(d, &src.ty).map_err(|m| ("expression.default".to_string(), m))? {
                        Expr::Literal(v, _) => Some(v),
                        _ => None,
                    },
                };
                let column = ident(src.name.as_str());
                let build = |e: Expr| {
                    e.partition_by(partition.clone())
                        .order_by(order.clone())
                        .build()
                        .map_err(|e| ("expression".to_string(), e.to_string()))
                };
                let offset = l.expression.offset.replace(' ', "").to_ascii_lowercase();
                if let (Reads::Neighbours { reads, .. }, "previous()" | "next()") = (reads, offset.as_str()) {
                    let previous = offset == "previous()";
                    reads.borrow_mut().push((src.name.clone(), previous));
                    let value = ident(neighbours::column_name(&src.name, previous));
                    let exists = ident(if previous { neighbours::HAS_PREVIOUS } else { neighbours::HAS_NEXT });
                    let otherwise = match default {
                        _ if own_value => column,
                        Some(d) => lit(d),
                        None => return Ok((field, value, false)),
                    };
                    let e =
                        when(exists, value).otherwise(otherwise).map_err(|e| ("expression".into(), e.to_string()))?;
                    return Ok((field, e, false));
                }
                let (e, exists) = match offset.as_str() {
                    "previous()" => (lag(column.clone(), Some(1), default), lag(lit(true), Some(1), None)),
                    "next()" => (lead(column.clone(), Some(1), default), lead(lit(true), Some(1), None)),
                    "first()" => {
                        reads.needs_windows();
                        return Ok((field, build(first_value(column))?, false));
                    }
                    "current()" => return Ok((field, column, false)),
                    other => {
                        return Err((
                            "expression.offset".into(),
                            format!("unknown offset '{other}' (previous(), next(), first() or current())"),
                        ));
                    }
                };
                let e = build(e)?;
                if !own_value {
                    return Ok((field, e, false));
                }
                // no such row: the row's own value (a null that the other row holds stays null)
                let e = when(build(exists)?.is_null(), column)
                    .otherwise(e)
                    .map_err(|e| ("expression".into(), e.to_string()))?;
                Ok((field, e, false))
            }
            Computed::Saql(cf) => {
                let field = cf.field()?;
                let rel = Rel { schema, field: &field, partition, order, recursive: Cell::new(false), reads };
                let scope = Scope { schema, now_millis, relative: Some(&rel) };
                let e = cf.compile(&field, &scope)?;
                let recursive = rel.recursive.get();
                Ok((field, e, recursive))
            }
        }
    }

    fn name(&self, i: usize) -> &str {
        match &self.fields[i] {
            Computed::Legacy(l) => &l.name,
            Computed::Saql(c) => &c.name,
        }
    }
}

/// Resolves `previous(f)` and friends to window functions over the node's partitions.
struct Rel<'a> {
    schema: &'a Schema,
    field: &'a Field,
    partition: Vec<Expr>,
    order: Vec<SortExpr>,
    recursive: Cell<bool>,
    reads: Reads<'a>,
}

/// How fields read other rows (see the module docs).
#[derive(Clone, Copy)]
enum Reads<'a> {
    /// Window functions.
    Windows,
    /// The columns of the [`neighbours`] operator: the (field, previous?) pairs read are
    /// collected, and `windows` is set when a field needs a window function anyway.
    Neighbours { reads: &'a RefCell<Vec<(String, bool)>>, windows: &'a Cell<bool> },
}

impl Reads<'_> {
    fn needs_windows(self) {
        if let Reads::Neighbours { windows, .. } = self {
            windows.set(true);
        }
    }
}

impl Relative for Rel<'_> {
    fn relative(&self, func: RelFn, name: &str) -> Result<Typed, String> {
        if name == self.field.name {
            return match func {
                RelFn::Previous => {
                    self.recursive.set(true);
                    Ok(Typed { ty: stype(&self.field.ty), expr: ident(PREVIOUS_SELF) })
                }
                _ => Err(format!("a field can only read its own previous value, not {}({name})", fn_name(func))),
            };
        }
        let open_field;
        let f = match self.schema.get(name) {
            Some(f) => f,
            None if self.schema.open => {
                open_field = Field::new(name.to_string(), crate::schema::FieldType::Unknown);
                &open_field
            }
            None => return Err(self.schema.unknown_field(name)),
        };
        if f.ty == crate::schema::FieldType::MultiValue {
            return Err(format!("multi-value field '{name}' cannot be used here"));
        }
        let column = ident(name);
        if let (Reads::Neighbours { reads, .. }, RelFn::Previous | RelFn::Next) = (self.reads, func) {
            let previous = func == RelFn::Previous;
            reads.borrow_mut().push((name.to_string(), previous));
            let value = ident(neighbours::column_name(name, previous));
            return Ok(Typed { ty: stype(&f.ty), expr: as_saql(value, &f.ty) });
        }
        if func == RelFn::First {
            self.reads.needs_windows();
        }
        let e = match func {
            RelFn::Current => return Ok(Typed { ty: stype(&f.ty), expr: as_saql(column, &f.ty) }),
            RelFn::Previous => lag(column, Some(1), None),
            RelFn::Next => lead(column, Some(1), None),
            RelFn::First => first_value(column),
        };
        let e =
            e.partition_by(self.partition.clone()).order_by(self.order.clone()).build().map_err(|e| e.to_string())?;
        Ok(Typed { ty: stype(&f.ty), expr: as_saql(e, &f.ty) })
    }
}

fn fn_name(f: RelFn) -> &'static str {
    match f {
        RelFn::Previous => "previous",
        RelFn::Next => "next",
        RelFn::First => "first",
        RelFn::Current => "current",
    }
}

/// Date columns read as their ISO text in SAQL, as elsewhere.
fn as_saql(e: Expr, ty: &crate::schema::FieldType) -> Expr {
    if ty.is_date() { crate::saql::functions::to_text(e, ty) } else { e }
}

/// The SAQL type of a computed field's own value.
fn stype(ty: &crate::schema::FieldType) -> SType {
    match ty {
        crate::schema::FieldType::Date { .. } => SType::Date,
        other => SType::of_field(other),
    }
}

#[async_trait::async_trait]
impl Transform for ComputeRelative {
    fn inputs(&self) -> Vec<(String, String)> {
        vec![("parameters.source".into(), self.source.clone())]
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        let mut schema = inputs[0].clone();
        for (i, p) in self.partition_by.iter().enumerate() {
            cx.require_field(&schema, p, format!("parameters.partitionBy[{i}]"));
        }
        if self.order_by.is_empty() {
            cx.problem("parameters.orderBy", "must list at least one field to order the rows by");
        }
        for (i, (o, _)) in self.order_by.iter().enumerate() {
            cx.require_field(&schema, o, format!("parameters.orderBy[{i}].name"));
        }
        for i in 0..self.fields.len() {
            if schema.get(self.name(i)).is_some() {
                cx.problem(
                    format!("parameters.computedFields[{i}].name"),
                    format!("field '{}' already exists", self.name(i)),
                );
                continue;
            }
            match self.compile(i, &schema, cx.now_millis, Reads::Windows) {
                Ok((field, _, _)) => {
                    // a date field gets its parts, as a digest's does (templates read
                    // `ValidFromDate_sec_epoch` of a computeRelative field)
                    let parts = match &field.ty {
                        t if t.is_date() => crate::dates::companion_fields(&field),
                        // checked without data: it may turn out to be a date, as in a digest
                        crate::schema::FieldType::Unknown => crate::dates::companion_fields(&field)
                            .into_iter()
                            .map(|mut p| {
                                p.ty = crate::schema::FieldType::Unknown;
                                p
                            })
                            .collect(),
                        _ => Vec::new(),
                    };
                    schema.fields.push(field);
                    let parts: Vec<Field> = parts.into_iter().filter(|p| schema.get(&p.name).is_none()).collect();
                    schema.fields.extend(parts);
                }
                Err((p, m)) => cx.problem(format!("parameters.computedFields[{i}].{p}"), m),
            }
        }
        Some(schema)
    }

    fn defers_companions(&self) -> bool {
        true
    }

    async fn plan(
        &self,
        cx: &PlanCx<'_>,
        mut inputs: Vec<DataFrame>,
        in_schemas: &[&Schema],
        out: &Schema,
    ) -> DFResult<DataFrame> {
        let mut df = inputs.remove(0);
        if let Some(df) = self.plan_neighbours(cx, df.clone(), in_schemas[0], out)? {
            return Ok(df);
        }
        let mut schema = in_schemas[0].clone();
        for i in 0..self.fields.len() {
            let (field, e, is_recursive) = self
                .compile(i, &schema, cx.now_millis, Reads::Windows)
                .map_err(|(p, m)| DataFusionError::Plan(format!("computedFields[{i}].{p}: {m}")))?;
            let e = if is_recursive { self.recursive_expr(cx, &mut df, &field, e)? } else { e };
            df = super::add_field(df, &schema, cast(e, field.ty.run_type()), &field.name)?;
            schema.fields.push(field);
        }
        let (df, _) = crate::dates::with_companions(df, schema)?;
        super::project_to(df, out)
    }
}

impl ComputeRelative {
    /// The plan with the [`neighbours`] operator, when every field reads other rows only by
    /// `previous()` and `next()` of input fields, by partition fields rows can be compared on;
    /// `None` otherwise (and for a node without partition fields, whose one window partition
    /// costs DataFusion nothing per partition).
    fn plan_neighbours(
        &self,
        cx: &PlanCx<'_>,
        df: DataFrame,
        input: &Schema,
        out: &Schema,
    ) -> DFResult<Option<DataFrame>> {
        if self.partition_by.is_empty() || !neighbours::comparable(df.schema(), &self.partition_by) {
            return Ok(None);
        }
        let arrow = df.schema().clone();
        let arrow_type = |name: &str| arrow.field_with_unqualified_name(name).ok().map(|f| f.data_type().clone());
        let (reads, windows) = (RefCell::new(Vec::new()), Cell::new(false));
        let mut schema = input.clone();
        let mut computed = Vec::new();
        for i in 0..self.fields.len() {
            // a field that does not compile is reported by the window path
            let Ok((field, e, recursive)) =
                self.compile(i, &schema, cx.now_millis, Reads::Neighbours { reads: &reads, windows: &windows })
            else {
                return Ok(None);
            };
            if recursive || windows.get() {
                return Ok(None);
            }
            schema.fields.push(field.clone());
            computed.push((field, e));
        }
        let mut reads = reads.into_inner();
        reads.sort();
        reads.dedup();
        // a read of a field this node computes needs it computed first: windows do that
        if reads.iter().any(|(f, _)| input.get(f).is_none() || arrow_type(f).is_none()) {
            return Ok(None);
        }
        let (state, plan) = df.into_parts();
        let order = self.order_by.clone();
        let mut df = DataFrame::new(state, neighbours::neighbours(plan, self.partition_by.clone(), order, reads)?);
        for (field, e) in computed {
            df = df.with_column(&field.name, cast(e, field.ty.run_type()))?;
        }
        let (df, _) = crate::dates::with_companions(df, schema)?;
        super::project_to(df, out).map(Some)
    }

    /// Turns an expression that reads `previous(self)` into swell's recursive window function:
    /// window sub-expressions become columns first, then the rest is evaluated row by row.
    fn recursive_expr(&self, cx: &PlanCx<'_>, df: &mut DataFrame, field: &Field, e: Expr) -> DFResult<Expr> {
        let mut windows: Vec<Expr> = Vec::new();
        let rewritten = e
            .transform_down(|node| {
                if matches!(node, Expr::WindowFunction(_)) {
                    let name = format!("__swell_w{}", windows.len());
                    windows.push(node.alias(name.as_str()));
                    Ok(Transformed::yes(ident(name)))
                } else {
                    Ok(Transformed::no(node))
                }
            })?
            .data;
        if !windows.is_empty() {
            let mut exprs: Vec<Expr> = df.schema().fields().iter().map(|f| ident(f.name().as_str())).collect();
            exprs.extend(windows);
            *df = df.clone().select(exprs)?;
        }
        let (partition, order) = self.window();
        recursive::call(
            cx.ctx,
            cx.cancel.clone(),
            df.schema(),
            rewritten,
            field.ty.run_type(),
            PREVIOUS_SELF,
            partition,
            order,
        )
    }
}
