//! `/wave/dataflowjobs`: start (POST), list with filters and paging, get, stop (PATCH), and the
//! job's `/nodes`.

use crate::wire::shapes::one_of;
use crate::wire::{AssetPath, AssetRef, LicenseAttributes, NodePath, Since, Timestamp, WaveUser, input, ok};
use crate::{AppState, Version};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use swell_app::{Actor, ApiError, ApiResult, id_of, job_id};
use swell_core::{JobStatus, JobType, KeyPrefix, NodeStatus};
use swell_store::{JobFilter, JobRecord, NodeRecord};
use utoipa::ToSchema;

fn seconds(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    (b - a).num_milliseconds().max(0) / 1000
}

/// A job (`DataflowJob`): a dataflow's run, a recipe's run or a connection's data sync.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataflowJob {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub url: String,
    pub label: String,
    #[schema(schema_with = statuses)]
    pub status: &'static str,
    #[schema(schema_with = job_types)]
    pub job_type: &'static str,
    /// From 0 to 1.
    pub progress: f64,
    /// Who started it: the person, or for a run a schedule or an event started, the person
    /// who last set that schedule.
    pub created_by: WaveUser,
    pub created_date: Timestamp,
    pub start_date: Timestamp,
    #[serde(skip_serializing_if = "Since::absent")]
    #[schema(inline)]
    pub retry_count: Since<55, i64>,
    #[serde(skip_serializing_if = "Since::absent")]
    #[schema(inline)]
    pub nodes_url: Since<50, String>,
    // The dataflows whose runs include this sync.
    #[serde(skip_serializing_if = "Since::absent")]
    #[schema(inline)]
    pub sync_dataflows: Since<50, SyncDataflows>,
    /// The asset that ran: the dataflow, or for a recipe job the recipe.
    pub source: AssetRef,
    #[serde(skip_serializing_if = "Since::absent")]
    #[schema(inline)]
    pub license_attributes: Since<51, LicenseAttributes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executed_date: Option<Timestamp>,
    // Seconds from queued to started.
    #[serde(skip_serializing_if = "Since::absent")]
    #[schema(inline)]
    pub wait_time: Since<53, i64>,
    /// Seconds from started to ended (or to now while it runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
    #[serde(skip_serializing_if = "Since::absent")]
    #[schema(inline)]
    pub end_date: Since<55, Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SyncDataflows {
    pub dataflows: Vec<AssetRef>,
}

fn statuses() -> utoipa::openapi::schema::Object {
    one_of(JobStatus::ALL.map(JobStatus::as_str))
}

