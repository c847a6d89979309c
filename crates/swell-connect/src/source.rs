//! The connector trait and what it speaks: objects, fields, reads, batches.

use crate::{ConnectError, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{DataType, Field as ArrowField, Schema as ArrowSchema, SchemaRef};
use datafusion::arrow::util::display::FormatOptions;
use futures::stream::BoxStream;
use std::sync::Arc;
use swell_engine::schema::FieldType;

/// Batches of one read, in the storage types of the requested fields, in their order.
pub type BatchStream = BoxStream<'static, Result<RecordBatch>>;

/// An object (table, sObject, file) a source offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceObject {
    pub name: String,
    pub label: String,
}

impl SourceObject {
    /// An object whose label is its name (tables have no labels).
    pub fn named(name: String) -> Self {
        SourceObject { label: name.clone(), name }
    }
}

/// The ` WHERE ... LIMIT n` tail of a SQL or SOQL read: the watermark condition (written by
/// `since` from the field and instant), the pass-through filter, the row limit.
pub(crate) fn read_tail(read: &Read, since: impl Fn(&str, &DateTime<Utc>) -> String) -> String {
    let mut conditions = Vec::new();
    if let Some((field, at)) = &read.since {
        conditions.push(since(field, at));
    }
    if let Some(filter) = &read.filter {
        conditions.push(format!("({filter})"));
    }
    let mut tail = String::new();
    if !conditions.is_empty() {
        tail.push_str(" WHERE ");
        tail.push_str(&conditions.join(" AND "));
    }
    if let Some(n) = read.limit {
        tail.push_str(&format!(" LIMIT {n}"));
    }
    tail
}

/// A field of a source object, in the dataset model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceField {
    pub name: String,
    pub label: String,
    /// Text, Numeric (precision, scale) or Date.
    pub ty: FieldType,
    /// Whether the source holds only a day (fieldType `DateOnly`) rather than an instant.
    pub date_only: bool,
    /// The source's own type name (`varchar`, `numeric`, `picklist`, ...), for messages.
    pub source_type: String,
    /// Part of the object's primary key (the upsert key of incremental syncs).
    pub primary_key: bool,
}

impl SourceField {
    pub fn new(name: impl Into<String>, ty: FieldType, source_type: impl Into<String>) -> Self {
        let name = name.into();
        SourceField {
            label: name.clone(),
            name,
            ty,
            date_only: false,
            source_type: source_type.into(),
            primary_key: false,
        }
    }

    /// The API's `fieldType` (output lowercase): text, numeric, date.
    pub fn wire_type(&self) -> &'static str {
        match self.ty {
            FieldType::Numeric { .. } => "numeric",
            FieldType::Date { .. } => "date",
            _ => "text",
        }
    }

    /// `precision` of the API: digits of a number, length of a text (255 when unknown).
    pub fn precision(&self) -> u32 {
        match self.ty {
            FieldType::Numeric { precision, .. } => precision as u32,
            _ => 255,
        }
    }

    pub fn scale(&self) -> u32 {
        match self.ty {
            FieldType::Numeric { scale, .. } => scale as u32,
            _ => 0,
        }
    }

    /// `format` of a date field, as CRM Analytics shows it.
    pub fn format(&self) -> Option<&'static str> {
        match (&self.ty, self.date_only) {
            (FieldType::Date { .. }, true) => Some("yyyy-MM-dd"),
            (FieldType::Date { .. }, false) => Some("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"),
            _ => None,
        }
    }
}

/// What to read.
#[derive(Debug, Clone, Default)]
pub struct Read {
    pub object: String,
    /// The fields, in the order the batches carry them.
    pub fields: Vec<SourceField>,
    /// Only rows whose field has a value at or after the instant (incremental syncs). At or
    /// after, not after: rows stamped in the same millisecond as the last sync's newest row
    /// may have committed after it; reading them again is harmless because syncs upsert.
    pub since: Option<(String, DateTime<Utc>)>,
    /// The connected object's `passThroughFilter`, in the source's own language (a SQL or
    /// SOQL condition), applied by the source.
    pub filter: Option<String>,
    /// Also rows the source reports as deleted (Salesforce `queryAll`).
    pub include_deleted: bool,
    /// At most this many rows (data previews).
    pub limit: Option<usize>,
}

/// A connector.
#[async_trait]
pub trait Source: Send + Sync {
    /// Connects and checks the settings; the message on success.
    async fn test(&self) -> Result<String>;

