//! `/wave/replicatedDatasets` (connected objects): list with filters, create, get, PATCH,
//! DELETE, and `/fields` (GET; PATCH and POST merge: name required, fieldType for fields
//! the object does not have yet; fields are never removed, only skipped).
//!
//! Creating one checks the object exists in the source and records its fields. Changing
//! the mode, filter, advanced properties or fields counts as a change of sync settings: the
//! next run of a dataflow reading it syncs it first (sync before run).

use super::connectors;
use super::dataflows::user;
use super::paging::matches_q;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::wire::{body, ok, string_field};
use crate::{AppState, Version};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use swell_connect::SourceField;
use swell_core::dates::to_wire;
use swell_core::{KeyPrefix, SalesforceId};
use swell_store::{ConnectorRecord, ReplicatedPatch, ReplicatedRecord};

/// `connectionMode` in its output spelling, from any case of Full, Incremental, PeriodicFull.
fn mode(input: &str) -> ApiResult<&'static str> {
    match input.to_ascii_lowercase().as_str() {
        "full" => Ok("Full"),
        "incremental" => Ok("Incremental"),
        "periodicfull" => Ok("PeriodicFull"),
        _ => Err(ApiError::bad_request(format!(
            "connectionMode: '{input}' is not one of Full, Incremental, PeriodicFull"
        ))),
    }
}

fn wire_mode(stored: &str) -> &'static str {
    match stored {
        "Incremental" => "incremental",
        "PeriodicFull" => "periodicFull",
        _ => "full",
    }
}

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
        "connectionMode": wire_mode(&r.connection_mode),
        "supportedConnectionModes": ["full", "incremental", "periodicFull"],
        "filterApplied": r.pass_through_filter.as_deref().is_some_and(|f| !f.trim().is_empty()),
        "fieldsUrl": format!("{url}/fields"),
        "fieldCount": field_count,
        "replicationDataflowId": c.dataflow_id.as_str(),
        "rowLevelSharing": r.row_level_sharing,
        "advancedProperties": r.advanced_properties,
        "fullRefresh": r.full_refresh,
        "status": r.status.to_ascii_lowercase(),
        "uuid": r.id.as_str(),
        "createdBy": user(),
        "createdDate": to_wire(&r.created_date),
        "lastModifiedBy": user(),
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

