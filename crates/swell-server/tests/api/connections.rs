//! `/wave/dataConnectors` and `/wave/replicatedDatasets`: connections, objects, Run Now, secrets, sync before run.

use crate::common::*;
use axum::http::StatusCode;
use serde_json::{Value, json};

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
