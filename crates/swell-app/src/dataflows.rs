//! Dataflows: create, change (a new history entry when the definition changes), revert to a
//! history entry, delete. Definitions are checked by the engine on every write; an invalid one
//! is refused with every problem, one error entry each.

use crate::{Action, Subject};

use crate::error::{ApiError, ApiResult};
use crate::ids::{IdOrName, id_of};
use crate::text::{check_texts, name_and_label, unchanged_name};
use crate::{Actor, App};
use serde_json::{Value, json};
use swell_core::{AssetKind, KeyPrefix, SalesforceId};
use swell_store::{DataflowRecord, HistoryRecord};

/// A new dataflow or recipe as a front door read it; the use case checks it.
#[derive(Debug, Clone, Default)]
pub struct NewDefinition {
    /// The API name; made from the label when absent.
    pub name: Option<String>,
    pub label: Option<String>,
    pub description: Option<String>,
    /// The definition: a dataflow's nodes, or a recipe (R3).
    pub definition: Option<Value>,
}

/// A change of a dataflow or recipe; what is `None` is kept.
#[derive(Debug, Clone, Default)]
pub struct DefinitionChange {
    /// May repeat the API name, never change it.
    pub name: Option<String>,
    pub label: Option<String>,
    pub description: Option<String>,
    pub definition: Option<Value>,
    /// The label of the history entry a changed definition makes.
    pub history_label: Option<String>,
}

impl DefinitionChange {
    fn check(&self, current_name: &str) -> ApiResult<()> {
        unchanged_name(self.name.as_deref(), current_name)?;
        check_texts(&[
            ("label", self.label.as_deref()),
            ("description", self.description.as_deref()),
            ("historyLabel", self.history_label.as_deref()),
        ])
    }
}

/// Checks a dataflow definition with the engine; every problem is its own error entry. The
/// stored forms an org's files have (`["<json>", null]`, `{"nodes": ...}`) become the public
/// object of nodes, which is what is kept.
pub fn validate_dataflow(definition: Value) -> ApiResult<Value> {
    let definition = swell_engine::definition::public_dataflow(definition)?;
    if !definition.is_object() {
        return Err(ApiError::bad_request("definition: must be an object of nodes"));
    }
    swell_engine::validate_isolated(definition.to_string())?;
    Ok(definition)
}

impl App {
    /// A dataflow by id (15 or 18 characters) or by API name.
    pub async fn dataflow(&self, id_or_name: &str) -> ApiResult<DataflowRecord> {
        match crate::ids::id_or_name(id_or_name, KeyPrefix::Dataflow, "dataflow")? {
            IdOrName::Id(id) => Ok(self.store.dataflow(&id).await?),
            IdOrName::Name(name) => {
                self.store.dataflow_by_name(name).await?.ok_or_else(|| ApiError::not_found(format!("dataflow {name}")))
            }
        }
    }

    /// The history entry `history_id` of a dataflow (or a recipe's target dataflow).
    pub async fn history(&self, dataflow: &SalesforceId, history_id: &str) -> ApiResult<HistoryRecord> {
        // the `historyId` parameter of a GET (`?historyId=0Rm...`)
        let hid = id_of(history_id, KeyPrefix::History, "history").map_err(|e| e.prefixed("historyId"))?;
        let found = self.store.histories(dataflow).await?.into_iter().find(|x| x.id == hid);
        found.ok_or_else(|| ApiError::not_found(format!("history {history_id} of this asset (historyId)")))
    }

    pub async fn create_dataflow(&self, actor: &Actor, new: NewDefinition) -> ApiResult<DataflowRecord> {
        self.require(actor, Action::CreateDataflow).await?;
        let (name, label) = name_and_label(new.name.as_deref(), new.label.as_deref())?;
        check_texts(&[("description", new.description.as_deref())])?;
        let mut definition = new.definition.unwrap_or_else(|| json!({}));
        // an empty object is a dataflow to be written later; anything else must check
        if definition.as_object().is_none_or(|o| !o.is_empty()) {
            definition = validate_dataflow(definition)?;
        }
        let d = self.store.create_dataflow(&actor.id, &name, &label, new.description.as_deref(), &definition).await?;
        self.did(actor, Action::CreateDataflow, Subject::new(&d.id, &d.name), None).await;
        Ok(d)
    }

