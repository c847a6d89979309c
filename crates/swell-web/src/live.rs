//! Live pages: one feed of changed jobs for the whole server, and a server-sent event stream
//! per open page that takes from it what the page shows.
//!
//! The feed is one task. It wakes when this process writes a job or its nodes
//! (`Store::watch_jobs`) and every second, reads the jobs that changed since it last looked
//! (`Store::jobs_changed_since`, one indexed query however many pages are open) and sends
//! them to every stream. Reading by time rather than passing the writes along means that jobs
//! run by another server sharing the database show up too, within the second. It reads a few
//! seconds back each time (a write committed late is still seen) and sends a job again only
//! when it changed again. At most 10 reads a second, and none while no page is open.
//!
//! A stream first sends what its page shows now (the page was rendered a moment before and
//! may have missed a change), then each change as htmx out-of-band swaps: a Monitor row
//! replaced, a new job prepended on the first page when it passes the page's filter; the job
//! page's header, nodes and Gantt. A stream that falls behind sends its page whole again.

use crate::input::Params;
use crate::pages::job::{JobLive, Perms};
use crate::pages::monitor::{self, JobRow, MonitorQuery, RowTemplate, RowsTemplate};
use crate::session::Viewer;
use crate::{BASE, Web};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures::Stream;
use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use swell_app::Action;
use swell_core::SalesforceId;
use swell_store::{JobRecord, Store};
use tokio::sync::{broadcast, watch};

/// How far back each read looks: a write dated before the last read but committed after it.
const LOOKBACK: chrono::Duration = chrono::Duration::seconds(3);
/// How often the feed reads when nothing in this process wrote (other servers' jobs).
const POLL: Duration = Duration::from_secs(1);
/// The least time between two reads.
const MIN_GAP: Duration = Duration::from_millis(100);

/// The server's one feed of changed jobs.
#[derive(Clone)]
pub struct Feed {
    tx: broadcast::Sender<Arc<Vec<JobRecord>>>,
    closing: watch::Receiver<bool>,
}

impl Feed {
    pub fn start(store: Store, closing: watch::Receiver<bool>) -> Feed {
        let (tx, _) = broadcast::channel(256);
        tokio::spawn(run(store, tx.clone(), closing.clone()));
        Feed { tx, closing }
    }
}

async fn run(store: Store, tx: broadcast::Sender<Arc<Vec<JobRecord>>>, mut closing: watch::Receiver<bool>) {
    let mut writes = store.watch_jobs();
    let mut since = Utc::now() - LOOKBACK;
    // what was last sent of each job changed within the look-back
    let mut sent: HashMap<SalesforceId, DateTime<Utc>> = HashMap::new();
    loop {
        tokio::select! {
            r = writes.changed() => if r.is_err() { break },
            _ = tokio::time::sleep(POLL) => {}
            _ = closing.changed() => break,
        }
        if tx.receiver_count() == 0 {
            // nobody watches: nothing to read, and nothing older to send when someone comes
            since = Utc::now() - LOOKBACK;
            sent.clear();
            continue;
        }
        let from = since - LOOKBACK;
        match store.jobs_changed_since(from, 2000).await {
            Ok(jobs) => {
                let fresh: Vec<JobRecord> =
                    jobs.into_iter().filter(|j| sent.get(&j.id) != Some(&j.changed_at)).collect();
                for j in &fresh {
                    since = since.max(j.changed_at);
                    sent.insert(j.id.clone(), j.changed_at);
                }
                sent.retain(|_, at| *at >= from);
                if !fresh.is_empty() {
                    let _ = tx.send(Arc::new(fresh));
                }
            }
            Err(e) => tracing::warn!(error = %e, "the live feed could not read changed jobs"),
        }
        tokio::time::sleep(MIN_GAP).await;
    }
}

/// An event stream, with a comment every 15 seconds so that proxies keep it open.
fn sse(stream: impl Stream<Item = Result<Event, Infallible>> + Send + 'static) -> Response {
    Sse::new(stream).keep_alive(KeepAlive::default()).into_response()
}

/// What a stream does between sends: waits for the feed, the server's shutdown, or the time
/// to check its viewer again.
enum Next {
    Changed(Arc<Vec<JobRecord>>),
    Lagged,
    Closed,
}

/// What a stream listens to.
struct Listen {
    rx: broadcast::Receiver<Arc<Vec<JobRecord>>>,
    closing: watch::Receiver<bool>,
    web: Web,
    token: String,
    checked: tokio::time::Instant,
}

impl Listen {
    fn new(web: &Web, viewer: &Viewer) -> Listen {
        Listen {
            rx: web.0.feed.tx.subscribe(),
            closing: web.0.feed.closing.clone(),
            web: web.clone(),
            token: viewer.token.clone(),
            checked: tokio::time::Instant::now(),
        }
    }

