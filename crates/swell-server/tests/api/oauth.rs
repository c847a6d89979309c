//! Sign-in as clients do it against an org (issue 15): the OAuth2 password grant answers a
//! session token of the user, in Salesforce's shape; wrong passwords and unknown names give
//! the same answer; failures lock a name out for a while; a revoked token stops.

use crate::common::Api;
use axum::http::StatusCode;
use serde_json::{Value, json};

async fn form(api: &Api, path: &str, body: &str) -> (StatusCode, Value) {
    let req = axum::http::Request::builder()
        .method("POST")
        .uri(path)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Host", "swell.test:8443")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let res = api.app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() })
}

#[tokio::test]
async fn the_password_grant_signs_a_user_in() {
    let api = Api::new().await;
    let users = "/services/data/v62.0/swell/users";
    let body = json!({"username": "ana@example.com", "role": "operator", "password": "correct horse"});
    let (s, u) = api.call("POST", users, Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{u}");
    assert!(!u.to_string().contains("correct horse"), "a password is never shown");
    let (s, short) =
        api.call("PATCH", &format!("{users}/{}", u["id"].as_str().unwrap()), Some(json!({"password": "short"}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{short}");

    let login = "grant_type=password&client_id=cid&client_secret=sec&username=ANA%40example.com&password=correct+horse";
    let (s, t) = form(&api, "/services/oauth2/token", login).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["instance_url"], "http://swell.test:8443");
    let id = t["id"].as_str().unwrap();
    assert!(id.starts_with("http://swell.test:8443/id/00D") && id.ends_with(u["id"].as_str().unwrap()), "{id}");
    let issued = t["issued_at"].as_str().unwrap();
    assert!(issued.parse::<i64>().is_ok(), "{issued}");
    assert_eq!(t["signature"].as_str().unwrap(), swell_app::sign("sec", &format!("{id}{issued}")));
    let token = t["access_token"].as_str().unwrap().to_string();
    let (s, me) = api.call_as(&token, "GET", "/services/oauth2/userinfo", None).await;
    assert_eq!((s, me["preferred_username"].as_str()), (StatusCode::OK, Some("ana@example.com")));
    // the identity URL of the answer answers (jsforce's conn.identity()), for its own user only
    let path = id.trim_start_matches("http://swell.test:8443");
    let (s, who) = api.call_as(&token, "GET", path, None).await;
    assert_eq!((s, who["username"].as_str()), (StatusCode::OK, Some("ana@example.com")), "{who}");
    let admin_path = format!("{}/{}", path.rsplit_once('/').unwrap().0, swell_store::admin_id());
    assert_eq!(api.call_as(&token, "GET", &admin_path, None).await.0, StatusCode::FORBIDDEN);
    // an operator: may start, may not create
    let (s, e) = api.call_as(&token, "POST", "/services/data/v62.0/wave/dataflows", Some(json!({"name": "X"}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");

    // (probe, session 11) a parameter given twice is refused; spaces around the name are not
    // part of it; the scheme of the Authorization header is read in any case
    let (s, e) = form(&api, "/services/oauth2/token", &format!("{login}&username=bob%40example.com")).await;
    assert_eq!((s, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{e}");
    assert!(e["error_description"].as_str().unwrap().contains("'username' is given twice"), "{e}");
    let spaced = login.replace("username=ANA", "username=%20ANA");
    assert_eq!(form(&api, "/services/oauth2/token", &spaced).await.0, StatusCode::OK);
    let lower = format!("bearer {token}");
    let (s, _) = api.send("GET", "/services/oauth2/userinfo", None, &[("Authorization", &lower)]).await;
    assert_eq!(s, StatusCode::OK);

    // the token is revoked as clients revoke it
    let (s, _) = form(&api, "/services/oauth2/revoke", &format!("token={}", token.replace('!', "%21"))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(api.call_as(&token, "GET", "/services/oauth2/userinfo", None).await.0, StatusCode::UNAUTHORIZED);
    let (s, _) = form(&api, "/services/oauth2/revoke", "token=nothing").await;
    assert_eq!(s, StatusCode::OK, "not a token: nothing to do (RFC 7009)");

    // a wrong password and an unknown name answer alike
    let wrong =
        form(&api, "/services/oauth2/token", "grant_type=password&username=ana%40example.com&password=wrong-one").await;
    let nobody =
        form(&api, "/services/oauth2/token", "grant_type=password&username=bob%40example.com&password=wrong-one").await;
    assert_eq!(wrong, nobody);
    assert_eq!(wrong.0, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.1, json!({"error": "invalid_grant", "error_description": "authentication failure"}));
    let (s, e) = form(&api, "/services/oauth2/token", "grant_type=authorization_code&code=x").await;
    assert_eq!((s, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("unsupported_grant_type")));
    let (s, e) = form(&api, "/services/oauth2/token", "grant_type=password&username=ana%40example.com").await;
    assert_eq!((s, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));

    // ten failures lock the name out, even with the right password, for a while
    for _ in 0..10 {
        form(&api, "/services/oauth2/token", "grant_type=password&username=ana%40example.com&password=nope-nope").await;
    }
    let (s, e) = form(&api, "/services/oauth2/token", login).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert!(e["error_description"].as_str().unwrap().contains("too many failed sign-ins"), "{e}");
    // a deactivated user cannot sign in
    let (s, _) =
        api.call("PATCH", &format!("{users}/{}", u["id"].as_str().unwrap()), Some(json!({"active": false}))).await;
    assert_eq!(s, StatusCode::OK);
}
