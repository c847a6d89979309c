//! Versioned tables under the data dir: dataset versions and connected-object snapshots.
//!
//! Layout of one table (a dataset `datasets/<alias>/` or a connected object
//! `connections/<connection>/objects/<object>/`):
//!
//! ```text
//! versions/<version-id>/part-*.parquet   the rows
//! versions/<version-id>/metadata.json    fields (XMD), row count, label, creation time
//! versions/.staging-<id>/                a version being written (never read)
//! current                                the id of the current version
//! .committing                            a commit whose record elsewhere is not settled
//! ```
//!
//! A version is written into a staging directory, renamed into `versions/` when complete, and
//! only then made current by atomically replacing `current` (write to a temporary file, fsync,
//! rename). A failed or stopped run therefore leaves the previous version current and no
//! partial files where readers look. A staging directory belongs to its writer (a lease,
//! `tmp/<lease>/.lock`, locked while the writer lives): other writers of the same table never
//! touch it, and [`DataDir::sweep`] hands it over only once its writer is dead. Commits of one
//! table are serialized by the table's lock (`<table>/.lock`).
//!
//! A server publishes a run's versions while the store's record of the job's Success is
//! written but not yet visible ([`publish_all`]), so that no one reads a Success whose
//! datasets are not in place. `.committing` says what to undo if that record never becomes
//! visible (the process died, the database failed): [`DataDir::dead_commits`] finds such
//! markers once their writer let go of the table's lock, for the caller to settle.

use crate::schema::Field;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use swell_core::{NameError, PathName};

mod commit;
mod layers;
pub use commit::{DeadCommit, Publication, publish_all};
pub use layers::{
    LAYER_COLUMN, Layers, LayersMetadata, REMOVED_FILE, layer_file, link_or_copy, merge_layers, read_version, same_as,
};

/// Metadata of one stored version (the XMD of CRM Analytics, simplified).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VersionMetadata {
    pub name: String,
    pub label: String,
    pub version_id: String,
    pub created_date: DateTime<Utc>,
    pub row_count: u64,
    pub fields: Vec<Field>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_level_security_filter: Option<String>,
    /// The dataflow (or connection) that wrote this version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Layers of changes on top of the base files (a connected object's incremental sync);
    /// none for a whole version. See [`read_version`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<LayersMetadata>,
}

/// The root of swell's data. Every path under it is built here, from [`PathName`]s only, so
/// that no name can reach outside it.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

/// Leases and staging folders are made under a temporary name (`.new-*`) and renamed into
/// place once their lock or owner is written, so a sweep never sees one half made. A `.new-*`
/// folder older than this was left by a process that died making it.
const SWEEP_GRACE: std::time::Duration = std::time::Duration::from_secs(60);

