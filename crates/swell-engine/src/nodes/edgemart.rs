//! edgemart: reads the current version of a dataset, generated date columns included.

use super::{CheckCx, PlanCx, Transform};
use crate::schema::Schema;
use crate::source::SourceRef;
use datafusion::common::{DataFusionError, Result as DFResult};
use datafusion::prelude::DataFrame;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Edgemart {
    alias: String,
}

#[async_trait::async_trait]
impl Transform for Edgemart {
    fn inputs(&self) -> Vec<(String, String)> {
        vec![]
    }

    fn source(&self) -> Option<SourceRef> {
        Some(SourceRef::Dataset(self.alias.clone()))
    }

    fn check(&self, cx: &mut CheckCx, _inputs: &[&Schema]) -> Option<Schema> {
        if self.alias.trim().is_empty() {
            cx.problem("parameters.alias", "must name a dataset");
            return None;
        }
        match cx.sources {
            None => Some(Schema::unknown()),
            Some(sources) => sources.get(&SourceRef::Dataset(self.alias.clone())).cloned(),
        }
    }

    async fn plan(
        &self,
        cx: &PlanCx<'_>,
        _inputs: Vec<DataFrame>,
        _in: &[&Schema],
        _out: &Schema,
    ) -> DFResult<DataFrame> {
        cx.sources
            .get(&SourceRef::Dataset(self.alias.clone()))
            .cloned()
            .ok_or_else(|| DataFusionError::Plan(format!("dataset '{}' was not loaded", self.alias)))
    }
}
