//! Kernels of the math functions.

use super::{numbers, opt_num};
use datafusion::arrow::array::{ArrayRef, Float64Builder};
use datafusion::common::Result as DFResult;
use std::sync::Arc;

/// `round(n [, m])`, ties away from zero; `m` may be negative.
pub(super) fn round(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
    scaled(args, rows, f64::round)
}

pub(super) fn trunc(args: &[ArrayRef], rows: usize) -> DFResult<ArrayRef> {
    scaled(args, rows, f64::trunc)
}

fn scaled(args: &[ArrayRef], rows: usize, f: fn(f64) -> f64) -> DFResult<ArrayRef> {
    let n = numbers(&args[0])?;
    let m = args.get(1).map(numbers).transpose()?;
    let mut b = Float64Builder::with_capacity(rows);
    for i in 0..rows {
        let digits = m.as_ref().map_or(Some(0.0), |a| opt_num(a, i));
        match (opt_num(&n, i), digits) {
            (Some(v), Some(d)) => {
                let d = d.clamp(-15.0, 15.0) as i32;
                let factor = 10f64.powi(d);
                b.append_value(f(v * factor) / factor)
            }
            _ => b.append_null(),
        }
    }
    Ok(Arc::new(b.finish()))
}
