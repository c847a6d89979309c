//! Data Manager in a real Chromium: Debian's `chromium` driven through `chromedriver` (the same
//! Debian source, so their versions match) by fantoccini, against swell served on a loopback
//! port. Every page is checked for console errors (a CSP violation is one) and for requests to
//! another host; screenshots, light and dark, go to `target/tmp/ui-screenshots/`.
//!
//! Without chromedriver the test says why it skips; under CI (`CI=true`) it must run.

mod common;

use common::{Ui, failing_flow, quick_flow, slow_flow, slow_rows};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use swell_core::Role;

/// chromedriver, on a port of its own, stopped with the test.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    /// Starts chromedriver; `None` (and why) when this machine has none and CI is not set.
    fn start() -> Option<Driver> {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        let found = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists());
        let Some(path) = found else {
            assert!(!ci, "CI=true but chromedriver is missing: .ci/run installs chromium and chromium-driver");
            eprintln!("skipped: no chromedriver (apt-get install chromium chromium-driver fonts-dejavu-core)");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Driver { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while driver.raw("GET", "/status", None).is_none_or(|v| v["value"]["ready"] != true) {
            assert!(Instant::now() < deadline, "chromedriver did not get ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(driver)
    }

    /// A WebDriver command fantoccini has no method for (the browser's log, CDP).
    fn raw(&self, method: &str, path: &str, body: Option<Value>) -> Option<Value> {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
        // read the headers, then as many bytes as Content-Length says (the driver may keep the
        // connection open)
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            let n = stream.read(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            bytes.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&bytes);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                    .and_then(|v| v.parse::<usize>().ok());
                if length.is_some_and(|n| body.len() >= n) {
                    break;
                }
            }
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let (_, body) = text.split_once("\r\n\r\n")?;
        serde_json::from_str(body).ok()
    }

    async fn client(&self) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                // as root (CI) Chromium needs --no-sandbox
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         "--window-size=1366,900", "--lang=en-US"]
            }),
        );
        caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a Chromium session")
    }
}

/// The browser session and what each page is checked for.
struct Browser<'a> {
    c: Client,
    driver: &'a Driver,
    session: String,
    base: String,
    shots: std::path::PathBuf,
}

