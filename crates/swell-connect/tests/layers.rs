//! Incremental syncs written as layers (issue 17): a source made up here changes a few rows
//! at a time (updates, inserts, deletes, keys deleted and added again) for many syncs, and
//! after every sync the connected object reads exactly the source's rows, through the
//! sync's own reader, the engine's reader of runs and the preview. Layers pile up, are
//! compacted, and old versions are pruned under the newest ones.

mod common;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::{SessionContext, ident};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use swell_connect::sync::{MAX_LAYERS, Mode, SyncOutcome, SyncRequest, prepare_sync, sync_object};
use swell_connect::{BatchStream, ConnectError, Read, Source, SourceField, SourceObject, finish_batch};
use swell_engine::DataDir;
use swell_engine::schema::FieldType;
use swell_engine::storage::VersionedTable;
use tokio_util::sync::CancellationToken;

/// One row of the made-up source: its name, amount and change stamp (epoch ms).
#[derive(Debug, Clone, PartialEq)]
struct Row {
    name: Option<String>,
    amount: i64,
    stamp: i64,
}

/// How the made-up source lets a sync find deleted rows.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Deletions {
    /// Deleted rows come back flagged, as Salesforce's `queryAll` does.
    Reported,
    /// The source counts its rows (as SQL databases do), and its keys are read when the count
    /// says rows are gone.
    Counted,
    /// Only the source's keys tell (a source that cannot count).
    Keys,
}

/// A table with a text key `Id`, changed by the test between syncs.
struct Memory {
    rows: Mutex<BTreeMap<String, Row>>,
    deleted: Mutex<BTreeMap<String, Row>>,
    deletions: Deletions,
    reports_deletes: bool,
    clock: Mutex<i64>,
    /// Reads of every key (no watermark, the key field alone).
    key_scans: AtomicU64,
}

impl Memory {
    fn new(reports_deletes: bool) -> Self {
        Memory::with(if reports_deletes { Deletions::Reported } else { Deletions::Counted })
    }

    fn with(deletions: Deletions) -> Self {
        Memory {
            rows: Mutex::new(BTreeMap::new()),
            deleted: Mutex::new(BTreeMap::new()),
            deletions,
            reports_deletes: deletions == Deletions::Reported,
            clock: Mutex::new(1_700_000_000_000),
            key_scans: AtomicU64::new(0),
        }
    }

    fn key_scans(&self) -> u64 {
        self.key_scans.load(Ordering::SeqCst)
    }

    /// Adds a row stamped an hour back, as a row committed late or imported with its old
    /// stamp is: the watermark misses it.
    fn put_stamped_back(&self, key: &str, name: Option<&str>) {
        let stamp = self.tick() - 3_600_000;
        self.rows.lock().unwrap().insert(key.to_string(), Row { name: name.map(str::to_string), amount: 0, stamp });
    }

    fn tick(&self) -> i64 {
        let mut c = self.clock.lock().unwrap();
        *c += 1000;
        *c
    }

    fn put(&self, key: &str, name: Option<&str>, amount: i64) {
        let stamp = self.tick();
        self.deleted.lock().unwrap().remove(key);
        self.rows.lock().unwrap().insert(key.to_string(), Row { name: name.map(str::to_string), amount, stamp });
    }

    /// Changes a row without moving its stamp, as an application that does not bump it, or
    /// a change within the precision of the source's stamp, does.
    fn put_same_stamp(&self, key: &str, name: &str) {
        let mut rows = self.rows.lock().unwrap();
        rows.get_mut(key).expect("an existing row").name = Some(name.to_string());
    }

    fn delete(&self, key: &str) {
        let stamp = self.tick();
        if let Some(mut row) = self.rows.lock().unwrap().remove(key) {
            row.stamp = stamp;
            self.deleted.lock().unwrap().insert(key.to_string(), row);
        }
    }

    /// The rows as the synced object must read them, sorted by key.
    fn expected(&self) -> String {
        let rows = self.rows.lock().unwrap();
        let mut out = String::new();
        for (k, r) in rows.iter() {
            out.push_str(&format!("{k}|{}|{}\n", r.name.as_deref().unwrap_or("<null>"), r.amount));
        }
        out
    }

