//! Users (005) with their role, and their API tokens, kept as hashes (issue 15).
//!
//! The store never sees a token's text: callers hash it (swell-app) and look the hash up. A
//! token works while it is not revoked, not expired and its user is active; the lookup checks
//! all three in one query, so a deactivation or a revocation holds from the next request on.

use crate::{DbRow, Result, Store, StoreError, from_millis, millis, parse_id};
use chrono::{DateTime, Utc};
use sqlx::Row;
use swell_core::{KeyPrefix, Role, SalesforceId};

#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub id: SalesforceId,
    pub username: String,
    pub name: String,
    pub email: Option<String>,
    pub role: Role,
    pub active: bool,
    pub created_date: DateTime<Utc>,
    pub last_modified_date: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    pub id: String,
    pub user_id: SalesforceId,
    pub created_date: DateTime<Utc>,
    pub last_used: Option<DateTime<Utc>>,
    pub expires: Option<DateTime<Utc>>,
    pub revoked_date: Option<DateTime<Utc>>,
}

/// The username of the administrator (`005…1`), shaped as an org's usernames are.
pub const ADMIN_USERNAME: &str = "admin@swell.local";

/// The first user: the administrator of the server's own token (`005…1`).
pub fn admin_id() -> SalesforceId {
    SalesforceId::new(KeyPrefix::User, 1)
}

const USER_COLUMNS: &str = "id, username, name, email, role, active, created_date, last_modified_date";
const TOKEN_COLUMNS: &str = "id, user_id, created_date, last_used, expires, revoked_date";

fn user(row: &DbRow) -> Result<UserRecord> {
    let role: String = row.get(4);
    Ok(UserRecord {
        id: parse_id(row.get(0))?,
        username: row.get(1),
        name: row.get(2),
        email: row.get(3),
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role '{role}'")))?,
        active: row.get::<i64, _>(5) != 0,
        created_date: from_millis(row.get(6)),
        last_modified_date: from_millis(row.get(7)),
    })
}

fn token(row: &DbRow, at: usize) -> Result<TokenRecord> {
    let opt = |i: usize| row.get::<Option<i64>, _>(at + i).map(from_millis);
    Ok(TokenRecord {
        id: row.get(at),
        user_id: parse_id(row.get(at + 1))?,
        created_date: from_millis(row.get(at + 2)),
        last_used: opt(3),
        expires: opt(4),
        revoked_date: opt(5),
    })
}

