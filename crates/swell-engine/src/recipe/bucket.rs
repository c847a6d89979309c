//! bucket: maps the values of a field to bucket values, one new field per entry of
//! `fields: [{name, label?, type?, bucketsSetup: {sourceField: {name, type?}, buckets: [...],
//! defaultBucketValue?, nullBucketValue?, isPassThroughEnabled?}}]`. A bucket is one of the
//! three forms of the Recipe REST API:
//!
//! - a value list, `{value, sourceValues: [...]}` (dimension buckets): values compare as text,
//!   so a numeric or date source matches `sourceValues` written as they print (`"5"`,
//!   `"2024-01-31"`);
//! - a number range, `{value, rangeStart, rangeEnd}` (measure buckets): `rangeStart <= x <
//!   rangeEnd`, so adjacent ranges sharing a bound do not overlap; a missing or null bound is
//!   open. INFERRED: the API documents the fields, not whether the ends are inclusive; this is
//!   the half-open rule Data Prep's range editor implies ("0 to 1000", "1000 to 5000");
//! - a date range, `{value, rangeStart: {type, argument}, rangeEnd: {type, argument}}`:
//!   `AbsoluteDate` takes epoch milliseconds; `Days`, `Weeks` (Sunday first, as the engine's
//!   other weeks), `Months`, `Quarters` and `Years` count periods from the run's clock (0 is
//!   the current period, -1 the previous one), as CRM Analytics' relative date ranges do. The
//!   range runs from the start of the start bound's period to the end of the end bound's
//!   period (the end of the day for an `AbsoluteDate`). `FiscalQuarters` and `FiscalYears` are
//!   refused: a recipe names no fiscal calendar swell can read.
//!
//! For each row: a null source gives `nullBucketValue` (null when unset); otherwise the first
//! bucket that holds the value gives its `value`; any other value gives itself when
//! `isPassThroughEnabled`, else `defaultBucketValue` (null when unset). The new field is
//! text, or a number when `type` is NUMBER. Typographic clustering (`algorithm`) is refused
//! naming the node: it is a fuzzy text-matching algorithm whose parameters do not fix its
//! results.

