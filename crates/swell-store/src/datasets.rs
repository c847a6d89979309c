//! Datasets and their versions, mirroring what the engine committed under the data dir.

use crate::jobs::NewVersion;
use crate::who::{UserRef, user_ref, with_names};
use crate::{DbRow, Result, Store, StoreError, from_millis, millis, parse_id};
use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Row};
use std::sync::LazyLock;
use swell_core::{KeyPrefix, SalesforceId};

/// `SELECT` of dataset rows (alias `d`) with the names of who made and changed them.
static DATASETS: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {} FROM dataset d", with_names("d", &["created_by", "last_modified_by"])));
/// The select list of version rows (alias `v`) with the name of who made them.
static VERSION_COLUMNS: LazyLock<String> = LazyLock::new(|| with_names("v", &["created_by"]));

#[derive(Debug, Clone, PartialEq)]
pub struct DatasetRecord {
    pub id: SalesforceId,
    pub name: String,
    pub label: String,
    pub current_version_id: Option<SalesforceId>,
    pub created_by: UserRef,
    pub created_date: DateTime<Utc>,
    /// Who made its current version, or made an earlier one current again.
    pub last_modified_by: UserRef,
    pub last_modified_date: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DatasetVersionRecord {
    pub id: SalesforceId,
    pub dataset_id: SalesforceId,
    pub storage_version: String,
    pub row_count: i64,
    pub job_id: Option<SalesforceId>,
    /// Who started the job that wrote it.
    pub created_by: UserRef,
    pub created_date: DateTime<Utc>,
}

/// `%word%` for `LIKE … ESCAPE '\'`, lowercased, with the word's own `%`, `_` and `\`
/// matching themselves.
fn like_pattern(word: &str) -> String {
    let escaped: String = word
        .to_lowercase()
        .chars()
        .flat_map(|c| if matches!(c, '%' | '_' | '\\') { vec!['\\', c] } else { vec![c] })
        .collect();
    format!("%{escaped}%")
}

/// Records a version of dataset `v.name` (created on first use) and makes it current, inside
/// the caller's transaction, written by job `job_id` that user `by` started. Returns the
/// dataset's and the version's ids.
pub(crate) async fn record_version_in(
    conn: &mut sqlx::AnyConnection,
    v: &NewVersion,
    job_id: Option<&SalesforceId>,
    by: &SalesforceId,
    now: i64,
) -> Result<(SalesforceId, SalesforceId)> {
    // a write first: SQLite cannot upgrade a transaction that read first while another
    // connection writes (it answers "database is locked" at once, whatever the busy timeout)
    let version_id = crate::next_id_in(&mut *conn, KeyPrefix::DatasetVersion).await?;
    let existing =
        sqlx::query("SELECT id FROM dataset WHERE name = $1").bind(&v.name).fetch_optional(&mut *conn).await?;
    let dataset_id = match existing {
        Some(row) => parse_id(row.get(0))?,
        None => {
            let other = sqlx::query("SELECT name FROM dataset WHERE lower(name) = lower($1)")
                .bind(&v.name)
                .fetch_optional(&mut *conn)
                .await?;
            if let Some(other) = other {
                return Err(StoreError::Conflict(format!(
                    "the dataset '{}' differs only in case from the dataset '{}' (dataset names are compared \
                     regardless of case): register it under that name or another",
                    v.name,
                    other.get::<String, _>(0)
                )));
            }
            let id = crate::next_id_in(&mut *conn, KeyPrefix::Dataset).await?;
            sqlx::query(
                "INSERT INTO dataset (id, name, label, created_date, last_modified_date, created_by, last_modified_by)
                 VALUES ($1, $2, $3, $4, $4, $5, $5)",
            )
            .bind(id.as_str())
            .bind(&v.name)
            .bind(&v.label)
            .bind(now)
            .bind(by.as_str())
            .execute(&mut *conn)
            .await?;
            id
        }
    };
    sqlx::query(
        "INSERT INTO dataset_version (id, dataset_id, storage_version, row_count, job_id, created_date, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(version_id.as_str())
    .bind(dataset_id.as_str())
    .bind(&v.storage_version)
    .bind(v.row_count)
    .bind(job_id.map(|j| j.as_str().to_string()))
    .bind(now)
    .bind(by.as_str())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE dataset SET current_version_id = $2, label = $3, last_modified_date = $4, last_modified_by = $5
         WHERE id = $1",
    )
    .bind(dataset_id.as_str())
    .bind(version_id.as_str())
    .bind(&v.label)
    .bind(now)
    .bind(by.as_str())
    .execute(&mut *conn)
    .await?;
    Ok((dataset_id, version_id))
}

fn dataset(row: &DbRow) -> Result<DatasetRecord> {
    Ok(DatasetRecord {
        id: parse_id(row.get("id"))?,
        name: row.get("name"),
        label: row.get("label"),
        current_version_id: row.get::<Option<String>, _>("current_version_id").as_deref().map(parse_id).transpose()?,
        created_by: user_ref(row, "created_by")?,
        created_date: from_millis(row.get("created_date")),
        last_modified_by: user_ref(row, "last_modified_by")?,
        last_modified_date: from_millis(row.get("last_modified_date")),
    })
}

fn version(row: &DbRow) -> Result<DatasetVersionRecord> {
    Ok(DatasetVersionRecord {
        id: parse_id(row.get("id"))?,
        dataset_id: parse_id(row.get("dataset_id"))?,
        storage_version: row.get("storage_version"),
        row_count: row.get("row_count"),
        job_id: row.get::<Option<String>, _>("job_id").as_deref().map(parse_id).transpose()?,
        created_by: user_ref(row, "created_by")?,
        created_date: from_millis(row.get("created_date")),
    })
}

impl Store {
    /// Records a committed version and makes it current, creating the dataset on first use,
    /// written by user `by` (or a job they started).
    pub async fn record_dataset_version(
        &self,
        by: &SalesforceId,
        name: &str,
        label: &str,
        storage_version: &str,
        row_count: i64,
        job_id: Option<&SalesforceId>,
    ) -> Result<(DatasetRecord, DatasetVersionRecord)> {
        let v = NewVersion {
            name: name.to_string(),
            label: label.to_string(),
            storage_version: storage_version.to_string(),
            row_count,
        };
        let mut tx = self.pool.begin().await?;
        let (dataset_id, version_id) = record_version_in(&mut tx, &v, job_id, by, millis(&Utc::now())).await?;
        tx.commit().await?;
        Ok((self.dataset(&dataset_id).await?, self.dataset_version(&version_id).await?))
    }