    pub async fn update_dataflow(
        &self,
        actor: &Actor,
        id_or_name: &str,
        change: DefinitionChange,
    ) -> ApiResult<DataflowRecord> {
        self.require(actor, Action::UpdateDataflow).await?;
        let d = self.own_dataflow(id_or_name, "change").await?;
        change.check(&d.name)?;
        let definition = change.definition.map(validate_dataflow).transpose()?;
        let updated = self
            .store
            .update_dataflow(
                &actor.id,
                &d.id,
                change.label.as_deref(),
                change.description.as_deref(),
                definition.as_ref(),
                change.history_label.as_deref(),
            )
            .await?;
        self.did(actor, Action::UpdateDataflow, Subject::new(&d.id, &d.name), None).await;
        Ok(updated)
    }

    /// Makes a history entry's definition the current one (itself a new history entry).
    pub async fn revert_dataflow(
        &self,
        actor: &Actor,
        id_or_name: &str,
        history_id: Option<&str>,
        history_label: Option<&str>,
    ) -> ApiResult<DataflowRecord> {
        self.require(actor, Action::RevertDataflow).await?;
        let d = self.own_dataflow(id_or_name, "revert").await?;
        let reverted = self.revert(actor, &d, history_id, history_label).await?;
        self.did(actor, Action::RevertDataflow, Subject::new(&d.id, &d.name), None).await;
        Ok(reverted)
    }

    /// Reverts the dataflow `d` (or a recipe's target dataflow).
    pub(crate) async fn revert(
        &self,
        actor: &Actor,
        d: &DataflowRecord,
        history_id: Option<&str>,
        history_label: Option<&str>,
    ) -> ApiResult<DataflowRecord> {
        let hid = history_id.ok_or_else(|| ApiError::bad_request("historyId: is required"))?;
        let hid = id_of(hid, KeyPrefix::History, "history").map_err(|e| e.prefixed("historyId"))?;
        check_texts(&[("historyLabel", history_label)])?;
        Ok(self.store.revert_dataflow(&actor.id, &d.id, &hid, history_label).await?)
    }

    /// Deletes a dataflow with its histories, jobs and schedule; refused (409) while it has a
    /// queued or running job. Datasets it registered stay.
    pub async fn delete_dataflow(&self, actor: &Actor, id_or_name: &str) -> ApiResult<()> {
        self.require(actor, Action::DeleteDataflow).await?;
        let d = self.own_dataflow(id_or_name, "delete").await?;
        let mut rules = self.store.lock_rules().await?;
        crate::schedules::check_not_awaited(&mut rules, &d.id, &format!("dataflow {} ({})", d.name, d.id)).await?;
        rules.delete_dataflow(&d.id).await?;
        rules.commit().await?;
        self.scheduler.wake();
        self.did(actor, Action::DeleteDataflow, Subject::new(&d.id, &d.name), None).await;
        Ok(())
    }

    /// A dataflow that belongs to another asset (a recipe's target dataflow, a data
    /// connection's sync dataflow) is changed and deleted through its owner, never by itself:
    /// deleting a recipe's target dataflow would leave the recipe without its definition, and a
    /// sync dataflow's definition is made from its connection. `verb` names the refused action.
    async fn own_dataflow(&self, id_or_name: &str, verb: &str) -> ApiResult<DataflowRecord> {
        let d = self.dataflow(id_or_name).await?;
        let owner = match d.kind {
            AssetKind::Recipe => match self.store.recipe_of_dataflow(&d.id).await? {
                Some(r) => {
                    format!("the target dataflow of recipe {} ({}); {verb} the recipe instead", r.dataflow.name, r.id)
                }
                None => format!("the target dataflow of a recipe; {verb} the recipe instead"),
            },
            AssetKind::Sync => match self.store.connector_of_dataflow(&d.id).await? {
                Some(c) => {
                    format!("the sync dataflow of data connection {} ({}); {verb} the connection instead", c.name, c.id)
                }
                None => format!("the sync dataflow of a data connection; {verb} the connection instead"),
            },
            AssetKind::Dataflow | AssetKind::Connection => return Ok(d),
        };
        Err(ApiError::bad_request(format!("dataflow {} ({}) is {owner}", d.name, d.id)))
    }
}
