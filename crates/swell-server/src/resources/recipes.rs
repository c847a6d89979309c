//! `/wave/recipes`: list, create, get, PATCH (bare or wrapped in `recipeObject`), PUT revert
//! to a history, DELETE, `/histories`. A recipe (05v) runs through its `targetDataflowId`
//! (02K): POST that id to `/wave/dataflowjobs` and a recipe job (0eP) runs it.
//!
//! A recipe is saved even when the engine finds problems in it, as Data Prep saves a draft
//! (swell-app's recipe use cases); the problems are listed in `validationDetails` (node, node
//! type, severity, message) and a run of it fails naming them.

use super::dataflows::{AssetHistory, HistoryCollection, history};
use super::paging::{Page, matches_q};
use super::schedules::ScheduleRepresentation;
use crate::wire::shapes::one_of;
use crate::wire::{AssetPath, AssetRef, Audit, LicenseAttributes, PartPath, Permissions, Since, Timestamp, input, ok};
use crate::{AppState, Version};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use swell_app::{Actor, ApiError, ApiResult, Asset, DefinitionChange, NewDefinition, NotificationChange};
use swell_store::RecipeRecord;
use utoipa::ToSchema;

/// A problem the engine finds in a recipe (`validationDetails`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValidationDetail {
    pub node_name: String,
    pub node_type: String,
    pub severity: &'static str,
    pub message: String,
    pub validation_action: &'static str,
    pub validation_code: &'static str,
}

/// The engine's problems with a definition, as `validationDetails`.
fn validation_details(definition: &Value) -> Vec<ValidationDetail> {
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
            ValidationDetail {
                node_name: p.node.clone(),
                node_type: actions.get(&p.node).cloned().unwrap_or_default(),
                severity: "Error",
                message,
                validation_action: "",
                validation_code: "",
            }
        })
        .collect()
}

/// A Data Prep recipe (`Recipe`). The list leaves out its definition.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Recipe {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub label: String,
    pub namespace: &'static str,
    pub url: String,
    #[serde(skip_serializing_if = "Since::absent")]
    #[schema(inline)]
    pub histories_url: Since<51, String>,
    /// The definition file as stored (`GET` it; not entity-encoded).
    pub file_url: String,
    #[serde(skip_serializing_if = "Since::absent")]
    #[schema(inline)]
    pub format: Since<48, String>,
    /// The dataflow (02K) that runs the recipe: POST it to `/wave/dataflowjobs`.
    pub target_dataflow_id: String,
    pub publishing_target: &'static str,
    /// The last run's status, or `New`.
    #[schema(schema_with = statuses)]
    pub status: String,
    pub conversion_details: Vec<Value>,
    pub validation_details: Vec<ValidationDetail>,
    #[serde(skip_serializing_if = "Since::absent")]
    #[schema(inline)]
    pub schedule_attributes: Since<53, ScheduleRepresentation>,
    #[serde(flatten)]
    pub audit: Audit,
    /// What the acting user may do with it.
    pub permissions: Permissions,
    #[serde(skip_serializing_if = "Since::absent")]
    #[schema(inline)]
    pub license_attributes: Since<51, LicenseAttributes>,
    // The recipe's nodes, as stored (entity-encoded as every string of an answer).
    #[serde(skip_serializing_if = "Since::absent")]
    #[schema(inline)]
    pub recipe_definition: Since<49, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_scheduled_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = schedule_types)]
    pub schedule_type: Option<&'static str>,
}

fn statuses() -> utoipa::openapi::schema::Object {
    one_of(STATUSES.iter().copied())
}

