//! The scheduler: fires each schedule's ticks, exactly once, through the same queue as the
//! REST start.
//!
//! The store keeps every schedule's next nominal tick (`next_run`). The loop sleeps until the
//! earliest one (or until told that schedules changed, or a job ended), fires what is due and
//! sleeps again: no polling storm, however many schedules there are. A tick is fired by one
//! store transaction keyed by `(asset, nominal time)`, so a tick never runs twice, not after a
//! restart and not with several servers on one database.
//!
//! **Missed ticks.** When the server was down (or asleep) past several ticks of a schedule,
//! the [`CatchUp`] policy decides. The default, [`CatchUp::Latest`], runs the latest missed
//! tick once at startup, which is by construction less than one interval old (the tick after
//! it is still ahead), and skips the older ones with a log line; [`CatchUp::Skip`] runs
//! nothing that is more than a minute late. `swell serve --missed-runs latest|skip` sets it.
//!
//! **Event-driven schedules** fire when every term of their rule has happened since the
//! schedule last fired (or was set): `$ALL_SALESFORCE_OBJECTS` is a successful sync of the
//! local connection; `dataflow:02K…` and `recipe:05v…` a successful run of that asset. They are checked when
//! a job ends here and on every wake (jobs of other servers). The tick's key is the instant
//! of the latest event, so each event fires once.

use crate::Runner;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;
use swell_core::schedule::{Frequency, TriggerTerm};
use swell_core::{AssetKind, JobType, KeyPrefix, SalesforceId, Trigger};
use swell_store::{Firing, ScheduleRecord, Start, Store, StoreError, Tick};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The loop wakes at least this often, to see schedules changed by other servers.
const MAX_IDLE: Duration = Duration::from_secs(30);
/// How late a tick may fire under [`CatchUp::Skip`].
const ON_TIME: chrono::Duration = chrono::Duration::minutes(1);
/// Due schedules read per store query.
const BATCH: i64 = 500;

/// What to do with ticks missed while the server was down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CatchUp {
    /// Run the latest missed tick once; skip older ones.
    #[default]
    Latest,
    /// Run no tick that is more than a minute late.
    Skip,
}

impl std::str::FromStr for CatchUp {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "latest" => Ok(CatchUp::Latest),
            "skip" => Ok(CatchUp::Skip),
            other => Err(format!("'{other}': expected latest or skip")),
        }
    }
}

/// Where the scheduler reads the time (tests step a fake one).
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// How a fired tick moves its schedule: from the stored next run to the following one.
type Advance = Option<(DateTime<Utc>, Option<DateTime<Utc>>)>;

/// A tick that fired.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    pub asset_id: SalesforceId,
    pub nominal: DateTime<Utc>,
    /// The queued job, or the `030` request recorded when the asset was already queued.
    pub job_id: SalesforceId,
    pub queued: bool,
}

pub struct Scheduler {
    store: Store,
    runner: Arc<Runner>,
    clock: Arc<dyn Clock>,
    catch_up: CatchUp,
    wake: Notify,
    shutdown: CancellationToken,
}

impl Scheduler {
    pub fn new(store: Store, runner: Arc<Runner>, clock: Arc<dyn Clock>, catch_up: CatchUp) -> Arc<Scheduler> {
        Arc::new(Scheduler { store, runner, clock, catch_up, wake: Notify::new(), shutdown: CancellationToken::new() })
    }

