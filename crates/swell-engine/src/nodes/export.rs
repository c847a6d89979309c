//! export: writes the node's rows as CSV and Parquet under the data dir
//! (`exports/<node>/<run>/`), for tools outside swell. `userId` is accepted and ignored.

use super::{CheckCx, PlanCx, Sink, Transform};
use crate::schema::Schema;
use datafusion::common::Result as DFResult;
use datafusion::prelude::DataFrame;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Export {
    source: String,
}

impl Export {
    /// The recipe `export` node (Data Prep's "output to a CSV file"): the same files. Its
    /// `format` (CSV), header kind and part limits are read by the org's download service;
    /// swell writes one CSV (API names as headers) and one Parquet file.
    pub fn of(source: String) -> Export {
        Export { source }
    }
}

#[async_trait::async_trait]
impl Transform for Export {
    fn inputs(&self) -> Vec<(String, String)> {
        vec![("parameters.source".into(), self.source.clone())]
    }

    fn check(&self, _cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        Some(inputs[0].clone())
    }

    async fn plan(
        &self,
        _cx: &PlanCx<'_>,
        mut inputs: Vec<DataFrame>,
        _in: &[&Schema],
        _out: &Schema,
    ) -> DFResult<DataFrame> {
        Ok(inputs.remove(0))
    }

    fn sink(&self) -> Option<Sink> {
        Some(Sink::Export)
    }
}
