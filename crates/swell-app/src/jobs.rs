//! Jobs: start a dataflow or recipe, Run Now on a connection, stop a job. One asset has at
//! most one job queued or running: a second start is refused (`JOB_ALREADY_QUEUED`) and
//! recorded as a `030` request in Failure, as an org shows it.

use crate::{Action, Subject};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::{Actor, App};
use swell_core::{AssetKind, JobStatus, KeyPrefix, SalesforceId};
use swell_store::{JobRecord, Queued, StoreError};

/// A job id: 030, 03C or 0eP; any other id is a 400.
pub fn job_id(s: &str) -> ApiResult<SalesforceId> {
    let id = SalesforceId::parse(s).map_err(|e| ApiError::bad_request(e.to_string()))?;
    match id.key_prefix() {
        Some(KeyPrefix::JobRequest | KeyPrefix::DataflowJob | KeyPrefix::RecipeJob) => Ok(id),
        _ => Err(ApiError::bad_request(format!("'{s}' is not a dataflow job id: job ids start with 030, 03C or 0eP"))),
    }
}

fn ended(status: JobStatus) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidState,
        format!("The job can't be stopped because it already ended with status {status}."),
    )
}

impl App {
    /// A job by id (030, 03C or 0eP).
    pub async fn job(&self, id: &str) -> ApiResult<JobRecord> {
        Ok(self.store.job(&job_id(id)?).await?)
    }

    /// Starts a dataflow by its id (02K). A recipe runs through its target dataflow, as a
    /// recipe job (0eP); a connection's sync dataflow (its `replicationDataflowId`) runs its
    /// sync.
    pub async fn start_job(&self, actor: &Actor, dataflow_id: &str) -> ApiResult<JobRecord> {
        self.require(actor, Action::StartJob).await?;
        let id = crate::id_of(dataflow_id, KeyPrefix::Dataflow, "dataflow")?;
        let dataflow = self.store.dataflow(&id).await?;
        match self.store.enqueue_job(&actor.id, &dataflow.id, dataflow.kind.job_type(), &dataflow.label).await? {
            Queued::Job(job) => {
                self.runner.wake();
                // the event is about the asset that runs (a recipe by its 05v id); the job is its detail
                let asset = job.recipe_id.clone().unwrap_or_else(|| dataflow.id.clone());
                let detail = format!("job {}", job.id);
                self.did(actor, Action::StartJob, Subject::new(&asset, &dataflow.name), Some(&detail)).await;
                Ok(job)
            }
            Queued::Refused(refused) => Err(ApiError::already_queued(
                refused.message.unwrap_or_else(|| "The dataflow job can't start.".to_string()),
            )),
        }
    }

    /// Run Now: queues a sync of every connected object of a connection.
    pub async fn run_connection(&self, actor: &Actor, id_or_name: &str) -> ApiResult<JobRecord> {
        self.require(actor, Action::RunConnection).await?;
        let c = self.connection(id_or_name).await?;
        match self.store.enqueue_job(&actor.id, &c.dataflow_id, AssetKind::Connection.job_type(), &c.label).await? {
            Queued::Job(job) => {
                self.runner.wake();
                let detail = format!("job {}", job.id);
                self.did(actor, Action::RunConnection, Subject::new(&c.id, &c.name), Some(&detail)).await;
                Ok(job)
            }
            Queued::Refused(_) => Err(ApiError::already_queued(format!(
                "The sync of connection {} ({}) can't start because it's already in the queue.",
                c.name, c.id
            ))),
        }
    }

    /// Stops a queued or running job: it ends as Cancelled once its work has stopped. A job
    /// that already ended answers `INVALID_STATE`, also when it ends on its own meanwhile.
    pub async fn stop_job(&self, actor: &Actor, id: &str) -> ApiResult<JobRecord> {
        self.require(actor, Action::StopJob).await?;
        let id = job_id(id)?;
        let current = self.store.job(&id).await?;
        if current.status.is_finished() {
            return Err(ended(current.status));
        }
        match self.runner.stop(&id).await {
            Ok(job) => {
                // about the asset that ran, as its start was
                let connection = match job.job_type {
                    swell_core::JobType::DataSync => self.store.connector_of_dataflow(&job.dataflow_id).await?,
                    _ => None,
                };
                let asset = match (&connection, &job.recipe_id) {
                    (Some(c), _) => c.id.clone(),
                    (None, Some(r)) => r.clone(),
                    (None, None) => job.dataflow_id.clone(),
                };
                let detail = format!("job {}", job.id);
                self.did(actor, Action::StopJob, Subject::new(&asset, &job.label), Some(&detail)).await;
                Ok(job)
            }
            Err(StoreError::Transition(t)) if t.from.is_finished() => Err(ended(t.from)),
            Err(e) => Err(e.into()),
        }
    }
}
