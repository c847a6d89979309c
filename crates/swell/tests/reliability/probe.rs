//! The hostile probes' findings (issue 12): each answered wrongly before, each a clear
//! answer now. Part of the reliability suite ([`super`]), with its server and helpers.

use super::*;

/// The rest of the hostile probe of issue 12, each answered wrongly before: a start while the
/// dataflow runs queued a second run; a PATCH with another name answered 200 and ignored it;
/// duplicate JSON keys kept the last silently; a schedule of an unknown asset said "data
/// connector"; `files` beside `Files` made a second connection; a sync dataflow could be
/// deleted by itself; a run could fill the disk; a failed first run left empty folders.
#[test]
fn probe_findings_get_clear_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let folder = objects(tmp.path(), true);
    let server = Server::start(tmp.path(), "data", &folder, &[]);
    server.folder_connection("Files", &folder);
    let long = server.dataflow("Long", copy_flow("Files", "Big", &["Id", "Stage"], "Long"));
    let job = server.start_job(&long);
    server.wait_status(&job, "Running", Duration::from_secs(60));
    let (status, v) = server.call("POST", "dataflowjobs", Some(json!({"dataflowId": long, "command": "start"})));
    assert_eq!(status, 409, "{v}");
    assert!(v.to_string().contains("already in the queue"), "{v}");
    let j = server.wait(&job, Duration::from_secs(600));
    assert_eq!(j["status"], "Success", "{j}");
    let sync_flow = j["syncDataflows"]["dataflows"][0]["id"].as_str().unwrap().to_string();
    server.refused("DELETE", &format!("dataflows/{sync_flow}"), json!({}), &["sync dataflow", "Files"]);
    server.refused("PATCH", &format!("dataflows/{sync_flow}"), json!({"label": "x"}), &["sync dataflow"]);
    // another run can start once it ended
    server.start_job(&long);

    server.refused("PATCH", &format!("dataflows/{long}"), json!({"name": "Renamed"}), &["name", "cannot change"]);
    server.ok("PATCH", &format!("dataflows/{long}"), Some(json!({"name": "Long", "label": "Still long"})));

    let duplicated = r#"{"name": "Dup", "definition": {
        "A": {"action": "digest", "parameters": {"connectionName": "Files", "object": "Account", "fields": [{"name": "Id"}]}},
        "A": {"action": "digest", "parameters": {"connectionName": "Files", "object": "Big", "fields": [{"name": "Id"}]}}}}"#;
    let (status, text) = request(&server.run.base, "POST", &format!("{WAVE}/dataflows"), TOKEN, duplicated);
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("JSON_PARSER_ERROR") && text.contains("definition.A"), "{text}");

    let (status, v) = server.call("GET", "asset/NoSuchThing/schedule", None);
    assert_eq!(status, 404, "{v}");
    assert!(v.to_string().contains("asset NoSuchThing"), "{v}");

    let (status, v) = server.call(
        "POST",
        "dataConnectors",
        Some(json!({"name": "files", "connectorType": "AmazonS3",
                    "connectionProperties": [{"name": "FolderPath", "value": folder.to_str().unwrap()}]})),
    );
    assert_eq!(status, 409, "{v}");
    assert!(v.to_string().contains("regardless of case"), "{v}");
    server.wait_idle(Duration::from_secs(600));

    // the second round of the probe: bodies that are not objects, Run Now's body, stored forms
    // that are not what they say, and definitions past the node limit answered at once
    for raw in ["[]", "\"hello\"", "null", "123"] {
        let (status, text) = request(&server.run.base, "POST", &format!("{WAVE}/dataflows"), TOKEN, raw);
        assert_eq!(status, 400, "{raw}: {text}");
        assert!(text.contains("must be a JSON object"), "{raw}: {text}");
    }
    let (status, text) =
        request(&server.run.base, "POST", &format!("{WAVE}/dataConnectors/Files/ingest"), TOKEN, r#"{"a": 1, "a": 2}"#);
    assert_eq!(status, 400, "{text}");
    let stored = r#"{"nodes": {"G": {"action": "sobjectDigest", "parameters": {"object": "Account", "fields": [{"name": "Id"}]}}}}"#;
    for definition in [json!([stored, "xx"]), json!([json!([stored, null]).to_string(), null])] {
        server.refused("POST", "dataflows", json!({"name": "Odd", "definition": definition}), &["definition"]);
    }
    let many: serde_json::Map<String, Value> = (0..3000).map(|i| (format!("k{i}"), json!({}))).collect();
    let text = server.refused("POST", "dataflows", json!({"name": "Many", "definition": many}), &["at most 2000"]);
    assert!(text.len() < 2000, "one problem, not one per node: {} bytes", text.len());
    let recipe = json!({"name": "ManyR", "recipeDefinition": {"version": "62.0", "nodes": many}});
    server.refused("POST", "recipes", recipe, &["at most 2000"]);

    // a server that must keep more disk free than there is fails runs before they write
    let cramped = Server::start(tmp.path(), "cramped", &folder, &["--min-free-mb", "1000000000"]);
    cramped.folder_connection("Files", &folder);
    let flow = cramped.dataflow("Small", copy_flow("Files", "Account", &["Id"], "Small"));
    let j = cramped.wait(&cramped.start_job(&flow), Duration::from_secs(120));
    assert_eq!(j["status"], "Failure", "{j}");
    assert!(j["message"].as_str().unwrap().contains("kept free"), "{j}");
    let data = tmp.path().join("cramped");
    assert!(!data.join("datasets/Small").exists(), "a failed first run left its folders");
    assert!(leftovers(&data).is_empty(), "{:?}", leftovers(&data));
    cramped.alive();
}
