//! Users and their API tokens (issue 15), admin only: `/services/data/vNN.0/swell/users` and
//! `/swell/tokens`. CRM Analytics has no such resource (an org's users are `User` records
//! managed in Setup); this one is swell's own, beside the Wave routes, and does what
//! `swell user` does at the shell through the same use cases.

use crate::wire::{AssetPath, Timestamp, input, json, ok};
use crate::{AppState, Version};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use swell_app::{Actor, ApiError, ApiResult, NewUser};
use swell_core::Role;
use swell_store::{TokenRecord, UserRecord};
use utoipa::ToSchema;

/// A user (`005`), with their role.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub username: String,
    pub name: String,
    pub email: Option<String>,
    #[schema(value_type = String, example = "operator")]
    pub role: Role,
    pub active: bool,
    pub url: String,
    pub tokens_url: String,
    pub created_date: Timestamp,
    pub last_modified_date: Timestamp,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserCollection {
    pub users: Vec<User>,
    pub url: String,
}

/// An API token: never its text, except in the answer that made it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Token {
    pub id: String,
    pub user_id: String,
    pub created_date: Timestamp,
    pub last_used_date: Option<Timestamp>,
    pub expiration_date: Option<Timestamp>,
    pub revoked_date: Option<Timestamp>,
    /// The token itself: only when it was just made (shown this once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenCollection {
    pub tokens: Vec<Token>,
}

/// The body of `POST /swell/users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserInput {
    pub username: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    /// viewer, operator, editor or admin.
    pub role: Option<String>,
    /// Only on PATCH: whether the user may sign in.
    pub active: Option<bool>,
    /// Sets the password the user signs in with (OAuth2 `password` grant); never shown.
    #[schema(format = Password)]
    pub password: Option<String>,
}

/// The body of `POST /swell/users/{id}/tokens`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenInput {
    /// When it stops working (ISO-8601); never when absent.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expiration_date: Option<DateTime<Utc>>,
}

fn role(given: Option<&str>) -> ApiResult<Option<Role>> {
    given
        .map(|r| {
            Role::parse(r).ok_or_else(|| {
                ApiError::bad_request(format!("role: '{r}' is not a role (viewer, operator, editor, admin)"))
            })
        })
        .transpose()
}

fn user(v: &Version, u: &UserRecord) -> User {
    let url = format!("/services/data/v{}/swell/users/{}", v.0, u.id);
    User {
        id: u.id.to_string(),
        username: u.username.clone(),
        name: u.name.clone(),
        email: u.email.clone(),
        role: u.role,
        active: u.active,
        tokens_url: format!("{url}/tokens"),
        url,
        created_date: Timestamp::from(&u.created_date),
        last_modified_date: Timestamp::from(&u.last_modified_date),
    }
}

fn token(t: &TokenRecord, text: Option<String>) -> Token {
    Token {
        id: t.id.clone(),
        user_id: t.user_id.to_string(),
        created_date: Timestamp::from(&t.created_date),
        last_used_date: t.last_used.map(Timestamp::from),
        expiration_date: t.expires.map(Timestamp::from),
        revoked_date: t.revoked_date.map(Timestamp::from),
        token: text,
    }
}

#[utoipa::path(get, path = "/services/data/{version}/swell/users", tag = "users", responses((status = 200, body = UserCollection)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
) -> ApiResult<Response> {
    let users = state.list_users(&actor).await?;
    Ok(ok(UserCollection {
        users: users.iter().map(|u| user(&v, u)).collect(),
        url: format!("/services/data/v{}/swell/users", v.0),
    }))
}

#[utoipa::path(
    post,
    path = "/services/data/{version}/swell/users",
    tag = "users",
    request_body = UserInput,
    responses((status = 201, body = User)),
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    bytes: Bytes,
) -> ApiResult<Response> {
    let body: UserInput = input(&bytes, "user")?;
    let username = body.username.ok_or_else(|| ApiError::bad_request("username: is required"))?;
    let role = role(body.role.as_deref())?.ok_or_else(|| ApiError::bad_request("role: is required"))?;
    if body.active.is_some() {
        return Err(ApiError::bad_request("active: a new user is active; PATCH the user to change it"));
    }
    if let Some(p) = &body.password {
        swell_app::check_password(p)?;
    }
    let u = state.create_user(&actor, NewUser { username, name: body.name, email: body.email, role }).await?;
    if let Some(p) = &body.password {
        state.set_password(&actor, u.id.as_str(), p).await?;
    }
    Ok(json(StatusCode::CREATED, user(&v, &u)))
}

#[utoipa::path(get, path = "/services/data/{version}/swell/users/{id}", tag = "users", responses((status = 200, body = User)))]
pub async fn get(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
) -> ApiResult<Response> {
    Ok(ok(user(&v, &state.read_user(&actor, &id.id).await?)))
}

