//! Connected objects (replicated datasets, 0IT): add, change the sync settings, remove, and
//! change their fields.
//!
//! Adding one checks that the object exists in the source and records its fields. Changing
//! the mode, filter, advanced properties or fields counts as a change of sync settings: the
//! next run of a dataflow reading it syncs it first (sync before run). Fields are never
//! removed, only skipped.

use crate::{Action, Subject};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::{Actor, App};
use serde_json::Value;
use swell_connect::{ConnectError, SourceField};
use swell_core::{ConnectionMode, KeyPrefix};
use swell_store::{ConnectorRecord, ReplicatedPatch, ReplicatedRecord};

/// A new connected object as a front door read it.
#[derive(Debug, Clone, Default)]
pub struct NewObject {
    /// The connection's id or API name.
    pub connector: Option<String>,
    pub source_object: Option<String>,
    /// A connected object's name and label are its source object's name: given, they must be.
    pub name: Option<String>,
    pub label: Option<String>,
    /// Its sync settings (its fields are read from the source).
    pub settings: ReplicatedPatch,
}

/// The changes of a connected object's fields: `[{name, label?, fieldType?, skipped?, ...}]`.
pub type FieldChanges = [Value];

/// `connectionMode`, any case of Full, Incremental, PeriodicFull.
pub fn connection_mode(input: &str) -> ApiResult<ConnectionMode> {
    ConnectionMode::parse(input).ok_or_else(|| {
        let modes: Vec<&str> = ConnectionMode::ALL.iter().map(|m| m.as_str()).collect();
        ApiError::bad_request(format!("connectionMode: '{input}' is not one of {}", modes.join(", ")))
    })
}

/// The properties a field change may set, as the fields resource shows them.
const FIELD_KEYS: &[&str] =
    &["name", "label", "fieldType", "precision", "scale", "format", "skipped", "uniqueId", "multiValue", "sourceType"];

/// The most digits a Numeric field holds (CRM Analytics' limit).
const MAX_PRECISION: i64 = 18;

/// What is wrong with one entry of a field change, each named by its path (`fields[2].scale`).
fn field_change_errors(i: usize, change: &Value) -> Vec<String> {
    let Some(obj) = change.as_object() else {
        return vec![format!("fields[{i}]: must be an object {{name, label?, fieldType?, ...}}")];
    };
    let mut errors = Vec::new();
    for (k, v) in obj {
        let at = format!("fields[{i}].{k}");
        let wrong = match k.as_str() {
            _ if v.is_null() => Some("must not be null".to_string()),
            "name" | "fieldType" | "format" | "sourceType" => (!v.is_string()).then(|| "must be text".to_string()),
            "label" => match v.as_str() {
                None => Some("must be text".to_string()),
                Some(l) => crate::text::check_text("label", l)
                    .err()
                    .map(|e| e.message.trim_start_matches("label: ").to_string()),
            },
            "skipped" | "uniqueId" | "multiValue" => (!v.is_boolean()).then(|| "must be true or false".to_string()),
            // a text field's precision is its length (255 as described); a Numeric field's
            // digits are checked once its type is known (`numeric_error`)
            "precision" => match v.as_i64() {
                Some(p) if p >= 1 => None,
                _ => Some("must be a whole number, 1 or more".to_string()),
            },
            "scale" => match v.as_i64() {
                Some(sc) if (0..MAX_PRECISION).contains(&sc) => None,
                _ => Some(format!("must be a whole number from 0 to {}", MAX_PRECISION - 1)),
            },
            _ => Some(format!("is not a property of a field ({})", FIELD_KEYS.join(", "))),
        };
        if let Some(w) = wrong {
            errors.push(format!("{at}: {w}"));
        }
    }
    errors
}

/// What is wrong with a Numeric field as it would be stored (the change merged into it): at
/// most [`MAX_PRECISION`] digits, a scale within them.
fn numeric_error(i: usize, field: &Value) -> Option<String> {
    let numeric = field.get("fieldType").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("numeric"));
    if !numeric {
        return None;
    }
    let name = field.get("name").and_then(Value::as_str).unwrap_or_default();
    let precision = field.get("precision").and_then(Value::as_i64);
    if let Some(p) = precision
        && p > MAX_PRECISION
    {
        return Some(format!(
            "fields[{i}].precision: {p} is more digits than a Numeric field holds (at most {MAX_PRECISION}) in '{name}'"
        ));
    }
    match (precision, field.get("scale").and_then(Value::as_i64)) {
        (Some(p), Some(sc)) if sc > p => {
            Some(format!("fields[{i}].scale: {sc} is more than the precision {p} of '{name}'"))
        }
        _ => None,
    }
}

