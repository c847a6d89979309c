//! Salesforce orgs through the REST API (`SfdcLocal`, `SalesforceExternal`, ...).
//!
//! - Objects: `GET /sobjects`, keeping the queryable and replicateable ones.
//! - Fields: `GET /sobjects/{name}/describe`. id, reference, string, picklist, multipicklist,
//!   textarea, phone, url, email, combobox and time become text; boolean becomes text
//!   `"true"`/`"false"`; int, double, currency and percent become numerics with the
//!   describe's precision and scale (capped at 18); date and datetime become dates. Compound
//!   fields (address, location) and base64 are not synced, as in CRM Analytics.
//! - Rows: SOQL through `GET /query` (or `/queryAll` when deleted rows are wanted), following
//!   `nextRecordsUrl` page by page. Incremental reads filter on `SystemModstamp`; deleted rows
//!   come back from `queryAll` with `IsDeleted = true`.
//! - Auth: an access token, and optionally an OAuth refresh token with the connected app's
//!   client id (and secret): on a 401 the token is refreshed once at `loginUrl` and the
//!   request repeated.

use crate::source::{
    BatchStream, Read, Source, SourceField, SourceObject, channel_stream, finish_batch, numeric, read_tail,
};
use crate::{ConnectError, Properties, Result};
use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, Int64Builder, StringBuilder};
use serde_json::Value;
use std::sync::Arc;
use swell_engine::schema::FieldType;
use tokio::sync::Mutex;

pub const DEFAULT_API_VERSION: &str = "62.0";

pub struct SalesforceSource {
    inner: Arc<Client>,
}

struct Client {
    http: reqwest::Client,
    instance_url: String,
    api_version: String,
    token: Mutex<Option<String>>,
    refresh: Option<Refresh>,
}

struct Refresh {
    login_url: String,
    refresh_token: String,
    client_id: String,
    client_secret: Option<String>,
}

impl SalesforceSource {
    pub fn from_properties(p: &Properties) -> Result<Self> {
        let instance_url = p
            .get("instanceUrl")
            .ok_or_else(|| {
                ConnectError::Config(
                    "the Salesforce connection needs 'instanceUrl' with 'accessToken' (or 'refreshToken' and \
                     'clientId'), or 'FolderPath' for an offline folder of object files"
                        .to_string(),
                )
            })?
            .trim_end_matches('/')
            .to_string();
        url::Url::parse(&instance_url)
            .map_err(|e| ConnectError::Config(format!("instanceUrl '{instance_url}' is not a URL: {e}")))?;
        let refresh = match (p.get("refreshToken"), p.get("clientId")) {
            (Some(token), Some(client)) => Some(Refresh {
                login_url: p
                    .get("loginUrl")
                    .unwrap_or("https://login.salesforce.com")
                    .trim_end_matches('/')
                    .to_string(),
                refresh_token: token.to_string(),
                client_id: client.to_string(),
                client_secret: p.get("clientSecret").map(str::to_string),
            }),
            (Some(_), None) => {
                return Err(ConnectError::Config("a refreshToken needs the connected app's clientId".to_string()));
            }
            _ => None,
        };
        let token = p.get("accessToken").map(str::to_string);
        if token.is_none() && refresh.is_none() {
            return Err(ConnectError::Config(
                "the Salesforce connection needs 'accessToken' or 'refreshToken' with 'clientId'".to_string(),
            ));
        }
        let api_version = p.get("apiVersion").unwrap_or(DEFAULT_API_VERSION).trim_start_matches('v').to_string();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(120))
            .build()
            .map_err(|e| ConnectError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(SalesforceSource {
            inner: Arc::new(Client { http, instance_url, api_version, token: Mutex::new(token), refresh }),
        })
    }
}

impl Client {
    fn data_url(&self, rest: &str) -> String {
        format!("{}/services/data/v{}{rest}", self.instance_url, self.api_version)
    }

