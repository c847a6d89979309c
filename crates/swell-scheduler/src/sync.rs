//! Data syncs: the datasync job of a connection, and "sync before run".
//!
//! A datasync job syncs every connected object of its connection, one after another, each a
//! job node with its live row count. Before a dataflow or recipe runs, the objects it reads
//! through a connection that swell knows are synced first when they never were or their
//! settings changed since (CRM Analytics' rule); objects it reads that the connection does not
//! have yet are added to it first, with every field the source offers.
//!
//! What each object's sync does is decided here from its settings:
//! - fields: the stored ones that are not skipped (described from the source the first time);
//! - mode: `Full`, or `Incremental`/`PeriodicFull` upserting by the primary key and reading
//!   from the last watermark. The watermark field is `advancedProperties.watermarkField`, or
//!   the first date field named SystemModstamp, LastModifiedDate, updated_at, last_modified,
//!   modified_at or updatedAt. A sync runs full when the object never synced, its settings
//!   changed, `fullRefresh` is set, or (PeriodicFull) the last full sync is a week old.

use crate::{Failure, Runner};
use chrono::Utc;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use swell_connect::sync::{IS_DELETED, Mode, SyncOutcome, SyncRequest, prepare_sync};
use swell_connect::{ConnectError, ConnectorType, Properties, Source, SourceField, Vault};
use swell_core::{ConnectionMode, NO_CHANGES, SalesforceId, SyncStatus};
use swell_engine::{NodeReport, NodeStatus};
use swell_store::{ConnectorRecord, JobRecord, ReplicatedPatch, ReplicatedRecord, SyncRecord};
use tokio_util::sync::CancellationToken;

/// Date fields taken as the watermark when none is set, in this order.
const WATERMARK_NAMES: &[&str] =
    &["SystemModstamp", "LastModifiedDate", "updated_at", "last_modified", "modified_at", "updatedAt"];

/// How old a PeriodicFull object's last full sync may be before the next sync runs full.
const PERIODIC_FULL_AFTER: chrono::TimeDelta = chrono::TimeDelta::days(7);

/// Opens a connection's source, its secrets unsealed.
pub fn open_source(
    connector: &ConnectorRecord,
    vault: &Vault,
    folders: &swell_connect::FolderPolicy,
) -> Result<Box<dyn Source>, ConnectError> {
    let ty = ConnectorType::parse(&connector.connector_type).map_err(ConnectError::Config)?;
    let mut properties = Vec::new();
    for (name, value) in &connector.properties {
        let value = if ty.is_secret(name) { vault.unseal(value)? } else { value.clone() };
        properties.push((name.clone(), value));
    }
    swell_connect::connect(ty, &Properties::new(properties), folders)
}

fn advanced(properties: &Value, name: &str) -> Option<String> {
    properties.as_array()?.iter().find_map(|p| {
        (p.get("name")?.as_str()?.eq_ignore_ascii_case(name)).then(|| p.get("value")?.as_str().map(str::to_string))?
    })
}

/// The fields to sync (not skipped), describing the object the first time.
async fn fields_of(
    runner: &Runner,
    source: &dyn Source,
    record: &ReplicatedRecord,
) -> Result<(ReplicatedRecord, Vec<SourceField>), String> {
    let record = match &record.fields {
        Some(_) => record.clone(),
        None => {
            let described = source.fields(&record.source_object).await.map_err(|e| e.to_string())?;
            let json = SourceField::list_json(&described);
            runner.store.init_replicated_fields(&record.id, &json).await.map_err(|e| e.to_string())?
        }
    };
    let mut fields = Vec::new();
    for v in record.fields.as_ref().and_then(Value::as_array).into_iter().flatten() {
        let (f, skipped) = SourceField::from_json(v)?;
        if !skipped {
            fields.push(f);
        }
    }
    if fields.is_empty() {
        return Err(format!("every field of {} is skipped", record.source_object));
    }
    Ok((record, fields))
}

/// An advanced property of a connected object: the connector types list them
/// (`dataConnectorTypes`), [`check_advanced_properties`] refuses others, and incremental
/// syncs read them ([`incremental_keys`]).
#[derive(Debug, Clone, Copy)]
pub struct AdvancedProperty {
    pub name: &'static str,
    pub label: &'static str,
    pub description: &'static str,
}

