//! The reliability suite (issue 12): the real binary under what production does to it. Jobs
//! longer than every periodic timer of the server, names shaped like paths, inputs deep enough
//! to overflow a stack, two writers of one dataset, kill -9 in the middle of a run and of a
//! sync, many concurrent starts on one and on two servers, refused requests that must change
//! nothing, and the HTTP edges (huge bodies, half-sent requests).
//!
//! Every test starts `swell serve` on port 0 with a fresh data dir and talks to it over
//! loopback only. The server's timers are shortened (heartbeat 0.2 s, silent after 1 s, sweep
//! every 0.3 s) so that a job of a few seconds outlives all of them many times over.

use super::{PgDatabase, Running, get, request, start};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod commits;
mod probe;

const TOKEN: &str = "reliability-token";
const WAVE: &str = "/services/data/v66.0/wave";

/// Rows of the big object: enough that its sync and its run each take seconds in a debug
/// build, longer than the shortened timers many times over.
const BIG_ROWS: usize = 1_500_000;

struct Server {
    run: Running,
}

impl Server {
    /// `swell serve` on `data` (relative to `cwd`), local folders allowed under `folder`.
    fn start(cwd: &Path, data: &str, folder: &Path, extra: &[&str]) -> Server {
        let folder = folder.to_str().unwrap().to_string();
        let mut args = vec![
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data,
            "--allow-folder",
            &folder,
            "--heartbeat-secs",
            "0.2",
            "--stale-after-secs",
            "1",
            "--sweep-secs",
            "0.3",
        ];
        args.extend_from_slice(extra);
        Server { run: start(&args, cwd, Some(TOKEN)) }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let path = if path.starts_with('/') { path.to_string() } else { format!("{WAVE}/{path}") };
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let (status, text) = request(&self.run.base, method, &path, TOKEN, &body);
        let value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text}"))
        };
        (status, value)
    }

    fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(method, path, body);
        assert!((200..300).contains(&status), "{method} {path}: {status} {v}");
        v
    }

    /// Asserts a 400 whose messages contain every one of `words`.
    fn refused(&self, method: &str, path: &str, body: Value, words: &[&str]) -> String {
        let (status, v) = self.call(method, path, Some(body));
        let text = v.to_string();
        assert_eq!(status, 400, "{method} {path}: {text}");
        for w in words {
            assert!(text.contains(w), "{method} {path}: '{w}' not in {text}");
        }
        text
    }

    fn alive(&self) {
        let (status, body) = get(&self.run.base, "/services/data", "");
        assert_eq!(status, 200, "the server stopped answering: {body}");
    }

    fn start_job(&self, dataflow: &str) -> String {
        let j = self.ok("POST", "dataflowjobs", Some(json!({"dataflowId": dataflow, "command": "start"})));
        j["id"].as_str().unwrap().to_string()
    }

    /// Waits until the job ends; returns it.
    fn wait(&self, job: &str, limit: Duration) -> Value {
        let started = Instant::now();
        loop {
            let j = self.ok("GET", &format!("dataflowjobs/{job}"), None);
            let status = j["status"].as_str().unwrap_or_default();
            if status != "Queued" && status != "Running" {
                return j;
            }
            assert!(started.elapsed() < limit, "job {job} did not end within {limit:?}: {j}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_status(&self, job: &str, wanted: &str, limit: Duration) -> Value {
        let started = Instant::now();
        loop {
            let j = self.ok("GET", &format!("dataflowjobs/{job}"), None);
            if j["status"] == wanted {
                return j;
            }
            assert!(started.elapsed() < limit, "job {job} never became {wanted}: {j}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until no job is queued or running; returns every job.
    fn wait_idle(&self, limit: Duration) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let all = self.ok("GET", "dataflowjobs?pageSize=200", None);
            let jobs = all["dataflowJobs"].as_array().cloned().unwrap_or_default();
            if jobs.iter().all(|j| j["status"] != "Queued" && j["status"] != "Running") {
                return jobs;
            }
            assert!(started.elapsed() < limit, "jobs still running after {limit:?}: {all}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The newest job of type `job_type` (datasync for Run Now, which answers no job id).
    fn newest_job(&self, job_type: &str) -> Value {
        let all = self.ok("GET", "dataflowjobs?pageSize=200", None);
        all["dataflowJobs"].as_array().unwrap().iter().find(|j| j["jobType"] == job_type).cloned().unwrap_or_default()
    }

    /// A connection `name` over the local folder `folder` (an AmazonS3 connection reading it).
    fn folder_connection(&self, name: &str, folder: &Path) -> String {
        let c = self.ok(
            "POST",
            "dataConnectors",
            Some(json!({"name": name, "connectorType": "AmazonS3",
                        "connectionProperties": [{"name": "FolderPath", "value": folder.to_str().unwrap()}]})),
        );
        c["id"].as_str().unwrap().to_string()
    }

    fn dataflow(&self, name: &str, definition: Value) -> String {
        let d = self.ok("POST", "dataflows", Some(json!({"name": name, "definition": definition})));
        d["id"].as_str().unwrap().to_string()
    }
}

/// A digest of `object` of connection `connection` registered as `alias`.
fn copy_flow(connection: &str, object: &str, fields: &[&str], alias: &str) -> Value {
    let fields: Vec<Value> = fields.iter().map(|f| json!({"name": f})).collect();
    json!({
        "Extract": {"action": "digest", "parameters": {"connectionName": connection, "object": object, "fields": fields}},
        "Register": {"action": "sfdcRegister", "parameters": {"alias": alias, "name": alias, "source": "Extract"}}
    })
}

/// A folder of objects: `Account.csv` (50 rows) and, with `big`, `Big.csv` of [`BIG_ROWS`].
fn objects(dir: &Path, big: bool) -> PathBuf {
    use std::fmt::Write;
    let folder = dir.join("files");
    std::fs::create_dir_all(&folder).unwrap();
    let mut account = String::from("Id,Name,Amount\n");
    for i in 0..50 {
        let _ = writeln!(account, "001{i:012},Account {i},{}", i * 10);
    }
    std::fs::write(folder.join("Account.csv"), account).unwrap();
    if big {
        let mut text = String::with_capacity(BIG_ROWS * 48);
        text.push_str("Id,Stage,Amount,CloseDate\n");
        for i in 0..BIG_ROWS {
            let stage = ["Prospecting", "Closed Won", "Closed Lost"][i % 3];
            let _ = writeln!(
                text,
                "006{i:012},{stage},{}.{:02},2025-{:02}-{:02}",
                i % 100_000,
                i % 100,
                1 + i % 12,
                1 + i % 28
            );
        }
        std::fs::write(folder.join("Big.csv"), text).unwrap();
    }
    folder
}

/// Files and folders under `dir`, recursively, with their contents' lengths.
fn tree(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p.clone());
                out.push((p, 0));
            } else {
                out.push((p.clone(), e.metadata().unwrap().len()));
            }
        }
    }
    out.sort();
    out
}

/// Staging and scratch folders left under a data dir.
fn leftovers(data: &Path) -> Vec<PathBuf> {
    tree(data)
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(".staging-")
                || name.starts_with(".new-")
                || (p.parent().is_some_and(|d| d == data.join("tmp")))
        })
        .collect()
}

