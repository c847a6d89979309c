//! Data: the datasets, by name, 50 a page, with their rows, last update, current version and
//! the job that made it; search by name. A dataset's page: its fields with their kinds, the
//! first 100 rows of a version, and its versions with Restore.

use crate::format::{self, Time};
use crate::input::{Fields, Params};
use crate::pages::{self, Chrome};
use crate::session::{Viewer, encode};
use crate::{BASE, Web};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use swell_app::Action;
use swell_store::{DatasetRecord, DatasetVersionRecord};

/// Datasets a page shows.
pub const PAGE: i64 = 50;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DataQuery {
    #[serde(default)]
    pub q: String,
    /// The page, from 1.
    #[serde(default)]
    pub page: String,
}

pub struct DatasetRow {
    pub id: String,
    pub label: String,
    pub name: String,
    pub rows: String,
    pub updated: Time,
    pub version: String,
    pub job: Option<String>,
}

impl DatasetRow {
    fn of(d: &DatasetRecord, v: Option<&DatasetVersionRecord>) -> DatasetRow {
        DatasetRow {
            id: d.id.to_string(),
            label: d.label.clone(),
            name: d.name.clone(),
            rows: v.map(|v| format::count(v.row_count)).unwrap_or_default(),
            updated: Time(d.last_modified_date),
            version: v.map(|v| v.id.to_string()).unwrap_or_default(),
            job: v.and_then(|v| v.job_id.as_ref()).map(|j| j.to_string()),
        }
    }
}

#[derive(Template)]
#[template(path = "data.html")]
struct DataPage<'a> {
    chrome: Chrome,
    query: &'a DataQuery,
    rows: Vec<DatasetRow>,
    problem: Option<String>,
    newer: Option<String>,
    older: Option<String>,
}

pub async fn list(State(web): State<Web>, viewer: Viewer, Params(query): Params<DataQuery>) -> Response {
    let mut problem = None;
    let page: i64 = match query.page.trim() {
        "" => 1,
        p => match p.parse::<i64>() {
            Ok(n) if (1..=1_000_000).contains(&n) => n,
            _ => {
                problem = Some(format!("'{p}' is not a page number; showing the first page."));
                1
            }
        },
    };
    let q: String = query.q.trim().chars().take(200).collect();
    let found = web.app().store.dataset_page(Some(q.as_str()).filter(|q| !q.is_empty()), (page - 1) * PAGE, PAGE).await;
    let (datasets, more) = match found {
        Ok(found) => found,
        Err(e) => return pages::error(&e.into()),
    };
    let link = |n: i64| {
        let search = if q.is_empty() { String::new() } else { format!("q={}&", encode(&q)) };
        format!("{search}page={n}")
    };
    let page = DataPage {
        chrome: Chrome::new(&viewer, "data", "Data"),
        query: &query,
        rows: datasets.iter().map(|(d, v)| DatasetRow::of(d, v.as_ref())).collect(),
        problem,
        newer: (page > 1).then(|| link(page - 1)),
        older: more.then(|| link(page + 1)),
    };
    pages::render(&page)
}

pub struct VersionRow {
    pub id: String,
    pub created: Time,
    pub rows: String,
    pub job: Option<String>,
    pub by: String,
    pub current: bool,
    pub shown: bool,
}

#[derive(Template)]
#[template(path = "dataset.html")]
struct DatasetPage {
    chrome: Chrome,
    base: &'static str,
    id: String,
    name: String,
    current: Option<VersionRow>,
    /// The version whose rows are shown.
    shown: Option<String>,
    fields: Vec<(String, &'static str)>,
    preview: pages::Preview,
    preview_problem: Option<String>,
    versions: Vec<VersionRow>,
    can_restore: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DatasetQuery {
    /// The version whose rows to show (the current one when absent).
    #[serde(default)]
    pub version: String,
}

pub async fn dataset(
    State(web): State<Web>,
    viewer: Viewer,
    Path(id): Path<String>,
    Params(query): Params<DatasetQuery>,
) -> Response {
    let d = match web.app().dataset(&id).await {
        Ok(d) => d,
        Err(e) => return pages::error(&e),
    };
    let versions = match web.app().store.dataset_versions(&d.id).await {
        Ok(v) => v,
        Err(e) => return pages::error(&e.into()),
    };
    let wanted = query.version.trim();
    let shown = if wanted.is_empty() {
        versions.iter().find(|v| Some(&v.id) == d.current_version_id.as_ref())
    } else {
        match versions.iter().find(|v| v.id.as_str() == wanted || v.id.fifteen() == wanted) {
            Some(v) => Some(v),
            None => return pages::not_found(&format!("Dataset {} has no version '{wanted}'.", d.name)),
        }
    };
    let (fields, preview, preview_problem) = match shown {
        Some(v) => match web.app().dataset_head(&d, v).await {
            Ok(head) => (head.fields.clone(), pages::Preview::of(head), None),
            Err(e) => (Vec::new(), pages::Preview::default(), Some(e.message)),
        },
        None => (Vec::new(), pages::Preview::default(), Some("This dataset has no version yet.".to_string())),
    };
    let row = |v: &DatasetVersionRecord| VersionRow {
        id: v.id.to_string(),
        created: Time(v.created_date),
        rows: format::count(v.row_count),
        job: v.job_id.as_ref().map(|j| j.to_string()),
        by: v.created_by.name.clone(),
        current: Some(&v.id) == d.current_version_id.as_ref(),
        shown: shown.is_some_and(|s| s.id == v.id),
    };
    let page = DatasetPage {
        chrome: Chrome::new(&viewer, "data", d.label.clone()),
        base: BASE,
        id: d.id.to_string(),
        name: d.name.clone(),
        current: versions.iter().find(|v| Some(&v.id) == d.current_version_id.as_ref()).map(row),
        shown: shown.map(|v| v.id.to_string()),
        fields,
        preview,
        preview_problem,
        versions: versions.iter().map(row).collect(),
        can_restore: viewer.actor.may(Action::RestoreVersion).is_ok(),
    };
    pages::render(&page)
}

#[derive(Deserialize)]
pub struct RestoreForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: String,
}

/// Restore: a new current version with the rows of an earlier one.
pub async fn restore(
    State(web): State<Web>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Fields { value: form, .. }: Fields<RestoreForm>,
) -> Response {
    if let Some(refused) = viewer.refuse(&form.csrf) {
        return refused;
    }
    let version = Some(form.version.as_str()).filter(|v| !v.is_empty());
    match web.app().restore_version(&viewer.actor, &id, version).await {
        Ok((d, created)) => pages::changed(
            &headers,
            &format!("Restored: version {} is current, with the rows of {}.", created.id, form.version),
            &format!("{BASE}/data/{}", d.id),
        ),
        Err(e) => pages::refused(&headers, &e),
    }
}
