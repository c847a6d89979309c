//! The job state machine. One function, [`JobStatus::apply`], decides every legal status
//! change; the server and the scheduler only ever change a job's status through it.
//!
//! ```text
//! Queued --start--> Running --succeed--> Success
//!   |                  |---warn-------> Warning
//!   |                  |---fail-------> Failure
//!   |                  |---stop-------> Cancelled
//!   |                  `---crash------> Failure   (the server stopped while it ran)
//!   |---stop-------> Cancelled
//!   `---fail-------> Failure                      (could not start)
//! ```
//!
//! Finished states are final: a stop that arrives after the end is refused, so the caller can
//! say so instead of rewriting history.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Job status as the API shows it (PascalCase on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JobStatus {
    Queued,
    Running,
    Success,
    Warning,
    Failure,
    Cancelled,
}

/// What happens to a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transition {
    Start,
    Succeed,
    Warn,
    Fail,
    Stop,
    /// Found running after the server restarted: the run died with the server.
    Crash,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {from} job cannot {transition}")]
pub struct TransitionError {
    pub from: JobStatus,
    pub transition: Transition,
}

impl JobStatus {
    pub const ALL: [JobStatus; 6] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Success,
        JobStatus::Warning,
        JobStatus::Failure,
        JobStatus::Cancelled,
    ];

    /// The status after `t`, if `t` is legal now.
    pub fn apply(self, t: Transition) -> Result<JobStatus, TransitionError> {
        use JobStatus::*;
        use Transition::*;
        let next = match (self, t) {
            (Queued, Start) => Running,
            (Queued, Stop) | (Running, Stop) => Cancelled,
            (Queued, Fail) | (Running, Fail) | (Running, Crash) => Failure,
            (Running, Succeed) => Success,
            (Running, Warn) => Warning,
            _ => return Err(TransitionError { from: self, transition: t }),
        };
        Ok(next)
    }

    pub fn is_finished(self) -> bool {
        matches!(self, JobStatus::Success | JobStatus::Warning | JobStatus::Failure | JobStatus::Cancelled)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "Queued",
            JobStatus::Running => "Running",
            JobStatus::Success => "Success",
            JobStatus::Warning => "Warning",
            JobStatus::Failure => "Failure",
            JobStatus::Cancelled => "Cancelled",
        }
    }

    /// Parses any case (`running`, `RUNNING`), as the API accepts enum values.
    pub fn parse(s: &str) -> Option<JobStatus> {
        JobStatus::ALL.iter().copied().find(|j| j.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Transition::Start => "start",
            Transition::Succeed => "succeed",
            Transition::Warn => "finish with warnings",
            Transition::Fail => "fail",
            Transition::Stop => "be stopped",
            Transition::Crash => "be marked as interrupted",
        };
        f.write_str(s)
    }
}

/// The status of a job's node: one spelling, the nodes API's (lowercase), used by the
/// engine's progress, the store and the CLI alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum NodeStatus {
    /// Not started yet.
    #[serde(rename = "pending")]
    Queued,
    #[serde(rename = "running")]
    Running,
    #[serde(rename = "success")]
    Success,
    #[serde(rename = "error")]
    Failure,
    /// Stopped, or never ran because the run ended first.
    #[serde(rename = "aborted")]
    Cancelled,
}

