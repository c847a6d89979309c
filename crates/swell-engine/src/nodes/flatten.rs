//! flatten: for each row of a parent/child hierarchy (`self_field` -> `parent_field`), lists all
//! its ancestors, nearest first, as a multi-value field (`multi_field`) and as a text path
//! joined by backslashes (`path_field`); `include_self_id` puts the row's own id first. A root
//! gets nulls (or just its own id).
//!
//! The walk stops at a parent that is not in the data (that parent is still listed) and at the
//! first id seen twice, so cycles cannot hang a run. Ids are compared as text.
//!
//! Only the two id columns are collected into memory (the operation needs the whole
//! hierarchy); the rows themselves stream through a join with the computed ancestry.

use super::lookup::{join_right_build, key_name};
use super::{CheckCx, PlanCx, Transform, de_bool};
use crate::schema::{Field, FieldType, Schema};
use datafusion::arrow::array::{Array, AsArray, ListBuilder, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field as ArrowField, Schema as ArrowSchema};
use datafusion::common::Result as DFResult;
use datafusion::logical_expr::ident;
use datafusion::prelude::DataFrame;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

#[derive(Debug, Deserialize)]
pub struct Flatten {
    source: String,
    #[serde(alias = "selfField")]
    self_field: String,
    #[serde(alias = "parentField")]
    parent_field: String,
    #[serde(alias = "multiField", deserialize_with = "name_or_object")]
    multi_field: String,
    #[serde(alias = "pathField", deserialize_with = "name_or_object")]
    path_field: String,
    #[serde(default, alias = "includeSelfId", deserialize_with = "de_bool")]
    include_self_id: bool,
}

/// `"Roles"` or, in the `.wdf` form, `{"name": "Roles"}`.
fn name_or_object<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(super::NameRef::deserialize(d)?.name().to_string())
}

/// Ancestors of every id, nearest first (with the id itself first when asked).
pub fn ancestry(parents: &HashMap<String, Option<String>>, ids: &[String], include_self: bool) -> Vec<Vec<String>> {
    ids.iter()
        .map(|id| {
            let mut chain = Vec::new();
            if include_self {
                chain.push(id.clone());
            }
            let mut seen: HashSet<&str> = HashSet::from([id.as_str()]);
            let mut current = parents.get(id).and_then(|p| p.as_deref());
            while let Some(p) = current {
                if !seen.insert(p) {
                    break;
                }
                chain.push(p.to_string());
                current = parents.get(p).and_then(|p| p.as_deref());
            }
            chain
        })
        .collect()
}

/// Collects a hierarchy: every record id (`self_field`, as text) with its parent, the first
/// non-null parent the rows name. Only the two id columns are read.
pub async fn hierarchy(
    input: &DataFrame,
    schema: &Schema,
    self_field: &str,
    parent_field: &str,
) -> DFResult<HashMap<String, Option<String>>> {
    let text = |name: &str| {
        let ty = schema.type_of(name).unwrap_or(FieldType::Text);
        crate::saql::functions::to_text(ident(name), &ty)
    };
    let pairs =
        input.clone().select(vec![text(self_field).alias("s"), text(parent_field).alias("p")])?.collect().await?;
    let mut parents: HashMap<String, Option<String>> = HashMap::new();
    for b in &pairs {
        let (s, p) = (b.column(0).as_string::<i32>(), b.column(1).as_string::<i32>());
        for i in 0..b.num_rows() {
            if s.is_valid(i) {
                let entry = parents.entry(s.value(i).to_string()).or_default();
                if entry.is_none() && p.is_valid(i) {
                    *entry = Some(p.value(i).to_string());
                }
            }
        }
    }
    Ok(parents)
}

#[async_trait::async_trait]
impl Transform for Flatten {
    fn inputs(&self) -> Vec<(String, String)> {
        vec![("parameters.source".into(), self.source.clone())]
    }

