//! Executing a dataflow.
//!
//! Nodes are composed into DataFusion plans, one per output (sfdcRegister, export, or a node
//! nobody reads), so each output streams from its sources without materialising the nodes in
//! between. A node read by several others is computed once into the run's scratch space and
//! read back by each of them. Every node boundary carries a tap ([`crate::tap`]) that counts
//! rows live into [`Progress`].
//!
//! Registered datasets are written as staged versions and committed together only after every
//! output succeeded; a failure or a stop leaves every dataset as it was. A stop drops the
//! executing plans, which aborts DataFusion's tasks, so CPU and memory are released at once.
//!
//! Concurrency: one run is one async task; DataFusion parallelises inside each plan across the
//! configured partitions.

use crate::error::{EngineError, Problems, Result, clean_df_message};
use crate::flow::Dataflow;
use crate::nodes::{PlanCx, Sink};
use crate::report::{NodeReport, NodeStatus, Progress};
use crate::schema::Schema;
use crate::source::{Catalog, SourceRef, load};
use crate::storage::{DataDir, StagedVersion, VersionMetadata, new_version_id};
use crate::tap::{TapQueryPlanner, tap};
use chrono::{DateTime, Utc};
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionConfig, SessionContext};
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// How to run.
pub struct RunOptions {
    /// Where datasets are committed and scratch files live. Without one, a temporary
    /// directory is used and nothing is kept (except `out_dir` copies).
    pub data_dir: Option<DataDir>,
    pub catalog: Arc<dyn Catalog>,
    /// Also write each registered dataset as `out_dir/ALIAS.parquet`.
    pub out_dir: Option<PathBuf>,
    /// The clock for `now()` and SOQL date literals.
    pub now: DateTime<Utc>,
    pub cancel: CancellationToken,
    /// Parallelism inside a plan; defaults to the number of cores.
    pub target_partitions: Option<usize>,
    /// Recorded as the writer of the dataset versions.
    pub dataflow_name: Option<String>,
    /// Memory the run's operators may hold; sorts and joins spill to disk beyond it.
    pub memory_limit: usize,
    /// Leave the registered versions prepared but unpublished ([`RunOutcome::staged`]): the
    /// caller publishes them once it has recorded the run's end (the server's job store), so
    /// that a run whose job ended meanwhile commits nothing.
    pub defer_commit: bool,
    /// The most rows one node may produce ([`MAX_NODE_ROWS`] by default).
    pub max_node_rows: u64,
    /// Free space the run leaves on the data dir's disk: it fails when less is left (`None`:
    /// [`crate::storage::default_reserve`]).
    pub min_free_bytes: Option<u64>,
}

/// The most rows one node may produce. CRM Analytics' row limits are in the billions; a
/// definition that multiplies rows past this (appends of appends doubling at each step) would
/// otherwise fill the disk with scratch files before it failed.
pub const MAX_NODE_ROWS: u64 = 2_000_000_000;

/// Default memory budget of one run: large sorts spill beyond it instead of growing without
/// bound, so several runs fit on one machine.
pub const DEFAULT_MEMORY_LIMIT: usize = 1536 * 1024 * 1024;

impl RunOptions {
    pub fn new(catalog: Arc<dyn Catalog>) -> Self {
        RunOptions {
            data_dir: None,
            catalog,
            out_dir: None,
            now: Utc::now(),
            cancel: CancellationToken::new(),
            target_partitions: None,
            dataflow_name: None,
            defer_commit: false,
            max_node_rows: MAX_NODE_ROWS,
            min_free_bytes: None,
            memory_limit: DEFAULT_MEMORY_LIMIT,
        }
    }
}

/// A dataset version a run committed.
#[derive(Debug, Clone)]
pub struct CommittedDataset {
    pub alias: String,
    pub version_id: String,
    pub row_count: u64,
    pub dir: PathBuf,
}

