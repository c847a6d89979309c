//! `/wave/recipes`: list, create, get, PATCH (bare or wrapped in `recipeObject`), PUT revert
//! to a history, DELETE, `/histories`. A recipe (05v) runs through its `targetDataflowId`
//! (02K): POST that id to `/wave/dataflowjobs` and a recipe job (0eP) runs it.
//!
//! A recipe is saved even when the engine finds problems in it, as Data Prep saves a draft
//! (swell-app's recipe use cases); the problems are listed in `validationDetails` (node, node
//! type, severity, message) and a run of it fails naming them.

use super::dataflows::{definition_change, history, new_definition};
use super::paging::{Page, matches_q};
use crate::wire::{AssetPath, body, ok, string_field};
use crate::{AppState, Version};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use swell_app::{Actor, ApiError, ApiResult, NotificationChange};
use swell_core::dates::to_wire;
use swell_store::RecipeRecord;

/// The engine's problems with a definition, as `validationDetails`.
fn validation_details(definition: &Value) -> Vec<Value> {
    let mut problems = match swell_engine::validate_isolated(definition.to_string()) {
        Ok(_) => return Vec::new(),
        Err(p) => p.0,
    };
    // as many as an error answer lists (the recipes list repeats them for every recipe)
    problems.truncate(swell_app::error::MAX_ERRORS);
    let actions: HashMap<String, String> = definition
        .get("nodes")
        .and_then(Value::as_object)
        .map(|nodes| {
            nodes
                .iter()
                .map(|(name, n)| {
                    (name.clone(), n.get("action").and_then(Value::as_str).unwrap_or_default().to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    problems
        .iter()
        .map(|p| {
            let message = if p.path.is_empty() { p.message.clone() } else { format!("{}: {}", p.path, p.message) };
            json!({
                "nodeName": p.node,
                "nodeType": actions.get(&p.node).cloned().unwrap_or_default(),
                "severity": "Error",
                "message": message,
                "validationAction": "",
                "validationCode": "",
            })
        })
        .collect()
}

async fn representation(state: &AppState, v: &Version, r: &RecipeRecord, with_definition: bool) -> ApiResult<Value> {
    let url = v.url(&format!("/recipes/{}", r.id));
    let d = &r.dataflow;
    let status = state.store.last_job_status(&d.id).await?.unwrap_or_else(|| "New".to_string());
    let schedule = state.store.schedule(&r.id).await?;
    let mut out = json!({
        "id": r.id.as_str(),
        "type": "recipe",
        "name": d.name,
        "label": d.label,
        "namespace": "",
        "url": url,
        "historiesUrl": format!("{url}/histories"),
        "fileUrl": format!("{url}/file"),
        "format": r.format,
        "targetDataflowId": d.id.as_str(),
        "publishingTarget": "Dataset",
        "status": status,
        "conversionDetails": [],
        "validationDetails": validation_details(&d.definition),
        "scheduleAttributes": super::schedules::representation(&r.id, schedule.as_ref(), chrono::Utc::now()),
        "createdBy": crate::wire::admin(),
        "createdDate": to_wire(&r.created_date),
        "lastModifiedBy": crate::wire::admin(),
        "lastModifiedDate": to_wire(&d.last_modified_date),
        "licenseAttributes": { "type": "einsteinanalytics" },
    });
    if with_definition {
        out["recipeDefinition"] = d.definition.clone();
    }
    if let Some(desc) = &d.description {
        out["description"] = json!(desc);
    }
    if let Some(s) = &schedule {
        if let Some(next) = s.next_run {
            out["nextScheduledDate"] = json!(to_wire(&next));
        }
        out["scheduleType"] = json!(if s.schedule.frequency.is_timed() { "timedriven" } else { "eventdriven" });
    }
    crate::wire::gate(
        &mut out,
        v.major(),
        &[
            ("format", 48),
            ("recipeDefinition", 49),
            ("historiesUrl", 51),
            ("licenseAttributes", 51),
            ("scheduleAttributes", 53),
        ],
    );
    Ok(out)
}

/// The statuses a recipe shows (its last run's, or New).
const STATUSES: &[&str] = &["Failure", "New", "Queued", "Running", "Success", "Warning"];

/// A time bound of the list: a date literal ([`swell_core::DateLiteral`]; a day means its
/// midnight UTC) or epoch seconds.
fn instant(name: &str, s: &str) -> ApiResult<chrono::DateTime<chrono::Utc>> {
    if let Some(d) = swell_core::DateLiteral::parse(s) {
        return Ok(d.start());
    }
    s.trim().parse::<i64>().ok().and_then(|n| chrono::DateTime::from_timestamp(n, 0)).ok_or_else(|| {
        ApiError::bad_request(format!("{name}: '{s}' is not an ISO-8601 date-time, a day or epoch seconds"))
    })
}

pub async fn list(
    State(state): State<AppState>,
    v: Version,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let page = Page::from_query(&q)?;
    let mut all = state.store.list_recipes(None).await?;
    if let Some(terms) = q.get("q") {
        all.retain(|r| matches_q(terms, &[&r.dataflow.name, &r.dataflow.label]));
    }
    if let Some(f) = q.get("format") {
        all.retain(|r| r.format.eq_ignore_ascii_case(f));
    }
    if let Some(list) = q.get("status") {
        let mut wanted = Vec::new();
        for s in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let known = STATUSES.iter().find(|k| k.eq_ignore_ascii_case(s)).ok_or_else(|| {
                ApiError::bad_request(format!("status: '{s}' is not a recipe status ({})", STATUSES.join(", ")))
            })?;
            wanted.push(*known);
        }
        let mut kept = Vec::new();
        for r in all {
            let status = state.store.last_job_status(&r.dataflow.id).await?.unwrap_or_else(|| "New".to_string());
            if wanted.iter().any(|w| w.eq_ignore_ascii_case(&status)) {
                kept.push(r);
            }
        }
        all = kept;
    }
    let bound = |name: &str| q.get(name).map(|s| instant(name, s)).transpose();
    let (modified_after, modified_before) = (bound("lastModifiedAfter")?, bound("lastModifiedBefore")?);
    all.retain(|r| {
        modified_after.is_none_or(|a| r.dataflow.last_modified_date > a)
            && modified_before.is_none_or(|b| r.dataflow.last_modified_date < b)
    });
    let (next_after, next_before) = (bound("nextScheduledAfter")?, bound("nextScheduledBefore")?);
    if next_after.is_some() || next_before.is_some() {
        let mut kept = Vec::new();
        for r in all {
            let next = state.store.schedule(&r.id).await?.and_then(|s| s.next_run);
            if next.is_some_and(|n| next_after.is_none_or(|a| n > a) && next_before.is_none_or(|b| n < b)) {
                kept.push(r);
            }
        }
        all = kept;
    }
    match q.get("sort").map(|s| s.to_ascii_lowercase()).as_deref() {
        None | Some("lastmodified") => all.sort_by_key(|r| std::cmp::Reverse(r.dataflow.last_modified_date)),
        Some("name") => all.sort_by_key(|r| r.dataflow.label.to_lowercase()),
        Some("createddate") => all.sort_by_key(|r| std::cmp::Reverse(r.created_date)),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "sort: '{other}' is not a sort of recipes (LastModified, Name, CreatedDate)"
            )));
        }
    }
    let total = all.len() as i64;
    let mut items = Vec::new();
    for r in all.iter().skip(page.offset() as usize).take(page.size as usize) {
        items.push(representation(&state, &v, r, false).await?);
    }
    let (url, next) = page.links(&v.url("/recipes"), &q, total);
    Ok(ok(json!({ "recipes": items, "totalSize": total, "url": url, "nextPageUrl": next })))
}