/// Every version of a dataset (or a connected object) under `table` is whole: its metadata
/// and a data file whose row count the metadata states. Returns (version, rows).
fn whole_versions(table: &Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(table.join("versions")).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        assert!(!name.starts_with('.'), "a staging folder is left: {}", e.path().display());
        let meta: Value =
            serde_json::from_str(&std::fs::read_to_string(e.path().join("metadata.json")).unwrap()).unwrap();
        let data = e.path().join("part-0.parquet");
        assert!(data.is_file() && std::fs::metadata(&data).unwrap().len() > 0, "{name} has no rows file");
        out.push((name, meta["rowCount"].as_u64().unwrap()));
    }
    out.sort();
    out
}

fn current(table: &Path) -> String {
    std::fs::read_to_string(table.join("current")).unwrap().trim().to_string()
}

/// (a) and (e): a job longer than every timer runs once and succeeds; kill -9 in the middle of
/// a run and of a sync, then a restart: the previous versions stay current and readable and
/// nothing of the dead runs is left.
#[test]
fn long_jobs_run_once_and_survive_kill_9() {
    let tmp = tempfile::tempdir().unwrap();
    let folder = objects(tmp.path(), true);
    let data = tmp.path().join("data");
    let server = Server::start(tmp.path(), "data", &folder, &[]);
    server.folder_connection("Files", &folder);
    let flow = server.dataflow("Big_Flow", copy_flow("Files", "Big", &["Id", "Stage", "Amount", "CloseDate"], "Big"));

    // (a) sync before run, then the run: each outlives the 1 s silence limit many times
    let job = server.start_job(&flow);
    let started = Instant::now();
    let j = server.wait(&job, Duration::from_secs(600));
    let took = started.elapsed();
    assert_eq!(j["status"], "Success", "{j}");
    // twice the 1 s silence limit and six sweeps (it takes about 2.4 s on an idle 2-core machine)
    assert!(took > Duration::from_secs(2), "the job took {took:?}: too short to outlive the timers; raise BIG_ROWS");
    let jobs = server.ok("GET", &format!("dataflowjobs?dataflowId={flow}"), None);
    assert_eq!(jobs["dataflowJobs"].as_array().unwrap().len(), 1, "the dataflow ran once: {jobs}");
    let table = data.join("datasets/Big");
    let versions = whole_versions(&table);
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].1, BIG_ROWS as u64);
    let first = current(&table);
    let object = data.join("connections/Files/objects/Big");
    let synced = current(&object);

    // (e) kill -9 in the middle of a run: the job is killed while its nodes count rows
    let patch = json!({"fields": [{"name": "Amount", "label": "Amount (changed)"}]});
    let objects_list = server.ok("GET", "replicatedDatasets", None);
    let big_id = objects_list["replicatedDatasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "Big")
        .map(|o| o["id"].as_str().unwrap().to_string())
        .unwrap();
    let _ = patch;
    let job = server.start_job(&flow);
    server.wait_status(&job, "Running", Duration::from_secs(60));
    // inside the run: it takes about 2 s on an idle machine
    std::thread::sleep(Duration::from_millis(700));
    let Server { run } = server;
    drop(run); // SIGKILL
    let server = Server::start(tmp.path(), "data", &folder, &[]);
    let j = server.wait(&job, Duration::from_secs(30));
    assert_eq!(j["status"], "Failure", "{j}");
    assert_eq!(current(&table), first, "the previous version stays current");
    assert_eq!(whole_versions(&table).len(), 1);
    assert!(leftovers(&data).is_empty(), "left after kill -9 in a run: {:?}", leftovers(&data));

    // ... and in the middle of a sync (Run Now, with a full refresh so that it rewrites)
    server.ok("PATCH", &format!("replicatedDatasets/{big_id}"), Some(json!({"fullRefresh": true})));
    server.ok("POST", "dataConnectors/Files/ingest", None);
    let sync_job = server.newest_job("datasync")["id"].as_str().unwrap().to_string();
    server.wait_status(&sync_job, "Running", Duration::from_secs(60));
    // at once: on an idle machine the whole sync takes about 0.3 s
    std::thread::sleep(Duration::from_millis(30));
    let Server { run } = server;
    drop(run);
    let server = Server::start(tmp.path(), "data", &folder, &[]);
    let j = server.wait(&sync_job, Duration::from_secs(30));
    assert_eq!(j["status"], "Failure", "the sync ended before the kill; raise BIG_ROWS: {j}");
    assert_eq!(current(&object), synced, "the connected object's previous version stays current");
    for (_, rows) in whole_versions(&object) {
        assert_eq!(rows, BIG_ROWS as u64);
    }
    assert!(leftovers(&data).is_empty(), "left after kill -9 in a sync: {:?}", leftovers(&data));
}

