//! swell-connect: data connections.
//!
//! CRM Analytics never reads a source inside a dataflow: a data sync first copies each source
//! object into a *connected object* (a replicated dataset), and digest and load nodes read
//! that copy. This crate owns both halves:
//!
//! - **Connectors** ([`Source`], one module per family): list a source's objects, describe an
//!   object's fields in the dataset model (text, numeric with precision and scale, date), and
//!   read rows as Arrow batches, optionally only those changed since a watermark and only
//!   those a source-side filter keeps. Families: [`salesforce`] (`SfdcLocal` and the other
//!   Salesforce types, through the REST API), [`postgres`] (`AwsRdsPostgres`,
//!   `HerokuPostgres`, ...), [`mysql`] (`AwsRdsMySQL`, `AwsRdsMariaDB`, ...) and [`files`]
//!   (`AmazonS3`: CSV or Parquet files in a bucket or a local folder).
//! - **The sync** ([`sync::sync_object`]): writes a new version of a connected object under
//!   the data dir, full or incremental (upsert by key, deletes reconciled), committed
//!   atomically: a failed or stopped sync leaves the previous version current.
//!
//! It knows nothing of the metadata store or HTTP: the job runner decides what to sync and
//! records the outcome; the server lists objects and tests connections through [`connect`].
//!
//! Every value a source sends arrives in the storage types of a dataset version
//! ([`swell_engine::schema::FieldType::storage_type`]): text as `Utf8` (booleans as
//! `"true"`/`"false"`, as CRM Analytics stores them), numbers as `Decimal128(precision,
//! scale)`, dates and date-times as `Timestamp(ms, "UTC")`.

pub mod files;
pub mod mysql;
pub mod postgres;
pub mod salesforce;
pub mod secrets;
mod source;
pub mod sync;
pub mod types;

pub use secrets::Vault;
pub use source::{BatchStream, Read, Source, SourceField, SourceObject, finish_batch, select_fields};
pub use types::{ConnectorType, Family, PropertySpec};

use std::collections::BTreeMap;

/// What went wrong talking to a source. Messages never contain a secret.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The connection's settings are incomplete or wrong (a 400 at the API).
    #[error("{0}")]
    Config(String),
    /// The object or field does not exist in the source (a 404 or 400 at the API).
    #[error("{0}")]
    NotFound(String),
    /// The source refused or failed (a Failure status or job).
    #[error("{0}")]
    Source(String),
    /// The machine ran short (the merge of a sync over its memory limit).
    #[error("{0}")]
    Resources(String),
    #[error("stopped")]
    Cancelled,
}

pub type Result<T> = std::result::Result<T, ConnectError>;

/// Connection properties by name (`connectionProperties` of the API, values as text).
#[derive(Debug, Clone, Default)]
pub struct Properties(BTreeMap<String, String>);

impl Properties {
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Properties(pairs.into_iter().collect())
    }

    /// A property by name; names match without regard to case (`FolderPath`, `folderPath`).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.trim().is_empty())
    }

    pub fn require(&self, name: &str, connector: &str) -> Result<&str> {
        self.get(name)
            .ok_or_else(|| ConnectError::Config(format!("the {connector} connection needs the property '{name}'")))
    }
}

/// Opens the source of a connection. Nothing is contacted yet: [`Source::test`] does that.
/// A local folder is opened only under the roots `folders` allows.
pub fn connect(
    connector_type: ConnectorType,
    properties: &Properties,
    folders: &FolderPolicy,
) -> Result<Box<dyn Source>> {
    match connector_type.family() {
        Family::Salesforce => {
            if properties.get("FolderPath").is_some() && properties.get("instanceUrl").is_none() {
                // an org stand-in: the demo's and offline tests' local connection
                Ok(Box::new(files::FileSource::from_properties(properties, "Salesforce", folders)?))
            } else {
                Ok(Box::new(salesforce::SalesforceSource::from_properties(properties)?))
            }
        }
        Family::Postgres => Ok(Box::new(postgres::PostgresSource::from_properties(properties)?)),
        Family::MySql => Ok(Box::new(mysql::MySqlSource::from_properties(properties)?)),
        Family::Files => Ok(Box::new(files::FileSource::from_properties(properties, "AmazonS3", folders)?)),
    }
}

/// A path that does not exist, as it would be once made: its deepest existing folder with
/// symbolic links resolved, then the rest as written (so a missing folder under a link to the
/// data dir is known to lie in the data dir).
fn resolved(path: &std::path::Path) -> std::path::PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut rest = Vec::new();
    let mut at = absolute.as_path();
    loop {
        if let Ok(c) = std::fs::canonicalize(at) {
            return rest.iter().rev().fold(c, |p, part| p.join(part));
        }
        match (at.parent(), at.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                at = parent;
            }
            _ => return absolute,
        }
    }
}

/// The local folders connections may read: only those under roots the operator named
/// (`swell serve --allow-folder DIR`). Without it a connection could read any folder the
/// server can (its own data dir, home directories) and show it through a data preview.
#[derive(Debug, Clone, Default)]
pub struct FolderPolicy {
    /// Canonical roots (symbolic links resolved).
    roots: Vec<std::path::PathBuf>,
    /// Any folder: for `swell run` and tests, never for a server.
    any: bool,
    /// Canonical folders never read, even under a root: the server's own data dir (its
    /// datasets, its store, its secrets' key), which a connection must not expose.
    denied: Vec<std::path::PathBuf>,
}

