//! `/wave/recipes`: stored, run, scheduled, deleted.

use crate::common::*;
use axum::http::StatusCode;
use serde_json::json;

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
    // its fileUrl leads to its definition, and its users are WaveUsers with a photo URL
    let file_url = r["fileUrl"].as_str().unwrap().to_string();
    assert_eq!(file_url, format!("/services/data/v62.0/wave/recipes/{id}/file"));
    let (s, file) = api.call("GET", &file_url, None).await;
    assert_eq!((s, &file["nodes"]), (StatusCode::OK, &recipe["nodes"]));
    assert!(r["lastModifiedBy"]["profilePhotoUrl"].is_string(), "{r}");

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
