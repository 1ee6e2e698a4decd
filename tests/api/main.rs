//! API tests: every RPC through the generated clients against the real
//! server on an ephemeral port. One binary, many modules (faster builds).

mod actors;
mod auth;
mod cli;
mod client;
mod concurrency;
mod consent;
mod consistency;
mod countries;
mod datasets;
mod errors;
mod helpers;
mod history;
mod hostile;
mod http_json;
mod instruments;
mod lifecycle;
mod mesh;
mod migration;
mod nginx;
mod periods;
mod records;
mod relations;
mod standing;
mod statehood;