    fn fields(&self) -> Vec<SourceField> {
        let mut id = SourceField::new("Id", FieldType::Text, "id");
        id.primary_key = true;
        let mut fields = vec![
            id,
            SourceField::new("Name", FieldType::Text, "string"),
            SourceField::new("Amount", FieldType::numeric(18, 0), "double"),
            SourceField::new("SystemModstamp", FieldType::plain_date(), "datetime"),
        ];
        if self.reports_deletes {
            fields.push(SourceField::new("IsDeleted", FieldType::Text, "boolean"));
        }
        fields
    }
}

#[async_trait]
impl Source for Memory {
    async fn test(&self) -> swell_connect::Result<String> {
        Ok("ok".into())
    }
    async fn objects(&self) -> swell_connect::Result<Vec<SourceObject>> {
        Ok(vec![SourceObject::named("T".into())])
    }
    async fn fields(&self, _: &str) -> swell_connect::Result<Vec<SourceField>> {
        Ok(Memory::fields(self))
    }
    async fn count(&self, read: &Read) -> swell_connect::Result<Option<u64>> {
        assert!(read.since.is_none() && read.filter.is_none());
        Ok((self.deletions == Deletions::Counted).then(|| self.rows.lock().unwrap().len() as u64))
    }
    async fn read(&self, read: &Read) -> swell_connect::Result<BatchStream> {
        if read.since.is_none() && read.fields.len() == 1 {
            self.key_scans.fetch_add(1, Ordering::SeqCst);
        }
        let since = read.since.as_ref().map(|(_, at)| at.timestamp_millis());
        let mut picked: Vec<(String, Row, bool)> = Vec::new();
        for (k, r) in self.rows.lock().unwrap().iter() {
            if since.is_none_or(|s| r.stamp >= s) {
                picked.push((k.clone(), r.clone(), false));
            }
        }
        if read.include_deleted {
            for (k, r) in self.deleted.lock().unwrap().iter() {
                if since.is_none_or(|s| r.stamp >= s) {
                    picked.push((k.clone(), r.clone(), true));
                }
            }
        }
        // batches of 700 rows, so that layers and reads span several
        let mut batches = Vec::new();
        for chunk in picked.chunks(700) {
            let columns: Vec<ArrayRef> = read
                .fields
                .iter()
                .map(|f| -> ArrayRef {
                    match f.name.as_str() {
                        "Id" => Arc::new(StringArray::from_iter_values(chunk.iter().map(|(k, _, _)| k.as_str()))),
                        "Name" => Arc::new(StringArray::from_iter(chunk.iter().map(|(_, r, _)| r.name.as_deref()))),
                        "Amount" => Arc::new(Int64Array::from_iter_values(chunk.iter().map(|(_, r, _)| r.amount))),
                        "SystemModstamp" => {
                            Arc::new(Int64Array::from_iter_values(chunk.iter().map(|(_, r, _)| r.stamp)))
                        }
                        "IsDeleted" => Arc::new(StringArray::from_iter_values(
                            chunk.iter().map(|(_, _, d)| if *d { "true" } else { "false" }),
                        )),
                        other => panic!("no field {other}"),
                    }
                })
                .collect();
            batches.push(finish_batch(columns, &read.fields, "T"));
        }
        Ok(Box::pin(futures::stream::iter(batches)))
    }
    fn reports_deletes(&self) -> bool {
        self.reports_deletes
    }
}

fn request(source: &Memory, since: Option<chrono::DateTime<chrono::Utc>>) -> SyncRequest {
    SyncRequest {
        connection: "C".into(),
        object: "T".into(),
        label: "T".into(),
        fields: Memory::fields(source),
        mode: Mode::Incremental { key: "Id".into(), watermark: "SystemModstamp".into(), since },
        filter: None,
        memory_limit: swell_engine::run::DEFAULT_MEMORY_LIMIT,
    }
}

async fn sync(source: &Memory, table: &VersionedTable, since: Option<chrono::DateTime<chrono::Utc>>) -> SyncOutcome {
    sync_object(source, table, &request(source, since), &CancellationToken::new(), &AtomicU64::new(0)).await.unwrap()
}

