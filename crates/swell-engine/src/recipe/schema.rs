//! schema: renames, relabels and retypes fields (`fields[].newProperties`) and keeps or drops
//! fields (`slice`: `{"mode": "DROP"|"SELECT", "fields", "ignoreMissingFields"}`). The same
//! block may sit on any node as its `schema`, applying to that node's output
//! ([`WithSchema`]). The slice applies first, by the names the fields have on the way in;
//! then the field changes. A retype from text that does not parse gives null, as Data Prep.
//! A change of a field the input lacks is skipped (INFERRED from recipes orgs ran).

use super::enum_eq;
use super::formula::field_type;
use crate::error::Problem;
use crate::nodes::{CheckCx, PlanCx, Sink, Transform, de_bool, parse};
use crate::schema::{Field, FieldType, Schema};
use crate::source::SourceRef;
use datafusion::common::Result as DFResult;
use datafusion::logical_expr::{Expr, ident, try_cast};
use datafusion::prelude::DataFrame;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    #[serde(default)]
    fields: Vec<FieldChange>,
    #[serde(default)]
    slice: Option<Slice>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FieldChange {
    name: String,
    #[serde(default)]
    new_properties: NewProperties,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewProperties {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    type_properties: Option<TypeProperties>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TypeProperties {
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    precision: Option<u32>,
    #[serde(default)]
    scale: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Slice {
    #[serde(default)]
    mode: Option<String>,
    #[serde(default, deserialize_with = "de_bool")]
    ignore_missing_fields: bool,
    #[serde(default)]
    fields: Vec<String>,
}

/// The operations of a schema node or block, read and checked.
#[derive(Debug)]
struct Ops {
    /// JSON path of the block (`parameters` or `schema`).
    at: String,
    params: Params,
    keep_listed: bool,
    /// Per field change: the new type, when retyped.
    retypes: Vec<Option<FieldType>>,
}

impl Ops {
    fn parse(node: &str, value: &Value, at: &str) -> Result<Ops, Vec<Problem>> {
        let params: Params = parse(node, value)
            .map_err(|p| vec![Problem::new(node, p.path.replacen("parameters", at, 1), p.message)])?;
        let mut problems = Vec::new();
        let keep_listed = match params.slice.as_ref().and_then(|s| s.mode.as_deref()) {
            None => false,
            Some(m) if enum_eq(m, "DROP") => false,
            Some(m) if enum_eq(m, "SELECT") || enum_eq(m, "KEEP") => true,
            Some(m) => {
                problems.push(Problem::new(node, format!("{at}.slice.mode"), format!("'{m}' is not DROP or SELECT")));
                false
            }
        };
        let mut retypes = Vec::new();
        for (i, f) in params.fields.iter().enumerate() {
            retypes.push(match &f.new_properties.type_properties {
                None => None,
                Some(t) => match field_type(&t.ty, t.precision, t.scale) {
                    Ok(ty) => Some(ty),
                    Err(m) => {
                        problems.push(Problem::new(
                            node,
                            format!("{at}.fields[{i}].newProperties.typeProperties.type"),
                            m,
                        ));
                        None
                    }
                },
            });
        }
        if problems.is_empty() { Ok(Ops { at: at.to_string(), params, keep_listed, retypes }) } else { Err(problems) }
    }

    fn apply(&self, cx: &mut CheckCx, input: &Schema) -> Schema {
        if input.open {
            return Schema::unknown();
        }
        let at = &self.at;
        let mut fields: Vec<Field> = input.fields.iter().filter(|f| f.derived_from.is_none()).cloned().collect();
        if let Some(slice) = &self.params.slice {
            for (i, name) in slice.fields.iter().enumerate() {
                if !slice.ignore_missing_fields && !fields.iter().any(|f| &f.name == name) {
                    cx.problem(format!("{at}.slice.fields[{i}]"), input.unknown_field(name));
                }
            }
            fields.retain(|f| slice.fields.contains(&f.name) == self.keep_listed);
        }
        for (change, retype) in self.params.fields.iter().zip(&self.retypes) {
            // INFERRED: an edit of a field the input lacks changes nothing (8 public recipes an
            // org ran edit fields their loads do not read; the editor keeps such edits)
            let Some(field) = fields.iter_mut().find(|f| f.name == change.name) else { continue };
            if let Some(n) = change.new_properties.name.as_ref().filter(|n| !n.is_empty()) {
                field.name = n.clone();
            }
            if let Some(l) = &change.new_properties.label {
                field.label = Some(l.clone());
            }
            if let Some(t) = retype {
                field.ty = t.clone();
            }
        }
        let mut seen = std::collections::HashSet::new();
        for f in &fields {
            if !seen.insert(f.name.clone()) {
                cx.problem(format!("{at}.fields"), format!("two fields would be named '{}'", f.name));
            }
        }
        Schema::new(fields)
    }

    /// The output columns from the input's: (expression over the input, output field).
    fn plan(&self, df: DataFrame, input: &Schema, out: &Schema) -> DFResult<DataFrame> {
        let mut exprs: Vec<Expr> = Vec::new();
        for f in &out.fields {
            let source = self
                .params
                .fields
                .iter()
                .find(|c| c.new_properties.name.as_deref().filter(|n| !n.is_empty()) == Some(f.name.as_str()))
                .map_or(f.name.as_str(), |c| c.name.as_str());
            let before = input.get(source).map(|x| x.ty.clone()).unwrap_or(FieldType::Unknown);
            exprs.push(convert(ident(source), &before, &f.ty).alias(f.name.as_str()));
        }
        df.select(exprs)
    }
}

/// A value of type `before` as type `after`: numbers as text by their scale (1, not 1.0),
/// dates as ISO text; text that does not parse as the new type gives null, as Data Prep.
pub(super) fn convert(e: Expr, before: &FieldType, after: &FieldType) -> Expr {
    if before.run_type() == after.run_type() {
        e
    } else if after == &FieldType::Text {
        crate::saql::functions::to_text(e, before)
    } else {
        try_cast(e, after.run_type())
    }
}

/// The schema node.
#[derive(Debug)]
pub struct SchemaNode {
    sources: Vec<String>,
    ops: Ops,
}

impl SchemaNode {
    pub fn parse(node: &str, params: &Value, sources: &[String], at: &str) -> Result<SchemaNode, Vec<Problem>> {
        Ok(SchemaNode { sources: sources.to_vec(), ops: Ops::parse(node, params, at)? })
    }
}

#[async_trait::async_trait]
impl Transform for SchemaNode {
    fn inputs(&self) -> Vec<(String, String)> {
        super::inputs(&self.sources)
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        Some(self.ops.apply(cx, inputs[0]))
    }

    async fn plan(
        &self,
        _cx: &PlanCx<'_>,
        mut inputs: Vec<DataFrame>,
        in_schemas: &[&Schema],
        out: &Schema,
    ) -> DFResult<DataFrame> {
        self.ops.plan(inputs.remove(0), in_schemas[0], out)
    }
}

/// Any node with a `schema` block: the node, then the block on its output. The run knows the
/// schema after the block; planning checks the inner node again (checks are pure and cheap)
/// for the schema before it.
#[derive(Debug)]
pub struct WithSchema {
    inner: Box<dyn Transform>,
    ops: Ops,
}

impl WithSchema {
    pub fn new(node: &str, inner: Box<dyn Transform>, block: &Value) -> Result<WithSchema, Vec<Problem>> {
        Ok(WithSchema { inner, ops: Ops::parse(node, block, "schema")? })
    }
}

#[async_trait::async_trait]
impl Transform for WithSchema {
    fn inputs(&self) -> Vec<(String, String)> {
        self.inner.inputs()
    }

    fn source(&self) -> Option<SourceRef> {
        self.inner.source()
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        let inner = self.inner.check(cx, inputs)?;
        Some(self.ops.apply(cx, &inner))
    }

    async fn plan(
        &self,
        cx: &PlanCx<'_>,
        inputs: Vec<DataFrame>,
        in_schemas: &[&Schema],
        out: &Schema,
    ) -> DFResult<DataFrame> {
        let mut check = CheckCx {
            node: cx.node,
            problems: Vec::new(),
            sources: Some(cx.source_schemas),
            now_millis: cx.now_millis,
        };
        let inner = self.inner.check(&mut check, in_schemas).ok_or_else(|| {
            let problems: Vec<String> = check.problems.iter().map(|p| p.to_string()).collect();
            datafusion::common::DataFusionError::Plan(format!("the node no longer checks: {}", problems.join("; ")))
        })?;
        let df = self.inner.plan(cx, inputs, in_schemas, &inner).await?;
        self.ops.plan(df, &inner, out)
    }

    fn rereads_inputs(&self) -> bool {
        self.inner.rereads_inputs()
    }

    fn sink(&self) -> Option<Sink> {
        self.inner.sink()
    }
}
