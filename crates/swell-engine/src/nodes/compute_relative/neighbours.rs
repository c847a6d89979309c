//! The previous and next rows of every row within its partition, read off rows already sorted
//! by (partition, order): computeRelative's `previous()` and `next()` without window
//! functions.
//!
//! DataFusion evaluates `lag(x) OVER (PARTITION BY p ORDER BY o)` partition by partition, and
//! each partition costs a few microseconds of bookkeeping whatever its size. computeRelative
//! typically partitions by a record id (an account, an opportunity), so millions of
//! partitions of a few rows each: at 8.6M rows in 1M partitions the window took 3.9 s of the
//! run's compute, for values that are the row above. Here the rows arrive sorted by the
//! partition fields and then the order fields (DataFusion sorts them to the requirement this
//! operator states), hash-partitioned by the partition fields (so no stream holds part of
//! another's partition); a row's previous row is the row above when the partition fields of
//! both are equal (nulls equal), its next row the row below. Each batch is compared with
//! itself shifted by one row, whole columns at a time, with the last row of the batch before
//! and the first row of the batch after (one batch is held back for it).
//!
//! The operator adds, for each field read, a column of the previous (or next) row's value
//! (null where there is no such row in the partition), and two flags, whether the row has a
//! previous and a next row in its partition, for defaults: a previous row whose value is null
//! is not a missing row.

use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, new_null_array};
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::compute::kernels::cmp::not_distinct;
use datafusion::arrow::compute::{and, concat, not, nullif};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DFSchema, DFSchemaRef, Result as DFResult, internal_err};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{Expr, Extension, LogicalPlan, UserDefinedLogicalNode, UserDefinedLogicalNodeCore};
use datafusion::physical_expr::expressions::col;
use datafusion::physical_expr::{
    EquivalenceProperties, LexRequirement, OrderingRequirements, PhysicalExpr, PhysicalSortRequirement,
};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, Distribution, ExecutionPlan, ExecutionPlanProperties, PlanProperties,
};
use datafusion::physical_planner::{ExtensionPlanner, PhysicalPlanner};
use futures::StreamExt;
use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

/// The flag column: the row has a previous row in its partition.
pub const HAS_PREVIOUS: &str = "__swell_has_previous";
/// The flag column: the row has a next row in its partition.
pub const HAS_NEXT: &str = "__swell_has_next";

/// The column holding `field`'s value in the previous (or next) row.
pub fn column_name(field: &str, previous: bool) -> String {
    format!("__swell_{}_{field}", if previous { "previous" } else { "next" })
}

/// Whether rows of `schema` can be compared on the fields `keys` (the fields of a partition):
/// every one exists and is of a primitive, text or boolean type.
pub fn comparable(schema: &DFSchema, keys: &[String]) -> bool {
    keys.iter().all(|k| {
        schema.field_with_unqualified_name(k).is_ok_and(|f| {
            let ty = f.data_type();
            ty.is_primitive()
                || matches!(ty, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Boolean)
        })
    })
}

/// `e` with each `lag(column)` and `lead(column)` window call replaced by the column of that
/// field's previous or next value, the reads collected in `reads`; `None` when `e` holds any
/// other window call (another function, another offset, a default, `IGNORE NULLS`). The
/// caller vouches that every window in `e` is over its node's partitions and order.
pub fn reads_of(e: Expr, reads: &mut Vec<(String, bool)>) -> Option<Expr> {
    use datafusion::common::tree_node::{Transformed, TreeNode};
    let mut other = false;
    let out = e
        .transform_up(|x| {
            let Expr::WindowFunction(w) = &x else { return Ok(Transformed::no(x)) };
            let previous = match w.fun.name() {
                "lag" => true,
                "lead" => false,
                _ => {
                    other = true;
                    return Ok(Transformed::no(x));
                }
            };
            match w.params.args.as_slice() {
                [Expr::Column(c)] if w.params.null_treatment.is_none() && w.params.filter.is_none() => {
                    reads.push((c.name.clone(), previous));
                    Ok(Transformed::yes(datafusion::prelude::ident(column_name(&c.name, previous))))
                }
                _ => {
                    other = true;
                    Ok(Transformed::no(x))
                }
            }
        })
        .ok()?
        .data;
    (!other).then_some(out)
}

