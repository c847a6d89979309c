//! Helpers of the connector tests: the machine's databases, reading a synced version back.
//!
//! PostgreSQL is `SWELL_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`)
//! and MariaDB/MySQL `SWELL_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`).
//! Without a reachable server a test is skipped locally and fails under CI (CI=true).

#![allow(dead_code)]

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;
use std::sync::atomic::AtomicU64;
use swell_connect::sync::{Mode, SyncOutcome, SyncRequest, sync_object};
use swell_connect::{ConnectError, Properties, Source, SourceField};
use swell_engine::storage::VersionedTable;
use tokio_util::sync::CancellationToken;

pub fn pg_url() -> String {
    std::env::var("SWELL_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub fn mysql_url() -> String {
    std::env::var("SWELL_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

/// `None` (skip) when the server is not there, unless under CI.
pub fn skip_or_fail<T>(what: &str, e: impl std::fmt::Display) -> Option<T> {
    if std::env::var("CI").is_ok() {
        panic!("{what} is needed under CI: {e}");
    }
    eprintln!("skipping: {what} is not reachable: {e}");
    None
}

/// A PostgreSQL connection for setup, and connection properties for a fresh schema.
pub async fn postgres() -> Option<(sqlx::PgPool, Properties, String)> {
    let url = pg_url();
    let pool = match sqlx::PgPool::connect(&url).await {
        Ok(p) => p,
        Err(e) => return skip_or_fail("PostgreSQL", e),
    };
    let schema = format!("swell_t_{}", &uuid_like());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&pool).await.unwrap();
    let u = url::Url::parse(&url).unwrap();
    let props = Properties::new([
        ("host".to_string(), u.host_str().unwrap().to_string()),
        ("port".to_string(), u.port().unwrap_or(5432).to_string()),
        ("database".to_string(), u.path().trim_start_matches('/').to_string()),
        ("username".to_string(), u.username().to_string()),
        ("password".to_string(), u.password().unwrap_or("").to_string()),
        ("schema".to_string(), schema.clone()),
    ]);
    Some((pool, props, schema))
}

/// A MySQL/MariaDB connection for setup, and connection properties for its database.
pub async fn mysql() -> Option<(sqlx::MySqlPool, Properties)> {
    let url = mysql_url();
    let pool = match sqlx::MySqlPool::connect(&url).await {
        Ok(p) => p,
        Err(e) => return skip_or_fail("MySQL/MariaDB", e),
    };
    let u = url::Url::parse(&url).unwrap();
    let props = Properties::new([
        ("host".to_string(), u.host_str().unwrap().to_string()),
        ("port".to_string(), u.port().unwrap_or(3306).to_string()),
        ("database".to_string(), u.path().trim_start_matches('/').to_string()),
        ("username".to_string(), u.username().to_string()),
        ("password".to_string(), u.password().unwrap_or("").to_string()),
    ]);
    Some((pool, props))
}

pub fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};
    // tests of one process may read the same clock tick (a schema name collided so): a counter
    // makes the name unique within the process, the pid across processes
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{:x}{:x}{:x}", n, std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Fields as `name fieldType precision/scale pk=bool` lines.
pub fn describe(fields: &[SourceField]) -> Vec<String> {
    fields
        .iter()
        .map(|f| format!("{} {} {}/{} pk={}", f.name, f.wire_type(), f.precision(), f.scale(), f.primary_key))
        .collect()
}

/// The current version's rows, sorted by the first column, as an Arrow text table.
pub async fn rows(table: &VersionedTable) -> String {
    let version = table.current().unwrap().expect("a committed version");
    let ctx = SessionContext::new();
    // with its layers merged, as runs read it
    let df = swell_engine::storage::read_version(&ctx, &version).await.unwrap();
    let first = df.schema().field(0).name().clone();
    let df = df.sort(vec![datafusion::prelude::ident(first).sort(true, true)]).unwrap();
    let batches = df.collect().await.unwrap();
    pretty_format_batches(&batches).unwrap().to_string()
}

/// The Arrow schema stored in the current version's file, as `name: type` lines.
pub async fn schema(table: &VersionedTable) -> Vec<String> {
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let version = table.current().unwrap().expect("a committed version");
    let file = std::fs::File::open(&version.files().unwrap()[0]).unwrap();
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    builder.schema().fields().iter().map(|f| format!("{}: {}", f.name(), f.data_type())).collect()
}

pub async fn sync(
    source: &dyn Source,
    table: &VersionedTable,
    object: &str,
    fields: Vec<SourceField>,
    mode: Mode,
    filter: Option<&str>,
) -> Result<SyncOutcome, ConnectError> {
    let request = SyncRequest {
        connection: "test".to_string(),
        object: object.to_string(),
        label: object.to_string(),
        fields,
        mode,
        filter: filter.map(str::to_string),
        memory_limit: swell_engine::run::DEFAULT_MEMORY_LIMIT,
    };
    sync_object(source, table, &request, &CancellationToken::new(), &AtomicU64::new(0)).await
}

/// A TCP relay that cuts both sides after `limit` bytes from the server: a source that goes
/// down in the middle of a sync.
pub async fn cutting_proxy(target: String, limit: usize) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else { return };
            let server = tokio::net::TcpStream::connect(&target).await.unwrap();
            let (mut cr, mut cw) = client.into_split();
            let (mut sr, mut sw) = server.into_split();
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut cr, &mut sw).await;
            });
            tokio::spawn(async move {
                let mut relayed = 0;
                let mut buf = vec![0u8; 16 * 1024];
                loop {
                    let n = match sr.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    relayed += n;
                    if relayed > limit || cw.write_all(&buf[..n]).await.is_err() {
                        return; // both halves drop: the connection is gone
                    }
                }
            });
        }
    });
    port
}