fn job_types() -> utoipa::openapi::schema::Object {
    one_of(JobType::ALL.map(JobType::as_str))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataflowJobCollection {
    pub dataflow_jobs: Vec<DataflowJob>,
    pub url: String,
    pub next_page_url: Option<String>,
    pub total_size: i64,
}

/// A job as the API shows it. Its `source` is the asset that ran: the dataflow, or for a
/// recipe job the recipe (05v) rather than the target dataflow that runs it, since the recipe
/// is what users see and ask for (`/wave/recipes/{id}`).
pub fn representation(v: &Version, j: &JobRecord) -> DataflowJob {
    let url = v.url(&format!("/dataflowjobs/{}", j.id));
    let source = match &j.recipe_id {
        Some(r) => AssetRef::new(r).kind("recipe").url(v.url(&format!("/recipes/{r}"))),
        None => AssetRef::new(&j.dataflow_id).kind("dataflow").url(v.url(&format!("/dataflows/{}", j.dataflow_id))),
    };
    let sync_dataflows = SyncDataflows {
        dataflows: j.sync_dataflows.iter().map(|d| AssetRef::new(d).url(v.url(&format!("/dataflows/{d}")))).collect(),
    };
    DataflowJob {
        id: j.id.to_string(),
        kind: "dataflowjob",
        nodes_url: Since::at(v, format!("{url}/nodes")),
        url,
        label: j.label.clone(),
        status: j.status.as_str(),
        job_type: j.job_type.as_str(),
        progress: j.progress,
        created_by: WaveUser::named(&j.started_by),
        created_date: Timestamp::from(&j.created_date),
        start_date: Timestamp::from(&j.created_date),
        retry_count: Since::at(v, j.retry_count),
        sync_dataflows: Since::at(v, sync_dataflows),
        source,
        license_attributes: Since::at(v, LicenseAttributes::ANALYTICS),
        executed_date: j.executed_date.map(Timestamp::from),
        wait_time: Since::maybe(v, j.executed_date.map(|e| seconds(j.created_date, e))),
        duration: j.executed_date.map(|e| seconds(e, j.end_date.unwrap_or_else(Utc::now))),
        end_date: Since::maybe(v, j.end_date.map(Timestamp::from)),
        message: j.message.clone(),
    }
}

/// A node of a job's run (`DataflowJobNode`), with its row counts.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataflowJobNode {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub label: String,
    pub node_type: String,
    #[schema(schema_with = node_statuses)]
    pub status: &'static str,
    /// Seconds.
    pub duration: i64,
    pub input_rows: RowCounts,
    pub output_rows: RowCounts,
    pub message: String,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<Timestamp>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RowCounts {
    pub processed_count: i64,
    pub failed_count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NodeCollection {
    pub nodes: Vec<DataflowJobNode>,
    pub url: String,
}

fn node_statuses() -> utoipa::openapi::schema::Object {
    one_of(NodeStatus::ALL.map(NodeStatus::as_str))
}

fn node_representation(v: &Version, r: &NodeRecord) -> DataflowJobNode {
    let n = &r.state;
    DataflowJobNode {
        id: r.id.to_string(),
        kind: "dataflowjobnode",
        name: n.name.clone(),
        label: n.name.clone(),
        node_type: n.node_type.clone(),
        status: n.status.as_str(),
        duration: n.duration_ms.unwrap_or(0) / 1000,
        input_rows: RowCounts { processed_count: n.input_rows, failed_count: 0 },
        output_rows: RowCounts { processed_count: n.output_rows, failed_count: 0 },
        message: n.message.clone().unwrap_or_default(),
        url: v.url(&format!("/dataflowjobs/{}/nodes/{}", r.job_id, r.id)),
        start_date: n.start_date.map(Timestamp::from),
    }
}

/// The body of POST `/dataflowjobs` (`{"dataflowId", "command": "start"}`) and of PATCH on a
/// job (`{"command": "stop"}`), bare or wrapped in `dataflowJob`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobInput {
    /// `start` (POST) or `stop` (PATCH), in any case.
    pub command: Option<String>,
    /// The dataflow to run (02K): a dataflow's id, or a recipe's `targetDataflowId`. A
    /// connection syncs through `POST /dataConnectors/{id}/ingest`.
    pub dataflow_id: Option<String>,
}

impl JobInput {
    fn command(&self) -> ApiResult<String> {
        let c = self.command.as_deref().ok_or_else(|| ApiError::bad_request("command: is required (start or stop)"))?;
        Ok(c.to_ascii_lowercase())
    }
}

#[utoipa::path(
    post,
    path = "/services/data/{version}/wave/dataflowjobs",
    tag = "jobs",
    request_body = JobInput,
    responses((status = 201, body = DataflowJob)),
)]
pub async fn start(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input: JobInput = input(&bytes, "dataflowJob")?;
    if input.command()? != "start" {
        return Err(ApiError::bad_request("command: must be start to create a job (stop a job with PATCH on the job)"));
    }
    let id = input.dataflow_id.as_deref().ok_or_else(|| ApiError::bad_request("dataflowId: is required"))?;
    let job = state.start_job(&actor, id).await?;
    Ok(crate::wire::json(StatusCode::CREATED, representation(&v, &job)))
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/dataflowjobs/{id}",
    tag = "jobs",
    responses((status = 200, body = DataflowJob)),
)]
pub async fn get(State(state): State<AppState>, v: Version, Path(id): Path<AssetPath>) -> ApiResult<Response> {
    Ok(ok(representation(&v, &state.job(&id.id).await?)))
}

#[utoipa::path(
    patch,
    path = "/services/data/{version}/wave/dataflowjobs/{id}",
    tag = "jobs",
    request_body = JobInput,
    responses((status = 200, body = DataflowJob, description = "The job, stopped or stopping")),
)]
pub async fn patch(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input: JobInput = input(&bytes, "dataflowJob")?;
    match input.command()?.as_str() {
        "stop" => Ok(ok(representation(&v, &state.stop_job(&actor, &id.id).await?))),
        other => Err(ApiError::bad_request(format!("command: '{other}' is not valid here (use stop)"))),
    }
}

