//! The few non-Wave resources that Salesforce clients call around their Wave requests:
//! `GET /services/oauth2/userinfo` and `GET /sobjects/User/{id}` (the sf CLI's
//! `org login access-token` reads who the token belongs to), and SOQL `GET /query?q=` for the
//! `Organization` and `User` records (the CLI reads the org's name and type before commands).
//!
//! The user is the one the token signs in (swell_app::Actor), in swell's one org. Its org id is the one in the
//! token when the token is shaped like a Salesforce access token (`00D…!…`), so that what the
//! CLI prints matches the token it was given. Any other object in a query is answered as an
//! org answers an object it does not have (400 INVALID_TYPE), which the CLI expects for
//! `ScratchOrgInfo` ("not a Dev Hub").

use crate::wire::ok;
use crate::{AppState, Version};
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use swell_app::Actor;
use swell_app::error::{ApiError, ApiResult, ErrorCode};
use swell_core::SalesforceId;
use utoipa::ToSchema;

/// The org id of the server (one server is one org; swell-app decides it).
pub fn org_id(_state: &AppState) -> SalesforceId {
    swell_app::org_id()
}

/// Who the token belongs to (OpenID Connect `userinfo`, as Salesforce answers it).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserInfo {
    pub sub: String,
    pub user_id: String,
    pub organization_id: String,
    pub preferred_username: String,
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    pub zoneinfo: &'static str,
    pub locale: &'static str,
    pub user_type: &'static str,
}

#[utoipa::path(get, path = "/services/oauth2/userinfo", tag = "identity", responses((status = 200, body = UserInfo)))]
pub async fn userinfo(State(state): State<AppState>, Extension(actor): Extension<Actor>) -> Response {
    ok(UserInfo {
        sub: format!("swell/{}/{}", org_id(&state), actor.id),
        user_id: actor.id.to_string(),
        organization_id: org_id(&state).to_string(),
        preferred_username: actor.username.clone(),
        name: actor.name.clone(),
        email: actor.username.clone(),
        email_verified: true,
        zoneinfo: "Etc/UTC",
        locale: "en_US",
        user_type: "STANDARD",
    })
}

/// Who a token belongs to, at the identity URL a sign-in answers (`id`: `/id/{org}/{user}`),
/// as Salesforce's identity service writes it (the fields clients read).
#[derive(Debug, Serialize, ToSchema)]
pub struct Identity {
    pub id: String,
    pub asserted_user: bool,
    pub user_id: String,
    pub organization_id: String,
    pub username: String,
    pub nick_name: String,
    pub display_name: String,
    pub email: String,
    pub active: bool,
    pub user_type: &'static str,
    pub language: &'static str,
    pub locale: &'static str,
    #[serde(rename = "utcOffset")]
    pub utc_offset: i64,
}

/// The path of an identity URL.
#[derive(Debug, serde::Deserialize)]
pub struct IdentityPath {
    pub org: String,
    pub user: String,
}

/// The identity of the signed-in user; the identity of anyone else is not theirs to read
/// (403, as an org answers `Bad_Id` for another user's).
#[utoipa::path(
    get,
    path = "/id/{org}/{user}",
    tag = "identity",
    responses((status = 200, body = Identity)),
)]
pub async fn identity(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    headers: axum::http::HeaderMap,
    Path(path): Path<IdentityPath>,
) -> ApiResult<Response> {
    let org = org_id(&state);
    let same = |given: &str, id: &SalesforceId| SalesforceId::parse(given).is_ok_and(|g| &g == id);
    if !same(&path.org, &org) {
        return Err(ApiError::not_found(format!("organization {}", path.org)));
    }
    if !same(&path.user, &actor.id) {
        return Err(ApiError::new(ErrorCode::InsufficientAccess, "an identity URL answers only for its own user"));
    }
    let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let base = format!("{}://{host}", if state.https { "https" } else { "http" });
    Ok(ok(Identity {
        id: format!("{base}/id/{org}/{}", actor.id),
        asserted_user: true,
        user_id: actor.id.to_string(),
        organization_id: org.to_string(),
        username: actor.username.clone(),
        nick_name: actor.username.split('@').next().unwrap_or_default().to_string(),
        display_name: actor.name.clone(),
        email: actor.username.clone(),
        active: true,
        user_type: "STANDARD",
        language: "en_US",
        locale: "en_US",
        utc_offset: 0,
    }))
}

