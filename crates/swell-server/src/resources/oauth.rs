//! Sign-in as clients do it against an org (issue 15): `POST /services/oauth2/token` with the
//! OAuth2 `password` grant (form-encoded `grant_type`, `client_id`, `client_secret`,
//! `username`, `password`), the `client_credentials` grant (`client_id`, `client_secret` of a
//! connected app) or the JWT bearer grant (`assertion`, as `sf org login jwt` sends it),
//! answering `access_token`, `instance_url`, `id`, `token_type`, `issued_at` and `signature`
//! as Salesforce does; `POST /services/oauth2/revoke` (`token`).
//!
//! The password grant accepts any `client_id`, and its `client_secret` keys the `signature`
//! (INFERRED: an org refuses an unknown client id; people sign in to a local server with
//! their password, and scripts name whatever app they were written for). The other two grants
//! need a connected app registered with swell (swell-app `clients.rs`). Errors are OAuth2's
//! own shape, `{"error", "error_description"}`, as orgs answer them, not the Wave error array:
//! clients parse them so.

use crate::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use swell_app::LoginRefused;
use utoipa::ToSchema;

/// The answer of a sign-in, as an org writes it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenAnswer {
    pub access_token: String,
    pub instance_url: String,
    /// The identity URL: `{instance_url}/id/{org id}/{user id}`.
    pub id: String,
    pub token_type: &'static str,
    /// Epoch milliseconds, as text.
    pub issued_at: String,
    /// Base64 HMAC-SHA256 of `id` + `issued_at`, keyed by the client secret.
    pub signature: String,
}

/// The JWT bearer grant's `grant_type` (RFC 7523).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The form of a sign-in (`application/x-www-form-urlencoded`).
#[derive(Debug, Default, ToSchema)]
pub struct TokenForm {
    /// `password`, `client_credentials` or `urn:ietf:params:oauth:grant-type:jwt-bearer`.
    pub grant_type: Option<String>,
    pub username: Option<String>,
    #[schema(format = Password)]
    pub password: Option<String>,
    pub client_id: Option<String>,
    #[schema(format = Password)]
    pub client_secret: Option<String>,
    /// The JWT of the JWT bearer grant.
    pub assertion: Option<String>,
}

impl TokenForm {
    fn read(mut f: HashMap<String, String>) -> TokenForm {
        TokenForm {
            grant_type: f.remove("grant_type"),
            username: f.remove("username"),
            password: f.remove("password"),
            client_id: f.remove("client_id"),
            client_secret: f.remove("client_secret"),
            assertion: f.remove("assertion"),
        }
    }
}

/// The form of a revocation.
#[derive(Debug, ToSchema)]
pub struct RevokeForm {
    pub token: Option<String>,
}

/// An OAuth2 error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthError {
    pub error: &'static str,
    pub error_description: String,
}

fn refuse(status: StatusCode, error: &'static str, description: impl Into<String>) -> Response {
    let body = OAuthError { error, error_description: description.into() };
    (status, [(header::CONTENT_TYPE, crate::wire::JSON)], serde_json::to_string(&body).unwrap_or_default())
        .into_response()
}

/// The form fields of a request body (`application/x-www-form-urlencoded`), or of the query
/// string when the body is empty (some clients send them there).
/// A parameter given twice is refused (RFC 6749 3.2: which one was meant cannot be told, as
/// with a JSON key given twice).
fn form(bytes: &Bytes, query: Option<&str>) -> Result<HashMap<String, String>, String> {
    let source: &[u8] = if bytes.is_empty() { query.unwrap_or_default().as_bytes() } else { bytes };
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(source).into_owned() {
        if out.contains_key(&k) {
            return Err(format!("'{k}' is given twice"));
        }
        out.insert(k, v);
    }
    Ok(out)
}

/// The client id and secret of an `Authorization: Basic` header: base64 of `id:secret`, each
/// form-encoded (RFC 6749 2.3.1).
fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unform = |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    Some((unform(id)?, unform(secret)?))
}

/// The address a client signs in from, for counting failures: the peer, when the server
/// knows it (a request handled in process has none).
fn address(peer: Option<&ConnectInfo<SocketAddr>>) -> Option<String> {
    peer.map(|c| c.0.ip().to_string())
}