fn schedule_types() -> utoipa::openapi::schema::Object {
    one_of(["timedriven", "eventdriven"])
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecipeCollection {
    pub recipes: Vec<Recipe>,
    pub total_size: i64,
    pub url: String,
    pub next_page_url: Option<String>,
}

async fn representation(
    state: &AppState,
    v: &Version,
    actor: &Actor,
    r: &RecipeRecord,
    with_definition: bool,
) -> ApiResult<Recipe> {
    let url = v.url(&format!("/recipes/{}", r.id));
    let d = &r.dataflow;
    let status = state.store.last_job_status(&d.id).await?.unwrap_or_else(|| "New".to_string());
    let schedule = state.store.schedule(&r.id).await?;
    Ok(Recipe {
        id: r.id.to_string(),
        kind: "recipe",
        name: d.name.clone(),
        label: d.label.clone(),
        namespace: "",
        histories_url: Since::at(v, format!("{url}/histories")),
        file_url: format!("{url}/file"),
        url,
        format: Since::at(v, r.format.clone()),
        target_dataflow_id: d.id.to_string(),
        publishing_target: "Dataset",
        status,
        conversion_details: Vec::new(),
        validation_details: validation_details(&d.definition),
        schedule_attributes: Since::at(
            v,
            super::schedules::representation(&r.id, schedule.as_ref(), chrono::Utc::now()),
        ),
        audit: Audit::new((&d.created_by, &r.created_date), (&d.last_modified_by, &d.last_modified_date)),
        permissions: Permissions::of(actor, Asset::Recipe),
        license_attributes: Since::at(v, LicenseAttributes::ANALYTICS),
        recipe_definition: Since::maybe(v, with_definition.then(|| d.definition.clone())),
        description: d.description.clone(),
        next_scheduled_date: schedule.as_ref().and_then(|s| s.next_run).map(Timestamp::from),
        schedule_type: schedule
            .as_ref()
            .map(|s| if s.schedule.frequency.is_timed() { "timedriven" } else { "eventdriven" }),
    })
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

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/recipes",
    tag = "recipes",
    params(
        ("q" = Option<String>, Query, description = "words found in the name or label"),
        ("format" = Option<String>, Query, description = "R3"),
        ("status" = Option<String>, Query, description = "comma-separated: Failure, New, Queued, Running, Success, Warning"),
        ("lastModifiedAfter" = Option<String>, Query, description = "a date-time, a day or epoch seconds"),
        ("lastModifiedBefore" = Option<String>, Query, description = "a date-time, a day or epoch seconds"),
        ("nextScheduledAfter" = Option<String>, Query, description = "a date-time, a day or epoch seconds"),
        ("nextScheduledBefore" = Option<String>, Query, description = "a date-time, a day or epoch seconds"),
        ("sort" = Option<String>, Query, description = "LastModified, Name or CreatedDate"),
        ("page" = Option<String>, Query, description = "the page token of a nextPageUrl"),
        ("pageSize" = Option<i64>, Query, description = "1 to 200 (default 25)"),
    ),
    responses((status = 200, body = RecipeCollection)),
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
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
    let mut recipes = Vec::new();
    for r in all.iter().skip(page.offset() as usize).take(page.size as usize) {
        recipes.push(representation(&state, &v, &actor, r, false).await?);
    }
    let (url, next_page_url) = page.links(&v.url("/recipes"), &q, total);
    Ok(ok(RecipeCollection { recipes, total_size: total, url, next_page_url }))
}

/// The body of a recipe's POST, PATCH and PUT (`RecipeInputRepresentation`), bare or wrapped
/// in `recipeObject`. A name not given is made from the label.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecipeInput {
    pub name: Option<String>,
    pub label: Option<String>,
    pub description: Option<String>,
    /// The recipe file: `{"version", "nodes", "ui"}`.
    pub recipe_definition: Option<Value>,
    /// `R3` (the only format swell runs).
    pub format: Option<String>,
    pub history_label: Option<String>,
    /// PUT: the history entry to go back to.
    pub history_id: Option<String>,
}

impl RecipeInput {
    fn change(self) -> (DefinitionChange, Option<String>) {
        let change = DefinitionChange {
            name: self.name,
            label: self.label,
            description: self.description,
            definition: self.recipe_definition,
            history_label: self.history_label,
        };
        (change, self.format)
    }
}

#[utoipa::path(
    post,
    path = "/services/data/{version}/wave/recipes",
    tag = "recipes",
    request_body = RecipeInput,
    responses((status = 201, body = Recipe)),
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    bytes: Bytes,
) -> ApiResult<Response> {
    let (c, format) = input::<RecipeInput>(&bytes, "recipeObject")?.change();
    let new = NewDefinition { name: c.name, label: c.label, description: c.description, definition: c.definition };
    let r = state.create_recipe(&actor, new, format.as_deref()).await?;
    Ok(crate::wire::json(StatusCode::CREATED, representation(&state, &v, &actor, &r, true).await?))
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/recipes/{id}",
    tag = "recipes",
    params(("historyId" = Option<String>, Query, description = "show the definition of this history entry")),
    responses((status = 200, body = Recipe)),
)]
pub async fn get(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let mut r = state.recipe(&id.id).await?;
    if let Some(h) = q.get("historyId") {
        r.dataflow.definition = state.history(&r.dataflow.id, h).await?.definition;
    }
    Ok(ok(representation(&state, &v, &actor, &r, true).await?))
}

#[utoipa::path(
    patch,
    path = "/services/data/{version}/wave/recipes/{id}",
    tag = "recipes",
    request_body = RecipeInput,
    responses((status = 200, body = Recipe)),
)]
pub async fn patch(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let (change, format) = input::<RecipeInput>(&bytes, "recipeObject")?.change();
    let r = state.update_recipe(&actor, &id.id, change, format.as_deref()).await?;
    Ok(ok(representation(&state, &v, &actor, &r, true).await?))
}

