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

pub mod dateformat;
pub mod dates;
pub mod definition;
pub mod error;
pub mod flow;
pub mod nodes;
pub mod recipe;
pub mod report;
pub mod run;
pub mod saql;
pub mod schema;
pub mod source;
pub mod storage;
mod tap;

pub use datafusion;
pub use error::{EngineError, FailureClass, Problem, Problems};
pub use flow::{Dataflow, validate};
pub use report::{NodeReport, NodeStatus, Progress};
pub use run::{CommittedDataset, Run, RunOptions, RunOutcome, new_context};
pub use source::{Catalog, FileCatalog, SourceRef};
pub use storage::DataDir;
pub use tokio_util::sync::CancellationToken;
