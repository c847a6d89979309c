//! Adding and changing a data connection: a form of the type's own properties (from
//! `swell_connect`'s list, so that a new type needs no page of its own).
//!
//! Secrets are never shown: a stored secret's field holds the mask, and sending the mask back
//! keeps the stored value (`swell_app::update_connection`). A refused form comes back with
//! what was typed and every problem, except typed secrets, which are asked for again rather
//! than written into the page.

use crate::input::{Fields, Params};
use crate::pages::{self, Chrome};
use crate::session::Viewer;
use crate::{BASE, Web};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use swell_app::ConnectorType;
use swell_app::{Action, ApiError, ConnectionChange, MASK, NewConnection, type_of};
use swell_store::ConnectorRecord;

/// The prefix of a property's form field (`p.host`).
const PROPERTY: &str = "p.";

/// A property's field in the form.
pub struct PropertyField {
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
    pub placeholder: &'static str,
    pub secret: bool,
    pub required: bool,
    /// A secret that is stored: its field holds the mask.
    pub stored: bool,
}

#[derive(Template)]
#[template(path = "connection_form.html")]
struct FormPage {
    chrome: Chrome,
    base: &'static str,
    /// The connection being changed; `None` when adding one.
    editing: Option<(String, String)>,
    /// The types to choose from (adding, before one is chosen): `(name, label)`.
    types: Vec<(&'static str, &'static str)>,
    /// The chosen type: `(name, label)`.
    kind: Option<(&'static str, &'static str)>,
    name: String,
    label: String,
    description: String,
    properties: Vec<PropertyField>,
    problems: Vec<String>,
}

