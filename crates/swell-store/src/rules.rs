//! The rules' lock: every change of schedules, and every deletion of an asset that a rule may
//! wait for, happens in one transaction that holds the store-wide lock `rules`
//! (`store_lock`), so that the check of an event-driven rule against the others and its write
//! are one step, also across servers sharing the database. Two servers saving "A after B" and
//! "B after A" at once: one waits for the other's commit, reads its rule, and refuses the loop.
//!
//! Everything read or written under the lock goes through [`Rules`]' own transaction: on an
//! in-memory SQLite store (one connection) a read through the pool would wait for ever.

use crate::dataflows::delete_dataflow_in;
use crate::schedules::{put_schedule_in, record};
use crate::{Result, Store, StoreError};
use chrono::{DateTime, Utc};
use sqlx::Row;
use swell_core::{AssetKind, KeyPrefix, SalesforceId, Schedule};

use crate::ScheduleRecord;

/// A transaction holding the rules' lock; dropped without [`Rules::commit`], it changes
/// nothing.
pub struct Rules {
    tx: sqlx::Transaction<'static, sqlx::Any>,
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rules(locked)")
    }
}

impl Store {
    /// Takes the rules' lock, waiting while another server or task holds it.
    pub async fn lock_rules(&self) -> Result<Rules> {
        let mut tx = self.pool.begin().await?;
        // a write first: SQLite takes its write lock here (a transaction that read first could
        // not upgrade while another connection writes); PostgreSQL locks the row
        let done =
            sqlx::query("UPDATE store_lock SET taken = taken + 1 WHERE name = 'rules'").execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Corrupt("the store has no 'rules' lock row (store_lock)".into()));
        }
        Ok(Rules { tx })
    }
}

impl Rules {
    /// The event-driven schedules, as this transaction sees them.
    pub async fn event_schedules(&mut self) -> Result<Vec<ScheduleRecord>> {
        let rows = sqlx::query("SELECT * FROM schedule WHERE frequency = 'eventdriven' ORDER BY asset_id")
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter().map(record).collect()
    }

    /// What a rule could wait for under this id: `Some(Recipe)` for a recipe (05v), the
    /// dataflow's kind for a dataflow (02K), `None` when there is no such asset.
    pub async fn asset_kind(&mut self, id: &SalesforceId) -> Result<Option<AssetKind>> {
        if id.has_prefix(KeyPrefix::Recipe) {
            let row = sqlx::query("SELECT id FROM recipe WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(&mut *self.tx)
                .await?;
            return Ok(row.map(|_| AssetKind::Recipe));
        }
        let row = sqlx::query("SELECT kind FROM dataflow WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(|r| AssetKind::parse(r.get("kind")).map_err(StoreError::Corrupt)).transpose()
    }

    /// Sets (creates or replaces) the schedule of an asset, by user `by`.
    pub async fn put_schedule(
        &mut self,
        by: &SalesforceId,
        asset_id: &SalesforceId,
        asset_type: AssetKind,
        schedule: &Schedule,
        next_run: Option<DateTime<Utc>>,
    ) -> Result<ScheduleRecord> {
        put_schedule_in(&mut self.tx, by, asset_id, asset_type, schedule, next_run).await
    }

    /// Removes the schedule of an asset; false when it had none.
    pub async fn delete_schedule(&mut self, asset_id: &SalesforceId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM schedule WHERE asset_id = $1")
            .bind(asset_id.as_str())
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes a dataflow, its jobs and schedule; refused while it is queued or running.
    pub async fn delete_dataflow(&mut self, id: &SalesforceId) -> Result<()> {
        delete_dataflow_in(&mut self.tx, id).await
    }

    /// Deletes a recipe, its dataflow, jobs and schedule; refused while it is queued or running.
    pub async fn delete_recipe(&mut self, id: &SalesforceId) -> Result<()> {
        sqlx::query("DELETE FROM schedule WHERE asset_id = $1").bind(id.as_str()).execute(&mut *self.tx).await?;
        sqlx::query("DELETE FROM schedule_firing WHERE asset_id = $1").bind(id.as_str()).execute(&mut *self.tx).await?;
        let row = sqlx::query("SELECT dataflow_id FROM recipe WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&mut *self.tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("recipe {id}")))?;
        let dataflow = crate::parse_id(row.get("dataflow_id"))?;
        // the recipe's row goes with its dataflow (ON DELETE CASCADE)
        delete_dataflow_in(&mut self.tx, &dataflow).await
    }

    /// Makes the changes stick and lets the next holder in.
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}
