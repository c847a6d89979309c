//! Users, roles and API tokens (issue 15): who may sign in, with which role, and the tokens
//! they sign in with. Only an admin changes them.
//!
//! A token is shaped like a Salesforce session id (`00D` + org id + `!` + secret) so that
//! clients accept it, and is kept only as the SHA-256 of its text: tokens are 128-bit random
//! secrets, which a fast hash protects (a slow password hash would cost every request). The
//! text is shown once, when it is made.

use crate::error::{ApiError, ApiResult};
use crate::{Actor, App};
use chrono::{DateTime, Utc};
use swell_core::Role;
use swell_store::{TokenRecord, UserRecord};

/// What every token starts with: the org id of this server, as in a Salesforce session id.
pub const TOKEN_PREFIX: &str = "00DSW0000000001!";

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    /// Shown as `createdBy.name`; the username when not given.
    pub name: Option<String>,
    pub email: Option<String>,
    pub role: Role,
}

/// A token just made: its record and its text, shown this once.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub record: TokenRecord,
    pub text: String,
}

/// The hex SHA-256 of a token's text: what the store keeps and looks up.
fn hash(token: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// `n` random bytes in hex.
fn random_hex(n: usize) -> ApiResult<String> {
    use ring::rand::SecureRandom;
    let mut bytes = vec![0u8; n];
    ring::rand::SystemRandom::new().fill(&mut bytes).map_err(|_| ApiError::internal("no random numbers"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A new token's text: the org prefix and 256 random bits.
fn new_token_text() -> ApiResult<String> {
    Ok(format!("{TOKEN_PREFIX}{}", random_hex(32)?))
}

/// A username: 1 to 80 visible ASCII characters (orgs use e-mail-like names:
/// `ana@example.com`). ASCII, so that "unique regardless of case" means the same in SQLite
/// and PostgreSQL (SQLite's `lower` folds ASCII only).
fn check_username(name: &str) -> ApiResult<()> {
    let shown: String = name.chars().take(40).collect();
    let shown = if name.chars().count() > 40 { format!("{shown}...") } else { shown };
    let wrong = if name.is_empty() {
        Some("is empty".to_string())
    } else if name.chars().count() > 80 {
        Some(format!("has {} characters; at most 80", name.chars().count()))
    } else {
        name.chars()
            .find(|c| !c.is_ascii_graphic())
            .map(|c| format!("holds {c:?}: use visible ASCII characters, no spaces (ana@example.com)"))
    };
    match wrong {
        Some(w) => Err(ApiError::bad_request(format!("username: '{}' {w}", shown.escape_debug()))),
        None => Ok(()),
    }
}

/// How often a token's last use is written at most: every request would be a write.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);

impl App {
    /// The user a presented token signs in: the server's own token (`admin_token`) is the
    /// administrator; any other is looked up by its hash and works while it is not revoked or
    /// expired and its user is active. `None`: no one (401).
    pub async fn authenticate(&self, presented: &str, admin_token: &str) -> ApiResult<Option<Actor>> {
        if constant_time_eq(presented.as_bytes(), admin_token.as_bytes()) {
            return Ok(Some(Actor::admin()));
        }
        if !presented.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let now = Utc::now();
        let Some((user, token)) = self.store.user_of_token(&hash(presented), now).await? else { return Ok(None) };
        if token.last_used.is_none_or(|t| now - t > TOUCH_EVERY) {
            self.store.touch_token(&token.id, now).await?;
        }
        Ok(Some(Actor::of(&user)))
    }

    /// A user by id or username; one that does not exist is 404.
    pub async fn user(&self, id_or_name: &str) -> ApiResult<UserRecord> {
        self.store.find_user(id_or_name).await?.ok_or_else(|| ApiError::not_found(format!("user {id_or_name}")))
    }

    pub async fn list_users(&self, actor: &Actor) -> ApiResult<Vec<UserRecord>> {
        actor.require(Role::Admin, "list users")?;
        Ok(self.store.list_users().await?)
    }

    pub async fn create_user(&self, actor: &Actor, new: NewUser) -> ApiResult<UserRecord> {
        actor.require(Role::Admin, "create a user")?;
        let username = new.username.trim();
        check_username(username)?;
        let name = new.name.as_deref().map(str::trim).filter(|n| !n.is_empty()).unwrap_or(username);
        crate::check_text("name", name)?;
        if let Some(e) = &new.email {
            crate::check_text("email", e)?;
        }
        let u = self.store.create_user(username, name, new.email.as_deref(), new.role).await?;
        actor.did(&format!("create user ({})", u.role), &u.id, &u.username);
        Ok(u)
    }

    /// Changes a user's role or whether they may sign in. The server's administrator
    /// (`005…1`, the user of its own token) keeps both: the server's token always signs in.
    pub async fn update_user(
        &self,
        actor: &Actor,
        id_or_name: &str,
        role: Option<Role>,
        active: Option<bool>,
    ) -> ApiResult<UserRecord> {
        actor.require(Role::Admin, "change a user")?;
        let u = self.user(id_or_name).await?;
        if u.id == swell_store::admin_id() && (role.is_some_and(|r| r != Role::Admin) || active == Some(false)) {
            return Err(ApiError::bad_request(
                "the server's administrator (the user of its own API token) stays an active admin",
            ));
        }
        let changed = self.store.update_user(&u.id, role, active).await?;
        let what = match (role, active) {
            (Some(r), _) => format!("set role {r}"),
            (None, Some(true)) => "activate user".to_string(),
            (None, Some(false)) => "deactivate user".to_string(),
            (None, None) => "change user".to_string(),
        };
        actor.did(&what, &changed.id, &changed.username);
        Ok(changed)
    }

    /// Makes a token for a user, expiring at `expires` if given; its text is in the answer
    /// only.
    pub async fn create_token(
        &self,
        actor: &Actor,
        id_or_name: &str,
        expires: Option<DateTime<Utc>>,
    ) -> ApiResult<NewToken> {
        actor.require(Role::Admin, "create a token")?;
        let u = self.user(id_or_name).await?;
        if expires.is_some_and(|e| e <= Utc::now()) {
            return Err(ApiError::bad_request("expirationDate: must be in the future"));
        }
        let text = new_token_text()?;
        // the id names the token in lists and revocations; it is not a secret
        let id = format!("tok_{}", random_hex(8)?);
        let record = self.store.create_token(&id, &u.id, &hash(&text), expires).await?;
        tracing::info!(user = %actor.name, user_id = %actor.id, action = "create token", token = %record.id, for_user = %u.username, "change");
        Ok(NewToken { record, text })
    }

    pub async fn tokens(&self, actor: &Actor, id_or_name: &str) -> ApiResult<Vec<TokenRecord>> {
        actor.require(Role::Admin, "list tokens")?;
        let u = self.user(id_or_name).await?;
        Ok(self.store.tokens_of(&u.id).await?)
    }

    /// Revokes a token by its id (`tok_…`): it stops working at once.
    pub async fn revoke_token(&self, actor: &Actor, id: &str) -> ApiResult<TokenRecord> {
        actor.require(Role::Admin, "revoke a token")?;
        let t = self.store.token(id).await.map_err(|e| match e {
            swell_store::StoreError::NotFound(_) => ApiError::not_found(format!("token {id}")),
            other => other.into(),
        })?;
        let revoked = self.store.revoke_token(&t.id).await?;
        tracing::info!(user = %actor.name, user_id = %actor.id, action = "revoke token", token = %t.id, "change");
        Ok(revoked)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_look_like_session_ids_and_are_kept_hashed() {
        let t = new_token_text().unwrap();
        assert!(t.starts_with("00DSW0000000001!") && t.len() == TOKEN_PREFIX.len() + 64, "{t}");
        assert_ne!(t, new_token_text().unwrap());
        let h = hash(&t);
        assert_eq!(h.len(), 64);
        assert!(!h.contains(&t[TOKEN_PREFIX.len()..]));
        assert_eq!(h, hash(&t));
    }
}

/// The fewest characters of a password.
pub const MIN_PASSWORD: usize = 8;

/// Failed sign-ins allowed per username and per address within [`LOCKOUT_WINDOW`]; past
/// them every sign-in of that name or address is refused until the window passes.
pub const MAX_FAILED_LOGINS: u32 = 10;
pub const LOCKOUT_WINDOW: chrono::Duration = chrono::Duration::minutes(15);

/// How long a session token made by a sign-in works: an org's default session timeout.
pub const SESSION: chrono::Duration = chrono::Duration::hours(2);

/// Failed sign-ins by key (`user:<name>`, `addr:<ip>`): count and the start of the window.
#[derive(Debug, Default)]
pub struct Lockouts(std::sync::Mutex<std::collections::HashMap<String, (u32, DateTime<Utc>)>>);

impl Lockouts {
    fn locked(&self, key: &str, now: DateTime<Utc>) -> bool {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key).is_some_and(|(n, since)| *n >= MAX_FAILED_LOGINS && now - *since < LOCKOUT_WINDOW)
    }

    fn fail(&self, key: &str, now: DateTime<Utc>) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // an address spraying names must not grow the map without bound
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| now - *since < LOCKOUT_WINDOW);
        }
        let entry = map.entry(key.to_string()).or_insert((0, now));
        if now - entry.1 >= LOCKOUT_WINDOW {
            *entry = (0, now);
        }
        entry.0 += 1;
    }

    fn clear(&self, key: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

/// Why a sign-in was refused; the answer does not tell a wrong name from a wrong password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginRefused {
    /// Wrong username or password, or the user is inactive or has no password.
    Failed,
    /// Too many failures of this name or address lately.
    LockedOut,
}

/// A successful sign-in: the user and a session token for them.
#[derive(Debug, Clone)]
pub struct Login {
    pub actor: Actor,
    pub token: NewToken,
}

fn hash_password(password: &str) -> ApiResult<String> {
    use argon2::password_hash::PasswordHasher;
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal(format!("hashing a password: {e}")))
}

fn verify_password(password: &str, stored: &str) -> bool {
    use argon2::password_hash::{PasswordVerifier, phc::PasswordHash};
    PasswordHash::new(stored).is_ok_and(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A PHC string of a password nobody has, verified when the user is unknown so that a wrong
/// name costs what a wrong password costs.
fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("swell-decoy-password").unwrap_or_default())
}

/// The base64 HMAC-SHA256 of `text` with `key`: the `signature` of an OAuth2 token answer
/// (of the identity URL and `issued_at`, keyed by the client secret).
pub fn sign(key: &str, text: &str) -> String {
    use base64::Engine;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(ring::hmac::sign(&key, text.as_bytes()).as_ref())
}

impl App {
    /// Sets a user's password (at least [`MIN_PASSWORD`] characters): an admin for anyone, a
    /// user for themself. Kept as an argon2id hash.
    pub async fn set_password(&self, actor: &Actor, id_or_name: &str, password: &str) -> ApiResult<()> {
        let u = self.user(id_or_name).await?;
        if u.id != actor.id {
            actor.require(Role::Admin, "set another user's password")?;
        }
        if password.chars().count() < MIN_PASSWORD {
            return Err(ApiError::bad_request(format!("password: at least {MIN_PASSWORD} characters")));
        }
        let password = password.to_string();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| ApiError::internal(format!("hashing a password: {e}")))??;
        self.store.set_password(&u.id, Some(&hash)).await?;
        tracing::info!(user = %actor.name, user_id = %actor.id, action = "set password", for_user = %u.username, "change");
        Ok(())
    }

    /// Signs a user in with their password (OAuth2 `password` grant, SOAP `login`): a session
    /// token of [`SESSION`]. Failures are counted per username and per `address` (when known); past
    /// [`MAX_FAILED_LOGINS`] in [`LOCKOUT_WINDOW`] both are refused for a while.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        address: Option<&str>,
    ) -> ApiResult<Result<Login, LoginRefused>> {
        let now = Utc::now();
        let by_user = format!("user:{}", username.to_lowercase());
        // an unknown address is not one bucket for every client (one client could lock all out)
        let by_addr = address.map(|a| format!("addr:{a}"));
        if self.lockouts.locked(&by_user, now) || by_addr.as_ref().is_some_and(|a| self.lockouts.locked(a, now)) {
            tracing::warn!(username, address, "sign-in refused: too many failures");
            return Ok(Err(LoginRefused::LockedOut));
        }
        let found = self.store.user_for_login(username).await?;
        let stored = found.as_ref().and_then(|(_, h)| h.clone()).unwrap_or_else(|| decoy().to_string());
        let given = password.to_string();
        let matches = tokio::task::spawn_blocking(move || verify_password(&given, &stored))
            .await
            .map_err(|e| ApiError::internal(format!("checking a password: {e}")))?;
        let user = match found {
            Some((u, Some(_))) if matches => u,
            _ => {
                self.lockouts.fail(&by_user, now);
                if let Some(a) = &by_addr {
                    self.lockouts.fail(a, now);
                }
                tracing::warn!(username, address, "sign-in failed");
                return Ok(Err(LoginRefused::Failed));
            }
        };
        self.lockouts.clear(&by_user);
        let text = new_token_text()?;
        let id = format!("tok_{}", random_hex(8)?);
        let record = self.store.create_token(&id, &user.id, &hash(&text), Some(now + SESSION)).await?;
        tracing::info!(user = %user.name, user_id = %user.id, action = "sign in", token = %record.id, "change");
        Ok(Ok(Login { actor: Actor::of(&user), token: NewToken { record, text } }))
    }
}

impl App {
    /// Revokes the token a client presents (OAuth2 `revoke`): it stops working at once. A text
    /// that is no working token is left alone, as RFC 7009 asks; the server's own token cannot
    /// be revoked this way.
    pub async fn revoke_presented(&self, presented: &str) -> ApiResult<()> {
        if let Some((user, token)) = self.store.user_of_token(&hash(presented), Utc::now()).await? {
            self.store.revoke_token(&token.id).await?;
            tracing::info!(user = %user.name, user_id = %user.id, action = "revoke token", token = %token.id, "change");
        }
        Ok(())
    }
}
