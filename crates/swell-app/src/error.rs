//! The one table of errors: every code swell answers ([`ErrorCode`], with its HTTP status and
//! wire name), and every failure of the layers below mapped to one of them (store,
//! connectors, engine). The use cases answer these errors, so every front door (the REST API,
//! the demo, the web UI) gives the same answer to the same condition. A wire error is a Salesforce-style JSON array of `{errorCode,
//! message}`. A 500 says nothing internal; the detail is logged with an id the message quotes.
//!
//! One condition has one answer: a job already queued is `JOB_ALREADY_QUEUED` whether it was
//! asked for as a dataflow job or a connection's sync; a connection that does not exist is
//! `269`, as orgs answer. docs/architecture.md lists the table; a test keeps it true.

use axum_core::body::Body;
use axum_core::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use swell_connect::ConnectError;
use swell_store::StoreError;

/// The content type of every JSON answer, errors included.
pub const JSON: &str = "application/json;charset=UTF-8";

/// The most error entries one answer lists.
pub const MAX_ERRORS: usize = 100;

/// Declares [`ErrorCode`] from its table: one row per code with its wire name, HTTP status
/// and meaning, so that a code cannot be added without all three.
macro_rules! error_codes {
    ($($name:ident => $wire:literal, $status:ident, $meaning:literal;)*) => {
        /// Every error code swell answers. Wire names are Salesforce's where an org answers the
        /// same condition (the numeric `269` and `275` are Wave's own codes).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode {
            $(#[doc = $meaning] $name,)*
        }

        impl ErrorCode {
            /// Every code, in the order of docs/architecture.md's table.
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$name,)*];

            /// The `errorCode` on the wire.
            pub fn wire(self) -> &'static str {
                match self { $(ErrorCode::$name => $wire,)* }
            }

            /// The HTTP status it is answered with.
            pub fn status(self) -> StatusCode {
                match self { $(ErrorCode::$name => StatusCode::$status,)* }
            }

            /// When it is answered.
            pub fn meaning(self) -> &'static str {
                match self { $(ErrorCode::$name => $meaning,)* }
            }
        }
    };
}

error_codes! {
    InvalidSessionId => "INVALID_SESSION_ID", UNAUTHORIZED, "missing, wrong or expired token";
    InsufficientAccess => "INSUFFICIENT_ACCESS", FORBIDDEN, "the user's role does not allow the change";
    JsonParserError => "JSON_PARSER_ERROR", BAD_REQUEST, "the body is not JSON, not an object, or has a key twice";
    InvalidInput => "INVALID_INPUT", BAD_REQUEST, "a field, parameter or path value is wrong; the message names it";
    InvalidDefinition => "INVALID_DEFINITION", BAD_REQUEST, "a definition's problems, one entry each, with node and JSON path";
    MalformedQuery => "MALFORMED_QUERY", BAD_REQUEST, "a SOQL query the identity resources cannot read";
    InvalidType => "INVALID_TYPE", BAD_REQUEST, "a SOQL query of an object swell does not answer for";
    InvalidField => "INVALID_FIELD", BAD_REQUEST, "a SOQL query of a field the object does not have";
    DataConnectorError => "DATA_CONNECTOR_ERROR", BAD_REQUEST, "a connection's source refused or failed";
    InvalidState => "INVALID_STATE", BAD_REQUEST, "the job cannot change that way (a stop after it ended)";
    NotFound => "NOT_FOUND", NOT_FOUND, "the asset or path does not exist";
    ConnectorNotFound => "269", NOT_FOUND, "the data connection does not exist";
    MethodNotAllowed => "METHOD_NOT_ALLOWED", METHOD_NOT_ALLOWED, "the method is not allowed on the resource";
    RequestTimeout => "REQUEST_TIMEOUT", REQUEST_TIMEOUT, "the request body did not arrive in time";
    Conflict => "CONFLICT", CONFLICT, "a name is taken, or the change conflicts with what is stored";
    ConnectorInUse => "275", CONFLICT, "the data connection is used by connected objects or dataflows";
    JobAlreadyQueued => "JOB_ALREADY_QUEUED", CONFLICT, "the asset already has a job queued or running";
    RequestTooLarge => "REQUEST_TOO_LARGE", PAYLOAD_TOO_LARGE, "the body is larger than the server reads";
    UnknownException => "UNKNOWN_EXCEPTION", INTERNAL_SERVER_ERROR, "anything unexpected; the message quotes a logged error id";
}

