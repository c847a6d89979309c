//! swell-scheduler: runs queued jobs.
//!
//! The queue is the store: the API writes intent (a Queued job, a stop request) and the runner
//! alone moves jobs through their states. One loop claims queued jobs (compare-and-set in the
//! store, so two runners never take one job) within per-type concurrency limits (CRM Analytics'
//! defaults: 2 dataflows, 3 recipes, 3 data syncs), and never runs two jobs of one dataflow at
//! once. Each claimed job is a tokio task running the engine; its live node report is written
//! to the store twice a second. A stop cancels the engine run, which commits nothing.
//!
//! On start, jobs found Running died with the previous process: they become Failure; queued
//! jobs stay queued and run.

mod schedules;
mod sync;

pub use schedules::{CatchUp, Clock, Fired, Scheduler, SystemClock};
pub use sync::open_source;

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use swell_core::{JobStatus, JobType, SalesforceId, Transition};
use swell_engine::{DataDir, Dataflow, EngineError, FileCatalog, NodeReport, NodeStatus, Run, RunOptions, SourceRef};
use swell_store::{JobRecord, NodeState, Store, StoreError};
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

/// A running job whose server has not written for this long is taken as dead.
const STALE_AFTER_SECS: i64 = 30;

/// How many jobs of each kind may run at once.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub dataflows: usize,
    pub recipes: usize,
    pub syncs: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { dataflows: 2, recipes: 3, syncs: 3 }
    }
}

impl Limits {
    fn of(&self, t: JobType) -> usize {
        match t {
            JobType::User => self.dataflows,
            JobType::RecipeV3 => self.recipes,
            JobType::DataSync => self.syncs,
        }
    }
}

/// The job runner.
pub struct Runner {
    store: Store,
    /// This server's identity in the store (kept in the data dir, so it survives restarts).
    server_id: String,
    data_dir: DataDir,
    limits: Limits,
    wake: Notify,
    /// Cancellation handles of the jobs this process runs.
    active: Mutex<HashMap<SalesforceId, CancellationToken>>,
    shutdown: CancellationToken,
    /// Engine runs execute here, not on the caller's runtime: DataFusion's CPU-bound work would
    /// otherwise hold the threads that answer HTTP requests (a stop must get through at once).
    engine: EngineRuntime,
    /// Every job this process ends, for event-driven schedules.
    ended: broadcast::Sender<JobEnded>,
    /// One sync at a time per connected object (a Run Now and a sync before run may meet).
    sync_locks: Mutex<HashMap<ObjectKey, Arc<tokio::sync::Mutex<()>>>>,
    /// Seals and opens connection secrets (the key lives in the data dir), opened on first use.
    vault: std::sync::OnceLock<swell_connect::Vault>,
}

/// A connected object: its connection and source object name.
type ObjectKey = (SalesforceId, String);

/// A job this runner finished.
#[derive(Debug, Clone, PartialEq)]
pub struct JobEnded {
    pub job_id: SalesforceId,
    pub dataflow_id: SalesforceId,
    pub job_type: JobType,
    pub status: JobStatus,
    pub at: DateTime<Utc>,
}

/// A dedicated multi-threaded runtime, shut down without blocking when dropped (a runtime
/// dropped inside another one's async context would panic).
struct EngineRuntime(Option<tokio::runtime::Runtime>);

impl EngineRuntime {
    fn new() -> Self {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("swell-engine")
            .enable_all()
            .build()
            .expect("the engine runtime starts");
        EngineRuntime(Some(rt))
    }

    fn handle(&self) -> &tokio::runtime::Handle {
        self.0.as_ref().expect("alive until dropped").handle()
    }
}

impl Drop for EngineRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Runner {
    pub fn new(store: Store, data_dir: DataDir, limits: Limits, server_id: impl Into<String>) -> Arc<Runner> {
        Arc::new(Runner {
            store,
            server_id: server_id.into(),
            data_dir,
            limits,
            wake: Notify::new(),
            active: Mutex::new(HashMap::new()),
            shutdown: CancellationToken::new(),
            engine: EngineRuntime::new(),
            ended: broadcast::channel(256).0,
            sync_locks: Mutex::new(HashMap::new()),
            vault: std::sync::OnceLock::new(),
        })
    }

    /// The vault of connection secrets (`DATA_DIR/secret.key` or `SWELL_SECRET_KEY`).
    pub fn vault(&self) -> Result<&swell_connect::Vault, String> {
        if let Some(v) = self.vault.get() {
            return Ok(v);
        }
        let v = swell_connect::Vault::open(self.data_dir.root())
            .map_err(|e| format!("cannot open the key of connection secrets: {e}"))?;
        Ok(self.vault.get_or_init(|| v))
    }

