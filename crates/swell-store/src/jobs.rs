//! Jobs, their status transitions and their nodes.
//!
//! Every status change goes through [`swell_core::JobStatus::apply`] and is written with a
//! compare-and-set on the previous status, plus a row in `job_transition` (from, to, when), so
//! that two workers can never both claim or finish one job.

use crate::schedules::Start;
use crate::who::{UserRef, user_ref};
use crate::{DbRow, Result, Store, StoreError, from_millis, millis, parse_id};
use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Row};
use swell_core::{FailureClass, JobStatus, JobType, KeyPrefix, NodeStatus, SalesforceId, Transition, Trigger};

#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    pub id: SalesforceId,
    pub dataflow_id: SalesforceId,
    pub job_type: JobType,
    pub label: String,
    pub status: JobStatus,
    pub message: Option<String>,
    /// Why it failed (a Failure only; jobs that failed before the class was kept have none).
    pub failure_class: Option<FailureClass>,
    pub progress: f64,
    pub retry_count: i64,
    pub stop_requested: bool,
    pub created_date: DateTime<Utc>,
    pub executed_date: Option<DateTime<Utc>>,
    pub end_date: Option<DateTime<Utc>>,
    /// The sync dataflows this job synced before it ran (sync before run).
    pub sync_dataflows: Vec<SalesforceId>,
    /// The recipe (05v) whose target dataflow this job ran, for recipe jobs.
    pub recipe_id: Option<SalesforceId>,
    /// Who started it: the person, or for a schedule or an event the person who last set it.
    pub started_by: UserRef,
    pub trigger: Trigger,
    /// When the job or one of its nodes last changed. Every write makes it larger (a write
    /// in the same millisecond as the one before adds a millisecond), so a reader that saw
    /// one value of a job knows that any other value is a later write (the live pages send
    /// a job again when it differs).
    pub changed_at: DateTime<Utc>,
}

/// A job row's columns, with the recipe its dataflow runs (if any) and the name of its starter.
pub(crate) const JOB_COLUMNS: &str =
    "job.*, (SELECT r.id FROM recipe r WHERE r.dataflow_id = job.dataflow_id) AS recipe_id,
     (SELECT u.name FROM app_user u WHERE u.id = job.started_by) AS started_by_name";

/// A stored job node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeRecord {
    pub id: SalesforceId,
    pub job_id: SalesforceId,
    pub position: i64,
    pub state: NodeState,
}

/// What a node did; the runner writes it, the id is assigned by the store on first write.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeState {
    pub name: String,
    pub node_type: String,
    pub status: NodeStatus,
    pub start_date: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub input_rows: i64,
    pub output_rows: i64,
    pub message: Option<String>,
}

impl NodeState {
    /// A sync's node whose object had nothing new (`swell_core::NO_CHANGES`).
    pub fn unchanged(&self) -> bool {
        self.status == NodeStatus::Success && self.message.as_deref() == Some(swell_core::NO_CHANGES)
    }
}

pub(crate) fn job(row: &DbRow) -> Result<JobRecord> {
    let status: String = row.get("status");
    let job_type: String = row.get("job_type");
    Ok(JobRecord {
        id: parse_id(row.get("id"))?,
        dataflow_id: parse_id(row.get("dataflow_id"))?,
        job_type: JobType::parse(&job_type).ok_or_else(|| StoreError::Corrupt(format!("job type {job_type}")))?,
        label: row.get("label"),
        status: JobStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("job status {status}")))?,
        message: row.get("message"),
        failure_class: row.get::<Option<String>, _>("failure_class").as_deref().and_then(FailureClass::parse),
        progress: row.get("progress"),
        retry_count: row.get("retry_count"),
        stop_requested: row.get::<i64, _>("stop_requested") != 0,
        created_date: from_millis(row.get("created_date")),
        executed_date: row.get::<Option<i64>, _>("executed_date").map(from_millis),
        end_date: row.get::<Option<i64>, _>("end_date").map(from_millis),
        sync_dataflows: match row.get::<Option<String>, _>("sync_dataflows") {
            Some(text) => serde_json::from_str::<Vec<String>>(&text)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?
                .iter()
                .map(|s| parse_id(s))
                .collect::<Result<_>>()?,
            None => Vec::new(),
        },
        recipe_id: row.get::<Option<String>, _>("recipe_id").map(|s| parse_id(&s)).transpose()?,
        started_by: user_ref(row, "started_by")?,
        trigger: {
            let t: String = row.get("trigger");
            Trigger::parse(&t).ok_or_else(|| StoreError::Corrupt(format!("job trigger {t}")))?
        },
        changed_at: from_millis(row.get("changed_at")),
    })
}

