//! Who made a record and who changed it last: user ids in `created_by` / `last_modified_by`
//! columns, read back with the user's current display name.

use crate::{DbRow, Result, parse_id};
use sqlx::Row;
use swell_core::SalesforceId;

/// A user as a record names them: the id, and the display name they have now (a renamed user
/// shows the new name on everything they made).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRef {
    pub id: SalesforceId,
    pub name: String,
}

/// The select list of a table's row (`alias.*`) with the display names of the users it names:
/// for each of `columns`, `COL_name`. A user row that is gone reads as its id.
pub(crate) fn with_names(alias: &str, columns: &[&str]) -> String {
    let mut s = format!("{alias}.*");
    for c in columns {
        s.push_str(&format!(", (SELECT u.name FROM app_user u WHERE u.id = {alias}.{c}) AS {c}_name"));
    }
    s
}

/// The user of column `column`, with its name from [`with_names`].
pub(crate) fn user_ref(row: &DbRow, column: &str) -> Result<UserRef> {
    let id: String = row.get(column);
    let name: Option<String> = row.get(format!("{column}_name").as_str());
    Ok(UserRef { name: name.unwrap_or_else(|| id.clone()), id: parse_id(&id)? })
}