/// (b): every name that ends up in a file path, given as a path, is refused; canaries outside
/// the data dir are still there, unread and unchanged.
#[test]
fn path_shaped_names_are_refused_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let folder = objects(tmp.path(), false);
    let canary = tmp.path().join("canary");
    std::fs::create_dir_all(&canary).unwrap();
    std::fs::write(canary.join("Secret.csv"), "Id,Secret\n1,do not read\n").unwrap();
    std::fs::write(tmp.path().join("canary.txt"), "keep me").unwrap();
    let before = tree(&canary);
    let server = Server::start(tmp.path(), "data", &folder, &[]);
    let files = server.folder_connection("Files", &folder);
    let digest = |connection: &str, object: &str| json!({"name": "Bad", "definition": copy_flow(connection, object, &["Id"], "Bad")});
    for object in ["../../canary/Secret", "../canary", "/etc/passwd", "..", "a/b", "a\\b"] {
        server.refused("POST", "dataflows", digest("Files", object), &["Extract", "parameters.object"]);
    }
    server.refused("POST", "dataflows", digest("../x", "Account"), &["parameters.connectionName"]);
    let edgemart = json!({"name": "Bad", "definition": {
        "Load": {"action": "edgemart", "parameters": {"alias": "../../canary"}},
        "Register": {"action": "sfdcRegister", "parameters": {"alias": "Out", "name": "Out", "source": "Load"}}}});
    server.refused("POST", "dataflows", edgemart, &["Load", "parameters.alias"]);
    let export = json!({"name": "Bad", "definition": {
        "Extract": {"action": "digest", "parameters": {"connectionName": "Files", "object": "Account", "fields": [{"name": "Id"}]}},
        "../../escape": {"action": "export", "parameters": {"source": "Extract", "target": "x", "userId": "005"}}}});
    server.refused("POST", "dataflows", export, &["export node"]);
    server.refused(
        "POST",
        "replicatedDatasets",
        json!({"connectorId": files, "sourceObjectName": "../../canary/Secret"}),
        &["sourceObjectName"],
    );
    server.refused(
        "POST",
        "dataConnectors",
        json!({"name": "a/b", "connectorType": "AmazonS3",
               "connectionProperties": [{"name": "FolderPath", "value": folder.to_str().unwrap()}]}),
        &["name"],
    );
    // a local folder outside the allowed ones is refused, and the data dir is never named
    let refused = server.refused(
        "POST",
        "dataConnectors",
        json!({"name": "Outside", "connectorType": "AmazonS3",
               "connectionProperties": [{"name": "FolderPath", "value": canary.to_str().unwrap()}]}),
        &["allow-folder"],
    );
    assert!(!refused.contains(&tmp.path().join("data").display().to_string()), "{refused}");
    // a path can be neither a dataset id nor an API name: a bad id (400), never a read
    let (status, v) = server.call("GET", "datasets/..%2F..%2Fcanary", None);
    assert_eq!((status, v[0]["errorCode"].as_str()), (400, Some("INVALID_INPUT")), "{v}");
    // a table of a database named like a path cannot become a connected object
    if let Some(url) = postgres_with_slash_table() {
        let c = server.ok(
            "POST",
            "dataConnectors",
            Some(json!({"name": "PG", "connectorType": "AwsRdsPostgres", "connectionProperties": url})),
        );
        let refusal = server.refused(
            "POST",
            "replicatedDatasets",
            json!({"connectorId": c["id"], "sourceObjectName": "a/b"}),
            &["sourceObjectName"],
        );
        assert!(refusal.contains("separator"), "{refusal}");
    }
    // a run that fails leaves the connection as it found it: the object it added is gone
    let missing = server.dataflow("Reads_Missing", copy_flow("Files", "Missing", &["Id"], "Missing"));
    let j = server.wait(&server.start_job(&missing), Duration::from_secs(60));
    assert_eq!(j["status"], "Failure", "{j}");
    let listed = server.ok("GET", "replicatedDatasets", None).to_string();
    assert!(!listed.contains("Missing"), "the failed run's added object stayed: {listed}");
    assert!(!tmp.path().join("data/connections/Files/objects/Missing").exists());
    server.alive();
    assert_eq!(tree(&canary), before, "files outside the data dir changed");
    assert_eq!(std::fs::read_to_string(tmp.path().join("canary.txt")).unwrap(), "keep me");
    let top: Vec<String> =
        std::fs::read_dir(tmp.path()).unwrap().flatten().map(|e| e.file_name().to_string_lossy().to_string()).collect();
    let mut top = top;
    top.sort();
    assert_eq!(top, ["canary", "canary.txt", "data", "files"], "something was written outside the data dir");
}

