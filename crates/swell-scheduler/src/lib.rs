//! swell-scheduler: runs queued jobs.
//!
//! The queue is the store: the API writes intent (a Queued job, a stop request) and the runner
//! alone moves jobs through their states. One loop claims queued jobs (compare-and-set in the
//! store, so two runners never take one job) within per-type concurrency limits (CRM Analytics'
//! defaults: 2 dataflows, 3 recipes, 3 data syncs), and never runs two jobs of one dataflow at
//! once. Each claimed job is a tokio task running the engine; its live node report is written
//! to the store twice a second. A stop cancels the engine run, which commits nothing.
//!
//! On start, jobs this server left Running died with its previous process: they become Failure
//! once; queued jobs stay queued and run. While it runs, the server says it is alive (a
//! heartbeat on its running jobs) and now and then fails the Running jobs of servers that went
//! silent; its own jobs are never taken, however long they run.
//!
//! A dataflow or recipe run ends in one compare-and-set: the job's Success and the dataset
//! versions it wrote are one store transaction, taken only while the job is still this
//! server's Running job with no stop requested; the versions are published (made current)
//! only after it. A run whose job ended meanwhile (stopped, failed by a sweep) publishes
//! nothing. A crash between the two is finished by the next start's sweep of the data dir,
//! which publishes what the store recorded and discards the rest.
//!
//! A panic inside a job ends that job as Failure; it never takes the process down.

mod schedules;
mod sync;

pub use schedules::{CatchUp, Clock, Fired, Scheduler, SystemClock};
pub use swell_connect::FolderPolicy;
pub use sync::{ADVANCED_PROPERTIES, AdvancedProperty, check_advanced_properties, check_sync_settings, open_source};

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use swell_core::{FailureClass, JobStatus, JobType, SalesforceId, Transition};
use swell_engine::storage::{self, TableKind, VersionedTable};
use swell_engine::{
    DataDir, Dataflow, EngineError, FileCatalog, NodeReport, NodeStatus, Run, RunOptions, SourceRef, StagedDataset,
};
use swell_store::{JobRecord, NewVersion, NodeState, ReplicatedRecord, Store, StoreError};
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

/// The runner's timers and limits (`swell serve`'s flags). The defaults suit one machine; a
/// test shortens the timers to prove that a job longer than all of them runs once.
#[derive(Debug, Clone)]
pub struct RunnerSettings {
    pub limits: Limits,
    /// This server's identity in the store (kept in the data dir, so it survives restarts).
    pub server_id: String,
    /// How often the server says its running jobs are alive.
    pub heartbeat_every: Duration,
    /// A running job whose server has been silent this long is taken as dead (by any server).
    pub stale_after: Duration,
    /// How often silent servers' jobs are looked for.
    pub sweep_every: Duration,
    /// How often a running job's progress is saved and a stop requested elsewhere noticed.
    pub progress_every: Duration,
    /// The local folders connections may read.
    pub folders: swell_connect::FolderPolicy,
    /// Free space runs and syncs leave on the data dir's disk (`None`: the engine's default,
    /// [`swell_engine::storage::default_reserve`]).
    pub min_free_bytes: Option<u64>,
    /// Memory a run's operators, and the merge of an incremental sync, may use before they
    /// spill (`None`: the engine's default,
    /// [`swell_engine::run::DEFAULT_MEMORY_LIMIT`]).
    pub memory_limit: Option<usize>,
    /// The key of connection secrets, 64 hex digits (`None`: DATA_DIR/secret.key).
    pub secret_key: Option<String>,
}

impl RunnerSettings {
    pub fn new(server_id: impl Into<String>) -> Self {
        RunnerSettings {
            limits: Limits::default(),
            server_id: server_id.into(),
            heartbeat_every: Duration::from_secs(5),
            stale_after: Duration::from_secs(30),
            sweep_every: Duration::from_secs(10),
            progress_every: Duration::from_millis(500),
            folders: swell_connect::FolderPolicy::default(),
            min_free_bytes: None,
            memory_limit: None,
            secret_key: None,
        }
    }
}

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
    settings: RunnerSettings,
    wake: Notify,
    /// Cancellation handles of the jobs this process runs.
    active: Mutex<HashMap<SalesforceId, CancellationToken>>,
    shutdown: CancellationToken,
    /// Engine runs execute here, not on the caller's runtime: DataFusion's CPU-bound work would
    /// otherwise hold the threads that answer HTTP requests (a stop must get through at once).
    engine: EngineRuntime,
    /// Every job this process ends, for event-driven schedules.
    ended: broadcast::Sender<JobEnded>,
    /// Seals and opens connection secrets (the key lives in the data dir), opened on first use.
    vault: std::sync::OnceLock<swell_connect::Vault>,
}

