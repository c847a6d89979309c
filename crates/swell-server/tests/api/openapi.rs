//! The OpenAPI document: generated from the routes' declarations, served at `/openapi.json`,
//! committed as docs/openapi.json (this test fails when the committed copy is stale;
//! `SWELL_BLESS=1` writes it).

use crate::common::*;
use axum::http::StatusCode;
use std::path::PathBuf;

#[tokio::test]
async fn the_committed_document_is_the_generated_one_and_is_served() {
    let generated = swell_server::openapi::document_json();
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    if std::env::var("SWELL_BLESS").is_ok() {
        std::fs::write(&file, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is stale: run SWELL_BLESS=1 cargo test --workspace --test api openapi, and commit it"
    );
    // served without a token
    let api = Api::new().await;
    let (s, served) = api.send("GET", "/openapi.json", None, &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(served, serde_json::from_str::<serde_json::Value>(&generated).unwrap());
}

#[test]
fn every_operation_declares_its_answer_its_errors_and_its_path_parameters() {
    let doc: serde_json::Value = serde_json::from_str(&swell_server::openapi::document_json()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 30, "{} paths", paths.len());
    let mut operations = 0;
    let mut ids = std::collections::HashSet::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let id = op["operationId"].as_str().unwrap_or_default().to_string();
            assert!(ids.insert(id.clone()), "{method} {path}: operationId {id} is not unique");
            let responses = op["responses"].as_object().unwrap();
            for (status, answer) in responses {
                assert!(answer["description"].as_str().is_some_and(|d| !d.is_empty()), "{method} {path} {status}");
            }
            assert!(responses.contains_key("default"), "{method} {path}: no error answer");
            assert!(responses.keys().any(|k| k.starts_with('2')), "{method} {path}: no success answer");
            let declared: Vec<&str> = op["parameters"]
                .as_array()
                .map(|p| p.iter().filter(|p| p["in"] == "path").filter_map(|p| p["name"].as_str()).collect())
                .unwrap_or_default();
            for segment in path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))) {
                assert!(declared.contains(&segment), "{method} {path}: {{{segment}}} is not declared");
            }
        }
    }
    assert!(operations >= 50, "{operations} operations");
    // a doc comment on a `Since` field makes utoipa wrap the field in an allOf with an object
    // (that no value matches): `Since` fields take `//` comments
    fn wrong_all_of(v: &serde_json::Value, at: &str, found: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(map) => {
                if let Some(all) = map.get("allOf").and_then(|a| a.as_array())
                    && all
                        .iter()
                        .any(|x| x["type"] == "object" && x.get("properties").is_none() && x.get("$ref").is_none())
                {
                    found.push(at.to_string());
                }
                for (k, x) in map {
                    wrong_all_of(x, &format!("{at}/{k}"), found);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|x| wrong_all_of(x, at, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    wrong_all_of(&doc, "", &mut found);
    assert!(found.is_empty(), "schemas no value matches: {found:?}");
    // the error codes are the one table's
    let codes = &doc["components"]["schemas"]["ErrorEntry"]["properties"]["errorCode"]["enum"];
    let table: Vec<&str> = swell_app::ErrorCode::ALL.iter().map(|c| c.wire()).collect();
    assert_eq!(codes, &serde_json::json!(table));
}
