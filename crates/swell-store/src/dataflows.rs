//! Dataflows and their definition histories (the last 20 are kept).

use crate::who::{UserRef, user_ref, with_names};
use crate::{DbRow, Result, Store, StoreError, from_millis, millis, parse_id};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{AssertSqlSafe, Row};
use std::sync::LazyLock;
use swell_core::{AssetKind, KeyPrefix, SalesforceId};

/// `SELECT` of dataflow rows (alias `d`) with the names of who made and changed them.
static DATAFLOWS: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {} FROM dataflow d", with_names("d", &["created_by", "last_modified_by"])));
/// `SELECT` of history rows (alias `h`) with the name of who saved them.
static HISTORIES: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {} FROM dataflow_history h", with_names("h", &["created_by"])));

/// How many definition versions a dataflow keeps.
pub const HISTORY_LIMIT: i64 = 20;

#[derive(Debug, Clone, PartialEq)]
pub struct DataflowRecord {
    pub id: SalesforceId,
    pub name: String,
    pub label: String,
    pub description: Option<String>,
    pub definition: Value,
    /// Dataflow, Recipe (a recipe's target dataflow) or Sync (a connection's sync dataflow).
    pub kind: AssetKind,
    pub created_by: UserRef,
    pub created_date: DateTime<Utc>,
    pub last_modified_by: UserRef,
    pub last_modified_date: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRecord {
    pub id: SalesforceId,
    pub dataflow_id: SalesforceId,
    pub label: String,
    pub definition: Value,
    pub created_by: UserRef,
    pub created_date: DateTime<Utc>,
}

fn dataflow(row: &DbRow) -> Result<DataflowRecord> {
    let text: String = row.get("definition");
    Ok(DataflowRecord {
        id: parse_id(row.get("id"))?,
        name: row.get("name"),
        label: row.get("label"),
        description: row.get("description"),
        definition: serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        kind: AssetKind::parse(row.get("kind")).map_err(StoreError::Corrupt)?,
        created_by: user_ref(row, "created_by")?,
        created_date: from_millis(row.get("created_date")),
        last_modified_by: user_ref(row, "last_modified_by")?,
        last_modified_date: from_millis(row.get("last_modified_date")),
    })
}

fn history(row: &DbRow) -> Result<HistoryRecord> {
    let text: String = row.get("definition");
    Ok(HistoryRecord {
        id: parse_id(row.get("id"))?,
        dataflow_id: parse_id(row.get("dataflow_id"))?,
        label: row.get("label"),
        definition: serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        created_by: user_ref(row, "created_by")?,
        created_date: from_millis(row.get("created_date")),
    })
}

impl Store {
    /// Creates a dataflow and its first history entry, made by user `by`.
    pub async fn create_dataflow(
        &self,
        by: &SalesforceId,
        name: &str,
        label: &str,
        description: Option<&str>,
        definition: &Value,
    ) -> Result<DataflowRecord> {
        self.create_dataflow_of_kind(by, name, label, description, definition, AssetKind::Dataflow).await
    }

