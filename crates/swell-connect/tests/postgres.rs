//! The PostgreSQL connector against the machine's PostgreSQL: type mapping, full and
//! incremental syncs with updates and deletes, filters, bad input, and a server that goes
//! away in the middle of a sync.

mod common;

use chrono::{TimeZone, Utc};
use common::{postgres, rows, schema, sync};
use std::sync::atomic::AtomicU64;
use swell_connect::postgres::PostgresSource;
use swell_connect::sync::{Mode, SyncRequest, sync_object};
use swell_connect::{ConnectError, Properties, Source};
use swell_engine::DataDir;
use tokio_util::sync::CancellationToken;

async fn exec(pool: &sqlx::PgPool, schema: &str, sql: &str) {
    let sql = sql.replace("S.", &format!("{schema}."));
    for statement in sql.split(';').filter(|s| !s.trim().is_empty()) {
        sqlx::query(sqlx::AssertSqlSafe(statement.to_string())).execute(pool).await.unwrap();
    }
}

const SETUP: &str = "
CREATE TABLE S.account (
    id integer PRIMARY KEY,
    name varchar(80),
    revenue numeric(12,2),
    rate real,
    employees bigint,
    active boolean,
    founded date,
    updated_at timestamp NOT NULL,
    seen timestamptz,
    notes text
);
INSERT INTO S.account VALUES
 (1, 'Acme', 1234.50, 0.25, 120, true, '1999-12-31', '2026-01-01 10:00:00', '2026-01-01 10:00:00+02', 'first'),
 (2, 'Globex', NULL, NULL, NULL, false, NULL, '2026-01-01 11:00:00', NULL, ''),
 (3, 'Initech', -0.01, 1.5, 7, NULL, '2020-02-29', '2026-01-01 12:00:00', '2026-01-01 00:00:00.123+00', 'O''Brien, \"quoted\"')";

#[tokio::test]
async fn describes_objects_and_fields_with_the_dataset_types() {
    let Some((pool, props, s)) = postgres().await else { return };
    exec(&pool, &s, SETUP).await;
    let source = PostgresSource::from_properties(&props).unwrap();
    assert_eq!(source.test().await.unwrap(), "Connection Successful");
    let objects = source.objects().await.unwrap();
    assert_eq!(objects.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(), ["account"]);
    let fields = source.fields("account").await.unwrap();
    let shown = common::describe(&fields);
    assert_eq!(
        shown,
        [
            "id numeric 18/0 pk=true",
            "name text 255/0 pk=false",
            "revenue numeric 12/2 pk=false",
            "rate numeric 18/6 pk=false",
            "employees numeric 18/0 pk=false",
            "active text 255/0 pk=false",
            "founded date 255/0 pk=false",
            "updated_at date 255/0 pk=false",
            "seen date 255/0 pk=false",
            "notes text 255/0 pk=false",
        ]
    );
    assert!(fields[6].date_only && !fields[7].date_only);
    let e = source.fields("acount").await.unwrap_err();
    assert!(matches!(e, ConnectError::NotFound(ref m) if m.contains("no table or view 'acount'")), "{e}");
}

#[tokio::test]
async fn full_sync_maps_every_type() {
    let Some((pool, props, s)) = postgres().await else { return };
    exec(&pool, &s, SETUP).await;
    let source = PostgresSource::from_properties(&props).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let table = DataDir::new(dir.path()).connected_object("PG", "account").unwrap();
    let fields = source.fields("account").await.unwrap();
    let outcome = sync(&source, &table, "account", fields, Mode::Full, None).await.unwrap();
    assert_eq!((outcome.rows, outcome.full), (3, true));
    assert_eq!(
        schema(&table).await,
        [
            "id: Decimal128(18, 0)",
            "name: Utf8",
            "revenue: Decimal128(12, 2)",
            "rate: Decimal128(18, 6)",
            "employees: Decimal128(18, 0)",
            "active: Utf8",
            "founded: Timestamp(ms, \"UTC\")",
            "updated_at: Timestamp(ms, \"UTC\")",
            "seen: Timestamp(ms, \"UTC\")",
            "notes: Utf8",
        ]
    );
    let text = rows(&table).await;
    let expected = r#"
+----+---------+---------+----------+-----------+--------+----------------------+----------------------+--------------------------+-------------------+
| id | name    | revenue | rate     | employees | active | founded              | updated_at           | seen                     | notes             |
+----+---------+---------+----------+-----------+--------+----------------------+----------------------+--------------------------+-------------------+
| 1  | Acme    | 1234.50 | 0.250000 | 120       | true   | 1999-12-31T00:00:00Z | 2026-01-01T10:00:00Z | 2026-01-01T08:00:00Z     | first             |
| 2  | Globex  |         |          |           | false  |                      | 2026-01-01T11:00:00Z |                          |                   |
| 3  | Initech | -0.01   | 1.500000 | 7         |        | 2020-02-29T00:00:00Z | 2026-01-01T12:00:00Z | 2026-01-01T00:00:00.123Z | O'Brien, "quoted" |
+----+---------+---------+----------+-----------+--------+----------------------+----------------------+--------------------------+-------------------+"#
        .trim_start();
    assert_eq!(text, expected, "\n{text}");
}