/// `key|name|amount` lines sorted by key, from a DataFrame of the object.
async fn lines(df: datafusion::dataframe::DataFrame) -> String {
    // runs read measures as floats: whole numbers either way
    let amount = datafusion::prelude::cast(ident("Amount"), datafusion::arrow::datatypes::DataType::Int64);
    let df = df.select(vec![ident("Id"), ident("Name"), amount.alias("Amount")]).unwrap();
    let batches = df.sort(vec![ident("Id").sort(true, true)]).unwrap().collect().await.unwrap();
    let mut out = String::new();
    for b in &batches {
        let text = pretty_format_batches(std::slice::from_ref(b)).unwrap().to_string();
        for line in text.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| Id ")) {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            let name = if cells[1].is_empty() { "<null>" } else { cells[1] };
            out.push_str(&format!("{}|{}|{}\n", cells[0], name, cells[2]));
        }
    }
    out
}

/// The object as the sync reads it, and as a run reads it (the engine's catalog and loader).
async fn read_both(data: &DataDir, table: &VersionedTable) -> (String, String) {
    let ctx = SessionContext::new();
    let version = table.current().unwrap().unwrap();
    let stored = lines(swell_engine::storage::read_version(&ctx, &version).await.unwrap()).await;
    let catalog = swell_engine::FileCatalog { objects_dir: None, data_dir: Some(data.clone()) };
    let what = swell_engine::SourceRef::Object { connection: "C".into(), object: "T".into() };
    let located = swell_engine::Catalog::locate(&catalog, &what).unwrap();
    let (df, _) = swell_engine::source::load(&ctx, &located, &what).await.unwrap();
    (stored, lines(df).await)
}

/// Fails naming the lines one side has and the other lacks (the objects are thousands of rows).
fn same(got: &str, expected: &str, what: &str) {
    if got != expected {
        let (g, e): (std::collections::BTreeSet<&str>, std::collections::BTreeSet<&str>) =
            (got.lines().collect(), expected.lines().collect());
        let extra: Vec<_> = g.difference(&e).take(5).collect();
        let missing: Vec<_> = e.difference(&g).take(5).collect();
        panic!("{what}: {} rows, {} expected; extra {extra:?}, missing {missing:?}", g.len(), e.len());
    }
}

/// A data dir with object `T` synced whole from a source of `rows` rows named "first";
/// the watermark of that sync.
async fn filled(
    rows: i64,
    reports_deletes: bool,
) -> (tempfile::TempDir, DataDir, VersionedTable, Memory, Option<chrono::DateTime<chrono::Utc>>) {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path());
    let table = data.connected_object("C", "T").unwrap();
    let source = Memory::new(reports_deletes);
    for i in 0..rows {
        source.put(&format!("K{i:05}"), Some("first"), i);
    }
    let watermark = sync(&source, &table, None).await.watermark;
    (dir, data, table, source, watermark)
}

/// A small random generator, so that a failure replays.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

async fn many_syncs_read_the_source(deletions: Deletions) {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path());
    let table = data.connected_object("C", "T").unwrap();
    let source = Memory::with(deletions);
    for i in 0..3000 {
        source.put(&format!("K{i:05}"), (i % 17 != 0).then_some("first"), i);
    }
    let mut watermark = sync(&source, &table, None).await.watermark;
    let mut rng = Lcg(match deletions {
        Deletions::Reported => 7,
        Deletions::Counted => 11,
        Deletions::Keys => 13,
    });
    let (mut layered, mut compacted, mut max_layers) = (0, 0, 0);
    for round in 0..40 {
        // a few changes of every kind; some rounds change nothing
        let changes = if round % 9 == 4 { 0 } else { 1 + rng.next(60) };
        for _ in 0..changes {
            let key = format!("K{:05}", rng.next(3400));
            match rng.next(5) {
                0 => source.delete(&key),
                1 => source.put(&key, None, -1),
                _ => source.put(&key, Some(&format!("round {round}")), round as i64 * 1000 + rng.next(1000) as i64),
            }
        }
        let before = table.current().unwrap().unwrap().metadata.row_count;
        let o = sync(&source, &table, watermark).await;
        assert!(!o.full, "round {round}");
        watermark = o.watermark;
        let version = table.current().unwrap().unwrap();
        let expected = source.expected();
        let (stored, run) = read_both(&data, &table).await;
        same(&stored, &expected, &format!("round {round}: the sync's reader"));
        same(&run, &expected, &format!("round {round}: the engine's reader"));
        assert_eq!(o.rows as usize, expected.lines().count(), "round {round}: the row count");
        assert_eq!(version.metadata.row_count, o.rows);
        if changes == 0 {
            assert!(o.unchanged && o.rows == before, "round {round}: nothing changed");
        }
        match &version.metadata.layers {
            Some(l) => {
                layered += 1;
                max_layers = max_layers.max(l.count);
                assert!(l.count <= MAX_LAYERS);
            }
            None => compacted += 1,
        }
        // the preview shows rows of the object only
        let shown = version.clone();
        let head =
            tokio::task::spawn_blocking(move || swell_engine::head::head_version(&shown, 50).unwrap()).await.unwrap();
        assert_eq!(head.rows.len(), 50);
        for row in &head.rows {
            let key = row[0].clone().unwrap();
            let name = row[1].clone().unwrap_or("<null>".into());
            let amount = row[2].clone().unwrap();
            assert!(expected.contains(&format!("{key}|{name}|{amount}\n")), "round {round}: preview row {row:?}");
        }
        assert!(table.versions().unwrap().len() <= swell_connect::sync::KEEP_VERSIONS);
    }
    assert!(layered > 20 && compacted >= 2, "layered {layered}, compacted {compacted}");
    assert!(max_layers >= 4, "at most {max_layers} layers");
}