/// The prefix of folders being made (see [`SWEEP_GRACE`]).
const NEW_PREFIX: &str = ".new-";

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DataDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `root/<fixed>/<name>/...`: the one way a path under the data dir is made from names.
    fn under(&self, fixed: &str, names: &[&str]) -> Result<PathBuf, NameError> {
        let mut path = self.root.join(fixed);
        for n in names {
            path.push(PathName::parse(n)?.as_str());
        }
        Ok(path)
    }

    pub fn dataset(&self, alias: &str) -> Result<VersionedTable, NameError> {
        Ok(VersionedTable { root: self.root.clone(), dir: self.under("datasets", &[alias])? })
    }

    pub fn connected_object(&self, connection: &str, object: &str) -> Result<VersionedTable, NameError> {
        let mut dir = self.under("connections", &[connection])?;
        dir.push("objects");
        dir.push(PathName::parse(object)?.as_str());
        Ok(VersionedTable { root: self.root.clone(), dir })
    }

    /// `exports/<node>/`, where an export node writes one folder per run.
    pub fn exports_of(&self, node: &str) -> Result<PathBuf, NameError> {
        self.under("exports", &[node])
    }

    /// Takes a lease: a scratch folder `tmp/<id>/` that belongs to the caller while the lease
    /// lives (a lock on `tmp/<id>/.lock` says so to other processes) and is removed with it.
    pub fn lease(&self) -> io::Result<RunLease> {
        let id = new_version_id();
        let tmp = self.root.join("tmp");
        let making = tmp.join(format!("{NEW_PREFIX}{id}"));
        fs::create_dir_all(&making)?;
        let lock = fs::File::create(making.join(".lock"))?;
        lock.lock()?;
        // the lock is on the file, not its name: it holds through the rename
        let dir = tmp.join(&id);
        fs::rename(&making, &dir)?;
        Ok(RunLease { id, dir, _lock: lock })
    }

    /// Whether the lease `id` is held by a live run (of any process on this machine).
    fn lease_alive(&self, id: &str) -> bool {
        let Ok(name) = PathName::parse(id) else { return false };
        let lock = self.root.join("tmp").join(name.as_str()).join(".lock");
        match fs::File::open(&lock) {
            Ok(f) => matches!(f.try_lock(), Err(fs::TryLockError::WouldBlock)),
            Err(_) => false,
        }
    }

    /// Cleans up after runs that died (kill -9, a crash, a power cut): removes the scratch
    /// folders of dead leases and returns the staging folders of dead writers, for the caller
    /// to finish (a version its store recorded as committed) or discard. Live runs of this or
    /// another process are never touched: their leases are locked.
    pub fn sweep(&self) -> io::Result<Vec<DeadStaging>> {
        if let Ok(entries) = fs::read_dir(self.root.join("tmp")) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                let dead = if name.starts_with(NEW_PREFIX) { !young(&entry.path()) } else { !self.lease_alive(&name) };
                if dead {
                    let _ = fs::remove_dir_all(entry.path());
                }
            }
        }
        let mut tables = Vec::new();
        for entry in read_dirs(&self.root.join("datasets")) {
            tables.push((entry.clone(), TableKind::Dataset(file_name(&entry))));
        }
        for connection in read_dirs(&self.root.join("connections")) {
            for object in read_dirs(&connection.join("objects")) {
                tables.push((object.clone(), TableKind::Object(file_name(&connection), file_name(&object))));
            }
        }
        let mut dead = Vec::new();
        for (dir, kind) in tables {
            for staging in read_dirs(&dir.join("versions")) {
                let name = file_name(&staging);
                if name.starts_with(NEW_PREFIX) && !young(&staging) {
                    let _ = fs::remove_dir_all(&staging);
                    continue;
                }
                let Some(version_id) = name.strip_prefix(STAGING_PREFIX) else { continue };
                let lease = fs::read_to_string(staging.join(LEASE_FILE)).unwrap_or_default();
                if self.lease_alive(lease.trim()) {
                    continue;
                }
                dead.push(DeadStaging {
                    table: VersionedTable { root: self.root.clone(), dir: dir.clone() },
                    kind: kind.clone(),
                    version_id: version_id.to_string(),
                    dir: staging.clone(),
                });
            }
        }
        Ok(dead)
    }

    /// Whether the data dir's disk has less free space than `reserve` (`None`: the default
    /// reserve, [`default_reserve`]) leaves: then the message to fail a writer with. Writers
    /// stop there, so that the store's database, other datasets' commits and the system keep
    /// room (a full disk fails every writer at once, half way, and may corrupt more).
    pub fn low_on_space(&self, reserve: Option<u64>) -> Option<String> {
        let st = rustix::fs::statvfs(&self.root).ok()?;
        let free = st.f_bavail.saturating_mul(st.f_frsize);
        let reserve = reserve.unwrap_or_else(|| default_reserve(st.f_blocks.saturating_mul(st.f_frsize)));
        (free < reserve).then(|| {
            format!(
                "the data dir's disk has {} MB free, less than the {} MB kept free (--min-free-mb): \
                 the run stopped before filling it; free some space or lower the reserve",
                free / MB,
                reserve.div_ceil(MB)
            )
        })
    }

    /// Removes what a deleted data connection left under `connections/<name>/` (its objects
    /// were removed before it; what stays is their empty folders and lock files). A name that
    /// is not a file name has no folder.
    pub fn remove_connection(&self, connection: &str) -> io::Result<()> {
        let Ok(dir) = self.under("connections", &[connection]) else { return Ok(()) };
        match fs::symlink_metadata(&dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            // a link is removed, never followed
            Ok(m) if m.file_type().is_symlink() => fs::remove_file(&dir),
            _ => fs::remove_dir_all(&dir),
        }
    }

    /// Removes a table and all its versions (a deleted connected object). The table was made
    /// by this data dir, so it lies under it; a symbolic link is removed, never followed.
    pub fn remove_table(&self, table: &VersionedTable) -> io::Result<()> {
        if !table.dir.starts_with(&self.root) || table.dir == self.root {
            return Err(io::Error::other("refusing to remove a folder outside the data dir"));
        }
        match fs::remove_dir_all(&table.dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }
}

