//! `/wave/dataConnectors` (list, create, get, PATCH, DELETE by id or API name), `/status`
//! (a real connection test), `/sourceObjects` (paged), `/sourceObjects/{name}`, `/fields`,
//! `/dataPreview`, `/ingest` (Run Now: queues a datasync job), and `/wave/dataConnectorTypes`.
//!
//! Secrets (properties the type marks encrypted, and any whose name says password, secret,
//! token or key) are stored and used, never returned: they read `"******"`, and a PATCH that
//! sends `"******"` back keeps the stored value. A source that cannot be reached or refuses is
//! a 400 naming the source's message (the status resource answers 200 with `Failure`).

use super::paging::{Page, matches_q};
use super::schedules::ScheduleRepresentation;
use crate::wire::shapes::one_of;
use crate::wire::{AssetPath, AssetRef, Audit, ObjectPath, Permissions, body, input, ok};
use crate::{AppState, Version};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use swell_app::{Actor, ApiError, ApiResult, Asset, ConnectionChange, MASK, NewConnection, type_of};
use swell_connect::{ConnectorType, SourceField};
use swell_store::ConnectorRecord;
use utoipa::ToSchema;

/// A data connection (`DataConnector`). Secrets read `"******"`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataConnector {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub label: String,
    pub namespace: &'static str,
    pub url: String,
    pub connector_type: &'static str,
    pub connector_handler: &'static str,
    pub connection_properties: Vec<ConnectionProperty>,
    /// When its objects sync.
    pub ingestion_schedule: ScheduleRepresentation,
    #[serde(flatten)]
    pub audit: Audit,
    /// What the acting user may do with it.
    pub permissions: Permissions,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionProperty {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataConnectorCollection {
    pub data_connectors: Vec<DataConnector>,
    pub url: String,
}

/// The DataConnector representation; `with_properties` false gives `[]` (as inside a
/// connected object).
pub async fn representation(
    state: &AppState,
    v: &Version,
    actor: &Actor,
    c: &ConnectorRecord,
    with_properties: bool,
) -> ApiResult<DataConnector> {
    let ty = type_of(c)?;
    let properties = if with_properties {
        c.properties
            .iter()
            .map(|(n, val)| ConnectionProperty {
                name: n.clone(),
                value: if ty.is_secret(n) && !val.is_empty() { MASK.to_string() } else { val.clone() },
            })
            .collect()
    } else {
        Vec::new()
    };
    let schedule = state.store.schedule(&c.id).await?;
    Ok(DataConnector {
        id: c.id.to_string(),
        kind: "dataconnector",
        name: c.name.clone(),
        label: c.label.clone(),
        namespace: "",
        url: v.url(&format!("/dataConnectors/{}", c.id)),
        connector_type: ty.name(),
        connector_handler: if ty.is_local_salesforce() { "Legacy" } else { "Base" },
        connection_properties: properties,
        ingestion_schedule: super::schedules::representation(&c.id, schedule.as_ref(), chrono::Utc::now()),
        audit: Audit::new((&c.created_by, &c.created_date), (&c.last_modified_by, &c.last_modified_date)),
        permissions: Permissions::of(actor, Asset::Connection),
        description: c.description.clone(),
    })
}

/// The body of a connection's POST and PATCH (`DataConnectorInputRepresentation`), bare or
/// wrapped in `dataConnector`. A PATCH changes what it names; a secret sent back as
/// `"******"` keeps the stored one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataConnectorInput {
    pub connector_type: Option<String>,
    pub name: Option<String>,
    pub label: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "crate::wire::nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// Checked against the connector type's properties.
    pub connection_properties: Option<Vec<PropertyInput>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PropertyInput {
    pub name: String,
    #[serde(default)]
    pub value: PropertyValue,
}

/// A property's value: text, a number or a boolean (kept as text); `null` is empty.
#[derive(Debug, Default, Deserialize)]
#[serde(untagged, expecting = "text, a number, a boolean or null")]
pub enum PropertyValue {
    #[default]
    Empty,
    Text(String),
    Number(serde_json::Number),
    Boolean(bool),
}

impl utoipa::PartialSchema for PropertyValue {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::Array(vec![Type::String, Type::Number, Type::Boolean, Type::Null]))
            .into()
    }
}

