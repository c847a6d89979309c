//! Salesforce wire conventions: JSON content type, HTML-entity-encoded strings (unless the
//! client sends `X-Chatter-Entity-Encoding: false`), bodies bare or wrapped, paths matched
//! case-insensitively and with or without a trailing slash.

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::IntoResponse;
use axum::response::Response;
use serde_json::Value;
use swell_app::{ApiError, ErrorCode};

pub mod shapes;
pub mod since;

pub use shapes::{AssetRef, Audit, LicenseAttributes, Permissions, Timestamp, WaveUser};
pub use since::Since;
pub use swell_app::error::JSON;

/// A path that names an asset: `/…/{id}` (an id or an API name, as the resource allows).
#[derive(Debug, serde::Deserialize)]
pub struct AssetPath {
    pub id: String,
}

/// A path that names a part of an asset: `/dataflowjobs/{id}/nodes/{node}`.
#[derive(Debug, serde::Deserialize)]
pub struct NodePath {
    pub id: String,
    pub node: String,
}

/// A path that names a saved version of an asset: `/dataflows/{id}/histories/{history}`,
/// `/datasets/{id}/versions/{version}`.
#[derive(Debug, serde::Deserialize)]
pub struct PartPath {
    pub id: String,
    pub part: String,
}

/// A path that names a source object of a connection: `/dataConnectors/{id}/sourceObjects/{object}`.
#[derive(Debug, serde::Deserialize)]
pub struct ObjectPath {
    pub id: String,
    pub object: String,
}

/// A representation as the JSON answer of `status`.
pub fn json(status: StatusCode, body: impl serde::Serialize) -> Response {
    let text = match serde_json::to_string(&body) {
        Ok(t) => t,
        Err(e) => return ApiError::internal(format!("a representation could not be written: {e}")).into_response(),
    };
    let mut r = Response::new(Body::from(text));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    r
}

pub fn ok(body: impl serde::Serialize) -> Response {
    json(StatusCode::OK, body)
}

/// Marks a response whose strings are a file's content, sent as stored: the entity encoding of
/// Connect API answers is not applied (a file saved back must read the same).
#[derive(Debug, Clone, Copy)]
pub struct Verbatim;

/// A file's content as JSON, sent as stored.
pub fn verbatim(body: Value) -> Response {
    let mut r = ok(body);
    r.extensions_mut().insert(Verbatim);
    r
}

/// Parses a request body; an empty body is `{}`. A wrapped body (`{"schedule": {...}}`) is
/// unwrapped when its only key is `wrapper` (any case).
fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

pub fn body(bytes: &Bytes, wrapper: &str) -> Result<Value, ApiError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Value::Object(Default::default()));
    }
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::new(ErrorCode::JsonParserError, format!("The request body is not valid JSON: {e}")))?;
    if let Some(path) = swell_core::json::duplicate_key(bytes) {
        return Err(ApiError::new(
            ErrorCode::JsonParserError,
            format!("The request body has the key {path} twice; each key of an object is given once"),
        ));
    }
    if !v.is_object() {
        return Err(ApiError::new(
            ErrorCode::JsonParserError,
            format!("The request body must be a JSON object, not {}", kind_of(&v)),
        ));
    }
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

/// Reads a request body into its typed input (`T`, declared next to its handler): the body
/// rules of [`body`], then the fields, a wrong one named by its JSON path
/// (`connectionProperties[2].value: invalid type: ...`).
pub fn input<T: serde::de::DeserializeOwned>(bytes: &Bytes, wrapper: &str) -> Result<T, ApiError> {
    let value = body(bytes, wrapper)?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if path == "." { ApiError::bad_request(inner) } else { ApiError::bad_request(format!("{path}: {inner}")) }
    })
}

/// A field that may be absent (`None`: leave it as it is), `null` (`Some(None)`: clear it) or
/// a value: `#[serde(default, deserialize_with = "wire::nullable")]`.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
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

