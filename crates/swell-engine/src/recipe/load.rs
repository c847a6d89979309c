//! load: reads a dataset (`analyticsDataset`, its current version) or a connected object
//! (`connectedDataset`, the synced copy of a source object). `fields` is an allow-list; `[]`
//! reads every field. Generated date parts are not recipe fields: a recipe sees the base
//! fields only, as Data Prep shows them.

use super::enum_eq;
use crate::error::Problem;
use crate::nodes::digest::DEFAULT_CONNECTION;
use crate::nodes::{CheckCx, PlanCx, Transform, parse, project_to};
use crate::schema::{Field, FieldType, Schema};
use crate::source::SourceRef;
use datafusion::common::{DataFusionError, Result as DFResult};
use datafusion::prelude::DataFrame;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    dataset: DatasetRef,
    #[serde(default)]
    fields: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DatasetRef {
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    connection_name: Option<String>,
    #[serde(default)]
    source_object_name: Option<String>,
}

#[derive(Debug)]
pub struct Load {
    source: SourceRef,
    fields: Vec<String>,
}

impl Load {
    pub fn parse(node: &str, params: &Value) -> Result<Load, Vec<Problem>> {
        let p: Params = parse(node, params).map_err(|p| vec![p])?;
        let missing = |field: &str| vec![Problem::new(node, format!("parameters.dataset.{field}"), "is required")];
        let source = if enum_eq(&p.dataset.ty, "analyticsDataset") {
            SourceRef::Dataset(p.dataset.name.filter(|n| !n.is_empty()).ok_or_else(|| missing("name"))?)
        } else if enum_eq(&p.dataset.ty, "connectedDataset") {
            SourceRef::Object {
                connection: p.dataset.connection_name.filter(|c| !c.is_empty()).unwrap_or(DEFAULT_CONNECTION.into()),
                object: p
                    .dataset
                    .source_object_name
                    .filter(|o| !o.is_empty())
                    .ok_or_else(|| missing("sourceObjectName"))?,
            }
        } else {
            return Err(vec![Problem::new(
                node,
                "parameters.dataset.type",
                format!(
                    "'{}' is not supported: swell loads analyticsDataset and connectedDataset (Data Cloud objects need Data Cloud)",
                    p.dataset.ty
                ),
            )]);
        };
        // a field listed twice is read once (a public recipe lists BillingState twice, and
        // its org ran it): a second copy would only collide with the first downstream
        let mut fields: Vec<String> = Vec::with_capacity(p.fields.len());
        for f in p.fields {
            if !fields.contains(&f) {
                fields.push(f);
            }
        }
        Ok(Load { source, fields })
    }
}

#[async_trait::async_trait]
impl Transform for Load {
    fn inputs(&self) -> Vec<(String, String)> {
        vec![]
    }

    fn source(&self) -> Option<SourceRef> {
        Some(self.source.clone())
    }

    fn check(&self, cx: &mut CheckCx, _inputs: &[&Schema]) -> Option<Schema> {
        let Some(sources) = cx.sources else {
            // without data: the listed fields with types still unknown, or any field
            return Some(if self.fields.is_empty() {
                Schema::unknown()
            } else {
                Schema::new(self.fields.iter().map(|f| Field::new(f.clone(), FieldType::Unknown)).collect())
            });
        };
        let all = sources.get(&self.source)?;
        let base: Vec<&Field> = all.fields.iter().filter(|f| f.derived_from.is_none()).collect();
        if self.fields.is_empty() {
            return Some(Schema::new(base.into_iter().cloned().collect()));
        }
        let mut out = Vec::new();
        for (i, name) in self.fields.iter().enumerate() {
            match base.iter().find(|f| &f.name == name) {
                Some(f) => out.push((*f).clone()),
                None => cx.problem(format!("parameters.fields[{i}]"), all.unknown_field(name)),
            }
        }
        Some(Schema::new(out))
    }

    async fn plan(
        &self,
        cx: &PlanCx<'_>,
        _inputs: Vec<DataFrame>,
        _in: &[&Schema],
        out: &Schema,
    ) -> DFResult<DataFrame> {
        let df = cx
            .sources
            .get(&self.source)
            .cloned()
            .ok_or_else(|| DataFusionError::Plan(format!("{} was not loaded", self.source)))?;
        project_to(df, out)
    }
}
