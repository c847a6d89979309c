//! The list of dataflows and recipes as the web UI shows it: each with its schedule and its
//! latest run, in two queries however many there are (the definitions, which can be large,
//! are not read).

use crate::jobs::{JOB_COLUMNS, job};
use crate::{JobRecord, Result, Store, StoreError, from_millis, parse_id};
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

impl Store {
    /// Dataflows and recipes (not connections' sync dataflows) whose name or label holds every
    /// word of `q` (case-insensitive), by label.
    pub async fn asset_summaries(&self, q: Option<&str>) -> Result<Vec<AssetSummary>> {
        let rows = sqlx::query(
            "SELECT d.id, d.name, d.label, d.kind, d.last_modified_date, r.id AS recipe_id,
                    s.definition AS schedule, s.next_run,
                    (SELECT j.id FROM job j WHERE j.dataflow_id = d.id AND j.id NOT LIKE $3
                     ORDER BY j.created_date DESC, j.id DESC LIMIT 1) AS last_run
             FROM dataflow d
             LEFT JOIN recipe r ON r.dataflow_id = d.id
             LEFT JOIN schedule s ON s.asset_id = coalesce(r.id, d.id)
             WHERE d.kind IN ($1, $2)
             ORDER BY lower(d.label), d.id",
        )
        .bind(AssetKind::Dataflow.as_str())
        .bind(AssetKind::Recipe.as_str())
        .bind(format!("{}%", KeyPrefix::JobRequest.as_str()))
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
            let schedule = match row.get::<Option<String>, _>("schedule") {
                Some(text) => {
                    let value: serde_json::Value =
                        serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    let schedule = Schedule::from_input(&value)
                        .map_err(|e| StoreError::Corrupt(format!("the schedule of {name}: {}", e[0])))?;
                    Some((schedule, row.get::<Option<i64>, _>("next_run").map(from_millis)))
                }
                None => None,
            };
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
        let mut last: HashMap<SalesforceId, JobRecord> = HashMap::new();
        for chunk in runs.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!("SELECT {JOB_COLUMNS} FROM job WHERE id IN ({})", marks.join(", "));
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(id.as_str());
            }
            for row in query.fetch_all(&self.pool).await? {
                let j = job(&row)?;
                last.insert(j.dataflow_id.clone(), j);
            }
        }
        for a in &mut out {
            a.last_run = last.remove(&a.dataflow_id);
        }
        Ok(out)
    }
}
