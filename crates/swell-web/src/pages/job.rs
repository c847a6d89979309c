//! A job: its header (status, times, duration, progress), its nodes in run order (type,
//! status, rows in and out, duration, message), the failed node and its full error, and a
//! Gantt of the nodes; live while it runs ([`crate::live::job`]). Stop and Run again.

use crate::format::{self, Status, Time};
use crate::input::Fields;
use crate::pages::{self, Chrome};
use crate::session::{CsrfForm, Viewer};
use crate::{BASE, Web};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use swell_app::{Action, ApiError};
use swell_core::NodeStatus;
use swell_store::{JobRecord, NodeRecord};

/// A node as a row of the job's table.
pub struct NodeRow {
    pub name: String,
    pub kind: String,
    pub status: Status,
    pub rows_in: String,
    pub rows_out: String,
    pub duration: String,
    pub message: Option<String>,
    pub failed: bool,
}

/// One bar of the Gantt: where the node ran within the job, in thousandths of its length.
pub struct Bar {
    pub name: String,
    pub x: u32,
    pub width: u32,
    pub class: &'static str,
    /// What a pointer over the bar says (`<title>`).
    pub title: String,
    pub duration: String,
}

/// The parts of the job page that change while it runs: header, nodes, Gantt.
#[derive(Template)]
#[template(path = "job_live.html")]
pub struct JobLive {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub status: Status,
    pub trigger: String,
    pub queued: Time,
    pub started: Option<Time>,
    pub ended: Option<Time>,
    pub duration: String,
    pub percent: u32,
    pub message: Option<String>,
    pub active: bool,
    pub stopping: bool,
    pub nodes: Vec<NodeRow>,
    /// The node whose failure ended the job, with its full message.
    pub failed: Option<Failed>,
    pub bars: Vec<Bar>,
    /// The definition's graph coloured by how each node ran (`None`: not drawable).
    pub graph: Option<crate::graph::Graph>,
    /// `hx-swap-oob` value of each region when sent live (empty on the page).
    pub oob: &'static str,
    pub can_stop: bool,
    pub can_start: bool,
    pub csrf: String,
    pub base: &'static str,
}

/// The node that failed and its whole message.
pub struct Failed {
    pub name: String,
    pub message: String,
}

/// What the viewer may do on a job's page.
#[derive(Clone)]
pub struct Perms {
    pub can_stop: bool,
    pub can_start: bool,
    pub csrf: String,
}

impl Perms {
    pub fn of(viewer: &Viewer) -> Perms {
        Perms {
            can_stop: viewer.actor.may(Action::StopJob).is_ok(),
            can_start: viewer.actor.may(Action::StartJob).is_ok(),
            csrf: viewer.csrf.clone(),
        }
    }
}

impl JobLive {
    pub fn of(
        job: &JobRecord,
        nodes: &[NodeRecord],
        shape: Option<&[crate::graph::GraphNode]>,
        now: DateTime<Utc>,
        oob: &'static str,
        perms: &Perms,
    ) -> JobLive {
        let ran: std::collections::HashMap<String, crate::graph::Ran> = nodes
            .iter()
            .map(|n| {
                (n.state.name.clone(), crate::graph::Ran { status: n.state.status, rows_out: n.state.output_rows })
            })
            .collect();
        // a sync says No changes of objects (and of itself) that had nothing new
        let sync = job.job_type == swell_core::JobType::DataSync;
        let rows: Vec<NodeRow> = nodes
            .iter()
            .map(|n| {
                let s = &n.state;
                let ran = !matches!(s.status, NodeStatus::Queued | NodeStatus::Cancelled);
                NodeRow {
                    name: s.name.clone(),
                    kind: s.node_type.clone(),
                    status: if sync { format::sync_node_status(s) } else { format::node_status(s.status) },
                    rows_in: if ran { format::count(s.input_rows) } else { String::new() },
                    rows_out: if ran { format::count(s.output_rows) } else { String::new() },
                    duration: s.duration_ms.map(format::duration).unwrap_or_default(),
                    message: s.message.as_deref().map(|m| format::first_line(m, 300)),
                    failed: s.status == NodeStatus::Failure,
                }
            })
            .collect();
        let failed = nodes
            .iter()
            .find(|n| n.state.status == NodeStatus::Failure)
            .map(|n| Failed { name: n.state.name.clone(), message: n.state.message.clone().unwrap_or_default() });
        JobLive {
            id: job.id.to_string(),
            name: job.label.clone(),
            kind: format::job_type(job.job_type),
            status: if sync {
                format::sync_status(job.status, format::all_unchanged(nodes))
            } else {
                format::job_status(job.status)
            },
            trigger: format::trigger(job),
            queued: Time(job.created_date),
            started: job.executed_date.map(Time),
            ended: job.end_date.map(Time),
            duration: format::job_duration(job, now),
            percent: (job.progress.clamp(0.0, 1.0) * 100.0).round() as u32,
            message: job.message.clone().filter(|m| !m.trim().is_empty()),
            active: !job.status.is_finished(),
            stopping: job.stop_requested && !job.status.is_finished(),
            nodes: rows,
            failed,
            bars: gantt(job, nodes, now),
            graph: shape.and_then(|s| crate::graph::layout(s, &ran)),
            oob,
            can_stop: perms.can_stop,
            can_start: perms.can_start,
            csrf: perms.csrf.clone(),
            base: BASE,
        }
    }
}

