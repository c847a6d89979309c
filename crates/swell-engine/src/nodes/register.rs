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
use datafusion::arrow::array::AsArray;
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{Result as DFResult, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, cast, ident,
};
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
                        let stored = FieldType::numeric(MAX_PRECISION, *scale).storage_type();
                        ScalarUDF::new_from_impl(StoredMeasure::new(&f.name, stored)).call(vec![c])
                    }
                    FieldType::Date { .. } => cast(c, f.ty.storage_type()),
                    _ => c,
                };
                Ok(e.alias(f.name.as_str()))
            })
            .collect::<DFResult<Vec<_>>>()?,
    )
}

/// A measure as it is stored: the number as `Decimal128(18, scale)` (as Arrow's cast: half
/// away from zero, an error past 18 digits), null where it is not finite.
#[derive(Debug, PartialEq, Eq, Hash)]
struct StoredMeasure {
    /// The field, named in the error of a value past the precision.
    field: String,
    stored: DataType,
    signature: Signature,
}

impl StoredMeasure {
    fn new(field: &str, stored: DataType) -> Self {
        StoredMeasure { field: field.to_string(), stored, signature: Signature::any(1, Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for StoredMeasure {
    fn name(&self) -> &str {
        "swell_stored_measure"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> DFResult<DataType> {
        Ok(self.stored.clone())
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DFResult<ColumnarValue> {
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let values = args.args[0].to_array(if scalar { 1 } else { args.number_rows })?;
        let values = datafusion::arrow::compute::cast(&values, &DataType::Float64)?;
        let finite = values.as_primitive::<Float64Type>().unary_opt::<_, Float64Type>(|v| v.is_finite().then_some(v));
        let out = match self.stored {
            DataType::Decimal128(precision, scale) => to_decimal(&finite, precision, scale),
            _ => cast_with_options(&finite, &self.stored, &CastOptions { safe: false, ..Default::default() })
                .map_err(Into::into),
        }
        .map_err(|e| {
            let why = match &e {
                datafusion::error::DataFusionError::ArrowError(a, _) => a.to_string(),
                other => other.to_string(),
            };
            datafusion::error::DataFusionError::Execution(format!(
                "field '{}' cannot be stored as a measure of {} digits: {why}",
                self.field, MAX_PRECISION
            ))
        })?;
        if scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

/// Arrow's float-to-decimal cast for precisions up to 18, whose values fit an `i64`: the
/// rounded value is converted by the processor, where Arrow converts every value to `i128` in
/// software and checks its precision apart (most of the 1.25 s that storing seven measures of
/// 8.6M rows took). A value past the precision falls back to Arrow's cast for its error.
fn to_decimal(
    values: &datafusion::arrow::array::Float64Array,
    precision: u8,
    scale: i8,
) -> DFResult<datafusion::arrow::array::ArrayRef> {
    use datafusion::arrow::array::Decimal128Array;
    let arrow_cast = || -> DFResult<_> {
        let options = CastOptions { safe: false, ..Default::default() };
        Ok(cast_with_options(values, &DataType::Decimal128(precision, scale), &options)?)
    };
    if precision > 18 {
        return arrow_cast();
    }
    let mul = 10_f64.powi(i32::from(scale));
    let limit = 10_f64.powi(i32::from(precision));
    let fits = std::cell::Cell::new(true);
    let out: Decimal128Array = values.unary::<_, datafusion::arrow::datatypes::Decimal128Type>(|v| {
        let r = (mul * v).round();
        if r.abs() >= limit {
            fits.set(false);
        }
        r as i64 as i128
    });
    if !fits.get() {
        return arrow_cast();
    }
    Ok(std::sync::Arc::new(out.with_precision_and_scale(precision, scale)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Float64Array;

    /// The fast conversion gives Arrow's values, ties and all, and Arrow's error past the
    /// precision.
    #[test]
    fn measures_convert_as_arrow_casts_them() {
        let mut values: Vec<Option<f64>> =
            vec![Some(0.5), Some(-0.5), Some(2.5), Some(-2.5), Some(1.005), Some(-0.0), None, Some(123456.789)];
        let mut x: u64 = 7;
        for _ in 0..10_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let magnitude = 10_f64.powi(((x >> 58) % 12) as i32);
            values.push(Some(((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * magnitude));
        }
        values.push(Some(999_999_999_999.999_4));
        let values = Float64Array::from(values);
        for scale in [0, 2, 6] {
            let fast = to_decimal(&values, 18, scale).unwrap();
            let options = CastOptions { safe: false, ..Default::default() };
            let arrow = cast_with_options(&values, &DataType::Decimal128(18, scale), &options).unwrap();
            assert_eq!(fast.as_ref(), arrow.as_ref(), "scale {scale}");
        }
        let past = Float64Array::from(vec![Some(1.0), Some(1e13)]);
        let e = to_decimal(&past, 18, 6).unwrap_err().to_string();
        assert!(e.contains("too large"), "{e}");
    }
}
