//! Sign-in as clients do it against an org (issue 15): the OAuth2 password grant answers a
//! session token of the user, in Salesforce's shape; wrong passwords and unknown names give
//! the same answer; failures lock a name out for a while; a revoked token stops.

use crate::common::Api;
use axum::http::StatusCode;
use serde_json::{Value, json};

pub(crate) async fn form(api: &Api, path: &str, body: &str) -> (StatusCode, Value) {
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
    // orgs take a GET as well
    let again = form(&api, "/services/oauth2/token", login).await.1["access_token"].as_str().unwrap().to_string();
    let (s, _) =
        api.send("GET", &format!("/services/oauth2/revoke?token={}", again.replace('!', "%21")), None, &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(api.call_as(&again, "GET", "/services/oauth2/userinfo", None).await.0, StatusCode::UNAUTHORIZED);
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

const KEY: &str = include_str!("../../../../tests/jwt/test-only.key");
const CERT: &str = include_str!("../../../../tests/jwt/test-only.crt");

/// A JWT assertion with `claims`, signed RS256 by tests/jwt/test-only.key.
fn assertion(claims: &Value) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let der = base64::engine::general_purpose::STANDARD
        .decode(KEY.lines().filter(|l| !l.starts_with("-----")).collect::<String>())
        .unwrap();
    let key = ring::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
    let signed = format!("{}.{}", b64.encode(r#"{"alg":"RS256"}"#), b64.encode(claims.to_string()));
    let mut sig = vec![0u8; key.public().modulus_len()];
    key.sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), signed.as_bytes(), &mut sig)
        .unwrap();
    format!("{signed}.{}", b64.encode(sig))
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Connected apps: the `client_credentials` grant signs the client's user in with the
/// client's secret, the JWT bearer grant with an assertion its certificate verifies; what is
/// wrong answers alike; revoking the client revokes what it signed in.
#[tokio::test]
async fn connected_apps_sign_their_user_in() {
    let api = Api::new().await;
    let users = "/services/data/v62.0/swell/users";
    let (_, u) = api.call("POST", users, Some(json!({"username": "bot@example.com", "role": "operator"}))).await;
    let uid = u["id"].as_str().unwrap().to_string();
    let (s, c) = api.call("POST", &format!("{users}/{uid}/clients"), Some(json!({"certificate": CERT}))).await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let (id, secret) = (c["id"].as_str().unwrap().to_string(), c["clientSecret"].as_str().unwrap().to_string());
    assert!(id.starts_with("3MVG9") && c["hasCertificate"] == true, "{c}");
    let (_, listed) = api.call("GET", &format!("{users}/{uid}/clients"), None).await;
    assert!(!listed.to_string().contains(&secret), "lists never hold a secret: {listed}");

    // client credentials
    let body = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    let (s, t) = form(&api, "/services/oauth2/token", &body).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let by_secret = t["access_token"].as_str().unwrap().to_string();
    let (_, me) = api.call_as(&by_secret, "GET", "/services/oauth2/userinfo", None).await;
    assert_eq!(me["preferred_username"], "bot@example.com");
    let wrong =
        form(&api, "/services/oauth2/token", &format!("grant_type=client_credentials&client_id={id}&client_secret=x"))
            .await;
    let unknown =
        form(&api, "/services/oauth2/token", "grant_type=client_credentials&client_id=3MVG9nope&client_secret=x").await;
    assert_eq!(wrong, unknown, "a wrong secret and an unknown client answer alike");
    assert_eq!(wrong.0, StatusCode::BAD_REQUEST);

    // or in HTTP Basic, as curl -u sends them
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    let (s, t) = api
        .send(
            "POST",
            "/services/oauth2/token?grant_type=client_credentials",
            None,
            &[("Authorization", &format!("Basic {basic}")), ("Content-Type", "application/x-www-form-urlencoded")],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");

    // JWT bearer, as `sf org login jwt` sends it
    let now = chrono::Utc::now().timestamp();
    let good = json!({"iss": id, "sub": "BOT@example.com", "aud": "http://swell.test:8443", "exp": now + 180});
    let jwt = |claims: &Value| {
        format!("grant_type={}&assertion={}", enc("urn:ietf:params:oauth:grant-type:jwt-bearer"), assertion(claims))
    };
    let (s, t) = form(&api, "/services/oauth2/token", &jwt(&good)).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let by_jwt = t["access_token"].as_str().unwrap().to_string();
    assert_eq!(api.call_as(&by_jwt, "GET", "/services/oauth2/userinfo", None).await.0, StatusCode::OK);
    let login_host =
        json!({"iss": id, "sub": "bot@example.com", "aud": "https://login.salesforce.com", "exp": now + 60});
    assert_eq!(form(&api, "/services/oauth2/token", &jwt(&login_host)).await.0, StatusCode::OK);
    // as the Salesforce CLI writes it: exp in milliseconds, 300 of them ahead
    let millis = json!({"iss": id, "sub": "bot@example.com", "aud": "http://swell.test:8443", "exp": now * 1000 + 300});
    assert_eq!(form(&api, "/services/oauth2/token", &jwt(&millis)).await.0, StatusCode::OK);
    // each wrong part is refused alike, and recorded with its reason
    let mut tampered = assertion(&good);
    tampered.replace_range(tampered.len() - 4.., "AAAA");
    let bad = [
        json!({"iss": id, "sub": "someone@example.com", "aud": "http://swell.test:8443", "exp": now + 180}),
        json!({"iss": id, "sub": "bot@example.com", "aud": "https://evil.example.com", "exp": now + 180}),
        json!({"iss": id, "sub": "bot@example.com", "aud": "http://swell.test:8443", "exp": now - 61}),
        json!({"iss": id, "sub": "bot@example.com", "aud": "http://swell.test:8443", "exp": now + 86_400}),
        json!({"iss": "3MVG9nope", "sub": "bot@example.com", "aud": "http://swell.test:8443", "exp": now + 60}),
        json!({"iss": id, "sub": "bot@example.com", "aud": "http://swell.test:8443"}),
    ];
    for claims in &bad {
        let (s, e) = form(&api, "/services/oauth2/token", &jwt(claims)).await;
        assert_eq!((s, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "{claims}: {e}");
    }
    let body = format!("grant_type={}&assertion={tampered}", enc("urn:ietf:params:oauth:grant-type:jwt-bearer"));
    assert_eq!(form(&api, "/services/oauth2/token", &body).await.0, StatusCode::BAD_REQUEST, "a tampered signature");
    for junk in ["", "a.b", "x.y.z", "....."] {
        let body = format!("grant_type={}&assertion={}", enc("urn:ietf:params:oauth:grant-type:jwt-bearer"), enc(junk));
        let (s, e) = form(&api, "/services/oauth2/token", &body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{junk}: {e}");
    }
    let (_, log) =
        api.call("GET", "/services/data/v62.0/swell/audit?action=sign%20in&outcome=failed&pageSize=50", None).await;
    let reasons = log.to_string();
    for says in [
        "wrong secret",
        "sub is not the client's user",
        "aud is neither",
        "expired",
        "too late",
        "signature does not verify",
    ] {
        assert!(reasons.contains(says), "the audit log says '{says}': {log}");
    }

    // a client without a certificate signs in by secret only; a bad certificate is named
    let (_, plain) = api.call("POST", &format!("{users}/{uid}/clients"), None).await;
    let plain_id = plain["id"].as_str().unwrap();
    let claims = json!({"iss": plain_id, "sub": "bot@example.com", "aud": "http://swell.test:8443", "exp": now + 60});
    assert_eq!(form(&api, "/services/oauth2/token", &jwt(&claims)).await.0, StatusCode::BAD_REQUEST);
    for (cert, says) in [
        ("hello", "not a PEM certificate"),
        ("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----", "not base64"),
    ] {
        let (s, e) = api.call("POST", &format!("{users}/{uid}/clients"), Some(json!({"certificate": cert}))).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
        let m = e[0]["message"].as_str().unwrap();
        assert!(m.starts_with("certificate:") && m.contains(says), "{m}");
    }

    // revoking the client stops it and what it signed in, at once
    let (s, _) = api.call("DELETE", &format!("/services/data/v62.0/swell/clients/{id}"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(api.call_as(&by_secret, "GET", "/services/oauth2/userinfo", None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(api.call_as(&by_jwt, "GET", "/services/oauth2/userinfo", None).await.0, StatusCode::UNAUTHORIZED);
    let body = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    assert_eq!(form(&api, "/services/oauth2/token", &body).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(form(&api, "/services/oauth2/token", &jwt(&good)).await.0, StatusCode::BAD_REQUEST);
    // only admins manage clients
    let operator = api.use_cases.create_token(&swell_app::Actor::admin(), &uid, None).await.unwrap().text;
    let (s, _) = api.call_as(&operator, "POST", &format!("{users}/{uid}/clients"), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}
