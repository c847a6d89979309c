//! Users, roles and API tokens (issue 15): who may sign in, with which role, and the tokens
//! they sign in with. Only an admin changes them.
//!
//! A token is shaped like a Salesforce session id (`00D` + org id + `!` + secret) so that
//! clients accept it, and is kept only as the SHA-256 of its text: tokens are 128-bit random
//! secrets, which a fast hash protects (a slow password hash would cost every request). The
//! text is shown once, when it is made.

use crate::error::{ApiError, ApiResult};
use crate::{Action, Actor, App, Subject};
use chrono::{DateTime, Utc};
use swell_core::{KeyPrefix, Role, SalesforceId};
use swell_store::{TokenRecord, UserRecord};

/// What every token starts with: the org id of this server ([`org_id`], 15 characters), as in a
/// Salesforce session id. Tokens made before it matched the org id (`00DSW…`, session 11)
/// still sign in: a token is found by its hash, the prefix only turns away what is no token.
pub const TOKEN_PREFIX: &str = "00DSw0000000001!";

/// The org id of every swell server (`00DSw0000000001MAA`): what identity answers, SOAP
/// login and tokens name. One server is one org.
pub fn org_id() -> SalesforceId {
    SalesforceId::new(KeyPrefix::Organization, 1)
}

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
pub(crate) fn hash(token: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// `n` random bytes in hex.
pub(crate) fn random_hex(n: usize) -> ApiResult<String> {
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
        if !(presented.starts_with("00D") && presented.contains('!')) {
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

    /// A user, for an admin.
    pub async fn read_user(&self, actor: &Actor, id_or_name: &str) -> ApiResult<UserRecord> {
        self.require(actor, Action::ReadUser).await?;
        self.user(id_or_name).await
    }

    pub async fn list_users(&self, actor: &Actor) -> ApiResult<Vec<UserRecord>> {
        self.require(actor, Action::ListUsers).await?;
        Ok(self.store.list_users().await?)
    }

    pub async fn create_user(&self, actor: &Actor, new: NewUser) -> ApiResult<UserRecord> {
        self.require(actor, Action::CreateUser).await?;
        let username = new.username.trim();
        check_username(username)?;
        let name = new.name.as_deref().map(str::trim).filter(|n| !n.is_empty()).unwrap_or(username);
        crate::check_text("name", name)?;
        if let Some(e) = &new.email {
            crate::check_text("email", e)?;
        }
        let u = self.store.create_user(username, name, new.email.as_deref(), new.role).await?;
        let role = format!("role {}", u.role);
        self.did(actor, Action::CreateUser, Subject::new(&u.id, &u.username), Some(&role)).await;
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
        self.require(actor, Action::UpdateUser).await?;
        let u = self.user(id_or_name).await?;
        if u.id == swell_store::admin_id() && (role.is_some_and(|r| r != Role::Admin) || active == Some(false)) {
            return Err(ApiError::bad_request(
                "the server's administrator (the user of its own API token) stays an active admin",
            ));
        }
        let changed = self.store.update_user(&u.id, role, active).await?;
        let mut what = Vec::new();
        if let Some(r) = role.filter(|r| *r != u.role) {
            what.push(format!("role {} to {r}", u.role));
        }
        match active {
            Some(true) if !u.active => what.push("activated".to_string()),
            Some(false) if u.active => what.push("deactivated".to_string()),
            _ => {}
        }
        let detail = if what.is_empty() { "no change".to_string() } else { what.join(", ") };
        self.did(actor, Action::UpdateUser, Subject::new(&changed.id, &changed.username), Some(&detail)).await;
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
        self.require(actor, Action::CreateToken).await?;
        let u = self.user(id_or_name).await?;
        if expires.is_some_and(|e| e <= Utc::now()) {
            return Err(ApiError::bad_request("expirationDate: must be in the future"));
        }
        let text = new_token_text()?;
        // the id names the token in lists and revocations; it is not a secret
        let id = format!("tok_{}", random_hex(8)?);
        let record = self.store.create_token(&id, &u.id, &hash(&text), expires, None, None).await?;
        let detail = format!("token {}", record.id);
        self.did(actor, Action::CreateToken, Subject::new(&u.id, &u.username), Some(&detail)).await;
        Ok(NewToken { record, text })
    }

    pub async fn tokens(&self, actor: &Actor, id_or_name: &str) -> ApiResult<Vec<TokenRecord>> {
        self.require(actor, Action::ListTokens).await?;
        let u = self.user(id_or_name).await?;
        Ok(self.store.tokens_of(&u.id).await?)
    }

    /// Revokes a token by its id (`tok_…`): it stops working at once.
    pub async fn revoke_token(&self, actor: &Actor, id: &str) -> ApiResult<TokenRecord> {
        self.require(actor, Action::RevokeToken).await?;
        let t = self.store.token(id).await.map_err(|e| match e {
            swell_store::StoreError::NotFound(_) => ApiError::not_found(format!("token {id}")),
            other => other.into(),
        })?;
        let revoked = self.store.revoke_token(&t.id).await?;
        let owner = self.store.user(&t.user_id).await?;
        let detail = format!("token {}", t.id);
        self.did(actor, Action::RevokeToken, Subject::new(&owner.id, &owner.username), Some(&detail)).await;
        Ok(revoked)
    }
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_look_like_session_ids_and_are_kept_hashed() {
        let t = new_token_text().unwrap();
        assert!(t.starts_with("00DSw0000000001!") && t.len() == TOKEN_PREFIX.len() + 64, "{t}");
        assert_eq!(TOKEN_PREFIX, format!("{}!", org_id().fifteen()));
        assert_ne!(t, new_token_text().unwrap());
        let h = hash(&t);
        assert_eq!(h.len(), 64);
        assert!(!h.contains(&t[TOKEN_PREFIX.len()..]));
        assert_eq!(h, hash(&t));
    }
}

/// The fewest characters of a password.
pub const MIN_PASSWORD: usize = 8;

/// Failed sign-ins allowed per username (or connected app) within [`LOCKOUT_WINDOW`]; past
/// them every sign-in of that name is refused until the window passes.
pub const MAX_FAILED_LOGINS: u32 = 10;
/// Failed sign-ins allowed per address within [`LOCKOUT_WINDOW`]. More than a name's: many
/// people may share one address (an office, a proxy), and one of them mistyping a password
/// must not lock the others out; a guesser trying many names from one address still stops.
pub const MAX_FAILED_PER_ADDRESS: u32 = 100;
pub const LOCKOUT_WINDOW: chrono::Duration = chrono::Duration::minutes(15);

/// How long a session token made by a sign-in works: an org's default session timeout.
pub const SESSION: chrono::Duration = chrono::Duration::hours(2);

/// How long an expired token is kept (it shows in the user's token list as expired) before
/// a sign-in removes it.
pub const KEEP_EXPIRED: chrono::Duration = chrono::Duration::days(7);

/// What counting an attempt found: whether a key is past its limit, and whether this
/// attempt is the first past it (its refusal goes to the audit log).
#[derive(Debug, Clone, Default)]
pub(crate) struct Tally {
    /// The first key past its limit, with that limit.
    over: Option<(String, u32)>,
    first: bool,
}

impl App {
    /// Counts a sign-in attempt under `keys` (`user:<name>`, `client:<id>`, `addr:<ip>`)
    /// before it is checked. Past its limit within [`LOCKOUT_WINDOW`] ([`MAX_FAILED_LOGINS`]
    /// for a name, [`MAX_FAILED_PER_ADDRESS`] for an address) the attempt is refused
    /// unchecked. Counting first and in the store means that neither a burst of attempts at
    /// once nor servers sharing a database get more guesses than the limit.
    pub(crate) async fn begin_attempt(&self, keys: &[&str]) -> ApiResult<(String, Tally)> {
        let now = Utc::now();
        let attempt = random_hex(8)?;
        let mut tally = Tally::default();
        for key in keys {
            let limit = if key.starts_with("addr:") { MAX_FAILED_PER_ADDRESS } else { MAX_FAILED_LOGINS };
            let seen = self.store.count_sign_in_attempt(&[key], &attempt, now, now - LOCKOUT_WINDOW).await?;
            if seen > i64::from(limit) && tally.over.is_none() {
                tally.over = Some((key.to_string(), limit));
                tally.first = seen == i64::from(limit) + 1;
            }
        }
        Ok((attempt, tally))
    }

    /// Whether an attempt is refused unchecked; it is then not counted. The first refusal of
    /// a lockout is recorded in the audit log, the rest only in the server log (a flood must
    /// not fill the audit log).
    pub(crate) async fn locked(
        &self,
        attempt: &str,
        tally: &Tally,
        user: Option<&SalesforceId>,
        name: &str,
        address: Option<&str>,
    ) -> ApiResult<bool> {
        let Some((key, limit)) = &tally.over else { return Ok(false) };
        self.store.drop_sign_in_attempt(attempt).await?;
        tracing::warn!(name, address, key, "sign-in refused: too many failures");
        if tally.first {
            let of = if key.starts_with("addr:") { "from this address" } else { "of this name" };
            let reason = format!("locked out after {limit} failures {of}{}", from(address));
            self.failed_sign_in(user, name, &reason).await;
        }
        Ok(true)
    }

    /// Forgets the failures of `key`, which just signed in.
    pub(crate) async fn forget_failures(&self, key: &str) -> ApiResult<()> {
        Ok(self.store.clear_sign_in_failures(key).await?)
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

/// Runs argon2 work (about 19 MiB and tens of milliseconds each) off the request threads, at
/// most one per core at once: a flood of sign-ins waits its turn instead of taking the
/// machine's memory.
async fn argon2_work<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let slots = SLOTS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get))
    });
    let _slot = slots.acquire().await.map_err(|e| ApiError::internal(format!("password work: {e}")))?;
    tokio::task::spawn_blocking(work).await.map_err(|e| ApiError::internal(format!("password work: {e}")))
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

