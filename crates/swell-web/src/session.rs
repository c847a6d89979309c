//! Signing in and out of the UI, and who is looking ([`Viewer`]).
//!
//! A sign-in (username and password, a token, or a one-time link) makes a session token of
//! the use cases' own kind (`App::login`, `App::login_token`, `App::login_as`: 2 hours, in the
//! audit log, revoked by sign-out), which the browser keeps in an HttpOnly, SameSite=Strict
//! cookie. Every request signs in with it through `App::authenticate`, as an API request with
//! that token would: a deactivated user or a revoked session is out on the next request.
//!
//! CSRF: every form that changes something carries `csrf`, an HMAC of the session token; the
//! server recomputes it. With SameSite=Strict a cross-site POST carries no cookie anyway; the
//! token also covers a same-site attacker (another app on this host). The sign-in form, which
//! has no session yet, refuses a POST whose `Origin` is another site.

use crate::input::{Fields, Params};
use crate::{BASE, Web, pages};
use askama::Template;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::net::SocketAddr;
use swell_app::{Actor, Login, LoginRefused};

/// The cookie that holds a browser's session token.
pub const COOKIE: &str = "swell_session";
/// The cookie that carries a change's notice to the page a plain form goes back to; the
/// next page shown clears it (`security_headers`).
pub const NOTICE: &str = "swell_notice";

/// Who is looking: the signed-in user, their session token's CSRF token.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub actor: Actor,
    pub csrf: String,
    /// What the last change said, for a browser without JavaScript (a one-time cookie set by
    /// [`crate::pages::changed`]).
    pub notice: Option<String>,
    /// The session token: live streams sign in again with it now and then.
    pub(crate) token: String,
}

impl FromRequestParts<Web> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, Response> {
        let to_login = || {
            let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or(BASE);
            Redirect::to(&format!("{BASE}/login?next={}", encode(next))).into_response()
        };
        let Some(token) = cookie(&parts.headers, COOKIE) else { return Err(to_login()) };
        match web.app().authenticate(&token, &web.0.admin_token).await {
            Ok(Some(actor)) => {
                let notice = cookie(&parts.headers, NOTICE).map(|n| crate::input::decode(&n));
                Ok(Viewer { actor, csrf: csrf_of(&token), notice, token })
            }
            Ok(None) => Err(to_login()),
            Err(e) => Err(pages::error(&e)),
        }
    }
}

impl Viewer {
    /// The refusal of a change whose form does not carry this session's CSRF token (`None`:
    /// it does).
    pub fn refuse(&self, csrf: &str) -> Option<Response> {
        let (a, b) = (csrf.as_bytes(), self.csrf.as_bytes());
        // compared in constant time: how long a wrong token takes says nothing of the right one
        if a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0 {
            None
        } else if csrf.is_empty() {
            Some(pages::problem(
                StatusCode::FORBIDDEN,
                "This form carries no csrf field (the pages' own forms send it in the body). Reload the page and \
                 try again.",
            ))
        } else {
            Some(pages::problem(
                StatusCode::FORBIDDEN,
                "This form is out of date or came from another site. Reload the page and try again.",
            ))
        }
    }
}

/// The CSRF token of a session: an HMAC of its token, so it needs no storage and changes with
/// every sign-in.
fn csrf_of(token: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"swell-web csrf");
    crate::hex(&ring::hmac::sign(&key, token.as_bytes()).as_ref()[..16])
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// SHA-256 in hex: one-time link codes are kept only as this.
pub fn digest(text: &str) -> String {
    crate::hex(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()).as_ref())
}

