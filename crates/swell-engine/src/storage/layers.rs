//! Versions stored as a base plus layers of changes, merged when read.
//!
//! An incremental sync that changed 1 % of an object should cost about 1 % of a full sync, so
//! it does not rewrite the object: its version holds the previous version's files (hard
//! links, no copy) and adds the changes as a layer. A version with layers holds:
//!
//! ```text
//! part-*.parquet          the base: rows of the last whole version
//! layer-00001.parquet     rows written by the first sync after the base (its upserts)
//! layer-0000N.parquet     ... by the N-th; each row carries its layer number (LAYER_COLUMN)
//! removed.parquet         every key a layer touched (changed, added or deleted), with the
//!                         number of the last layer that touched it
//! metadata.json           `layers`: the key field, the number of layers, the base's rows
//! ```
//!
//! The rows of the version are the base rows whose key no layer touched, and the rows of each
//! layer whose key was last touched by that layer: a key changed twice reads from its newest
//! layer, a deleted key (touched, with no row in that layer) reads from none. Keys compare
//! with null equal to null, so that a user's key field holding nulls upserts them as one key.
//! [`read_version`] is the one place that says so, for runs, syncs and previews.
//!
//! Every version folder is whole by itself (links to the files it shares), so publishing,
//! sweeping, pruning and removing versions are what they are for whole versions: a crash
//! leaves the previous version current, and removing an old version never takes a file a
//! newer one reads. The sync that writes layers compacts them into a whole version when they
//! pile up (`swell-connect`'s sync says when).

use super::Version;
use datafusion::common::JoinType;
use datafusion::dataframe::DataFrame;
use datafusion::error::Result;
use datafusion::prelude::{Expr, ParquetReadOptions, SessionContext, col, ident};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The column of layer files and of `removed.parquet` holding the layer number.
pub const LAYER_COLUMN: &str = "__swell_layer";

/// The file of keys the layers touched.
pub const REMOVED_FILE: &str = "removed.parquet";

/// The file name of layer `n` (from 1).
pub fn layer_file(n: u32) -> String {
    format!("layer-{n:05}.parquet")
}

/// What `metadata.json` says of a version with layers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LayersMetadata {
    /// The field rows are upserted by.
    pub key: String,
    /// Layers on top of the base (layer files `1..=count`).
    pub count: u32,
    /// Rows in the base files.
    pub base_rows: u64,
    /// Rows in all layer files together.
    pub layer_rows: u64,
    /// Keys in `removed.parquet`.
    pub removed_keys: u64,
}

/// The files of a version with layers.
#[derive(Debug, Clone, PartialEq)]
pub struct Layers {
    pub key: String,
    /// Layer files, layer 1 first.
    pub files: Vec<PathBuf>,
    pub removed: PathBuf,
}

impl Version {
    /// The layers of this version, `None` for a whole version. A layer file that is missing
    /// is `NotFound`, as a missing base file is.
    pub fn layers(&self) -> io::Result<Option<Layers>> {
        let Some(meta) = &self.metadata.layers else { return Ok(None) };
        let mut files = Vec::new();
        for n in 1..=meta.count {
            files.push(existing(self.dir.join(layer_file(n)))?);
        }
        Ok(Some(Layers { key: meta.key.clone(), files, removed: existing(self.dir.join(REMOVED_FILE))? }))
    }

    /// Every data file of the version: its base, then its layers and their removed keys.
    pub fn all_files(&self) -> io::Result<Vec<PathBuf>> {
        let mut files = self.files()?;
        if let Some(layers) = self.layers()? {
            files.extend(layers.files);
            files.push(layers.removed);
        }
        Ok(files)
    }
}

fn existing(path: PathBuf) -> io::Result<PathBuf> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(io::Error::new(io::ErrorKind::NotFound, format!("{} is missing", path.display())))
    }
}

fn paths(files: &[PathBuf]) -> Vec<String> {
    files.iter().map(|p| p.display().to_string()).collect()
}

/// The rows of a stored version as a DataFrame of its fields: its files, with its layers
/// merged when it has some (see the module's docs).
pub async fn read_version(ctx: &SessionContext, version: &Version) -> Result<DataFrame> {
    let files = version.files()?;
    let base = ctx.read_parquet(paths(&files), ParquetReadOptions::default()).await?;
    match version.layers()? {
        None => Ok(base),
        Some(layers) => merge_layers(ctx, base, &layers).await,
    }
}

/// The base rows no layer touched and each layer's rows its key was last touched by. The
/// joins build on the removed keys (the small side: compaction keeps them a fraction of the
/// base) and stream the base and the layers past them.
pub async fn merge_layers(ctx: &SessionContext, base: DataFrame, layers: &Layers) -> Result<DataFrame> {
    let key = layers.key.as_str();
    let columns: Vec<Expr> = base.schema().fields().iter().map(|f| ident(f.name().as_str())).collect();
    let removed = ctx.read_parquet(layers.removed.display().to_string(), ParquetReadOptions::default()).await?;
    let removed = removed
        .select(vec![ident(key).alias("__swell_removed_key"), col(LAYER_COLUMN).alias("__swell_removed_layer")])?;
    let same_key = || same_as(col("__swell_removed_key"), ident(key));
    let kept = removed.clone().join_on(base, JoinType::RightAnti, [same_key()])?.select(columns.clone())?;
    let rows = ctx.read_parquet(paths(&layers.files), ParquetReadOptions::default()).await?;
    let newest = removed
        .join_on(rows, JoinType::RightSemi, [same_key(), same_as(col("__swell_removed_layer"), col(LAYER_COLUMN))])?
        .select(columns)?;
    kept.union(newest)
}

/// `a IS NOT DISTINCT FROM b`: equal, or both null. As the only condition of a join it is a
/// hash join whose nulls match (DataFusion's `NullEqualsNull`).
pub fn same_as(a: Expr, b: Expr) -> Expr {
    datafusion::logical_expr::binary_expr(a, datafusion::logical_expr::Operator::IsNotDistinctFrom, b)
}

/// Puts `from` at `to` without copying (a hard link), or by copying where the file system
/// cannot link. Files of a version are never changed once written, so sharing them is safe.
pub fn link_or_copy(from: &Path, to: &Path) -> io::Result<()> {
    match fs::hard_link(from, to) {
        Ok(()) => Ok(()),
        Err(_) => fs::copy(from, to).map(|_| ()),
    }
}
