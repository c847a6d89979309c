//! `/wave/datasets`: list, get by id or name, `/versions` (list; POST restores a version).

use super::paging::{Page, matches_q};
use crate::wire::{AssetPath, body, ok};
use crate::{AppState, Version};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashMap;
use swell_app::{Actor, ApiError, ApiResult};
use swell_core::dates::to_wire;
use swell_store::{DatasetRecord, DatasetVersionRecord};

fn representation(v: &Version, d: &DatasetRecord) -> Value {
    let url = v.url(&format!("/datasets/{}", d.id));
    let mut out = json!({
        "id": d.id.as_str(),
        "type": "dataset",
        "name": d.name,
        "label": d.label,
        "namespace": "",
        "url": url,
        "versionsUrl": format!("{url}/versions"),
        "datasetType": "default",
        "visibility": "All",
        "createdBy": crate::wire::admin(),
        "createdDate": to_wire(&d.created_date),
        "lastModifiedBy": crate::wire::admin(),
        "lastModifiedDate": to_wire(&d.last_modified_date),
    });
    if let Some(c) = &d.current_version_id {
        out["currentVersionId"] = json!(c.as_str());
        out["currentVersionUrl"] = json!(format!("{url}/versions/{c}"));
    }
    out
}

fn version(v: &Version, d: &DatasetRecord, x: &DatasetVersionRecord) -> Value {
    json!({
        "id": x.id.as_str(),
        "type": "datasetversion",
        "url": v.url(&format!("/datasets/{}/versions/{}", d.id, x.id)),
        "createdBy": crate::wire::admin(),
        "createdDate": to_wire(&x.created_date),
        "lastModifiedBy": crate::wire::admin(),
        "lastModifiedDate": to_wire(&x.created_date),
        "totalRowCount": x.row_count,
        "dataset": { "id": d.id.as_str(), "name": d.name, "url": v.url(&format!("/datasets/{}", d.id)) },
    })
}

/// The sorts of the dataset list, as orgs name them (wave-api.md, `GET /wave/datasets`).
const SORTS: &[&str] = &[
    "ConnectionName",
    "CreatedBy",
    "CreatedDate",
    "LastModified",
    "LastQueried",
    "LastRefreshed",
    "Mru",
    "Name",
    "TotalRows",
];

/// The list: `q` (name or label), `sort` (any of [`SORTS`]; default LastModified), `order`
/// (Ascending, Descending; default Descending, Ascending for names), `page`/`pageSize`.
pub async fn list(
    State(state): State<AppState>,
    v: Version,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let page = Page::from_query(&q)?;
    let mut all = state.store.list_datasets().await?;
    if let Some(terms) = q.get("q") {
        all.retain(|d| matches_q(terms, &[&d.name, &d.label]));
    }
    let sort = q.get("sort").map_or("lastmodified".to_string(), |s| s.to_ascii_lowercase());
    let by_name = |a: &DatasetRecord, b: &DatasetRecord| {
        a.label.to_lowercase().cmp(&b.label.to_lowercase()).then(a.name.cmp(&b.name))
    };
    // Names sort ascending by default, the rest descending (newest, largest first). swell
    // records neither who queried a dataset nor when: the most recently used (Mru) and the
    // last queried are the last written (INFERRED). Every dataset has one creator (the admin)
    // and no connection, so CreatedBy and ConnectionName sort by name.
    let ascending_by_default = matches!(sort.as_str(), "name" | "createdby" | "connectionname");
    match sort.as_str() {
        "name" | "createdby" | "connectionname" => all.sort_by(by_name),
        "createddate" => all.sort_by_key(|d| std::cmp::Reverse(d.created_date)),
        "lastmodified" | "lastrefreshed" | "mru" | "lastqueried" => {
            all.sort_by_key(|d| std::cmp::Reverse(d.last_modified_date))
        }
        "totalrows" => {
            let mut rows = HashMap::new();
            for d in &all {
                if let Some(v) = &d.current_version_id {
                    rows.insert(d.id.clone(), state.store.dataset_version(v).await?.row_count);
                }
            }
            all.sort_by_key(|d| std::cmp::Reverse(rows.get(&d.id).copied().unwrap_or(0)));
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "sort: '{other}' is not a sort of datasets ({})",
                SORTS.join(", ")
            )));
        }
    }
    match q.get("order").map(|o| o.to_ascii_lowercase()).as_deref() {
        None => {}
        Some("ascending") if !ascending_by_default => all.reverse(),
        Some("descending") if ascending_by_default => all.reverse(),
        Some("ascending" | "descending") => {}
        Some(other) => return Err(ApiError::bad_request(format!("order: '{other}' must be Ascending or Descending"))),
    }
    let total = all.len() as i64;
    let items: Vec<Value> =
        all.iter().skip(page.offset() as usize).take(page.size as usize).map(|d| representation(&v, d)).collect();
    let (url, next) = page.links(&v.url("/datasets"), &q, total);
    Ok(ok(json!({ "datasets": items, "totalSize": total, "url": url, "nextPageUrl": next })))
}

pub async fn get(State(state): State<AppState>, v: Version, Path(id): Path<AssetPath>) -> ApiResult<Response> {
    Ok(ok(representation(&v, &state.dataset(&id.id).await?)))
}

pub async fn versions(State(state): State<AppState>, v: Version, Path(id): Path<AssetPath>) -> ApiResult<Response> {
    let d = state.dataset(&id.id).await?;
    let items: Vec<Value> = state.store.dataset_versions(&d.id).await?.iter().map(|x| version(&v, &d, x)).collect();
    Ok(ok(json!({ "versions": items, "url": v.url(&format!("/datasets/{}/versions", d.id)) })))
}

/// Restores a version: `{"sourceVersion": {"id": "0Fc..."}}` makes a new current version with
/// the rows of the source.
pub async fn restore(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input = body(&bytes, "datasetVersion")?;
    let source = match input.get("sourceVersion") {
        None | Some(Value::Null) => None,
        Some(Value::Object(v)) => match v.get("id") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) => Some(id.as_str()),
            Some(_) => return Err(ApiError::bad_request("sourceVersion.id: must be a string (a 0Fc id)")),
        },
        Some(_) => return Err(ApiError::bad_request("sourceVersion: must be an object {\"id\": \"0Fc...\"}")),
    };
    let (d, created) = state.restore_version(&actor, &id.id, source).await?;
    Ok(crate::wire::json(StatusCode::CREATED, version(&v, &d, &created)))
}
