//! sfdcDigest and digest: read a connected object (a synced copy of a source object).
//!
//! Only the listed fields are read. `filterConditions` (structured) and
//! `complexFilterConditions` (a SOQL WHERE clause, read as [`super::soql`] says) apply to the
//! source rows, before per-field overrides: `type`, `precision`/`scale`, `isMultiValue` with `multiValueSeparator` (`;` by
//! default), date `format` and fiscal settings, and `defaultValue` for nulls. Structured string
//! equality is case-insensitive, as in SOQL.

use super::{CheckCx, PlanCx, Transform, de_bool, parse};
use crate::dateformat::DateFormat;
use crate::error::Problem;
use crate::schema::{Field, FieldType, MAX_PRECISION, Schema, derived_date_fields};
use crate::source::SourceRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result as DFResult, ScalarValue};
use datafusion::functions::expr_fn as f;
use datafusion::functions_nested::expr_fn as nested;
use datafusion::logical_expr::{Expr, cast, ident, lit, try_cast};
use datafusion::prelude::DataFrame;
use serde::Deserialize;
use serde_json::Value;

pub const DEFAULT_CONNECTION: &str = "SFDC_LOCAL";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    object: String,
    #[serde(default)]
    connection_name: Option<String>,
    fields: Vec<DigestField>,
    #[serde(default)]
    filter_conditions: Vec<Value>,
    #[serde(default)]
    complex_filter_conditions: Option<String>,
    #[serde(default, deserialize_with = "de_bool")]
    #[allow(dead_code)] // a batch engine always reads the whole synced copy
    incremental: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DigestField {
    name: String,
    #[serde(default)]
    label: Option<String>,
    #[serde(default, rename = "type")]
    ty: Option<String>,
    #[serde(default)]
    default_value: Option<Value>,
    #[serde(default)]
    precision: Option<u8>,
    #[serde(default)]
    scale: Option<u8>,
    #[serde(default)]
    format: Option<String>,
    #[serde(default, deserialize_with = "de_bool")]
    is_multi_value: bool,
    #[serde(default)]
    multi_value_separator: Option<String>,
    #[serde(default)]
    fiscal_month_offset: Option<u8>,
    #[serde(default)]
    first_day_of_week: Option<i8>,
    #[serde(default)]
    is_year_end_fiscal_year: Option<bool>,
}

#[derive(Debug)]
pub struct Digest {
    params: Params,
    connection: String,
}

impl Digest {
    pub fn parse(node: &str, params: &Value, salesforce: bool) -> Result<Self, Problem> {
        let params: Params = parse(node, params)?;
        let connection = match (&params.connection_name, salesforce) {
            (Some(c), _) if !c.is_empty() => c.clone(),
            (_, true) => DEFAULT_CONNECTION.to_string(),
            (_, false) => return Err(Problem::new(node, "parameters.connectionName", "is required for a digest node")),
        };
        Ok(Digest { params, connection })
    }

    fn source_ref(&self) -> SourceRef {
        SourceRef::Object { connection: self.connection.clone(), object: self.params.object.clone() }
    }

