//! The sync of one source object into a connected object: a new version under the data dir.
//!
//! - **Full**: every row the source sends (after `passThroughFilter`) is streamed into a
//!   Parquet file of a staged version.
//! - **Incremental** (upsert by key): rows changed since the watermark are read, and the new
//!   version is the previous one minus the rows whose key changed or disappeared, plus the
//!   changed rows. It is written as a layer on top of the previous version's files (shared by
//!   hard links), so that a sync costs what changed rather than the whole object; a sync
//!   compacts the layers into a whole version when they pile up ([`MAX_LAYERS`],
//!   [`COMPACT_EVERY`]). Readers merge the layers ([`swell_engine::storage::read_version`]).
//!   Deletions are found two ways: a source that reports them (Salesforce `queryAll` with
//!   `IsDeleted`) flags them among the changes; any other source is asked for its current
//!   keys (one narrow column), and rows whose key is gone are dropped. A sync without a
//!   previous version, or whose fields differ from it, runs full.
//!
//! Either way the version is committed atomically, under the table's lock held for the whole
//! sync (see [`swell_engine::storage`]): a failed
//! or stopped sync leaves the previous version current and readable, and no partial files
//! where readers look. The newest [`KEEP_VERSIONS`] versions are kept and older ones removed
//! (a version's folder holds every file it reads, so removing an older one never takes a
//! newer one's rows): a run reads the version that was current when it planned, so only a run
//! that outlives three more syncs of an object it reads would find its files gone (and fail,
//! naming them).

use crate::source::{BatchStream, Read, Source, SourceField, storage_schema};
use crate::{ConnectError, Result};
use chrono::{DateTime, TimeZone, Utc};
use datafusion::arrow::array::{Array, RecordBatch, TimestampMillisecondArray};
use datafusion::arrow::compute::max;
use datafusion::common::JoinType;
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::error::DataFusionError;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::prelude::{ParquetReadOptions, col, ident, lit};
use futures::StreamExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use swell_engine::schema::Field;
use swell_engine::storage::{
    LAYER_COLUMN, LayersMetadata, REMOVED_FILE, StagedVersion, Version, VersionMetadata, VersionedTable, layer_file,
    link_or_copy, new_version_id, read_version, same_as,
};
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
        Ok(Some(v)) if v.all_files().is_ok_and(|f| !f.is_empty()) => Some(v),
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
    let mut layers = None;
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
            // the rows the next syncs upsert by their key: one without a value could never be
            // told apart from another (and would be lost at its first deletion)
            if let Mode::Incremental { key, .. } = &request.mode {
                let ctx = datafusion::prelude::SessionContext::new();
                let keyless = async {
                    ctx.read_parquet(path.display().to_string(), ParquetReadOptions::default())
                        .await?
                        .filter(ident(key.as_str()).is_null())?
                        .count()
                        .await
                }
                .await
                .map_err(|e| ConnectError::Source(swell_engine::error::clean_df_message(&e.to_string())))?;
                if keyless > 0 {
                    return Err(no_key(keyless as u64, false, key));
                }
            }
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
            let previous_watermark = since;
            let (mut o, l) =
                upsert(source, &staged, request, &key, &watermark, since, prev, watermark_index, cancel, progress)
                    .await?;
            o.unchanged =
                o.watermark.is_none_or(|w| Some(w) <= previous_watermark) && o.rows == prev.metadata.row_count;
            // nothing changed: keep the watermark where it was
            o.watermark = o.watermark.or(previous_watermark);
            layers = l;
            o
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
        layers,
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

/// Layers on top of a base before a sync compacts them into a whole version.
pub const MAX_LAYERS: u32 = 16;

/// A sync compacts the layers into a whole version when layer rows and removed keys together
/// reach this fraction (1/N) of the base rows: reads merge them past every base row, and
/// the files they hold twice (an old row in the base, its new one in a layer) cost disk.
pub const COMPACT_EVERY: u64 = 8;

