//! The keyed lookup shared by augment and update: every left row is kept and gets at most one
//! matching right row.
//!
//! The right side is reduced to one row per key first (the row whose selected values sort
//! lowest, so the choice is deterministic; found by swell's neighbours operator, see
//! compute_relative/neighbours.rs), then hash-joined with the right side as the build
//! side: the compiler pins the build side itself instead of trusting DataFusion's file
//! statistics, which picked the 10M-row side in measurements (3.7x slower; see
//! spec/dependencies.md). Null keys never match; empty strings match empty strings.

use super::compute_relative::neighbours;
use crate::schema::Schema;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result as DFResult;
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{Expr, ExprFunctionExt, JoinType, ident, lit};
use datafusion::prelude::DataFrame;

/// Name of the i-th right key column while joining.
pub fn key_name(i: usize) -> String {
    format!("__swell_key{i}")
}

/// Checks that key lists pair up and name existing fields of compatible kinds. With
/// `augment` (augment's rules): one multi-value key is allowed (it matches on any of its
/// values), and a Numeric key may pair with a Text key (they match by text, see
/// [`text_pairs`]).
#[allow(clippy::too_many_arguments)]
pub fn check_keys(
    cx: &mut super::CheckCx,
    left: &Schema,
    left_keys: &[String],
    left_path: &str,
    right: &Schema,
    right_keys: &[String],
    right_path: &str,
    augment: bool,
) -> bool {
    let mut ok = true;
    if left_keys.is_empty() {
        cx.problem(left_path, "must list at least one key field");
        ok = false;
    }
    if left_keys.len() != right_keys.len() {
        cx.problem(
            right_path,
            format!("has {} key field(s) but the left side has {}", right_keys.len(), left_keys.len()),
        );
        return false;
    }
    for (i, (l, r)) in left_keys.iter().zip(right_keys).enumerate() {
        let lt = left.type_of(l);
        let rt = right.type_of(r);
        if lt.is_none() {
            cx.problem(format!("{left_path}[{i}]"), left.unknown_field(l));
            ok = false;
        }
        if rt.is_none() {
            cx.problem(format!("{right_path}[{i}]"), right.unknown_field(r));
            ok = false;
        }
        if let (Some(lt), Some(rt)) = (lt, rt) {
            use crate::schema::FieldType::{MultiValue, Unknown};
            // augment's one multi-value key, on either side, matches on any of its values (see
            // augment.rs)
            let any_value = augment && left_keys.len() == 1 && (lt == MultiValue || rt == MultiValue);
            if (lt == MultiValue || rt == MultiValue) && !any_value {
                cx.problem(format!("{left_path}[{i}]"), "multi-value fields cannot be keys");
                ok = false;
            } else if any_value {
                // its values are texts
                let (multi, other, other_ty, other_path) =
                    if lt == MultiValue { (l, r, &rt, right_path) } else { (r, l, &lt, left_path) };
                if !matches!(other_ty, crate::schema::FieldType::Text | Unknown | MultiValue) {
                    cx.problem(
                        format!("{other_path}[{i}]"),
                        format!(
                            "key '{other}' is {} but the values of multi-value key '{multi}' are Text",
                            other_ty.kind_name()
                        ),
                    );
                    ok = false;
                }
            } else if lt != Unknown
                && rt != Unknown
                && lt.kind_name() != rt.kind_name()
                && !(augment && text_and_number(&lt, &rt))
            {
                cx.problem(
                    format!("{right_path}[{i}]"),
                    format!("key '{r}' is {} but left key '{l}' is {}", rt.kind_name(), lt.kind_name()),
                );
                ok = false;
            }
        }
    }
    ok
}

fn text_and_number(a: &crate::schema::FieldType, b: &crate::schema::FieldType) -> bool {
    use crate::schema::FieldType::{Numeric, Text};
    matches!((a, b), (Text, Numeric { .. }) | (Numeric { .. }, Text))
}

/// The key pairs (index) where one side is a number and the other text. augment matches them
/// by text: the number as the dataset holds it, rounded to its scale (half away from zero), as
/// SAQL shows it as text (`3`, `3.5`, no trailing zeros; [`key_text`]) equal to the text key.
/// INFERRED:
/// CRM Analytics does not document keys of different kinds, and Salesforce's own SalesEdge
/// template pairs a Numeric key with a Text one; matching by text never makes a number of a
/// text and never matches what the text does not spell exactly.
pub fn text_pairs(left: &Schema, left_keys: &[String], right: &Schema, right_keys: &[String]) -> Vec<usize> {
    let ty = |s: &Schema, k: &String| s.type_of(k).unwrap_or(crate::schema::FieldType::Unknown);
    (0..left_keys.len().min(right_keys.len()))
        .filter(|&i| text_and_number(&ty(left, &left_keys[i]), &ty(right, &right_keys[i])))
        .collect()
}

