//! A window function that evaluates an expression row by row within each sorted partition,
//! giving the expression the previous row's result: what a computeRelative field that reads
//! its own previous value (a running total) needs.
//!
//! DataFusion sorts and partitions the rows; [`PartitionEvaluator::evaluate_all`] receives the
//! partition's argument columns in order. The expression is a physical expression over those
//! columns plus one column holding the previous result, evaluated on one-row slices (zero
//! copy). This costs microseconds per row, which is why only self-referencing fields take this
//! path.

use datafusion::arrow::array::{ArrayRef, RecordBatch, new_null_array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema};
use datafusion::common::{DFSchema, DataFusionError, Result as DFResult, ScalarValue};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::{
    Expr, ExprFunctionExt, PartitionEvaluator, Signature, SortExpr, Volatility, WindowUDF, WindowUDFImpl, ident, lit,
};
use datafusion::optimizer::simplify_expressions::ExprSimplifier;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::prelude::SessionContext;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio_util::sync::CancellationToken;

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

#[derive(Debug)]
struct Recursive {
    id: u64,
    signature: Signature,
    expr: Arc<dyn PhysicalExpr>,
    /// Schema of one evaluation row: the argument columns then the previous value.
    row_schema: Arc<Schema>,
    out: DataType,
    cancel: CancellationToken,
}

impl PartialEq for Recursive {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
impl Eq for Recursive {}
impl Hash for Recursive {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state)
    }
}

impl WindowUDFImpl for Recursive {
    fn name(&self) -> &str {
        "swell_recursive"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn partition_evaluator(&self, _args: PartitionEvaluatorArgs) -> DFResult<Box<dyn PartitionEvaluator>> {
        Ok(Box::new(Evaluator {
            expr: self.expr.clone(),
            row_schema: self.row_schema.clone(),
            out: self.out.clone(),
            cancel: self.cancel.clone(),
        }))
    }
    fn field(&self, field_args: WindowUDFFieldArgs) -> DFResult<FieldRef> {
        Ok(Arc::new(Field::new(field_args.name(), self.out.clone(), true)))
    }
}

#[derive(Debug)]
struct Evaluator {
    expr: Arc<dyn PhysicalExpr>,
    row_schema: Arc<Schema>,
    out: DataType,
    /// A partition can take seconds; a stopped run must not keep a core busy that long.
    cancel: CancellationToken,
}

impl PartitionEvaluator for Evaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> DFResult<ArrayRef> {
        let mut results: Vec<ScalarValue> = Vec::with_capacity(num_rows);
        let mut previous: ArrayRef = new_null_array(&self.out, 1);
        for i in 0..num_rows {
            if i % 4096 == 0 && self.cancel.is_cancelled() {
                return Err(DataFusionError::Execution("the run was stopped".into()));
            }
            let columns_in = &values[..values.len().saturating_sub(1)];
            let mut columns: Vec<ArrayRef> = columns_in.iter().map(|v| v.slice(i, 1)).collect();
            columns.push(previous.clone());
            let batch = RecordBatch::try_new(self.row_schema.clone(), columns)?;
            let value = self.expr.evaluate(&batch)?.into_array(1)?;
            let value = datafusion::arrow::compute::cast(&value, &self.out)?;
            results.push(ScalarValue::try_from_array(&value, 0)?);
            previous = value;
        }
        if results.is_empty() {
            return Ok(new_null_array(&self.out, 0));
        }
        ScalarValue::iter_to_array(results)
    }
}

/// Builds the window call evaluating `expr` (over columns of `input` and `previous`) row by
/// row within `partition` ordered by `order`.
#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename the arguments
pub fn call(
    ctx: &SessionContext,
    cancel: CancellationToken,
    input: &DFSchema,
    expr: Expr,
    out: DataType,
    previous: &str,
    partition: Vec<Expr>,
    order: Vec<SortExpr>,
) -> DFResult<Expr> {
    let mut names: Vec<String> =
        expr.column_refs().into_iter().map(|c| c.name.clone()).filter(|n| n != previous).collect();
    names.sort();
    names.dedup();
    let mut fields: Vec<Field> = Vec::new();
    for n in &names {
        let f = input.field_with_unqualified_name(n)?;
        fields.push(Field::new(n.as_str(), f.data_type().clone(), true));
    }
    fields.push(Field::new(previous, out.clone(), true));
    let row_schema = Arc::new(Schema::new(fields));
    let df_schema = Arc::new(DFSchema::try_from(row_schema.as_ref().clone())?);
    // physical planning expects simplified expressions (coalesce becomes a case, ...)
    let simplifier = ExprSimplifier::new(SimplifyContext::builder().with_schema(df_schema.clone()).build());
    let expr = simplifier.simplify(expr)?;
    let physical = ctx.create_physical_expr(expr, &df_schema)?;
    let udwf = WindowUDF::new_from_impl(Recursive {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        signature: Signature::variadic_any(Volatility::Immutable),
        expr: physical,
        row_schema,
        out,
        cancel,
    });
    // one constant argument more, so that an expression of no column still has an argument
    let mut args: Vec<Expr> = names.iter().map(|n| ident(n.as_str())).collect();
    args.push(lit(true));
    Arc::new(udwf).call(args).partition_by(partition).order_by(order).build()
}
