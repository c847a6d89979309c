//! The Salesforce connector against a small local HTTP server that answers like the REST API
//! (Salesforce itself cannot be reached from here): describe, SOQL with paging through
//! `nextRecordsUrl`, `queryAll` with deleted rows, 401 and the OAuth refresh.

mod common;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::{rows, sync};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use swell_connect::salesforce::SalesforceSource;
use swell_connect::sync::{IS_DELETED, Mode};
use swell_connect::{ConnectError, Properties, Source};
use swell_engine::DataDir;

/// What the fake org holds.
#[derive(Default)]
struct Org {
    opportunities: Vec<Value>,
    /// Open query cursors: the rest of a result.
    cursors: HashMap<String, Vec<Value>>,
    queries: Vec<String>,
    refreshes: usize,
}

type Shared = Arc<Mutex<Org>>;

const PAGE: usize = 2;
const TOKEN: &str = "00Dxx0000001gPL!good";

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!([{"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}])),
    )
        .into_response()
}

fn authorized(h: &HeaderMap) -> bool {
    h.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {TOKEN}"))
}

async fn sobjects(h: HeaderMap) -> Response {
    if !authorized(&h) {
        return unauthorized();
    }
    Json(json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": [
        {"name": "Opportunity", "label": "Opportunity", "queryable": true, "replicateable": true},
        {"name": "OpportunityHistory", "label": "Opportunity History", "queryable": true, "replicateable": false},
        {"name": "Account", "label": "Account", "queryable": true, "replicateable": true},
    ]}))
    .into_response()
}

async fn describe(h: HeaderMap, Path(name): Path<String>) -> Response {
    if !authorized(&h) {
        return unauthorized();
    }
    if name != "Opportunity" {
        return (
            StatusCode::NOT_FOUND,
            Json(json!([{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}])),
        )
            .into_response();
    }
    Json(json!({"name": "Opportunity", "fields": [
        {"name": "Id", "label": "Opportunity ID", "type": "id", "length": 18},
        {"name": "IsDeleted", "label": "Deleted", "type": "boolean"},
        {"name": "Name", "label": "Name", "type": "string", "length": 120},
        {"name": "Amount", "label": "Amount", "type": "currency", "precision": 16, "scale": 2},
        {"name": "CloseDate", "label": "Close Date", "type": "date"},
        {"name": "IsWon", "label": "Won", "type": "boolean"},
        {"name": "StageName", "label": "Stage", "type": "picklist"},
        {"name": "BillingAddress", "label": "Address", "type": "address"},
        {"name": "SystemModstamp", "label": "System Modstamp", "type": "datetime"},
    ]}))
    .into_response()
}

/// A little SOQL: `SELECT f, ... FROM Opportunity [WHERE SystemModstamp >= ts [AND ...]]`.
fn run_soql(org: &Org, q: &str, all: bool) -> Vec<Value> {
    let after_select = &q["SELECT ".len()..];
    let (fields, rest) = after_select.split_once(" FROM ").unwrap();
    let fields: Vec<&str> = fields.split(", ").collect();
    let since = rest.split_once("SystemModstamp >= ").map(|(_, t)| t.split_whitespace().next().unwrap().to_string());
    org.opportunities
        .iter()
        .filter(|r| all || r["IsDeleted"] != json!(true))
        .filter(|r| {
            since.as_ref().is_none_or(|s| {
                // "2026-01-02T09:00:00.000+0000" vs "2026-01-02T09:00:00.000Z": compare the first 23 chars
                r["SystemModstamp"].as_str().unwrap()[..23] >= s[..23]
            })
        })
        .map(|r| {
            let mut out = serde_json::Map::new();
            out.insert(
                "attributes".into(),
                json!({"type": "Opportunity", "url": "/services/data/v62.0/sobjects/Opportunity/x"}),
            );
            for f in &fields {
                out.insert(f.to_string(), r.get(*f).cloned().unwrap_or(Value::Null));
            }
            Value::Object(out)
        })
        .collect()
}

fn page(org: &mut Org, mut records: Vec<Value>) -> Value {
    let total = records.len();
    let rest = if records.len() > PAGE { records.split_off(PAGE) } else { Vec::new() };
    let mut out = json!({"totalSize": total, "done": rest.is_empty(), "records": records});
    if !rest.is_empty() {
        let id = format!("01gxx{}-{}", org.cursors.len(), PAGE);
        org.cursors.insert(id.clone(), rest);
        out["nextRecordsUrl"] = json!(format!("/services/data/v62.0/query/{id}"));
    }
    out
}

