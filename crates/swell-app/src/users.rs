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

/// A username: 1 to 80 characters, no spaces or control characters (orgs use e-mail-like
/// names: `ana@example.com`).
fn check_username(name: &str) -> ApiResult<()> {
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::bad_request(format!(
            "username: '{name}' must be 1 to 80 characters without spaces (ana@example.com)"
        )));
    }
    Ok(())
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
            return Err(ApiError::bad_request("expires: must be in the future"));
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
