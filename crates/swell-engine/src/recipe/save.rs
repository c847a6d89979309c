//! save: writes the node's rows as a new version of a dataset (`dataset.name` is its API name,
//! `dataset.label` what people see; the label defaults to the name). `fields` is an
//! allow-list, `[]` = all. Written like a dataflow's sfdcRegister: measures as decimals of
//! their precision and scale, committed only when the whole run succeeds.

use super::enum_eq;
use crate::error::Problem;
use crate::nodes::register::{RegisterTarget, check_alias, storage_projection};
use crate::nodes::{CheckCx, PlanCx, Sink, Transform, parse};
use crate::schema::Schema;
use datafusion::common::Result as DFResult;
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
    #[serde(rename = "type", default)]
    ty: Option<String>,
    name: String,
    #[serde(default)]
    label: Option<String>,
    /// Kept with the version as sfdcRegister's is (28 public recipes set one; an empty one is
    /// none). The folder (`folderName`) is an org's app, which swell has not.
    #[serde(default)]
    row_level_security_filter: Option<String>,
}

#[derive(Debug)]
pub struct Save {
    sources: Vec<String>,
    fields: Vec<String>,
    target: RegisterTarget,
}

impl Save {
    pub fn parse(node: &str, params: &Value, sources: &[String]) -> Result<Save, Vec<Problem>> {
        let p: Params = parse(node, params).map_err(|p| vec![p])?;
        if let Some(ty) = &p.dataset.ty
            && !enum_eq(ty, "analyticsDataset")
        {
            return Err(vec![Problem::new(
                node,
                "parameters.dataset.type",
                format!("'{ty}' is not supported: swell saves analyticsDataset"),
            )]);
        }
        check_alias(&p.dataset.name).map_err(|m| vec![Problem::new(node, "parameters.dataset.name", m)])?;
        let label = p.dataset.label.filter(|l| !l.is_empty()).unwrap_or_else(|| p.dataset.name.clone());
        Ok(Save {
            sources: sources.to_vec(),
            fields: p.fields,
            target: RegisterTarget {
                alias: p.dataset.name,
                label,
                row_level_security_filter: p.dataset.row_level_security_filter.filter(|f| !f.trim().is_empty()),
            },
        })
    }
}

#[async_trait::async_trait]
impl Transform for Save {
    fn inputs(&self) -> Vec<(String, String)> {
        super::inputs(&self.sources)
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        if self.fields.is_empty() {
            return Some(inputs[0].clone());
        }
        let mut out = Schema::new(Vec::new());
        for (i, name) in self.fields.iter().enumerate() {
            if cx.require_field(inputs[0], name, format!("parameters.fields[{i}]")) {
                out.fields.extend(inputs[0].get(name).cloned());
            }
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
        storage_projection(inputs.remove(0), out)
    }

    fn sink(&self) -> Option<Sink> {
        Some(Sink::Dataset(self.target.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_security_predicate_is_kept() {
        let params = serde_json::json!({"dataset": {"type": "analyticsDataset", "name": "Opps",
            "folderName": "SharedApp", "rowLevelSecurityFilter": "'OwnerId' == \"$User.Id\""}, "fields": []});
        let save = Save::parse("SAVE", &params, &["X".to_string()]).unwrap();
        assert_eq!(save.target.row_level_security_filter.as_deref(), Some("'OwnerId' == \"$User.Id\""));
        let none = serde_json::json!({"dataset": {"name": "Opps", "rowLevelSecurityFilter": ""}});
        assert_eq!(Save::parse("SAVE", &none, &["X".to_string()]).unwrap().target.row_level_security_filter, None);
    }
}