use super::enum_eq;
use super::formula::set_fields;
#[cfg(test)]
use super::relative::Grain;
use super::relative::{DateBound, date_bound};
use crate::error::Problem;
use crate::nodes::{CheckCx, PlanCx, Transform, parse};
use crate::schema::{Field, FieldType, Schema};
use chrono::NaiveDate;
use datafusion::common::{Result as DFResult, ScalarValue};
use datafusion::logical_expr::{Expr, ident, lit, try_cast, when};
use datafusion::prelude::DataFrame;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
struct Params {
    fields: Vec<BucketField>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BucketField {
    name: String,
    #[serde(default)]
    label: Option<String>,
    #[serde(default, rename = "type")]
    ty: Option<String>,
    buckets_setup: Setup,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Setup {
    source_field: SourceField,
    #[serde(default)]
    buckets: Vec<RawBucket>,
    #[serde(default)]
    default_bucket_value: Option<Value>,
    #[serde(default)]
    null_bucket_value: Option<Value>,
    /// The API documents `isPassThroughEnabled`; files written by the UI say
    /// `isPassthroughEnabled`.
    #[serde(default, alias = "isPassThroughEnabled")]
    is_passthrough_enabled: Option<bool>,
    #[serde(default)]
    algorithm: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct SourceField {
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBucket {
    value: Value,
    #[serde(default)]
    source_values: Vec<Value>,
    #[serde(default)]
    range_start: Option<Value>,
    #[serde(default)]
    range_end: Option<Value>,
}

/// What a bucket holds.
#[derive(Debug, Clone, PartialEq)]
enum Rule {
    Values(Vec<String>),
    Numbers { start: Option<f64>, end: Option<f64> },
    Dates { start: Option<DateBound>, end: Option<DateBound> },
}

/// A JSON scalar as the text it compares as; null stays null.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// A range bound: absent or null is open; a number, or a string holding one.
fn number_bound(v: &Option<Value>) -> Result<Option<f64>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| format!("'{s}' is not a number")),
        Some(other) => Err(format!("{other} is not a number")),
    }
}

impl RawBucket {
    fn rule(&self) -> Result<Rule, (&'static str, String)> {
        let ranged = self.range_start.is_some() || self.range_end.is_some();
        if !ranged {
            return Ok(Rule::Values(self.source_values.iter().filter_map(text).collect()));
        }
        if !self.source_values.is_empty() {
            return Err(("sourceValues", "a bucket lists values or a range, not both".into()));
        }
        let is_date = |v: &Option<Value>| v.as_ref().is_some_and(Value::is_object);
        if is_date(&self.range_start) || is_date(&self.range_end) {
            let start = date_bound(&self.range_start).map_err(|e| ("rangeStart", e))?;
            let end = date_bound(&self.range_end).map_err(|e| ("rangeEnd", e))?;
            return Ok(Rule::Dates { start, end });
        }
        let start = number_bound(&self.range_start).map_err(|e| ("rangeStart", e))?;
        let end = number_bound(&self.range_end).map_err(|e| ("rangeEnd", e))?;
        if let (Some(s), Some(e)) = (start, end)
            && s >= e
        {
            return Err(("rangeEnd", format!("{e} is not above rangeStart {s}")));
        }
        Ok(Rule::Numbers { start, end })
    }
}

#[derive(Debug)]
struct Bucket {
    value: Option<String>,
    rule: Rule,
}

#[derive(Debug)]
struct Spec {
    field: BucketField,
    ty: FieldType,
    buckets: Vec<Bucket>,
}

#[derive(Debug)]
pub struct BucketNode {
    sources: Vec<String>,
    fields: Vec<Spec>,
}

impl BucketNode {
    pub fn parse(node: &str, params: &Value, sources: &[String]) -> Result<BucketNode, Vec<Problem>> {
        let p: Params = parse(node, params).map_err(|p| vec![p])?;
        let mut problems = Vec::new();
        if p.fields.is_empty() {
            problems.push(Problem::new(node, "parameters.fields", "must list at least one field"));
        }
        let mut fields = Vec::new();
        for (i, f) in p.fields.into_iter().enumerate() {
            let at = format!("parameters.fields[{i}]");
            if f.buckets_setup.algorithm.as_ref().is_some_and(|a| !a.is_null()) {
                problems.push(Problem::new(
                    node,
                    format!("{at}.bucketsSetup.algorithm"),
                    "typographic clustering is not supported: list the values of each bucket in sourceValues",
                ));
            }
            let ty = match f.ty.as_deref() {
                None => FieldType::Text,
                Some(t) if enum_eq(t, "TEXT") || enum_eq(t, "DIMENSION") => FieldType::Text,
                Some(t) if enum_eq(t, "NUMBER") || enum_eq(t, "MEASURE") => {
                    FieldType::numeric(crate::schema::MAX_PRECISION, crate::schema::DEFAULT_FLOAT_SCALE)
                }
                Some(t) => {
                    problems.push(Problem::new(node, format!("{at}.type"), format!("'{t}' is not TEXT or NUMBER")));
                    continue;
                }
            };
            let mut buckets = Vec::new();
            for (j, b) in f.buckets_setup.buckets.iter().enumerate() {
                let bat = format!("{at}.bucketsSetup.buckets[{j}]");
                if ty.is_numeric() && text(&b.value).is_some_and(|v| v.trim().parse::<f64>().is_err()) {
                    problems.push(Problem::new(
                        node,
                        format!("{bat}.value"),
                        format!("'{}' is not a number, and the field is NUMBER", text(&b.value).unwrap_or_default()),
                    ));
                }
                match b.rule() {
                    Ok(rule) => buckets.push(Bucket { value: text(&b.value), rule }),
                    Err((key, message)) => problems.push(Problem::new(node, format!("{bat}.{key}"), message)),
                }
            }
            fields.push(Spec { field: f, ty, buckets });
        }
        if problems.is_empty() { Ok(BucketNode { sources: sources.to_vec(), fields }) } else { Err(problems) }
    }