/// The most characters of a password.
pub const MAX_PASSWORD: usize = 1024;

/// Checks a new password's length ([`MIN_PASSWORD`] to [`MAX_PASSWORD`] characters), so that
/// a change that also sets other things can refuse it before changing anything.
pub fn check_password(password: &str) -> ApiResult<()> {
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        return Err(ApiError::bad_request(format!("password: at least {MIN_PASSWORD} characters")));
    }
    if n > MAX_PASSWORD {
        return Err(ApiError::bad_request(format!("password: at most {MAX_PASSWORD} characters")));
    }
    Ok(())
}

impl App {
    /// Sets a user's password (at least [`MIN_PASSWORD`] characters): an admin for anyone, a
    /// user for themself. Kept as an argon2id hash.
    pub async fn set_password(&self, actor: &Actor, id_or_name: &str, password: &str) -> ApiResult<()> {
        let u = self.user(id_or_name).await?;
        if u.id != actor.id {
            self.require(actor, Action::SetPassword).await?;
        }
        check_password(password)?;
        let password = password.to_string();
        let hash = argon2_work(move || hash_password(&password)).await??;
        self.store.set_password(&u.id, Some(&hash)).await?;
        self.did(actor, Action::SetPassword, Subject::new(&u.id, &u.username), None).await;
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
        let username = &crate::text::cut(username, 100);
        let by_user = format!("user:{}", username.to_lowercase());
        // an unknown address is not one bucket for every client (one client could lock all out)
        let by_addr = address.map(|a| format!("addr:{a}"));
        let keys: Vec<&str> = std::iter::once(by_user.as_str()).chain(by_addr.as_deref()).collect();
        let (attempt, tally) = self.begin_attempt(&keys).await?;
        let found = self.store.user_for_login(username).await?;
        if self.locked(&attempt, &tally, found.as_ref().map(|(u, _)| &u.id), username, address).await? {
            return Ok(Err(LoginRefused::LockedOut));
        }
        let stored = found.as_ref().and_then(|(_, h)| h.clone()).unwrap_or_else(|| decoy().to_string());
        let given = password.to_string();
        let matches = argon2_work(move || verify_password(&given, &stored)).await?;
        let user = match found {
            Some((u, Some(_))) if matches && u.active => u,
            other => {
                let reason = match &other {
                    None => "no such user",
                    Some((_, None)) => "the user has no password",
                    Some((u, _)) if !u.active => "the user is deactivated",
                    Some(_) => "wrong password",
                };
                let user = other.as_ref().map(|(u, _)| &u.id);
                // the attempt stays counted
                self.failed_sign_in(user, username, &format!("{reason}{}", from(address))).await;
                tracing::warn!(username, address, "sign-in failed");
                return Ok(Err(LoginRefused::Failed));
            }
        };
        self.store.drop_sign_in_attempt(&attempt).await?;
        self.forget_failures(&by_user).await?;
        Ok(Ok(self.start_session(&user, "password", None, address).await?))
    }

