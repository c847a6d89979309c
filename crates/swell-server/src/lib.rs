//! swell-server: the CRM Analytics ("Wave") REST API over HTTP.
//!
//! Only this crate knows HTTP. [`app`] builds the whole service from an [`AppState`] so tests
//! drive it in process; `swell serve` binds it to a socket. A file per REST resource lives in
//! `resources/`. Cross-cutting conventions (auth, errors, entity encoding, path tolerance) are
//! layers here and in `wire.rs`, so handlers only deal with their resource.
//!
//! Concurrency: handlers are async and share the store (a connection pool) and the runner.

pub mod openapi;
mod resources;
pub mod wire;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use std::sync::Arc;
use swell_app::{ApiError, App, ErrorCode};
use tower::Layer;
use tower::util::MapRequestLayer;

/// API versions served: `v41.0` to `v66.0`.
pub const MIN_VERSION: u32 = 41;
pub const MAX_VERSION: u32 = 66;

/// What handlers share: the use cases (`swell_app::App`, whose store they read directly) and
/// the bearer token accepted as the admin user.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub token: Arc<String>,
    /// Whether clients reach the server over HTTPS (the scheme of `instance_url` in sign-ins).
    pub https: bool,
}

/// Handlers call the use cases as `state.start_job(..)` and read as `state.store.job(..)`.
impl std::ops::Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.app
    }
}

/// The HTTP service: the router behind path normalisation (which must run before routing).
pub type Service = tower::util::MapRequest<Router, fn(Request<Body>) -> Request<Body>>;

/// The whole HTTP service: path normalisation in front of the router.
pub fn app(state: AppState) -> Service {
    app_with(state, Router::new())
}

/// [`app`] with more routes beside the API's (the web UI, under its own prefix): they get
/// neither the API's token check nor its JSON errors, only the path normalisation and the
/// panic guard.
pub fn app_with(state: AppState, more: Router) -> Service {
    let (wave, _) = resources::routes().split_for_parts();
    // the token is checked before the body is read: a client without one is answered 401 at
    // once, whatever it sends (a slow body would otherwise hold it until the read timeout)
    let wave = wave
        .layer(middleware::from_fn(guard))
        .layer(middleware::from_fn(encode_entities))
        .layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .with_state(state.clone());
    let (public, _) = resources::public().split_for_parts();
    let document = Arc::new(openapi::document_json());
    let router = Router::new()
        .merge(public.layer(middleware::from_fn(guard)).with_state(state))
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let document = document.clone();
                async move { ([(header::CONTENT_TYPE, wire::JSON)], document.as_str().to_owned()) }
            }),
        )
        .merge(wave)
        .fallback(|| async { ApiError::not_found("no such resource") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(ErrorCode::MethodNotAllowed, "HTTP method not allowed on this resource")
        })
        // the body guard (on each route, above) reads bodies whole, within its limits;
        // extractors take what it read
        .layer(axum::extract::DefaultBodyLimit::disable())
        .merge(more)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_panic: Box<dyn std::any::Any + Send>| {
            ApiError::internal(format!("a request handler panicked: {}", swell_engine::panic_message(_panic.as_ref())))
                .into_response()
        }));
    MapRequestLayer::new(wire::normalize as fn(Request<Body>) -> Request<Body>).layer(router)
}

