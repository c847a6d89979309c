//! The dataset data model that transformations operate on.
//!
//! CRM Analytics knows dimensions (text), multi-value dimensions, measures and dates. Inside a
//! run they live in Arrow as:
//!
//! | kind        | in a run                  | in a stored dataset version           |
//! |-------------|---------------------------|---------------------------------------|
//! | Text        | `Utf8`                    | `Utf8`                                |
//! | MultiValue  | `List<Utf8>`              | `List<Utf8>`                          |
//! | Numeric     | `Float64`                 | `Decimal128(18, scale)` (see below)   |
//! | Date        | `Timestamp(ms)` (UTC)     | `Timestamp(ms, "UTC")`                |
//!
//! Measures compute in `Float64` because SAQL arithmetic "keeps all decimals" and only storage
//! is limited to `scale` (transformations.md 1.2); the register node rounds to the declared
//! scale (half away from zero) when it writes. The declared precision is metadata: a dataset
//! stores every measure in 18 digits (see [`crate::nodes::register`]); a connected object
//! keeps its source's precision, which its values fit by construction. A date column carries generated
//! companion columns (`X_Year`, `X_sec_epoch`, ...), see [`derived_date_fields`].

use datafusion::arrow::datatypes::{DataType, Field as ArrowField, TimeUnit};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Largest precision of a measure, as in CRM Analytics.
pub const MAX_PRECISION: u8 = 18;
/// Scale given to measures read from sources that carry none (CSV floats): enough for rates and
/// currency amounts while leaving 12 integer digits.
pub const DEFAULT_FLOAT_SCALE: u8 = 6;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum FieldType {
    Text,
    MultiValue,
    Numeric {
        precision: u8,
        scale: u8,
    },
    Date {
        /// Display format (Java pattern) kept as metadata.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        format: Option<String>,
        #[serde(default)]
        fiscal_month_offset: u8,
        #[serde(default = "default_year_end")]
        is_year_end_fiscal_year: bool,
        /// 0 = Sunday ... 6 = Saturday.
        #[serde(default)]
        first_day_of_week: u8,
    },
    /// Only while validating without data: the type of a source field is not known yet.
    Unknown,
}

fn default_year_end() -> bool {
    true
}

impl FieldType {
    pub fn numeric(precision: u8, scale: u8) -> Self {
        FieldType::Numeric { precision, scale }
    }

    pub fn plain_date() -> Self {
        FieldType::Date { format: None, fiscal_month_offset: 0, is_year_end_fiscal_year: true, first_day_of_week: 0 }
    }

    /// The Arrow type a column of this kind has during a run.
    pub fn run_type(&self) -> DataType {
        match self {
            FieldType::Text | FieldType::Unknown => DataType::Utf8,
            FieldType::MultiValue => mv_type(),
            FieldType::Numeric { .. } => DataType::Float64,
            FieldType::Date { .. } => DataType::Timestamp(TimeUnit::Millisecond, None),
        }
    }

    /// The Arrow type a column of this kind has in a stored dataset version.
    pub fn storage_type(&self) -> DataType {
        match self {
            FieldType::Numeric { precision, scale } => DataType::Decimal128(*precision, *scale as i8),
            FieldType::Date { .. } => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            other => other.run_type(),
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match self {
            FieldType::Text => "Text",
            FieldType::MultiValue => "MultiValue",
            FieldType::Numeric { .. } => "Numeric",
            FieldType::Date { .. } => "Date",
            FieldType::Unknown => "Unknown",
        }
    }

    pub fn is_numeric(&self) -> bool {
        matches!(self, FieldType::Numeric { .. })
    }

    pub fn is_date(&self) -> bool {
        matches!(self, FieldType::Date { .. })
    }

    /// Maps an Arrow type found in a source (CSV inference, Parquet) to a field kind.
    pub fn from_arrow(dt: &DataType) -> Option<FieldType> {
        use DataType::*;
        Some(match dt {
            Utf8 | LargeUtf8 | Utf8View | Boolean | Null => FieldType::Text,
            Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 => FieldType::numeric(MAX_PRECISION, 0),
            Float16 | Float32 | Float64 => FieldType::numeric(MAX_PRECISION, DEFAULT_FLOAT_SCALE),
            Decimal32(p, s) | Decimal64(p, s) | Decimal128(p, s) | Decimal256(p, s) => {
                let scale = (*s).max(0) as u8;
                let precision = (*p).clamp(scale.max(1), MAX_PRECISION);
                FieldType::numeric(precision, scale.min(precision))
            }
            Date32 | Date64 | Timestamp(_, _) => FieldType::plain_date(),
            List(f) | LargeList(f) | ListView(f) | LargeListView(f)
                if matches!(f.data_type(), Utf8 | LargeUtf8 | Utf8View) =>
            {
                FieldType::MultiValue
            }
            _ => return None,
        })
    }
}

pub fn mv_type() -> DataType {
    DataType::List(Arc::new(ArrowField::new("item", DataType::Utf8, true)))
}

/// One field of a node's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(flatten)]
    pub ty: FieldType,
    /// For generated date columns: the date field they belong to. They travel with it through
    /// augment, slice and append.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived_from: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_system_field: bool,
}

