//! One file per REST resource.

pub mod connectors;
pub mod dataflows;
pub mod datasets;
pub mod identity;
pub mod jobs;
pub mod paging;
pub mod recipes;
pub mod replicated;
pub mod schedules;
pub mod versions;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

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
        .route(&format!("{w}/recipes/{{id}}/file"), get(recipes::file))
        .route(
            &format!("{w}/recipes/{{id}}/notification"),
            get(recipes::get_notification).put(recipes::put_notification),
        )
        .route(&format!("{w}/asset/{{id}}/schedule"), get(schedules::get).put(schedules::put).delete(schedules::delete))
        .route(&format!("{w}/dataConnectorTypes"), get(connectors::types))
        .route(&format!("{w}/dataConnectors"), get(connectors::list).post(connectors::create))
        .route(
            &format!("{w}/dataConnectors/{{id}}"),
            get(connectors::get).patch(connectors::patch).delete(connectors::delete),
        )
        .route(&format!("{w}/dataConnectors/{{id}}/status"), get(connectors::status))
        .route(&format!("{w}/dataConnectors/{{id}}/ingest"), post(connectors::ingest))
        .route(&format!("{w}/dataConnectors/{{id}}/sourceObjects"), get(connectors::source_objects))
        .route(&format!("{w}/dataConnectors/{{id}}/sourceObjects/{{object}}"), get(connectors::source_object_get))
        .route(&format!("{w}/dataConnectors/{{id}}/sourceObjects/{{object}}/fields"), get(connectors::source_fields))
        .route(
            &format!("{w}/dataConnectors/{{id}}/sourceObjects/{{object}}/dataPreview"),
            post(connectors::data_preview).get(connectors::data_preview),
        )
        .route(&format!("{w}/replicatedDatasets"), get(replicated::list).post(replicated::create))
        .route(
            &format!("{w}/replicatedDatasets/{{id}}"),
            get(replicated::get).patch(replicated::patch).delete(replicated::delete),
        )
        .route(
            &format!("{w}/replicatedDatasets/{{id}}/fields"),
            get(replicated::fields).patch(replicated::patch_fields).post(replicated::patch_fields),
        )
        .route(&format!("{w}/datasets"), get(datasets::list))
        .route(&format!("{w}/datasets/{{id}}"), get(datasets::get))
        .route(&format!("{w}/datasets/{{id}}/versions"), get(datasets::versions).post(datasets::restore))
}
