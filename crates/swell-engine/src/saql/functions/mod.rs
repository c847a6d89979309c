//! Scalar functions whose SAQL (or Spark) semantics differ from DataFusion's built-ins (1-based
//! `substr` with negative positions, strict `toDate` formats, `number_to_string` patterns,
//! boundary counting `date_diff`, ...). Each is a small Rust function over Arrow arrays (a
//! kernel), wrapped in one generic [`ScalarUDFImpl`].
//!
//! The table [`Udf`] is the one registry: a variant names a function, its internal name, its
//! result type and its kernel. Callers build calls by variant ([`Udf::call`]), so a misspelt
//! function is a compile error, not a failed run. The files hold the kernels by kind:
//! [`text`], [`math`], [`dates`].
//!
//! Dates are `Timestamp(Millisecond)` arrays in UTC.

mod dates;
mod math;
mod text;

pub(crate) use dates::{add_months_signed, month_start, quarter_start, week_start};

use crate::dateformat::from_millis;
use chrono::NaiveDateTime;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, StringArray, TimestampMillisecondArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, TimeUnit, TimestampMillisecondType};
use datafusion::common::{DataFusionError, Result as DFResult};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

type Kernel = fn(&[ArrayRef], usize) -> DFResult<ArrayRef>;

/// Declares the functions once: the variant, the name DataFusion knows it by (internal, never
/// shown to users), the result type and the kernel.
macro_rules! udfs {
    ($($(#[$doc:meta])* $variant:ident => $name:literal, $ret:expr, $kernel:path;)*) => {
        /// A scalar function swell adds to DataFusion.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Udf {
            $($(#[$doc])* $variant,)*
        }

        impl Udf {
            /// Every function, for registering them in a context.
            pub const ALL: &[Udf] = &[$(Udf::$variant),*];

            fn spec(self) -> (&'static str, DataType, Kernel) {
                match self {
                    $(Udf::$variant => ($name, $ret, $kernel),)*
                }
            }
        }
    };
}

udfs! {
    /// `substr(s, pos [, len])`, 1-based, negative positions from the end.
    Substr => "saql_substr", DataType::Utf8, text::substr;
    /// `index_of(s, search [, start [, occurrence]])`.
    IndexOf => "saql_index_of", DataType::Float64, text::index_of;
    /// `number_to_string(n, pattern)`.
    NumberToString => "saql_number_to_string", DataType::Utf8, text::number_to_string;
    /// `string_to_number(s)`, failing the run on text that is not a number.
    StringToNumber => "saql_string_to_number", DataType::Float64, text::string_to_number;
    /// A value as text, numbers without a trailing `.0` (recipe `string(x)`).
    Text => "saql_text", DataType::Utf8, text::text_of;
    /// `round(n [, digits])`, ties away from zero.
    Round => "saql_round", DataType::Float64, math::round;
    /// `trunc(n [, digits])`.
    Trunc => "saql_trunc", DataType::Float64, math::trunc;
    /// `toDate(text, pattern)` with a Java pattern, failing the run on text that does not match.
    ToDate => "saql_to_date", ts_type(), dates::to_date;
    /// Text as a date in any of the recipe's accepted forms.
    ParseDateAny => "saql_parse_date_any", ts_type(), dates::parse_date_any;
    /// A date as text with a Java pattern.
    FormatDate => "saql_format_date", DataType::Utf8, dates::format_date;
    /// Whole days from the first date to the second.
    DaysBetween => "saql_days_between", DataType::Float64, dates::days_between;
    /// `date_diff(part, start, end)`: boundaries of `part` crossed.
    DateDiff => "saql_date_diff", DataType::Float64, dates::date_diff;
    /// `date(year, month, day)`.
    Date => "saql_date", ts_type(), dates::make_date;
    /// `day_in_week(d)` and the other day counts, named by the first argument.
    DateNumber => "saql_date_number", DataType::Float64, dates::date_number;
    /// `month_first_day(d)` and the other period bounds, named by the first argument.
    DateShift => "saql_date_shift", ts_type(), dates::date_shift;
    /// A date plus a number of days.
    AddDays => "saql_add_days", ts_type(), dates::add_days;
    /// A date plus a number of months, clamped to the month's end.
    AddMonths => "saql_add_months", ts_type(), dates::add_months_fn;
    /// Spark's `months_between` (31-day fractions).
    MonthsBetween => "saql_months_between", DataType::Float64, dates::months_between;
    /// The generated date columns (`X_Year`, `X_Week_Fiscal`, ...).
    DatePart => "saql_date_part", DataType::Utf8, dates::date_part;
}

impl Udf {
    /// The name DataFusion knows the function by.
    pub fn name(self) -> &'static str {
        self.spec().0
    }

    /// The function, ready to register in a context.
    pub fn udf(self) -> ScalarUDF {
        let (name, ret, kernel) = self.spec();
        ScalarUDF::new_from_impl(SaqlUdf {
            name,
            ret,
            signature: Signature::variadic_any(Volatility::Immutable),
            kernel,
        })
    }

    /// A call of the function.
    pub fn call(self, args: Vec<Expr>) -> Expr {
        Arc::new(self.udf()).call(args)
    }

    /// Whether `name` is one of these functions' internal names (kept out of suggestions).
    pub fn is_internal(name: &str) -> bool {
        Udf::ALL.iter().any(|u| u.name() == name)
    }
}

/// A SAQL function implemented over whole arrays.
#[derive(Debug)]
pub struct SaqlUdf {
    name: &'static str,
    ret: DataType,
    signature: Signature,
    kernel: Kernel,
}

impl PartialEq for SaqlUdf {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}
impl Eq for SaqlUdf {}
impl Hash for SaqlUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state)
    }
}