impl NodeStatus {
    pub const ALL: [NodeStatus; 5] =
        [NodeStatus::Queued, NodeStatus::Running, NodeStatus::Success, NodeStatus::Failure, NodeStatus::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            NodeStatus::Queued => "pending",
            NodeStatus::Running => "running",
            NodeStatus::Success => "success",
            NodeStatus::Failure => "error",
            NodeStatus::Cancelled => "aborted",
        }
    }

    pub fn parse(s: &str) -> Option<NodeStatus> {
        NodeStatus::ALL.into_iter().find(|n| n.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for NodeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Kinds of jobs (lowercase on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobType {
    User,
    DataSync,
    RecipeV3,
}

impl JobType {
    pub const ALL: [JobType; 3] = [JobType::User, JobType::DataSync, JobType::RecipeV3];

    pub fn as_str(self) -> &'static str {
        match self {
            JobType::User => "user",
            JobType::DataSync => "datasync",
            JobType::RecipeV3 => "recipe_v3",
        }
    }

    /// Accepts the docs' names (`User`, `DataSync`, `Recipe_V3`) and the wire spellings in any
    /// case.
    pub fn parse(s: &str) -> Option<JobType> {
        let s = s.trim();
        JobType::ALL.iter().copied().find(|j| j.as_str().eq_ignore_ascii_case(s))
    }
}

/// Why a job failed, so that whoever watches can tell "the definition is wrong" from "the
/// source was down": stored with the job, and named at the start of its message
/// ([`FailureClass::message`]). A job stopped by a user did not fail and has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// The definition is wrong, or a node failed on the data: its author's to fix.
    Definition,
    /// A source (connection, connected object, dataset, file) could not be read.
    Source,
    /// The machine ran short (memory, disk space): the operator's to fix.
    Resources,
    /// Anything else: the server stopped while the job ran, a store error, a panic.
    Internal,
}

impl FailureClass {
    pub const ALL: [FailureClass; 4] =
        [FailureClass::Definition, FailureClass::Source, FailureClass::Resources, FailureClass::Internal];

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::Definition => "definition",
            FailureClass::Source => "source",
            FailureClass::Resources => "resources",
            FailureClass::Internal => "internal",
        }
    }

    pub fn parse(s: &str) -> Option<FailureClass> {
        FailureClass::ALL.iter().copied().find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// The job's message: the class in words, then what happened.
    pub fn message(self, what: &str) -> String {
        let class = match self {
            FailureClass::Definition => "Definition error",
            FailureClass::Source => "Source unavailable",
            FailureClass::Resources => "Resource limit",
            FailureClass::Internal => "Internal error",
        };
        format!("{class}: {what}")
    }
}

/// What started a job: a person (Start, Run Now), a schedule's tick, or an event (another
/// asset's run ended). Stored with the job; the Monitor shows it. A job started by a schedule
/// or an event names as its starter the person who last set that schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    User,
    Schedule,
    Event,
}

impl Trigger {
    pub const ALL: [Trigger; 3] = [Trigger::User, Trigger::Schedule, Trigger::Event];

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::User => "user",
            Trigger::Schedule => "schedule",
            Trigger::Event => "event",
        }
    }

    pub fn parse(s: &str) -> Option<Trigger> {
        Trigger::ALL.iter().copied().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for FailureClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use JobStatus::*;
    use Transition::*;

    /// Every (status, transition) pair, with the expected outcome.
    #[test]
    fn the_whole_table() {
        let transitions = [Start, Succeed, Warn, Fail, Stop, Crash];
        let expected = |s: JobStatus, t: Transition| -> Option<JobStatus> {
            match (s, t) {
                (Queued, Start) => Some(Running),
                (Queued, Stop) => Some(Cancelled),
                (Queued, Fail) => Some(Failure),
                (Running, Succeed) => Some(Success),
                (Running, Warn) => Some(Warning),
                (Running, Fail) => Some(Failure),
                (Running, Stop) => Some(Cancelled),
                (Running, Crash) => Some(Failure),
                _ => None,
            }
        };
        let mut legal = 0;
        for s in JobStatus::ALL {
            for t in transitions {
                let got = s.apply(t).ok();
                assert_eq!(got, expected(s, t), "{s} + {t}");
                if got.is_some() {
                    legal += 1;
                    assert!(!s.is_finished(), "a finished job never changes");
                }
            }
        }
        assert_eq!(legal, 8);
    }

    #[test]
    fn enums_parse_in_any_case() {
        assert_eq!(JobStatus::parse("running"), Some(Running));
        assert_eq!(JobStatus::parse("CANCELLED"), Some(Cancelled));
        assert_eq!(JobType::parse("DataSync"), Some(JobType::DataSync));
        assert_eq!(JobType::parse("Recipe_V3"), Some(JobType::RecipeV3));
        assert_eq!(Queued.apply(Succeed).unwrap_err().to_string(), "a Queued job cannot succeed");
    }
}