impl Store {
    /// Makes the administrator's row (`005…1`) if it is missing, and keeps the sequence of user
    /// ids past it. Called at every start.
    pub async fn ensure_admin(&self, name: &str) -> Result<UserRecord> {
        let now = millis(&Utc::now());
        sqlx::query("INSERT INTO id_sequence (prefix, next_value) VALUES ($1, 1) ON CONFLICT (prefix) DO NOTHING")
            .bind(KeyPrefix::User.as_str())
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO app_user (id, username, name, email, role, active, created_date, last_modified_date)
             VALUES ($1, $5, $2, NULL, $3, 1, $4, $4) ON CONFLICT (id) DO NOTHING",
        )
        .bind(admin_id().as_str())
        .bind(name)
        .bind(Role::Admin.as_str())
        .bind(now)
        .bind(ADMIN_USERNAME)
        .execute(&self.pool)
        .await?;
        self.user(&admin_id()).await
    }

    pub async fn create_user(&self, username: &str, name: &str, email: Option<&str>, role: Role) -> Result<UserRecord> {
        let taken: Option<String> =
            sqlx::query_scalar("SELECT username FROM app_user WHERE lower(username) = lower($1)")
                .bind(username)
                .fetch_optional(&self.pool)
                .await?;
        if let Some(taken) = taken {
            return Err(StoreError::Conflict(format!(
                "a user named '{taken}' already exists (usernames are compared regardless of case)"
            )));
        }
        let id = self.next_id(KeyPrefix::User).await?;
        let now = millis(&Utc::now());
        sqlx::query(
            "INSERT INTO app_user (id, username, name, email, role, active, created_date, last_modified_date)
             VALUES ($1, $2, $3, $4, $5, 1, $6, $6)",
        )
        .bind(id.as_str())
        .bind(username)
        .bind(name)
        .bind(email)
        .bind(role.as_str())
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(format!(
                "a user named '{username}' already exists (usernames are compared regardless of case)"
            )),
            other => other.into(),
        })?;
        self.user(&id).await
    }

    pub async fn user(&self, id: &SalesforceId) -> Result<UserRecord> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM app_user WHERE id = $1")))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {id}")))?;
        user(&row)
    }

    /// A user by id (15 or 18 characters) or username (any case).
    pub async fn find_user(&self, id_or_name: &str) -> Result<Option<UserRecord>> {
        if let Ok(id) = SalesforceId::parse(id_or_name)
            && id.has_prefix(KeyPrefix::User)
        {
            return match self.user(&id).await {
                Ok(u) => Ok(Some(u)),
                Err(StoreError::NotFound(_)) => Ok(None),
                Err(e) => Err(e),
            };
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM app_user WHERE lower(username) = lower($1)"
        )))
        .bind(id_or_name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user).transpose()
    }

    pub async fn list_users(&self) -> Result<Vec<UserRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM app_user ORDER BY id")))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user).collect()
    }

    /// Changes a user's role and whether they may sign in.
    pub async fn update_user(&self, id: &SalesforceId, role: Option<Role>, active: Option<bool>) -> Result<UserRecord> {
        let done = sqlx::query(
            "UPDATE app_user SET role = coalesce($2, role), active = coalesce($3, active), last_modified_date = $4
             WHERE id = $1",
        )
        .bind(id.as_str())
        .bind(role.map(Role::as_str))
        .bind(active.map(i64::from))
        .bind(millis(&Utc::now()))
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("user {id}")));
        }
        self.user(id).await
    }

    /// Sets (or, with `None`, clears) a user's password hash (a PHC string: argon2id).
    pub async fn set_password(&self, id: &SalesforceId, hash: Option<&str>) -> Result<()> {
        let done = sqlx::query("UPDATE app_user SET password_hash = $2, last_modified_date = $3 WHERE id = $1")
            .bind(id.as_str())
            .bind(hash)
            .bind(millis(&Utc::now()))
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("user {id}")));
        }
        Ok(())
    }

    /// A user by username (any case), active or not, with their password hash, for a sign-in
    /// (which refuses an inactive one).
    pub async fn user_for_login(&self, username: &str) -> Result<Option<(UserRecord, Option<String>)>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS}, password_hash FROM app_user WHERE lower(username) = lower($1)"
        )))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some((user(&row)?, row.get(8))))
    }

    /// Keeps a new token `id` of `user` by the hash of its text; `client` is the connected app
    /// it was made for, if any (revoking the client revokes it).
    pub async fn create_token(
        &self,
        id: &str,
        user: &SalesforceId,
        hash: &str,
        expires: Option<DateTime<Utc>>,
        client: Option<&str>,
        parent: Option<&str>,
    ) -> Result<TokenRecord> {
        sqlx::query(
            "INSERT INTO api_token (id, user_id, hash, created_date, expires, client_id, parent_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(user.as_str())
        .bind(hash)
        .bind(millis(&Utc::now()))
        .bind(expires.as_ref().map(millis))
        .bind(client)
        .bind(parent)
        .execute(&self.pool)
        .await?;
        self.token(id).await
    }

    pub async fn token(&self, id: &str) -> Result<TokenRecord> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {TOKEN_COLUMNS} FROM api_token WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("token {id}")))?;
        token(&row, 0)
    }

    pub async fn tokens_of(&self, user: &SalesforceId) -> Result<Vec<TokenRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_token WHERE user_id = $1 ORDER BY created_date, id"
        )))
        .bind(user.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| token(r, 0)).collect()
    }

    /// The user and token of a token's hash, when the token works now: not revoked, not
    /// expired, its user active.
    pub async fn user_of_token(&self, hash: &str, now: DateTime<Utc>) -> Result<Option<(UserRecord, TokenRecord)>> {
        let works = "AND t.revoked_date IS NULL AND (t.expires IS NULL OR t.expires > $2) AND u.active = 1";
        self.token_and_user(hash, works, Some(now)).await
    }

    /// The user and token of a token's hash, rows also matching `condition` (on `t` and `u`,
    /// with `now` as `$2` when given).
    async fn token_and_user(
        &self,
        hash: &str,
        condition: &str,
        now: Option<DateTime<Utc>>,
    ) -> Result<Option<(UserRecord, TokenRecord)>> {
        let users = USER_COLUMNS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ");
        let tokens = TOKEN_COLUMNS.split(", ").map(|c| format!("t.{c}")).collect::<Vec<_>>().join(", ");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {users}, {tokens} FROM api_token t JOIN app_user u ON u.id = t.user_id WHERE t.hash = $1 {condition}"
        )))
        .bind(hash);
        if let Some(now) = now {
            q = q.bind(millis(&now));
        }
        let Some(row) = q.fetch_optional(&self.pool).await? else { return Ok(None) };
        Ok(Some((user(&row)?, token(&row, 8)?)))
    }

    /// The user and token of a token's hash, whatever their state (revoked, expired, the user
    /// deactivated): what a revocation finds.
    pub async fn token_by_hash(&self, hash: &str) -> Result<Option<(UserRecord, TokenRecord)>> {
        self.token_and_user(hash, "", None).await
    }

    /// Removes the tokens that expired before `before` (sign-ins make a session token each;
    /// an expired one can never work again). Answers how many went.
    pub async fn prune_expired_tokens(&self, before: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM api_token WHERE expires IS NOT NULL AND expires < $1")
            .bind(millis(&before))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Notes that a token was used (callers do it at most once a minute per token).
    pub async fn touch_token(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE api_token SET last_used = $2 WHERE id = $1")
            .bind(id)
            .bind(millis(&at))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Revokes a token and the sessions it opened; they stop working at once. Revoking twice
    /// keeps the first date.
    pub async fn revoke_token(&self, id: &str) -> Result<TokenRecord> {
        sqlx::query("UPDATE api_token SET revoked_date = coalesce(revoked_date, $2) WHERE id = $1 OR parent_id = $1")
            .bind(id)
            .bind(millis(&Utc::now()))
            .execute(&self.pool)
            .await?;
        self.token(id).await
    }
}

impl Store {
    /// How many sign-ins failed under `key` since `since`.
    pub async fn sign_in_failures(&self, key: &str, since: DateTime<Utc>) -> Result<i64> {
        let row = sqlx::query("SELECT count(*) FROM sign_in_failure WHERE key = $1 AND at > $2")
            .bind(key)
            .bind(millis(&since))
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get(0))
    }

    /// Counts sign-in `attempt` under each of `keys` as failed before it is checked, and
    /// answers the most failures any key has now, this one included. Each row is committed
    /// before the count is read, so attempts racing each other see one another: of many at
    /// once, only as many as the limit allows see a count within it. The attempt's rows stay
    /// if it fails; [`Store::drop_sign_in_attempt`] removes them otherwise. Rows of a key
    /// older than `forget_before` are removed on the way.
    pub async fn count_sign_in_attempt(
        &self,
        keys: &[&str],
        attempt: &str,
        at: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<i64> {
        for key in keys {
            sqlx::query("DELETE FROM sign_in_failure WHERE key = $1 AND at <= $2")
                .bind(*key)
                .bind(millis(&forget_before))
                .execute(&self.pool)
                .await?;
            sqlx::query("INSERT INTO sign_in_failure (key, at, attempt) VALUES ($1, $2, $3)")
                .bind(*key)
                .bind(millis(&at))
                .bind(attempt)
                .execute(&self.pool)
                .await?;
        }
        let mut most = 0;
        for key in keys {
            most = most.max(self.sign_in_failures(key, forget_before).await?);
        }
        Ok(most)
    }

    /// Removes what [`Store::count_sign_in_attempt`] counted for `attempt` (it succeeded, or
    /// was refused without a check).
    pub async fn drop_sign_in_attempt(&self, attempt: &str) -> Result<()> {
        sqlx::query("DELETE FROM sign_in_failure WHERE attempt = $1").bind(attempt).execute(&self.pool).await?;
        Ok(())
    }

    /// Forgets the failed sign-ins under `key` (it signed in).
    pub async fn clear_sign_in_failures(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM sign_in_failure WHERE key = $1").bind(key).execute(&self.pool).await?;
        Ok(())
    }
}
