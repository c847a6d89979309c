//! Datasets: find by id or API name, restore a version.

use crate::{Action, Subject};

use crate::error::ErrorCode;
use crate::error::{ApiError, ApiResult};
use crate::ids::{IdOrName, id_of};
use crate::{Actor, App};
use swell_core::KeyPrefix;
use swell_store::{ConnectorRecord, DatasetRecord, DatasetVersionRecord, ReplicatedRecord};

/// The most rows a preview shows.
pub const PREVIEW_ROWS: usize = 100;

impl App {
    /// The fields and first rows (at most [`PREVIEW_ROWS`]) of a version of a dataset, read
    /// from its files off the request threads.
    pub async fn dataset_head(
        &self,
        d: &DatasetRecord,
        v: &DatasetVersionRecord,
    ) -> ApiResult<swell_engine::head::Head> {
        let what = format!("{} version {}", d.name, v.id);
        let table = self.data_dir.dataset(&d.name).map_err(|e| ApiError::internal(format!("reading {what}: {e}")))?;
        head_of(table, Some(v.storage_version.clone()), what).await?.ok_or_else(|| ApiError::internal("no version"))
    }

    /// The fields and first rows of what a connected object last synced; `None` before its
    /// first sync.
    pub async fn object_head(
        &self,
        c: &ConnectorRecord,
        r: &ReplicatedRecord,
    ) -> ApiResult<Option<swell_engine::head::Head>> {
        let what = format!("{} of {}", r.source_object, c.name);
        let table = self
            .data_dir
            .connected_object(&c.name, &r.source_object)
            .map_err(|e| ApiError::internal(format!("reading {what}: {e}")))?;
        head_of(table, None, what).await
    }

    /// A dataset by id (0Fb) or API name.
    pub async fn dataset(&self, id_or_name: &str) -> ApiResult<DatasetRecord> {
        match crate::ids::id_or_name(id_or_name, KeyPrefix::Dataset, "dataset")? {
            IdOrName::Id(id) => Ok(self.store.dataset(&id).await?),
            IdOrName::Name(name) => {
                self.store.dataset_by_name(name).await?.ok_or_else(|| ApiError::not_found(format!("dataset {name}")))
            }
        }
    }

    /// Restores a version: a new current version with the rows of `source_version` (no copy:
    /// both point at the same stored files). The store's record and the current file change
    /// together, under the dataset's lock, in the order of other commits.
    pub async fn restore_version(
        &self,
        actor: &Actor,
        dataset: &str,
        source_version: Option<&str>,
    ) -> ApiResult<(DatasetRecord, DatasetVersionRecord)> {
        self.require(actor, Action::RestoreVersion).await?;
        let d = self.dataset(dataset).await?;
        let source = source_version.ok_or_else(|| ApiError::bad_request("sourceVersion.id: is required"))?;
        let source =
            id_of(source, KeyPrefix::DatasetVersion, "dataset version").map_err(|e| e.prefixed("sourceVersion.id"))?;
        let src = self.store.dataset_version(&source).await?;
        if src.dataset_id != d.id {
            return Err(ApiError::not_found(format!("version {source} of dataset {}", d.name)));
        }
        let failed = |e: &dyn std::fmt::Display| ApiError::internal(format!("restoring {}: {e}", d.name));
        let table = self.data_dir.dataset(&d.name).map_err(|e| failed(&e))?;
        let lock = table.lock_async().await.map_err(|e| failed(&e))?;
        let what = format!("version {} of {}", src.id, d.name);
        // checked before the store records it: a restore never makes unreadable files current
        let version = table.clone();
        let storage_version = src.storage_version.clone();
        tokio::task::spawn_blocking(move || version.version(&storage_version).and_then(|v| v.checked_files()))
            .await
            .map_err(|e| failed(&e))?
            .map_err(|e| unreadable(&what, e, table.dir()))?;
        let (d, created) = self
            .store
            .record_dataset_version(&actor.id, &d.name, &d.label, &src.storage_version, src.row_count, None)
            .await?;
        table.set_current(&src.storage_version, &lock).map_err(|e| failed(&e))?;
        let detail = format!("version {} made from {}", created.id, src.id);
        self.did(actor, Action::RestoreVersion, Subject::new(&d.id, &d.name), Some(&detail)).await;
        Ok((d, created))
    }
}

/// The first rows of version `version` of `table` (its current one when `None`; `None` when
/// it has none), read off the request threads; errors name `what` was read.
async fn head_of(
    table: swell_engine::storage::VersionedTable,
    version: Option<String>,
    what: String,
) -> ApiResult<Option<swell_engine::head::Head>> {
    let dir = table.dir().to_path_buf();
    let read = move || -> std::io::Result<Option<swell_engine::head::Head>> {
        let version = match version {
            Some(id) => table.version(&id)?,
            None => match table.current()? {
                Some(v) => v,
                None => return Ok(None),
            },
        };
        swell_engine::head::head_version(&version, PREVIEW_ROWS).map(Some)
    };
    tokio::task::spawn_blocking(read)
        .await
        .map_err(|e| ApiError::internal(format!("reading {what}: {e}")))?
        .map_err(|e| unreadable(&what, e, &dir))
}

/// Stored files that cannot be read: missing ones (deleted from the data dir by hand, or by a
/// disk fault) and damaged ones (cut short, overwritten: `InvalidData`) are a conflict between
/// the store and the disk that the user can see and act on, named as such; anything else is
/// the server's error. Files are named inside the dataset's folder (`versions/ID/part-0.parquet`):
/// where the server keeps its data is not every reader's business.
fn unreadable(what: &str, e: std::io::Error, dataset_dir: &std::path::Path) -> ApiError {
    let kind = e.kind();
    let e = e.to_string().replace(&format!("{}{}", dataset_dir.display(), std::path::MAIN_SEPARATOR), "");
    match kind {
        std::io::ErrorKind::NotFound => ApiError::new(
            ErrorCode::Conflict,
            format!("The stored files of {what} are missing from the data dir: {e}. Its rows cannot be read."),
        ),
        std::io::ErrorKind::InvalidData => ApiError::new(
            ErrorCode::Conflict,
            format!("The stored files of {what} are damaged: {e}. Its rows cannot be read."),
        ),
        _ => ApiError::internal(format!("reading {what}: {e}")),
    }
}
