//! `swell demo`: `serve` with a bundled sample. The sample is generated (deterministically)
//! into CSV files that the local connection `SFDC_LOCAL` reads as its org (offline), its
//! objects are synced, the demo dataflow (scheduled daily) and the demo recipe are created,
//! and the dataflow is started once. Works offline on a fresh machine. Everything is made
//! through swell-app's use cases ([`seed`]), as a user's requests would make it.

use crate::serve::{ServeArgs, Server};
use anyhow::{Context, Result};
use std::fmt::Write as _;
use swell_app::{Actor, ApiError, App, NewConnection, NewDefinition, NewObject};
use swell_engine::DataDir;

const DATAFLOW: &str = include_str!("../demo/dataflow.json");
const DATAFLOW_NAME: &str = "Demo_Opportunities";
const RECIPE: &str = include_str!("../demo/recipe.json");
const RECIPE_NAME: &str = "Demo_Open_Cases";

/// A small xorshift generator: the sample is the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

fn id(prefix: &str, n: usize) -> String {
    format!("{prefix}SW000000{n:06}")
}

/// The sample objects as CSV text: (object, csv).
pub fn sample() -> Vec<(&'static str, String)> {
    let mut r = Rng(0x5eed_c0ff_ee15_600d);
    let (users, accounts, opps, cases) = (12, 150, 1500, 600);
    let mut user = String::from("Id,Name,Title,IsActive\n");
    for i in 0..users {
        let title = r.pick(&["Account Executive", "Sales Manager", "Sales Director", "Solutions Engineer"]);
        let _ = writeln!(user, "{},User {i},{title},{}", id("005", i), if i % 7 == 6 { "false" } else { "true" });
    }
    let mut account = String::from("Id,Name,Industry,Region,AnnualRevenue,OwnerId\n");
    for i in 0..accounts {
        let industry = r.pick(&["Manufacturing", "Technology", "Healthcare", "Retail", "Finance", "Energy"]);
        let region = r.pick(&["EMEA", "AMER", "APAC", "LATAM"]);
        let revenue = 100_000 + r.below(50_000_000);
        let _ = writeln!(
            account,
            "{},Account {i},{industry},{region},{revenue},{}",
            id("001", i),
            id("005", r.below(users as u64) as usize)
        );
    }
    let mut opportunity = String::from("Id,Name,AccountId,OwnerId,Amount,StageName,CloseDate,Probability\n");
    for i in 0..opps {
        let stage = r.pick(&["Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost"]);
        let probability = match stage {
            "Closed Won" => 100,
            "Closed Lost" => 0,
            "Negotiation" => 80,
            "Proposal" => 60,
            "Qualification" => 20,
            _ => 10,
        };
        let amount =
            if i % 50 == 0 { String::new() } else { format!("{}.{:02}", 1_000 + r.below(250_000), r.below(100)) };
        let (y, m, d) = (2024 + r.below(3), 1 + r.below(12), 1 + r.below(28));
        let _ = writeln!(
            opportunity,
            "{},Opportunity {i},{},{},{amount},{stage},{y}-{m:02}-{d:02},{probability}",
            id("006", i),
            id("001", r.below(accounts as u64) as usize),
            id("005", r.below(users as u64) as usize)
        );
    }
    let mut case = String::from("Id,Subject,AccountId,Status,Priority,CreatedDate\n");
    for i in 0..cases {
        let status = r.pick(&["New", "Working", "Escalated", "Closed"]);
        let priority = r.pick(&["Low", "Medium", "High"]);
        let (m, d, h) = (1 + r.below(12), 1 + r.below(28), r.below(24));
        let _ = writeln!(
            case,
            "{},Case {i},{},{status},{priority},2025-{m:02}-{d:02}T{h:02}:00:00.000Z",
            id("500", i),
            id("001", r.below(accounts as u64) as usize)
        );
    }
    vec![("User", user), ("Account", account), ("Opportunity", opportunity), ("Case", case)]
}

/// Writes the sample as CSV files under `DATA_DIR/demo`.
fn write_sample(data: &DataDir) -> Result<std::path::PathBuf> {
    let dir = std::path::absolute(data.root().join("demo"))?;
    std::fs::create_dir_all(&dir)?;
    for (object, csv) in sample() {
        let file = dir.join(format!("{object}.csv"));
        if std::fs::read_to_string(&file).ok().as_deref() != Some(csv.as_str()) {
            std::fs::write(&file, csv)?;
        }
    }
    Ok(dir)
}

