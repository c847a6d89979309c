//! The sync of one source object into a connected object: a new version under the data dir.
//!
//! - **Full**: every row the source sends (after `passThroughFilter`) is streamed into a
//!   Parquet file of a staged version.
//! - **Incremental** (upsert by key): rows changed since the watermark are staged, then the
//!   new version is the previous one minus the rows whose key changed or disappeared, plus
//!   the changed rows. Deletions are found two ways: a source that reports them (Salesforce
//!   `queryAll` with `IsDeleted`) flags them among the changes; any other source is asked for
//!   its current keys (one narrow column), and rows whose key is gone are dropped. A sync
//!   without a previous version, or whose fields differ from it, runs full.
//!
//! Either way the version is committed atomically, under the table's lock held for the whole
//! sync (see [`swell_engine::storage`]): a failed
//! or stopped sync leaves the previous version current and readable, and no partial files
//! where readers look. The newest [`KEEP_VERSIONS`] versions are kept and older ones removed:
//! a run reads the version that was current when it planned, so only a run that outlives
//! three more syncs of an object it reads would find its files gone (and fail, naming them).

use crate::source::{BatchStream, Read, Source, SourceField, storage_schema};
use crate::{ConnectError, Result};
use chrono::{DateTime, TimeZone, Utc};
use datafusion::arrow::array::{Array, RecordBatch, TimestampMillisecondArray};
use datafusion::arrow::compute::max;
use datafusion::common::JoinType;
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::prelude::{ParquetReadOptions, ident, lit};
use futures::StreamExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use swell_engine::schema::Field;
use swell_engine::storage::{StagedVersion, VersionMetadata, VersionedTable, new_version_id};
use tokio_util::sync::CancellationToken;

/// Versions of a connected object kept on disk.
pub const KEEP_VERSIONS: usize = 3;

/// The field that flags deleted rows in sources that report deletions.
pub const IS_DELETED: &str = "IsDeleted";

#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Full,
    /// Upsert by `key`, reading rows whose `watermark` is at or after `since` (all rows when
    /// `since` is `None`).
    Incremental {
        key: String,
        watermark: String,
        since: Option<DateTime<Utc>>,
    },
}