/// A PostgreSQL table named `a/b` in the test database, and the connection properties to it;
/// `None` without PostgreSQL (locally; CI has one).
fn postgres_with_slash_table() -> Option<Value> {
    let out = std::process::Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-c", r#"CREATE TABLE IF NOT EXISTS "a/b" (id int)"#])
        .output();
    match out {
        Ok(o) if o.status.success() => Some(json!([
            {"name": "host", "value": "127.0.0.1"}, {"name": "port", "value": "5432"},
            {"name": "database", "value": "test"}, {"name": "username", "value": "postgres"},
            {"name": "password", "value": ""}
        ])),
        _ if std::env::var("CI").is_ok() => panic!("PostgreSQL is needed under CI"),
        _ => None,
    }
}

/// (c): deep and long inputs get a 400 naming the node, and the server keeps answering; an
/// expression just under the limits runs.
#[test]
fn deep_and_long_inputs_are_refused_and_the_server_lives() {
    let tmp = tempfile::tempdir().unwrap();
    let folder = objects(tmp.path(), false);
    let server = Server::start(tmp.path(), "data", &folder, &[]);
    server.folder_connection("Files", &folder);
    let compute = |terms: usize| {
        let expression = vec!["Amount"; terms].join(" + ");
        json!({
            "Extract": {"action": "digest", "parameters": {"connectionName": "Files", "object": "Account",
                "fields": [{"name": "Id"}, {"name": "Amount"}]}},
            "Deep": {"action": "computeExpression", "parameters": {"source": "Extract", "computedFields": [
                {"name": "Total", "type": "Numeric", "precision": 18, "scale": 0, "saqlExpression": expression}]}},
            "Register": {"action": "sfdcRegister", "parameters": {"alias": "Deep", "name": "Deep", "source": "Deep"}}
        })
    };
    // 800 terms overflowed the stack before: now it runs, and sums right
    let flow = server.dataflow("Deep_Ok", compute(800));
    let job = server.start_job(&flow);
    let j = server.wait(&job, Duration::from_secs(120));
    assert_eq!(j["status"], "Success", "{j}");
    server.refused("POST", "dataflows", json!({"name": "Deeper", "definition": compute(5_000)}), &["Deep", "too deep"]);
    server.alive();
    // a chain of 1,000 nodes
    let mut chain = serde_json::Map::new();
    chain.insert(
        "N0".into(),
        json!({"action": "digest", "parameters": {"connectionName": "Files", "object": "Account", "fields": [{"name": "Id"}]}}),
    );
    for i in 1..1_000 {
        chain.insert(
            format!("N{i}"),
            json!({"action": "filter", "parameters": {"source": format!("N{}", i - 1), "filter": "Id:N:x"}}),
        );
    }
    server.refused("POST", "dataflows", json!({"name": "Chain", "definition": chain}), &["chain of 1000 nodes"]);
    let mut wide = serde_json::Map::new();
    for i in 0..2_001 {
        wide.insert(format!("N{i}"), json!({"action": "edgemart", "parameters": {"alias": "X"}}));
    }
    server.refused("POST", "dataflows", json!({"name": "Wide", "definition": wide}), &["2001 nodes"]);
    // a recipe formula of 5,000 terms
    let formula = vec!["Amount"; 5_000].join(" + ");
    let recipe = json!({"name": "Deep_Recipe", "recipeDefinition": {"version": "62.0", "nodes": {
        "LOAD": {"action": "load", "sources": [], "parameters": {"dataset": {"type": "connectedDataset",
            "connectionName": "Files", "sourceObjectName": "Account"}, "fields": ["Id", "Amount"]}},
        "F": {"action": "formula", "sources": ["LOAD"], "parameters": {"expressionType": "SQL", "fields": [
            {"type": "NUMBER", "name": "T", "label": "T", "formulaExpression": formula, "precision": 18, "scale": 0,
             "defaultValue": ""}]}},
        "OUT": {"action": "save", "sources": ["F"], "parameters": {"dataset": {"type": "analyticsDataset",
            "name": "DeepRecipe", "label": "DeepRecipe"}}}}, "ui": {}}});
    let (status, body) = server.call("POST", "recipes", Some(recipe));
    assert!(status == 400 || status == 201, "{status} {body}");
    assert!(body.to_string().contains("operators"), "the refusal names the formula's size: {body}");
    // a SAQL filter far longer than any real one
    let long = json!({"name": "Long", "definition": {
        "Extract": {"action": "digest", "parameters": {"connectionName": "Files", "object": "Account", "fields": [{"name": "Id"}]}},
        "Keep": {"action": "filter", "parameters": {"source": "Extract", "saqlFilter": format!("'Id' == \"{}\"", "x".repeat(200_000))}}}});
    server.refused("POST", "dataflows", long, &["Keep", "characters long"]);
    server.alive();
}

