//! Real clients against the real binary, unchanged: jsforce, the Salesforce CLI,
//! simple-salesforce (tests/clients; .ci/run installs them), a strict-model client
//! (pydantic), and schemathesis against the OpenAPI document.

use super::{get, start, text};
use std::path::{Path, PathBuf};
use std::process::Command;

/// tests/clients, where `npm ci` and the venv install the clients (.ci/run does both).
fn clients() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/clients")
}

/// Whether `path` (under tests/clients) is installed: CI must have it; elsewhere the test is
/// skipped, saying so.
fn installed(path: &str, what: &str) -> bool {
    let clients = clients();
    if clients.join(path).exists() {
        return true;
    }
    assert!(std::env::var("CI").is_err(), "CI must install the client tests: {what} in {}", clients.display());
    eprintln!("skipping: {path} is not installed ({what} in {})", clients.display());
    false
}

/// Runs a node script of tests/clients and checks that it passed every step (`done`).
fn node(script: &str, args: &[&str], done: &str) {
    let out = Command::new("node").arg(clients().join(script)).args(args).output().expect("node runs");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(done), "{}", text(&out));
}

/// jsforce, unchanged (tests/clients/jsforce.mjs): start, poll, nodes, stop of a finished job,
/// a 404, dataset versions. `npm ci` in tests/clients installs it (.ci/run does).
#[test]
fn jsforce_works_unchanged() {
    if !installed("node_modules/jsforce", "npm ci") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let demo = start(&["demo", "--listen", "127.0.0.1:0", "--data-dir", "data"], tmp.path(), Some("jsforce-token"));
    node("jsforce.mjs", &[&demo.base, "jsforce-token"], "jsforce: all steps passed");
}

