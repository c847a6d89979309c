//! `/wave/dataflows`: list, create, get, PATCH the definition, PUT a revert, `/histories`.
//! The changes are swell-app's use cases (definitions checked by the engine on every write).

use crate::wire::{AssetPath, body, ok, string_field};
use crate::{AppState, Version};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashMap;
use swell_app::{Actor, ApiResult, DefinitionChange, NewDefinition};
use swell_core::SalesforceId;
use swell_core::dates::to_wire;
use swell_store::{DataflowRecord, HistoryRecord, ScheduleRecord};

pub fn representation(
    v: &Version,
    d: &DataflowRecord,
    with_definition: bool,
    schedule: Option<&ScheduleRecord>,
) -> Value {
    let url = v.url(&format!("/dataflows/{}", d.id));
    let mut out = json!({
        "id": d.id.as_str(),
        "type": "dataflow",
        "name": d.name,
        "label": d.label,
        "namespace": "",
        "url": url,
        "historiesUrl": format!("{url}/histories"),
        "emailNotificationLevel": "warnings",
        "createdBy": crate::wire::admin(),
        "createdDate": to_wire(&d.created_date),
        "lastModifiedBy": crate::wire::admin(),
        "lastModifiedDate": to_wire(&d.last_modified_date),
        "definition": if with_definition { d.definition.clone() } else { json!({}) },
    });
    if let Some(desc) = &d.description {
        out["description"] = json!(desc);
    }
    if let Some(next) = schedule.and_then(|s| s.next_run) {
        out["nextScheduledDate"] = json!(to_wire(&next));
    }
    if let Some(attributes) = schedule.and_then(super::schedules::attributes) {
        out["scheduleAttributes"] = json!(attributes);
    }
    crate::wire::gate(&mut out, v.major(), &[("historiesUrl", 46), ("definition", 50)]);
    out
}

/// A dataflow's representation with its schedule.
async fn full(state: &AppState, v: &Version, d: &DataflowRecord) -> ApiResult<Value> {
    let schedule = state.store.schedule(&d.id).await?;
    Ok(representation(v, d, true, schedule.as_ref()))
}

/// A history entry of the asset at `base` (`/dataflows/02K…` or `/recipes/05v…`).
pub fn history(v: &Version, base: &str, h: &HistoryRecord) -> Value {
    json!({
        "id": h.id.as_str(),
        "type": "assethistory",
        "name": h.label,
        "label": h.label,
        "createdBy": crate::wire::admin(),
        "createdDate": to_wire(&h.created_date),
        "url": v.url(&format!("{base}/histories/{}", h.id)),
        "previewUrl": v.url(&format!("{base}?historyId={}", h.id)),
    })
}

pub async fn list(
    State(state): State<AppState>,
    v: Version,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let dataflows = state.store.list_dataflows(q.get("q").map(String::as_str)).await?;
    let ids: Vec<SalesforceId> = dataflows.iter().map(|d| d.id.clone()).collect();
    let schedules: HashMap<SalesforceId, ScheduleRecord> =
        state.store.schedules_of(&ids).await?.into_iter().map(|s| (s.asset_id.clone(), s)).collect();
    let items: Vec<Value> = dataflows.iter().map(|d| representation(&v, d, false, schedules.get(&d.id))).collect();
    Ok(ok(json!({ "dataflows": items, "url": v.url("/dataflows") })))
}

/// The fields of a dataflow input (`DataflowInputRepresentation`).
pub fn definition_change(input: &Value, definition_field: &str) -> ApiResult<DefinitionChange> {
    Ok(DefinitionChange {
        name: string_field(input, "name")?.map(str::to_string),
        label: string_field(input, "label")?.map(str::to_string),
        description: string_field(input, "description")?.map(str::to_string),
        definition: input.get(definition_field).filter(|d| !d.is_null()).cloned(),
        history_label: string_field(input, "historyLabel")?.map(str::to_string),
    })
}

/// A new dataflow or recipe of an input.
pub fn new_definition(input: &Value, definition_field: &str) -> ApiResult<NewDefinition> {
    let c = definition_change(input, definition_field)?;
    Ok(NewDefinition { name: c.name, label: c.label, description: c.description, definition: c.definition })
}

pub async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input = body(&bytes, "dataflow")?;
    let d = state.create_dataflow(&actor, new_definition(&input, "definition")?).await?;
    Ok(crate::wire::json(StatusCode::CREATED, representation(&v, &d, true, None)))
}

pub async fn get(
    State(state): State<AppState>,
    v: Version,
    Path(id): Path<AssetPath>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let mut d = state.dataflow(&id.id).await?;
    if let Some(h) = q.get("historyId") {
        d.definition = state.history(&d.id, h).await?.definition;
    }
    Ok(ok(full(&state, &v, &d).await?))
}

pub async fn patch(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input = body(&bytes, "dataflow")?;
    let updated = state.update_dataflow(&actor, &id.id, definition_change(&input, "definition")?).await?;
    Ok(ok(full(&state, &v, &updated).await?))
}

pub async fn revert(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input = body(&bytes, "dataflow")?;
    let updated = state
        .revert_dataflow(&actor, &id.id, string_field(&input, "historyId")?, string_field(&input, "historyLabel")?)
        .await?;
    Ok(ok(full(&state, &v, &updated).await?))
}

pub async fn histories(State(state): State<AppState>, v: Version, Path(id): Path<AssetPath>) -> ApiResult<Response> {
    let d = state.dataflow(&id.id).await?;
    let items: Vec<Value> =
        state.store.histories(&d.id).await?.iter().map(|h| history(&v, &format!("/dataflows/{}", d.id), h)).collect();
    Ok(ok(json!({ "histories": items, "url": v.url(&format!("/dataflows/{}/histories", d.id)) })))
}

/// Deletes a dataflow with its histories, jobs and schedule; refused (409) while it has a
/// queued or running job. Datasets it registered stay.
pub async fn delete(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<AssetPath>,
) -> ApiResult<Response> {
    state.delete_dataflow(&actor, &id.id).await?;
    Ok(axum::response::IntoResponse::into_response(StatusCode::NO_CONTENT))
}