const MB: u64 = 1024 * 1024;

/// The free space kept on the data dir's disk unless the operator says otherwise: 1 GiB, or
/// 5 % of a disk smaller than 20 GiB (a small test disk is not refused outright).
pub fn default_reserve(disk_bytes: u64) -> u64 {
    (1024 * MB).min(disk_bytes / 20)
}

const STAGING_PREFIX: &str = ".staging-";
/// The file in a staging folder naming the lease of its writer.
const LEASE_FILE: &str = ".lease";

fn young(path: &Path) -> bool {
    fs::metadata(path).and_then(|m| m.modified()).is_ok_and(|t| t.elapsed().unwrap_or_default() < SWEEP_GRACE)
}

fn read_dirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    entries.flatten().filter(|e| e.file_type().is_ok_and(|t| t.is_dir())).map(|e| e.path()).collect()
}

/// The id in a table's `current` file, if it has one.
fn current_id(table_dir: &Path) -> io::Result<Option<String>> {
    match fs::read_to_string(table_dir.join("current")) {
        Ok(id) => Ok(Some(id.trim().to_string())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap_or_default().to_string_lossy().to_string()
}

/// A run's claim on a scratch folder (see [`DataDir::lease`]).
#[derive(Debug)]
pub struct RunLease {
    id: String,
    dir: PathBuf,
    _lock: fs::File,
}

impl RunLease {
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The scratch folder, removed when the lease is dropped.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for RunLease {
    fn drop(&mut self) {
        // the lock is released after the folder is gone, so a sweep never sees it half removed
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// What a table is, as found by a sweep.
#[derive(Debug, Clone, PartialEq)]
pub enum TableKind {
    Dataset(String),
    Object(String, String),
}

/// A staging folder whose writer died.
#[derive(Debug)]
pub struct DeadStaging {
    pub table: VersionedTable,
    pub kind: TableKind,
    pub version_id: String,
    dir: PathBuf,
}

impl DeadStaging {
    /// Whether the writer finished writing it (its metadata is there): only such a version
    /// can be published.
    pub fn prepared(&self) -> bool {
        self.dir.join("metadata.json").is_file()
    }

    /// Finishes the commit the writer started (its store said it committed): the version is
    /// renamed into place and, when `make_current`, made current.
    pub fn publish(self, make_current: bool) -> io::Result<()> {
        let _lock = self.table.lock()?;
        let final_dir = self.table.dir.join("versions").join(&self.version_id);
        fs::rename(&self.dir, &final_dir)?;
        let _ = fs::remove_file(final_dir.join(LEASE_FILE));
        sync_dir(&self.table.dir.join("versions"));
        if make_current {
            write_atomic(&self.table.dir.join("current"), self.version_id.as_bytes())?;
        }
        Ok(())
    }

    pub fn discard(self) -> io::Result<()> {
        fs::remove_dir_all(&self.dir)
    }
}

/// One table with versions.
#[derive(Debug, Clone)]
pub struct VersionedTable {
    root: PathBuf,
    dir: PathBuf,
}

/// A committed version.
#[derive(Debug, Clone)]
pub struct Version {
    pub dir: PathBuf,
    pub metadata: VersionMetadata,
}

impl Version {
    /// The Parquet files of the version, in name order. A committed version has at least one
    /// ([`StagedVersion::prepare`] refuses one without, even for no rows), so a version
    /// without any lost them: that is `NotFound`, as when its folder is gone, never a
    /// version that silently reads as empty.
    pub fn files(&self) -> io::Result<Vec<PathBuf>> {
        let files = parquet_files(&self.dir)?;
        if files.is_empty() {
            return Err(io::Error::new(io::ErrorKind::NotFound, "the version's folder holds no data files"));
        }
        Ok(files)
    }

    /// [`Version::files`], each checked to be whole Parquet: its footer, schema and every row
    /// decoded (a file whose data pages were overwritten keeps a readable footer), so a version
    /// whose files were cut short or damaged is `InvalidData` and never made current again by a
    /// restore. Reads the whole version: a restore is rare and must not publish bad data.
    pub fn checked_files(&self) -> io::Result<Vec<PathBuf>> {
        let files = self.all_files()?;
        for file in &files {
            let damaged = |e: &dyn std::fmt::Display| {
                io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", file.display()))
            };
            let reader = datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                fs::File::open(file)?,
            )
            .map_err(|e| damaged(&e))?;
            let expected = reader.metadata().file_metadata().num_rows();
            let mut rows = 0i64;
            for batch in reader.build().map_err(|e| damaged(&e))? {
                rows += batch.map_err(|e| damaged(&e))?.num_rows() as i64;
            }
            if rows != expected {
                return Err(damaged(&format!("holds {rows} rows where its footer says {expected}")));
            }
        }
        Ok(files)
    }
}

/// The base files of a version (`part-*.parquet`), in name order. Layer files and removed
/// keys (see [`read_version`]) have other names.
fn parquet_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = data_files(dir)?
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("part-")))
        .collect();
    files.sort();
    Ok(files)
}

/// Every Parquet file of a version's folder: its base, layers and removed keys.
fn data_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    Ok(fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect())
}

