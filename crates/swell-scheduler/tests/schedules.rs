//! The scheduler stepped with a fake clock over a real store: ticks fire once, survive
//! restarts, two schedulers on one database never double-fire, missed ticks follow the
//! catch-up policy, and event-driven schedules follow the runs they wait for.

use chrono::{DateTime, Utc};
use serde_json::json;
use std::sync::{Arc, Mutex};
use swell_core::{AssetKind, JobStatus, JobType, SalesforceId, Schedule, Transition};
use swell_engine::DataDir;
use swell_scheduler::{CatchUp, Clock, Runner, RunnerSettings, Scheduler};
use swell_store::{JobFilter, Store};

struct FakeClock(Mutex<DateTime<Utc>>);

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

struct World {
    store: Store,
    runner: Arc<Runner>,
    clock: Arc<FakeClock>,
    _dir: tempfile::TempDir,
}

impl World {
    async fn new(now: &str) -> World {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.path().join("swell.db").display())).await.unwrap();
        // the runner's loop is not started: fired jobs stay queued where the test can see them
        let runner = Runner::new(store.clone(), DataDir::new(dir.path()), RunnerSettings::new("test"));
        World { store, runner, clock: Arc::new(FakeClock(Mutex::new(at(now)))), _dir: dir }
    }

    fn scheduler(&self, policy: CatchUp) -> Arc<Scheduler> {
        Scheduler::new(self.store.clone(), self.runner.clone(), self.clock.clone(), policy)
    }

    async fn dataflow(&self, name: &str) -> SalesforceId {
        self.store.create_dataflow(&swell_store::admin_id(), name, name, None, &json!({})).await.unwrap().id
    }

    /// Sets a schedule as the API does: next run computed from the clock's now.
    async fn schedule(&self, id: &SalesforceId, body: serde_json::Value) {
        let s = Schedule::from_input(&body).unwrap();
        let next = s.next_after(self.clock.now());
        let kind = [AssetKind::Dataflow, AssetKind::Recipe, AssetKind::Connection]
            .into_iter()
            .find(|k| id.has_prefix(k.key_prefix()))
            .expect("a schedulable id");
        self.store.put_schedule(&swell_store::admin_id(), id, kind, &s, next).await.unwrap();
    }

    async fn jobs(&self, id: &SalesforceId) -> Vec<swell_store::JobRecord> {
        let filter = JobFilter { dataflow_id: Some(id.clone()), limit: 1000, ..Default::default() };
        self.store.list_jobs(&filter).await.unwrap().0
    }

    /// Finishes every queued job of a dataflow, as the runner would.
    async fn finish(&self, id: &SalesforceId, t: Transition) {
        for j in self.jobs(id).await.into_iter().filter(|j| j.status == JobStatus::Queued) {
            self.store.transition(&j.id, Transition::Start, None).await.unwrap();
            self.store.transition(&j.id, t, None).await.unwrap();
        }
    }
}

fn daily_2am() -> serde_json::Value {
    json!({"frequency": "daily", "time": {"hour": 2, "minute": 0, "timeZone": "UTC"}})
}

#[tokio::test]
async fn a_tick_fires_once_at_its_time() {
    let w = World::new("2027-01-01T00:00:00Z").await;
    let df = w.dataflow("Nightly").await;
    w.schedule(&df, daily_2am()).await;
    let s = w.scheduler(CatchUp::Latest);
    assert!(s.tick(at("2027-01-01T01:59:59Z")).await.unwrap().is_empty());
    let fired = s.tick(at("2027-01-01T02:00:00Z")).await.unwrap();
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].nominal, at("2027-01-01T02:00:00Z"));
    assert!(fired[0].queued);
    assert!(s.tick(at("2027-01-01T02:00:30Z")).await.unwrap().is_empty());
    let jobs = w.jobs(&df).await;
    assert_eq!(jobs.len(), 1);
    assert_eq!((jobs[0].status, jobs[0].job_type), (JobStatus::Queued, JobType::User));
    // started by the schedule, in the name of who set it
    assert_eq!((jobs[0].trigger, &jobs[0].started_by.id), (swell_core::Trigger::Schedule, &swell_store::admin_id()));
    assert_eq!(w.store.schedule(&df).await.unwrap().unwrap().next_run, Some(at("2027-01-02T02:00:00Z")));
}

