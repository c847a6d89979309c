//! Typed errors of the engine.
//!
//! Two families: [`Problem`]s found while checking a definition (always reported together, each
//! with the node name and JSON path), and [`EngineError`]s raised while a run executes.

use std::fmt;

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
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

/// What kind of failure, so that a monitor can say "your dataflow is wrong" apart from "the
/// source was down".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    User,
    SourceUnavailable,
    Cancelled,
    Internal,
}

impl EngineError {
    pub fn class(&self) -> FailureClass {
        match self {
            EngineError::Invalid(_) | EngineError::Node { .. } => FailureClass::User,
            EngineError::Source(_) => FailureClass::SourceUnavailable,
            EngineError::Cancelled => FailureClass::Cancelled,
            EngineError::Io(_) | EngineError::Internal(_) => FailureClass::Internal,
        }
    }

    pub(crate) fn node(node: &str, err: impl fmt::Display) -> Self {
        EngineError::Node { node: node.to_string(), message: clean_df_message(&err.to_string()) }
    }
}

/// DataFusion prefixes messages with layers of context ("Arrow error: External error: ...")
/// and chains causes with "caused by"; users need the sentences, once each, on one line.
pub fn clean_df_message(msg: &str) -> String {
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
