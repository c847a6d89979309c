//! Who did it (issue 15): records name the user who made and changed them, a job the person
//! who started it, and the audit log keeps every change, every refused one and every failed
//! sign-in, for admins to read.

use crate::common::Api;
use crate::oauth::form;
use axum::http::StatusCode;
use serde_json::{Value, json};
use swell_app::{Actor, NewUser};
use swell_core::Role;

const BASE: &str = "/services/data/v62.0/wave";
const AUDIT: &str = "/services/data/v62.0/swell/audit";

async fn person(api: &Api, username: &str, name: &str, role: Role) -> (String, String) {
    let admin = Actor::admin();
    let new = NewUser { username: username.into(), name: Some(name.into()), email: None, role };
    let u = api.use_cases.create_user(&admin, new).await.unwrap();
    (u.id.to_string(), api.use_cases.create_token(&admin, u.id.as_str(), None).await.unwrap().text)
}

fn events(page: &Value) -> Vec<(String, String, String)> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
            (s("username"), s("action"), s("outcome"))
        })
        .collect()
}

#[tokio::test]
async fn records_and_the_audit_log_name_who_did_it() {
    let api = Api::new().await;
    let (ana_id, ana) = person(&api, "ana@example.com", "Ana Lima", Role::Editor).await;
    let (_, vic) = person(&api, "vic@example.com", "Vic", Role::Viewer).await;

    // Ana makes a dataflow; the admin changes it
    let (s, d) = api.call_as(&ana, "POST", &format!("{BASE}/dataflows"), Some(json!({"name": "Sales"}))).await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    assert_eq!(
        (d["createdBy"]["id"].as_str(), d["createdBy"]["name"].as_str()),
        (Some(ana_id.as_str()), Some("Ana Lima"))
    );
    assert_eq!(d["lastModifiedBy"], d["createdBy"]);
    let df = d["id"].as_str().unwrap().to_string();
    let (s, d) = api.call("PATCH", &format!("{BASE}/dataflows/{df}"), Some(json!({"label": "Sales (EMEA)"}))).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["createdBy"]["name"], "Ana Lima");
    assert_eq!(d["lastModifiedBy"]["id"], swell_store::admin_id().to_string());

    // Ana starts it: the job is hers; Vic may not, and that is recorded too
    let (s, j) = api
        .call_as(&ana, "POST", &format!("{BASE}/dataflowjobs"), Some(json!({"dataflowId": df, "command": "start"})))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{j}");
    assert_eq!(j["createdBy"]["name"], "Ana Lima", "{j}");
    let job = j["id"].as_str().unwrap().to_string();
    let (_, got) = api.call_as(&vic, "GET", &format!("{BASE}/dataflowjobs/{job}"), None).await;
    assert_eq!(got["createdBy"]["id"], ana_id.as_str());
    let (s, _) = api
        .call_as(&vic, "POST", &format!("{BASE}/dataflowjobs"), Some(json!({"dataflowId": df, "command": "start"})))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // a failed sign-in: recorded, without the password
    api.use_cases.set_password(&Actor::admin(), "ana@example.com", "correct horse").await.unwrap();
    let wrong = "grant_type=password&client_id=c&client_secret=s&username=ana%40example.com&password=not+hers+at+all";
    let (s, _) = form(&api, "/services/oauth2/token", wrong).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // the admin reads it all, newest first
    let (s, page) = api.call("GET", AUDIT, None).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let all = events(&page);
    let has = |who: &str, action: &str, outcome: &str| {
        all.iter().position(|(u, a, o)| u == who && a == action && o == outcome)
    };
    let created = has("ana@example.com", "create dataflow", "success").expect("the create");
    let changed = has("admin@swell.local", "update dataflow", "success").expect("the change");
    let started = has("ana@example.com", "start job", "success").expect("the start");
    let refused = has("vic@example.com", "start job", "refused").expect("the refusal");
    let failed = has("ana@example.com", "sign in", "failed").expect("the failed sign-in");
    assert!(failed < refused && refused < started && started < changed && changed < created, "{all:?}");
    let e = &page["events"][failed];
    assert_eq!(e["detail"], "wrong password");
    assert!(!page.to_string().contains("not hers"), "no password in the log");
    let e = &page["events"][started];
    assert_eq!((e["assetId"].as_str(), e["assetName"].as_str()), (Some(df.as_str()), Some("Sales")));
    assert_eq!(e["detail"], format!("job {job}"), "the job is the detail of its start");
    let e = &page["events"][refused];
    assert!(e["detail"].as_str().unwrap().contains("needs the operator role"), "{e}");

    // filters, and pages by event number
    let (_, vics) = api.call("GET", &format!("{AUDIT}?user=vic%40example.com"), None).await;
    assert_eq!(events(&vics), vec![("vic@example.com".into(), "start job".into(), "refused".into())]);
    let (_, about) = api.call("GET", &format!("{AUDIT}?asset={df}"), None).await;
    assert_eq!(events(&about).len(), 3, "create, change and start: {about}");
    let (_, first) = api.call("GET", &format!("{AUDIT}?pageSize=2&outcome=success"), None).await;
    assert_eq!(events(&first).len(), 2);
    let next = first["nextPageUrl"].as_str().unwrap().to_string();
    assert!(next.contains("before="), "{next}");
    let (_, second) = api.call("GET", &next, None).await;
    assert!(second["events"][0]["id"].as_i64() < first["events"][1]["id"].as_i64(), "{first} {second}");
    let (_, only) = api.call("GET", &format!("{AUDIT}?action=sign%20in"), None).await;
    assert!(events(&only).iter().all(|(_, a, _)| a == "sign in"));

    // bad filters are named
    for (query, says) in
        [("outcome=maybe", "outcome:"), ("action=fly", "action:"), ("since=soon", "since:"), ("who=me", "who:")]
    {
        let (s, e) = api.call("GET", &format!("{AUDIT}?{query}"), None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{query}: {e}");
        assert!(e[0]["message"].as_str().unwrap().starts_with(says), "{query}: {e}");
    }
    // a name no user has: the sign-ins tried under it
    let (_, nobody) = api.call("GET", &format!("{AUDIT}?user=nobody%40example.com"), None).await;
    assert!(events(&nobody).is_empty(), "{nobody}");
    let ghost = "grant_type=password&client_id=c&client_secret=s&username=Ghost%40example.com&password=whatever-1";
    form(&api, "/services/oauth2/token", ghost).await;
    let (_, tried) = api.call("GET", &format!("{AUDIT}?user=ghost%40example.com"), None).await;
    assert_eq!(events(&tried), vec![("Ghost@example.com".into(), "sign in".into(), "failed".into())], "{tried}");

    // only admins read it; trying is recorded
    let (s, e) = api.call_as(&ana, "GET", AUDIT, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    let (_, page) = api.call("GET", &format!("{AUDIT}?pageSize=1"), None).await;
    assert_eq!(events(&page), vec![("ana@example.com".into(), "read audit log".into(), "refused".into())]);
}