impl ToSchema for PropertyValue {}

impl DataConnectorInput {
    fn properties(&self) -> Option<Vec<(String, String)>> {
        let list = self.connection_properties.as_ref()?;
        Some(
            list.iter()
                .map(|p| {
                    let value = match &p.value {
                        PropertyValue::Empty => String::new(),
                        PropertyValue::Text(s) => s.clone(),
                        PropertyValue::Number(n) => n.to_string(),
                        PropertyValue::Boolean(b) => b.to_string(),
                    };
                    (p.name.clone(), value)
                })
                .collect(),
        )
    }
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/dataConnectors",
    tag = "connections",
    params(
        ("connectorType" = Option<String>, Query, description = "a connector type name"),
        ("category" = Option<String>, Query, description = "a category of connector types"),
    ),
    responses((status = 200, body = DataConnectorCollection)),
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let mut all = state.store.list_connectors().await?;
    if let Some(t) = q.get("connectorType") {
        let wanted = ConnectorType::parse(t).map_err(|e| ApiError::bad_request(format!("connectorType: {e}")))?;
        all.retain(|c| c.connector_type == wanted.name());
    }
    if let Some(cat) = q.get("category") {
        all.retain(|c| {
            ConnectorType::parse(&c.connector_type)
                .is_ok_and(|t| t.categories().iter().any(|x| x.eq_ignore_ascii_case(cat)))
        });
    }
    let mut data_connectors = Vec::new();
    for c in &all {
        data_connectors.push(representation(&state, &v, &actor, c, true).await?);
    }
    Ok(ok(DataConnectorCollection { data_connectors, url: v.url("/dataConnectors") }))
}

#[utoipa::path(
    post,
    path = "/services/data/{version}/wave/dataConnectors",
    tag = "connections",
    request_body = DataConnectorInput,
    responses((status = 201, body = DataConnector)),
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input: DataConnectorInput = input(&bytes, "dataConnector")?;
    let properties = input.properties().unwrap_or_default();
    let new = NewConnection {
        connector_type: input.connector_type,
        name: input.name,
        label: input.label,
        description: input.description.flatten(),
        properties,
    };
    let c = state.create_connection(&actor, new).await?;
    Ok(crate::wire::json(StatusCode::CREATED, representation(&state, &v, &actor, &c, true).await?))
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/dataConnectors/{id}",
    tag = "connections",
    responses((status = 200, body = DataConnector)),
)]
pub async fn get(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
) -> ApiResult<Response> {
    let c = state.connection(&id.id).await?;
    Ok(ok(representation(&state, &v, &actor, &c, true).await?))
}

#[utoipa::path(
    patch,
    path = "/services/data/{version}/wave/dataConnectors/{id}",
    tag = "connections",
    request_body = DataConnectorInput,
    responses((status = 200, body = DataConnector)),
)]
pub async fn patch(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input: DataConnectorInput = input(&bytes, "dataConnector")?;
    let properties = input.properties();
    let change = ConnectionChange {
        connector_type: input.connector_type,
        name: input.name,
        label: input.label,
        description: input.description,
        properties,
    };
    let c = state.update_connection(&actor, &id.id, change).await?;
    Ok(ok(representation(&state, &v, &actor, &c, true).await?))
}