/// The exclusive right to change which version of a table is current (commits of one table
/// are serialized by it, across processes). Released when dropped.
#[derive(Debug)]
pub struct TableLock {
    _file: fs::File,
}

impl VersionedTable {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The current version, if one was ever committed.
    pub fn current(&self) -> io::Result<Option<Version>> {
        match current_id(&self.dir)? {
            Some(id) => self.version(&id).map(Some),
            None => Ok(None),
        }
    }

    pub fn version(&self, id: &str) -> io::Result<Version> {
        let id = PathName::parse(id).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let dir = self.dir.join("versions").join(id.as_str());
        let text = fs::read_to_string(dir.join("metadata.json"))?;
        let metadata: VersionMetadata =
            serde_json::from_str(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        Ok(Version { dir, metadata })
    }

    /// Every committed version, oldest first. A folder that is not a whole version (no
    /// readable metadata) is not one and is left out.
    pub fn versions(&self) -> io::Result<Vec<Version>> {
        let mut out = Vec::new();
        let entries = match fs::read_dir(self.dir.join("versions")) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let name = entry?.file_name().to_string_lossy().to_string();
            if name.starts_with('.') {
                continue;
            }
            match self.version(&name) {
                Ok(v) => out.push(v),
                Err(e) => tracing::warn!(version = %name, error = %e, "not a whole version; left out"),
            }
        }
        out.sort_by(|a, b| {
            a.metadata
                .created_date
                .cmp(&b.metadata.created_date)
                .then(a.metadata.version_id.cmp(&b.metadata.version_id))
        });
        Ok(out)
    }