#[tokio::test]
async fn a_restart_does_not_fire_a_tick_again() {
    let w = World::new("2027-01-01T00:00:00Z").await;
    let df = w.dataflow("Nightly").await;
    w.schedule(&df, daily_2am()).await;
    w.scheduler(CatchUp::Latest).tick(at("2027-01-01T02:00:00Z")).await.unwrap();
    // a crash right after the firing, before next_run moved on: the stored tick is due again
    let s = w.store.schedule(&df).await.unwrap().unwrap();
    w.store
        .put_schedule(&swell_store::admin_id(), &df, AssetKind::Dataflow, &s.schedule, Some(at("2027-01-01T02:00:00Z")))
        .await
        .unwrap();
    let restarted = w.scheduler(CatchUp::Latest);
    assert!(restarted.tick(at("2027-01-01T02:00:05Z")).await.unwrap().is_empty());
    assert_eq!(w.jobs(&df).await.len(), 1);
    assert_eq!(w.store.schedule(&df).await.unwrap().unwrap().next_run, Some(at("2027-01-02T02:00:00Z")));
}

#[tokio::test]
async fn missed_ticks_run_the_latest_once_or_none() {
    let w = World::new("2027-01-01T00:00:00Z").await;
    let (a, b) = (w.dataflow("A").await, w.dataflow("B").await);
    w.schedule(&a, daily_2am()).await;
    w.schedule(&b, daily_2am()).await;
    // the server comes back on Jan 5 at 10:00: four ticks of each were missed
    let latest = w.scheduler(CatchUp::Latest).tick(at("2027-01-05T10:00:00Z")).await.unwrap();
    let fired_a: Vec<_> = latest.iter().filter(|f| f.asset_id == a).collect();
    assert_eq!(fired_a.len(), 1);
    assert_eq!(fired_a[0].nominal, at("2027-01-05T02:00:00Z"));
    assert_eq!(w.store.schedule(&a).await.unwrap().unwrap().next_run, Some(at("2027-01-06T02:00:00Z")));

    let w = World::new("2027-01-01T00:00:00Z").await;
    let a = w.dataflow("A").await;
    w.schedule(&a, daily_2am()).await;
    let skip = w.scheduler(CatchUp::Skip);
    assert!(skip.tick(at("2027-01-05T10:00:00Z")).await.unwrap().is_empty());
    assert!(w.jobs(&a).await.is_empty());
    assert_eq!(w.store.schedule(&a).await.unwrap().unwrap().next_run, Some(at("2027-01-06T02:00:00Z")));
    // a tick a few seconds late is on time under either policy
    assert_eq!(skip.tick(at("2027-01-06T02:00:20Z")).await.unwrap().len(), 1);
}

#[tokio::test]
async fn two_schedulers_on_one_database_fire_each_tick_once() {
    let w = World::new("2027-01-01T00:00:00Z").await;
    let mut ids = Vec::new();
    for i in 0..40 {
        let id = w.dataflow(&format!("F{i}")).await;
        w.schedule(&id, daily_2am()).await;
        ids.push(id);
    }
    let (s1, s2) = (w.scheduler(CatchUp::Latest), w.scheduler(CatchUp::Latest));
    let now = at("2027-01-01T02:00:00Z");
    let (f1, f2) = tokio::join!(s1.tick(now), s2.tick(now));
    // SQLite may refuse a write that raced another with "database is locked"; a failed tick
    // fires nothing, and the next tick finishes the work
    let mut total = f1.map(|f| f.len()).unwrap_or(0) + f2.map(|f| f.len()).unwrap_or(0);
    total += s1.tick(now).await.unwrap().len();
    assert_eq!(total, 40);
    for id in &ids {
        assert_eq!(w.jobs(id).await.len(), 1, "{id}");
    }
}

#[tokio::test]
async fn a_day_of_the_seed_hourly_schedule() {
    let w = World::new("2027-01-04T08:00:00Z").await;
    let df = w.dataflow("Hourly").await;
    w.schedule(
        &df,
        json!({
            "frequency": "hourly",
            "daysOfWeek": ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
            "hourlyInterval": 3, "lastHour": 20,
            "time": {"hour": 2, "minute": 30, "timezone": "America/Los_Angeles"}
        }),
    )
    .await;
    let s = w.scheduler(CatchUp::Latest);
    // step a day minute by minute, finishing each run before the next tick
    let mut fired = Vec::new();
    let mut now = at("2027-01-04T08:00:00Z");
    while now < at("2027-01-05T08:00:00Z") {
        for f in s.tick(now).await.unwrap() {
            assert!(f.queued);
            fired.push(f.nominal.format("%H:%M").to_string());
        }
        w.finish(&df, Transition::Succeed).await;
        now += chrono::Duration::minutes(1);
    }
    // 02:30 .. 17:30 Pacific Standard Time
    assert_eq!(fired, ["10:30", "13:30", "16:30", "19:30", "22:30", "01:30"]);
}