async fn query(State(org): State<Shared>, h: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    if !authorized(&h) {
        return unauthorized();
    }
    let mut org = org.lock().unwrap();
    let soql = q["q"].clone();
    org.queries.push(soql.clone());
    let records = run_soql(&org, &soql, false);
    Json(page(&mut org, records)).into_response()
}

async fn query_all(State(org): State<Shared>, h: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    if !authorized(&h) {
        return unauthorized();
    }
    let mut org = org.lock().unwrap();
    let soql = q["q"].clone();
    org.queries.push(format!("ALL {soql}"));
    let records = run_soql(&org, &soql, true);
    Json(page(&mut org, records)).into_response()
}

async fn more(State(org): State<Shared>, h: HeaderMap, Path(cursor): Path<String>) -> Response {
    if !authorized(&h) {
        return unauthorized();
    }
    let mut org = org.lock().unwrap();
    let Some(rest) = org.cursors.remove(&cursor) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!([{"errorCode": "INVALID_QUERY_LOCATOR", "message": "invalid query locator"}])),
        )
            .into_response();
    };
    let body = page(&mut org, rest);
    Json(body).into_response()
}

async fn token(State(org): State<Shared>, body: String) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    if form.get("grant_type").map(String::as_str) == Some("refresh_token")
        && form.get("refresh_token").map(String::as_str) == Some("5Aep-refresh")
        && form.get("client_id").map(String::as_str) == Some("3MVG-client")
    {
        org.lock().unwrap().refreshes += 1;
        return Json(json!({"access_token": TOKEN, "instance_url": "ignored", "token_type": "Bearer"})).into_response();
    }
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": "invalid_grant", "error_description": "expired access/refresh token"})),
    )
        .into_response()
}

fn opp(id: &str, name: &str, amount: Value, close: &str, won: bool, stamp: &str) -> Value {
    json!({"Id": id, "IsDeleted": false, "Name": name, "Amount": amount, "CloseDate": close, "IsWon": won,
           "StageName": if won { "Closed Won" } else { "Prospecting" }, "SystemModstamp": stamp})
}

async fn fake_org() -> (String, Shared) {
    let org: Shared = Arc::new(Mutex::new(Org {
        opportunities: vec![
            opp("006000000000001AAA", "Big deal", json!(125000.5), "2026-03-31", true, "2026-01-01T10:00:00.000+0000"),
            opp("006000000000002AAA", "Small deal", json!(99.99), "2026-04-15", false, "2026-01-01T11:00:00.000+0000"),
            opp("006000000000003AAA", "No amount", Value::Null, "2026-05-01", false, "2026-01-01T12:00:00.000+0000"),
        ],
        ..Org::default()
    }));
    let app = Router::new()
        .route("/services/data/v62.0/sobjects", get(sobjects))
        .route("/services/data/v62.0/sobjects/{name}/describe", get(describe))
        .route("/services/data/v62.0/query", get(query))
        .route("/services/data/v62.0/queryAll", get(query_all))
        .route("/services/data/v62.0/query/{cursor}", get(more))
        .route("/services/oauth2/token", post(token))
        .with_state(org.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, org)
}

fn props(url: &str, token: &str) -> Properties {
    Properties::new([
        ("instanceUrl".to_string(), url.to_string()),
        ("accessToken".to_string(), token.to_string()),
        ("refreshToken".to_string(), "5Aep-refresh".to_string()),
        ("clientId".to_string(), "3MVG-client".to_string()),
        ("loginUrl".to_string(), url.to_string()),
    ])
}

#[tokio::test]
async fn lists_and_describes_replicable_objects() {
    let (url, _) = fake_org().await;
    let source = SalesforceSource::from_properties(&props(&url, TOKEN)).unwrap();
    assert_eq!(source.test().await.unwrap(), "Connection Successful");
    let names: Vec<String> = source.objects().await.unwrap().into_iter().map(|o| o.name).collect();
    assert_eq!(names, ["Account", "Opportunity"]);
    let fields = source.fields("Opportunity").await.unwrap();
    let shown: Vec<String> = fields.iter().map(|f| format!("{}:{}", f.name, f.wire_type())).collect();
    assert_eq!(
        shown,
        [
            "Id:text",
            "IsDeleted:text",
            "Name:text",
            "Amount:numeric",
            "CloseDate:date",
            "IsWon:text",
            "StageName:text",
            "SystemModstamp:date"
        ]
    );
    assert_eq!(fields[2].label, "Name");
    assert_eq!(fields[1].label, "Deleted");
    let e = source.fields("Opportunty").await.unwrap_err();
    assert!(matches!(e, ConnectError::NotFound(ref m) if m == "Salesforce: no object 'Opportunty' in the org"), "{e}");
}