    /// The recorded version of dataset `name` stored as `storage_version`, and whether it is
    /// the dataset's current one (a sweep finishing an interrupted commit asks).
    pub async fn version_by_storage(
        &self,
        name: &str,
        storage_version: &str,
    ) -> Result<Option<(DatasetVersionRecord, bool)>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {}, (d.current_version_id = v.id) AS is_current FROM dataset_version v
             JOIN dataset d ON d.id = v.dataset_id WHERE d.name = $1 AND v.storage_version = $2",
            *VERSION_COLUMNS
        )))
        .bind(name)
        .bind(storage_version)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            None => Ok(None),
            Some(r) => {
                let current =
                    r.try_get::<bool, _>("is_current").or_else(|_| r.try_get::<i64, _>("is_current").map(|v| v != 0));
                Ok(Some((version(&r)?, current.unwrap_or(false))))
            }
        }
    }

    pub async fn dataset(&self, id: &SalesforceId) -> Result<DatasetRecord> {
        let row = sqlx::query(AssertSqlSafe(format!("{} WHERE d.id = $1", *DATASETS)))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(dataset).transpose()?.ok_or_else(|| StoreError::NotFound(format!("dataset {id}")))
    }

    pub async fn dataset_by_name(&self, name: &str) -> Result<Option<DatasetRecord>> {
        let row = sqlx::query(AssertSqlSafe(format!("{} WHERE d.name = $1", *DATASETS)))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(dataset).transpose()
    }

    /// A page of datasets by label (`offset`, at most `limit`) whose name or label holds every
    /// word of `q` (case-insensitive), each with its current version; and whether more follow.
    /// Two queries however many there are.
    pub async fn dataset_page(
        &self,
        q: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<(DatasetRecord, Option<DatasetVersionRecord>)>, bool)> {
        let words: Vec<String> = q.unwrap_or("").split_whitespace().take(10).map(like_pattern).collect();
        let filter: String =
            (1..=words.len()).map(|i| format!(" AND lower(d.name || ' ' || d.label) LIKE ${i} ESCAPE '\\'")).collect();
        let sql = format!(
            "{} WHERE 1 = 1{filter} ORDER BY lower(d.label), d.id LIMIT {} OFFSET {}",
            *DATASETS,
            limit.clamp(1, 1000) + 1,
            offset.max(0)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for w in &words {
            query = query.bind(w.as_str());
        }
        let mut found: Vec<DatasetRecord> =
            query.fetch_all(&self.pool).await?.iter().map(dataset).collect::<Result<_>>()?;
        let more = found.len() as i64 > limit;
        found.truncate(limit.max(1) as usize);
        let current: Vec<&SalesforceId> = found.iter().filter_map(|d| d.current_version_id.as_ref()).collect();
        let mut versions: std::collections::HashMap<SalesforceId, DatasetVersionRecord> = Default::default();
        if !current.is_empty() {
            let marks: Vec<String> = (1..=current.len()).map(|i| format!("${i}")).collect();
            let sql =
                format!("SELECT {} FROM dataset_version v WHERE v.id IN ({})", *VERSION_COLUMNS, marks.join(", "));
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for id in &current {
                query = query.bind(id.as_str());
            }
            for row in query.fetch_all(&self.pool).await? {
                let v = version(&row)?;
                versions.insert(v.id.clone(), v);
            }
        }
        let page = found
            .into_iter()
            .map(|d| {
                let v = d.current_version_id.as_ref().and_then(|id| versions.remove(id));
                (d, v)
            })
            .collect();
        Ok((page, more))
    }

    pub async fn list_datasets(&self) -> Result<Vec<DatasetRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!("{} ORDER BY lower(d.label), d.id", *DATASETS)))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(dataset).collect()
    }

    pub async fn dataset_version(&self, id: &SalesforceId) -> Result<DatasetVersionRecord> {
        let row =
            sqlx::query(AssertSqlSafe(format!("SELECT {} FROM dataset_version v WHERE v.id = $1", *VERSION_COLUMNS)))
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(version).transpose()?.ok_or_else(|| StoreError::NotFound(format!("dataset version {id}")))
    }

    /// Versions of a dataset, newest first.
    pub async fn dataset_versions(&self, dataset_id: &SalesforceId) -> Result<Vec<DatasetVersionRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {} FROM dataset_version v WHERE v.dataset_id = $1 ORDER BY v.created_date DESC, v.id DESC",
            *VERSION_COLUMNS
        )))
        .bind(dataset_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(version).collect()
    }

    /// Makes an earlier version current again, by user `by`.
    pub async fn set_current_version(
        &self,
        by: &SalesforceId,
        dataset_id: &SalesforceId,
        version_id: &SalesforceId,
    ) -> Result<DatasetRecord> {
        let v = self.dataset_version(version_id).await?;
        if &v.dataset_id != dataset_id {
            return Err(StoreError::NotFound(format!("version {version_id} of dataset {dataset_id}")));
        }
        sqlx::query(
            "UPDATE dataset SET current_version_id = $2, last_modified_date = $3, last_modified_by = $4 WHERE id = $1",
        )
        .bind(dataset_id.as_str())
        .bind(version_id.as_str())
        .bind(millis(&Utc::now()))
        .bind(by.as_str())
        .execute(&self.pool)
        .await?;
        self.dataset(dataset_id).await
    }
}