/// Epoch seconds to a time.
fn epoch(name: &str, s: &str) -> ApiResult<DateTime<Utc>> {
    s.trim()
        .parse::<i64>()
        .ok()
        .and_then(|n| DateTime::from_timestamp(n, 0))
        .ok_or_else(|| ApiError::bad_request(format!("{name}: '{s}' is not a time in epoch seconds")))
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/dataflowjobs",
    tag = "jobs",
    params(
        ("dataflowId" = Option<String>, Query, description = "jobs of this dataflow (id or API name)"),
        ("jobTypes" = Option<String>, Query, description = "comma-separated: User, DataSync, Recipe_V3"),
        ("status" = Option<String>, Query, description = "Queued, Running, Success, Warning, Failure or Cancelled"),
        ("q" = Option<String>, Query, description = "words found in the name or label"),
        ("startedAfter" = Option<i64>, Query, description = "epoch seconds"),
        ("startedBefore" = Option<i64>, Query, description = "epoch seconds"),
        ("page" = Option<String>, Query, description = "the page token of a nextPageUrl"),
        ("pageSize" = Option<i64>, Query, description = "1 to 200 (default 25)"),
    ),
    responses((status = 200, body = DataflowJobCollection)),
)]
pub async fn list(
    State(state): State<AppState>,
    v: Version,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let page = super::paging::Page::from_query(&q)?;
    let mut filter = JobFilter { limit: page.size, offset: page.offset(), ..Default::default() };
    if let Some(d) = q.get("dataflowId") {
        filter.dataflow_id = Some(state.dataflow(d).await?.id);
    }
    if let Some(types) = q.get("jobTypes") {
        for t in types.split(',').filter(|t| !t.trim().is_empty()) {
            filter.job_types.push(JobType::parse(t).ok_or_else(|| {
                ApiError::bad_request(format!("jobTypes: unknown job type '{}' (User, DataSync, Recipe_V3)", t.trim()))
            })?);
        }
    }
    if let Some(s) = q.get("status") {
        filter.status = Some(JobStatus::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "status: unknown status '{s}' (Queued, Running, Success, Warning, Failure, Cancelled)"
            ))
        })?);
    }
    filter.q = q.get("q").cloned().filter(|s| !s.trim().is_empty());
    if let Some(s) = q.get("startedAfter") {
        filter.started_after = Some(epoch("startedAfter", s)?);
    }
    if let Some(s) = q.get("startedBefore") {
        filter.started_before = Some(epoch("startedBefore", s)?);
    }
    let (jobs, total) = state.store.list_jobs(&filter).await?;
    let (url, next) = page.links(&v.url("/dataflowjobs"), &q, total);
    let dataflow_jobs = jobs.iter().map(|j| representation(&v, j)).collect();
    Ok(ok(DataflowJobCollection { dataflow_jobs, url, next_page_url: next, total_size: total }))
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/dataflowjobs/{id}/nodes",
    tag = "jobs",
    responses((status = 200, body = NodeCollection)),
)]
pub async fn nodes(State(state): State<AppState>, v: Version, Path(id): Path<AssetPath>) -> ApiResult<Response> {
    let job = state.job(&id.id).await?;
    let url = v.url(&format!("/dataflowjobs/{}/nodes", job.id));
    // a 030 request never ran: it has no nodes
    let nodes = if job.id.has_prefix(KeyPrefix::JobRequest) {
        vec![]
    } else {
        state.store.nodes(&job.id).await?.iter().map(|n| node_representation(&v, n)).collect()
    };
    Ok(ok(NodeCollection { nodes, url }))
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/dataflowjobs/{id}/nodes/{node}",
    tag = "jobs",
    responses((status = 200, body = DataflowJobNode)),
)]
pub async fn node(State(state): State<AppState>, v: Version, Path(p): Path<NodePath>) -> ApiResult<Response> {
    let id = job_id(&p.id)?;
    let node_id = id_of(&p.node, KeyPrefix::JobNode, "dataflow job node")?;
    let nodes = state.store.nodes(&id).await?;
    let n = nodes
        .iter()
        .find(|n| n.id == node_id)
        .ok_or_else(|| ApiError::not_found(format!("node {node_id} of job {id}")))?;
    Ok(ok(node_representation(&v, n)))
}
