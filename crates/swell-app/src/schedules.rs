//! Schedules of dataflows (02K), recipes (05v) and data connections (0It, also by API name):
//! put and delete. A change wakes the scheduler, which sleeps until the earliest tick.
//!
//! An event-driven schedule (run after other assets' runs) must wait for assets that exist,
//! and no chain of event-driven schedules may lead back to the asset (it would start itself
//! forever). A data sync is never event-driven.

use crate::{Action, Subject};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::{Actor, App};
use std::collections::{HashMap, HashSet};
use swell_core::schedule::{Frequency, TriggerTerm};
use swell_core::{AssetKind, KeyPrefix, SalesforceId, Schedule};
use swell_store::{Rules, ScheduleRecord};

/// A schedulable asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub id: SalesforceId,
    pub kind: AssetKind,
    /// Its API name.
    pub name: String,
}

fn asset_terms(terms: &[TriggerTerm]) -> Vec<SalesforceId> {
    terms
        .iter()
        .filter_map(|t| match t {
            TriggerTerm::Asset(id) => Some(id.clone()),
            TriggerTerm::AllSalesforceObjects => None,
        })
        .collect()
}

impl App {
    /// The asset a schedule path names: a dataflow, recipe or data connector id, or a data
    /// connector's API name. A connection's sync dataflow is scheduled through its connection.
    pub async fn schedule_target(&self, id_or_name: &str) -> ApiResult<Target> {
        let Ok(id) = SalesforceId::parse(id_or_name) else {
            let c = self.store.find_connector(id_or_name).await?.ok_or_else(|| {
                ApiError::not_found(format!(
                    "asset {id_or_name}: no data connection has that API name, and it is not a dataflow (02K), \
                     recipe (05v) or data connector (0It) id"
                ))
            })?;
            return Ok(Target { id: c.id, kind: AssetKind::Connection, name: c.name });
        };
        if id.has_prefix(KeyPrefix::Dataflow) {
            let d = self.store.dataflow(&id).await?;
            match d.kind {
                AssetKind::Sync => {
                    return Err(ApiError::bad_request(format!(
                        "assetId: {id} is the sync dataflow of a data connection; schedule the connection (0It) instead"
                    )));
                }
                // its runs are the recipe's: a second schedule of them would escape the
                // recipe's own (and the loop check, which knows recipes by their 05v id)
                AssetKind::Recipe => {
                    let owner = self.store.recipe_of_dataflow(&d.id).await?;
                    let recipe = owner
                        .map_or_else(|| "a recipe".to_string(), |r| format!("recipe {} ({})", r.dataflow.name, r.id));
                    return Err(ApiError::bad_request(format!(
                        "assetId: {id} is the target dataflow of {recipe}; schedule the recipe (05v) instead"
                    )));
                }
                AssetKind::Dataflow | AssetKind::Connection => {}
            }
            return Ok(Target { id: d.id, kind: AssetKind::Dataflow, name: d.name });
        }
        if id.has_prefix(KeyPrefix::Recipe) {
            let r = self.store.recipe(&id).await?;
            return Ok(Target { id: r.id, kind: AssetKind::Recipe, name: r.dataflow.name });
        }
        if id.has_prefix(KeyPrefix::DataConnector) {
            let c = self.store.connector(&id).await?;
            return Ok(Target { id: c.id, kind: AssetKind::Connection, name: c.name });
        }
        Err(ApiError::bad_request(format!(
            "assetId: '{id_or_name}' is not a dataflow (02K), recipe (05v) or data connector (0It) id"
        )))
    }

