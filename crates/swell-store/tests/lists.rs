//! The store's pages for the web UI (issue 16), on SQLite and PostgreSQL: jobs a page at a
//! time by key, and the lists of Dataflows & Recipes, Data and Connections.

mod common;

use common::{at, node};
use serde_json::json;
use swell_core::{AssetKind, JobStatus, JobType, Schedule};
use swell_store::{JobFilter, Store};

on_both!(job_pages, jobs_page_by_key_and_say_when_they_changed);
on_both!(asset_lists, dataflows_and_recipes_list_with_schedule_and_latest_run);
on_both!(dataset_pages, datasets_page_by_label_with_their_current_version);
on_both!(connection_lists, connections_list_with_objects_schedule_and_latest_sync);
on_both!(job_page_plans, the_monitors_pages_read_an_index_on_a_long_history);

async fn jobs_page_by_key_and_say_when_they_changed(s: Store) {
    use swell_store::JobKey;
    let admin = swell_store::admin_id();
    let a = s.create_dataflow(&admin, "A", "Alpha", None, &json!({})).await.unwrap();
    let start = chrono::Utc::now() - chrono::Duration::seconds(1);
    let mut writes = s.watch_jobs();
    // one queued run, then 24 refused requests (030, Failure), many within one millisecond:
    // the key (created, id) still orders them all
    for _ in 0..25 {
        s.enqueue_job(&admin, &a.id, JobType::User, "Alpha").await.unwrap();
    }
    assert!(writes.has_changed().unwrap(), "a write wakes the watchers");
    writes.mark_unchanged();
    let page = |before: Option<JobKey>, after: Option<JobKey>| {
        let s = s.clone();
        async move { s.job_page(&JobFilter { limit: 10, before, after, ..Default::default() }).await.unwrap() }
    };
    let (p1, more1) = page(None, None).await;
    let (p2, more2) = page(Some(JobKey::of(p1.last().unwrap())), None).await;
    let (p3, more3) = page(Some(JobKey::of(p2.last().unwrap())), None).await;
    assert_eq!((p1.len(), p2.len(), p3.len()), (10, 10, 5));
    assert_eq!((more1, more2, more3), (true, true, false));
    let mut ids: Vec<_> = p1.iter().chain(&p2).chain(&p3).map(|j| j.id.clone()).collect();
    let listed = ids.clone();
    ids.dedup();
    assert_eq!(ids.len(), 25, "every job once");
    let (all, _) = s.list_jobs(&JobFilter { limit: 100, ..Default::default() }).await.unwrap();
    assert_eq!(listed, all.iter().map(|j| j.id.clone()).collect::<Vec<_>>(), "the same order as the list");
    // back from the third page: the second, in the same order, with more newer ones
    let (back, more_newer) = page(None, Some(JobKey::of(&p3[0]))).await;
    assert_eq!(back.iter().map(|j| &j.id).collect::<Vec<_>>(), p2.iter().map(|j| &j.id).collect::<Vec<_>>());
    assert!(more_newer);
    // filters apply to pages too
    let failed =
        s.job_page(&JobFilter { limit: 100, status: Some(JobStatus::Failure), ..Default::default() }).await.unwrap().0;
    assert_eq!(failed.len(), 24);
    // what changed since a moment: all 25, then a node write dates its job again
    let changed = s.jobs_changed_since(start, 100).await.unwrap();
    assert_eq!(changed.len(), 25);
    let queued = all.iter().find(|j| j.status == JobStatus::Queued).unwrap().clone();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let mark = chrono::Utc::now();
    s.save_nodes(&queued.id, &[node("sfdcDigest", "running")]).await.unwrap();
    assert!(writes.has_changed().unwrap());
    let changed = s.jobs_changed_since(mark, 100).await.unwrap();
    assert_eq!(changed.iter().map(|j| &j.id).collect::<Vec<_>>(), vec![&queued.id]);
    assert!(changed[0].changed_at.timestamp_millis() >= mark.timestamp_millis());
    s.set_progress(&queued.id, 0.5).await.unwrap();
    s.request_stop(&queued.id).await.unwrap();
    assert_eq!(s.jobs_changed_since(mark, 100).await.unwrap().len(), 1);
    // every write dates the job later than the one before, also within one millisecond: a
    // reader that saw one date of a job knows another is a later write
    let mut dates = Vec::new();
    for i in 0..30 {
        s.set_progress(&queued.id, f64::from(i) / 30.0).await.unwrap();
        dates.push(s.job(&queued.id).await.unwrap().changed_at);
    }
    assert!(dates.windows(2).all(|w| w[0] < w[1]), "{dates:?}");
    // the day's runs: the queued one; refused requests do not count
    assert_eq!(s.count_runs_since(start).await.unwrap(), 1);
}