/// The `format` of a recipe input (swell-app checks it is R3).
fn format(input: &Value) -> ApiResult<Option<&str>> {
    string_field(input, "format")
}

pub async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input = body(&bytes, "recipeObject")?;
    let new = new_definition(&input, "recipeDefinition")?;
    let r = state.create_recipe(&actor, new, format(&input)?).await?;
    Ok(crate::wire::json(StatusCode::CREATED, representation(&state, &v, &r, true).await?))
}

pub async fn get(
    State(state): State<AppState>,
    v: Version,
    Path(id): Path<AssetPath>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let mut r = state.recipe(&id.id).await?;
    if let Some(h) = q.get("historyId") {
        r.dataflow.definition = state.history(&r.dataflow.id, h).await?.definition;
    }
    Ok(ok(representation(&state, &v, &r, true).await?))
}

pub async fn patch(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input = body(&bytes, "recipeObject")?;
    let change = definition_change(&input, "recipeDefinition")?;
    let r = state.update_recipe(&actor, &id.id, change, format(&input)?).await?;
    Ok(ok(representation(&state, &v, &r, true).await?))
}

pub async fn revert(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input = body(&bytes, "recipeObject")?;
    let r = state
        .revert_recipe(&actor, &id.id, string_field(&input, "historyId")?, string_field(&input, "historyLabel")?)
        .await?;
    Ok(ok(representation(&state, &v, &r, true).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<AssetPath>,
) -> ApiResult<Response> {
    state.delete_recipe(&actor, &id.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// GET `/wave/recipes/{id}/file`: the recipe's definition file (its `fileUrl`), as stored (not
/// entity-encoded), so that a file saved back is the same recipe.
pub async fn file(State(state): State<AppState>, Path(id): Path<AssetPath>) -> ApiResult<Response> {
    Ok(crate::wire::verbatim(state.recipe(&id.id).await?.dataflow.definition))
}

pub async fn histories(State(state): State<AppState>, v: Version, Path(id): Path<AssetPath>) -> ApiResult<Response> {
    let r = state.recipe(&id.id).await?;
    let base = format!("/recipes/{}", r.id);
    let items: Vec<Value> =
        state.store.histories(&r.dataflow.id).await?.iter().map(|h| history(&v, &base, h)).collect();
    Ok(ok(json!({ "histories": items, "url": v.url(&format!("{base}/histories")) })))
}

fn notification(v: &Version, r: &RecipeRecord) -> Value {
    json!({
        "notificationLevel": r.notification_level,
        "longRunningAlertInMins": r.long_running_alert_mins,
        "recipe": { "id": r.id.as_str(), "name": r.dataflow.name, "url": v.url(&format!("/recipes/{}", r.id)) },
    })
}

/// GET `/wave/recipes/{id}/notification`. swell sends no mail: the settings are kept and
/// returned, and every run's end is in the job list.
pub async fn get_notification(
    State(state): State<AppState>,
    v: Version,
    Path(id): Path<AssetPath>,
) -> ApiResult<Response> {
    let r = state.recipe(&id.id).await?;
    Ok(ok(notification(&v, &r)))
}

/// PUT `/wave/recipes/{id}/notification` with `{"notificationLevel", "longRunningAlertInMins"}`.
pub async fn put_notification(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input = body(&bytes, "notification")?;
    let minutes = match input.get("longRunningAlertInMins") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(n) => match n.as_i64() {
            Some(m) => Some(Some(m)),
            None => {
                return Err(ApiError::bad_request(
                    "longRunningAlertInMins: must be a whole number of minutes, 0 or more",
                ));
            }
        },
    };
    let change = NotificationChange {
        level: string_field(&input, "notificationLevel")?.map(str::to_string),
        long_running_alert_mins: minutes,
    };
    let r = state.set_recipe_notification(&actor, &id.id, change).await?;
    Ok(ok(notification(&v, &r)))
}
