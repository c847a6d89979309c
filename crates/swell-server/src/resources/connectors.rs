//! `/wave/dataConnectors` (list, create, get, PATCH, DELETE by id or API name), `/status`
//! (a real connection test), `/sourceObjects` (paged), `/sourceObjects/{name}`, `/fields`,
//! `/dataPreview`, `/ingest` (Run Now: queues a datasync job), and `/wave/dataConnectorTypes`.
//!
//! Secrets (properties the type marks encrypted, and any whose name says password, secret,
//! token or key) are stored and used, never returned: they read `"******"`, and a PATCH that
//! sends `"******"` back keeps the stored value. A source that cannot be reached or refuses is
//! a 400 naming the source's message (the status resource answers 200 with `Failure`).

use super::dataflows::user;
use super::paging::{Page, matches_q};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::wire::{body, ok, string_field, unchanged_name};
use crate::{AppState, Version};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use swell_connect::{ConnectorType, Properties, Source, SourceField};
use swell_core::AssetKind;
use swell_core::dates::to_wire;
use swell_store::ConnectorRecord;

pub const MASK: &str = "******";

fn connector_type(c: &ConnectorRecord) -> ApiResult<ConnectorType> {
    ConnectorType::parse(&c.connector_type).map_err(ApiError::bad_request)
}

/// The DataConnector representation; `with_properties` false gives `[]` (as inside a
/// connected object).
pub async fn representation(
    state: &AppState,
    v: &Version,
    c: &ConnectorRecord,
    with_properties: bool,
) -> ApiResult<Value> {
    let ty = connector_type(c)?;
    let properties: Vec<Value> = if with_properties {
        c.properties
            .iter()
            .map(|(n, val)| json!({"name": n, "value": if ty.is_secret(n) { MASK } else { val.as_str() }}))
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
        "createdBy": user(),
        "createdDate": to_wire(&c.created_date),
        "lastModifiedBy": user(),
        "lastModifiedDate": to_wire(&c.last_modified_date),
    });
    if let Some(d) = &c.description {
        out["description"] = json!(d);
    }
    Ok(out)
}

/// A connection by id or API name.
pub async fn find(state: &AppState, id_or_name: &str) -> ApiResult<ConnectorRecord> {
    state.store.find_connector(id_or_name).await?.ok_or_else(|| ApiError::connector_not_found(id_or_name))
}

/// `connectionProperties`: `[{name, value}]`, values text, number or boolean; names must be
/// the type's (any case) so that a misspelt property is not silently ignored.
fn read_properties(input: &Value, ty: ConnectorType) -> ApiResult<Option<Vec<(String, String)>>> {
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
        let Some(spec) = ty.properties().iter().find(|s| s.name.eq_ignore_ascii_case(name)) else {
            let known: Vec<&str> = ty.properties().iter().map(|s| s.name).collect();
            errors.push(format!(
                "connectionProperties[{i}].name: '{name}' is not a property of {} (properties: {})",
                ty.name(),
                known.join(", ")
            ));
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
        out.retain(|(n, _)| n != spec.name);
        out.push((spec.name.to_string(), value));
    }
    if !errors.is_empty() {
        return Err(ApiError::many(ErrorCode::InvalidInput, errors));
    }
    Ok(Some(out))
}