/// How long a stop waits for the run to end before it answers with the job as it is then.
const STOP_WAIT: Duration = Duration::from_secs(2);

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
        let rt = swell_engine::runtime_builder()
            .worker_threads(threads)
            .thread_name("swell-engine")
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
    /// Files of the data dir that could not be changed.
    #[error("{0}")]
    Data(String),
}

impl Runner {
    pub fn new(store: Store, data_dir: DataDir, settings: RunnerSettings) -> Arc<Runner> {
        Arc::new(Runner {
            store,
            server_id: settings.server_id.clone(),
            data_dir,
            settings,
            wake: Notify::new(),
            active: Mutex::new(HashMap::new()),
            shutdown: CancellationToken::new(),
            engine: EngineRuntime::new(),
            ended: broadcast::channel(256).0,
            vault: std::sync::OnceLock::new(),
        })
    }

    /// The vault of connection secrets (`DATA_DIR/secret.key` or the settings' key).
    pub fn vault(&self) -> Result<&swell_connect::Vault, String> {
        if let Some(v) = self.vault.get() {
            return Ok(v);
        }
        let v = swell_connect::Vault::open(self.data_dir.root(), self.settings.secret_key.as_deref())
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

    /// The local folders connections may read.
    pub fn folders(&self) -> &swell_connect::FolderPolicy {
        &self.settings.folders
    }

    /// Recovers after a restart, then runs the claim loop until [`Runner::shutdown`].
    pub async fn run(self: Arc<Self>) -> Result<(), RunnerError> {
        let mut last_sweep = std::time::Instant::now();
        // the data dir first: once a dead job shows as failed, what it left is cleaned
        self.sweep_data_dir().await;
        self.recover(true).await?;
        let heartbeat = tokio::spawn({
            let runner = self.clone();
            async move {
                loop {
                    if let Err(e) = runner.store.heartbeat(&runner.server_id).await {
                        tracing::warn!(error = %e, "could not say that this server's jobs are alive");
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(runner.settings.heartbeat_every) => {}
                        _ = runner.shutdown.cancelled() => break,
                    }
                }
            }
        });
        loop {
            if let Err(e) = self.claim_ready().await {
                tracing::error!(error = %e, "claiming jobs failed");
            }
            // other servers sharing the database may die: sweep their silent jobs now and then
            if last_sweep.elapsed() > self.settings.sweep_every {
                last_sweep = std::time::Instant::now();
                match self.recover(false).await {
                    // what dead writers left: a server that died, a commit whose record failed
                    // here (settled once the store answers), a stopped run's staging folder that
                    // its writer's last file outlived
                    Ok(_) => self.sweep_data_dir().await,
                    Err(e) => tracing::error!(error = %e, "recovering interrupted jobs failed"),
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
        heartbeat.abort();
        Ok(())
    }

    /// Fails the jobs of servers gone silent and, at start (`own_too`), those this server ran
    /// before it restarted. Returns how many.
    async fn recover(&self, own_too: bool) -> Result<usize, RunnerError> {
        let stale = chrono::Duration::from_std(self.settings.stale_after).unwrap_or(chrono::Duration::MAX);
        let failed = self.store.recover_interrupted(&self.server_id, stale, own_too).await?;
        for job in &failed {
            tracing::warn!(job = %job.id, "marked as failed: the server stopped while it ran");
        }
        Ok(failed.len())
    }

    /// Cleans the data dir after runs that died: scratch removed, a dataset version the store
    /// recorded as committed published (the run died between its record and its publication),
    /// every other staging folder discarded. Live runs, here or in another process, are left
    /// alone.
    async fn sweep_data_dir(&self) {
        self.settle_dead_commits().await;
        let Some(dead) = self.on_data_dir("could not sweep the data dir", DataDir::sweep).await else { return };
        for staging in dead {
            let recorded = match &staging.kind {
                TableKind::Dataset(alias) if staging.prepared() => {
                    match self.store.version_by_storage(alias, &staging.version_id).await {
                        Ok(r) => r.map(|(_, current)| current),
                        Err(e) => {
                            tracing::warn!(error = %e, "could not look a staged version up; left for later");
                            continue;
                        }
                    }
                }
                _ => None,
            };
            let version = staging.version_id.clone();
            let result = match recorded {
                Some(current) => staging.publish(current),
                None => staging.discard(),
            };
            match result {
                Ok(()) if recorded.is_some() => tracing::warn!(version, "finished an interrupted commit"),
                Ok(()) => tracing::info!(version, "removed what a dead run was writing"),
                Err(e) => tracing::warn!(version, error = %e, "could not clean a dead run's staging"),
            }
        }
    }

    /// Reads the data dir off the async threads (it lists every table); a failure is logged
    /// as `what` and gives nothing.
    async fn on_data_dir<T: Send + 'static>(
        &self,
        what: &str,
        f: impl FnOnce(&DataDir) -> std::io::Result<T> + Send + 'static,
    ) -> Option<T> {
        let data_dir = self.data_dir.clone();
        match tokio::task::spawn_blocking(move || f(&data_dir)).await {
            Ok(Ok(v)) => Some(v),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "{what}");
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "{what}");
                None
            }
        }
    }