#[utoipa::path(
    delete,
    path = "/services/data/{version}/wave/dataConnectors/{id}",
    tag = "connections",
    responses((status = 204, description = "Done; no body")),
)]
pub async fn delete(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<AssetPath>,
) -> ApiResult<Response> {
    state.delete_connection(&actor, &id.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/dataConnectors/{id}/status",
    tag = "connections",
    responses((status = 200, body = ConnectionStatus, description = "A real test of the connection")),
)]
pub async fn status(State(state): State<AppState>, v: Version, Path(id): Path<AssetPath>) -> ApiResult<Response> {
    let c = state.connection(&id.id).await?;
    let result = match state.open_source(&c) {
        Ok(source) => source.test().await.map_err(ApiError::from),
        Err(e) => Err(e),
    };
    let (status, message) = match result {
        Ok(m) => ("Success", m),
        Err(e) => ("Failure", e.message),
    };
    Ok(ok(ConnectionStatus { status, message, url: v.url(&format!("/dataConnectors/{}/status", c.id)) }))
}

/// The result of a connection test (`DataConnectorStatus`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionStatus {
    #[schema(schema_with = test_results)]
    pub status: &'static str,
    pub message: String,
    pub url: String,
}

fn test_results() -> utoipa::openapi::schema::Object {
    one_of(["Success", "Failure"])
}

/// An object a connection's source holds (`SourceObject`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceObject {
    pub name: String,
    pub label: String,
    /// Whether a connected object syncs it.
    pub replicated: bool,
    pub url: String,
    pub fields_url: String,
    pub data_preview_url: String,
    pub data_connector: AssetRef,
    pub accessible: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceObjectCollection {
    pub source_objects: Vec<SourceObject>,
    pub total_size: i64,
    pub url: String,
    pub next_page_url: Option<String>,
}

fn connection_ref(v: &Version, c: &ConnectorRecord) -> AssetRef {
    AssetRef::new(&c.id).named(&c.name).url(v.url(&format!("/dataConnectors/{}", c.id)))
}

fn source_object(v: &Version, c: &ConnectorRecord, name: &str, label: &str, replicated: bool) -> SourceObject {
    let url = v.url(&format!("/dataConnectors/{}/sourceObjects/{}", c.id, name));
    SourceObject {
        name: name.to_string(),
        label: label.to_string(),
        replicated,
        fields_url: format!("{url}/fields"),
        data_preview_url: format!("{url}/dataPreview"),
        url,
        data_connector: connection_ref(v, c),
        accessible: true,
    }
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/dataConnectors/{id}/sourceObjects",
    tag = "connections",
    params(
        ("q" = Option<String>, Query, description = "words found in the name or label"),
        ("page" = Option<String>, Query, description = "the page token of a nextPageUrl"),
        ("pageSize" = Option<i64>, Query, description = "1 to 200 (default 25)"),
    ),
    responses((status = 200, body = SourceObjectCollection)),
)]
pub async fn source_objects(
    State(state): State<AppState>,
    v: Version,
    Path(id): Path<AssetPath>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let c = state.connection(&id.id).await?;
    let page = Page::from_query(&q)?;
    let mut objects = state.open_source(&c)?.objects().await?;
    if let Some(terms) = q.get("q") {
        objects.retain(|o| matches_q(terms, &[&o.name, &o.label]));
    }
    let replicated: Vec<String> =
        state.store.replicated_of(&c.id).await?.into_iter().map(|r| r.source_object).collect();
    let total = objects.len() as i64;
    let source_objects = objects
        .iter()
        .skip(page.offset() as usize)
        .take(page.size as usize)
        .map(|o| source_object(&v, &c, &o.name, &o.label, replicated.contains(&o.name)))
        .collect();
    let (url, next_page_url) = page.links(&v.url(&format!("/dataConnectors/{}/sourceObjects", c.id)), &q, total);
    Ok(ok(SourceObjectCollection { source_objects, total_size: total, url, next_page_url }))
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/dataConnectors/{id}/sourceObjects/{object}",
    tag = "connections",
    responses((status = 200, body = SourceObject)),
)]
pub async fn source_object_get(
    State(state): State<AppState>,
    v: Version,
    Path(p): Path<ObjectPath>,
) -> ApiResult<Response> {
    let c = state.connection(&p.id).await?;
    let name = &p.object;
    let objects = state.open_source(&c)?.objects().await?;
    let o = objects
        .iter()
        .find(|o| &o.name == name)
        .ok_or_else(|| ApiError::not_found(format!("source object {name} of {}", c.name)))?;
    let replicated = state.store.replicated_by_object(&c.id, &o.name).await?.is_some();
    Ok(ok(source_object(&v, &c, &o.name, &o.label, replicated)))
}