    fn rereads_inputs(&self) -> bool {
        true
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        let input = inputs[0];
        for (path, name) in
            [("parameters.self_field", &self.self_field), ("parameters.parent_field", &self.parent_field)]
        {
            match input.type_of(name) {
                None => cx.problem(path, input.unknown_field(name)),
                Some(FieldType::MultiValue) => {
                    cx.problem(path, format!("'{name}' is multi-value; ids must be single values"))
                }
                Some(_) => {}
            }
        }
        for (path, name) in [("parameters.multi_field", &self.multi_field), ("parameters.path_field", &self.path_field)]
        {
            if name.is_empty() {
                cx.problem(path, "must name the new field");
            } else if input.get(name).is_some() {
                cx.problem(path, format!("field '{name}' already exists"));
            }
        }
        if self.multi_field == self.path_field {
            cx.problem("parameters.path_field", "must differ from multi_field");
        }
        let mut out = input.clone();
        // generated hierarchy fields are system fields, as in CRM Analytics; a schema block
        // with isSystemField: false shows them
        let mut multi = Field::new(self.multi_field.clone(), FieldType::MultiValue);
        multi.is_system_field = true;
        let mut path = Field::new(self.path_field.clone(), FieldType::Text);
        path.is_system_field = true;
        out.fields.push(multi);
        out.fields.push(path);
        Some(out)
    }

    async fn plan(
        &self,
        cx: &PlanCx<'_>,
        mut inputs: Vec<DataFrame>,
        in_schemas: &[&Schema],
        _out: &Schema,
    ) -> DFResult<DataFrame> {
        let input = inputs.remove(0);
        let parents = hierarchy(&input, in_schemas[0], &self.self_field, &self.parent_field).await?;
        let ids: Vec<String> = parents.keys().cloned().collect();
        let chains = ancestry(&parents, &ids, self.include_self_id);
        let mut id_b = StringBuilder::new();
        let mut multi_b = ListBuilder::new(StringBuilder::new());
        let mut path_b = StringBuilder::new();
        for (id, chain) in ids.iter().zip(&chains) {
            id_b.append_value(id);
            if chain.is_empty() {
                multi_b.append_null();
                path_b.append_null();
            } else {
                for c in chain {
                    multi_b.values().append_value(c);
                }
                multi_b.append(true);
                path_b.append_value(chain.join("\\"));
            }
        }
        let schema = Arc::new(ArrowSchema::new(vec![
            ArrowField::new(key_name(0), DataType::Utf8, true),
            ArrowField::new(self.multi_field.as_str(), crate::schema::mv_type(), true),
            ArrowField::new(self.path_field.as_str(), DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![Arc::new(id_b.finish()), Arc::new(multi_b.finish()), Arc::new(path_b.finish())],
        )?;
        let table = cx.ctx.read_batch(batch)?;
        let self_ty = in_schemas[0].type_of(&self.self_field).unwrap_or(FieldType::Text);
        let keyed = input
            .clone()
            .with_column("__swell_self", crate::saql::functions::to_text(ident(self.self_field.as_str()), &self_ty))?;
        let joined = join_right_build(
            keyed,
            &["__swell_self".to_string()],
            table,
            vec![self.multi_field.clone(), self.path_field.clone()],
        )?;
        joined.drop_columns(&["__swell_self"])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, Option<&str>)]) -> HashMap<String, Option<String>> {
        pairs.iter().map(|(s, p)| (s.to_string(), p.map(str::to_string))).collect()
    }

    #[test]
    fn walks_to_the_root_and_survives_cycles_and_gaps() {
        let m = map(&[
            ("1", Some("10")),
            ("10", Some("20")),
            ("20", Some("30")),
            ("30", None),
            ("a", Some("b")),
            ("b", Some("a")),
            ("x", Some("missing")),
        ]);
        let ids: Vec<String> = ["1", "30", "a", "x"].iter().map(|s| s.to_string()).collect();
        let chains = ancestry(&m, &ids, false);
        assert_eq!(chains[0], ["10", "20", "30"]);
        assert!(chains[1].is_empty());
        assert_eq!(chains[2], ["b"], "a cycle stops at the first repeat");
        assert_eq!(chains[3], ["missing"], "a missing parent is listed, then the walk stops");
        let with_self = ancestry(&m, &ids, true);
        assert_eq!(with_self[1], ["30"]);
        assert_eq!(with_self[0], ["1", "10", "20", "30"]);
    }
}