async fn find(state: &AppState, id: &str) -> ApiResult<(ReplicatedRecord, ConnectorRecord)> {
    let parsed = SalesforceId::parse(id)
        .ok()
        .filter(|i| i.has_prefix(KeyPrefix::ReplicatedDataset))
        .ok_or_else(|| ApiError::not_found(format!("replicated dataset {id}")))?;
    let r = state.store.replicated(&parsed).await?;
    let c = state.store.connector(&r.connector_id).await?;
    Ok((r, c))
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
        connection_mode: string_field(input, "connectionMode")?.map(mode).transpose()?.map(str::to_string),
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

pub async fn create(State(state): State<AppState>, v: Version, bytes: Bytes) -> ApiResult<Response> {
    let input = body(&bytes, "replicatedDataset")?;
    let connector =
        string_field(&input, "connectorId")?.ok_or_else(|| ApiError::bad_request("connectorId: is required"))?;
    let c = state
        .store
        .find_connector(connector)
        .await?
        .ok_or_else(|| ApiError::bad_request(format!("connectorId: no data connection '{connector}'")))?;
    let object = string_field(&input, "sourceObjectName")?
        .ok_or_else(|| ApiError::bad_request("sourceObjectName: is required"))?;
    let mut patch = patch_of(&input)?;
    let source = connectors::open(&state, &c)?;
    let fields = source.fields(object).await.map_err(|e| match e {
        swell_connect::ConnectError::NotFound(m) => ApiError::bad_request(format!("sourceObjectName: {m}")),
        other => other.into(),
    })?;
    patch.fields = Some(SourceField::list_json(&fields));
    let r = state.store.create_replicated(&c.id, object, &patch).await?;
    Ok(crate::wire::json(StatusCode::CREATED, representation(&state, &v, &r, &c).await?))
}

pub async fn get(
    State(state): State<AppState>,
    v: Version,
    Path(params): Path<HashMap<String, String>>,
) -> ApiResult<Response> {
    let (r, c) = find(&state, &params["id"]).await?;
    Ok(ok(representation(&state, &v, &r, &c).await?))
}

pub async fn patch(
    State(state): State<AppState>,
    v: Version,
    Path(params): Path<HashMap<String, String>>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let (r, c) = find(&state, &params["id"]).await?;
    let input = body(&bytes, "replicatedDataset")?;
    if let Some(o) = string_field(&input, "sourceObjectName")?
        && o != r.source_object
    {
        return Err(ApiError::bad_request(format!("sourceObjectName: cannot change from {} to {o}", r.source_object)));
    }
    let r = state.store.update_replicated(&r.id, &patch_of(&input)?).await?;
    Ok(ok(representation(&state, &v, &r, &c).await?))
}

/// Deletes a connected object and its synced data. A dataflow that still reads it adds it
/// back and syncs it on its next run (sync before run).
pub async fn delete(State(state): State<AppState>, Path(params): Path<HashMap<String, String>>) -> ApiResult<Response> {
    let (r, _) = find(&state, &params["id"]).await?;
    state.runner.remove_object(&r).await;
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

/// The object's fields, described from the source if they never were.
async fn described(state: &AppState, r: ReplicatedRecord, c: &ConnectorRecord) -> ApiResult<ReplicatedRecord> {
    if r.fields.is_some() {
        return Ok(r);
    }
    let fields = connectors::open(state, c)?.fields(&r.source_object).await?;
    let json = SourceField::list_json(&fields);
    Ok(state.store.init_replicated_fields(&r.id, &json).await?)
}

pub async fn fields(
    State(state): State<AppState>,
    v: Version,
    Path(params): Path<HashMap<String, String>>,
) -> ApiResult<Response> {
    let (r, c) = find(&state, &params["id"]).await?;
    let r = described(&state, r, &c).await?;
    Ok(ok(fields_body(&v, &r)))
}

/// Merges `{"fields": [...]}` into the object's fields.
pub async fn patch_fields(
    State(state): State<AppState>,
    v: Version,
    Path(params): Path<HashMap<String, String>>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let (r, c) = find(&state, &params["id"]).await?;
    let r = described(&state, r, &c).await?;
    let input = body(&bytes, "fields")?;
    let changes = input.get("fields").and_then(Value::as_array).ok_or_else(|| {
        ApiError::bad_request("fields: is required: an array of {name, label?, fieldType?, skipped?}")
    })?;
    let mut current: Vec<Value> = r.fields.clone().and_then(|f| f.as_array().cloned()).unwrap_or_default();
    let mut errors = Vec::new();
    for (i, change) in changes.iter().enumerate() {
        let Some(name) = change.get("name").and_then(Value::as_str) else {
            errors.push(format!("fields[{i}].name: is required"));
            continue;
        };
        match current.iter_mut().find(|f| f.get("name").and_then(Value::as_str) == Some(name)) {
            Some(existing) => {
                let mut merged = existing.clone();
                for (k, val) in change.as_object().into_iter().flatten() {
                    merged[k.as_str()] = val.clone();
                }
                match SourceField::from_json(&merged) {
                    Ok((f, skipped)) => {
                        let mut out = f.to_json(skipped);
                        if let Some(st) = existing.get("sourceType") {
                            out["sourceType"] = st.clone();
                        }
                        *existing = out;
                    }
                    Err(e) => errors.push(format!("fields[{i}]: {e}")),
                }
            }
            None => {
                if change.get("fieldType").is_none() {
                    errors.push(format!(
                        "fields[{i}].fieldType: is required for '{name}', a field the object does not have yet"
                    ));
                    continue;
                }
                match SourceField::from_json(change) {
                    Ok((f, skipped)) => current.push(f.to_json(skipped)),
                    Err(e) => errors.push(format!("fields[{i}]: {e}")),
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::many(ErrorCode::InvalidInput, errors));
    }
    let patch = ReplicatedPatch { fields: Some(Value::Array(current)), ..ReplicatedPatch::default() };
    let r = state.store.update_replicated(&r.id, &patch).await?;
    Ok(ok(fields_body(&v, &r)))
}