#[tokio::test]
async fn syncs_pages_then_upserts_changes_and_removes_deleted_records() {
    let (url, org) = fake_org().await;
    // a stale token: the first request is refused, the refresh token gets a new one
    let source = SalesforceSource::from_properties(&props(&url, "expired")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let table = DataDir::new(dir.path()).connected_object("SFDC_LOCAL", "Opportunity").unwrap();
    let fields = source.fields("Opportunity").await.unwrap();
    assert_eq!(org.lock().unwrap().refreshes, 1);
    let mode = |since| Mode::Incremental { key: "Id".into(), watermark: "SystemModstamp".into(), since };
    let first = sync(&source, &table, "Opportunity", fields.clone(), mode(None), None).await.unwrap();
    assert_eq!((first.rows, first.full), (3, true));
    let expected_first = "\
+--------------------+-----------+------------+-----------+----------------------+-------+-------------+----------------------+
| Id                 | IsDeleted | Name       | Amount    | CloseDate            | IsWon | StageName   | SystemModstamp       |
+--------------------+-----------+------------+-----------+----------------------+-------+-------------+----------------------+
| 006000000000001AAA | false     | Big deal   | 125000.50 | 2026-03-31T00:00:00Z | true  | Closed Won  | 2026-01-01T10:00:00Z |
| 006000000000002AAA | false     | Small deal | 99.99     | 2026-04-15T00:00:00Z | false | Prospecting | 2026-01-01T11:00:00Z |
| 006000000000003AAA | false     | No amount  |           | 2026-05-01T00:00:00Z | false | Prospecting | 2026-01-01T12:00:00Z |
+--------------------+-----------+------------+-----------+----------------------+-------+-------------+----------------------+";
    assert_eq!(rows(&table).await, expected_first);
    {
        let mut o = org.lock().unwrap();
        o.opportunities[1]["Name"] = json!("Small deal, bigger");
        o.opportunities[1]["SystemModstamp"] = json!("2026-01-02T09:00:00.000+0000");
        o.opportunities[0]["IsDeleted"] = json!(true);
        o.opportunities[0]["SystemModstamp"] = json!("2026-01-02T09:30:00.000+0000");
        o.opportunities.push(opp(
            "006000000000004AAA",
            "New deal",
            json!(10),
            "2026-06-30",
            false,
            "2026-01-02T10:00:00.000+0000",
        ));
    }
    let second = sync(&source, &table, "Opportunity", fields, mode(first.watermark), None).await.unwrap();
    assert!(!second.full);
    assert_eq!((second.read_rows, second.rows), (4, 3));
    let text = rows(&table).await;
    assert!(!text.contains("Big deal"), "{text}");
    assert!(text.contains("| 006000000000002AAA | false     | Small deal, bigger |"), "{text}");
    assert!(text.contains("| 006000000000004AAA | false     | New deal           | 10.00  "), "{text}");
    let queries = org.lock().unwrap().queries.clone();
    assert_eq!(
        queries,
        [
            "SELECT Id, IsDeleted, Name, Amount, CloseDate, IsWon, StageName, SystemModstamp FROM Opportunity",
            "ALL SELECT Id, IsDeleted, Name, Amount, CloseDate, IsWon, StageName, SystemModstamp FROM Opportunity \
             WHERE SystemModstamp >= 2026-01-01T12:00:00.000Z",
        ]
    );
    assert_eq!(IS_DELETED, "IsDeleted");
}

#[tokio::test]
async fn refused_tokens_and_missing_settings_are_clear() {
    let (url, _) = fake_org().await;
    let no_refresh =
        Properties::new([("instanceUrl".to_string(), url.clone()), ("accessToken".to_string(), "nope".to_string())]);
    let e = SalesforceSource::from_properties(&no_refresh).unwrap().test().await.unwrap_err();
    assert_eq!(e.to_string(), "Salesforce: INVALID_SESSION_ID: Session expired or invalid");
    let mut bad_refresh = props(&url, "nope");
    bad_refresh = Properties::new(
        ["instanceUrl", "accessToken", "clientId", "loginUrl"]
            .iter()
            .map(|k| (k.to_string(), bad_refresh.get(k).unwrap().to_string()))
            .chain([("refreshToken".to_string(), "revoked".to_string())]),
    );
    let e = SalesforceSource::from_properties(&bad_refresh).unwrap().test().await.unwrap_err();
    assert_eq!(e.to_string(), "Salesforce: the refresh token was refused: expired access/refresh token");
    let e = SalesforceSource::from_properties(&Properties::new([("accessToken".to_string(), "x".to_string())]))
        .err()
        .unwrap();
    assert!(e.to_string().starts_with("the Salesforce connection needs 'instanceUrl'"), "{e}");
}
