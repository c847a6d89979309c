//! sliceDataset: drops or keeps fields. A date field takes its generated columns with it.

use super::{CheckCx, NameRef, PlanCx, Transform, de_bool, project_to};
use crate::schema::Schema;
use datafusion::common::Result as DFResult;
use datafusion::prelude::DataFrame;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Slice {
    source: String,
    /// `drop` (default) or `select`.
    #[serde(default)]
    mode: Option<String>,
    fields: Vec<NameRef>,
    #[serde(default, deserialize_with = "de_bool")]
    ignore_missing_fields: bool,
}

#[async_trait::async_trait]
impl Transform for Slice {
    fn inputs(&self) -> Vec<(String, String)> {
        vec![("parameters.source".into(), self.source.clone())]
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        let input = inputs[0];
        let select = match self.mode.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("drop") => false,
            Some("select") => true,
            Some(other) => {
                cx.problem("parameters.mode", format!("unknown mode '{other}' (drop or select)"));
                return None;
            }
        };
        if input.open {
            return Some(Schema::unknown());
        }
        let mut named = Vec::new();
        for (i, f) in self.fields.iter().enumerate() {
            if input.get(f.name()).is_none() {
                if !self.ignore_missing_fields {
                    cx.require_field(input, f.name(), format!("parameters.fields[{i}]"));
                }
                continue;
            }
            named.extend(input.with_companions(f.name()).into_iter().map(|f| f.name.clone()));
        }
        let fields = input.fields.iter().filter(|f| named.contains(&f.name) == select).cloned().collect();
        Some(Schema::new(fields))
    }

    async fn plan(
        &self,
        _cx: &PlanCx<'_>,
        mut inputs: Vec<DataFrame>,
        _in: &[&Schema],
        out: &Schema,
    ) -> DFResult<DataFrame> {
        project_to(inputs.remove(0), out)
    }
}
