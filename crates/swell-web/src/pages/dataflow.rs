//! A dataflow's or recipe's own page: what it is, Run now, its schedule (with the dialog of
//! `schedule.rs`), its graph, its definition in a text area (Validate, Format, Save as a new
//! history entry, Download, Upload) and its history (Revert, Download).
//!
//! Validate and Format answer the page again with the text as sent, so that nothing typed is
//! lost, with the engine's problems named by node and JSON path. Without JavaScript every
//! button is a plain form; with it, Upload reads a file into the text area
//! (`static/swell.js`).

use crate::format::Time;
use crate::graph::Graph;
use crate::input::{Fields, Params};
use crate::pages::schedule::{self, ScheduleForm};
use crate::pages::{self, Chrome};
use crate::session::Viewer;
use crate::{BASE, Web};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use swell_app::{Action, ApiError, ApiResult, DefinitionChange};
use swell_core::{AssetKind, SalesforceId};
use swell_store::{DataflowRecord, RecipeRecord, ScheduleRecord};

/// A dataflow or recipe, by its dataflow's id (a recipe's target dataflow).
pub struct Asset {
    pub dataflow: DataflowRecord,
    pub recipe: Option<RecipeRecord>,
}

impl Asset {
    /// The dataflow or recipe of `id`: a dataflow (02K) or recipe (05v) id. A connection's
    /// sync dataflow is not one (its page is the connection's).
    pub async fn load(web: &Web, id: &str) -> ApiResult<Asset> {
        if id.starts_with("05v") {
            let recipe = web.app().recipe(id).await?;
            return Ok(Asset { dataflow: recipe.dataflow.clone(), recipe: Some(recipe) });
        }
        let dataflow = web.app().dataflow(id).await?;
        match dataflow.kind {
            AssetKind::Recipe => {
                let recipe = web.app().store.recipe_of_dataflow(&dataflow.id).await?;
                Ok(Asset { dataflow, recipe })
            }
            AssetKind::Dataflow => Ok(Asset { dataflow, recipe: None }),
            _ => Err(ApiError::not_found(format!("dataflow {id} (it syncs a connection)"))),
        }
    }

    /// The id the API and the schedule use: the recipe's for a recipe.
    pub fn asset_id(&self) -> &SalesforceId {
        self.recipe.as_ref().map(|r| &r.id).unwrap_or(&self.dataflow.id)
    }

    fn is_recipe(&self) -> bool {
        self.recipe.is_some()
    }

    /// What Download and the text area hold: a recipe's R3 JSON, a dataflow's nodes.
    fn text(definition: &Value) -> String {
        serde_json::to_string_pretty(definition).unwrap_or_default()
    }
}

/// What the page shows besides what is stored: a form sent back with its problems.
#[derive(Default)]
pub struct Edits {
    /// The schedule form as sent, and its problems.
    pub schedule: Option<(ScheduleForm, Vec<String>)>,
    /// The definition as sent, with the outcome of Validate or Format or a refused Save.
    pub definition: Option<(String, Outcome)>,
}

/// What a definition action found.
pub enum Outcome {
    Problems(Vec<String>),
    Fine(String),
}

pub struct HistoryRow {
    pub id: String,
    pub label: String,
    pub by: String,
    pub at: Time,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "dataflow.html")]
struct AssetPage {
    chrome: Chrome,
    base: &'static str,
    id: String,
    asset_id: String,
    name: String,
    kind: &'static str,
    modified: Time,
    modified_by: String,
    schedule_words: String,
    next_run: Option<Time>,
    /// The schedule dialog, for who may change the schedule.
    schedule_dialog: Option<schedule::Dialog>,
    graph: Option<Graph>,
    definition: String,
    problems: Vec<String>,
    fine: Option<String>,
    histories: Vec<HistoryRow>,
    can_run: bool,
    can_edit: bool,
}

