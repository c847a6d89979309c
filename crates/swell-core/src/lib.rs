//! swell-core: the domain vocabulary shared by every layer: what an asset is and which job it
//! starts, Salesforce ids with their key prefixes and checksums, the job state machine,
//! schedules and when they run, and the wire formats of dates.
//!
//! It does no I/O and knows no HTTP, SQL or DataFusion, so that every other crate can depend
//! on it cheaply.

pub mod asset;
pub mod dates;
pub mod id;
pub mod job;
pub mod json;
pub mod name;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod schedule;
pub mod sync;
pub mod user;

pub use asset::AssetKind;
pub use dates::DateLiteral;
pub use id::{IdError, KeyPrefix, SalesforceId};
pub use job::{FailureClass, JobStatus, JobType, NodeStatus, Transition, TransitionError, Trigger};
pub use name::{NameError, PathName};
pub use schedule::Schedule;
pub use sync::{ConnectionMode, NO_CHANGES, SyncStatus};
pub use user::Role;
