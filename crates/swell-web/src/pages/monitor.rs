//! The Monitor: every job, newest first, 50 a page by key, filtered by status, type, name and
//! dates kept in the URL; Stop on queued and running rows, one or several; the runs of the
//! last 24 hours against the daily budget. Rows change live ([`crate::live::monitor`]).

use crate::format::{self, Status, Time};
use crate::input::{Fields, Params};
use crate::pages::{self, Chrome};
use crate::session::{Viewer, encode};
use crate::{BASE, Web};
use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use swell_app::Action;
use swell_core::{JobStatus, JobType, SalesforceId};
use swell_store::{JobFilter, JobKey, JobRecord};

/// Rows a page shows.
pub const PAGE: i64 = 50;

/// The Monitor's query string: what the filter form sends, and the page's key.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MonitorQuery {
    #[serde(default)]
    pub status: String,
    /// `dataflow`, `recipe` or `sync`
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub q: String,
    /// A day (`2026-12-01`, UTC): jobs queued on or after it.
    #[serde(default)]
    pub from: String,
    /// A day (UTC): jobs queued on or before it.
    #[serde(default)]
    pub to: String,
    /// The page older than this key (`MILLIS.ID`).
    pub before: Option<String>,
    /// The page newer than this key.
    pub after: Option<String>,
}

/// The job types a `type` filter means.
const KINDS: [(&str, &str, JobType); 3] = [
    ("dataflow", "Dataflow", JobType::User),
    ("recipe", "Recipe", JobType::RecipeV3),
    ("sync", "Data sync", JobType::DataSync),
];

impl MonitorQuery {
    /// The store's filter, and a sentence for each value that could not be read (that part of
    /// the filter is then left out, and the page says so).
    pub fn filter(&self) -> (JobFilter, Vec<String>) {
        let mut problems = Vec::new();
        let mut f = JobFilter { limit: PAGE, ..JobFilter::default() };
        if !self.status.is_empty() {
            match JobStatus::parse(&self.status) {
                Some(s) => f.status = Some(s),
                None => problems.push(format!("There is no status '{}'; showing every status.", self.status)),
            }
        }
        if !self.kind.is_empty() {
            match KINDS.iter().find(|(k, _, _)| *k == self.kind) {
                Some((_, _, t)) => f.job_types = vec![*t],
                None => problems.push(format!("There is no job type '{}'; showing every type.", self.kind)),
            }
        }
        let q = self.q.trim();
        if !q.is_empty() {
            f.q = Some(q.chars().take(200).collect());
        }
        let day = |text: &str, what: &str, problems: &mut Vec<String>| -> Option<NaiveDate> {
            if text.is_empty() {
                return None;
            }
            let d = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
            if d.is_none() {
                problems.push(format!("'{text}' is not a day (2026-12-01); the {what} date is left out."));
            }
            d
        };
        f.started_after =
            day(&self.from, "from", &mut problems).and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc());
        f.started_before =
            day(&self.to, "to", &mut problems).and_then(|d| d.and_hms_milli_opt(23, 59, 59, 999)).map(|t| t.and_utc());
        if let (Some(a), Some(b)) = (f.started_after, f.started_before)
            && a > b
        {
            problems.push(format!(
                "The from date ({}) is after the to date ({}): no job can match; swap them to see the jobs between.",
                self.from, self.to
            ));
        }
        let key = |text: &Option<String>, problems: &mut Vec<String>| -> Option<JobKey> {
            let text = text.as_deref()?;
            let parsed = text.split_once('.').and_then(|(ms, id)| {
                let created = DateTime::<Utc>::from_timestamp_millis(ms.parse().ok()?)?;
                Some(JobKey { created, id: SalesforceId::parse(id).ok()? })
            });
            if parsed.is_none() {
                problems.push("The page link is damaged; showing the newest jobs.".to_string());
            }
            parsed
        };
        f.before = key(&self.before, &mut problems);
        f.after = if f.before.is_none() { key(&self.after, &mut problems) } else { None };
        (f, problems)
    }

    /// The query string of this filter (without the page key), for links and the live stream.
    pub fn filter_query(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in
            [("status", &self.status), ("type", &self.kind), ("q", &self.q), ("from", &self.from), ("to", &self.to)]
        {
            if !v.is_empty() {
                parts.push(format!("{k}={}", encode(v)));
            }
        }
        parts.join("&")
    }

    /// This filter's query with a page key added.
    fn with(&self, key: &str, value: &JobKey) -> String {
        let base = self.filter_query();
        let sep = if base.is_empty() { "" } else { "&" };
        format!("{base}{sep}{key}={}", encode(&key_text(value)))
    }
}

