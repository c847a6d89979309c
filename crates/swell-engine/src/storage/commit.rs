//! Commits whose record lives elsewhere (the job store): a run's versions are published
//! while the store's record of its Success is written but not yet visible ([`publish_all`]),
//! each dataset marked `.committing` (the version current before) until the caller settles the
//! publication. A marker whose writer let go unsettled is found by [`DataDir::dead_commits`].

use super::{DataDir, StagedVersion, TableLock, VersionedTable, current_id, file_name, read_dirs, write_atomic};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io;
use std::path::Path;
use swell_core::PathName;

impl DataDir {
    /// Commits of datasets whose writer died (or let go) between publishing and settling
    /// them: the caller asks its store whether the commit was recorded and then
    /// [`DeadCommit::finish`]es or [`DeadCommit::undo`]es it. A table whose lock is held is
    /// being committed now and is left alone.
    pub fn dead_commits(&self) -> io::Result<Vec<DeadCommit>> {
        let mut out = Vec::new();
        for dir in read_dirs(&self.root.join("datasets")) {
            if !dir.join(COMMITTING).is_file() {
                continue;
            }
            let table = VersionedTable { root: self.root.clone(), dir: dir.clone() };
            let Some(lock) = table.try_lock()? else { continue };
            let Some(marker) = read_marker(&dir)? else { continue };
            out.push(DeadCommit { alias: file_name(&dir), table, marker, _lock: lock });
        }
        Ok(out)
    }
}

/// The marker of a commit not yet settled: `<table>/.committing`.
const COMMITTING: &str = ".committing";

/// What `.committing` holds: the version that was current before the commit and the versions
/// the commit published, in order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct CommitMarker {
    previous: Option<String>,
    versions: Vec<String>,
}

fn read_marker(table_dir: &Path) -> io::Result<Option<CommitMarker>> {
    match fs::read(table_dir.join(COMMITTING)) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes).map(Some).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Puts a table back as it was before the commit `marker` describes: the previous version
/// current again, the commit's versions removed, the marker last (so that an undo cut short
/// is done again).
fn undo_commit(table: &VersionedTable, marker: &CommitMarker) -> io::Result<()> {
    match &marker.previous {
        Some(previous) => write_atomic(&table.dir.join("current"), previous.as_bytes())?,
        None => match fs::remove_file(table.dir.join("current")) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        },
    }
    for v in &marker.versions {
        let Ok(name) = PathName::parse(v) else { continue };
        match fs::remove_dir_all(table.dir.join("versions").join(name.as_str())) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    fs::remove_file(table.dir.join(COMMITTING))?;
    if marker.previous.is_none() {
        // the table's first version: leave no empty folders (see StagedVersion's drop)
        let _ = fs::remove_dir(table.dir.join("versions"));
    }
    Ok(())
}

/// Publishes prepared versions (several may be of one table: the last one is current), each
/// table's `.committing` marker written first. The caller holds the tables' locks and
/// settles the result: [`Publication::confirm`] once its record of the commit is visible,
/// [`Publication::undo`] when it is not. If publishing fails part way, what was published is
/// undone and the error returned.
pub fn publish_all(staged: Vec<StagedVersion>) -> io::Result<Publication> {
    let mut publication = Publication { tables: Vec::new(), settled: false };
    let mut staged = staged.into_iter();
    while let Some(version) = staged.next() {
        if let Err(e) = publication.add(version) {
            // the rest are dropped (removed); what was published is put back
            drop(staged);
            return match publication.undo() {
                Ok(()) => Err(e),
                Err(u) => Err(io::Error::other(format!("{e}; and undoing the commit failed: {u}"))),
            };
        }
    }
    Ok(publication)
}

/// Versions published but not yet settled (see [`publish_all`]). Dropped unsettled, its
/// markers stay for [`DataDir::dead_commits`].
#[derive(Debug)]
pub struct Publication {
    tables: Vec<(VersionedTable, CommitMarker)>,
    settled: bool,
}

impl Publication {
    fn add(&mut self, version: StagedVersion) -> io::Result<()> {
        let dir = version.table.dir.clone();
        let position = match self.tables.iter().position(|(t, _)| t.dir == dir) {
            Some(i) => i,
            None => {
                if dir.join(COMMITTING).exists() {
                    return Err(io::Error::other(
                        "an earlier commit of this dataset is not settled yet (the server settles it at its next sweep); run the job again",
                    ));
                }
                let previous = current_id(&dir)?;
                self.tables.push((version.table.clone(), CommitMarker { previous, versions: Vec::new() }));
                self.tables.len() - 1
            }
        };
        let (table, marker) = &mut self.tables[position];
        marker.versions.push(version.id.clone());
        let json = serde_json::to_vec(marker).map_err(io::Error::other)?;
        write_atomic(&table.dir.join(COMMITTING), &json)?;
        version.publish()?;
        Ok(())
    }

    /// The commit's record is visible: the markers go.
    pub fn confirm(mut self) {
        self.settled = true;
        for (table, _) in &self.tables {
            let _ = fs::remove_file(table.dir.join(COMMITTING));
        }
    }

