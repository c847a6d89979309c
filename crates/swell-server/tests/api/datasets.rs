//! `/wave/datasets`: lists, search, sort, paging, representations.

use crate::common::*;
use axum::http::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn dataset_lists_search_sort_and_page() {
    let api = Api::new().await;
    for (name, label) in [("Alpha_Sales", "Alpha sales"), ("Beta_Sales", "Beta sales"), ("Gamma_Cases", "Gamma cases")]
    {
        api.object(name, "Id\n1\n").await;
        api.store().record_dataset_version(&swell_store::admin_id(), name, label, "v1", 1, None).await.unwrap();
    }
    let (_, all) = api.call("GET", "/services/data/v62.0/wave/datasets?sort=Name", None).await;
    let names: Vec<&str> = all["datasets"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!((names, &all["totalSize"]), (vec!["Alpha_Sales", "Beta_Sales", "Gamma_Cases"], &json!(3)));
    let (_, sales) =
        api.call("GET", "/services/data/v62.0/wave/datasets?q=SALES&sort=Name&order=Descending", None).await;
    let names: Vec<&str> = sales["datasets"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Beta_Sales", "Alpha_Sales"]);
    let (_, first) = api.call("GET", "/services/data/v62.0/wave/datasets?sort=Name&pageSize=2", None).await;
    assert_eq!(first["datasets"].as_array().unwrap().len(), 2);
    let next = first["nextPageUrl"].as_str().unwrap().to_string();
    assert!(next.starts_with("/services/data/v62.0/wave/datasets?"), "{next}");
    let (_, second) = api.call("GET", &next, None).await;
    assert_eq!(second["datasets"][0]["name"], "Gamma_Cases");
    assert!(second["nextPageUrl"].is_null());
    let (s, _) = api.call("GET", "/services/data/v62.0/wave/datasets?sort=Size", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // fields newer than the requested version are left out
    let (_, df) = api.call("POST", "/services/data/v45.0/wave/dataflows", Some(json!({"name": "Old"}))).await;
    assert!(df.get("historiesUrl").is_none() && df.get("definition").is_none(), "{df}");
    let (_, df) = api.call("GET", "/services/data/v50.0/wave/dataflows/Old", None).await;
    assert!(df.get("historiesUrl").is_some() && df.get("definition").is_some(), "{df}");
}

/// Strict clients (pydantic models with required fields) parse what an org returns: the base
/// asset fields with a WaveUser whose `profilePhotoUrl` is a string, on datasets and their
/// versions, and every sort an org's dataset list takes.
#[tokio::test]
async fn datasets_carry_the_fields_and_sorts_strict_clients_need() {
    let api = Api::new().await;
    for (name, rows) in [("Small", 1), ("Large", 30), ("Medium", 5)] {
        api.object(name, "Id\n1\n").await;
        api.store().record_dataset_version(&swell_store::admin_id(), name, name, "v1", rows, None).await.unwrap();
    }
    let (_, d) = api.call("GET", "/services/data/v62.0/wave/datasets/Large", None).await;
    let (_, versions) = api.call("GET", "/services/data/v62.0/wave/datasets/Large/versions", None).await;
    for asset in [&d, &versions["versions"][0]] {
        for field in ["createdBy", "lastModifiedBy"] {
            let user = &asset[field];
            assert!(user["id"].as_str().is_some_and(|i| i.starts_with("005")), "{field}: {asset}");
            assert!(user["name"].is_string() && user["profilePhotoUrl"].is_string(), "{field}: {asset}");
        }
        assert!(asset["createdDate"].is_string() && asset["lastModifiedDate"].is_string(), "{asset}");
    }
    let names = |v: &Value| -> Vec<String> {
        v["datasets"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap().to_string()).collect()
    };
    let (_, by_rows) = api.call("GET", "/services/data/v62.0/wave/datasets?sort=TotalRows", None).await;
    assert_eq!(names(&by_rows), ["Large", "Medium", "Small"]);
    let (_, by_rows) = api.call("GET", "/services/data/v62.0/wave/datasets?sort=TotalRows&order=Ascending", None).await;
    assert_eq!(names(&by_rows), ["Small", "Medium", "Large"]);
    for sort in ["Mru", "LastQueried", "LastRefreshed", "LastModified", "CreatedDate", "CreatedBy", "ConnectionName"] {
        let (s, list) = api.call("GET", &format!("/services/data/v62.0/wave/datasets?sort={sort}"), None).await;
        assert_eq!((s, list["totalSize"].as_i64()), (StatusCode::OK, Some(3)), "sort={sort}: {list}");
    }
    // the most recently used is the last written
    api.store().record_dataset_version(&swell_store::admin_id(), "Small", "Small", "v2", 2, None).await.unwrap();
    let (_, mru) = api.call("GET", "/services/data/v62.0/wave/datasets?sort=Mru", None).await;
    assert_eq!(names(&mru)[0], "Small");
    let (s, e) = api.call("GET", "/services/data/v62.0/wave/datasets?sort=Size", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(e[0]["message"].as_str().unwrap().contains("TotalRows"), "{e}");
}
