//! Users and roles (issue 15): every route that changes something, tried by every role. A
//! role that may not gets 403 `INSUFFICIENT_ACCESS` and changes nothing; a role that may gets
//! the route's own answer. Reads are open to every role. Tokens of a deactivated user or a
//! revoked token stop working at once.

use crate::common::{Api, object_folder};
use axum::http::StatusCode;
use serde_json::{Value, json};
use swell_app::{Actor, NewUser};
use swell_core::Role;

const BASE: &str = "/services/data/v62.0/wave";

/// A user of `role` and a token of theirs.
async fn user(api: &Api, role: Role) -> String {
    let admin = Actor::admin();
    let u = api
        .use_cases
        .create_user(&admin, NewUser { username: format!("{role}@example.com"), name: None, email: None, role })
        .await
        .unwrap();
    api.use_cases.create_token(&admin, u.id.as_str(), None).await.unwrap().text
}

/// What a change needs, as docs/roles.md lists it.
struct Route {
    method: &'static str,
    /// `{conn}`, `{df}`, `{recipe}`, `{object}`, `{job}` are replaced by fresh assets.
    path: &'static str,
    body: Option<Value>,
    needs: Role,
}

fn routes() -> Vec<Route> {
    let r = |method, path, body: Option<Value>, needs| Route { method, path, body, needs };
    let recipe = json!({"version": "62.0", "nodes": {
        "LOAD": {"action": "load", "sources": [], "parameters": {"dataset": {"type": "analyticsDataset", "name": "In"}, "fields": ["Id"]}},
        "SAVE": {"action": "save", "sources": ["LOAD"], "parameters": {"dataset": {"type": "analyticsDataset", "label": "Out", "name": "Out"}, "fields": []}}},
        "ui": {}});
    vec![
        r("POST", "/dataflows", Some(json!({"name": "New_Flow"})), Role::Editor),
        r("PATCH", "/dataflows/{df}", Some(json!({"label": "Changed"})), Role::Editor),
        r("PUT", "/dataflows/{df}", Some(json!({"historyId": "0Fh000000000001AAA"})), Role::Editor),
        r("DELETE", "/dataflows/{df}", None, Role::Editor),
        r("POST", "/recipes", Some(json!({"name": "New_Recipe", "recipeDefinition": recipe})), Role::Editor),
        r("PATCH", "/recipes/{recipe}", Some(json!({"label": "Changed"})), Role::Editor),
        r("PUT", "/recipes/{recipe}", Some(json!({"historyId": "0Fh000000000001AAA"})), Role::Editor),
        r("DELETE", "/recipes/{recipe}", None, Role::Editor),
        r("PUT", "/recipes/{recipe}/notification", Some(json!({"notificationLevel": "always"})), Role::Editor),
        r(
            "PUT",
            "/asset/{df}/schedule",
            Some(json!({"frequency": "daily", "time": {"hour": 3, "minute": 0, "timeZone": "UTC"}})),
            Role::Editor,
        ),
        r("DELETE", "/asset/{df}/schedule", None, Role::Editor),
        r("POST", "/dataflowjobs", Some(json!({"dataflowId": "{df}", "command": "start"})), Role::Operator),
        r("PATCH", "/dataflowjobs/{job}", Some(json!({"command": "stop"})), Role::Operator),
        r("POST", "/dataConnectors/{conn}/ingest", None, Role::Operator),
        r(
            "POST",
            "/datasets/Nope/versions",
            Some(json!({"sourceVersion": {"id": "0Fc000000000001AAA"}})),
            Role::Editor,
        ),
        r(
            "POST",
            "/replicatedDatasets",
            Some(json!({"connectorId": "{conn}", "sourceObjectName": "Contact"})),
            Role::Editor,
        ),
        r("PATCH", "/replicatedDatasets/{object}", Some(json!({"connectionMode": "Full"})), Role::Editor),
        r("DELETE", "/replicatedDatasets/{object}", None, Role::Editor),
        r(
            "PATCH",
            "/replicatedDatasets/{object}/fields",
            Some(json!({"fields": [{"name": "Name", "label": "N"}]})),
            Role::Editor,
        ),
        r(
            "POST",
            "/replicatedDatasets/{object}/fields",
            Some(json!({"fields": [{"name": "Name", "label": "N"}]})),
            Role::Editor,
        ),
        r(
            "POST",
            "/dataConnectors",
            Some(json!({"name": "New_Conn", "connectorType": "SfdcLocal",
            "connectionProperties": [{"name": "FolderPath", "value": "{folder}"}]})),
            Role::Admin,
        ),
        r("PATCH", "/dataConnectors/{conn}", Some(json!({"label": "Changed"})), Role::Admin),
        r("DELETE", "/dataConnectors/{conn}", None, Role::Admin),
    ]
}