#[tokio::test]
async fn incremental_sync_upserts_changes_and_drops_deleted_rows() {
    let Some((pool, props, s)) = postgres().await else { return };
    exec(&pool, &s, SETUP).await;
    let source = PostgresSource::from_properties(&props).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let table = DataDir::new(dir.path()).connected_object("PG", "account").unwrap();
    let fields: Vec<_> = source
        .fields("account")
        .await
        .unwrap()
        .into_iter()
        .filter(|f| ["id", "name", "updated_at"].contains(&f.name.as_str()))
        .collect();
    let mode = |since| Mode::Incremental { key: "id".into(), watermark: "updated_at".into(), since };
    // the first incremental sync has no watermark: it runs full
    let first = sync(&source, &table, "account", fields.clone(), mode(None), None).await.unwrap();
    assert!(first.full);
    assert_eq!(first.watermark, Some(Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()));
    exec(
        &pool,
        &s,
        "UPDATE S.account SET name = 'Globex Corp', updated_at = '2026-01-02 09:00:00' WHERE id = 2;
         INSERT INTO S.account (id, name, updated_at) VALUES (4, 'Umbrella', '2026-01-02 10:00:00');
         DELETE FROM S.account WHERE id = 1",
    )
    .await;
    // the merge runs under the runs' memory limit: over it, the sync fails as a resource
    // limit (not as the source's failure) and keeps the current version
    let starved = SyncRequest {
        connection: "PG".into(),
        object: "account".into(),
        label: "account".into(),
        fields: fields.clone(),
        mode: mode(first.watermark),
        filter: None,
        memory_limit: 1,
    };
    let e = sync_object(&source, &table, &starved, &CancellationToken::new(), &AtomicU64::new(0)).await.unwrap_err();
    assert!(matches!(&e, ConnectError::Resources(m) if m.contains("needs more memory than its limit")), "{e:?}");
    assert_eq!(table.versions().unwrap().len(), 1);
    let second = sync(&source, &table, "account", fields.clone(), mode(first.watermark), None).await.unwrap();
    assert!(!second.full);
    // the watermark row (id 3, at the old watermark) is read again, with the two changes
    assert_eq!((second.read_rows, second.rows), (3, 3));
    assert_eq!(second.watermark, Some(Utc.with_ymd_and_hms(2026, 1, 2, 10, 0, 0).unwrap()));
    let expected = "\
+----+-------------+----------------------+
| id | name        | updated_at           |
+----+-------------+----------------------+
| 2  | Globex Corp | 2026-01-02T09:00:00Z |
| 3  | Initech     | 2026-01-01T12:00:00Z |
| 4  | Umbrella    | 2026-01-02T10:00:00Z |
+----+-------------+----------------------+";
    assert_eq!(rows(&table).await, expected);
    // nothing changed: the same rows, the watermark stays
    let third = sync(&source, &table, "account", fields, mode(second.watermark), None).await.unwrap();
    assert_eq!((third.read_rows, third.rows, third.watermark), (1, 3, second.watermark));
    assert_eq!(rows(&table).await, expected);
    assert_eq!(table.versions().unwrap().len(), 3);
}

#[tokio::test]
async fn pass_through_filter_runs_in_the_source_and_bad_sql_is_the_sources_message() {
    let Some((pool, props, s)) = postgres().await else { return };
    exec(&pool, &s, SETUP).await;
    let source = PostgresSource::from_properties(&props).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let table = DataDir::new(dir.path()).connected_object("PG", "account").unwrap();
    let fields = source.fields("account").await.unwrap();
    let o = sync(&source, &table, "account", fields.clone(), Mode::Full, Some("revenue > 0")).await.unwrap();
    assert_eq!(o.rows, 1);
    // the row count an incremental sync checks deletions by counts what the filter keeps
    let read = |filter: &str| swell_connect::Read {
        object: "account".into(),
        filter: Some(filter.into()),
        ..Default::default()
    };
    assert_eq!(source.count(&read("revenue > 0")).await.unwrap(), Some(1));
    assert_eq!(source.count(&read("true")).await.unwrap(), Some(3));
    let before = table.current().unwrap().unwrap().metadata.version_id;
    let e = sync(&source, &table, "account", fields, Mode::Full, Some("revenu > 0")).await.unwrap_err();
    assert!(e.to_string().contains("column \"revenu\" does not exist"), "{e}");
    // the filter is the connected object's definition, not the source failing
    assert!(matches!(e, ConnectError::Config(_)), "{e:?}");
    assert_eq!(table.current().unwrap().unwrap().metadata.version_id, before);
}

