//! The harness: the router of `app(state)` with a real store, runner and engine underneath,
//! called in process.

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

pub const TOKEN: &str = "00DSW0000000001!test";

pub struct Api {
    pub app: Service,
    /// The use cases under the router (to make users and tokens as the operator would).
    pub use_cases: swell_app::App,
    pub store: Store,
    pub data: DataDir,
    pub _dir: tempfile::TempDir,
}

impl Api {
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub async fn new() -> Api {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("swell.db").display());
        Api::on(&url, dir).await
    }

    /// A second server on this one's database (its own data dir): what servers sharing one
    /// database must agree on, without a lock in one process to hide behind.
    pub async fn beside(&self) -> Api {
        let url = format!("sqlite://{}", self._dir.path().join("swell.db").display());
        Api::on(&url, tempfile::tempdir().unwrap()).await
    }

    async fn on(url: &str, dir: tempfile::TempDir) -> Api {
        let store = Store::open(url).await.unwrap();
        let data = DataDir::new(dir.path());
        let mut settings = RunnerSettings::new("test-server");
        // local-folder connections read the test's temporary folders only
        settings.folders = swell_scheduler::FolderPolicy::roots([std::env::temp_dir()]).unwrap();
        let runner = Runner::new(store.clone(), data.clone(), settings);
        tokio::spawn(runner.clone().run());
        let scheduler = Scheduler::new(store.clone(), runner.clone(), Arc::new(SystemClock), CatchUp::Latest);
        tokio::spawn(scheduler.clone().run());
        let use_cases = swell_app::App::new(store.clone(), runner, scheduler, data.clone());
        let state = AppState { app: use_cases.clone(), token: Arc::new(TOKEN.to_string()), https: false };
        Api { app: app(state), use_cases, store, data, _dir: dir }
    }

    pub async fn send(
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

    /// A request with another user's token.
    pub async fn call_as(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let auth = format!("Bearer {token}");
        self.send(method, path, body, &[("Authorization", &auth), ("X-Chatter-Entity-Encoding", "false")]).await
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let auth = format!("Bearer {TOKEN}");
        self.send(method, path, body, &[("Authorization", &auth), ("X-Chatter-Entity-Encoding", "false")]).await
    }

    /// Loads a CSV as the connected object `object` of SFDC_LOCAL.
    pub async fn object(&self, object: &str, csv: &str) {
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

    pub async fn wait_for(&self, job: &str, done: impl Fn(&str) -> bool) -> Value {
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

pub const FLOW: &str = r#"{
  "Extract": {"action": "sfdcDigest", "parameters": {"object": "Account", "fields": [{"name": "Id"}, {"name": "Name"}, {"name": "Revenue"}]}},
  "Big": {"action": "filter", "parameters": {"source": "Extract", "saqlFilter": "Revenue > 100"}},
  "Register": {"action": "sfdcRegister", "parameters": {"alias": "BigAccounts", "name": "Big Accounts", "source": "Big"}}
}"#;

/// A folder of object files (the offline stand-in of an org, and an AmazonS3 folder).
pub fn object_folder(dir: &std::path::Path) -> String {
    let folder = dir.join("org");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("Account.csv"), "Id,Name,Revenue\n001A,Acme,150\n001B,Globex,90\n001C,Initech,300\n")
        .unwrap();
    std::fs::write(folder.join("Contact.csv"), "Id,AccountId,LastName\n003A,001A,Smith\n").unwrap();
    folder.display().to_string()
}

pub async fn wait_for_type(api: &Api, job_type: &str, count: usize) -> Vec<Value> {
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

pub const LOCAL_FLOW: &str = r#"{
  "Extract": {"action": "sfdcDigest", "parameters": {"object": "Account", "fields": [{"name": "Id"}, {"name": "Name"}, {"name": "Revenue"}]}},
  "Register": {"action": "sfdcRegister", "parameters": {"alias": "Accounts", "name": "Accounts", "source": "Extract"}}
}"#;

/// Creates the connection SFDC_LOCAL over a folder of object files, and the dataflow `Acc`
/// reading its Account; returns the dataflow's id.
pub async fn local_connection_and_flow(api: &Api, folder: &str) -> String {
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