impl Browser<'_> {
    async fn goto(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
        self.clean().await;
    }

    /// No console errors (CSP violations are errors) and no request to another host.
    async fn clean(&self) {
        let log = self
            .driver
            .raw("POST", &format!("/session/{}/se/log", self.session), Some(json!({"type": "browser"})))
            .unwrap_or(Value::Null);
        let errors: Vec<&Value> = log["value"]
            .as_array()
            .map(|a| a.iter().filter(|e| e["level"] == "SEVERE" || e["level"] == "WARNING").collect())
            .unwrap_or_default();
        assert!(errors.is_empty(), "console errors: {errors:?}");
        let hosts = self
            .c
            .execute(
                "return performance.getEntriesByType('resource').map(e => new URL(e.name).host)
                   .concat([location.host]).filter((h, i, a) => h !== location.host);",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(hosts, json!([]), "requests to another host");
    }

    async fn text(&self, css: &str) -> String {
        self.c.find(Locator::Css(css)).await.unwrap_or_else(|_| panic!("{css} on the page")).text().await.unwrap()
    }

    /// Waits up to `within` for `css`'s text to contain `what`.
    async fn until(&self, css: &str, what: &str, within: Duration) -> Duration {
        let start = Instant::now();
        loop {
            if let Ok(e) = self.c.find(Locator::Css(css)).await
                && let Ok(t) = e.text().await
                && t.contains(what)
            {
                return start.elapsed();
            }
            if start.elapsed() > within {
                let page = self.c.source().await.unwrap_or_default();
                panic!("{css} did not show '{what}' within {within:?}; page: {page}");
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }

    async fn dark(&self, on: bool) {
        let value = if on { "dark" } else { "light" };
        self.driver
            .raw(
                "POST",
                &format!("/session/{}/goog/cdp/execute", self.session),
                Some(json!({"cmd": "Emulation.setEmulatedMedia",
                            "params": {"features": [{"name": "prefers-color-scheme", "value": value}]}})),
            )
            .expect("dark mode");
    }

    async fn shot(&self, name: &str) {
        for dark in [false, true] {
            self.dark(dark).await;
            let png = self.c.screenshot().await.unwrap();
            let file = self.shots.join(format!("{name}-{}.png", if dark { "dark" } else { "light" }));
            std::fs::write(&file, png).unwrap();
        }
        self.dark(false).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_manager_in_chromium() {
    let Some(driver) = Driver::start() else { return };
    let ui = Ui::new().await;
    // an editor: runs, stops, schedules and edits (an operator may not schedule or edit)
    ui.user("ops@example.com", Role::Editor).await;
    // an admin, for what only an admin sees: a connection's form
    ui.user("ada@example.com", Role::Admin).await;
    ui.object("Account", "Id,Name\n001A,Acme\n001B,Globex\n").await;
    ui.object("Sales", &slow_rows()).await;
    let quick = ui.dataflow("Accounts", quick_flow()).await;
    let broken = ui.dataflow("Broken", failing_flow()).await;
    let slow = ui.dataflow("Slow", slow_flow()).await;
    let failed = ui.start(&broken).await;
    let failed_job = ui.wait_for(&failed, |s| s == "Failure").await;
    let base = ui.serve().await;
    let c = driver.client().await;
    let session = c.session_id().await.unwrap().expect("a session id");
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let b = Browser { c, driver: &driver, session, base, shots };

    // signed out: the sign-in form, which comes back to the Monitor
    b.goto("/ui/monitor").await;
    assert!(b.c.current_url().await.unwrap().path().ends_with("/ui/login"));
    b.shot("login").await;
    b.c.find(Locator::Id("username")).await.unwrap().send_keys("ops@example.com").await.unwrap();
    b.c.find(Locator::Id("password")).await.unwrap().send_keys(common::PASSWORD).await.unwrap();
    b.c.find(Locator::Css("form.stack button[type=submit]")).await.unwrap().click().await.unwrap();
    b.until("h1", "Monitor", Duration::from_secs(5)).await;
    b.clean().await;
    assert_eq!(b.c.current_url().await.unwrap().path(), "/ui/monitor");

    // keyboard: the first Tab reaches the skip link
    b.c.find(Locator::Css("body")).await.unwrap().send_keys("\u{E004}").await.unwrap();
    let focused = b.c.execute("return document.activeElement.className", vec![]).await.unwrap();
    assert_eq!(focused, json!("skip"));

    // a job started through the API appears, and its row follows it live
    let job = ui.start(&quick).await;
    let row = format!("#job-{job}");
    b.until(&row, "Accounts", Duration::from_secs(1)).await;
    ui.wait_for(&job, |s| s == "Success").await;
    let lag = b.until(&row, "Success", Duration::from_secs(1)).await;
    eprintln!("Success shown {lag:?} after the API said it");

    // a long job: Running live, then stopped from its row (with a confirmation)
    let long = ui.start(&slow).await;
    let row = format!("#job-{long}");
    ui.wait_for(&long, |s| s == "Running").await;
    b.until(&row, "Running", Duration::from_secs(1)).await;
    b.shot("monitor").await;
    b.c.find(Locator::Css(&format!("{row} button"))).await.unwrap().click().await.unwrap();
    b.c.accept_alert().await.unwrap();
    b.until("#notice", "Stop requested for 1 job.", Duration::from_secs(5)).await;
    let stopped = ui.wait_for(&long, |s| s == "Cancelled").await;
    assert_eq!(stopped["status"], "Cancelled");
    b.until(&row, "Cancelled", Duration::from_secs(1)).await;
    b.clean().await;

    // filters live in the URL and survive a reload
    b.c.find(Locator::Css("select[name=status]")).await.unwrap().select_by_value("Failure").await.unwrap();
    b.c.find(Locator::Css("form.filters button[type=submit]")).await.unwrap().click().await.unwrap();
    b.until("h1", "Monitor", Duration::from_secs(5)).await;
    assert!(b.c.current_url().await.unwrap().query().unwrap_or_default().contains("status=Failure"));
    b.c.refresh().await.unwrap();
    b.clean().await;
    let chosen = b.c.execute("return document.querySelector('select[name=status]').value", vec![]).await.unwrap();
    assert_eq!(chosen, json!("Failure"));
    let statuses = b
        .c
        .execute("return [...document.querySelectorAll('#job-rows .status')].map(e => e.textContent.trim())", vec![])
        .await
        .unwrap();
    assert_eq!(statuses, json!(["✕ Failed"]), "only the failed job");

    // the failed job: its node and its message, as the API says it
    b.c.find(Locator::Css(&format!("#job-{failed} a"))).await.unwrap().click().await.unwrap();
    b.until("#failed-node", "Node Boom failed", Duration::from_secs(5)).await;
    b.clean().await;
    // the node's message as the API's nodes resource says it, and the job's message in full
    let (_, nodes) = ui.api("GET", &format!("/services/data/v62.0/wave/dataflowjobs/{failed}/nodes"), None).await;
    let boom = nodes["nodes"].as_array().unwrap().iter().find(|n| n["name"] == "Boom").expect("node Boom").clone();
    let node_message = boom["message"].as_str().unwrap().to_string();
    let shown = b.text("#failed-node").await;
    assert!(shown.contains(&node_message), "the node's message names what broke: {node_message} in {shown}");
    assert_eq!(b.text("#job-message").await, failed_job["message"].as_str().unwrap());
    b.shot("job-failed").await;
    b.c.execute("document.getElementById('job-graph').scrollIntoView()", vec![]).await.unwrap();
    let graph = b.c.find(Locator::Id("job-graph")).await.unwrap().screenshot().await.unwrap();
    std::fs::write(b.shots.join("job-graph-light.png"), graph).unwrap();

    // Dataflows & Recipes: the last run, the schedule in words, the next run as the API says
    // it; Run now queues a run and links it
    let schedule = json!({"frequency": "weekly", "daysOfWeek": ["monday", "friday"],
        "time": {"hour": 6, "minute": 30, "timeZone": "America/New_York"}});
    let (_, put) = ui.api("PUT", &format!("/services/data/v62.0/wave/asset/{quick}/schedule"), Some(schedule)).await;
    b.c.find(Locator::Css("nav a[href='/ui/dataflows']")).await.unwrap().click().await.unwrap();
    b.until("h1", "Dataflows & Recipes", Duration::from_secs(5)).await;
    b.clean().await;
    let row = format!("#asset-{quick}");
    let text = b.text(&row).await;
    assert!(
        text.contains("Success") && text.contains("Weekly on Monday and Friday at 06:30 (America/New_York)"),
        "{text}"
    );
    let next =
        b.c.execute(
            &format!("return document.querySelector('{row} td:nth-child(5) time').getAttribute('datetime')"),
            vec![],
        )
        .await
        .unwrap();
    let api_next = chrono::DateTime::parse_from_rfc3339(put["nextScheduledDate"].as_str().unwrap()).unwrap();
    assert_eq!(next, json!(api_next.with_timezone(&chrono::Utc).format("%Y-%m-%dT%H:%M:%SZ").to_string()));
    b.c.find(Locator::Css(&format!("{row} button"))).await.unwrap().click().await.unwrap();
    b.until("#notice", "Accounts is queued", Duration::from_secs(5)).await;
    b.clean().await;
    b.shot("dataflows").await;
    let href = b.c.find(Locator::Css("#notice a")).await.unwrap().attr("href").await.unwrap().unwrap();
    let run = href.trim_start_matches("/ui/jobs/").to_string();
    ui.wait_for(&run, |s| s == "Success").await;

    // its own page: the schedule dialog shows each frequency's own fields; saving says the
    // schedule in words with the API's next run
    b.c.find(Locator::Css(&format!("{row} td a"))).await.unwrap().click().await.unwrap();
    b.until("h1", "Accounts", Duration::from_secs(5)).await;
    b.clean().await;
    b.c.find(Locator::Css("details.dialog summary")).await.unwrap().click().await.unwrap();
    let shown = |b: &Browser<'_>| {
        let c = b.c.clone();
        async move {
            c.execute(
                "return [...document.querySelectorAll('.schedule-form fieldset')]
                   .filter(f => getComputedStyle(f).display !== 'none').map(f => f.className)",
                vec![],
            )
            .await
            .unwrap()
        }
    };
    assert_eq!(shown(&b).await, json!(["for-timed", "for-days"]), "weekly: a time and days");
    b.c.find(Locator::Id("frequency")).await.unwrap().select_by_value("monthlyrelative").await.unwrap();
    assert_eq!(shown(&b).await, json!(["for-timed", "for-relative"]));
    b.c.find(Locator::Css("select[name=weekInMonth]")).await.unwrap().select_by_value("last").await.unwrap();
    b.c.find(Locator::Css("select[name=dayInWeek]")).await.unwrap().select_by_value("friday").await.unwrap();
    b.shot("schedule-dialog").await;
    b.c.find(Locator::Css(".schedule-form button[type=submit]")).await.unwrap().click().await.unwrap();
    b.until(
        "#notice",
        "Schedule saved: Monthly on the last Friday at 06:30 (America/New_York)",
        Duration::from_secs(5),
    )
    .await;
    b.clean().await;
    let (_, api) = ui.api("GET", &format!("/services/data/v62.0/wave/asset/{quick}/schedule"), None).await;
    let api_next = chrono::DateTime::parse_from_rfc3339(api["nextScheduledDate"].as_str().unwrap()).unwrap();
    let next =
        b.c.execute("return document.querySelector('#schedule-words time').getAttribute('datetime')", vec![]).await;
    assert_eq!(next.unwrap(), json!(api_next.with_timezone(&chrono::Utc).format("%Y-%m-%dT%H:%M:%SZ").to_string()));
    // a broken definition: Validate names the node and the field, the text stays as typed
    b.c.execute(
        "const a = document.getElementById('definition-text');
         a.value = a.value.replace('\"source\": \"Extract\"', '\"source\": \"Nowhere\"');",
        vec![],
    )
    .await
    .unwrap();
    b.c.find(Locator::Css("button[value=validate]")).await.unwrap().click().await.unwrap();
    b.until("#definition-problems", "Nowhere", Duration::from_secs(5)).await;
    let kept = b.c.execute("return document.getElementById('definition-text').value", vec![]).await.unwrap();
    assert!(kept.as_str().unwrap().contains("\"Nowhere\""), "what was typed is kept");
    b.shot("dataflow").await;

    // Save a change, then Revert to the version before it: the API's definition is back
    b.c.execute(
        "const a = document.getElementById('definition-text');
         a.value = a.value.replace('\"source\": \"Nowhere\"', '\"source\": \"Extract\"')
                          .replace('\"name\": \"Accounts\"', '\"name\": \"Accounts B\"');",
        vec![],
    )
    .await
    .unwrap();
    b.c.find(Locator::Css("button[value=save]")).await.unwrap().click().await.unwrap();
    b.until("#notice", "Saved as a new version", Duration::from_secs(5)).await;
    b.clean().await;
    let register = |d: &Value| d["definition"]["Register"]["parameters"]["name"].clone();
    let (_, d) = ui.api("GET", &format!("/services/data/v62.0/wave/dataflows/{quick}"), None).await;
    assert_eq!(register(&d), json!("Accounts B"));
    b.c.find(Locator::Css("#history form button")).await.unwrap().click().await.unwrap();
    b.until("#notice", "Reverted", Duration::from_secs(5)).await;
    b.clean().await;
    let (_, d) = ui.api("GET", &format!("/services/data/v62.0/wave/dataflows/{quick}"), None).await;
    assert_eq!(register(&d), json!("Accounts"), "the version before is current again");

    // Connections: the list, a connection's page, an object's mode changed in place, Run now
    let folder = tempfile::tempdir_in(std::env::temp_dir()).unwrap();
    std::fs::write(
        folder.path().join("Account.csv"),
        "Id,Name,LastModifiedDate\n001A,Acme,2024-01-01T00:00:00.000Z\n001B,Globex,2024-01-02T00:00:00.000Z\n",
    )
    .unwrap();
    let (s, conn) = ui
        .api(
            "POST",
            "/services/data/v62.0/wave/dataConnectors",
            Some(json!({"name": "Org_Files", "label": "Org files", "connectorType": "SfdcLocal",
                "connectionProperties": [{"name": "FolderPath", "value": folder.path().display().to_string()},
                                         {"name": "accessToken", "value": "not-shown"}]})),
        )
        .await;
    assert!(s.is_success(), "{conn}");
    let (s, o) = ui
        .api(
            "POST",
            "/services/data/v62.0/wave/replicatedDatasets",
            Some(json!({"connectorId": conn["id"], "sourceObjectName": "Account", "advancedProperties": [
                {"name": "primaryKey", "value": "Id"}, {"name": "watermarkField", "value": "LastModifiedDate"}]})),
        )
        .await;
    assert!(s.is_success(), "{o}");
    b.goto("/ui/connections").await;
    b.until("h1", "Connections", Duration::from_secs(5)).await;
    b.shot("connections").await;
    b.c.find(Locator::LinkText("Org files")).await.unwrap().click().await.unwrap();
    b.until("h1", "Org files", Duration::from_secs(5)).await;
    b.clean().await;
    assert!(!b.c.source().await.unwrap().contains("not-shown"), "secrets are never shown");
    b.c.find(Locator::Css("#objects select[name=mode]")).await.unwrap().select_by_value("Incremental").await.unwrap();
    b.c.find(Locator::Css("#objects form.inline button")).await.unwrap().click().await.unwrap();
    b.until("#notice", "Account now syncs in Incremental mode", Duration::from_secs(5)).await;
    b.clean().await;
    let (_, o) = ui
        .api("GET", &format!("/services/data/v62.0/wave/replicatedDatasets/{}", o["id"].as_str().unwrap()), None)
        .await;
    assert_eq!(o["connectionMode"], "incremental");
    b.c.find(Locator::Css(".actions button")).await.unwrap().click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let sync = loop {
        let url = b.c.current_url().await.unwrap();
        if let Some(job) = url.path().strip_prefix("/ui/jobs/") {
            break job.to_string();
        }
        assert!(Instant::now() < deadline, "Run now went to the sync's page, not {url}");
        tokio::time::sleep(Duration::from_millis(40)).await;
    };
    ui.wait_for(&sync, |s| s == "Success").await;
    b.until("main", "Success", Duration::from_secs(5)).await;
    b.clean().await;
    b.c.find(Locator::Id("asset")).await.unwrap().click().await.unwrap();
    b.until("#objects", "Success", Duration::from_secs(5)).await;
    b.clean().await;
    b.shot("connection").await;
    // its schedule: the same dialog, time-based only; the next sync is the API's
    b.c.find(Locator::Css("#schedule details.dialog summary")).await.unwrap().click().await.unwrap();
    let offered = b.c.execute("return [...document.querySelectorAll('#frequency option')].map(o => o.value)", vec![]);
    assert!(!offered.await.unwrap().to_string().contains("eventdriven"), "a sync is never event-driven");
    b.c.find(Locator::Id("frequency")).await.unwrap().select_by_value("daily").await.unwrap();
    b.c.find(Locator::Css("select[name=hour]")).await.unwrap().select_by_value("5").await.unwrap();
    b.c.find(Locator::Css(".schedule-form button[type=submit]")).await.unwrap().click().await.unwrap();
    b.until("#notice", "Schedule saved: Daily at 05:00", Duration::from_secs(5)).await;
    b.clean().await;
    let (_, api) = ui
        .api("GET", &format!("/services/data/v62.0/wave/asset/{}/schedule", conn["id"].as_str().unwrap()), None)
        .await;
    let api_next = chrono::DateTime::parse_from_rfc3339(api["nextScheduledDate"].as_str().unwrap()).unwrap();
    let next =
        b.c.execute("return document.querySelector('#schedule-words time').getAttribute('datetime')", vec![]).await;
    assert_eq!(next.unwrap(), json!(api_next.with_timezone(&chrono::Utc).format("%Y-%m-%dT%H:%M:%SZ").to_string()));
    b.c.find(Locator::Css("#objects td a")).await.unwrap().click().await.unwrap();
    b.until("#rows", "Globex", Duration::from_secs(5)).await;
    b.clean().await;
    b.shot("object").await;

    // Data: the datasets, a dataset's fields, rows and versions; Restore makes a new current
    // version, as the API says
    b.goto("/ui/data").await;
    b.shot("data").await;
    b.c.find(Locator::Css("table.datasets td a")).await.unwrap().click().await.unwrap();
    b.until("#fields", "Name", Duration::from_secs(5)).await;
    b.clean().await;
    b.c.find(Locator::Css("#versions form button")).await.unwrap().click().await.unwrap();
    b.until("#notice", "Restored: version", Duration::from_secs(5)).await;
    b.clean().await;
    let notice = b.text("#notice").await;
    let (_, ds) = ui.api("GET", "/services/data/v62.0/wave/datasets/Accounts", None).await;
    assert!(notice.contains(ds["currentVersionId"].as_str().unwrap()), "{notice} / {ds}");
    b.shot("dataset").await;

    // times: UTC by default, the viewer's zone on a switch that is remembered
    let zone = b.c.find(Locator::Id("zone-switch")).await.unwrap();
    assert_eq!(zone.attr("aria-pressed").await.unwrap().as_deref(), Some("false"));
    zone.click().await.unwrap();
    b.c.refresh().await.unwrap();
    let pressed = b.c.find(Locator::Id("zone-switch")).await.unwrap().attr("aria-pressed").await.unwrap();
    assert_eq!(pressed.as_deref(), Some("true"));
    b.clean().await;

    // an admin edits a connection: its type's own fields, the secret masked
    b.c.find(Locator::Css("form[action$='/logout'] button")).await.unwrap().click().await.unwrap();
    b.until("h1", "Sign in", Duration::from_secs(5)).await;
    b.c.find(Locator::Id("username")).await.unwrap().send_keys("ada@example.com").await.unwrap();
    b.c.find(Locator::Id("password")).await.unwrap().send_keys(common::PASSWORD).await.unwrap();
    b.c.find(Locator::Css("form.stack button[type=submit]")).await.unwrap().click().await.unwrap();
    b.until("h1", "Monitor", Duration::from_secs(5)).await;
    b.goto(&format!("/ui/connections/{}/edit", conn["id"].as_str().unwrap())).await;
    b.until("h1", "Org files", Duration::from_secs(5)).await;
    b.clean().await;
    let source = b.c.source().await.unwrap();
    assert!(source.contains("******") && !source.contains("not-shown"), "the secret is masked");
    b.shot("connection-form").await;

    b.c.close().await.unwrap();
}
