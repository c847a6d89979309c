//! `/wave/replicatedDatasets` (connected objects): list with filters, create, get, PATCH,
//! DELETE, and `/fields` (GET; PATCH and POST merge: name required, fieldType for fields
//! the object does not have yet; fields are never removed, only skipped).
//!
//! The changes are swell-app's use cases (`objects.rs` there says what each does).

use super::connectors;
use super::connectors::DataConnector;
use super::paging::matches_q;
use crate::wire::shapes::one_of;
use crate::wire::{AssetPath, AssetRef, Audit, Permissions, Timestamp, input, ok};
use crate::{AppState, Version};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use swell_app::{Actor, ApiError, ApiResult, Asset, NewObject};
use swell_core::{ConnectionMode, SyncStatus};
use swell_store::{ConnectorRecord, ReplicatedPatch, ReplicatedRecord};
use utoipa::ToSchema;

/// A connected object (`ReplicatedDataset`): a source object that a connection syncs.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplicatedDataset {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub label: String,
    pub namespace: &'static str,
    pub url: String,
    pub source_object_name: String,
    pub connector: DataConnector,
    #[schema(schema_with = connection_modes)]
    pub connection_mode: &'static str,
    pub supported_connection_modes: Vec<&'static str>,
    pub filter_applied: bool,
    pub fields_url: String,
    /// Fields synced (not skipped).
    pub field_count: usize,
    pub replication_dataflow_id: String,
    pub row_level_sharing: bool,
    /// `[{name, value}]`: `primaryKey` and `watermarkField` of incremental syncs.
    pub advanced_properties: Value,
    pub full_refresh: bool,
    #[schema(schema_with = sync_statuses)]
    pub status: &'static str,
    pub uuid: String,
    #[serde(flatten)]
    pub audit: Audit,
    /// What the acting user may do with it.
    pub permissions: Permissions,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pass_through_filter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_refreshed_date: Option<Timestamp>,
}

fn connection_modes() -> utoipa::openapi::schema::Object {
    one_of(ConnectionMode::ALL.map(ConnectionMode::wire))
}

