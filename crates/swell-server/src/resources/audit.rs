//! The audit log (issue 15), admin only: `GET /services/data/vNN.0/swell/audit`. Every change,
//! every refused one and every failed sign-in, newest first, paged by event number. Like
//! `/swell/users` this is swell's own resource; CRM Analytics keeps its Setup Audit Trail
//! elsewhere.

use crate::wire::{Timestamp, ok};
use crate::{AppState, Version};
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Serialize;
use std::collections::HashMap;
use swell_app::{Actor, ApiError, ApiResult, AuditEvent, AuditQuery};
use utoipa::ToSchema;

/// One event.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Its number: later events have larger ones.
    pub id: i64,
    pub date: Timestamp,
    /// The user who acted; absent for a sign-in under a username that does not exist.
    pub user_id: Option<String>,
    pub username: String,
    /// What they did (`start job`, `create user`, `sign in`, ...; docs/roles.md lists them).
    pub action: String,
    pub asset_id: Option<String>,
    pub asset_name: Option<String>,
    /// `success`, `refused` (the role does not allow it) or `failed` (a sign-in).
    pub outcome: &'static str,
    pub detail: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditCollection {
    pub events: Vec<AuditEntry>,
    pub url: String,
    /// The next (older) page; absent on the last.
    pub next_page_url: Option<String>,
}

fn entry(e: &AuditEvent) -> AuditEntry {
    AuditEntry {
        id: e.seq,
        date: Timestamp::from(&e.at),
        user_id: e.user_id.as_ref().map(ToString::to_string),
        username: e.username.clone(),
        action: e.action.clone(),
        asset_id: e.asset_id.as_ref().map(ToString::to_string),
        asset_name: e.asset_name.clone(),
        outcome: e.outcome.as_str(),
        detail: e.detail.clone(),
    }
}

const PARAMETERS: [&str; 7] = ["user", "asset", "action", "outcome", "since", "before", "pageSize"];

#[utoipa::path(
    get,
    path = "/services/data/{version}/swell/audit",
    tag = "audit",
    params(
        ("user" = Option<String>, Query, description = "events of this user (id or username)"),
        ("asset" = Option<String>, Query, description = "events about this asset (id)"),
        ("action" = Option<String>, Query, description = "events of this action (`start job`)"),
        ("outcome" = Option<String>, Query, description = "success, refused or failed"),
        ("since" = Option<String>, Query, description = "events at or after this date or instant"),
        ("before" = Option<i64>, Query, description = "events older than this event id (the next page)"),
        ("pageSize" = Option<i64>, Query, description = "1 to 200 (default 25)"),
    ),
    responses((status = 200, body = AuditCollection)),
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    if let Some(unknown) = q.keys().find(|k| !PARAMETERS.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!(
            "{unknown}: not a parameter of the audit log ({})",
            PARAMETERS.join(", ")
        )));
    }
    let page = super::paging::Page::from_query(&q)?;
    let get = |k: &str| q.get(k).map(String::as_str).filter(|s| !s.trim().is_empty());
    let query = AuditQuery {
        user: get("user"),
        asset: get("asset"),
        action: get("action"),
        outcome: get("outcome"),
        since: get("since"),
        before: get("before"),
        limit: page.size,
    };
    let (events, more) = state.audit_events(&actor, &query).await?;
    let base = format!("/services/data/v{}/swell/audit", v.0);
    let next = events.last().filter(|_| more).map(|last| last.seq.to_string());
    let (url, next_page_url) = super::paging::links(&base, &q, "before", next);
    Ok(ok(AuditCollection { events: events.iter().map(entry).collect(), url, next_page_url }))
}
