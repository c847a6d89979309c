//! swell-web: Data Manager in the browser.
//!
//! Pages are HTML rendered on the server from templates that askama checks at compile time
//! (`templates/`), with htmx (vendored in `static/vendor`, checksummed) for the few requests a
//! page makes without a reload, and server-sent events for what changes while one watches: a
//! single task reads the jobs that changed ([`live`]) and every open page takes what concerns
//! it. `cargo build` is the only build: no Node, no bundler.
//!
//! The UI calls the same use cases as the REST API (`swell_app::App`), signed in as a user
//! with a role: each person sees and may do what their role allows, and every change lands
//! in the audit log the same way.
//!
//! Security: a session cookie (HttpOnly, SameSite=Strict, `Secure` over HTTPS) holds a
//! session token of its own (never a long-lived API token); every POST carries a CSRF token
//! derived from the session ([`session`]); every answer has a Content-Security-Policy of
//! `default-src 'self'` with no inline script or style and no eval.

mod format;
mod graph;
mod input;
mod live;
mod pages;
mod session;

pub use input::MAX_FORM_BYTES;

use axum::Router;
use axum::extract::{Path, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use rust_embed::RustEmbed;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use swell_app::App;
use swell_core::SalesforceId;

/// Where the UI lives: every page and file is under it, so it never meets the API's paths.
pub const BASE: &str = "/ui";

/// What the UI needs to know of the server it runs in.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Whether browsers reach the server over HTTPS (cookies are then `Secure`).
    pub https: bool,
    /// Runs of dataflows and recipes a day that the Monitor counts against (an org allows
    /// 60 in 24 hours; swell itself does not refuse a run past it).
    pub daily_run_budget: u32,
    /// How often an open live page signs in again: a revoked session or a deactivated user
    /// stops receiving within this time, as their next request would be refused.
    pub live_recheck: std::time::Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { https: false, daily_run_budget: 60, live_recheck: std::time::Duration::from_secs(30) }
    }
}

/// The UI's shared state: the use cases, the server's own token (it signs in as the
/// administrator, as on the API), the live feed and the one-time sign-in links.
#[derive(Clone)]
pub struct Web(Arc<Inner>);

struct Inner {
    app: App,
    admin_token: Arc<String>,
    settings: Settings,
    feed: live::Feed,
    /// One-time sign-in links: code hash -> (user, valid until).
    links: Mutex<HashMap<String, (SalesforceId, std::time::Instant)>>,
    /// Set when the server shuts down: live streams end, so connections can close.
    closing: tokio::sync::watch::Sender<bool>,
}

/// How long a one-time sign-in link works.
const LINK_LIFE: std::time::Duration = std::time::Duration::from_secs(15 * 60);

impl Web {
    /// The UI over `app`. Starts the live feed's task: call it inside the server's runtime.
    pub fn new(app: App, admin_token: Arc<String>, settings: Settings) -> Web {
        let closing = tokio::sync::watch::channel(false).0;
        let feed = live::Feed::start(app.store.clone(), closing.subscribe());
        Web(Arc::new(Inner { app, admin_token, settings, feed, links: Mutex::default(), closing }))
    }

    /// A path that signs `user` in once, within 15 minutes, without a password (what
    /// `swell demo` prints). Only its hash is kept, in memory: a restart forgets it.
    pub fn one_time_link(&self, user: &SalesforceId) -> Result<String, String> {
        let code = session::random_hex(24)?;
        let mut links = self.0.links.lock().map_err(|_| "the sign-in links are unavailable".to_string())?;
        links.retain(|_, (_, until)| *until > std::time::Instant::now());
        links.insert(session::digest(&code), (user.clone(), std::time::Instant::now() + LINK_LIFE));
        Ok(format!("{BASE}/login/link/{code}"))
    }

    /// Ends the live streams (the server is shutting down).
    pub fn shutdown(&self) {
        let _ = self.0.closing.send(true);
    }

    fn app(&self) -> &App {
        &self.0.app
    }

    /// Takes a one-time link's code: the user it signs in, once.
    fn take_link(&self, code: &str) -> Option<SalesforceId> {
        let mut links = self.0.links.lock().ok()?;
        let (user, until) = links.remove(&session::digest(code))?;
        (until > std::time::Instant::now()).then_some(user)
    }
}

