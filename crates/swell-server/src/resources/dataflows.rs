//! `/wave/dataflows`: list, create, get, PATCH the definition, PUT a revert, `/histories`.
//! The changes are swell-app's use cases (definitions checked by the engine on every write).

use crate::wire::{AssetPath, Audit, PartPath, Permissions, Since, Timestamp, WaveUser, input, ok};
use crate::{AppState, Version};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use swell_app::{Actor, ApiResult, Asset, DefinitionChange, NewDefinition};
use swell_core::SalesforceId;
use swell_store::{DataflowRecord, HistoryRecord, ScheduleRecord};
use utoipa::ToSchema;

/// A dataflow (`Dataflow` of the Wave REST API). The list leaves its definition empty.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Dataflow {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub label: String,
    pub namespace: &'static str,
    pub url: String,
    #[serde(skip_serializing_if = "Since::absent")]
    #[schema(inline)]
    pub histories_url: Since<46, String>,
    pub email_notification_level: &'static str,
    #[serde(flatten)]
    pub audit: Audit,
    /// What the acting user may do with it.
    pub permissions: Permissions,
    // The dataflow's nodes, as stored.
    #[serde(skip_serializing_if = "Since::absent")]
    #[schema(inline)]
    pub definition: Since<50, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_scheduled_date: Option<Timestamp>,
    /// The schedule as a JSON string with its `scheduleType`, as an org writes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_attributes: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DataflowCollection {
    pub dataflows: Vec<Dataflow>,
    pub url: String,
}

pub fn representation(
    v: &Version,
    actor: &Actor,
    d: &DataflowRecord,
    with_definition: bool,
    schedule: Option<&ScheduleRecord>,
) -> Dataflow {
    let url = v.url(&format!("/dataflows/{}", d.id));
    Dataflow {
        id: d.id.to_string(),
        kind: "dataflow",
        name: d.name.clone(),
        label: d.label.clone(),
        namespace: "",
        histories_url: Since::at(v, format!("{url}/histories")),
        url,
        email_notification_level: "warnings",
        audit: Audit::new((&d.created_by, &d.created_date), (&d.last_modified_by, &d.last_modified_date)),
        permissions: Permissions::of(actor, Asset::Dataflow),
        definition: Since::at(v, if with_definition { d.definition.clone() } else { json!({}) }),
        description: d.description.clone(),
        next_scheduled_date: schedule.and_then(|s| s.next_run).map(Timestamp::from),
        schedule_attributes: schedule.and_then(super::schedules::attributes),
    }
}

/// A dataflow's representation with its schedule.
async fn full(state: &AppState, v: &Version, actor: &Actor, d: &DataflowRecord) -> ApiResult<Dataflow> {
    let schedule = state.store.schedule(&d.id).await?;
    Ok(representation(v, actor, d, true, schedule.as_ref()))
}

/// A saved version of a dataflow's or recipe's definition (`AssetHistory`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetHistory {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub label: String,
    pub created_by: WaveUser,
    pub created_date: Timestamp,
    pub url: String,
    /// The asset as it was: its URL with `?historyId=`.
    pub preview_url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryCollection {
    pub histories: Vec<AssetHistory>,
    pub url: String,
}

/// A history entry of the asset at `base` (`/dataflows/02K…` or `/recipes/05v…`).
pub fn history(v: &Version, base: &str, h: &HistoryRecord) -> AssetHistory {
    AssetHistory {
        id: h.id.to_string(),
        kind: "assethistory",
        name: h.label.clone(),
        label: h.label.clone(),
        created_by: WaveUser::named(&h.created_by),
        created_date: Timestamp::from(&h.created_date),
        url: v.url(&format!("{base}/histories/{}", h.id)),
        preview_url: v.url(&format!("{base}?historyId={}", h.id)),
    }
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/dataflows",
    tag = "dataflows",
    params(("q" = Option<String>, Query, description = "words found in the name or label")),
    responses((status = 200, body = DataflowCollection)),
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let dataflows = state.store.list_dataflows(q.get("q").map(String::as_str)).await?;
    let ids: Vec<SalesforceId> = dataflows.iter().map(|d| d.id.clone()).collect();
    let schedules: HashMap<SalesforceId, ScheduleRecord> =
        state.store.schedules_of(&ids).await?.into_iter().map(|s| (s.asset_id.clone(), s)).collect();
    let dataflows = dataflows.iter().map(|d| representation(&v, &actor, d, false, schedules.get(&d.id))).collect();
    Ok(ok(DataflowCollection { dataflows, url: v.url("/dataflows") }))
}

