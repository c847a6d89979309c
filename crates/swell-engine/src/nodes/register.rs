//! sfdcRegister: writes the node's rows as a new version of a dataset. The rows are written
//! while the run streams; the version becomes current only when the whole run succeeded (see
//! [`crate::storage`]). Measures are stored as `Decimal128(18, scale)`, rounding half away
//! from zero to the declared scale; a value past 18 digits fails the run.
//!
//! INFERRED: a measure's declared `precision` is kept in the version's metadata (the XMD) but
//! does not bound its values. Salesforce's own Manufacturing template declares
//! `ListPrice * Quantity` with precision 7 and scale 6, which every real order line exceeds,
//! and orgs run it: CRM Analytics stores measures in 18 digits whatever the precision says.

use super::{CheckCx, PlanCx, Sink, Transform, parse};
use crate::error::Problem;
use crate::schema::{FieldType, MAX_PRECISION, Schema};
use datafusion::common::{Result as DFResult, ScalarValue};
use datafusion::logical_expr::{cast, ident, lit, when};
use datafusion::prelude::DataFrame;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    alias: String,
    #[serde(default)]
    name: Option<String>,
    source: String,
    #[serde(default)]
    row_level_security_filter: Option<String>,
}

/// The dataset a register node writes.
#[derive(Debug, Clone)]
pub struct RegisterTarget {
    pub alias: String,
    pub label: String,
    pub row_level_security_filter: Option<String>,
}

#[derive(Debug)]
pub struct Register {
    params: Params,
}

impl Register {
    pub fn parse(node: &str, params: &Value) -> Result<Self, Vec<Problem>> {
        let params: Params = parse(node, params).map_err(|p| vec![p])?;
        if let Err(msg) = check_alias(&params.alias) {
            return Err(vec![Problem::new(node, "parameters.alias", msg)]);
        }
        Ok(Register { params })
    }
}

/// A dataset's API name: the API-name rule of `swell_core::name`, said of a dataset.
pub fn check_alias(alias: &str) -> Result<(), String> {
    swell_core::name::check_api_name(alias).map_err(|e| e.replacen("valid API name", "valid dataset API name", 1))
}

#[async_trait::async_trait]
impl Transform for Register {
    fn inputs(&self) -> Vec<(String, String)> {
        vec![("parameters.source".into(), self.params.source.clone())]
    }

    fn check(&self, _cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        Some(inputs[0].clone())
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
        Some(Sink::Dataset(RegisterTarget {
            alias: self.params.alias.clone(),
            label: self.params.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| self.params.alias.clone()),
            row_level_security_filter: self.params.row_level_security_filter.clone().filter(|f| !f.is_empty()),
        }))
    }
}

/// `out`'s fields of `df` in their stored types: measures as `Decimal128(18, scale)`,
/// dates as UTC timestamps (sfdcRegister and the recipe save node). A measure that is not a
/// finite number (`exp(1000)`, a float division by zero) has no decimal form and is stored as
/// null, as Spark stores it.
pub fn storage_projection(df: DataFrame, out: &Schema) -> DFResult<DataFrame> {
    df.select(
        out.fields
            .iter()
            .map(|f| {
                let c = ident(f.name.as_str());
                let e = match &f.ty {
                    FieldType::Numeric { scale, .. } => {
                        let finite =
                            datafusion::logical_expr::not(datafusion::functions::math::expr_fn::isnan(c.clone()))
                                .and(datafusion::functions::math::expr_fn::abs(c.clone()).lt(lit(f64::INFINITY)));
                        let stored = FieldType::numeric(MAX_PRECISION, *scale).storage_type();
                        cast(when(finite, c).otherwise(lit(ScalarValue::Float64(None)))?, stored)
                    }
                    FieldType::Date { .. } => cast(c, f.ty.storage_type()),
                    _ => c,
                };
                Ok(e.alias(f.name.as_str()))
            })
            .collect::<DFResult<Vec<_>>>()?,
    )
}