    /// Schedules changed: look again now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub fn shutdown(&self) {
        self.shutdown.cancel();
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Fires due ticks and event-driven schedules until [`Scheduler::shutdown`].
    pub async fn run(self: Arc<Self>) {
        let mut ended = self.runner.subscribe();
        loop {
            let now = self.clock.now();
            if let Err(e) = self.tick(now).await {
                tracing::error!(error = %e, "firing schedules failed");
            }
            if let Err(e) = self.check_events().await {
                tracing::error!(error = %e, "checking event-driven schedules failed");
            }
            let next = self.store.next_schedule_run().await.unwrap_or_else(|e| {
                tracing::error!(error = %e, "reading the next schedule failed");
                None
            });
            let wait = next
                .map(|n| (n - self.clock.now()).to_std().unwrap_or_default() + Duration::from_millis(1))
                .unwrap_or(MAX_IDLE)
                .min(MAX_IDLE);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.wake.notified() => {}
                _ = ended.recv() => {}
                _ = self.shutdown.cancelled() => break,
            }
        }
    }

    /// Fires every tick due at `now` (the loop's step; tests call it with a fake time). A
    /// batch of due schedules is fired in one store transaction.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<Vec<Fired>, StoreError> {
        let mut fired = Vec::new();
        loop {
            let due = self.store.due_schedules(now, BATCH).await?;
            if due.is_empty() {
                break;
            }
            let mut pending = Vec::with_capacity(due.len());
            for rec in &due {
                let Some((nominal, advance)) = self.due_tick(rec, now).await? else { continue };
                match self.target(rec).await? {
                    Some(target) => {
                        pending.push((rec.asset_id.clone(), nominal, advance, target, rec.last_modified_by.clone()))
                    }
                    None => {
                        // the asset is gone: so is its schedule
                        tracing::warn!(asset = %rec.asset_id, "schedule of a deleted asset removed");
                        self.store.delete_schedule(&rec.asset_id).await?;
                    }
                }
            }
            let ticks: Vec<Tick> = pending
                .iter()
                .map(|(asset_id, nominal, advance, (dataflow_id, job_type, label), by)| Tick {
                    asset_id,
                    nominal: *nominal,
                    advance: *advance,
                    start: Start {
                        dataflow_id,
                        job_type: *job_type,
                        label,
                        started_by: by,
                        trigger: Trigger::Schedule,
                    },
                })
                .collect();
            let firings = self.store.fire_schedules(&ticks).await?;
            for ((asset_id, nominal, ..), firing) in pending.iter().zip(firings) {
                if let Firing::Fired { job_id, queued } = firing {
                    tracing::info!(asset = %asset_id, nominal = %nominal, job = %job_id, queued, "schedule fired");
                    fired.push(Fired { asset_id: asset_id.clone(), nominal: *nominal, job_id, queued });
                }
            }
        }
        if !fired.is_empty() {
            self.runner.wake();
        }
        Ok(fired)
    }

    /// The tick of a due schedule to fire now and how its next run moves, by the catch-up
    /// policy; `None` when the policy skips it (next run moved already).
    async fn due_tick(
        &self,
        rec: &ScheduleRecord,
        now: DateTime<Utc>,
    ) -> Result<Option<(DateTime<Utc>, Advance)>, StoreError> {
        let Some(stored) = rec.next_run else { return Ok(None) };
        // the latest tick at or before now, and the one after it
        let (mut latest, mut missed) = (stored, 0u64);
        let mut following = rec.schedule.next_after(latest);
        while let Some(f) = following.filter(|f| *f <= now) {
            latest = f;
            missed += 1;
            following = rec.schedule.next_after(f);
        }
        let run = match self.catch_up {
            CatchUp::Latest => true,
            CatchUp::Skip => missed == 0 && now - latest <= ON_TIME,
        };
        if missed > 0 || !run {
            let skipped = if run { missed } else { missed + 1 };
            tracing::warn!(
                asset = %rec.asset_id, skipped, first = %stored, latest = %latest, policy = ?self.catch_up,
                "missed schedule ticks skipped (the server was not running at their time)"
            );
        }
        if !run {
            self.store.skip_schedule(&rec.asset_id, stored, following).await?;
            return Ok(None);
        }
        Ok(Some((latest, Some((stored, following)))))
    }

    async fn fire(
        &self,
        rec: &ScheduleRecord,
        nominal: DateTime<Utc>,
        advance: Advance,
    ) -> Result<Option<Fired>, StoreError> {
        let (dataflow_id, job_type, label) = match self.target(rec).await? {
            Some(t) => t,
            None => {
                // the asset is gone: so is its schedule
                tracing::warn!(asset = %rec.asset_id, "schedule of a deleted asset removed");
                self.store.delete_schedule(&rec.asset_id).await?;
                return Ok(None);
            }
        };
        let trigger = match rec.schedule.frequency {
            Frequency::EventDriven { .. } => Trigger::Event,
            _ => Trigger::Schedule,
        };
        let start =
            Start { dataflow_id: &dataflow_id, job_type, label: &label, started_by: &rec.last_modified_by, trigger };
        match self.store.fire_schedule(&rec.asset_id, nominal, advance, start).await? {
            Firing::Fired { job_id, queued } => {
                tracing::info!(asset = %rec.asset_id, nominal = %nominal, job = %job_id, queued, "schedule fired");
                Ok(Some(Fired { asset_id: rec.asset_id.clone(), nominal, job_id, queued }))
            }
            Firing::AlreadyFired => Ok(None),
        }
    }

    /// What a schedule starts: the dataflow to run, the job type and the label; `None` when
    /// the asset is gone.
    async fn target(&self, rec: &ScheduleRecord) -> Result<Option<(SalesforceId, JobType, String)>, StoreError> {
        let id = &rec.asset_id;
        let found = match rec.asset_type {
            AssetKind::Dataflow | AssetKind::Sync => self.store.dataflow(id).await.map(|d| (d.id, d.label)),
            AssetKind::Recipe => self.store.recipe(id).await.map(|r| (r.dataflow.id, r.dataflow.label)),
            AssetKind::Connection => self.store.connector(id).await.map(|c| (c.dataflow_id, c.label)),
        };
        match found {
            Ok((dataflow, label)) => Ok(Some((dataflow, rec.asset_type.job_type(), label))),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Fires the event-driven schedules whose every term happened since they last fired.
    pub async fn check_events(&self) -> Result<Vec<Fired>, StoreError> {
        let mut fired = Vec::new();
        for rec in self.store.event_schedules().await? {
            let Frequency::EventDriven { rule } = &rec.schedule.frequency else { continue };
            let since = self
                .store
                .last_firing(&rec.asset_id)
                .await?
                .unwrap_or(rec.last_modified_date)
                .max(rec.last_modified_date);
            let mut latest: Option<DateTime<Utc>> = None;
            let mut all = !rule.terms.is_empty();
            for term in &rule.terms {
                let happened = match term {
                    TriggerTerm::AllSalesforceObjects => self.store.last_sync_success().await?,
                    TriggerTerm::Asset(id) if id.has_prefix(KeyPrefix::Dataflow) => self.store.last_success(id).await?,
                    TriggerTerm::Asset(id) => match self.store.recipe(id).await {
                        Ok(r) => self.store.last_success(&r.dataflow.id).await?,
                        Err(StoreError::NotFound(_)) => None,
                        Err(e) => return Err(e),
                    },
                };
                match happened {
                    Some(t) if t > since => latest = latest.max(Some(t)),
                    _ => all = false,
                }
            }
            if let (true, Some(at)) = (all, latest)
                && let Some(f) = self.fire(&rec, at, None).await?
            {
                fired.push(f);
            }
        }
        if !fired.is_empty() {
            self.runner.wake();
        }
        Ok(fired)
    }
}