/// Checks that the properties make a usable source (without contacting it).
fn check_properties(state: &AppState, ty: ConnectorType, properties: &[(String, String)]) -> ApiResult<()> {
    swell_connect::connect(ty, &Properties::new(properties.iter().cloned()), state.runner.folders())
        .map(|_| ())
        .map_err(|e| ApiError::bad_request(format!("connectionProperties: {e}")))
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

pub async fn create(State(state): State<AppState>, v: Version, bytes: Bytes) -> ApiResult<Response> {
    let input = body(&bytes, "dataConnector")?;
    let ty =
        string_field(&input, "connectorType")?.ok_or_else(|| ApiError::bad_request("connectorType: is required"))?;
    let ty = ConnectorType::parse(ty).map_err(|e| ApiError::bad_request(format!("connectorType: {e}")))?;
    let (name, label) = crate::wire::name_and_label(&input)?;
    let properties = read_properties(&input, ty)?.unwrap_or_default();
    check_properties(&state, ty, &properties)?;
    let properties = sealed(&state, ty, properties)?;
    let c = state
        .store
        .create_connector(&name, &label, string_field(&input, "description")?, ty.name(), &properties)
        .await?;
    Ok(crate::wire::json(StatusCode::CREATED, representation(&state, &v, &c, true).await?))
}

pub async fn get(
    State(state): State<AppState>,
    v: Version,
    Path(params): Path<HashMap<String, String>>,
) -> ApiResult<Response> {
    let c = find(&state, &params["id"]).await?;
    Ok(ok(representation(&state, &v, &c, true).await?))
}

pub async fn patch(
    State(state): State<AppState>,
    v: Version,
    Path(params): Path<HashMap<String, String>>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let c = find(&state, &params["id"]).await?;
    let ty = connector_type(&c)?;
    let input = body(&bytes, "dataConnector")?;
    if let Some(t) = string_field(&input, "connectorType")?
        && !t.eq_ignore_ascii_case(ty.name())
    {
        return Err(ApiError::bad_request(format!("connectorType: cannot change from {} to {t}", ty.name())));
    }
    unchanged_name(&input, &c.name)?;
    let properties = match read_properties(&input, ty)? {
        // a masked secret sent back keeps the stored value; properties not sent are kept
        Some(new) => {
            let mut merged = c.properties.clone();
            for (n, value) in new {
                if value == MASK && ty.is_secret(&n) {
                    continue;
                }
                merged.retain(|(m, _)| m != &n);
                merged.push((n, value));
            }
            check_properties(&state, ty, &merged)?;
            Some(sealed(&state, ty, merged)?)
        }
        None => None,
    };
    let description = match input.get("description") {
        Some(Value::Null) => Some(None),
        _ => string_field(&input, "description")?.map(Some),
    };
    let c =
        state.store.update_connector(&c.id, string_field(&input, "label")?, description, properties.as_deref()).await?;
    Ok(ok(representation(&state, &v, &c, true).await?))
}

/// The dataflows and recipes whose definitions read from a connection.
async fn users_of(state: &AppState, connection: &str) -> ApiResult<Vec<String>> {
    let mut out = Vec::new();
    let mut all = state.store.list_dataflows(None).await?;
    all.extend(state.store.list_recipes(None).await?.into_iter().map(|r| r.dataflow));
    for d in all {
        if let Ok(flow) = swell_engine::Dataflow::parse(&d.definition.to_string())
            && flow.sources().iter().any(
                |s| matches!(s, swell_engine::SourceRef::Object { connection: c, .. } if c.eq_ignore_ascii_case(connection)),
            )
        {
            out.push(d.name);
        }
    }
    Ok(out)
}

pub async fn delete(State(state): State<AppState>, Path(params): Path<HashMap<String, String>>) -> ApiResult<Response> {
    let c = find(&state, &params["id"]).await?;
    let users = users_of(&state, &c.name).await?;
    if !users.is_empty() {
        return Err(ApiError::new(
            ErrorCode::ConnectorInUse,
            format!(
                "You can't delete the '{}' connection because it is used by these objects: {}. Change them first.",
                c.name,
                users.join(", ")
            ),
        ));
    }
    // the store refuses while connected objects remain: the same condition, the same code
    state.store.delete_connector(&c.id).await.map_err(|e| match e {
        swell_store::StoreError::Conflict(m) => ApiError::new(ErrorCode::ConnectorInUse, m),
        other => other.into(),
    })?;
    state.scheduler.wake();
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn vault(state: &AppState) -> ApiResult<&swell_connect::Vault> {
    state.runner.vault().map_err(ApiError::internal)
}

/// Opens a connection's source with its secrets.
pub fn open(state: &AppState, c: &ConnectorRecord) -> ApiResult<Box<dyn Source>> {
    Ok(swell_scheduler::open_source(c, vault(state)?, state.runner.folders())?)
}

/// The properties as stored: secrets sealed.
fn sealed(state: &AppState, ty: ConnectorType, properties: Vec<(String, String)>) -> ApiResult<Vec<(String, String)>> {
    let vault = vault(state)?;
    Ok(properties
        .into_iter()
        .map(|(n, v)| {
            if ty.is_secret(&n) {
                let s = vault.seal(&v);
                (n, s)
            } else {
                (n, v)
            }
        })
        .collect())
}

pub async fn status(
    State(state): State<AppState>,
    v: Version,
    Path(params): Path<HashMap<String, String>>,
) -> ApiResult<Response> {
    let c = find(&state, &params["id"]).await?;
    let result = match swell_scheduler::open_source(&c, vault(&state)?, state.runner.folders()) {
        Ok(source) => source.test().await,
        Err(e) => Err(e),
    };
    let (status, message) = match result {
        Ok(m) => ("Success", m),
        Err(e) => ("Failure", e.to_string()),
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
    Path(params): Path<HashMap<String, String>>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let c = find(&state, &params["id"]).await?;
    let page = Page::from_query(&q)?;
    let mut objects = open(&state, &c)?.objects().await?;
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
    Path(params): Path<HashMap<String, String>>,
) -> ApiResult<Response> {
    let c = find(&state, &params["id"]).await?;
    let name = &params["object"];
    let objects = open(&state, &c)?.objects().await?;
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
    Path(params): Path<HashMap<String, String>>,
) -> ApiResult<Response> {
    let c = find(&state, &params["id"]).await?;
    let name = &params["object"];
    let fields = open(&state, &c)?.fields(name).await?;
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
    Path(params): Path<HashMap<String, String>>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let c = find(&state, &params["id"]).await?;
    let name = &params["object"];
    let input = if bytes.is_empty() { json!({}) } else { body(&bytes, "dataPreview")? };
    let source = open(&state, &c)?;
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
    v: Version,
    Path(params): Path<HashMap<String, String>>,
    bytes: Bytes,
) -> ApiResult<Response> {
    // the body says nothing (`{}` or empty), but it is read as every body is
    body(&bytes, "ingest")?;
    let c = find(&state, &params["id"]).await?;
    match state.store.enqueue_job(&c.dataflow_id, AssetKind::Connection.job_type(), &c.label).await? {
        Ok(_) => {
            state.runner.wake();
            Ok(ok(json!({
                "message": format!("Sync request was sent for connection {}.", c.id),
                "url": v.url("/dataflowjobs"),
            })))
        }
        Err(_) => Err(ApiError::already_queued(format!(
            "The sync of connection {} ({}) can't start because it's already in the queue.",
            c.name, c.id
        ))),
    }
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
