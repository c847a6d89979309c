//! What a hostile user found (session 9's probe of the use-case layer), each answered clearly.

use crate::common::*;
use axum::http::StatusCode;
use serde_json::{Value, json};

const BASE: &str = "/services/data/v62.0/wave";

/// Creates of one name sent at once: one is created, the others are conflicts, never 500.
#[tokio::test]
async fn concurrent_creates_of_one_name_are_conflicts() {
    let api = std::sync::Arc::new(Api::new().await);
    let calls = (0..8).map(|_| {
        let api = api.clone();
        tokio::spawn(async move {
            api.call("POST", &format!("{BASE}/dataflows"), Some(json!({"name": "Race", "definition": {}}))).await.0
        })
    });
    let mut statuses = Vec::new();
    for c in calls {
        statuses.push(c.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT), "{statuses:?}");
}

/// The connection SFDC_LOCAL over a folder of object files.
async fn sfdc_local(api: &Api, folder: &str) -> Value {
    let body = json!({"name": "SFDC_LOCAL", "connectorType": "SfdcLocal",
                      "connectionProperties": [{"name": "FolderPath", "value": folder}]});
    let (s, c) = api.call("POST", &format!("{BASE}/dataConnectors"), Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    c
}

async fn dataflow(api: &Api, name: &str) -> String {
    let (s, d) = api.call("POST", &format!("{BASE}/dataflows"), Some(json!({"name": name}))).await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    d["id"].as_str().unwrap().to_string()
}

/// Two rules written at once that together make a loop: one is refused. An asset a rule
/// waits for cannot be deleted while the rule waits.
#[tokio::test]
async fn event_rules_cannot_make_a_loop_at_once_nor_wait_for_deleted_assets() {
    let api = std::sync::Arc::new(Api::new().await);
    for round in 0..5 {
        let (a, b) = (dataflow(&api, &format!("A{round}")).await, dataflow(&api, &format!("B{round}")).await);
        let put = |me: String, other: String| {
            let api = api.clone();
            tokio::spawn(async move {
                let rule = json!({"frequency": "eventdriven", "triggerRule": format!("dataflow:{other}")});
                api.call("PUT", &format!("{BASE}/asset/{me}/schedule"), Some(rule)).await.0
            })
        };
        let (x, y) = (put(a.clone(), b.clone()), put(b.clone(), a.clone()));
        let (x, y) = (x.await.unwrap(), y.await.unwrap());
        assert!(
            [x, y].contains(&StatusCode::BAD_REQUEST) && [x, y].contains(&StatusCode::OK),
            "round {round}: {x} {y}"
        );
    }
    let (waited, waiting) = (dataflow(&api, "Upstream").await, dataflow(&api, "Downstream").await);
    let rule = json!({"frequency": "eventdriven", "triggerRule": format!("dataflow:{waited}")});
    let (s, _) = api.call("PUT", &format!("{BASE}/asset/{waiting}/schedule"), Some(rule)).await;
    assert_eq!(s, StatusCode::OK);
    let (s, e) = api.call("DELETE", &format!("{BASE}/dataflows/{waited}"), None).await;
    assert_eq!((s, e[0]["errorCode"].as_str()), (StatusCode::CONFLICT, Some("CONFLICT")), "{e}");
    assert!(e[0]["message"].as_str().unwrap().contains(&waiting), "{e}");
    api.call("DELETE", &format!("{BASE}/asset/{waiting}/schedule"), None).await;
    let (s, _) = api.call("DELETE", &format!("{BASE}/dataflows/{waited}"), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
}

/// Two servers on one database: rules that together make a loop, saved at once on each, are
/// one saved and one refused; names that differ only in case, created at once on each, are
/// one created and one a conflict. (Nothing in one process serialises them.)
#[tokio::test]
async fn two_servers_on_one_database_never_save_a_loop_nor_two_names_of_one_case() {
    let a = std::sync::Arc::new(Api::new().await);
    let b = std::sync::Arc::new(a.beside().await);
    for round in 0..6 {
        let (x, y) = (dataflow(&a, &format!("A{round}")).await, dataflow(&a, &format!("B{round}")).await);
        let put = |api: std::sync::Arc<Api>, me: String, other: String| {
            tokio::spawn(async move {
                let rule = json!({"frequency": "eventdriven", "triggerRule": format!("dataflow:{other}")});
                api.call("PUT", &format!("{BASE}/asset/{me}/schedule"), Some(rule)).await
            })
        };
        let (p, q) = (put(a.clone(), x.clone(), y.clone()), put(b.clone(), y.clone(), x.clone()));
        let ((s1, r1), (s2, r2)) = (p.await.unwrap(), q.await.unwrap());
        assert!(
            [s1, s2].contains(&StatusCode::BAD_REQUEST) && [s1, s2].contains(&StatusCode::OK),
            "round {round}: {s1} {r1} / {s2} {r2}"
        );
        let refused = if s1 == StatusCode::BAD_REQUEST { r1 } else { r2 };
        assert!(refused[0]["message"].as_str().unwrap().contains("would start itself"), "{refused}");
        // what was saved is what each server reads
        let rules = a.store().event_schedules().await.unwrap();
        assert_eq!(rules.len(), round + 1, "{rules:?}");
        assert_eq!(b.store().event_schedules().await.unwrap(), rules);
    }
    for round in 0..4 {
        let create = |api: std::sync::Arc<Api>, name: String| {
            tokio::spawn(async move {
                let body = json!({"name": name, "definition": {}});
                api.call("POST", &format!("{BASE}/dataflows"), Some(body)).await.0
            })
        };
        let (p, q) = (create(a.clone(), format!("Case{round}")), create(b.clone(), format!("CASE{round}")));
        let statuses = [p.await.unwrap(), q.await.unwrap()];
        assert!(
            statuses.contains(&StatusCode::CREATED) && statuses.contains(&StatusCode::CONFLICT),
            "round {round}: {statuses:?}"
        );
        let create = |api: std::sync::Arc<Api>, name: String| {
            tokio::spawn(async move {
                let folder = std::env::temp_dir().display().to_string();
                let body = json!({"name": name, "connectorType": "SfdcLocal",
                                  "connectionProperties": [{"name": "FolderPath", "value": folder}]});
                api.call("POST", &format!("{BASE}/dataConnectors"), Some(body)).await
            })
        };
        let (p, q) = (create(a.clone(), format!("Conn{round}")), create(b.clone(), format!("CONN{round}")));
        let ((s1, r1), (s2, r2)) = (p.await.unwrap(), q.await.unwrap());
        assert!(
            [s1, s2].contains(&StatusCode::CREATED) && [s1, s2].contains(&StatusCode::CONFLICT),
            "round {round}: {s1} {r1} / {s2} {r2}"
        );
        let refused = if s1 == StatusCode::CONFLICT { r1 } else { r2 };
        assert!(refused[0]["message"].as_str().unwrap().contains("data connection named"), "{refused}");
    }
}

/// The mask stands for a stored secret: sent where none is stored, it is refused.
#[tokio::test]
async fn the_mask_is_never_stored_as_a_secret() {
    let api = Api::new().await;
    let pg = |password: &str| {
        json!({"name": "Warehouse", "connectorType": "AwsRdsPostgres", "connectionProperties": [
            {"name": "host", "value": "127.0.0.1"}, {"name": "database", "value": "test"},
            {"name": "username", "value": "postgres"}, {"name": "password", "value": password}]})
    };
    let (s, e) = api.call("POST", &format!("{BASE}/dataConnectors"), Some(pg("******"))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert!(e[0]["message"].as_str().unwrap().contains("password"), "{e}");
    // a secret sent empty is no secret: it reads empty, not as the mask
    let mut empty = pg("x");
    empty["name"] = json!("Empty");
    empty["connectionProperties"][3]["value"] = Value::Null;
    let (s, c) = api.call("POST", &format!("{BASE}/dataConnectors"), Some(empty)).await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let password = c["connectionProperties"].as_array().unwrap().iter().find(|p| p["name"] == "password").unwrap();
    assert_eq!(password["value"], "", "{c}");
    let (s, e) = api
        .call(
            "PATCH",
            &format!("{BASE}/dataConnectors/Empty"),
            Some(json!({"connectionProperties": [{"name": "password", "value": "******"}]})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    let mut body = pg("x");
    body["connectionProperties"].as_array_mut().unwrap().pop();
    let (s, c) = api.call("POST", &format!("{BASE}/dataConnectors"), Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let (s, e) = api
        .call(
            "PATCH",
            &format!("{BASE}/dataConnectors/Warehouse"),
            Some(json!({"connectionProperties": [{"name": "password", "value": "******"}]})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
}

/// Names and labels: never blank, no control characters; a name made from a label follows
/// the UI (a digit first gets an `X`, long labels are cut to 80 characters).
#[tokio::test]
async fn labels_are_never_blank_and_names_made_from_labels_fit() {
    let api = Api::new().await;
    for body in [
        json!({"name": "Blank", "label": ""}),
        json!({"name": "Blank", "label": "   "}),
        json!({"name": "Nul", "label": "a\u{0}b"}),
        json!({"label": "!!!"}),
    ] {
        let (s, e) = api.call("POST", &format!("{BASE}/dataflows"), Some(body.clone())).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {e}");
        assert!(e[0]["message"].as_str().unwrap().starts_with("label:") || body["name"].is_null(), "{e}");
    }
    let (s, d) = api.call("POST", &format!("{BASE}/dataflows"), Some(json!({"label": "2024 Plan"}))).await;
    assert_eq!((s, d["name"].as_str()), (StatusCode::CREATED, Some("X2024_Plan")), "{d}");
    let long = "Quarterly ".repeat(20);
    let (s, d) = api.call("POST", &format!("{BASE}/dataflows"), Some(json!({"label": long.trim()}))).await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    assert!(d["name"].as_str().unwrap().len() <= 80, "{d}");
    let (s, e) = api.call("PATCH", &format!("{BASE}/dataflows/X2024_Plan"), Some(json!({"label": " "}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
}

/// A connected object's field changes are checked, each wrong entry named by its path.
#[tokio::test]
async fn field_changes_are_checked() {
    let api = Api::new().await;
    let folder = object_folder(api.data.root());
    let c = sfdc_local(&api, &folder).await;
    let body = json!({"connectorId": c["id"], "sourceObjectName": "Account"});
    let (s, o) = api.call("POST", &format!("{BASE}/replicatedDatasets"), Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let fields = format!("{BASE}/replicatedDatasets/{}/fields", o["id"].as_str().unwrap());
    let (_, before) = api.call("GET", &fields, None).await;
    for (change, path) in [
        (json!({"name": "Revenue", "precision": -5}), "fields[0].precision"),
        (json!({"name": "Revenue", "precision": null}), "fields[0].precision"),
        (json!({"name": "Revenue", "scale": "x"}), "fields[0].scale"),
        (json!({"name": "Revenue", "fieldType": "Numeric", "precision": 100, "scale": 2}), "fields[0].precision"),
        (json!({"name": "Revenue", "fieldType": "Numeric", "precision": 10, "scale": 12}), "fields[0].scale"),
        (json!({"name": "Revenue", "skipped": "yes"}), "fields[0].skipped"),
        (json!({"name": "Revenue", "label": "L".repeat(256)}), "fields[0].label"),
        (json!({"name": "Revenue", "colour": "red"}), "fields[0].colour"),
        // a new field's name is a real name (session 10 probe)
        (json!({"name": "", "fieldType": "Text"}), "fields[0].name"),
        (json!({"name": "a\u{0000}b", "fieldType": "Text"}), "fields[0].name"),
        (json!({"name": "\u{200B}", "fieldType": "Text"}), "fields[0].name"),
    ] {
        let (s, e) = api.call("PATCH", &fields, Some(json!({"fields": [change.clone()]}))).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{change}: {e}");
        assert!(e[0]["message"].as_str().unwrap().starts_with(path), "{change}: {e}");
    }
    // one field changed twice in one request is refused, not the last one kept
    let twice = json!({"fields": [{"name": "Name", "skipped": true}, {"name": "Name", "skipped": false}]});
    let (s, e) = api.call("PATCH", &fields, Some(twice)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert!(e[0]["message"].as_str().unwrap().starts_with("fields[1].name: 'Name' is given twice"), "{e}");
    let (_, after) = api.call("GET", &fields, None).await;
    assert_eq!(before, after, "a refused change changes nothing");
    let (s, ok) = api
        .call(
            "PATCH",
            &fields,
            Some(json!({"fields": [{"name": "Revenue", "fieldType": "Numeric", "precision": 12, "scale": 2}]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{ok}");
}

/// A recipe's file is its definition as stored: saved back, it is the same recipe.
#[tokio::test]
async fn a_recipe_file_round_trips() {
    let api = Api::new().await;
    let recipe: Value = json!({"version": "62.0", "nodes": {
        "LOAD": {"action": "load", "sources": [], "parameters": {"dataset": {"type": "connectedDataset",
            "label": "Account", "name": "Account", "sourceObjectName": "Account", "connectionName": "SFDC_LOCAL"},
            "fields": ["Id", "Name"], "sampleDetails": {"type": "TopN"}}},
        "F": {"action": "formula", "sources": ["LOAD"], "parameters": {"expressionType": "SQL", "fields": [{
            "type": "TEXT", "name": "Kind", "label": "Kind", "formulaExpression": "case when Name = 'Tech' then 'a<b' else 'c&d' end",
            "precision": 10, "defaultValue": ""}]}},
        "SAVE": {"action": "save", "sources": ["F"], "parameters": {"dataset": {"type": "analyticsDataset",
            "label": "Out", "name": "Out", "folderName": "SharedApp"}, "fields": []}}}, "ui": {}});
    let (s, r) =
        api.call("POST", &format!("{BASE}/recipes"), Some(json!({"name": "Kinds", "recipeDefinition": recipe}))).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    // the file is sent as stored, whatever the entity encoding of other answers
    let auth = format!("Bearer {TOKEN}");
    let (_, file) = api.send("GET", r["fileUrl"].as_str().unwrap(), None, &[("Authorization", &auth)]).await;
    assert_eq!(file["nodes"], recipe["nodes"]);
    let (s, _) = api.call("PATCH", &format!("{BASE}/recipes/Kinds"), Some(json!({"recipeDefinition": file}))).await;
    assert_eq!(s, StatusCode::OK);
    let (_, again) = api.send("GET", r["fileUrl"].as_str().unwrap(), None, &[("Authorization", &auth)]).await;
    assert_eq!(again["nodes"], recipe["nodes"]);
}

/// A connected object's names cannot change, and an incremental mode its object cannot sync
/// is refused when it is set, not when the sync fails later. A deleted connection leaves no
/// folder behind.
#[tokio::test]
async fn connected_objects_refuse_what_cannot_change_and_modes_that_cannot_sync() {
    let api = Api::new().await;
    let folder = object_folder(api.data.root());
    let c = sfdc_local(&api, &folder).await;
    let (s, e) = api
        .call(
            "POST",
            &format!("{BASE}/replicatedDatasets"),
            Some(json!({"connectorId": c["id"], "sourceObjectName": "Account", "connectionMode": "Incremental"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert!(e[0]["message"].as_str().unwrap().starts_with("connectionMode: incremental sync of Account needs"), "{e}");
    let (s, o) = api
        .call(
            "POST",
            &format!("{BASE}/replicatedDatasets"),
            Some(json!({"connectorId": c["id"], "sourceObjectName": "Account"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let url = format!("{BASE}/replicatedDatasets/{}", o["id"].as_str().unwrap());
    for (change, field) in [
        (json!({"connectionMode": "PeriodicFull"}), "connectionMode"),
        (json!({"name": "Other"}), "name"),
        (json!({"label": "Other"}), "label"),
        (json!({"connectorId": "0ItSW0000000009"}), "connectorId"),
    ] {
        let (s, e) = api.call("PATCH", &url, Some(change.clone())).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{change}: {e}");
        assert!(e[0]["message"].as_str().unwrap().starts_with(field), "{change}: {e}");
    }
    // with a key and a watermark named, incremental is fine
    let (s, e) = api
        .call(
            "PATCH",
            &url,
            Some(json!({"connectionMode": "Incremental", "name": "Account", "advancedProperties": [
            {"name": "primaryKey", "value": "Id"}, {"name": "watermarkField", "value": "Revenue"}]})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "Revenue is not a date: {e}");
    assert!(e[0]["message"].as_str().unwrap().starts_with("advancedProperties: "), "{e}");
    // advanced properties are the two the connector types list, each once, with a field name
    let (_, before) = api.call("GET", &url, None).await;
    for (list, path) in [
        (json!([{"name": "bogus", "value": "Id"}]), "advancedProperties[0].name"),
        (json!([{"name": "primaryKey", "value": {"a": [1]}}]), "advancedProperties[0].value"),
        (json!([{"name": "primaryKey", "value": 12345678901234567890u64}]), "advancedProperties[0].value"),
        (
            json!([{"name": "primaryKey", "value": "Id"}, {"name": "primaryKey", "value": "Name"}]),
            "advancedProperties[1].name",
        ),
    ] {
        let (s, e) = api.call("PATCH", &url, Some(json!({"advancedProperties": list.clone()}))).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{list}: {e}");
        assert!(e[0]["message"].as_str().unwrap().starts_with(path), "{list}: {e}");
    }
    let (_, after) = api.call("GET", &url, None).await;
    assert_eq!(before["advancedProperties"], after["advancedProperties"], "a refused change changes nothing");
    let (s, _) = api.call("DELETE", &url, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    // what removed objects leave (their folders, lock files) goes with the connection
    let leftover = api.data.root().join("connections").join("SFDC_LOCAL").join("objects").join("Account");
    std::fs::create_dir_all(&leftover).unwrap();
    std::fs::write(leftover.join(".lock"), "").unwrap();
    let (s, _) = api.call("DELETE", &format!("{BASE}/dataConnectors/SFDC_LOCAL"), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(!api.data.root().join("connections").join("SFDC_LOCAL").exists(), "the connection's folder is gone");
}

/// Second probe: a recipe's target dataflow has no schedule of its own (its runs are the
/// recipe's, and a rule on it escaped the loop check: a recipe ran 100 times in 12 s);
/// names differing only in case created at once; a field list read back; a mixed-case
/// watermark of a local object on its second incremental sync.
#[tokio::test]
async fn second_probe_findings() {
    let api = std::sync::Arc::new(Api::new().await);
    let folder = object_folder(api.data.root());
    std::fs::write(
        std::path::Path::new(&folder).join("Account.csv"),
        "Id,Name,LastModifiedDate,Revenue\n001A,Acme,2024-01-01T00:00:00.000Z,150\n001B,Globex,2024-01-02T00:00:00.000Z,90\n",
    )
    .unwrap();
    let c = sfdc_local(&api, &folder).await;
    let recipe = json!({"version": "62.0", "nodes": {
        "LOAD": {"action": "load", "sources": [], "parameters": {"dataset": {"type": "connectedDataset",
            "label": "Account", "name": "Account", "sourceObjectName": "Account", "connectionName": "SFDC_LOCAL"},
            "fields": ["Id", "Name"], "sampleDetails": {"type": "TopN"}}},
        "SAVE": {"action": "save", "sources": ["LOAD"], "parameters": {"dataset": {"type": "analyticsDataset",
            "label": "Out", "name": "Out", "folderName": "SharedApp"}, "fields": []}}}, "ui": {}});
    let (s, r) =
        api.call("POST", &format!("{BASE}/recipes"), Some(json!({"name": "R", "recipeDefinition": recipe}))).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let target = r["targetDataflowId"].as_str().unwrap().to_string();
    let rule = json!({"frequency": "eventdriven", "triggerRule": format!("recipe:{}", r["id"].as_str().unwrap())});
    let (s, e) = api.call("PUT", &format!("{BASE}/asset/{target}/schedule"), Some(rule)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert!(e[0]["message"].as_str().unwrap().contains("schedule the recipe"), "{e}");
    let (s, d) = api.call("POST", &format!("{BASE}/dataflows"), Some(json!({"name": "Other"}))).await;
    assert_eq!(s, StatusCode::CREATED);
    let rule = json!({"frequency": "eventdriven", "triggerRule": format!("dataflow:{target}")});
    let (s, e) = api.call("PUT", &format!("{BASE}/asset/{}/schedule", d["id"].as_str().unwrap()), Some(rule)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert!(e[0]["message"].as_str().unwrap().contains("recipe:"), "{e}");

    // names that differ only in case, at once: one is created
    let calls = (0..6).map(|i| {
        let api = api.clone();
        let name = if i % 2 == 0 { "CaSe" } else { "case" };
        tokio::spawn(async move { api.call("POST", &format!("{BASE}/dataflows"), Some(json!({"name": name}))).await.0 })
    });
    let mut created = 0;
    for c in calls {
        created += usize::from(c.await.unwrap() == StatusCode::CREATED);
    }
    assert_eq!(created, 1);

    // a field list read is a field list that can be sent back
    let (s, o) = api
        .call(
            "POST",
            &format!("{BASE}/replicatedDatasets"),
            Some(json!({"connectorId": c["id"], "sourceObjectName": "Account"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let url = format!("{BASE}/replicatedDatasets/{}", o["id"].as_str().unwrap());
    let (_, fields) = api.call("GET", &format!("{url}/fields"), None).await;
    let (s, back) = api.call("PATCH", &format!("{url}/fields"), Some(json!({"fields": fields["fields"]}))).await;
    assert_eq!((s, &back["fields"]), (StatusCode::OK, &fields["fields"]));

    // incremental on a mixed-case watermark: the second sync reads only what changed
    let (s, e) = api
        .call(
            "PATCH",
            &url,
            Some(json!({"connectionMode": "Incremental", "advancedProperties": [
            {"name": "primaryKey", "value": "Id"}, {"name": "watermarkField", "value": "LastModifiedDate"}]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    for round in 1..=2 {
        let (s, e) = api.call("POST", &format!("{BASE}/dataConnectors/SFDC_LOCAL/ingest"), Some(json!({}))).await;
        assert_eq!(s, StatusCode::OK, "{e}");
        let jobs = wait_for_type(&api, "DataSync", round).await;
        assert!(jobs.iter().all(|j| j["status"] == "Success"), "sync {round}: {jobs:?}");
    }
}

/// Session 11: a connection property given twice is refused (which value was meant cannot be
/// told), named at both places; a recipe never reads as changed before it was made.
#[tokio::test]
async fn properties_given_twice_and_recipe_dates() {
    let api = Api::new().await;
    let folder = object_folder(api.data.root());
    let body = json!({"name": "Twice", "connectorType": "SfdcLocal", "connectionProperties": [
        {"name": "FolderPath", "value": folder}, {"name": "folderpath", "value": "/elsewhere"}]});
    let (s, e) = api.call("POST", &format!("{BASE}/dataConnectors"), Some(body)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    let m = e[0]["message"].as_str().unwrap();
    assert!(m.starts_with("connectionProperties[1].name: 'folderpath' is given twice"), "{m}");
    assert!(m.contains("connectionProperties[0]"), "{m}");
    let c = sfdc_local(&api, &folder).await;
    let url = format!("{BASE}/dataConnectors/{}", c["id"].as_str().unwrap());
    let twice = json!({"connectionProperties": [{"name": "FolderPath", "value": folder}, {"name": "FolderPath", "value": folder}]});
    let (s, e) = api.call("PATCH", &url, Some(twice)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");

    // a relative FolderPath is kept as the absolute folder it names: it must not move with
    // the server's working directory
    let cwd = std::env::current_dir().unwrap();
    let up = "../".repeat(cwd.components().count());
    let relative = format!("{up}{}", folder.trim_start_matches('/'));
    let body = json!({"name": "Relative", "connectorType": "SfdcLocal",
                      "connectionProperties": [{"name": "FolderPath", "value": relative}]});
    let (s, r) = api.call("POST", &format!("{BASE}/dataConnectors"), Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let kept = r["connectionProperties"].as_array().unwrap().iter().find(|p| p["name"] == "FolderPath").unwrap();
    let canonical = std::fs::canonicalize(&folder).unwrap();
    assert_eq!(kept["value"], json!(canonical.display().to_string()), "{r}");

    let recipe = json!({"version": "62.0", "nodes": {
        "LOAD": {"action": "load", "sources": [], "parameters": {"dataset": {"type": "analyticsDataset", "name": "In"},
            "fields": ["Id"]}},
        "SAVE": {"action": "save", "sources": ["LOAD"], "parameters": {"dataset": {"type": "analyticsDataset",
            "label": "Out", "name": "Out"}, "fields": []}}}, "ui": {}});
    let (s, r) =
        api.call("POST", &format!("{BASE}/recipes"), Some(json!({"name": "Dates", "recipeDefinition": recipe}))).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let (created, modified) = (r["createdDate"].as_str().unwrap(), r["lastModifiedDate"].as_str().unwrap());
    assert!(modified >= created, "modified {modified} before created {created}");
}
