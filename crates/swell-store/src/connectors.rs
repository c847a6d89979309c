//! Data connections (0It) and connected objects (0Iu).
//!
//! A connection owns a hidden dataflow of kind `sync` named `sync:<name>` (no dataflow name
//! can contain a colon): its datasync jobs run on that dataflow, so the queue, the
//! one-queued-job rule, stop and schedules are the ones dataflows and recipes use.
//!
//! A connected object's sync settings (mode, filter, fields) carry a version that every change
//! bumps; a sync records the version it ran with, so "changed since the last sync" is one
//! comparison.

use crate::who::{UserRef, user_ref, with_names};
use crate::{DbRow, Result, Store, StoreError, from_millis, millis, parse_id};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{AssertSqlSafe, Row};
use std::sync::LazyLock;
use swell_core::{AssetKind, ConnectionMode, KeyPrefix, SalesforceId, SyncStatus};

/// `SELECT` of connection rows (alias `c`) with the names of who made and changed them.
static CONNECTORS: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {} FROM data_connector c", with_names("c", &["created_by", "last_modified_by"])));
/// `SELECT` of connected object rows (alias `r`) with the names of who made and changed them.
static REPLICATED: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {} FROM replicated_dataset r", with_names("r", &["created_by", "last_modified_by"]))
});

#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorRecord {
    pub id: SalesforceId,
    pub name: String,
    pub label: String,
    pub description: Option<String>,
    pub connector_type: String,
    /// `(name, value)` in the order given; secrets included (never send them out).
    pub properties: Vec<(String, String)>,
    /// The hidden dataflow its sync jobs run on.
    pub dataflow_id: SalesforceId,
    pub created_by: UserRef,
    pub created_date: DateTime<Utc>,
    pub last_modified_by: UserRef,
    pub last_modified_date: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReplicatedRecord {
    pub id: SalesforceId,
    pub connector_id: SalesforceId,
    pub source_object: String,
    pub connection_mode: ConnectionMode,
    pub full_refresh: bool,
    pub pass_through_filter: Option<String>,
    pub row_level_sharing: bool,
    pub advanced_properties: Value,
    /// The replicated fields (JSON objects), `None` until first described.
    pub fields: Option<Value>,
    pub settings_version: i64,
    pub synced_settings_version: Option<i64>,
    /// Of its last sync.
    pub status: SyncStatus,
    pub last_refreshed: Option<DateTime<Utc>>,
    pub watermark: Option<DateTime<Utc>>,
    pub last_full_sync: Option<DateTime<Utc>>,
    pub created_by: UserRef,
    pub created_date: DateTime<Utc>,
    pub last_modified_by: UserRef,
    pub last_modified_date: DateTime<Utc>,
}

impl ReplicatedRecord {
    /// Whether the next run of a dataflow reading it must sync it first: never synced, or its
    /// settings changed since.
    pub fn needs_sync(&self) -> bool {
        self.synced_settings_version != Some(self.settings_version)
    }
}

/// Changes to a connected object's settings (`None` = unchanged).
#[derive(Debug, Clone, Default)]
pub struct ReplicatedPatch {
    pub connection_mode: Option<ConnectionMode>,
    pub full_refresh: Option<bool>,
    pub pass_through_filter: Option<Option<String>>,
    pub row_level_sharing: Option<bool>,
    pub advanced_properties: Option<Value>,
    pub fields: Option<Value>,
}

/// What a finished sync records on a connected object.
#[derive(Debug, Clone)]
pub struct SyncRecord {
    pub status: SyncStatus,
    pub at: DateTime<Utc>,
    /// Set on success: the settings version it ran with, the watermark, whether it ran full.
    pub success: Option<(i64, Option<DateTime<Utc>>, bool)>,
}

