//! `/wave/dataConnectors` (list, create, get, PATCH, DELETE by id or API name), `/status`
//! (a real connection test), `/sourceObjects` (paged), `/sourceObjects/{name}`, `/fields`,
//! `/dataPreview`, `/ingest` (Run Now: queues a datasync job), and `/wave/dataConnectorTypes`.
//!
//! Secrets (properties the type marks encrypted, and any whose name says password, secret,
//! token or key) are stored and used, never returned: they read `"******"`, and a PATCH that
//! sends `"******"` back keeps the stored value. A source that cannot be reached or refuses is
//! a 400 naming the source's message (the status resource answers 200 with `Failure`).

use super::paging::{Page, matches_q};
use crate::wire::{AssetPath, ObjectPath, body, ok, string_field};
use crate::{AppState, Version};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use swell_app::{Actor, ApiError, ApiResult, ConnectionChange, ErrorCode, MASK, NewConnection, type_of};
use swell_connect::{ConnectorType, SourceField};
use swell_core::dates::to_wire;
use swell_store::ConnectorRecord;

/// The DataConnector representation; `with_properties` false gives `[]` (as inside a
/// connected object).
pub async fn representation(
    state: &AppState,
    v: &Version,
    c: &ConnectorRecord,
    with_properties: bool,
) -> ApiResult<Value> {
    let ty = type_of(c)?;
    let properties: Vec<Value> = if with_properties {
        c.properties
            .iter()
            .map(|(n, val)| json!({"name": n, "value": if ty.is_secret(n) && !val.is_empty() { MASK } else { val.as_str() }}))
            .collect()
    } else {
        Vec::new()
    };
    let schedule = state.store.schedule(&c.id).await?;
    let mut out = json!({
        "id": c.id.as_str(),
        "type": "dataconnector",
        "name": c.name,
        "label": c.label,
        "namespace": "",
        "url": v.url(&format!("/dataConnectors/{}", c.id)),
        "connectorType": ty.name(),
        "connectorHandler": if ty.is_local_salesforce() { "Legacy" } else { "Base" },
        "connectionProperties": properties,
        "ingestionSchedule": super::schedules::representation(&c.id, schedule.as_ref(), chrono::Utc::now()),
        "createdBy": crate::wire::admin(),
        "createdDate": to_wire(&c.created_date),
        "lastModifiedBy": crate::wire::admin(),
        "lastModifiedDate": to_wire(&c.last_modified_date),
    });
    if let Some(d) = &c.description {
        out["description"] = json!(d);
    }
    Ok(out)
}

/// `connectionProperties`: `[{name, value}]`, values text, number or boolean (swell-app
/// checks the names against the connector type).
fn read_properties(input: &Value) -> ApiResult<Option<Vec<(String, String)>>> {
    let Some(list) = input.get("connectionProperties") else { return Ok(None) };
    let Some(list) = list.as_array() else {
        return Err(ApiError::bad_request("connectionProperties: must be an array of {name, value}"));
    };
    let mut out: Vec<(String, String)> = Vec::new();
    let mut errors = Vec::new();
    for (i, p) in list.iter().enumerate() {
        let Some(name) = p.get("name").and_then(Value::as_str) else {
            errors.push(format!("connectionProperties[{i}].name: is required"));
            continue;
        };
        let value = match p.get("value") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Bool(b)) => b.to_string(),
            None | Some(Value::Null) => String::new(),
            Some(_) => {
                errors.push(format!("connectionProperties[{i}].value: must be text, a number or a boolean"));
                continue;
            }
        };
        out.push((name.to_string(), value));
    }
    if !errors.is_empty() {
        return Err(ApiError::many(ErrorCode::InvalidInput, errors));
    }
    Ok(Some(out))
}

pub async fn list(
    State(state): State<AppState>,
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
    let mut items = Vec::new();
    for c in &all {
        items.push(representation(&state, &v, c, true).await?);
    }
    Ok(ok(json!({ "dataConnectors": items, "url": v.url("/dataConnectors") })))
}

pub async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input = body(&bytes, "dataConnector")?;
    let new = NewConnection {
        connector_type: string_field(&input, "connectorType")?.map(str::to_string),
        name: string_field(&input, "name")?.map(str::to_string),
        label: string_field(&input, "label")?.map(str::to_string),
        description: string_field(&input, "description")?.map(str::to_string),
        properties: read_properties(&input)?.unwrap_or_default(),
    };
    let c = state.create_connection(&actor, new).await?;
    Ok(crate::wire::json(StatusCode::CREATED, representation(&state, &v, &c, true).await?))
}

pub async fn get(State(state): State<AppState>, v: Version, Path(id): Path<AssetPath>) -> ApiResult<Response> {
    let c = state.connection(&id.id).await?;
    Ok(ok(representation(&state, &v, &c, true).await?))
}

