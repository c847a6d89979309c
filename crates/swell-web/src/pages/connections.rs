//! Connections: every data connection with its type, objects, schedule and latest sync; Run
//! Now. A connection's page: what it connects to (secrets masked), its objects with their
//! mode (changed in place), the status of their last sync, the rows and time of the latest
//! sync job, Full sync of one object; an object's fields and first rows. Adding and changing
//! a connection is `connection_form.rs`.
//!
//! A sync in which no object had anything new says "No changes" (`format::sync_status`), not
//! a bare Success.

use crate::format::{self, Status, Time};
use crate::input::Fields;
use crate::pages::schedule::{self, ScheduleForm};
use crate::pages::{self, Chrome};
use crate::session::{CsrfForm, Viewer};
use crate::{BASE, Web};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use swell_app::{Action, ApiError, MASK, NewObject, type_of};
use swell_core::{ConnectionMode, SyncStatus};
use swell_store::{ConnectionSummary, ConnectorRecord, NodeRecord, ReplicatedPatch, ReplicatedRecord};

/// A connection as a row of the list.
pub struct ConnectionRow {
    pub id: String,
    pub label: String,
    pub name: String,
    pub kind: String,
    pub objects: i64,
    pub schedule: String,
    pub next_run: Option<Time>,
    /// The latest sync: its job, status and when it was queued.
    pub last_sync: Option<(String, Status, Time)>,
    /// A sync is queued or running: Run Now would be refused.
    pub active: bool,
}

impl ConnectionRow {
    fn of(c: &ConnectionSummary) -> ConnectionRow {
        let (schedule, next_run) = schedule_words(c.schedule.as_ref().map(|(s, n)| (s, *n)));
        ConnectionRow {
            id: c.connector.id.to_string(),
            label: c.connector.label.clone(),
            name: c.connector.name.clone(),
            kind: kind_of(&c.connector),
            objects: c.objects,
            schedule,
            next_run,
            last_sync: c
                .last_sync
                .as_ref()
                .map(|j| (j.id.to_string(), format::sync_status(j.status, j.unchanged), Time(j.created_date))),
            active: c.last_sync.as_ref().is_some_and(|j| !j.status.is_finished()),
        }
    }
}

fn schedule_words(
    schedule: Option<(&swell_core::Schedule, Option<chrono::DateTime<chrono::Utc>>)>,
) -> (String, Option<Time>) {
    match schedule {
        // a sync is never event-driven: no other asset's name is needed
        Some((s, next)) => (s.words(|_| None), next.map(Time)),
        None => ("Not scheduled".to_string(), None),
    }
}

/// The type as people know it (`PostgreSQL (PostgreSql)`).
fn kind_of(c: &ConnectorRecord) -> String {
    match type_of(c) {
        Ok(t) if t.label() != t.name() => format!("{} ({})", t.label(), t.name()),
        _ => c.connector_type.clone(),
    }
}

#[derive(Template)]
#[template(path = "connections.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<ConnectionRow>,
    can_run: bool,
    can_create: bool,
}

pub async fn list(State(web): State<Web>, viewer: Viewer) -> Response {
    let found = match web.app().store.connection_summaries().await {
        Ok(found) => found,
        Err(e) => return pages::error(&e.into()),
    };
    let page = ListPage {
        chrome: Chrome::new(&viewer, "connections", "Connections"),
        rows: found.iter().map(ConnectionRow::of).collect(),
        can_run: viewer.actor.may(Action::RunConnection).is_ok(),
        can_create: viewer.actor.may(Action::CreateConnection).is_ok(),
    };
    pages::render(&page)
}

/// A connected object as a row of its connection's page.
pub struct ObjectRow {
    pub id: String,
    pub object: String,
    pub mode: ConnectionMode,
    pub mode_words: &'static str,
    /// Of its last sync (No changes when the latest sync job found nothing new in it).
    pub status: Status,
    /// A full sync is asked for its next sync.
    pub full_next: bool,
    /// Its settings changed since it last synced.
    pub changed: bool,
    pub last_synced: Option<Time>,
    /// In the latest sync job: rows written and how long it took.
    pub rows: String,
    pub took: String,
}

