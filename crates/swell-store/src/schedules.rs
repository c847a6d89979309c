//! Schedules and the ticks they fired.
//!
//! A schedule row holds the schedule and the nominal instant of its next tick. Firing a tick
//! is one transaction: record `(asset, nominal)` in `schedule_firing` (a primary key, so a tick
//! fires once however many schedulers see it due), queue the job through the same code as the
//! API's start, and move `next_run` on with a compare-and-set.

use crate::jobs::enqueue_in;
use crate::{DbRow, Result, Store, StoreError, from_millis, millis, parse_id};
use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Row};
use swell_core::{AssetKind, JobType, SalesforceId, Schedule, Trigger};

#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleRecord {
    pub asset_id: SalesforceId,
    /// Dataflow, Recipe or Connection.
    pub asset_type: AssetKind,
    pub schedule: Schedule,
    /// The nominal instant of the next tick; `None` when it does not run by time.
    pub next_run: Option<DateTime<Utc>>,
    pub created_date: DateTime<Utc>,
    pub last_modified_date: DateTime<Utc>,
    /// Who set it last: the starter of the jobs it fires.
    pub last_modified_by: SalesforceId,
}

/// What firing a tick did.
#[derive(Debug, Clone, PartialEq)]
pub enum Firing {
    /// The tick was new and queued `job_id`; `queued` is false when the asset was already
    /// queued and the request was recorded as a `030` job in Failure instead.
    Fired { job_id: SalesforceId, queued: bool },
    /// This tick fired before (on this server before a restart, or on another server).
    AlreadyFired,
}

/// A tick to fire (see [`Store::fire_schedule`]).
#[derive(Debug, Clone, Copy)]
pub struct Tick<'a> {
    pub asset_id: &'a SalesforceId,
    pub nominal: DateTime<Utc>,
    pub advance: Option<(DateTime<Utc>, Option<DateTime<Utc>>)>,
    pub start: Start<'a>,
}

/// What a tick (or a person) starts, and who: the job's starter and trigger.
#[derive(Debug, Clone, Copy)]
pub struct Start<'a> {
    pub dataflow_id: &'a SalesforceId,
    pub job_type: JobType,
    pub label: &'a str,
    /// The person who asked, or who last set the schedule that fired.
    pub started_by: &'a SalesforceId,
    pub trigger: Trigger,
}

pub(crate) fn record(row: &DbRow) -> Result<ScheduleRecord> {
    let text: String = row.get("definition");
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let schedule = Schedule::from_input(&value)
        .map_err(|e| StoreError::Corrupt(format!("schedule {}: {}", row.get::<String, _>("asset_id"), e[0])))?;
    Ok(ScheduleRecord {
        asset_id: parse_id(row.get("asset_id"))?,
        asset_type: AssetKind::parse(row.get("asset_type")).map_err(StoreError::Corrupt)?,
        schedule,
        next_run: row.get::<Option<i64>, _>("next_run").map(from_millis),
        created_date: from_millis(row.get("created_date")),
        last_modified_date: from_millis(row.get("last_modified_date")),
        last_modified_by: parse_id(row.get("last_modified_by"))?,
    })
}

/// Writes a schedule and returns it as written (never read back apart: another server may
/// change or delete it the next moment).
pub(crate) async fn put_schedule_in(
    conn: &mut sqlx::AnyConnection,
    by: &SalesforceId,
    asset_id: &SalesforceId,
    asset_type: AssetKind,
    schedule: &Schedule,
    next_run: Option<DateTime<Utc>>,
) -> Result<ScheduleRecord> {
    let now = Utc::now();
    let row = sqlx::query(
        "INSERT INTO schedule (asset_id, asset_type, frequency, definition, next_run, created_date, last_modified_date,
                               last_modified_by)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7)
         ON CONFLICT (asset_id) DO UPDATE SET asset_type = $2, frequency = $3, definition = $4,
            next_run = $5, last_modified_date = $6, last_modified_by = $7
         RETURNING *",
    )
    .bind(asset_id.as_str())
    .bind(asset_type.as_str())
    .bind(schedule.frequency.as_str())
    .bind(schedule.to_json(now).to_string())
    .bind(next_run.as_ref().map(millis))
    .bind(millis(&now))
    .bind(by.as_str())
    .fetch_one(conn)
    .await?;
    record(&row)
}