    /// The commit's record will not become visible: every table is put back as it was.
    pub fn undo(mut self) -> io::Result<()> {
        self.settled = true;
        let mut first_error = None;
        for (table, marker) in &self.tables {
            if let Err(e) = undo_commit(table, marker) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for Publication {
    fn drop(&mut self) {
        if !self.settled && !self.tables.is_empty() {
            tracing::warn!("a commit was left unsettled; the next sweep settles it");
        }
    }
}

/// A dataset commit left unsettled by its writer (see [`DataDir::dead_commits`]). Holds the
/// table's lock until settled.
#[derive(Debug)]
pub struct DeadCommit {
    pub alias: String,
    table: VersionedTable,
    marker: CommitMarker,
    _lock: TableLock,
}

impl DeadCommit {
    /// The versions the commit published, in order.
    pub fn versions(&self) -> &[String] {
        &self.marker.versions
    }

    /// The commit was recorded: its versions stay, the last one current.
    pub fn finish(self) -> io::Result<()> {
        fs::remove_file(self.table.dir.join(COMMITTING))
    }

    /// The commit was not recorded: the table is put back as it was.
    pub fn undo(self) -> io::Result<()> {
        undo_commit(&self.table, &self.marker)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::tests::meta;

    fn prepared(table: &VersionedTable, id: &str) -> StagedVersion {
        let mut v = table.stage(id).unwrap();
        fs::write(v.dir().join("part-0.parquet"), id.as_bytes()).unwrap();
        v.prepare(&meta(id)).unwrap();
        v
    }

    fn current_of(table: &VersionedTable) -> Option<String> {
        table.current().unwrap().map(|v| v.metadata.version_id)
    }

    fn version_ids(table: &VersionedTable) -> Vec<String> {
        table.versions().unwrap().into_iter().map(|v| v.metadata.version_id).collect()
    }

    #[test]
    fn a_publication_is_visible_before_it_is_settled_and_undone_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let data = DataDir::new(tmp.path());
        let a = data.dataset("a").unwrap();
        let b = data.dataset("b").unwrap();
        prepared(&a, "v0").publish().unwrap();
        // two versions of one table and one of another, in one commit
        let p = publish_all(vec![prepared(&a, "v1"), prepared(&a, "v2"), prepared(&b, "w1")]).unwrap();
        assert_eq!(current_of(&a).as_deref(), Some("v2"));
        assert_eq!(current_of(&b).as_deref(), Some("w1"));
        assert!(a.dir().join(COMMITTING).is_file());
        p.undo().unwrap();
        assert_eq!(current_of(&a).as_deref(), Some("v0"));
        assert_eq!(version_ids(&a), ["v0"]);
        assert_eq!(current_of(&b), None, "b had no version before");
        assert!(!b.dir().join("versions").exists());
        assert!(!a.dir().join(COMMITTING).exists() && !b.dir().join(COMMITTING).exists());

        let p = publish_all(vec![prepared(&a, "v3")]).unwrap();
        p.confirm();
        assert_eq!(current_of(&a).as_deref(), Some("v3"));
        assert_eq!(version_ids(&a), ["v0", "v3"]);
        assert!(!a.dir().join(COMMITTING).exists());
    }

    #[test]
    fn an_unsettled_publication_is_found_once_its_writer_lets_go() {
        let tmp = tempfile::tempdir().unwrap();
        let data = DataDir::new(tmp.path());
        let a = data.dataset("a").unwrap();
        let b = data.dataset("b").unwrap();
        prepared(&a, "v0").publish().unwrap();
        prepared(&b, "w0").publish().unwrap();
        let lock = a.lock().unwrap();
        drop(publish_all(vec![prepared(&a, "v1")]).unwrap());
        drop(publish_all(vec![prepared(&b, "w1")]).unwrap());
        // a's writer still holds its lock: not dead
        let dead = data.dead_commits().unwrap();
        assert_eq!(dead.iter().map(|d| d.alias.as_str()).collect::<Vec<_>>(), ["b"]);
        // a later commit of b is refused until b is settled
        let err = publish_all(vec![prepared(&b, "w2")]).unwrap_err();
        assert!(err.to_string().contains("not settled"), "{err}");
        assert_eq!(current_of(&b).as_deref(), Some("w1"));
        for d in dead {
            assert_eq!(d.versions(), ["w1"]);
            d.undo().unwrap();
        }
        assert_eq!(current_of(&b).as_deref(), Some("w0"));
        assert_eq!(version_ids(&b), ["w0"]);
        drop(lock);
        let dead = data.dead_commits().unwrap();
        assert_eq!(dead.len(), 1);
        for d in dead {
            d.finish().unwrap();
        }
        assert_eq!(current_of(&a).as_deref(), Some("v1"));
        assert_eq!(version_ids(&a), ["v0", "v1"]);
        assert!(data.dead_commits().unwrap().is_empty());
    }
}
