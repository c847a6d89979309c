//! augment: adds fields of a lookup stream (`right`) to every row of the driving stream
//! (`left`), matched on (composite) keys; each added field is named `<relationship>.<field>`.
//!
//! LookupSingleValue (the default) keeps the left row count and takes one matching right row
//! (deterministically the one whose selected values sort lowest). LookupMultiValue takes all
//! matches: text fields become multi-value (distinct values, sorted) and measures are summed.
//! A left row with a null key gets null dimensions and 0 for measures, as CRM Analytics
//! documents; a non-null key without a match gets nulls. A selected date brings its generated
//! columns along.

use super::lookup::{check_keys, join_right_build, key_name, lookup};
use super::{CheckCx, OneOrMany, PlanCx, Transform};
use crate::schema::{Field, FieldType, Schema, mv_type};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result as DFResult;
use datafusion::functions_aggregate::expr_fn::{array_agg, sum};
use datafusion::functions_nested::expr_fn::array_sort;
use datafusion::logical_expr::{Expr, ExprFunctionExt, cast, ident, lit, when};
use datafusion::prelude::DataFrame;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Augment {
    left: String,
    right: String,
    left_key: OneOrMany,
    right_key: OneOrMany,
    right_select: OneOrMany,
    relationship: String,
    #[serde(default)]
    operation: Option<String>,
}

impl Augment {
    fn multi(&self) -> Result<bool, String> {
        match self.operation.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("lookupsinglevalue") => Ok(false),
            Some("lookupmultivalue") => Ok(true),
            Some(other) => Err(format!("unknown operation '{other}' (LookupSingleValue or LookupMultiValue)")),
        }
    }

    fn keys(&self) -> (Vec<String>, Vec<String>) {
        (self.left_key.clone().into_vec(), self.right_key.clone().into_vec())
    }

    /// (right field, output field) for every selected field and the companions of dates.
    fn selected(&self, right: &Schema, multi: bool) -> Vec<(Field, Field)> {
        let mut out = Vec::new();
        for name in self.right_select.clone().into_vec() {
            let fields: Vec<Field> = if right.open {
                vec![Field::new(name.clone(), FieldType::Unknown)]
            } else {
                right.with_companions(&name).into_iter().cloned().collect()
            };
            for f in fields {
                if multi && f.derived_from.is_some() {
                    continue;
                }
                let mut o = f.clone();
                o.name = format!("{}.{}", self.relationship, f.name);
                o.derived_from = f.derived_from.as_ref().map(|d| format!("{}.{d}", self.relationship));
                o.label = Some(format!("{}.{}", self.relationship, f.label()));
                if multi {
                    o.ty = match f.ty {
                        FieldType::Numeric { .. } | FieldType::Unknown => f.ty.clone(),
                        _ => FieldType::MultiValue,
                    };
                }
                out.push((f, o));
            }
        }
        out
    }
}

#[async_trait::async_trait]
impl Transform for Augment {
    fn inputs(&self) -> Vec<(String, String)> {
        vec![("parameters.left".into(), self.left.clone()), ("parameters.right".into(), self.right.clone())]
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        let (left, right) = (inputs[0], inputs[1]);
        let multi = match self.multi() {
            Ok(m) => m,
            Err(e) => {
                cx.problem("parameters.operation", e);
                false
            }
        };
        if self.relationship.trim().is_empty() {
            cx.problem("parameters.relationship", "must not be empty");
        }
        let (lk, rk) = self.keys();
        check_keys(cx, left, &lk, "parameters.left_key", right, &rk, "parameters.right_key");
        let select = self.right_select.clone().into_vec();
        if select.is_empty() {
            cx.problem("parameters.right_select", "must list at least one field");
        }
        for (i, name) in select.iter().enumerate() {
            if !right.contains(name) {
                cx.problem(format!("parameters.right_select[{i}]"), right.unknown_field(name));
            }
        }
        let mut out = left.clone();
        for (_, o) in self.selected(right, multi) {
            if left.get(&o.name).is_some() {
                cx.problem(
                    "parameters.relationship",
                    format!("field '{}' already exists in the left stream; choose another relationship", o.name),
                );
                continue;
            }
            out.fields.push(o);
        }
        out.open = left.open;
        Some(out)
    }

    async fn plan(
        &self,
        _cx: &PlanCx<'_>,
        inputs: Vec<DataFrame>,
        in_schemas: &[&Schema],
        _out: &Schema,
    ) -> DFResult<DataFrame> {
        let mut inputs = inputs.into_iter();
        let (left, right) = (inputs.next().expect("left"), inputs.next().expect("right"));
        let multi = self.multi().unwrap_or(false);
        let (lk, rk) = self.keys();
        let selected = self.selected(in_schemas[1], multi);
        let joined = if multi {
            let keys: Vec<Expr> = rk.iter().enumerate().map(|(i, k)| ident(k.as_str()).alias(key_name(i))).collect();
            let aggs: Vec<Expr> = selected
                .iter()
                .map(|(f, o)| {
                    let c = ident(f.name.as_str());
                    let agg = match f.ty {
                        FieldType::Numeric { .. } => sum(c),
                        FieldType::Date { .. } => array_sort(
                            array_agg(crate::saql::functions::to_text(c, &f.ty))
                                .distinct()
                                .build()
                                .expect("distinct aggregate"),
                            lit("ASC"),
                            lit("NULLS LAST"),
                        ),
                        _ => array_sort(
                            array_agg(cast(c, DataType::Utf8)).distinct().build().expect("distinct aggregate"),
                            lit("ASC"),
                            lit("NULLS LAST"),
                        ),
                    };
                    agg.alias(o.name.as_str())
                })
                .collect();
            let notnull =
                (0..rk.len()).map(|i| ident(key_name(i)).is_not_null()).reduce(Expr::and).unwrap_or(lit(true));
            let grouped = right.aggregate(keys, aggs)?.filter(notnull)?;
            let grouped = grouped.select(
                (0..rk.len())
                    .map(|i| ident(key_name(i)))
                    .chain(selected.iter().map(|(f, o)| {
                        let c = ident(o.name.as_str());
                        let c = if f.ty.is_numeric() { c } else { cast(c, mv_type()) };
                        c.alias(o.name.as_str())
                    }))
                    .collect::<Vec<_>>(),
            )?;
            join_right_build(left, &lk, grouped, selected.iter().map(|(_, o)| o.name.clone()).collect())?
        } else {
            let cols = selected.iter().map(|(f, o)| (ident(f.name.as_str()), o.name.clone())).collect();
            lookup(left, &lk, right, &rk, cols)?
        };
        // null left keys: measures become 0 (CRM Analytics' documented rule)
        let null_key = lk.iter().map(|k| ident(k.as_str()).is_null()).reduce(Expr::or).unwrap_or(lit(false));
        let exprs: Vec<Expr> = joined
            .schema()
            .fields()
            .iter()
            .map(|f| {
                let name = f.name().as_str();
                let measure = selected.iter().any(|(s, o)| o.name == name && s.ty.is_numeric());
                if measure {
                    when(null_key.clone(), lit(0.0)).otherwise(ident(name)).expect("when").alias(name)
                } else {
                    ident(name)
                }
            })
            .collect();
        joined.select(exprs)
    }
}