    async fn refresh_token(&self) -> Result<String> {
        let r = self.refresh.as_ref().ok_or_else(|| {
            ConnectError::Source("Salesforce: the access token was refused (INVALID_SESSION_ID)".to_string())
        })?;
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", r.refresh_token.as_str()),
            ("client_id", r.client_id.as_str()),
        ];
        if let Some(s) = &r.client_secret {
            form.push(("client_secret", s.as_str()));
        }
        let response =
            self.http.post(format!("{}/services/oauth2/token", r.login_url)).form(&form).send().await.map_err(|e| {
                ConnectError::Source(format!("Salesforce: cannot refresh the token: {}", without_url(&e)))
            })?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        match body.get("access_token").and_then(Value::as_str) {
            Some(t) if status.is_success() => Ok(t.to_string()),
            _ => Err(ConnectError::Source(format!(
                "Salesforce: the refresh token was refused: {}",
                body.get("error_description").and_then(Value::as_str).unwrap_or(status.as_str())
            ))),
        }
    }

    /// GETs a URL (absolute or instance-relative) as JSON, refreshing the token once on a 401.
    async fn get(&self, url: &str) -> Result<Value> {
        let url = if url.starts_with("http") { url.to_string() } else { format!("{}{url}", self.instance_url) };
        for attempt in 0..2 {
            // bound first: a guard in the match scrutinee would live through the arms
            let current = self.token.lock().await.clone();
            let token = match current {
                Some(t) => t,
                None => {
                    let t = self.refresh_token().await?;
                    *self.token.lock().await = Some(t.clone());
                    t
                }
            };
            let response =
                self.http.get(&url).bearer_auth(&token).send().await.map_err(|e| {
                    ConnectError::Source(format!("Salesforce: cannot reach the org: {}", without_url(&e)))
                })?;
            let status = response.status();
            if status == reqwest::StatusCode::UNAUTHORIZED && attempt == 0 && self.refresh.is_some() {
                *self.token.lock().await = None;
                continue;
            }
            let body: Value = response.json().await.unwrap_or(Value::Null);
            if status.is_success() {
                return Ok(body);
            }
            let (code, message) = match body.get(0) {
                Some(e) => (
                    e.get("errorCode").and_then(Value::as_str).unwrap_or("ERROR").to_string(),
                    e.get("message").and_then(Value::as_str).unwrap_or("").to_string(),
                ),
                None => (status.as_u16().to_string(), status.canonical_reason().unwrap_or("").to_string()),
            };
            let text = format!("Salesforce: {code}: {message}");
            return Err(if status == reqwest::StatusCode::NOT_FOUND {
                ConnectError::NotFound(text)
            } else {
                ConnectError::Source(text)
            });
        }
        Err(ConnectError::Source("Salesforce: the access token was refused (INVALID_SESSION_ID)".to_string()))
    }
}

/// A reqwest error without the URL (which may carry a query with values).
fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(u) = e.url() {
        s = s.replace(u.as_str(), "the org");
    }
    s
}

fn field_of(v: &Value) -> Option<SourceField> {
    let name = v.get("name")?.as_str()?;
    let kind = v.get("type").and_then(Value::as_str).unwrap_or("string");
    let int = |k: &str| v.get(k).and_then(Value::as_i64);
    let (ty, date_only) = match kind {
        "address" | "location" | "base64" | "complexvalue" | "anyType" => return None,
        "int" | "long" => (FieldType::numeric(18, 0), false),
        "double" | "currency" | "percent" => (numeric(int("precision"), int("scale")), false),
        "date" => (FieldType::plain_date(), true),
        "datetime" => (FieldType::plain_date(), false),
        _ => (FieldType::Text, false),
    };
    let mut f = SourceField::new(name, ty, kind);
    f.label = v.get("label").and_then(Value::as_str).unwrap_or(name).to_string();
    f.date_only = date_only;
    f.primary_key = name == "Id";
    Some(f)
}

/// Epoch milliseconds of a Salesforce date (`2024-05-01`) or date-time
/// (`2024-05-01T10:00:00.000+0000`).
fn millis(s: &str) -> Option<i64> {
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis());
    }
    chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(s))
        .ok()
        .map(|d| d.timestamp_millis())
}

/// Query-string encoding of a SOQL statement.
fn encode(q: &str) -> String {
    url::form_urlencoded::byte_serialize(q.as_bytes()).collect()
}

#[async_trait]
impl Source for SalesforceSource {
    async fn test(&self) -> Result<String> {
        self.inner.get(&self.inner.data_url("/sobjects")).await?;
        Ok("Connection Successful".to_string())
    }