/// What to sync.
#[derive(Debug, Clone)]
pub struct SyncRequest {
    /// The connection's name (recorded as the version's source).
    pub connection: String,
    pub object: String,
    pub label: String,
    /// The fields to copy, in order (the connected object's fields that are not skipped).
    pub fields: Vec<SourceField>,
    pub mode: Mode,
    pub filter: Option<String>,
    /// Memory the merge of an incremental sync may use before it spills to disk (the runs'
    /// limit, `swell_engine::run::DEFAULT_MEMORY_LIMIT` unless set).
    pub memory_limit: usize,
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncOutcome {
    pub version_id: String,
    /// Rows in the new version.
    pub rows: u64,
    /// Rows the source sent.
    pub read_rows: u64,
    /// Whether it ran full (also when an incremental sync had to).
    pub full: bool,
    /// The newest watermark value seen, for the next incremental sync.
    pub watermark: Option<DateTime<Utc>>,
    /// An incremental sync that found nothing new: no row newer than the last sync's
    /// watermark (those at it are read again: the watermark is inclusive) and as many rows as
    /// before (nothing deleted). A row changed within the very millisecond of the watermark
    /// would not count; sources stamp changes to the millisecond at least.
    pub unchanged: bool,
}

fn writer_properties() -> WriterProperties {
    WriterProperties::builder().set_compression(Compression::ZSTD(ZstdLevel::try_new(1).unwrap_or_default())).build()
}

fn io_error(e: impl std::fmt::Display) -> ConnectError {
    ConnectError::Source(format!("cannot write the connected object: {e}"))
}

/// Streams a read into one Parquet file; returns the row count and the newest value of
/// `watermark` (a column index).
async fn write_stream(
    mut stream: BatchStream,
    fields: &[SourceField],
    path: &Path,
    watermark: Option<usize>,
    cancel: &CancellationToken,
    progress: &AtomicU64,
) -> Result<(u64, Option<i64>)> {
    let file = std::fs::File::create(path).map_err(io_error)?;
    let mut writer = ArrowWriter::try_new(file, storage_schema(fields), Some(writer_properties())).map_err(io_error)?;
    let mut rows = 0u64;
    let mut newest: Option<i64> = None;
    loop {
        let batch = tokio::select! {
            b = stream.next() => b,
            _ = cancel.cancelled() => return Err(ConnectError::Cancelled),
        };
        let Some(batch) = batch else { break };
        let batch: RecordBatch = batch?;
        if let Some(i) = watermark
            && let Some(stamps) = batch.column(i).as_any().downcast_ref::<TimestampMillisecondArray>()
            && let Some(m) = max(stamps)
        {
            newest = Some(newest.map_or(m, |n| n.max(m)));
        }
        rows += batch.num_rows() as u64;
        progress.fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
        writer.write(&batch).map_err(io_error)?;
    }
    writer.close().map_err(io_error)?;
    Ok((rows, newest))
}

fn metadata_fields(fields: &[SourceField]) -> Vec<Field> {
    fields.iter().map(|f| Field::labelled(f.name.clone(), Some(f.label.clone()), f.ty.clone())).collect()
}

/// Syncs one object and commits its version: [`prepare_sync`] then [`PreparedSync::publish`]
/// under the table's lock. `progress` counts the rows read as they arrive (the job node's
/// live row count).
pub async fn sync_object(
    source: &dyn Source,
    table: &VersionedTable,
    request: &SyncRequest,
    cancel: &CancellationToken,
    progress: &AtomicU64,
) -> Result<SyncOutcome> {
    let _lock = table.lock_async().await.map_err(io_error)?;
    prepare_sync(source, table, request, cancel, progress).await?.publish()
}

/// A synced version, whole on disk but not yet visible.
#[derive(Debug)]
pub struct PreparedSync {
    staged: StagedVersion,
    pub outcome: SyncOutcome,
}

impl PreparedSync {
    /// Makes the version current and prunes old ones. The caller holds the table's lock.
    pub fn publish(self) -> Result<SyncOutcome> {
        let table = self.staged.table().clone();
        self.staged.publish().map_err(io_error)?;
        prune(&table);
        Ok(self.outcome)
    }
}

/// Syncs one object into a prepared version and leaves it unpublished, so that the caller
/// can decide whether it may still commit (a job's sync commits only while the job is
/// running and not asked to stop). Dropping it removes the staged files.
///
/// The caller holds the table's lock from before this call to the publication: an
/// incremental sync builds on the current version, and a second writer in between (another
/// server on the same data dir) would be lost.
pub async fn prepare_sync(
    source: &dyn Source,
    table: &VersionedTable,
    request: &SyncRequest,
    cancel: &CancellationToken,
    progress: &AtomicU64,
) -> Result<PreparedSync> {
    // a current version whose files are gone (deleted from the data dir by hand) is nothing to
    // merge with: the sync reads every row and writes the object anew
    let previous = match table.current() {
        Ok(Some(v)) if v.files().is_ok_and(|f| !f.is_empty()) => Some(v),
        Ok(Some(_)) => None,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Ok(None) => None,
        Err(e) => return Err(io_error(e)),
    };
    let fields = metadata_fields(&request.fields);
    let incremental = match (&request.mode, &previous) {
        (Mode::Incremental { key, watermark, since }, Some(prev))
            if same_fields(&prev.metadata.fields, &fields) && since.is_some() =>
        {
            Some((key.clone(), watermark.clone(), *since, prev))
        }
        _ => None,
    };
    let watermark_field = match &request.mode {
        Mode::Incremental { watermark, .. } => Some(watermark.clone()),
        Mode::Full => request.fields.iter().find(|f| f.name == "SystemModstamp").map(|f| f.name.clone()),
    };
    let watermark_index = watermark_field.as_ref().and_then(|w| request.fields.iter().position(|f| &f.name == w));
    let version_id = new_version_id();
    let mut staged = table.stage(&version_id).map_err(io_error)?;
    let outcome = match incremental {
        None => {
            let read = Read {
                object: request.object.clone(),
                fields: request.fields.clone(),
                filter: request.filter.clone(),
                ..Read::default()
            };
            let stream = source.read(&read).await?;
            let path = staged.dir().join("part-0.parquet");
            let (rows, newest) =
                write_stream(stream, &request.fields, &path, watermark_index, cancel, progress).await?;
            SyncOutcome {
                version_id: version_id.clone(),
                rows,
                read_rows: rows,
                full: true,
                watermark: stamp(newest),
                unchanged: false,
            }
        }
        Some((key, watermark, since, prev)) => {
            let prev_files = prev.files().map_err(io_error)?;
            let previous_watermark = since;
            merge(source, &staged, request, &key, &watermark, since, &prev_files, watermark_index, cancel, progress)
                .await
                .map(|mut o| {
                    o.unchanged =
                        o.watermark.is_none_or(|w| Some(w) <= previous_watermark) && o.rows == prev.metadata.row_count;
                    // nothing changed: keep the watermark where it was
                    o.watermark = o.watermark.or(previous_watermark);
                    o
                })?
        }
    };
    if cancel.is_cancelled() {
        return Err(ConnectError::Cancelled);
    }
    let metadata = VersionMetadata {
        name: request.object.clone(),
        label: request.label.clone(),
        version_id: version_id.clone(),
        created_date: Utc::now(),
        row_count: outcome.rows,
        fields,
        row_level_security_filter: None,
        source: Some(request.connection.clone()),
    };
    staged.prepare(&metadata).map_err(io_error)?;
    Ok(PreparedSync { staged, outcome })
}

fn stamp(millis: Option<i64>) -> Option<DateTime<Utc>> {
    millis.and_then(|m| Utc.timestamp_millis_opt(m).single())
}

fn same_fields(a: &[Field], b: &[Field]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.name == y.name && x.ty == y.ty)
}