/// What the demo made (or found from an earlier start).
pub struct Seeded {
    pub connection: swell_store::ConnectorRecord,
    pub dataflow: swell_store::DataflowRecord,
    pub recipe: swell_store::RecipeRecord,
    /// The sync and the dataflow run it queued: a job, or why none was queued (a job of an
    /// earlier start is still queued or running).
    pub sync: Result<swell_store::JobRecord, ApiError>,
    pub job: Result<swell_store::JobRecord, ApiError>,
    /// What an earlier start made and this one kept as it is (a user may have changed it).
    pub kept: Vec<String>,
}

/// Makes the demo's assets through the use cases, as a user would through the API, so that
/// the demo passes every check a user's request passes: the local connection `SFDC_LOCAL` (an
/// `SfdcLocal` connection with a `FolderPath` and no `instanceUrl` stands in for an org,
/// offline) with its four objects connected, the demo dataflow scheduled daily, the demo
/// recipe; then a sync (Run Now) and a run of the dataflow are queued. What an earlier start
/// made is kept.
pub async fn seed(app: &App, sample_dir: &std::path::Path) -> Result<Seeded> {
    let actor = Actor::admin();
    let mut kept = Vec::new();
    let connection = match app.store.connector_by_name("SFDC_LOCAL").await? {
        Some(c) => {
            kept.push("the connection SFDC_LOCAL".to_string());
            c
        }
        None => {
            let new = NewConnection {
                connector_type: Some("SfdcLocal".to_string()),
                name: Some("SFDC_LOCAL".to_string()),
                label: Some("SFDC_LOCAL".to_string()),
                description: Some("The demo org: bundled sample objects".to_string()),
                properties: vec![("FolderPath".to_string(), sample_dir.display().to_string())],
            };
            app.create_connection(&actor, new).await.map_err(failed("creating the local connection"))?
        }
    };
    for (object, _) in sample() {
        if app.store.replicated_by_object(&connection.id, object).await?.is_none() {
            let new = NewObject {
                connector: Some(connection.id.to_string()),
                source_object: Some(object.to_string()),
                ..NewObject::default()
            };
            app.add_object(&actor, new).await.map_err(failed(&format!("connecting {object}")))?;
        }
    }
    let dataflow = match app.store.dataflow_by_name(DATAFLOW_NAME).await? {
        Some(d) => {
            kept.push(format!("the dataflow {DATAFLOW_NAME}"));
            d
        }
        None => {
            let new = NewDefinition {
                name: Some(DATAFLOW_NAME.to_string()),
                label: Some("Demo Opportunities".to_string()),
                description: Some("The bundled demo dataflow".to_string()),
                definition: Some(serde_json::from_str(DATAFLOW)?),
            };
            app.create_dataflow(&actor, new).await.map_err(failed("creating the demo dataflow"))?
        }
    };
    let recipe = match app.store.recipe_by_name(RECIPE_NAME).await? {
        Some(r) => {
            kept.push(format!("the recipe {RECIPE_NAME}"));
            r
        }
        None => {
            let new = NewDefinition {
                name: Some(RECIPE_NAME.to_string()),
                label: Some("Demo open cases".to_string()),
                description: Some("The bundled demo recipe".to_string()),
                definition: Some(serde_json::from_str(RECIPE)?),
            };
            app.create_recipe(&actor, new, None).await.map_err(failed("creating the demo recipe"))?
        }
    };
    // a schedule to look at: every day at 06:00 in Los Angeles
    if app.store.schedule(&dataflow.id).await?.is_none() {
        let schedule = swell_core::Schedule::from_input(&serde_json::json!({
            "frequency": "daily", "time": {"hour": 6, "minute": 0, "timeZone": "America/Los_Angeles"}
        }))
        .map_err(|e| anyhow::anyhow!("the demo schedule: {}", e[0]))?;
        app.put_schedule(&actor, dataflow.id.as_str(), schedule)
            .await
            .map_err(failed("scheduling the demo dataflow"))?;
    }
    // Run Now on the local connection; the dataflow would sync what it reads anyway
    let sync = app.run_connection(&actor, connection.id.as_str()).await;
    let job = app.start_job(&actor, dataflow.id.as_str()).await;
    Ok(Seeded { connection, dataflow, recipe, sync, job, kept })
}