impl ObjectRow {
    fn of(r: &ReplicatedRecord, latest: &[NodeRecord]) -> ObjectRow {
        let node = latest.iter().find(|n| n.state.name == r.source_object);
        let status = match (r.status, node) {
            (SyncStatus::Success, Some(n)) => format::sync_node_status(&n.state),
            (SyncStatus::Success, None) => format::node_status(swell_core::NodeStatus::Success),
            (SyncStatus::Failure, _) => format::node_status(swell_core::NodeStatus::Failure),
            (SyncStatus::Cancelled, _) => format::job_status(swell_core::JobStatus::Cancelled),
            (SyncStatus::New, _) => Status { icon: "○", word: "Never synced", class: "queued" },
        };
        ObjectRow {
            id: r.id.to_string(),
            object: r.source_object.clone(),
            mode: r.connection_mode,
            mode_words: mode_words(&r.connection_mode),
            status,
            full_next: r.full_refresh,
            changed: r.status != SyncStatus::New && r.needs_sync(),
            last_synced: r.last_refreshed.map(Time),
            rows: node.map(|n| format::count(n.state.output_rows)).unwrap_or_default(),
            took: node.and_then(|n| n.state.duration_ms).map(format::duration).unwrap_or_default(),
        }
    }
}

/// A connection mode's words in the page (`Periodic Full`).
pub fn mode_words(m: &ConnectionMode) -> &'static str {
    match m {
        ConnectionMode::Full => "Full",
        ConnectionMode::Incremental => "Incremental",
        ConnectionMode::PeriodicFull => "Periodic Full",
    }
}

#[derive(Template)]
#[template(path = "connection.html")]
struct ConnectionPage {
    chrome: Chrome,
    base: &'static str,
    id: String,
    name: String,
    kind: String,
    description: Option<String>,
    /// `(label, value)`; secrets read as the mask.
    properties: Vec<(String, String)>,
    schedule: String,
    next_run: Option<Time>,
    last_sync: Option<(String, Status, Time)>,
    active: bool,
    objects: Vec<ObjectRow>,
    /// Each mode: its stored spelling and its words.
    modes: Vec<(&'static str, &'static str)>,
    problem: Option<String>,
    /// The schedule dialog, for who may change the schedule.
    schedule_dialog: Option<schedule::Dialog>,
    can_run: bool,
    can_edit: bool,
    can_change_objects: bool,
    /// Full sync changes the object and runs the connection: both roles' rights.
    can_full: bool,
}

/// What the page shows besides what is stored: a refused change.
#[derive(Default)]
pub struct Edits {
    /// A refused change of the connection or an object, said at the top of the page.
    pub problem: Option<String>,
    /// The schedule form as sent, and its problems.
    pub schedule: Option<(ScheduleForm, Vec<String>)>,
}

/// The connection's page, with `edits` shown, answered with `status`.
pub async fn render(web: &Web, viewer: &Viewer, id: &str, edits: Edits, status: StatusCode) -> Response {
    let c = match web.app().connection(id).await {
        Ok(c) => c,
        Err(e) => return pages::error(&e),
    };
    let store = &web.app().store;
    let found = tokio::try_join!(
        store.replicated_of(&c.id),
        store.schedule(&c.id),
        store.latest_run_with_nodes(&c.dataflow_id)
    );
    let (objects, schedule, latest) = match found {
        Ok(found) => found,
        Err(e) => return pages::error(&e.into()),
    };
    let (latest, nodes) = latest.map_or((None, Vec::new()), |(run, nodes)| (Some(run), nodes));
    let ty = type_of(&c).ok();
    let properties = c
        .properties
        .iter()
        .map(|(n, v)| {
            let secret = ty.is_some_and(|t| t.is_secret(n));
            let label = ty
                .and_then(|t| t.properties().iter().find(|p| p.name == n.as_str()).map(|p| p.label))
                .map_or_else(|| n.clone(), |l| format!("{l} ({n})"));
            (label, if secret && !v.is_empty() { MASK.to_string() } else { v.clone() })
        })
        .collect();
    let schedule_dialog = viewer.actor.may(Action::PutSchedule).is_ok().then(|| {
        let action = format!("{BASE}/connections/{}/schedule", c.id);
        schedule::Dialog::new(action, schedule.as_ref().map(|s| &s.schedule), edits.schedule, false)
    });
    let (schedule, next_run) = schedule_words(schedule.as_ref().map(|s| (&s.schedule, s.next_run)));
    let mut page = ConnectionPage {
        chrome: Chrome::new(viewer, "connections", c.label.clone()),
        base: BASE,
        id: c.id.to_string(),
        name: c.name.clone(),
        kind: kind_of(&c),
        description: c.description.clone().filter(|d| !d.is_empty()),
        properties,
        schedule,
        next_run,
        last_sync: latest
            .as_ref()
            .map(|j| (j.id.to_string(), format::sync_status(j.status, j.unchanged), Time(j.created_date))),
        active: latest.as_ref().is_some_and(|j| !j.status.is_finished()),
        objects: objects.iter().map(|r| ObjectRow::of(r, &nodes)).collect(),
        modes: ConnectionMode::ALL.iter().map(|m| (m.as_str(), mode_words(m))).collect(),
        problem: edits.problem,
        schedule_dialog,
        can_run: viewer.actor.may(Action::RunConnection).is_ok(),
        can_edit: viewer.actor.may(Action::UpdateConnection).is_ok(),
        can_change_objects: viewer.actor.may(Action::UpdateObject).is_ok(),
        can_full: viewer.actor.may(Action::UpdateObject).is_ok() && viewer.actor.may(Action::RunConnection).is_ok(),
    };
    if page.objects.is_empty() {
        page.can_run = false;
    }
    let mut res = pages::render(&page);
    if res.status() == StatusCode::OK {
        *res.status_mut() = status;
    }
    res
}