pub(crate) fn connector(row: &DbRow) -> Result<ConnectorRecord> {
    let text: String = row.get("properties");
    let json: Vec<Value> = serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let properties = json
        .iter()
        .filter_map(|p| Some((p.get("name")?.as_str()?.to_string(), p.get("value")?.as_str()?.to_string())))
        .collect();
    Ok(ConnectorRecord {
        id: parse_id(row.get("id"))?,
        name: row.get("name"),
        label: row.get("label"),
        description: row.get("description"),
        connector_type: row.get("connector_type"),
        properties,
        dataflow_id: parse_id(row.get("dataflow_id"))?,
        created_by: user_ref(row, "created_by")?,
        created_date: from_millis(row.get("created_date")),
        last_modified_by: user_ref(row, "last_modified_by")?,
        last_modified_date: from_millis(row.get("last_modified_date")),
    })
}

fn properties_json(properties: &[(String, String)]) -> String {
    Value::Array(properties.iter().map(|(n, v)| serde_json::json!({"name": n, "value": v})).collect()).to_string()
}

fn json_column(row: &DbRow, name: &str) -> Result<Option<Value>> {
    row.get::<Option<String>, _>(name)
        .map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}

fn replicated(row: &DbRow) -> Result<ReplicatedRecord> {
    Ok(ReplicatedRecord {
        id: parse_id(row.get("id"))?,
        connector_id: parse_id(row.get("connector_id"))?,
        source_object: row.get("source_object"),
        connection_mode: {
            let m: String = row.get("connection_mode");
            ConnectionMode::parse(&m).ok_or_else(|| StoreError::Corrupt(format!("connection mode {m}")))?
        },
        full_refresh: row.get::<i64, _>("full_refresh") != 0,
        pass_through_filter: row.get("pass_through_filter"),
        row_level_sharing: row.get::<i64, _>("row_level_sharing") != 0,
        advanced_properties: json_column(row, "advanced_properties")?.unwrap_or(Value::Array(vec![])),
        fields: json_column(row, "fields")?,
        settings_version: row.get("settings_version"),
        synced_settings_version: row.get("synced_settings_version"),
        status: {
            let s: String = row.get("status");
            SyncStatus::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("sync status {s}")))?
        },
        last_refreshed: row.get::<Option<i64>, _>("last_refreshed").map(from_millis),
        watermark: row.get::<Option<i64>, _>("watermark").map(from_millis),
        last_full_sync: row.get::<Option<i64>, _>("last_full_sync").map(from_millis),
        created_by: user_ref(row, "created_by")?,
        created_date: from_millis(row.get("created_date")),
        last_modified_by: user_ref(row, "last_modified_by")?,
        last_modified_date: from_millis(row.get("last_modified_date")),
    })
}

/// The name of a connection's sync dataflow.
pub fn sync_dataflow_name(connector_name: &str) -> String {
    format!("sync:{connector_name}")
}

