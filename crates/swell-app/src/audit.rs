//! What each use case is called, the role it needs, and the audit log of who did it.
//!
//! [`Action`] is the one table: a use case starts with `self.require(actor, Action::X)` (403
//! `INSUFFICIENT_ACCESS` when the role does not allow it, recorded as refused) and ends with
//! `self.did(actor, Action::X, ...)` (recorded as done). docs/roles.md lists the same table; a
//! test keeps the two equal.
//!
//! The event is written after the change commits, in its own transaction: a crash between the
//! two loses the event, never the change, and a store that cannot write the event fails no
//! request (the failure is logged with the event).

use crate::{Actor, ApiError, ApiResult, App, ErrorCode};
use swell_core::{Role, SalesforceId};
pub use swell_store::{AuditEvent, Outcome};
use swell_store::{AuditFilter, NewAuditEvent};

macro_rules! actions {
    ($($variant:ident: $code:literal, $what:literal, $role:ident;)*) => {
        /// A use case that changes something (or reads what only admins read).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action { $($variant),* }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant),*];

            /// Its name in the audit log (`start job`).
            pub fn code(self) -> &'static str {
                match self { $(Action::$variant => $code),* }
            }

            /// What it does, as a refusal says it (`to start a job a user needs ...`).
            pub fn what(self) -> &'static str {
                match self { $(Action::$variant => $what),* }
            }

            /// The least role that may do it.
            pub fn role(self) -> Role {
                match self { $(Action::$variant => Role::$role),* }
            }
        }
    };
}

actions! {
    StartJob: "start job", "start a job", Operator;
    StopJob: "stop job", "stop a job", Operator;
    RunConnection: "run connection", "sync a data connection", Operator;
    CreateDataflow: "create dataflow", "create a dataflow", Editor;
    UpdateDataflow: "update dataflow", "change a dataflow", Editor;
    RevertDataflow: "revert dataflow", "revert a dataflow", Editor;
    DeleteDataflow: "delete dataflow", "delete a dataflow", Editor;
    CreateRecipe: "create recipe", "create a recipe", Editor;
    UpdateRecipe: "update recipe", "change a recipe", Editor;
    RevertRecipe: "revert recipe", "revert a recipe", Editor;
    DeleteRecipe: "delete recipe", "delete a recipe", Editor;
    SetRecipeNotification: "set recipe notification", "change a recipe's notifications", Editor;
    PutSchedule: "put schedule", "schedule an asset", Editor;
    DeleteSchedule: "delete schedule", "unschedule an asset", Editor;
    AddObject: "add connected object", "add a connected object", Editor;
    UpdateObject: "update connected object", "change a connected object", Editor;
    RemoveObject: "remove connected object", "remove a connected object", Editor;
    ChangeObjectFields: "change connected object fields", "change a connected object's fields", Editor;
    RestoreVersion: "restore dataset version", "restore a dataset version", Editor;
    CreateConnection: "create connection", "create a data connection", Admin;
    UpdateConnection: "update connection", "change a data connection", Admin;
    DeleteConnection: "delete connection", "delete a data connection", Admin;
    ListUsers: "list users", "list users", Admin;
    CreateUser: "create user", "create a user", Admin;
    UpdateUser: "update user", "change a user", Admin;
    SetPassword: "set password", "set another user's password", Admin;
    CreateToken: "create token", "create a token", Admin;
    ListTokens: "list tokens", "list tokens", Admin;
    RevokeToken: "revoke token", "revoke a token", Admin;
    CreateClient: "create client", "register a connected app", Admin;
    ListClients: "list clients", "list connected apps", Admin;
    RevokeClient: "revoke client", "revoke a connected app", Admin;
    ReadAudit: "read audit log", "read the audit log", Admin;
    ReadUser: "read user", "read a user", Admin;
    SignIn: "sign in", "sign in", Viewer;
    SignOut: "sign out", "sign out", Viewer;
}

impl Action {
    /// The action of an audit-log code, as a filter names it.
    pub fn parse(code: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.code().eq_ignore_ascii_case(code.trim()))
    }
}