#[tokio::test]
async fn many_syncs_read_the_source_when_keys_are_scanned_for_deletions() {
    many_syncs_read_the_source(Deletions::Keys).await;
}

#[tokio::test]
async fn many_syncs_read_the_source_when_rows_are_counted_for_deletions() {
    many_syncs_read_the_source(Deletions::Counted).await;
}

#[tokio::test]
async fn many_syncs_read_the_source_when_deletions_are_reported() {
    many_syncs_read_the_source(Deletions::Reported).await;
}

/// A source that counts its rows is asked for its keys only when the count says rows are
/// gone, or when the sync compacts.
#[tokio::test]
async fn keys_are_read_only_when_the_count_says_rows_are_gone() {
    let (_dir, data, table, source, mut watermark) = filled(5000, false).await;
    for i in 0..20 {
        source.put(&format!("K{:05}", i * 11), Some("changed"), i);
    }
    source.put("K09999", Some("new"), 9999);
    watermark = sync(&source, &table, watermark).await.watermark;
    assert_eq!(source.key_scans(), 0, "updates and inserts alone");
    source.delete("K00007");
    source.put("K00008", Some("changed"), 8);
    watermark = sync(&source, &table, watermark).await.watermark;
    assert_eq!(source.key_scans(), 1, "a deletion");
    same(&read_both(&data, &table).await.1, &source.expected(), "after the deletion");
    sync(&source, &table, watermark).await;
    assert_eq!(source.key_scans(), 1, "an idle sync");
}

/// The one case a count cannot see: a row the watermark missed (stamped before the last
/// sync) balancing a deleted one. The deleted row stays until the next compaction, which
/// always checks the keys.
#[tokio::test]
async fn a_deletion_balanced_by_a_missed_row_is_dropped_at_compaction() {
    let (_dir, data, table, source, mut watermark) = filled(5000, false).await;
    source.delete("K00100");
    source.put_stamped_back("K77777", Some("late"));
    source.put("K00001", Some("changed"), 1);
    watermark = sync(&source, &table, watermark).await.watermark;
    assert_eq!(source.key_scans(), 0);
    assert!(read_both(&data, &table).await.1.contains("K00100|first|100\n"), "not seen by the count");
    let mut round = 0;
    while table.current().unwrap().unwrap().metadata.layers.is_some() {
        round += 1;
        assert!(round <= MAX_LAYERS, "no compaction after {round} syncs");
        source.put(&format!("K{:05}", round * 3), Some("changed"), round as i64);
        watermark = sync(&source, &table, watermark).await.watermark;
    }
    assert_eq!(source.key_scans(), 1, "the compaction read the keys");
    let run = read_both(&data, &table).await.1;
    assert!(!run.contains("K00100|"), "dropped at compaction");
    // the missed row itself is never read: a watermark cannot see it
    assert!(!run.contains("K77777|"));
}