impl Field {
    pub fn new(name: impl Into<String>, ty: FieldType) -> Self {
        Field { name: name.into(), label: None, ty, derived_from: None, is_system_field: false }
    }

    /// A field with an optional label (recipe fields carry `name` and `label`).
    pub fn labelled(name: impl Into<String>, label: Option<String>, ty: FieldType) -> Self {
        Field { label, ..Field::new(name, ty) }
    }

    pub fn label(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.name)
    }
}

/// The ordered fields a node produces.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    pub fields: Vec<Field>,
    /// Only while validating without data: the node's fields are not known (an edgemart), so
    /// any name is accepted with an unknown type.
    #[serde(skip)]
    pub open: bool,
}

impl Schema {
    pub fn new(fields: Vec<Field>) -> Self {
        Schema { fields, open: false }
    }

    /// A schema whose fields are unknown until data is seen.
    pub fn unknown() -> Self {
        Schema { fields: Vec::new(), open: true }
    }

    /// The field's type; `Unknown` for names of an open schema.
    pub fn type_of(&self, name: &str) -> Option<FieldType> {
        match self.get(name) {
            Some(f) => Some(f.ty.clone()),
            None if self.open => Some(FieldType::Unknown),
            None => None,
        }
    }

    pub fn get(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.open || self.get(name).is_some()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.name.as_str())
    }

    /// A field plus, for a date, its generated companion columns.
    pub fn with_companions(&self, name: &str) -> Vec<&Field> {
        self.fields.iter().filter(|f| f.name == name || f.derived_from.as_deref() == Some(name)).collect()
    }

    /// `unknown field 'Amout' (did you mean 'Amount'?)`
    pub fn unknown_field(&self, name: &str) -> String {
        crate::error::unknown("field", name, crate::error::suggest(name, self.names()))
    }

    pub fn push(&mut self, field: Field) {
        self.fields.retain(|f| f.name != field.name);
        self.fields.push(field);
    }
}

/// The generated parts of a date field, in the order CRM Analytics lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatePart {
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
    WeekFiscal,
    MonthFiscal,
    QuarterFiscal,
    YearFiscal,
    SecEpoch,
    DayEpoch,
}

impl DatePart {
    pub fn suffix(self) -> &'static str {
        match self {
            DatePart::Second => "Second",
            DatePart::Minute => "Minute",
            DatePart::Hour => "Hour",
            DatePart::Day => "Day",
            DatePart::Week => "Week",
            DatePart::Month => "Month",
            DatePart::Quarter => "Quarter",
            DatePart::Year => "Year",
            DatePart::WeekFiscal => "Week_Fiscal",
            DatePart::MonthFiscal => "Month_Fiscal",
            DatePart::QuarterFiscal => "Quarter_Fiscal",
            DatePart::YearFiscal => "Year_Fiscal",
            DatePart::SecEpoch => "sec_epoch",
            DatePart::DayEpoch => "day_epoch",
        }
    }

    pub fn from_suffix(s: &str) -> Option<DatePart> {
        ALL_PARTS.iter().copied().find(|p| p.suffix() == s)
    }

    pub fn is_epoch(self) -> bool {
        matches!(self, DatePart::SecEpoch | DatePart::DayEpoch)
    }
}

const ALL_PARTS: [DatePart; 14] = [
    DatePart::Second,
    DatePart::Minute,
    DatePart::Hour,
    DatePart::Day,
    DatePart::Week,
    DatePart::Month,
    DatePart::Quarter,
    DatePart::Year,
    DatePart::WeekFiscal,
    DatePart::MonthFiscal,
    DatePart::QuarterFiscal,
    DatePart::YearFiscal,
    DatePart::SecEpoch,
    DatePart::DayEpoch,
];

/// The parts generated for a date field: fiscal parts only when a fiscal offset applies.
pub fn date_parts(ty: &FieldType) -> Vec<DatePart> {
    // a type not known while checking may be a fiscal date: every part may exist
    let fiscal = matches!(ty, FieldType::Date { fiscal_month_offset, .. } if *fiscal_month_offset > 0)
        || *ty == FieldType::Unknown;
    ALL_PARTS
        .iter()
        .copied()
        .filter(|p| {
            fiscal
                || !matches!(
                    p,
                    DatePart::WeekFiscal | DatePart::MonthFiscal | DatePart::QuarterFiscal | DatePart::YearFiscal
                )
        })
        .collect()
}

/// The companion fields of date field `base` (CRM Analytics "Handle Date Values").
pub fn derived_date_fields(base: &Field) -> Vec<(DatePart, Field)> {
    date_parts(&base.ty)
        .into_iter()
        .map(|part| {
            let ty = if part.is_epoch() { FieldType::numeric(MAX_PRECISION, 0) } else { FieldType::Text };
            let label = format!("{} ({})", base.label(), part.suffix().replace('_', " "));
            let field = Field {
                name: format!("{}_{}", base.name, part.suffix()),
                label: Some(label),
                ty,
                derived_from: Some(base.name.clone()),
                is_system_field: false,
            };
            (part, field)
        })
        .collect()
}
