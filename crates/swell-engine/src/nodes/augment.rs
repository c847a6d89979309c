//! augment: adds fields of a lookup stream (`right`) to every row of the driving stream
//! (`left`), matched on (composite) keys; each added field is named `<relationship>.<field>`.
//!
//! LookupSingleValue (the default) keeps the left row count and takes one matching right row
//! (deterministically the one whose selected values sort lowest). LookupMultiValue takes all
//! matches: text fields become multi-value (distinct values, sorted) and measures are summed.
//! A left row with a null key gets null dimensions and 0 for measures, as CRM Analytics
//! documents; a non-null key without a match gets nulls. A selected date brings its generated
//! columns along. One multi-value left key matches on any of its values ([`by_any_value`]); a
//! multi-value right key is found by any of its values (INFERRED, as for left keys: a public
//! org's augments chain LookupMultiValue results as right keys). A Numeric key paired with a
//! Text key matches by text (INFERRED, see [`text_pairs`]).

use super::lookup::{check_keys, join_right_build, key_expr, key_name, key_text, lookup, text_pairs};
use super::{CheckCx, OneOrMany, PlanCx, Transform};
use crate::schema::{Field, FieldType, Schema, mv_type};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result as DFResult;
use datafusion::functions_aggregate::expr_fn::{array_agg, min, sum};
use datafusion::functions_nested::expr_fn::array_sort;
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{Expr, ExprFunctionExt, JoinType, cast, ident, lit, when};
use datafusion::prelude::DataFrame;
use serde::Deserialize;