/// Links (`url`, `nextPageUrl`, ...) are left as they are: a client follows them as sent, and
/// an escaped `&` (`?pageSize=1&amp;page=2`) would lead it back to the first page for ever.
pub fn escape_value(v: Value) -> Value {
    match v {
        Value::String(s) => Value::String(escape(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(escape_value).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| {
                    let link = (k == "url" || k.ends_with("Url")) && v.is_string();
                    let v = if link { v } else { escape_value(v) };
                    (k, v)
                })
                .collect(),
        ),
        other => other,
    }
}

/// Path words matched case-insensitively and rewritten to the spelling the routes use;
/// everything else (ids, names) is kept as sent.
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
    "notification",
    "file",
    "query",
    "sobjects",
    "oauth2",
    "userinfo",
    "dataConnectors",
    "dataConnectorTypes",
    "replicatedDatasets",
    "sourceObjects",
    "fields",
    "dataPreview",
    "status",
    "ingest",
    "token",
    "revoke",
    "Soap",
    "swell",
    "users",
    "tokens",
];

/// Words after which the path holds an id or a name, which is kept as sent even when it
/// looks like a word (an object named `Status`, a dataset named `fields`).
const BEFORE_NAMES: &[&str] = &[
    "dataflows",
    "dataflowjobs",
    "datasets",
    "versions",
    "nodes",
    "histories",
    "asset",
    "recipes",
    "sobjects",
    "dataConnectors",
    "replicatedDatasets",
    "sourceObjects",
    "users",
    "tokens",
];

/// Rewrites a request path before routing: known words to the routes' spelling, whatever
/// their case, no empty segments (a trailing slash, or the `//` of a client that joins
/// `http://host/` with `/services/...`, as the sf CLI does after `org login`).
pub fn normalize<B>(mut req: Request<B>) -> Request<B> {
    let uri = req.uri().clone();
    let path = uri.path();
    let mut segments: Vec<String> = Vec::new();
    for s in path.split('/').filter(|s| !s.is_empty()) {
        let names_follow = segments.last().is_some_and(|p| BEFORE_NAMES.contains(&p.as_str()));
        let word = WORDS.iter().find(|w| w.eq_ignore_ascii_case(s));
        segments.push(match word {
            Some(w) if !names_follow => w.to_string(),
            _ => s.to_string(),
        });
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> String {
        normalize(Request::builder().uri(p).body(()).unwrap()).uri().to_string()
    }

    #[test]
    fn links_are_not_escaped() {
        let v = escape_value(serde_json::json!({"nextPageUrl": "/x?a=1&b=2", "label": "a & b", "url": "/y?c&d"}));
        assert_eq!(v["nextPageUrl"], "/x?a=1&b=2");
        assert_eq!(v["url"], "/y?c&d");
        assert_eq!(v["label"], "a &amp; b");
    }

    /// issue 12, finding 9: every path word is matched without regard to case.
    #[test]
    fn path_words_in_any_case_and_names_as_sent() {
        assert_eq!(path("/services/data/v66.0/wave/DATACONNECTORS"), "/services/data/v66.0/wave/dataConnectors");
        assert_eq!(
            path("/services/data/v66.0/wave/dataconnectors/0ItX/sourceobjects"),
            "/services/data/v66.0/wave/dataConnectors/0ItX/sourceObjects"
        );
        assert_eq!(
            path("/Services/Data/v66.0/Wave/ReplicatedDatasets/"),
            "/services/data/v66.0/wave/replicatedDatasets"
        );
        // a name that looks like a word stays as sent
        assert_eq!(
            path("/services/data/v66.0/wave/dataConnectors/X/sourceObjects/Status/Fields?q=1"),
            "/services/data/v66.0/wave/dataConnectors/X/sourceObjects/Status/fields?q=1"
        );
        assert_eq!(
            path("/services/data/v66.0/wave/datasets/Versions/versions"),
            "/services/data/v66.0/wave/datasets/Versions/versions"
        );
    }
}