/// A NULL alone on a CSV line is an empty line: a one-column read (a key read, a table of one
/// column) keeps its null rows.
#[tokio::test]
async fn a_one_column_read_keeps_its_nulls() {
    let Some((pool, props, s)) = postgres().await else { return };
    exec(&pool, &s, "CREATE TABLE S.one (k integer); INSERT INTO S.one VALUES (1), (NULL), (3)").await;
    let source = PostgresSource::from_properties(&props).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let table = DataDir::new(dir.path()).connected_object("PG", "one").unwrap();
    let fields = source.fields("one").await.unwrap();
    let o = sync(&source, &table, "one", fields, Mode::Full, None).await.unwrap();
    assert_eq!(o.rows, 3);
    assert!(rows(&table).await.contains("|   |"), "{}", rows(&table).await);
}

#[tokio::test]
async fn wrong_credentials_and_settings_are_named_without_the_secret() {
    let Some((_pool, props, _s)) = postgres().await else { return };
    let mut pairs: Vec<(String, String)> = ["host", "port", "database", "username"]
        .iter()
        .map(|k| (k.to_string(), props.get(k).unwrap().to_string()))
        .collect();
    pairs.push(("database".into(), "no_such_database_here".into()));
    pairs.push(("password".into(), "s3cr3t-value".into()));
    let source = PostgresSource::from_properties(&Properties::new(pairs)).unwrap();
    let e = source.test().await.unwrap_err().to_string();
    assert!(e.contains("no_such_database_here"), "{e}");
    assert!(!e.contains("s3cr3t-value"), "{e}");
    let e = PostgresSource::from_properties(&Properties::new([("host".into(), "x".into())])).err().unwrap();
    assert_eq!(e.to_string(), "the PostgreSQL connection needs the property 'database'");
    let e = PostgresSource::from_properties(&Properties::new([
        ("host".into(), "x".into()),
        ("database".into(), "d".into()),
        ("username".into(), "u".into()),
        ("port".into(), "fifty".into()),
    ]))
    .err()
    .unwrap();
    assert_eq!(e.to_string(), "port 'fifty' is not a port number");
}

#[tokio::test]
async fn a_source_that_goes_down_mid_sync_fails_and_leaves_the_previous_version() {
    let Some((pool, props, s)) = postgres().await else { return };
    exec(
        &pool,
        &s,
        "CREATE TABLE S.big (id integer PRIMARY KEY, label text);
         INSERT INTO S.big SELECT g, 'row number ' || g FROM generate_series(1, 200000) g",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let table = DataDir::new(dir.path()).connected_object("PG", "big").unwrap();
    let good = PostgresSource::from_properties(&props).unwrap();
    let fields = good.fields("big").await.unwrap();
    sync(&good, &table, "big", fields.clone(), Mode::Full, None).await.unwrap();
    let before = table.current().unwrap().unwrap().metadata.version_id;

    let target = format!("{}:{}", props.get("host").unwrap(), props.get("port").unwrap());
    let port = common::cutting_proxy(target, 512 * 1024).await;
    let mut pairs: Vec<(String, String)> = ["host", "database", "username", "schema"]
        .iter()
        .map(|k| (k.to_string(), props.get(k).unwrap().to_string()))
        .collect();
    pairs.push(("port".into(), port.to_string()));
    pairs.push(("sslMode".into(), "disable".into()));
    let flaky = PostgresSource::from_properties(&Properties::new(pairs)).unwrap();
    let e = sync(&flaky, &table, "big", fields, Mode::Full, None).await.unwrap_err();
    assert!(matches!(e, ConnectError::Source(_)), "{e:?}");
    let current = table.current().unwrap().unwrap();
    assert_eq!(current.metadata.version_id, before);
    assert_eq!(current.metadata.row_count, 200_000);
    // no staging leftovers where readers look
    assert_eq!(table.versions().unwrap().len(), 1);
}