/// The Gantt's bars: each node from its start for its duration (or until now while it runs),
/// on the scale of the job's run from its start to its end (or now).
fn gantt(job: &JobRecord, nodes: &[NodeRecord], now: DateTime<Utc>) -> Vec<Bar> {
    let Some(start) = job.executed_date.or_else(|| nodes.iter().filter_map(|n| n.state.start_date).min()) else {
        return Vec::new();
    };
    let node_end = |n: &NodeRecord| {
        let s = n.state.start_date?;
        Some(match n.state.duration_ms {
            Some(d) => s + chrono::Duration::milliseconds(d),
            None if n.state.status == NodeStatus::Running => now,
            None => s,
        })
    };
    let end = job.end_date.unwrap_or(now).max(nodes.iter().filter_map(node_end).max().unwrap_or(start));
    let total = (end - start).num_milliseconds().max(1) as f64;
    nodes
        .iter()
        .filter_map(|n| {
            let s = n.state.start_date?;
            let e = node_end(n)?;
            let x = (((s - start).num_milliseconds().max(0) as f64 / total) * 1000.0).round() as u32;
            let width = ((((e - s).num_milliseconds().max(0) as f64) / total) * 1000.0).round().max(3.0) as u32;
            let duration = format::duration((e - s).num_milliseconds());
            let status = format::node_status(n.state.status);
            Some(Bar {
                name: n.state.name.clone(),
                x: x.min(997),
                width: width.min(1000 - x.min(997)),
                class: status.class,
                title: format!("{}: {} for {}, from {}", n.state.name, status.word, duration, Time(s)),
                duration,
            })
        })
        .collect()
}

/// The graph of the definition a job ran (as stored now: a later change shows in it).
pub async fn shape_of(web: &Web, job: &JobRecord) -> Option<Vec<crate::graph::GraphNode>> {
    let dataflow = web.app().store.dataflow(&job.dataflow_id).await.ok()?;
    let definition = dataflow.definition.clone();
    tokio::task::spawn_blocking(move || crate::graph::nodes_of(definition)).await.ok().flatten()
}

#[derive(Template)]
#[template(path = "job.html")]
struct JobPage {
    chrome: Chrome,
    id: String,
    live_html: String,
    active: bool,
    base: &'static str,
    /// What the job ran, as a link to its page: `(href, label)`.
    asset: Option<(String, String)>,
}

/// The page of what a job ran: its connection for a sync, else its dataflow or recipe.
async fn asset_of(web: &Web, job: &JobRecord) -> Option<(String, String)> {
    if job.job_type == swell_core::JobType::DataSync {
        let c = web.app().store.connector_of_dataflow(&job.dataflow_id).await.ok()??;
        return Some((format!("{BASE}/connections/{}", c.id), c.label));
    }
    Some((format!("{BASE}/dataflows/{}", job.dataflow_id), job.label.clone()))
}

pub async fn page(State(web): State<Web>, viewer: Viewer, Path(id): Path<String>) -> Response {
    let job = match web.app().job(&id).await {
        Ok(j) => j,
        Err(e) => return pages::error(&e),
    };
    let nodes = match web.app().store.nodes(&job.id).await {
        Ok(n) => n,
        Err(e) => return pages::error(&e.into()),
    };
    let (shape, asset) = tokio::join!(shape_of(&web, &job), asset_of(&web, &job));
    let live = JobLive::of(&job, &nodes, shape.as_deref(), Utc::now(), "", &Perms::of(&viewer));
    let live_html = match live.render() {
        Ok(h) => h,
        Err(e) => return pages::error(&ApiError::internal(e.to_string())),
    };
    pages::render(&JobPage {
        chrome: Chrome::new(&viewer, "monitor", format!("{} ({})", job.label, job.id)),
        id: job.id.to_string(),
        live_html,
        active: live.active,
        base: BASE,
        asset,
    })
}

pub async fn stop(
    State(web): State<Web>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Fields { value: form, .. }: Fields<CsrfForm>,
) -> Response {
    if let Some(refused) = viewer.refuse(&form.csrf) {
        return refused;
    }
    match web.app().stop_job(&viewer.actor, &id).await {
        Ok(_) => pages::changed(&headers, "Stop requested.", &format!("{BASE}/jobs/{id}")),
        Err(e) => pages::refused(&headers, &e),
    }
}

/// Run again: starts the job's dataflow, recipe or connection sync; goes to the new job.
pub async fn again(
    State(web): State<Web>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Fields { value: form, .. }: Fields<CsrfForm>,
) -> Response {
    if let Some(refused) = viewer.refuse(&form.csrf) {
        return refused;
    }
    let job = match web.app().job(&id).await {
        Ok(j) => j,
        Err(e) => return pages::refused(&headers, &e),
    };
    let started = match asset_of(&web, &job).await {
        Some((href, _)) if job.job_type == swell_core::JobType::DataSync => {
            let connection = href.rsplit('/').next().unwrap_or_default().to_string();
            web.app().run_connection(&viewer.actor, &connection).await
        }
        _ => web.app().start_job(&viewer.actor, job.dataflow_id.as_str()).await,
    };
    match started {
        Ok(new) => {
            let to = format!("{BASE}/jobs/{}", new.id);
            if pages::from_htmx(&headers) {
                // htmx follows this header with a full page load of the new job
                ([("HX-Redirect", to)], "").into_response()
            } else {
                axum::response::Redirect::to(&to).into_response()
            }
        }
        Err(e) => pages::refused(&headers, &e),
    }
}
