//! The `swell` binary as users run it: exit codes, output, files written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod clients;
mod reliability;

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
    // not a file, or far too large: refused before it is read (the hostile probe read /dev/zero)
    let device = swell(&["validate", "/dev/zero"], tmp.path());
    assert_eq!(device.status.code(), Some(2));
    assert!(text(&device).contains("not a regular file"), "{}", text(&device));
    // a byte-order mark (Windows editors) is not part of the JSON
    let flow = std::fs::read_to_string(example().join("dataflow.json")).unwrap();
    std::fs::write(tmp.path().join("bom.json"), format!("\u{feff}{flow}")).unwrap();
    let bom = swell(&["validate", "bom.json"], tmp.path());
    assert_eq!(bom.status.code(), Some(0), "{}", text(&bom));
    let usage = swell(&["frobnicate"], tmp.path());
    assert_eq!(usage.status.code(), Some(2));
}

/// Every setting is a flag (with its environment variable); secrets given in the environment
/// are never shown by `--help`, and a wrong one stops the start saying which.
#[test]
fn settings_are_flags_and_secrets_stay_out_of_help() {
    let tmp = tempfile::tempdir().unwrap();
    let help = Command::new(env!("CARGO_BIN_EXE_swell"))
        .args(["serve", "--help"])
        .env("SWELL_API_TOKEN", "00DLOCAL!top-secret-token")
        .env("SWELL_SECRET_KEY", "ab".repeat(32))
        .output()
        .unwrap();
    let h = text(&help);
    for flag in ["--memory-mb", "--secret-key", "--api-token", "--min-free-mb", "--server-id"] {
        assert!(h.contains(flag), "{flag} missing from serve --help:\n{h}");
    }
    assert!(!h.contains("top-secret-token") && !h.contains(&"ab".repeat(32)), "{h}");
    let run_help = text(&swell(&["run", "--help"], tmp.path()));
    assert!(run_help.contains("--memory-mb"), "{run_help}");
    // too little memory for any run is a usage error
    let small = swell(&["run", "x.json", "--memory-mb", "1"], tmp.path());
    assert_eq!(small.status.code(), Some(2), "{}", text(&small));
    assert!(text(&small).contains("--memory-mb"), "{}", text(&small));
    // a wrong key stops the start, naming it
    let bad = swell(&["serve", "--listen", "127.0.0.1:0", "--data-dir", "data", "--secret-key", "xyz"], tmp.path());
    assert_ne!(bad.status.code(), Some(0));
    assert!(text(&bad).contains("64 hex digits"), "{}", text(&bad));
}

/// issue 13: the forms orgs store definitions in are read by `swell validate`, `swell run`
/// and the API (which keeps the public form); a Data Prep Classic recipe is refused by name.
#[test]
fn stored_definitions_are_read_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let stored = serde_json::json!({"nodes": {
        "Get": {"action": "sobjectDigest", "parameters": {"object": "T", "fields": [{"name": "Id"}, {"name": "Name"}]}},
        "Save": {"action": "register", "sources": ["Get"], "parameters": {"name": "ns__Things", "label": "Things"}}
    }})
    .to_string();
    let wdf = serde_json::json!([stored, null]).to_string();
    std::fs::write(tmp.path().join("flow.wdf"), &wdf).unwrap();
    std::fs::create_dir_all(tmp.path().join("objects")).unwrap();
    std::fs::write(tmp.path().join("objects/T.csv"), "Id,Name\n1,abc\n2,def\n").unwrap();
    let ok = swell(&["validate", "flow.wdf"], tmp.path());
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    // an --out that cannot be written fails the run before it commits anything
    std::fs::write(tmp.path().join("taken"), "a file").unwrap();
    let blocked = swell(
        &["run", "flow.wdf", "--objects", "objects", "--data-dir", "data", "--out", "taken", "--quiet"],
        tmp.path(),
    );
    assert_eq!(blocked.status.code(), Some(2), "{}", text(&blocked));
    assert!(text(&blocked).contains("--out taken"), "{}", text(&blocked));
    assert!(!tmp.path().join("data/datasets/ns__Things/current").exists(), "a failed run committed");
    let run = swell(&["run", "flow.wdf", "--objects", "objects", "--data-dir", "data", "--quiet"], tmp.path());
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    assert!(tmp.path().join("data/datasets/ns__Things/current").is_file());
    std::fs::write(tmp.path().join("classic.wdpr"), r#"{"steps": [], "tableModelInfo": {}, "version": "214.0.0"}"#)
        .unwrap();
    let r2 = swell(&["validate", "classic.wdpr"], tmp.path());
    assert_eq!(r2.status.code(), Some(2));
    assert!(text(&r2).contains("Data Prep Classic (R2) recipe"), "{}", text(&r2));

    let token = "stored-form-token";
    let server = start(&["serve", "--listen", "127.0.0.1:0", "--data-dir", "served"], tmp.path(), Some(token));
    let body =
        serde_json::json!({"name": "Stored", "definition": serde_json::from_str::<serde_json::Value>(&wdf).unwrap()});
    let (status, created) =
        request(&server.base, "POST", "/services/data/v62.0/wave/dataflows", token, &body.to_string());
    assert_eq!(status, 201, "{created}");
    let created: serde_json::Value = serde_json::from_str(&created).unwrap();
    let definition = &created["definition"];
    assert_eq!(definition["Get"]["action"], "sfdcDigest", "kept in the public form: {definition}");
    assert_eq!(definition["Save"]["parameters"]["alias"], "ns__Things");
    assert_eq!(definition["Save"]["parameters"]["source"], "Get");
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
    request(base, "GET", path, token, "")
}