impl Actor {
    /// Whether this user's role allows `action`: 403 `INSUFFICIENT_ACCESS` naming the role it
    /// needs when not. (Use cases call [`App::require`], which also records the refusal.)
    pub fn may(&self, action: Action) -> ApiResult<()> {
        let needed = action.role();
        if self.role.allows(needed) {
            return Ok(());
        }
        Err(ApiError::new(
            ErrorCode::InsufficientAccess,
            format!(
                "insufficient access: to {} a user needs the {needed} role; {} is {}",
                action.what(),
                self.name,
                self.role
            ),
        ))
    }
}

/// A kind of stored asset, as its `permissions` tell what a user may do with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asset {
    Dataflow,
    Recipe,
    Connection,
    ConnectedObject,
    Dataset,
}

/// What a user may do with an asset of a kind: make one, change it, delete (or restore) it.
/// Every user may view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowed {
    pub create: bool,
    pub modify: bool,
    pub manage: bool,
}

impl Actor {
    /// What this user's role allows with an asset of `kind`: read from the actions' roles.
    pub fn allowed(&self, kind: Asset) -> Allowed {
        let (create, modify, manage) = match kind {
            Asset::Dataflow => (Action::CreateDataflow, Action::UpdateDataflow, Action::DeleteDataflow),
            Asset::Recipe => (Action::CreateRecipe, Action::UpdateRecipe, Action::DeleteRecipe),
            Asset::Connection => (Action::CreateConnection, Action::UpdateConnection, Action::DeleteConnection),
            Asset::ConnectedObject => (Action::AddObject, Action::UpdateObject, Action::RemoveObject),
            // datasets are made by runs and changed by restoring a version
            Asset::Dataset => (Action::StartJob, Action::RestoreVersion, Action::RestoreVersion),
        };
        let may = |a: Action| self.role.allows(a.role());
        Allowed { create: may(create), modify: may(modify), manage: may(manage) }
    }
}

/// The asset a change was about: its id and a name a person reads.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub id: &'a SalesforceId,
    pub name: &'a str,
}

impl<'a> Subject<'a> {
    pub fn new(id: &'a SalesforceId, name: &'a str) -> Self {
        Subject { id, name }
    }
}

impl App {
    /// Refuses `action` unless the actor's role allows it; a refusal is recorded.
    pub async fn require(&self, actor: &Actor, action: Action) -> ApiResult<()> {
        let Err(e) = actor.may(action) else { return Ok(()) };
        let event = NewAuditEvent {
            user_id: Some(&actor.id),
            username: &actor.username,
            action: action.code(),
            asset_id: None,
            asset_name: None,
            outcome: Outcome::Refused,
            detail: Some(&e.message),
        };
        self.record(&event).await;
        Err(e)
    }

    /// Records a change the actor made.
    pub async fn did(&self, actor: &Actor, action: Action, subject: Subject<'_>, detail: Option<&str>) {
        let event = NewAuditEvent {
            user_id: Some(&actor.id),
            username: &actor.username,
            action: action.code(),
            asset_id: Some(subject.id),
            asset_name: Some(subject.name),
            outcome: Outcome::Success,
            detail,
        };
        self.record(&event).await;
    }

    /// Records a failed sign-in under `username` (of user `user_id` when it exists).
    pub(crate) async fn failed_sign_in(&self, user_id: Option<&SalesforceId>, username: &str, reason: &str) {
        let event = NewAuditEvent {
            user_id,
            username,
            action: Action::SignIn.code(),
            asset_id: None,
            asset_name: None,
            outcome: Outcome::Failed,
            detail: Some(reason),
        };
        self.record(&event).await;
    }

    /// Writes an event to the store and the log. A store that cannot take it fails nothing:
    /// the change is done, and the log line keeps the event.
    async fn record(&self, e: &NewAuditEvent<'_>) {
        let (user, action, outcome) = (e.username, e.action, e.outcome.as_str());
        let asset = e.asset_id.map(|a| a.to_string());
        match outcome {
            "success" => tracing::info!(user, action, asset, name = e.asset_name, "change"),
            _ => tracing::info!(user, action, outcome, detail = e.detail, "refused"),
        }
        if let Err(err) = self.store.add_audit_event(e).await {
            tracing::error!(error = %err, user, action, asset, outcome, "the audit log could not record this event");
        }
    }

