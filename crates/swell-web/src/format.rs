//! How the UI writes things people read: statuses (an icon and a word, never colour alone),
//! times (with their zone), durations, job types and triggers. Templates call these; no
//! template spells a status or formats a date itself.

use chrono::{DateTime, Utc};
use std::fmt;
use swell_core::{JobStatus, JobType, NodeStatus, Trigger};
use swell_store::{JobRecord, NodeRecord, NodeState};

/// A status as shown: a symbol that differs by shape, a word, and a class for its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub icon: &'static str,
    pub word: &'static str,
    /// `queued`, `running`, `success`, `warning`, `failure`, `cancelled`
    pub class: &'static str,
}

pub fn job_status(s: JobStatus) -> Status {
    match s {
        JobStatus::Queued => Status { icon: "◷", word: "Queued", class: "queued" },
        JobStatus::Running => Status { icon: "▶", word: "Running", class: "running" },
        JobStatus::Success => Status { icon: "✓", word: "Success", class: "success" },
        JobStatus::Warning => Status { icon: "⚠", word: "Warning", class: "warning" },
        JobStatus::Failure => Status { icon: "✕", word: "Failed", class: "failure" },
        JobStatus::Cancelled => Status { icon: "■", word: "Cancelled", class: "cancelled" },
    }
}

pub fn node_status(s: NodeStatus) -> Status {
    match s {
        NodeStatus::Queued => Status { icon: "◷", word: "Pending", class: "queued" },
        NodeStatus::Running => Status { icon: "▶", word: "Running", class: "running" },
        NodeStatus::Success => Status { icon: "✓", word: "Success", class: "success" },
        NodeStatus::Failure => Status { icon: "✕", word: "Failed", class: "failure" },
        NodeStatus::Cancelled => Status { icon: "–", word: "Not run", class: "cancelled" },
    }
}

/// A sync that found nothing new (`swell_core::NO_CHANGES`): not a bare Success.
pub const NO_CHANGES: Status = Status { icon: "=", word: "No changes", class: "success" };

/// A node of a sync: No changes where its object had nothing new.
pub fn sync_node_status(n: &NodeState) -> Status {
    if n.unchanged() { NO_CHANGES } else { node_status(n.status) }
}

/// Whether a sync's objects all had nothing new.
pub fn all_unchanged(nodes: &[NodeRecord]) -> bool {
    !nodes.is_empty() && nodes.iter().all(|n| n.state.unchanged())
}

/// A sync job: No changes when it succeeded and none of its objects had anything new
/// (`unchanged`: [`all_unchanged`], or the store's `LastRun::unchanged`).
pub fn sync_status(status: JobStatus, unchanged: bool) -> Status {
    if status == JobStatus::Success && unchanged { NO_CHANGES } else { job_status(status) }
}

/// The words for a job's type, as Data Manager's Monitor says them.
pub fn job_type(t: JobType) -> &'static str {
    match t {
        JobType::User => "Dataflow",
        JobType::RecipeV3 => "Recipe",
        JobType::DataSync => "Data sync",
    }
}

/// Who or what started a job: the person, or the schedule or event with the person who set it.
pub fn trigger(job: &JobRecord) -> String {
    match job.trigger {
        Trigger::User => job.started_by.name.clone(),
        Trigger::Schedule => format!("Schedule (set by {})", job.started_by.name),
        Trigger::Event => format!("Event (set by {})", job.started_by.name),
    }
}

/// A moment, written in UTC with its zone (`2026-12-02 15:38:04 UTC`); the page's script
/// rewrites it in the viewer's zone when they switch to local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Time(pub DateTime<Utc>);

impl Time {
    /// The machine-readable form for `<time datetime>`.
    pub fn iso(&self) -> String {
        self.0.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d %H:%M:%S UTC"))
    }
}

/// A duration in the largest units that matter: `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`.
pub fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1_000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{} min {:02} s", ms / 60_000, (ms / 1000) % 60)
    } else {
        format!("{} h {:02} min", ms / 3_600_000, (ms / 60_000) % 60)
    }
}

/// How long a job took, or has taken so far while it runs; empty before it starts.
pub fn job_duration(job: &JobRecord, now: DateTime<Utc>) -> String {
    match (job.executed_date, job.end_date) {
        (Some(start), Some(end)) => duration((end - start).num_milliseconds()),
        (Some(start), None) => duration((now - start).num_milliseconds()),
        _ => String::new(),
    }
}

/// The first line of a message, at most `max` characters (the Monitor's failed rows).
pub fn first_line(message: &str, max: usize) -> String {
    let line = message.lines().find(|l| !l.trim().is_empty()).unwrap_or_default().trim();
    if line.chars().count() > max {
        let cut: String = line.chars().take(max).collect();
        format!("{cut}…")
    } else {
        line.to_string()
    }
}

/// A count with thousands separated: `1,234,567`.
pub fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_use_the_largest_units_that_matter() {
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(12_345), "12.3 s");
        assert_eq!(duration(245_000), "4 min 05 s");
        assert_eq!(duration(7_380_000), "2 h 03 min");
        assert_eq!(duration(-5), "0 ms");
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(-12_000), "-12,000");
    }

    #[test]
    fn a_first_line_skips_blank_lines_and_is_cut() {
        assert_eq!(first_line("\n  boom: x\nmore", 100), "boom: x");
        assert_eq!(first_line("abcdef", 3), "abc…");
    }

    #[test]
    fn every_status_has_its_own_icon_and_word() {
        let shown: Vec<Status> = JobStatus::ALL.iter().map(|s| job_status(*s)).collect();
        for (i, a) in shown.iter().enumerate() {
            for b in &shown[i + 1..] {
                assert_ne!(a.icon, b.icon, "{} and {} share an icon", a.word, b.word);
                assert_ne!(a.word, b.word);
            }
        }
    }
}
