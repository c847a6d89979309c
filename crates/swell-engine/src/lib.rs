//! swell-engine: runs CRM Analytics dataflow definitions and Data Prep recipes on Apache
//! DataFusion.
//!
//! It owns the dataflow language (parsing, validation with every problem reported at once,
//! SAQL expressions), the translation of each transformation into DataFusion plans, the
//! execution of a run with live per-node progress and cancellation, and the on-disk format of
//! dataset versions. It knows nothing of HTTP, SQL metadata stores or job queues: the layers
//! above call [`Run::execute`] and read [`Progress`].
//!
//! Concurrency: a run is one async task on the caller's tokio runtime; DataFusion spreads each
//! plan over the configured number of partitions. Runs share nothing but the data dir, where
//! dataset versions are committed atomically (see [`storage`]).
//!
//! Stack: checking and planning recurse with the depth of expressions and node chains, which
//! are bounded (`flow::MAX_CHAIN`, `saql::parser::MAX_HEIGHT`, `recipe::sql::MAX_FORMULA_OPERATORS`)
//! but deeper than a default 2 MiB thread holds in a debug build. Callers run the engine on
//! threads of [`STACK_SIZE`]: a runtime built with it ([`runtime_builder`]) or [`on_deep_stack`].

pub mod dateformat;
pub mod dates;
pub mod definition;
pub mod error;
pub mod flow;
pub mod head;
pub mod nodes;
pub mod recipe;
pub mod report;
pub mod run;
pub mod saql;
pub mod schema;
pub mod source;
pub mod storage;
pub mod stored;
mod tap;

pub use datafusion;
pub use error::{EngineError, FailureClass, Problem, Problems};
pub use flow::{Dataflow, validate, validate_isolated};
pub use report::{NodeReport, NodeStatus, Progress};
pub use run::{CommittedDataset, Run, RunOptions, RunOutcome, StagedDataset, new_context};
pub use source::{Catalog, FileCatalog, SourceRef};
pub use storage::DataDir;
pub use tokio_util::sync::CancellationToken;

/// The stack of threads that check or run definitions. Only the pages touched are ever
/// committed, so a large reservation costs address space, not memory.
pub const STACK_SIZE: usize = 256 * 1024 * 1024;

/// A multi-threaded tokio runtime whose threads have [`STACK_SIZE`] stacks.
pub fn runtime_builder() -> tokio::runtime::Builder {
    let mut b = tokio::runtime::Builder::new_multi_thread();
    b.thread_stack_size(STACK_SIZE).enable_all();
    b
}

/// Runs `f` on a thread with a [`STACK_SIZE`] stack and returns its result; a panic in `f`
/// is returned as an error message instead of unwinding into the caller.
pub fn on_deep_stack<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> Result<R, String> {
    let handle = std::thread::Builder::new()
        .name("swell-check".into())
        .stack_size(STACK_SIZE)
        .spawn(f)
        .map_err(|e| format!("cannot start a thread: {e}"))?;
    handle.join().map_err(|p| panic_message(p.as_ref()))
}

/// The message of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}
