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
//! ```
//!
//! A version is written into a staging directory, renamed into `versions/` when complete, and
//! only then made current by atomically replacing `current` (write to a temporary file, fsync,
//! rename). A failed or stopped run therefore leaves the previous version current and no
//! partial files where readers look; leftover staging directories are removed on the next
//! write.

use crate::schema::Field;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

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
}

/// The root of swell's data.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DataDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn dataset(&self, alias: &str) -> VersionedTable {
        VersionedTable { dir: self.root.join("datasets").join(alias) }
    }

    pub fn connected_object(&self, connection: &str, object: &str) -> VersionedTable {
        VersionedTable { dir: self.root.join("connections").join(connection).join("objects").join(object) }
    }

    /// Scratch space for one run, removed when the run ends.
    pub fn scratch(&self, run_id: &str) -> PathBuf {
        self.root.join("tmp").join(run_id)
    }

    pub fn exports(&self) -> PathBuf {
        self.root.join("exports")
    }
}

/// One table with versions.
#[derive(Debug, Clone)]
pub struct VersionedTable {
    dir: PathBuf,
}

/// A committed version.
#[derive(Debug, Clone)]
pub struct Version {
    pub dir: PathBuf,
    pub metadata: VersionMetadata,
}

impl Version {
    /// The Parquet files of the version, in name order.
    pub fn files(&self) -> io::Result<Vec<PathBuf>> {
        let mut files: Vec<PathBuf> = fs::read_dir(&self.dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
            .collect();
        files.sort();
        Ok(files)
    }
}

impl VersionedTable {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The current version, if one was ever committed.
    pub fn current(&self) -> io::Result<Option<Version>> {
        let id = match fs::read_to_string(self.dir.join("current")) {
            Ok(id) => id.trim().to_string(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        self.version(&id).map(Some)
    }

    pub fn version(&self, id: &str) -> io::Result<Version> {
        let dir = self.dir.join("versions").join(id);
        let text = fs::read_to_string(dir.join("metadata.json"))?;
        let metadata: VersionMetadata =
            serde_json::from_str(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        Ok(Version { dir, metadata })
    }

    /// Every committed version, oldest first.
    pub fn versions(&self) -> io::Result<Vec<Version>> {
        let dir = self.dir.join("versions");
        let mut out = Vec::new();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let name = entry?.file_name().to_string_lossy().to_string();
            if !name.starts_with('.') {
                out.push(self.version(&name)?);
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

    /// Starts writing a new version; nothing is visible until [`StagedVersion::commit`].
    pub fn stage(&self, version_id: &str) -> io::Result<StagedVersion> {
        let versions = self.dir.join("versions");
        fs::create_dir_all(&versions)?;
        // staging directories of runs that died are garbage
        for entry in fs::read_dir(&versions)?.flatten() {
            if entry.file_name().to_string_lossy().starts_with(".staging-") {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
        let dir = versions.join(format!(".staging-{version_id}"));
        fs::create_dir_all(&dir)?;
        Ok(StagedVersion { table: self.clone(), id: version_id.to_string(), dir, committed: false })
    }

    /// Makes an existing version current again (restore).
    pub fn set_current(&self, id: &str) -> io::Result<()> {
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
    committed: bool,
}

impl StagedVersion {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Publishes the version and makes it current.
    pub fn commit(mut self, metadata: &VersionMetadata) -> io::Result<Version> {
        let json = serde_json::to_vec_pretty(metadata).map_err(io::Error::other)?;
        write_atomic(&self.dir.join("metadata.json"), &json)?;
        let final_dir = self.table.dir.join("versions").join(&self.id);
        fs::rename(&self.dir, &final_dir)?;
        sync_dir(&self.table.dir.join("versions"));
        self.committed = true;
        write_atomic(&self.table.dir.join("current"), self.id.as_bytes())?;
        Ok(Version { dir: final_dir, metadata: metadata.clone() })
    }
}

impl Drop for StagedVersion {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
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

    fn meta(id: &str) -> VersionMetadata {
        VersionMetadata {
            name: "a".into(),
            label: "A".into(),
            version_id: id.into(),
            created_date: Utc::now(),
            row_count: 1,
            fields: vec![],
            row_level_security_filter: None,
            source: None,
        }
    }

    #[test]
    fn uncommitted_versions_are_invisible_and_cleaned() {
        let tmp = tempfile::tempdir().unwrap();
        let table = DataDir::new(tmp.path()).dataset("a");
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
}
