//! What the server tells its operators: Prometheus metrics and one span per
//! call (`metrics`, served by `admin`), trace context taken from the caller
//! (`trace_context`), OTLP export of spans (`otlp`, cargo feature `otlp`),
//! and the log writer (`logs`).

pub mod admin;
pub mod logs;
pub mod metrics;
#[cfg(feature = "otlp")]
pub mod otlp;
pub mod trace_context;