#[tokio::test]
async fn event_driven_schedules_follow_the_runs_they_wait_for() {
    let w = World::new("2027-01-01T00:00:00Z").await;
    let (upstream, downstream) = (w.dataflow("Upstream").await, w.dataflow("Downstream").await);
    w.schedule(&downstream, json!({"frequency": "eventdriven", "triggerRule": format!("dataflow:{upstream}")})).await;
    let s = w.scheduler(CatchUp::Latest);
    assert!(s.check_events().await.unwrap().is_empty());
    // a failed run is not an event
    w.store
        .enqueue_job(&swell_store::admin_id(), &upstream, JobType::User, "Upstream")
        .await
        .unwrap()
        .queued()
        .unwrap();
    w.finish(&upstream, Transition::Fail).await;
    assert!(s.check_events().await.unwrap().is_empty());
    // a successful one fires the downstream dataflow once
    w.store
        .enqueue_job(&swell_store::admin_id(), &upstream, JobType::User, "Upstream")
        .await
        .unwrap()
        .queued()
        .unwrap();
    w.finish(&upstream, Transition::Succeed).await;
    assert_eq!(s.check_events().await.unwrap().len(), 1);
    assert!(s.check_events().await.unwrap().is_empty());
    assert!(w.scheduler(CatchUp::Latest).check_events().await.unwrap().is_empty());
    let fired = w.jobs(&downstream).await;
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].trigger, swell_core::Trigger::Event, "an event started it");
    // the next success fires it again (once the millisecond clock has moved)
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    w.store
        .enqueue_job(&swell_store::admin_id(), &upstream, JobType::User, "Upstream")
        .await
        .unwrap()
        .queued()
        .unwrap();
    w.finish(&upstream, Transition::Succeed).await;
    w.finish(&downstream, Transition::Succeed).await;
    assert_eq!(s.check_events().await.unwrap().len(), 1);
    // waiting for the local connection's sync as well: no sync has run, so nothing fires
    w.schedule(
        &downstream,
        json!({"frequency": "eventdriven", "triggerRule": format!("$ALL_SALESFORCE_OBJECTS AND dataflow:{upstream}")}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    w.store
        .enqueue_job(&swell_store::admin_id(), &upstream, JobType::User, "Upstream")
        .await
        .unwrap()
        .queued()
        .unwrap();
    w.finish(&upstream, Transition::Succeed).await;
    assert!(s.check_events().await.unwrap().is_empty());
    // a sync of another kind of connection is not the local one's
    let files =
        w.store.create_connector(&swell_store::admin_id(), "Files", "Files", None, "AmazonS3", &[]).await.unwrap();
    w.store
        .enqueue_job(&swell_store::admin_id(), &files.dataflow_id, JobType::DataSync, "Files")
        .await
        .unwrap()
        .queued()
        .unwrap();
    w.finish(&files.dataflow_id, Transition::Succeed).await;
    assert!(s.check_events().await.unwrap().is_empty());
    // the local connection's sync succeeds: both terms happened, it fires once
    let local = w
        .store
        .create_connector(&swell_store::admin_id(), "SFDC_LOCAL", "SFDC_LOCAL", None, "SfdcLocal", &[])
        .await
        .unwrap();
    w.store
        .enqueue_job(&swell_store::admin_id(), &local.dataflow_id, JobType::DataSync, "SFDC_LOCAL")
        .await
        .unwrap()
        .queued()
        .unwrap();
    w.finish(&local.dataflow_id, Transition::Succeed).await;
    assert_eq!(s.check_events().await.unwrap().len(), 1);
    assert!(s.check_events().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_connection_schedule_queues_its_sync() {
    let w = World::new("2027-01-01T00:00:00Z").await;
    let c = w
        .store
        .create_connector(&swell_store::admin_id(), "SFDC_LOCAL", "Local", None, "SfdcLocal", &[])
        .await
        .unwrap();
    w.schedule(&c.id, daily_2am()).await;
    let fired = w.scheduler(CatchUp::Latest).tick(at("2027-01-01T02:00:00Z")).await.unwrap();
    assert_eq!(fired.len(), 1);
    let jobs = w.jobs(&c.dataflow_id).await;
    assert_eq!((jobs.len(), jobs[0].job_type, jobs[0].label.as_str()), (1, JobType::DataSync, "Local"));
}

#[tokio::test]
async fn a_schedule_of_a_deleted_dataflow_is_dropped() {
    let w = World::new("2027-01-01T00:00:00Z").await;
    let df = w.dataflow("Gone").await;
    w.schedule(&df, daily_2am()).await;
    // deleted behind the store's back (the API deletes both together)
    w.store.execute_admin(&format!("DELETE FROM dataflow WHERE id = '{df}'")).await.unwrap();
    assert!(w.scheduler(CatchUp::Latest).tick(at("2027-01-01T02:00:00Z")).await.unwrap().is_empty());
    assert!(w.store.schedule(&df).await.unwrap().is_none());
}