/// jsforce signs in as a person does (tests/clients/jsforce_login.mjs): the OAuth2 password
/// flow and the SOAP login, as an operator made with `swell user add` whose password an admin
/// set over REST; starts a job, is refused a dataflow (403), logs out.
#[test]
fn jsforce_logs_in_with_a_password() {
    if !installed("node_modules/jsforce", "npm ci") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let demo = start(&["demo", "--listen", "127.0.0.1:0", "--data-dir", "data"], tmp.path(), Some("admin-token"));
    let out = Command::new(env!("CARGO_BIN_EXE_swell"))
        .args(["user", "add", "ops@example.com", "--role", "operator", "--data-dir", "data"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let (status, users) = get(&demo.base, "/services/data/v62.0/swell/users", "admin-token");
    assert_eq!(status, 200, "{users}");
    let users: serde_json::Value = serde_json::from_str(&users).unwrap();
    let id = users["users"].as_array().unwrap().iter().find(|u| u["username"] == "ops@example.com").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = super::request(
        &demo.base,
        "PATCH",
        &format!("/services/data/v62.0/swell/users/{id}"),
        "admin-token",
        r#"{"password": "s3cret pass"}"#,
    );
    assert_eq!(status, 200, "{body}");
    node("jsforce_login.mjs", &[&demo.base, "ops@example.com", "s3cret pass"], "jsforce login: all steps passed");
}

/// Runs the Salesforce CLI (tests/clients) in `dir`, its `~/.sf` files in a home there, with
/// `token` (if any) as the access token `org login access-token` reads: its exit code and
/// stdout.
fn run_sf(dir: &Path, token: Option<&str>, args: &[&str]) -> (i32, String) {
    let home = dir.join("home");
    let mut sf = Command::new(clients().join("node_modules/.bin/sf"));
    if let Some(token) = token {
        sf.env("SF_ACCESS_TOKEN", token);
    }
    let out = sf
        .args(args)
        .current_dir(dir)
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .envs([
            ("SF_DISABLE_TELEMETRY", "true"),
            ("SF_DISABLE_AUTOUPDATE", "true"),
            ("SF_AUTOUPDATE_DISABLE", "true"),
            ("SF_SKIP_NEW_VERSION_CHECK", "true"),
            ("SF_HIDE_RELEASE_NOTES", "true"),
            ("SF_USE_GENERIC_UNIX_KEYCHAIN", "true"),
            ("SF_DISABLE_DNS_CHECK", "true"),
            ("NODE_NO_WARNINGS", "1"),
            ("NO_PROXY", "127.0.0.1,localhost"),
        ])
        .output()
        .expect("sf runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let code = out.status.code().unwrap_or(-1);
    // a failure's reason is on stderr when stdout is empty
    (code, if code != 0 && stdout.trim().is_empty() { stderr.to_string() } else { stdout.to_string() })
}

/// `swell user add` in `dir`'s data dir: the user's first token.
fn add_user(dir: &Path, username: &str, role: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_swell"))
        .args(["user", "add", username, "--role", role, "--data-dir", "data"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    printed.lines().find_map(|l| l.split_once("(shown once): ")).map(|(_, t)| t.trim().to_string()).expect("a token")
}

/// The Salesforce CLI signs in with a viewer's token (`sf org login access-token`), as a
/// person given read-only access would: it lists dataflows and jobs, and a start is refused
/// (403 `INSUFFICIENT_ACCESS`, exit code 1) and lands in the audit log.
#[test]
fn the_salesforce_cli_signs_in_as_a_viewer() {
    if !installed("node_modules/.bin/sf", "npm ci") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let demo = start(&["demo", "--listen", "127.0.0.1:0", "--data-dir", "data"], tmp.path(), Some("admin-token"));
    let viewer = add_user(tmp.path(), "vic@example.com", "viewer");
    let sf = |args: &[&str]| run_sf(tmp.path(), Some(&viewer), args);
    let json = |s: &str| -> serde_json::Value { serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}")) };
    let (code, out) =
        sf(&["org", "login", "access-token", "--instance-url", &demo.base, "--no-prompt", "--alias", "vic"]);
    assert_eq!(code, 0, "login: {out}");
    assert!(out.contains("Successfully authorized vic@example.com with org ID 00DSw0000000001"), "{out}");
    let wave = "/services/data/v62.0/wave";
    let (code, out) = sf(&["api", "request", "rest", &format!("{wave}/dataflows"), "-o", "vic"]);
    assert_eq!(code, 0, "{out}");
    let df = json(&out)["dataflows"][0]["id"].as_str().unwrap().to_string();
    let (code, out) = sf(&["api", "request", "rest", &format!("{wave}/dataflowjobs"), "-o", "vic"]);
    assert_eq!(code, 0, "{out}");
    let body = format!(r#"{{"dataflowId":"{df}","command":"start"}}"#);
    let (code, out) =
        sf(&["api", "request", "rest", &format!("{wave}/dataflowjobs"), "-X", "POST", "-b", &body, "-o", "vic"]);
    assert_eq!((code, json(&out)[0]["errorCode"].as_str()), (1, Some("INSUFFICIENT_ACCESS")), "{out}");
    let (status, log) = get(&demo.base, "/services/data/v62.0/swell/audit?user=vic%40example.com", "admin-token");
    assert_eq!(status, 200, "{log}");
    let log = json(&log);
    assert_eq!(
        (log["events"][0]["action"].as_str(), log["events"][0]["outcome"].as_str()),
        (Some("start job"), Some("refused")),
        "{log}"
    );
}

/// The Salesforce CLI signs in with the JWT bearer flow (`sf org login jwt`), as CI jobs sign
/// in to orgs: a connected app registered with `swell user client create --certificate`, the
/// key of tests/jwt signing the assertion. It then works as that user (an operator: starts a
/// job), and revoking the client logs it out.
#[test]
fn the_salesforce_cli_signs_in_with_a_jwt() {
    if !installed("node_modules/.bin/sf", "npm ci") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let demo = start(&["demo", "--listen", "127.0.0.1:0", "--data-dir", "data"], tmp.path(), Some("admin-token"));
    add_user(tmp.path(), "ci-bot@example.com", "operator");
    let jwt = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/jwt");
    let swell = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_swell")).args(args).current_dir(tmp.path()).output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let made = swell(&[
        "user",
        "client",
        "create",
        "ci-bot@example.com",
        "--certificate",
        jwt.join("test-only.crt").to_str().unwrap(),
        "--data-dir",
        "data",
    ]);
    let client = made.lines().find_map(|l| l.strip_prefix("client id: ")).expect("a client id").trim().to_string();
    let sf = |args: &[&str]| run_sf(tmp.path(), None, args);
    let json = |s: &str| -> serde_json::Value { serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}")) };
    let key = jwt.join("test-only.key");
    let (code, out) = sf(&[
        "org",
        "login",
        "jwt",
        "--client-id",
        &client,
        "--jwt-key-file",
        key.to_str().unwrap(),
        "--username",
        "ci-bot@example.com",
        "--instance-url",
        &demo.base,
        "--alias",
        "bot",
    ]);
    assert_eq!(code, 0, "login: {out}");
    assert!(out.contains("Successfully authorized ci-bot@example.com with org ID 00DSw0000000001"), "{out}");
    let wave = "/services/data/v62.0/wave";
    let (code, out) = sf(&["api", "request", "rest", &format!("{wave}/dataflows"), "-o", "bot"]);
    assert_eq!(code, 0, "{out}");
    let df = json(&out)["dataflows"][0]["id"].as_str().unwrap().to_string();
    // an operator: starts (or finds the demo's own run still going)
    let body = format!(r#"{{"dataflowId":"{df}","command":"start"}}"#);
    let (_, out) =
        sf(&["api", "request", "rest", &format!("{wave}/dataflowjobs"), "-X", "POST", "-b", &body, "-o", "bot"]);
    let answer = json(&out);
    assert!(
        answer["createdBy"]["name"] == "ci-bot@example.com" || answer[0]["errorCode"] == "JOB_ALREADY_QUEUED",
        "{out}"
    );
    swell(&["user", "client", "revoke", &client, "--data-dir", "data"]);
    let (code, out) = sf(&["api", "request", "rest", &format!("{wave}/dataflows"), "-o", "bot"]);
    assert_ne!(code, 0, "a revoked client's session stops: {out}");
}

/// The Salesforce CLI (`sf`, tests/clients), unchanged: `org login access-token`, the
/// analytics plugin's `dataflow list` and `dataflow history list/revert`, then
/// `api request rest` for the seed's calls (start, poll, nodes, stop, schedule PUT/GET/DELETE)
/// and a 404, as a user scripts it. Every `~/.sf` file stays in a temporary home.
#[test]
fn the_salesforce_cli_works_unchanged() {
    if !installed("node_modules/.bin/sf", "npm ci") {
        return;
    }
    let clients = clients();
    let tmp = tempfile::tempdir().unwrap();
    let token = "00DSW0000000001!cli.test";
    let demo = start(&["demo", "--listen", "127.0.0.1:0", "--data-dir", "data"], tmp.path(), Some(token));
    let sf = |args: &[&str]| run_sf(tmp.path(), Some(token), args);
    let json = |s: &str| -> serde_json::Value { serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}")) };

    let (code, out) =
        sf(&["org", "login", "access-token", "--instance-url", &demo.base, "--no-prompt", "--alias", "local"]);
    assert_eq!(code, 0, "login: {out}");
    assert!(out.contains("Successfully authorized admin@swell.local with org ID 00DSw0000000001"), "{out}");
    let (code, out) = sf(&["org", "display", "-o", "local"]);
    assert!(code == 0 && out.contains("Connected"), "{out}");

    // the analytics plugin (linked offline, as clients.md 2.2 describes), in an sfdx project
    let plugin = clients.join("node_modules/@salesforce/analytics");
    let (code, out) = sf(&["plugins", "link", "--no-install", plugin.to_str().unwrap()]);
    assert_eq!(code, 0, "plugins link: {out}");
    std::fs::create_dir_all(tmp.path().join("force-app")).unwrap();
    std::fs::write(
        tmp.path().join("sfdx-project.json"),
        r#"{"packageDirectories":[{"path":"force-app","default":true}],"sourceApiVersion":"62.0"}"#,
    )
    .unwrap();
    let (code, out) = sf(&["analytics", "dataflow", "list", "-u", "local", "--json"]);
    assert_eq!(code, 0, "{out}");
    let listed = json(&out)["result"][0].clone();
    assert_eq!(listed["name"], "Demo_Opportunities", "{out}");
    let df_id = listed["dataflowid"].as_str().unwrap().to_string();
    let (_, out) = sf(&["analytics", "dataflow", "history", "list", "-i", &df_id, "-u", "local", "--json"]);
    let first = json(&out)["result"][0]["historyid"].as_str().unwrap().to_string();
    let (code, out) = sf(&[
        "analytics",
        "dataflow",
        "history",
        "revert",
        "-i",
        &df_id,
        "--historyid",
        &first,
        "-l",
        "Back again",
        "-u",
        "local",
        "--json",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(json(&out)["result"].as_str().unwrap().starts_with("Successfully reverted"), "{out}");
    let (_, out) = sf(&["analytics", "dataflow", "history", "list", "-i", &df_id, "-u", "local", "--json"]);
    assert_eq!(json(&out)["result"][0]["name"], "Back again", "{out}");

    let wave = "/services/data/v62.0/wave";
    let rest = |args: &[&str]| -> (i32, String) {
        let mut all = vec!["api", "request", "rest"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-o", "local"]);
        sf(&all)
    };
    let (_, out) = rest(&[&format!("{wave}/dataflows")]);
    let df = json(&out)["dataflows"][0]["id"].as_str().unwrap().to_string();
    // the demo's own first run must be over before a start queues a fresh job
    for _ in 0..100 {
        let (_, q) = rest(&[&format!("{wave}/dataflowjobs?dataflowId={df}&status=Queued")]);
        let (_, r) = rest(&[&format!("{wave}/dataflowjobs?dataflowId={df}&status=Running")]);
        if json(&q)["totalSize"] == 0 && json(&r)["totalSize"] == 0 {
            break;
        }
    }
    let body = format!(r#"{{"dataflowId":"{df}","command":"start"}}"#);
    let (code, out) = rest(&[&format!("{wave}/dataflowjobs"), "-X", "POST", "-b", &body]);
    assert_eq!(code, 0, "{out}");
    let job = json(&out)["id"].as_str().unwrap().to_string();
    let mut status = String::new();
    for _ in 0..60 {
        let (_, out) = rest(&[&format!("{wave}/dataflowjobs/{job}")]);
        status = json(&out)["status"].as_str().unwrap().to_string();
        if status != "Queued" && status != "Running" {
            break;
        }
    }
    assert_eq!(status, "Success");
    let (_, out) = rest(&[&format!("{wave}/dataflowjobs/{job}/nodes")]);
    assert!(json(&out)["nodes"].as_array().unwrap().iter().all(|n| n["status"] == "success"), "{out}");
    let (code, out) = rest(&[&format!("{wave}/dataflowjobs/{job}"), "-X", "PATCH", "-b", r#"{"command":"stop"}"#]);
    assert_eq!((code, json(&out)[0]["errorCode"].as_str()), (1, Some("INVALID_STATE")), "{out}");

    let schedule = format!("{wave}/asset/{df}/schedule");
    let weekly =
        r#"{"frequency":"weekly","daysOfWeek":["Monday"],"time":{"hour":5,"minute":0,"timeZone":"Europe/London"}}"#;
    let (code, out) = rest(&[&schedule, "-X", "PUT", "-b", weekly]);
    assert_eq!((code, &json(&out)["frequency"]), (0, &serde_json::json!("weekly")), "{out}");
    let (_, out) = rest(&[&schedule]);
    assert_eq!(json(&out)["daysOfWeek"], serde_json::json!(["monday"]));
    let (code, out) = rest(&[&schedule, "-X", "DELETE", "-b", "{}"]);
    assert_eq!((code, out.trim()), (0, ""));
    let (code, out) = rest(&[&format!("{wave}/datasets/NoSuchDataset")]);
    assert_eq!((code, json(&out)[0]["errorCode"].as_str()), (1, Some("NOT_FOUND")), "{out}");

    // Sync Data Connections, as the seed sends it, once the demo's own sync is queued no more
    for _ in 0..100 {
        let (_, q) = rest(&[&format!("{wave}/dataflowjobs?jobTypes=datasync&status=Queued")]);
        if json(&q)["totalSize"] == 0 {
            break;
        }
    }
    let (code, out) = rest(&[&format!("{wave}/dataConnectors/SFDC_LOCAL/ingest"), "-X", "POST", "-b", "{}"]);
    assert_eq!(code, 0, "{out}");
    assert!(json(&out)["message"].as_str().unwrap().starts_with("Sync request was sent for connection 0It"), "{out}");
}

/// simple-salesforce (PyPI), unchanged, over HTTPS (it speaks nothing else): the demo with a
/// self-signed certificate that the client trusts through REQUESTS_CA_BUNDLE, as a user sets
/// it up. tests/clients/simple_salesforce_test.py; .ci/run installs it in a venv.
#[test]
fn simple_salesforce_works_unchanged_over_tls() {
    let clients = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/clients");
    let python = clients.join(".venv/bin/python");
    if !python.exists() {
        assert!(std::env::var("CI").is_err(), "CI must install the client tests: a venv in {}", clients.display());
        eprintln!("skipping: simple-salesforce is not installed (see .ci/run)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let demo = start(
        &["demo", "--listen", "127.0.0.1:0", "--data-dir", "data", "--tls-self-signed"],
        tmp.path(),
        Some("sfpy-token"),
    );
    assert!(demo.base.starts_with("https://127.0.0.1:"), "{}", demo.base);
    let cert = tmp.path().join("data/tls/cert.pem").canonicalize().unwrap();
    assert!(demo.lines.iter().any(|l| l.contains(cert.to_str().unwrap())), "{:?}", demo.lines);
    let out = Command::new(&python)
        .arg(clients.join("simple_salesforce_test.py"))
        .args([&demo.base, "sfpy-token"])
        .env("REQUESTS_CA_BUNDLE", &cert)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .expect("python runs");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("simple-salesforce: all steps passed"), "{}", text(&out));
    // plain HTTP to the TLS port is refused, not answered in clear
    let plain = std::net::TcpStream::connect(demo.base.trim_start_matches("https://")).map(|mut s| {
        use std::io::{Read, Write};
        let _ = s.write_all(b"GET /services/data/ HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut buf = String::new();
        let _ = s.read_to_string(&mut buf);
        buf
    });
    assert!(!plain.unwrap_or_default().contains("66.0"), "no API over plain HTTP on the TLS port");
}

/// A client with strict models (pydantic, from the org documentation's field tables: strict
/// types, the fields orgs return required) parses every representation of the demo:
/// tests/clients/strict_models_test.py.
#[test]
fn strict_client_models_parse_every_representation() {
    let clients = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/clients");
    let python = clients.join(".venv/bin/python");
    if !python.exists() {
        assert!(std::env::var("CI").is_err(), "CI must install the client tests: a venv in {}", clients.display());
        eprintln!("skipping: the client venv is not installed (see .ci/run)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let demo = start(&["demo", "--listen", "127.0.0.1:0", "--data-dir", "data"], tmp.path(), Some("strict-token"));
    // the demo's first run registers its dataset: wait for it, so that every kind is there
    for _ in 0..600 {
        let (_, body) = get(&demo.base, "/services/data/v66.0/wave/datasets", "strict-token");
        if body.contains("\"datasets\":[{") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let out = Command::new(&python)
        .arg(clients.join("strict_models_test.py"))
        .args([&demo.base, "strict-token"])
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .expect("python runs");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("representations parsed"), "{}", text(&out));
}

/// Schemathesis (PyPI; .ci/run installs it in the client venv) against `swell demo`: it
/// generates requests from docs/openapi.json's operations (valid and invalid, a bounded
/// number per operation) and checks that no answer is a 5xx and that every answer has the
/// status, content type and shape the document declares.
#[test]
fn schemathesis_finds_no_server_error_and_every_answer_matches_the_document() {
    let clients = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/clients");
    let st = clients.join(".venv/bin/schemathesis");
    if !st.exists() {
        assert!(std::env::var("CI").is_err(), "CI must install schemathesis: a venv in {}", clients.display());
        eprintln!("skipping: schemathesis is not installed (see .ci/run)");
        return;
    }
    // the committed document is valid OpenAPI 3.1 (openapi-spec-validator, PyPI)
    let doc = clients.join("../../docs/openapi.json");
    let valid = Command::new(clients.join(".venv/bin/python"))
        .args(["-c", "import sys; from openapi_spec_validator import validate; from openapi_spec_validator.readers import read_from_filename; validate(read_from_filename(sys.argv[1])[0])"])
        .arg(&doc)
        .output()
        .expect("python runs");
    assert!(valid.status.success(), "docs/openapi.json is not valid OpenAPI: {}", text(&valid));
    let tmp = tempfile::tempdir().unwrap();
    let demo = start(&["demo", "--listen", "127.0.0.1:0", "--data-dir", "data"], tmp.path(), Some("st-token"));
    // the demo's assets, so that requests reach them (most generated ids match nothing)
    let list = |path: &str, key: &str| -> Vec<String> {
        let (_, body) = get(&demo.base, &format!("/services/data/v66.0/wave{path}"), "st-token");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        v[key].as_array().unwrap().iter().filter_map(|x| x["id"].as_str().map(str::to_string)).collect()
    };
    // the demo's dataflow registers its dataset in its first run
    let mut datasets = Vec::new();
    for _ in 0..600 {
        datasets = list("/datasets", "datasets");
        if !datasets.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let flows = list("/dataflows", "dataflows");
    let jobs = list("/dataflowjobs", "dataflowJobs");
    let recipes = list("/recipes", "recipes");
    let connections = list("/dataConnectors", "dataConnectors");
    let objects = list("/replicatedDatasets", "replicatedDatasets");
    let nodes = list(&format!("/dataflowjobs/{}/nodes", jobs[0]), "nodes");
    let quoted = |ids: &[String]| ids.iter().map(|i| format!("\"{i}\"")).collect::<Vec<_>>().join(", ");
    let assets: Vec<String> = [&flows[..], &recipes[..], &connections[..]].concat();
    let mut config = String::from(
        "[dictionaries.versions]\nvalues = [\"v66.0\", \"v55.0\", \"v50.0\", \"v45.0\"]\n\n\
         [parameters]\n\"path.version\" = { dictionary = \"versions\", probability = 0.9 }\n\n",
    );
    for (name, ids, path) in [
        ("dataflows", &flows, "/dataflows/"),
        ("jobs", &jobs, "/dataflowjobs/"),
        ("recipes", &recipes, "/recipes/"),
        ("datasets", &datasets, "/datasets/"),
        ("connections", &connections, "/dataConnectors/"),
        ("objects", &objects, "/replicatedDatasets/"),
        ("assets", &assets, "/asset/"),
    ] {
        config += &format!(
            "[dictionaries.{name}]\nvalues = [{}]\n\n[[operations]]\ninclude-path-regex = \"{path}\"\n\
             parameters = {{ \"path.id\" = {{ dictionary = \"{name}\", probability = 0.8 }}, \
             \"path.version\" = {{ dictionary = \"versions\", probability = 0.9 }} }}\n\n",
            quoted(ids)
        );
    }
    config += &format!("[dictionaries.nodes]\nvalues = [{}]\n", quoted(&nodes));
    let config_file = tmp.path().join("schemathesis.toml");
    std::fs::write(&config_file, config).unwrap();
    let out = Command::new(&st)
        .args(["--config-file", config_file.to_str().unwrap()])
        .args(["run", &format!("{}/openapi.json", demo.base), "--url", &demo.base])
        .args(["--header", "Authorization: Bearer st-token", "--header", "X-Chatter-Entity-Encoding: false"])
        .args(["--checks", "not_a_server_error,response_schema_conformance,content_type_conformance"])
        .args(["--max-examples", "20", "--seed", "20261202", "--workers", "1", "--request-timeout", "30"])
        .args(["--phases", "examples,coverage,fuzzing", "--generation-database", "none", "--no-color"])
        .env("NO_PROXY", "127.0.0.1,localhost")
        .current_dir(tmp.path())
        .output()
        .expect("schemathesis runs");
    let report = text(&out);
    // the summary: operations, test cases and failures, for the CI log
    for line in report.lines().filter(|l| l.contains("passed") || l.contains("failed") || l.contains("generated")) {
        eprintln!("schemathesis: {line}");
    }
    assert!(out.status.success(), "{report}");
}