pub async fn page(State(web): State<Web>, viewer: Viewer, Path(id): Path<String>) -> Response {
    render(&web, &viewer, &id, Edits::default(), StatusCode::OK).await
}

/// Run Now: queues a sync of every object of the connection.
pub async fn run(
    State(web): State<Web>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Fields { value: form, .. }: Fields<CsrfForm>,
) -> Response {
    if let Some(refused) = viewer.refuse(&form.csrf) {
        return refused;
    }
    match web.app().run_connection(&viewer.actor, &id).await {
        Ok(job) => pages::queued(&headers, &job, "sync"),
        Err(e) => pages::refused(&headers, &e),
    }
}

#[derive(Deserialize)]
pub struct ModeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    mode: String,
}

/// Changes an object's connection mode. A mode its fields cannot support (Incremental
/// without a key or watermark) is refused on the connection's page, naming why.
pub async fn mode(
    State(web): State<Web>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((id, object)): Path<(String, String)>,
    Fields { value: form, .. }: Fields<ModeForm>,
) -> Response {
    if let Some(refused) = viewer.refuse(&form.csrf) {
        return refused;
    }
    // the role before the request is read: a refusal is the role's, and audited
    if let Err(e) = web.app().require(&viewer.actor, Action::UpdateObject).await {
        return pages::refused(&headers, &e);
    }
    let change = match swell_app::connection_mode(&form.mode) {
        Ok(m) => NewObject {
            settings: ReplicatedPatch { connection_mode: Some(m), ..ReplicatedPatch::default() },
            ..NewObject::default()
        },
        Err(e) => return refuse(&web, &viewer, &headers, &id, e).await,
    };
    match change_object(&web, &viewer, &id, &object, change).await {
        Ok(r) => pages::changed(
            &headers,
            &format!("{} now syncs in {} mode.", r.source_object, mode_words(&r.connection_mode)),
            &format!("{BASE}/connections/{id}"),
        ),
        Err(e) => refuse(&web, &viewer, &headers, &id, e).await,
    }
}

/// Full sync: the object's next sync reads every row, and a sync of the connection is queued.
pub async fn full(
    State(web): State<Web>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((id, object)): Path<(String, String)>,
    Fields { value: form, .. }: Fields<CsrfForm>,
) -> Response {
    if let Some(refused) = viewer.refuse(&form.csrf) {
        return refused;
    }
    for action in [Action::UpdateObject, Action::RunConnection] {
        if let Err(e) = web.app().require(&viewer.actor, action).await {
            return pages::refused(&headers, &e);
        }
    }
    let change = NewObject {
        settings: ReplicatedPatch { full_refresh: Some(true), ..ReplicatedPatch::default() },
        ..NewObject::default()
    };
    let r = match change_object(&web, &viewer, &id, &object, change).await {
        Ok(r) => r,
        Err(e) => return refuse(&web, &viewer, &headers, &id, e).await,
    };
    match web.app().run_connection(&viewer.actor, &id).await {
        Ok(job) => pages::queued(&headers, &job, "sync"),
        // the full sync stays asked for: the queued sync reads it when it starts
        Err(e) if e.code == swell_app::ErrorCode::JobAlreadyQueued => pages::changed(
            &headers,
            &format!("A sync is already queued: {} syncs in full in it.", r.source_object),
            &format!("{BASE}/connections/{id}"),
        ),
        Err(e) => pages::refused(&headers, &e),
    }
}