#[utoipa::path(
    post,
    path = "/services/oauth2/token",
    tag = "identity",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = TokenAnswer),
        (status = 400, body = OAuthError, description = "invalid_grant, unsupported_grant_type or invalid_request"),
    ),
)]
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    uri: axum::http::Uri,
    bytes: Bytes,
) -> Response {
    let f = match form(&bytes, uri.query()) {
        Ok(f) => TokenForm::read(f),
        Err(m) => return refuse(StatusCode::BAD_REQUEST, "invalid_request", m),
    };
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let address = address(peer.as_ref().map(|e| &e.0));
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let instance_url = format!("{}://{host}", if state.https { "https" } else { "http" });
    let required = |what: &str| refuse(StatusCode::BAD_REQUEST, "invalid_request", format!("{what} required"));
    let login = match text(&f.grant_type).as_str() {
        "password" => {
            // the username as SOAP reads it: surrounding spaces are not part of it
            let (username, password) = (text(&f.username).trim().to_string(), text(&f.password));
            if username.is_empty() || password.is_empty() {
                return required("username and password are");
            }
            state.login(&username, &password, address.as_deref()).await
        }
        "client_credentials" => {
            // in the form, or HTTP Basic (RFC 6749 2.3.1), as curl -u and many clients send them
            let (id, secret) = match (text(&f.client_id), text(&f.client_secret)) {
                (id, secret) if id.is_empty() && secret.is_empty() => basic(&headers).unwrap_or_default(),
                given => given,
            };
            if id.is_empty() || secret.is_empty() {
                return required("client_id and client_secret are");
            }
            state.login_client(id.trim(), &secret, address.as_deref()).await
        }
        JWT_BEARER => {
            let Some(assertion) = f.assertion.as_deref().filter(|a| !a.is_empty()) else {
                return required("assertion is");
            };
            state.login_jwt(assertion, &instance_url, address.as_deref()).await
        }
        "" => return required("grant_type is"),
        other => {
            let shown: String = other.chars().take(60).collect();
            return refuse(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("grant type '{shown}' is not supported (password, client_credentials, {JWT_BEARER})"),
            );
        }
    };
    let login = match login {
        Ok(Ok(login)) => login,
        Ok(Err(LoginRefused::Failed)) => {
            return refuse(StatusCode::BAD_REQUEST, "invalid_grant", "authentication failure");
        }
        Ok(Err(LoginRefused::LockedOut)) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "authentication failure: too many failed sign-ins lately; try again later",
            );
        }
        Err(e) => return e.into_response(),
    };
    let org = crate::resources::identity::org_id(&state);
    let id = format!("{instance_url}/id/{org}/{}", login.actor.id);
    let issued_at = login.token.record.created_date.timestamp_millis().to_string();
    // the password grant accepts any client id; the secret keys the signature
    tracing::debug!(client_id = f.client_id.as_deref().unwrap_or_default(), user = %login.actor.id, "signed in over OAuth2");
    let signature = swell_app::sign(&text(&f.client_secret), &format!("{id}{issued_at}"));
    crate::wire::ok(TokenAnswer {
        access_token: login.token.text,
        instance_url,
        id,
        token_type: "Bearer",
        issued_at,
        signature,
    })
}

#[utoipa::path(
    post,
    path = "/services/oauth2/revoke",
    tag = "identity",
    request_body(content = RevokeForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or not a token (RFC 7009)"),
        (status = 400, body = OAuthError, description = "invalid_request: no token"),
    ),
)]
pub async fn revoke(State(state): State<AppState>, uri: axum::http::Uri, bytes: Bytes) -> Response {
    let f = match form(&bytes, uri.query()) {
        Ok(mut f) => RevokeForm { token: f.remove("token") },
        Err(m) => return refuse(StatusCode::BAD_REQUEST, "invalid_request", m),
    };
    let Some(token) = f.token.filter(|t| !t.is_empty()) else {
        return refuse(StatusCode::BAD_REQUEST, "invalid_request", "token is required");
    };
    match state.revoke_presented(&token).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => e.into_response(),
    }
}

#[utoipa::path(
    get,
    path = "/services/oauth2/revoke",
    tag = "identity",
    params(("token" = String, Query, description = "the access token to revoke")),
    responses(
        (status = 200, description = "Revoked, or not a token (RFC 7009)"),
        (status = 400, body = OAuthError, description = "invalid_request: no token"),
    ),
)]
/// The revocation as a GET with the token in the query string, which orgs accept too.
pub async fn revoke_get(state: State<AppState>, uri: axum::http::Uri) -> Response {
    revoke(state, uri, Bytes::new()).await
}