pub async fn patch(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input = body(&bytes, "dataConnector")?;
    let change = ConnectionChange {
        connector_type: string_field(&input, "connectorType")?.map(str::to_string),
        name: string_field(&input, "name")?.map(str::to_string),
        label: string_field(&input, "label")?.map(str::to_string),
        description: match input.get("description") {
            Some(Value::Null) => Some(None),
            _ => string_field(&input, "description")?.map(|d| Some(d.to_string())),
        },
        properties: read_properties(&input)?,
    };
    let c = state.update_connection(&actor, &id.id, change).await?;
    Ok(ok(representation(&state, &v, &c, true).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<AssetPath>,
) -> ApiResult<Response> {
    state.delete_connection(&actor, &id.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

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
    Ok(ok(json!({
        "status": status,
        "message": message,
        "url": v.url(&format!("/dataConnectors/{}/status", c.id)),
    })))
}

fn source_object(v: &Version, c: &ConnectorRecord, name: &str, label: &str, replicated: bool) -> Value {
    let url = v.url(&format!("/dataConnectors/{}/sourceObjects/{}", c.id, name));
    json!({
        "name": name,
        "label": label,
        "replicated": replicated,
        "url": url,
        "fieldsUrl": format!("{url}/fields"),
        "dataPreviewUrl": format!("{url}/dataPreview"),
        "dataConnector": { "id": c.id.as_str(), "name": c.name, "url": v.url(&format!("/dataConnectors/{}", c.id)) },
        "accessible": true,
    })
}

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
    let items: Vec<Value> = objects
        .iter()
        .skip(page.offset() as usize)
        .take(page.size as usize)
        .map(|o| source_object(&v, &c, &o.name, &o.label, replicated.contains(&o.name)))
        .collect();
    let (url, next) = page.links(&v.url(&format!("/dataConnectors/{}/sourceObjects", c.id)), &q, total);
    Ok(ok(json!({ "sourceObjects": items, "totalSize": total, "url": url, "nextPageUrl": next })))
}

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

/// A source field for the API (`SourceField`).
pub fn field_json(f: &SourceField) -> Value {
    let mut v = f.to_json(false);
    if let Some(o) = v.as_object_mut() {
        o.remove("skipped");
        o.insert("accessible".into(), json!(true));
        o.insert("systemField".into(), json!(false));
    }
    v
}

pub async fn source_fields(
    State(state): State<AppState>,
    v: Version,
    Path(p): Path<ObjectPath>,
) -> ApiResult<Response> {
    let c = state.connection(&p.id).await?;
    let name = &p.object;
    let fields = state.open_source(&c)?.fields(name).await?;
    Ok(ok(json!({
        "dataConnector": { "id": c.id.as_str(), "name": c.name },
        "fields": fields.iter().map(field_json).collect::<Vec<_>>(),
        "sourceObjectName": name,
        "url": v.url(&format!("/dataConnectors/{}/sourceObjects/{}/fields", c.id, name)),
    })))
}

/// Rows a data preview shows.
const PREVIEW_ROWS: usize = 10;

pub async fn data_preview(
    State(state): State<AppState>,
    v: Version,
    Path(p): Path<ObjectPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let c = state.connection(&p.id).await?;
    let name = &p.object;
    let input = if bytes.is_empty() { json!({}) } else { body(&bytes, "dataPreview")? };
    let source = state.open_source(&c)?;
    let all = source.fields(name).await?;
    let fields = match input.get("sourceObjectFields").and_then(Value::as_array) {
        Some(list) if !list.is_empty() => {
            let names: Vec<String> = list
                .iter()
                .map(|f| f.as_str().or_else(|| f.get("name").and_then(Value::as_str)).map(str::to_string))
                .collect::<Option<_>>()
                .ok_or_else(|| ApiError::bad_request("sourceObjectFields: must be field names"))?;
            swell_connect::select_fields(name, &all, &names)
                .map_err(|e| ApiError::bad_request(format!("sourceObjectFields: {e}")))?
        }
        _ => all,
    };
    let rows = swell_connect::sync::preview(source.as_ref(), name, fields, PREVIEW_ROWS).await?;
    Ok(ok(json!({
        "dataListJson": Value::Array(rows).to_string(),
        "url": v.url(&format!("/dataConnectors/{}/sourceObjects/{}/dataPreview", c.id, name)),
    })))
}

/// Run Now: queues a datasync job of the connection.
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
    Ok(ok(json!({
        "message": format!("Sync request was sent for connection {}.", c.id),
        "url": v.url("/dataflowjobs"),
    })))
}

pub async fn types(v: Version) -> ApiResult<Response> {
    let items: Vec<Value> = ConnectorType::all()
        .iter()
        .map(|t| {
            json!({
                "name": t.name(),
                "label": t.label(),
                "type": t.name(),
                "isExternal": !t.is_local_salesforce(),
                "associatedCategories": t.categories(),
                "bundle": match t.family() {
                    swell_connect::Family::Salesforce => "Salesforce",
                    swell_connect::Family::Files => "AmazonS3",
                    _ => "Tableau",
                },
                "connectionProperties": t.properties().iter().map(|p| json!({
                    "name": p.name,
                    "label": p.label,
                    "dataType": p.data_type,
                    "defaultValue": p.default_value,
                    "isEncrypted": p.encrypted,
                    "isRequired": p.required,
                    "maxLength": 255,
                })).collect::<Vec<_>>(),
                "advancedProperties": [
                    {"name": "primaryKey", "label": "Upsert key of incremental syncs", "dataType": "Text",
                     "defaultValue": null, "description": "a field name; default: the source's primary key", "isRequired": false},
                    {"name": "watermarkField", "label": "Watermark of incremental syncs", "dataType": "Text",
                     "defaultValue": null, "description": "a date-time field changed by every update", "isRequired": false},
                ],
                "supportedConnectorHandlers": [if t.is_local_salesforce() { "Legacy" } else { "Base" }],
            })
        })
        .collect();
    Ok(ok(json!({ "types": items, "url": v.url("/dataConnectorTypes") })))
}