/// The [start, end] of every job the server ran, in milliseconds.
fn intervals(server: &Server, jobs: &[String]) -> Vec<(i64, i64)> {
    let ms = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap().timestamp_millis();
    jobs.iter()
        .map(|j| {
            let job = server.ok("GET", &format!("dataflowjobs/{j}"), None);
            (ms(&job["executedDate"]), ms(&job["endDate"]))
        })
        .collect()
}

/// The most intervals that overlap at one instant.
fn most_at_once(intervals: &[(i64, i64)]) -> usize {
    let mut events: Vec<(i64, i32)> = intervals.iter().flat_map(|&(s, e)| [(s, 1), (e, -1)]).collect();
    // an end before a start at the same millisecond
    events.sort();
    let (mut now, mut most) = (0i32, 0i32);
    for (_, d) in events {
        now += d;
        most = most.max(now);
    }
    most as usize
}

/// Fires `n` concurrent starts over `flows` at `servers` (round robin); returns the accepted
/// jobs' ids and how many were refused as already queued.
fn concurrent_starts(servers: &[&Server], flows: &[String], n: usize) -> (Vec<String>, usize) {
    let bases: Vec<String> = servers.iter().map(|s| s.run.base.clone()).collect();
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let base = bases[i % bases.len()].clone();
            let flow = flows[i % flows.len()].clone();
            std::thread::spawn(move || {
                let body = json!({"dataflowId": flow, "command": "start"}).to_string();
                request(&base, "POST", &format!("{WAVE}/dataflowjobs"), TOKEN, &body)
            })
        })
        .collect();
    let (mut accepted, mut refused) = (Vec::new(), 0);
    for h in handles {
        let (status, body) = h.join().unwrap();
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        match status {
            201 => accepted.push(v["id"].as_str().unwrap().to_string()),
            409 => refused += 1,
            other => panic!("a start answered {other}: {body}"),
        }
    }
    (accepted, refused)
}