/// `plan` with the columns of the previous and next values of the fields `reads` names
/// (field, previous?), for partitions `keys` ordered by `order` (field, ascending?; nulls
/// last ascending, first descending), and the two flags.
pub fn neighbours(
    plan: LogicalPlan,
    keys: Vec<String>,
    order: Vec<(String, bool)>,
    reads: Vec<(String, bool)>,
) -> DFResult<LogicalPlan> {
    let schema = output_schema(plan.schema(), &reads)?;
    Ok(LogicalPlan::Extension(Extension { node: Arc::new(NeighboursNode { input: plan, keys, order, reads, schema }) }))
}

fn output_schema(input: &DFSchema, reads: &[(String, bool)]) -> DFResult<DFSchemaRef> {
    let mut fields: Vec<_> = input.iter().map(|(q, f)| (q.cloned(), f.clone())).collect();
    for (name, previous) in reads {
        let ty = input.field_with_unqualified_name(name)?.data_type().clone();
        fields.push((None, Arc::new(Field::new(column_name(name, *previous), ty, true))));
    }
    fields.push((None, Arc::new(Field::new(HAS_PREVIOUS, DataType::Boolean, false))));
    fields.push((None, Arc::new(Field::new(HAS_NEXT, DataType::Boolean, false))));
    Ok(Arc::new(DFSchema::new_with_metadata(fields, input.metadata().clone())?))
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NeighboursNode {
    input: LogicalPlan,
    keys: Vec<String>,
    order: Vec<(String, bool)>,
    reads: Vec<(String, bool)>,
    schema: DFSchemaRef,
}

impl PartialOrd for NeighboursNode {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        (&self.keys, &self.order, &self.reads).partial_cmp(&(&other.keys, &other.order, &other.reads))
    }
}

impl UserDefinedLogicalNodeCore for NeighboursNode {
    fn name(&self) -> &str {
        "Neighbours"
    }
    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.input]
    }
    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }
    fn expressions(&self) -> Vec<Expr> {
        vec![]
    }
    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "Neighbours: partition={:?}, order={:?}, reads={:?}", self.keys, self.order, self.reads)
    }
    fn with_exprs_and_inputs(&self, _exprs: Vec<Expr>, mut inputs: Vec<LogicalPlan>) -> DFResult<Self> {
        let input = inputs.swap_remove(0);
        let schema = output_schema(input.schema(), &self.reads)?;
        Ok(NeighboursNode {
            input,
            keys: self.keys.clone(),
            order: self.order.clone(),
            reads: self.reads.clone(),
            schema,
        })
    }
    /// The input columns asked for, and those the operator reads: columns nobody reads are
    /// pruned below it (without this, DataFusion stops pruning here, down to the scans).
    fn necessary_children_exprs(&self, output_columns: &[usize]) -> Option<Vec<Vec<usize>>> {
        let input = self.input.schema();
        let position = |name: &str| input.fields().iter().position(|f| f.name() == name);
        let mut needed: Vec<usize> = output_columns.iter().copied().filter(|&i| i < input.fields().len()).collect();
        let names = self.keys.iter().chain(self.order.iter().map(|(o, _)| o)).chain(self.reads.iter().map(|(r, _)| r));
        for name in names {
            needed.push(position(name)?);
        }
        needed.sort_unstable();
        needed.dedup();
        Some(vec![needed])
    }
    fn prevent_predicate_push_down_columns(&self) -> std::collections::HashSet<String> {
        // a filter below would change which row is the previous one
        self.schema.fields().iter().map(|f| f.name().clone()).collect()
    }
}

/// Plans [`NeighboursNode`]s (see [`crate::tap::TapQueryPlanner`]).
pub struct Planner;

#[async_trait]
impl ExtensionPlanner for Planner {
    async fn plan_extension(
        &self,
        _planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        _session_state: &dyn Session,
        _planning_ctx: &PhysicalPlanningContext,
    ) -> DFResult<Option<Arc<dyn ExecutionPlan>>> {
        let Some(n) = node.as_any().downcast_ref::<NeighboursNode>() else {
            return Ok(None);
        };
        let input = physical_inputs[0].clone();
        let index = |name: &str| input.schema().index_of(name).map_err(Into::into);
        let spec = Spec {
            keys: n.keys.iter().map(|k| index(k)).collect::<DFResult<_>>()?,
            order: n.order.iter().map(|(o, asc)| Ok((index(o)?, *asc))).collect::<DFResult<_>>()?,
            reads: n.reads.iter().map(|(r, prev)| Ok((index(r)?, *prev))).collect::<DFResult<_>>()?,
        };
        Ok(Some(Arc::new(NeighboursExec::try_new(input, Arc::new(spec))?)))
    }
}