    /// The output type of field `i` given its type in the source.
    fn field_type(&self, cx: &mut CheckCx, i: usize, source: FieldType) -> FieldType {
        let f = &self.params.fields[i];
        let path = format!("parameters.fields[{i}]");
        let mut ty = match f.ty.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None => source,
            Some("text") => FieldType::Text,
            Some("numeric") => FieldType::numeric(MAX_PRECISION, 0),
            Some("date") => FieldType::plain_date(),
            Some(other) => {
                cx.problem(format!("{path}.type"), format!("unknown type '{other}' (Text, Numeric or Date)"));
                source
            }
        };
        if f.is_multi_value {
            ty = FieldType::MultiValue;
        }
        if let FieldType::Numeric { precision, scale } = &mut ty {
            if let Some(p) = f.precision {
                if p == 0 || p > MAX_PRECISION {
                    cx.problem(format!("{path}.precision"), format!("must be between 1 and {MAX_PRECISION}"));
                } else {
                    *precision = p;
                }
            }
            if let Some(s) = f.scale {
                *scale = s;
            }
            if *scale > *precision {
                cx.problem(format!("{path}.scale"), "cannot be larger than the precision");
                *scale = *precision;
            }
        }
        if let FieldType::Date { format, fiscal_month_offset, is_year_end_fiscal_year, first_day_of_week } = &mut ty {
            if let Some(fmt) = &f.format {
                if let Err(e) = DateFormat::parse(fmt) {
                    cx.problem(format!("{path}.format"), e);
                }
                *format = Some(fmt.clone());
            }
            if let Some(o) = f.fiscal_month_offset {
                if o > 11 {
                    cx.problem(format!("{path}.fiscalMonthOffset"), "must be between 0 and 11");
                } else {
                    *fiscal_month_offset = o;
                }
            }
            if let Some(d) = f.first_day_of_week {
                // -1 means the default, Sunday
                *first_day_of_week = if (0..=6).contains(&d) { d as u8 } else { 0 };
            }
            if let Some(y) = f.is_year_end_fiscal_year {
                *is_year_end_fiscal_year = y;
            }
        }
        ty
    }
}

#[async_trait::async_trait]
impl Transform for Digest {
    fn inputs(&self) -> Vec<(String, String)> {
        vec![]
    }

    fn source(&self) -> Option<SourceRef> {
        Some(self.source_ref())
    }

    fn check(&self, cx: &mut CheckCx, _inputs: &[&Schema]) -> Option<Schema> {
        if self.params.fields.is_empty() {
            cx.problem("parameters.fields", "must list at least one field");
            return None;
        }
        let source = match cx.sources {
            Some(sources) => Some(sources.get(&self.source_ref())?.clone()),
            None => None,
        };
        let mut out = Schema::default();
        for (i, f) in self.params.fields.iter().enumerate() {
            let source_ty = match &source {
                Some(s) => match s.get(&f.name) {
                    Some(sf) => sf.ty.clone(),
                    None => {
                        cx.problem(
                            format!("parameters.fields[{i}].name"),
                            format!("{} in object '{}'", s.unknown_field(&f.name), self.params.object),
                        );
                        continue;
                    }
                },
                None => FieldType::Unknown,
            };
            if out.get(&f.name).is_some() {
                cx.problem(format!("parameters.fields[{i}].name"), format!("field '{}' is listed twice", f.name));
                continue;
            }
            let ty = self.field_type(cx, i, source_ty);
            if let Some(d) = &f.default_value
                && let Err(e) = default_literal(d, &ty)
            {
                cx.problem(format!("parameters.fields[{i}].defaultValue"), e);
            }
            let mut field = Field::new(f.name.clone(), ty.clone());
            field.label = f.label.clone();
            let companions = derived_date_fields(&field);
            out.fields.push(field.clone());
            if ty.is_date() {
                out.fields.extend(companions.into_iter().map(|(_, f)| f));
            } else if ty == FieldType::Unknown {
                // statically the field may turn out to be a date: accept its companions
                out.fields.extend(companions.into_iter().map(|(_, mut f)| {
                    f.ty = FieldType::Unknown;
                    f
                }));
            }
        }
        let probe = source.clone().unwrap_or_else(|| {
            let mut s = out.clone();
            s.open = true;
            s
        });
        for (i, c) in self.params.filter_conditions.iter().enumerate() {
            if let Err((path, msg)) = structured(c, &probe, cx.now_millis) {
                cx.problem(format!("parameters.filterConditions[{i}]{path}"), msg);
            }
        }
        if let Some(soql) = &self.params.complex_filter_conditions
            && !soql.trim().is_empty()
            && let Err(e) = check_soql(&super::soql::to_sql(soql, cx.now_millis))
        {
            cx.problem("parameters.complexFilterConditions", format!("not a valid condition: {e}"));
        }
        Some(out)
    }