fn request(base: &str, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let host = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(host).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nX-Chatter-Entity-Encoding: false\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
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
    // a client without a token is answered at once, before its body (which never comes)
    use std::io::{Read, Write};
    let host = server.base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    let head = format!(
        "POST /services/data/v62.0/wave/dataflows HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{"
    );
    s.write_all(head.as_bytes()).unwrap();
    let started = std::time::Instant::now();
    let mut answer = [0u8; 512];
    let n = s.read(&mut answer).expect("an answer before the body arrives");
    let answer = String::from_utf8_lossy(&answer[..n]).to_string();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

/// Issue 15: `swell user` adds users with a role on a server's data dir; their token reads
/// but may not do what the role does not allow (403), and stops once they are deactivated.
/// No token or secret reaches the server's log.
#[test]
fn users_from_the_shell_sign_in_with_their_role() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(&["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"], tmp.path(), Some("admin-token"));
    let out = swell(&["user", "add", "ana@example.com", "--role", "viewer", "--data-dir", "data"], tmp.path());
    assert!(out.status.success(), "{}", text(&out));
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(printed.contains("role viewer"), "{printed}");
    let token = printed.lines().find_map(|l| l.split("(shown once): ").nth(1)).expect("a token").trim().to_string();
    assert!(token.starts_with("00D") && token.contains('!'), "{token}");
    let (status, _) = get(&server.base, "/services/data/v62.0/wave/dataflows", &token);
    assert_eq!(status, 200);
    let (status, body) =
        request(&server.base, "POST", "/services/data/v62.0/wave/dataflows", &token, r#"{"name": "Nope"}"#);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("INSUFFICIENT_ACCESS") && body.contains("needs the editor role"), "{body}");
    let out = swell(&["user", "set-role", "ana@example.com", "editor", "--data-dir", "data"], tmp.path());
    assert!(out.status.success(), "{}", text(&out));
    let (status, body) =
        request(&server.base, "POST", "/services/data/v62.0/wave/dataflows", &token, r#"{"name": "Yes"}"#);
    assert_eq!(status, 201, "{body}");
    let listed = swell(&["user", "list", "--data-dir", "data"], tmp.path());
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    assert!(
        listed.contains("ana@example.com\teditor\tactive") && listed.contains("admin@swell.local\tadmin"),
        "{listed}"
    );
    assert!(!listed.contains(&token[16..]), "lists never show a token");
    // a password from standard input (never from the command line) signs in to the web UI
    let with_stdin = |stdin: &str, user: &str| {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_swell"))
            .args(["user", "set-password", user, "--data-dir", "data"])
            .current_dir(tmp.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // the child may have ended before reading (an unknown user): a closed pipe is fine
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        child.wait_with_output().unwrap()
    };
    let out = with_stdin("a long pass phrase\r\nignored\n", "ana@example.com");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("password set for ana@example.com"), "{}", text(&out));
    let sign_in = |password: &str| {
        use std::io::{Read, Write};
        let host = server.base.trim_start_matches("http://");
        let body = format!("username=ana%40example.com&password={}", password.replace(' ', "+"));
        let mut s = std::net::TcpStream::connect(host).unwrap();
        let head = format!(
            "POST /ui/login HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out[9..12].to_string()
    };
    assert_eq!(sign_in("a long pass phrase"), "303");
    assert_eq!(sign_in("a long pass phrase\r"), "401", "the line ending is not part of it");
    let out = with_stdin("", "ana@example.com");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("no password on standard input"), "{}", text(&out));
    let out = with_stdin("short\n", "ana@example.com");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("at least 8 characters"), "{}", text(&out));
    let out = with_stdin("a long pass phrase\n", "nobody@example.com");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(sign_in("a long pass phrase"), "303", "failures changed nothing");
    let out = swell(&["user", "deactivate", "ana@example.com", "--data-dir", "data"], tmp.path());
    assert!(out.status.success(), "{}", text(&out));
    let (status, _) = get(&server.base, "/services/data/v62.0/wave/dataflows", &token);
    assert_eq!(status, 401, "a deactivated user's token stops at once");
    // mistakes are named, with exit code 2
    let out = swell(&["user", "add", "bob", "--role", "root", "--data-dir", "data"], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("'root' is not a role"), "{}", text(&out));
    let out = swell(&["user", "set-role", "admin@swell.local", "viewer", "--data-dir", "data"], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("stays an active admin"), "{}", text(&out));
    let out = swell(&["user", "list", "--data-dir", "nowhere"], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("no swell data dir"), "{}", text(&out));
}

/// Issue 15: no log line holds a token or a password, at the most talkative log level,
/// through a user's whole life: made from the shell, a password set, signed in over OAuth2
/// (one wrong password) and through a connected app (one wrong secret), requests with the
/// tokens, the audit log read. Neither does the audit log.
#[test]
fn no_log_line_holds_a_token_or_a_password() {
    use std::io::BufRead;
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("server.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_swell"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"])
        .current_dir(tmp.path())
        .env("SWELL_API_TOKEN", "00DSW0000000001!the-admin-secret")
        .env("SWELL_LOG", "trace")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.starts_with("listening on ") {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "swell exited early");
    }
    let base = line.trim().trim_start_matches("listening on ").to_string();
    let out = swell(&["user", "add", "eve@example.com", "--role", "editor", "--data-dir", "data"], tmp.path());
    assert!(out.status.success(), "{}", text(&out));
    let first = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.split("(shown once): ").nth(1).map(str::to_string))
        .unwrap();
    let admin = "00DSW0000000001!the-admin-secret";
    let (status, users) = get(&base, "/services/data/v62.0/swell/users", admin);
    assert_eq!(status, 200, "{users}");
    let users: serde_json::Value = serde_json::from_str(&users).unwrap();
    let id = users["users"].as_array().unwrap().iter().find(|u| u["username"] == "eve@example.com").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let password = "Pa55-word-that-must-not-leak";
    let (status, body) = request(
        &base,
        "PATCH",
        &format!("/services/data/v62.0/swell/users/{id}"),
        admin,
        &format!(r#"{{"password": "{password}"}}"#),
    );
    assert_eq!(status, 200, "{body}");
    let form = |body: &str| {
        use std::io::{Read, Write};
        let host = base.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(host).unwrap();
        let head = format!(
            "POST /services/oauth2/token HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    let wrong = form("grant_type=password&username=eve%40example.com&password=Wrong-guess-that-must-not-leak");
    assert!(wrong.contains("invalid_grant"), "{wrong}");
    let answer = form(&format!(
        "grant_type=password&client_id=c&client_secret=s&username=eve%40example.com&password={password}"
    ));
    let session =
        answer.split("\"access_token\":\"").nth(1).and_then(|r| r.split('"').next()).expect("a token").to_string();
    for token in [&first, &session] {
        let (status, _) = get(&base, "/services/data/v62.0/wave/dataflows", token);
        assert_eq!(status, 200);
    }
    let (status, _) = request(&base, "POST", "/services/data/v62.0/wave/dataflows", &first, r#"{"name": "Logged"}"#);
    assert_eq!(status, 201);
    // a connected app: its secret, right and wrong
    let made = swell(&["user", "client", "create", "eve@example.com", "--data-dir", "data"], tmp.path());
    assert!(made.status.success(), "{}", text(&made));
    let made = String::from_utf8_lossy(&made.stdout).to_string();
    let client = made.lines().find_map(|l| l.strip_prefix("client id: ")).unwrap().trim().to_string();
    let secret = made.lines().find_map(|l| l.strip_prefix("client secret (shown once): ")).unwrap().trim().to_string();
    let wrong_secret = "Wrong-secret-that-must-not-leak";
    let refused = form(&format!("grant_type=client_credentials&client_id={client}&client_secret={wrong_secret}"));
    assert!(refused.contains("invalid_grant"), "{refused}");
    let answer = form(&format!("grant_type=client_credentials&client_id={client}&client_secret={secret}"));
    let by_client =
        answer.split("\"access_token\":\"").nth(1).and_then(|r| r.split('"').next()).expect("a token").to_string();
    assert_eq!(get(&base, "/services/data/v62.0/wave/dataflows", &by_client).0, 200);
    let (status, audit) = get(&base, "/services/data/v62.0/swell/audit?pageSize=200", admin);
    assert_eq!(status, 200, "{audit}");
    assert!(audit.contains("wrong secret") && audit.contains("wrong password"), "{audit}");
    let _ = child.kill();
    let _ = child.wait();
    let logged = std::fs::read_to_string(&log).unwrap();
    // the log was written (the failed and the successful sign-in are in it)
    assert!(logged.contains("sign-in failed") && logged.contains("sign in"), "the log is written");
    assert!(logged.contains("eve@example.com"), "the log names the user, not their secrets");
    for secret in [
        admin,
        first.as_str(),
        session.as_str(),
        password,
        "Wrong-guess-that-must-not-leak",
        "the-admin-secret",
        secret.as_str(),
        wrong_secret,
        by_client.as_str(),
    ] {
        assert!(!logged.contains(secret), "the log holds '{secret}'");
        assert!(!audit.contains(secret), "the audit log holds '{secret}'");
        // nor the secret part alone
        let tail = secret.rsplit('!').next().unwrap();
        assert!(!logged.contains(tail), "the log holds '{tail}'");
    }
}

#[test]
fn demo_runs_its_dataflow() {
    let tmp = tempfile::tempdir().unwrap();
    let demo = start(&["demo", "--listen", "127.0.0.1:0", "--data-dir", "data"], tmp.path(), None);
    let token = std::fs::read_to_string(tmp.path().join("data/api-token")).unwrap();
    assert!(demo.lines.iter().any(|l| l.contains(&token)), "the token is printed: {:?}", demo.lines);
    let wait_for_dataset = |name: &str| {
        let mut last = String::new();
        for _ in 0..200 {
            let (status, body) = get(&demo.base, &format!("/services/data/v66.0/wave/datasets/{name}"), &token);
            if status == 200 && body.contains("currentVersionId") {
                return;
            }
            last = body;
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the demo dataset {name} never appeared: {last}");
    };
    wait_for_dataset("Demo_Opportunities");
    // the dataflow has its schedule; the demo recipe runs on the same sample
    let (_, flows) = get(&demo.base, "/services/data/v66.0/wave/dataflows", &token);
    assert!(flows.contains("nextScheduledDate"), "{flows}");
    let (_, recipes) = get(&demo.base, "/services/data/v66.0/wave/recipes", &token);
    let recipes: serde_json::Value = serde_json::from_str(&recipes).unwrap();
    let recipe = &recipes["recipes"][0];
    assert_eq!(
        (recipe["name"].as_str(), recipe["validationDetails"].clone()),
        (Some("Demo_Open_Cases"), serde_json::json!([]))
    );
    let body = format!(r#"{{"dataflowId":"{}","command":"start"}}"#, recipe["targetDataflowId"].as_str().unwrap());
    let (status, job) = request(&demo.base, "POST", "/services/data/v66.0/wave/dataflowjobs", &token, &body);
    assert_eq!(status, 201, "{job}");
    wait_for_dataset("Demo_Open_Cases");
}

/// Extracts `"key":"value"` from a JSON text.
fn field(body: &str, key: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    v[key].as_str().unwrap_or_default().to_string()
}

/// kill -9 while a job runs: after a restart the job is a Failure that says why, and a job that
/// was queued behind it runs.
#[test]
fn a_restart_after_kill_marks_running_jobs_failed_and_runs_queued_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut csv = String::from("Region,Seq,Amount\n");
    for i in 0..2_000_000 {
        csv.push_str(&format!("R{},{},{}\n", i % 5, i, i % 1000));
    }
    let file = tmp.path().join("Sales.csv");
    std::fs::write(&file, csv).unwrap();
    let dd = swell_engine::DataDir::new(&data);
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(swell_engine::run::import_file(
            &dd.connected_object("SFDC_LOCAL", "Sales").unwrap(),
            &file,
            "Sales",
            "Sales",
        ))
        .unwrap();
    let token = "kill-test-token";
    // one dataflow job at a time: the second dataflow's job waits in the queue
    let mut server = start(
        &["serve", "--listen", "127.0.0.1:0", "--data-dir", "data", "--max-dataflow-jobs", "1"],
        tmp.path(),
        Some(token),
    );
    let slow = r#"{"name": "Slow", "definition": {
        "d": {"action": "sfdcDigest", "parameters": {"object": "Sales", "fields": [{"name": "Region"}, {"name": "Seq"}, {"name": "Amount"}]}},
        "cr": {"action": "computeRelative", "parameters": {"source": "d", "partitionBy": ["Region"], "orderBy": [{"name": "Seq", "direction": "asc"}],
            "computedFields": [{"name": "Running", "type": "Numeric", "saqlExpression": "coalesce(previous(Running), 0) + Amount"}]}},
        "r": {"action": "sfdcRegister", "parameters": {"alias": "Running", "name": "Running", "source": "cr"}}}}"#;
    let (status, body) = request(&server.base, "POST", "/services/data/v62.0/wave/dataflows", token, slow);
    assert_eq!(status, 201, "{body}");
    let dataflow = field(&body, "id");
    let start_body = format!(r#"{{"dataflowId": "{dataflow}", "command": "start"}}"#);
    let (_, body) = request(&server.base, "POST", "/services/data/v62.0/wave/dataflowjobs", token, &start_body);
    let running = field(&body, "id");
    for _ in 0..200 {
        let (_, b) = get(&server.base, &format!("/services/data/v62.0/wave/dataflowjobs/{running}"), token);
        if field(&b, "status") == "Running" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    let (status, body) = request(&server.base, "POST", "/services/data/v62.0/wave/dataflowjobs", token, &start_body);
    assert_eq!(status, 409, "a running dataflow refuses a second run: {body}");
    let other = slow
        .replace(r#""name": "Slow""#, r#""name": "Other""#)
        .replace(r#""alias": "Running", "name": "Running""#, r#""alias": "Other", "name": "Other""#);
    let (status, body) = request(&server.base, "POST", "/services/data/v62.0/wave/dataflows", token, &other);
    assert_eq!(status, 201, "{body}");
    let other_start = format!(r#"{{"dataflowId": "{}", "command": "start"}}"#, field(&body, "id"));
    let (status, body) = request(&server.base, "POST", "/services/data/v62.0/wave/dataflowjobs", token, &other_start);
    assert_eq!(status, 201, "another dataflow queues behind the first: {body}");
    let queued = field(&body, "id");
    server.child.kill().unwrap(); // SIGKILL: no graceful shutdown
    server.child.wait().unwrap();

    let server = start(&["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"], tmp.path(), Some(token));
    let mut last = String::new();
    for _ in 0..300 {
        let (_, a) = get(&server.base, &format!("/services/data/v62.0/wave/dataflowjobs/{running}"), token);
        let (_, b) = get(&server.base, &format!("/services/data/v62.0/wave/dataflowjobs/{queued}"), token);
        if field(&a, "status") == "Failure" && field(&b, "status") == "Success" {
            assert_eq!(field(&a, "message"), "The server stopped while this job ran.");
            // SIGTERM: a graceful shutdown that exits 0
            let mut server = server;
            let pid = server.child.id().to_string();
            assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
            for _ in 0..100 {
                if let Some(status) = server.child.try_wait().unwrap() {
                    assert!(status.success(), "{status}");
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            panic!("swell serve did not stop on SIGTERM");
        }
        last = format!("{a}\n{b}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("after the restart: {last}");
}

/// A PostgreSQL database of its own for one test (`SWELL_TEST_POSTGRES_URL` names the server),
/// dropped when the test ends; `None` without PostgreSQL locally (CI=true requires it).
struct PgDatabase {
    rt: tokio::runtime::Runtime,
    admin: swell_store::Store,
    name: String,
    url: String,
}

impl PgDatabase {
    fn new(prefix: &str) -> Option<PgDatabase> {
        let admin_url = std::env::var("SWELL_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let rt = tokio::runtime::Runtime::new().unwrap();
        let admin = match rt.block_on(swell_store::Store::open(&admin_url)) {
            Ok(s) => s,
            Err(e) if std::env::var("CI").is_err() => {
                eprintln!("skipping: no PostgreSQL ({e})");
                return None;
            }
            Err(e) => panic!("PostgreSQL at {admin_url} is needed under CI: {e}"),
        };
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        rt.block_on(admin.execute_admin(&format!("CREATE DATABASE {name}"))).unwrap();
        let url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
        Some(PgDatabase { rt, admin, name, url })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ =
            self.rt.block_on(self.admin.execute_admin(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)));
    }
}

/// Two servers on one PostgreSQL database, as a scale-out deployment runs them: jobs started
/// through either run once each, and a schedule due now fires once although both schedulers
/// see it. Skipped without PostgreSQL locally; required under CI.
#[test]
fn two_servers_share_one_postgres() {
    let Some(pg) = PgDatabase::new("swell_two") else { return };
    let url = pg.url.clone();
    let tmp = tempfile::tempdir().unwrap();
    let token = "two-servers";
    // one data dir (datasets, keys) shared by both, each server with an id of its own: a server
    // that starts fails only the jobs it was running itself
    let serve = |id: &str| {
        start(
            &["serve", "--listen", "127.0.0.1:0", "--data-dir", "shared", "--database-url", &url, "--server-id", id],
            tmp.path(),
            Some(token),
        )
    };
    let (a, b) = (serve("server-a"), serve("server-b"));
    let wave = "/services/data/v62.0/wave";
    let json = |s: &str| -> serde_json::Value { serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}")) };

    let mut flows = Vec::new();
    for i in 0..6 {
        let (s, body) =
            request(&a.base, "POST", &format!("{wave}/dataflows"), token, &format!(r#"{{"name":"Flow{i}"}}"#));
        assert_eq!(s, 201, "{body}");
        flows.push(json(&body)["id"].as_str().unwrap().to_string());
    }
    // each server sees what the other wrote, and either may run what either queued
    let mut jobs = Vec::new();
    for (i, df) in flows.iter().enumerate() {
        let server = if i % 2 == 0 { &a } else { &b };
        let (s, body) = request(
            &server.base,
            "POST",
            &format!("{wave}/dataflowjobs"),
            token,
            &format!(r#"{{"dataflowId":"{df}","command":"start"}}"#),
        );
        assert_eq!(s, 201, "{body}");
        jobs.push(json(&body)["id"].as_str().unwrap().to_string());
    }
    for job in &jobs {
        for _ in 0..300 {
            let status = json(&get(&b.base, &format!("{wave}/dataflowjobs/{job}"), token).1)["status"].clone();
            if status != "Queued" && status != "Running" {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        // an empty dataflow ends in Failure ("the definition has no nodes"): it ran, once
        let j = json(&get(&b.base, &format!("{wave}/dataflowjobs/{job}"), token).1);
        assert_eq!(
            (j["status"].as_str(), j["message"].as_str()),
            (
                Some("Failure"),
                Some("Definition error: The dataflow definition is invalid: the definition has no nodes")
            )
        );
    }

    // a schedule due at the next minute: both schedulers wake for it, one job is queued
    let now = chrono::Utc::now() + chrono::Duration::minutes(1);
    let body = format!(
        r#"{{"frequency":"daily","time":{{"hour":{},"minute":{},"timeZone":"UTC"}}}}"#,
        chrono::Timelike::hour(&now),
        chrono::Timelike::minute(&now)
    );
    let (s, out) = request(&a.base, "PUT", &format!("{wave}/asset/{}/schedule", flows[0]), token, &body);
    assert_eq!(s, 200, "{out}");
    let next: chrono::DateTime<chrono::Utc> =
        json(&get(&b.base, &format!("{wave}/asset/{}/schedule", flows[0]), token).1)["nextScheduledDate"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
    let list = format!("{wave}/dataflowjobs?dataflowId={}", flows[0]);
    while chrono::Utc::now() < next + chrono::Duration::seconds(5) {
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    let mut total = 0;
    for _ in 0..40 {
        total = json(&get(&a.base, &list, token).1)["totalSize"].as_i64().unwrap();
        if total == 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    std::thread::sleep(std::time::Duration::from_secs(1));
    let after = json(&get(&a.base, &list, token).1)["totalSize"].as_i64().unwrap();
    assert_eq!((total, after), (2, 2), "the manual run and exactly one scheduled run");
    drop((a, b));
    drop(pg);
}
