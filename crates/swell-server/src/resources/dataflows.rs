//! `/wave/dataflows`: list, create, get, PATCH the definition, PUT a revert, `/histories`.
//! Definitions are validated with the engine on every write; an invalid one is refused with
//! every problem, one error entry each.

use crate::error::{ApiError, ApiResult};
use crate::wire::{IdOrName, body, ok, string_field, unchanged_name};
use crate::{AppState, Version};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashMap;
use swell_core::dates::to_wire;
use swell_core::{AssetKind, KeyPrefix, SalesforceId};
use swell_store::{DataflowRecord, HistoryRecord, ScheduleRecord};

pub fn user() -> Value {
    let id = SalesforceId::new(KeyPrefix::User, 1);
    json!({ "id": id.as_str(), "name": "swell admin", "profilePhotoUrl": null })
}

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
        "createdBy": user(),
        "createdDate": to_wire(&d.created_date),
        "lastModifiedBy": user(),
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
        "createdBy": user(),
        "createdDate": to_wire(&h.created_date),
        "url": v.url(&format!("{base}/histories/{}", h.id)),
        "previewUrl": v.url(&format!("{base}?historyId={}", h.id)),
    })
}

/// Parses an id that must have `prefix`; any other id is a 400 naming what was expected.
pub fn id_of(s: &str, prefix: KeyPrefix, what: &str) -> ApiResult<SalesforceId> {
    let id = SalesforceId::parse(s).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if !id.has_prefix(prefix) {
        return Err(ApiError::bad_request(format!(
            "'{s}' is not a {what} id: {what} ids start with {}",
            prefix.as_str()
        )));
    }
    Ok(id)
}

/// A dataflow by id (15 or 18 characters) or by API name.
pub async fn find(state: &AppState, id_or_name: &str) -> ApiResult<DataflowRecord> {
    match crate::wire::id_or_name(id_or_name, KeyPrefix::Dataflow, "dataflow")? {
        IdOrName::Id(id) => Ok(state.store.dataflow(&id).await?),
        IdOrName::Name(name) => {
            state.store.dataflow_by_name(name).await?.ok_or_else(|| ApiError::not_found(format!("dataflow {name}")))
        }
    }
}

/// A dataflow that belongs to another asset (a recipe's target dataflow, a data connection's
/// sync dataflow) is changed and deleted through its owner, never by itself: deleting a
/// recipe's target dataflow would leave the recipe without its definition, and a sync
/// dataflow's definition is made from its connection. `verb` names the refused action.
async fn owned_dataflow(state: &AppState, d: &DataflowRecord, verb: &str) -> ApiResult<DataflowRecord> {
    let owner = match d.kind {
        AssetKind::Recipe => match state.store.recipe_of_dataflow(&d.id).await? {
            Some(r) => {
                format!("the target dataflow of recipe {} ({}); {verb} the recipe instead", r.dataflow.name, r.id)
            }
            None => format!("the target dataflow of a recipe; {verb} the recipe instead"),
        },
        AssetKind::Sync => match state.store.connector_of_dataflow(&d.id).await? {
            Some(c) => {
                format!("the sync dataflow of data connection {} ({}); {verb} the connection instead", c.name, c.id)
            }
            None => format!("the sync dataflow of a data connection; {verb} the connection instead"),
        },
        AssetKind::Dataflow | AssetKind::Connection => return Ok(d.clone()),
    };
    Err(ApiError::bad_request(format!("dataflow {} ({}) is {owner}", d.name, d.id)))
}

/// Checks a definition with the engine; every problem is its own error entry.
/// A definition as the API keeps it: the stored forms an org's files have (`["<json>",
/// null]`, `{"nodes": ...}`) become the public object of nodes, which is then checked.
pub fn validate(definition: Value) -> ApiResult<Value> {
    let definition = swell_engine::definition::public_dataflow(definition)?;
    if !definition.is_object() {
        return Err(ApiError::bad_request("definition: must be an object of nodes"));
    }
    swell_engine::validate_isolated(definition.to_string())?;
    Ok(definition)
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

pub async fn create(State(state): State<AppState>, v: Version, bytes: Bytes) -> ApiResult<Response> {
    let input = body(&bytes, "dataflow")?;
    let (name, label) = crate::wire::name_and_label(&input)?;
    let description = string_field(&input, "description")?;
    let mut definition = input.get("definition").cloned().unwrap_or_else(|| json!({}));
    // an empty object is a dataflow to be written later; anything else must check
    if definition.as_object().is_none_or(|o| !o.is_empty()) {
        definition = validate(definition)?;
    }
    let d = state.store.create_dataflow(&name, &label, description, &definition).await?;
    Ok(crate::wire::json(StatusCode::CREATED, representation(&v, &d, true, None)))
}

pub async fn get(
    State(state): State<AppState>,
    v: Version,
    Path(params): Path<HashMap<String, String>>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let mut d = find(&state, &params["id"]).await?;
    if let Some(h) = q.get("historyId") {
        let hid = id_of(h, KeyPrefix::History, "history")?;
        let found = state.store.histories(&d.id).await?.into_iter().find(|x| x.id == hid);
        d.definition = found.ok_or_else(|| ApiError::not_found(format!("history {h}")))?.definition;
    }
    Ok(ok(full(&state, &v, &d).await?))
}

pub async fn patch(
    State(state): State<AppState>,
    v: Version,
    Path(params): Path<HashMap<String, String>>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let d = owned_dataflow(&state, &find(&state, &params["id"]).await?, "change").await?;
    let input = body(&bytes, "dataflow")?;
    unchanged_name(&input, &d.name)?;
    let definition = input.get("definition").cloned().map(validate).transpose()?;
    let updated = state
        .store
        .update_dataflow(
            &d.id,
            string_field(&input, "label")?,
            string_field(&input, "description")?,
            definition.as_ref(),
            string_field(&input, "historyLabel")?,
        )
        .await?;
    Ok(ok(full(&state, &v, &updated).await?))
}

pub async fn revert(
    State(state): State<AppState>,
    v: Version,
    Path(params): Path<HashMap<String, String>>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let d = owned_dataflow(&state, &find(&state, &params["id"]).await?, "revert").await?;
    let input = body(&bytes, "dataflow")?;
    let hid = string_field(&input, "historyId")?.ok_or_else(|| ApiError::bad_request("historyId: is required"))?;
    let hid = id_of(hid, KeyPrefix::History, "history")?;
    let updated = state.store.revert_dataflow(&d.id, &hid, string_field(&input, "historyLabel")?).await?;
    Ok(ok(full(&state, &v, &updated).await?))
}

pub async fn histories(
    State(state): State<AppState>,
    v: Version,
    Path(params): Path<HashMap<String, String>>,
) -> ApiResult<Response> {
    let d = find(&state, &params["id"]).await?;
    let items: Vec<Value> =
        state.store.histories(&d.id).await?.iter().map(|h| history(&v, &format!("/dataflows/{}", d.id), h)).collect();
    Ok(ok(json!({ "histories": items, "url": v.url(&format!("/dataflows/{}/histories", d.id)) })))
}

/// Deletes a dataflow with its histories, jobs and schedule; refused (409) while it has a
/// queued or running job. Datasets it registered stay.
pub async fn delete(State(state): State<AppState>, Path(params): Path<HashMap<String, String>>) -> ApiResult<Response> {
    let d = owned_dataflow(&state, &find(&state, &params["id"]).await?, "delete").await?;
    state.store.delete_dataflow(&d.id).await?;
    state.scheduler.wake();
    Ok(axum::response::IntoResponse::into_response(StatusCode::NO_CONTENT))
}