/// Column indices of the input.
#[derive(Debug)]
struct Spec {
    keys: Vec<usize>,
    order: Vec<(usize, bool)>,
    reads: Vec<(usize, bool)>,
}

#[derive(Debug)]
pub struct NeighboursExec {
    input: Arc<dyn ExecutionPlan>,
    spec: Arc<Spec>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl NeighboursExec {
    fn try_new(input: Arc<dyn ExecutionPlan>, spec: Arc<Spec>) -> DFResult<Self> {
        let in_schema = input.schema();
        let mut fields: Vec<Arc<Field>> = in_schema.fields().iter().cloned().collect();
        for (i, previous) in &spec.reads {
            let f = in_schema.field(*i);
            fields.push(Arc::new(Field::new(column_name(f.name(), *previous), f.data_type().clone(), true)));
        }
        fields.push(Arc::new(Field::new(HAS_PREVIOUS, DataType::Boolean, false)));
        fields.push(Arc::new(Field::new(HAS_NEXT, DataType::Boolean, false)));
        let schema = Arc::new(Schema::new_with_metadata(fields, in_schema.metadata().clone()));
        // the input's columns keep their places, so its orderings and partitioning still hold
        let orderings: Vec<_> = input.output_ordering().cloned().into_iter().collect();
        let eq = EquivalenceProperties::new_with_orderings(schema.clone(), orderings);
        let properties = PlanProperties::new(
            eq,
            input.output_partitioning().clone(),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(NeighboursExec { input, spec, schema, properties: Arc::new(properties), metrics: Default::default() })
    }

    fn requirement(&self) -> DFResult<Option<LexRequirement>> {
        let schema = self.input.schema();
        let mut reqs = Vec::new();
        for k in &self.spec.keys {
            reqs.push(PhysicalSortRequirement::new(
                col(schema.field(*k).name(), &schema)?,
                Some(SortOptions { descending: false, nulls_first: false }),
            ));
        }
        for (o, asc) in &self.spec.order {
            reqs.push(PhysicalSortRequirement::new(
                col(schema.field(*o).name(), &schema)?,
                Some(SortOptions { descending: !asc, nulls_first: !asc }),
            ));
        }
        Ok(LexRequirement::new(reqs))
    }
}

impl DisplayAs for NeighboursExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let schema = self.input.schema();
        let name = |i: &usize| schema.field(*i).name().clone();
        let keys: Vec<String> = self.spec.keys.iter().map(name).collect();
        let reads: Vec<String> = self
            .spec
            .reads
            .iter()
            .map(|(i, prev)| format!("{}({})", if *prev { "previous" } else { "next" }, name(i)))
            .collect();
        write!(f, "NeighboursExec: partition=[{}], reads=[{}]", keys.join(", "), reads.join(", "))
    }
}

impl ExecutionPlan for NeighboursExec {
    fn name(&self) -> &str {
        "NeighboursExec"
    }
    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }
    fn required_input_distribution(&self) -> Vec<Distribution> {
        if self.spec.keys.is_empty() {
            return vec![Distribution::SinglePartition];
        }
        let schema = self.input.schema();
        let keys: DFResult<Vec<Arc<dyn PhysicalExpr>>> =
            self.spec.keys.iter().map(|k| col(schema.field(*k).name(), &schema)).collect();
        // the columns exist: try_new found them by name
        keys.map_or(vec![Distribution::SinglePartition], |k| vec![Distribution::KeyPartitioned(k)])
    }
    fn required_input_ordering(&self) -> Vec<Option<OrderingRequirements>> {
        vec![self.requirement().ok().flatten().map(OrderingRequirements::new)]
    }
    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }
    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }
    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DFResult<TreeNodeRecursion>,
    ) -> DFResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }
    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DFResult<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return internal_err!("NeighboursExec takes one child");
        }
        Ok(Arc::new(NeighboursExec::try_new(children.swap_remove(0), self.spec.clone())?))
    }
    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> DFResult<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context)?;
        let state = State {
            input,
            spec: self.spec.clone(),
            schema: self.schema.clone(),
            held: None,
            before: None,
            metrics: BaselineMetrics::new(&self.metrics, partition),
        };
        let stream = futures::stream::unfold(Some(state), |state| async move {
            let mut state = state?;
            match state.next().await {
                Some(Ok(batch)) => Some((Ok(batch), Some(state))),
                Some(Err(e)) => Some((Err(e), None)),
                None => None,
            }
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), stream)))
    }
}

