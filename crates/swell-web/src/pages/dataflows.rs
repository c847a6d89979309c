//! Dataflows & Recipes: every dataflow and recipe with its latest run, its schedule in words
//! and its next run; search by name; Run Now. (One page of all of them: an org holds a few
//! hundred at most, and the list is read in two queries without the definitions.)

use crate::Web;
use crate::format::{self, Status, Time};
use crate::input::{Fields, Params};
use crate::pages::{self, Chrome};
use crate::session::{CsrfForm, Viewer};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use std::collections::HashMap;
use swell_app::Action;
use swell_core::{AssetKind, SalesforceId};
use swell_store::AssetSummary;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
}

/// A dataflow or recipe as a row of the list.
pub struct AssetRow {
    /// The dataflow that runs it: Run Now starts it.
    pub dataflow_id: String,
    pub label: String,
    pub name: String,
    pub kind: &'static str,
    /// The latest run: its job, status and when it was queued.
    pub last_run: Option<(String, Status, Time)>,
    pub schedule: String,
    pub next_run: Option<Time>,
    /// Queued or running now: Run Now would be refused.
    pub active: bool,
}

impl AssetRow {
    fn of(a: &AssetSummary, names: &HashMap<SalesforceId, String>) -> AssetRow {
        let (schedule, next_run) = match &a.schedule {
            Some((s, next)) => (s.words(|id| names.get(id).cloned()), next.map(Time)),
            None => ("Not scheduled".to_string(), None),
        };
        AssetRow {
            dataflow_id: a.dataflow_id.to_string(),
            label: a.label.clone(),
            name: a.name.clone(),
            kind: if a.kind == AssetKind::Recipe { "Recipe" } else { "Dataflow" },
            last_run: a
                .last_run
                .as_ref()
                .map(|j| (j.id.to_string(), format::job_status(j.status), Time(j.created_date))),
            schedule,
            next_run,
            active: a.last_run.as_ref().is_some_and(|j| !j.status.is_finished()),
        }
    }
}

#[derive(Template)]
#[template(path = "dataflows.html")]
struct ListPage<'a> {
    chrome: Chrome,
    query: &'a ListQuery,
    rows: Vec<AssetRow>,
    can_run: bool,
}

pub async fn list(State(web): State<Web>, viewer: Viewer, Params(query): Params<ListQuery>) -> Response {
    let q: String = query.q.trim().chars().take(200).collect();
    let assets = match web.app().store.asset_summaries(Some(&q).filter(|q| !q.is_empty()).map(String::as_str)).await {
        Ok(a) => a,
        Err(e) => return pages::error(&e.into()),
    };
    // event-driven schedules name the assets they wait for: by label when they are listed
    let mut names = HashMap::new();
    for a in &assets {
        names.insert(a.asset_id().clone(), a.label.clone());
        names.insert(a.dataflow_id.clone(), a.label.clone());
    }
    let page = ListPage {
        chrome: Chrome::new(&viewer, "dataflows", "Dataflows & Recipes"),
        query: &query,
        rows: assets.iter().map(|a| AssetRow::of(a, &names)).collect(),
        can_run: viewer.actor.may(Action::StartJob).is_ok(),
    };
    pages::render(&page)
}

/// Run Now: queues a run of the dataflow (a recipe's runs its dataflow). With htmx the list
/// says so with a link to the job; without, the browser goes to the job's page.
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
    match web.app().start_job(&viewer.actor, &id).await {
        Ok(job) => pages::queued(&headers, &job, "run"),
        Err(e) => pages::refused(&headers, &e),
    }
}
