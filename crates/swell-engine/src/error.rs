//! Typed errors of the engine.
//!
//! Two families: [`Problem`]s found while checking a definition (always reported together, each
//! with the node name and JSON path), and [`EngineError`]s raised while a run executes.

use std::fmt;
pub use swell_core::FailureClass;

/// One thing wrong with a definition, located by node and JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The node the problem belongs to; empty for problems of the whole document.
    pub node: String,
    /// JSON path below the node, e.g. `parameters.computedFields[2].saqlExpression`.
    pub path: String,
    pub message: String,
}

impl Problem {
    pub fn new(node: impl Into<String>, path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem { node: node.into(), path: path.into(), message: message.into() }
    }

    /// The full location, `Node.path`, as users see it.
    pub fn location(&self) -> String {
        match (self.node.is_empty(), self.path.is_empty()) {
            (true, true) => "(definition)".to_string(),
            (true, false) => self.path.clone(),
            (false, true) => self.node.clone(),
            (false, false) => format!("{}.{}", self.node, self.path),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.node.is_empty() && self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.location(), self.message)
        }
    }
}

/// Every problem found in a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// Why a run failed. The class tells a user error apart from an unavailable source or a bug.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The definition is invalid; nothing was read.
    #[error("the definition is invalid:\n{0}")]
    Invalid(Problems),
    /// A node failed on the data (bad value, overflow, missing column in a file...).
    #[error("node {node} failed: {message}")]
    Node { node: String, message: String },
    /// An input (connected object, dataset, file) could not be read.
    #[error("source unavailable: {0}")]
    Source(String),
    /// The run was stopped before it finished; nothing was committed.
    #[error("the run was stopped")]
    Cancelled,
    /// The machine ran short of something the run needs (disk space kept free).
    #[error("{0}")]
    Resources(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl EngineError {
    /// What kind of failure it is; `None` for a stopped run, which did not fail. A node that
    /// failed on the data is the definition's (it met values it does not handle), unless it
    /// ran out of memory: the engine's memory limit is the operator's setting.
    pub fn class(&self) -> Option<FailureClass> {
        match self {
            EngineError::Node { message, .. } if message.contains(MEMORY) => Some(FailureClass::Resources),
            EngineError::Invalid(_) | EngineError::Node { .. } => Some(FailureClass::Definition),
            EngineError::Source(_) => Some(FailureClass::Source),
            EngineError::Cancelled => None,
            EngineError::Resources(_) => Some(FailureClass::Resources),
            EngineError::Io(_) | EngineError::Internal(_) => Some(FailureClass::Internal),
        }
    }

    pub(crate) fn node(node: &str, err: impl fmt::Display) -> Self {
        EngineError::Node { node: node.to_string(), message: clean_df_message(&err.to_string()) }
    }
}

/// DataFusion prefixes messages with layers of context ("Arrow error: External error: ...")
/// and chains causes with "caused by"; users need the sentences, once each, on one line.
pub fn clean_df_message(msg: &str) -> String {
    if let Some(m) = memory_message(msg) {
        return m;
    }
    const PREFIXES: [&str; 14] = [
        "Arrow error: ",
        "External error: ",
        "Execution error: ",
        "Error during planning: ",
        "Invalid argument error: ",
        "Cast error: ",
        "Csv error: ",
        "Internal error: ",
        "Schema error: ",
        "Object Store error: ",
        "Parquet error: ",
        "Parser error: ",
        "Compute error: ",
        "Optimizer rule 'simplify_expressions' failed",
    ];
    let mut parts: Vec<String> = Vec::new();
    for part in msg.split("caused by") {
        let mut m = part.trim();
        loop {
            let before = m;
            for prefix in PREFIXES {
                if let Some(rest) = m.strip_prefix(prefix) {
                    m = rest.trim();
                }
            }
            if m == before {
                break;
            }
        }
        if !m.is_empty() && !parts.iter().any(|p| p == m) {
            parts.push(m.to_string());
        }
    }
    parts.join(": ")
}

/// What a node's message says when the run's memory limit stopped it.
const MEMORY: &str = "needs more memory than its limit";

/// DataFusion's "Resources exhausted" names its operators and reservations (`HashJoinInput[1]`,
/// `ExternalSorterMerge[0]`, top consumers by bytes): none of that is a user's word. Says
/// what ran out, in the node's terms, and what to change.
fn memory_message(msg: &str) -> Option<String> {
    if !msg.contains("Resources exhausted") {
        return None;
    }
    // "Failed to allocate additional 12.0 MB for HashJoinInput[0] with ..."
    let consumer = msg.split("Failed to allocate additional ").nth(1).and_then(|r| r.split(" for ").nth(1));
    let what = match consumer.unwrap_or_default() {
        c if c.starts_with("HashJoin") || c.starts_with("NestedLoopJoin") || c.starts_with("CrossJoin") => {
            "the lookup side of a join (augment's right input, a recipe join's right side) is held in memory and"
        }
        c if c.contains("Sort") => "a sort (computeRelative, sort, a window)",
        c if c.contains("Aggregate") => "a grouping (aggregate, a distinct count)",
        _ => "an operator",
    };
    Some(format!(
        "The run {MEMORY}: {what} did not fit. Raise the limit with --memory-mb (SWELL_RUN_MEMORY_MB) \
         (1536 unless set), or make that input smaller (filter it, keep fewer fields)."
    ))
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// Suggests the closest name ("did you mean ...?") for a misspelt field or node.
pub fn suggest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wanted_lower = wanted.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&wanted_lower, &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `unknown field 'Amout' (did you mean 'Amount'?)`
pub fn unknown(kind: &str, wanted: &str, suggestion: Option<&str>) -> String {
    match suggestion {
        Some(s) => format!("unknown {kind} '{wanted}' (did you mean '{s}'?)"),
        None => format!("unknown {kind} '{wanted}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hostile probe of issue 12: a chain of big augments failed with DataFusion's memory
    /// report (operator names, reservations, byte counts) as the job's message.
    #[test]
    fn running_out_of_memory_says_what_in_a_users_words() {
        let raw = "Resources exhausted: Additional allocation failed for HashJoinInput[1] with top memory \
                   consumers (across reservations) as:\n  HashJoinInput[1]#31(can spill: false) consumed 1.4 GB, \
                   peak 1.4 GB.\nError: Failed to allocate additional 3.2 MB for HashJoinInput[1] with 1.4 GB \
                   already allocated for this reservation - 1.2 MB remain available for the total pool";
        let m = clean_df_message(raw);
        assert!(m.contains("lookup side of a join") && m.contains("SWELL_RUN_MEMORY_MB"), "{m}");
        assert!(!m.contains("HashJoin") && !m.contains("reservation"), "{m}");
        let sort = clean_df_message(
            "Resources exhausted: Failed to allocate additional 1 MB for ExternalSorterMerge[0] with 0 B",
        );
        assert!(sort.contains("a sort"), "{sort}");
        assert_eq!(clean_df_message("Execution error: Arrow error: Divide by zero error"), "Divide by zero error");
    }
}
