//! `/wave/asset/{assetId}/schedule`: GET, PUT, DELETE the schedule of a dataflow (02K), a
//! recipe (05v) or a data connector (0It, also by API name).
//!
//! PUT and GET answer the Schedule (with `nextScheduledDate` in UTC and the zone object), as
//! wave-api.md 7.1 confirms (older docs showed `{}`; an empty 200 would break
//! simple-salesforce, whose `restful` parses every 200 as JSON); DELETE answers 204 with no body. Every wrong field of a PUT is its own error
//! entry naming the field. The changes are swell-app's use cases.

use crate::wire::{AssetPath, Timestamp, body, ok};
use crate::{AppState, Version};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use swell_app::{Actor, ApiError, ApiResult, ErrorCode};
use swell_core::schedule::{Frequency, ScheduleOutput};
use swell_core::{SalesforceId, Schedule};
use swell_store::ScheduleRecord;
use utoipa::ToSchema;

/// The schedule of an asset (`Schedule`): the fields of its frequency, the asset, and when
/// it next runs (UTC).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Schedule)]
pub struct ScheduleRepresentation {
    #[serde(flatten)]
    pub schedule: ScheduleOutput,
    pub asset_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_scheduled_date: Option<Timestamp>,
}

/// The Schedule representation; `none` when the asset has no schedule.
pub fn representation(
    asset_id: &SalesforceId,
    rec: Option<&ScheduleRecord>,
    now: DateTime<Utc>,
) -> ScheduleRepresentation {
    let schedule = rec.map_or_else(Schedule::none, |r| r.schedule.clone());
    let next = rec.and_then(|r| r.next_run);
    ScheduleRepresentation {
        schedule: schedule.output(next.unwrap_or(now)),
        asset_id: asset_id.to_string(),
        next_scheduled_date: next.map(Timestamp::from),
    }
}

/// The `scheduleAttributes` string of a dataflow: the schedule as serialized JSON with its
/// `scheduleType` (`timedriven` or `eventdriven`), as an org writes it.
pub fn attributes(rec: &ScheduleRecord) -> Option<String> {
    let s = &rec.schedule;
    if s.frequency == Frequency::None {
        return None;
    }
    let mut v = s.to_json(rec.next_run.unwrap_or_else(Utc::now));
    let kind = if s.frequency.is_timed() { "timedriven" } else { "eventdriven" };
    let obj = v.as_object_mut()?;
    obj.remove("notificationLevel");
    let mut out = serde_json::Map::new();
    out.insert("scheduleType".into(), json!(kind));
    out.extend(obj.clone());
    Some(Value::Object(out).to_string())
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/asset/{id}/schedule",
    tag = "schedules",
    responses((status = 200, body = ScheduleRepresentation, description = "From v52.0")),
)]
pub async fn get(State(state): State<AppState>, v: Version, Path(id): Path<AssetPath>) -> ApiResult<Response> {
    if v.major() < 52 {
        return Err(ApiError::not_found("GET of a schedule (available from v52.0)"));
    }
    let target = state.schedule_target(&id.id).await?;
    let rec = state.store.schedule(&target.id).await?;
    Ok(ok(representation(&target.id, rec.as_ref(), state.scheduler.now())))
}

/// Every wrong field is its own error entry naming the field.
#[utoipa::path(
    put,
    path = "/services/data/{version}/wave/asset/{id}/schedule",
    tag = "schedules",
    request_body = ScheduleOutput,
    responses(
        (status = 200, body = ScheduleRepresentation, description = "The schedule set; its input is this form too (zone as an id or this object; enums in any case)"),
    ),
)]
pub async fn put(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<AssetPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input = body(&bytes, "schedule")?;
    let schedule = Schedule::from_input(&input)
        .map_err(|errors| ApiError::many(ErrorCode::InvalidInput, errors.iter().map(ToString::to_string).collect()))?;
    let rec = state.put_schedule(&actor, &id.id, schedule).await?;
    Ok(ok(representation(&rec.asset_id, Some(&rec), state.scheduler.now())))
}

#[utoipa::path(
    delete,
    path = "/services/data/{version}/wave/asset/{id}/schedule",
    tag = "schedules",
    responses((status = 204, description = "Done; no body")),
)]
pub async fn delete(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<AssetPath>,
) -> ApiResult<Response> {
    state.delete_schedule(&actor, &id.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