    /// The objects the source offers, by name.
    async fn objects(&self) -> Result<Vec<SourceObject>>;

    /// The fields of an object; [`ConnectError::NotFound`] when it does not exist.
    async fn fields(&self, object: &str) -> Result<Vec<SourceField>>;

    /// Reads rows.
    async fn read(&self, read: &Read) -> Result<BatchStream>;

    /// The number of rows a read would send (its fields and limit aside), when the source
    /// can count them cheaply; `None` when it cannot (then an incremental sync reads the
    /// source's keys to find deletions every time).
    async fn count(&self, _read: &Read) -> Result<Option<u64>> {
        Ok(None)
    }

    /// Whether deleted rows come back with `include_deleted` (flagged by an `IsDeleted`
    /// field), so that an incremental sync needs no key scan to find deletions.
    fn reports_deletes(&self) -> bool {
        false
    }

    /// The local folder the source reads, absolute and with links resolved; `None` for a
    /// remote source. A connection keeps this form of its `FolderPath`: a relative path would
    /// move with the server's working directory.
    fn local_folder(&self) -> Option<&std::path::Path> {
        None
    }
}

/// The Arrow schema of a read: the fields' storage types.
pub fn storage_schema(fields: &[SourceField]) -> SchemaRef {
    Arc::new(ArrowSchema::new(
        fields.iter().map(|f| ArrowField::new(f.name.as_str(), f.ty.storage_type(), true)).collect::<Vec<_>>(),
    ))
}

/// Turns a batch of raw columns (text, epoch milliseconds, or anything Arrow casts) into the
/// storage types of `fields`. A value that does not fit (a number too large for its
/// precision, text that is not a number) is an error naming the field, not a silent null.
pub fn finish_batch(columns: Vec<ArrayRef>, fields: &[SourceField], object: &str) -> Result<RecordBatch> {
    let schema = storage_schema(fields);
    let options = CastOptions { safe: false, format_options: FormatOptions::default() };
    let mut out = Vec::with_capacity(columns.len());
    for (column, field) in columns.into_iter().zip(fields) {
        let target = field.ty.storage_type();
        if column.data_type() == &target {
            out.push(column);
            continue;
        }
        let cast = cast_with_options(&column, &target, &options).or_else(|e| match (&target, column.data_type()) {
            // floats printed in e-notation (1e-5) by the source: through f64
            (DataType::Decimal128(p, s), DataType::Utf8) => lenient_decimal(&column, *p, *s).ok_or(e),
            _ => Err(e),
        });
        let cast = cast.map_err(|e| {
            ConnectError::Source(format!(
                "{object}.{}: a value does not fit {} ({}): {e}",
                field.name,
                describe_type(&field.ty),
                field.source_type
            ))
        })?;
        out.push(cast);
    }
    RecordBatch::try_new(schema, out).map_err(|e| ConnectError::Source(format!("{object}: {e}")))
}

/// Text to decimals where Arrow's cast refuses: values in e-notation go through f64 (rounded
/// half away from zero to the scale). `None` when any value is still not a number that fits.
fn lenient_decimal(column: &ArrayRef, precision: u8, scale: i8) -> Option<ArrayRef> {
    use datafusion::arrow::array::{Array, Decimal128Builder, StringArray};
    use datafusion::arrow::compute::kernels::cast_utils::parse_decimal;
    use datafusion::arrow::datatypes::Decimal128Type;
    let text = column.as_any().downcast_ref::<StringArray>()?;
    let limit = 10i128.checked_pow(precision as u32)?;
    let mut out = Decimal128Builder::with_capacity(text.len());
    for i in 0..text.len() {
        if text.is_null(i) {
            out.append_null();
            continue;
        }
        let v = text.value(i).trim();
        let n = match parse_decimal::<Decimal128Type>(v, precision, scale) {
            Ok(n) => n,
            Err(_) => {
                let f: f64 = v.parse().ok().filter(|f: &f64| f.is_finite())?;
                let scaled = (f * 10f64.powi(scale as i32)).round();
                if scaled.abs() >= limit as f64 {
                    return None;
                }
                scaled as i128
            }
        };
        out.append_value(n);
    }
    Some(Arc::new(out.finish().with_precision_and_scale(precision, scale).ok()?))
}

fn describe_type(ty: &FieldType) -> String {
    match ty {
        FieldType::Numeric { precision, scale } => format!("numeric({precision},{scale})"),
        other => other.kind_name().to_ascii_lowercase(),
    }
}