#[utoipa::path(
    patch,
    path = "/services/data/{version}/swell/users/{id}",
    tag = "users",
    request_body = UserInput,
    responses((status = 200, body = User)),
)]
pub async fn patch(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    v: Version,
    Path(id): Path<AssetPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let body: UserInput = input(&bytes, "user")?;
    for (field, given) in
        [("username", body.username.is_some()), ("name", body.name.is_some()), ("email", body.email.is_some())]
    {
        if given {
            return Err(ApiError::bad_request(format!("{field}: cannot change (role, active and password can)")));
        }
    }
    let role = role(body.role.as_deref())?;
    // all or nothing: every check that can refuse runs before anything changes; the role and
    // the state (an admin's) before the password (a user may set their own; an admin anyone's)
    if let Some(p) = &body.password {
        swell_app::check_password(p)?;
    }
    if role.is_some() || body.active.is_some() || body.password.is_none() {
        state.update_user(&actor, &id.id, role, body.active).await?;
    }
    if let Some(p) = &body.password {
        state.set_password(&actor, &id.id, p).await?;
    }
    Ok(ok(user(&v, &state.user(&id.id).await?)))
}

#[utoipa::path(get, path = "/services/data/{version}/swell/users/{id}/tokens", tag = "users", responses((status = 200, body = TokenCollection)))]
pub async fn tokens(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<AssetPath>,
) -> ApiResult<Response> {
    let list = state.tokens(&actor, &id.id).await?;
    Ok(ok(TokenCollection { tokens: list.iter().map(|t| token(t, None)).collect() }))
}

#[utoipa::path(
    post,
    path = "/services/data/{version}/swell/users/{id}/tokens",
    tag = "users",
    request_body = TokenInput,
    responses((status = 201, body = Token, description = "The token, its text shown this once")),
)]
pub async fn create_token(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<AssetPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let body: TokenInput = if bytes.is_empty() { TokenInput::default() } else { input(&bytes, "token")? };
    let made = state.create_token(&actor, &id.id, body.expiration_date).await?;
    Ok(json(StatusCode::CREATED, token(&made.record, Some(made.text))))
}

#[utoipa::path(
    delete,
    path = "/services/data/{version}/swell/tokens/{id}",
    tag = "users",
    responses((status = 200, body = Token, description = "The token, revoked")),
)]
pub async fn revoke(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<AssetPath>,
) -> ApiResult<Response> {
    Ok(ok(token(&state.revoke_token(&actor, &id.id).await?, None)))
}

/// A connected app of a user: its client id signs the user in (`client_credentials`, or JWT
/// assertions its certificate verifies). Never its secret, except in the answer that made it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Client {
    /// The client id (consumer key).
    pub id: String,
    pub user_id: String,
    /// Whether JWT assertions sign in with it.
    pub has_certificate: bool,
    pub created_date: Timestamp,
    pub revoked_date: Option<Timestamp>,
    /// The secret of the `client_credentials` grant: only when it was just made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientCollection {
    pub clients: Vec<Client>,
}

/// The body of `POST /swell/users/{id}/clients`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientInput {
    /// An X.509 certificate (PEM) with an RSA key: JWT assertions it verifies sign the user in.
    pub certificate: Option<String>,
}

fn client(c: &swell_store::ClientRecord, secret: Option<String>) -> Client {
    Client {
        id: c.id.clone(),
        user_id: c.user_id.to_string(),
        has_certificate: c.certificate.is_some(),
        created_date: Timestamp::from(&c.created_date),
        revoked_date: c.revoked_date.map(Timestamp::from),
        client_secret: secret,
    }
}

#[utoipa::path(get, path = "/services/data/{version}/swell/users/{id}/clients", tag = "users", responses((status = 200, body = ClientCollection)))]
pub async fn clients(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<AssetPath>,
) -> ApiResult<Response> {
    let list = state.clients(&actor, &id.id).await?;
    Ok(ok(ClientCollection { clients: list.iter().map(|c| client(c, None)).collect() }))
}

#[utoipa::path(
    post,
    path = "/services/data/{version}/swell/users/{id}/clients",
    tag = "users",
    request_body = ClientInput,
    responses((status = 201, body = Client, description = "The client, its secret shown this once")),
)]
pub async fn create_client(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<AssetPath>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let body: ClientInput = if bytes.is_empty() { ClientInput::default() } else { input(&bytes, "client")? };
    let made = state.create_client(&actor, &id.id, body.certificate.as_deref()).await?;
    Ok(json(StatusCode::CREATED, client(&made.record, Some(made.secret))))
}

#[utoipa::path(
    delete,
    path = "/services/data/{version}/swell/clients/{id}",
    tag = "users",
    responses((status = 200, body = Client, description = "The client, revoked with the tokens it signed in")),
)]
pub async fn revoke_client(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<AssetPath>,
) -> ApiResult<Response> {
    Ok(ok(client(&state.revoke_client(&actor, &id.id).await?, None)))
}