/// Why a second start of a queued or running asset is refused, in an org's words (observed for
/// dataflows; recipes and syncs say theirs).
fn already_queued(job_type: JobType) -> &'static str {
    match job_type {
        JobType::User => "The dataflow job can't start because it's already in the queue.",
        JobType::RecipeV3 => "The recipe job can't start because it's already in the queue.",
        JobType::DataSync => "The data sync can't start because it's already in the queue.",
    }
}

/// Queues a run inside the caller's transaction (the API's start and the scheduler's firing
/// share it). Returns the new job's id and whether it was queued. The partial unique index
/// `job_one_active_per_dataflow` decides, atomically even across servers, whether the
/// dataflow is already queued or running; if so the request is recorded as a `030` job in
/// Failure (migration 0008 says why a running dataflow refuses a start).
pub(crate) async fn enqueue_in(conn: &mut sqlx::AnyConnection, start: &Start<'_>) -> Result<(SalesforceId, bool)> {
    let Start { dataflow_id, job_type, label, started_by, trigger } = *start;
    let now = millis(&Utc::now());
    let prefix = if job_type == JobType::RecipeV3 { KeyPrefix::RecipeJob } else { KeyPrefix::DataflowJob };
    let id = crate::next_id_in(&mut *conn, prefix).await?;
    let inserted = sqlx::query(
        "INSERT INTO job (id, dataflow_id, job_type, label, status, created_date, started_by, trigger, changed_at)
         VALUES ($1, $2, $3, $4, 'Queued', $5, $6, $7, $5) ON CONFLICT DO NOTHING",
    )
    .bind(id.as_str())
    .bind(dataflow_id.as_str())
    .bind(job_type.as_str())
    .bind(label)
    .bind(now)
    .bind(started_by.as_str())
    .bind(trigger.as_str())
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    let (id, status) = if inserted {
        (id, JobStatus::Queued)
    } else {
        let id = crate::next_id_in(&mut *conn, KeyPrefix::JobRequest).await?;
        sqlx::query(
            "INSERT INTO job (id, dataflow_id, job_type, label, status, message, created_date, end_date, started_by, trigger, changed_at)
             VALUES ($1, $2, $3, $4, 'Failure', $5, $6, $6, $7, $8, $6)",
        )
        .bind(id.as_str())
        .bind(dataflow_id.as_str())
        .bind(job_type.as_str())
        .bind(label)
        .bind(already_queued(job_type))
        .bind(now)
        .bind(started_by.as_str())
        .bind(trigger.as_str())
        .execute(&mut *conn)
        .await?;
        (id, JobStatus::Failure)
    };
    sqlx::query("INSERT INTO job_transition (job_id, seq, from_status, to_status, at) VALUES ($1, 0, NULL, $2, $3)")
        .bind(id.as_str())
        .bind(status.as_str())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok((id, inserted))
}

