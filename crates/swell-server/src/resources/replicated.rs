//! `/wave/replicatedDatasets` (connected objects): list with filters, create, get, PATCH,
//! DELETE, and `/fields` (GET; PATCH and POST merge: name required, fieldType for fields
//! the object does not have yet; fields are never removed, only skipped).
//!
//! The changes are swell-app's use cases (`objects.rs` there says what each does).

use super::connectors;
use super::paging::matches_q;
use crate::wire::{AssetPath, body, ok, string_field};
use crate::{AppState, Version};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use swell_app::{Actor, ApiError, ApiResult, ErrorCode, NewObject};
use swell_core::ConnectionMode;
use swell_core::dates::to_wire;
use swell_store::{ConnectorRecord, ReplicatedPatch, ReplicatedRecord};

async fn representation(state: &AppState, v: &Version, r: &ReplicatedRecord, c: &ConnectorRecord) -> ApiResult<Value> {
    let url = v.url(&format!("/replicatedDatasets/{}", r.id));
    let field_count = r
        .fields
        .as_ref()
        .and_then(Value::as_array)
        .map_or(0, |f| f.iter().filter(|x| x.get("skipped") != Some(&Value::Bool(true))).count());
    let mut out = json!({
        "id": r.id.as_str(),
        "type": "replicateddataset",
        "name": r.source_object,
        "label": r.source_object,
        "namespace": "",
        "url": url,
        "sourceObjectName": r.source_object,
        "connector": connectors::representation(state, v, c, false).await?,
        "connectionMode": r.connection_mode.wire(),
        "supportedConnectionModes": ConnectionMode::ALL.map(ConnectionMode::wire),
        "filterApplied": r.pass_through_filter.as_deref().is_some_and(|f| !f.trim().is_empty()),
        "fieldsUrl": format!("{url}/fields"),
        "fieldCount": field_count,
        "replicationDataflowId": c.dataflow_id.as_str(),
        "rowLevelSharing": r.row_level_sharing,
        "advancedProperties": r.advanced_properties,
        "fullRefresh": r.full_refresh,
        "status": r.status.wire(),
        "uuid": r.id.as_str(),
        "createdBy": crate::wire::admin(),
        "createdDate": to_wire(&r.created_date),
        "lastModifiedBy": crate::wire::admin(),
        "lastModifiedDate": to_wire(&r.last_modified_date),
    });
    if let Some(f) = &r.pass_through_filter {
        out["passThroughFilter"] = json!(f);
    }
    if let Some(at) = &r.last_refreshed {
        out["lastRefreshedDate"] = json!(to_wire(at));
    }
    Ok(out)
}

/// The settings of a ReplicatedDatasetInput; unknown fields are errors.
fn patch_of(input: &Value) -> ApiResult<ReplicatedPatch> {
    const KNOWN: &[&str] = &[
        "connectorId",
        "sourceObjectName",
        "connectionMode",
        "fullRefresh",
        "passThroughFilter",
        "rowLevelSharing",
        "advancedProperties",
        "name",
        "label",
    ];
    if let Some(obj) = input.as_object() {
        let unknown: Vec<String> = obj
            .keys()
            .filter(|k| !KNOWN.contains(&k.as_str()))
            .map(|k| format!("{k}: is not a field of a replicated dataset"))
            .collect();
        if !unknown.is_empty() {
            return Err(ApiError::many(ErrorCode::InvalidInput, unknown));
        }
    }
    let boolean = |name: &str| -> ApiResult<Option<bool>> {
        match input.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::bad_request(format!("{name}: must be true or false"))),
        }
    };
    let advanced = match input.get("advancedProperties") {
        None | Some(Value::Null) => None,
        Some(Value::Array(list)) => {
            for (i, p) in list.iter().enumerate() {
                if p.get("name").and_then(Value::as_str).is_none() {
                    return Err(ApiError::bad_request(format!("advancedProperties[{i}].name: is required")));
                }
            }
            Some(Value::Array(list.clone()))
        }
        Some(_) => return Err(ApiError::bad_request("advancedProperties: must be an array of {name, value}")),
    };
    Ok(ReplicatedPatch {
        connection_mode: string_field(input, "connectionMode")?.map(swell_app::connection_mode).transpose()?,
        full_refresh: boolean("fullRefresh")?,
        pass_through_filter: match input.get("passThroughFilter") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) => Some(Some(s.clone()).filter(|s| !s.trim().is_empty())),
            Some(_) => return Err(ApiError::bad_request("passThroughFilter: must be text")),
        },
        row_level_sharing: boolean("rowLevelSharing")?,
        advanced_properties: advanced,
        fields: None,
    })
}