/// The UI's routes, all under [`BASE`], with their security headers. (Written out in full
/// rather than nested: `/ui` and `/ui/` both lead to the Monitor, and unknown pages under
/// `/ui/` get the UI's own page, not the API's JSON.)
pub fn router(web: Web) -> Router {
    let at = |path: &str| format!("{BASE}{path}");
    let home = || async { Redirect::to(&format!("{BASE}/monitor")) };
    Router::new()
        .route(BASE, get(home))
        .route(&at("/"), get(home))
        .route(&at("/login"), get(session::login_page).post(session::login))
        .route(&at("/login/link/{code}"), get(session::login_link))
        .route(&at("/logout"), post(session::logout))
        .route(&at("/monitor"), get(pages::monitor::page))
        .route(&at("/monitor/stop"), post(pages::monitor::stop_selected))
        .route(&at("/dataflows"), get(pages::dataflows::list))
        .route(&at("/dataflows/{id}"), get(pages::dataflow::page))
        .route(&at("/dataflows/{id}/run"), post(pages::dataflows::run))
        .route(&at("/dataflows/{id}/schedule"), post(pages::schedule::save))
        .route(&at("/dataflows/{id}/definition"), post(pages::dataflow::definition))
        .route(&at("/dataflows/{id}/definition.json"), get(pages::dataflow::download))
        .route(&at("/dataflows/{id}/revert"), post(pages::dataflow::revert))
        .route(&at("/connections"), get(pages::connections::list).post(pages::connection_form::create))
        .route(&at("/connections/new"), get(pages::connection_form::new))
        .route(&at("/connections/{id}"), get(pages::connections::page).post(pages::connection_form::update))
        .route(&at("/connections/{id}/edit"), get(pages::connection_form::edit))
        .route(&at("/connections/{id}/run"), post(pages::connections::run))
        .route(&at("/connections/{id}/schedule"), post(pages::schedule::save_connection))
        .route(&at("/connections/{id}/objects/{object}"), get(pages::connections::object))
        .route(&at("/connections/{id}/objects/{object}/mode"), post(pages::connections::mode))
        .route(&at("/connections/{id}/objects/{object}/full"), post(pages::connections::full))
        .route(&at("/data"), get(pages::data::list))
        .route(&at("/data/{id}"), get(pages::data::dataset))
        .route(&at("/data/{id}/restore"), post(pages::data::restore))
        .route(&at("/jobs/{id}"), get(pages::job::page))
        .route(&at("/jobs/{id}/stop"), post(pages::job::stop))
        .route(&at("/jobs/{id}/again"), post(pages::job::again))
        .route(&at("/live/monitor"), get(live::monitor))
        .route(&at("/live/jobs/{id}"), get(live::job))
        .route(&at("/static/{*file}"), get(static_file))
        .route(&at("/{*rest}"), axum::routing::any(|| async { pages::not_found("There is no such page.") }))
        .with_state(web)
        .layer(middleware::from_fn(security_headers))
}

/// The headers every answer of the UI carries. The policy allows this server's own scripts,
/// styles, images and connections only: no inline script or style, no eval, no frames.
///
/// It also gives the UI's own pages to the errors that the framework writes as plain text or
/// as the API's JSON (a method a path does not take, a path parameter that cannot be read),
/// and clears a change's one-time notice once a page has shown it.
async fn security_headers(req: Request, next: Next) -> Response {
    let had_notice = session::cookie(req.headers(), session::NOTICE).is_some();
    let mut res = next.run(req).await;
    let html = |res: &Response| {
        res.headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/html"))
    };
    if (res.status().is_client_error() || res.status().is_server_error()) && !html(&res) {
        let status = res.status();
        let message = match status {
            StatusCode::METHOD_NOT_ALLOWED => "This address does not take that method (pages are read with GET, forms \
                                               send POST)."
                .to_string(),
            StatusCode::NOT_FOUND => "There is no such page.".to_string(),
            _ => match axum::body::to_bytes(std::mem::take(res.body_mut()), 4096).await {
                Ok(b) if !b.is_empty() => String::from_utf8_lossy(&b).into_owned(),
                _ => status.canonical_reason().unwrap_or("Error").to_string(),
            },
        };
        let allow = res.headers().get(header::ALLOW).cloned();
        res = pages::problem(status, &message);
        if let Some(allow) = allow {
            res.headers_mut().insert(header::ALLOW, allow);
        }
    }
    if had_notice && res.status().is_success() && html(&res) {
        let clear = format!("{}=; Path={BASE}; HttpOnly; SameSite=Strict; Max-Age=0", session::NOTICE);
        if let Ok(v) = HeaderValue::from_str(&clear) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        // pages show a user's data: never kept by a shared cache, always asked again
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// The files under `static/`, inside the binary.
#[derive(RustEmbed)]
#[folder = "static/"]
#[exclude = "*.md"]
#[exclude = "vendor/SHA256SUMS"]
struct Static;

/// A static file, cached by its content's hash (the pages link `?v=HASH`).
async fn static_file(Path(file): Path<String>) -> Response {
    let Some(content) = Static::get(&file) else {
        return pages::not_found("There is no such file.");
    };
    let kind = match file.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };
    (
        [(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "public, max-age=31536000, immutable")],
        content.data.into_owned(),
    )
        .into_response()
}

/// `/ui/static/FILE?v=HASH`: a file's address that changes when its content does.
pub(crate) fn asset(file: &str) -> String {
    static HASHES: std::sync::OnceLock<HashMap<String, String>> = std::sync::OnceLock::new();
    let hashes = HASHES.get_or_init(|| {
        Static::iter()
            .filter_map(|f| {
                let content = Static::get(&f)?;
                Some((f.to_string(), hex(&content.metadata.sha256_hash()[..6])))
            })
            .collect()
    });
    match hashes.get(file) {
        Some(h) => format!("{BASE}/static/{file}?v={h}"),
        None => format!("{BASE}/static/{file}"),
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