/// Records one status change of a job (from, to, when) inside the caller's transaction.
async fn record_transition(
    conn: &mut sqlx::AnyConnection,
    id: &SalesforceId,
    from: JobStatus,
    to: JobStatus,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO job_transition (job_id, seq, from_status, to_status, at)
         VALUES ($1, (SELECT count(*) FROM job_transition WHERE job_id = $1), $2, $3, $4)",
    )
    .bind(id.as_str())
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A dataset version a job wrote, to record with its end.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVersion {
    pub name: String,
    pub label: String,
    pub storage_version: String,
    pub row_count: i64,
}

pub(crate) fn node(row: &DbRow) -> Result<NodeRecord> {
    Ok(NodeRecord {
        id: parse_id(row.get("id"))?,
        job_id: parse_id(row.get("job_id"))?,
        position: row.get("position"),
        state: NodeState {
            name: row.get("name"),
            node_type: row.get("node_type"),
            status: {
                let s: String = row.get("status");
                NodeStatus::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("node status {s}")))?
            },
            start_date: row.get::<Option<i64>, _>("start_date").map(from_millis),
            duration_ms: row.get("duration_ms"),
            input_rows: row.get("input_rows"),
            output_rows: row.get("output_rows"),
            message: row.get("message"),
        },
    })
}

/// The outcome of asking for a run.
#[derive(Debug, Clone)]
pub enum Queued {
    /// The job, queued.
    Job(JobRecord),
    /// The asset already had a job queued or running: the request, recorded as a `030` job in
    /// Failure with the reason as its message.
    Refused(JobRecord),
}

impl Queued {
    /// The queued job, if it was queued.
    pub fn queued(self) -> Option<JobRecord> {
        match self {
            Queued::Job(j) => Some(j),
            Queued::Refused(_) => None,
        }
    }

    /// The refused request, if it was refused.
    pub fn refused(self) -> Option<JobRecord> {
        match self {
            Queued::Refused(j) => Some(j),
            Queued::Job(_) => None,
        }
    }
}

impl Store {
    /// Queues a run of `dataflow_id` that user `by` asked for. When the dataflow already has a
    /// queued or running job the request cannot start: it is recorded as a `030` job in Failure
    /// ([`Queued::Refused`]).
    pub async fn enqueue_job(
        &self,
        by: &SalesforceId,
        dataflow_id: &SalesforceId,
        job_type: JobType,
        label: &str,
    ) -> Result<Queued> {
        let start = Start { dataflow_id, job_type, label, started_by: by, trigger: Trigger::User };
        let mut tx = self.pool.begin().await?;
        let (id, queued) = enqueue_in(&mut tx, &start).await?;
        tx.commit().await?;
        self.jobs_changed();
        let record = self.job(&id).await?;
        Ok(if queued { Queued::Job(record) } else { Queued::Refused(record) })
    }