/// A dataset version a run wrote and prepared but did not publish (`defer_commit`).
#[derive(Debug)]
pub struct StagedDataset {
    pub alias: String,
    pub label: String,
    pub row_count: u64,
    pub version: StagedVersion,
}

#[derive(Debug)]
pub struct RunOutcome {
    pub datasets: Vec<CommittedDataset>,
    /// With `defer_commit`: the versions to publish, in the order of the registering nodes.
    pub staged: Vec<StagedDataset>,
    pub exports: Vec<PathBuf>,
    pub nodes: Vec<NodeReport>,
}

/// A dataflow ready to run, with its live progress.
pub struct Run {
    flow: Dataflow,
    progress: Arc<Progress>,
}

impl Run {
    pub fn new(flow: Dataflow) -> Self {
        let progress = Arc::new(Progress::new(
            flow.nodes.iter().map(|n| (n.name.clone(), n.action.clone(), n.inputs.clone())).collect(),
        ));
        Run { flow, progress }
    }

    pub fn progress(&self) -> Arc<Progress> {
        self.progress.clone()
    }

    /// Runs to the end, to the first failure, or until `options.cancel` fires.
    pub async fn execute(&self, options: RunOptions) -> Result<RunOutcome> {
        let temp;
        let data_dir = match &options.data_dir {
            Some(d) => d.clone(),
            None => {
                temp = tempfile_dir()?;
                DataDir::new(temp.path())
            }
        };
        // the run's scratch belongs to it while it lives; a sweep removes it if the process dies
        let lease = data_dir.lease()?;
        self.progress.set_row_limit(options.max_node_rows);
        let cancel = options.cancel.clone();
        let result = tokio::select! {
            r = self.execute_inner(&options, &data_dir, lease.dir()) => r,
            _ = cancel.cancelled() => Err(EngineError::Cancelled),
            m = watch_space(&data_dir, options.min_free_bytes) => Err(EngineError::Resources(m)),
        };
        // code that noticed the stop itself fails with its own error: it is still a stop
        let result = match result {
            Err(_) if cancel.is_cancelled() => Err(EngineError::Cancelled),
            other => other,
        };
        drop(lease);
        match &result {
            Ok(_) => {}
            Err(EngineError::Cancelled) => {
                self.progress.finish_rest(NodeStatus::Cancelled, Some("the run was stopped"))
            }
            Err(EngineError::Node { node, message }) => {
                if let Some(i) = self.flow.nodes.iter().position(|n| &n.name == node) {
                    self.progress.finish(&[i], NodeStatus::Failure, Some(message));
                }
                // the other nodes running then were cut off, not wrong
                self.progress.finish_rest(NodeStatus::Cancelled, None);
            }
            // each node carries its own problems (the error, and so the job's message, has
            // them all); nodes without any never ran
            Err(EngineError::Invalid(problems)) => {
                for (i, n) in self.flow.nodes.iter().enumerate() {
                    let own: Vec<String> =
                        problems.0.iter().filter(|p| p.node == n.name).map(|p| p.to_string()).collect();
                    if !own.is_empty() {
                        self.progress.finish(&[i], NodeStatus::Failure, Some(&own.join("\n")));
                    }
                }
                self.progress.finish_rest(NodeStatus::Cancelled, None);
            }
            // the readers of an unreadable source carry its error already
            Err(EngineError::Source(_)) => self.progress.fail_rest(None),
            Err(e) => self.progress.fail_rest(Some(&e.to_string())),
        }
        result.map(|(datasets, staged, exports)| RunOutcome {
            datasets,
            staged,
            exports,
            nodes: self.progress.snapshot(),
        })
    }