/// Checks the sync settings an object would have once `settings` apply to `current` (none:
/// a new object): an incremental mode needs its key and watermark among the synced fields, so
/// that a sync does not fail on it later (`swell_scheduler::check_sync_settings`).
fn check_settings(object: &str, settings: &ReplicatedPatch, current: Option<&ReplicatedRecord>) -> ApiResult<()> {
    if let Some(list) = &settings.advanced_properties {
        swell_scheduler::check_advanced_properties(list).map_err(|e| ApiError::many(ErrorCode::InvalidInput, e))?;
    }
    let mode = settings.connection_mode.or(current.map(|r| r.connection_mode)).unwrap_or_default();
    let empty = Value::Array(Vec::new());
    let advanced = settings.advanced_properties.as_ref().or(current.map(|r| &r.advanced_properties)).unwrap_or(&empty);
    let fields = settings.fields.as_ref().or(current.and_then(|r| r.fields.as_ref()));
    swell_scheduler::check_sync_settings(object, mode, advanced, fields).map_err(|m| {
        // the part of the request the problem is about: what it set that the sync reads
        let field = if settings.advanced_properties.is_some() {
            "advancedProperties"
        } else if settings.fields.is_some() && settings.connection_mode.is_none() {
            "fields"
        } else {
            "connectionMode"
        };
        ApiError::bad_request(format!("{field}: {m}"))
    })
}

impl App {
    /// A connected object by id, with its connection.
    pub async fn object(&self, id: &str) -> ApiResult<(ReplicatedRecord, ConnectorRecord)> {
        let parsed = swell_core::SalesforceId::parse(id)
            .ok()
            .filter(|i| i.has_prefix(KeyPrefix::ReplicatedDataset))
            .ok_or_else(|| ApiError::not_found(format!("replicated dataset {id}")))?;
        let r = self.store.replicated(&parsed).await?;
        let c = self.store.connector(&r.connector_id).await?;
        Ok((r, c))
    }

    pub async fn add_object(&self, actor: &Actor, new: NewObject) -> ApiResult<ReplicatedRecord> {
        self.require(actor, Action::AddObject).await?;
        let connector = new.connector.as_deref().ok_or_else(|| ApiError::bad_request("connectorId: is required"))?;
        let c = self
            .store
            .find_connector(connector)
            .await?
            .ok_or_else(|| ApiError::bad_request(format!("connectorId: no data connection '{connector}'")))?;
        let object =
            new.source_object.as_deref().ok_or_else(|| ApiError::bad_request("sourceObjectName: is required"))?;
        for (field, given) in [("name", &new.name), ("label", &new.label)] {
            if let Some(o) = given
                && o != object
            {
                return Err(ApiError::bad_request(format!(
                    "{field}: a connected object is named after its source object '{object}', not '{o}'"
                )));
            }
        }
        let mut settings = new.settings;
        let fields = self.open_source(&c)?.fields(object).await.map_err(|e| match e {
            ConnectError::NotFound(m) => ApiError::bad_request(format!("sourceObjectName: {m}")),
            other => other.into(),
        })?;
        settings.fields = Some(SourceField::list_json(&fields));
        check_settings(object, &settings, None)?;
        let r = self.store.create_replicated(&actor.id, &c.id, object, &settings).await?;
        self.did(actor, Action::AddObject, Subject::new(&r.id, object), None).await;
        Ok(r)
    }

    /// Changes a connected object's sync settings. What names it (its connection, its source
    /// object, and its name and label, which are the object's name) may be repeated, never
    /// changed: a change would otherwise be answered 200 and ignored.
    pub async fn update_object(&self, actor: &Actor, id: &str, change: NewObject) -> ApiResult<ReplicatedRecord> {
        self.require(actor, Action::UpdateObject).await?;
        let (r, c) = self.object(id).await?;
        if let Some(other) = change.connector.as_deref()
            && !(other.eq_ignore_ascii_case(&c.name) || other == c.id.as_str() || other == c.id.fifteen())
        {
            return Err(ApiError::bad_request(format!(
                "connectorId: a connected object cannot move from {} ({}) to another connection",
                c.name, c.id
            )));
        }
        for (field, given) in
            [("sourceObjectName", &change.source_object), ("name", &change.name), ("label", &change.label)]
        {
            if let Some(o) = given
                && *o != r.source_object
            {
                return Err(ApiError::bad_request(format!(
                    "{field}: is the object's name '{}' and cannot change (to '{o}')",
                    r.source_object
                )));
            }
        }
        check_settings(&r.source_object, &change.settings, Some(&r))?;
        let r = self.store.update_replicated(&actor.id, &r.id, &change.settings).await?;
        self.did(actor, Action::UpdateObject, Subject::new(&r.id, &r.source_object), None).await;
        Ok(r)
    }