/// (f): 100 concurrent starts over several dataflows: the limit holds, each accepted start
/// runs exactly once, none is lost.
#[test]
fn concurrent_starts_respect_the_limit_and_run_once() {
    let tmp = tempfile::tempdir().unwrap();
    let folder = objects(tmp.path(), false);
    let server = Server::start(tmp.path(), "data", &folder, &["--max-dataflow-jobs", "2"]);
    server.folder_connection("Files", &folder);
    let flows: Vec<String> = (0..5)
        .map(|i| server.dataflow(&format!("Flow{i}"), copy_flow("Files", "Account", &["Id"], &format!("Out{i}"))))
        .collect();
    let (accepted, refused) = concurrent_starts(&[&server], &flows, 100);
    assert_eq!(accepted.len() + refused, 100);
    assert!(!accepted.is_empty());
    for job in &accepted {
        let j = server.wait(job, Duration::from_secs(300));
        assert_eq!(j["status"], "Success", "{j}");
    }
    let all = server.ok("GET", "dataflowjobs?pageSize=200", None);
    let ran = all["dataflowJobs"].as_array().unwrap().iter().filter(|j| j["status"] == "Success").count();
    assert_eq!(ran, accepted.len(), "every accepted start ran exactly once");
    assert!(most_at_once(&intervals(&server, &accepted)) <= 2, "more than 2 dataflow jobs ran at once");
}

