//! Data connections (0It): create, change, delete, and open their source.
//!
//! Secrets (properties the type marks encrypted, and any whose name says password, secret,
//! token or key) are sealed before they are stored and never shown: they read [`MASK`], and a
//! change that sends the mask back keeps the stored value. Property names must be the type's
//! (any case), so that a misspelt property is not silently ignored. A connection used by
//! connected objects or by definitions cannot be deleted (`275`).

use crate::{Action, Subject};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::text::{check_texts, name_and_label, unchanged_name};
use crate::{Actor, App};
use swell_connect::{ConnectorType, Properties, Source};
use swell_store::{ConnectorRecord, StoreError};

/// What a secret reads as.
pub const MASK: &str = "******";

/// A new connection as a front door read it.
#[derive(Debug, Clone, Default)]
pub struct NewConnection {
    /// A connector type's name (`SfdcLocal`, `PostgreSql`, ...), any case.
    pub connector_type: Option<String>,
    pub name: Option<String>,
    pub label: Option<String>,
    pub description: Option<String>,
    /// `(name, value)` in the order given.
    pub properties: Vec<(String, String)>,
}

/// A change of a connection; what is `None` is kept.
#[derive(Debug, Clone, Default)]
pub struct ConnectionChange {
    /// May repeat the type, never change it.
    pub connector_type: Option<String>,
    /// May repeat the API name, never change it.
    pub name: Option<String>,
    pub label: Option<String>,
    /// `Some(None)` clears it.
    pub description: Option<Option<String>>,
    /// Merged into the stored properties: a secret sent as [`MASK`] keeps its stored value,
    /// properties not sent are kept.
    pub properties: Option<Vec<(String, String)>>,
}

fn parse_type(name: &str) -> ApiResult<ConnectorType> {
    ConnectorType::parse(name).map_err(|e| ApiError::bad_request(format!("connectorType: {e}")))
}

/// The type of a stored connection.
pub fn type_of(c: &ConnectorRecord) -> ApiResult<ConnectorType> {
    ConnectorType::parse(&c.connector_type).map_err(ApiError::bad_request)
}

/// The properties with each name in the type's spelling; every unknown name is its own
/// error, named by its place in the list (`connectionProperties[2].name`). A name given twice
/// (in any case) is refused: which value was meant cannot be told, as with the fields and the
/// advanced properties of connected objects.
fn known_properties(ty: ConnectorType, given: Vec<(String, String)>) -> ApiResult<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut seen: Vec<(&str, usize)> = Vec::new();
    let mut errors = Vec::new();
    for (i, (name, value)) in given.into_iter().enumerate() {
        let Some(spec) = ty.properties().iter().find(|s| s.name.eq_ignore_ascii_case(&name)) else {
            let known: Vec<&str> = ty.properties().iter().map(|s| s.name).collect();
            errors.push(format!(
                "connectionProperties[{i}].name: '{name}' is not a property of {} (properties: {})",
                ty.name(),
                known.join(", ")
            ));
            continue;
        };
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == spec.name) {
            errors.push(format!(
                "connectionProperties[{i}].name: '{name}' is given twice (first at connectionProperties[{first}])"
            ));
            continue;
        }
        seen.push((spec.name, i));
        out.push((spec.name.to_string(), value));
    }
    if !errors.is_empty() {
        return Err(ApiError::many(ErrorCode::InvalidInput, errors));
    }
    Ok(out)
}

impl App {
    /// A connection by id or API name; one that does not exist is `269`, as orgs answer.
    pub async fn connection(&self, id_or_name: &str) -> ApiResult<ConnectorRecord> {
        self.store.find_connector(id_or_name).await?.ok_or_else(|| ApiError::connector_not_found(id_or_name))
    }

    /// Opens a connection's source with its secrets.
    pub fn open_source(&self, c: &ConnectorRecord) -> ApiResult<Box<dyn Source>> {
        Ok(swell_scheduler::open_source(c, self.vault()?, self.runner.folders())?)
    }

    fn vault(&self) -> ApiResult<&swell_connect::Vault> {
        self.runner.vault().map_err(ApiError::internal)
    }

    /// Checks that the properties make a usable source (without contacting it), and gives
    /// them as they are kept: a local `FolderPath` as the absolute folder it names.
    fn check_properties(
        &self,
        ty: ConnectorType,
        mut properties: Vec<(String, String)>,
    ) -> ApiResult<Vec<(String, String)>> {
        let source = swell_connect::connect(ty, &Properties::new(properties.iter().cloned()), self.runner.folders())
            .map_err(|e| ApiError::bad_request(format!("connectionProperties: {e}")))?;
        if let Some(folder) = source.local_folder() {
            for (n, v) in &mut properties {
                if n == "FolderPath" {
                    *v = folder.display().to_string();
                }
            }
        }
        Ok(properties)
    }

    /// The properties as stored: secrets sealed.
    fn sealed(&self, ty: ConnectorType, properties: Vec<(String, String)>) -> ApiResult<Vec<(String, String)>> {
        let vault = self.vault()?;
        // an empty secret is no secret: kept empty, so that it reads empty, not as the mask
        Ok(properties
            .into_iter()
            .map(|(n, v)| if ty.is_secret(&n) && !v.is_empty() { (n, vault.seal(&v)) } else { (n, v) })
            .collect())
    }

