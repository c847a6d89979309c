//! `/wave/datasets`: list, get by id or name, `/versions` (list; POST restores a version).

use super::paging::{Page, matches_q};
use crate::wire::{AssetPath, AssetRef, Audit, PartPath, Permissions, input, ok};
use crate::{AppState, Version};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use swell_app::{Actor, ApiError, ApiResult, Asset};
use swell_core::KeyPrefix;
use swell_store::{DatasetRecord, DatasetVersionRecord};
use utoipa::ToSchema;

/// A dataset (`Dataset`): what dataflows and recipes register, with its current version.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Dataset {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub label: String,
    pub namespace: &'static str,
    pub url: String,
    pub versions_url: String,
    pub dataset_type: &'static str,
    pub visibility: &'static str,
    #[serde(flatten)]
    pub audit: Audit,
    /// What the acting user may do with it.
    pub permissions: Permissions,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatasetCollection {
    pub datasets: Vec<Dataset>,
    pub total_size: i64,
    pub url: String,
    pub next_page_url: Option<String>,
}

/// A version of a dataset's rows (`DatasetVersion`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatasetVersion {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub url: String,
    #[serde(flatten)]
    pub audit: Audit,
    pub total_row_count: i64,
    pub dataset: AssetRef,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DatasetVersionCollection {
    pub versions: Vec<DatasetVersion>,
    pub url: String,
}

fn representation(v: &Version, actor: &Actor, d: &DatasetRecord) -> Dataset {
    let url = v.url(&format!("/datasets/{}", d.id));
    Dataset {
        id: d.id.to_string(),
        kind: "dataset",
        name: d.name.clone(),
        label: d.label.clone(),
        namespace: "",
        versions_url: format!("{url}/versions"),
        dataset_type: "default",
        visibility: "All",
        audit: Audit::new((&d.created_by, &d.created_date), (&d.last_modified_by, &d.last_modified_date)),
        permissions: Permissions::of(actor, Asset::Dataset),
        current_version_id: d.current_version_id.as_ref().map(ToString::to_string),
        current_version_url: d.current_version_id.as_ref().map(|c| format!("{url}/versions/{c}")),
        url,
    }
}

fn version(v: &Version, d: &DatasetRecord, x: &DatasetVersionRecord) -> DatasetVersion {
    DatasetVersion {
        id: x.id.to_string(),
        kind: "datasetversion",
        url: v.url(&format!("/datasets/{}/versions/{}", d.id, x.id)),
        audit: Audit::new((&x.created_by, &x.created_date), (&x.created_by, &x.created_date)),
        total_row_count: x.row_count,
        dataset: AssetRef::new(&d.id).named(&d.name).url(v.url(&format!("/datasets/{}", d.id))),
    }
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
#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/datasets",
    tag = "datasets",
    params(
        ("q" = Option<String>, Query, description = "words found in the name or label"),
        ("sort" = Option<String>, Query, description = "ConnectionName, CreatedBy, CreatedDate, LastModified, LastQueried, LastRefreshed, Mru, Name or TotalRows"),
        ("order" = Option<String>, Query, description = "Ascending or Descending"),
        ("page" = Option<String>, Query, description = "the page token of a nextPageUrl"),
        ("pageSize" = Option<i64>, Query, description = "1 to 200 (default 25)"),
    ),
    responses((status = 200, body = DatasetCollection)),
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
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
    let datasets = all
        .iter()
        .skip(page.offset() as usize)
        .take(page.size as usize)
        .map(|d| representation(&v, &actor, d))
        .collect();
    let (url, next_page_url) = page.links(&v.url("/datasets"), &q, total);
    Ok(ok(DatasetCollection { datasets, total_size: total, url, next_page_url }))
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/datasets/{id}",
    tag = "datasets",
    responses((status = 200, body = Dataset)),
)]
pub async fn get(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
) -> ApiResult<Response> {
    Ok(ok(representation(&v, &actor, &state.dataset(&id.id).await?)))
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/datasets/{id}/versions",
    tag = "datasets",
    responses((status = 200, body = DatasetVersionCollection)),
)]
pub async fn versions(State(state): State<AppState>, v: Version, Path(id): Path<AssetPath>) -> ApiResult<Response> {
    let d = state.dataset(&id.id).await?;
    let versions = state.store.dataset_versions(&d.id).await?.iter().map(|x| version(&v, &d, x)).collect();
    Ok(ok(DatasetVersionCollection { versions, url: v.url(&format!("/datasets/{}/versions", d.id)) }))
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/datasets/{id}/versions/{part}",
    tag = "datasets",
    responses((status = 200, body = DatasetVersion)),
)]
pub async fn version_get(State(state): State<AppState>, v: Version, Path(p): Path<PartPath>) -> ApiResult<Response> {
    let d = state.dataset(&p.id).await?;
    let id = swell_app::id_of(&p.part, KeyPrefix::DatasetVersion, "dataset version")?;
    let x = state
        .store
        .dataset_versions(&d.id)
        .await?
        .into_iter()
        .find(|x| x.id == id)
        .ok_or_else(|| ApiError::not_found(format!("version {id} of dataset {}", d.name)))?;
    Ok(ok(version(&v, &d, &x)))
}

/// The body of POST `/datasets/{id}/versions`, bare or wrapped in `datasetVersion`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatasetVersionInput {
    /// The version (0Fc) whose rows the new version holds.
    pub source_version: Option<VersionRef>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(expecting = "an object {\"id\": \"0Fc...\"}")]
pub struct VersionRef {
    pub id: Option<String>,
}

/// Restores a version: `{"sourceVersion": {"id": "0Fc..."}}` makes a new current version with
/// the rows of the source.
#[utoipa::path(
    post,
    path = "/services/data/{version}/wave/datasets/{id}/versions",
    tag = "datasets",
    request_body = DatasetVersionInput,
    responses(
        (status = 201, body = DatasetVersion, description = "A new current version with the rows of sourceVersion"),
    ),
)]
pub async fn restore(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input: DatasetVersionInput = input(&bytes, "datasetVersion")?;
    let source = input.source_version.as_ref().and_then(|s| s.id.as_deref());
    let (d, created) = state.restore_version(&actor, &id.id, source).await?;
    Ok(crate::wire::json(StatusCode::CREATED, version(&v, &d, &created)))
}