/// An upsert by a key that is not unique would replace every row of a changed key by the
/// changed ones: the sync fails naming the value, whether the changes or the stored rows
/// share it, and keeps the previous version.
#[tokio::test]
async fn a_key_that_is_not_unique_fails_naming_the_value() {
    let (_dir, data, table, source, watermark) = filled(50, false).await;
    let before = read_both(&data, &table).await.1;
    let by_name = |since| {
        let mut r = request(&source, since);
        r.mode = Mode::Incremental { key: "Name".into(), watermark: "SystemModstamp".into(), since };
        r
    };
    // (the watermark reads the fill's last row again: renamed, so the changes share no name)
    source.put("K00049", Some("last"), 49);
    source.put("K00003", Some("first"), 3);
    let e = sync_object(&source, &table, &by_name(watermark), &CancellationToken::new(), &AtomicU64::new(0))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ConnectError::Config(m) if m.contains("the key field 'Name' is not unique: 50 rows have the value 'first'")),
        "{e:?}"
    );
    source.put("K00003", Some("second"), 3);
    source.put("K00004", Some("second"), 4);
    let e = sync_object(&source, &table, &by_name(watermark), &CancellationToken::new(), &AtomicU64::new(0))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ConnectError::Config(m) if m.contains("the key field 'Name' is not unique: 2 rows have the value 'second'")),
        "{e:?}"
    );
    assert_eq!(read_both(&data, &table).await.1, before);
}

/// A layer costs what changed: the files of the previous version are shared, not copied, and
/// the new layer holds only the changed rows.
#[tokio::test]
async fn a_layer_holds_only_the_changes_and_shares_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let table = DataDir::new(dir.path()).connected_object("C", "T").unwrap();
    let source = Memory::new(false);
    for i in 0..20_000 {
        source.put(&format!("K{i:05}"), Some("first"), i);
    }
    let first = sync(&source, &table, None).await;
    let base = table.current().unwrap().unwrap();
    for i in 0..100 {
        source.put(&format!("K{:05}", i * 7), Some("changed"), -i);
    }
    source.delete("K19999");
    let second = sync(&source, &table, first.watermark).await;
    assert_eq!((second.read_rows, second.rows), (100, 19_999));
    let layered = table.current().unwrap().unwrap();
    let layers = layered.metadata.layers.clone().expect("a layer");
    assert_eq!((layers.count, layers.base_rows, layers.layer_rows, layers.removed_keys), (1, 20_000, 100, 101));
    use std::os::unix::fs::MetadataExt;
    let (a, b) = (&base.files().unwrap()[0], &layered.files().unwrap()[0]);
    assert_eq!(std::fs::metadata(a).unwrap().ino(), std::fs::metadata(b).unwrap().ino(), "the base is linked");
    same(&read_both(&DataDir::new(dir.path()), &table).await.1, &source.expected(), "the engine's reader");
}

/// The hostile probe: a row changed again without a new stamp is read again at the
/// (inclusive) watermark and must be upserted, never assumed to be the stored row.
#[tokio::test]
async fn a_row_changed_at_the_watermark_stamp_is_upserted() {
    let (_dir, data, table, source, mut watermark) = filled(2000, false).await;
    source.put("K00007", Some("second"), 7);
    watermark = sync(&source, &table, watermark).await.watermark;
    source.put_same_stamp("K00007", "third");
    sync(&source, &table, watermark).await;
    let (stored, run) = read_both(&data, &table).await;
    same(&stored, &source.expected(), "the sync's reader");
    same(&run, &source.expected(), "the engine's reader");
    assert!(stored.contains("K00007|third|7\n"));
}

/// Small changes pile up to [`MAX_LAYERS`] layers, then the next sync writes a whole version.
#[tokio::test]
async fn layers_are_compacted_past_their_number() {
    let (_dir, data, table, source, mut watermark) = filled(5000, true).await;
    for round in 1..=MAX_LAYERS + 1 {
        source.put(&format!("K{:05}", round * 3), Some("changed"), round as i64);
        watermark = sync(&source, &table, watermark).await.watermark;
        let layers = table.current().unwrap().unwrap().metadata.layers;
        if round <= MAX_LAYERS {
            assert_eq!(layers.map(|l| l.count), Some(round), "round {round}");
        } else {
            assert_eq!(layers, None, "round {round}: compacted");
        }
        let (stored, run) = read_both(&data, &table).await;
        same(&stored, &source.expected(), &format!("round {round}: the sync's reader"));
        same(&run, &source.expected(), &format!("round {round}: the engine's reader"));
    }
}