    /// Starts writing a new version; nothing is visible until it is published. The staging
    /// folder belongs to this writer alone (its lease says so): other writers of the table and
    /// sweeps leave it alone while the writer lives.
    pub fn stage(&self, version_id: &str) -> io::Result<StagedVersion> {
        let id = PathName::parse(version_id).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let versions = self.dir.join("versions");
        let lease = DataDir::new(&self.root).lease()?;
        let making = versions.join(format!("{NEW_PREFIX}{id}"));
        // a failed writer of a table that has no version yet removes the empty folders it
        // made (see `Drop`), possibly between these two calls: make them again then
        let mut attempts = 0;
        loop {
            fs::create_dir_all(&versions)?;
            match fs::create_dir(&making) {
                Err(e) if e.kind() == io::ErrorKind::NotFound && attempts < 3 => attempts += 1,
                other => break other?,
            }
        }
        fs::write(making.join(LEASE_FILE), lease.id())?;
        let dir = versions.join(format!("{STAGING_PREFIX}{id}"));
        fs::rename(&making, &dir)?;
        Ok(StagedVersion {
            table: self.clone(),
            id: id.as_str().to_string(),
            dir,
            prepared: None,
            done: false,
            _lease: lease,
        })
    }

    /// The table's lock file, made on first use.
    fn lock_file(&self) -> io::Result<fs::File> {
        fs::create_dir_all(&self.dir)?;
        fs::OpenOptions::new().create(true).truncate(false).write(true).open(self.dir.join(".lock"))
    }

    /// Takes the table's lock, waiting for another committer to finish.
    pub fn lock(&self) -> io::Result<TableLock> {
        let file = self.lock_file()?;
        file.lock()?;
        Ok(TableLock { _file: file })
    }