/// Fresh assets for one try, made by the admin: a connection with a connected object, a
/// dataflow, a recipe and a job.
async fn fixtures(api: &Api, n: usize, folder: &str) -> Vec<(&'static str, String)> {
    let body = json!({"name": format!("Conn{n}"), "connectorType": "SfdcLocal",
                      "connectionProperties": [{"name": "FolderPath", "value": folder}]});
    let (s, c) = api.call("POST", &format!("{BASE}/dataConnectors"), Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let conn = c["id"].as_str().unwrap().to_string();
    let (s, o) = api
        .call(
            "POST",
            &format!("{BASE}/replicatedDatasets"),
            Some(json!({"connectorId": conn, "sourceObjectName": "Account"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let (s, d) = api.call("POST", &format!("{BASE}/dataflows"), Some(json!({"name": format!("Flow{n}")}))).await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    let df = d["id"].as_str().unwrap().to_string();
    let recipe = json!({"version": "62.0", "nodes": {
        "LOAD": {"action": "load", "sources": [], "parameters": {"dataset": {"type": "analyticsDataset", "name": "In"}, "fields": ["Id"]}},
        "SAVE": {"action": "save", "sources": ["LOAD"], "parameters": {"dataset": {"type": "analyticsDataset", "label": "Out", "name": format!("Out{n}")}, "fields": []}}},
        "ui": {}});
    let (s, r) = api
        .call(
            "POST",
            &format!("{BASE}/recipes"),
            Some(json!({"name": format!("Recipe{n}"), "recipeDefinition": recipe})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let (s, j) =
        api.call("POST", &format!("{BASE}/dataflowjobs"), Some(json!({"dataflowId": df, "command": "start"}))).await;
    assert!(s.is_success(), "{j}");
    vec![
        ("{conn}", conn),
        ("{object}", o["id"].as_str().unwrap().to_string()),
        ("{df}", df),
        ("{recipe}", r["id"].as_str().unwrap().to_string()),
        ("{job}", j["id"].as_str().unwrap().to_string()),
        ("{folder}", folder.to_string()),
    ]
}

fn fill(text: &str, with: &[(&str, String)], n: usize) -> String {
    let mut out = text.to_string();
    for (k, v) in with {
        out = out.replace(k, v);
    }
    // names made by allowed roles differ between tries
    out.replace("New_Flow", &format!("New_Flow{n}"))
        .replace("New_Recipe", &format!("New_Recipe{n}"))
        .replace("New_Conn", &format!("New_Conn{n}"))
}

#[tokio::test]
async fn every_change_is_refused_to_roles_below_the_one_it_needs() {
    let api = Api::new().await;
    let folder = object_folder(api.data.root());
    let mut tokens = Vec::new();
    for role in Role::ALL {
        tokens.push((role, user(&api, role).await));
    }
    let mut n = 0;
    for route in routes() {
        for (role, token) in &tokens {
            n += 1;
            let with = fixtures(&api, n, &folder).await;
            let path = format!("{BASE}{}", fill(route.path, &with, n));
            let body = route.body.as_ref().map(|b| serde_json::from_str(&fill(&b.to_string(), &with, n)).unwrap());
            let (s, answer) = api.call_as(token, route.method, &path, body).await;
            let what = format!("{} {} as {role}", route.method, route.path);
            if role.allows(route.needs) {
                // the route's own answer (a conflict with the fixture's running job counts:
                // the use case was reached and allowed it)
                assert!(
                    s != StatusCode::FORBIDDEN && s != StatusCode::UNAUTHORIZED && !s.is_server_error(),
                    "{what}: {s} {answer}"
                );
            } else {
                assert_eq!(s, StatusCode::FORBIDDEN, "{what}: {answer}");
                assert_eq!(answer[0]["errorCode"], "INSUFFICIENT_ACCESS", "{what}: {answer}");
                let message = answer[0]["message"].as_str().unwrap();
                assert!(message.contains(&format!("needs the {} role", route.needs)), "{what}: {message}");
            }
        }
    }
    // every role reads
    for (role, token) in &tokens {
        for path in ["/dataflows", "/recipes", "/dataflowjobs", "/datasets", "/dataConnectors", "/replicatedDatasets"] {
            let (s, answer) = api.call_as(token, "GET", &format!("{BASE}{path}"), None).await;
            assert_eq!(s, StatusCode::OK, "GET {path} as {role}: {answer}");
        }
    }
}

#[tokio::test]
async fn deactivated_users_and_revoked_tokens_stop_at_once() {
    let api = Api::new().await;
    let admin = Actor::admin();
    let token = user(&api, Role::Operator).await;
    let list = format!("{BASE}/dataflows");
    assert_eq!(api.call_as(&token, "GET", &list, None).await.0, StatusCode::OK);
    api.use_cases.update_user(&admin, "operator@example.com", None, Some(false)).await.unwrap();
    let (s, e) = api.call_as(&token, "GET", &list, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{e}");
    assert_eq!(e[0]["errorCode"], "INVALID_SESSION_ID");
    api.use_cases.update_user(&admin, "OPERATOR@example.com", None, Some(true)).await.unwrap();
    assert_eq!(api.call_as(&token, "GET", &list, None).await.0, StatusCode::OK);

    let second = api.use_cases.create_token(&admin, "operator@example.com", None).await.unwrap();
    assert_eq!(api.call_as(&second.text, "GET", &list, None).await.0, StatusCode::OK);
    api.use_cases.revoke_token(&admin, &second.record.id).await.unwrap();
    assert_eq!(api.call_as(&second.text, "GET", &list, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(api.call_as(&token, "GET", &list, None).await.0, StatusCode::OK, "the other token still works");
    // a token that only looks like one, and the token's hash itself, are no one
    let (s, _) = api.call_as(&format!("{token}x"), "GET", &list, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let listed = api.use_cases.tokens(&admin, "operator@example.com").await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|t| t.created_date <= chrono::Utc::now()));

    // the server's administrator stays an active admin; only an admin manages users
    let e = api.use_cases.update_user(&admin, "ADMIN@swell.local", Some(Role::Viewer), None).await.unwrap_err();
    assert!(e.message.contains("stays an active admin"), "{}", e.message);
    let operator = Actor::of(&api.store.find_user("operator@example.com").await.unwrap().unwrap());
    let e = api.use_cases.create_token(&operator, "operator@example.com", None).await.unwrap_err();
    assert_eq!(e.code, swell_app::ErrorCode::InsufficientAccess);
    // usernames are unique regardless of case
    let again = NewUser { username: "Operator@Example.com".into(), name: None, email: None, role: Role::Viewer };
    assert!(api.use_cases.create_user(&admin, again).await.is_err());
    // an expired token does not sign in
    // (the store's own test checks expiry at exact instants; here, time passes for real)
    let soon = chrono::Utc::now() + chrono::Duration::seconds(2);
    let short = api.use_cases.create_token(&admin, "operator@example.com", Some(soon)).await.unwrap();
    assert_eq!(api.call_as(&short.text, "GET", &list, None).await.0, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    assert_eq!(api.call_as(&short.text, "GET", &list, None).await.0, StatusCode::UNAUTHORIZED);
}

/// The admin REST resource of users and tokens does what `swell user` does; only admins
/// reach it, and a token's text is shown only in the answer that made it.
#[tokio::test]
async fn admins_manage_users_and_tokens_over_rest() {
    let api = Api::new().await;
    let users = "/services/data/v62.0/swell/users";
    let body = json!({"username": "ana@example.com", "name": "Ana", "role": "viewer"});
    let (s, u) = api.call("POST", users, Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{u}");
    assert_eq!((u["role"].as_str(), u["active"].as_bool()), (Some("viewer"), Some(true)), "{u}");
    let id = u["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("005"), "{id}");
    let (s, t) = api.call("POST", &format!("{users}/{id}/tokens"), None).await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let text = t["token"].as_str().unwrap().to_string();
    let (s, me) = api.call_as(&text, "GET", "/services/oauth2/userinfo", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (me["user_id"].as_str(), me["preferred_username"].as_str()),
        (Some(id.as_str()), Some("ana@example.com"))
    );
    // a viewer may not manage users, nor read them
    for (method, path) in [("GET", users.to_string()), ("POST", users.to_string()), ("GET", format!("{users}/{id}"))] {
        let body = (method == "POST").then(|| json!({"username": "x", "role": "admin"}));
        let (s, e) = api.call_as(&text, method, &path, body).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{method} {path}: {e}");
    }
    let (_, list) = api.call("GET", &format!("{users}/{id}/tokens"), None).await;
    assert_eq!(list["tokens"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(&text[16..]), "lists never hold a token's text");
    // bad input is named: spaces, control and non-ASCII characters (whose case SQLite cannot
    // compare), long names shown cut
    for (name, says) in [("bo b", "' '"), ("a\u{0}b", "'\\0'"), ("ü@x.com", "'ü'")] {
        let (s, e) = api.call("POST", users, Some(json!({"username": name, "role": "viewer"}))).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{name}: {e}");
        let m = e[0]["message"].as_str().unwrap();
        assert!(m.starts_with("username:") && m.contains(says), "{name}: {m}");
    }
    let (_, e) = api.call("POST", users, Some(json!({"username": "x".repeat(10_000), "role": "viewer"}))).await;
    assert!(e[0]["message"].as_str().unwrap().len() < 200, "{e}");
    // a new password is answered with the user as changed
    let (_, before) = api.call("GET", &format!("{users}/{id}"), None).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (_, after) = api.call("PATCH", &format!("{users}/{id}"), Some(json!({"password": "a new one"}))).await;
    assert!(after["lastModifiedDate"].as_str() > before["lastModifiedDate"].as_str(), "{before} {after}");
    let (s, e) = api.call("PATCH", &format!("{users}/{id}"), Some(json!({"role": "root"}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(e[0]["message"].as_str().unwrap().contains("'root' is not a role"), "{e}");
    let (s, e) = api
        .call("POST", &format!("{users}/{id}/tokens"), Some(json!({"expirationDate": "2001-01-01T00:00:00Z"})))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    // the role changes at once; a revoked token stops at once
    let (s, u) = api.call("PATCH", &format!("{users}/{id}"), Some(json!({"role": "operator"}))).await;
    assert_eq!((s, u["role"].as_str()), (StatusCode::OK, Some("operator")));
    let (s, _) =
        api.call("DELETE", &format!("/services/data/v62.0/swell/tokens/{}", t["id"].as_str().unwrap()), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(api.call_as(&text, "GET", "/services/oauth2/userinfo", None).await.0, StatusCode::UNAUTHORIZED);
    let (s, _) = api.call("DELETE", "/services/data/v62.0/swell/tokens/tok_nope", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// `permissions` on representations tell each user what their role allows with the asset.
#[tokio::test]
async fn permissions_follow_the_role() {
    let api = Api::new().await;
    let folder = object_folder(api.data.root());
    let with = fixtures(&api, 1, &folder).await;
    let get = |k: &str| with.iter().find(|(n, _)| *n == k).unwrap().1.clone();
    let (df, conn, object, recipe) = (get("{df}"), get("{conn}"), get("{object}"), get("{recipe}"));
    let paths = [
        ("dataflow", format!("{BASE}/dataflows/{df}"), Role::Editor),
        ("recipe", format!("{BASE}/recipes/{recipe}"), Role::Editor),
        ("connection", format!("{BASE}/dataConnectors/{conn}"), Role::Admin),
        ("object", format!("{BASE}/replicatedDatasets/{object}"), Role::Editor),
    ];
    for role in Role::ALL {
        let token = user(&api, role).await;
        for (what, path, changes) in &paths {
            let (s, got) = api.call_as(&token, "GET", path, None).await;
            assert_eq!(s, StatusCode::OK, "{what} as {role}: {got}");
            let may = role.allows(*changes);
            let p = &got["permissions"];
            assert_eq!(
                (p["view"].as_bool(), p["modify"].as_bool(), p["manage"].as_bool(), p["create"].as_bool()),
                (Some(true), Some(may), Some(may), Some(may)),
                "{what} as {role}: {p}"
            );
        }
        // lists say the same
        let (_, list) = api.call_as(&token, "GET", &format!("{BASE}/dataflows"), None).await;
        assert_eq!(list["dataflows"][0]["permissions"]["modify"].as_bool(), Some(role.allows(Role::Editor)));
    }
}

/// (probe, session 12) A change is all or nothing: a refused or wrong part changes nothing,
/// and a deactivated user's token revoked meanwhile stays revoked when they come back.
#[tokio::test]
async fn a_refused_change_changes_nothing() {
    let api = Api::new().await;
    let users = "/services/data/v62.0/swell/users";
    let (_, v) = api
        .call(
            "POST",
            users,
            Some(json!({"username": "vee@example.com", "role": "viewer", "password": "first-password"})),
        )
        .await;
    let id = v["id"].as_str().unwrap().to_string();
    let viewer = api.use_cases.create_token(&Actor::admin(), &id, None).await.unwrap().text;
    // a viewer raising their own role with a new password: 403, and the password stays
    let body = json!({"role": "admin", "password": "second-password"});
    let (s, _) = api.call_as(&viewer, "PATCH", &format!("{users}/{id}"), Some(body)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let login = |p: &'static str| api.use_cases.login("vee@example.com", p, None);
    assert!(login("second-password").await.unwrap().is_err(), "the refused change set no password");
    assert!(login("first-password").await.unwrap().is_ok());
    // the server's admin cannot be demoted; the password given with it is not set either
    let admin = swell_store::admin_id();
    let body = json!({"role": "viewer", "password": "admins-new-password"});
    let (s, _) = api.call("PATCH", &format!("{users}/{admin}"), Some(body)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(api.use_cases.login("admin@swell.local", "admins-new-password", None).await.unwrap().is_err());
    // a user is not made when their password is refused
    let (s, e) = api
        .call("POST", users, Some(json!({"username": "short@example.com", "role": "viewer", "password": "short"})))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert!(api.store.find_user("short@example.com").await.unwrap().is_none());
    // a token revoked while its user is deactivated stays revoked
    let session = login("first-password").await.unwrap().unwrap().token.text;
    api.use_cases.update_user(&Actor::admin(), &id, None, Some(false)).await.unwrap();
    api.use_cases.revoke_presented(&session).await.unwrap();
    api.use_cases.update_user(&Actor::admin(), &id, None, Some(true)).await.unwrap();
    assert_eq!(api.call_as(&session, "GET", "/services/oauth2/userinfo", None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(api.call_as(&viewer, "GET", "/services/oauth2/userinfo", None).await.0, StatusCode::OK);
}
