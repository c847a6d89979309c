//! One file per REST resource.

pub mod audit;
pub mod connectors;
pub mod dataflows;
pub mod datasets;
pub mod identity;
pub mod jobs;
pub mod oauth;
pub mod paging;
pub mod recipes;
pub mod replicated;
pub mod schedules;
pub mod soap;
pub mod users;
pub mod versions;

use crate::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes that need no token: the API versions, a version's resources, and sign-in.
pub fn public() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(versions::list))
        .routes(routes!(versions::resources))
        .routes(routes!(oauth::token))
        .routes(routes!(oauth::revoke, oauth::revoke_get))
        .routes(routes!(soap::login))
}

/// Every route behind the token. Each handler declares its path, method, input and answer
/// once, in its `#[utoipa::path]`; this list mounts them, and the OpenAPI document is made
/// from the same declarations (`crate::openapi`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(identity::userinfo))
        .routes(routes!(identity::identity))
        .routes(routes!(identity::query))
        .routes(routes!(identity::sobject))
        .routes(routes!(versions::wave))
        .routes(routes!(dataflows::list, dataflows::create))
        .routes(routes!(dataflows::get, dataflows::patch, dataflows::revert, dataflows::delete))
        .routes(routes!(dataflows::histories))
        .routes(routes!(dataflows::history_get))
        .routes(routes!(jobs::list, jobs::start))
        .routes(routes!(jobs::get, jobs::patch))
        .routes(routes!(jobs::nodes))
        .routes(routes!(jobs::node))
        .routes(routes!(recipes::list, recipes::create))
        .routes(routes!(recipes::get, recipes::patch, recipes::revert, recipes::delete))
        .routes(routes!(recipes::histories))
        .routes(routes!(recipes::history_get))
        .routes(routes!(recipes::file))
        .routes(routes!(recipes::get_notification, recipes::put_notification))
        .routes(routes!(schedules::get, schedules::put, schedules::delete))
        .routes(routes!(connectors::types))
        .routes(routes!(connectors::list, connectors::create))
        .routes(routes!(connectors::get, connectors::patch, connectors::delete))
        .routes(routes!(connectors::status))
        .routes(routes!(connectors::ingest))
        .routes(routes!(connectors::source_objects))
        .routes(routes!(connectors::source_object_get))
        .routes(routes!(connectors::source_fields))
        .routes(routes!(connectors::data_preview))
        .routes(routes!(replicated::list, replicated::create))
        .routes(routes!(replicated::get, replicated::patch, replicated::delete))
        .routes(routes!(replicated::fields, replicated::patch_fields))
        .routes(routes!(datasets::list))
        .routes(routes!(datasets::get))
        .routes(routes!(datasets::versions, datasets::restore))
        .routes(routes!(datasets::version_get))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get, users::patch))
        .routes(routes!(users::tokens, users::create_token))
        .routes(routes!(users::revoke))
        .routes(routes!(users::clients, users::create_client))
        .routes(routes!(users::revoke_client))
        .routes(routes!(audit::list))
}