/// The largest request body read: the largest public dataflow we know is about 1 MB.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// How long a client may take to send its request body, once its headers arrived.
pub const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Reads the request body whole (at most [`MAX_BODY_BYTES`], within [`BODY_READ_TIMEOUT`]),
/// and answers every error as the Salesforce-style JSON array, also those that the layers
/// below write as plain text (an extractor's rejection).
async fn guard(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        // refused before a byte of it is read
        return ApiError::new(
            ErrorCode::RequestTooLarge,
            format!("the request body is larger than {} MB", MAX_BODY_BYTES / (1024 * 1024)),
        )
        .into_response();
    }
    let bytes = match tokio::time::timeout(BODY_READ_TIMEOUT, axum::body::to_bytes(body, MAX_BODY_BYTES)).await {
        Err(_) => {
            return ApiError::new(
                ErrorCode::RequestTimeout,
                format!("the request body did not arrive within {} seconds", BODY_READ_TIMEOUT.as_secs()),
            )
            .into_response();
        }
        Ok(Err(e)) => {
            let too_large = std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
                || e.to_string().contains("length limit");
            return if too_large {
                ApiError::new(
                    ErrorCode::RequestTooLarge,
                    format!("the request body is larger than {} MB", MAX_BODY_BYTES / (1024 * 1024)),
                )
            } else {
                ApiError::bad_request(format!("the request body could not be read: {e}"))
            }
            .into_response();
        }
        Ok(Ok(b)) => b,
    };
    let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    let status = response.status();
    // JSON answers, and SOAP faults (XML, as SOAP clients parse them), pass as they are
    if !(status.is_client_error() || status.is_server_error())
        || is_json(response.headers())
        || response.extensions().get::<wire::Verbatim>().is_some()
    {
        return response;
    }
    let (_, body) = response.into_parts();
    let text = match body.collect().await {
        Ok(c) => String::from_utf8_lossy(&c.to_bytes()).trim().to_string(),
        Err(_) => String::new(),
    };
    let message = if text.is_empty() { status.canonical_reason().unwrap_or("error").to_string() } else { text };
    ApiError::new(ErrorCode::for_status(status), message).into_response()
}

/// Checks the bearer token and puts the acting user ([`swell_app::Actor`]) in the request's extensions,
/// where handlers take it to call the use cases.
async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            // the scheme in any case (RFC 7235): `Bearer`, `bearer`, `OAuth`
            let (scheme, token) = v.split_once(' ')?;
            (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth")).then_some(token)
        })
        .map(|t| t.trim().to_string());
    let actor = match presented {
        Some(t) => match state.app.authenticate(&t, &state.token).await {
            Ok(actor) => actor,
            Err(e) => return e.into_response(),
        },
        None => None,
    };
    let Some(actor) = actor else {
        return ApiError::session().into_response();
    };
    req.extensions_mut().insert(actor);
    next.run(req).await
}

/// Escapes HTML entities in every string of a JSON response unless the client opted out.
async fn encode_entities(req: Request, next: Next) -> Response {
    let off = req
        .headers()
        .get("X-Chatter-Entity-Encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("false"));
    let response = next.run(req).await;
    if off || !is_json(response.headers()) || response.extensions().get::<wire::Verbatim>().is_some() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = body.collect().await.map(|c| c.to_bytes()) else {
        return ApiError::internal("could not read a response body").into_response();
    };
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(v) => Response::from_parts(parts, Body::from(wire::escape_value(v).to_string())),
        Err(_) => Response::from_parts(parts, Body::from(bytes)),
    }
}

fn is_json(h: &HeaderMap) -> bool {
    h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"))
}

/// The API version of the request (`55.0`), checked against the served range.
#[derive(Debug, Clone)]
pub struct Version(pub String);

impl Version {
    /// The major version number (55 for `v55.0`).
    pub fn major(&self) -> u32 {
        self.0.split('.').next().and_then(|m| m.parse().ok()).unwrap_or(MAX_VERSION)
    }

    /// `/services/data/v55.0/wave` + `rest`.
    pub fn url(&self, rest: &str) -> String {
        format!("/services/data/v{}/wave{rest}", self.0)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Version {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let seg = parts.uri.path().split('/').nth(3).unwrap_or_default().to_string();
        parse_version(&seg).map(Version).ok_or_else(|| {
            ApiError::not_found(format!(
                "API version '{seg}' (this server serves v{MIN_VERSION}.0 to v{MAX_VERSION}.0)"
            ))
        })
    }
}

pub fn parse_version(seg: &str) -> Option<String> {
    let v = seg.strip_prefix('v').or_else(|| seg.strip_prefix('V'))?;
    let (major, minor) = v.split_once('.').unwrap_or((v, "0"));
    let major: u32 = major.parse().ok()?;
    (minor == "0" && (MIN_VERSION..=MAX_VERSION).contains(&major)).then(|| format!("{major}.0"))
}