    /// Signs in with a token (the web UI's sign-in form, for users without a password and
    /// the server's own token): a new session of [`SESSION`] for the token's user, so that the
    /// long-lived token itself is never kept in a browser. The session ends when that token
    /// is revoked or expires, whichever comes first. Tokens that sign no one in count against
    /// the address like wrong passwords ([`MAX_FAILED_PER_ADDRESS`]): a guesser is slowed
    /// down, and a flood of them is refused before any lookup.
    pub async fn login_token(
        &self,
        presented: &str,
        admin_token: &str,
        address: Option<&str>,
    ) -> ApiResult<Result<Login, LoginRefused>> {
        let by_addr = address.map(|a| format!("addr:{a}"));
        let keys: Vec<&str> = by_addr.iter().map(String::as_str).collect();
        let (attempt, tally) = self.begin_attempt(&keys).await?;
        if self.locked(&attempt, &tally, None, "a token", address).await? {
            return Ok(Err(LoginRefused::LockedOut));
        }
        let parent = if constant_time_eq(presented.as_bytes(), admin_token.as_bytes()) {
            None
        } else {
            self.store.token_by_hash(&hash(presented)).await?.map(|(_, token)| token)
        };
        let user = match self.authenticate(presented, admin_token).await? {
            Some(actor) => self.store.find_user(actor.id.as_str()).await?,
            None => None,
        };
        let Some(user) = user else {
            // the attempt stays counted
            self.failed_sign_in(None, "a token", &format!("a token that signs no one in{}", from(address))).await;
            return Ok(Err(LoginRefused::Failed));
        };
        self.store.drop_sign_in_attempt(&attempt).await?;
        Ok(Ok(self.start_session_under(&user, "token", None, parent.as_ref(), address).await?))
    }