impl ScalarUDFImpl for SaqlUdf {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> DFResult<DataType> {
        Ok(self.ret.clone())
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DFResult<ColumnarValue> {
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let arrays: Vec<ArrayRef> = args.args.iter().map(|a| a.to_array(rows)).collect::<DFResult<_>>()?;
        let out = (self.kernel)(&arrays, rows)?;
        if all_scalar {
            Ok(ColumnarValue::Scalar(datafusion::common::ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, None)
}

/// A value as text, the way CRM Analytics shows it: numbers without a trailing `.0`, dates in
/// ISO form.
pub fn to_text(e: Expr, ty: &crate::schema::FieldType) -> Expr {
    use crate::schema::FieldType;
    match ty {
        FieldType::Numeric { .. } => Udf::NumberToString.call(vec![e, datafusion::prelude::lit("0.##########")]),
        FieldType::Date { .. } => Udf::FormatDate.call(vec![e, datafusion::prelude::lit(ISO_FORMAT)]),
        _ => datafusion::logical_expr::cast(e, DataType::Utf8),
    }
}

/// The text form of dates: `2018-02-25T00:00:03.000Z`.
pub const ISO_FORMAT: &str = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'";

// ---------- argument helpers of the kernels ----------

fn strings(a: &ArrayRef) -> DFResult<StringArray> {
    Ok(cast(a, &DataType::Utf8)?.as_string::<i32>().clone())
}

fn numbers(a: &ArrayRef) -> DFResult<Float64Array> {
    Ok(cast(a, &DataType::Float64)?.as_primitive::<Float64Type>().clone())
}

fn dates(a: &ArrayRef) -> DFResult<TimestampMillisecondArray> {
    Ok(cast(a, &ts_type())?.as_primitive::<TimestampMillisecondType>().clone())
}

fn opt_str(a: &StringArray, i: usize) -> Option<&str> {
    a.is_valid(i).then(|| a.value(i))
}

fn opt_num(a: &Float64Array, i: usize) -> Option<f64> {
    a.is_valid(i).then(|| a.value(i))
}

fn opt_date(a: &TimestampMillisecondArray, i: usize) -> Option<NaiveDateTime> {
    if a.is_valid(i) { from_millis(a.value(i)) } else { None }
}

fn user_err(msg: String) -> DataFusionError {
    DataFusionError::Execution(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_names_are_unique_and_prefixed() {
        let mut names: Vec<&str> = Udf::ALL.iter().map(|u| u.name()).collect();
        assert!(names.iter().all(|n| n.starts_with("saql_")), "{names:?}");
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Udf::ALL.len());
        assert!(Udf::is_internal("saql_substr") && !Udf::is_internal("substr"));
    }
}
