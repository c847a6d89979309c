//! The lists of dataflows, recipes and data connections as the web UI shows them: each with
//! its schedule and its latest run, in a few queries however many there are (the
//! definitions, which can be large, are not read).

use crate::connectors::connector;
use crate::jobs::{JOB_COLUMNS, job, node};
use crate::who::with_names;
use crate::{ConnectorRecord, DbRow, JobRecord, NodeRecord, Result, Store, StoreError, from_millis, parse_id};
use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Row};
use std::collections::HashMap;
use swell_core::{AssetKind, KeyPrefix, SalesforceId, Schedule};

/// A dataflow or recipe in a list.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetSummary {
    /// The dataflow (02K); for a recipe, the dataflow that runs it.
    pub dataflow_id: SalesforceId,
    /// The recipe (05v), for a recipe.
    pub recipe_id: Option<SalesforceId>,
    pub name: String,
    pub label: String,
    /// Dataflow or Recipe.
    pub kind: AssetKind,
    pub last_modified_date: DateTime<Utc>,
    /// Its schedule and the nominal instant of its next run.
    pub schedule: Option<(Schedule, Option<DateTime<Utc>>)>,
    /// Its latest run (requests refused because it was already queued are not runs).
    pub last_run: Option<JobRecord>,
}

impl AssetSummary {
    /// The id the API and the schedule use: the recipe's for a recipe.
    pub fn asset_id(&self) -> &SalesforceId {
        self.recipe_id.as_ref().unwrap_or(&self.dataflow_id)
    }
}

/// A data connection in a list.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionSummary {
    pub connector: ConnectorRecord,
    /// How many connected objects it has.
    pub objects: i64,
    /// Its schedule and the nominal instant of its next run.
    pub schedule: Option<(Schedule, Option<DateTime<Utc>>)>,
    /// Its latest sync job, with that job's nodes (one per object).
    pub last_sync: Option<(JobRecord, Vec<NodeRecord>)>,
}

/// The schedule columns (`schedule`, `next_run`) of a list row, of the asset named `name`.
fn schedule_of(row: &DbRow, name: &str) -> Result<Option<(Schedule, Option<DateTime<Utc>>)>> {
    let Some(text) = row.get::<Option<String>, _>("schedule") else { return Ok(None) };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let schedule =
        Schedule::from_input(&value).map_err(|e| StoreError::Corrupt(format!("the schedule of {name}: {}", e[0])))?;
    Ok(Some((schedule, row.get::<Option<i64>, _>("next_run").map(from_millis))))
}

/// The subquery of a list row's latest run of dataflow `{dataflow}` (requests refused because
/// one was already queued, bound as `$1`, are not runs).
fn latest_run(dataflow: &str) -> String {
    format!(
        "(SELECT j.id FROM job j WHERE j.dataflow_id = {dataflow} AND j.id NOT LIKE $1
          ORDER BY j.created_date DESC, j.id DESC LIMIT 1) AS last_run"
    )
}