pub fn key_text(k: &JobKey) -> String {
    format!("{}.{}", k.created.timestamp_millis(), k.id)
}

/// Whether a job passes a filter (without its page key): a job that changed live is shown on
/// a page of that filter only if it does.
pub fn matches(f: &JobFilter, job: &JobRecord) -> bool {
    f.status.is_none_or(|s| s == job.status)
        && (f.job_types.is_empty() || f.job_types.contains(&job.job_type))
        && f.q.as_ref().is_none_or(|q| {
            let label = job.label.to_lowercase();
            q.split_whitespace().all(|w| label.contains(&w.to_lowercase()))
        })
        && f.started_after.is_none_or(|a| job.created_date >= a)
        && f.started_before.is_none_or(|b| job.created_date <= b)
}

/// A job as a row of the Monitor.
pub struct JobRow {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub status: Status,
    pub trigger: String,
    pub queued: Time,
    pub started: Option<Time>,
    pub duration: String,
    /// 0 to 100
    pub percent: u32,
    /// The first line of a failed or warned job's message.
    pub message: Option<String>,
    /// Queued or running: it can be stopped.
    pub active: bool,
    pub stopping: bool,
}

impl JobRow {
    pub fn of(job: &JobRecord, now: DateTime<Utc>) -> JobRow {
        let failed = matches!(job.status, JobStatus::Failure | JobStatus::Warning);
        JobRow {
            id: job.id.to_string(),
            name: job.label.clone(),
            kind: format::job_type(job.job_type),
            status: format::job_status(job.status),
            trigger: format::trigger(job),
            queued: Time(job.created_date),
            started: job.executed_date.map(Time),
            duration: format::job_duration(job, now),
            percent: (job.progress.clamp(0.0, 1.0) * 100.0).round() as u32,
            message: job.message.as_deref().filter(|_| failed).map(|m| format::first_line(m, 200)),
            active: !job.status.is_finished(),
            stopping: job.stop_requested && !job.status.is_finished(),
        }
    }
}

/// The part of the Monitor's table that a live update replaces: one row.
#[derive(Template)]
#[template(path = "monitor_row.html")]
pub struct RowTemplate<'a> {
    pub row: &'a JobRow,
    pub can_stop: bool,
    pub base: &'static str,
    /// `hx-swap-oob` of the row when sent live (empty on the page).
    pub row_oob: &'a str,
}

/// The Monitor's table body, as a live update sends it whole (on connect, after a lag).
#[derive(Template)]
#[template(path = "monitor_rows.html")]
pub struct RowsTemplate<'a> {
    pub rows: &'a [JobRow],
    pub can_stop: bool,
    pub base: &'static str,
    pub oob: &'a str,
}

/// The runs of the last 24 hours against the budget.
#[derive(Template)]
#[template(path = "monitor_summary.html")]
pub struct SummaryTemplate {
    pub runs: i64,
    pub budget: u32,
    pub oob: bool,
}

impl SummaryTemplate {
    pub fn over(&self) -> bool {
        self.runs >= self.budget as i64
    }
}

#[derive(Template)]
#[template(path = "monitor.html")]
struct MonitorPage<'a> {
    chrome: Chrome,
    query: &'a MonitorQuery,
    problems: Vec<String>,
    /// The rows ([`RowsTemplate`]), rendered once for the page and the live stream alike.
    rows_html: String,
    empty: bool,
    can_stop: bool,
    summary_html: String,
    newer: Option<String>,
    older: Option<String>,
    /// The live stream's address, with this page's filter and key.
    live: String,
    /// value, how it is shown, whether the filter has it
    statuses: Vec<(String, Status, bool)>,
    kinds: Vec<(&'static str, &'static str, bool)>,
}

/// The runs of dataflows and recipes in the last 24 hours (refused requests and syncs do not
/// count, as in an org).
pub async fn runs_today(web: &Web) -> Result<SummaryTemplate, swell_app::ApiError> {
    let runs = web.app().store.count_runs_since(Utc::now() - chrono::Duration::hours(24)).await?;
    Ok(SummaryTemplate { runs, budget: web.0.settings.daily_run_budget, oob: false })
}

