//! The Wave REST API driven in process: the router of `app(state)` with a real store, runner
//! and engine underneath.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use swell_engine::DataDir;
use swell_scheduler::{CatchUp, Runner, RunnerSettings, Scheduler, SystemClock};
use swell_server::{AppState, Service, app};
use swell_store::Store;
use tower::ServiceExt;

const TOKEN: &str = "00DSW0000000001!test";

struct Api {
    app: Service,
    store: Store,
    data: DataDir,
    _dir: tempfile::TempDir,
}

impl Api {
    fn store(&self) -> &Store {
        &self.store
    }

    async fn new() -> Api {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.path().join("swell.db").display())).await.unwrap();
        let data = DataDir::new(dir.path());
        let mut settings = RunnerSettings::new("test-server");
        // local-folder connections read the test's temporary folders only
        settings.folders = swell_scheduler::FolderPolicy::roots([std::env::temp_dir()]).unwrap();
        let runner = Runner::new(store.clone(), data.clone(), settings);
        tokio::spawn(runner.clone().run());
        let scheduler = Scheduler::new(store.clone(), runner.clone(), Arc::new(SystemClock), CatchUp::Latest);
        tokio::spawn(scheduler.clone().run());
        let app_ = swell_app::App { store: store.clone(), runner, scheduler, data_dir: data.clone() };
        let state = AppState { app: app_, token: Arc::new(TOKEN.to_string()) };
        Api { app: app(state), store, data, _dir: dir }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(body.map_or_else(Body::empty, |b| Body::from(b.to_string()))).unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        if !bytes.is_empty() {
            assert_eq!(ct.as_deref(), Some("application/json;charset=UTF-8"), "{path}");
        }
        (status, if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() })
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let auth = format!("Bearer {TOKEN}");
        self.send(method, path, body, &[("Authorization", &auth), ("X-Chatter-Entity-Encoding", "false")]).await
    }

    /// Loads a CSV as the connected object `object` of SFDC_LOCAL.
    async fn object(&self, object: &str, csv: &str) {
        let file = self.data.root().join(format!("{object}.csv"));
        std::fs::write(&file, csv).unwrap();
        swell_engine::run::import_file(
            &self.data.connected_object("SFDC_LOCAL", object).unwrap(),
            &file,
            object,
            object,
        )
        .await
        .unwrap();
    }

    async fn wait_for(&self, job: &str, done: impl Fn(&str) -> bool) -> Value {
        let mut last = Value::Null;
        for _ in 0..400 {
            let (_, j) = self.call("GET", &format!("/services/data/v62.0/wave/dataflowjobs/{job}"), None).await;
            if done(j["status"].as_str().unwrap()) {
                return j;
            }
            last = j;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("job {job} never reached the expected status; last: {last}");
    }
}

const FLOW: &str = r#"{
  "Extract": {"action": "sfdcDigest", "parameters": {"object": "Account", "fields": [{"name": "Id"}, {"name": "Name"}, {"name": "Revenue"}]}},
  "Big": {"action": "filter", "parameters": {"source": "Extract", "saqlFilter": "Revenue > 100"}},
  "Register": {"action": "sfdcRegister", "parameters": {"alias": "BigAccounts", "name": "Big Accounts", "source": "Big"}}
}"#;

