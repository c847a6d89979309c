//! `GET /services/data/` (no auth) and the resource directories.

use crate::wire::ok;
use crate::{MAX_VERSION, MIN_VERSION, Version};
use axum::response::Response;
use serde::Serialize;
use swell_app::error::ApiResult;
use utoipa::ToSchema;

/// Release label of an API version: v41 is Winter '18, then Spring, Summer, Winter...
pub fn label(v: u32) -> String {
    let i = v - MIN_VERSION;
    let season = ["Winter", "Spring", "Summer"][(i % 3) as usize];
    format!("{season} '{}", 18 + i / 3)
}

/// An API version the server serves.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiVersion {
    pub label: String,
    pub url: String,
    pub version: String,
}

/// The resources of a version: swell serves Wave's.
#[derive(Debug, Serialize, ToSchema)]
pub struct Resources {
    pub wave: String,
}

/// The Wave resources a client starts from.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WaveResources {
    pub dataflows: String,
    pub dataflow_jobs: String,
    pub datasets: String,
    pub recipes: String,
}

#[utoipa::path(get, path = "/services/data", tag = "versions", security(()),
    responses((status = 200, description = "The API versions served (no token needed)", body = Vec<ApiVersion>)))]
pub async fn list() -> Response {
    let versions: Vec<ApiVersion> = (MIN_VERSION..=MAX_VERSION)
        .map(|v| ApiVersion { label: label(v), url: format!("/services/data/v{v}.0"), version: format!("{v}.0") })
        .collect();
    ok(versions)
}

#[utoipa::path(get, path = "/services/data/{version}", tag = "versions", security(()),
    responses((status = 200, body = Resources)))]
pub async fn resources(version: Version) -> ApiResult<Response> {
    Ok(ok(Resources { wave: format!("/services/data/v{}/wave", version.0) }))
}

#[utoipa::path(get, path = "/services/data/{version}/wave", tag = "versions",
    responses((status = 200, body = WaveResources)))]
pub async fn wave(version: Version) -> ApiResult<Response> {
    Ok(ok(WaveResources {
        dataflows: version.url("/dataflows"),
        dataflow_jobs: version.url("/dataflowjobs"),
        datasets: version.url("/datasets"),
        recipes: version.url("/recipes"),
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels() {
        assert_eq!(super::label(55), "Summer '22");
        assert_eq!(super::label(60), "Spring '24");
        assert_eq!(super::label(66), "Spring '26");
        assert_eq!(super::label(41), "Winter '18");
    }
}
