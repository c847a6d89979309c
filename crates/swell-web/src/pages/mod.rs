//! The pages: a file per page, each reading its input, calling the use cases or reading the
//! store, and rendering its template. What every page shares (the frame around it, errors)
//! is here.

pub mod connection_form;
pub mod connections;
pub mod data;
pub mod dataflow;
pub mod dataflows;
pub mod job;
pub mod monitor;
pub mod schedule;

use crate::session::Viewer;
use crate::{BASE, asset};
use askama::Template;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use swell_app::ApiError;

/// The frame of every signed-in page: who is looking, the sections, the sign-out form.
pub struct Chrome {
    pub title: String,
    /// The section the page belongs to (`monitor`, `dataflows`, `connections`, `data`).
    pub section: &'static str,
    pub user: String,
    pub role: String,
    pub csrf: String,
    /// What the last change said (no JavaScript: the form went back to this page).
    pub notice: Option<String>,
}

impl Chrome {
    pub fn new(viewer: &Viewer, section: &'static str, title: impl Into<String>) -> Chrome {
        Chrome {
            title: title.into(),
            section,
            user: viewer.actor.name.clone(),
            role: viewer.actor.role.to_string(),
            csrf: viewer.csrf.clone(),
            notice: viewer.notice.clone(),
        }
    }

    pub fn base(&self) -> &'static str {
        BASE
    }

    pub fn asset(&self, file: &str) -> String {
        asset(file)
    }

    /// `aria-current="page"` for the link of the page's own section.
    pub fn current(&self, section: &str) -> &'static str {
        if self.section == section { "page" } else { "false" }
    }
}

/// Renders a template as an HTML answer; a template that fails is the server's error.
pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(body) => Html(body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page failed to render");
            problem(StatusCode::INTERNAL_SERVER_ERROR, "This page could not be shown; the server's log says why.")
        }
    }
}

#[derive(Template)]
#[template(path = "problem.html")]
struct Problem<'a> {
    status: u16,
    reason: &'a str,
    message: &'a str,
    base: &'a str,
    css: String,
    icon: String,
}

/// The most characters of a problem page's message.
const MAX_MESSAGE_CHARS: usize = 2000;

/// A page that says what went wrong, with its status.
pub fn problem(status: StatusCode, message: &str) -> Response {
    // what a message quotes of the request (an id in the path) is cut and made printable
    let mut message = crate::input::printable(message.to_string());
    if let Some((at, _)) = message.char_indices().nth(MAX_MESSAGE_CHARS) {
        message.truncate(at);
        message.push('…');
    }
    let message = message.as_str();
    let page = Problem {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("Error"),
        message,
        base: BASE,
        css: asset("swell.css"),
        icon: asset("favicon.svg"),
    };
    let mut res = match page.render() {
        Ok(body) => Html(body).into_response(),
        Err(_) => message.to_string().into_response(),
    };
    *res.status_mut() = status;
    res
}

pub fn not_found(message: &str) -> Response {
    problem(StatusCode::NOT_FOUND, message)
}

/// A use case's error as a page: its status and its message (which names what is wrong).
pub fn error(e: &ApiError) -> Response {
    problem(e.status(), &e.message)
}

/// Whether htmx sent the request (it then wants a fragment, not a page or a redirect).
pub fn from_htmx(headers: &HeaderMap) -> bool {
    headers.get("HX-Request").is_some_and(|v| v.as_bytes() == b"true")
}

/// The answer to a change: for htmx, a notice to show in the page's notice area; for a plain
/// form, back to `back` (the page reloads and shows the change), with the notice in a
/// one-time cookie that page shows (not in the address, where anyone could write one).
pub fn changed(headers: &HeaderMap, notice: &str, back: &str) -> Response {
    if from_htmx(headers) {
        Html(format!("<p class=\"notice\" role=\"status\">{}</p>", escape(notice))).into_response()
    } else {
        let back = crate::session::ui_page(back).unwrap_or_else(|| format!("{BASE}/monitor"));
        let notice: String = notice.chars().take(1000).collect();
        let cookie = format!(
            "{}={}; Path={BASE}; HttpOnly; SameSite=Strict; Max-Age=60",
            crate::session::NOTICE,
            crate::session::encode(&notice)
        );
        ([(header::SET_COOKIE, cookie)], Redirect::to(&back)).into_response()
    }
}

/// A job that was queued (Run now, Full sync): with htmx a notice that links the job ("follow
/// its `what`"); without, on to the job's page.
pub fn queued(headers: &HeaderMap, job: &swell_store::JobRecord, what: &str) -> Response {
    if from_htmx(headers) {
        Html(format!(
            "<p class=\"notice\" role=\"status\">{} is queued: <a href=\"{BASE}/jobs/{}\">follow its {what}</a>.</p>",
            escape(&job.label),
            job.id
        ))
        .into_response()
    } else {
        Redirect::to(&format!("{BASE}/jobs/{}", job.id)).into_response()
    }
}

/// A change that was refused, answered like [`changed`]: a notice for htmx, a page otherwise.
pub fn refused(headers: &HeaderMap, e: &ApiError) -> Response {
    if from_htmx(headers) {
        let mut res =
            Html(format!("<p class=\"notice problem\" role=\"alert\">{}</p>", escape(&e.message))).into_response();
        *res.status_mut() = e.status();
        res
    } else {
        error(e)
    }
}

/// The most columns a preview of rows shows (a dataset can have thousands of fields; the
/// fields table lists them all).
pub const PREVIEW_COLUMNS: usize = 50;

/// The first rows of a dataset or an object, as a table shows them: at most
/// [`PREVIEW_COLUMNS`] columns, and how many more there are.
#[derive(Default)]
pub struct Preview {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
    /// Columns not shown.
    pub more: usize,
}

impl Preview {
    pub fn of(head: swell_engine::head::Head) -> Preview {
        let more = head.fields.len().saturating_sub(PREVIEW_COLUMNS);
        Preview {
            columns: head.fields.into_iter().take(PREVIEW_COLUMNS).map(|(n, _)| n).collect(),
            rows: head.rows.into_iter().map(|r| r.into_iter().take(PREVIEW_COLUMNS).collect()).collect(),
            more,
        }
    }
}

/// Escapes text for HTML (the few fragments not written by a template).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Where a plain form goes back to: the page it came from (with its filters) when that is a
/// page of the UI on this server.
pub fn back_to(headers: &HeaderMap, default: &str) -> String {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.strip_prefix(host).filter(|_| !host.is_empty()))
        .and_then(crate::session::ui_page)
        .unwrap_or_else(|| default.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preview_shows_at_most_its_columns_and_counts_the_rest() {
        let fields: Vec<(String, &'static str)> = (0..PREVIEW_COLUMNS + 7).map(|i| (format!("F{i}"), "Text")).collect();
        let row: Vec<Option<String>> = (0..fields.len()).map(|i| Some(i.to_string())).collect();
        let p = Preview::of(swell_engine::head::Head { fields, rows: vec![row.clone(), row] });
        assert_eq!((p.columns.len(), p.more, p.rows.len()), (PREVIEW_COLUMNS, 7, 2));
        assert!(p.rows.iter().all(|r| r.len() == PREVIEW_COLUMNS));
        let narrow = Preview::of(swell_engine::head::Head { fields: vec![("A".into(), "Text")], rows: vec![] });
        assert_eq!((narrow.columns, narrow.more), (vec!["A".to_string()], 0));
    }
}