    /// Settles the dataset commits a writer published but did not settle (it died between
    /// publishing and its record, or the record's outcome was unknown): kept when the store
    /// recorded them, undone when it did not, left for later when the store cannot say.
    async fn settle_dead_commits(&self) {
        let Some(dead) = self.on_data_dir("could not look for unsettled commits", DataDir::dead_commits).await else {
            return;
        };
        for commit in dead {
            let Some(last) = commit.versions().last().cloned() else {
                let _ = commit.undo();
                continue;
            };
            let alias = commit.alias.clone();
            let result = match self.store.version_by_storage(&alias, &last).await {
                Ok(Some(_)) => commit.finish().map(|()| "kept"),
                Ok(None) => commit.undo().map(|()| "undone"),
                Err(e) => {
                    tracing::warn!(alias, error = %e, "could not look a commit up; left for later");
                    continue;
                }
            };
            match result {
                Ok(outcome) => tracing::warn!(alias, version = last, outcome, "settled an interrupted commit"),
                Err(e) => tracing::warn!(alias, error = %e, "could not settle an interrupted commit"),
            }
        }
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
            let limit = self.settings.limits.of(job_type);
            while let Some(job) = self.store.claim_next(job_type, &self.server_id, limit).await? {
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
        // listen before cancelling, so that the end cannot be missed
        let mut ended = self.ended.subscribe();
        let token = self.lock().get(id).cloned();
        match token {
            Some(t) => {
                t.cancel();
                // the run ends within a second: answer with its final state once it has (it may
                // have ended just before the stop, and then nothing more is announced)
                let current = self.store.job(id).await?;
                if current.status.is_finished() {
                    return Ok(current);
                }
                let end = async {
                    loop {
                        match ended.recv().await {
                            Ok(e) if e.job_id == *id => break,
                            Err(broadcast::error::RecvError::Closed) => break,
                            _ => {}
                        }
                    }
                };
                let _ = tokio::time::timeout(STOP_WAIT, end).await;
                self.store.job(id).await
            }
            // running in another process: it sees the stop request when it polls
            None => Ok(job),
        }
    }

    async fn execute(self: &Arc<Self>, job: JobRecord, cancel: CancellationToken) {
        // a panic ends the job, not the process (nor the job's bookkeeping)
        let task = tokio::spawn({
            let (runner, job) = (self.clone(), job.clone());
            async move { runner.execute_inner(&job, cancel).await }
        });
        let outcome = task.await.unwrap_or_else(|e| {
            let detail =
                if e.is_panic() { swell_engine::panic_message(e.into_panic().as_ref()) } else { e.to_string() };
            tracing::error!(job = %job.id, detail, "a job panicked");
            Err(Failure::internal(format!("the job's task ended unexpectedly: {detail}")))
        });
        let ended = match outcome {
            Ok(staged) => return self.succeed(&job, staged).await,
            Err(Failure::Stopped) if self.shutdown.is_cancelled() => {
                self.store.transition(&job.id, Transition::Crash, Some("The server stopped while this job ran.")).await
            }
            Err(Failure::Stopped) => self.store.transition(&job.id, Transition::Stop, Some("Stopped by a user.")).await,
            // the server's own paths are not for API clients: the data dir is named, not shown
            Err(Failure::Failed(class, m)) => self.store.fail(&job.id, class, &class.message(&self.scrub(&m))).await,
        };
        match ended {
            Ok(done) => self.announce(&done),
            Err(e) => tracing::error!(job = %job.id, error = %e, "could not record the end of a job"),
        }
    }

    /// `message` without the data dir's absolute path.
    fn scrub(&self, message: &str) -> String {
        scrub(message, self.data_dir.root())
    }

    fn announce(&self, done: &JobRecord) {
        let _ = self.ended.send(JobEnded {
            job_id: done.id.clone(),
            dataflow_id: done.dataflow_id.clone(),
            job_type: done.job_type,
            status: done.status,
            at: done.end_date.unwrap_or_else(Utc::now),
        });
    }

    /// Ends a job whose run succeeded: its Success and its dataset versions are recorded in one
    /// compare-and-set, then the versions are published, under the locks of their datasets
    /// (commits of one dataset are serialized, so the last one recorded is the one current).
    async fn succeed(&self, job: &JobRecord, staged: Vec<StagedDataset>) {
        let mut tables: Vec<&VersionedTable> = staged.iter().map(|s| s.version.table()).collect();
        tables.sort_by(|a, b| a.dir().cmp(b.dir()));
        tables.dedup_by(|a, b| a.dir() == b.dir());
        let mut locks = Vec::new();
        for t in tables {
            match t.lock_async().await {
                Ok(lock) => locks.push(lock),
                Err(e) => {
                    let m = format!("could not lock the dataset to commit: {e}");
                    return self.end_after_failed_commit(job, m).await;
                }
            }
        }
        let versions: Vec<NewVersion> = staged
            .iter()
            .map(|s| NewVersion {
                name: s.alias.clone(),
                label: s.label.clone(),
                storage_version: s.version.id().to_string(),
                row_count: s.row_count as i64,
            })
            .collect();
        match self.store.begin_success(&job.id, &self.server_id, &versions).await {
            Ok(Some(pending)) => {
                // published while the record is written but not visible: whoever sees the
                // Success finds the datasets in place
                let publication = match storage::publish_all(staged.into_iter().map(|s| s.version).collect()) {
                    Ok(p) => p,
                    Err(e) => {
                        drop(pending);
                        drop(locks);
                        return self.end_after_failed_commit(job, format!("could not publish the datasets: {e}")).await;
                    }
                };
                match pending.commit().await {
                    Ok(done) => {
                        publication.confirm();
                        drop(locks);
                        self.announce(&done);
                    }
                    Err(e) => {
                        // the record may or may not have been made (a lost connection): the
                        // sweep settles the publication once the store answers
                        drop(publication);
                        drop(locks);
                        self.end_after_failed_commit(job, format!("could not record the end of the job: {e}")).await;
                    }
                }
            }
            Ok(None) => {
                // the job is no longer ours to end as Success: nothing is published, and the
                // nodes say so
                drop(staged);
                drop(locks);
                if let Err(e) =
                    self.store.abort_nodes(&job.id, "The job ended before its datasets were committed.").await
                {
                    tracing::warn!(job = %job.id, error = %e, "could not mark the nodes aborted");
                }
                match self.store.job(&job.id).await {
                    Ok(j) if j.status == JobStatus::Running && j.stop_requested => {
                        match self.store.transition(&job.id, Transition::Stop, Some("Stopped by a user.")).await {
                            Ok(done) => self.announce(&done),
                            Err(e) => tracing::error!(job = %job.id, error = %e, "could not record a stop"),
                        }
                    }
                    Ok(j) => {
                        tracing::warn!(job = %job.id, status = %j.status, "the job ended elsewhere; its run committed nothing")
                    }
                    Err(e) => tracing::error!(job = %job.id, error = %e, "could not read a job"),
                }
            }
            Err(e) => {
                drop(staged);
                drop(locks);
                self.end_after_failed_commit(job, format!("could not record the end of the job: {e}")).await;
            }
        }
    }

    async fn end_after_failed_commit(&self, job: &JobRecord, message: String) {
        tracing::error!(job = %job.id, message, "commit failed");
        match self.store.fail(&job.id, FailureClass::Internal, &FailureClass::Internal.message(&message)).await {
            Ok(done) => self.announce(&done),
            Err(e) => tracing::error!(job = %job.id, error = %e, "could not record the end of a job"),
        }
    }

    async fn execute_inner(&self, job: &JobRecord, cancel: CancellationToken) -> Result<Vec<StagedDataset>, Failure> {
        if job.job_type == JobType::DataSync {
            return self.execute_sync(job, cancel).await.map(|()| Vec::new());
        }
        let mut added = Vec::new();
        let result = self.execute_run(job, cancel, &mut added).await;
        if result.is_err() {
            // a run that fails leaves the connections as it found them
            for record in added {
                if let Err(e) = self.remove_object(&record).await {
                    tracing::warn!(object = %record.source_object, error = %e, "could not undo an added connected object");
                }
            }
        }
        result
    }

    /// Removes a connected object: its data first (a sync of it in progress finishes first),
    /// then its record. Data that cannot be removed keeps the record, so that nothing is left
    /// on disk that no record owns.
    pub async fn remove_object(&self, record: &ReplicatedRecord) -> Result<(), RunnerError> {
        let connector = self.store.connector(&record.connector_id).await?;
        match self.data_dir.connected_object(&connector.name, &record.source_object) {
            Ok(table) => {
                let lock = table.lock_async().await.map_err(|e| RunnerError::Data(e.to_string()))?;
                let data_dir = self.data_dir.clone();
                // the files go off the async threads
                tokio::task::spawn_blocking(move || {
                    let _lock = lock;
                    data_dir.remove_table(&table)
                })
                .await
                .map_err(|e| RunnerError::Data(e.to_string()))?
                .map_err(|e| {
                    RunnerError::Data(format!(
                        "the data of connected object {} could not be removed: {e}",
                        record.source_object
                    ))
                })?;
            }
            Err(e) => tracing::warn!(error = %e, "a connected object with a name that is not a file name"),
        }
        Ok(self.store.delete_replicated(&record.id).await?)
    }

    async fn execute_run(
        &self,
        job: &JobRecord,
        cancel: CancellationToken,
        added: &mut Vec<ReplicatedRecord>,
    ) -> Result<Vec<StagedDataset>, Failure> {
        let dataflow = self.store.dataflow(&job.dataflow_id).await.map_err(Failure::internal)?;
        let flow = Dataflow::from_value(dataflow.definition.clone())
            .map_err(|p| Failure::definition(format!("The {} definition is invalid: {p}", asset_word(job.job_type))))?;
        let objects: Vec<(String, String)> = flow
            .sources()
            .into_iter()
            .filter_map(|s| match s {
                SourceRef::Object { connection, object } => Some((connection, object)),
                SourceRef::Dataset(_) => None,
            })
            .collect();
        let synced = self.sync_before_run(job, &objects, &cancel, added).await?;
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
        options.defer_commit = true;
        options.min_free_bytes = self.settings.min_free_bytes;
        if let Some(limit) = self.settings.memory_limit {
            options.memory_limit = limit;
        }
        let exec = self.engine.handle().spawn(async move { run.execute(options).await });
        let joined = self.watch(&job.id, &cancel, exec, || Ok(progress.snapshot())).await?;
        let result = joined.unwrap_or_else(|e| {
            let detail =
                if e.is_panic() { swell_engine::panic_message(e.into_panic().as_ref()) } else { e.to_string() };
            Err(EngineError::Internal(format!("the run panicked: {detail}")))
        });
        self.save_progress(&job.id, &progress.snapshot()).await;
        match result {
            Ok(outcome) => Ok(outcome.staged),
            Err(EngineError::Cancelled) => Err(Failure::Stopped),
            Err(e) => Err(Failure::Failed(e.class().unwrap_or(FailureClass::Internal), job_message(&e, job.job_type))),
        }
    }

    /// The one watch loop of a running job: runs `work` to its end while, every
    /// `progress_every`, saving the nodes `progress` reports and turning a stop requested
    /// through the store (by another server) into `cancel`. `progress` may end the job instead
    /// when the machine runs short (`Err`, with the job's message): the work is then dropped.
    async fn watch<T>(
        &self,
        job: &SalesforceId,
        cancel: &CancellationToken,
        work: impl std::future::Future<Output = T>,
        mut progress: impl FnMut() -> Result<Vec<NodeReport>, String>,
    ) -> Result<T, Failure> {
        tokio::pin!(work);
        loop {
            tokio::select! {
                done = &mut work => return Ok(done),
                _ = tokio::time::sleep(self.settings.progress_every) => {
                    let nodes = progress().map_err(Failure::resources)?;
                    self.save_progress(job, &nodes).await;
                    if let Ok(j) = self.store.job(job).await && j.stop_requested {
                        cancel.cancel();
                    }
                }
            }
        }
    }

    async fn save_progress(&self, id: &SalesforceId, nodes: &[NodeReport]) {
        let records: Vec<NodeState> = nodes
            .iter()
            .map(|n| NodeState {
                name: n.name.clone(),
                node_type: n.action.clone(),
                status: n.status,
                start_date: n.start_date,
                duration_ms: n.duration_ms.map(|d| d as i64),
                input_rows: n.input_rows as i64,
                output_rows: n.output_rows as i64,
                message: n.message.clone(),
            })
            .collect();
        let done = nodes.iter().filter(|n| n.status == NodeStatus::Success).count();
        let fraction = if nodes.is_empty() { 0.0 } else { done as f64 / nodes.len() as f64 };
        if let Err(e) = self.store.save_nodes(id, &records).await {
            tracing::warn!(job = %id, error = %e, "could not save node progress");
        }
        let _ = self.store.set_progress(id, fraction).await;
    }
}

/// `message` with the data dir's absolute path written `<data dir>`: the server's layout is
/// not for API clients. Only the absolute path is replaced: a relative data dir (`data`) is a
/// word that users' own names and messages hold too.
fn scrub(message: &str, root: &std::path::Path) -> String {
    let absolute = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
    let path = absolute.display().to_string();
    if path.len() <= 1 { message.to_string() } else { message.replace(&path, "<data dir>") }
}

/// How a job's work ended when it did not succeed.
enum Failure {
    Stopped,
    /// It failed: why ([`FailureClass`]) and what happened.
    Failed(FailureClass, String),
}

impl Failure {
    fn definition(m: impl Into<String>) -> Failure {
        Failure::Failed(FailureClass::Definition, m.into())
    }