/// (f) on two servers sharing PostgreSQL (and a data dir): the limit is global.
#[test]
fn two_servers_share_one_limit() {
    let Some(pg) = PgDatabase::new("swell_limit") else { return };
    let url = pg.url.clone();
    let tmp = tempfile::tempdir().unwrap();
    let folder = objects(tmp.path(), false);
    let serve = |id: &str| {
        Server::start(
            tmp.path(),
            "shared",
            &folder,
            &["--database-url", &url, "--server-id", id, "--max-dataflow-jobs", "2"],
        )
    };
    let (a, b) = (serve("server-a"), serve("server-b"));
    a.folder_connection("Files", &folder);
    let flows: Vec<String> = (0..6)
        .map(|i| a.dataflow(&format!("Flow{i}"), copy_flow("Files", "Account", &["Id"], &format!("Out{i}"))))
        .collect();
    let (accepted, _) = concurrent_starts(&[&a, &b], &flows, 60);
    for job in &accepted {
        let j = a.wait(job, Duration::from_secs(300));
        assert_eq!(j["status"], "Success", "{j}");
    }
    assert!(most_at_once(&intervals(&a, &accepted)) <= 2, "the two servers ran more than 2 dataflow jobs at once");
    let all = a.ok("GET", "dataflowjobs?pageSize=200", None);
    let ran = all["dataflowJobs"].as_array().unwrap().iter().filter(|j| j["status"] == "Success").count();
    assert_eq!(ran, accepted.len());
    drop((a, b));
    drop(pg);
}