/// The fields of the two records swell has, by object.
fn record(state: &AppState, actor: &Actor, object: &str) -> Option<(&'static str, Map<String, Value>)> {
    let fields = match object.to_ascii_lowercase().as_str() {
        "organization" => (
            "Organization",
            json!({
                "Id": org_id(state).as_str(),
                "Name": "swell",
                "InstanceName": "SWELL",
                "IsSandbox": false,
                "TrialExpirationDate": null,
                "NamespacePrefix": null,
                "OrganizationType": "Developer Edition",
                "TimeZoneSidKey": "Etc/UTC",
                "LanguageLocaleKey": "en_US",
            }),
        ),
        "user" => (
            "User",
            json!({
                "Id": actor.id.as_str(),
                "Username": actor.username,
                "Name": actor.name,
                "Email": actor.username,
                "IsActive": true,
                "TimeZoneSidKey": "Etc/UTC",
            }),
        ),
        _ => return None,
    };
    match fields {
        (name, Value::Object(map)) => Some((name, map)),
        _ => None,
    }
}

/// A path that names a record: `/sobjects/{object}/{id}`.
#[derive(Debug, serde::Deserialize)]
pub struct RecordPath {
    pub object: String,
    pub id: String,
}

fn attributes(v: &Version, object: &str, id: &str) -> Value {
    json!({ "type": object, "url": format!("/services/data/v{}/sobjects/{object}/{id}", v.0) })
}

#[utoipa::path(
    get,
    path = "/services/data/{version}/sobjects/{object}/{id}",
    tag = "identity",
    responses((status = 200, body = Object, description = "The Organization or User record")),
)]
pub async fn sobject(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(path): Path<RecordPath>,
) -> ApiResult<Response> {
    let (object, id) = (&path.object, &path.id);
    let Some((name, mut fields)) = record(&state, &actor, object) else {
        return Err(ApiError::not_found(format!("sObject type '{object}'")));
    };
    let wanted = SalesforceId::parse(id).map_err(|_| ApiError::not_found(format!("{name} {id}")))?;
    if fields.get("Id").and_then(Value::as_str) != Some(wanted.as_str()) {
        return Err(ApiError::not_found(format!("{name} {id}")));
    }
    fields.insert("attributes".into(), attributes(&v, name, wanted.as_str()));
    Ok(ok(Value::Object(fields)))
}

/// `SELECT f, … FROM Object [WHERE …] [ORDER BY …] [LIMIT n]` over the one record of
/// Organization or User. Only the select list and the object are read: each of those objects
/// has a single record, which any filter on it keeps (INFERRED: the CLI's filters do).
#[utoipa::path(
    get,
    path = "/services/data/{version}/query",
    tag = "identity",
    params(("q" = String, Query, description = "SELECT fields FROM Organization or User")),
    responses((status = 200, body = Object, description = "The SOQL answer: totalSize, done, records")),
)]
pub async fn query(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let soql = q.get("q").ok_or_else(|| malformed("the query parameter q is required"))?;
    let (fields, object) = parse_select(soql)?;
    let Some((name, record)) = record(&state, &actor, &object) else {
        return Err(ApiError::new(
            ErrorCode::InvalidType,
            format!("sObject type '{object}' is not supported. swell answers SOQL for Organization and User only."),
        ));
    };
    let mut out = Map::new();
    out.insert("attributes".into(), attributes(&v, name, record["Id"].as_str().unwrap_or_default()));
    for f in fields {
        let Some((key, value)) = record.iter().find(|(k, _)| k.eq_ignore_ascii_case(&f)) else {
            return Err(ApiError::new(ErrorCode::InvalidField, format!("No such column '{f}' on entity '{name}'.")));
        };
        out.insert(key.clone(), value.clone());
    }
    Ok(ok(json!({ "totalSize": 1, "done": true, "records": [Value::Object(out)] })))
}

fn malformed(m: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::MalformedQuery, m)
}

/// The select list and the object of a SOQL query.
fn parse_select(soql: &str) -> ApiResult<(Vec<String>, String)> {
    let words: Vec<&str> = soql.split_whitespace().collect();
    if !words.first().is_some_and(|w| w.eq_ignore_ascii_case("SELECT")) {
        return Err(malformed(format!("unexpected token at the start of '{soql}': expected SELECT")));
    }
    let from = words.iter().position(|w| w.eq_ignore_ascii_case("FROM")).ok_or_else(|| malformed("expected FROM"))?;
    let fields: Vec<String> =
        words[1..from].join(" ").split(',').map(|f| f.trim().to_string()).filter(|f| !f.is_empty()).collect();
    let object = words.get(from + 1).ok_or_else(|| malformed("expected an object after FROM"))?;
    if fields.is_empty() {
        return Err(malformed("expected fields after SELECT"));
    }
    Ok((fields, object.to_string()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn select_lists_are_read() {
        let (f, o) = super::parse_select("SELECT Name, InstanceName,IsSandbox FROM Organization").unwrap();
        assert_eq!(
            (f, o.as_str()),
            (vec!["Name".to_string(), "InstanceName".into(), "IsSandbox".into()], "Organization")
        );
        assert!(super::parse_select("DELETE FROM x").is_err());
        assert!(super::parse_select("SELECT FROM x").is_err());
    }
}
