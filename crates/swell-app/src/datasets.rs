//! Datasets: find by id or API name, restore a version.

use crate::{Action, Subject};

use crate::error::{ApiError, ApiResult};
use crate::ids::{IdOrName, id_of};
use crate::{Actor, App};
use swell_core::KeyPrefix;
use swell_store::{DatasetRecord, DatasetVersionRecord};

impl App {
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
        table.version(&src.storage_version).map_err(|e| failed(&e))?;
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