/// A field of a source object (`SourceField`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceFieldRepresentation {
    pub name: String,
    pub label: String,
    #[schema(schema_with = field_types)]
    pub field_type: &'static str,
    pub precision: u32,
    pub scale: u32,
    pub multi_value: bool,
    /// Part of the object's primary key (the upsert key of incremental syncs).
    pub unique_id: bool,
    /// The source's own type name (`varchar`, `numeric`, `picklist`, ...).
    pub source_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<&'static str>,
    pub accessible: bool,
    pub system_field: bool,
}

fn field_types() -> utoipa::openapi::schema::Object {
    one_of(["text", "numeric", "date"])
}

impl From<&SourceField> for SourceFieldRepresentation {
    fn from(f: &SourceField) -> Self {
        SourceFieldRepresentation {
            name: f.name.clone(),
            label: f.label.clone(),
            field_type: f.wire_type(),
            precision: f.precision(),
            scale: f.scale(),
            multi_value: false,
            unique_id: f.primary_key,
            source_type: f.source_type.clone(),
            format: f.format(),
            accessible: true,
            system_field: false,
        }
    }
}

/// The fields of a source object.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceFieldCollection {
    pub data_connector: AssetRef,
    pub fields: Vec<SourceFieldRepresentation>,
    pub source_object_name: String,
    pub url: String,
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/dataConnectors/{id}/sourceObjects/{object}/fields",
    tag = "connections",
    responses((status = 200, body = SourceFieldCollection)),
)]
pub async fn source_fields(
    State(state): State<AppState>,
    v: Version,
    Path(p): Path<ObjectPath>,
) -> ApiResult<Response> {
    let c = state.connection(&p.id).await?;
    let name = &p.object;
    let fields = state.open_source(&c)?.fields(name).await?;
    Ok(ok(SourceFieldCollection {
        data_connector: AssetRef::new(&c.id).named(&c.name),
        fields: fields.iter().map(SourceFieldRepresentation::from).collect(),
        source_object_name: name.clone(),
        url: v.url(&format!("/dataConnectors/{}/sourceObjects/{}/fields", c.id, name)),
    }))
}

/// Some rows of a source object (`DataPreview`): the rows as a JSON text, as orgs send them.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataPreview {
    pub data_list_json: String,
    pub url: String,
}

/// The answer of Run Now.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestAnswer {
    pub message: String,
    /// Where the sync's job is listed.
    pub url: String,
}

/// The body of a data preview (optional): the fields to show, by name.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataPreviewInput {
    pub source_object_fields: Option<Vec<FieldRef>>,
}

/// A field by its name, or as `{"name": ...}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged, expecting = "a field name, or {\"name\": ...}")]
pub enum FieldRef {
    Name(String),
    Field { name: String },
}

/// Rows a data preview shows.
const PREVIEW_ROWS: usize = 10;

#[utoipa::path(
    method(get, post),
    path = "/services/data/{version}/wave/dataConnectors/{id}/sourceObjects/{object}/dataPreview",
    tag = "connections",
    request_body = DataPreviewInput,
    responses((status = 200, body = DataPreview)),
)]
pub async fn data_preview(
    State(state): State<AppState>,
    v: Version,
    Path(p): Path<ObjectPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let c = state.connection(&p.id).await?;
    let name = &p.object;
    let input: DataPreviewInput = input(&bytes, "dataPreview")?;
    let source = state.open_source(&c)?;
    let all = source.fields(name).await?;
    let fields = match input.source_object_fields {
        Some(list) if !list.is_empty() => {
            let names: Vec<String> = list
                .into_iter()
                .map(|f| match f {
                    FieldRef::Name(n) | FieldRef::Field { name: n } => n,
                })
                .collect();
            swell_connect::select_fields(name, &all, &names)
                .map_err(|e| ApiError::bad_request(format!("sourceObjectFields: {e}")))?
        }
        _ => all,
    };
    let rows = swell_connect::sync::preview(source.as_ref(), name, fields, PREVIEW_ROWS).await?;
    Ok(ok(DataPreview {
        data_list_json: Value::Array(rows).to_string(),
        url: v.url(&format!("/dataConnectors/{}/sourceObjects/{}/dataPreview", c.id, name)),
    }))
}