/// Changes an object of connection `id` (an object of another connection is not found).
async fn change_object(
    web: &Web,
    viewer: &Viewer,
    id: &str,
    object: &str,
    change: NewObject,
) -> Result<ReplicatedRecord, ApiError> {
    let c = web.app().connection(id).await?;
    let (r, _) = web.app().object(object).await?;
    if r.connector_id != c.id {
        return Err(ApiError::not_found(format!("connected object {object} of {}", c.name)));
    }
    web.app().update_object(&viewer.actor, r.id.as_str(), change).await
}

/// A refused change: htmx gets the notice; a plain form the connection's page naming it (a
/// bad request) or the error's own page.
async fn refuse(web: &Web, viewer: &Viewer, headers: &HeaderMap, id: &str, e: ApiError) -> Response {
    if e.status() == StatusCode::BAD_REQUEST && !pages::from_htmx(headers) {
        let message = std::iter::once(e.message).chain(e.more).collect::<Vec<_>>().join(" ");
        return render(web, viewer, id, Edits { problem: Some(message), ..Edits::default() }, StatusCode::BAD_REQUEST)
            .await;
    }
    pages::refused(headers, &e)
}

#[derive(Template)]
#[template(path = "object.html")]
struct ObjectPage {
    chrome: Chrome,
    base: &'static str,
    connection_id: String,
    connection: String,
    object: ObjectRow,
    /// `(name, type, skipped)` as the object syncs them.
    fields: Vec<(String, String, bool)>,
    /// What its last sync stored: its first rows.
    preview: pages::Preview,
    preview_problem: Option<String>,
}

/// An object: its fields as it syncs them and the first rows its last sync stored.
pub async fn object(State(web): State<Web>, viewer: Viewer, Path((id, object)): Path<(String, String)>) -> Response {
    let (c, (r, owner)) = match tokio::try_join!(web.app().connection(&id), web.app().object(&object)) {
        Ok(found) => found,
        Err(e) => return pages::error(&e),
    };
    if owner.id != c.id {
        return pages::not_found(&format!("Connection {} has no object {object}.", c.name));
    }
    let fields = r
        .fields
        .as_ref()
        .and_then(|f| f.as_array())
        .map(|list| {
            list.iter()
                .map(|f| {
                    let text = |k: &str| f.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
                    (text("name"), text("fieldType"), f.get("skipped").and_then(|v| v.as_bool()).unwrap_or(false))
                })
                .collect()
        })
        .unwrap_or_default();
    // the latest sync's node of this object: No changes, rows and time
    let nodes = match web.app().store.latest_run_with_nodes(&c.dataflow_id).await {
        Ok(Some((_, nodes))) => nodes,
        _ => Vec::new(),
    };
    let (preview, preview_problem) = match web.app().object_head(&c, &r).await {
        Ok(Some(head)) => (pages::Preview::of(head), None),
        Ok(None) if r.status == SyncStatus::New => {
            (pages::Preview::default(), Some("Not synced yet: Run now syncs it.".to_string()))
        }
        Ok(None) => (
            pages::Preview::default(),
            Some("Its synced data is missing from the data dir: Full sync writes it again.".to_string()),
        ),
        Err(e) => (pages::Preview::default(), Some(e.message)),
    };
    let page = ObjectPage {
        chrome: Chrome::new(&viewer, "connections", r.source_object.clone()),
        base: BASE,
        connection_id: c.id.to_string(),
        connection: c.label.clone(),
        object: ObjectRow::of(&r, &nodes),
        fields,
        preview,
        preview_problem,
    };
    pages::render(&page)
}
