//! The sync itself, with sources made up here: a stop really stops and keeps the previous
//! version; a value that does not fit its field fails naming the field.

mod common;

use async_trait::async_trait;
use common::{rows, sync};
use datafusion::arrow::array::{ArrayRef, StringArray};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use swell_connect::sync::{Mode, SyncRequest, sync_object};
use swell_connect::{BatchStream, ConnectError, Read, Source, SourceField, SourceObject, finish_batch};
use swell_engine::DataDir;
use swell_engine::schema::FieldType;
use tokio_util::sync::CancellationToken;

/// Sends `batches` batches of text values (then ends), or endless ones when `None`, one every
/// 10 ms.
struct Slow {
    batches: Option<usize>,
    value: &'static str,
}

#[async_trait]
impl Source for Slow {
    async fn test(&self) -> swell_connect::Result<String> {
        Ok("ok".into())
    }
    async fn objects(&self) -> swell_connect::Result<Vec<SourceObject>> {
        Ok(vec![SourceObject { name: "T".into(), label: "T".into() }])
    }
    async fn fields(&self, _: &str) -> swell_connect::Result<Vec<SourceField>> {
        Ok(vec![SourceField::new("v", FieldType::Text, "text")])
    }
    async fn read(&self, read: &Read) -> swell_connect::Result<BatchStream> {
        let fields = read.fields.clone();
        let (limit, value) = (self.batches, self.value);
        let stream = futures::stream::unfold(0usize, move |i| {
            let fields = fields.clone();
            async move {
                if limit.is_some_and(|n| i >= n) {
                    return None;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                let column: ArrayRef = Arc::new(StringArray::from(vec![value; 1000]));
                Some((finish_batch(vec![column], &fields, "T"), i + 1))
            }
        });
        Ok(Box::pin(stream))
    }
}

#[tokio::test]
async fn a_stop_ends_the_sync_at_once_and_keeps_the_previous_version() {
    let dir = tempfile::tempdir().unwrap();
    let table = DataDir::new(dir.path()).connected_object("C", "T").unwrap();
    let done = Slow { batches: Some(3), value: "old" };
    let fields = done.fields("T").await.unwrap();
    sync(&done, &table, "T", fields.clone(), Mode::Full, None).await.unwrap();
    let before = table.current().unwrap().unwrap().metadata.version_id;

    let endless = Slow { batches: None, value: "new" };
    let cancel = CancellationToken::new();
    let rows_read = Arc::new(AtomicU64::new(0));
    let request = SyncRequest {
        connection: "C".into(),
        object: "T".into(),
        label: "T".into(),
        fields,
        mode: Mode::Full,
        filter: None,
        memory_limit: swell_engine::run::DEFAULT_MEMORY_LIMIT,
    };
    let task = {
        let (cancel, rows_read) = (cancel.clone(), rows_read.clone());
        let table = table.clone();
        tokio::spawn(async move { sync_object(&endless, &table, &request, &cancel, &rows_read).await })
    };
    while rows_read.load(Ordering::Relaxed) < 5000 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let stop = Instant::now();
    cancel.cancel();
    let result = task.await.unwrap();
    assert!(stop.elapsed() < Duration::from_millis(500), "stopping took {:?}", stop.elapsed());
    assert!(matches!(result, Err(ConnectError::Cancelled)), "{result:?}");
    let current = table.current().unwrap().unwrap();
    assert_eq!((current.metadata.version_id, current.metadata.row_count), (before, 3000));
    assert_eq!(table.versions().unwrap().len(), 1, "nothing of the stopped sync is left");
    assert!(rows(&table).await.contains("old"));
}

#[tokio::test]
async fn a_value_that_does_not_fit_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let table = DataDir::new(dir.path()).connected_object("C", "T").unwrap();
    let source = Slow { batches: Some(1), value: "12.5 apples" };
    let mut field = SourceField::new("v", FieldType::numeric(10, 2), "varchar");
    field.label = "Value".into();
    let e = sync(&source, &table, "T", vec![field], Mode::Full, None).await.unwrap_err();
    assert!(e.to_string().starts_with("T.v: a value does not fit numeric(10,2) (varchar)"), "{e}");
    assert!(table.current().unwrap().is_none());
}

#[tokio::test]
async fn numbers_in_e_notation_fit_their_scale() {
    let dir = tempfile::tempdir().unwrap();
    let table = DataDir::new(dir.path()).connected_object("C", "T").unwrap();
    let source = Slow { batches: Some(1), value: "6.743070523640426e-05" };
    let field = SourceField::new("v", FieldType::numeric(18, 6), "double");
    let o = sync(&source, &table, "T", vec![field], Mode::Full, None).await.unwrap();
    assert_eq!(o.rows, 1000);
    assert!(rows(&table).await.contains("| 0.000067 |"), "{}", rows(&table).await);
}