/// Names the layered form uses for its own columns: a source field of one of these names
/// syncs into whole versions only.
const OWN_COLUMNS: [&str; 3] = [LAYER_COLUMN, "__swell_removed_key", "__swell_removed_layer"];

/// `base`, or `base` with underscores added, so that no field has that name.
fn unused_name(base: &str, fields: &[SourceField]) -> String {
    let mut name = base.to_string();
    while fields.iter().any(|f| f.name == name) {
        name.push('_');
    }
    name
}

/// Writes `df` into one Parquet file at `path`; returns its rows.
async fn write_one(
    df: datafusion::dataframe::DataFrame,
    path: &Path,
    cancel: &CancellationToken,
) -> std::result::Result<u64, Stop> {
    let path = path.display().to_string();
    let write = df.write_parquet(&path, DataFrameWriteOptions::new().with_single_file_output(true), None);
    let counts = tokio::select! {
        r = write => r.map_err(Stop::Engine)?,
        _ = cancel.cancelled() => return Err(Stop::Cancelled),
    };
    Ok(counts
        .iter()
        .filter_map(|b| {
            b.column(0).as_any().downcast_ref::<datafusion::arrow::array::UInt64Array>().map(|a| a.value(0))
        })
        .sum())
}

/// The time each step of a sync took, logged at debug level (`SWELL_LOG=warn,swell_connect=debug`).
struct Laps<'a> {
    object: &'a str,
    at: std::time::Instant,
}

impl<'a> Laps<'a> {
    fn new(object: &'a str) -> Self {
        Laps { object, at: std::time::Instant::now() }
    }

    fn lap(&mut self, step: &str) {
        tracing::debug!(object = self.object, step, ms = self.at.elapsed().as_millis() as u64, "sync step");
        self.at = std::time::Instant::now();
    }
}

/// Why an upsert did not finish: the engine or the source failed, changed rows had no key or
/// shared one with other rows, or the sync was stopped.
enum Stop {
    Engine(datafusion::error::DataFusionError),
    /// Rows without a key value: among the changes, or among the source's rows.
    NoKey {
        rows: u64,
        changed: bool,
    },
    NotUnique {
        value: String,
        rows: u64,
    },
    /// The source failed reading its keys.
    Source(ConnectError),
    Cancelled,
}

impl From<datafusion::error::DataFusionError> for Stop {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        Stop::Engine(e)
    }
}

fn external(e: std::io::Error) -> Stop {
    Stop::Engine(DataFusionError::External(Box::new(e)))
}

/// Rows upsert by their key: one without a value matches nothing, or every other keyless row
/// (sources' own keys always have one; a chosen primaryKey may not).
fn no_key(rows: u64, changed: bool, key: &str) -> ConnectError {
    let what = match (rows, changed) {
        (1, true) => "1 changed row has".to_string(),
        (1, false) => "1 row of the source has".to_string(),
        (n, true) => format!("{n} changed rows have"),
        (n, false) => format!("{n} rows of the source have"),
    };
    ConnectError::Config(format!(
        "{what} no value in the key field '{key}', which an incremental sync upserts by: set the advanced \
         property primaryKey to a field that always has a value, or use connectionMode full"
    ))
}

/// Rows per value of `key` in `df`: the key and `n`.
fn per_key(
    df: datafusion::dataframe::DataFrame,
    key: &str,
) -> std::result::Result<datafusion::dataframe::DataFrame, DataFusionError> {
    df.aggregate(vec![ident(key)], vec![agg::count(lit(1)).alias("n")])
}

