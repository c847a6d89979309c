//! AmazonS3 connections against a local S3-compatible server: moto (PyPI, installed by .ci/run
//! into tests/clients/.venv), since AWS cannot be reached from here. Without it the test is
//! skipped locally and fails under CI.

mod common;

use common::{rows, sync};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use swell_connect::files::FileSource;
use swell_connect::sync::Mode;
use swell_connect::{ConnectError, Properties, Source};
use swell_engine::DataDir;

struct Moto {
    child: Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto() -> Option<Moto> {
    let bin = std::env::var_os("SWELL_TEST_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/clients/.venv/bin/moto_server"));
    if !bin.is_file() {
        return common::skip_or_fail("moto_server", format!("{} is missing", bin.display()));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server starts");
    let moto = Moto { child, url: format!("http://127.0.0.1:{port}") };
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(moto);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("moto_server did not listen on {port}");
}

async fn put(http: &reqwest::Client, url: &str, body: &str) {
    let r = http.put(url).body(body.to_string()).send().await.unwrap();
    assert!(r.status().is_success(), "PUT {url}: {}", r.status());
}

fn props(moto: &Moto, folder: &str) -> Properties {
    Properties::new([
        ("FolderPath".to_string(), folder.to_string()),
        ("AccessKey".to_string(), "AKIATEST".to_string()),
        ("SecretKey".to_string(), "secret".to_string()),
        ("RegionName".to_string(), "us-east-1".to_string()),
        ("Endpoint".to_string(), moto.url.clone()),
    ])
}

#[tokio::test]
async fn lists_describes_and_syncs_objects_in_a_bucket() {
    let Some(moto) = moto() else { return };
    let http = reqwest::Client::new();
    put(&http, &format!("{}/swell-test", moto.url), "").await;
    put(&http, &format!("{}/swell-test/exports/Account.csv", moto.url), "Id,Name,Revenue\nA1,Acme,150.5\nA2,Globex,\n")
        .await;
    put(&http, &format!("{}/swell-test/exports/Orders/part-1.csv", moto.url), "Id,Amount\nO1,10\n").await;
    put(&http, &format!("{}/swell-test/exports/Orders/part-2.csv", moto.url), "Id,Amount\nO2,20\nO3,30\n").await;
    put(&http, &format!("{}/swell-test/exports/readme.txt", moto.url), "not data").await;

    let source = FileSource::from_properties(
        &props(&moto, "swell-test/exports"),
        "AmazonS3",
        &swell_connect::FolderPolicy::default(),
    )
    .unwrap();
    assert_eq!(source.test().await.unwrap(), "Connection Successful");
    let names: Vec<String> = source.objects().await.unwrap().into_iter().map(|o| o.name).collect();
    assert_eq!(names, ["Account", "Orders"]);
    let fields = source.fields("Account").await.unwrap();
    let shown: Vec<String> = fields.iter().map(|f| format!("{}:{}", f.name, f.wire_type())).collect();
    assert_eq!(shown, ["Id:text", "Name:text", "Revenue:numeric"]);

    let dir = tempfile::tempdir().unwrap();
    let table = DataDir::new(dir.path()).connected_object("S3", "Orders").unwrap();
    let orders = source.fields("Orders").await.unwrap();
    let o = sync(&source, &table, "Orders", orders, Mode::Full, Some("Amount > 10")).await.unwrap();
    assert_eq!(o.rows, 2, "a prefix's files are read together, filtered");
    assert!(rows(&table).await.contains("| O3 | 30 "), "{}", rows(&table).await);
    let e = source.fields("Nothing").await.unwrap_err();
    assert!(matches!(e, ConnectError::NotFound(ref m) if m.contains("no object 'Nothing'")), "{e}");

    let missing = FileSource::from_properties(
        &props(&moto, "s3://no-such-bucket/x"),
        "AmazonS3",
        &swell_connect::FolderPolicy::default(),
    )
    .unwrap();
    let e = missing.test().await.unwrap_err().to_string();
    assert!(e.contains("s3://no-such-bucket/x"), "{e}");
    assert!(!e.contains("secret"), "{e}");
    let e = FileSource::from_properties(
        &Properties::new([
            ("FolderPath".to_string(), "s3://b/x".to_string()),
            ("AccessKey".to_string(), "k".to_string()),
        ]),
        "AmazonS3",
        &swell_connect::FolderPolicy::default(),
    )
    .err()
    .unwrap();
    assert_eq!(e.to_string(), "the AmazonS3 connection needs the property 'SecretKey'");
}