#[utoipa::path(
    put,
    path = "/services/data/{version}/wave/recipes/{id}",
    tag = "recipes",
    request_body = RecipeInput,
    responses((status = 200, body = Recipe, description = "Reverted to the history entry historyId")),
)]
pub async fn revert(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input: RecipeInput = input(&bytes, "recipeObject")?;
    let r = state.revert_recipe(&actor, &id.id, input.history_id.as_deref(), input.history_label.as_deref()).await?;
    Ok(ok(representation(&state, &v, &actor, &r, true).await?))
}

#[utoipa::path(
    delete,
    path = "/services/data/{version}/wave/recipes/{id}",
    tag = "recipes",
    responses((status = 204, description = "Done; no body")),
)]
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
#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/recipes/{id}/file",
    tag = "recipes",
    responses((status = 200, body = Object, description = "The recipe file as stored")),
)]
pub async fn file(State(state): State<AppState>, Path(id): Path<AssetPath>) -> ApiResult<Response> {
    Ok(crate::wire::verbatim(state.recipe(&id.id).await?.dataflow.definition))
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/recipes/{id}/histories",
    tag = "recipes",
    responses((status = 200, body = HistoryCollection)),
)]
pub async fn histories(State(state): State<AppState>, v: Version, Path(id): Path<AssetPath>) -> ApiResult<Response> {
    let r = state.recipe(&id.id).await?;
    let base = format!("/recipes/{}", r.id);
    let histories = state.store.histories(&r.dataflow.id).await?.iter().map(|h| history(&v, &base, h)).collect();
    Ok(ok(HistoryCollection { histories, url: v.url(&format!("{base}/histories")) }))
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/recipes/{id}/histories/{part}",
    tag = "recipes",
    responses((status = 200, body = AssetHistory)),
)]
pub async fn history_get(State(state): State<AppState>, v: Version, Path(p): Path<PartPath>) -> ApiResult<Response> {
    let r = state.recipe(&p.id).await?;
    let h = state.history(&r.dataflow.id, &p.part).await?;
    Ok(ok(history(&v, &format!("/recipes/{}", r.id), &h)))
}

/// Who is told of a recipe's runs (`RecipeNotification`). swell sends no mail.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecipeNotification {
    #[schema(schema_with = notification_levels)]
    pub notification_level: String,
    pub long_running_alert_in_mins: Option<i64>,
    pub recipe: AssetRef,
}

fn notification_levels() -> utoipa::openapi::schema::Object {
    one_of(["Always", "Failures", "Never", "Warnings"])
}

fn notification(v: &Version, r: &RecipeRecord) -> RecipeNotification {
    RecipeNotification {
        notification_level: r.notification_level.clone(),
        long_running_alert_in_mins: r.long_running_alert_mins,
        recipe: AssetRef::new(&r.id).named(&r.dataflow.name).url(v.url(&format!("/recipes/{}", r.id))),
    }
}

/// GET `/wave/recipes/{id}/notification`. swell sends no mail: the settings are kept and
/// returned, and every run's end is in the job list.
#[utoipa::path(
    get,
    path = "/services/data/{version}/wave/recipes/{id}/notification",
    tag = "recipes",
    responses((status = 200, body = RecipeNotification)),
)]
pub async fn get_notification(
    State(state): State<AppState>,
    v: Version,
    Path(id): Path<AssetPath>,
) -> ApiResult<Response> {
    let r = state.recipe(&id.id).await?;
    Ok(ok(notification(&v, &r)))
}

/// The body of PUT `/wave/recipes/{id}/notification`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationInput {
    #[schema(schema_with = notification_levels)]
    pub notification_level: Option<String>,
    /// `null` turns the alert off.
    #[serde(default, deserialize_with = "crate::wire::nullable")]
    #[schema(value_type = Option<i64>)]
    pub long_running_alert_in_mins: Option<Option<i64>>,
}

/// PUT `/wave/recipes/{id}/notification` with `{"notificationLevel", "longRunningAlertInMins"}`.
#[utoipa::path(
    put,
    path = "/services/data/{version}/wave/recipes/{id}/notification",
    tag = "recipes",
    request_body = NotificationInput,
    responses((status = 200, body = RecipeNotification)),
)]
pub async fn put_notification(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input: NotificationInput = input(&bytes, "notification")?;
    let change = NotificationChange {
        level: input.notification_level,
        long_running_alert_mins: input.long_running_alert_in_mins,
    };
    let r = state.set_recipe_notification(&actor, &id.id, change).await?;
    Ok(ok(notification(&v, &r)))
}