/// A stopped or failed layered sync leaves the previous version current and readable; a
/// changed row without a key fails naming the key field.
#[tokio::test]
async fn a_stopped_layered_sync_keeps_the_previous_version_and_an_empty_key_is_named() {
    let (_dir, data, table, source, mut watermark) = filled(5000, false).await;
    source.put("K00001", Some("second"), 1);
    watermark = sync(&source, &table, watermark).await.watermark;
    let before = table.current().unwrap().unwrap();
    assert!(before.metadata.layers.is_some());
    let expected = source.expected();

    source.put("K00002", Some("third"), 2);
    let cancel = CancellationToken::new();
    cancel.cancel();
    let lock = table.lock().unwrap();
    let stopped = prepare_sync(&source, &table, &request(&source, watermark), &cancel, &AtomicU64::new(0)).await;
    assert!(matches!(stopped, Err(ConnectError::Cancelled)), "{stopped:?}");
    drop(lock);
    let current = table.current().unwrap().unwrap();
    assert_eq!(current.metadata.version_id, before.metadata.version_id);
    assert_eq!(read_both(&data, &table).await.0, expected);
    assert!(
        std::fs::read_dir(table.dir().join("versions")).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".staging")),
        "the stopped sync's staging is gone"
    );

    // a key field without a value in a changed row cannot upsert it
    source.put("K00003", None, 3);
    let mut no_key = request(&source, watermark);
    no_key.mode = Mode::Incremental { key: "Name".into(), watermark: "SystemModstamp".into(), since: watermark };
    let e = sync_object(&source, &table, &no_key, &CancellationToken::new(), &AtomicU64::new(0)).await.unwrap_err();
    assert!(
        matches!(&e, ConnectError::Config(m) if m.contains("1 changed row has no value in the key field 'Name'")),
        "{e:?}"
    );
    assert_eq!(table.current().unwrap().unwrap().metadata.version_id, before.metadata.version_id);
    assert_eq!(read_both(&data, &table).await.0, expected);
}

/// A sync of `T` upserting by `Name`.
async fn by_name(
    source: &Memory,
    table: &VersionedTable,
    since: Option<chrono::DateTime<chrono::Utc>>,
) -> swell_connect::Result<SyncOutcome> {
    let mut r = request(source, since);
    r.mode = Mode::Incremental { key: "Name".into(), watermark: "SystemModstamp".into(), since };
    sync_object(source, table, &r, &CancellationToken::new(), &AtomicU64::new(0)).await
}

/// Rows the key cannot tell apart fail the sync before anything is lost: a source row without
/// a key value (at the first sync, or when the keys are read), and two source rows sharing a
/// value where only one of them changed.
#[tokio::test]
async fn rows_the_key_cannot_tell_apart_fail_the_sync() {
    let dir = tempfile::tempdir().unwrap();
    let table = DataDir::new(dir.path()).connected_object("C", "T").unwrap();
    let source = Memory::new(false);
    for i in 0..100 {
        source.put(&format!("K{i:05}"), Some(&format!("n{i}")), i);
    }
    source.put("K00100", None, 100);
    let run = |since| by_name(&source, &table, since);
    let e = run(None).await.unwrap_err();
    assert!(
        matches!(&e, ConnectError::Config(m) if m.starts_with("1 row of the source has no value in the key field 'Name'")),
        "{e:?}"
    );
    assert!(table.current().unwrap().is_none(), "nothing published");
    source.delete("K00100");
    let first = run(None).await.unwrap();
    let before = table.current().unwrap().unwrap().metadata.version_id;

    // a new row with the name of a row that did not change, while another row is deleted (a
    // count alone would balance: a chosen key's values are read and checked every sync)
    source.put("K00200", Some("n5"), 200);
    source.delete("K00050");
    let e = run(first.watermark).await.unwrap_err();
    assert!(
        matches!(&e, ConnectError::Config(m) if m.starts_with("the key field 'Name' is not unique: 2 rows have the value 'n5'")),
        "{e:?}"
    );
    source.delete("K00200");

    // a row the watermark missed, without a name, found when deletions make the keys read
    source.put_stamped_back("K00300", None);
    source.delete("K00001");
    source.delete("K00002");
    let e = run(first.watermark).await.unwrap_err();
    assert!(
        matches!(&e, ConnectError::Config(m) if m.starts_with("1 row of the source has no value in the key field 'Name'")),
        "{e:?}"
    );
    assert_eq!(table.current().unwrap().unwrap().metadata.version_id, before);
    assert_eq!(source.key_scans(), 2);
}
