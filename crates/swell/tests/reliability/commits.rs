//! Commits of datasets: two writers of one alias, and a commit interrupted between its
//! publication and its record (issue 12, and the race CI found after session 6).

use super::{BIG_ROWS, Server, copy_flow, current, leftovers, objects, whole_versions};
use serde_json::json;
use std::time::{Duration, Instant};

/// (d): two dataflows, and two register nodes of one dataflow, writing one alias at once:
/// every version complete and readable, the current one whole.
#[test]
fn two_writers_of_one_alias_both_commit_whole_versions() {
    let tmp = tempfile::tempdir().unwrap();
    let folder = objects(tmp.path(), true);
    let data = tmp.path().join("data");
    let server = Server::start(tmp.path(), "data", &folder, &["--max-dataflow-jobs", "3"]);
    server.folder_connection("Files", &folder);
    // synced once, so that both runs start writing together
    let warm = server.dataflow("Warm", copy_flow("Files", "Big", &["Id"], "Warm"));
    let j = server.wait(&server.start_job(&warm), Duration::from_secs(600));
    assert_eq!(j["status"], "Success", "{j}");
    let a = server.dataflow("Writer_A", copy_flow("Files", "Big", &["Id", "Stage", "Amount"], "Shared"));
    let b = server.dataflow("Writer_B", copy_flow("Files", "Big", &["Id", "Amount"], "Shared"));
    let twice = server.dataflow(
        "Writer_Twice",
        json!({
            "Extract": {"action": "digest", "parameters": {"connectionName": "Files", "object": "Big", "fields": [{"name": "Id"}]}},
            "One": {"action": "sfdcRegister", "parameters": {"alias": "Twice", "name": "Twice", "source": "Extract"}},
            "Two": {"action": "sfdcRegister", "parameters": {"alias": "Twice", "name": "Twice", "source": "Extract"}}
        }),
    );
    let jobs: Vec<String> = [&a, &b, &twice].iter().map(|d| server.start_job(d)).collect();
    for job in &jobs {
        let j = server.wait(job, Duration::from_secs(600));
        assert_eq!(j["status"], "Success", "{j}");
    }
    for (alias, count) in [("Shared", 2), ("Twice", 2)] {
        let table = data.join("datasets").join(alias);
        let versions = whole_versions(&table);
        assert_eq!(versions.len(), count, "{alias}: {versions:?}");
        assert!(versions.iter().all(|(_, rows)| *rows == BIG_ROWS as u64), "{alias}: {versions:?}");
        assert!(versions.iter().any(|(v, _)| *v == current(&table)), "{alias}: the current version is one of them");
        let listed = server.ok("GET", &format!("datasets/{alias}/versions"), None);
        assert_eq!(listed["versions"].as_array().map(Vec::len), Some(count), "{listed}");
    }
    assert!(leftovers(&data).is_empty(), "{:?}", leftovers(&data));
}

/// A server that died between publishing a run's datasets and making its record visible
/// leaves each dataset's `.committing` marker: at the next start, a commit the store recorded
/// is kept and one it did not record is undone (the previous version current again).
#[test]
fn an_interrupted_commit_is_settled_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let folder = objects(tmp.path(), false);
    let data = tmp.path().join("data");
    let server = Server::start(tmp.path(), "data", &folder, &[]);
    server.folder_connection("Files", &folder);
    let flow = server.dataflow(
        "Two_Aliases",
        json!({
            "Extract": {"action": "digest", "parameters": {"connectionName": "Files", "object": "Account", "fields": [{"name": "Id"}]}},
            "Kept": {"action": "sfdcRegister", "parameters": {"alias": "Kept", "name": "Kept", "source": "Extract"}},
            "Undone": {"action": "sfdcRegister", "parameters": {"alias": "Undone", "name": "Undone", "source": "Extract"}}
        }),
    );
    let j = server.wait(&server.start_job(&flow), Duration::from_secs(120));
    assert_eq!(j["status"], "Success", "{j}");
    drop(server);

    // "Kept": its recorded (and only) version published, its marker not yet removed
    let kept = data.join("datasets/Kept");
    let recorded = current(&kept);
    let marker = json!({"previous": null, "versions": [recorded]});
    std::fs::write(kept.join(".committing"), marker.to_string()).unwrap();
    // "Undone": a second version published that no record names
    let undone = data.join("datasets/Undone");
    let before = current(&undone);
    let table = swell_engine::DataDir::new(&data).dataset("Undone").unwrap();
    let previous = table.current().unwrap().unwrap();
    let mut staged = table.stage("20990101T000000000Z-unrecord").unwrap();
    std::fs::copy(previous.files().unwrap()[0].clone(), staged.dir().join("part-0.parquet")).unwrap();
    let mut metadata = previous.metadata.clone();
    metadata.version_id = staged.id().to_string();
    staged.prepare(&metadata).unwrap();
    drop(swell_engine::storage::publish_all(vec![staged]).unwrap());
    assert_ne!(current(&undone), before, "published before its record, as a dying server leaves it");
    assert_eq!(whole_versions(&undone).len(), 2);

    let server = Server::start(tmp.path(), "data", &folder, &[]);
    let started = Instant::now();
    while undone.join(".committing").exists() || kept.join(".committing").exists() {
        assert!(started.elapsed() < Duration::from_secs(30), "the markers were not settled");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(current(&kept), recorded);
    assert_eq!(whole_versions(&kept).len(), 1, "the recorded version is kept");
    assert_eq!(current(&undone), before, "the previous version is current again");
    assert_eq!(whole_versions(&undone).len(), 1, "the unrecorded version is removed");
    for alias in ["Kept", "Undone"] {
        let listed = server.ok("GET", &format!("datasets/{alias}/versions"), None);
        assert_eq!(listed["versions"].as_array().map(Vec::len), Some(1), "{listed}");
    }
    assert!(leftovers(&data).is_empty(), "{:?}", leftovers(&data));

    // a stopped run's last file can outlive its writer's removal of the staging folder (the
    // probe found one, without its lease): the running server's next sweep takes it
    let stray = undone.join("versions/.staging-20990101T000000000Z-stopped");
    std::fs::create_dir_all(&stray).unwrap();
    std::fs::write(stray.join("part-0.parquet"), b"half").unwrap();
    let started = Instant::now();
    while stray.exists() {
        assert!(started.elapsed() < Duration::from_secs(30), "a lease-less staging folder stayed");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(whole_versions(&undone).len(), 1);
}
