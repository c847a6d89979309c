//! The MySQL family against the machine's MariaDB: type mapping, full and incremental syncs
//! with updates and deletes.

mod common;

use chrono::{TimeZone, Utc};
use common::{mysql, rows, schema, sync, uuid_like};
use swell_connect::mysql::MySqlSource;
use swell_connect::sync::Mode;
use swell_connect::{ConnectError, Source};
use swell_engine::DataDir;

async fn exec(pool: &sqlx::MySqlPool, table: &str, sql: &str) {
    let sql = sql.replace("T_", table);
    for statement in sql.split(';').filter(|s| !s.trim().is_empty()) {
        sqlx::query(sqlx::AssertSqlSafe(statement.to_string())).execute(pool).await.unwrap();
    }
}

const SETUP: &str = "
CREATE TABLE T_ (
    id int PRIMARY KEY,
    name varchar(80),
    revenue decimal(12,2),
    rate double,
    active tinyint(1),
    founded date,
    updated_at datetime(3) NOT NULL,
    seen timestamp NULL,
    notes text
);
INSERT INTO T_ VALUES
 (1, 'Acme', 1234.50, 0.25, 1, '1999-12-31', '2026-01-01 10:00:00', '2026-01-01 08:00:00', 'first'),
 (2, 'Globex', NULL, NULL, 0, NULL, '2026-01-01 11:00:00', NULL, ''),
 (3, 'Initech', -0.01, 1.5, NULL, '2020-02-29', '2026-01-01 12:00:00.123', '2026-01-01 00:00:00', 'O''Brien')";

fn table_name() -> String {
    format!("acct_{}", uuid_like())
}

#[tokio::test]
async fn full_sync_maps_every_type() {
    let Some((pool, props)) = mysql().await else { return };
    let t = table_name();
    exec(&pool, &t, SETUP).await;
    let source = MySqlSource::from_properties(&props).unwrap();
    assert_eq!(source.test().await.unwrap(), "Connection Successful");
    assert!(source.objects().await.unwrap().iter().any(|o| o.name == t));
    let fields = source.fields(&t).await.unwrap();
    let shown = common::describe(&fields);
    assert_eq!(
        shown,
        [
            "id numeric 18/0 pk=true",
            "name text 255/0 pk=false",
            "revenue numeric 12/2 pk=false",
            "rate numeric 18/6 pk=false",
            "active text 255/0 pk=false",
            "founded date 255/0 pk=false",
            "updated_at date 255/0 pk=false",
            "seen date 255/0 pk=false",
            "notes text 255/0 pk=false",
        ]
    );
    let dir = tempfile::tempdir().unwrap();
    let table = DataDir::new(dir.path()).connected_object("MY", &t).unwrap();
    let o = sync(&source, &table, &t, fields, Mode::Full, None).await.unwrap();
    assert_eq!(o.rows, 3);
    assert_eq!(schema(&table).await[2], "revenue: Decimal128(12, 2)");
    let expected = "\
+----+---------+---------+----------+--------+----------------------+--------------------------+----------------------+---------+
| id | name    | revenue | rate     | active | founded              | updated_at               | seen                 | notes   |
+----+---------+---------+----------+--------+----------------------+--------------------------+----------------------+---------+
| 1  | Acme    | 1234.50 | 0.250000 | true   | 1999-12-31T00:00:00Z | 2026-01-01T10:00:00Z     | 2026-01-01T08:00:00Z | first   |
| 2  | Globex  |         |          | false  |                      | 2026-01-01T11:00:00Z     |                      |         |
| 3  | Initech | -0.01   | 1.500000 |        | 2020-02-29T00:00:00Z | 2026-01-01T12:00:00.123Z | 2026-01-01T00:00:00Z | O'Brien |
+----+---------+---------+----------+--------+----------------------+--------------------------+----------------------+---------+";
    let text = rows(&table).await;
    exec(&pool, &t, "DROP TABLE T_").await;
    assert_eq!(text, expected, "\n{text}");
}

