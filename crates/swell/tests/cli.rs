//! The `swell` binary as users run it: exit codes, output, files written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn swell(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_swell")).args(args).current_dir(cwd).output().expect("swell runs")
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/opportunities")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn run_the_example_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let ex = example();
    let def = ex.join("dataflow.json");
    let objects = ex.join("objects");
    let out = swell(
        &[
            "run",
            def.to_str().unwrap(),
            "--objects",
            objects.to_str().unwrap(),
            "--data-dir",
            "data",
            "--out",
            "out",
            "--quiet",
        ],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("Register_Opportunities"), "{t}");
    assert!(t.contains("registered Opportunities version"), "{t}");
    assert!(tmp.path().join("out/Opportunities.parquet").is_file());
    assert!(tmp.path().join("data/datasets/Opportunities/current").is_file());
}

#[test]
fn validate_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let ok = swell(&["validate", example().join("dataflow.json").to_str().unwrap()], tmp.path());
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    std::fs::write(tmp.path().join("bad.json"), r#"{"a": {"action": "augment", "parameters": {"left": "x"}}}"#)
        .unwrap();
    let bad = swell(&["validate", "bad.json"], tmp.path());
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad).contains("a.parameters: missing field `right`"), "{}", text(&bad));
    let missing = swell(&["validate", "nope.json"], tmp.path());
    assert_eq!(missing.status.code(), Some(2));
    let usage = swell(&["frobnicate"], tmp.path());
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn a_failing_run_exits_1_and_names_the_node() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("objects")).unwrap();
    std::fs::write(tmp.path().join("objects/T.csv"), "Id,Name\n1,abc\n").unwrap();
    std::fs::write(
        tmp.path().join("flow.json"),
        r#"{"d": {"action": "sfdcDigest", "parameters": {"object": "T", "fields": [{"name": "Name"}]}},
            "c": {"action": "computeExpression", "parameters": {"source": "d", "computedFields": [
                {"name": "n", "type": "Numeric", "saqlExpression": "string_to_number(Name)"}]}},
            "r": {"action": "sfdcRegister", "parameters": {"alias": "T", "name": "T", "source": "c"}}}"#,
    )
    .unwrap();
    let out = swell(&["run", "flow.json", "--objects", "objects", "--data-dir", "data", "--quiet"], tmp.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("string_to_number: 'abc' is not a number"), "{}", text(&out));
    // a missing object is a failed run too (the source is unavailable), with a clear message
    std::fs::remove_file(tmp.path().join("objects/T.csv")).unwrap();
    let out = swell(&["run", "flow.json", "--objects", "objects", "--data-dir", "data", "--quiet"], tmp.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("object 'T' of connection 'SFDC_LOCAL' not found"), "{}", text(&out));
}

/// A running `swell serve` or `swell demo`, killed when dropped.
struct Running {
    child: std::process::Child,
    base: String,
    lines: Vec<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str], cwd: &Path, token: Option<&str>) -> Running {
    use std::io::BufRead;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_swell"));
    cmd.args(args).current_dir(cwd).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::inherit());
    match token {
        Some(t) => cmd.env("SWELL_API_TOKEN", t),
        None => cmd.env_remove("SWELL_API_TOKEN"),
    };
    let mut child = cmd.spawn().expect("swell starts");
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "swell exited early: {lines:?}");
        let done = line.starts_with("listening on ");
        lines.push(line.trim_end().to_string());
        if done {
            break;
        }
    }
    let base = lines.last().unwrap().trim_start_matches("listening on ").to_string();
    // keep reading so the child never blocks on a full pipe
    std::thread::spawn(move || for _ in reader.lines() {});
    Running { child, base, lines }
}

/// A minimal HTTP/1.1 GET, enough for a black-box check without a client library.
fn get(base: &str, path: &str, token: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let host = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

#[test]
fn serve_binds_port_zero_and_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(&["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"], tmp.path(), Some("secret-token"));
    assert!(server.base.starts_with("http://127.0.0.1:"), "{}", server.base);
    let (status, body) = get(&server.base, "/services/data/", "");
    assert_eq!(status, 200);
    assert!(body.contains("\"version\":\"66.0\""), "{body}");
    let (status, body) = get(&server.base, "/services/data/v62.0/wave/dataflows", "wrong");
    assert_eq!(status, 401, "{body}");
    let (status, _) = get(&server.base, "/services/data/v62.0/wave/dataflows", "secret-token");
    assert_eq!(status, 200);
}

#[test]
fn demo_runs_its_dataflow() {
    let tmp = tempfile::tempdir().unwrap();
    let demo = start(&["demo", "--listen", "127.0.0.1:0", "--data-dir", "data"], tmp.path(), None);
    let token = std::fs::read_to_string(tmp.path().join("data/api-token")).unwrap();
    assert!(demo.lines.iter().any(|l| l.contains(&token)), "the token is printed: {:?}", demo.lines);
    let mut last = String::new();
    for _ in 0..200 {
        let (status, body) = get(&demo.base, "/services/data/v66.0/wave/datasets/Demo_Opportunities", &token);
        if status == 200 && body.contains("currentVersionId") {
            return;
        }
        last = body;
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the demo dataset never appeared: {last}");
}
