//! One file per REST resource.

pub mod dataflows;
pub mod datasets;
pub mod identity;
pub mod jobs;
pub mod paging;
pub mod recipes;
pub mod schedules;
pub mod versions;

use crate::AppState;
use axum::Router;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    let w = "/services/data/{version}/wave";
    let d = "/services/data/{version}";
    Router::new()
        .route("/services/oauth2/userinfo", get(identity::userinfo))
        .route(&format!("{d}/query"), get(identity::query))
        .route(&format!("{d}/sobjects/{{object}}/{{id}}"), get(identity::sobject))
        .route(w, get(versions::wave))
        .route(&format!("{w}/dataflows"), get(dataflows::list).post(dataflows::create))
        .route(
            &format!("{w}/dataflows/{{id}}"),
            get(dataflows::get).patch(dataflows::patch).put(dataflows::revert).delete(dataflows::delete),
        )
        .route(&format!("{w}/dataflows/{{id}}/histories"), get(dataflows::histories))
        .route(&format!("{w}/dataflowjobs"), get(jobs::list).post(jobs::start))
        .route(&format!("{w}/dataflowjobs/{{id}}"), get(jobs::get).patch(jobs::patch))
        .route(&format!("{w}/dataflowjobs/{{id}}/nodes"), get(jobs::nodes))
        .route(&format!("{w}/dataflowjobs/{{id}}/nodes/{{node}}"), get(jobs::node))
        .route(&format!("{w}/recipes"), get(recipes::list).post(recipes::create))
        .route(
            &format!("{w}/recipes/{{id}}"),
            get(recipes::get).patch(recipes::patch).put(recipes::revert).delete(recipes::delete),
        )
        .route(&format!("{w}/recipes/{{id}}/histories"), get(recipes::histories))
        .route(&format!("{w}/asset/{{id}}/schedule"), get(schedules::get).put(schedules::put).delete(schedules::delete))
        .route(&format!("{w}/datasets"), get(datasets::list))
        .route(&format!("{w}/datasets/{{id}}"), get(datasets::get))
        .route(&format!("{w}/datasets/{{id}}/versions"), get(datasets::versions).post(datasets::restore))
}
