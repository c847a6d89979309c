//! The lists of dataflows, recipes and data connections as the web UI shows them: each with
//! its schedule and its latest run, in a few queries however many there are (the
//! definitions, which can be large, are not read).

use crate::connectors::connector;
use crate::jobs::node;
use crate::who::with_names;
use crate::{ConnectorRecord, DbRow, NodeRecord, Result, Store, StoreError, from_millis, parse_id};
use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Row};
use std::collections::HashSet;
use swell_core::{AssetKind, JobStatus, KeyPrefix, SalesforceId, Schedule};

/// The latest run of an asset in a list: what a row shows of it.
#[derive(Debug, Clone, PartialEq)]
pub struct LastRun {
    pub id: SalesforceId,
    pub status: JobStatus,
    pub created_date: DateTime<Utc>,
    /// Of a sync: it succeeded and none of its objects had anything new
    /// (`swell_core::NO_CHANGES`).
    pub unchanged: bool,
}

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
    pub last_run: Option<LastRun>,
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
    /// Its latest sync.
    pub last_sync: Option<LastRun>,
}

/// The schedule columns (`schedule`, `next_run`) of a list row, of the asset named `name`.
fn schedule_of(row: &DbRow, name: &str) -> Result<Option<(Schedule, Option<DateTime<Utc>>)>> {
    let Some(text) = row.get::<Option<String>, _>("schedule") else { return Ok(None) };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let schedule =
        Schedule::from_input(&value).map_err(|e| StoreError::Corrupt(format!("the schedule of {name}: {}", e[0])))?;
    Ok(Some((schedule, row.get::<Option<i64>, _>("next_run").map(from_millis))))
}

/// The join of a list row's latest run (alias `j`) of dataflow `{dataflow}`; requests refused
/// because one was already queued, bound as `$1`, are not runs. Joined rather than read
/// after: a list reads a few columns of each run in the one query.
fn latest_run_join(dataflow: &str) -> String {
    format!(
        "LEFT JOIN job j ON j.id = (SELECT l.id FROM job l WHERE l.dataflow_id = {dataflow} AND l.id NOT LIKE $1
          ORDER BY l.created_date DESC, l.id DESC LIMIT 1)"
    )
}

/// The columns of the latest run a list row joined ([`latest_run_join`]).
const LAST_RUN_COLUMNS: &str = "j.id AS last_run, j.status AS last_status, j.created_date AS last_created";

fn last_run(row: &DbRow) -> Result<Option<LastRun>> {
    let Some(id) = row.get::<Option<String>, _>("last_run") else { return Ok(None) };
    let status: String = row.get("last_status");
    Ok(Some(LastRun {
        id: parse_id(&id)?,
        status: JobStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("job status {status}")))?,
        created_date: from_millis(row.get("last_created")),
        unchanged: false,
    }))
}