    fn expr(&self, spec: &Spec, source_ty: &FieldType, now_millis: i64) -> DFResult<Expr> {
        let (f, ty) = (&spec.field, &spec.ty);
        let setup = &f.buckets_setup;
        let source = ident(setup.source_field.name.as_str());
        let as_text = crate::saql::functions::to_text(source.clone(), source_ty);
        let value = |v: Option<&str>| -> Expr {
            match (v, ty.is_numeric()) {
                (None, true) => lit(ScalarValue::Float64(None)),
                (None, false) => lit(ScalarValue::Utf8(None)),
                (Some(s), true) => lit(s.trim().parse::<f64>().unwrap_or_default()),
                (Some(s), false) => lit(s),
            }
        };
        let today = crate::dateformat::from_millis(now_millis).map(|d| d.date()).unwrap_or_default();
        let day_millis = |d: NaiveDate| {
            lit(ScalarValue::TimestampMillisecond(
                Some(crate::dateformat::to_millis(&d.and_hms_opt(0, 0, 0).expect("midnight"))),
                None,
            ))
        };
        let mut case =
            when(source.clone().is_null(), value(setup.null_bucket_value.as_ref().and_then(text).as_deref()));
        for b in &spec.buckets {
            let holds = match &b.rule {
                Rule::Values(listed) if listed.is_empty() => continue,
                Rule::Values(listed) => {
                    as_text.clone().in_list(listed.iter().map(|v| lit(v.as_str())).collect(), false)
                }
                Rule::Numbers { start, end } => {
                    let lower = start.map(|s| source.clone().gt_eq(lit(s)));
                    let upper = end.map(|e| source.clone().lt(lit(e)));
                    lower.into_iter().chain(upper).reduce(Expr::and).unwrap_or(lit(true))
                }
                Rule::Dates { start, end } => {
                    // a bound outside chrono's calendar matches nothing on that side
                    let lower = start.map(|s| match s.period_start(today) {
                        Some(d) => source.clone().gt_eq(day_millis(d)),
                        None => lit(false),
                    });
                    let upper = end.map(|e| match e.period_end(today) {
                        Some(d) => source.clone().lt(day_millis(d)),
                        None => lit(false),
                    });
                    lower.into_iter().chain(upper).reduce(Expr::and).unwrap_or(lit(true))
                }
            };
            case = case.when(holds, value(b.value.as_deref()));
        }
        let other = if setup.is_passthrough_enabled.unwrap_or(false) {
            if ty.is_numeric() { try_cast(as_text, ty.run_type()) } else { as_text }
        } else {
            value(setup.default_bucket_value.as_ref().and_then(text).as_deref())
        };
        case.otherwise(other)
    }
}

#[async_trait::async_trait]
impl Transform for BucketNode {
    fn inputs(&self) -> Vec<(String, String)> {
        super::inputs(&self.sources)
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        let input = inputs[0];
        let mut out = input.clone();
        for (i, spec) in self.fields.iter().enumerate() {
            let f = &spec.field;
            let source = &f.buckets_setup.source_field.name;
            let at = format!("parameters.fields[{i}].bucketsSetup.sourceField.name");
            if cx.require_field(input, source, at.clone()) {
                let source_ty = input.type_of(source).unwrap_or(FieldType::Unknown);
                if source_ty == FieldType::MultiValue {
                    cx.problem(at.clone(), format!("'{source}' is multi-value; bucket a text, number or date field"));
                }
                for (j, b) in spec.buckets.iter().enumerate() {
                    let wrong = match (&b.rule, &source_ty) {
                        (_, FieldType::Unknown) | (Rule::Values(_), _) => None,
                        (Rule::Numbers { .. }, FieldType::Numeric { .. }) => None,
                        (Rule::Dates { .. }, FieldType::Date { .. }) => None,
                        (Rule::Numbers { .. }, _) => Some("a number range"),
                        (Rule::Dates { .. }, _) => Some("a date range"),
                    };
                    if let Some(what) = wrong {
                        cx.problem(
                            format!("parameters.fields[{i}].bucketsSetup.buckets[{j}]"),
                            format!("{what} cannot hold '{source}', which is {}", source_ty.kind_name()),
                        );
                    }
                }
            }
            if out.get(&f.name).is_some() {
                cx.problem(format!("parameters.fields[{i}].name"), format!("'{}' already exists", f.name));
            }
            out.push(Field::labelled(f.name.clone(), f.label.clone(), spec.ty.clone()));
        }
        Some(out)
    }