/// (g): a refused delete changes nothing; (9) the small ones: definitions that are not
/// objects, over-long names, huge bodies, half-sent requests, path words in any case.
#[test]
fn refused_requests_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let folder = objects(tmp.path(), true);
    let server = Server::start(tmp.path(), "data", &folder, &["--max-sync-jobs", "1"]);
    server.folder_connection("Files", &folder);
    server.ok("POST", "replicatedDatasets", Some(json!({"connectorId": "Files", "sourceObjectName": "Big"})));
    let empty = server.folder_connection("Empty", &folder);
    // the long sync holds the one sync slot; the empty connection's sync waits in the queue
    server.ok("POST", "dataConnectors/Files/ingest", None);
    server.ok("POST", &format!("dataConnectors/{empty}/ingest"), None);
    let queued = server.newest_job("datasync");
    assert_eq!(queued["status"], "Queued", "the empty connection's sync waits: {queued}");
    let (status, body) = server.call("DELETE", &format!("dataConnectors/{empty}"), None);
    assert_eq!(status, 409, "{body}");
    server.ok("GET", &format!("dataConnectors/{empty}"), None);
    let (status, _) = server.call(
        "POST",
        "dataConnectors",
        Some(json!({"name": "Empty", "connectorType": "AmazonS3",
                    "connectionProperties": [{"name": "FolderPath", "value": folder.to_str().unwrap()}]})),
    );
    assert_eq!(status, 409, "the connection is still there, its name taken");
    for j in server.wait_idle(Duration::from_secs(600)) {
        assert_eq!(j["status"], "Success", "{j}");
    }
    let (status, body) = server.call("DELETE", &format!("dataConnectors/{empty}"), None);
    assert_eq!(status, 204, "{body}");
    server.folder_connection("Empty", &folder);

    // definitions that are not objects of nodes, names far too long
    for definition in [json!([{"a": 1}]), json!("text"), json!(42), json!(["{\"nodes\":{}}", null])] {
        server.refused("POST", "dataflows", json!({"name": "Odd", "definition": definition}), &["definition"]);
    }
    let long = "N".repeat(10_000);
    server.refused("POST", "dataflows", json!({"name": long}), &["name", "at most 80"]);
    server.refused("POST", "dataflows", json!({"name": "Ok", "label": long}), &["label", "at most 255"]);
    let (status, _) = server.call("GET", "dataflows/Ok", None);
    assert_eq!(status, 404, "a refused create created nothing");
    // a body over the limit: the JSON error array, not plain text
    // (sent chunked, so that no length announces it: the limit is found while reading)
    use std::io::{Read, Write};
    let host = server.run.base.trim_start_matches("http://").to_string();
    let mut s = std::net::TcpStream::connect(&host).unwrap();
    let head = format!(
        "POST {WAVE}/dataflows HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 1024 * 1024, "x".repeat(1024 * 1024));
    for _ in 0..17 {
        if s.write_all(chunk.as_bytes()).is_err() {
            break; // the server answered and closed
        }
    }
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("413 is not JSON ({e}): {body}"));
    assert_eq!(v[0]["errorCode"], "REQUEST_TOO_LARGE");
    // path words in any case
    let (status, _) = server.call("GET", "/services/data/v66.0/wave/DATACONNECTORS", None);
    assert_eq!(status, 200);
    // a request whose headers never finish is closed, not held
    let mut s = std::net::TcpStream::connect(server.run.base.trim_start_matches("http://")).unwrap();
    s.write_all(b"GET /services/data HTTP/1.1\r\nHost: x\r\n").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    assert!(started.elapsed() < Duration::from_secs(20), "a half-sent request was held {:?}", started.elapsed());
    server.alive();
}

/// A second server on the same data dir that would share the first one's id (both read
/// `server-id`) is refused: it would fail the first one's running jobs as its own interrupted
/// ones. A body announced larger than the limit is refused before it is read.
#[test]
fn a_twin_server_is_refused_and_huge_bodies_are_not_awaited() {
    let tmp = tempfile::tempdir().unwrap();
    let folder = objects(tmp.path(), false);
    let server = Server::start(tmp.path(), "data", &folder, &[]);
    let twin = std::process::Command::new(env!("CARGO_BIN_EXE_swell"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"])
        .current_dir(tmp.path())
        .env("SWELL_API_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert_eq!(twin.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&twin.stderr).contains("--server-id"), "{twin:?}");
    server.alive();

    use std::io::{Read, Write};
    let host = server.run.base.trim_start_matches("http://").to_string();
    let mut s = std::net::TcpStream::connect(&host).unwrap();
    let head = format!(
        "POST {WAVE}/dataflows HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 999999999999\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("REQUEST_TOO_LARGE"), "{answer}");
}