    pub async fn create_connection(&self, actor: &Actor, new: NewConnection) -> ApiResult<ConnectorRecord> {
        self.require(actor, Action::CreateConnection).await?;
        let ty = new.connector_type.as_deref().ok_or_else(|| ApiError::bad_request("connectorType: is required"))?;
        let ty = parse_type(ty)?;
        let (name, label) = name_and_label(new.name.as_deref(), new.label.as_deref())?;
        check_texts(&[("description", new.description.as_deref())])?;
        let properties = known_properties(ty, new.properties)?;
        if let Some((n, _)) = properties.iter().find(|(n, v)| v == MASK && ty.is_secret(n)) {
            return Err(ApiError::bad_request(format!(
                "connectionProperties: {n} is '{MASK}', the mask of a stored secret, and a new connection has none; send the secret itself"
            )));
        }
        let properties = self.check_properties(ty, properties)?;
        let properties = self.sealed(ty, properties)?;
        let c = self
            .store
            .create_connector(&actor.id, &name, &label, new.description.as_deref(), ty.name(), &properties)
            .await?;
        self.did(actor, Action::CreateConnection, Subject::new(&c.id, &c.name), None).await;
        Ok(c)
    }

    pub async fn update_connection(
        &self,
        actor: &Actor,
        id_or_name: &str,
        change: ConnectionChange,
    ) -> ApiResult<ConnectorRecord> {
        self.require(actor, Action::UpdateConnection).await?;
        let c = self.connection(id_or_name).await?;
        let ty = type_of(&c)?;
        if let Some(t) = change.connector_type.as_deref()
            && parse_type(t)? != ty
        {
            return Err(ApiError::bad_request(format!("connectorType: cannot change from {} to {t}", ty.name())));
        }
        unchanged_name(change.name.as_deref(), &c.name)?;
        check_texts(&[
            ("label", change.label.as_deref()),
            ("description", change.description.clone().flatten().as_deref()),
        ])?;
        let properties = match change.properties {
            Some(new) => {
                let mut merged = c.properties.clone();
                for (n, value) in known_properties(ty, new)? {
                    if value == MASK && ty.is_secret(&n) {
                        if !merged.iter().any(|(m, v)| m == &n && !v.is_empty()) {
                            return Err(ApiError::bad_request(format!(
                                "connectionProperties: {n} is '{MASK}', the mask of a stored secret, but the connection has no {n}; send the secret itself"
                            )));
                        }
                        continue;
                    }
                    merged.retain(|(m, _)| m != &n);
                    merged.push((n, value));
                }
                let merged = self.check_properties(ty, merged)?;
                Some(self.sealed(ty, merged)?)
            }
            None => None,
        };
        let description = change.description.as_ref().map(Option::as_deref);
        let updated = self
            .store
            .update_connector(&actor.id, &c.id, change.label.as_deref(), description, properties.as_deref())
            .await?;
        self.did(actor, Action::UpdateConnection, Subject::new(&c.id, &c.name), None).await;
        Ok(updated)
    }

    /// The dataflows and recipes whose definitions read from a connection.
    async fn users_of(&self, connection: &str) -> ApiResult<Vec<String>> {
        let mut out = Vec::new();
        let mut all = self.store.list_dataflows(None).await?;
        all.extend(self.store.list_recipes(None).await?.into_iter().map(|r| r.dataflow));
        for d in all {
            if let Ok(flow) = swell_engine::Dataflow::from_value(d.definition)
                && flow.sources().iter().any(|s| {
                    matches!(s, swell_engine::SourceRef::Object { connection: c, .. } if c.eq_ignore_ascii_case(connection))
                })
            {
                out.push(d.name);
            }
        }
        Ok(out)
    }

    /// Deletes a connection that nothing uses: no connected objects, no definition reading it.
    pub async fn delete_connection(&self, actor: &Actor, id_or_name: &str) -> ApiResult<()> {
        self.require(actor, Action::DeleteConnection).await?;
        let c = self.connection(id_or_name).await?;
        let users = self.users_of(&c.name).await?;
        if !users.is_empty() {
            return Err(ApiError::new(
                ErrorCode::ConnectorInUse,
                format!(
                    "You can't delete the '{}' connection because it is used by these objects: {}. Change them first.",
                    c.name,
                    users.join(", ")
                ),
            ));
        }
        // the store refuses while connected objects remain: the same condition, the same code
        self.store.delete_connector(&c.id).await.map_err(|e| match e {
            StoreError::Conflict(m) => ApiError::new(ErrorCode::ConnectorInUse, m),
            other => other.into(),
        })?;
        // what its objects left on disk goes too, off the async threads; the connection is gone
        // whatever happens to its folder
        let (data_dir, name) = (self.data_dir.clone(), c.name.clone());
        match tokio::task::spawn_blocking(move || data_dir.remove_connection(&name)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(connection = %c.name, error = %e, "could not remove a deleted connection's folder")
            }
            Err(e) => {
                tracing::warn!(connection = %c.name, error = %e, "could not remove a deleted connection's folder")
            }
        }
        self.scheduler.wake();
        self.did(actor, Action::DeleteConnection, Subject::new(&c.id, &c.name), None).await;
        Ok(())
    }
}