/// A key value that several rows share, quoted as a message shows it, and how many rows have
/// it, from rows per key ([`per_key`]); `None` when every value is one row's.
async fn shared_value(
    per_key: datafusion::dataframe::DataFrame,
    key: &str,
) -> std::result::Result<Option<(String, u64)>, Stop> {
    let shared = per_key.filter(col("n").gt(lit(1)))?.select(vec![ident(key), col("n")])?.limit(0, Some(1))?;
    let batches = shared.collect().await?;
    let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else { return Ok(None) };
    let (column, n) = (batch.column(0), batch.column(1));
    let value = if column.is_null(0) {
        "null".to_string()
    } else {
        let text = datafusion::arrow::util::display::array_value_to_string(column, 0).map_err(DataFusionError::from)?;
        if column.data_type().is_numeric() { text } else { format!("'{text}'") }
    };
    let rows = datafusion::arrow::util::display::array_value_to_string(n, 0).map_err(DataFusionError::from)?;
    Ok(Some((value, rows.parse().unwrap_or(2))))
}

/// An incremental sync: the rows changed since the watermark become a new layer on top of
/// the previous version (see [`swell_engine::storage::read_version`]), or, when layers pile
/// up ([`MAX_LAYERS`], [`COMPACT_EVERY`]), the previous rows and the changes are written as a
/// whole version. Keys whose rows changed or were deleted are the keys the layer touches.
///
/// Deletions come flagged from a source that reports them. Any other source is asked how
/// many rows it has (one `count(*)`, read with the changes): every row the source has is
/// either stored already or among the changes (that is what the watermark promises), so
/// when the count equals the stored rows less those the changes replace plus the changed
/// rows, nothing was deleted. Only when it differs, and on every sync that compacts, are the
/// source's keys read (one narrow column, the cost of a third of a full sync) and the stored
/// keys the source no longer has dropped. A source that cannot count, or whose key is a
/// chosen primaryKey rather than its declared one-field primary key, is always asked for its
/// keys. The count can be fooled only when rows the watermark missed (inserted with a stamp
/// older than the last sync's) balance rows deleted since; the key check at the next
/// compaction, at most [`MAX_LAYERS`] syncs that change something later, drops those.
///
/// The key must be unique and always have a value: a changed row whose key another row of the
/// changes or of the stored rows has fails the sync naming the value (an upsert by that key
/// would replace every row of it by the changed ones, silently dropping the others), and so
/// do source rows without a key value or sharing one, where the keys are read.
#[allow(clippy::too_many_arguments)]
async fn upsert(
    source: &dyn Source,
    staged: &StagedVersion,
    request: &SyncRequest,
    key: &str,
    watermark: &str,
    since: Option<DateTime<Utc>>,
    previous: &Version,
    watermark_index: Option<usize>,
    cancel: &CancellationToken,
    progress: &AtomicU64,
) -> Result<(SyncOutcome, Option<LayersMetadata>)> {
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
    let key_field: Vec<SourceField> = request.fields.iter().filter(|f| f.name == key).cloned().collect();
    // a key the source declares as its one-field primary key is unique and never null there; a
    // chosen primaryKey may be neither, and a count cannot tell (a row sharing the key of a
    // changed one, balanced by a deletion): its keys are read and checked on every sync
    let declared_key = request.fields.iter().filter(|f| f.primary_key).map(|f| f.name.as_str()).eq([key]);
    let every_key = Read {
        object: request.object.clone(),
        fields: key_field.clone(),
        filter: request.filter.clone(),
        ..Read::default()
    };
    let delta_path = scratch.join("delta.parquet");
    let mut laps = Laps::new(&request.object);
    // the changes, and the source's row count where deletions are not reported, read at once:
    // a row deleted or added in between makes the count differ (the keys are read then) or
    // is seen by the next sync
    let read_changes = async {
        let stream = source.read(&changes).await?;
        write_stream(stream, &request.fields, &delta_path, watermark_index, cancel, progress).await
    };
    let count_rows =
        async { if reports_deletes { Ok(None) } else { source.count(&every_key).await.map_err(Stop::Source) } };
    // the runs' session: the same memory limit, spilling into the scratch folder, so that a
    // large merge neither takes the process's memory nor fails where a run of its size would not
    let ctx = swell_engine::run::new_context(None, request.memory_limit, &scratch.join("spill"));
    // the joins' own columns, named unlike every field
    let (current_col, touched_col) =
        (unused_name("__swell_current", &request.fields), unused_name("__swell_touched", &request.fields));
    let mut read_info = (0, None);
    let merged = async {
        let read = |path: &Path| ctx.read_parquet(path.display().to_string(), ParquetReadOptions::default());
        let view = read_version(&ctx, previous).await?;
        let columns: Vec<_> = request.fields.iter().map(|f| ident(f.name.as_str())).collect();
        let (changed_path, fresh_path) = (scratch.join("changed.parquet"), scratch.join("fresh.parquet"));
        let touched_view = |path: &Path| {
            let path = path.to_path_buf();
            let read = &read;
            let touched_col = &touched_col;
            async move { read(&path).await.and_then(|df| df.select(vec![ident(key).alias(touched_col)])) }
        };
        let same_key = || same_as(ident(&touched_col), ident(key));
        // the stored rows the touched keys replace, and the most that share one key
        let replaced = |path: &Path| {
            let path = path.to_path_buf();
            let view = view.clone();
            let touched_view = &touched_view;
            async move {
                let hit = touched_view(&path).await?.join_on(
                    view.select(vec![ident(key)])?,
                    JoinType::RightSemi,
                    [same_key()],
                )?;
                let per_key = per_key(hit, key)?;
                let stats = per_key
                    .clone()
                    .aggregate(vec![], vec![agg::sum(col("n")).alias("rows"), agg::max(col("n")).alias("most")])?
                    .collect()
                    .await?;
                let value = |i: usize| {
                    stats.iter().find(|b| b.num_rows() > 0).and_then(|b| {
                        datafusion::arrow::compute::cast(b.column(i), &datafusion::arrow::datatypes::DataType::Int64)
                            .ok()
                            .and_then(|a| {
                                a.as_any()
                                    .downcast_ref::<datafusion::arrow::array::Int64Array>()
                                    .filter(|a| a.is_valid(0))
                                    .map(|a| a.value(0) as u64)
                            })
                    })
                };
                Ok::<_, Stop>((value(0).unwrap_or(0), value(1).unwrap_or(0), per_key))
            }
        };

        // the changes, the rows they replace and the checks of their keys, while the source
        // counts its rows (in PostgreSQL, the longer of the two reads)
        let changed = async {
            let (read_rows, newest) = read_changes.await.map_err(Stop::Source)?;
            laps.lap("changes read");
            let changes = read(&delta_path).await?;
            let keyless = changes.clone().filter(ident(key).is_null())?.count().await? as u64;
            if keyless > 0 {
                return Err(Stop::NoKey { rows: keyless, changed: true });
            }
            // the changed keys, once each; a key read twice is not unique
            let changed_keys =
                write_one(changes.clone().select(vec![ident(key)])?.distinct()?, &changed_path, cancel).await?;
            if changed_keys < read_rows
                && let Some((value, rows)) = shared_value(per_key(changes.clone(), key)?, key).await?
            {
                return Err(Stop::NotUnique { value, rows });
            }
            let mut fresh = changes.clone();
            if reports_deletes {
                let deleted = ident(IS_DELETED);
                fresh = fresh.filter(deleted.clone().is_null().or(deleted.not_eq(lit("true"))))?;
            }
            let fresh_rows = write_one(fresh.select(columns.clone())?, &fresh_path, cancel).await?;
            laps.lap("changed keys, fresh rows");
            let (replaced_rows, most, per_key) = replaced(&changed_path).await?;
            if most > 1
                && let Some((value, _)) = shared_value(per_key, key).await?
            {
                return Err(Stop::NotUnique { value, rows: most });
            }
            laps.lap("replaced rows counted");
            Ok::<_, Stop>((read_rows, newest, changed_keys, fresh_rows, replaced_rows))
        };
        let ((read_rows, newest, changed_keys, fresh_rows, mut replaced_rows), source_rows) =
            futures::try_join!(changed, count_rows)?;
        laps.lap("source rows counted");
        read_info = (read_rows, newest);
        let prior = previous.metadata.layers.clone();
        let (count, base_rows, layer_rows, removed_keys) = match &prior {
            Some(l) => (l.count, l.base_rows, l.layer_rows, l.removed_keys),
            None => (0, previous.metadata.row_count, 0, 0),
        };
        let layerable = request.fields.iter().all(|f| !OWN_COLUMNS.contains(&f.name.as_str()))
            && prior.as_ref().is_none_or(|l| l.key == key)
            && count < MAX_LAYERS;
        let small = |touched: u64| {
            (layer_rows + fresh_rows + removed_keys + touched).saturating_mul(COMPACT_EVERY) <= base_rows
        };

        let (mut touched_path, mut touched_keys) = (changed_path.clone(), changed_keys);
        let expected = previous.metadata.row_count.saturating_sub(replaced_rows) + fresh_rows;
        // deletions come flagged, or the count of a source that holds the key unique says none
        // happened and the sync adds a layer (a compaction checks every key)
        let keys_unneeded =
            reports_deletes || (declared_key && source_rows == Some(expected) && layerable && small(changed_keys));
        if !keys_unneeded {
            // rows were deleted (or the source cannot count, or does not hold the key unique,
            // or this sync compacts): the stored keys the source no longer has
            let keys_path = scratch.join("keys.parquet");
            let stream = source.read(&every_key).await.map_err(Stop::Source)?;
            let (source_keys, _) = write_stream(stream, &key_field, &keys_path, None, cancel, &AtomicU64::new(0))
                .await
                .map_err(Stop::Source)?;
            laps.lap("keys read");
            let keyless = read(&keys_path).await?.filter(ident(key).is_null())?.count().await? as u64;
            if keyless > 0 {
                return Err(Stop::NoKey { rows: keyless, changed: false });
            }
            let current = read(&keys_path).await?.select(vec![ident(key).alias(&current_col)])?;
            let gone = current
                .join_on(
                    view.clone().select(vec![ident(key)])?,
                    JoinType::RightAnti,
                    [same_as(ident(&current_col), ident(key))],
                )?
                .select(vec![ident(key)])?;
            // the stored rows of deleted keys, less those of keys among the changes (changed
            // and then deleted while the keys were read): few, so the rest is cheap
            let gone_path = scratch.join("gone.parquet");
            write_one(gone, &gone_path, cancel).await?;
            laps.lap("deleted keys found");
            let gone = touched_view(&changed_path).await?.join_on(
                read(&gone_path).await?,
                JoinType::RightAnti,
                [same_key()],
            )?;
            replaced_rows += gone.clone().count().await? as u64;
            let touched = read(&changed_path).await?.select(vec![ident(key)])?.union(gone.distinct()?)?;
            touched_path = scratch.join("touched.parquet");
            touched_keys = write_one(touched, &touched_path, cancel).await?;
            laps.lap("touched keys");
            // more rows at the source than the sync keeps: a key that source rows share (an
            // upsert by it keeps one of them), or rows the watermark missed or that were added
            // while the keys were read
            let kept = previous.metadata.row_count.saturating_sub(replaced_rows) + fresh_rows;
            if source_keys > kept {
                if let Some((value, rows)) = shared_value(per_key(read(&keys_path).await?, key)?, key).await? {
                    return Err(Stop::NotUnique { value, rows });
                }
                tracing::warn!(
                    object = request.object,
                    rows = source_keys - kept,
                    "rows of the source are not among the synced rows: stamped before the watermark, or added \
                     while the sync ran; a full sync takes them in"
                );
                laps.lap("source keys checked");
            }
        }
        let touched = touched_view(&touched_path).await?;
        if !(layerable && small(touched_keys)) {
            let kept = touched.join_on(view, JoinType::RightAnti, [same_key()])?.select(columns.clone())?;
            let whole = kept.union(read(&fresh_path).await?.select(columns)?)?;
            let rows = write_one(whole, &staged.dir().join("part-0.parquet"), cancel).await?;
            return Ok((rows, None));
        }
        // the previous version's files, shared
        for file in previous.all_files().map_err(external)? {
            let name = file.file_name().unwrap_or_default();
            if name != REMOVED_FILE {
                link_or_copy(&file, &staged.dir().join(name)).map_err(external)?;
            }
        }
        if touched_keys == 0 {
            // nothing changed: the previous version's rows, as they were
            if let Some(layers) = previous.layers().map_err(external)? {
                link_or_copy(&layers.removed, &staged.dir().join(REMOVED_FILE)).map_err(external)?;
            }
            return Ok((previous.metadata.row_count, prior));
        }
        let n = count + 1;
        let layer = read(&fresh_path)
            .await?
            .select(columns.iter().cloned().chain([lit(n).alias(LAYER_COLUMN)]).collect::<Vec<_>>())?;
        write_one(layer, &staged.dir().join(layer_file(n)), cancel).await?;
        laps.lap("layer written");
        let mut removed = read(&touched_path).await?.select(vec![ident(key), lit(n).alias(LAYER_COLUMN)])?;
        if let Some(layers) = previous.layers().map_err(external)? {
            let earlier = touched
                .join_on(read(&layers.removed).await?, JoinType::RightAnti, [same_key()])?
                .select(vec![ident(key), col(LAYER_COLUMN)])?;
            removed = earlier.union(removed)?;
        }
        let removed_keys = write_one(removed, &staged.dir().join(REMOVED_FILE), cancel).await?;
        laps.lap("removed keys written");
        let rows = previous.metadata.row_count - replaced_rows.min(previous.metadata.row_count) + fresh_rows;
        let layers = LayersMetadata {
            key: key.to_string(),
            count: n,
            base_rows,
            layer_rows: layer_rows + fresh_rows,
            removed_keys,
        };
        Ok::<_, Stop>((rows, Some(layers)))
    }
    .await;
    drop(ctx);
    let (rows, layers) = match merged {
        Ok(done) => done,
        Err(Stop::Cancelled) => return Err(ConnectError::Cancelled),
        Err(Stop::Source(e)) => return Err(e),
        Err(Stop::NoKey { rows, changed }) => return Err(no_key(rows, changed, key)),
        Err(Stop::NotUnique { value, rows }) => {
            return Err(ConnectError::Config(format!(
                "the key field '{key}' is not unique: {rows} rows have the value {value}, and an incremental sync \
                 upserts by it (keeping one row per value): set the advanced property primaryKey to a unique \
                 field, or use connectionMode full"
            )));
        }
        Err(Stop::Engine(e)) => {
            let message = format!("merging the changes: {}", swell_engine::error::clean_df_message(&e.to_string()));
            return Err(if matches!(e.find_root(), DataFusionError::ResourcesExhausted(_)) {
                ConnectError::Resources(message)
            } else {
                ConnectError::Source(message)
            });
        }
    };
    std::fs::remove_dir_all(&scratch).map_err(io_error)?;
    let (read_rows, newest) = read_info;
    let outcome = SyncOutcome {
        version_id: staged.id().to_string(),
        rows,
        read_rows,
        full: false,
        watermark: stamp(newest),
        unchanged: false,
    };
    Ok((outcome, layers))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The hostile probe: a source column named like a join's own column failed every sync
    /// ("Ambiguous reference").
    #[test]
    fn the_joins_own_columns_are_named_unlike_every_field() {
        let field = |n: &str| SourceField::new(n, swell_engine::schema::FieldType::Text, "text");
        assert_eq!(unused_name("__swell_touched", &[field("Id")]), "__swell_touched");
        let taken = [field("__swell_touched"), field("__swell_touched_")];
        assert_eq!(unused_name("__swell_touched", &taken), "__swell_touched__");
    }
}