/// `n` random bytes in hex.
pub fn random_hex(n: usize) -> Result<String, String> {
    let mut bytes = vec![0u8; n];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| "the system's random source failed".to_string())?;
    Ok(crate::hex(&bytes))
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A page of the UI that a request may send the browser to (after signing in, after a
/// change): `None` for another site (`//host`, `\\`), a path that leaves the UI through `.`
/// or `..` segments (also percent-encoded), what is not a page (the live streams, the static
/// files, signing in or out), and anything but visible ASCII (it goes into a `Location`
/// header as it is).
pub fn ui_page(path_and_query: &str) -> Option<String> {
    let path = path_and_query.split(['?', '#']).next().unwrap_or_default();
    let dots = path.split('/').any(|segment| {
        let s = segment.to_ascii_lowercase().replace("%2e", ".");
        s == "." || s == ".."
    });
    let not_pages = ["/live/", "/static/", "/login", "/logout"];
    let fine = path.starts_with(&format!("{BASE}/"))
        && path_and_query.bytes().all(|b| b.is_ascii_graphic())
        && !path_and_query.contains('\\')
        && !path.contains("//")
        && !dots
        && !not_pages.iter().any(|p| path[BASE.len()..].starts_with(p));
    fine.then(|| path_and_query.to_string())
}

/// Where to go after signing in: `next` when it is a page of the UI ([`ui_page`]), else the
/// Monitor.
fn next_or_home(next: Option<&str>) -> String {
    next.and_then(ui_page).unwrap_or_else(|| format!("{BASE}/monitor"))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    base: &'static str,
    css: String,
    icon: String,
    next: &'a str,
    problem: Option<&'a str>,
    username: &'a str,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_page(Params(q): Params<NextQuery>) -> Response {
    let next = next_or_home(q.next.as_deref());
    pages::render(&LoginPage {
        base: BASE,
        css: crate::asset("swell.css"),
        icon: crate::asset("favicon.svg"),
        next: &next,
        problem: None,
        username: "",
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    token: String,
    next: Option<String>,
}

/// Whether a POST came from this site: browsers send `Origin` on every POST; it must name the
/// host the request was sent to.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or(origin);
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

pub async fn login(
    State(web): State<Web>,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Fields { value: form, .. }: Fields<LoginForm>,
) -> Response {
    let next = next_or_home(form.next.as_deref());
    if !same_origin(&headers) {
        return pages::problem(StatusCode::FORBIDDEN, "A sign-in from another site is refused.");
    }
    let address = peer.map(|p| p.0.0.ip().to_string());
    let address = address.as_deref();
    let refused = |status: StatusCode, problem: &str, username: &str| -> Response {
        let mut res = pages::render(&LoginPage {
            base: BASE,
            css: crate::asset("swell.css"),
            icon: crate::asset("favicon.svg"),
            next: &next,
            problem: Some(problem),
            username,
        });
        *res.status_mut() = status;
        res
    };
    let by_token = !form.token.trim().is_empty();
    let outcome = if by_token {
        web.app().login_token(form.token.trim(), &web.0.admin_token, address).await
    } else {
        web.app().login(form.username.trim(), &form.password, address).await
    };
    match outcome {
        Ok(Ok(login)) => signed_in(&web, login, &next),
        Ok(Err(LoginRefused::LockedOut)) => {
            let window = swell_app::LOCKOUT_WINDOW.num_seconds();
            let mut res = refused(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("Too many failed sign-ins: try again in {} minutes.", window / 60),
                &form.username,
            );
            res.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(window));
            res
        }
        Ok(Err(LoginRefused::Failed)) if by_token => {
            refused(StatusCode::UNAUTHORIZED, "That token signs no one in.", "")
        }
        Ok(Err(LoginRefused::Failed)) => {
            refused(StatusCode::UNAUTHORIZED, "Wrong username or password.", &form.username)
        }
        Err(e) => pages::error(&e),
    }
}

/// The answer to a sign-in: the session cookie, and on to `next`.
fn signed_in(web: &Web, login: Login, next: &str) -> Response {
    let secure = if web.0.settings.https { "; Secure" } else { "" };
    let max_age = swell_app::SESSION.num_seconds();
    let cookie =
        format!("{COOKIE}={}; Path={BASE}; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}", login.token.text);
    ([(header::SET_COOKIE, cookie)], Redirect::to(next)).into_response()
}

/// A one-time sign-in link (`swell demo` prints one).
pub async fn login_link(
    State(web): State<Web>,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    Path(code): Path<String>,
) -> Response {
    let Some(user) = web.take_link(&code) else {
        return pages::problem(
            StatusCode::NOT_FOUND,
            "This sign-in link was used already or has expired. Sign in with a username and password or a token.",
        );
    };
    match web.app().login_as(&user, "one-time link", peer.map(|p| p.0.0.ip().to_string()).as_deref()).await {
        Ok(Some(login)) => signed_in(&web, login, &format!("{BASE}/monitor")),
        Ok(None) => pages::problem(StatusCode::NOT_FOUND, "The user of this link is no longer active."),
        Err(e) => pages::error(&e),
    }
}

/// The form of a change that sends nothing but its CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// Signs out: the session token is revoked and the cookie cleared.
pub async fn logout(
    State(web): State<Web>,
    viewer: Viewer,
    headers: HeaderMap,
    Fields { value: form, .. }: Fields<CsrfForm>,
) -> Response {
    if let Some(refused) = viewer.refuse(&form.csrf) {
        return refused;
    }
    if let Some(token) = cookie(&headers, COOKIE)
        && let Err(e) = web.app().revoke_presented(&token).await
    {
        return pages::error(&e);
    }
    let cookie = format!("{COOKIE}=; Path={BASE}; HttpOnly; SameSite=Strict; Max-Age=0");
    ([(header::SET_COOKIE, cookie)], Redirect::to(&format!("{BASE}/login"))).into_response()
}