#[tokio::test]
async fn versions_auth_and_errors() {
    let api = Api::new().await;
    let (s, v) = api.send("GET", "/services/data/", None, &[]).await;
    assert_eq!(s, StatusCode::OK, "the version list needs no token");
    let versions = v.as_array().unwrap();
    assert_eq!(versions.first().unwrap()["version"], "41.0");
    assert_eq!(
        versions.last().unwrap(),
        &json!({"label": "Spring '26", "url": "/services/data/v66.0", "version": "66.0"})
    );
    let (s, v) = api.send("GET", "/services/data/v62.0/wave/dataflows", None, &[]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v, json!([{"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}]));
    let (s, _) =
        api.send("GET", "/services/data/v62.0/wave/dataflows", None, &[("Authorization", "Bearer wrong")]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = api.call("GET", "/services/data/v40.0/wave/dataflows", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v[0]["errorCode"], "NOT_FOUND");
    let (s, v) = api.call("GET", "/services/data/v62.0/wave/nothing", None).await;
    assert_eq!((s, v[0]["errorCode"].as_str()), (StatusCode::NOT_FOUND, Some("NOT_FOUND")));
    let (s, v) = api.call("DELETE", "/services/data/v62.0/wave/dataflowjobs", None).await;
    assert_eq!((s, v[0]["errorCode"].as_str()), (StatusCode::METHOD_NOT_ALLOWED, Some("METHOD_NOT_ALLOWED")));
    let (s, v) = api.call("GET", "/services/data/v62.0/wave/dataflowjobs/001000000000000", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = api.call("GET", "/services/data/v62.0/wave/dataflowjobs/03C3h000002pSSeXXX", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    // one rule where ids and API names both name an asset: neither is a bad id (400), a
    // well-formed one that matches nothing is 404
    for (path, status) in [
        ("dataflows/02K3h000002pSSeXXX", StatusCode::BAD_REQUEST),
        ("recipes/05v3h000002pSSeXXX", StatusCode::BAD_REQUEST),
        ("datasets/0Fb3h000002pSSeXXX", StatusCode::BAD_REQUEST),
        ("dataflows/NoSuchFlow", StatusCode::NOT_FOUND),
        ("recipes/NoSuchRecipe", StatusCode::NOT_FOUND),
    ] {
        let (s, v) = api.call("GET", &format!("/services/data/v62.0/wave/{path}"), None).await;
        assert_eq!(s, status, "{path}: {v}");
    }
    let (s, v) = api
        .call(
            "POST",
            "/services/data/v62.0/wave/dataflowjobs",
            Some(json!({"dataflowId": "02K3h000000Mr7KEAS", "command": "start"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let bad = api
        .send(
            "POST",
            "/services/data/v62.0/wave/dataflows",
            None,
            &[("Authorization", &format!("Bearer {TOKEN}")), ("Content-Type", "application/json")],
        )
        .await;
    assert_eq!(bad.0, StatusCode::BAD_REQUEST, "a dataflow needs a name");
}

#[tokio::test]
async fn a_dataflow_runs_end_to_end() {
    let api = Api::new().await;
    api.object("Account", "Id,Name,Revenue\n001A,Acme,500\n001B,Globex,50\n001C,\"O'Neil & Co\",150\n").await;
    // invalid definitions are refused with every problem
    let (s, v) = api
        .call("POST", "/services/data/v62.0/wave/dataflows", Some(json!({"name": "Bad", "definition": {"a": {"action": "nope"}, "b": {"action": "filter", "parameters": {"source": "zz", "filter": "x:EQ:1"}}}})))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v.as_array().unwrap().len(), 2, "{v}");
    // names: one rule for every asset (swell_core::name); a namespace prefix is a name too
    for bad in ["Nightly_", "2024_Pipeline", "a__b__c", "sync:Files"] {
        let (s, e) = api.call("POST", "/services/data/v62.0/wave/dataflows", Some(json!({"name": bad}))).await;
        assert_eq!((s, e[0]["errorCode"].as_str()), (StatusCode::BAD_REQUEST, Some("INVALID_INPUT")), "{bad}: {e}");
        assert!(
            e[0]["message"].as_str().unwrap().starts_with(&format!("name: '{bad}' is not a valid API name")),
            "{e}"
        );
    }
    let (s, ns) =
        api.call("POST", "/services/data/v62.0/wave/dataflows", Some(json!({"name": "eadx__Pipeline"}))).await;
    assert_eq!((s, ns["name"].as_str()), (StatusCode::CREATED, Some("eadx__Pipeline")), "{ns}");
    let (s, made) =
        api.call("POST", "/services/data/v62.0/wave/dataflows", Some(json!({"label": "Pipeline (EMEA)"}))).await;
    assert_eq!((s, made["name"].as_str()), (StatusCode::CREATED, Some("Pipeline_EMEA")), "{made}");
    let (s, df) = api
        .call("POST", "/services/data/v62.0/wave/dataflows", Some(json!({"name": "Accounts", "label": "Accounts flow", "definition": serde_json::from_str::<Value>(FLOW).unwrap()})))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{df}");
    let id = df["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("02K") && id.len() == 18);

    // start: the seed's body verbatim, wrapped or bare, id of 15 or 18 characters
    let (s, job) = api
        .call(
            "POST",
            "/services/data/v62.0/wave/dataflowjobs",
            Some(json!({"dataflowId": &id[..15], "command": "start"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{job}");
    assert_eq!(job["status"], "Queued");
    assert_eq!(job["type"], "dataflowjob");
    let job_id = job["id"].as_str().unwrap().to_string();
    assert!(job_id.starts_with("03C"));
    let done = api.wait_for(&job_id, |s| s == "Success" || s == "Failure").await;
    assert_eq!(done["status"], "Success", "{done}");
    assert_eq!(done["jobType"], "user");
    assert!(done["executedDate"].as_str().unwrap().ends_with('Z'));
    assert_eq!(done["progress"], 1.0);

    let (_, nodes) = api.call("GET", &format!("/services/data/v62.0/wave/dataflowjobs/{job_id}/nodes"), None).await;
    let nodes = nodes["nodes"].as_array().unwrap().clone();
    assert_eq!(nodes.len(), 3);
    assert_eq!(nodes[1]["name"], "Big");
    assert_eq!(nodes[1]["nodeType"], "filter");
    assert_eq!(nodes[1]["status"], "success");
    assert_eq!(nodes[1]["inputRows"]["processedCount"], 3);
    assert_eq!(nodes[1]["outputRows"]["processedCount"], 2);
    let node_id = nodes[1]["id"].as_str().unwrap();
    assert!(node_id.starts_with("03L"));
    let (s, one) =
        api.call("GET", &format!("/services/data/v62.0/wave/dataflowjobs/{job_id}/nodes/{node_id}"), None).await;
    assert_eq!((s, &one["name"]), (StatusCode::OK, &json!("Big")));

    // the dataset and its version
    let (_, ds) = api.call("GET", "/services/data/v62.0/wave/datasets/BigAccounts", None).await;
    assert_eq!(ds["label"], "Big Accounts");
    let (_, versions) = api
        .call("GET", &format!("/services/data/v62.0/wave/datasets/{}/versions", ds["id"].as_str().unwrap()), None)
        .await;
    assert_eq!(versions["versions"][0]["totalRowCount"], 2);

    // entity encoding unless the client turns it off
    let auth = format!("Bearer {TOKEN}");
    let (_, encoded) =
        api.send("GET", &format!("/services/data/v62.0/wave/dataflows/{id}"), None, &[("Authorization", &auth)]).await;
    assert_eq!(encoded["definition"]["Big"]["parameters"]["saqlFilter"], "Revenue &gt; 100");
    // fields newer than the requested version are left out
    let (_, old) = api.call("GET", &format!("/services/data/v46.0/wave/dataflowjobs/{job_id}"), None).await;
    assert!(old.get("nodesUrl").is_none() && old.get("endDate").is_none() && old.get("waitTime").is_none(), "{old}");
    assert_eq!(old["status"], "Success");
    assert!(done.get("nodesUrl").is_some() && done.get("endDate").is_some());
    // case-insensitive paths, trailing slash
    let (s, _) = api.call("GET", &format!("/services/data/v62.0/WAVE/DataflowJobs/{job_id}/"), None).await;
    assert_eq!(s, StatusCode::OK);
    // and the double slash of a client joining "http://host/" with "/services/..."
    let (s, _) = api.call("GET", &format!("//services/data/v62.0/wave/dataflowjobs/{job_id}"), None).await;
    assert_eq!(s, StatusCode::OK);

    // the list: newest first, filters
    let (_, list) =
        api.call("GET", &format!("/services/data/v62.0/wave/dataflowjobs?dataflowId={id}&status=success"), None).await;
    assert_eq!(list["totalSize"], 1);
    assert_eq!(list["dataflowJobs"][0]["id"], json!(job_id));
    let (s, v) = api.call("GET", "/services/data/v62.0/wave/dataflowjobs?pageSize=500", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, _) = api.call("GET", "/services/data/v62.0/wave/dataflowjobs?status=Exploded", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // a finished job cannot be stopped
    let (s, v) = api
        .call("PATCH", &format!("/services/data/v62.0/wave/dataflowjobs/{job_id}"), Some(json!({"command": "stop"})))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    // PATCH a definition, histories, revert
    let mut changed: Value = serde_json::from_str(FLOW).unwrap();
    changed["Big"]["parameters"]["saqlFilter"] = json!("Revenue > 400");
    let (s, _) = api
        .call(
            "PATCH",
            &format!("/services/data/v62.0/wave/dataflows/{id}"),
            Some(json!({"definition": changed, "historyLabel": "stricter"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, h) = api.call("GET", &format!("/services/data/v62.0/wave/dataflows/{id}/histories"), None).await;
    assert_eq!(h["histories"][0]["label"], "stricter");
    let first = h["histories"][1]["id"].as_str().unwrap().to_string();
    let (_, reverted) = api
        .call(
            "PUT",
            &format!("/services/data/v62.0/wave/dataflows/{id}"),
            Some(json!({"historyId": first, "historyLabel": "back"})),
        )
        .await;
    assert_eq!(reverted["definition"]["Big"]["parameters"]["saqlFilter"], "Revenue > 100");
}

#[tokio::test]
async fn a_second_start_while_running_is_refused_and_stop_stops() {
    let api = Api::new().await;
    let mut csv = String::from("Region,Seq,Amount\n");
    // large enough that the row-by-row running total takes seconds
    for i in 0..2_000_000 {
        csv.push_str(&format!("R{},{},{}\n", i % 5, i, i % 1000));
    }
    api.object("Sales", &csv).await;
    let flow = json!({
        "d": {"action": "sfdcDigest", "parameters": {"object": "Sales", "fields": [{"name": "Region"}, {"name": "Seq"}, {"name": "Amount"}]}},
        "cr": {"action": "computeRelative", "parameters": {"source": "d", "partitionBy": ["Region"], "orderBy": [{"name": "Seq", "direction": "asc"}],
            "computedFields": [{"name": "Running", "type": "Numeric", "saqlExpression": "coalesce(previous(Running), 0) + Amount"}]}},
        "r": {"action": "sfdcRegister", "parameters": {"alias": "Running", "name": "Running", "source": "cr"}}
    });
    let (_, df) = api
        .call("POST", "/services/data/v62.0/wave/dataflows", Some(json!({"name": "Slow", "definition": flow})))
        .await;
    let id = df["id"].as_str().unwrap().to_string();
    let (s, job) = api
        .call(
            "POST",
            "/services/data/v62.0/wave/dataflowjobs",
            Some(json!({"dataflowJob": {"dataflowId": id, "command": "Start"}})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{job}");
    let job_id = job["id"].as_str().unwrap().to_string();
    api.wait_for(&job_id, |s| s == "Running").await;
    // running: a second start is refused as while queued (030 Failure; store migration 0008)
    let (s, refused) = api
        .call("POST", "/services/data/v62.0/wave/dataflowjobs", Some(json!({"dataflowId": id, "command": "start"})))
        .await;
    assert_eq!((s, refused[0]["errorCode"].as_str()), (StatusCode::CONFLICT, Some("JOB_ALREADY_QUEUED")), "{refused}");
    assert!(refused[0]["message"].as_str().unwrap().contains("already in the queue"));
    let (_, failures) = api.call("GET", "/services/data/v62.0/wave/dataflowjobs?status=Failure", None).await;
    let failed_id = failures["dataflowJobs"][0]["id"].as_str().unwrap().to_string();
    assert!(failed_id.starts_with("030"));
    let (_, empty) = api.call("GET", &format!("/services/data/v62.0/wave/dataflowjobs/{failed_id}/nodes"), None).await;
    assert_eq!(empty["nodes"], json!([]));

    let started = std::time::Instant::now();
    let (s, stopped) = api
        .call("PATCH", &format!("/services/data/v62.0/wave/dataflowjobs/{job_id}"), Some(json!({"command": "stop"})))
        .await;
    assert_eq!(s, StatusCode::OK, "{stopped}");
    let stopped = api.wait_for(&job_id, |s| s == "Cancelled").await;
    assert!(started.elapsed() < Duration::from_secs(2), "stopping took {:?}", started.elapsed());
    assert_eq!(stopped["status"], "Cancelled");
    let (_, ds) = api.call("GET", "/services/data/v62.0/wave/datasets", None).await;
    assert!(
        ds["datasets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["name"] != "Running" || d.get("currentVersionId").is_none())
    );
}

#[tokio::test]
async fn schedules_are_set_read_and_deleted() {
    let api = Api::new().await;
    let (s, df) = api.call("POST", "/services/data/v62.0/wave/dataflows", Some(json!({"name": "Nightly"}))).await;
    assert_eq!(s, StatusCode::CREATED);
    let id = df["id"].as_str().unwrap().to_string();
    let url = format!("/services/data/v62.0/wave/asset/{id}/schedule");

    // no schedule yet
    let (s, none) = api.call("GET", &url, None).await;
    assert_eq!(
        (s, none.clone()),
        (StatusCode::OK, json!({"assetId": id, "frequency": "none", "notificationLevel": "never"}))
    );

    // the seed's five bodies are accepted and answered with {}
    let seed = [
        json!({"frequency": "hourly", "daysOfWeek": ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
               "hourlyInterval": 3, "lastHour": 20, "time": {"hour": 2, "minute": 30, "timezone": "America/Los_Angeles"}}),
        json!({"frequency": "weekly", "daysOfWeek": ["Monday", "Wednesday"], "time": {"hour": 6, "minute": 0, "timeZone": "Europe/London"}}),
        json!({"frequency": "monthly", "daysOfMonth": [1, 15], "time": {"hour": 1, "minute": 0, "timeZone": "Asia/Kolkata"}}),
        json!({"frequency": "monthlyrelative", "weekInMonth": "First", "dayInWeek": "Sunday", "time": {"hour": 1, "minute": 0, "timeZone": "America/Los_Angeles"}}),
        json!({"frequency": "eventdriven", "triggerRule": "$ALL_SALESFORCE_OBJECTS"}),
    ];
    for body in seed {
        let (s, out) = api.call("PUT", &url, Some(body.clone())).await;
        assert_eq!((s, out), (StatusCode::OK, json!({})), "{body}");
        let (_, got) = api.call("GET", &url, None).await;
        assert_eq!(got["frequency"], body["frequency"].as_str().unwrap().to_lowercase());
        assert_eq!(got["assetId"], id);
        // timed schedules say when they run next, in UTC with milliseconds
        let timed = body["frequency"] != "eventdriven";
        assert_eq!(got["nextScheduledDate"].as_str().is_some_and(|d| d.ends_with(".000Z")), timed, "{got}");
    }
    // wrapped bodies, and the dataflow shows its schedule
    let weekly = json!({"schedule": {"frequency": "weekly", "daysOfWeek": ["friday"], "time": {"hour": 23, "minute": 45, "timeZone": "America/St_Johns"}}});
    assert_eq!(api.call("PUT", &url, Some(weekly)).await.0, StatusCode::OK);
    let (_, got) = api.call("GET", &url, None).await;
    assert_eq!(got["time"], json!({"hour": 23, "minute": 45, "timeZone": got["time"]["timeZone"].clone()}));
    assert_eq!(got["time"]["timeZone"]["zoneId"], "America/St_Johns");
    assert_eq!(got["daysOfWeek"], json!(["friday"]));
    let (_, d) = api.call("GET", &format!("/services/data/v62.0/wave/dataflows/{id}"), None).await;
    assert_eq!(d["nextScheduledDate"], got["nextScheduledDate"]);
    let attributes: Value = serde_json::from_str(d["scheduleAttributes"].as_str().unwrap()).unwrap();
    assert_eq!(
        (attributes["scheduleType"].as_str(), attributes["frequency"].as_str()),
        (Some("timedriven"), Some("weekly"))
    );
    let (_, list) = api.call("GET", "/services/data/v62.0/wave/dataflows", None).await;
    assert_eq!(list["dataflows"][0]["nextScheduledDate"], got["nextScheduledDate"]);

    // every wrong field is named
    let bad = json!({"frequency": "hourly", "hourlyInterval": 5, "daysOfWeek": ["Moonday"], "time": {"hour": 24, "minute": 0, "timeZone": "Nowhere/City"}});
    let (s, errors) = api.call("PUT", &url, Some(bad)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let messages: Vec<&str> = errors.as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap()).collect();
    assert_eq!(messages.len(), 4, "{messages:?}");
    assert!(messages.iter().all(|m| m.starts_with("time.hour")
        || m.starts_with("time.timeZone")
        || m.starts_with("hourlyInterval")
        || m.starts_with("daysOfWeek[0]")));
    // a refused PUT leaves the schedule as it was
    assert_eq!(api.call("GET", &url, None).await.1, got);

    // assets: wrong prefix, missing dataflow, a rule waiting for itself
    let (s, _) = api
        .call("PUT", "/services/data/v62.0/wave/asset/03C000000000001/schedule", Some(json!({"frequency": "none"})))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = api.call("GET", "/services/data/v62.0/wave/asset/02K00000000ZZZZ/schedule", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let own = json!({"frequency": "eventdriven", "triggerRule": format!("$ALL_SALESFORCE_OBJECTS AND dataflow:{id}")});
    let (s, e) = api.call("PUT", &url, Some(own)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(e[0]["message"].as_str().unwrap().contains("would start itself"), "{e}");

    // DELETE: 204, no body; the dataflow no longer shows a next run
    let (s, body) = api.call("DELETE", &url, None).await;
    assert_eq!((s, body), (StatusCode::NO_CONTENT, Value::Null));
    assert_eq!(api.call("GET", &url, None).await.1, none);
    let (_, d) = api.call("GET", &format!("/services/data/v62.0/wave/dataflows/{id}"), None).await;
    assert!(d.get("nextScheduledDate").is_none());

    // deleting the dataflow deletes its schedule
    api.call("PUT", &url, Some(json!({"frequency": "daily", "time": {"hour": 3}}))).await;
    let (s, _) = api.call("DELETE", &format!("/services/data/v62.0/wave/dataflows/{id}"), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(api.call("GET", &url, None).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_schedule_due_now_starts_the_dataflow() {
    // the real clock: a schedule due within the next seconds is fired by the running scheduler
    let api = Api::new().await;
    api.object("Account", "Id,Name\n001A,Acme\n").await;
    let def = json!({"a": {"action": "sfdcDigest", "parameters": {"object": "Account", "fields": [{"name": "Id"}, {"name": "Name"}]}},
                     "r": {"action": "sfdcRegister", "parameters": {"source": "a", "alias": "Accounts", "name": "Accounts"}}});
    let (s, df) =
        api.call("POST", "/services/data/v62.0/wave/dataflows", Some(json!({"name": "Tick", "definition": def}))).await;
    assert_eq!(s, StatusCode::CREATED, "{df}");
    let id = df["id"].as_str().unwrap().to_string();
    let now = chrono::Utc::now() + chrono::Duration::minutes(1);
    let body = json!({"frequency": "daily", "time": {"hour": chrono::Timelike::hour(&now), "minute": chrono::Timelike::minute(&now), "timeZone": "UTC"}});
    assert_eq!(
        api.call("PUT", &format!("/services/data/v62.0/wave/asset/{id}/schedule"), Some(body)).await.0,
        StatusCode::OK
    );
    let (_, got) = api.call("GET", &format!("/services/data/v62.0/wave/asset/{id}/schedule"), None).await;
    let next: chrono::DateTime<chrono::Utc> = got["nextScheduledDate"].as_str().unwrap().parse().unwrap();
    let wait = (next - chrono::Utc::now()).to_std().unwrap_or_default() + Duration::from_secs(10);
    let deadline = std::time::Instant::now() + wait;
    loop {
        let (_, jobs) = api.call("GET", &format!("/services/data/v62.0/wave/dataflowjobs?dataflowId={id}"), None).await;
        if let Some(job) = jobs["dataflowJobs"].as_array().and_then(|a| a.first()) {
            let job = api.wait_for(job["id"].as_str().unwrap(), |s| s != "Queued" && s != "Running").await;
            assert_eq!(job["status"], "Success", "{job}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the schedule did not fire by {next}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn dataset_lists_search_sort_and_page() {
    let api = Api::new().await;
    for (name, label) in [("Alpha_Sales", "Alpha sales"), ("Beta_Sales", "Beta sales"), ("Gamma_Cases", "Gamma cases")]
    {
        api.object(name, "Id\n1\n").await;
        api.store().record_dataset_version(name, label, "v1", 1, None).await.unwrap();
    }
    let (_, all) = api.call("GET", "/services/data/v62.0/wave/datasets?sort=Name", None).await;
    let names: Vec<&str> = all["datasets"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!((names, &all["totalSize"]), (vec!["Alpha_Sales", "Beta_Sales", "Gamma_Cases"], &json!(3)));
    let (_, sales) =
        api.call("GET", "/services/data/v62.0/wave/datasets?q=SALES&sort=Name&order=Descending", None).await;
    let names: Vec<&str> = sales["datasets"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Beta_Sales", "Alpha_Sales"]);
    let (_, first) = api.call("GET", "/services/data/v62.0/wave/datasets?sort=Name&pageSize=2", None).await;
    assert_eq!(first["datasets"].as_array().unwrap().len(), 2);
    let next = first["nextPageUrl"].as_str().unwrap().to_string();
    assert!(next.starts_with("/services/data/v62.0/wave/datasets?"), "{next}");
    let (_, second) = api.call("GET", &next, None).await;
    assert_eq!(second["datasets"][0]["name"], "Gamma_Cases");
    assert!(second["nextPageUrl"].is_null());
    let (s, _) = api.call("GET", "/services/data/v62.0/wave/datasets?sort=Size", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // fields newer than the requested version are left out
    let (_, df) = api.call("POST", "/services/data/v45.0/wave/dataflows", Some(json!({"name": "Old"}))).await;
    assert!(df.get("historiesUrl").is_none() && df.get("definition").is_none(), "{df}");
    let (_, df) = api.call("GET", "/services/data/v50.0/wave/dataflows/Old", None).await;
    assert!(df.get("historiesUrl").is_some() && df.get("definition").is_some(), "{df}");
}

#[tokio::test]
async fn recipes_are_stored_run_and_scheduled() {
    let api = Api::new().await;
    api.object("Account", "Id,Name,Employees\n001A,Acme,120\n001B,Globex,8\n001C,Initech,\n").await;
    let recipe = json!({
        "version": "62.0",
        "nodes": {
            "LOAD": {"action": "load", "sources": [], "parameters": {"dataset": {"type": "connectedDataset", "connectionName": "SFDC_LOCAL", "sourceObjectName": "Account"}, "fields": ["Id", "Name", "Employees"]}},
            "BIG": {"action": "filter", "sources": ["LOAD"], "parameters": {"filterExpressions": [{"field": "Employees", "operator": "GREATER_OR_EQUAL", "operands": ["10"], "type": "NUMBER"}]}},
            "NAMED": {"action": "formula", "sources": ["BIG"], "parameters": {"expressionType": "SQL", "fields": [{"type": "TEXT", "name": "Display", "formulaExpression": "concat(Name, ' (', Id, ')')", "precision": 255}]}},
            "SAVE": {"action": "save", "sources": ["NAMED"], "parameters": {"dataset": {"type": "analyticsDataset", "name": "Big_Accounts", "label": "Big accounts"}, "fields": []}}
        },
        "ui": {"nodes": {}, "connectors": []},
        "runMode": "full"
    });
    // R2 is refused, R3 is created with its target dataflow
    let (s, e) = api
        .call(
            "POST",
            "/services/data/v62.0/wave/recipes",
            Some(json!({"name": "Old", "format": "R2", "recipeDefinition": recipe})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    let (s, r) = api
        .call(
            "POST",
            "/services/data/v62.0/wave/recipes",
            Some(
                json!({"name": "Prep_Accounts", "label": "Prep accounts", "format": "R3", "recipeDefinition": recipe}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let (id, target) = (r["id"].as_str().unwrap().to_string(), r["targetDataflowId"].as_str().unwrap().to_string());
    assert!(id.starts_with("05v") && target.starts_with("02K"), "{r}");
    assert_eq!((r["status"].as_str(), r["validationDetails"].clone()), (Some("New"), json!([])));
    let (_, flows) = api.call("GET", "/services/data/v62.0/wave/dataflows", None).await;
    assert_eq!(flows["dataflows"], json!([]), "the recipe's dataflow is not listed");

    // run it through its target dataflow: a recipe job
    let (s, job) = api
        .call("POST", "/services/data/v62.0/wave/dataflowjobs", Some(json!({"dataflowId": target, "command": "start"})))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{job}");
    let job_id = job["id"].as_str().unwrap().to_string();
    assert!(job_id.starts_with("0eP"), "{job}");
    assert_eq!(job["jobType"], "recipe_v3");
    assert_eq!(
        (job["source"]["id"].as_str(), job["source"]["type"].as_str()),
        (Some(id.as_str()), Some("recipe")),
        "a recipe job's source is the recipe, not its target dataflow"
    );
    let done = api.wait_for(&job_id, |s| s != "Queued" && s != "Running").await;
    assert_eq!(done["status"], "Success", "{done}");
    let (_, nodes) = api.call("GET", &format!("/services/data/v62.0/wave/dataflowjobs/{job_id}/nodes"), None).await;
    let counts: Vec<(String, i64)> = nodes["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["name"].as_str().unwrap().to_string(), n["outputRows"]["processedCount"].as_i64().unwrap()))
        .collect();
    assert!(counts.contains(&("BIG".to_string(), 1)), "{counts:?}");
    let (_, ds) = api.call("GET", "/services/data/v62.0/wave/datasets/Big_Accounts", None).await;
    assert_eq!(ds["label"], "Big accounts");
    let (_, list) = api.call("GET", "/services/data/v62.0/wave/dataflowjobs?jobTypes=Recipe_V3", None).await;
    assert_eq!(list["totalSize"], 1);
    assert_eq!(list["dataflowJobs"][0]["source"]["url"], format!("/services/data/v62.0/wave/recipes/{id}"));
    let (_, got) = api.call("GET", &format!("/services/data/v62.0/wave/recipes/{id}?format=R3"), None).await;
    assert_eq!(
        (got["status"].as_str(), got["recipeDefinition"]["nodes"]["SAVE"]["action"].as_str()),
        (Some("Success"), Some("save"))
    );

    // PATCH wrapped in recipeObject: a broken recipe is saved, its problems listed
    let mut broken = recipe.clone();
    broken["nodes"]["NAMED"]["parameters"]["fields"][0]["formulaExpression"] = json!("concat(Nme, ')'");
    let (s, patched) = api
        .call(
            "PATCH",
            &format!("/services/data/v62.0/wave/recipes/{id}"),
            Some(json!({"recipeObject": {"recipeDefinition": broken, "historyLabel": "typo"}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{patched}");
    let details = patched["validationDetails"].as_array().unwrap();
    assert_eq!(details.len(), 1, "{details:?}");
    assert_eq!(
        (details[0]["nodeName"].as_str(), details[0]["nodeType"].as_str(), details[0]["severity"].as_str()),
        (Some("NAMED"), Some("formula"), Some("Error"))
    );
    assert!(details[0]["message"].as_str().unwrap().contains("line 1, column"), "{details:?}");
    // histories, and a revert to the first version
    let (_, h) = api.call("GET", &format!("/services/data/v62.0/wave/recipes/{id}/histories"), None).await;
    let h = h["histories"].as_array().unwrap().clone();
    assert_eq!(h.len(), 2);
    let (_, back) = api
        .call(
            "PUT",
            &format!("/services/data/v62.0/wave/recipes/{id}"),
            Some(json!({"historyId": h[1]["id"], "historyLabel": "undo"})),
        )
        .await;
    assert_eq!(back["validationDetails"], json!([]), "{back}");

    // a recipe is a schedule asset; its representation shows the schedule
    let sched = format!("/services/data/v62.0/wave/asset/{id}/schedule");
    let (s, _) = api
        .call(
            "PUT",
            &sched,
            Some(json!({"frequency": "daily", "time": {"hour": 4, "minute": 0, "timeZone": "Europe/Paris"}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, got) = api.call("GET", &format!("/services/data/v62.0/wave/recipes/{id}"), None).await;
    assert_eq!(
        (got["scheduleAttributes"]["frequency"].as_str(), got["scheduleType"].as_str()),
        (Some("daily"), Some("timedriven"))
    );
    assert!(got["nextScheduledDate"].as_str().is_some());
    let (_, list) = api.call("GET", "/services/data/v62.0/wave/recipes?q=prep", None).await;
    assert_eq!(list["totalSize"], 1);
    // list filters: status, next run, last change
    let total = |q: &'static str| {
        let api = &api;
        async move { api.call("GET", &format!("/services/data/v62.0/wave/recipes?{q}"), None).await.1["totalSize"].clone() }
    };
    assert_eq!(total("status=Success,Failure").await, 1);
    assert_eq!(total("status=Running").await, 0);
    assert_eq!(total("nextScheduledAfter=2000-01-01").await, 1);
    assert_eq!(total("nextScheduledBefore=2000-01-01T00:00:00Z").await, 0);
    assert_eq!(total("lastModifiedAfter=4102444800").await, 0);
    let (s, e) = api.call("GET", "/services/data/v62.0/wave/recipes?status=Done", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    let (s, e) = api.call("GET", "/services/data/v62.0/wave/recipes?lastModifiedAfter=yesterday", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    // notification settings
    let notification = format!("/services/data/v62.0/wave/recipes/{id}/notification");
    let (_, n) = api.call("GET", &notification, None).await;
    assert_eq!(n["notificationLevel"], "Warnings");
    let (s, n) = api
        .call("PUT", &notification, Some(json!({"notificationLevel": "failures", "longRunningAlertInMins": 90})))
        .await;
    assert_eq!(s, StatusCode::OK, "{n}");
    assert_eq!((n["notificationLevel"].as_str(), n["longRunningAlertInMins"].as_i64()), (Some("Failures"), Some(90)));
    assert_eq!(n["recipe"]["id"], id.as_str());
    let (s, e) = api.call("PUT", &notification, Some(json!({"notificationLevel": "Loudly"}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(api.call("GET", &notification, None).await.1["notificationLevel"], "Failures");

    // DELETE removes it, its dataflow and its schedule
    let (s, _) = api.call("DELETE", &format!("/services/data/v62.0/wave/recipes/{id}"), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        api.call("GET", &format!("/services/data/v62.0/wave/recipes/{id}"), None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(api.call("GET", &sched, None).await.0, StatusCode::NOT_FOUND);
}

/// A folder of object files (the offline stand-in of an org, and an AmazonS3 folder).
fn object_folder(dir: &std::path::Path) -> String {
    let folder = dir.join("org");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("Account.csv"), "Id,Name,Revenue\n001A,Acme,150\n001B,Globex,90\n001C,Initech,300\n")
        .unwrap();
    std::fs::write(folder.join("Contact.csv"), "Id,AccountId,LastName\n003A,001A,Smith\n").unwrap();
    folder.display().to_string()
}

async fn wait_for_type(api: &Api, job_type: &str, count: usize) -> Vec<Value> {
    for _ in 0..400 {
        let (_, list) =
            api.call("GET", &format!("/services/data/v62.0/wave/dataflowjobs?jobTypes={job_type}"), None).await;
        let jobs = list["dataflowJobs"].as_array().cloned().unwrap_or_default();
        if jobs.len() >= count && jobs.iter().all(|j| j["status"] != "Queued" && j["status"] != "Running") {
            return jobs;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{count} {job_type} jobs never finished");
}

#[tokio::test]
async fn connections_objects_and_run_now_over_the_api() {
    let api = Api::new().await;
    let dir = tempfile::tempdir().unwrap();
    let folder = object_folder(dir.path());
    let base = "/services/data/v62.0/wave";
    let (s, c) = api
        .call(
            "POST",
            &format!("{base}/dataConnectors"),
            Some(json!({"name": "Files", "label": "Local files", "connectorType": "amazons3",
                        "connectionProperties": [{"name": "FolderPath", "value": folder}]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let id = c["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("0It"));
    assert_eq!((c["connectorType"].as_str(), c["type"].as_str()), (Some("AmazonS3"), Some("dataconnector")));
    assert_eq!(c["ingestionSchedule"]["frequency"], "none");
    let (_, list) = api.call("GET", &format!("{base}/dataConnectors?connectorType=AmazonS3"), None).await;
    assert_eq!(list["dataConnectors"].as_array().unwrap().len(), 1);
    let (_, list) = api.call("GET", &format!("{base}/dataConnectors?connectorType=SfdcLocal"), None).await;
    assert_eq!(list["dataConnectors"].as_array().unwrap().len(), 0);
    let (s, by_name) = api.call("GET", &format!("{base}/dataConnectors/Files"), None).await;
    assert_eq!((s, by_name["id"].as_str()), (StatusCode::OK, Some(id.as_str())));
    let (_, status) = api.call("GET", &format!("{base}/dataConnectors/{id}/status"), None).await;
    assert_eq!(status["status"], "Success");
    let (_, objects) = api.call("GET", &format!("{base}/dataConnectors/Files/sourceObjects?pageSize=1"), None).await;
    assert_eq!(objects["totalSize"], 2);
    assert_eq!(objects["sourceObjects"][0]["name"], "Account");
    assert_eq!(objects["sourceObjects"][0]["replicated"], false);
    assert!(objects["nextPageUrl"].as_str().unwrap().contains("page=2"));
    let (_, fields) = api.call("GET", &format!("{base}/dataConnectors/Files/sourceObjects/Account/fields"), None).await;
    let names: Vec<&str> = fields["fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Id", "Name", "Revenue"]);
    assert_eq!(fields["fields"][2]["fieldType"], "numeric");
    let (s, preview) = api
        .call(
            "POST",
            &format!("{base}/dataConnectors/Files/sourceObjects/Account/dataPreview"),
            Some(json!({"sourceObjectFields": ["Name"]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{preview}");
    let rows: Value = serde_json::from_str(preview["dataListJson"].as_str().unwrap()).unwrap();
    assert_eq!(rows, json!([{"Name": "Acme"}, {"Name": "Globex"}, {"Name": "Initech"}]));

    let (s, r) = api
        .call(
            "POST",
            &format!("{base}/replicatedDatasets"),
            Some(json!({"connectorId": id, "sourceObjectName": "Account", "connectionMode": "Full"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let rid = r["id"].as_str().unwrap().to_string();
    assert!(rid.starts_with("0Iu"));
    assert_eq!((r["status"].as_str(), r["fieldCount"].as_i64()), (Some("new"), Some(3)));
    assert_eq!(r["connector"]["connectionProperties"], json!([]));
    // skip a field
    let (s, f) = api
        .call(
            "PATCH",
            &format!("{base}/replicatedDatasets/{rid}/fields"),
            Some(json!({"fields": [{"name": "Revenue", "skipped": true}]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{f}");
    assert_eq!(f["fields"][2]["skipped"], true);

    // a connection that does not exist: Wave's own code, as an org answers
    let (s, e) = api.call("POST", &format!("{base}/dataConnectors/NoSuchConnection/ingest"), None).await;
    assert_eq!((s, e[0]["errorCode"].as_str()), (StatusCode::NOT_FOUND, Some("269")), "{e}");
    assert_eq!(e[0]["message"], "Can't find connector by ID NoSuchConnection");
    let (s, ingest) = api.call("POST", &format!("{base}/dataConnectors/Files/ingest"), None).await;
    assert_eq!(s, StatusCode::OK, "{ingest}");
    assert_eq!(ingest["message"], format!("Sync request was sent for connection {id}."));
    assert_eq!(ingest["url"], "/services/data/v62.0/wave/dataflowjobs");
    let jobs = wait_for_type(&api, "datasync", 1).await;
    assert_eq!(jobs[0]["status"], "Success", "{}", jobs[0]);
    let job = jobs[0]["id"].as_str().unwrap();
    let (_, nodes) = api.call("GET", &format!("{base}/dataflowjobs/{job}/nodes"), None).await;
    let node = &nodes["nodes"][0];
    assert_eq!(
        (node["name"].as_str(), node["outputRows"]["processedCount"].as_i64()),
        (Some("Account"), Some(3)),
        "{nodes}"
    );
    assert_eq!(node["nodeType"], "digest");
    let (_, r) = api.call("GET", &format!("{base}/replicatedDatasets/{rid}"), None).await;
    assert_eq!(r["status"], "success");
    assert!(r["lastRefreshedDate"].is_string());
    let version = api.data.connected_object("Files", "Account").unwrap().current().unwrap().unwrap();
    let names: Vec<&str> = version.metadata.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["Id", "Name"], "skipped fields are not synced");

    // deleting: refused while it has objects, then allowed
    let (s, e) = api.call("DELETE", &format!("{base}/dataConnectors/{id}"), None).await;
    assert_eq!((s, e[0]["errorCode"].as_str()), (StatusCode::CONFLICT, Some("275")), "{e}");
    assert!(e[0]["message"].as_str().unwrap().contains("still has connected objects (Account)"));
    let (s, _) = api.call("DELETE", &format!("{base}/replicatedDatasets/{rid}"), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(api.data.connected_object("Files", "Account").unwrap().current().unwrap().is_none());
    let (s, _) = api.call("DELETE", &format!("{base}/dataConnectors/{id}"), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = api.call("GET", &format!("{base}/dataConnectors/Files"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_connection_input_is_named_and_secrets_never_come_back() {
    let api = Api::new().await;
    let base = "/services/data/v62.0/wave";
    let api = &api;
    let create = |body: Value| async move { api.call("POST", &format!("{base}/dataConnectors"), Some(body)).await };
    let (s, e) = create(json!({"name": "X", "connectorType": "Postgress"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(e[0]["message"].as_str().unwrap().starts_with("connectorType: unknown connector type 'Postgress'"), "{e}");
    let (s, e) = create(json!({"name": "X", "connectorType": "SnowflakeComputing"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(e[0]["message"].as_str().unwrap().contains("'SnowflakeComputing' is not supported"), "{e}");
    let (s, e) = create(json!({"name": "X", "connectorType": "AwsRdsPostgres",
        "connectionProperties": [{"name": "host", "value": "db"}, {"name": "hots", "value": "db"}]}))
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        e[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("connectionProperties[1].name: 'hots' is not a property of AwsRdsPostgres"),
        "{e}"
    );
    let (s, e) = create(json!({"name": "X", "connectorType": "AwsRdsPostgres",
        "connectionProperties": [{"name": "host", "value": "db"}]}))
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(e[0]["message"], "connectionProperties: the PostgreSQL connection needs the property 'database'");
    let pg = json!({"name": "Warehouse", "connectorType": "AwsRdsPostgres", "connectionProperties": [
        {"name": "host", "value": "127.0.0.1"}, {"name": "port", "value": 1}, {"name": "database", "value": "test"},
        {"name": "username", "value": "postgres"}, {"name": "password", "value": "pa55-w0rd"}]});
    let (s, c) = create(pg.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    assert!(!c.to_string().contains("pa55-w0rd"));
    let password = c["connectionProperties"].as_array().unwrap().iter().find(|p| p["name"] == "password").unwrap();
    assert_eq!(password["value"], "******");
    let (s, e) = create(pg).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    // a masked secret sent back keeps the stored one
    let (s, c) = api
        .call(
            "PATCH",
            &format!("{base}/dataConnectors/Warehouse"),
            Some(json!({"label": "DW",
            "connectionProperties": [{"name": "password", "value": "******"}, {"name": "port", "value": "2"}]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    let stored = api.store().connector_by_name("Warehouse").await.unwrap().unwrap();
    // sealed at rest, opened with the data dir's key
    let password = &stored.properties.iter().find(|(n, _)| n == "password").unwrap().1;
    assert!(password.starts_with("enc:v1:") && !password.contains("pa55"), "{password}");
    let vault = swell_connect::Vault::open(api.data.root(), None).unwrap();
    assert_eq!(vault.unseal(password).unwrap(), "pa55-w0rd");
    assert!(stored.properties.contains(&("port".to_string(), "2".to_string())));
    let (s, e) = api
        .call("PATCH", &format!("{base}/dataConnectors/Warehouse"), Some(json!({"connectorType": "AwsRdsMySQL"})))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    // nothing listens on port 2: a Failure status (HTTP 200), a 400 for objects, no secret
    let (s, status) = api.call("GET", &format!("{base}/dataConnectors/Warehouse/status"), None).await;
    assert_eq!((s, status["status"].as_str()), (StatusCode::OK, Some("Failure")), "{status}");
    assert!(status["message"].as_str().unwrap().contains("127.0.0.1:2/test"), "{status}");
    let (s, e) = api.call("GET", &format!("{base}/dataConnectors/Warehouse/sourceObjects"), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert!(!e.to_string().contains("pa55-w0rd"));
    let (s, e) = api
        .call(
            "POST",
            &format!("{base}/replicatedDatasets"),
            Some(json!({"connectorId": "Nope", "sourceObjectName": "A"})),
        )
        .await;
    assert_eq!(
        (s, e[0]["message"].as_str()),
        (StatusCode::BAD_REQUEST, Some("connectorId: no data connection 'Nope'"))
    );
    let dir = tempfile::tempdir().unwrap();
    let folder = object_folder(dir.path());
    let (s, _) = create(json!({"name": "Files", "connectorType": "AmazonS3",
        "connectionProperties": [{"name": "FolderPath", "value": folder}]}))
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, e) = api
        .call(
            "POST",
            &format!("{base}/replicatedDatasets"),
            Some(json!({"connectorId": "Files", "sourceObjectName": "Acount"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert!(e[0]["message"].as_str().unwrap().starts_with("sourceObjectName: AmazonS3: no object 'Acount'"), "{e}");
    let (s, e) = api
        .call(
            "POST",
            &format!("{base}/replicatedDatasets"),
            Some(json!({"connectorId": "Files", "sourceObjectName": "Account", "connectionMode": "Sometimes"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e[0]["message"], "connectionMode: 'Sometimes' is not one of Full, Incremental, PeriodicFull");
    // a data sync cannot be event-driven; a time-based schedule is fine, by id or API name
    let (s, e) = api
        .call(
            "PUT",
            &format!("{base}/asset/Files/schedule"),
            Some(json!({"frequency": "eventdriven",
            "triggerRule": "$ALL_SALESFORCE_OBJECTS"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    let (s, _) = api
        .call(
            "PUT",
            &format!("{base}/asset/Files/schedule"),
            Some(json!({"frequency": "daily",
            "time": {"hour": 3, "minute": 0, "timeZone": "Europe/Paris"}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, c) = api.call("GET", &format!("{base}/dataConnectors/Files"), None).await;
    assert_eq!(c["ingestionSchedule"]["frequency"], "daily");
    assert!(c["ingestionSchedule"]["nextScheduledDate"].is_string(), "{c}");
}

const LOCAL_FLOW: &str = r#"{
  "Extract": {"action": "sfdcDigest", "parameters": {"object": "Account", "fields": [{"name": "Id"}, {"name": "Name"}, {"name": "Revenue"}]}},
  "Register": {"action": "sfdcRegister", "parameters": {"alias": "Accounts", "name": "Accounts", "source": "Extract"}}
}"#;

/// Creates the connection SFDC_LOCAL over a folder of object files, and the dataflow `Acc`
/// reading its Account; returns the dataflow's id.
async fn local_connection_and_flow(api: &Api, folder: &str) -> String {
    let base = "/services/data/v62.0/wave";
    let body = json!({"name": "SFDC_LOCAL", "label": "SFDC_LOCAL", "connectorType": "SfdcLocal",
                      "connectionProperties": [{"name": "FolderPath", "value": folder}]});
    let (s, c) = api.call("POST", &format!("{base}/dataConnectors"), Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let definition = serde_json::from_str::<Value>(LOCAL_FLOW).unwrap();
    let body = json!({"name": "Acc", "label": "Acc", "definition": definition});
    let (s, d) = api.call("POST", &format!("{base}/dataflows"), Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    d["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_dataflow_on_never_synced_objects_syncs_them_first() {
    let api = Api::new().await;
    let dir = tempfile::tempdir().unwrap();
    let folder = object_folder(dir.path());
    let base = "/services/data/v62.0/wave";
    let id = local_connection_and_flow(&api, &folder).await;
    let start = json!({"dataflowId": id, "command": "start"});
    let (_, job) = api.call("POST", &format!("{base}/dataflowjobs"), Some(start.clone())).await;
    let job = api.wait_for(job["id"].as_str().unwrap(), |s| s != "Queued" && s != "Running").await;
    assert_eq!(job["status"], "Success", "{job}");
    let sync_flow = api.store().connector_by_name("SFDC_LOCAL").await.unwrap().unwrap().dataflow_id;
    assert_eq!(job["syncDataflows"]["dataflows"][0]["id"], sync_flow.as_str(), "{job}");
    let (_, list) = api.call("GET", &format!("{base}/replicatedDatasets?connector=SFDC_LOCAL"), None).await;
    let objects = list["replicatedDatasets"].as_array().unwrap();
    assert_eq!(objects.len(), 1, "{list}");
    assert_eq!(
        (objects[0]["sourceObjectName"].as_str(), objects[0]["status"].as_str()),
        (Some("Account"), Some("success"))
    );
    let (_, ds) = api.call("GET", &format!("{base}/datasets"), None).await;
    assert_eq!(ds["datasets"][0]["name"], "Accounts");
    // synced and unchanged: the next run reads the copy as it is
    let (_, job) = api.call("POST", &format!("{base}/dataflowjobs"), Some(start.clone())).await;
    let job = api.wait_for(job["id"].as_str().unwrap(), |s| s != "Queued" && s != "Running").await;
    assert_eq!(job["syncDataflows"]["dataflows"], json!([]), "{job}");
    // changed settings: synced again first
    let rid = objects[0]["id"].as_str().unwrap();
    api.call("PATCH", &format!("{base}/replicatedDatasets/{rid}"), Some(json!({"passThroughFilter": "Revenue > 100"})))
        .await;
    let (_, job) = api.call("POST", &format!("{base}/dataflowjobs"), Some(start)).await;
    let job = api.wait_for(job["id"].as_str().unwrap(), |s| s != "Queued" && s != "Running").await;
    assert_eq!(
        (job["status"].as_str(), job["syncDataflows"]["dataflows"].as_array().map(Vec::len)),
        (Some("Success"), Some(1)),
        "{job}"
    );
    let version = api.data.connected_object("SFDC_LOCAL", "Account").unwrap().current().unwrap().unwrap();
    assert_eq!(version.metadata.row_count, 2, "the filter ran in the sync");
}

#[tokio::test]
async fn the_local_sync_starts_event_driven_schedules() {
    let api = Api::new().await;
    let dir = tempfile::tempdir().unwrap();
    let folder = object_folder(dir.path());
    let base = "/services/data/v62.0/wave";
    let id = local_connection_and_flow(&api, &folder).await;
    let id = id.as_str();
    let (s, e) = api
        .call(
            "PUT",
            &format!("{base}/asset/{id}/schedule"),
            Some(json!({"frequency": "eventdriven",
            "triggerRule": "$ALL_SALESFORCE_OBJECTS"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (s, _) = api
        .call(
            "POST",
            &format!("{base}/replicatedDatasets"),
            Some(json!({"connectorId": "SFDC_LOCAL", "sourceObjectName": "Account"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = api.call("POST", &format!("{base}/dataConnectors/SFDC_LOCAL/ingest"), Some(json!({}))).await;
    assert_eq!(s, StatusCode::OK);
    let syncs = wait_for_type(&api, "datasync", 1).await;
    assert_eq!(syncs[0]["status"], "Success", "{}", syncs[0]);
    let runs = wait_for_type(&api, "user", 1).await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "Success", "{}", runs[0]);
    assert_eq!(runs[0]["syncDataflows"]["dataflows"], json!([]), "the sync just ran: nothing to sync first");
}