impl Store {
    /// Jobs by id, keyed by their dataflow; one query per 500.
    async fn jobs_by_dataflow(&self, ids: &[String]) -> Result<HashMap<SalesforceId, JobRecord>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!("SELECT {JOB_COLUMNS} FROM job WHERE id IN ({})", marks.join(", "));
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(id.as_str());
            }
            for row in query.fetch_all(&self.pool).await? {
                let j = job(&row)?;
                out.insert(j.dataflow_id.clone(), j);
            }
        }
        Ok(out)
    }

    /// The nodes of some jobs, each job's in definition order; one query per 500.
    async fn nodes_of_jobs(&self, ids: &[&SalesforceId]) -> Result<HashMap<SalesforceId, Vec<NodeRecord>>> {
        let mut out: HashMap<SalesforceId, Vec<NodeRecord>> = HashMap::new();
        for chunk in ids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql =
                format!("SELECT * FROM job_node WHERE job_id IN ({}) ORDER BY job_id, position", marks.join(", "));
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(id.as_str());
            }
            for row in query.fetch_all(&self.pool).await? {
                let n = node(&row)?;
                out.entry(n.job_id.clone()).or_default().push(n);
            }
        }
        Ok(out)
    }

    /// Every data connection by label, with its objects' count, its schedule and its latest
    /// sync with that sync's nodes: three queries however many there are.
    pub async fn connection_summaries(&self) -> Result<Vec<ConnectionSummary>> {
        let sql = format!(
            "SELECT {}, s.definition AS schedule, s.next_run,
                    (SELECT count(*) FROM replicated_dataset r WHERE r.connector_id = c.id) AS objects,
                    {}
             FROM data_connector c
             LEFT JOIN schedule s ON s.asset_id = c.id
             ORDER BY lower(c.label), c.id",
            with_names("c", &["created_by", "last_modified_by"]),
            latest_run("c.dataflow_id")
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(format!("{}%", KeyPrefix::JobRequest.as_str()))
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::new();
        let mut runs: Vec<String> = Vec::new();
        for row in &rows {
            let c = connector(row)?;
            runs.extend(row.get::<Option<String>, _>("last_run"));
            out.push(ConnectionSummary {
                schedule: schedule_of(row, &c.name)?,
                objects: row.get("objects"),
                connector: c,
                last_sync: None,
            });
        }
        let mut last = self.jobs_by_dataflow(&runs).await?;
        let ids: Vec<&SalesforceId> = last.values().map(|j| &j.id).collect();
        let mut nodes = self.nodes_of_jobs(&ids).await?;
        for c in &mut out {
            c.last_sync = last.remove(&c.connector.dataflow_id).map(|j| {
                let n = nodes.remove(&j.id).unwrap_or_default();
                (j, n)
            });
        }
        Ok(out)
    }

    /// The latest run of a dataflow (of a connection's sync dataflow: its latest sync).
    pub async fn latest_run(&self, dataflow: &SalesforceId) -> Result<Option<JobRecord>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM job WHERE dataflow_id = $2 AND id NOT LIKE $1
             ORDER BY created_date DESC, id DESC LIMIT 1"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(format!("{}%", KeyPrefix::JobRequest.as_str()))
            .bind(dataflow.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job).transpose()
    }

    /// Dataflows and recipes (not connections' sync dataflows) whose name or label holds every
    /// word of `q` (case-insensitive), by label.
    pub async fn asset_summaries(&self, q: Option<&str>) -> Result<Vec<AssetSummary>> {
        let sql = format!(
            "SELECT d.id, d.name, d.label, d.kind, d.last_modified_date, r.id AS recipe_id,
                    s.definition AS schedule, s.next_run, {}
             FROM dataflow d
             LEFT JOIN recipe r ON r.dataflow_id = d.id
             LEFT JOIN schedule s ON s.asset_id = coalesce(r.id, d.id)
             WHERE d.kind IN ($2, $3)
             ORDER BY lower(d.label), d.id",
            latest_run("d.id")
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(format!("{}%", KeyPrefix::JobRequest.as_str()))
            .bind(AssetKind::Dataflow.as_str())
            .bind(AssetKind::Recipe.as_str())
            .fetch_all(&self.pool)
            .await?;
        let words: Vec<String> = q.unwrap_or("").split_whitespace().map(str::to_lowercase).collect();
        let mut out = Vec::new();
        let mut runs: Vec<String> = Vec::new();
        for row in &rows {
            let (name, label): (String, String) = (row.get("name"), row.get("label"));
            let hay = format!("{name} {label}").to_lowercase();
            if !words.iter().all(|w| hay.contains(w.as_str())) {
                continue;
            }
            let schedule = schedule_of(row, &name)?;
            if let Some(run) = row.get::<Option<String>, _>("last_run") {
                runs.push(run);
            }
            out.push(AssetSummary {
                dataflow_id: parse_id(row.get("id"))?,
                recipe_id: row.get::<Option<String>, _>("recipe_id").as_deref().map(parse_id).transpose()?,
                name,
                label,
                kind: AssetKind::parse(row.get("kind")).map_err(StoreError::Corrupt)?,
                last_modified_date: from_millis(row.get("last_modified_date")),
                schedule,
                last_run: None,
            });
        }
        let mut last = self.jobs_by_dataflow(&runs).await?;
        for a in &mut out {
            a.last_run = last.remove(&a.dataflow_id);
        }
        Ok(out)
    }
}