    async fn execute_inner(
        &self,
        options: &RunOptions,
        data_dir: &DataDir,
        scratch: &std::path::Path,
    ) -> Result<(Vec<CommittedDataset>, Vec<StagedDataset>, Vec<PathBuf>)> {
        let flow = &self.flow;
        let ctx = new_context(options.target_partitions, options.memory_limit, &scratch.join("spill"));
        let now_millis = options.now.timestamp_millis();

        // 1. sources: locate and read their schemas, then check the whole flow against them;
        // definition problems are reported before unreadable sources
        let mut source_frames: HashMap<SourceRef, DataFrame> = HashMap::new();
        let mut source_schemas: HashMap<SourceRef, Schema> = HashMap::new();
        let mut unreadable = Vec::new();
        for source in flow.sources() {
            let loaded = match options.catalog.locate(&source) {
                Ok(located) => load(&ctx, &located, &source).await,
                Err(e) => Err(e),
            };
            match loaded {
                Ok((df, schema)) => {
                    source_frames.insert(source.clone(), df);
                    source_schemas.insert(source, schema);
                }
                Err(e) => {
                    let readers: Vec<usize> = (0..flow.nodes.len())
                        .filter(|&i| flow.nodes[i].transform.source().as_ref() == Some(&source))
                        .collect();
                    self.progress.finish(&readers, NodeStatus::Failure, Some(&e));
                    unreadable.push(e);
                }
            }
        }
        let (schemas, problems) = flow.check_all(Some(&source_schemas), now_millis);
        if !problems.is_empty() {
            return Err(EngineError::Invalid(Problems(problems)));
        }
        if !unreadable.is_empty() {
            return Err(EngineError::Source(unreadable.join("; ")));
        }
        let schemas: Vec<Schema> = match schemas.into_iter().collect::<Option<Vec<_>>>() {
            Some(s) => s,
            None => return Err(EngineError::Internal("a node's schema is unknown without a reported problem".into())),
        };

        // 2. plans, node by node; shared nodes are materialised in the scratch space
        let consumers = flow.consumers();
        let mut frames: Vec<Option<DataFrame>> = vec![None; flow.nodes.len()];
        // nodes whose rows flow in each frame and are not finished yet
        let mut pending: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); flow.nodes.len()];
        let mut outputs = Vec::new();
        for &i in &flow.order {
            let node = &flow.nodes[i];
            // the date companions an input leaves out are computed now if the node names them
            // or cannot do without them (crate::dates); the others stay out of its input and
            // output schemas too, and are computed further on
            let mut inputs = Vec::new();
            let mut reduced = Vec::new();
            let mut deferred = std::collections::HashSet::new();
            for &j in &node.inputs {
                let df = frames[j].clone().expect("inputs come first");
                let defer = |f: &crate::schema::Field| node.transform.defers_companions() && !node.names(&f.name);
                let df = crate::dates::complete(df, &schemas[j], |f| !defer(f))
                    .map_err(|e| self.attribute(&node.name, e))?;
                let left_out = crate::dates::deferred(&df, &schemas[j]);
                let mut schema = schemas[j].clone();
                schema.fields.retain(|f| !left_out.contains(&f.name));
                deferred.extend(left_out);
                inputs.push(df);
                reduced.push(schema);
            }
            let in_schemas: Vec<&Schema> = reduced.iter().collect();
            let mut out = schemas[i].clone();
            out.fields.retain(|f| f.derived_from.is_none() || !deferred.contains(&f.name));
            let cx = PlanCx {
                ctx: &ctx,
                cancel: &options.cancel,
                node: &node.name,
                sources: &source_frames,
                source_schemas: &source_schemas,
                now_millis,
            };
            let df =
                node.transform.plan(&cx, inputs, &in_schemas, &out).await.map_err(|e| self.attribute(&node.name, e))?;
            let (state, plan) = df.into_parts();
            let df = DataFrame::new(state, tap(plan, i, self.progress.clone()));
            let mut nodes_in: BTreeSet<usize> = node.inputs.iter().flat_map(|&j| pending[j].iter().copied()).collect();
            nodes_in.insert(i);
            if node.transform.sink().is_some() || consumers[i] == 0 {
                outputs.push((i, df, nodes_in));
                continue;
            }
            let reread = flow.nodes.iter().any(|n| n.inputs.contains(&i) && n.transform.rereads_inputs());
            if consumers[i] > 1 || reread {
                let path = scratch.join(format!("node-{i}.parquet"));
                self.write(df, &path, &node.name, &nodes_in).await?;
                let read = ctx
                    .read_parquet(path.display().to_string(), ParquetReadOptions::default())
                    .await
                    .map_err(|e| self.attribute(&node.name, e))?;
                frames[i] = Some(read);
            } else {
                frames[i] = Some(df);
                pending[i] = nodes_in;
            }
        }

        // 3. outputs
        let mut staged: Vec<(StagedVersion, VersionMetadata, usize)> = Vec::new();
        let mut exports = Vec::new();
        for (i, df, nodes_in) in outputs {
            let node = &flow.nodes[i];
            match node.transform.sink() {
                Some(Sink::Dataset(target)) => {
                    let table = data_dir.dataset(&target.alias).map_err(|e| EngineError::node(&node.name, e))?;
                    let version = table.stage(&new_version_id())?;
                    let path = version.dir().join("part-0.parquet");
                    self.write(df, &path, &node.name, &nodes_in).await?;
                    let metadata = VersionMetadata {
                        name: target.alias.clone(),
                        label: target.label.clone(),
                        version_id: version.id().to_string(),
                        created_date: Utc::now(),
                        row_count: self.rows_out(i),
                        fields: schemas[i].fields.clone(),
                        row_level_security_filter: target.row_level_security_filter.clone(),
                        source: options.dataflow_name.clone(),
                        layers: None,
                    };
                    staged.push((version, metadata, i));
                }
                Some(Sink::Export) => {
                    let dir = data_dir
                        .exports_of(&node.name)
                        .map_err(|e| EngineError::node(&node.name, e))?
                        .join(new_version_id());
                    std::fs::create_dir_all(&dir)?;
                    let parquet = dir.join("data.parquet");
                    self.write(df, &parquet, &node.name, &BTreeSet::new()).await?;
                    // the CSV is made from the Parquet just written: the node's rows are computed
                    // (and counted) once; a multi-value field is its values joined by `;`
                    let written = ctx
                        .read_parquet(parquet.display().to_string(), Default::default())
                        .await
                        .map_err(|e| self.attribute(&node.name, e))?;
                    let columns: Vec<datafusion::prelude::Expr> = written
                        .schema()
                        .fields()
                        .iter()
                        .map(|f| {
                            let c = datafusion::prelude::ident(f.name());
                            if matches!(f.data_type(), datafusion::arrow::datatypes::DataType::List(_)) {
                                datafusion::functions_nested::expr_fn::array_to_string(c, datafusion::prelude::lit(";"))
                                    .alias(f.name())
                            } else {
                                c
                            }
                        })
                        .collect();
                    written
                        .select(columns)
                        .map_err(|e| self.attribute(&node.name, e))?
                        .write_csv(
                            &dir.join("data.csv").display().to_string(),
                            DataFrameWriteOptions::new().with_single_file_output(true),
                            None,
                        )
                        .await
                        .map_err(|e| self.attribute(&node.name, e))?;
                    self.progress.finish(&nodes_in.into_iter().collect::<Vec<_>>(), NodeStatus::Success, None);
                    exports.push(dir);
                }
                None => {
                    // a node nobody reads still runs, as in CRM Analytics; its rows are counted
                    let mut stream = df.execute_stream().await.map_err(|e| self.attribute(&node.name, e))?;
                    use futures::StreamExt;
                    while let Some(batch) = stream.next().await {
                        batch.map_err(|e| self.attribute(&node.name, e))?;
                    }
                    self.progress.finish(&nodes_in.into_iter().collect::<Vec<_>>(), NodeStatus::Success, None);
                }
            }
        }

        // 4. copies asked for (`--out`) before anything is committed: a copy that cannot be
        // written fails the run with every dataset as it was
        if let Some(out) = &options.out_dir {
            let failed = |path: &std::path::Path, e: std::io::Error| {
                EngineError::Io(std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))
            };
            std::fs::create_dir_all(out).map_err(|e| failed(out, e))?;
            for (version, metadata, _) in &staged {
                let to = out.join(format!("{}.parquet", metadata.name));
                std::fs::copy(version.dir().join("part-0.parquet"), &to).map_err(|e| failed(&to, e))?;
            }
        }
        // 5. commit: all outputs succeeded
        let mut committed = Vec::new();
        let mut deferred = Vec::new();
        for (mut version, metadata, i) in staged {
            let alias = metadata.name.clone();
            if options.defer_commit {
                version.prepare(&metadata)?;
                deferred.push(StagedDataset { alias, label: metadata.label, row_count: self.rows_out(i), version });
                continue;
            }
            let v = version.commit(&metadata)?;
            committed.push(CommittedDataset {
                alias,
                version_id: metadata.version_id,
                row_count: self.rows_out(i),
                dir: v.dir,
            });
        }
        Ok((committed, deferred, exports))
    }

    /// A failure of a plan, reported on the node whose operators raised it (its tap marked it,
    /// see [`crate::tap::NodeFailure`]), else on `node`, the node that executed the plan.
    fn attribute(&self, node: &str, e: datafusion::error::DataFusionError) -> EngineError {
        match crate::tap::failed_node(&e) {
            Some(f) if f.node < self.flow.nodes.len() => EngineError::Node {
                node: self.flow.nodes[f.node].name.clone(),
                message: clean_df_message(&f.error.to_string()),
            },
            _ => EngineError::Node { node: node.to_string(), message: clean_df_message(&e.to_string()) },
        }
    }

    fn rows_out(&self, node: usize) -> u64 {
        self.progress.snapshot()[node].output_rows
    }

    /// Executes `df` into one Parquet file and marks the nodes whose rows it carried finished.
    async fn write(&self, df: DataFrame, path: &std::path::Path, node: &str, nodes_in: &BTreeSet<usize>) -> Result<()> {
        if std::env::var_os(EXPLAIN_ANALYZE).is_some() {
            explain_analyze(&df, node).await.map_err(|e| self.attribute(node, e))?;
        }
        df.write_parquet(&path.display().to_string(), DataFrameWriteOptions::new().with_single_file_output(true), None)
            .await
            .map_err(|e| self.attribute(node, e))?;
        self.progress.finish(&nodes_in.iter().copied().collect::<Vec<_>>(), NodeStatus::Success, None);
        Ok(())
    }
}