/// A use case's error as the demo reports it.
fn failed(what: &str) -> impl Fn(ApiError) -> anyhow::Error + '_ {
    move |e| anyhow::anyhow!("{what}: {} ({})", e.message, e.code.wire())
}

pub fn demo(args: ServeArgs) -> std::process::ExitCode {
    let runtime = match swell_engine::runtime_builder().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    runtime.block_on(async {
        match run(&args).await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                std::process::ExitCode::from(2)
            }
        }
    })
}

async fn run(args: &ServeArgs) -> Result<()> {
    // the sample folder is the one local folder the demo's connection reads
    let mut args = args.clone();
    let sample_dir = args.data_dir.join("demo");
    std::fs::create_dir_all(&sample_dir).with_context(|| format!("creating {}", sample_dir.display()))?;
    args.allow_folders.push(sample_dir);
    let server = Server::start(&args).await?;
    let sample_dir = write_sample(&server.state.data_dir).context("writing the sample objects")?;
    let Seeded { connection, dataflow, recipe, sync, job, kept } = seed(&server.state.app, &sample_dir).await?;
    let queued = |j: &Result<swell_store::JobRecord, ApiError>| match j {
        Ok(j) => format!("job {} ({})", j.id, j.status),
        Err(e) => format!("not queued now: {}", e.message),
    };
    let base = server.base_url();
    if let Some((_, cert)) = &server.tls {
        println!("TLS certificate: {} (curl --cacert it)", cert.display());
    }
    let token = server.state.token.to_string();
    println!(
        "swell demo: the local connection SFDC_LOCAL ({}) syncs User, Account, Opportunity and Case ({});",
        connection.id,
        queued(&sync)
    );
    println!("the dataflow {DATAFLOW_NAME} ({}) was started: {}.", dataflow.id, queued(&job));
    if !kept.is_empty() {
        println!("kept as an earlier start left them: {}.", kept.join(", "));
    }
    println!(
        "the recipe {RECIPE_NAME} ({}) runs with POST /wave/dataflowjobs {{\"dataflowId\": \"{}\", \"command\": \"start\"}}.",
        recipe.id, recipe.dataflow.id
    );
    println!("API token: {token}");
    println!("try:");
    if let Ok(job) = &job {
        println!(
            "  curl -s -H 'Authorization: Bearer {token}' {base}/services/data/v66.0/wave/dataflowjobs/{}",
            job.id
        );
    }
    println!("  curl -s -H 'Authorization: Bearer {token}' {base}/services/data/v66.0/wave/datasets");
    println!(
        "  curl -s -H 'Authorization: Bearer {token}' {base}/services/data/v66.0/wave/asset/{}/schedule",
        dataflow.id
    );
    match server.web.one_time_link(&swell_store::admin_id()) {
        Ok(link) => println!("Data Manager, signed in as the admin once (15 minutes): {base}{link}"),
        Err(e) => println!("Data Manager: {base}{}/ (no one-time link: {e})", swell_web::BASE),
    }
    println!("listening on {base}");
    server.run().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use serde_json::{Value, json};
    use std::sync::Arc;
    use swell_scheduler::{CatchUp, FolderPolicy, Runner, RunnerSettings, Scheduler, SystemClock};
    use tower::ServiceExt;

    const TOKEN: &str = "demo-test-token";

    /// A server over a new store; its runner and scheduler do not run, so what was queued
    /// stays as it was queued.
    async fn server(dir: &std::path::Path, sample: &std::path::Path) -> (App, swell_server::Service) {
        let store = swell_store::Store::open(&format!("sqlite://{}", dir.join("swell.db").display())).await.unwrap();
        let data = DataDir::new(dir);
        let mut settings = RunnerSettings::new("demo-test");
        settings.folders = FolderPolicy::roots([sample.to_path_buf()]).unwrap();
        let runner = Runner::new(store.clone(), data.clone(), settings);
        let scheduler = Scheduler::new(store.clone(), runner.clone(), Arc::new(SystemClock), CatchUp::Latest);
        let app = App::new(store, runner, scheduler, data);
        let state = swell_server::AppState { app: app.clone(), token: Arc::new(TOKEN.to_string()), https: false };
        (app, swell_server::app(state))
    }

    async fn call(service: &swell_server::Service, method: &str, path: &str, body: Option<Value>) -> Value {
        let req = Request::builder()
            .method(method)
            .uri(format!("/services/data/v66.0/wave{path}"))
            .header("Authorization", format!("Bearer {TOKEN}"))
            .header("Content-Type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        let res = service.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v
    }

    /// Dates differ between two servers made a moment apart; everything else must not.
    fn without_dates(v: Value) -> Value {
        match v {
            Value::Object(o) => Value::Object(
                o.into_iter()
                    .filter(|(k, _)| !(k.ends_with("Date") || k == "lastRefreshed"))
                    .map(|(k, v)| (k, without_dates(v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.into_iter().map(without_dates).collect()),
            other => other,
        }
    }

    /// What a user sees of a server: every asset the demo makes, as the API shows it.
    async fn seen(service: &swell_server::Service) -> Vec<Value> {
        let mut out = Vec::new();
        for path in ["/dataConnectors", "/replicatedDatasets", "/dataflows", "/recipes", "/dataflowjobs"] {
            out.push(call(service, "GET", path, None).await);
        }
        let dataflows = call(service, "GET", "/dataflows", None).await;
        for d in dataflows["dataflows"].as_array().unwrap() {
            let id = d["id"].as_str().unwrap();
            out.push(call(service, "GET", &format!("/dataflows/{id}"), None).await);
            out.push(call(service, "GET", &format!("/asset/{id}/schedule"), None).await);
        }
        out.into_iter().map(without_dates).collect()
    }

    /// The demo makes its assets through the use cases, so they are what the same requests to
    /// the API make: the same connection, objects (with the fields read from the source),
    /// dataflow, recipe, schedule and queued jobs.
    #[tokio::test]
    async fn the_demo_makes_what_the_api_makes() {
        let sample_tmp = tempfile::tempdir().unwrap();
        let sample_dir = std::path::absolute(sample_tmp.path()).unwrap();
        for (object, csv) in sample() {
            std::fs::write(sample_dir.join(format!("{object}.csv")), csv).unwrap();
        }
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());

        let (demo_app, demo_api) = server(a.path(), &sample_dir).await;
        let seeded = seed(&demo_app, &sample_dir).await.unwrap();
        assert!(seeded.sync.is_ok() && seeded.job.is_ok(), "the demo queues a sync and a run");

        let (_, api) = server(b.path(), &sample_dir).await;
        let c = call(
            &api,
            "POST",
            "/dataConnectors",
            Some(json!({
                "connectorType": "SfdcLocal", "name": "SFDC_LOCAL", "label": "SFDC_LOCAL",
                "description": "The demo org: bundled sample objects",
                "connectionProperties": [{"name": "FolderPath", "value": sample_dir.display().to_string()}],
            })),
        )
        .await;
        for (object, _) in sample() {
            let body = json!({"connectorId": c["id"], "sourceObjectName": object});
            call(&api, "POST", "/replicatedDatasets", Some(body)).await;
        }
        let definition: Value = serde_json::from_str(DATAFLOW).unwrap();
        let d = call(
            &api,
            "POST",
            "/dataflows",
            Some(json!({"name": DATAFLOW_NAME, "label": "Demo Opportunities",
                "description": "The bundled demo dataflow", "definition": definition})),
        )
        .await;
        let recipe: Value = serde_json::from_str(RECIPE).unwrap();
        call(
            &api,
            "POST",
            "/recipes",
            Some(json!({"name": RECIPE_NAME, "label": "Demo open cases",
                "description": "The bundled demo recipe", "recipeDefinition": recipe})),
        )
        .await;
        let schedule =
            json!({"frequency": "daily", "time": {"hour": 6, "minute": 0, "timeZone": "America/Los_Angeles"}});
        call(&api, "PUT", &format!("/asset/{}/schedule", d["id"].as_str().unwrap()), Some(schedule)).await;
        call(&api, "POST", &format!("/dataConnectors/{}/ingest", c["id"].as_str().unwrap()), None).await;
        call(&api, "POST", "/dataflowjobs", Some(json!({"dataflowId": d["id"], "command": "start"}))).await;

        let (by_demo, by_api) = (seen(&demo_api).await, seen(&api).await);
        assert_eq!(by_demo.len(), by_api.len());
        for (x, y) in by_demo.iter().zip(&by_api) {
            assert_eq!(x, y, "the demo and the API made different assets");
        }
        // the objects' fields were read from the sample, as a request's are
        let objects = &by_demo[1]["replicatedDatasets"];
        assert_eq!(objects.as_array().unwrap().len(), 4);
        assert!(objects.as_array().unwrap().iter().all(|o| o["fieldCount"].as_i64() > Some(0)), "{objects}");
    }
}
