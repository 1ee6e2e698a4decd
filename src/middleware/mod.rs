//! HTTP-level layers around every gRPC service: who may call what, and
//! status codes corrected where tonic's own differ from the gRPC spec.

pub mod answer;
pub mod auth;
pub mod browser;
pub mod consistency;
pub mod deadline;
pub mod http_json;
pub mod shed;
pub mod status;

use std::future::Future;
use std::pin::Pin;

/// The gRPC headers the layers read and write, their names parsed once.
pub const GRPC_STATUS: http::HeaderName = http::HeaderName::from_static("grpc-status");
pub const GRPC_MESSAGE: http::HeaderName = http::HeaderName::from_static("grpc-message");

/// The boxed future our layers return.
pub type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;