    pub async fn job(&self, id: &SalesforceId) -> Result<JobRecord> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM job WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id.as_str()).fetch_optional(&self.pool).await?;
        row.as_ref().map(job).transpose()?.ok_or_else(|| StoreError::NotFound(format!("job {id}")))
    }

    /// Applies `t` to the job if legal from its current status (compare-and-set) and records
    /// the transition. `message` replaces the job's message when given.
    pub async fn transition(&self, id: &SalesforceId, t: Transition, message: Option<&str>) -> Result<JobRecord> {
        // a job the server left running failed with it: the server's, not the definition's
        let class = (t == Transition::Crash).then_some(FailureClass::Internal);
        self.change(id, t, message, class).await
    }

    /// Ends a job as failed, with why ([`FailureClass`]) and its message.
    pub async fn fail(&self, id: &SalesforceId, class: FailureClass, message: &str) -> Result<JobRecord> {
        self.change(id, Transition::Fail, Some(message), Some(class)).await
    }

    async fn change(
        &self,
        id: &SalesforceId,
        t: Transition,
        message: Option<&str>,
        class: Option<FailureClass>,
    ) -> Result<JobRecord> {
        let current = self.job(id).await?;
        let next = current.status.apply(t)?;
        let now = millis(&Utc::now());
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE job SET status = $3, message = coalesce($4, message),
                executed_date = CASE WHEN $3 = 'Running' THEN $5 ELSE executed_date END,
                end_date = CASE WHEN $6 THEN $5 ELSE end_date END,
                progress = CASE WHEN $6 THEN 1.0 ELSE progress END,
                failure_class = coalesce($7, failure_class), changed_at = CASE WHEN changed_at < $5 THEN $5 ELSE changed_at + 1 END
             WHERE id = $1 AND status = $2",
        )
        .bind(id.as_str())
        .bind(current.status.as_str())
        .bind(next.as_str())
        .bind(message)
        .bind(now)
        .bind(next.is_finished())
        .bind(class.map(FailureClass::as_str))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!("job {id} changed status meanwhile")));
        }
        record_transition(&mut tx, id, current.status, next, now).await?;
        tx.commit().await?;
        tracing::info!(job = %id, from = %current.status, to = %next, "job status");
        self.jobs_changed();
        self.job(id).await
    }

    /// Records a stop request (the API's intent); the runner acts on it.
    pub async fn request_stop(&self, id: &SalesforceId) -> Result<JobRecord> {
        let done = sqlx::query(
            "UPDATE job SET stop_requested = 1, changed_at = CASE WHEN changed_at < $2 THEN $2 ELSE changed_at + 1 END WHERE id = $1 AND status IN ('Queued', 'Running')",
        )
        .bind(id.as_str())
        .bind(millis(&Utc::now()))
        .execute(&self.pool)
        .await?;
        self.jobs_changed();
        let job = self.job(id).await?;
        if done.rows_affected() == 0 {
            // it ended first: the stop came too late, and says so
            return Err(StoreError::Transition(swell_core::TransitionError {
                from: job.status,
                transition: Transition::Stop,
            }));
        }
        Ok(job)
    }

    /// The (from, to, when) history of a job's status.
    pub async fn transitions(&self, id: &SalesforceId) -> Result<Vec<(Option<JobStatus>, JobStatus, DateTime<Utc>)>> {
        let rows = sqlx::query("SELECT from_status, to_status, at FROM job_transition WHERE job_id = $1 ORDER BY seq")
            .bind(id.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let from: Option<String> = r.get(0);
                let to: String = r.get(1);
                Ok((
                    from.as_deref().and_then(JobStatus::parse),
                    JobStatus::parse(&to).ok_or_else(|| StoreError::Corrupt(to.clone()))?,
                    from_millis(r.get(2)),
                ))
            })
            .collect()
    }

    /// Claims the oldest queued job of `job_type` whose dataflow is not running now, for
    /// server `owner`, unless `limit` jobs of that type run already (on any server). The
    /// count and the claim are one transaction under the type's `job_slot` row lock, so
    /// servers sharing a database respect the limit together. `None`: nothing to run now.
    pub async fn claim_next(&self, job_type: JobType, owner: &str, limit: usize) -> Result<Option<JobRecord>> {
        // nothing queued (the common case of an idle server): no lock, no write
        let queued = sqlx::query("SELECT 1 FROM job WHERE status = 'Queued' AND job_type = $1 LIMIT 1")
            .bind(job_type.as_str())
            .fetch_optional(&self.pool)
            .await?;
        if queued.is_none() {
            return Ok(None);
        }
        let now = millis(&Utc::now());
        let mut tx = self.pool.begin().await?;
        // the lock: every claim of this type writes this row first
        sqlx::query(
            "INSERT INTO job_slot (job_type, claimed_at) VALUES ($1, $2)
             ON CONFLICT (job_type) DO UPDATE SET claimed_at = $2",
        )
        .bind(job_type.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        // the job starts now, once the lock is held (taken before, a claim that waited on the
        // lock would date its start before the end of the job whose slot it takes)
        let now = millis(&Utc::now());
        let running: i64 = sqlx::query("SELECT count(*) FROM job WHERE status = 'Running' AND job_type = $1")
            .bind(job_type.as_str())
            .fetch_one(&mut *tx)
            .await?
            .get(0);
        if running as usize >= limit {
            return Ok(None);
        }
        let candidate = sqlx::query(
            "SELECT id FROM job j WHERE status = 'Queued' AND job_type = $1
               AND NOT EXISTS (SELECT 1 FROM job r WHERE r.dataflow_id = j.dataflow_id AND r.status = 'Running')
             ORDER BY created_date, id LIMIT 1",
        )
        .bind(job_type.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = candidate else { return Ok(None) };
        let id = parse_id(row.get(0))?;
        JobStatus::Queued.apply(Transition::Start)?;
        let done = sqlx::query(
            "UPDATE job SET status = 'Running', executed_date = $2, owner = $3, heartbeat = $2, changed_at = CASE WHEN changed_at < $2 THEN $2 ELSE changed_at + 1 END
             WHERE id = $1 AND status = 'Queued'",
        )
        .bind(id.as_str())
        .bind(now)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None); // stopped meanwhile; the next round looks again
        }
        record_transition(&mut tx, &id, JobStatus::Queued, JobStatus::Running, now).await?;
        tx.commit().await?;
        tracing::info!(job = %id, from = %JobStatus::Queued, to = %JobStatus::Running, owner, "job status");
        self.jobs_changed();
        Ok(Some(self.job(&id).await?))
    }

    /// The owner of running jobs says it is still alive (one write for all of them).
    pub async fn heartbeat(&self, owner: &str) -> Result<()> {
        sqlx::query("UPDATE job SET heartbeat = $2 WHERE owner = $1 AND status = 'Running'")
            .bind(owner)
            .bind(millis(&Utc::now()))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Fails the jobs that died with their server. At a server's start (`own_too`), the jobs
    /// it left Running itself; always, jobs without an owner and jobs whose owner has been
    /// silent for `stale_after` (its heartbeat stopped: another server that died). A live
    /// server's jobs are never taken, however long they run. Queued jobs stay queued.
    pub async fn recover_interrupted(
        &self,
        owner: &str,
        stale_after: chrono::Duration,
        own_too: bool,
    ) -> Result<Vec<JobRecord>> {
        let cutoff = millis(&(Utc::now() - stale_after));
        let rows = sqlx::query(
            "SELECT id FROM job WHERE status = 'Running'
               AND (owner IS NULL
                    OR (owner = $1 AND $3 = 1)
                    OR (owner <> $1 AND coalesce(heartbeat, executed_date, created_date) < $2))",
        )
        .bind(owner)
        .bind(cutoff)
        .bind(own_too as i64)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for row in rows {
            let id = parse_id(row.get(0))?;
            match self.transition(&id, Transition::Crash, Some("The server stopped while this job ran.")).await {
                Ok(j) => out.push(j),
                Err(StoreError::Conflict(_)) | Err(StoreError::Transition(_)) => continue, // it ended meanwhile
                Err(e) => return Err(e),
            }
            // the nodes that were running failed with their server, and say so; those that
            // never started did not fail: aborted
            sqlx::query(
                "UPDATE job_node SET status = CASE WHEN status = $2 THEN $3 ELSE $4 END,
                   message = CASE WHEN status = $2 THEN coalesce(message, $6) ELSE message END
                 WHERE job_id = $1 AND status IN ($2, $5)",
            )
            .bind(id.as_str())
            .bind(NodeStatus::Running.as_str())
            .bind(NodeStatus::Failure.as_str())
            .bind(NodeStatus::Cancelled.as_str())
            .bind(NodeStatus::Queued.as_str())
            .bind("The server stopped while this node ran.")
            .execute(&self.pool)
            .await?;
            self.touch_job(&id).await?;
        }
        Ok(out)
    }

    /// Ends a job that `owner` runs as Success and records the dataset versions it wrote,
    /// as one transaction: the job row and the versions always agree. Nothing is recorded
    /// (`None`) when the job is no longer this owner's Running job or a stop was requested:
    /// the caller then publishes nothing.
    pub async fn succeed_with_versions(
        &self,
        id: &SalesforceId,
        owner: &str,
        versions: &[NewVersion],
    ) -> Result<Option<JobRecord>> {
        match self.begin_success(id, owner, versions).await? {
            Some(pending) => pending.commit().await.map(Some),
            None => Ok(None),
        }
    }

    /// [`Store::succeed_with_versions`] in two steps, for a caller that must publish files
    /// while the record is decided but not yet visible: the job's Success and its versions
    /// are written in a transaction that holds the job's row, and become visible only when
    /// [`PendingSuccess::commit`] is called (dropping it records nothing). Readers therefore
    /// never see a Success whose datasets are not in place yet.
    pub async fn begin_success(
        &self,
        id: &SalesforceId,
        owner: &str,
        versions: &[NewVersion],
    ) -> Result<Option<PendingSuccess>> {
        JobStatus::Running.apply(Transition::Succeed)?;
        let now = millis(&Utc::now());
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE job SET status = 'Success', end_date = $3, progress = 1.0, changed_at = CASE WHEN changed_at < $3 THEN $3 ELSE changed_at + 1 END
             WHERE id = $1 AND status = 'Running' AND owner = $2 AND stop_requested = 0
             RETURNING started_by",
        )
        .bind(id.as_str())
        .bind(owner)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(done) = done else { return Ok(None) };
        let started_by = parse_id(done.get(0))?;
        record_transition(&mut tx, id, JobStatus::Running, JobStatus::Success, now).await?;
        for v in versions {
            crate::datasets::record_version_in(&mut tx, v, Some(id), &started_by, now).await?;
        }
        Ok(Some(PendingSuccess { store: self.clone(), tx, id: id.clone() }))
    }

    /// Whether `owner` may still commit what job `id` wrote outside the store (a sync's
    /// object version): the job is this owner's Running job and no stop was requested. Says
    /// so by renewing the job's heartbeat, so that a sweep deciding at the same moment sees a
    /// live job (the row's lock orders the two).
    pub async fn may_commit(&self, id: &SalesforceId, owner: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE job SET heartbeat = $3
             WHERE id = $1 AND status = 'Running' AND owner = $2 AND stop_requested = 0",
        )
        .bind(id.as_str())
        .bind(owner)
        .bind(millis(&Utc::now()))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks the nodes of a job whose run committed nothing (it ended elsewhere, or was stopped
    /// as it finished) as aborted, so that the nodes agree with the job and its datasets.
    pub async fn abort_nodes(&self, job_id: &SalesforceId, message: &str) -> Result<()> {
        sqlx::query(
            "UPDATE job_node SET status = $3, message = coalesce(message, $2)
             WHERE job_id = $1 AND status IN ($4, $5, $6)",
        )
        .bind(job_id.as_str())
        .bind(message)
        .bind(NodeStatus::Cancelled.as_str())
        .bind(NodeStatus::Success.as_str())
        .bind(NodeStatus::Running.as_str())
        .bind(NodeStatus::Queued.as_str())
        .execute(&self.pool)
        .await?;
        self.touch_job(job_id).await
    }

    pub async fn count_running(&self, job_type: JobType) -> Result<i64> {
        Ok(sqlx::query("SELECT count(*) FROM job WHERE status = 'Running' AND job_type = $1")
            .bind(job_type.as_str())
            .fetch_one(&self.pool)
            .await?
            .get(0))
    }

    pub async fn set_progress(&self, id: &SalesforceId, progress: f64) -> Result<()> {
        sqlx::query("UPDATE job SET progress = $2, changed_at = CASE WHEN changed_at < $3 THEN $3 ELSE changed_at + 1 END WHERE id = $1")
            .bind(id.as_str())
            .bind(progress)
            .bind(millis(&Utc::now()))
            .execute(&self.pool)
            .await?;
        self.jobs_changed();
        Ok(())
    }

    /// Wakes when this process writes a job or its nodes (the value only counts writes).
    pub fn watch_jobs(&self) -> tokio::sync::watch::Receiver<u64> {
        self.job_writes.subscribe()
    }

    /// Says that this process wrote a job or its nodes (after the write is committed).
    pub(crate) fn jobs_changed(&self) {
        self.job_writes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Dates a change of a job's nodes on the job (`changed_at`), and says so.
    async fn touch_job(&self, id: &SalesforceId) -> Result<()> {
        sqlx::query(
            "UPDATE job SET changed_at = CASE WHEN changed_at < $2 THEN $2 ELSE changed_at + 1 END WHERE id = $1",
        )
        .bind(id.as_str())
        .bind(millis(&Utc::now()))
        .execute(&self.pool)
        .await?;
        self.jobs_changed();
        Ok(())
    }

    /// Writes the nodes of a job (inserting on first sight, updating after).
    pub async fn save_nodes(&self, job_id: &SalesforceId, nodes: &[NodeState]) -> Result<()> {
        let existing = self.nodes(job_id).await?;
        for (position, n) in nodes.iter().enumerate() {
            let id = match existing.iter().find(|e| e.position == position as i64) {
                Some(e) => e.id.clone(),
                None => self.next_id(KeyPrefix::JobNode).await?,
            };
            sqlx::query(
                "INSERT INTO job_node (id, job_id, position, name, node_type, status, start_date, duration_ms, input_rows, output_rows, message)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (id) DO UPDATE SET status = $6, start_date = $7, duration_ms = $8, input_rows = $9,
                   output_rows = $10, message = $11",
            )
            .bind(id.as_str())
            .bind(job_id.as_str())
            .bind(position as i64)
            .bind(&n.name)
            .bind(&n.node_type)
            .bind(n.status.as_str())
            .bind(n.start_date.as_ref().map(millis))
            .bind(n.duration_ms)
            .bind(n.input_rows)
            .bind(n.output_rows)
            .bind(&n.message)
            .execute(&self.pool)
            .await?;
        }
        self.touch_job(job_id).await
    }

    /// A job's nodes in definition order.
    pub async fn nodes(&self, job_id: &SalesforceId) -> Result<Vec<NodeRecord>> {
        let rows = sqlx::query("SELECT * FROM job_node WHERE job_id = $1 ORDER BY position")
            .bind(job_id.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(node).collect()
    }
}

/// A job's Success and its versions, written but not yet visible (see
/// [`Store::begin_success`]). Dropped without [`PendingSuccess::commit`], nothing is recorded.
pub struct PendingSuccess {
    store: Store,
    tx: sqlx::Transaction<'static, sqlx::Any>,
    id: SalesforceId,
}

impl std::fmt::Debug for PendingSuccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingSuccess").field("id", &self.id).finish_non_exhaustive()
    }
}

impl PendingSuccess {
    /// Makes the Success and the versions visible, together.
    pub async fn commit(mut self) -> Result<JobRecord> {
        // dated again now: the files took their time, and a reader of changes since a moment
        // must not have passed this write's date before it becomes visible
        sqlx::query(
            "UPDATE job SET changed_at = CASE WHEN changed_at < $2 THEN $2 ELSE changed_at + 1 END WHERE id = $1",
        )
        .bind(self.id.as_str())
        .bind(millis(&Utc::now()))
        .execute(&mut *self.tx)
        .await?;
        self.tx.commit().await?;
        self.store.jobs_changed();
        tracing::info!(job = %self.id, from = %JobStatus::Running, to = %JobStatus::Success, "job status");
        self.store.job(&self.id).await
    }
}