    fn source(m: impl Into<String>) -> Failure {
        Failure::Failed(FailureClass::Source, m.into())
    }

    fn resources(m: impl Into<String>) -> Failure {
        Failure::Failed(FailureClass::Resources, m.into())
    }

    fn internal(m: impl std::fmt::Display) -> Failure {
        Failure::Failed(FailureClass::Internal, m.to_string())
    }
}

/// The job message, naming the node as CRM Analytics does.
/// What a job of `job_type` runs, as its messages name it.
fn asset_word(job_type: JobType) -> &'static str {
    if job_type == JobType::RecipeV3 { "recipe" } else { "dataflow" }
}

fn job_message(e: &EngineError, job_type: JobType) -> String {
    match e {
        // its class says it is the source ("Source unavailable: ...")
        EngineError::Source(m) => m.clone(),
        EngineError::Node { node, message } => {
            format!("Something went wrong while executing the {node} node: {message}")
        }
        EngineError::Invalid(p) => format!("The {} definition is invalid: {p}", asset_word(job_type)),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::scrub;

    /// A relative data dir (`--data-dir data`) is not a word to replace: "dataflow" and a
    /// dataset named `mydata` stay as they are; the absolute path is hidden.
    #[test]
    fn only_the_absolute_data_dir_is_hidden() {
        let root = std::path::Path::new("data");
        let absolute = std::path::absolute(root).unwrap().display().to_string();
        let message = format!("The dataflow read 'mydata' from {absolute}/datasets/mydata/v1");
        assert_eq!(scrub(&message, root), "The dataflow read 'mydata' from <data dir>/datasets/mydata/v1");
        assert_eq!(scrub("dataset 'data' not found", root), "dataset 'data' not found");
    }
}
