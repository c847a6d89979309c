//! The Wave REST API driven in process: the router of `app(state)` with a real store, runner
//! and engine underneath. One test binary, a module per resource.

mod common;

mod audit;
mod basics;
mod connections;
mod datasets;
mod golden;
mod jobs;
mod oauth;
mod openapi;
mod probe;
mod recipes;
mod roles;
mod schedules;
