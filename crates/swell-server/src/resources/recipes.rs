//! `/wave/recipes`: list, create, get, PATCH (bare or wrapped in `recipeObject`), PUT revert
//! to a history, DELETE, `/histories`. A recipe (05v) runs through its `targetDataflowId`
//! (02K): POST that id to `/wave/dataflowjobs` and a recipe job (0eP) runs it.
//!
//! A recipe is saved even when the engine finds problems in it, as Data Prep saves a draft;
//! the problems are listed in `validationDetails` (node, node type, severity, message) and a
//! run of it fails naming them. Only R3 recipes are accepted (R2 is Data Prep Classic).

use super::dataflows::{history, id_of, user};
use super::paging::{Page, matches_q};
use crate::error::{ApiError, ApiResult};
use crate::wire::{IdOrName, body, ok, string_field, unchanged_name};
use crate::{AppState, Version};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use swell_core::KeyPrefix;
use swell_core::dates::to_wire;
use swell_store::RecipeRecord;

/// The engine's problems with a definition, as `validationDetails`.
fn validation_details(definition: &Value) -> Vec<Value> {
    let mut problems = match swell_engine::validate_isolated(definition.to_string()) {
        Ok(_) => return Vec::new(),
        Err(p) => p.0,
    };
    // as many as an error answer lists (the recipes list repeats them for every recipe)
    problems.truncate(crate::error::MAX_ERRORS);
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
        "format": r.format,
        "targetDataflowId": d.id.as_str(),
        "publishingTarget": "Dataset",
        "status": status,
        "conversionDetails": [],
        "validationDetails": validation_details(&d.definition),
        "scheduleAttributes": super::schedules::representation(&r.id, schedule.as_ref(), chrono::Utc::now()),
        "createdBy": user(),
        "createdDate": to_wire(&r.created_date),
        "lastModifiedBy": user(),
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

/// A recipe by id (15 or 18 characters) or by API name.
pub async fn find(state: &AppState, id_or_name: &str) -> ApiResult<RecipeRecord> {
    match crate::wire::id_or_name(id_or_name, KeyPrefix::Recipe, "recipe")? {
        IdOrName::Id(id) => Ok(state.store.recipe(&id).await?),
        IdOrName::Name(name) => {
            state.store.recipe_by_name(name).await?.ok_or_else(|| ApiError::not_found(format!("recipe {name}")))
        }
    }
}

/// The recipe definition of an input: an R3 object with `nodes`.
fn definition(input: &Value) -> ApiResult<Option<Value>> {
    if let Some(f) = string_field(input, "format")?
        && !f.eq_ignore_ascii_case("R3")
    {
        return Err(ApiError::bad_request(format!(
            "format: '{f}' is not supported: swell runs R3 recipes (Data Prep); R2 is Data Prep Classic"
        )));
    }
    match input.get("recipeDefinition") {
        None | Some(Value::Null) => Ok(None),
        Some(d) if d.get("nodes").is_some_and(Value::is_object) => {
            // a recipe is kept even when it does not check (Data Prep saves drafts), but not
            // past the engine's hard limits: those are refused before anything is stored
            let count = d["nodes"].as_object().map_or(0, |n| n.len());
            swell_engine::flow::check_node_count(count).map_err(|p| {
                ApiError::bad_request(format!(
                    "recipeDefinition.nodes: {}",
                    p.0.first().map_or("", |x| x.message.as_str())
                ))
            })?;
            Ok(Some(d.clone()))
        }
        Some(_) => Err(ApiError::bad_request(
            "recipeDefinition: must be an R3 recipe: {\"version\": \"62.0\", \"nodes\": {...}, \"ui\": {...}}",
        )),
    }
}

/// The statuses a recipe shows (its last run's, or New).
const STATUSES: &[&str] = &["Failure", "New", "Queued", "Running", "Success", "Warning"];

/// A time bound of the list: ISO-8601 (`2026-11-28T10:00:00Z`, or a day `2026-11-28` meaning
/// its midnight UTC) or epoch seconds.
fn instant(name: &str, s: &str) -> ApiResult<chrono::DateTime<chrono::Utc>> {
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(d.with_timezone(&chrono::Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc());
    }
    s.parse::<i64>().ok().and_then(|n| chrono::DateTime::from_timestamp(n, 0)).ok_or_else(|| {
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

pub async fn create(State(state): State<AppState>, v: Version, bytes: Bytes) -> ApiResult<Response> {
    let input = body(&bytes, "recipeObject")?;
    let definition = definition(&input)?.ok_or_else(|| ApiError::bad_request("recipeDefinition: is required"))?;
    let (name, label) = crate::wire::name_and_label(&input)?;
    let r = state.store.create_recipe(&name, &label, string_field(&input, "description")?, &definition).await?;
    Ok(crate::wire::json(StatusCode::CREATED, representation(&state, &v, &r, true).await?))
}

pub async fn get(
    State(state): State<AppState>,
    v: Version,
    Path(params): Path<HashMap<String, String>>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let mut r = find(&state, &params["id"]).await?;
    if let Some(h) = q.get("historyId") {
        let hid = id_of(h, KeyPrefix::History, "history")?;
        let found = state.store.histories(&r.dataflow.id).await?.into_iter().find(|x| x.id == hid);
        r.dataflow.definition = found.ok_or_else(|| ApiError::not_found(format!("history {h}")))?.definition;
    }
    Ok(ok(representation(&state, &v, &r, true).await?))
}

pub async fn patch(
    State(state): State<AppState>,
    v: Version,
    Path(params): Path<HashMap<String, String>>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let r = find(&state, &params["id"]).await?;
    let input = body(&bytes, "recipeObject")?;
    unchanged_name(&input, &r.dataflow.name)?;
    let definition = definition(&input)?;
    state
        .store
        .update_dataflow(
            &r.dataflow.id,
            string_field(&input, "label")?,
            string_field(&input, "description")?,
            definition.as_ref(),
            string_field(&input, "historyLabel")?,
        )
        .await?;
    Ok(ok(representation(&state, &v, &state.store.recipe(&r.id).await?, true).await?))
}

pub async fn revert(
    State(state): State<AppState>,
    v: Version,
    Path(params): Path<HashMap<String, String>>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let r = find(&state, &params["id"]).await?;
    let input = body(&bytes, "recipeObject")?;
    let hid = string_field(&input, "historyId")?.ok_or_else(|| ApiError::bad_request("historyId: is required"))?;
    let hid = id_of(hid, KeyPrefix::History, "history")?;
    state.store.revert_dataflow(&r.dataflow.id, &hid, string_field(&input, "historyLabel")?).await?;
    Ok(ok(representation(&state, &v, &state.store.recipe(&r.id).await?, true).await?))
}

pub async fn delete(State(state): State<AppState>, Path(params): Path<HashMap<String, String>>) -> ApiResult<Response> {
    let r = find(&state, &params["id"]).await?;
    state.store.delete_recipe(&r.id).await?;
    state.scheduler.wake();
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn histories(
    State(state): State<AppState>,
    v: Version,
    Path(params): Path<HashMap<String, String>>,
) -> ApiResult<Response> {
    let r = find(&state, &params["id"]).await?;
    let base = format!("/recipes/{}", r.id);
    let items: Vec<Value> =
        state.store.histories(&r.dataflow.id).await?.iter().map(|h| history(&v, &base, h)).collect();
    Ok(ok(json!({ "histories": items, "url": v.url(&format!("{base}/histories")) })))
}

const NOTIFICATION_LEVELS: &[&str] = &["Always", "Failures", "Never", "Warnings"];

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
    Path(params): Path<HashMap<String, String>>,
) -> ApiResult<Response> {
    let r = find(&state, &params["id"]).await?;
    Ok(ok(notification(&v, &r)))
}

/// PUT `/wave/recipes/{id}/notification` with `{"notificationLevel", "longRunningAlertInMins"}`.
pub async fn put_notification(
    State(state): State<AppState>,
    v: Version,
    Path(params): Path<HashMap<String, String>>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let r = find(&state, &params["id"]).await?;
    let input = body(&bytes, "notification")?;
    let level = match string_field(&input, "notificationLevel")? {
        None => r.notification_level.clone(),
        Some(l) => NOTIFICATION_LEVELS
            .iter()
            .find(|k| k.eq_ignore_ascii_case(l))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "notificationLevel: '{l}' is not one of {}",
                    NOTIFICATION_LEVELS.join(", ")
                ))
            })?
            .to_string(),
    };
    let minutes = match input.get("longRunningAlertInMins") {
        None => r.long_running_alert_mins,
        Some(Value::Null) => None,
        Some(n) => match n.as_i64() {
            Some(m) if m >= 0 => Some(m),
            _ => {
                return Err(ApiError::bad_request(
                    "longRunningAlertInMins: must be a whole number of minutes, 0 or more",
                ));
            }
        },
    };
    let r = state.store.set_recipe_notification(&r.id, &level, minutes).await?;
    Ok(ok(notification(&v, &r)))
}
