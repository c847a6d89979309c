//! swell-app: the use cases of swell, between the front doors (the REST API, `swell demo`, the
//! coming web UI) and the layers below (store, scheduler, engine, connectors).
//!
//! Every change goes through here: start and stop a job, Run Now on a connection, put and
//! delete a schedule, create, change, revert and delete a dataflow or a recipe, create, change
//! and delete a connection (secrets sealed, masked secrets kept, refused while something uses
//! it), add, change and remove connected objects, restore a dataset version. Each use case
//! checks its input by the one rule of each concept (API names, text limits, definitions,
//! schedules), answers the one error table ([`error`]), and takes the acting user
//! ([`Actor`]), so that who may do what has one place to live. Front doors read requests and
//! write representations; none calls the store to change something.
//!
//! Reads (find an asset by id or API name) are here too, so that every door resolves a path
//! the same way; listing and representations stay with each door.

mod audit;
mod clients;
pub mod error;
mod ids;
mod text;

mod connections;
mod dataflows;
mod datasets;
mod jobs;
mod objects;
mod recipes;
mod schedules;
mod users;

pub use audit::{Action, Allowed, Asset, AuditEvent, AuditQuery, Outcome, Subject};
pub use clients::{MAX_JWT_LIFE, NewClient};
pub use connections::{ConnectionChange, MASK, NewConnection, type_of};
pub use dataflows::{DefinitionChange, NewDefinition, validate_dataflow};
pub use datasets::PREVIEW_ROWS;
pub use error::{ApiError, ApiResult, ErrorCode};
pub use ids::{IdOrName, id_of, id_or_name};
pub use jobs::job_id;
pub use objects::{FieldChanges, NewObject, connection_mode};
pub use recipes::{NOTIFICATION_LEVELS, NotificationChange, validate_recipe};
pub use schedules::Target;
/// The kinds of connection, with their properties (what a connection form asks for).
pub use swell_connect::ConnectorType;
pub use text::{check_text, is_direction_override, name_and_label, unchanged_name};
pub use users::{
    LOCKOUT_WINDOW, Login, LoginRefused, MAX_FAILED_LOGINS, MAX_FAILED_PER_ADDRESS, NewToken, NewUser, SESSION,
    TOKEN_PREFIX, check_password, org_id, sign,
};

use std::sync::Arc;
use swell_core::{Role, SalesforceId};
use swell_engine::DataDir;
use swell_scheduler::{Runner, Scheduler};
use swell_store::Store;

/// What the use cases work with: the store, the job runner, the scheduler and the data dir.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub runner: Arc<Runner>,
    pub scheduler: Arc<Scheduler>,
    pub data_dir: DataDir,
}

impl App {
    pub fn new(store: Store, runner: Arc<Runner>, scheduler: Arc<Scheduler>, data_dir: DataDir) -> App {
        App { store, runner, scheduler, data_dir }
    }
}

/// Who asks for a use case: a user with a role. Every use case that changes something checks
/// the role its [`Action`] needs ([`App::require`]), once, never in a front door; reading
/// needs no more than being signed in (any role).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: SalesforceId,
    /// How they sign in (`ana@example.com`).
    pub username: String,
    pub name: String,
    pub role: Role,
}

impl Actor {
    /// The administrator: the user of the server's own API token (`005…1`).
    pub fn admin() -> Actor {
        Actor {
            id: swell_store::admin_id(),
            username: swell_store::ADMIN_USERNAME.to_string(),
            name: "swell admin".to_string(),
            role: Role::Admin,
        }
    }

    /// The user of a stored user record.
    pub fn of(u: &swell_store::UserRecord) -> Actor {
        Actor { id: u.id.clone(), username: u.username.clone(), name: u.name.clone(), role: u.role }
    }
}
