//! Versions, authentication and the shape of errors.

use crate::common::*;
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn versions_auth_and_errors() {
    let api = Api::new().await;
    let (s, v) = api.send("GET", "/services/data/", None, &[]).await;
    assert_eq!(s, StatusCode::OK, "the version list needs no token");
    let versions = v.as_array().unwrap();
    assert_eq!(versions.first().unwrap()["version"], "41.0");
    assert_eq!(
        versions.last().unwrap(),
        &json!({"label": "Spring '26", "url": "/services/data/v66.0", "version": "66.0"})
    );
    let (s, v) = api.send("GET", "/services/data/v62.0/wave/dataflows", None, &[]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v, json!([{"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}]));
    let (s, _) =
        api.send("GET", "/services/data/v62.0/wave/dataflows", None, &[("Authorization", "Bearer wrong")]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = api.call("GET", "/services/data/v40.0/wave/dataflows", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v[0]["errorCode"], "NOT_FOUND");
    let (s, v) = api.call("GET", "/services/data/v62.0/wave/nothing", None).await;
    assert_eq!((s, v[0]["errorCode"].as_str()), (StatusCode::NOT_FOUND, Some("NOT_FOUND")));
    let (s, v) = api.call("DELETE", "/services/data/v62.0/wave/dataflowjobs", None).await;
    assert_eq!((s, v[0]["errorCode"].as_str()), (StatusCode::METHOD_NOT_ALLOWED, Some("METHOD_NOT_ALLOWED")));
    let (s, v) = api.call("GET", "/services/data/v62.0/wave/dataflowjobs/001000000000000", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = api.call("GET", "/services/data/v62.0/wave/dataflowjobs/03C3h000002pSSeXXX", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    // one rule where ids and API names both name an asset: neither is a bad id (400), a
    // well-formed one that matches nothing is 404
    for (path, status) in [
        ("dataflows/02K3h000002pSSeXXX", StatusCode::BAD_REQUEST),
        ("recipes/05v3h000002pSSeXXX", StatusCode::BAD_REQUEST),
        ("datasets/0Fb3h000002pSSeXXX", StatusCode::BAD_REQUEST),
        ("dataflows/NoSuchFlow", StatusCode::NOT_FOUND),
        ("recipes/NoSuchRecipe", StatusCode::NOT_FOUND),
    ] {
        let (s, v) = api.call("GET", &format!("/services/data/v62.0/wave/{path}"), None).await;
        assert_eq!(s, status, "{path}: {v}");
    }
    let (s, v) = api
        .call(
            "POST",
            "/services/data/v62.0/wave/dataflowjobs",
            Some(json!({"dataflowId": "02K3h000000Mr7KEAS", "command": "start"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let bad = api
        .send(
            "POST",
            "/services/data/v62.0/wave/dataflows",
            None,
            &[("Authorization", &format!("Bearer {TOKEN}")), ("Content-Type", "application/json")],
        )
        .await;
    assert_eq!(bad.0, StatusCode::BAD_REQUEST, "a dataflow needs a name");
}
