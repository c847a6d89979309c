//! How a path value names an asset: an id of the asset's kind, or its API name.

use crate::error::{ApiError, ApiResult};
use swell_core::{KeyPrefix, SalesforceId};

/// Parses an id that must have `prefix`; any other id is a 400 naming what was expected
/// (`what` names the kind: "history", "dataset version").
pub fn id_of(s: &str, prefix: KeyPrefix, what: &str) -> ApiResult<SalesforceId> {
    let id = SalesforceId::parse(s).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if !id.has_prefix(prefix) {
        return Err(ApiError::bad_request(format!(
            "'{s}' is not a {what} id: {what} ids start with {}",
            prefix.as_str()
        )));
    }
    Ok(id)
}

/// What a path segment names where an asset is found by id or API name.
pub enum IdOrName<'a> {
    Id(SalesforceId),
    Name(&'a str),
}

/// Reads a path segment that is an id of `prefix` (`what` names the kind) or an API name. One
/// rule for every such resource: what can be neither (a `02K...` with a wrong checksum, an id
/// of another kind; an API name starts with a letter) is a bad id, 400 `INVALID_INPUT` as for
/// job ids; a well-formed id or name that matches nothing is then 404.
pub fn id_or_name<'a>(s: &'a str, prefix: KeyPrefix, what: &str) -> ApiResult<IdOrName<'a>> {
    match SalesforceId::parse(s) {
        Ok(id) if id.has_prefix(prefix) => Ok(IdOrName::Id(id)),
        _ if swell_core::name::check_api_name(s).is_ok() => Ok(IdOrName::Name(s)),
        Ok(_) => Err(ApiError::bad_request(format!(
            "'{s}' is not a {what} id ({what} ids start with {}) or API name",
            prefix.as_str()
        ))),
        Err(e) => Err(ApiError::bad_request(format!("'{s}' is not a {what} id or API name: {e}"))),
    }
}
