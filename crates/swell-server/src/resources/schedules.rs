//! `/wave/asset/{assetId}/schedule`: GET, PUT, DELETE the schedule of a dataflow (02K), a
//! recipe (05v) or a data connector (0It, also by API name).
//!
//! PUT answers `{}` as the docs show; GET the schedule with `nextScheduledDate` (UTC) and the
//! zone object; DELETE answers 204 with no body. Every wrong field of a PUT is its own error
//! entry naming the field. A PUT or DELETE wakes the scheduler, which sleeps until the
//! earliest tick.

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::wire::{body, ok};
use crate::{AppState, Version};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use swell_core::dates::to_wire;
use swell_core::schedule::{Frequency, TriggerTerm};
use swell_core::{AssetKind, KeyPrefix, SalesforceId, Schedule};
use swell_store::ScheduleRecord;

/// A schedulable asset, resolved from the path.
struct Asset {
    id: SalesforceId,
    kind: AssetKind,
}

async fn asset(state: &AppState, id_or_name: &str) -> ApiResult<Asset> {
    let Ok(id) = SalesforceId::parse(id_or_name) else {
        // not an id: a data connector's API name
        let c = state.store.find_connector(id_or_name).await?.ok_or_else(|| {
            ApiError::not_found(format!(
                "asset {id_or_name}: no data connection has that API name, and it is not a dataflow (02K), \
                     recipe (05v) or data connector (0It) id"
            ))
        })?;
        return Ok(Asset { id: c.id, kind: AssetKind::Connection });
    };
    if id.has_prefix(KeyPrefix::Dataflow) {
        let d = state.store.dataflow(&id).await?;
        if d.kind == AssetKind::Sync {
            return Err(ApiError::bad_request(format!(
                "assetId: {id} is the sync dataflow of a data connection; schedule the connection (0It) instead"
            )));
        }
        return Ok(Asset { id: d.id, kind: AssetKind::Dataflow });
    }
    if id.has_prefix(KeyPrefix::Recipe) {
        let r = state.store.recipe(&id).await?;
        return Ok(Asset { id: r.id, kind: AssetKind::Recipe });
    }
    if id.has_prefix(KeyPrefix::DataConnector) {
        let c = state.store.connector(&id).await?;
        return Ok(Asset { id: c.id, kind: AssetKind::Connection });
    }
    Err(ApiError::bad_request(format!(
        "assetId: '{id_or_name}' is not a dataflow (02K), recipe (05v) or data connector (0It) id"
    )))
}

/// The Schedule representation; `none` when the asset has no schedule.
pub fn representation(asset_id: &SalesforceId, rec: Option<&ScheduleRecord>, now: DateTime<Utc>) -> Value {
    let schedule = rec.map_or_else(Schedule::none, |r| r.schedule.clone());
    let next = rec.and_then(|r| r.next_run);
    let mut out = schedule.to_json(next.unwrap_or(now));
    out["assetId"] = json!(asset_id.as_str());
    if let Some(n) = next {
        out["nextScheduledDate"] = json!(to_wire(&n));
    }
    out
}

/// The `scheduleAttributes` string of a dataflow: the schedule as serialized JSON with its
/// `scheduleType` (`timedriven` or `eventdriven`), as an org writes it.
pub fn attributes(rec: &ScheduleRecord) -> Option<String> {
    let s = &rec.schedule;
    if s.frequency == Frequency::None {
        return None;
    }
    let mut v = s.to_json(rec.next_run.unwrap_or_else(Utc::now));
    let kind = if s.frequency.is_timed() { "timedriven" } else { "eventdriven" };
    let obj = v.as_object_mut()?;
    obj.remove("notificationLevel");
    let mut out = serde_json::Map::new();
    out.insert("scheduleType".into(), json!(kind));
    out.extend(obj.clone());
    Some(Value::Object(out).to_string())
}

pub async fn get(
    State(state): State<AppState>,
    v: Version,
    Path(params): Path<HashMap<String, String>>,
) -> ApiResult<Response> {
    if v.major() < 52 {
        return Err(ApiError::not_found("GET of a schedule (available from v52.0)"));
    }
    let a = asset(&state, &params["id"]).await?;
    let rec = state.store.schedule(&a.id).await?;
    Ok(ok(representation(&a.id, rec.as_ref(), state.scheduler.now())))
}

pub async fn put(
    State(state): State<AppState>,
    Path(params): Path<HashMap<String, String>>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let a = asset(&state, &params["id"]).await?;
    let input = body(&bytes, "schedule")?;
    let schedule = Schedule::from_input(&input)
        .map_err(|errors| ApiError::many(ErrorCode::InvalidInput, errors.iter().map(ToString::to_string).collect()))?;
    if let Frequency::EventDriven { rule } = &schedule.frequency {
        if a.kind == AssetKind::Connection {
            return Err(ApiError::bad_request(
                "frequency: a data sync cannot be event-driven; give it a time-based schedule",
            ));
        }
        check_rule(&state, &a, rule.terms.as_slice()).await?;
    }
    let now = state.scheduler.now();
    let next = schedule.next_after(now);
    state.store.put_schedule(&a.id, a.kind, &schedule, next).await?;
    state.scheduler.wake();
    Ok(ok(json!({})))
}

pub async fn delete(State(state): State<AppState>, Path(params): Path<HashMap<String, String>>) -> ApiResult<Response> {
    let a = asset(&state, &params["id"]).await?;
    state.store.delete_schedule(&a.id).await?;
    state.scheduler.wake();
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The assets a rule waits for must exist, and no chain of event-driven schedules may lead
/// back to the asset (it would start itself forever).
async fn check_rule(state: &AppState, a: &Asset, terms: &[TriggerTerm]) -> ApiResult<()> {
    let mut graph: HashMap<SalesforceId, Vec<SalesforceId>> = HashMap::new();
    for rec in state.store.event_schedules().await? {
        if let Frequency::EventDriven { rule } = rec.schedule.frequency {
            graph.insert(rec.asset_id, asset_terms(&rule.terms));
        }
    }
    for id in asset_terms(terms) {
        let exists = if id.has_prefix(KeyPrefix::Recipe) {
            state.store.recipe(&id).await.is_ok()
        } else {
            state.store.dataflow(&id).await.is_ok_and(|d| d.kind == AssetKind::Dataflow)
        };
        if !exists {
            let kind = if id.has_prefix(KeyPrefix::Recipe) { AssetKind::Recipe } else { AssetKind::Dataflow };
            return Err(ApiError::bad_request(format!("triggerRule: {} {id} does not exist", kind.word())));
        }
    }
    graph.insert(a.id.clone(), asset_terms(terms));
    // does anything the asset waits for wait, through the chain, for the asset itself?
    let mut seen = HashSet::new();
    let mut stack = vec![a.id.clone()];
    while let Some(n) = stack.pop() {
        for next in graph.get(&n).into_iter().flatten() {
            if *next == a.id {
                return Err(ApiError::bad_request(format!(
                    "triggerRule: {} would start itself: it waits, directly or through other schedules, for its own runs",
                    a.id
                )));
            }
            if seen.insert(next.clone()) {
                stack.push(next.clone());
            }
        }
    }
    Ok(())
}

fn asset_terms(terms: &[TriggerTerm]) -> Vec<SalesforceId> {
    terms
        .iter()
        .filter_map(|t| match t {
            TriggerTerm::Asset(id) => Some(id.clone()),
            TriggerTerm::AllSalesforceObjects => None,
        })
        .collect()
}
