//! Connected apps (OAuth2 clients): a client id signs one user in, with its secret (kept as its
//! SHA-256, as tokens are) or with JWT assertions signed by the key of its certificate.

use crate::{DbRow, Result, Store, StoreError, from_millis, millis, parse_id};
use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Row};
use swell_core::SalesforceId;

#[derive(Debug, Clone, PartialEq)]
pub struct ClientRecord {
    /// The client id (consumer key); not a secret.
    pub id: String,
    /// The user it signs in.
    pub user_id: SalesforceId,
    /// Hex SHA-256 of its secret.
    pub secret_hash: String,
    /// PEM of the certificate whose key signs its JWT assertions.
    pub certificate: Option<String>,
    pub created_date: DateTime<Utc>,
    pub revoked_date: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, user_id, secret_hash, certificate, created_date, revoked_date";

fn client(row: &DbRow) -> Result<ClientRecord> {
    Ok(ClientRecord {
        id: row.get(0),
        user_id: parse_id(row.get(1))?,
        secret_hash: row.get(2),
        certificate: row.get(3),
        created_date: from_millis(row.get(4)),
        revoked_date: row.get::<Option<i64>, _>(5).map(from_millis),
    })
}

impl Store {
    pub async fn create_client(
        &self,
        id: &str,
        user: &SalesforceId,
        secret_hash: &str,
        certificate: Option<&str>,
    ) -> Result<ClientRecord> {
        sqlx::query(
            "INSERT INTO oauth_client (id, user_id, secret_hash, certificate, created_date) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(user.as_str())
        .bind(secret_hash)
        .bind(certificate)
        .bind(millis(&Utc::now()))
        .execute(&self.pool)
        .await?;
        self.client(id).await?.ok_or_else(|| StoreError::NotFound(format!("client {id}")))
    }

    /// A client by id, revoked or not.
    pub async fn client(&self, id: &str) -> Result<Option<ClientRecord>> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM oauth_client WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(client).transpose()
    }

    pub async fn clients_of(&self, user: &SalesforceId) -> Result<Vec<ClientRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM oauth_client WHERE user_id = $1 ORDER BY created_date, id"
        )))
        .bind(user.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(client).collect()
    }

    /// Revokes a client and the tokens it made: it signs no one in from now on, and what it
    /// signed in stops at once. Revoking twice keeps the first date.
    pub async fn revoke_client(&self, id: &str) -> Result<ClientRecord> {
        let now = millis(&Utc::now());
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE oauth_client SET revoked_date = coalesce(revoked_date, $2) WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE api_token SET revoked_date = coalesce(revoked_date, $2) WHERE client_id = $1")
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.client(id).await?.ok_or_else(|| StoreError::NotFound(format!("client {id}")))
    }
}