    /// The jobs this runner ends, as they end.
    pub fn subscribe(&self) -> broadcast::Receiver<JobEnded> {
        self.ended.subscribe()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Recovers after a restart, then runs the claim loop until [`Runner::shutdown`].
    pub async fn run(self: Arc<Self>) -> Result<(), RunnerError> {
        let mut last_sweep = std::time::Instant::now();
        self.recover().await?;
        loop {
            if let Err(e) = self.claim_ready().await {
                tracing::error!(error = %e, "claiming jobs failed");
            }
            // other servers sharing the database may die: sweep their silent jobs now and then
            if last_sweep.elapsed() > Duration::from_secs(10) {
                last_sweep = std::time::Instant::now();
                if let Err(e) = self.recover().await {
                    tracing::error!(error = %e, "recovering interrupted jobs failed");
                }
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = self.shutdown.cancelled() => break,
            }
        }
        // stop what runs: a shutdown is not a user's stop, so those jobs end as interrupted
        // (Failure, saying the server stopped), exactly as after a crash
        let tokens: Vec<CancellationToken> = self.lock().values().cloned().collect();
        for t in tokens {
            t.cancel();
        }
        for _ in 0..100 {
            if self.lock().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// Fails the jobs this server ran before a restart and those of servers gone silent.
    async fn recover(&self) -> Result<(), RunnerError> {
        for job in self.store.recover_interrupted(&self.server_id, chrono::Duration::seconds(STALE_AFTER_SECS)).await? {
            tracing::warn!(job = %job.id, "marked as failed: the server stopped while it ran");
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SalesforceId, CancellationToken>> {
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Asks the loop to look at the queue now (after a job was queued or a run ended).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub fn shutdown(&self) {
        self.shutdown.cancel();
    }

    async fn claim_ready(self: &Arc<Self>) -> Result<(), RunnerError> {
        for job_type in JobType::ALL {
            while (self.store.count_running(job_type).await? as usize) < self.limits.of(job_type) {
                let Some(job) = self.store.claim_next(&[job_type], &self.server_id).await? else { break };
                let token = CancellationToken::new();
                self.lock().insert(job.id.clone(), token.clone());
                let runner = self.clone();
                tokio::spawn(async move {
                    let id = job.id.clone();
                    runner.execute(job, token).await;
                    runner.lock().remove(&id);
                    runner.wake();
                });
            }
        }
        Ok(())
    }

    /// Stops a job: a queued one is cancelled at once, a running one is cancelled through its
    /// engine run. Returns the job as it is after the request.
    pub async fn stop(&self, id: &SalesforceId) -> Result<JobRecord, StoreError> {
        let job = self.store.job(id).await?;
        match job.status {
            JobStatus::Queued => match self.store.transition(id, Transition::Stop, Some("Stopped by a user.")).await {
                Ok(j) => Ok(j),
                // it was claimed meanwhile: stop the run instead
                Err(StoreError::Conflict(_)) => self.stop_running(id).await,
                Err(e) => Err(e),
            },
            JobStatus::Running => self.stop_running(id).await,
            _ => Err(StoreError::Transition(swell_core::TransitionError {
                from: job.status,
                transition: Transition::Stop,
            })),
        }
    }

    async fn stop_running(&self, id: &SalesforceId) -> Result<JobRecord, StoreError> {
        let job = self.store.request_stop(id).await?;
        let token = self.lock().get(id).cloned();
        match token {
            Some(t) => {
                t.cancel();
                // the run ends within a second; report the final state when it has
                for _ in 0..40 {
                    let j = self.store.job(id).await?;
                    if j.status.is_finished() {
                        return Ok(j);
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                self.store.job(id).await
            }
            // running in another process: it sees the stop request when it polls
            None => Ok(job),
        }
    }

    async fn execute(&self, job: JobRecord, cancel: CancellationToken) {
        let outcome = self.execute_inner(&job, cancel).await;
        let (transition, message) = match outcome {
            Ok(()) => (Transition::Succeed, None),
            Err(Failure::Stopped) if self.shutdown.is_cancelled() => {
                (Transition::Crash, Some("The server stopped while this job ran.".to_string()))
            }
            Err(Failure::Stopped) => (Transition::Stop, Some("Stopped by a user.".to_string())),
            Err(Failure::Message(m)) => (Transition::Fail, Some(m)),
        };
        match self.store.transition(&job.id, transition, message.as_deref()).await {
            Ok(done) => {
                let _ = self.ended.send(JobEnded {
                    job_id: done.id,
                    dataflow_id: done.dataflow_id,
                    job_type: done.job_type,
                    status: done.status,
                    at: done.end_date.unwrap_or_else(Utc::now),
                });
            }
            Err(e) => tracing::error!(job = %job.id, error = %e, "could not record the end of a job"),
        }
    }

    async fn execute_inner(&self, job: &JobRecord, cancel: CancellationToken) -> Result<(), Failure> {
        if job.job_type == JobType::DataSync {
            return self.execute_sync(job, cancel).await;
        }
        let dataflow = self.store.dataflow(&job.dataflow_id).await.map_err(|e| Failure::Message(e.to_string()))?;
        let flow = Dataflow::parse(&dataflow.definition.to_string())
            .map_err(|p| Failure::Message(format!("The dataflow definition is invalid: {p}")))?;
        let objects: Vec<(String, String)> = flow
            .sources()
            .into_iter()
            .filter_map(|s| match s {
                SourceRef::Object { connection, object } => Some((connection, object)),
                SourceRef::Dataset(_) => None,
            })
            .collect();
        let synced = self.sync_before_run(&objects, &cancel).await?;
        if !synced.is_empty()
            && let Err(e) = self.store.set_job_syncs(&job.id, &synced).await
        {
            tracing::warn!(job = %job.id, error = %e, "could not record the syncs before the run");
        }
        let run = Run::new(flow);
        let progress = run.progress();
        let catalog = FileCatalog { objects_dir: None, data_dir: Some(self.data_dir.clone()) };
        let mut options = RunOptions::new(Arc::new(catalog));
        options.data_dir = Some(self.data_dir.clone());
        options.cancel = cancel.clone();
        options.dataflow_name = Some(dataflow.name.clone());
        let exec = self.engine.handle().spawn(async move { run.execute(options).await });
        tokio::pin!(exec);
        let result = loop {
            tokio::select! {
                r = &mut exec => break r.unwrap_or_else(|e| Err(EngineError::Internal(format!("the run panicked: {e}")))),
                _ = tokio::time::sleep(Duration::from_millis(500)) => {
                    self.save_progress(&job.id, &progress.snapshot()).await;
                    // a stop requested through another process
                    if let Ok(j) = self.store.job(&job.id).await && j.stop_requested {
                        cancel.cancel();
                    }
                }
            }
        };
        self.save_progress(&job.id, &progress.snapshot()).await;
        match result {
            Ok(outcome) => {
                for d in outcome.datasets {
                    let label = d.alias.clone();
                    let label = self
                        .data_dir
                        .dataset(&d.alias)
                        .version(&d.version_id)
                        .map(|v| v.metadata.label)
                        .unwrap_or(label);
                    self.store
                        .record_dataset_version(&d.alias, &label, &d.version_id, d.row_count as i64, Some(&job.id))
                        .await
                        .map_err(|e| Failure::Message(e.to_string()))?;
                }
                Ok(())
            }
            Err(EngineError::Cancelled) => Err(Failure::Stopped),
            Err(e) => Err(Failure::Message(job_message(&e))),
        }
    }

    async fn save_progress(&self, id: &SalesforceId, nodes: &[NodeReport]) {
        let records: Vec<NodeState> = nodes
            .iter()
            .map(|n| NodeState {
                name: n.name.clone(),
                node_type: n.action.clone(),
                status: node_status(n.status).to_string(),
                start_date: n.start_date,
                duration_ms: n.duration_ms.map(|d| d as i64),
                input_rows: n.input_rows as i64,
                output_rows: n.output_rows as i64,
                message: n.message.clone(),
            })
            .collect();
        let done = nodes.iter().filter(|n| n.status == NodeStatus::Success).count();
        let fraction = if nodes.is_empty() { 0.0 } else { done as f64 / nodes.len() as f64 };
        let _ = self.store.heartbeat(id).await;
        if let Err(e) = self.store.save_nodes(id, &records).await {
            tracing::warn!(job = %id, error = %e, "could not save node progress");
        }
        let _ = self.store.set_progress(id, fraction).await;
    }
}

enum Failure {
    Stopped,
    Message(String),
}

/// The job message, naming the node as CRM Analytics does.
fn job_message(e: &EngineError) -> String {
    match e {
        EngineError::Node { node, message } => {
            format!("Something went wrong while executing the {node} node: {message}")
        }
        EngineError::Invalid(p) => format!("The dataflow definition is invalid: {p}"),
        other => other.to_string(),
    }
}

/// Node statuses of the nodes API (lowercase: pending, running, success, error, aborted).
pub fn node_status(s: NodeStatus) -> &'static str {
    match s {
        NodeStatus::Queued => "pending",
        NodeStatus::Running => "running",
        NodeStatus::Success => "success",
        NodeStatus::Failure => "error",
        NodeStatus::Cancelled => "aborted",
    }
}