    async fn plan(
        &self,
        cx: &PlanCx<'_>,
        _inputs: Vec<DataFrame>,
        _in: &[&Schema],
        out: &Schema,
    ) -> DFResult<DataFrame> {
        let source = self.source_ref();
        let mut df = cx
            .sources
            .get(&source)
            .cloned()
            .ok_or_else(|| DataFusionError::Plan(format!("{source} was not loaded")))?;
        let source_schema = df.schema().clone();
        let in_schema = Schema::new(
            source_schema
                .fields()
                .iter()
                .map(|f| Field::new(f.name().clone(), FieldType::from_arrow(f.data_type()).unwrap_or(FieldType::Text)))
                .collect(),
        );
        for c in &self.params.filter_conditions {
            let e = structured(c, &in_schema, cx.now_millis)
                .map_err(|(p, m)| DataFusionError::Plan(format!("{p}: {m}")))?;
            df = df.filter(e)?;
        }
        if let Some(soql) = &self.params.complex_filter_conditions
            && !soql.trim().is_empty()
        {
            let sql = super::soql::to_sql(soql, cx.now_millis);
            check_soql(&sql).map_err(|e| DataFusionError::Plan(format!("parameters.complexFilterConditions: {e}")))?;
            let known = |c: &str| df.schema().fields().iter().any(|f| f.name() == c);
            if let Some(missing) = super::soql::fields_of(&sql).into_iter().find(|c| !known(c)) {
                return Err(DataFusionError::Plan(format!(
                    "parameters.complexFilterConditions reads '{missing}', which the copy of {} does not hold \
                     (Salesforce resolves relationship fields itself: give the copy a column of that name)",
                    self.params.object
                )));
            }
            let e = df.parse_sql_expr(&sql)?;
            let e = super::soql::soql_semantics(e, df.schema())?;
            df = df.filter(e)?;
        }
        let mut exprs = Vec::new();
        for f in &self.params.fields {
            let target = out.get(&f.name).expect("checked").ty.clone();
            let source_ty = source_schema.field_with_unqualified_name(&f.name)?.data_type().clone();
            let mut e = convert(ident(f.name.as_str()), &source_ty, &target, f);
            if let Some(d) = &f.default_value {
                let d = default_literal(d, &target).map_err(DataFusionError::Plan)?;
                e = f::coalesce(vec![e, d]);
            }
            // a date's companions are computed where they are read or written (crate::dates)
            exprs.push(e.alias(f.name.as_str()));
        }
        df.select(exprs)
    }
}

/// Converts a source column to the field's declared kind.
fn convert(e: Expr, from: &DataType, to: &FieldType, f: &DigestField) -> Expr {
    match to {
        FieldType::MultiValue => {
            let sep = f.multi_value_separator.clone().unwrap_or_else(|| ";".to_string());
            let text = cast(e, DataType::Utf8);
            nested::string_to_array(text, lit(sep), lit(ScalarValue::Utf8(None)))
        }
        FieldType::Date { format: Some(fmt), .. }
            if matches!(from, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) =>
        {
            crate::saql::functions::Udf::ToDate.call(vec![cast(e, DataType::Utf8), lit(fmt.clone())])
        }
        FieldType::Numeric { .. } if matches!(from, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => {
            try_cast(e, DataType::Float64)
        }
        // numbers read as text keep their plain form: 100, not 100.0
        FieldType::Text if matches!(from, DataType::Float64) => {
            crate::saql::functions::to_text(e, &FieldType::numeric(MAX_PRECISION, 0))
        }
        FieldType::Text if matches!(from, DataType::Timestamp(..)) => {
            crate::saql::functions::to_text(e, &FieldType::plain_date())
        }
        other => {
            let t = other.run_type();
            if &t == from { e } else { cast(e, t) }
        }
    }
}

/// The literal of a `defaultValue` in the field's run type.
pub fn default_literal(v: &Value, ty: &FieldType) -> Result<Expr, String> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => return Ok(lit(ScalarValue::try_from(ty.run_type()).map_err(|e| e.to_string())?)),
        other => return Err(format!("must be a value, found {other}")),
    };
    Ok(match ty {
        FieldType::Numeric { .. } => lit(text
            .trim()
            .parse::<f64>()
            .map_err(|_| format!("'{text}' is not a number, but the field is Numeric"))?),
        FieldType::Date { .. } => {
            let ms = parse_date_value(&text)
                .ok_or_else(|| format!("'{text}' is not a date (use yyyy-MM-dd or ISO-8601)"))?;
            lit(ScalarValue::TimestampMillisecond(Some(ms), None))
        }
        FieldType::MultiValue => nested::make_array(vec![lit(text)]),
        _ => lit(text),
    })
}