impl FolderPolicy {
    /// Folders under these roots, which must exist.
    pub fn roots(roots: impl IntoIterator<Item = std::path::PathBuf>) -> std::io::Result<FolderPolicy> {
        let mut out = Vec::new();
        for r in roots {
            out.push(
                std::fs::canonicalize(&r)
                    .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", r.display())))?,
            );
        }
        Ok(FolderPolicy { roots: out, any: false, denied: Vec::new() })
    }

    /// Every folder the process can read.
    pub fn unrestricted() -> FolderPolicy {
        FolderPolicy { roots: Vec::new(), any: true, denied: Vec::new() }
    }

    /// Adds a root (the demo's sample folder).
    pub fn allow(&mut self, root: &std::path::Path) -> std::io::Result<()> {
        self.roots.push(std::fs::canonicalize(root)?);
        Ok(())
    }

    /// Never reads `dir` or what is under it, whatever the roots allow (the server's data dir).
    pub fn deny(&mut self, dir: &std::path::Path) -> std::io::Result<()> {
        self.denied.push(std::fs::canonicalize(dir)?);
        Ok(())
    }

    /// Under a denied folder, and not under a root the operator allowed inside it (the demo's
    /// sample folder lives in its data dir: allowed by name, it stays readable).
    fn is_denied(&self, p: &std::path::Path) -> bool {
        self.denied
            .iter()
            .any(|d| p.starts_with(d) && !self.roots.iter().any(|r| r != d && r.starts_with(d) && p.starts_with(r)))
    }

    /// The canonical folder when it is allowed. Messages name the folder as given, never the
    /// server's own paths.
    pub fn check(&self, folder: &std::path::Path) -> Result<std::path::PathBuf> {
        let shown = folder.display();
        let refused = || {
            ConnectError::Config(format!(
                "FolderPath '{shown}': local folders are read only under the folders the server's operator allows \
                 (swell serve --allow-folder DIR)"
            ))
        };
        let allowed = |p: &std::path::Path| self.any || self.roots.iter().any(|r| p.starts_with(r));
        let denied = || {
            ConnectError::Config(format!(
                "FolderPath '{shown}': the server's own data dir is never read by a connection"
            ))
        };
        let Ok(canonical) = std::fs::canonicalize(folder) else {
            // whether a folder outside the allowed ones, or inside the data dir, exists is not
            // told: the refusal comes first
            let resolved = resolved(folder);
            return Err(if !allowed(&resolved) {
                refused()
            } else if self.is_denied(&resolved) {
                denied()
            } else {
                ConnectError::Config(format!("FolderPath '{shown}': no such folder"))
            });
        };
        if !allowed(&canonical) {
            return Err(refused());
        }
        if self.is_denied(&canonical) {
            return Err(denied());
        }
        if !canonical.is_dir() {
            return Err(ConnectError::Config(format!("FolderPath '{shown}': not a folder")));
        }
        Ok(canonical)
    }

    /// Whether `file` (canonical) lies under an allowed root: a file reached through a
    /// symbolic link may point elsewhere.
    pub fn contains(&self, file: &std::path::Path) -> bool {
        (self.any || self.roots.iter().any(|r| file.starts_with(r))) && !self.is_denied(file)
    }
}

/// Quotes an identifier with `quote` (`"` for PostgreSQL, `` ` `` for MySQL), doubling it
/// inside.
pub(crate) fn quote_ident(name: &str, quote: char) -> String {
    let doubled = format!("{quote}{quote}");
    format!("{quote}{}{quote}", name.replace(quote, &doubled))
}

/// Quotes a text literal for SQL (single quotes doubled).
pub(crate) fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_denied_folder_is_never_read_even_under_an_allowed_root() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        let files = root.path().join("files");
        std::fs::create_dir_all(data.join("datasets")).unwrap();
        std::fs::create_dir_all(&files).unwrap();
        let mut policy = FolderPolicy::roots([root.path().to_path_buf()]).unwrap();
        policy.deny(&data).unwrap();
        assert!(policy.check(&files).is_ok());
        let e = policy.check(&files.join("nope")).unwrap_err().to_string();
        assert!(e.contains("no such folder"), "{e}");
        assert!(policy.check(root.path()).is_ok(), "a root that holds the data dir is still read");
        // a missing folder in the data dir is refused as such, never "no such folder" (that
        // would tell what the data dir holds), also through a link to it
        #[cfg(unix)]
        std::os::unix::fs::symlink(&data, files.join("link")).unwrap();
        let missing = [data.join("nope"), files.join("link/nope/deeper")];
        for denied in [data.clone(), data.join("datasets"), files.join("../data/datasets")].into_iter().chain(missing) {
            let e = policy.check(&denied).unwrap_err().to_string();
            assert!(e.contains("data dir is never read"), "{e}");
        }
        // a folder allowed by name inside the denied one stays readable (the demo's sample)
        let sample = data.join("demo");
        std::fs::create_dir_all(&sample).unwrap();
        policy.allow(&sample).unwrap();
        assert!(policy.check(&sample).is_ok());
        assert!(policy.check(&data).is_err() && policy.check(&sample.join("..")).is_err());
        // a file reached through a link into the data dir is not inside the allowed folders
        std::fs::write(data.join("secret.csv"), "a\n1\n").unwrap();
        let canonical = std::fs::canonicalize(data.join("secret.csv")).unwrap();
        assert!(!policy.contains(&canonical));
        assert!(policy.contains(&std::fs::canonicalize(&files).unwrap().join("x.csv")));
    }
}
