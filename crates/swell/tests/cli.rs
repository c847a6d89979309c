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