pub const ADVANCED_PROPERTIES: [AdvancedProperty; 2] = [
    AdvancedProperty {
        name: "primaryKey",
        label: "Upsert key of incremental syncs",
        description: "a field name; default: the source's primary key",
    },
    AdvancedProperty {
        name: "watermarkField",
        label: "Watermark of incremental syncs",
        description: "a date-time field changed by every update",
    },
];

/// Checks a connected object's `advancedProperties` (`[{name, value}]`): known names, each
/// once, with a field name (text) or nothing as value. Every wrong entry is named by its path.
pub fn check_advanced_properties(list: &Value) -> Result<(), Vec<String>> {
    let Some(items) = list.as_array() else {
        return Err(vec!["advancedProperties: must be a list of {name, value}".to_string()]);
    };
    let known: Vec<&str> = ADVANCED_PROPERTIES.iter().map(|p| p.name).collect();
    let mut errors = Vec::new();
    for (i, p) in items.iter().enumerate() {
        let Some(name) = p.get("name").and_then(Value::as_str) else {
            errors.push(format!("advancedProperties[{i}].name: is required"));
            continue;
        };
        if !known.contains(&name) {
            errors.push(format!(
                "advancedProperties[{i}].name: '{name}' is not an advanced property of connected objects ({})",
                known.join(", ")
            ));
        } else if items[..i].iter().any(|q| q.get("name").and_then(Value::as_str) == Some(name)) {
            errors.push(format!("advancedProperties[{i}].name: '{name}' is given twice"));
        }
        match p.get("value") {
            None | Some(Value::Null) => {}
            Some(Value::String(_)) => {}
            Some(_) => errors.push(format!("advancedProperties[{i}].value: must be a field name")),
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// The key and the watermark an incremental sync of `object` uses: its advanced properties
/// (`primaryKey`, `watermarkField`), else the source's one-field key and a date field named
/// as watermarks are; the error says what is missing.
fn incremental_keys(object: &str, properties: &Value, fields: &[SourceField]) -> Result<(String, String), String> {
    let key = match advanced(properties, "primaryKey") {
        Some(k) => k,
        None => {
            let keys: Vec<&SourceField> = fields.iter().filter(|f| f.primary_key).collect();
            match keys.as_slice() {
                [one] => one.name.clone(),
                [] => {
                    return Err(format!(
                        "incremental sync of {} needs a primary key: the source declares none; set the advanced \
                         property primaryKey or use connectionMode full",
                        object
                    ));
                }
                _ => {
                    return Err(format!(
                        "incremental sync of {} needs a one-field key; the source's key has several fields: set the \
                         advanced property primaryKey or use connectionMode full",
                        object
                    ));
                }
            }
        }
    };
    if !fields.iter().any(|f| f.name == key) {
        return Err(format!("{}: the key field '{key}' is not synced (skipped or missing)", object));
    }
    let watermark = match advanced(properties, "watermarkField") {
        Some(w) => w,
        None => WATERMARK_NAMES
            .iter()
            .find_map(|n| fields.iter().find(|f| f.ty.is_date() && f.name.eq_ignore_ascii_case(n)))
            .map(|f| f.name.clone())
            .ok_or_else(|| {
                format!(
                    "incremental sync of {} needs a watermark: a date-time field that changes with every update \
                     ({}); set the advanced property watermarkField or use connectionMode full",
                    object,
                    WATERMARK_NAMES.join(", ")
                )
            })?,
    };
    if !fields.iter().any(|f| f.name == watermark && f.ty.is_date()) {
        return Err(format!("{}: the watermark field '{watermark}' is not a synced date field", object));
    }
    Ok((key, watermark))
}

/// Checks a connected object's sync settings against its described fields before they are
/// kept: an incremental mode needs a one-field key and a date watermark among the synced
/// fields. An object not described yet is checked when it syncs.
pub fn check_sync_settings(
    object: &str,
    mode: ConnectionMode,
    advanced_properties: &Value,
    fields: Option<&Value>,
) -> Result<(), String> {
    if mode == ConnectionMode::Full {
        return Ok(());
    }
    let Some(list) = fields.and_then(Value::as_array) else { return Ok(()) };
    let mut fields = Vec::new();
    for v in list {
        let (f, skipped) = SourceField::from_json(v)?;
        if !skipped {
            fields.push(f);
        }
    }
    incremental_keys(object, advanced_properties, &fields).map(|_| ())
}

fn mode_of(record: &ReplicatedRecord, fields: &[SourceField]) -> Result<Mode, String> {
    if record.connection_mode == ConnectionMode::Full {
        return Ok(Mode::Full);
    }
    let (key, watermark) = incremental_keys(&record.source_object, &record.advanced_properties, fields)?;
    let stale_full = record.connection_mode == ConnectionMode::PeriodicFull
        && record.last_full_sync.is_none_or(|at| Utc::now() - at >= PERIODIC_FULL_AFTER);
    let since = if record.full_refresh || record.needs_sync() || stale_full { None } else { record.watermark };
    Ok(Mode::Incremental { key, watermark, since })
}

impl Runner {
    /// Syncs one connected object for job `job` and records the outcome on it. Syncs of one
    /// object wait for each other, in this process and in others sharing the data dir (the
    /// table's lock is held from the read of the current version to the commit); with
    /// `only_if_needed` (sync before run) an object that another sync brought up to date
    /// meanwhile is left alone (`Ok(None)`). The version is published only while the job is
    /// still this server's Running job and no stop was requested: a job that ended elsewhere
    /// commits nothing.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn sync_one(
        &self,
        job: &SalesforceId,
        connector: &ConnectorRecord,
        source: &Arc<dyn Source>,
        record: &ReplicatedRecord,
        cancel: &CancellationToken,
        rows: &Arc<AtomicU64>,
        only_if_needed: bool,
    ) -> Result<Option<SyncOutcome>, Failure> {
        let table = self
            .data_dir
            .connected_object(&connector.name, &record.source_object)
            .map_err(|e| Failure::internal(format!("{}: {e}", connector.name)))?;
        let _lock = tokio::select! {
            l = table.lock_async() => l.map_err(|e| Failure::internal(format!("{}: {e}", record.source_object)))?,
            _ = cancel.cancelled() => return Err(Failure::Stopped),
        };
        // the settings as they are now (another sync or a PATCH may have changed them)
        let record = &self.store.replicated(&record.id).await.map_err(Failure::internal)?;
        if only_if_needed && !record.needs_sync() {
            return Ok(None);
        }
        if let Some(m) = self.data_dir.low_on_space(self.settings.min_free_bytes) {
            return Err(Failure::resources(format!("{}: {m}", record.source_object)));
        }
        let started = Utc::now();
        let prepared = async {
            let (record, mut fields) = fields_of(self, source.as_ref(), record).await?;
            let mode = mode_of(&record, &fields)?;
            if source.reports_deletes() && !matches!(mode, Mode::Full) && !fields.iter().any(|f| f.name == IS_DELETED) {
                // deletions come flagged: keep the flag column so that they can be seen
                if let Ok(all) = source.fields(&record.source_object).await
                    && let Some(f) = all.into_iter().find(|f| f.name == IS_DELETED)
                {
                    fields.push(f);
                }
            }
            Ok::<_, String>((record, fields, mode))
        }
        .await;
        let (record, fields, mode) = match prepared {
            Ok(p) => p,
            Err(m) => {
                self.record_object(record, SyncStatus::Failure, None).await;
                return Err(Failure::source(format!("{}: {m}", record.source_object)));
            }
        };
        let request = SyncRequest {
            connection: connector.name.clone(),
            object: record.source_object.clone(),
            label: record.source_object.clone(),
            fields,
            mode,
            filter: record.pass_through_filter.clone().filter(|f| !f.trim().is_empty()),
            memory_limit: self.settings.memory_limit.unwrap_or(swell_engine::run::DEFAULT_MEMORY_LIMIT),
        };
        // reading, writing and merging run on the engine's runtime, as runs do: a large sync
        // keeps the API's threads free
        let work = {
            let (source, table, cancel, rows) = (source.clone(), table.clone(), cancel.clone(), rows.clone());
            async move { prepare_sync(source.as_ref(), &table, &request, &cancel, &rows).await }
        };
        let prepared = self.engine.handle().spawn(work).await.map_err(|e| {
            let detail =
                if e.is_panic() { swell_engine::panic_message(e.into_panic().as_ref()) } else { e.to_string() };
            Failure::internal(format!("{}: the sync ended unexpectedly: {detail}", record.source_object))
        })?;
        let synced = match prepared {
            Ok(prepared) => match self.store.may_commit(job, &self.server_id).await {
                Ok(true) => prepared.publish(),
                // stopped, or ended elsewhere: the staged version goes with `prepared`
                Ok(false) => Err(ConnectError::Cancelled),
                Err(e) => return Err(Failure::internal(e)),
            },
            Err(e) => Err(e),
        };
        match synced {
            Ok(outcome) => {
                let success = Some((record.settings_version, outcome.watermark, outcome.full));
                self.record_object(&record, SyncStatus::Success, success).await;
                tracing::info!(
                    connection = %connector.name, object = %record.source_object, rows = outcome.rows,
                    full = outcome.full, seconds = (Utc::now() - started).num_milliseconds() as f64 / 1000.0,
                    "synced"
                );
                Ok(Some(outcome))
            }
            Err(ConnectError::Cancelled) => {
                self.record_object(&record, SyncStatus::Cancelled, None).await;
                Err(Failure::Stopped)
            }
            Err(e) => {
                self.record_object(&record, SyncStatus::Failure, None).await;
                let m = format!("{}: {e}", record.source_object);
                Err(match e {
                    ConnectError::Config(_) | ConnectError::NotFound(_) => Failure::definition(m),
                    ConnectError::Resources(_) => Failure::resources(m),
                    _ => Failure::source(m),
                })
            }
        }
    }

    async fn record_object(
        &self,
        record: &ReplicatedRecord,
        status: SyncStatus,
        success: Option<(i64, Option<chrono::DateTime<Utc>>, bool)>,
    ) {
        let r = SyncRecord { status, at: Utc::now(), success };
        if let Err(e) = self.store.record_sync(&record.id, &r).await {
            tracing::error!(object = %record.source_object, error = %e, "could not record a sync");
        }
    }

    /// A datasync job: every connected object of the connection, one node each.
    pub(crate) async fn execute_sync(&self, job: &JobRecord, cancel: CancellationToken) -> Result<(), Failure> {
        let message = Failure::internal;
        let connector = self
            .store
            .connector_of_dataflow(&job.dataflow_id)
            .await
            .map_err(message)?
            .ok_or_else(|| Failure::source("the data connection of this sync no longer exists"))?;
        let objects = self.store.replicated_of(&connector.id).await.map_err(message)?;
        let source: Arc<dyn Source> =
            open_source(&connector, self.vault().map_err(Failure::internal)?, &self.settings.folders)
                .map_err(|e| Failure::source(format!("{}: {e}", connector.name)))?
                .into();
        let action = match ConnectorType::parse(&connector.connector_type).map(|t| t.family()) {
            Ok(swell_connect::Family::Salesforce) => "sfdcFetch",
            _ => "digest",
        };
        let mut nodes: Vec<NodeReport> = objects
            .iter()
            .map(|o| NodeReport {
                name: o.source_object.clone(),
                action: action.to_string(),
                status: NodeStatus::Queued,
                start_date: None,
                duration_ms: None,
                input_rows: 0,
                input_rows_failed: 0,
                output_rows: 0,
                message: None,
            })
            .collect();
        self.save_progress(&job.id, &nodes).await;
        let mut failures = Vec::new();
        for (i, object) in objects.iter().enumerate() {
            if cancel.is_cancelled() {
                break;
            }
            let started = std::time::Instant::now();
            nodes[i].status = NodeStatus::Running;
            nodes[i].start_date = Some(Utc::now());
            let rows = Arc::new(AtomicU64::new(0));
            let work = self.sync_one(&job.id, &connector, &source, object, &cancel, &rows, false);
            let progress = || {
                // the sync is dropped with its staged files before the disk fills
                if let Some(m) = self.data_dir.low_on_space(self.settings.min_free_bytes) {
                    return Err(format!("{}: {m}", object.source_object));
                }
                let n = rows.load(Ordering::Relaxed);
                nodes[i].input_rows = n;
                nodes[i].output_rows = n;
                Ok(nodes.clone())
            };
            let result = self.watch(&job.id, &cancel, work, progress).await.and_then(|r| r);
            nodes[i].duration_ms = Some(started.elapsed().as_millis() as u64);
            match result {
                Ok(outcome) => {
                    nodes[i].status = NodeStatus::Success;
                    if let Some(o) = outcome {
                        nodes[i].input_rows = o.read_rows;
                        nodes[i].output_rows = o.rows;
                        // an incremental sync that found nothing new says so rather than a bare
                        // Success (the UI shows it in place of the status)
                        if o.unchanged {
                            nodes[i].message = Some(NO_CHANGES.to_string());
                        }
                    }
                }
                Err(Failure::Stopped) => {
                    nodes[i].status = NodeStatus::Cancelled;
                    self.save_progress(&job.id, &nodes).await;
                    return Err(Failure::Stopped);
                }
                Err(Failure::Failed(class, m)) => {
                    nodes[i].status = NodeStatus::Failure;
                    nodes[i].message = Some(m.clone());
                    failures.push((class, m));
                }
            }
            self.save_progress(&job.id, &nodes).await;
        }
        if cancel.is_cancelled() {
            return Err(Failure::Stopped);
        }
        // the class of the first object that failed stands for the job's
        match failures.first() {
            None => Ok(()),
            Some((class, _)) => {
                let each: Vec<&str> = failures.iter().map(|(_, m)| m.as_str()).collect();
                Err(Failure::Failed(*class, format!("The sync of {} failed: {}", connector.name, each.join("; "))))
            }
        }
    }

    /// Sync before run: syncs the connected objects `flow` reads that never synced or whose
    /// settings changed; returns the sync dataflows of the connections it synced. Objects it
    /// adds to a connection are pushed on `added` (the caller removes them if the run fails).
    pub(crate) async fn sync_before_run(
        &self,
        job: &JobRecord,
        sources: &[(String, String)],
        cancel: &CancellationToken,
        added: &mut Vec<ReplicatedRecord>,
    ) -> Result<Vec<swell_core::SalesforceId>, Failure> {
        let message = Failure::internal;
        let mut synced = Vec::new();
        let mut by_connection: Vec<(ConnectorRecord, Vec<ReplicatedRecord>)> = Vec::new();
        for (connection, object) in sources {
            // a connection swell does not know: the data dir's copy (imported files) is read as is
            let Some(connector) = self.store.connector_by_name(connection).await.map_err(message)? else { continue };
            let record = match self.store.replicated_by_object(&connector.id, object).await.map_err(message)? {
                Some(r) => r,
                None => match self
                    .store
                    .create_replicated(&job.started_by.id, &connector.id, object, &ReplicatedPatch::default())
                    .await
                {
                    Ok(r) => {
                        added.push(r.clone());
                        r
                    }
                    // added meanwhile by someone else
                    Err(swell_store::StoreError::Conflict(_)) => self
                        .store
                        .replicated_by_object(&connector.id, object)
                        .await
                        .map_err(message)?
                        .ok_or_else(|| Failure::internal(format!("{object} vanished while it was added")))?,
                    Err(e) => return Err(message(e)),
                },
            };
            if !record.needs_sync() {
                continue;
            }
            match by_connection.iter_mut().find(|(c, _)| c.id == connector.id) {
                Some((_, list)) => list.push(record),
                None => by_connection.push((connector, vec![record])),
            }
        }
        for (connector, records) in by_connection {
            let source: Arc<dyn Source> =
                open_source(&connector, self.vault().map_err(Failure::internal)?, &self.settings.folders)
                    .map_err(|e| {
                        Failure::source(format!("Sync of the data connection {} failed: {e}", connector.name))
                    })?
                    .into();
            for record in &records {
                let rows = Arc::new(AtomicU64::new(0));
                self.sync_one(&job.id, &connector, &source, record, cancel, &rows, true).await.map_err(
                    |f| match f {
                        Failure::Failed(class, m) => Failure::Failed(
                            class,
                            format!("Sync of the data connection {} failed: {m}", connector.name),
                        ),
                        other => other,
                    },
                )?;
            }
            synced.push(connector.dataflow_id.clone());
        }
        Ok(synced)
    }
}