/// Issue 16: the Dataflows & Recipes list: both kinds (not sync dataflows), by label, with
/// each one's schedule and latest run (a refused request is not a run), searched by words.
async fn dataflows_and_recipes_list_with_schedule_and_latest_run(s: Store) {
    let admin = swell_store::admin_id();
    let a = s.create_dataflow(&admin, "Alpha", "alpha flow", None, &json!({})).await.unwrap();
    let r = s.create_recipe(&admin, "Prep", "Beta prep", None, &json!({})).await.unwrap();
    s.create_dataflow(&admin, "Never", "Gamma never ran", None, &json!({})).await.unwrap();
    let first = s.enqueue_job(&admin, &a.id, JobType::User, "Alpha").await.unwrap().queued().unwrap();
    s.request_stop(&first.id).await.unwrap();
    let refused = s.enqueue_job(&admin, &a.id, JobType::User, "Alpha").await.unwrap();
    assert!(refused.refused().is_some());
    let run = s.enqueue_job(&admin, &r.dataflow.id, JobType::RecipeV3, "Prep").await.unwrap().queued().unwrap();
    let daily =
        Schedule::from_input(&json!({"frequency": "daily", "time": {"hour": 2, "minute": 0, "timeZone": "UTC"}}))
            .unwrap();
    let next = at("2027-01-01T02:00:00Z");
    s.put_schedule(&admin, &r.id, AssetKind::Recipe, &daily, Some(next)).await.unwrap();
    let all = s.asset_summaries(None).await.unwrap();
    let labels: Vec<&str> = all.iter().map(|x| x.label.as_str()).collect();
    assert_eq!(labels, ["alpha flow", "Beta prep", "Gamma never ran"]);
    assert_eq!(all[0].last_run.as_ref().map(|j| &j.id), Some(&first.id), "the refused request is not a run");
    assert_eq!((all[0].kind, all[0].asset_id()), (AssetKind::Dataflow, &a.id));
    assert_eq!((all[1].kind, all[1].asset_id()), (AssetKind::Recipe, &r.id));
    assert_eq!(all[1].last_run.as_ref().map(|j| &j.id), Some(&run.id));
    assert_eq!(all[1].schedule, Some((daily, Some(next))));
    assert!(all[2].last_run.is_none() && all[2].schedule.is_none());
    let found = s.asset_summaries(Some("PREP beta")).await.unwrap();
    assert_eq!(found.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(), ["Prep"]);
}

/// Issue 16: the Data page: datasets by label, a page at a time, each with its current
/// version; searched by words, where `%` and `_` are plain characters.
async fn datasets_page_by_label_with_their_current_version(s: Store) {
    let admin = swell_store::admin_id();
    for (name, label, rows) in [("B", "beta 100%", 5), ("A", "Alpha", 7), ("C", "gamma_x", 9), ("D", "gammaXx", 1)] {
        s.record_dataset_version(&admin, name, label, &format!("v-{name}"), rows, None).await.unwrap();
    }
    s.record_dataset_version(&admin, "A", "Alpha", "v-A2", 70, None).await.unwrap();
    let (page, more) = s.dataset_page(None, 0, 2).await.unwrap();
    assert!(more);
    assert_eq!(page.iter().map(|(d, _)| d.name.as_str()).collect::<Vec<_>>(), ["A", "B"]);
    assert_eq!(page[0].1.as_ref().map(|v| (v.storage_version.as_str(), v.row_count)), Some(("v-A2", 70)));
    let (page, more) = s.dataset_page(None, 2, 2).await.unwrap();
    assert!(!more);
    assert_eq!(page.iter().map(|(d, _)| d.name.as_str()).collect::<Vec<_>>(), ["C", "D"]);
    let names = |found: Vec<(swell_store::DatasetRecord, Option<swell_store::DatasetVersionRecord>)>| {
        found.into_iter().map(|(d, _)| d.name).collect::<Vec<_>>()
    };
    assert_eq!(names(s.dataset_page(Some("GAMMA _"), 0, 10).await.unwrap().0), ["C"], "_ is a plain character");
    assert_eq!(names(s.dataset_page(Some("100%"), 0, 10).await.unwrap().0), ["B"]);
    assert_eq!(names(s.dataset_page(Some("%"), 0, 10).await.unwrap().0), ["B"], "% is a plain character");
    assert!(s.dataset_page(Some("nothing"), 0, 10).await.unwrap().0.is_empty());
}