fn sync_statuses() -> utoipa::openapi::schema::Object {
    one_of(SyncStatus::ALL.map(SyncStatus::wire))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplicatedDatasetCollection {
    pub replicated_datasets: Vec<ReplicatedDataset>,
    pub url: String,
}

async fn representation(
    state: &AppState,
    v: &Version,
    actor: &Actor,
    r: &ReplicatedRecord,
    c: &ConnectorRecord,
) -> ApiResult<ReplicatedDataset> {
    let url = v.url(&format!("/replicatedDatasets/{}", r.id));
    let field_count = r
        .fields
        .as_ref()
        .and_then(Value::as_array)
        .map_or(0, |f| f.iter().filter(|x| x.get("skipped") != Some(&Value::Bool(true))).count());
    Ok(ReplicatedDataset {
        id: r.id.to_string(),
        kind: "replicateddataset",
        name: r.source_object.clone(),
        label: r.source_object.clone(),
        namespace: "",
        source_object_name: r.source_object.clone(),
        connector: connectors::representation(state, v, actor, c, false).await?,
        connection_mode: r.connection_mode.wire(),
        supported_connection_modes: ConnectionMode::ALL.map(ConnectionMode::wire).to_vec(),
        filter_applied: r.pass_through_filter.as_deref().is_some_and(|f| !f.trim().is_empty()),
        fields_url: format!("{url}/fields"),
        url,
        field_count,
        replication_dataflow_id: c.dataflow_id.to_string(),
        row_level_sharing: r.row_level_sharing,
        advanced_properties: r.advanced_properties.clone(),
        full_refresh: r.full_refresh,
        status: r.status.wire(),
        uuid: r.id.to_string(),
        audit: Audit::new((&r.created_by, &r.created_date), (&r.last_modified_by, &r.last_modified_date)),
        permissions: Permissions::of(actor, Asset::ConnectedObject),
        pass_through_filter: r.pass_through_filter.clone(),
        last_refreshed_date: r.last_refreshed.map(Timestamp::from),
    })
}

/// The body of a connected object's POST and PATCH (`ReplicatedDatasetInputRepresentation`),
/// bare or wrapped in `replicatedDataset`; a field it does not have is an error.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplicatedDatasetInput {
    /// The connection (0It id or API name); POST only.
    pub connector_id: Option<String>,
    /// The source object; POST only.
    pub source_object_name: Option<String>,
    pub name: Option<String>,
    pub label: Option<String>,
    #[schema(schema_with = connection_modes)]
    pub connection_mode: Option<String>,
    pub full_refresh: Option<bool>,
    /// A filter the source applies (SOQL `WHERE` of Salesforce objects); `null` removes it.
    #[serde(default, deserialize_with = "crate::wire::nullable")]
    #[schema(value_type = Option<String>)]
    pub pass_through_filter: Option<Option<String>>,
    pub row_level_sharing: Option<bool>,
    /// `primaryKey` and `watermarkField` of incremental syncs (`dataConnectorTypes` lists them).
    pub advanced_properties: Option<Vec<AdvancedPropertyInput>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AdvancedPropertyInput {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

impl ReplicatedDatasetInput {
    fn into_new(self) -> ApiResult<NewObject> {
        // swell-app checks the names and values (`swell_scheduler::check_advanced_properties`)
        let advanced =
            self.advanced_properties.as_ref().map(serde_json::to_value).transpose().map_err(ApiError::internal)?;
        let settings = ReplicatedPatch {
            connection_mode: self.connection_mode.as_deref().map(swell_app::connection_mode).transpose()?,
            full_refresh: self.full_refresh,
            pass_through_filter: self.pass_through_filter.map(|f| f.filter(|s| !s.trim().is_empty())),
            row_level_sharing: self.row_level_sharing,
            advanced_properties: advanced,
            fields: None,
        };
        Ok(NewObject {
            connector: self.connector_id,
            source_object: self.source_object_name,
            name: self.name,
            label: self.label,
            settings,
        })
    }
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/replicatedDatasets",
    tag = "connected objects",
    params(
        ("category" = Option<String>, Query, description = "Input (default) or Output"),
        ("connector" = Option<String>, Query, description = "objects of this connection (id or API name)"),
        ("sourceObject" = Option<String>, Query, description = "objects of this source object"),
        ("q" = Option<String>, Query, description = "words found in the name or label"),
    ),
    responses((status = 200, body = ReplicatedDatasetCollection)),
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let connectors = state.store.list_connectors().await?;
    let mut items = Vec::new();
    if q.get("category").is_some_and(|c| c.eq_ignore_ascii_case("Output")) {
        return Ok(ok(ReplicatedDatasetCollection { replicated_datasets: items, url: v.url("/replicatedDatasets") }));
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
        items.push(representation(&state, &v, &actor, &r, c).await?);
    }
    Ok(ok(ReplicatedDatasetCollection { replicated_datasets: items, url: v.url("/replicatedDatasets") }))
}

#[utoipa::path(
    post,
    path = "/services/data/{version}/wave/replicatedDatasets",
    tag = "connected objects",
    request_body = ReplicatedDatasetInput,
    responses((status = 201, body = ReplicatedDataset)),
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    bytes: Bytes,
) -> ApiResult<Response> {
    let new = input::<ReplicatedDatasetInput>(&bytes, "replicatedDataset")?.into_new()?;
    let r = state.add_object(&actor, new).await?;
    let c = state.store.connector(&r.connector_id).await?;
    Ok(crate::wire::json(StatusCode::CREATED, representation(&state, &v, &actor, &r, &c).await?))
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/replicatedDatasets/{id}",
    tag = "connected objects",
    responses((status = 200, body = ReplicatedDataset)),
)]
pub async fn get(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
) -> ApiResult<Response> {
    let (r, c) = state.object(&id.id).await?;
    Ok(ok(representation(&state, &v, &actor, &r, &c).await?))
}

