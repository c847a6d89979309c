//! `/wave/asset/{id}/schedule`: set, read, delete; schedules that fire; event-driven runs.

use crate::common::*;
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

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

    // the seed's five bodies are accepted and answered with the schedule
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
        assert_eq!(
            (s, &out["frequency"]),
            (StatusCode::OK, &json!(body["frequency"].as_str().unwrap().to_lowercase())),
            "{body}"
        );
        assert_eq!(out["assetId"], id, "PUT answers the schedule: {out}");
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
