//! Per-node row counting inside one streaming DataFusion plan.
//!
//! A dataflow's nodes are composed into one logical plan per output, so DataFusion can stream
//! and optimise across them; the boundaries between nodes would be invisible afterwards. A tap
//! marks each boundary: the logical [`TapNode`] passes rows through untouched (it lets
//! projections through, so pruning still works) and becomes a physical [`TapExec`] that counts
//! the rows flowing out of its node and reports them live to [`Progress`].

use crate::report::Progress;
use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DFSchemaRef, DataFusionError, Result as DFResult, internal_err};
use datafusion::execution::context::QueryPlanner;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{Expr, Extension, LogicalPlan, UserDefinedLogicalNode, UserDefinedLogicalNodeCore};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use datafusion::physical_planner::{DefaultPhysicalPlanner, ExtensionPlanner, PhysicalPlanner};
use futures::StreamExt;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// An error raised inside a plan, marked with the node whose operators raised it: the first
/// tap an error passes on its way out of the plan is its node's own (errors of nodes upstream
/// were marked by their taps before). DataFusion itself does not say which operator failed,
/// so without the mark a runtime error of a computeExpression would be blamed on the
/// register node that pulled its rows.
#[derive(Debug)]
pub struct NodeFailure {
    pub node: usize,
    pub error: DataFusionError,
}

impl fmt::Display for NodeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for NodeFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// The node mark of an error, wherever DataFusion wrapped it (shared, in context, as an
/// external error of Arrow).
pub fn failed_node<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a NodeFailure> {
    let mut at = Some(e);
    while let Some(err) = at {
        if let Some(f) = err.downcast_ref::<NodeFailure>() {
            return Some(f);
        }
        at = err.source();
    }
    None
}

fn mark(node: usize, error: DataFusionError) -> DataFusionError {
    if failed_node(&error).is_some() {
        return error;
    }
    DataFusionError::External(Box::new(NodeFailure { node, error }))
}

/// Wraps `plan` so that the rows it produces are counted for node `node`.
pub fn tap(plan: LogicalPlan, node: usize, progress: Arc<Progress>) -> LogicalPlan {
    LogicalPlan::Extension(Extension { node: Arc::new(TapNode { input: plan, node, progress }) })
}

#[derive(Clone)]
pub struct TapNode {
    input: LogicalPlan,
    node: usize,
    progress: Arc<Progress>,
}

impl fmt::Debug for TapNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tap: node={}", self.node)
    }
}

impl PartialEq for TapNode {
    fn eq(&self, other: &Self) -> bool {
        self.node == other.node && Arc::ptr_eq(&self.progress, &other.progress) && self.input == other.input
    }
}
impl Eq for TapNode {}
impl Hash for TapNode {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.node.hash(state);
        self.input.hash(state);
    }
}
impl PartialOrd for TapNode {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.node.partial_cmp(&other.node)
    }
}

impl UserDefinedLogicalNodeCore for TapNode {
    fn name(&self) -> &str {
        "Tap"
    }
    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.input]
    }
    fn schema(&self) -> &DFSchemaRef {
        self.input.schema()
    }
    fn expressions(&self) -> Vec<Expr> {
        vec![]
    }
    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "Tap: node={}", self.node)
    }
    fn with_exprs_and_inputs(&self, _exprs: Vec<Expr>, mut inputs: Vec<LogicalPlan>) -> DFResult<Self> {
        Ok(TapNode { input: inputs.swap_remove(0), node: self.node, progress: self.progress.clone() })
    }
    fn necessary_children_exprs(&self, output_columns: &[usize]) -> Option<Vec<Vec<usize>>> {
        Some(vec![output_columns.to_vec()])
    }
    fn prevent_predicate_push_down_columns(&self) -> std::collections::HashSet<String> {
        // a filter pushed below the tap would change the node's counts
        self.input.schema().fields().iter().map(|f| f.name().clone()).collect()
    }
}

/// Plans [`TapNode`]s and computeRelative's neighbours; everything else goes to DataFusion's
/// default planner.
#[derive(Debug)]
pub struct TapQueryPlanner;

#[async_trait]
impl QueryPlanner for TapQueryPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session_state: &dyn Session,
    ) -> DFResult<Arc<dyn ExecutionPlan>> {
        DefaultPhysicalPlanner::with_extension_planners(vec![
            Arc::new(TapPlanner),
            Arc::new(crate::nodes::compute_relative::NeighboursPlanner),
        ])
        .create_physical_plan(logical_plan, session_state)
        .await
    }
}

struct TapPlanner;

#[async_trait]
impl ExtensionPlanner for TapPlanner {
    async fn plan_extension(
        &self,
        _planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        _session_state: &dyn Session,
        _planning_ctx: &PhysicalPlanningContext,
    ) -> DFResult<Option<Arc<dyn ExecutionPlan>>> {
        let Some(tap) = node.as_any().downcast_ref::<TapNode>() else {
            return Ok(None);
        };
        Ok(Some(Arc::new(TapExec::new(physical_inputs[0].clone(), tap.node, tap.progress.clone()))))
    }
}

#[derive(Debug)]
pub struct TapExec {
    input: Arc<dyn ExecutionPlan>,
    node: usize,
    progress: Arc<Progress>,
}

impl TapExec {
    fn new(input: Arc<dyn ExecutionPlan>, node: usize, progress: Arc<Progress>) -> Self {
        TapExec { input, node, progress }
    }
}

impl DisplayAs for TapExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "TapExec: node={}", self.node)
    }
}

impl ExecutionPlan for TapExec {
    fn name(&self) -> &str {
        "TapExec"
    }
    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }
    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
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
            return internal_err!("TapExec takes one child");
        }
        Ok(Arc::new(TapExec::new(children.swap_remove(0), self.node, self.progress.clone())))
    }
    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> DFResult<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context)?;
        let schema = input.schema();
        let progress = self.progress.clone();
        let node = self.node;
        progress.node_started(node);
        let counted = input.map(move |batch| {
            let b = batch.map_err(|e| mark(node, e))?;
            progress.add_rows(node, b.num_rows() as u64).map_err(|m| mark(node, DataFusionError::Execution(m)))?;
            Ok(b)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, counted)))
    }
}
