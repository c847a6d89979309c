//! Recipes (05v): create, change, revert, delete, and their notification settings. A recipe
//! runs through its target dataflow (02K), which holds its definition and histories.
//!
//! A recipe is saved even when the engine finds problems in it, as Data Prep saves a draft
//! (the problems are shown with it and a run of it fails naming them), but never past the
//! engine's hard limits. Only R3 recipes are accepted (R2 is Data Prep Classic).

use crate::{Action, Subject};

use crate::dataflows::{DefinitionChange, NewDefinition};
use crate::error::{ApiError, ApiResult};
use crate::ids::IdOrName;
use crate::text::{check_texts, name_and_label, unchanged_name};
use crate::{Actor, App};
use serde_json::Value;
use swell_core::KeyPrefix;
use swell_store::RecipeRecord;

/// The notification levels of a recipe.
pub const NOTIFICATION_LEVELS: &[&str] = &["Always", "Failures", "Never", "Warnings"];

/// A change of a recipe's notification settings; what is `None` is kept.
#[derive(Debug, Clone, Default)]
pub struct NotificationChange {
    /// Any case of [`NOTIFICATION_LEVELS`].
    pub level: Option<String>,
    /// `Some(None)` clears the long-running alert.
    pub long_running_alert_mins: Option<Option<i64>>,
}

/// A recipe's format must be R3, when given.
fn check_format(format: Option<&str>) -> ApiResult<()> {
    match format {
        Some(f) if !f.eq_ignore_ascii_case("R3") => Err(ApiError::bad_request(format!(
            "format: '{f}' is not supported: swell runs R3 recipes (Data Prep); R2 is Data Prep Classic"
        ))),
        _ => Ok(()),
    }
}

/// A recipe definition: an R3 object with `nodes`, within the engine's hard limits.
/// Checks a recipe as the engine would run it (the web UI's Validate): its shape, then every
/// node, each problem its own error entry. Saving a recipe checks its shape only, as an org
/// keeps recipes that do not run yet.
pub fn validate_recipe(definition: &Value) -> ApiResult<()> {
    check_definition(definition)?;
    swell_engine::validate_isolated(definition.to_string())?;
    Ok(())
}

fn check_definition(d: &Value) -> ApiResult<()> {
    let Some(nodes) = d.get("nodes").and_then(Value::as_object) else {
        return Err(ApiError::bad_request(
            "recipeDefinition: must be an R3 recipe: {\"version\": \"62.0\", \"nodes\": {...}, \"ui\": {...}}",
        ));
    };
    swell_engine::flow::check_node_count(nodes.len()).map_err(|p| {
        ApiError::bad_request(format!("recipeDefinition.nodes: {}", p.0.first().map_or("", |x| x.message.as_str())))
    })
}

impl App {
    /// A recipe by id (15 or 18 characters) or by API name.
    pub async fn recipe(&self, id_or_name: &str) -> ApiResult<RecipeRecord> {
        match crate::ids::id_or_name(id_or_name, KeyPrefix::Recipe, "recipe")? {
            IdOrName::Id(id) => Ok(self.store.recipe(&id).await?),
            IdOrName::Name(name) => {
                self.store.recipe_by_name(name).await?.ok_or_else(|| ApiError::not_found(format!("recipe {name}")))
            }
        }
    }

    /// Creates a recipe; `format`, when given, must be R3.
    pub async fn create_recipe(
        &self,
        actor: &Actor,
        new: NewDefinition,
        format: Option<&str>,
    ) -> ApiResult<RecipeRecord> {
        self.require(actor, Action::CreateRecipe).await?;
        check_format(format)?;
        let definition = new.definition.ok_or_else(|| ApiError::bad_request("recipeDefinition: is required"))?;
        check_definition(&definition)?;
        let (name, label) = name_and_label(new.name.as_deref(), new.label.as_deref())?;
        check_texts(&[("description", new.description.as_deref())])?;
        let r = self.store.create_recipe(&actor.id, &name, &label, new.description.as_deref(), &definition).await?;
        self.did(actor, Action::CreateRecipe, Subject::new(&r.id, &name), None).await;
        Ok(r)
    }

