//! Recipes: a recipe (05v) is a row over the dataflow that runs it (its targetDataflowId,
//! kind `recipe`), which holds its name, label, definition and histories.

use crate::{DataflowRecord, Result, Store, StoreError, from_millis, millis, parse_id};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::Row;
use swell_core::{AssetKind, KeyPrefix, SalesforceId};

#[derive(Debug, Clone, PartialEq)]
pub struct RecipeRecord {
    pub id: SalesforceId,
    pub format: String,
    pub created_date: DateTime<Utc>,
    /// The target dataflow: name, label, definition, histories.
    pub dataflow: DataflowRecord,
    /// `Always`, `Failures`, `Never` or `Warnings` (the default).
    pub notification_level: String,
    /// Alert when a run takes longer than this many minutes.
    pub long_running_alert_mins: Option<i64>,
}

impl Store {
    /// Creates a recipe and the dataflow that runs it, made by user `by`.
    pub async fn create_recipe(
        &self,
        by: &SalesforceId,
        name: &str,
        label: &str,
        description: Option<&str>,
        definition: &Value,
    ) -> Result<RecipeRecord> {
        let dataflow =
            self.create_dataflow_of_kind(by, name, label, description, definition, AssetKind::Recipe).await?;
        let id = self.next_id(KeyPrefix::Recipe).await?;
        sqlx::query("INSERT INTO recipe (id, dataflow_id, format, created_date) VALUES ($1, $2, 'R3', $3)")
            .bind(id.as_str())
            .bind(dataflow.id.as_str())
            .bind(millis(&Utc::now()))
            .execute(&self.pool)
            .await?;
        self.recipe(&id).await
    }

    async fn recipe_where(&self, column: &str, value: &str) -> Result<Option<RecipeRecord>> {
        let sql = format!(
            "SELECT id, dataflow_id, format, created_date, notification_level, long_running_alert_mins
             FROM recipe WHERE {column} = $1"
        );
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(value).fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let dataflow = self.dataflow(&parse_id(row.get(1))?).await?;
        Ok(Some(RecipeRecord {
            id: parse_id(row.get(0))?,
            format: row.get(2),
            created_date: from_millis(row.get(3)),
            dataflow,
            notification_level: row.get::<Option<String>, _>(4).unwrap_or_else(|| "Warnings".to_string()),
            long_running_alert_mins: row.get(5),
        }))
    }

    pub async fn recipe(&self, id: &SalesforceId) -> Result<RecipeRecord> {
        self.recipe_where("id", id.as_str()).await?.ok_or_else(|| StoreError::NotFound(format!("recipe {id}")))
    }

    /// The recipe a dataflow runs, if it runs one.
    pub async fn recipe_of_dataflow(&self, dataflow_id: &SalesforceId) -> Result<Option<RecipeRecord>> {
        self.recipe_where("dataflow_id", dataflow_id.as_str()).await
    }

    pub async fn recipe_by_name(&self, name: &str) -> Result<Option<RecipeRecord>> {
        match self.dataflow_by_name(name).await? {
            Some(d) if d.kind == AssetKind::Recipe => self.recipe_of_dataflow(&d.id).await,
            _ => Ok(None),
        }
    }

    /// Recipes whose name or label contains every word of `q`, by label.
    pub async fn list_recipes(&self, q: Option<&str>) -> Result<Vec<RecipeRecord>> {
        let mut out = Vec::new();
        for d in self.list_of_kind(AssetKind::Recipe, q).await? {
            if let Some(r) = self.recipe_of_dataflow(&d.id).await? {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// Sets a recipe's notification level and long-running alert.
    pub async fn set_recipe_notification(
        &self,
        id: &SalesforceId,
        level: &str,
        long_running_alert_mins: Option<i64>,
    ) -> Result<RecipeRecord> {
        sqlx::query("UPDATE recipe SET notification_level = $1, long_running_alert_mins = $2 WHERE id = $3")
            .bind(level)
            .bind(long_running_alert_mins)
            .bind(id.as_str())
            .execute(&self.pool)
            .await?;
        self.recipe(id).await
    }

    /// The status of the latest run of a dataflow (`None` when it never ran); requests that
    /// could not start (030) are not runs.
    pub async fn last_job_status(&self, dataflow_id: &SalesforceId) -> Result<Option<String>> {
        let row = sqlx::query("SELECT status FROM job WHERE dataflow_id = $1 AND id NOT LIKE '030%' ORDER BY created_date DESC, id DESC LIMIT 1")
            .bind(dataflow_id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get(0)))
    }
}
