//! The generated companion columns of date fields (`X_Year`, `X_Month`, `X_sec_epoch`, ...),
//! which CRM Analytics adds when a date enters a dataflow and which later nodes can use like
//! any field (`toDate(CloseDate_sec_epoch)`).
//!
//! They are in every schema from the node that makes the date on, but computed late: a node's
//! rows may leave out companions of a date they hold, and [`complete`] computes them where a
//! node names them or the rows are written (see [`crate::run`]). Ten columns, eight of them
//! text, would otherwise be carried through every join, sort and window in between.

use crate::saql::functions::Udf;
use crate::schema::{DatePart, Field, FieldType, Schema, derived_date_fields};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result as DFResult;
use datafusion::logical_expr::{Expr, cast, ident, lit};
use datafusion::prelude::DataFrame;

/// The expression of one companion column of date column `base`, computed from the column
/// (companions are computed where they are needed, from the date the rows hold).
pub fn companion_expr(base: &Field, part: DatePart) -> Expr {
    let column = ident(base.name.as_str());
    let millis = cast(column.clone(), DataType::Int64);
    match part {
        // whole seconds, floored as days are: 23:59:59.999 is still that second, that day
        DatePart::SecEpoch => datafusion::functions::expr_fn::floor(cast(millis, DataType::Float64) / lit(1000.0)),
        DatePart::DayEpoch => {
            datafusion::functions::expr_fn::floor(cast(millis, DataType::Float64) / lit(86_400_000.0))
        }
        _ => {
            let (offset, year_end, fdow) = match &base.ty {
                FieldType::Date { fiscal_month_offset, is_year_end_fiscal_year, first_day_of_week, .. } => {
                    (*fiscal_month_offset, *is_year_end_fiscal_year, *first_day_of_week)
                }
                _ => (0, true, 0),
            };
            Udf::DatePart.call(vec![
                column,
                lit(part.suffix()),
                lit(offset as f64),
                lit(if year_end { 1.0 } else { 0.0 }),
                lit(fdow as f64),
            ])
        }
    }
}

/// Adds the missing companion columns of every date field, right after it.
pub fn with_companions(df: DataFrame, schema: Schema) -> DFResult<(DataFrame, Schema)> {
    let needs = schema
        .fields
        .iter()
        .any(|f| f.ty.is_date() && derived_date_fields(f).iter().any(|(_, d)| !schema.contains(&d.name)));
    if !needs {
        return Ok((df, schema));
    }
    let mut exprs = Vec::new();
    let mut fields = Vec::new();
    for f in &schema.fields {
        if f.derived_from.is_some()
            && schema.get(f.derived_from.as_deref().unwrap_or_default()).is_some_and(|b| b.ty.is_date())
        {
            continue; // re-added below with its base
        }
        exprs.push(ident(f.name.as_str()));
        fields.push(f.clone());
        if f.ty.is_date() {
            for (part, d) in derived_date_fields(f) {
                match schema.get(&d.name) {
                    Some(existing) if existing.derived_from.is_some() || !matches!(existing.ty, FieldType::Unknown) => {
                        exprs.push(ident(d.name.as_str()));
                        fields.push(Field { derived_from: Some(f.name.clone()), ..existing.clone() });
                    }
                    _ => {
                        exprs.push(companion_expr(f, part).alias(d.name.as_str()));
                        fields.push(d);
                    }
                }
            }
        }
    }
    // plain columns that merely look like companions of a non-date keep their place
    for f in &schema.fields {
        if !fields.iter().any(|x| x.name == f.name) {
            exprs.push(ident(f.name.as_str()));
            fields.push(f.clone());
        }
    }
    Ok((df.select(exprs)?, Schema::new(fields)))
}

/// `df` with the fields of `schema` it lacks that `compute` picks, each a companion of a date
/// `df` holds, computed from that date, in `schema`'s order. Missing fields left out by
/// `compute` stay out; `df` is returned unchanged when there is nothing to compute.
pub fn complete(df: DataFrame, schema: &Schema, compute: impl Fn(&Field) -> bool) -> DFResult<DataFrame> {
    let present: std::collections::HashSet<String> = df.schema().fields().iter().map(|f| f.name().clone()).collect();
    if !schema.fields.iter().any(|f| !present.contains(&f.name) && compute(f)) {
        return Ok(df);
    }
    let mut exprs = Vec::new();
    for f in &schema.fields {
        if present.contains(&f.name) {
            exprs.push(ident(f.name.as_str()));
            continue;
        }
        if !compute(f) {
            continue;
        }
        let base = f.derived_from.as_deref().and_then(|b| schema.get(b)).filter(|b| b.ty.is_date());
        let part = base
            .filter(|b| present.contains(&b.name))
            .and_then(|b| derived_date_fields(b).into_iter().find(|(_, d)| d.name == f.name).map(|(p, _)| (b, p)));
        match part {
            Some((b, p)) => exprs.push(companion_expr(b, p).alias(f.name.as_str())),
            None => {
                return Err(datafusion::error::DataFusionError::Internal(format!(
                    "the field '{}' is missing from the rows and is no companion of a date they hold",
                    f.name
                )));
            }
        }
    }
    df.select(exprs)
}

/// The fields of `schema` that `df` leaves out (companions to be computed later).
pub fn deferred(df: &DataFrame, schema: &Schema) -> Vec<String> {
    let present: std::collections::HashSet<&str> = df.schema().fields().iter().map(|f| f.name().as_str()).collect();
    schema.fields.iter().filter(|f| !present.contains(f.name.as_str())).map(|f| f.name.clone()).collect()
}

/// Companion fields for a new date field (schema only, for checking).
pub fn companion_fields(base: &Field) -> Vec<Field> {
    derived_date_fields(base).into_iter().map(|(_, f)| f).collect()
}