    /// Removes a connected object and its synced data. A dataflow that still reads it adds it
    /// back and syncs it on its next run (sync before run).
    pub async fn remove_object(&self, actor: &Actor, id: &str) -> ApiResult<()> {
        self.require(actor, Action::RemoveObject).await?;
        let (r, _) = self.object(id).await?;
        self.runner.remove_object(&r).await.map_err(|e| match e {
            swell_scheduler::RunnerError::Store(e) => ApiError::from(e),
            data => ApiError::internal(data),
        })?;
        self.did(actor, Action::RemoveObject, Subject::new(&r.id, &r.source_object), None).await;
        Ok(())
    }

    /// The object's fields, described from the source if they never were.
    pub async fn object_fields(&self, id: &str) -> ApiResult<ReplicatedRecord> {
        let (r, c) = self.object(id).await?;
        if r.fields.is_some() {
            return Ok(r);
        }
        let fields = self.open_source(&c)?.fields(&r.source_object).await?;
        Ok(self.store.init_replicated_fields(&r.id, &SourceField::list_json(&fields)).await?)
    }

    /// Merges field changes into the object's fields: a known field takes the given keys; a
    /// new one needs its `fieldType`. Every wrong entry is its own error, named by its place.
    pub async fn change_fields(&self, actor: &Actor, id: &str, changes: &FieldChanges) -> ApiResult<ReplicatedRecord> {
        self.require(actor, Action::ChangeObjectFields).await?;
        let r = self.object_fields(id).await?;
        let mut current: Vec<Value> = r.fields.clone().and_then(|f| f.as_array().cloned()).unwrap_or_default();
        let mut errors = Vec::new();
        for (i, change) in changes.iter().enumerate() {
            let wrong = field_change_errors(i, change);
            if !wrong.is_empty() {
                errors.extend(wrong);
                continue;
            }
            let Some(name) = change.get("name").and_then(Value::as_str) else {
                errors.push(format!("fields[{i}].name: is required"));
                continue;
            };
            if changes[..i].iter().any(|c| c.get("name").and_then(Value::as_str) == Some(name)) {
                errors.push(format!("fields[{i}].name: '{name}' is given twice; change each field once"));
                continue;
            }
            match current.iter_mut().find(|f| f.get("name").and_then(Value::as_str) == Some(name)) {
                Some(existing) => {
                    let mut merged = existing.clone();
                    for (k, val) in change.as_object().into_iter().flatten() {
                        merged[k.as_str()] = val.clone();
                    }
                    if let Some(e) = numeric_error(i, &merged) {
                        errors.push(e);
                        continue;
                    }
                    match SourceField::from_json(&merged) {
                        Ok((f, skipped)) => {
                            let mut out = f.to_json(skipped);
                            if let Some(st) = existing.get("sourceType") {
                                out["sourceType"] = st.clone();
                            }
                            *existing = out;
                        }
                        Err(e) => errors.push(format!("fields[{i}]: {e}")),
                    }
                }
                None => {
                    // a field the object does not have yet: its name is read from the source
                    // and stored, so it is a real name (not blank, no control characters)
                    if let Err(e) = crate::text::check_text("name", name) {
                        errors.push(format!("fields[{i}].{}", e.message));
                        continue;
                    }
                    if let Some(e) = numeric_error(i, change) {
                        errors.push(e);
                        continue;
                    }
                    if change.get("fieldType").is_none() {
                        errors.push(format!(
                            "fields[{i}].fieldType: is required for '{name}', a field the object does not have yet"
                        ));
                        continue;
                    }
                    match SourceField::from_json(change) {
                        Ok((f, skipped)) => current.push(f.to_json(skipped)),
                        Err(e) => errors.push(format!("fields[{i}]: {e}")),
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::many(ErrorCode::InvalidInput, errors));
        }
        let patch = ReplicatedPatch { fields: Some(Value::Array(current)), ..ReplicatedPatch::default() };
        check_settings(&r.source_object, &patch, Some(&r))?;
        let r = self.store.update_replicated(&actor.id, &r.id, &patch).await?;
        self.did(actor, Action::ChangeObjectFields, Subject::new(&r.id, &r.source_object), None).await;
        Ok(r)
    }
}
