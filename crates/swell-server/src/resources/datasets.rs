//! `/wave/datasets`: list, get by id or name, `/versions` (list; POST restores a version).

use super::paging::{Page, matches_q};
use crate::error::{ApiError, ApiResult};
use crate::wire::{IdOrName, body, ok};
use crate::{AppState, Version};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashMap;
use swell_core::KeyPrefix;
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
        "createdBy": super::dataflows::user(),
        "createdDate": to_wire(&d.created_date),
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
        "createdBy": super::dataflows::user(),
        "createdDate": to_wire(&x.created_date),
        "totalRowCount": x.row_count,
        "dataset": { "id": d.id.as_str(), "name": d.name, "url": v.url(&format!("/datasets/{}", d.id)) },
    })
}

async fn find(state: &AppState, id_or_name: &str) -> ApiResult<DatasetRecord> {
    match crate::wire::id_or_name(id_or_name, KeyPrefix::Dataset, "dataset")? {
        IdOrName::Id(id) => Ok(state.store.dataset(&id).await?),
        IdOrName::Name(name) => {
            state.store.dataset_by_name(name).await?.ok_or_else(|| ApiError::not_found(format!("dataset {name}")))
        }
    }
}

/// The list: `q` (name or label), `sort` (Name, CreatedDate, LastModified; default
/// LastModified), `order` (Ascending, Descending; default Descending for dates, Ascending for
/// names), `page`/`pageSize`.
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
    match sort.as_str() {
        "name" => all.sort_by(|a, b| a.label.to_lowercase().cmp(&b.label.to_lowercase()).then(a.name.cmp(&b.name))),
        "createddate" => all.sort_by_key(|d| std::cmp::Reverse(d.created_date)),
        "lastmodified" | "lastrefreshed" => all.sort_by_key(|d| std::cmp::Reverse(d.last_modified_date)),
        other => {
            return Err(ApiError::bad_request(format!(
                "sort: '{other}' is not a sort of datasets (Name, CreatedDate, LastModified)"
            )));
        }
    }
    match q.get("order").map(|o| o.to_ascii_lowercase()).as_deref() {
        None => {}
        Some("ascending") if sort != "name" => all.reverse(),
        Some("descending") if sort == "name" => all.reverse(),
        Some("ascending" | "descending") => {}
        Some(other) => return Err(ApiError::bad_request(format!("order: '{other}' must be Ascending or Descending"))),
    }
    let total = all.len() as i64;
    let items: Vec<Value> =
        all.iter().skip(page.offset() as usize).take(page.size as usize).map(|d| representation(&v, d)).collect();
    let (url, next) = page.links(&v.url("/datasets"), &q, total);
    Ok(ok(json!({ "datasets": items, "totalSize": total, "url": url, "nextPageUrl": next })))
}

pub async fn get(
    State(state): State<AppState>,
    v: Version,
    Path(p): Path<HashMap<String, String>>,
) -> ApiResult<Response> {
    Ok(ok(representation(&v, &find(&state, &p["id"]).await?)))
}

pub async fn versions(
    State(state): State<AppState>,
    v: Version,
    Path(p): Path<HashMap<String, String>>,
) -> ApiResult<Response> {
    let d = find(&state, &p["id"]).await?;
    let items: Vec<Value> = state.store.dataset_versions(&d.id).await?.iter().map(|x| version(&v, &d, x)).collect();
    Ok(ok(json!({ "versions": items, "url": v.url(&format!("/datasets/{}/versions", d.id)) })))
}

/// Restores a version: `{"sourceVersion": {"id": "0Fc..."}}` makes a new current version with
/// the rows of the source (no copy: both point at the same stored files).
pub async fn restore(
    State(state): State<AppState>,
    v: Version,
    Path(p): Path<HashMap<String, String>>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let d = find(&state, &p["id"]).await?;
    let input = body(&bytes, "datasetVersion")?;
    let source = input
        .get("sourceVersion")
        .and_then(|s| s.get("id"))
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("sourceVersion.id: is required"))?;
    let source = super::dataflows::id_of(source, KeyPrefix::DatasetVersion, "dataset version")?;
    let src = state.store.dataset_version(&source).await?;
    if src.dataset_id != d.id {
        return Err(ApiError::not_found(format!("version {source} of dataset {}", d.name)));
    }
    let table =
        state.data_dir.dataset(&d.name).map_err(|e| ApiError::internal(format!("restoring {}: {e}", d.name)))?;
    // the store's record and the current file change together, in the order of other commits
    let lock = table.lock_async().await.map_err(|e| ApiError::internal(format!("restoring {}: {e}", d.name)))?;
    table.version(&src.storage_version).map_err(|e| ApiError::internal(format!("restoring {}: {e}", d.name)))?;
    let (d, created) =
        state.store.record_dataset_version(&d.name, &d.label, &src.storage_version, src.row_count, None).await?;
    table
        .set_current(&src.storage_version, &lock)
        .map_err(|e| ApiError::internal(format!("restoring {}: {e}", d.name)))?;
    Ok(crate::wire::json(StatusCode::CREATED, version(&v, &d, &created)))
}
