//! `swell demo`: `serve` with a bundled sample. The sample is generated (deterministically)
//! into CSV files that the local connection `SFDC_LOCAL` reads as its org (offline), its
//! objects are synced, the demo dataflow (scheduled daily) and the demo recipe are created,
//! and the dataflow is started once. Works offline on a fresh machine.

use crate::serve::{ServeArgs, Server};
use anyhow::{Context, Result};
use std::fmt::Write as _;
use swell_core::AssetKind;
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

/// Writes the sample as CSV files under `DATA_DIR/demo` and makes the local connection
/// `SFDC_LOCAL` read them: an `SfdcLocal` connection with a `FolderPath` and no
/// `instanceUrl` stands in for an org, offline. Its four objects are added as connected
/// objects; the caller queues their sync (Run Now), as a new org's first sync would.
async fn local_connection(store: &swell_store::Store, data: &DataDir) -> Result<swell_store::ConnectorRecord> {
    let dir = std::path::absolute(data.root().join("demo"))?;
    std::fs::create_dir_all(&dir)?;
    for (object, csv) in sample() {
        let file = dir.join(format!("{object}.csv"));
        if std::fs::read_to_string(&file).ok().as_deref() != Some(csv.as_str()) {
            std::fs::write(&file, csv)?;
        }
    }
    let connector = match store.connector_by_name("SFDC_LOCAL").await? {
        Some(c) => c,
        None => {
            let folder = ("FolderPath".to_string(), dir.display().to_string());
            store
                .create_connector(
                    "SFDC_LOCAL",
                    "SFDC_LOCAL",
                    Some("The demo org: bundled sample objects"),
                    "SfdcLocal",
                    &[folder],
                )
                .await?
        }
    };
    for (object, _) in sample() {
        if store.replicated_by_object(&connector.id, object).await?.is_none() {
            store.create_replicated(&connector.id, object, &swell_store::ReplicatedPatch::default()).await?;
        }
    }
    Ok(connector)
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
    let data = server.state.data_dir.clone();
    let store = &server.state.store;
    let connector = local_connection(store, &data).await.context("creating the local connection")?;
    // Run Now on the local connection; the dataflow would sync what it reads anyway
    let sync =
        match store.enqueue_job(&connector.dataflow_id, AssetKind::Connection.job_type(), &connector.label).await? {
            Ok(j) | Err(j) => j,
        };
    let dataflow = match store.dataflow_by_name(DATAFLOW_NAME).await? {
        Some(d) => d,
        None => {
            let definition: serde_json::Value = serde_json::from_str(DATAFLOW)?;
            store
                .create_dataflow(DATAFLOW_NAME, "Demo Opportunities", Some("The bundled demo dataflow"), &definition)
                .await?
        }
    };
    let recipe = match store.recipe_by_name(RECIPE_NAME).await? {
        Some(r) => r,
        None => {
            let definition: serde_json::Value = serde_json::from_str(RECIPE)?;
            store.create_recipe(RECIPE_NAME, "Demo open cases", Some("The bundled demo recipe"), &definition).await?
        }
    };
    // a schedule to look at: every day at 06:00 in Los Angeles
    if store.schedule(&dataflow.id).await?.is_none() {
        let schedule = swell_core::Schedule::from_input(&serde_json::json!({
            "frequency": "daily", "time": {"hour": 6, "minute": 0, "timeZone": "America/Los_Angeles"}
        }))
        .map_err(|e| anyhow::anyhow!("the demo schedule: {}", e[0]))?;
        let next = schedule.next_after(chrono::Utc::now());
        store.put_schedule(&dataflow.id, AssetKind::Dataflow, &schedule, next).await?;
    }
    let job = match store.enqueue_job(&dataflow.id, dataflow.kind.job_type(), &dataflow.label).await? {
        Ok(j) | Err(j) => j,
    };
    let base = server.base_url();
    if let Some((_, cert)) = &server.tls {
        println!("TLS certificate: {} (curl --cacert it)", cert.display());
    }
    let token = server.state.token.to_string();
    println!(
        "swell demo: the local connection SFDC_LOCAL ({}) syncs User, Account, Opportunity and Case (job {});",
        connector.id, sync.id
    );
    println!("the dataflow {DATAFLOW_NAME} ({}) was started as job {} ({}).", dataflow.id, job.id, job.status);
    println!(
        "the recipe {RECIPE_NAME} ({}) runs with POST /wave/dataflowjobs {{\"dataflowId\": \"{}\", \"command\": \"start\"}}.",
        recipe.id, recipe.dataflow.id
    );
    println!("API token: {token}");
    println!("try:");
    println!("  curl -s -H 'Authorization: Bearer {token}' {base}/services/data/v66.0/wave/dataflowjobs/{}", job.id);
    println!("  curl -s -H 'Authorization: Bearer {token}' {base}/services/data/v66.0/wave/datasets");
    println!(
        "  curl -s -H 'Authorization: Bearer {token}' {base}/services/data/v66.0/wave/asset/{}/schedule",
        dataflow.id
    );
    println!("listening on {base}");
    server.run().await
}