/// The body of a dataflow's POST, PATCH and PUT (`DataflowInputRepresentation`), bare or
/// wrapped in `dataflow`. A name not given is made from the label.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataflowInput {
    pub name: Option<String>,
    pub label: Option<String>,
    pub description: Option<String>,
    /// The nodes (`{"node": {"action": ..., "parameters": ...}}`).
    pub definition: Option<Value>,
    /// The label of the history entry the change makes.
    pub history_label: Option<String>,
    /// PUT: the history entry to go back to.
    pub history_id: Option<String>,
}

impl DataflowInput {
    pub fn change(self) -> DefinitionChange {
        DefinitionChange {
            name: self.name,
            label: self.label,
            description: self.description,
            definition: self.definition,
            history_label: self.history_label,
        }
    }

    pub fn new_definition(self) -> NewDefinition {
        NewDefinition { name: self.name, label: self.label, description: self.description, definition: self.definition }
    }
}

#[utoipa::path(
    post,
    path = "/services/data/{version}/wave/dataflows",
    tag = "dataflows",
    request_body = DataflowInput,
    responses((status = 201, body = Dataflow)),
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input: DataflowInput = input(&bytes, "dataflow")?;
    let d = state.create_dataflow(&actor, input.new_definition()).await?;
    Ok(crate::wire::json(StatusCode::CREATED, representation(&v, &actor, &d, true, None)))
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/dataflows/{id}",
    tag = "dataflows",
    params(("historyId" = Option<String>, Query, description = "show the definition of this history entry")),
    responses((status = 200, body = Dataflow)),
)]
pub async fn get(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let mut d = state.dataflow(&id.id).await?;
    if let Some(h) = q.get("historyId") {
        d.definition = state.history(&d.id, h).await?.definition;
    }
    Ok(ok(full(&state, &v, &actor, &d).await?))
}

#[utoipa::path(
    patch,
    path = "/services/data/{version}/wave/dataflows/{id}",
    tag = "dataflows",
    request_body = DataflowInput,
    responses((status = 200, body = Dataflow)),
)]
pub async fn patch(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input: DataflowInput = input(&bytes, "dataflow")?;
    let updated = state.update_dataflow(&actor, &id.id, input.change()).await?;
    Ok(ok(full(&state, &v, &actor, &updated).await?))
}

#[utoipa::path(
    put,
    path = "/services/data/{version}/wave/dataflows/{id}",
    tag = "dataflows",
    request_body = DataflowInput,
    responses((status = 200, body = Dataflow, description = "Reverted to the history entry historyId")),
)]
pub async fn revert(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input: DataflowInput = input(&bytes, "dataflow")?;
    let updated =
        state.revert_dataflow(&actor, &id.id, input.history_id.as_deref(), input.history_label.as_deref()).await?;
    Ok(ok(full(&state, &v, &actor, &updated).await?))
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/dataflows/{id}/histories",
    tag = "dataflows",
    responses((status = 200, body = HistoryCollection)),
)]
pub async fn histories(State(state): State<AppState>, v: Version, Path(id): Path<AssetPath>) -> ApiResult<Response> {
    let d = state.dataflow(&id.id).await?;
    let base = format!("/dataflows/{}", d.id);
    let histories = state.store.histories(&d.id).await?.iter().map(|h| history(&v, &base, h)).collect();
    Ok(ok(HistoryCollection { histories, url: v.url(&format!("{base}/histories")) }))
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/dataflows/{id}/histories/{part}",
    tag = "dataflows",
    responses((status = 200, body = AssetHistory)),
)]
pub async fn history_get(State(state): State<AppState>, v: Version, Path(p): Path<PartPath>) -> ApiResult<Response> {
    let d = state.dataflow(&p.id).await?;
    let h = state.history(&d.id, &p.part).await?;
    Ok(ok(history(&v, &format!("/dataflows/{}", d.id), &h)))
}

/// Deletes a dataflow with its histories, jobs and schedule; refused (409) while it has a
/// queued or running job. Datasets it registered stay.
#[utoipa::path(
    delete,
    path = "/services/data/{version}/wave/dataflows/{id}",
    tag = "dataflows",
    responses((status = 204, description = "Done; no body")),
)]
pub async fn delete(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<AssetPath>,
) -> ApiResult<Response> {
    state.delete_dataflow(&actor, &id.id).await?;
    Ok(axum::response::IntoResponse::into_response(StatusCode::NO_CONTENT))
}