impl Store {
    /// Every data connection by label, with its objects' count, its schedule and its latest
    /// sync: two queries however many there are.
    pub async fn connection_summaries(&self) -> Result<Vec<ConnectionSummary>> {
        let sql = format!(
            "SELECT {}, s.definition AS schedule, s.next_run,
                    (SELECT count(*) FROM replicated_dataset r WHERE r.connector_id = c.id) AS objects,
                    {LAST_RUN_COLUMNS}
             FROM data_connector c
             LEFT JOIN schedule s ON s.asset_id = c.id
             {}
             ORDER BY lower(c.label), c.id",
            with_names("c", &["created_by", "last_modified_by"]),
            latest_run_join("c.dataflow_id")
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(format!("{}%", KeyPrefix::JobRequest.as_str()))
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::new();
        for row in &rows {
            let c = connector(row)?;
            out.push(ConnectionSummary {
                schedule: schedule_of(row, &c.name)?,
                objects: row.get("objects"),
                last_sync: last_run(row)?,
                connector: c,
            });
        }
        // which successful syncs found nothing new: counted, not read node by node
        let done: Vec<&SalesforceId> = out
            .iter()
            .filter_map(|c| c.last_sync.as_ref())
            .filter(|j| j.status == JobStatus::Success)
            .map(|j| &j.id)
            .collect();
        let unchanged = self.unchanged_syncs(&done).await?;
        for j in out.iter_mut().filter_map(|c| c.last_sync.as_mut()) {
            j.unchanged = unchanged.contains(&j.id);
        }
        Ok(out)
    }

    /// Of the sync jobs `ids`, those with nodes all of which had nothing new
    /// ([`crate::NodeState::unchanged`], in SQL).
    async fn unchanged_syncs(&self, ids: &[&SalesforceId]) -> Result<HashSet<SalesforceId>> {
        let mut out = HashSet::new();
        for chunk in ids.chunks(500) {
            let marks: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT job_id FROM job_node WHERE job_id IN ({}) GROUP BY job_id
                 HAVING count(*) = sum(CASE WHEN status = 'success' AND message = $1 THEN 1 ELSE 0 END)",
                marks.join(", ")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(swell_core::NO_CHANGES);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            for row in query.fetch_all(&self.pool).await? {
                out.insert(parse_id(row.get("job_id"))?);
            }
        }
        Ok(out)
    }

    /// The latest run of a dataflow (of a connection's sync dataflow: its latest sync) with
    /// its nodes in run order, in one query. `unchanged` is computed as
    /// [`Store::connection_summaries`] computes it.
    pub async fn latest_run_with_nodes(&self, dataflow: &SalesforceId) -> Result<Option<(LastRun, Vec<NodeRecord>)>> {
        let sql = format!(
            "SELECT {LAST_RUN_COLUMNS}, n.* FROM job j LEFT JOIN job_node n ON n.job_id = j.id
             WHERE j.id = (SELECT l.id FROM job l WHERE l.dataflow_id = $2 AND l.id NOT LIKE $1
                           ORDER BY l.created_date DESC, l.id DESC LIMIT 1)
             ORDER BY n.position"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(format!("{}%", KeyPrefix::JobRequest.as_str()))
            .bind(dataflow.as_str())
            .fetch_all(&self.pool)
            .await?;
        let Some(mut run) = rows.first().map(last_run).transpose()?.flatten() else { return Ok(None) };
        let nodes = rows
            .iter()
            .filter(|r| r.get::<Option<String>, _>("job_id").is_some())
            .map(node)
            .collect::<Result<Vec<_>>>()?;
        run.unchanged =
            run.status == JobStatus::Success && !nodes.is_empty() && nodes.iter().all(|n| n.state.unchanged());
        Ok(Some((run, nodes)))
    }

    /// Dataflows and recipes (not connections' sync dataflows) whose name or label holds every
    /// word of `q` (case-insensitive), by label, in one query.
    pub async fn asset_summaries(&self, q: Option<&str>) -> Result<Vec<AssetSummary>> {
        let sql = format!(
            "SELECT d.id, d.name, d.label, d.kind, d.last_modified_date, r.id AS recipe_id,
                    s.definition AS schedule, s.next_run, {LAST_RUN_COLUMNS}
             FROM dataflow d
             LEFT JOIN recipe r ON r.dataflow_id = d.id
             LEFT JOIN schedule s ON s.asset_id = coalesce(r.id, d.id)
             {}
             WHERE d.kind IN ($2, $3)
             ORDER BY lower(d.label), d.id",
            latest_run_join("d.id")
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(format!("{}%", KeyPrefix::JobRequest.as_str()))
            .bind(AssetKind::Dataflow.as_str())
            .bind(AssetKind::Recipe.as_str())
            .fetch_all(&self.pool)
            .await?;
        let words: Vec<String> = q.unwrap_or("").split_whitespace().map(str::to_lowercase).collect();
        let mut out = Vec::new();
        for row in &rows {
            let (name, label): (String, String) = (row.get("name"), row.get("label"));
            let hay = format!("{name} {label}").to_lowercase();
            if !words.iter().all(|w| hay.contains(w.as_str())) {
                continue;
            }
            out.push(AssetSummary {
                dataflow_id: parse_id(row.get("id"))?,
                recipe_id: row.get::<Option<String>, _>("recipe_id").as_deref().map(parse_id).transpose()?,
                schedule: schedule_of(row, &name)?,
                last_run: last_run(row)?,
                name,
                label,
                kind: AssetKind::parse(row.get("kind")).map_err(StoreError::Corrupt)?,
                last_modified_date: from_millis(row.get("last_modified_date")),
            });
        }
        Ok(out)
    }
}
