//! appendV2 (and the older append): stacks the rows of its inputs. Fields match by name, or
//! as `fieldMappings` say (`{"targetField", "sources": [{"node", "field"}]}`, or the editor's
//! `{"top", "bottom"}`: the first input's field and the second's, named as the first). With
//! the editor's form the output has the first input's fields: the second input fills those it
//! is mapped to, the rest are null in its rows, and its unmapped fields are left out unless
//! `allowImplicitDisjointSchema` adds them (INFERRED from the editor, which maps the second
//! input's fields onto the first's; 25 public recipes use this form). Otherwise, with
//! `allowImplicitDisjointSchema` a field some input lacks is null there, without it every
//! input must have every field.

use crate::error::Problem;
use crate::nodes::{CheckCx, PlanCx, Transform, de_bool, parse};
use crate::schema::Schema;
use datafusion::common::{Result as DFResult, ScalarValue};
use datafusion::logical_expr::{Expr, cast, ident, lit};
use datafusion::prelude::DataFrame;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawParams {
    /// `null` in one public recipe: no mappings
    #[serde(default)]
    field_mappings: Option<Vec<RawMapping>>,
    #[serde(default, deserialize_with = "de_bool")]
    allow_implicit_disjoint_schema: bool,
}

/// A mapping as the Recipe REST API documents it, or as the recipe editor saves it: `{"top":
/// F, "bottom": G}` pairs field F of the first input with field G of the second (every
/// mapping of the 25 public recipes with appendV2; either side may be missing or null).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawMapping {
    Target {
        #[serde(rename = "targetField")]
        target_field: String,
        #[serde(default)]
        sources: Vec<MappingSource>,
    },
    TopBottom {
        #[serde(default)]
        top: Option<String>,
        #[serde(default)]
        bottom: Option<String>,
    },
}

#[derive(Debug)]
struct Params {
    field_mappings: Vec<Mapping>,
    allow_implicit_disjoint_schema: bool,
    /// The mappings are the editor's top/bottom pairs: the first input's fields are the
    /// output's, the second's fill those they are mapped to.
    editor: bool,
}

#[derive(Debug)]
struct Mapping {
    target_field: String,
    sources: Vec<MappingSource>,
}

#[derive(Debug, Deserialize)]
struct MappingSource {
    node: String,
    field: String,
}

#[derive(Debug)]
pub struct Append {
    sources: Vec<String>,
    params: Params,
}

impl Append {
    pub fn parse(node: &str, params: &Value, sources: &[String]) -> Result<Append, Vec<Problem>> {
        let raw: RawParams = parse(node, params).map_err(|p| vec![p])?;
        let mut problems = Vec::new();
        let mut field_mappings = Vec::new();
        let mut editor = false;
        for (i, m) in raw.field_mappings.unwrap_or_default().into_iter().enumerate() {
            match m {
                RawMapping::Target { target_field, sources } => field_mappings.push(Mapping { target_field, sources }),
                RawMapping::TopBottom { top, bottom } => {
                    editor = true;
                    if sources.len() != 2 {
                        problems.push(Problem::new(
                            node,
                            format!("parameters.fieldMappings[{i}]"),
                            "a top/bottom mapping pairs the fields of two sources",
                        ));
                        continue;
                    }
                    let Some(target) = top.clone().or_else(|| bottom.clone()) else {
                        problems.push(Problem::new(node, format!("parameters.fieldMappings[{i}]"), "names no field"));
                        continue;
                    };
                    let sides = [(0, top), (1, bottom)];
                    let pairs = sides
                        .into_iter()
                        .filter_map(|(s, f)| f.map(|field| MappingSource { node: sources[s].clone(), field }));
                    field_mappings.push(Mapping { target_field: target, sources: pairs.collect() });
                }
            }
        }
        let params =
            Params { field_mappings, allow_implicit_disjoint_schema: raw.allow_implicit_disjoint_schema, editor };
        for (i, m) in params.field_mappings.iter().enumerate() {
            for (j, s) in m.sources.iter().enumerate() {
                if !sources.contains(&s.node) {
                    problems.push(Problem::new(
                        node,
                        format!("parameters.fieldMappings[{i}].sources[{j}].node"),
                        format!("'{}' is not one of this node's sources ({})", s.node, sources.join(", ")),
                    ));
                }
            }
        }
        if problems.is_empty() { Ok(Append { sources: sources.to_vec(), params }) } else { Err(problems) }
    }