    pub async fn update_recipe(
        &self,
        actor: &Actor,
        id_or_name: &str,
        change: DefinitionChange,
        format: Option<&str>,
    ) -> ApiResult<RecipeRecord> {
        self.require(actor, Action::UpdateRecipe).await?;
        let r = self.recipe(id_or_name).await?;
        check_format(format)?;
        unchanged_name(change.name.as_deref(), &r.dataflow.name)?;
        check_texts(&[
            ("label", change.label.as_deref()),
            ("description", change.description.as_deref()),
            ("historyLabel", change.history_label.as_deref()),
        ])?;
        if let Some(d) = &change.definition {
            check_definition(d)?;
        }
        self.store
            .update_dataflow(
                &actor.id,
                &r.dataflow.id,
                change.label.as_deref(),
                change.description.as_deref(),
                change.definition.as_ref(),
                change.history_label.as_deref(),
            )
            .await?;
        self.did(actor, Action::UpdateRecipe, Subject::new(&r.id, &r.dataflow.name), None).await;
        Ok(self.store.recipe(&r.id).await?)
    }

    pub async fn revert_recipe(
        &self,
        actor: &Actor,
        id_or_name: &str,
        history_id: Option<&str>,
        history_label: Option<&str>,
    ) -> ApiResult<RecipeRecord> {
        self.require(actor, Action::RevertRecipe).await?;
        let r = self.recipe(id_or_name).await?;
        self.revert(actor, &r.dataflow, history_id, history_label).await?;
        self.did(actor, Action::RevertRecipe, Subject::new(&r.id, &r.dataflow.name), None).await;
        Ok(self.store.recipe(&r.id).await?)
    }

    /// Deletes a recipe with its target dataflow, histories, jobs and schedule. Datasets it
    /// wrote stay.
    pub async fn delete_recipe(&self, actor: &Actor, id_or_name: &str) -> ApiResult<()> {
        self.require(actor, Action::DeleteRecipe).await?;
        let r = self.recipe(id_or_name).await?;
        let mut rules = self.store.lock_rules().await?;
        crate::schedules::check_not_awaited(&mut rules, &r.id, &format!("recipe {} ({})", r.dataflow.name, r.id))
            .await?;
        rules.delete_recipe(&r.id).await?;
        rules.commit().await?;
        self.scheduler.wake();
        self.did(actor, Action::DeleteRecipe, Subject::new(&r.id, &r.dataflow.name), None).await;
        Ok(())
    }

    /// Changes a recipe's notification settings. swell sends no mail: the settings are kept
    /// and returned, and every run's end is in the job list.
    pub async fn set_recipe_notification(
        &self,
        actor: &Actor,
        id_or_name: &str,
        change: NotificationChange,
    ) -> ApiResult<RecipeRecord> {
        self.require(actor, Action::SetRecipeNotification).await?;
        let r = self.recipe(id_or_name).await?;
        let level = match change.level.as_deref() {
            None => r.notification_level.clone(),
            Some(l) => NOTIFICATION_LEVELS
                .iter()
                .find(|k| k.eq_ignore_ascii_case(l))
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "notificationLevel: '{l}' is not one of {}",
                        NOTIFICATION_LEVELS.join(", ")
                    ))
                })?
                .to_string(),
        };
        let minutes = match change.long_running_alert_mins {
            None => r.long_running_alert_mins,
            Some(Some(m)) if m < 0 => {
                return Err(ApiError::bad_request(
                    "longRunningAlertInMins: must be a whole number of minutes, 0 or more",
                ));
            }
            Some(m) => m,
        };
        let r = self.store.set_recipe_notification(&r.id, &level, minutes).await?;
        self.did(actor, Action::SetRecipeNotification, Subject::new(&r.id, &r.dataflow.name), None).await;
        Ok(r)
    }
}