    async fn objects(&self) -> Result<Vec<SourceObject>> {
        let body = self.inner.get(&self.inner.data_url("/sobjects")).await?;
        let mut out: Vec<SourceObject> = body
            .get("sobjects")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|o| o.get("queryable").and_then(Value::as_bool).unwrap_or(true))
            .filter(|o| o.get("replicateable").and_then(Value::as_bool).unwrap_or(true))
            .filter_map(|o| {
                let name = o.get("name")?.as_str()?.to_string();
                let label = o.get("label").and_then(Value::as_str).unwrap_or(&name).to_string();
                Some(SourceObject { name, label })
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn fields(&self, object: &str) -> Result<Vec<SourceField>> {
        let url = self.inner.data_url(&format!("/sobjects/{}/describe", encode(object)));
        let body = self.inner.get(&url).await.map_err(|e| match e {
            ConnectError::NotFound(_) => ConnectError::NotFound(format!("Salesforce: no object '{object}' in the org")),
            other => other,
        })?;
        Ok(body.get("fields").and_then(Value::as_array).into_iter().flatten().filter_map(field_of).collect())
    }

    async fn read(&self, read: &Read) -> Result<BatchStream> {
        let names: Vec<&str> = read.fields.iter().map(|f| f.name.as_str()).collect();
        let mut soql = format!("SELECT {} FROM {}", names.join(", "), read.object);
        soql.push_str(&read_tail(read, |field, since| {
            format!("{field} >= {}", since.format("%Y-%m-%dT%H:%M:%S%.3fZ"))
        }));
        let resource = if read.include_deleted { "/queryAll" } else { "/query" };
        let first = self.inner.data_url(&format!("{resource}?q={}", encode(&soql)));
        let client = self.inner.clone();
        let fields = read.fields.clone();
        let object = read.object.clone();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            let mut next = Some(first);
            while let Some(url) = next.take() {
                let page = match client.get(&url).await {
                    Ok(p) => p,
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                };
                let records = page.get("records").and_then(Value::as_array).cloned().unwrap_or_default();
                if !records.is_empty() && tx.send(page_batch(&records, &fields, &object)).await.is_err() {
                    return;
                }
                if page.get("done").and_then(Value::as_bool) == Some(false) {
                    next = page.get("nextRecordsUrl").and_then(Value::as_str).map(str::to_string);
                }
            }
        });
        Ok(channel_stream(rx))
    }

    fn reports_deletes(&self) -> bool {
        true
    }
}

/// One page of records as a batch.
fn page_batch(
    records: &[Value],
    fields: &[SourceField],
    object: &str,
) -> Result<datafusion::arrow::array::RecordBatch> {
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(fields.len());
    for f in fields {
        let values = records.iter().map(|r| r.get(&f.name).filter(|v| !v.is_null()));
        if f.ty.is_date() {
            let mut b = Int64Builder::with_capacity(records.len());
            for v in values {
                match v {
                    None => b.append_null(),
                    Some(v) => {
                        let s = v.as_str().unwrap_or_default();
                        let ms = millis(s).ok_or_else(|| {
                            ConnectError::Source(format!("{object}.{}: '{s}' is not a Salesforce date", f.name))
                        })?;
                        b.append_value(ms);
                    }
                }
            }
            columns.push(Arc::new(b.finish()));
        } else {
            let mut b = StringBuilder::with_capacity(records.len(), records.len() * 16);
            for v in values {
                match v {
                    None => b.append_null(),
                    Some(Value::String(s)) => b.append_value(s),
                    Some(other) => b.append_value(other.to_string()),
                }
            }
            columns.push(Arc::new(b.finish()));
        }
    }
    finish_batch(columns, fields, object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_salesforce_dates() {
        assert_eq!(millis("1970-01-02"), Some(86_400_000));
        assert_eq!(millis("1970-01-01T00:00:01.500+0000"), Some(1500));
        assert_eq!(millis("1970-01-01T01:00:00.000+0100"), Some(0));
        assert_eq!(millis("soon"), None);
    }

    #[test]
    fn maps_describe_types() {
        let f =
            field_of(&serde_json::json!({"name": "Amount", "type": "currency", "precision": 16, "scale": 2})).unwrap();
        assert_eq!(f.ty, FieldType::numeric(16, 2));
        let f = field_of(&serde_json::json!({"name": "CloseDate", "type": "date"})).unwrap();
        assert!(f.ty.is_date() && f.date_only);
        assert!(field_of(&serde_json::json!({"name": "BillingAddress", "type": "address"})).is_none());
    }
}