/// A date written as text ([`swell_core::DateLiteral`]) in epoch milliseconds.
pub fn parse_date_value(s: &str) -> Option<i64> {
    swell_core::DateLiteral::parse(s).map(|d| d.millis())
}

/// A structured filter element as an expression; errors carry a path suffix.
fn structured(c: &Value, schema: &Schema, now_millis: i64) -> Result<Expr, (String, String)> {
    let obj = c.as_object().ok_or_else(|| (String::new(), "a filter condition is an object".to_string()))?;
    let op = obj
        .get("operator")
        .and_then(Value::as_str)
        .ok_or_else(|| (".operator".to_string(), "is missing".to_string()))?
        .to_ascii_uppercase();
    if op == "AND" || op == "OR" {
        let conds = obj
            .get("conditions")
            .and_then(Value::as_array)
            .ok_or_else(|| (".conditions".to_string(), format!("an {op} condition needs a conditions array")))?;
        let mut parts = Vec::new();
        for (i, inner) in conds.iter().enumerate() {
            parts.push(structured(inner, schema, now_millis).map_err(|(p, m)| (format!(".conditions[{i}]{p}"), m))?);
        }
        let combined = parts.into_iter().reduce(|a, b| if op == "AND" { a.and(b) } else { a.or(b) });
        return combined.ok_or_else(|| (".conditions".to_string(), "is empty".to_string()));
    }
    let field =
        obj.get("field").and_then(Value::as_str).ok_or_else(|| (".field".to_string(), "is missing".to_string()))?;
    let ty = schema.type_of(field).ok_or_else(|| (".field".to_string(), schema.unknown_field(field)))?;
    let quoted = obj.get("isQuoted").and_then(Value::as_bool).unwrap_or(false);
    // `list` holds an IN's values in one public definition
    let values: Vec<String> = match obj.get("value").or_else(|| obj.get("list")) {
        Some(Value::Array(a)) => a.iter().map(value_text).collect(),
        Some(v) => vec![value_text(v)],
        None => return Err((".value".to_string(), "is missing".to_string())),
    };
    // an IN's values written as one SOQL list, `('Draft','Open')` (a public definition)
    let values: Vec<String> = match values.as_slice() {
        [one] if (op == "IN" || op == "NOT IN") && one.trim().starts_with('(') && one.trim().ends_with(')') => {
            let inner = one.trim().trim_start_matches('(').trim_end_matches(')');
            soql_list(inner)
        }
        _ => values.into_iter().map(|v| if quoted { v.trim_matches('\'').to_string() } else { v }).collect(),
    };
    let column = ident(field);
    let text = matches!(ty, FieldType::Text | FieldType::Unknown | FieldType::MultiValue);
    let bad = |m: String| (".value".to_string(), m);
    let one = || values.first().cloned().ok_or_else(|| bad("needs a value".to_string()));
    match op.as_str() {
        "IN" | "NOT IN" => {
            let list = values
                .iter()
                .map(|v| typed_value(v, &ty, now_millis).map(|(lo, _)| lo))
                .collect::<Result<Vec<_>, _>>()
                .map_err(bad)?;
            let (c, list) =
                if text { (f::lower(column), list.into_iter().map(f::lower).collect()) } else { (column, list) };
            Ok(c.in_list(list, op == "NOT IN"))
        }
        "LIKE" => Ok(Expr::Like(datafusion::logical_expr::expr::Like::new(
            false,
            Box::new(column),
            Box::new(lit(one()?)),
            None,
            true,
        ))),
        "=" | "!=" | ">" | "<" | ">=" | "<=" => {
            let (lo, hi) = typed_value(&one()?, &ty, now_millis).map_err(bad)?;
            if text {
                let (c, v) = (f::lower(column), f::lower(lo));
                return Ok(match op.as_str() {
                    "=" => c.eq(v),
                    "!=" => c.not_eq(v),
                    ">" => c.gt(v),
                    "<" => c.lt(v),
                    ">=" => c.gt_eq(v),
                    _ => c.lt_eq(v),
                });
            }
            // a date literal covers [lo, hi); other values are points (hi = None)
            Ok(match (op.as_str(), hi) {
                ("=", Some(hi)) => column.clone().gt_eq(lo).and(column.lt(hi)),
                ("!=", Some(hi)) => column.clone().lt(lo).or(column.gt_eq(hi)),
                (">", Some(hi)) => column.gt_eq(hi),
                ("<=", Some(hi)) => column.lt(hi),
                ("=", None) => column.eq(lo),
                ("!=", None) => column.not_eq(lo),
                (">", None) => column.gt(lo),
                ("<=", None) => column.lt_eq(lo),
                (">=", _) => column.gt_eq(lo),
                _ => column.lt(lo),
            })
        }
        other => Err((
            ".operator".to_string(),
            format!("unknown operator '{other}' (=, !=, >, <, >=, <=, LIKE, IN, NOT IN, AND, OR)"),
        )),
    }
}