#[tokio::test]
async fn incremental_sync_upserts_changes_and_drops_deleted_rows() {
    let Some((pool, props)) = mysql().await else { return };
    let t = table_name();
    exec(&pool, &t, SETUP).await;
    let source = MySqlSource::from_properties(&props).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let table = DataDir::new(dir.path()).connected_object("MY", &t).unwrap();
    let fields: Vec<_> = source
        .fields(&t)
        .await
        .unwrap()
        .into_iter()
        .filter(|f| ["id", "name", "updated_at"].contains(&f.name.as_str()))
        .collect();
    let mode = |since| Mode::Incremental { key: "id".into(), watermark: "updated_at".into(), since };
    let first = sync(&source, &table, &t, fields.clone(), mode(None), None).await.unwrap();
    assert_eq!(first.watermark, Some(Utc.timestamp_millis_opt(1_767_268_800_123).unwrap()));
    exec(
        &pool,
        &t,
        "UPDATE T_ SET name = 'Globex Corp', updated_at = '2026-01-02 09:00:00' WHERE id = 2;
         INSERT INTO T_ (id, name, updated_at) VALUES (4, 'Umbrella', '2026-01-02 10:00:00');
         DELETE FROM T_ WHERE id = 1",
    )
    .await;
    let second = sync(&source, &table, &t, fields, mode(first.watermark), None).await.unwrap();
    assert_eq!((second.full, second.read_rows, second.rows), (false, 3, 3));
    // the row count an incremental sync checks deletions by, with a filter
    let read = swell_connect::Read { object: t.clone(), filter: Some("id > 2".into()), ..Default::default() };
    assert_eq!(source.count(&read).await.unwrap(), Some(2));
    let text = rows(&table).await;
    exec(&pool, &t, "DROP TABLE T_").await;
    assert_eq!(
        text,
        "\
+----+-------------+--------------------------+
| id | name        | updated_at               |
+----+-------------+--------------------------+
| 2  | Globex Corp | 2026-01-02T09:00:00Z     |
| 3  | Initech     | 2026-01-01T12:00:00.123Z |
| 4  | Umbrella    | 2026-01-02T10:00:00Z     |
+----+-------------+--------------------------+"
    );
}

#[tokio::test]
async fn unknown_objects_and_wrong_passwords_are_named() {
    let Some((_pool, props)) = mysql().await else { return };
    let source = MySqlSource::from_properties(&props).unwrap();
    let e = source.fields("no_such_table_here").await.unwrap_err();
    assert!(matches!(e, ConnectError::NotFound(ref m) if m.contains("no table or view 'no_such_table_here'")), "{e}");
    let mut pairs: Vec<(String, String)> =
        ["host", "port", "database"].iter().map(|k| (k.to_string(), props.get(k).unwrap().to_string())).collect();
    pairs.push(("username".into(), "nobody_swell".into()));
    pairs.push(("password".into(), "hunter2-secret".into()));
    let bad = MySqlSource::from_properties(&swell_connect::Properties::new(pairs)).unwrap();
    let e = bad.test().await.unwrap_err().to_string();
    assert!(e.contains("nobody_swell") && e.contains("denied"), "{e}");
    assert!(!e.contains("hunter2-secret"), "{e}");
}

#[tokio::test]
async fn a_server_that_goes_away_mid_sync_fails_it_and_keeps_the_previous_version() {
    let Some((pool, props)) = mysql().await else { return };
    let t = table_name();
    exec(&pool, &t, "CREATE TABLE T_ (id int PRIMARY KEY, label varchar(40))").await;
    // 100,000 rows (MariaDB's sequence engine), enough to outlast the relay's budget
    exec(&pool, &t, "INSERT INTO T_ SELECT seq, CONCAT('row number ', seq) FROM seq_1_to_100000").await;
    let dir = tempfile::tempdir().unwrap();
    let table = DataDir::new(dir.path()).connected_object("MY", &t).unwrap();
    let good = MySqlSource::from_properties(&props).unwrap();
    let fields = good.fields(&t).await.unwrap();
    sync(&good, &table, &t, fields.clone(), Mode::Full, None).await.unwrap();
    let before = table.current().unwrap().unwrap().metadata.version_id;

    let target = format!("{}:{}", props.get("host").unwrap(), props.get("port").unwrap());
    let port = common::cutting_proxy(target, 256 * 1024).await;
    let mut pairs: Vec<(String, String)> =
        ["host", "database", "username"].iter().map(|k| (k.to_string(), props.get(k).unwrap().to_string())).collect();
    pairs.push(("port".into(), port.to_string()));
    let flaky = MySqlSource::from_properties(&swell_connect::Properties::new(pairs)).unwrap();
    let e = sync(&flaky, &table, &t, fields, Mode::Full, None).await.unwrap_err();
    exec(&pool, &t, "DROP TABLE T_").await;
    assert!(matches!(e, ConnectError::Source(_)), "{e:?}");
    let current = table.current().unwrap().unwrap();
    assert_eq!((current.metadata.version_id, current.metadata.row_count), (before, 100_000));
    assert_eq!(table.versions().unwrap().len(), 1);
}