    /// The table's lock if no one holds it now.
    pub fn try_lock(&self) -> io::Result<Option<TableLock>> {
        let file = self.lock_file()?;
        match file.try_lock() {
            Ok(()) => Ok(Some(TableLock { _file: file })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(e),
        }
    }

    /// The table's lock, waiting without holding a thread (the holder may need this one to
    /// finish: it records its commit in the store before it lets go).
    pub async fn lock_async(&self) -> io::Result<TableLock> {
        loop {
            if let Some(lock) = self.try_lock()? {
                return Ok(lock);
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Makes an existing version current again (restore). The caller holds the table's lock.
    pub fn set_current(&self, id: &str, _lock: &TableLock) -> io::Result<()> {
        self.version(id)?;
        write_atomic(&self.dir.join("current"), id.as_bytes())
    }
}

/// A version being written.
#[derive(Debug)]
pub struct StagedVersion {
    table: VersionedTable,
    id: String,
    dir: PathBuf,
    prepared: Option<VersionMetadata>,
    /// Published, or handed over to a later sweep: not removed when dropped.
    done: bool,
    _lease: RunLease,
}

impl StagedVersion {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn table(&self) -> &VersionedTable {
        &self.table
    }

    /// Makes the version whole but not visible: its files are flushed and its metadata
    /// written. A version without rows files is refused.
    pub fn prepare(&mut self, metadata: &VersionMetadata) -> io::Result<()> {
        let files = parquet_files(&self.dir)?;
        if files.is_empty() {
            return Err(io::Error::other(format!("version {} has no data files", self.id)));
        }
        for f in data_files(&self.dir)? {
            fs::File::open(f)?.sync_all()?;
        }
        let json = serde_json::to_vec_pretty(metadata).map_err(io::Error::other)?;
        write_atomic(&self.dir.join("metadata.json"), &json)?;
        self.prepared = Some(metadata.clone());
        Ok(())
    }

    /// Publishes a prepared version and makes it current. The caller holds the table's lock
    /// when it must order this commit with a record elsewhere (the job store).
    pub fn publish(mut self) -> io::Result<Version> {
        let metadata = self.prepared.clone().ok_or_else(|| io::Error::other("the version is not prepared"))?;
        let final_dir = self.table.dir.join("versions").join(&self.id);
        // the lease goes after the rename: a staging folder without one is a dead writer's
        // (a sweep may discard it at any moment)
        if let Err(e) = fs::rename(&self.dir, &final_dir) {
            // left for a sweep to finish or discard
            self.done = true;
            return Err(e);
        }
        self.done = true;
        let _ = fs::remove_file(final_dir.join(LEASE_FILE));
        sync_dir(&self.table.dir.join("versions"));
        write_atomic(&self.table.dir.join("current"), self.id.as_bytes())?;
        Ok(Version { dir: final_dir, metadata })
    }

    /// Prepares and publishes under the table's lock: the commit of a writer that answers to
    /// no one else (`swell run`, a sync).
    pub fn commit(mut self, metadata: &VersionMetadata) -> io::Result<Version> {
        self.prepare(metadata)?;
        let _lock = self.table.lock()?;
        self.publish()
    }

    /// Leaves the prepared version for a sweep (a process that could not publish it although
    /// its store recorded it): not removed when dropped.
    pub fn keep_for_sweep(mut self) {
        self.done = true;
    }
}

impl Drop for StagedVersion {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.dir);
            // the first version of a table failed: leave no empty folders behind (a folder
            // with other writers' staging, versions or a lock file is not empty and stays)
            if !self.table.dir.join("current").exists() {
                let _ = fs::remove_dir(self.table.dir.join("versions"));
                let _ = fs::remove_dir(&self.table.dir);
            }
        }
    }
}

/// Replaces `path` with `bytes` so that readers see the old or the new content, never a mix.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().ok_or_else(|| io::Error::other("path has no parent"))?;
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().unwrap_or_default().to_string_lossy(),
        uuid::Uuid::new_v4().simple()
    ));
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    sync_dir(dir);
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// A new version id: sortable by time, unique.
pub fn new_version_id() -> String {
    format!("{}-{}", Utc::now().format("%Y%m%dT%H%M%S%3fZ"), &uuid::Uuid::new_v4().simple().to_string()[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The metadata of a one-row test version (the commit tests use it too).
    pub(super) fn meta(id: &str) -> VersionMetadata {
        VersionMetadata {
            name: "a".into(),
            label: "A".into(),
            version_id: id.into(),
            created_date: Utc::now(),
            row_count: 1,
            fields: vec![],
            row_level_security_filter: None,
            source: None,
            layers: None,
        }
    }

    #[test]
    fn uncommitted_versions_are_invisible_and_cleaned() {
        let tmp = tempfile::tempdir().unwrap();
        let table = DataDir::new(tmp.path()).dataset("a").unwrap();
        let v1 = table.stage("v1").unwrap();
        fs::write(v1.dir().join("part-0.parquet"), b"x").unwrap();
        v1.commit(&meta("v1")).unwrap();
        {
            let v2 = table.stage("v2").unwrap();
            fs::write(v2.dir().join("part-0.parquet"), b"partial").unwrap();
            // dropped without commit: a failed run
        }
        assert_eq!(table.current().unwrap().unwrap().metadata.version_id, "v1");
        assert_eq!(table.versions().unwrap().len(), 1);
        assert!(!table.dir().join("versions/.staging-v2").exists());
    }

    /// issue 12, finding 5: a writer starting a version left another writer's staging alone.
    #[test]
    fn two_writers_of_one_table_both_commit_whole_versions() {
        let tmp = tempfile::tempdir().unwrap();
        let table = DataDir::new(tmp.path()).dataset("a").unwrap();
        let first = table.stage("v1").unwrap();
        fs::write(first.dir().join("part-0.parquet"), b"one").unwrap();
        let second = table.stage("v2").unwrap();
        assert!(first.dir().exists(), "the second writer removed the first one's staging");
        fs::write(second.dir().join("part-0.parquet"), b"two").unwrap();
        second.commit(&meta("v2")).unwrap();
        first.commit(&meta("v1")).unwrap();
        let versions = table.versions().unwrap();
        assert_eq!(versions.len(), 2);
        for v in &versions {
            assert_eq!(v.files().unwrap().len(), 1, "{} is whole", v.metadata.version_id);
        }
        // the last commit is current
        assert_eq!(table.current().unwrap().unwrap().metadata.version_id, "v1");
    }

    /// The hostile probe of issue 12: a failed first run of an alias left an empty table.
    #[test]
    fn a_failed_first_version_leaves_no_folders_and_a_later_writer_still_stages() {
        let tmp = tempfile::tempdir().unwrap();
        let table = DataDir::new(tmp.path()).dataset("a").unwrap();
        drop(table.stage("v1").unwrap());
        assert!(!table.dir().exists(), "a failed first run left {}", table.dir().display());
        // another writer's staging keeps the folders while the first fails
        let other = table.stage("v2").unwrap();
        drop(table.stage("v3").unwrap());
        assert!(other.dir().exists());
        fs::write(other.dir().join("part-0.parquet"), b"x").unwrap();
        other.commit(&meta("v2")).unwrap();
        drop(table.stage("v4").unwrap());
        assert_eq!(table.current().unwrap().unwrap().metadata.version_id, "v2");
    }

    #[test]
    fn a_version_without_rows_is_never_published_and_a_half_version_is_not_listed() {
        let tmp = tempfile::tempdir().unwrap();
        let table = DataDir::new(tmp.path()).dataset("a").unwrap();
        let empty = table.stage("v1").unwrap();
        assert!(empty.commit(&meta("v1")).is_err());
        fs::create_dir_all(table.dir().join("versions/v9")).unwrap();
        assert!(table.versions().unwrap().is_empty());
        assert!(table.current().unwrap().is_none());
    }

    #[test]
    fn names_never_leave_the_data_dir() {
        let dir = DataDir::new("/data");
        for bad in ["../x", "/etc", "a/b", "..", ".staging-x", ""] {
            assert!(dir.dataset(bad).is_err(), "{bad}");
            assert!(dir.connected_object(bad, "A").is_err(), "{bad}");
            assert!(dir.connected_object("C", bad).is_err(), "{bad}");
            assert!(dir.exports_of(bad).is_err(), "{bad}");
        }
        assert_eq!(
            dir.connected_object("C", "Account").unwrap().dir(),
            Path::new("/data/connections/C/objects/Account")
        );
        let table = dir.dataset("a").unwrap();
        assert!(table.version("../../etc").is_err());
        assert!(table.stage("../x").is_err());
    }

    #[test]
    fn a_sweep_takes_only_what_dead_writers_left() {
        let tmp = tempfile::tempdir().unwrap();
        let data = DataDir::new(tmp.path());
        let table = data.dataset("a").unwrap();
        let live = table.stage("live").unwrap();
        let lease = data.lease().unwrap();
        // a writer killed with -9: its staging and scratch stay, its lock is gone
        let dead_lease = tmp.path().join("tmp/19700101T000000000Z-dead");
        fs::create_dir_all(&dead_lease).unwrap();
        fs::write(dead_lease.join(".lock"), b"").unwrap();
        let dead = table.dir().join("versions/.staging-dead");
        fs::create_dir_all(&dead).unwrap();
        fs::write(dead.join(LEASE_FILE), "19700101T000000000Z-dead").unwrap();
        fs::write(dead.join("part-0.parquet"), b"x").unwrap();
        // a folder being made now is left alone; one left half made long ago is removed
        let making = tmp.path().join("tmp/.new-x");
        let abandoned = table.dir().join("versions/.new-y");
        fs::create_dir_all(&making).unwrap();
        fs::create_dir_all(&abandoned).unwrap();
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        fs::File::open(&abandoned).unwrap().set_modified(old).unwrap();
        let found = data.sweep().unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].version_id, "dead");
        assert_eq!(found[0].kind, TableKind::Dataset("a".into()));
        assert!(!found[0].prepared());
        assert!(!dead_lease.exists(), "a dead run's scratch is removed");
        assert!(lease.dir().exists() && live.dir().exists(), "live runs are left alone");
        assert!(making.exists() && !abandoned.exists());
        fs::remove_dir(&making).unwrap();
        found.into_iter().next().unwrap().discard().unwrap();
        assert!(!dead.exists());
        drop(live);
        drop(lease);
        assert!(fs::read_dir(tmp.path().join("tmp")).unwrap().next().is_none(), "leases clean up after themselves");
    }
}
