//! Salesforce wire conventions: JSON content type, HTML-entity-encoded strings (unless the
//! client sends `X-Chatter-Entity-Encoding: false`), bodies bare or wrapped, paths matched
//! case-insensitively and with or without a trailing slash.

use crate::error::ApiError;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

pub const JSON: &str = "application/json;charset=UTF-8";

pub fn json(status: StatusCode, body: Value) -> Response {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    r
}

pub fn ok(body: Value) -> Response {
    json(StatusCode::OK, body)
}

/// Parses a request body; an empty body is `{}`. A wrapped body (`{"schedule": {...}}`) is
/// unwrapped when its only key is `wrapper` (any case).
pub fn body(bytes: &Bytes, wrapper: &str) -> Result<Value, ApiError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Value::Object(Default::default()));
    }
    let v: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "JSON_PARSER_ERROR", format!("The request body is not valid JSON: {e}"))
    })?;
    if let Value::Object(map) = &v
        && map.len() == 1
        && let Some((k, inner)) = map.iter().next()
        && k.eq_ignore_ascii_case(wrapper)
        && inner.is_object()
    {
        return Ok(inner.clone());
    }
    Ok(v)
}

/// Reads a string field of a body, with its JSON path in the error.
pub fn string_field<'a>(v: &'a Value, name: &str) -> Result<Option<&'a str>, ApiError> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::bad_request(format!("{name}: must be a string"))),
    }
}

/// The API name and label of a new asset: `name`, or made from `label` (other characters
/// become `_`); it must start with a letter and hold only letters, digits and single `_`,
/// not at the end. The label defaults to the name.
pub fn name_and_label(input: &Value) -> Result<(String, String), ApiError> {
    let label = string_field(input, "label")?;
    let name = match (string_field(input, "name")?, label) {
        (Some(n), _) => n.to_string(),
        (None, Some(l)) => {
            let made: String = l.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
            let mut squeezed = String::new();
            for c in made.trim_matches('_').chars() {
                if !(c == '_' && squeezed.ends_with('_')) {
                    squeezed.push(c);
                }
            }
            squeezed
        }
        (None, None) => return Err(ApiError::bad_request("name: is required (or a label to make it from)")),
    };
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.contains("__")
        && !name.ends_with('_')
        && name.len() <= 80;
    if !valid {
        return Err(ApiError::bad_request(format!(
            "name: '{name}' must start with a letter, use only letters, digits and single '_', not end with '_', \
             and be at most 80 characters"
        )));
    }
    let label = label.unwrap_or(&name).to_string();
    Ok((name, label))
}

/// Leaves out the fields of a representation that are newer than the requested API version,
/// as an org does: `since` lists (field, first version).
pub fn gate(out: &mut Value, version: u32, since: &[(&str, u32)]) {
    if let Some(obj) = out.as_object_mut() {
        for (field, first) in since {
            if version < *first {
                obj.remove(*field);
            }
        }
    }
}

/// Minimal HTML escaping of Connect API responses.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\\' => out.push_str("&#92;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    out
}

pub fn escape_value(v: Value) -> Value {
    match v {
        Value::String(s) => Value::String(escape(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(escape_value).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, escape_value(v))).collect()),
        other => other,
    }
}

/// Path words matched case-insensitively; everything else (ids, names) is kept as sent.
const WORDS: &[&str] = &[
    "services",
    "data",
    "wave",
    "dataflows",
    "dataflowjobs",
    "datasets",
    "versions",
    "nodes",
    "histories",
    "asset",
    "schedule",
    "recipes",
    "query",
    "sobjects",
    "oauth2",
    "userinfo",
];

/// Rewrites a request path before routing: known words to lowercase, no empty segments (a
/// trailing slash, or the `//` of a client that joins `http://host/` with `/services/...`, as
/// the sf CLI does after `org login`).
pub fn normalize<B>(mut req: Request<B>) -> Request<B> {
    let uri = req.uri().clone();
    let path = uri.path();
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let lower = s.to_ascii_lowercase();
            if WORDS.contains(&lower.as_str()) { lower } else { s.to_string() }
        })
        .collect();
    let new_path = format!("/{}", segments.join("/"));
    if new_path != path {
        let pq = match uri.query() {
            Some(q) => format!("{new_path}?{q}"),
            None => new_path,
        };
        if let Ok(p) = pq.parse() {
            let mut parts = uri.into_parts();
            parts.path_and_query = Some(p);
            if let Ok(u) = axum::http::Uri::from_parts(parts) {
                *req.uri_mut() = u;
            }
        }
    }
    req
}