    async fn plan(
        &self,
        cx: &PlanCx<'_>,
        mut inputs: Vec<DataFrame>,
        in_schemas: &[&Schema],
        _out: &Schema,
    ) -> DFResult<DataFrame> {
        let mut new = Vec::new();
        for spec in &self.fields {
            let source_ty =
                in_schemas[0].type_of(&spec.field.buckets_setup.source_field.name).unwrap_or(FieldType::Text);
            new.push((self.expr(spec, &source_ty, cx.now_millis)?, spec.field.name.clone()));
        }
        set_fields(inputs.remove(0), in_schemas[0], new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn relative_date_bounds_name_whole_periods() {
        let today = day("2024-05-15"); // a Wednesday
        let b = |grain, argument| DateBound { grain, argument };
        assert_eq!(b(Grain::Days, -1).period_start(today), Some(day("2024-05-14")));
        assert_eq!(b(Grain::Days, -1).period_end(today), Some(day("2024-05-15")));
        assert_eq!(b(Grain::Weeks, 0).period_start(today), Some(day("2024-05-12")), "weeks start on Sunday");
        assert_eq!(b(Grain::Weeks, 0).period_end(today), Some(day("2024-05-19")));
        assert_eq!(b(Grain::Months, -1).period_start(today), Some(day("2024-04-01")));
        assert_eq!(b(Grain::Months, -1).period_end(today), Some(day("2024-05-01")));
        assert_eq!(b(Grain::Quarters, -2).period_start(today), Some(day("2023-10-01")));
        assert_eq!(b(Grain::Quarters, 1).period_end(today), Some(day("2024-10-01")));
        assert_eq!(b(Grain::Years, -1).period_start(today), Some(day("2023-01-01")));
        assert_eq!(b(Grain::Years, 0).period_end(today), Some(day("2025-01-01")));
        // 2024-03-10T12:00:00Z: an absolute bound is its whole (UTC) day
        let abs = b(Grain::Absolute, 1_710_072_000_000);
        assert_eq!(abs.period_start(today), Some(day("2024-03-10")));
        assert_eq!(abs.period_end(today), Some(day("2024-03-11")));
        assert_eq!(b(Grain::Years, i64::MAX).period_start(today), None, "out of the calendar, not a panic");
    }

    #[test]
    fn a_bucket_is_values_or_a_range() {
        let parse = |v: Value| serde_json::from_value::<RawBucket>(v).unwrap().rule();
        assert_eq!(
            parse(serde_json::json!({"value": "Low", "rangeStart": 0, "rangeEnd": "1000"})),
            Ok(Rule::Numbers { start: Some(0.0), end: Some(1000.0) })
        );
        assert_eq!(
            parse(serde_json::json!({"value": "Big", "rangeStart": 1000, "rangeEnd": null})),
            Ok(Rule::Numbers { start: Some(1000.0), end: None })
        );
        assert_eq!(parse(serde_json::json!({"value": "x", "rangeStart": 5, "rangeEnd": 5})).unwrap_err().0, "rangeEnd");
        assert!(
            parse(serde_json::json!({"value": "x", "rangeStart": {"type": "FiscalYears", "argument": 0}}))
                .unwrap_err()
                .1
                .contains("fiscal calendar")
        );
        assert_eq!(
            parse(serde_json::json!({"value": "Last month", "rangeStart": {"type": "MONTHS", "argument": -1},
                "rangeEnd": {"type": "Months", "argument": "-1"}})),
            Ok(Rule::Dates {
                start: Some(DateBound { grain: Grain::Months, argument: -1 }),
                end: Some(DateBound { grain: Grain::Months, argument: -1 })
            })
        );
    }
}