    /// Whether a mapping names input `i`'s field `name`.
    fn mapped(&self, i: usize, name: &str) -> bool {
        self.params
            .field_mappings
            .iter()
            .any(|m| m.sources.iter().any(|s| s.node == self.sources[i] && s.field == name))
    }

    /// Input `i`'s field names under their output names: (output, input).
    fn renamed(&self, i: usize, schema: &Schema) -> Vec<(String, String)> {
        schema
            .fields
            .iter()
            .filter(|f| f.derived_from.is_none())
            .map(|f| {
                let target = self
                    .params
                    .field_mappings
                    .iter()
                    .find(|m| m.sources.iter().any(|s| s.node == self.sources[i] && s.field == f.name))
                    .map_or_else(|| f.name.clone(), |m| m.target_field.clone());
                (target, f.name.clone())
            })
            .collect()
    }
}

#[async_trait::async_trait]
impl Transform for Append {
    fn inputs(&self) -> Vec<(String, String)> {
        super::inputs(&self.sources)
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        if inputs.iter().any(|s| s.open) {
            return Some(Schema::unknown());
        }
        let mut out = Schema::new(Vec::new());
        for (i, schema) in inputs.iter().enumerate() {
            for (target, name) in self.renamed(i, schema) {
                let field = schema.get(&name).cloned()?;
                match out.get(&target) {
                    None if i == 0 || self.params.allow_implicit_disjoint_schema => {
                        out.fields.push(crate::schema::Field { name: target, ..field });
                    }
                    // the editor's form: a field of the second input mapped to none is left out;
                    // one mapped alone (`{"bottom": F}`) is a field of its own
                    None if self.params.editor && !self.mapped(i, &name) => {}
                    None if self.params.editor => out.fields.push(crate::schema::Field { name: target, ..field }),
                    None => cx.problem(
                        format!("sources[{i}]"),
                        format!(
                            "'{}' has field '{target}' that '{}' lacks (set allowImplicitDisjointSchema to fill it with nulls)",
                            self.sources[i], self.sources[0]
                        ),
                    ),
                    Some(existing)
                        if existing.ty != crate::schema::FieldType::Unknown
                            && field.ty != crate::schema::FieldType::Unknown
                            && existing.ty.kind_name() != field.ty.kind_name() =>
                    {
                        cx.problem(
                        format!("sources[{i}]"),
                        format!(
                            "field '{target}' is {} in '{}' but {} in '{}'",
                            field.ty.kind_name(),
                            self.sources[i],
                            existing.ty.kind_name(),
                            self.sources[0]
                        ),
                        )
                    }
                    Some(_) => {}
                }
            }
        }
        // the editor's form fills the first input's fields the second lacks with nulls
        if !self.params.allow_implicit_disjoint_schema && !self.params.editor {
            for (i, schema) in inputs.iter().enumerate().skip(1) {
                let names: Vec<String> = self.renamed(i, schema).into_iter().map(|(t, _)| t).collect();
                for f in &out.fields {
                    if !names.contains(&f.name) {
                        cx.problem(
                            format!("sources[{i}]"),
                            format!(
                                "'{}' lacks field '{}' (set allowImplicitDisjointSchema to fill it with nulls)",
                                self.sources[i], f.name
                            ),
                        );
                    }
                }
            }
        }
        Some(out)
    }

    async fn plan(
        &self,
        _cx: &PlanCx<'_>,
        inputs: Vec<DataFrame>,
        in_schemas: &[&Schema],
        out: &Schema,
    ) -> DFResult<DataFrame> {
        let mut result: Option<DataFrame> = None;
        for (i, df) in inputs.into_iter().enumerate() {
            let renamed = self.renamed(i, in_schemas[i]);
            let exprs: Vec<Expr> = out
                .fields
                .iter()
                .map(|f| match renamed.iter().find(|(t, _)| *t == f.name) {
                    Some((_, name)) => cast(ident(name.as_str()), f.ty.run_type()).alias(f.name.as_str()),
                    None => cast(lit(ScalarValue::Null), f.ty.run_type()).alias(f.name.as_str()),
                })
                .collect();
            let df = df.select(exprs)?;
            result = Some(match result {
                None => df,
                Some(acc) => acc.union(df)?,
            });
        }
        Ok(result.expect("an append has inputs"))
    }
}