/// The page of an asset, with `edits` shown, answered with `status`.
pub async fn render(web: &Web, viewer: &Viewer, asset: &Asset, edits: Edits, status: StatusCode) -> Response {
    let d = &asset.dataflow;
    let (schedule, histories) =
        match tokio::try_join!(web.app().store.schedule(asset.asset_id()), web.app().store.histories(&d.id)) {
            Ok(found) => found,
            Err(e) => return pages::error(&e.into()),
        };
    let names = |id: &SalesforceId| (id == asset.asset_id()).then(|| d.label.clone());
    let (schedule_words, next_run) = match &schedule {
        Some(ScheduleRecord { schedule, next_run, .. }) => (schedule.words(names), next_run.map(Time)),
        None => ("Not scheduled".to_string(), None),
    };
    let schedule_dialog = viewer.actor.may(Action::PutSchedule).is_ok().then(|| {
        let action = format!("{BASE}/dataflows/{}/schedule", d.id);
        schedule::Dialog::new(action, schedule.as_ref().map(|s| &s.schedule), edits.schedule, true)
    });
    let (definition, problems, fine) = match edits.definition {
        Some((text, Outcome::Problems(p))) => (text, p, None),
        Some((text, Outcome::Fine(f))) => (text, Vec::new(), Some(f)),
        None => (Asset::text(&d.definition), Vec::new(), None),
    };
    let shown = d.definition.clone();
    let graph = tokio::task::spawn_blocking(move || crate::graph::nodes_of(shown))
        .await
        .ok()
        .flatten()
        .and_then(|nodes| crate::graph::layout(&nodes, &Default::default()));
    let current = histories.first().map(|h| h.id.clone());
    let (edit, run) = if asset.is_recipe() {
        (Action::UpdateRecipe, Action::StartJob)
    } else {
        (Action::UpdateDataflow, Action::StartJob)
    };
    let page = AssetPage {
        chrome: Chrome::new(viewer, "dataflows", d.label.clone()),
        base: BASE,
        id: d.id.to_string(),
        asset_id: asset.asset_id().to_string(),
        name: d.name.clone(),
        kind: if asset.is_recipe() { "Recipe" } else { "Dataflow" },
        modified: Time(d.last_modified_date),
        modified_by: d.last_modified_by.name.clone(),
        schedule_words,
        next_run,
        schedule_dialog,
        graph,
        definition,
        problems,
        fine,
        histories: histories
            .iter()
            .map(|h| HistoryRow {
                id: h.id.to_string(),
                label: h.label.clone(),
                by: h.created_by.name.clone(),
                at: Time(h.created_date),
                current: Some(&h.id) == current.as_ref(),
            })
            .collect(),
        can_run: viewer.actor.may(run).is_ok(),
        can_edit: viewer.actor.may(edit).is_ok(),
    };
    let mut res = pages::render(&page);
    if res.status().is_success() {
        *res.status_mut() = status;
    }
    res
}

pub async fn page(State(web): State<Web>, viewer: Viewer, Path(id): Path<String>) -> Response {
    match Asset::load(&web, &id).await {
        Ok(asset) => render(&web, &viewer, &asset, Edits::default(), StatusCode::OK).await,
        Err(e) => pages::error(&e),
    }
}

#[derive(Deserialize)]
pub struct DefinitionForm {
    #[serde(default)]
    csrf: String,
    /// `validate`, `format` or `save` (the button pressed).
    #[serde(default, rename = "do")]
    action: String,
    #[serde(default)]
    definition: String,
    #[serde(default, rename = "historyLabel")]
    history_label: String,
}