    /// The audit log, newest first (admins only): at most `query.limit` events and whether
    /// older ones match too.
    pub async fn audit_events(&self, actor: &Actor, query: &AuditQuery<'_>) -> ApiResult<(Vec<AuditEvent>, bool)> {
        self.require(actor, Action::ReadAudit).await?;
        let mut filter = AuditFilter { limit: query.limit + 1, ..Default::default() };
        if let Some(u) = query.user {
            // a user's events by id; a name no user has: the sign-ins tried under it
            match self.store.find_user(u).await? {
                Some(user) => filter.user_id = Some(user.id),
                None => filter.username = Some(crate::text::cut(u.trim(), 100)),
            }
        }
        if let Some(a) = query.asset {
            let id = SalesforceId::parse(a).map_err(|e| ApiError::bad_request(format!("asset: {e}")))?;
            filter.asset_id = Some(id);
        }
        if let Some(a) = query.action {
            let action = Action::parse(a).ok_or_else(|| {
                let all: Vec<&str> = Action::ALL.iter().map(|a| a.code()).collect();
                ApiError::bad_request(format!("action: '{a}' is not an action ({})", all.join(", ")))
            })?;
            filter.action = Some(action.code().to_string());
        }
        if let Some(o) = query.outcome {
            filter.outcome = Some(Outcome::parse(o).ok_or_else(|| {
                ApiError::bad_request(format!("outcome: '{o}' is not an outcome (success, refused, failed)"))
            })?);
        }
        if let Some(s) = query.since {
            filter.since = Some(swell_core::DateLiteral::parse(s).map(|d| d.start()).ok_or_else(|| {
                ApiError::bad_request(format!("since: '{s}' is not a date (2026-12-01 or 2026-12-01T10:00:00Z)"))
            })?);
        }
        if let Some(b) = query.before {
            let seq = b.trim().parse::<i64>().ok().filter(|n| *n > 0);
            filter.before =
                Some(seq.ok_or_else(|| {
                    ApiError::bad_request(format!("before: '{b}' is not the number of an audit event"))
                })?);
        }
        let mut events = self.store.audit_events(&filter).await?;
        let more = events.len() as i64 > query.limit;
        events.truncate(query.limit.max(0) as usize);
        Ok((events, more))
    }
}

/// Which audit events to read, as a person writes it (REST parameters, `swell audit` flags):
/// each is checked and named when wrong.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery<'a> {
    /// A user's id or username.
    pub user: Option<&'a str>,
    /// An asset's id (15 or 18 characters).
    pub asset: Option<&'a str>,
    /// An action's code (`start job`).
    pub action: Option<&'a str>,
    /// `success`, `refused` or `failed`.
    pub outcome: Option<&'a str>,
    /// A date or an instant (`2026-12-01`, `2026-12-01T10:00:00Z`).
    pub since: Option<&'a str>,
    /// Events older than this event number (the next page).
    pub before: Option<&'a str>,
    pub limit: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/roles.md lists every action with its role, as this table declares it.
    #[test]
    fn the_roles_page_lists_every_action_with_its_role() {
        let page = include_str!("../../../docs/roles.md");
        for a in Action::ALL {
            let row = format!("| {} | `{}` | {} |", a.what(), a.code(), a.role());
            assert!(page.contains(&row), "docs/roles.md lacks the row {row}");
        }
        let rows = page.lines().filter(|l| l.starts_with("| ") && l.matches('`').count() == 2 && l.ends_with(" |"));
        let listed = rows.filter(|l| Action::ALL.iter().any(|a| l.contains(&format!("`{}`", a.code())))).count();
        assert_eq!(listed, Action::ALL.len());
    }

    #[test]
    fn codes_are_distinct_and_read_back() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.code()), Some(*a));
        }
        let mut codes: Vec<_> = Action::ALL.iter().map(|a| a.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), Action::ALL.len());
    }
}
