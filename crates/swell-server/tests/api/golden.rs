//! Golden representations: every representation, read at the API versions where fields
//! appear (`Since<N, _>` in the wire shapes), compared with `tests/api/golden/vNN.json`.
//! A field shown too early or too late, renamed or retyped, fails here. Times, durations and
//! the temporary folder vary from run to run and are replaced by placeholders.
//!
//! After a deliberate change: `SWELL_BLESS=1 cargo test --workspace --test api golden`, and
//! read the diff of the golden files.

use crate::common::*;
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;

/// Versions at the edges of fields' first versions (45/46, 48/49/50/51, 52/53, 55, newest).
const VERSIONS: &[u32] = &[45, 46, 48, 49, 50, 51, 52, 53, 55, 66];

fn redact(v: &mut Value, folder: &str) {
    match v {
        Value::Object(map) => {
            for (k, x) in map.iter_mut() {
                if matches!(k.as_str(), "duration" | "waitTime") && x.is_number() {
                    *x = json!("<seconds>");
                } else {
                    redact(x, folder);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|x| redact(x, folder)),
        Value::String(s) => {
            if swell_core::DateLiteral::parse(s).is_some() && s.contains('T') {
                *s = "<date>".into();
            } else if s.contains(folder) {
                *s = s.replace(folder, "<folder>");
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn representations_match_their_golden_files_at_every_boundary_version() {
    let api = Api::new().await;
    let tmp = tempfile::tempdir().unwrap();
    let folder = object_folder(tmp.path());
    let flow = local_connection_and_flow(&api, &folder).await;
    let base = "/services/data/v66.0/wave";
    let schedule = json!({"frequency": "daily", "time": {"hour": 6, "minute": 30, "timezone": "Europe/Paris"}});
    let (s, e) = api.call("PUT", &format!("{base}/asset/{flow}/schedule"), Some(schedule)).await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (s, job) =
        api.call("POST", &format!("{base}/dataflowjobs"), Some(json!({"dataflowId": flow, "command": "start"}))).await;
    assert_eq!(s, StatusCode::CREATED, "{job}");
    let job = job["id"].as_str().unwrap().to_string();
    api.wait_for(&job, |s| s == "Success").await;
    let recipe = json!({
        "version": "62.0",
        "nodes": {
            "LOAD": {"action": "load", "sources": [], "parameters": {"dataset": {"type": "connectedDataset", "connectionName": "SFDC_LOCAL", "sourceObjectName": "Account"}, "fields": ["Id", "Name"]}},
            "SAVE": {"action": "save", "sources": ["LOAD"], "parameters": {"dataset": {"type": "analyticsDataset", "name": "Names", "label": "Names"}, "fields": []}}
        },
        "ui": {"nodes": {}, "connectors": []}
    });
    let body = json!({"name": "Prep", "label": "Prep", "format": "R3", "recipeDefinition": recipe});
    let (s, r) = api.call("POST", &format!("{base}/recipes"), Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let recipe = r["id"].as_str().unwrap().to_string();
    let (_, c) = api.call("GET", &format!("{base}/dataConnectors/SFDC_LOCAL"), None).await;
    let connection = c["id"].as_str().unwrap().to_string();
    let body = json!({"connectorId": connection, "sourceObjectName": "Contact", "connectionMode": "Full"});
    let (s, o) = api.call("POST", &format!("{base}/replicatedDatasets"), Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let object = o["id"].as_str().unwrap().to_string();
    let (_, nodes) = api.call("GET", &format!("{base}/dataflowjobs/{job}/nodes"), None).await;
    let node = nodes["nodes"][0]["id"].as_str().unwrap().to_string();
    let (_, datasets) = api.call("GET", &format!("{base}/datasets"), None).await;
    let dataset = datasets["datasets"][0]["id"].as_str().unwrap().to_string();
    let version = datasets["datasets"][0]["currentVersionId"].as_str().unwrap().to_string();
    let (_, histories) = api.call("GET", &format!("{base}/dataflows/{flow}/histories"), None).await;
    let history = histories["histories"][0]["id"].as_str().unwrap().to_string();

    let resources = [
        ("dataflows", "/dataflows".to_string()),
        ("dataflow", format!("/dataflows/{flow}")),
        ("histories", format!("/dataflows/{flow}/histories")),
        ("history", format!("/dataflows/{flow}/histories/{history}")),
        ("jobs", "/dataflowjobs".to_string()),
        ("job", format!("/dataflowjobs/{job}")),
        ("nodes", format!("/dataflowjobs/{job}/nodes")),
        ("node", format!("/dataflowjobs/{job}/nodes/{node}")),
        ("schedule", format!("/asset/{flow}/schedule")),
        ("recipes", "/recipes".to_string()),
        ("recipe", format!("/recipes/{recipe}")),
        ("notification", format!("/recipes/{recipe}/notification")),
        ("datasets", "/datasets".to_string()),
        ("dataset", format!("/datasets/{dataset}")),
        ("versions", format!("/datasets/{dataset}/versions")),
        ("version", format!("/datasets/{dataset}/versions/{version}")),
        ("connections", "/dataConnectors".to_string()),
        ("connection", format!("/dataConnectors/{connection}")),
        ("sourceObjects", format!("/dataConnectors/{connection}/sourceObjects")),
        ("sourceFields", format!("/dataConnectors/{connection}/sourceObjects/Account/fields")),
        ("objects", "/replicatedDatasets".to_string()),
        ("object", format!("/replicatedDatasets/{object}")),
        ("objectFields", format!("/replicatedDatasets/{object}/fields")),
        ("wave", String::new()),
    ];
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/api/golden");
    let bless = std::env::var("SWELL_BLESS").is_ok();
    let mut stale = Vec::new();
    for v in VERSIONS {
        let mut got = serde_json::Map::new();
        for (name, path) in &resources {
            let (status, mut body) = api.call("GET", &format!("/services/data/v{v}.0/wave{path}"), None).await;
            redact(&mut body, &folder);
            got.insert(name.to_string(), json!({"status": status.as_u16(), "body": body}));
        }
        let got = Value::Object(got);
        let file = dir.join(format!("v{v}.json"));
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&file, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
            continue;
        }
        let expected: Value = match std::fs::read_to_string(&file) {
            Ok(text) => serde_json::from_str(&text).unwrap(),
            Err(e) => panic!("{}: {e} (SWELL_BLESS=1 writes it)", file.display()),
        };
        for (name, _) in &resources {
            if got[name] != expected[name] {
                stale.push(format!("v{v} {name}:\n  expected {}\n  got      {}", expected[name], got[name]));
            }
        }
    }
    assert!(stale.is_empty(), "representations differ from their golden files:\n{}", stale.join("\n"));
}