/// A Numeric key's text for matching a Text key: rounded to the field's scale (3.5 at scale 0
/// is `4`, as the dataset stores it), without trailing zeros.
pub fn key_text(e: Expr, ty: &crate::schema::FieldType) -> Expr {
    match ty {
        crate::schema::FieldType::Numeric { scale, .. } => {
            use crate::saql::functions::Udf;
            // rounded first, then `+ 0` makes a rounded -0.001 the 0 the dataset shows
            let rounded = Udf::Round.call(vec![e, lit(f64::from(*scale))]) + lit(0.0);
            let pattern = if *scale == 0 { "0".to_string() } else { format!("0.{}", "#".repeat(*scale as usize)) };
            Udf::NumberToString.call(vec![rounded, lit(pattern)])
        }
        other => crate::saql::functions::to_text(e, other),
    }
}

/// A key column as it is matched: a float key with `-0` made `0` (they are one number, but
/// hashing told them apart: a right side holding both gave a left row two matches).
pub fn key_expr(df: &DataFrame, name: &str) -> Expr {
    let float = df
        .schema()
        .field_with_unqualified_name(name)
        .is_ok_and(|f| matches!(f.data_type(), DataType::Float64 | DataType::Float32));
    if float { ident(name) + lit(0.0) } else { ident(name) }
}

/// Joins `left` with at most one row of `right` per key. `right_cols` are (expression over the
/// right side, output name); the result has every left column then the right columns.
pub fn lookup(
    left: DataFrame,
    left_keys: &[String],
    right: DataFrame,
    right_keys: &[String],
    right_cols: Vec<(Expr, String)>,
) -> DFResult<DataFrame> {
    let mut exprs: Vec<Expr> =
        right_keys.iter().enumerate().map(|(i, k)| key_expr(&right, k).alias(key_name(i))).collect();
    exprs.extend(right_cols.iter().map(|(e, name)| e.clone().alias(name.as_str())));
    let right = right.select(exprs)?.filter(not_null_keys(right_keys.len()))?;
    let mut kept: Vec<Expr> = (0..right_keys.len()).map(|i| ident(key_name(i))).collect();
    kept.extend(right_cols.iter().map(|(_, name)| ident(name.as_str())));
    let key_names: Vec<String> = (0..right_keys.len()).map(key_name).collect();
    let one_per_key = if neighbours::comparable(right.schema(), &key_names) {
        // sorted by key and values, the first row of each key is the one with no previous row
        // in its key (a window's row_number costs microseconds per key: 1.5 s for 1M keys)
        let order = right_cols.iter().map(|(_, name)| (name.clone(), true)).collect();
        let (state, plan) = right.into_parts();
        let plan = neighbours::neighbours(plan, key_names, order, Vec::new())?;
        DataFrame::new(state, plan).filter(!ident(neighbours::HAS_PREVIOUS))?.select(kept)?
    } else {
        let keys: Vec<Expr> = key_names.iter().map(|k| ident(k.as_str())).collect();
        let order = right_cols.iter().map(|(_, name)| ident(name.as_str()).sort(true, false)).collect();
        let rank = row_number().partition_by(keys).order_by(order).build()?;
        right.window(vec![rank.alias("__swell_rank")])?.filter(ident("__swell_rank").eq(lit(1u64)))?.select(kept)?
    };
    join_right_build(left, left_keys, one_per_key, right_cols.iter().map(|(_, n)| n.clone()).collect())
}

fn not_null_keys(n: usize) -> Expr {
    (0..n).map(|i| ident(key_name(i)).is_not_null()).reduce(Expr::and).unwrap_or_else(|| lit(true))
}

/// `left LEFT JOIN build ON keys`, written as `build RIGHT JOIN left` so that the (smaller)
/// lookup side is the hash table; with join reordering off DataFusion keeps that side.
pub fn join_right_build(
    left: DataFrame,
    left_keys: &[String],
    build: DataFrame,
    build_cols: Vec<String>,
) -> DFResult<DataFrame> {
    let left_names: Vec<String> = left.schema().fields().iter().map(|f| f.name().clone()).collect();
    let on: Vec<Expr> = left_keys.iter().enumerate().map(|(i, k)| ident(key_name(i)).eq(key_expr(&left, k))).collect();
    let joined = build.join_on(left, JoinType::Right, on)?;
    let mut out: Vec<Expr> = left_names.iter().map(|n| ident(n.as_str())).collect();
    out.extend(build_cols.iter().map(|n| ident(n.as_str())));
    joined.select(out)
}