impl ErrorCode {
    /// The code of an error that a layer below the handlers wrote only as a status (an
    /// extractor's plain-text rejection).
    pub fn for_status(status: StatusCode) -> ErrorCode {
        match status {
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::RequestTooLarge,
            StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
            StatusCode::NOT_FOUND => ErrorCode::NotFound,
            StatusCode::UNAUTHORIZED => ErrorCode::InvalidSessionId,
            StatusCode::FORBIDDEN => ErrorCode::InsufficientAccess,
            StatusCode::REQUEST_TIMEOUT => ErrorCode::RequestTimeout,
            s if s.is_server_error() => ErrorCode::UnknownException,
            _ => ErrorCode::InvalidInput,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Further errors of the same request (every problem of a definition), each its own entry.
    pub more: Vec<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into(), more: Vec::new() }
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// One error entry per message, all with `code`; past [`MAX_ERRORS`] the rest are counted
    /// in a last entry (a definition of many wrong nodes would otherwise answer megabytes).
    pub fn many(code: ErrorCode, mut messages: Vec<String>) -> Self {
        if messages.len() > MAX_ERRORS {
            let more = messages.len() - MAX_ERRORS;
            messages.truncate(MAX_ERRORS);
            messages.push(format!("... and {more} more problem(s) of the same request"));
        }
        let first = if messages.is_empty() { String::new() } else { messages.remove(0) };
        ApiError { code, message: first, more: messages }
    }

    /// The same error, its message naming the input field it is about (`historyId: ...`).
    pub fn prefixed(mut self, field: &str) -> Self {
        self.message = format!("{field}: {}", self.message);
        self
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        ApiError::new(ErrorCode::NotFound, format!("The requested resource does not exist: {what}"))
    }

    /// A data connection that does not exist, as an org words it.
    pub fn connector_not_found(id_or_name: impl std::fmt::Display) -> Self {
        ApiError::new(ErrorCode::ConnectorNotFound, format!("Can't find connector by ID {id_or_name}"))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::InvalidInput, message)
    }

    pub fn session() -> Self {
        ApiError::new(ErrorCode::InvalidSessionId, "Session expired or invalid")
    }

    /// A job that cannot be queued because one of the same asset is queued or running.
    pub fn already_queued(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::JobAlreadyQueued, message)
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        tracing::error!(error_id = %id, detail = %detail, "internal error");
        ApiError::new(
            ErrorCode::UnknownException,
            format!("An unexpected error occurred. Please include this ErrorId if you contact support: {id}"),
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::Conflict(m) => ApiError::new(ErrorCode::Conflict, m),
            StoreError::Transition(t) => ApiError::new(ErrorCode::InvalidState, t.to_string()),
            StoreError::Invalid(m) => ApiError::bad_request(m),
            other => ApiError::internal(other),
        }
    }
}

impl From<ConnectError> for ApiError {
    fn from(e: ConnectError) -> Self {
        match e {
            // an object or field the source does not have (the connection itself exists)
            ConnectError::NotFound(m) => ApiError::new(ErrorCode::NotFound, m),
            ConnectError::Config(m) => ApiError::bad_request(m),
            ConnectError::Source(m) | ConnectError::Resources(m) => ApiError::new(ErrorCode::DataConnectorError, m),
            ConnectError::Cancelled => ApiError::new(ErrorCode::DataConnectorError, "stopped"),
        }
    }
}

/// A definition's problems, one entry each, named by their JSON path under `definition`.
impl From<swell_engine::Problems> for ApiError {
    fn from(problems: swell_engine::Problems) -> Self {
        let messages = problems
            .0
            .iter()
            .map(|p| if p.node.is_empty() { format!("definition: {}", p.message) } else { format!("definition.{p}") })
            .collect();
        ApiError::many(ErrorCode::InvalidDefinition, messages)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.code.wire();
        let body: Vec<serde_json::Value> = std::iter::once(self.message)
            .chain(self.more)
            .map(|m| serde_json::json!({ "errorCode": code, "message": m }))
            .collect();
        let mut r = Response::new(Body::from(serde_json::Value::Array(body).to_string()));
        *r.status_mut() = self.code.status();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
        r
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The table of docs/architecture.md: code, status, meaning.
pub fn table() -> String {
    let mut out = String::from("| errorCode | HTTP | when |\n|---|---|---|\n");
    for &c in ErrorCode::ALL {
        out.push_str(&format!("| `{}` | {} | {} |\n", c.wire(), c.status().as_u16(), c.meaning()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code once, with a distinct wire name and an error status; the table in
    /// docs/architecture.md is this one.
    #[test]
    fn every_code_is_listed_once_and_documented() {
        let mut names: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.wire()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len(), "two codes share a wire name");
        for &c in ErrorCode::ALL {
            assert!(c.status().is_client_error() || c.status().is_server_error(), "{c:?}");
        }
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/architecture.md")).unwrap();
        assert!(doc.contains(&table()), "docs/architecture.md's error table is stale; it should read:\n{}", table());
    }
}
