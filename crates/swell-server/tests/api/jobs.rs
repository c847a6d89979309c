//! `/wave/dataflowjobs`: runs end to end, a second start, stop.

use crate::common::*;
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

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

/// A failed job says why, in its message and in the store: the definition (a recipe saved
/// as a draft with a node that reads nothing), or the source (the folder of a local
/// connection removed before the run).
#[tokio::test]
async fn a_failed_job_names_its_failure_class() {
    let api = Api::new().await;
    let base = "/services/data/v62.0/wave";
    let draft = json!({
        "version": "62.0",
        "nodes": {"SAVE": {"action": "save", "sources": ["NOPE"], "parameters": {"dataset": {"type": "analyticsDataset", "name": "X", "label": "X"}, "fields": []}}},
        "ui": {"nodes": {}, "connectors": []}
    });
    let (s, r) = api
        .call(
            "POST",
            &format!("{base}/recipes"),
            Some(json!({"name": "Draft", "format": "R3", "recipeDefinition": draft})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let (s, job) = api
        .call(
            "POST",
            &format!("{base}/dataflowjobs"),
            Some(json!({"dataflowId": r["targetDataflowId"], "command": "start"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{job}");
    let done = api.wait_for(job["id"].as_str().unwrap(), |s| s == "Failure" || s == "Success").await;
    assert_eq!(done["status"], "Failure", "{done}");
    assert!(
        done["message"].as_str().unwrap().starts_with("Definition error: The recipe definition is invalid"),
        "{done}"
    );
    let id = swell_core::SalesforceId::parse(done["id"].as_str().unwrap()).unwrap();
    assert_eq!(api.store.job(&id).await.unwrap().failure_class, Some(swell_core::FailureClass::Definition));

    let tmp = tempfile::tempdir().unwrap();
    let folder = object_folder(tmp.path());
    let flow = local_connection_and_flow(&api, &folder).await;
    std::fs::remove_dir_all(&folder).unwrap();
    let (s, job) =
        api.call("POST", &format!("{base}/dataflowjobs"), Some(json!({"dataflowId": flow, "command": "start"}))).await;
    assert_eq!(s, StatusCode::CREATED, "{job}");
    let done = api.wait_for(job["id"].as_str().unwrap(), |s| s == "Failure" || s == "Success").await;
    assert_eq!(done["status"], "Failure", "{done}");
    assert!(done["message"].as_str().unwrap().starts_with("Source unavailable: "), "{done}");
    let id = swell_core::SalesforceId::parse(done["id"].as_str().unwrap()).unwrap();
    assert_eq!(api.store.job(&id).await.unwrap().failure_class, Some(swell_core::FailureClass::Source));
}