    pub(crate) async fn create_dataflow_of_kind(
        &self,
        by: &SalesforceId,
        name: &str,
        label: &str,
        description: Option<&str>,
        definition: &Value,
        kind: AssetKind,
    ) -> Result<DataflowRecord> {
        // dataflows, recipes and sync dataflows share one namespace of names, unique regardless
        // of case as an org's API names (and as data connections' here)
        let taken = sqlx::query(AssertSqlSafe(format!("{} WHERE lower(d.name) = lower($1)", *DATAFLOWS)))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        if let Some(taken) = taken.as_ref().map(dataflow).transpose()? {
            let case = if taken.name == name { "" } else { " (names are compared regardless of case)" };
            return Err(StoreError::Conflict(format!(
                "a {} named '{}' already exists{case}",
                taken.kind.word(),
                taken.name
            )));
        }
        let id = self.next_id(KeyPrefix::Dataflow).await?;
        let now = Utc::now();
        sqlx::query(
            "INSERT INTO dataflow (id, name, label, description, definition, kind, created_date, last_modified_date,
                                   created_by, last_modified_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $8)",
        )
        .bind(id.as_str())
        .bind(name)
        .bind(label)
        .bind(description)
        .bind(definition.to_string())
        .bind(kind.as_str())
        .bind(millis(&now))
        .bind(by.as_str())
        .execute(&self.pool)
        .await
        .map_err(|e| match e {
            // a concurrent create took the name between the check and the insert
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                StoreError::Conflict(format!("a dataflow or recipe named '{name}' already exists"))
            }
            other => other.into(),
        })?;
        self.add_history(by, &id, "Initial version", definition).await?;
        self.dataflow(&id).await
    }

    pub async fn dataflow(&self, id: &SalesforceId) -> Result<DataflowRecord> {
        let row = sqlx::query(AssertSqlSafe(format!("{} WHERE d.id = $1", *DATAFLOWS)))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(dataflow).transpose()?.ok_or_else(|| StoreError::NotFound(format!("dataflow {id}")))
    }

    pub async fn dataflow_by_name(&self, name: &str) -> Result<Option<DataflowRecord>> {
        let row = sqlx::query(AssertSqlSafe(format!("{} WHERE d.name = $1", *DATAFLOWS)))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(dataflow).transpose()
    }

    /// Dataflows whose name or label contains every word of `q` (case-insensitive), by label.
    /// The dataflows that run recipes are not listed, as in an org.
    pub async fn list_dataflows(&self, q: Option<&str>) -> Result<Vec<DataflowRecord>> {
        self.list_of_kind(AssetKind::Dataflow, q).await
    }

    pub(crate) async fn list_of_kind(&self, kind: AssetKind, q: Option<&str>) -> Result<Vec<DataflowRecord>> {
        let rows =
            sqlx::query(AssertSqlSafe(format!("{} WHERE d.kind = $1 ORDER BY lower(d.label), d.id", *DATAFLOWS)))
                .bind(kind.as_str())
                .fetch_all(&self.pool)
                .await?;
        let words: Vec<String> = q.unwrap_or("").split_whitespace().map(|w| w.to_lowercase()).collect();
        rows.iter()
            .map(dataflow)
            .filter(|r| match r {
                Ok(d) => {
                    let hay = format!("{} {}", d.name, d.label).to_lowercase();
                    words.iter().all(|w| hay.contains(w.trim_end_matches('*')))
                }
                Err(_) => true,
            })
            .collect()
    }

    /// Replaces the definition (and optionally label/description) and records a history entry,
    /// changed by user `by`.
    pub async fn update_dataflow(
        &self,
        by: &SalesforceId,
        id: &SalesforceId,
        label: Option<&str>,
        description: Option<&str>,
        definition: Option<&Value>,
        history_label: Option<&str>,
    ) -> Result<DataflowRecord> {
        let current = self.dataflow(id).await?;
        let now = Utc::now();
        sqlx::query(
            "UPDATE dataflow SET label = $2, description = $3, definition = $4, last_modified_date = $5,
                                 last_modified_by = $6 WHERE id = $1",
        )
        .bind(id.as_str())
        .bind(label.unwrap_or(&current.label))
        .bind(description.or(current.description.as_deref()))
        .bind(definition.unwrap_or(&current.definition).to_string())
        .bind(millis(&now))
        .bind(by.as_str())
        .execute(&self.pool)
        .await?;
        if let Some(def) = definition {
            self.add_history(by, id, history_label.unwrap_or("Updated"), def).await?;
        }
        self.dataflow(id).await
    }

    async fn add_history(
        &self,
        by: &SalesforceId,
        dataflow_id: &SalesforceId,
        label: &str,
        definition: &Value,
    ) -> Result<()> {
        let id = self.next_id(KeyPrefix::History).await?;
        sqlx::query(
            "INSERT INTO dataflow_history (id, dataflow_id, label, definition, created_date, created_by)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.as_str())
        .bind(dataflow_id.as_str())
        .bind(label)
        .bind(definition.to_string())
        .bind(millis(&Utc::now()))
        .bind(by.as_str())
        .execute(&self.pool)
        .await?;
        // keep the newest HISTORY_LIMIT
        sqlx::query(
            "DELETE FROM dataflow_history WHERE dataflow_id = $1 AND id NOT IN
               (SELECT id FROM dataflow_history WHERE dataflow_id = $1 ORDER BY created_date DESC, id DESC LIMIT $2)",
        )
        .bind(dataflow_id.as_str())
        .bind(HISTORY_LIMIT)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Histories, newest first.
    pub async fn histories(&self, dataflow_id: &SalesforceId) -> Result<Vec<HistoryRecord>> {
        self.dataflow(dataflow_id).await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "{} WHERE h.dataflow_id = $1 ORDER BY h.created_date DESC, h.id DESC",
            *HISTORIES
        )))
        .bind(dataflow_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(history).collect()
    }

    /// Makes a saved definition current again (recorded as a new history entry).
    pub async fn revert_dataflow(
        &self,
        by: &SalesforceId,
        id: &SalesforceId,
        history_id: &SalesforceId,
        label: Option<&str>,
    ) -> Result<DataflowRecord> {
        let row = sqlx::query(AssertSqlSafe(format!("{} WHERE h.id = $1 AND h.dataflow_id = $2", *HISTORIES)))
            .bind(history_id.as_str())
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        let h = row
            .as_ref()
            .map(history)
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(format!("history {history_id} of dataflow {id}")))?;
        let label = label.map(str::to_string).unwrap_or_else(|| format!("Reverted to {}", h.label));
        self.update_dataflow(by, id, None, None, Some(&h.definition), Some(&label)).await
    }

    /// Deletes a dataflow with its histories, jobs and schedule. Refused while one of its jobs
    /// is queued or running (stop it first), as an org refuses it.
    pub async fn delete_dataflow(&self, id: &SalesforceId) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        delete_dataflow_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Deletes a dataflow and its schedule inside the caller's transaction, unless it has a queued
/// or running job (a conflict: the caller's transaction then changes nothing).
pub(crate) async fn delete_dataflow_in(conn: &mut sqlx::AnyConnection, id: &SalesforceId) -> Result<()> {
    // writes first (undone with the transaction on a conflict): SQLite cannot upgrade a
    // transaction that read first while another connection writes
    sqlx::query("DELETE FROM schedule WHERE asset_id = $1").bind(id.as_str()).execute(&mut *conn).await?;
    sqlx::query("DELETE FROM schedule_firing WHERE asset_id = $1").bind(id.as_str()).execute(&mut *conn).await?;
    let active: i64 =
        sqlx::query("SELECT count(*) FROM job WHERE dataflow_id = $1 AND status IN ('Queued', 'Running')")
            .bind(id.as_str())
            .fetch_one(&mut *conn)
            .await?
            .get(0);
    if active > 0 {
        return Err(StoreError::Conflict(format!(
            "dataflow {id} has a queued or running job: stop it before deleting the dataflow"
        )));
    }
    let done = sqlx::query("DELETE FROM dataflow WHERE id = $1").bind(id.as_str()).execute(&mut *conn).await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("dataflow {id}")));
    }
    Ok(())
}