impl FormPage {
    fn new(viewer: &Viewer, title: &str, editing: Option<&ConnectorRecord>) -> FormPage {
        FormPage {
            chrome: Chrome::new(viewer, "connections", title),
            base: BASE,
            editing: editing.map(|c| (c.id.to_string(), c.label.clone())),
            types: Vec::new(),
            kind: None,
            name: editing.map(|c| c.name.clone()).unwrap_or_default(),
            label: editing.map(|c| c.label.clone()).unwrap_or_default(),
            description: editing.and_then(|c| c.description.clone()).unwrap_or_default(),
            properties: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// The type's fields, with the values `value` gives (by property name).
    fn with_type(
        mut self,
        ty: ConnectorType,
        value: impl Fn(&str) -> Option<String>,
        stored: &[(String, String)],
    ) -> Self {
        self.kind = Some((ty.name(), ty.label()));
        self.properties = ty
            .properties()
            .iter()
            .map(|p| {
                let stored = p.encrypted && stored.iter().any(|(n, v)| n == p.name && !v.is_empty());
                PropertyField {
                    name: p.name,
                    label: p.label,
                    value: value(p.name).unwrap_or_default(),
                    placeholder: p.default_value.unwrap_or_default(),
                    secret: p.encrypted,
                    required: p.required,
                    stored,
                }
            })
            .collect();
        self
    }

    fn answer(self, status: StatusCode) -> Response {
        let mut res = pages::render(&self);
        if res.status() == StatusCode::OK {
            *res.status_mut() = status;
        }
        res
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewQuery {
    /// The chosen type's name.
    #[serde(default, rename = "type")]
    pub kind: String,
}

/// The form of a new connection: first its type, then that type's properties.
pub async fn new(viewer: Viewer, Params(query): Params<NewQuery>) -> Response {
    if let Err(e) = viewer.actor.may(Action::CreateConnection) {
        return pages::error(&e);
    }
    let page = FormPage::new(&viewer, "Add a connection", None);
    if query.kind.trim().is_empty() {
        let types = ConnectorType::all().iter().map(|t| (t.name(), t.label())).collect();
        return FormPage { types, ..page }.answer(StatusCode::OK);
    }
    match ConnectorType::parse(query.kind.trim()) {
        Ok(ty) => page.with_type(ty, |_| None, &[]).answer(StatusCode::OK),
        Err(e) => pages::problem(StatusCode::BAD_REQUEST, &format!("type: {e}")),
    }
}

/// The form of a connection as stored (secrets masked).
pub async fn edit(State(web): State<Web>, viewer: Viewer, Path(id): Path<String>) -> Response {
    if let Err(e) = viewer.actor.may(Action::UpdateConnection) {
        return pages::error(&e);
    }
    let c = match web.app().connection(&id).await {
        Ok(c) => c,
        Err(e) => return pages::error(&e),
    };
    let ty = match type_of(&c) {
        Ok(t) => t,
        Err(e) => return pages::error(&e),
    };
    let value = |name: &str| {
        c.properties
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| if ty.is_secret(name) && !v.is_empty() { MASK.to_string() } else { v.clone() })
    };
    FormPage::new(&viewer, &format!("Edit {}", c.label), Some(&c))
        .with_type(ty, value, &c.properties)
        .answer(StatusCode::OK)
}

#[derive(Deserialize)]
pub struct ConnectionFields {
    #[serde(default)]
    csrf: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    description: String,
}

/// The properties the form sent, each once, in the type's order.
fn sent_properties(pairs: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in pairs {
        if let Some(name) = k.strip_prefix(PROPERTY)
            && !out.iter().any(|(n, _)| n == name)
        {
            out.push((name.to_string(), v.trim().to_string()));
        }
    }
    out
}

/// What a refused form writes back of a field: at most `max` characters (the most it may
/// hold; the problem says so).
fn cut(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => text[..at].to_string(),
        None => text,
    }
}

/// Every problem of a refused change.
fn problems_of(e: ApiError) -> Vec<String> {
    std::iter::once(e.message).chain(e.more).collect()
}

/// Adds the connection, or answers the form again with its problems.
pub async fn create(
    State(web): State<Web>,
    viewer: Viewer,
    headers: HeaderMap,
    Fields { value: form, pairs }: Fields<ConnectionFields>,
) -> Response {
    if let Some(refused) = viewer.refuse(&form.csrf) {
        return refused;
    }
    if let Err(e) = web.app().require(&viewer.actor, Action::CreateConnection).await {
        return pages::refused(&headers, &e);
    }
    let sent = sent_properties(&pairs);
    let ty = match ConnectorType::parse(form.kind.trim()) {
        Ok(t) => t,
        Err(e) => return pages::problem(StatusCode::BAD_REQUEST, &format!("type: {e}")),
    };
    let given = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let new = NewConnection {
        connector_type: Some(ty.name().to_string()),
        name: given(&form.name),
        label: given(&form.label),
        description: given(&form.description),
        // an empty field is a property not given (its default applies)
        properties: sent.iter().filter(|(_, v)| !v.is_empty()).cloned().collect(),
    };
    match web.app().create_connection(&viewer.actor, new).await {
        Ok(c) => {
            pages::changed(&headers, &format!("Connection {} added.", c.label), &format!("{BASE}/connections/{}", c.id))
        }
        Err(e) if e.status() == StatusCode::BAD_REQUEST || e.status() == StatusCode::CONFLICT => {
            let status = e.status();
            let mut page = FormPage::new(&viewer, "Add a connection", None);
            (page.name, page.label, page.description) =
                (cut(form.name, 80), cut(form.label, 255), cut(form.description, 1000));
            page.problems = problems_of(e);
            let value = |name: &str| {
                sent.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).filter(|_| !ty.is_secret(name))
            };
            let mut page = page.with_type(ty, value, &[]);
            if sent.iter().any(|(n, v)| ty.is_secret(n) && !v.is_empty()) {
                page.problems.push("Secrets are not kept in a refused form: type them again.".to_string());
            }
            page.answer(status)
        }
        Err(e) => pages::refused(&headers, &e),
    }
}

/// Saves changes: secrets left as the mask keep their stored value; a property emptied is
/// cleared.
pub async fn update(
    State(web): State<Web>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Fields { value: form, pairs }: Fields<ConnectionFields>,
) -> Response {
    if let Some(refused) = viewer.refuse(&form.csrf) {
        return refused;
    }
    if let Err(e) = web.app().require(&viewer.actor, Action::UpdateConnection).await {
        return pages::refused(&headers, &e);
    }
    let c = match web.app().connection(&id).await {
        Ok(c) => c,
        Err(e) => return pages::error(&e),
    };
    let ty = match type_of(&c) {
        Ok(t) => t,
        Err(e) => return pages::error(&e),
    };
    let sent = sent_properties(&pairs);
    // a property neither stored nor filled in is not sent (its default applies)
    let properties: Vec<(String, String)> =
        sent.iter().filter(|(n, v)| !v.is_empty() || c.properties.iter().any(|(m, _)| m == n)).cloned().collect();
    let change = ConnectionChange {
        label: Some(form.label.trim().to_string()).filter(|l| !l.is_empty()),
        // a form without the field keeps the description; an emptied field clears it
        description: pairs
            .iter()
            .any(|(k, _)| k == "description")
            .then(|| Some(form.description.trim().to_string()).filter(|d| !d.is_empty())),
        properties: Some(properties),
        ..ConnectionChange::default()
    };
    match web.app().update_connection(&viewer.actor, &id, change).await {
        Ok(c) => {
            pages::changed(&headers, &format!("Connection {} saved.", c.label), &format!("{BASE}/connections/{}", c.id))
        }
        Err(e) if e.status() == StatusCode::BAD_REQUEST => {
            let mut page = FormPage::new(&viewer, &format!("Edit {}", c.label), Some(&c));
            (page.label, page.description) = (cut(form.label, 255), cut(form.description, 1000));
            page.problems = problems_of(e);
            // secrets read as stored (the mask, or empty): a typed one is never written back
            let value = |name: &str| {
                if ty.is_secret(name) {
                    c.properties.iter().any(|(n, s)| n == name && !s.is_empty()).then(|| MASK.to_string())
                } else {
                    // as typed; one the form left out as stored (sending it back changes nothing)
                    sent.iter().chain(c.properties.iter()).find(|(n, _)| n == name).map(|(_, v)| cut(v.clone(), 2000))
                }
            };
            if sent.iter().any(|(n, v)| ty.is_secret(n) && !v.is_empty() && v != MASK) {
                page.problems.push(
                    "The secrets you typed were not kept (a refused form never holds them): type them again."
                        .to_string(),
                );
            }
            page.with_type(ty, value, &c.properties).answer(StatusCode::BAD_REQUEST)
        }
        Err(e) => pages::refused(&headers, &e),
    }
}