    /// A session of [`SESSION`] for an active user, signed in by the server itself (the
    /// one-time sign-in link `swell demo` prints). `None`: no such active user.
    pub async fn login_as(&self, user: &SalesforceId, how: &str, address: Option<&str>) -> ApiResult<Option<Login>> {
        match self.store.find_user(user.as_str()).await? {
            Some(u) if u.active => Ok(Some(self.start_session(&u, how, None, address).await?)),
            _ => Ok(None),
        }
    }

    /// A session token of [`SESSION`] for a user who just signed in (`how`: `password`,
    /// `client credentials`, `JWT`), made for `client` when a connected app signed them in.
    pub(crate) async fn start_session(
        &self,
        user: &UserRecord,
        how: &str,
        client: Option<&str>,
        address: Option<&str>,
    ) -> ApiResult<Login> {
        self.start_session_under(user, how, client, None, address).await
    }

    /// [`App::start_session`] for a session that a token (`parent`) opened: it works only
    /// while that token does (revoking it revokes the session; it expires no later). Tokens
    /// that expired over [`KEEP_EXPIRED`] ago are removed on the way.
    async fn start_session_under(
        &self,
        user: &UserRecord,
        how: &str,
        client: Option<&str>,
        parent: Option<&TokenRecord>,
        address: Option<&str>,
    ) -> ApiResult<Login> {
        let now = Utc::now();
        self.store.prune_expired_tokens(now - KEEP_EXPIRED).await?;
        let text = new_token_text()?;
        let id = format!("tok_{}", random_hex(8)?);
        let mut expires = now + SESSION;
        if let Some(limit) = parent.and_then(|p| p.expires) {
            expires = expires.min(limit);
        }
        let parent = parent.map(|p| p.id.as_str());
        let record = self.store.create_token(&id, &user.id, &hash(&text), Some(expires), client, parent).await?;
        let actor = Actor::of(user);
        let by = client.map(|c| format!(" of client {c}")).unwrap_or_default();
        let detail = format!("{how}{by}, token {}{}", record.id, from(address));
        self.did(&actor, Action::SignIn, Subject::new(&user.id, &user.username), Some(&detail)).await;
        Ok(Login { actor, token: NewToken { record, text } })
    }
}

impl App {
    /// Revokes the token a client presents (OAuth2 `revoke`): it stops working at once. A text
    /// that is no working token is left alone, as RFC 7009 asks; the server's own token cannot
    /// be revoked this way.
    pub async fn revoke_presented(&self, presented: &str) -> ApiResult<()> {
        // whatever the user's state: a deactivated user's token must not come back on activation
        if let Some((user, token)) = self.store.token_by_hash(&hash(presented)).await?
            && token.revoked_date.is_none()
        {
            self.store.revoke_token(&token.id).await?;
            let detail = format!("token {}", token.id);
            self.did(&Actor::of(&user), Action::SignOut, Subject::new(&user.id, &user.username), Some(&detail)).await;
        }
        Ok(())
    }
}

/// ` from ADDRESS` for an audit detail, when the address is known.
pub(crate) fn from(address: Option<&str>) -> String {
    address.map(|a| format!(" from {a}")).unwrap_or_default()
}