/// The items of a SOQL list body, `'a','b', c`: commas inside quotes are the item's.
fn soql_list(inner: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut item = String::new();
    let mut quoted = false;
    for c in inner.chars() {
        match c {
            '\'' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut item).trim().to_string()),
            _ => item.push(c),
        }
    }
    out.push(item.trim().to_string());
    out
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A filter value in the field's type; dates give the [start, end) of the day or literal.
fn typed_value(v: &str, ty: &FieldType, now_millis: i64) -> Result<(Expr, Option<Expr>), String> {
    let ts = |ms: i64| lit(ScalarValue::TimestampMillisecond(Some(ms), None));
    match ty {
        FieldType::Numeric { .. } => {
            v.trim().parse::<f64>().map(|n| (lit(n), None)).map_err(|_| format!("'{v}' is not a number"))
        }
        FieldType::Date { .. } => {
            if let Some((a, b)) = super::soql::date_literal(v, now_millis) {
                return Ok((ts(a), Some(ts(b))));
            }
            match swell_core::DateLiteral::parse(v) {
                Some(day @ swell_core::DateLiteral::Day(_)) => {
                    let start = day.millis();
                    Ok((ts(start), Some(ts(start + 86_400_000))))
                }
                Some(instant) => Ok((ts(instant.millis()), None)),
                None => Err(format!("'{v}' is not a date or a SOQL date literal")),
            }
        }
        _ => Ok((lit(v.to_string()), None)),
    }
}

/// Whether a digest's SOQL condition (as SQL) parses as a condition on the row's fields (see
/// [`crate::recipe::sql::parse_sql`]: no query, no placeholder, nothing left over).
fn check_soql(sql: &str) -> Result<(), String> {
    use datafusion::sql::sqlparser::ast::{Expr as SqlExpr, visit_expressions};
    let parsed = crate::recipe::sql::parse_sql(sql)?;
    // SOQL has no functions but its date ones, which `to_sql` made `date_part`, and its
    // checkboxes, compared with `lower(CAST(...))`; nor lists as values
    let mut refused = None;
    let _ = visit_expressions(&parsed, |e| {
        match e {
            SqlExpr::Function(f) => {
                let name = f.name.to_string().to_ascii_lowercase();
                if !["date_part", "lower"].contains(&name.as_str()) {
                    refused =
                        Some(format!("SOQL has no function {}() here (only CALENDAR_YEAR() and the like)", f.name));
                }
            }
            SqlExpr::Array(_) => refused = Some("SOQL has no lists as values".to_string()),
            _ => {}
        }
        if refused.is_some() { std::ops::ControlFlow::Break(()) } else { std::ops::ControlFlow::Continue(()) }
    });
    refused.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::soql_list;

    #[test]
    fn a_soql_list_in_one_value_is_its_items() {
        assert_eq!(soql_list("'Draft/Tentative','Open', 'A, B'"), ["Draft/Tentative", "Open", "A, B"]);
        assert_eq!(soql_list("1, 2"), ["1", "2"]);
    }
}
