//! The run report: per node status, start, duration and row counts, readable live while the
//! run executes. Writers are the taps inside running plans and the runner; readers (the CLI's
//! progress bars, the job runner that saves them for the nodes API) take
//! [`Progress::snapshot`]s or wait for [`Progress::changed`].

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tokio::sync::watch;

pub use swell_core::NodeStatus;

/// What one node did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeReport {
    pub name: String,
    pub action: String,
    pub status: NodeStatus,
    pub start_date: Option<DateTime<Utc>>,
    /// Milliseconds from the node's first row request to its last row.
    pub duration_ms: Option<u64>,
    pub input_rows: u64,
    pub input_rows_failed: u64,
    pub output_rows: u64,
    pub message: Option<String>,
}

#[derive(Debug)]
struct NodeState {
    name: String,
    action: String,
    inputs: Vec<usize>,
    status: NodeStatus,
    start_date: Option<DateTime<Utc>>,
    started: Option<Instant>,
    last_activity: Option<Instant>,
    duration_ms: Option<u64>,
    message: Option<String>,
}

/// Live state of a run, shared between the executing plans and observers.
#[derive(Debug)]
pub struct Progress {
    nodes: Mutex<Vec<NodeState>>,
    rows: Vec<AtomicU64>,
    /// The most rows one node may produce (see [`crate::run::MAX_NODE_ROWS`]).
    row_limit: AtomicU64,
    tick: watch::Sender<u64>,
}

impl Progress {
    /// `nodes`: (name, action, indexes of input nodes).
    pub fn new(nodes: Vec<(String, String, Vec<usize>)>) -> Self {
        let rows = nodes.iter().map(|_| AtomicU64::new(0)).collect();
        let states = nodes
            .into_iter()
            .map(|(name, action, inputs)| NodeState {
                name,
                action,
                inputs,
                status: NodeStatus::Queued,
                start_date: None,
                started: None,
                last_activity: None,
                duration_ms: None,
                message: None,
            })
            .collect();
        Progress {
            nodes: Mutex::new(states),
            rows,
            row_limit: AtomicU64::new(crate::run::MAX_NODE_ROWS),
            tick: watch::channel(0).0,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<NodeState>> {
        // a panic while holding the lock cannot leave counters inconsistent: recover the data
        self.nodes.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn bump(&self) {
        self.tick.send_modify(|t| *t += 1);
    }

    /// A receiver that changes whenever the report does.
    pub fn changed(&self) -> watch::Receiver<u64> {
        self.tick.subscribe()
    }

    pub(crate) fn node_started(&self, node: usize) {
        let mut nodes = self.lock();
        let n = &mut nodes[node];
        if n.started.is_none() {
            n.started = Some(Instant::now());
            n.start_date = Some(Utc::now());
            n.status = NodeStatus::Running;
            drop(nodes);
            self.bump();
        }
    }

    /// Counts rows out of `node`; past the row limit, the message to fail the run with.
    pub(crate) fn add_rows(&self, node: usize, rows: u64) -> Result<(), String> {
        let total = self.rows[node].fetch_add(rows, Ordering::Relaxed) + rows;
        let mut nodes = self.lock();
        nodes[node].last_activity = Some(Instant::now());
        let name = nodes[node].name.clone();
        drop(nodes);
        self.bump();
        let limit = self.row_limit.load(Ordering::Relaxed);
        if total > limit {
            return Err(format!(
                "the node {name} produced more than {limit} rows, the most one node may produce (a join or an \
                 append that multiplies rows?)"
            ));
        }
        Ok(())
    }

    pub(crate) fn set_row_limit(&self, limit: u64) {
        self.row_limit.store(limit, Ordering::Relaxed);
    }

    /// Marks nodes finished with `status`; a node that never started gets no duration.
    pub(crate) fn finish(&self, node_ids: &[usize], status: NodeStatus, message: Option<&str>) {
        let mut nodes = self.lock();
        let now = Instant::now();
        for &i in node_ids {
            let n = &mut nodes[i];
            if matches!(n.status, NodeStatus::Success | NodeStatus::Failure | NodeStatus::Cancelled) {
                continue;
            }
            if n.started.is_none() && status == NodeStatus::Success {
                n.started = Some(now);
                n.start_date = Some(Utc::now());
            }
            n.status = status;
            n.duration_ms =
                n.started.map(|s| n.last_activity.unwrap_or(now).max(s).duration_since(s).as_millis() as u64);
            if let Some(m) = message {
                n.message = Some(m.to_string());
            }
        }
        drop(nodes);
        self.bump();
    }

    /// After a failure: nodes still running failed with it (`message`, when the failure names
    /// no node of its own), nodes that never started are aborted: they did not fail, the run
    /// ended before them.
    pub(crate) fn fail_rest(&self, message: Option<&str>) {
        let running: Vec<usize> =
            self.lock().iter().enumerate().filter(|(_, n)| n.status == NodeStatus::Running).map(|(i, _)| i).collect();
        self.finish(&running, NodeStatus::Failure, message);
        self.finish_rest(NodeStatus::Cancelled, None);
    }

    /// Marks every unfinished node (after a failure or a stop).
    pub(crate) fn finish_rest(&self, status: NodeStatus, message: Option<&str>) {
        let ids: Vec<usize> = (0..self.rows.len()).collect();
        self.finish(&ids, status, message);
    }

    pub fn snapshot(&self) -> Vec<NodeReport> {
        let nodes = self.lock();
        nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let live_ms = match (n.duration_ms, n.started) {
                    (Some(d), _) => Some(d),
                    (None, Some(s)) => Some(s.elapsed().as_millis() as u64),
                    _ => None,
                };
                NodeReport {
                    name: n.name.clone(),
                    action: n.action.clone(),
                    status: n.status,
                    start_date: n.start_date,
                    duration_ms: live_ms,
                    input_rows: n.inputs.iter().map(|&j| self.rows[j].load(Ordering::Relaxed)).sum(),
                    input_rows_failed: 0,
                    output_rows: self.rows[i].load(Ordering::Relaxed),
                    message: n.message.clone(),
                }
            })
            .collect()
    }
}