/// Resolves when the data dir's disk has less free space than the run must leave (checked at
/// once, then twice a second): the run's scratch, spills and versions grow there.
async fn watch_space(data_dir: &DataDir, reserve: Option<u64>) -> String {
    loop {
        if let Some(m) = data_dir.low_on_space(reserve) {
            return m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

fn tempfile_dir() -> Result<TempDir> {
    let dir = std::env::temp_dir().join(format!("swell-run-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    Ok(TempDir(dir))
}

struct TempDir(PathBuf);

impl TempDir {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The DataFusion session of a run: `memory_limit` bytes for its operators, spilling under
/// `spill_dir` beyond that.
/// Set, a run prints the plan of each output it writes with DataFusion's metrics per
/// operator (time, rows, bytes, spills) to stderr, for profiling (docs/engine.md, "Where the time goes"). The plan
/// is executed once more to measure it, so nodes count their rows twice.
pub const EXPLAIN_ANALYZE: &str = "SWELL_EXPLAIN_ANALYZE";

async fn explain_analyze(df: &DataFrame, node: &str) -> datafusion::error::Result<()> {
    let batches = df.clone().explain(false, true)?.collect().await?;
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)?;
    eprintln!("plan of {node}, with metrics:\n{text}");
    Ok(())
}

pub fn new_context(
    target_partitions: Option<usize>,
    memory_limit: usize,
    spill_dir: &std::path::Path,
) -> SessionContext {
    let partitions = target_partitions.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let mut config = SessionConfig::new().with_target_partitions(partitions).with_information_schema(false);
    let opts = config.options_mut();
    // the compiler chooses join build sides itself (augment's lookup side); see augment.rs
    opts.optimizer.join_reordering = false;
    // strings as Utf8 everywhere, so plans and stored files agree
    opts.execution.parquet.schema_force_view_types = false;
    opts.execution.parquet.compression = Some("snappy".to_string());
    opts.sql_parser.enable_ident_normalization = false;
    let _ = std::fs::create_dir_all(spill_dir);
    // a fair pool: sorts and other spilling operators each get their share and spill when they
    // reach it, so the merge that follows a spill finds memory (with the greedy default a
    // 10M-row computeRelative sort held the whole pool and its merge failed)
    let pool = datafusion::execution::memory_pool::TrackConsumersPool::new(
        datafusion::execution::memory_pool::FairSpillPool::new(memory_limit),
        std::num::NonZeroUsize::new(5).expect("five is not zero"),
    );
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(pool))
        .with_disk_manager_builder(
            DiskManagerBuilder::default().with_mode(DiskManagerMode::Directories(vec![spill_dir.to_path_buf()])),
        )
        .build_arc()
        .unwrap_or_else(|_| Arc::new(RuntimeEnv::default()));
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_default_features()
        .with_query_planner(Arc::new(TapQueryPlanner))
        .build();
    let ctx = SessionContext::new_with_state(state);
    // the functions recipe formulas are rewritten to (see recipe::sql)
    crate::recipe::sql::register(&ctx);
    ctx
}

/// Convenience for callers that have definition text.
pub fn parse_and_check_static(text: &str) -> std::result::Result<Dataflow, Problems> {
    crate::flow::validate(text)
}

/// Writes the rows of a CSV or Parquet file as a new current version of `table` (a connected
/// object or a dataset), with types inferred as for `--objects` files. Used to load bundled
/// sample data and by tests; the connectors write versions the same way.
pub async fn import_file(
    table: &crate::storage::VersionedTable,
    file: &std::path::Path,
    name: &str,
    label: &str,
) -> Result<crate::storage::Version> {
    let format = match file.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("parquet") => crate::source::FileFormat::Parquet,
        Some("csv") => crate::source::FileFormat::Csv,
        _ => return Err(EngineError::Source(format!("{}: expected a .csv or .parquet file", file.display()))),
    };
    let located = crate::source::Located { files: vec![file.to_path_buf()], format, metadata: None, layers: None };
    let ctx = SessionContext::new();
    let what = SourceRef::Dataset(name.to_string());
    let (df, schema) = load(&ctx, &located, &what).await.map_err(EngineError::Source)?;
    let exprs: Vec<datafusion::prelude::Expr> = schema
        .fields
        .iter()
        .map(|f| {
            datafusion::logical_expr::cast(datafusion::prelude::ident(f.name.as_str()), f.ty.storage_type())
                .alias(f.name.as_str())
        })
        .collect();
    let df = df.select(exprs).map_err(|e| EngineError::Source(e.to_string()))?;
    let id = new_version_id();
    let staged = table.stage(&id)?;
    let path = staged.dir().join("part-0.parquet");
    let batches = df
        .write_parquet(&path.display().to_string(), DataFrameWriteOptions::new().with_single_file_output(true), None)
        .await
        .map_err(|e| EngineError::Source(clean_df_message(&e.to_string())))?;
    let rows: u64 = batches
        .iter()
        .filter_map(|b| {
            b.column(0).as_any().downcast_ref::<datafusion::arrow::array::UInt64Array>().map(|a| a.value(0))
        })
        .sum();
    let metadata = VersionMetadata {
        name: name.to_string(),
        label: label.to_string(),
        version_id: id,
        created_date: Utc::now(),
        row_count: rows,
        fields: schema.fields,
        row_level_security_filter: None,
        source: Some(file.display().to_string()),
        layers: None,
    };
    Ok(staged.commit(&metadata)?)
}
