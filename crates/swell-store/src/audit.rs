//! The audit log: every change, every refused one and every failed sign-in, with who, when,
//! which asset and how it ended. Rows are only ever added; `seq` numbers them in the order
//! they were written (one counter in `id_sequence`, shared by every server on the database).

use crate::{DbRow, Result, Store, StoreError, from_millis, millis, parse_id};
use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Row};
use swell_core::SalesforceId;

/// How a change ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Done.
    Success,
    /// The user's role does not allow it (403).
    Refused,
    /// A sign-in with a wrong username or password, or while locked out.
    Failed,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Success, Outcome::Refused, Outcome::Failed];

    /// The stored and shown spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.iter().copied().find(|o| o.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// An event to add.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEvent<'a> {
    /// The user who acted; `None` for a sign-in under a username that does not exist.
    pub user_id: Option<&'a SalesforceId>,
    pub username: &'a str,
    /// What they did, as swell-app spells its actions (`start job`).
    pub action: &'a str,
    pub asset_id: Option<&'a SalesforceId>,
    pub asset_name: Option<&'a str>,
    pub outcome: Outcome,
    /// The refusal's message, the failed sign-in's reason, or a change's detail (a new role).
    pub detail: Option<&'a str>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub user_id: Option<SalesforceId>,
    pub username: String,
    pub action: String,
    pub asset_id: Option<SalesforceId>,
    pub asset_name: Option<String>,
    pub outcome: Outcome,
    pub detail: Option<String>,
}

/// Which events to read, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only events older than this one (the next page after an event).
    pub before: Option<i64>,
    pub user_id: Option<SalesforceId>,
    /// Events under this username, in any case (also failed sign-ins of names no user has).
    pub username: Option<String>,
    pub asset_id: Option<SalesforceId>,
    pub action: Option<String>,
    pub outcome: Option<Outcome>,
    pub since: Option<DateTime<Utc>>,
    pub limit: i64,
}

fn event(row: &DbRow) -> Result<AuditEvent> {
    let outcome: String = row.get("outcome");
    Ok(AuditEvent {
        seq: row.get("seq"),
        at: from_millis(row.get("at")),
        user_id: row.get::<Option<String>, _>("user_id").as_deref().map(parse_id).transpose()?,
        username: row.get("username"),
        action: row.get("action"),
        asset_id: row.get::<Option<String>, _>("asset_id").as_deref().map(parse_id).transpose()?,
        asset_name: row.get("asset_name"),
        outcome: Outcome::parse(&outcome).ok_or_else(|| StoreError::Corrupt(format!("audit outcome {outcome}")))?,
        detail: row.get("detail"),
    })
}

impl Store {
    /// Adds an event; returns its number.
    pub async fn add_audit_event(&self, e: &NewAuditEvent<'_>) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let seq: i64 = sqlx::query(
            "INSERT INTO id_sequence (prefix, next_value) VALUES ('audit', 1)
             ON CONFLICT (prefix) DO UPDATE SET next_value = id_sequence.next_value + 1
             RETURNING next_value",
        )
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        sqlx::query(
            "INSERT INTO audit_event (seq, at, user_id, username, action, asset_id, asset_name, outcome, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(seq)
        .bind(millis(&Utc::now()))
        .bind(e.user_id.map(|u| u.as_str().to_string()))
        .bind(e.username)
        .bind(e.action)
        .bind(e.asset_id.map(|a| a.as_str().to_string()))
        .bind(e.asset_name)
        .bind(e.outcome.as_str())
        .bind(e.detail)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// Events matching `f`, newest first, at most `f.limit`.
    pub async fn audit_events(&self, f: &AuditFilter) -> Result<Vec<AuditEvent>> {
        let mut conditions = Vec::new();
        let mut n = 0;
        let mut next = |c: &str| {
            n += 1;
            // `?` marks where the parameter goes
            conditions.push(c.replace('?', &format!("${n}")));
        };
        if f.before.is_some() {
            next("seq < ?");
        }
        if f.user_id.is_some() {
            next("user_id = ?");
        }
        if f.username.is_some() {
            next("lower(username) = lower(?)");
        }
        if f.asset_id.is_some() {
            next("asset_id = ?");
        }
        if f.action.is_some() {
            next("action = ?");
        }
        if f.outcome.is_some() {
            next("outcome = ?");
        }
        if f.since.is_some() {
            next("at >= ?");
        }
        let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let sql = format!("SELECT * FROM audit_event {filter} ORDER BY seq DESC LIMIT {}", f.limit.max(0));
        let mut q = sqlx::query(AssertSqlSafe(sql));
        if let Some(b) = f.before {
            q = q.bind(b);
        }
        if let Some(u) = &f.user_id {
            q = q.bind(u.as_str());
        }
        if let Some(u) = &f.username {
            q = q.bind(u.as_str());
        }
        if let Some(a) = &f.asset_id {
            q = q.bind(a.as_str());
        }
        if let Some(a) = &f.action {
            q = q.bind(a.as_str());
        }
        if let Some(o) = f.outcome {
            q = q.bind(o.as_str());
        }
        if let Some(s) = &f.since {
            q = q.bind(millis(s));
        }
        q.fetch_all(&self.pool).await?.iter().map(event).collect()
    }
}