/// Removes all but the newest [`KEEP_VERSIONS`] versions; failures only cost disk space.
fn prune(table: &VersionedTable) {
    let Ok(versions) = table.versions() else { return };
    let current = table.current().ok().flatten().map(|v| v.metadata.version_id);
    let excess = versions.len().saturating_sub(KEEP_VERSIONS);
    for v in versions.into_iter().take(excess) {
        if Some(&v.metadata.version_id) != current.as_ref() {
            let _ = std::fs::remove_dir_all(&v.dir);
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn merge(
    source: &dyn Source,
    staged: &StagedVersion,
    request: &SyncRequest,
    key: &str,
    watermark: &str,
    since: Option<DateTime<Utc>>,
    prev_files: &[std::path::PathBuf],
    watermark_index: Option<usize>,
    cancel: &CancellationToken,
    progress: &AtomicU64,
) -> Result<SyncOutcome> {
    // scratch files live beside the staged version and are removed before it is committed
    let scratch = staged.dir().join("scratch");
    std::fs::create_dir_all(&scratch).map_err(io_error)?;
    let reports_deletes = source.reports_deletes() && request.fields.iter().any(|f| f.name == IS_DELETED);
    let changes = Read {
        object: request.object.clone(),
        fields: request.fields.clone(),
        since: since.map(|s| (watermark.to_string(), s)),
        filter: request.filter.clone(),
        include_deleted: reports_deletes,
        limit: None,
    };
    let delta_path = scratch.join("delta.parquet");
    let stream = source.read(&changes).await?;
    let (read_rows, newest) =
        write_stream(stream, &request.fields, &delta_path, watermark_index, cancel, progress).await?;
    let keys_path = scratch.join("keys.parquet");
    if !reports_deletes {
        let key_field: Vec<SourceField> = request.fields.iter().filter(|f| f.name == key).cloned().collect();
        let keys = Read {
            object: request.object.clone(),
            fields: key_field.clone(),
            filter: request.filter.clone(),
            ..Read::default()
        };
        let stream = source.read(&keys).await?;
        write_stream(stream, &key_field, &keys_path, None, cancel, &AtomicU64::new(0)).await?;
    }
    let df_error = |e: datafusion::error::DataFusionError| {
        let message = format!(
            "merging the changes of {}: {}",
            request.object,
            swell_engine::error::clean_df_message(&e.to_string())
        );
        if matches!(e.find_root(), datafusion::error::DataFusionError::ResourcesExhausted(_)) {
            ConnectError::Resources(message)
        } else {
            ConnectError::Source(message)
        }
    };
    // the runs' session: the same memory limit, spilling into the scratch folder, so that a
    // large merge neither takes the process's memory nor fails where a run of its size would not
    let ctx = swell_engine::run::new_context(None, request.memory_limit, &scratch.join("spill"));
    let paths = |files: &[std::path::PathBuf]| files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>();
    let prev = ctx.read_parquet(paths(prev_files), ParquetReadOptions::default()).await.map_err(df_error)?;
    let delta =
        ctx.read_parquet(delta_path.display().to_string(), ParquetReadOptions::default()).await.map_err(df_error)?;
    let columns: Vec<_> = request.fields.iter().map(|f| ident(f.name.as_str())).collect();
    let changed_keys = delta.clone().select(vec![ident(key).alias("__swell_changed")]).map_err(df_error)?;
    // join_on with exact identifiers: join() would fold a name like "Id" to lower case
    let mut kept =
        prev.join_on(changed_keys, JoinType::LeftAnti, [ident(key).eq(ident("__swell_changed"))]).map_err(df_error)?;
    if !reports_deletes {
        let current = ctx
            .read_parquet(keys_path.display().to_string(), ParquetReadOptions::default())
            .await
            .map_err(df_error)?
            .select(vec![ident(key).alias("__swell_current")])
            .map_err(df_error)?;
        kept =
            kept.join_on(current, JoinType::LeftSemi, [ident(key).eq(ident("__swell_current"))]).map_err(df_error)?;
    }
    let mut fresh = delta;
    if reports_deletes {
        let deleted = ident(IS_DELETED);
        fresh = fresh.filter(deleted.clone().is_null().or(deleted.not_eq(lit("true")))).map_err(df_error)?;
    }
    let merged = kept
        .select(columns.clone())
        .map_err(df_error)?
        .union(fresh.select(columns).map_err(df_error)?)
        .map_err(df_error)?;
    let out = staged.dir().join("part-0.parquet").display().to_string();
    let write = merged.write_parquet(&out, DataFrameWriteOptions::new().with_single_file_output(true), None);
    let counts = tokio::select! {
        r = write => r.map_err(df_error)?,
        _ = cancel.cancelled() => return Err(ConnectError::Cancelled),
    };
    let rows: u64 = counts
        .iter()
        .filter_map(|b| {
            b.column(0).as_any().downcast_ref::<datafusion::arrow::array::UInt64Array>().map(|a| a.value(0))
        })
        .sum();
    drop(ctx);
    std::fs::remove_dir_all(&scratch).map_err(io_error)?;
    Ok(SyncOutcome {
        version_id: staged.id().to_string(),
        rows,
        read_rows,
        full: false,
        watermark: stamp(newest),
        unchanged: false,
    })
}

/// Rows of a data preview as JSON objects (the `dataListJson` of the API): text as strings,
/// numbers as numbers, dates in ISO form.
pub async fn preview(
    source: &dyn Source,
    object: &str,
    fields: Vec<SourceField>,
    rows: usize,
) -> Result<Vec<serde_json::Value>> {
    let read = Read { object: object.to_string(), fields, limit: Some(rows), ..Read::default() };
    let mut stream = source.read(&read).await?;
    let mut out = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let buf = Vec::new();
        let mut writer = datafusion::arrow::json::ArrayWriter::new(buf);
        writer.write(&batch).map_err(io_error)?;
        writer.finish().map_err(io_error)?;
        let rows: Vec<serde_json::Value> = serde_json::from_slice(&writer.into_inner()).unwrap_or_default();
        out.extend(rows);
        if out.len() >= read.limit.unwrap_or(usize::MAX) {
            break;
        }
    }
    out.truncate(rows);
    Ok(out)
}