impl Store {
    /// Creates a connection and its sync dataflow, made by user `by`. A taken name is a
    /// conflict.
    pub async fn create_connector(
        &self,
        by: &SalesforceId,
        name: &str,
        label: &str,
        description: Option<&str>,
        connector_type: &str,
        properties: &[(String, String)],
    ) -> Result<ConnectorRecord> {
        // its objects' data is stored in a folder named after it
        swell_core::PathName::parse(name).map_err(|e| StoreError::Invalid(format!("name: {e}")))?;
        // API names are unique regardless of case, as an org's are; their folders would also
        // be one folder on a case-insensitive file system (macOS, Windows)
        let taken: Option<String> = sqlx::query_scalar("SELECT name FROM data_connector WHERE lower(name) = lower($1)")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        if let Some(taken) = taken {
            return Err(StoreError::Conflict(format!(
                "a data connection named '{taken}' already exists (names are compared regardless of case)"
            )));
        }
        let definition = serde_json::json!({"connector": name});
        let dataflow = self
            .create_dataflow_of_kind(by, &sync_dataflow_name(name), label, description, &definition, AssetKind::Sync)
            .await
            .map_err(|e| match e {
                // a concurrent create of the same name (any case) took the sync dataflow's
                StoreError::Conflict(_) => StoreError::Conflict(format!(
                    "a data connection named '{name}' already exists (names are compared regardless of case)"
                )),
                other => other,
            })?;
        let id = self.next_id(KeyPrefix::DataConnector).await?;
        let now = millis(&Utc::now());
        let inserted = sqlx::query(
            "INSERT INTO data_connector (id, name, label, description, connector_type, properties, dataflow_id,
                                         created_date, last_modified_date, created_by, last_modified_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $9)",
        )
        .bind(id.as_str())
        .bind(name)
        .bind(label)
        .bind(description)
        .bind(connector_type)
        .bind(properties_json(properties))
        .bind(dataflow.id.as_str())
        .bind(now)
        .bind(by.as_str())
        .execute(&self.pool)
        .await;
        if let Err(e) = inserted {
            // a concurrent create took the name: undo the dataflow
            let _ = self.delete_dataflow(&dataflow.id).await;
            return Err(match e {
                sqlx::Error::Database(d) if d.is_unique_violation() => {
                    StoreError::Conflict(format!("a data connection named '{name}' already exists"))
                }
                other => other.into(),
            });
        }
        self.connector(&id).await
    }

    async fn connector_where(&self, column: &str, value: &str) -> Result<Option<ConnectorRecord>> {
        let sql = format!("{} WHERE c.{column} = $1", *CONNECTORS);
        let row = sqlx::query(AssertSqlSafe(sql)).bind(value).fetch_optional(&self.pool).await?;
        row.as_ref().map(connector).transpose()
    }

    pub async fn connector(&self, id: &SalesforceId) -> Result<ConnectorRecord> {
        self.connector_where("id", id.as_str())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("data connection {id}")))
    }

    pub async fn connector_by_name(&self, name: &str) -> Result<Option<ConnectorRecord>> {
        self.connector_where("name", name).await
    }

    /// A connection by id (15 or 18 characters) or API name.
    pub async fn find_connector(&self, id_or_name: &str) -> Result<Option<ConnectorRecord>> {
        if let Ok(id) = SalesforceId::parse(id_or_name)
            && id.has_prefix(KeyPrefix::DataConnector)
            && let Some(c) = self.connector_where("id", id.as_str()).await?
        {
            return Ok(Some(c));
        }
        self.connector_by_name(id_or_name).await
    }

    /// The connection whose sync jobs run on `dataflow_id`.
    pub async fn connector_of_dataflow(&self, dataflow_id: &SalesforceId) -> Result<Option<ConnectorRecord>> {
        self.connector_where("dataflow_id", dataflow_id.as_str()).await
    }

    pub async fn list_connectors(&self) -> Result<Vec<ConnectorRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!("{} ORDER BY lower(c.label), c.id", *CONNECTORS)))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(connector).collect()
    }

    /// Changes label, description and properties (the type and name stay), by user `by`.
    pub async fn update_connector(
        &self,
        by: &SalesforceId,
        id: &SalesforceId,
        label: Option<&str>,
        description: Option<Option<&str>>,
        properties: Option<&[(String, String)]>,
    ) -> Result<ConnectorRecord> {
        let current = self.connector(id).await?;
        let label = label.unwrap_or(&current.label);
        let description = description.unwrap_or(current.description.as_deref());
        let properties = properties.unwrap_or(&current.properties);
        sqlx::query(
            "UPDATE data_connector SET label = $1, description = $2, properties = $3, last_modified_date = $4,
                                       last_modified_by = $6
             WHERE id = $5",
        )
        .bind(label)
        .bind(description)
        .bind(properties_json(properties))
        .bind(millis(&Utc::now()))
        .bind(id.as_str())
        .bind(by.as_str())
        .execute(&self.pool)
        .await?;
        self.connector(id).await
    }

    /// Deletes a connection with its sync dataflow, jobs and schedule. Refused while it has
    /// connected objects or a sync is queued or running.
    pub async fn delete_connector(&self, id: &SalesforceId) -> Result<()> {
        let c = self.connector(id).await?;
        let objects = self.replicated_of(id).await?;
        if !objects.is_empty() {
            let names: Vec<&str> = objects.iter().map(|o| o.source_object.as_str()).collect();
            return Err(StoreError::Conflict(format!(
                "the data connection '{}' still has connected objects ({}); delete them first",
                c.name,
                names.join(", ")
            )));
        }
        // one transaction: a refused delete (its sync is queued or running) changes nothing
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM data_connector WHERE id = $1").bind(id.as_str()).execute(&mut *tx).await?;
        match crate::dataflows::delete_dataflow_in(&mut tx, &c.dataflow_id).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => {
                return Err(StoreError::Conflict(format!(
                    "the data connection '{}' is syncing (its sync job is queued or running): stop it before \
                     deleting the connection",
                    c.name
                )));
            }
            Err(e) => return Err(e),
        }
        sqlx::query("DELETE FROM schedule WHERE asset_id = $1").bind(id.as_str()).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM schedule_firing WHERE asset_id = $1").bind(id.as_str()).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds an object to a connection, by user `by`. Adding one that is already there is a
    /// conflict.
    pub async fn create_replicated(
        &self,
        by: &SalesforceId,
        connector_id: &SalesforceId,
        source_object: &str,
        patch: &ReplicatedPatch,
    ) -> Result<ReplicatedRecord> {
        // the object's synced data is stored in a folder named after it
        swell_core::PathName::parse(source_object)
            .map_err(|e| StoreError::Invalid(format!("sourceObjectName: {e}")))?;
        let c = self.connector(connector_id).await?;
        if self.replicated_by_object(connector_id, source_object).await?.is_some() {
            return Err(StoreError::Conflict(format!(
                "the object '{source_object}' is already part of the data connection '{}'",
                c.name
            )));
        }
        let id = self.next_id(KeyPrefix::ReplicatedDataset).await?;
        let now = millis(&Utc::now());
        let inserted = sqlx::query(
            "INSERT INTO replicated_dataset (id, connector_id, source_object, connection_mode, full_refresh,
                 pass_through_filter, row_level_sharing, advanced_properties, fields, created_date, last_modified_date,
                 created_by, last_modified_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $11)",
        )
        .bind(id.as_str())
        .bind(connector_id.as_str())
        .bind(source_object)
        .bind(patch.connection_mode.unwrap_or_default().as_str())
        .bind(patch.full_refresh.unwrap_or(false) as i64)
        .bind(patch.pass_through_filter.clone().flatten())
        .bind(patch.row_level_sharing.unwrap_or(false) as i64)
        .bind(patch.advanced_properties.clone().unwrap_or(Value::Array(vec![])).to_string())
        .bind(patch.fields.as_ref().map(Value::to_string))
        .bind(now)
        .bind(by.as_str())
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => self.replicated(&id).await,
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => Err(StoreError::Conflict(format!(
                "the object '{source_object}' is already part of the data connection '{}'",
                c.name
            ))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn replicated(&self, id: &SalesforceId) -> Result<ReplicatedRecord> {
        let row = sqlx::query(AssertSqlSafe(format!("{} WHERE r.id = $1", *REPLICATED)))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(replicated).transpose()?.ok_or_else(|| StoreError::NotFound(format!("connected object {id}")))
    }

    pub async fn replicated_by_object(
        &self,
        connector_id: &SalesforceId,
        source_object: &str,
    ) -> Result<Option<ReplicatedRecord>> {
        let row =
            sqlx::query(AssertSqlSafe(format!("{} WHERE r.connector_id = $1 AND r.source_object = $2", *REPLICATED)))
                .bind(connector_id.as_str())
                .bind(source_object)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(replicated).transpose()
    }

    /// The objects of one connection, by name.
    pub async fn replicated_of(&self, connector_id: &SalesforceId) -> Result<Vec<ReplicatedRecord>> {
        let rows =
            sqlx::query(AssertSqlSafe(format!("{} WHERE r.connector_id = $1 ORDER BY r.source_object", *REPLICATED)))
                .bind(connector_id.as_str())
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(replicated).collect()
    }

    /// Every connected object, by connection and name.
    pub async fn list_replicated(&self) -> Result<Vec<ReplicatedRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!("{} ORDER BY r.connector_id, r.source_object", *REPLICATED)))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(replicated).collect()
    }

    /// Changes sync settings, by user `by`; any change bumps the settings version.
    pub async fn update_replicated(
        &self,
        by: &SalesforceId,
        id: &SalesforceId,
        patch: &ReplicatedPatch,
    ) -> Result<ReplicatedRecord> {
        let r = self.replicated(id).await?;
        let mode = patch.connection_mode.unwrap_or(r.connection_mode);
        let full_refresh = patch.full_refresh.unwrap_or(r.full_refresh);
        let filter = patch.pass_through_filter.clone().unwrap_or(r.pass_through_filter.clone());
        let rls = patch.row_level_sharing.unwrap_or(r.row_level_sharing);
        let advanced = patch.advanced_properties.clone().unwrap_or(r.advanced_properties.clone());
        let fields = patch.fields.clone().or(r.fields.clone());
        let changed = mode != r.connection_mode
            || filter != r.pass_through_filter
            || advanced != r.advanced_properties
            || fields != r.fields
            || (full_refresh && !r.full_refresh);
        sqlx::query(
            "UPDATE replicated_dataset SET connection_mode = $1, full_refresh = $2, pass_through_filter = $3,
                 row_level_sharing = $4, advanced_properties = $5, fields = $6,
                 settings_version = settings_version + $7, last_modified_date = $8, last_modified_by = $10
             WHERE id = $9",
        )
        .bind(mode.as_str())
        .bind(full_refresh as i64)
        .bind(filter)
        .bind(rls as i64)
        .bind(advanced.to_string())
        .bind(fields.as_ref().map(Value::to_string))
        .bind(changed as i64)
        .bind(millis(&Utc::now()))
        .bind(id.as_str())
        .bind(by.as_str())
        .execute(&self.pool)
        .await?;
        self.replicated(id).await
    }

    /// Records the described fields of an object that had none, without counting it as a
    /// change of settings (nothing the user chose changed).
    pub async fn init_replicated_fields(&self, id: &SalesforceId, fields: &Value) -> Result<ReplicatedRecord> {
        sqlx::query("UPDATE replicated_dataset SET fields = $1 WHERE id = $2 AND fields IS NULL")
            .bind(fields.to_string())
            .bind(id.as_str())
            .execute(&self.pool)
            .await?;
        self.replicated(id).await
    }

    pub async fn delete_replicated(&self, id: &SalesforceId) -> Result<()> {
        let done =
            sqlx::query("DELETE FROM replicated_dataset WHERE id = $1").bind(id.as_str()).execute(&self.pool).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("connected object {id}")));
        }
        Ok(())
    }

    /// Records the end of a sync of one object.
    pub async fn record_sync(&self, id: &SalesforceId, record: &SyncRecord) -> Result<()> {
        match record.success {
            Some((version, watermark, full)) => {
                sqlx::query(
                    "UPDATE replicated_dataset SET status = $1, last_refreshed = $2, synced_settings_version = $3,
                         watermark = $4, full_refresh = 0,
                         last_full_sync = CASE WHEN $5 = 1 THEN $2 ELSE last_full_sync END
                     WHERE id = $6",
                )
                .bind(record.status.as_str())
                .bind(millis(&record.at))
                .bind(version)
                .bind(watermark.as_ref().map(millis))
                .bind(full as i64)
                .bind(id.as_str())
                .execute(&self.pool)
                .await?;
            }
            None => {
                sqlx::query("UPDATE replicated_dataset SET status = $1 WHERE id = $2")
                    .bind(record.status.as_str())
                    .bind(id.as_str())
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// Records which sync dataflows a job synced before it ran.
    pub async fn set_job_syncs(&self, job_id: &SalesforceId, dataflows: &[SalesforceId]) -> Result<()> {
        let json = Value::Array(dataflows.iter().map(|d| Value::String(d.to_string())).collect()).to_string();
        sqlx::query("UPDATE job SET sync_dataflows = $1 WHERE id = $2")
            .bind(json)
            .bind(job_id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