/// A numeric field in the dataset model from a source's precision and scale: precision is
/// capped at CRM Analytics' 18 digits and the scale kept (at most the precision).
pub fn numeric(precision: Option<i64>, scale: Option<i64>) -> FieldType {
    use swell_engine::schema::{DEFAULT_FLOAT_SCALE, MAX_PRECISION};
    match (precision, scale) {
        (Some(p), s) if p > 0 => {
            let scale = s.unwrap_or(0).clamp(0, MAX_PRECISION as i64) as u8;
            let precision = (p.min(MAX_PRECISION as i64) as u8).max(scale.max(1));
            FieldType::numeric(precision, scale)
        }
        // unconstrained numbers (PostgreSQL numeric, floats): 18 digits, 6 after the point
        _ => FieldType::numeric(MAX_PRECISION, DEFAULT_FLOAT_SCALE),
    }
}

pub(crate) fn not_found_field(object: &str, name: &str, fields: &[SourceField]) -> ConnectError {
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    ConnectError::NotFound(format!("{object} has no field '{name}' (fields: {})", names.join(", ")))
}

/// Picks fields by name (any case) from an object's description, in the order asked.
pub fn select_fields(object: &str, all: &[SourceField], names: &[String]) -> Result<Vec<SourceField>> {
    names
        .iter()
        .map(|n| {
            all.iter().find(|f| f.name.eq_ignore_ascii_case(n)).cloned().ok_or_else(|| not_found_field(object, n, all))
        })
        .collect()
}

/// A stream over the batches a reading task sends. Dropping the stream drops the receiver,
/// which ends the task at its next send (how a stop reaches a source).
pub(crate) fn channel_stream(rx: tokio::sync::mpsc::Receiver<Result<RecordBatch>>) -> BatchStream {
    Box::pin(futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) }))
}

/// The stored and API form of a connected object's field (`ReplicatedField`): `name`,
/// `label`, `fieldType` (text, numeric, date), `precision`, `scale`, `format`, `skipped`,
/// `uniqueId` (part of the primary key) and `sourceType` (swell's: the source's own type).
impl SourceField {
    pub fn to_json(&self, skipped: bool) -> serde_json::Value {
        let mut v = serde_json::json!({
            "name": self.name,
            "label": self.label,
            "fieldType": self.wire_type(),
            "precision": self.precision(),
            "scale": self.scale(),
            "multiValue": false,
            "skipped": skipped,
            "uniqueId": self.primary_key,
            "sourceType": self.source_type,
        });
        if let Some(f) = self.format() {
            v["format"] = serde_json::Value::String(f.to_string());
        }
        v
    }

    /// The stored form of a freshly described object: every field, none skipped.
    pub fn list_json(fields: &[SourceField]) -> serde_json::Value {
        serde_json::Value::Array(fields.iter().map(|f| f.to_json(false)).collect())
    }

    /// Reads a stored or PATCHed field; the error names what is wrong.
    pub fn from_json(v: &serde_json::Value) -> std::result::Result<(SourceField, bool), String> {
        use serde_json::Value;
        let name = v.get("name").and_then(Value::as_str).ok_or("a field needs a 'name'")?;
        let kind = v.get("fieldType").and_then(Value::as_str).unwrap_or("text").to_ascii_lowercase();
        let int = |k: &str| v.get(k).and_then(Value::as_i64);
        let (ty, date_only) = match kind.as_str() {
            "text" => (FieldType::Text, false),
            "numeric" => (numeric(int("precision"), int("scale")), false),
            "date" | "datetime" => {
                (FieldType::plain_date(), v.get("format").and_then(Value::as_str) == Some("yyyy-MM-dd"))
            }
            "dateonly" => (FieldType::plain_date(), true),
            other => {
                return Err(format!(
                    "field '{name}': fieldType '{other}' is not one of Text, Numeric, Date, DateOnly, DateTime"
                ));
            }
        };
        let mut f = SourceField::new(name, ty, v.get("sourceType").and_then(Value::as_str).unwrap_or(&kind));
        f.label = v.get("label").and_then(Value::as_str).unwrap_or(name).to_string();
        f.date_only = date_only;
        f.primary_key = v.get("uniqueId").and_then(Value::as_bool).unwrap_or(false);
        Ok((f, v.get("skipped").and_then(Value::as_bool).unwrap_or(false)))
    }
}