/// Issue 16: the Connections page: each connection with its objects' count, its schedule and
/// its latest sync with that sync's nodes (refused requests are not syncs).
async fn connections_list_with_objects_schedule_and_latest_sync(s: Store) {
    let admin = swell_store::admin_id();
    let b = s.create_connector(&admin, "B_Conn", "beta", None, "AmazonS3", &[]).await.unwrap();
    let a = s.create_connector(&admin, "A_Conn", "Alpha", None, "AmazonS3", &[]).await.unwrap();
    for object in ["Account", "Contact"] {
        s.create_replicated(&admin, &a.id, object, &Default::default()).await.unwrap();
    }
    let first = s.enqueue_job(&admin, &a.dataflow_id, JobType::DataSync, "A").await.unwrap().queued().unwrap();
    s.enqueue_job(&admin, &a.dataflow_id, JobType::DataSync, "A").await.unwrap().refused().unwrap();
    s.save_nodes(&first.id, &[node("digest", "success"), node("digest", "running")]).await.unwrap();
    let schedule = swell_core::Schedule::from_input(&serde_json::json!({"frequency": "daily",
        "time": {"hour": 3, "minute": 0, "timeZone": "UTC"}}))
    .unwrap();
    let next = chrono::Utc::now() + chrono::Duration::hours(5);
    s.put_schedule(&admin, &a.id, swell_core::AssetKind::Connection, &schedule, Some(next)).await.unwrap();
    let list = s.connection_summaries().await.unwrap();
    assert_eq!(list.iter().map(|c| c.connector.name.as_str()).collect::<Vec<_>>(), ["A_Conn", "B_Conn"]);
    assert_eq!((list[0].objects, list[1].objects), (2, 0));
    let job = list[0].last_sync.as_ref().expect("a sync");
    assert_eq!((&job.id, job.status, job.unchanged), (&first.id, swell_core::JobStatus::Queued, false));
    assert!(list[0].schedule.as_ref().is_some_and(|(_, n)| n.is_some()));
    assert!(list[1].last_sync.is_none() && list[1].schedule.is_none());
    let (run, nodes) = s.latest_run_with_nodes(&a.dataflow_id).await.unwrap().expect("the latest sync");
    assert_eq!((run.id, run.status, run.unchanged), (first.id, swell_core::JobStatus::Queued, false));
    assert_eq!(nodes.iter().map(|n| n.state.status.as_str()).collect::<Vec<_>>(), ["success", "running"]);
    assert!(s.latest_run_with_nodes(&b.dataflow_id).await.unwrap().is_none());
    let queued = s.enqueue_job(&admin, &b.dataflow_id, JobType::DataSync, "B").await.unwrap().queued().unwrap();
    let (run, nodes) = s.latest_run_with_nodes(&b.dataflow_id).await.unwrap().expect("a sync without nodes yet");
    assert_eq!((run.id, nodes.len()), (queued.id, 0));
}

/// The Monitor on 20,000 jobs: its first page, an older page by key and a filtered page are
/// read through an index on both backends (no scan of every job, no sort of every match),
/// whatever the planner's statistics say after ANALYZE. (The one-row look-ups of each row's
/// recipe and starter may scan their tables while these are tiny, as here.)
async fn the_monitors_pages_read_an_index_on_a_long_history(s: Store) {
    use swell_store::JobKey;
    let admin = swell_store::admin_id();
    let d = s.create_dataflow(&admin, "Sales", "Sales", None, &json!({})).await.unwrap();
    // 20,000 jobs a minute apart, of every type and status (a recursive CTE both backends run)
    s.execute_admin(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
         INSERT INTO job (id, dataflow_id, job_type, label, status, created_date, changed_at)
         SELECT 'plan' || i, '{}',
                CASE i % 3 WHEN 0 THEN 'user' WHEN 1 THEN 'recipe_v3' ELSE 'datasync' END,
                CASE i % 7 WHEN 0 THEN 'Sales pipeline' ELSE 'Other' END,
                CASE i % 5 WHEN 0 THEN 'Failure' WHEN 1 THEN 'Warning' WHEN 2 THEN 'Cancelled' ELSE 'Success' END,
                1700000000000 + i * 60000, 1700000000000 + i * 60000
         FROM n",
        d.id
    ))
    .await
    .unwrap();
    s.execute_admin("ANALYZE").await.unwrap();
    let first = JobFilter { limit: 50, ..Default::default() };
    let older =
        JobFilter { before: Some(JobKey { created: at("2023-11-20T00:00:00Z"), id: d.id.clone() }), ..first.clone() };
    let filtered = JobFilter {
        status: Some(JobStatus::Failure),
        job_types: vec![JobType::User],
        q: Some("sales".into()),
        ..first.clone()
    };
    for (what, filter) in [("first page", &first), ("older page", &older), ("filtered page", &filtered)] {
        let plan = s.job_page_plan(filter).await.unwrap();
        let text = plan.join("\n");
        assert!(text.contains("INDEX") || text.contains("Index"), "{what} reads no index:\n{text}");
        assert!(
            !plan.iter().any(|l| l.trim() == "SCAN job" || l.contains("Seq Scan on job")),
            "{what} scans every job:\n{text}"
        );
        if !std::ptr::eq(filter, &filtered) {
            // a sort of the ties of one queued time under an index's order is fine (PostgreSQL's
            // Incremental Sort, SQLite's "RIGHT PART OF ORDER BY"); a sort of every match is not
            let full_sort = |l: &String| {
                let step = l.trim().trim_start_matches("->").trim();
                step.starts_with("Sort  (") || step == "USE TEMP B-TREE FOR ORDER BY"
            };
            assert!(!plan.iter().any(full_sort), "{what} sorts its matches:\n{text}");
        }
    }
}
