//! The one table from failures to Salesforce-style wire errors: a JSON array of
//! `{errorCode, message}` with a fitting HTTP status. A 500 says nothing internal; the detail
//! is logged with a request id that the message quotes.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use swell_store::StoreError;

/// The most error entries one answer lists.
pub const MAX_ERRORS: usize = 100;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Further errors of the same request (every problem of a definition), each its own entry.
    pub more: Vec<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), more: Vec::new() }
    }

    /// One error entry per message, all with `code`; past [`MAX_ERRORS`] the rest are counted
    /// in a last entry (a definition of many wrong nodes would otherwise answer megabytes).
    pub fn many(status: StatusCode, code: &'static str, mut messages: Vec<String>) -> Self {
        if messages.len() > MAX_ERRORS {
            let more = messages.len() - MAX_ERRORS;
            messages.truncate(MAX_ERRORS);
            messages.push(format!("... and {more} more problem(s) of the same request"));
        }
        let first = if messages.is_empty() { String::new() } else { messages.remove(0) };
        ApiError { status, code, message: first, more: messages }
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", format!("The requested resource does not exist: {what}"))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "INVALID_INPUT", message)
    }

    pub fn session() -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID", "Session expired or invalid")
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        tracing::error!(error_id = %id, detail = %detail, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNKNOWN_EXCEPTION",
            format!("An unexpected error occurred. Please include this ErrorId if you contact support: {id}"),
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "CONFLICT", m),
            StoreError::Transition(t) => ApiError::new(StatusCode::BAD_REQUEST, "INVALID_STATE", t.to_string()),
            StoreError::Invalid(m) => ApiError::bad_request(m),
            other => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body: Vec<serde_json::Value> = std::iter::once(self.message)
            .chain(self.more)
            .map(|m| serde_json::json!({ "errorCode": self.code, "message": m }))
            .collect();
        let body = serde_json::Value::Array(body);
        crate::wire::json(self.status, body)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
