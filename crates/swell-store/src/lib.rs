//! swell-store: the metadata store. Dataflows and their histories, jobs with every status
//! transition, job nodes, datasets and their versions, schedules and the ticks they fired.
//!
//! SQL lives here and nowhere else. The embedded default is SQLite (a file in the data dir,
//! WAL, foreign keys on, migrations embedded in the binary). Queries use `$n` placeholders and
//! portable types (epoch-millisecond integers, JSON as text), so that the same SQL runs on the
//! PostgreSQL backend (`postgres://` URLs; several servers may share one database).
//!
//! Concurrency: the store is a cheap clone around a connection pool; every mutation that must
//! not race (claiming a job, a status change) is a compare-and-set on the row.

mod asset_lists;
mod audit;
mod clients;
mod connectors;
mod dataflows;
mod datasets;
mod job_lists;
mod jobs;
mod recipes;
mod rules;
mod schedules;
mod users;
mod who;

pub use asset_lists::{AssetSummary, ConnectionSummary, LastRun};
pub use audit::{AuditEvent, AuditFilter, NewAuditEvent, Outcome};
pub use clients::ClientRecord;
pub use connectors::{ConnectorRecord, ReplicatedPatch, ReplicatedRecord, SyncRecord, sync_dataflow_name};
pub use dataflows::{DataflowRecord, HistoryRecord};
pub use datasets::{DatasetRecord, DatasetVersionRecord};
pub use job_lists::{JobFilter, JobKey};
pub use jobs::{JobRecord, NewVersion, NodeRecord, NodeState, PendingSuccess, Queued};
pub use recipes::RecipeRecord;
pub use rules::Rules;
pub use schedules::{Firing, ScheduleRecord, Start, Tick};
pub use users::{ADMIN_USERNAME, TokenRecord, UserRecord, admin_id};
pub use who::UserRef;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::any::AnyPoolOptions;

type AnyPool = sqlx::Pool<sqlx::Any>;
use sqlx::{Executor, Row};
use swell_core::{KeyPrefix, SalesforceId};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("invalid transition: {0}")]
    Transition(#[from] swell_core::TransitionError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A value the store refuses to keep (a name that cannot be a file name).
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The metadata store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    /// Counts this process's writes of jobs and their nodes, so that live views wake at once
    /// ([`Store::watch_jobs`]); what changed is read back by time ([`Store::jobs_changed_since`]),
    /// which also sees the writes of other servers sharing the database.
    job_writes: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
}

/// The rows of the store's queries, whatever the backend.
pub(crate) type DbRow = sqlx::any::AnyRow;

impl Store {
    /// Opens (creating if needed) the database at `url` and applies pending migrations:
    /// `sqlite://path/to/swell.db`, `sqlite::memory:` or `postgres://user@host/db`.
    pub async fn open(url: &str) -> Result<Store> {
        static DRIVERS: std::sync::Once = std::sync::Once::new();
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let sqlite = url.starts_with("sqlite:");
        let memory = url.contains(":memory:");
        let url = if sqlite && !memory && !url.contains('?') { format!("{url}?mode=rwc") } else { url.to_string() };
        let pool = AnyPoolOptions::new()
            // one connection for an in-memory database: each connection would be its own database
            .max_connections(if memory { 1 } else { 8 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if conn.backend_name().eq_ignore_ascii_case("sqlite") {
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        if !memory {
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = NORMAL").await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        let store = Store { pool, job_writes: std::sync::Arc::new(tokio::sync::watch::channel(0).0) };
        // the user of the server's own token: created with the store, so every record can name it
        store.ensure_admin("swell admin").await?;
        Ok(store)
    }

    /// Runs one administrative statement (tests create and drop databases with it). Only with
    /// the `test-support` feature: the binary has no way to run arbitrary SQL.
    #[cfg(feature = "test-support")]
    pub async fn execute_admin(&self, sql: &str) -> Result<()> {
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(&self.pool).await?;
        Ok(())
    }

    /// A new id of the given kind.
    pub async fn next_id(&self, prefix: KeyPrefix) -> Result<SalesforceId> {
        let mut conn = self.pool.acquire().await?;
        next_id_in(&mut conn, prefix).await
    }
}

/// A new id of the given kind, inside the caller's connection or transaction.
pub(crate) async fn next_id_in(conn: &mut sqlx::AnyConnection, prefix: KeyPrefix) -> Result<SalesforceId> {
    let row = sqlx::query(
        "INSERT INTO id_sequence (prefix, next_value) VALUES ($1, 1)
         ON CONFLICT (prefix) DO UPDATE SET next_value = id_sequence.next_value + 1
         RETURNING next_value",
    )
    .bind(prefix.as_str())
    .fetch_one(conn)
    .await?;
    let n: i64 = row.get(0);
    Ok(SalesforceId::new(prefix, n as u64))
}

pub(crate) fn millis(d: &DateTime<Utc>) -> i64 {
    d.timestamp_millis()
}

pub(crate) fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

pub(crate) fn parse_id(s: &str) -> Result<SalesforceId> {
    SalesforceId::parse(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Escapes `%`, `_` and `\` for a LIKE pattern (used with `ESCAPE '\'`).
pub(crate) fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}