/// One partition's stream: a batch is held back until the first row of the next is known.
struct State {
    input: SendableRecordBatchStream,
    spec: Arc<Spec>,
    schema: SchemaRef,
    held: Option<RecordBatch>,
    /// The last row of the batch before the held one.
    before: Option<RecordBatch>,
    metrics: BaselineMetrics,
}

impl State {
    async fn next(&mut self) -> Option<DFResult<RecordBatch>> {
        loop {
            match self.input.next().await {
                Some(Ok(batch)) if batch.num_rows() == 0 => continue,
                Some(Ok(batch)) => {
                    let Some(held) = self.held.replace(batch) else { continue };
                    let after = self.held.as_ref().map(|b| b.slice(0, 1));
                    return Some(self.emit(held, after));
                }
                Some(Err(e)) => return Some(Err(e)),
                None => {
                    let held = self.held.take()?;
                    return Some(self.emit(held, None));
                }
            }
        }
    }

    fn emit(&mut self, batch: RecordBatch, after: Option<RecordBatch>) -> DFResult<RecordBatch> {
        let timer = self.metrics.elapsed_compute().timer();
        let n = batch.num_rows();
        let before = self.before.replace(batch.slice(n - 1, 1));
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        let has_previous = self.same_partition(&batch, before.as_ref(), true)?;
        let has_next = self.same_partition(&batch, after.as_ref(), false)?;
        for (i, previous) in &self.spec.reads {
            let (rows, edge) = if *previous { (&has_previous, before.as_ref()) } else { (&has_next, after.as_ref()) };
            let shifted = shift(batch.column(*i), edge.map(|b| b.column(*i)), *previous)?;
            columns.push(nullif(&shifted, &not(rows)?)?);
        }
        columns.push(Arc::new(has_previous));
        columns.push(Arc::new(has_next));
        let out = RecordBatch::try_new(self.schema.clone(), columns)?;
        timer.done();
        self.metrics.record_output(out.num_rows());
        Ok(out)
    }

    /// Whether each row's previous (`previous`) or next row exists and has the same partition
    /// fields; `edge` is the row beyond the batch on that side, if any.
    fn same_partition(
        &self,
        batch: &RecordBatch,
        edge: Option<&RecordBatch>,
        previous: bool,
    ) -> DFResult<BooleanArray> {
        let n = batch.num_rows();
        // the row on that side exists for every row but the one at the batch's edge
        let mut same = BooleanArray::from(
            (0..n)
                .map(|i| if (previous && i == 0) || (!previous && i == n - 1) { edge.is_some() } else { true })
                .collect::<Vec<_>>(),
        );
        for k in &self.spec.keys {
            let shifted = shift(batch.column(*k), edge.map(|b| b.column(*k)), previous)?;
            same = and(&same, &not_distinct(&shifted, batch.column(*k))?)?;
        }
        Ok(same)
    }
}

/// `values` moved one row down (`previous`: row i holds row i-1's value, row 0 the edge's) or
/// up (row i holds row i+1's, the last row the edge's); a missing edge is null.
fn shift(values: &ArrayRef, edge: Option<&ArrayRef>, previous: bool) -> DFResult<ArrayRef> {
    let n = values.len();
    let edge = edge.cloned().unwrap_or_else(|| new_null_array(values.data_type(), 1));
    let out = if previous {
        concat(&[edge.as_ref(), values.slice(0, n - 1).as_ref()])?
    } else {
        concat(&[values.slice(1, n - 1).as_ref(), edge.as_ref()])?
    };
    Ok(out)
}