/// Run Now: queues a datasync job of the connection.
#[utoipa::path(
    post,
    path = "/services/data/{version}/wave/dataConnectors/{id}/ingest",
    tag = "connections",
    request_body(content = Option<Object>, description = "Nothing: {} or an empty body"),
    responses((status = 200, body = IngestAnswer, description = "Run Now: a data sync job is queued")),
)]
pub async fn ingest(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    // the body says nothing (`{}` or empty), but it is read as every body is
    body(&bytes, "ingest")?;
    let c = state.connection(&id.id).await?;
    state.run_connection(&actor, c.id.as_str()).await?;
    Ok(ok(IngestAnswer {
        message: format!("Sync request was sent for connection {}.", c.id),
        url: v.url("/dataflowjobs"),
    }))
}

/// A kind of connection swell can make (`DataConnectorType`), with its properties.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorTypeRepresentation {
    pub name: &'static str,
    pub label: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub is_external: bool,
    pub associated_categories: Vec<&'static str>,
    pub bundle: &'static str,
    pub connection_properties: Vec<PropertyDescription>,
    /// Settings of a connected object of this type.
    pub advanced_properties: Vec<AdvancedProperty>,
    pub supported_connector_handlers: Vec<&'static str>,
}

/// A property a connection of a type is made with.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PropertyDescription {
    pub name: &'static str,
    pub label: &'static str,
    #[schema(schema_with = data_types)]
    pub data_type: &'static str,
    pub default_value: Option<&'static str>,
    /// A secret: stored, never shown.
    pub is_encrypted: bool,
    pub is_required: bool,
    pub max_length: u32,
}

fn data_types() -> utoipa::openapi::schema::Object {
    one_of(["Text", "Numeric", "Boolean"])
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdvancedProperty {
    pub name: &'static str,
    pub label: &'static str,
    pub data_type: &'static str,
    pub default_value: Option<&'static str>,
    pub description: &'static str,
    pub is_required: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorTypeCollection {
    pub types: Vec<ConnectorTypeRepresentation>,
    pub url: String,
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/dataConnectorTypes",
    tag = "connections",
    responses((status = 200, body = ConnectorTypeCollection)),
)]
pub async fn types(v: Version) -> ApiResult<Response> {
    let types = ConnectorType::all()
        .iter()
        .map(|t| ConnectorTypeRepresentation {
            name: t.name(),
            label: t.label(),
            kind: t.name(),
            is_external: !t.is_local_salesforce(),
            associated_categories: t.categories().to_vec(),
            bundle: match t.family() {
                swell_connect::Family::Salesforce => "Salesforce",
                swell_connect::Family::Files => "AmazonS3",
                _ => "Tableau",
            },
            connection_properties: t
                .properties()
                .iter()
                .map(|p| PropertyDescription {
                    name: p.name,
                    label: p.label,
                    data_type: p.data_type,
                    default_value: p.default_value,
                    is_encrypted: p.encrypted,
                    is_required: p.required,
                    max_length: 255,
                })
                .collect(),
            advanced_properties: swell_scheduler::ADVANCED_PROPERTIES
                .iter()
                .map(|p| AdvancedProperty {
                    name: p.name,
                    label: p.label,
                    data_type: "Text",
                    default_value: None,
                    description: p.description,
                    is_required: false,
                })
                .collect(),
            supported_connector_handlers: vec![if t.is_local_salesforce() { "Legacy" } else { "Base" }],
        })
        .collect();
    Ok(ok(ConnectorTypeCollection { types, url: v.url("/dataConnectorTypes") }))
}