impl Store {
    /// Sets (creates or replaces) the schedule of an asset, by user `by`. Outside the rules'
    /// lock: for tests and seeding; the app sets schedules through [`crate::Rules`].
    pub async fn put_schedule(
        &self,
        by: &SalesforceId,
        asset_id: &SalesforceId,
        asset_type: AssetKind,
        schedule: &Schedule,
        next_run: Option<DateTime<Utc>>,
    ) -> Result<ScheduleRecord> {
        let mut conn = self.pool.acquire().await?;
        put_schedule_in(&mut conn, by, asset_id, asset_type, schedule, next_run).await
    }

    pub async fn schedule(&self, asset_id: &SalesforceId) -> Result<Option<ScheduleRecord>> {
        let row = sqlx::query("SELECT * FROM schedule WHERE asset_id = $1")
            .bind(asset_id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(record).transpose()
    }

    /// The schedules of some assets (for the rows of a list).
    pub async fn schedules_of(&self, ids: &[SalesforceId]) -> Result<Vec<ScheduleRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT * FROM schedule WHERE asset_id IN ({})", placeholders.join(", "));
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(id.as_str());
        }
        q.fetch_all(&self.pool).await?.iter().map(record).collect()
    }

    /// Removes the schedule of an asset; false when it had none.
    pub async fn delete_schedule(&self, asset_id: &SalesforceId) -> Result<bool> {
        let done =
            sqlx::query("DELETE FROM schedule WHERE asset_id = $1").bind(asset_id.as_str()).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    /// Schedules whose next tick is at or before `now`, the most overdue first.
    pub async fn due_schedules(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<ScheduleRecord>> {
        let rows = sqlx::query("SELECT * FROM schedule WHERE next_run <= $1 ORDER BY next_run, asset_id LIMIT $2")
            .bind(millis(&now))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(record).collect()
    }

    /// The earliest next tick of any schedule.
    pub async fn next_schedule_run(&self) -> Result<Option<DateTime<Utc>>> {
        let row = sqlx::query("SELECT min(next_run) FROM schedule").fetch_one(&self.pool).await?;
        Ok(row.get::<Option<i64>, _>(0).map(from_millis))
    }

    /// The event-driven schedules.
    pub async fn event_schedules(&self) -> Result<Vec<ScheduleRecord>> {
        let rows = sqlx::query("SELECT * FROM schedule WHERE frequency = 'eventdriven' ORDER BY asset_id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(record).collect()
    }

    /// The nominal instant of the last tick an asset's schedule fired.
    pub async fn last_firing(&self, asset_id: &SalesforceId) -> Result<Option<DateTime<Utc>>> {
        let row = sqlx::query("SELECT max(nominal) FROM schedule_firing WHERE asset_id = $1")
            .bind(asset_id.as_str())
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get::<Option<i64>, _>(0).map(from_millis))
    }

    /// When the last successful run of a dataflow ended.
    pub async fn last_success(&self, dataflow_id: &SalesforceId) -> Result<Option<DateTime<Utc>>> {
        let row = sqlx::query("SELECT max(end_date) FROM job WHERE dataflow_id = $1 AND status = 'Success'")
            .bind(dataflow_id.as_str())
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get::<Option<i64>, _>(0).map(from_millis))
    }

    /// When the last successful sync of a local Salesforce connection (SfdcLocal) ended: the
    /// `$ALL_SALESFORCE_OBJECTS` event.
    pub async fn last_sync_success(&self) -> Result<Option<DateTime<Utc>>> {
        let row = sqlx::query(
            "SELECT max(j.end_date) FROM job j JOIN data_connector c ON c.dataflow_id = j.dataflow_id
             WHERE j.job_type = $1 AND j.status = 'Success' AND c.connector_type = 'SfdcLocal'",
        )
        .bind(JobType::DataSync.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(row.get::<Option<i64>, _>(0).map(from_millis))
    }

    /// Fires the tick `nominal` of an asset's schedule: records it, queues `start` unless the
    /// tick fired before and, for a timed schedule, moves its next tick from `advance.0` (the
    /// `next_run` it was read with) to `advance.1`, unless the schedule changed meanwhile. One
    /// transaction.
    pub async fn fire_schedule(
        &self,
        asset_id: &SalesforceId,
        nominal: DateTime<Utc>,
        advance: Option<(DateTime<Utc>, Option<DateTime<Utc>>)>,
        start: Start<'_>,
    ) -> Result<Firing> {
        let mut firings = self.fire_schedules(&[Tick { asset_id, nominal, advance, start }]).await?;
        Ok(firings.remove(0))
    }

    /// Fires several ticks in one transaction (each as [`Store::fire_schedule`] does): a burst
    /// of due schedules takes one commit, not one each.
    pub async fn fire_schedules(&self, ticks: &[Tick<'_>]) -> Result<Vec<Firing>> {
        let mut tx = self.pool.begin().await?;
        let now = millis(&Utc::now());
        let mut firings = Vec::with_capacity(ticks.len());
        for t in ticks {
            let new = sqlx::query(
                "INSERT INTO schedule_firing (asset_id, nominal, fired_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(t.asset_id.as_str())
            .bind(millis(&t.nominal))
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            let firing = if new {
                let (job_id, queued) = enqueue_in(&mut tx, &t.start).await?;
                sqlx::query("UPDATE schedule_firing SET job_id = $3 WHERE asset_id = $1 AND nominal = $2")
                    .bind(t.asset_id.as_str())
                    .bind(millis(&t.nominal))
                    .bind(job_id.as_str())
                    .execute(&mut *tx)
                    .await?;
                Firing::Fired { job_id, queued }
            } else {
                Firing::AlreadyFired
            };
            if let Some((from, to)) = t.advance {
                move_next_run(&mut tx, t.asset_id, from, to).await?;
            }
            firings.push(firing);
        }
        tx.commit().await?;
        self.jobs_changed();
        Ok(firings)
    }

    /// Moves a schedule's next tick from `from` to `to` without firing (a tick skipped by the
    /// catch-up policy); nothing happens when the schedule changed meanwhile.
    pub async fn skip_schedule(
        &self,
        asset_id: &SalesforceId,
        from: DateTime<Utc>,
        to: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        move_next_run(&mut conn, asset_id, from, to).await
    }

    /// The ticks an asset's schedule fired, newest first: (nominal, fired at, job).
    pub async fn firings(
        &self,
        asset_id: &SalesforceId,
    ) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>, Option<SalesforceId>)>> {
        let rows = sqlx::query(
            "SELECT nominal, fired_at, job_id FROM schedule_firing WHERE asset_id = $1 ORDER BY nominal DESC",
        )
        .bind(asset_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let job: Option<String> = r.get(2);
                Ok((from_millis(r.get(0)), from_millis(r.get(1)), job.as_deref().map(parse_id).transpose()?))
            })
            .collect()
    }
}

async fn move_next_run(
    conn: &mut sqlx::AnyConnection,
    asset_id: &SalesforceId,
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
) -> Result<()> {
    sqlx::query("UPDATE schedule SET next_run = $3 WHERE asset_id = $1 AND next_run = $2")
        .bind(asset_id.as_str())
        .bind(millis(&from))
        .bind(to.as_ref().map(millis))
        .execute(conn)
        .await?;
    Ok(())
}