    /// The next thing to do; `Closed` also when the page went away (`send`'s stream dropped).
    async fn next(&mut self, send: &Sender) -> Next {
        loop {
            if *self.closing.borrow() {
                return Next::Closed;
            }
            let recheck = self.checked + self.web.0.settings.live_recheck;
            tokio::select! {
                r = self.rx.recv() => return match r {
                    Ok(jobs) => Next::Changed(jobs),
                    Err(broadcast::error::RecvError::Lagged(_)) => Next::Lagged,
                    Err(broadcast::error::RecvError::Closed) => Next::Closed,
                },
                _ = self.closing.changed() => return Next::Closed,
                _ = send.0.closed() => return Next::Closed,
                _ = tokio::time::sleep_until(recheck) => {
                    self.checked = tokio::time::Instant::now();
                    match self.web.app().authenticate(&self.token, &self.web.0.admin_token).await {
                        Ok(Some(_)) => continue,
                        _ => return Next::Closed,
                    }
                }
            }
        }
    }
}

/// The Monitor's stream: its rows as they change, new jobs on the first page.
pub async fn monitor(State(web): State<Web>, viewer: Viewer, Params(query): Params<MonitorQuery>) -> Response {
    let (filter, _) = query.filter();
    let first_page = filter.before.is_none() && filter.after.is_none();
    let can_stop = viewer.actor.may(Action::StopJob).is_ok();
    let mut listen = Listen::new(&web, &viewer);
    let stream = async_stream(move |mut send| async move {
        // the page as it is now, whole: it may have changed since the page was rendered
        let mut known: HashSet<SalesforceId> = HashSet::new();
        let mut whole = true;
        loop {
            if whole {
                whole = false;
                let Ok((jobs, _)) = web.app().store.job_page(&filter).await else { return };
                known = jobs.iter().map(|j| j.id.clone()).collect();
                let now = Utc::now();
                let rows: Vec<JobRow> = jobs.iter().map(|j| JobRow::of(j, now)).collect();
                let Ok(html) = (RowsTemplate { rows: &rows, can_stop, base: BASE, oob: "outerMorph" }).render() else {
                    return;
                };
                if !send.html(html).await {
                    return;
                }
            }
            let jobs = match listen.next(&send).await {
                Next::Changed(jobs) => jobs,
                Next::Lagged => {
                    whole = true;
                    continue;
                }
                Next::Closed => return,
            };
            let now = Utc::now();
            let mut html = String::new();
            let mut added = false;
            for job in jobs.iter() {
                let row = JobRow::of(job, now);
                if known.contains(&job.id) {
                    match (RowTemplate { row: &row, can_stop, base: BASE, row_oob: "outerMorph" }).render() {
                        Ok(h) => html.push_str(&h),
                        Err(_) => return,
                    }
                } else if first_page && monitor::matches(&filter, job) {
                    // a new job: at the top of the first page
                    let Ok(h) = (RowTemplate { row: &row, can_stop, base: BASE, row_oob: "" }).render() else { return };
                    html.insert_str(0, &format!("<tbody hx-swap-oob=\"afterbegin:#job-rows\">{h}</tbody>"));
                    known.insert(job.id.clone());
                    added = true;
                }
            }
            if added && let Ok(mut summary) = monitor::runs_today(&web).await {
                summary.oob = true;
                if let Ok(h) = summary.render() {
                    html.push_str(&h);
                }
            }
            if !html.is_empty() && !send.html(html).await {
                return;
            }
        }
    });
    sse(stream)
}

/// A job page's stream: its header, nodes and Gantt as they change; it ends once the job has.
pub async fn job(State(web): State<Web>, viewer: Viewer, Path(id): Path<String>) -> Response {
    let perms = Perms::of(&viewer);
    let id = match web.app().job(&id).await {
        Ok(job) => job.id,
        Err(e) => return crate::pages::error(&e),
    };
    let mut listen = Listen::new(&web, &viewer);
    let stream = async_stream(move |mut send| async move {
        let mut whole = true;
        let mut shape = None;
        loop {
            let job = if whole {
                whole = false;
                match web.app().store.job(&id).await {
                    Ok(j) => {
                        shape = crate::pages::job::shape_of(&web, &j).await;
                        j
                    }
                    Err(_) => return,
                }
            } else {
                match listen.next(&send).await {
                    Next::Changed(jobs) => match jobs.iter().find(|j| j.id == id) {
                        Some(j) => j.clone(),
                        None => continue,
                    },
                    Next::Lagged => {
                        whole = true;
                        continue;
                    }
                    Next::Closed => return,
                }
            };
            let Ok(nodes) = web.app().store.nodes(&id).await else { return };
            let Ok(html) = JobLive::of(&job, &nodes, shape.as_deref(), Utc::now(), "outerMorph", &perms).render()
            else {
                return;
            };
            if !send.html(html).await {
                return;
            }
            if job.status.is_finished() {
                // the page stops listening (`hx-sse:close="done"`)
                let _ = send.event("done").await;
                return;
            }
        }
    });
    sse(stream)
}

/// What a stream's task sends with: HTML to swap (unnamed messages) and named events. Each
/// send says false once the page is gone.
pub struct Sender(tokio::sync::mpsc::Sender<Event>);

impl Sender {
    async fn html(&mut self, html: String) -> bool {
        self.0.send(Event::default().data(html)).await.is_ok()
    }

    async fn event(&mut self, name: &str) -> bool {
        self.0.send(Event::default().event(name).data("")).await.is_ok()
    }
}

/// A stream fed by a task: the task ends when the page goes (its sends fail) or the server
/// shuts down.
fn async_stream<F, Fut>(body: F) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static
where
    F: FnOnce(Sender) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel::<Event>(16);
    tokio::spawn(body(Sender(tx)));
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) })
}