pub async fn page(State(web): State<Web>, viewer: Viewer, Params(query): Params<MonitorQuery>) -> Response {
    let (filter, problems) = query.filter();
    let (jobs, more) = match web.app().store.job_page(&filter).await {
        Ok(page) => page,
        Err(e) => return pages::error(&e.into()),
    };
    let summary = match runs_today(&web).await {
        Ok(s) => s,
        Err(e) => return pages::error(&e),
    };
    let now = Utc::now();
    let first = jobs.first().map(JobKey::of);
    let last = jobs.last().map(JobKey::of);
    let reading_newer = filter.after.is_some();
    let paged = filter.before.is_some() || filter.after.is_some();
    // older: there are more past the last row when reading older, and always when reading newer
    let older = last.as_ref().filter(|_| more || reading_newer).map(|k| query.with("before", k));
    let newer = first.as_ref().filter(|_| if reading_newer { more } else { paged }).map(|k| query.with("after", k));
    let mut live = format!("{BASE}/live/monitor?{}", query.filter_query());
    if let Some(k) = &filter.before {
        live.push_str(&format!("&before={}", encode(&key_text(k))));
    } else if let Some(k) = &filter.after {
        live.push_str(&format!("&after={}", encode(&key_text(k))));
    }
    let can_stop = viewer.actor.may(Action::StopJob).is_ok();
    let rows: Vec<JobRow> = jobs.iter().map(|j| JobRow::of(j, now)).collect();
    let (rows_html, summary_html) =
        match (RowsTemplate { rows: &rows, can_stop, base: BASE, oob: "" }.render(), summary.render()) {
            (Ok(r), Ok(s)) => (r, s),
            (Err(e), _) | (_, Err(e)) => return pages::error(&swell_app::ApiError::internal(e.to_string())),
        };
    let page = MonitorPage {
        chrome: Chrome::new(&viewer, "monitor", "Monitor"),
        query: &query,
        problems,
        rows_html,
        empty: rows.is_empty(),
        can_stop,
        summary_html,
        newer,
        older,
        live,
        statuses: JobStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), format::job_status(*s), query.status == s.as_str()))
            .collect(),
        kinds: KINDS.iter().map(|(k, w, _)| (*k, *w, query.kind == *k)).collect(),
    };
    pages::render(&page)
}

/// The Stop form: `one` row's Stop button, or the `selected` rows (read from the pairs, as the
/// key repeats).
#[derive(Deserialize)]
pub struct StopForm {
    #[serde(default)]
    csrf: String,
    one: Option<String>,
}

/// Stop, for one row (`one`) or the selected rows (`selected`, repeated), after the page
/// asked to confirm.
pub async fn stop_selected(
    State(web): State<Web>,
    viewer: Viewer,
    headers: HeaderMap,
    Fields { value: form, pairs }: Fields<StopForm>,
) -> Response {
    if let Some(refused) = viewer.refuse(&form.csrf) {
        return refused;
    }
    let ids = match form.one.filter(|one| !one.is_empty()) {
        Some(id) => vec![id],
        None => pairs.into_iter().filter(|(k, _)| k == "selected").map(|(_, v)| v).collect(),
    };
    if ids.is_empty() {
        return pages::changed(&headers, "Select the jobs to stop first.", &pages::back_to(&headers, "/ui/monitor"));
    }
    let mut stopped = 0;
    let mut problems = Vec::new();
    for id in ids.iter().take(PAGE as usize) {
        match web.app().stop_job(&viewer.actor, id).await {
            Ok(_) => stopped += 1,
            Err(e) if ids.len() == 1 => return pages::refused(&headers, &e),
            Err(e) => problems.push(format!("{id}: {}", e.message)),
        }
    }
    let mut notice = match stopped {
        1 => "Stop requested for 1 job.".to_string(),
        n => format!("Stop requested for {n} jobs."),
    };
    if !problems.is_empty() {
        notice.push_str(&format!(" Not stopped: {}", problems.join("; ")));
    }
    pages::changed(&headers, &notice, &pages::back_to(&headers, "/ui/monitor"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_says_what_it_could_not_read() {
        let q = MonitorQuery {
            status: "Bogus".into(),
            kind: "recipe".into(),
            from: "2026-13-01".into(),
            to: "2026-12-01".into(),
            before: Some("nope".into()),
            ..MonitorQuery::default()
        };
        let (f, problems) = q.filter();
        assert_eq!(f.status, None);
        assert_eq!(f.job_types, vec![JobType::RecipeV3]);
        assert_eq!(f.started_after, None);
        assert_eq!(f.started_before.unwrap().to_rfc3339(), "2026-12-01T23:59:59.999+00:00");
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert_eq!(q.filter_query(), "status=Bogus&type=recipe&from=2026-13-01&to=2026-12-01");
    }
}
