//! `GET /services/data/` (no auth) and the resource directories.

use crate::wire::ok;
use crate::{MAX_VERSION, MIN_VERSION, Version};
use axum::response::Response;
use serde_json::{Value, json};
use swell_app::error::ApiResult;

/// Release label of an API version: v41 is Winter '18, then Spring, Summer, Winter...
pub fn label(v: u32) -> String {
    let i = v - MIN_VERSION;
    let season = ["Winter", "Spring", "Summer"][(i % 3) as usize];
    format!("{season} '{}", 18 + i / 3)
}

pub async fn list() -> Response {
    let versions: Vec<Value> = (MIN_VERSION..=MAX_VERSION)
        .map(|v| json!({ "label": label(v), "url": format!("/services/data/v{v}.0"), "version": format!("{v}.0") }))
        .collect();
    ok(Value::Array(versions))
}

pub async fn resources(version: Version) -> ApiResult<Response> {
    Ok(ok(json!({ "wave": format!("/services/data/v{}/wave", version.0) })))
}

pub async fn wave(version: Version) -> ApiResult<Response> {
    Ok(ok(json!({
        "dataflows": version.url("/dataflows"),
        "dataflowJobs": version.url("/dataflowjobs"),
        "datasets": version.url("/datasets"),
        "recipes": version.url("/recipes"),
    })))
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
