//! The harness: the API and the UI in one service over a real store, runner and engine,
//! served on a loopback port (for the browser) and callable in process.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use swell_app::{App, NewUser};
use swell_core::Role;
use swell_engine::DataDir;
use swell_scheduler::{CatchUp, Runner, RunnerSettings, Scheduler, SystemClock};
use swell_server::{AppState, Service, app_with};
use swell_store::Store;
use swell_web::{Settings, Web};
use tower::ServiceExt;

pub const TOKEN: &str = "00DSw0000000001!ui-test-server-token";
pub const PASSWORD: &str = "correct horse battery";

pub struct Ui {
    pub service: Service,
    pub app: App,
    pub web: Web,
    pub store: Store,
    pub data: DataDir,
    pub _dir: tempfile::TempDir,
}

impl Ui {
    pub async fn new() -> Ui {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.path().join("swell.db").display())).await.unwrap();
        let data = DataDir::new(dir.path());
        let mut settings = RunnerSettings::new("ui-test");
        settings.folders = swell_scheduler::FolderPolicy::roots([std::env::temp_dir()]).unwrap();
        let runner = Runner::new(store.clone(), data.clone(), settings);
        tokio::spawn(runner.clone().run());
        let scheduler = Scheduler::new(store.clone(), runner.clone(), Arc::new(SystemClock), CatchUp::Latest);
        tokio::spawn(scheduler.clone().run());
        let app = App::new(store.clone(), runner, scheduler, data.clone());
        let token = Arc::new(TOKEN.to_string());
        let web = Web::new(
            app.clone(),
            token.clone(),
            Settings { live_recheck: Duration::from_secs(1), ..Settings::default() },
        );
        let state = AppState { app: app.clone(), token, https: false };
        let service = app_with(state, swell_web::router(web.clone()));
        Ui { service, app, web, store, data, _dir: dir }
    }

    /// Serves on a free loopback port; the base URL (`http://127.0.0.1:PORT`).
    pub async fn serve(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let service = self.service.clone();
        let make = tower::service_fn(move |_: axum::serve::IncomingStream<'_, tokio::net::TcpListener>| {
            let s = service.clone();
            async move { Ok::<_, std::convert::Infallible>(s) }
        });
        tokio::spawn(async move { axum::serve(listener, make).await.unwrap() });
        format!("http://{addr}")
    }

    /// A user with a password and a role.
    pub async fn user(&self, username: &str, role: Role) {
        let new = NewUser {
            username: username.to_string(),
            name: Some(username.split('@').next().unwrap().to_string()),
            email: None,
            role,
        };
        let admin = swell_app::Actor::admin();
        self.app.create_user(&admin, new).await.unwrap();
        self.app.set_password(&admin, username, PASSWORD).await.unwrap();
    }

    /// An in-process request; the answer's status, headers and body text.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let mut req = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = self.service.clone().oneshot(req.body(Body::from(body.to_string())).unwrap()).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, headers, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// [`Ui::request`] as if from `address` (an IP), as the server sees a peer.
    pub async fn request_from(
        &self,
        address: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let mut req = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let peer: std::net::SocketAddr = format!("{address}:40000").parse().unwrap();
        let req = req.extension(axum::extract::ConnectInfo(peer)).body(Body::from(body.to_string())).unwrap();
        let res = self.service.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, headers, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Signs in through the form; the session cookie (`swell_session=...`).
    pub async fn sign_in(&self, username: &str) -> String {
        let body = format!("username={}&password={}", enc(username), enc(PASSWORD));
        let (status, headers, text) =
            self.request("POST", "/ui/login", &[("content-type", "application/x-www-form-urlencoded")], &body).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{text}");
        let cookie = headers.get("set-cookie").unwrap().to_str().unwrap();
        cookie.split(';').next().unwrap().to_string()
    }

    /// A Wave API call with the server's token.
    /// Signs in with the server token (an admin); the session cookie.
    pub async fn sign_in_admin(&self) -> String {
        let (s, h, _) = self.request("POST", "/ui/login", &[FORM], &format!("token={}", enc(TOKEN))).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        h["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string()
    }

    pub async fn api(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let auth = format!("Bearer {TOKEN}");
        let (status, _, text) = self
            .request(
                method,
                path,
                &[
                    ("authorization", &auth),
                    ("X-Chatter-Entity-Encoding", "false"),
                    ("content-type", "application/json"),
                ],
                &body.map(|b| b.to_string()).unwrap_or_default(),
            )
            .await;
        (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
    }

    /// Loads a CSV as the connected object `object` of SFDC_LOCAL.
    pub async fn object(&self, object: &str, csv: &str) {
        let file = self.data.root().join(format!("{object}.csv"));
        std::fs::write(&file, csv).unwrap();
        swell_engine::run::import_file(
            &self.data.connected_object("SFDC_LOCAL", object).unwrap(),
            &file,
            object,
            object,
        )
        .await
        .unwrap();
    }

    /// Makes a dataflow; its id.
    pub async fn dataflow(&self, name: &str, definition: Value) -> String {
        let (s, df) = self
            .api("POST", "/services/data/v62.0/wave/dataflows", Some(json!({"name": name, "definition": definition})))
            .await;
        assert!(s.is_success(), "{df}");
        df["id"].as_str().unwrap().to_string()
    }

    /// Starts a dataflow through the API; the job's id.
    pub async fn start(&self, dataflow: &str) -> String {
        let (s, job) = self
            .api(
                "POST",
                "/services/data/v62.0/wave/dataflowjobs",
                Some(json!({"dataflowJob": {"dataflowId": dataflow, "command": "Start"}})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{job}");
        job["id"].as_str().unwrap().to_string()
    }

    /// The job as the API shows it.
    pub async fn job(&self, id: &str) -> Value {
        self.api("GET", &format!("/services/data/v62.0/wave/dataflowjobs/{id}"), None).await.1
    }

    pub async fn wait_for(&self, job: &str, done: impl Fn(&str) -> bool) -> Value {
        for _ in 0..1200 {
            let j = self.job(job).await;
            if done(j["status"].as_str().unwrap_or_default()) {
                return j;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("job {job} never reached the expected status");
    }
}

pub fn enc(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// A dataflow that succeeds at once.
pub fn quick_flow() -> Value {
    json!({
        "Extract": {"action": "sfdcDigest", "parameters": {"object": "Account", "fields": [{"name": "Id"}, {"name": "Name"}]}},
        "Register": {"action": "sfdcRegister", "parameters": {"alias": "Accounts", "name": "Accounts", "source": "Extract"}}
    })
}

/// A dataflow that fails at run time in its `Boom` node (a field the object lacks).
pub fn failing_flow() -> Value {
    json!({
        "Extract": {"action": "sfdcDigest", "parameters": {"object": "Account", "fields": [{"name": "Id"}, {"name": "Name"}]}},
        "Boom": {"action": "sfdcDigest", "parameters": {"object": "Missing", "fields": [{"name": "Id"}]}},
        "Register": {"action": "sfdcRegister", "parameters": {"alias": "Broken", "name": "Broken", "source": "Boom"}}
    })
}

/// A dataflow that runs for seconds (a running total over 2 million rows), after
/// [`Ui::object`] loaded `Sales` with [`slow_rows`].
pub fn slow_flow() -> Value {
    json!({
        "d": {"action": "sfdcDigest", "parameters": {"object": "Sales", "fields": [{"name": "Region"}, {"name": "Seq"}, {"name": "Amount"}]}},
        "cr": {"action": "computeRelative", "parameters": {"source": "d", "partitionBy": ["Region"], "orderBy": [{"name": "Seq", "direction": "asc"}],
            "computedFields": [{"name": "Running", "type": "Numeric", "saqlExpression": "coalesce(previous(Running), 0) + Amount"}]}},
        "r": {"action": "sfdcRegister", "parameters": {"alias": "Running", "name": "Running", "source": "cr"}}
    })
}

pub fn slow_rows() -> String {
    let mut csv = String::from("Region,Seq,Amount\n");
    for i in 0..2_000_000 {
        csv.push_str(&format!("R{},{},{}\n", i % 5, i, i % 1000));
    }
    csv
}

/// The content type of a form post.
pub const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

/// The CSRF token of the first form in a page.
pub fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
    page[at..].split('"').next().unwrap().to_string()
}

/// Follows a change's redirect as a browser does: the page it names, with the one-time
/// notice cookie the answer set.
pub async fn follow(ui: &Ui, session: &str, headers: &axum::http::HeaderMap) -> String {
    let to = headers["location"].to_str().unwrap();
    let notice = headers["set-cookie"].to_str().unwrap().split(';').next().unwrap();
    let (s, _, page) = ui.request("GET", to, &[("cookie", &format!("{session}; {notice}"))], "").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    page
}

/// A page's text between `start` and `end` (after the first `start`).
pub fn between<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let from = page.find(start).unwrap_or_else(|| panic!("{start} in the page")) + start.len();
    let rest = &page[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// Text as askama writes it in a page.
pub fn askama_escape(text: &str) -> String {
    text.replace('&', "&#38;").replace('"', "&#34;").replace('<', "&#60;").replace('>', "&#62;").replace('\'', "&#39;")
}