/// Validate, Format or Save the definition in the text area.
pub async fn definition(
    State(web): State<Web>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Fields { value: form, .. }: Fields<DefinitionForm>,
) -> Response {
    if let Some(refused) = viewer.refuse(&form.csrf) {
        return refused;
    }
    let asset = match Asset::load(&web, &id).await {
        Ok(a) => a,
        Err(e) => return pages::error(&e),
    };
    let text = form.definition;
    let answer = |outcome: Outcome, status: StatusCode| {
        let edits = Edits { definition: Some((text.clone(), outcome)), ..Edits::default() };
        render(&web, &viewer, &asset, edits, status)
    };
    // Validate and Format did what was asked when they find problems (200); a Save that is
    // refused did not (400)
    let refused = if form.action == "save" { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let value: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            let problem = format!("definition: not JSON at line {}, column {}: {e}", e.line(), e.column());
            return answer(Outcome::Problems(vec![problem]), refused).await;
        }
    };
    match form.action.as_str() {
        "format" => {
            let formatted = Asset::text(&value);
            let edits = Edits {
                definition: Some((formatted, Outcome::Fine("Formatted; not saved yet.".into()))),
                ..Edits::default()
            };
            render(&web, &viewer, &asset, edits, StatusCode::OK).await
        }
        "validate" => {
            let checked = if asset.is_recipe() {
                swell_app::validate_recipe(&value)
            } else {
                swell_app::validate_dataflow(value).map(|_| ())
            };
            match checked {
                Ok(()) => answer(Outcome::Fine("No problems found; not saved yet.".into()), StatusCode::OK).await,
                Err(e) => answer(Outcome::Problems(problems_of(e)), refused).await,
            }
        }
        "save" => {
            let change = DefinitionChange {
                definition: Some(value),
                history_label: Some(form.history_label.trim().to_string()).filter(|l| !l.is_empty()),
                ..DefinitionChange::default()
            };
            let saved = match &asset.recipe {
                Some(r) => web.app().update_recipe(&viewer.actor, r.id.as_str(), change, None).await.map(|_| ()),
                None => web.app().update_dataflow(&viewer.actor, asset.dataflow.id.as_str(), change).await.map(|_| ()),
            };
            match saved {
                Ok(()) => pages::changed(
                    &headers,
                    "Saved as a new version (see History).",
                    &format!("{BASE}/dataflows/{}", asset.dataflow.id),
                ),
                Err(e) if e.status() == StatusCode::BAD_REQUEST => {
                    answer(Outcome::Problems(problems_of(e)), StatusCode::BAD_REQUEST).await
                }
                Err(e) => pages::error(&e),
            }
        }
        other => {
            let problem = format!("do: '{other}' is not an action here (validate, format or save)");
            answer(Outcome::Problems(vec![problem]), StatusCode::BAD_REQUEST).await
        }
    }
}

/// Every message of an error (a definition's problems are one entry each).
fn problems_of(e: ApiError) -> Vec<String> {
    std::iter::once(e.message).chain(e.more).collect()
}

#[derive(Deserialize)]
pub struct RevertForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    history: String,
}

/// Makes a history entry's definition the current one (itself a new history entry).
pub async fn revert(
    State(web): State<Web>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Fields { value: form, .. }: Fields<RevertForm>,
) -> Response {
    if let Some(refused) = viewer.refuse(&form.csrf) {
        return refused;
    }
    let asset = match Asset::load(&web, &id).await {
        Ok(a) => a,
        Err(e) => return pages::error(&e),
    };
    let history = Some(form.history.as_str()).filter(|h| !h.is_empty());
    let reverted = match &asset.recipe {
        Some(r) => web.app().revert_recipe(&viewer.actor, r.id.as_str(), history, None).await.map(|_| ()),
        None => web.app().revert_dataflow(&viewer.actor, asset.dataflow.id.as_str(), history, None).await.map(|_| ()),
    };
    match reverted {
        Ok(()) => pages::changed(
            &headers,
            "Reverted: that version is the current one again (a new entry in History).",
            &format!("{BASE}/dataflows/{}", asset.dataflow.id),
        ),
        Err(e) => pages::refused(&headers, &e),
    }
}

#[derive(Deserialize)]
pub struct DownloadQuery {
    /// A history entry; the current definition when absent.
    history: Option<String>,
}

/// The definition as a JSON file (`NAME.json`, or `NAME-HISTORYID.json`).
pub async fn download(
    State(web): State<Web>,
    _viewer: Viewer,
    Path(id): Path<String>,
    Params(q): Params<DownloadQuery>,
) -> Response {
    let asset = match Asset::load(&web, &id).await {
        Ok(a) => a,
        Err(e) => return pages::error(&e),
    };
    let (definition, file) = match q.history.as_deref().filter(|h| !h.is_empty()) {
        Some(h) => match web.app().history(&asset.dataflow.id, h).await {
            Ok(entry) => (entry.definition, format!("{}-{}.json", asset.dataflow.name, entry.id)),
            Err(e) => return pages::error(&e),
        },
        None => (asset.dataflow.definition.clone(), format!("{}.json", asset.dataflow.name)),
    };
    // API names are letters, digits and underscores: safe in a header as they are
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    let mut res = ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], Asset::text(&definition))
        .into_response();
    res.headers_mut().insert(header::CONTENT_DISPOSITION, disposition);
    res
}
