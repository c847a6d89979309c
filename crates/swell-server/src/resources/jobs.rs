//! `/wave/dataflowjobs`: start (POST), list with filters and paging, get, stop (PATCH), and the
//! job's `/nodes`.

use crate::wire::{AssetPath, NodePath, body, ok, string_field};
use crate::{AppState, Version};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use swell_app::{Actor, ApiError, ApiResult, id_of, job_id};
use swell_core::dates::to_wire;
use swell_core::{JobStatus, JobType, KeyPrefix};
use swell_store::{JobFilter, JobRecord, NodeRecord};

fn seconds(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    (b - a).num_milliseconds().max(0) / 1000
}

/// A job as the API shows it. Its `source` is the asset that ran: the dataflow, or for a
/// recipe job the recipe (05v) rather than the target dataflow that runs it, since the recipe
/// is what users see and ask for (`/wave/recipes/{id}`).
pub fn representation(v: &Version, j: &JobRecord) -> Value {
    let url = v.url(&format!("/dataflowjobs/{}", j.id));
    let source = match &j.recipe_id {
        Some(r) => json!({ "id": r.as_str(), "type": "recipe", "url": v.url(&format!("/recipes/{r}")) }),
        None => json!({
            "id": j.dataflow_id.as_str(),
            "type": "dataflow",
            "url": v.url(&format!("/dataflows/{}", j.dataflow_id)),
        }),
    };
    let mut out = json!({
        "id": j.id.as_str(),
        "type": "dataflowjob",
        "url": url,
        "label": j.label,
        "status": j.status.as_str(),
        "jobType": j.job_type.as_str(),
        "progress": j.progress,
        "createdDate": to_wire(&j.created_date),
        "startDate": to_wire(&j.created_date),
        "retryCount": j.retry_count,
        "nodesUrl": format!("{url}/nodes"),
        "syncDataflows": {
            "dataflows": j.sync_dataflows.iter().map(|d| json!({
                "id": d.as_str(),
                "url": v.url(&format!("/dataflows/{d}")),
            })).collect::<Vec<_>>(),
        },
        "source": source,
        "licenseAttributes": { "type": "einsteinanalytics" },
    });
    if let Some(e) = j.executed_date {
        out["executedDate"] = json!(to_wire(&e));
        out["waitTime"] = json!(seconds(j.created_date, e));
        out["duration"] = json!(seconds(e, j.end_date.unwrap_or_else(Utc::now)));
    }
    if let Some(end) = j.end_date {
        out["endDate"] = json!(to_wire(&end));
    }
    if let Some(m) = &j.message {
        out["message"] = json!(m);
    }
    // fields newer than the requested API version are left out, as an org does
    crate::wire::gate(
        &mut out,
        v.major(),
        &[
            ("nodesUrl", 50),
            ("syncDataflows", 50),
            ("licenseAttributes", 51),
            ("waitTime", 53),
            ("retryCount", 55),
            ("endDate", 55),
        ],
    );
    out
}

fn node_representation(v: &Version, r: &NodeRecord) -> Value {
    let n = &r.state;
    let mut out = json!({
        "id": r.id.as_str(),
        "type": "dataflowjobnode",
        "name": n.name,
        "label": n.name,
        "nodeType": n.node_type,
        "status": n.status,
        "duration": n.duration_ms.unwrap_or(0) / 1000,
        "inputRows": { "processedCount": n.input_rows, "failedCount": 0 },
        "outputRows": { "processedCount": n.output_rows, "failedCount": 0 },
        "message": n.message.clone().unwrap_or_default(),
        "url": v.url(&format!("/dataflowjobs/{}/nodes/{}", r.job_id, r.id)),
    });
    if let Some(s) = n.start_date {
        out["startDate"] = json!(to_wire(&s));
    }
    out
}

fn command(input: &Value) -> ApiResult<String> {
    let c =
        string_field(input, "command")?.ok_or_else(|| ApiError::bad_request("command: is required (start or stop)"))?;
    Ok(c.to_ascii_lowercase())
}

pub async fn start(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input = body(&bytes, "dataflowJob")?;
    if command(&input)? != "start" {
        return Err(ApiError::bad_request("command: must be start to create a job (stop a job with PATCH on the job)"));
    }
    let id = string_field(&input, "dataflowId")?.ok_or_else(|| ApiError::bad_request("dataflowId: is required"))?;
    let job = state.start_job(&actor, id).await?;
    Ok(crate::wire::json(StatusCode::CREATED, representation(&v, &job)))
}

pub async fn get(State(state): State<AppState>, v: Version, Path(id): Path<AssetPath>) -> ApiResult<Response> {
    Ok(ok(representation(&v, &state.job(&id.id).await?)))
}

pub async fn patch(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input = body(&bytes, "dataflowJob")?;
    match command(&input)?.as_str() {
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
    let items: Vec<Value> = jobs.iter().map(|j| representation(&v, j)).collect();
    Ok(ok(json!({ "dataflowJobs": items, "url": url, "nextPageUrl": next, "totalSize": total })))
}

pub async fn nodes(State(state): State<AppState>, v: Version, Path(id): Path<AssetPath>) -> ApiResult<Response> {
    let job = state.job(&id.id).await?;
    let url = v.url(&format!("/dataflowjobs/{}/nodes", job.id));
    // a 030 request never ran: it has no nodes
    let items: Vec<Value> = if job.id.has_prefix(KeyPrefix::JobRequest) {
        vec![]
    } else {
        state.store.nodes(&job.id).await?.iter().map(|n| node_representation(&v, n)).collect()
    };
    Ok(ok(json!({ "nodes": items, "url": url })))
}

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