#[utoipa::path(
    patch,
    path = "/services/data/{version}/wave/replicatedDatasets/{id}",
    tag = "connected objects",
    request_body = ReplicatedDatasetInput,
    responses((status = 200, body = ReplicatedDataset)),
)]
pub async fn patch(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let change = input::<ReplicatedDatasetInput>(&bytes, "replicatedDataset")?.into_new()?;
    let r = state.update_object(&actor, &id.id, change).await?;
    let c = state.store.connector(&r.connector_id).await?;
    Ok(ok(representation(&state, &v, &actor, &r, &c).await?))
}

/// Deletes a connected object and its synced data. A dataflow that still reads it adds it
/// back and syncs it on its next run (sync before run).
#[utoipa::path(
    delete,
    path = "/services/data/{version}/wave/replicatedDatasets/{id}",
    tag = "connected objects",
    responses((status = 204, description = "Done; no body")),
)]
pub async fn delete(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<AssetPath>,
) -> ApiResult<Response> {
    state.remove_object(&actor, &id.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A field of a connected object, as stored and shown: what a sync reads and writes.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplicatedField {
    pub name: String,
    #[serde(default)]
    pub label: String,
    pub field_type: String,
    #[serde(default)]
    pub precision: u32,
    #[serde(default)]
    pub scale: u32,
    #[serde(default)]
    pub multi_value: bool,
    /// Left out of syncs.
    #[serde(default)]
    pub skipped: bool,
    /// Part of the upsert key of incremental syncs.
    #[serde(default)]
    pub unique_id: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// The fields of a connected object.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplicatedFieldCollection {
    pub fields: Vec<ReplicatedField>,
    pub replicated_dataset: AssetRef,
    pub url: String,
}

fn fields_body(v: &Version, r: &ReplicatedRecord) -> ApiResult<ReplicatedFieldCollection> {
    let url = v.url(&format!("/replicatedDatasets/{}", r.id));
    let fields = match &r.fields {
        Some(f) => serde_json::from_value(f.clone())
            .map_err(|e| ApiError::internal(format!("the stored fields of {} cannot be read: {e}", r.id)))?,
        None => Vec::new(),
    };
    Ok(ReplicatedFieldCollection {
        fields,
        replicated_dataset: AssetRef::new(&r.id).named(&r.source_object).url(url.clone()),
        url: format!("{url}/fields"),
    })
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/replicatedDatasets/{id}/fields",
    tag = "connected objects",
    responses((status = 200, body = ReplicatedFieldCollection)),
)]
pub async fn fields(State(state): State<AppState>, v: Version, Path(id): Path<AssetPath>) -> ApiResult<Response> {
    let r = state.object_fields(&id.id).await?;
    Ok(ok(fields_body(&v, &r)?))
}

/// The body of PATCH (or POST) on a connected object's fields: the fields to change, by name
/// (swell-app checks each and names what is wrong as `fields[i].key`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct FieldsInput {
    #[schema(value_type = Option<Vec<FieldChange>>)]
    pub fields: Option<Vec<Value>>,
}

/// A change of one field: its name, and what changes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // the schema of a field change; swell-app reads the JSON, naming each mistake
pub struct FieldChange {
    pub name: String,
    pub label: Option<String>,
    /// For a field the object does not have yet.
    pub field_type: Option<String>,
    pub precision: Option<u32>,
    pub scale: Option<u32>,
    pub skipped: Option<bool>,
    pub unique_id: Option<bool>,
    pub format: Option<String>,
}

/// Merges `{"fields": [...]}` into the object's fields.
#[utoipa::path(
    method(patch, post),
    path = "/services/data/{version}/wave/replicatedDatasets/{id}/fields",
    tag = "connected objects",
    request_body = FieldsInput,
    responses((status = 200, body = ReplicatedFieldCollection)),
)]
pub async fn patch_fields(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input: FieldsInput = input(&bytes, "fields")?;
    let changes = input.fields.ok_or_else(|| {
        ApiError::bad_request("fields: is required: an array of {name, label?, fieldType?, skipped?}")
    })?;
    let r = state.change_fields(&actor, &id.id, &changes).await?;
    Ok(ok(fields_body(&v, &r)?))
}
