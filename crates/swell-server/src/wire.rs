//! Salesforce wire conventions: JSON content type, HTML-entity-encoded strings (unless the
//! client sends `X-Chatter-Entity-Encoding: false`), bodies bare or wrapped, paths matched
//! case-insensitively and with or without a trailing slash.

use crate::error::{ApiError, ErrorCode};
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

/// The longest text each named field of a request body may hold, in characters. API names
/// follow Salesforce's developer names (80); CRM Analytics does not document the others, so
/// these are chosen well above what its UI lets one type.
const TEXT_LIMITS: &[(&str, usize)] =
    &[("name", 80), ("label", 255), ("historyLabel", 255), ("description", 1_000), ("masterLabel", 255)];

/// Reads a string field of a body, with its JSON path in the error; a text longer than its
/// field's limit (`TEXT_LIMITS`) is refused.
/// An update may repeat an asset's API name but not change it: names are how scripts, other
/// definitions (`edgemart` aliases, schedules' event rules) and the data dir refer to an
/// asset, so CRM Analytics fixes them at creation. A different name is refused, never
/// ignored.
pub fn unchanged_name(input: &Value, current: &str) -> Result<(), ApiError> {
    match string_field(input, "name")? {
        Some(n) if n != current => {
            Err(ApiError::bad_request(format!("name: the API name '{current}' cannot change (to '{n}')")))
        }
        _ => Ok(()),
    }
}

pub fn string_field<'a>(v: &'a Value, name: &str) -> Result<Option<&'a str>, ApiError> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            if let Some((_, max)) = TEXT_LIMITS.iter().find(|(n, _)| *n == name)
                && s.chars().count() > *max
            {
                return Err(ApiError::bad_request(format!(
                    "{name}: is {} characters long; at most {max} are allowed",
                    s.chars().count()
                )));
            }
            Ok(Some(s))
        }
        Some(_) => Err(ApiError::bad_request(format!("{name}: must be a string"))),
    }
}

/// What a path segment names where an asset is found by id or API name.
pub enum IdOrName<'a> {
    Id(swell_core::SalesforceId),
    Name(&'a str),
}

/// Reads a path segment that is an id of `prefix` (`what` names the kind) or an API name. One
/// rule for every such resource: what can be neither (a `02K...` with a wrong checksum, an id
/// of another kind; an API name starts with a letter) is a bad id, 400 `INVALID_INPUT` as for
/// job ids; a well-formed id or name that matches nothing is then 404.
pub fn id_or_name<'a>(s: &'a str, prefix: swell_core::KeyPrefix, what: &str) -> Result<IdOrName<'a>, ApiError> {
    match swell_core::SalesforceId::parse(s) {
        Ok(id) if id.has_prefix(prefix) => Ok(IdOrName::Id(id)),
        _ if swell_core::name::check_api_name(s).is_ok() => Ok(IdOrName::Name(s)),
        Ok(_) => Err(ApiError::bad_request(format!(
            "'{s}' is not a {what} id ({what} ids start with {}) or API name",
            prefix.as_str()
        ))),
        Err(e) => Err(ApiError::bad_request(format!("'{s}' is not a {what} id or API name: {e}"))),
    }
}

/// The API name and label of a new asset: `name`, or made from `label`
/// (`swell_core::name::api_name_from_label`), checked by the one API-name rule. The label
/// defaults to the name.
pub fn name_and_label(input: &Value) -> Result<(String, String), ApiError> {
    let label = string_field(input, "label")?;
    let name = match (string_field(input, "name")?, label) {
        (Some(n), _) => n.to_string(),
        (None, Some(l)) => swell_core::name::api_name_from_label(l),
        (None, None) => return Err(ApiError::bad_request("name: is required (or a label to make it from)")),
    };
    swell_core::name::check_api_name(&name).map_err(|e| ApiError::bad_request(format!("name: {e}")))?;
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