pub async fn list(
    State(state): State<AppState>,
    v: Version,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let connectors = state.store.list_connectors().await?;
    let mut items = Vec::new();
    if q.get("category").is_some_and(|c| c.eq_ignore_ascii_case("Output")) {
        return Ok(ok(json!({ "replicatedDatasets": items, "url": v.url("/replicatedDatasets") })));
    }
    for r in state.store.list_replicated().await? {
        let Some(c) = connectors.iter().find(|c| c.id == r.connector_id) else { continue };
        if let Some(name) = q.get("connector")
            && !(c.name.eq_ignore_ascii_case(name) || c.id.as_str() == name || c.id.fifteen() == name)
        {
            continue;
        }
        if let Some(o) = q.get("sourceObject")
            && !r.source_object.eq_ignore_ascii_case(o)
        {
            continue;
        }
        if let Some(terms) = q.get("q")
            && !matches_q(terms, &[&r.source_object])
        {
            continue;
        }
        items.push(representation(&state, &v, &r, c).await?);
    }
    Ok(ok(json!({ "replicatedDatasets": items, "url": v.url("/replicatedDatasets") })))
}

/// A ReplicatedDatasetInput.
fn object_input(input: &Value) -> ApiResult<NewObject> {
    Ok(NewObject {
        connector: string_field(input, "connectorId")?.map(str::to_string),
        source_object: string_field(input, "sourceObjectName")?.map(str::to_string),
        name: string_field(input, "name")?.map(str::to_string),
        label: string_field(input, "label")?.map(str::to_string),
        settings: patch_of(input)?,
    })
}

pub async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input = body(&bytes, "replicatedDataset")?;
    let r = state.add_object(&actor, object_input(&input)?).await?;
    let c = state.store.connector(&r.connector_id).await?;
    Ok(crate::wire::json(StatusCode::CREATED, representation(&state, &v, &r, &c).await?))
}

pub async fn get(State(state): State<AppState>, v: Version, Path(id): Path<AssetPath>) -> ApiResult<Response> {
    let (r, c) = state.object(&id.id).await?;
    Ok(ok(representation(&state, &v, &r, &c).await?))
}

pub async fn patch(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input = body(&bytes, "replicatedDataset")?;
    let r = state.update_object(&actor, &id.id, object_input(&input)?).await?;
    let c = state.store.connector(&r.connector_id).await?;
    Ok(ok(representation(&state, &v, &r, &c).await?))
}

/// Deletes a connected object and its synced data. A dataflow that still reads it adds it
/// back and syncs it on its next run (sync before run).
pub async fn delete(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<AssetPath>,
) -> ApiResult<Response> {
    state.remove_object(&actor, &id.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn fields_body(v: &Version, r: &ReplicatedRecord) -> Value {
    let url = v.url(&format!("/replicatedDatasets/{}", r.id));
    json!({
        "fields": r.fields.clone().unwrap_or(Value::Array(vec![])),
        "replicatedDataset": { "id": r.id.as_str(), "name": r.source_object, "url": url },
        "url": format!("{url}/fields"),
    })
}

pub async fn fields(State(state): State<AppState>, v: Version, Path(id): Path<AssetPath>) -> ApiResult<Response> {
    let r = state.object_fields(&id.id).await?;
    Ok(ok(fields_body(&v, &r)))
}

/// Merges `{"fields": [...]}` into the object's fields.
pub async fn patch_fields(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input = body(&bytes, "fields")?;
    let changes = input.get("fields").and_then(Value::as_array).ok_or_else(|| {
        ApiError::bad_request("fields: is required: an array of {name, label?, fieldType?, skipped?}")
    })?;
    let r = state.change_fields(&actor, &id.id, changes).await?;
    Ok(ok(fields_body(&v, &r)))
}