/// The name of a numeric left key's text form while joining (index appended).
const LEFT_TEXT_KEY: &str = "__swell_left_text_key";

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
        check_keys(cx, left, &lk, "parameters.left_key", right, &rk, "parameters.right_key", true);
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

    fn defers_companions(&self) -> bool {
        true
    }

    async fn plan(
        &self,
        _cx: &PlanCx<'_>,
        inputs: Vec<DataFrame>,
        in_schemas: &[&Schema],
        _out: &Schema,
    ) -> DFResult<DataFrame> {
        let mut inputs = inputs.into_iter();
        let (mut left, mut right) = (inputs.next().expect("left"), inputs.next().expect("right"));
        let multi = self.multi().unwrap_or(false);
        let (lk, mut rk) = self.keys();
        let selected = self.selected(in_schemas[1], multi);
        // a Numeric key paired with a Text key matches by text (see lookup::text_pairs); a left
        // key made text is a helper column, dropped at the end
        let mut join_lk = lk.clone();
        for i in text_pairs(in_schemas[0], &lk, in_schemas[1], &rk) {
            if in_schemas[0].type_of(&lk[i]).is_some_and(|t| t.is_numeric()) {
                join_lk[i] = format!("{LEFT_TEXT_KEY}{i}");
                let ty = in_schemas[0].type_of(&lk[i]).unwrap_or(FieldType::Unknown);
                left = left.with_column(&join_lk[i], key_text(ident(lk[i].as_str()), &ty))?;
            } else {
                let name = format!("__swell_right_text_key{i}");
                let ty = in_schemas[1].type_of(&rk[i]).unwrap_or(FieldType::Unknown);
                right = right.with_column(&name, key_text(ident(rk[i].as_str()), &ty))?;
                rk[i] = name;
            }
        }
        // a multi-value right key: each right row is found by any of its values
        let right = if rk.len() == 1 && in_schemas[1].type_of(&rk[0]) == Some(FieldType::MultiValue) {
            const RIGHT_VALUE: &str = "__swell_right_value";
            let unnested = right.with_column(RIGHT_VALUE, ident(rk[0].as_str()))?.unnest_columns(&[RIGHT_VALUE])?;
            rk = vec![RIGHT_VALUE.to_string()];
            unnested
        } else {
            right
        };
        let joined = if lk.len() == 1 && in_schemas[0].type_of(&lk[0]) == Some(FieldType::MultiValue) {
            by_any_value(left, right, &lk[0], &rk[0], &selected, multi)?
        } else if multi {
            let keys: Vec<Expr> = rk.iter().enumerate().map(|(i, k)| key_expr(&right, k).alias(key_name(i))).collect();
            let aggs: Vec<Expr> = selected
                .iter()
                .map(|(f, o)| over_matches(f, ident(f.name.as_str()), true).alias(o.name.as_str()))
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
            join_right_build(left, &join_lk, grouped, selected.iter().map(|(_, o)| o.name.clone()).collect())?
        } else {
            let cols = selected.iter().map(|(f, o)| (ident(f.name.as_str()), o.name.clone())).collect();
            lookup(left, &join_lk, right, &rk, cols)?
        };
        // null left keys: measures become 0 (CRM Analytics' documented rule)
        let null_key = lk.iter().map(|k| ident(k.as_str()).is_null()).reduce(Expr::or).unwrap_or(lit(false));
        let exprs: Vec<Expr> = joined
            .schema()
            .fields()
            .iter()
            .filter(|f| !f.name().starts_with(LEFT_TEXT_KEY))
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

/// The aggregate of a right field over the matches of one left row: LookupMultiValue's sum or
/// sorted distinct values, or LookupSingleValue's lowest value.
fn over_matches(f: &Field, c: Expr, multi: bool) -> Expr {
    let values = |e: Expr| {
        array_sort(array_agg(e).distinct().build().expect("distinct aggregate"), lit("ASC"), lit("NULLS LAST"))
    };
    match (multi, &f.ty) {
        (true, FieldType::Numeric { .. }) => sum(c),
        (true, FieldType::Date { .. }) => values(crate::saql::functions::to_text(c, &f.ty)),
        // a multi-value field's values join the others' (one list, never lists of lists)
        (true, FieldType::MultiValue) => array_sort(
            datafusion::functions_nested::expr_fn::array_distinct(datafusion::functions_nested::expr_fn::flatten(
                array_agg(c),
            )),
            lit("ASC"),
            lit("NULLS LAST"),
        ),
        (true, _) => values(cast(c, DataType::Utf8)),
        (false, _) => min(c),
    }
}

/// A multi-value left key (a flatten's list of ancestors: Salesforce's own Global Market
/// templates augment on one) matches the right rows whose key equals any of its values.
/// LookupMultiValue gathers all of them; LookupSingleValue takes, field by field, the lowest
/// value among them. INFERRED: CRM Analytics documents multi-value keys only by such
/// templates; matching any value is what they need (security predicates over hierarchies).
fn by_any_value(
    left: DataFrame,
    right: DataFrame,
    key: &str,
    right_key: &str,
    selected: &[(Field, Field)],
    multi: bool,
) -> DFResult<DataFrame> {
    const ROW: &str = "__swell_row";
    const MATCHED_ROW: &str = "__swell_matched_row";
    const VALUE: &str = "__swell_value";
    let left_names: Vec<String> = left.schema().fields().iter().map(|f| f.name().clone()).collect();
    let left = left.window(vec![row_number().alias(ROW)])?;
    let values = left.clone().select(vec![ident(ROW), ident(key).alias(VALUE)])?.unnest_columns(&[VALUE])?;
    let mut right_cols = vec![ident(right_key).alias(key_name(0))];
    right_cols.extend(selected.iter().map(|(f, o)| ident(f.name.as_str()).alias(o.name.as_str())));
    let right = right.select(right_cols)?.filter(ident(key_name(0)).is_not_null())?;
    let matched = right.join_on(values, JoinType::Inner, vec![ident(key_name(0)).eq(ident(VALUE))])?;
    let aggs: Vec<Expr> =
        selected.iter().map(|(f, o)| over_matches(f, ident(o.name.as_str()), multi).alias(o.name.as_str())).collect();
    let per_row = matched.aggregate(vec![ident(ROW).alias(MATCHED_ROW)], aggs)?;
    let per_row = per_row.select(
        std::iter::once(ident(MATCHED_ROW))
            .chain(selected.iter().map(|(f, o)| {
                let c = ident(o.name.as_str());
                let c = if multi && !f.ty.is_numeric() { cast(c, mv_type()) } else { c };
                c.alias(o.name.as_str())
            }))
            .collect::<Vec<_>>(),
    )?;
    let joined = per_row.join_on(left, JoinType::Right, vec![ident(MATCHED_ROW).eq(ident(ROW))])?;
    joined.select(
        left_names
            .iter()
            .map(|n| ident(n.as_str()))
            .chain(selected.iter().map(|(_, o)| ident(o.name.as_str())))
            .collect::<Vec<_>>(),
    )
}