    /// Sets the schedule of an asset, replacing any; the record holds its next run. The rule
    /// is checked and written under the store's rules' lock ([`swell_store::Rules`]), so that
    /// no two rules saved at once, on one server or on two, make a loop together.
    pub async fn put_schedule(&self, actor: &Actor, id_or_name: &str, schedule: Schedule) -> ApiResult<ScheduleRecord> {
        self.require(actor, Action::PutSchedule).await?;
        let target = self.schedule_target(id_or_name).await?;
        if let Frequency::EventDriven { .. } = &schedule.frequency
            && target.kind == AssetKind::Connection
        {
            return Err(ApiError::bad_request(
                "frequency: a data sync cannot be event-driven; give it a time-based schedule",
            ));
        }
        let next = schedule.next_after(self.scheduler.now());
        // every change of schedules takes the lock: a time-based schedule replacing a rule
        // changes the rules too
        let mut rules = self.store.lock_rules().await?;
        if let Frequency::EventDriven { rule } = &schedule.frequency {
            check_rule(&mut rules, &target, rule.terms.as_slice()).await?;
        }
        let record = rules.put_schedule(&actor.id, &target.id, target.kind, &schedule, next).await?;
        rules.commit().await?;
        self.scheduler.wake();
        let detail = format!("frequency {}", schedule.frequency.as_str());
        self.did(actor, Action::PutSchedule, Subject::new(&target.id, &target.name), Some(&detail)).await;
        Ok(record)
    }

    pub async fn delete_schedule(&self, actor: &Actor, id_or_name: &str) -> ApiResult<()> {
        self.require(actor, Action::DeleteSchedule).await?;
        let target = self.schedule_target(id_or_name).await?;
        let mut rules = self.store.lock_rules().await?;
        rules.delete_schedule(&target.id).await?;
        rules.commit().await?;
        self.scheduler.wake();
        self.did(actor, Action::DeleteSchedule, Subject::new(&target.id, &target.name), None).await;
        Ok(())
    }
}

/// Refuses to delete an asset that an event-driven schedule waits for: the rule could never
/// fire again (and could not be saved again as it is). Checked under the rules' lock that the
/// deletion holds, so that no rule starts waiting for it meanwhile.
pub(crate) async fn check_not_awaited(rules: &mut Rules, id: &SalesforceId, what: &str) -> ApiResult<()> {
    let waiting: Vec<String> = rules
        .event_schedules()
        .await?
        .into_iter()
        .filter(|rec| match &rec.schedule.frequency {
            Frequency::EventDriven { rule } => asset_terms(&rule.terms).contains(id),
            _ => false,
        })
        .map(|rec| format!("{} {}", rec.asset_type.word(), rec.asset_id))
        .collect();
    if waiting.is_empty() {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::Conflict,
        format!(
            "{what} is in the event-driven schedule of {}: change or delete that schedule first",
            waiting.join(", ")
        ),
    ))
}

/// The assets a rule waits for must exist, and no chain of event-driven schedules may lead
/// back to the asset.
async fn check_rule(rules: &mut Rules, target: &Target, terms: &[TriggerTerm]) -> ApiResult<()> {
    let mut graph: HashMap<SalesforceId, Vec<SalesforceId>> = HashMap::new();
    for rec in rules.event_schedules().await? {
        if let Frequency::EventDriven { rule } = rec.schedule.frequency {
            graph.insert(rec.asset_id, asset_terms(&rule.terms));
        }
    }
    for id in asset_terms(terms) {
        let kind = rules.asset_kind(&id).await?;
        if id.has_prefix(KeyPrefix::Recipe) {
            if kind.is_none() {
                return Err(ApiError::bad_request(format!("triggerRule: recipe {id} does not exist")));
            }
            continue;
        }
        match kind {
            Some(AssetKind::Dataflow) => {}
            Some(AssetKind::Recipe) => {
                return Err(ApiError::bad_request(format!(
                    "triggerRule: dataflow:{id} is the target dataflow of a recipe; write recipe:<05v id> to wait for its runs"
                )));
            }
            _ => return Err(ApiError::bad_request(format!("triggerRule: dataflow {id} does not exist"))),
        }
    }
    graph.insert(target.id.clone(), asset_terms(terms));
    // does anything the asset waits for wait, through the chain, for the asset itself?
    let mut seen = HashSet::new();
    let mut stack = vec![target.id.clone()];
    while let Some(n) = stack.pop() {
        for next in graph.get(&n).into_iter().flatten() {
            if *next == target.id {
                return Err(ApiError::bad_request(format!(
                    "triggerRule: {} would start itself: it waits, directly or through other schedules, for its own runs",
                    target.id
                )));
            }
            if seen.insert(next.clone()) {
                stack.push(next.clone());
            }
        }
    }
    Ok(())
}
