//! gRPC server metrics with the names operators already chart
//! (`grpc_server_started_total`, `grpc_server_handled_total`,
//! `grpc_server_msg_received_total`, `grpc_server_msg_sent_total`,
//! `grpc_server_handling_seconds`), labelled by `grpc_service`,
//! `grpc_method`, `grpc_type` and (when handled) `grpc_code`.
//!
//! Messages are counted from the gRPC framing of the bodies; the code is
//! read from the response headers (errors before any message) or trailers.
//! The same bookkeeping closes each call's tracing span (see `trace`) with
//! its status and duration, and logs the call.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{Buf, Bytes};
use http_body::{Body, Frame};
use tower::{Layer, Service};

use crate::middleware::BoxFuture;

/// The gRPC code names, by number.
const CODES: [&str; 17] = [
    "OK",
    "Canceled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
];

/// `grpc_type` of every method the server knows, from the descriptors.
static METHOD_TYPES: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| {
    let mut types = HashMap::new();
    for service in crate::descriptors::served_pool().services() {
        for method in service.methods() {
            let kind = match (method.is_client_streaming(), method.is_server_streaming()) {
                (false, false) => "unary",
                (true, false) => "client_stream",
                (false, true) => "server_stream",
                (true, true) => "bidi_stream",
            };
            types.insert(format!("/{}/{}", service.full_name(), method.name()), kind);
        }
    }
    types
});

#[derive(Clone)]
struct Labels {
    service: String,
    method: String,
    kind: &'static str,
}

impl Labels {
    fn of(path: &str) -> Self {
        let mut parts = path.trim_start_matches('/').splitn(2, '/');
        let service = parts.next().unwrap_or_default().to_string();
        let method = parts.next().unwrap_or_default().to_string();
        let kind = METHOD_TYPES.get(path).copied().unwrap_or("unknown");
        Self {
            service,
            method,
            kind,
        }
    }

    fn base(&self) -> [(&'static str, String); 3] {
        [
            ("grpc_service", self.service.clone()),
            ("grpc_method", self.method.clone()),
            ("grpc_type", self.kind.to_string()),
        ]
    }
}

/// One call's bookkeeping; records `handled` once.
struct Call {
    labels: Labels,
    started: Instant,
    handled: bool,
    span: tracing::Span,
    #[cfg(feature = "otlp")]
    export: Option<(
        Option<super::trace_context::TraceContext>,
        std::time::SystemTime,
        String,
    )>,
}

impl Call {
    fn handled(&mut self, code: &str) {
        if self.handled {
            return;
        }
        self.handled = true;
        let elapsed = self.started.elapsed();
        self.span.record("grpc_code", code);
        self.span
            .record("duration_ms", elapsed.as_secs_f64() * 1000.0);
        tracing::info!(parent: &self.span, "handled");
        let mut labels = self.labels.base().to_vec();
        labels.push(("grpc_code", code.to_string()));
        metrics::counter!("grpc_server_handled_total", &labels).increment(1);
        metrics::histogram!("grpc_server_handling_seconds", &self.labels.base())
            .record(elapsed.as_secs_f64());
        #[cfg(feature = "otlp")]
        if let Some((context, start, peer)) = self.export.take() {
            super::otlp::record(super::otlp::FinishedCall {
                context,
                name: format!("{}/{}", self.labels.service, self.labels.method),
                start,
                end: start + elapsed,
                attributes: vec![
                    ("rpc.system", "grpc".to_string()),
                    ("rpc.service", self.labels.service.clone()),
                    ("rpc.method", self.labels.method.clone()),
                    ("rpc.grpc.status_code", code.to_string()),
                    ("net.peer.name", peer),
                ],
                ok: code == "OK",
            });
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        // The body went away before trailers: the client cancelled.
        self.handled("Canceled");
    }
}

fn code_name(value: &[u8]) -> &'static str {
    std::str::from_utf8(value)
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .and_then(|i| CODES.get(i).copied())
        .unwrap_or("Unknown")
}

/// Counts whole gRPC messages in a byte stream (5-byte header, then body).
#[derive(Default)]
struct FrameCounter {
    header: Vec<u8>,
    remaining: usize,
}

impl FrameCounter {
    /// Feeds bytes; returns how many messages started in them.
    fn feed(&mut self, mut data: &[u8]) -> u64 {
        let mut started = 0;
        while !data.is_empty() {
            if self.remaining > 0 {
                let take = self.remaining.min(data.len());
                self.remaining -= take;
                data = &data[take..];
                continue;
            }
            let need = 5 - self.header.len();
            let take = need.min(data.len());
            self.header.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.header.len() == 5 {
                started += 1;
                self.remaining = u32::from_be_bytes([
                    self.header[1],
                    self.header[2],
                    self.header[3],
                    self.header[4],
                ]) as usize;
                self.header.clear();
            }
        }
        started
    }
}

/// A body that counts messages, and (for responses) records the outcome.
pub struct Metered<B> {
    inner: B,
    counter: FrameCounter,
    metric: &'static str,
    labels: Labels,
    call: Option<Call>,
}

impl<B> Body for Metered<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let messages = this.counter.feed(data.chunk());
                    if messages > 0 {
                        metrics::counter!(this.metric, &this.labels.base()).increment(messages);
                    }
                }
                if let Some(trailers) = frame.trailers_ref() {
                    if let (Some(call), Some(status)) =
                        (this.call.as_mut(), trailers.get("grpc-status"))
                    {
                        call.handled(code_name(status.as_bytes()));
                    }
                }
            }
            Poll::Ready(None) => {
                if let Some(call) = this.call.as_mut() {
                    call.handled("OK");
                }
            }
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The client's address, over plaintext or TLS.
fn peer_of<B>(request: &http::Request<B>) -> String {
    use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
    let extensions = request.extensions();
    extensions
        .get::<TcpConnectInfo>()
        .or_else(|| {
            extensions
                .get::<TlsConnectInfo<TcpConnectInfo>>()
                .map(|i| i.get_ref())
        })
        .and_then(|info| info.remote_addr())
        .map(|addr| addr.to_string())
        .unwrap_or_default()
}

#[derive(Clone, Copy, Default)]
pub struct MetricsLayer;

impl<S> Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService { inner }
    }
}

#[derive(Clone)]
pub struct MetricsService<S> {
    inner: S,
}

impl<S> Service<http::Request<tonic::body::Body>> for MetricsService<S>
where
    S: Service<http::Request<tonic::body::Body>, Response = http::Response<tonic::body::Body>>
        + Send,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        let labels = Labels::of(request.uri().path());
        let started = Instant::now();
        let peer = peer_of(&request);
        let context = super::trace_context::trace_context(request.headers());
        let span = tracing::info_span!(
            "grpc",
            grpc_service = %labels.service,
            grpc_method = %labels.method,
            grpc_type = labels.kind,
            peer = %peer,
            trace_id = context.as_ref().map(|c| c.trace_id.as_str()),
            parent_id = context.as_ref().map(|c| c.parent_id.as_str()),
            tracestate = context.as_ref().and_then(|c| c.tracestate.as_deref()),
            grpc_code = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        metrics::counter!("grpc_server_started_total", &labels.base()).increment(1);
        let request = request.map(|body| {
            tonic::body::Body::new(Metered {
                inner: body,
                counter: FrameCounter::default(),
                metric: "grpc_server_msg_received_total",
                labels: labels.clone(),
                call: None,
            })
        });
        let future = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        let call_span = span.clone();
        #[cfg(feature = "otlp")]
        let export = Some((context.clone(), std::time::SystemTime::now(), peer.clone()));
        Box::pin(tracing::Instrument::instrument(
            async move {
                let response = future.await?;
                let mut call = Call {
                    labels: labels.clone(),
                    started,
                    handled: false,
                    span: call_span,
                    #[cfg(feature = "otlp")]
                    export,
                };
                if let Some(status) = response.headers().get("grpc-status") {
                    // Trailers-only: the call is over.
                    call.handled(code_name(status.as_bytes()));
                }
                Ok(response.map(|body| {
                    tonic::body::Body::new(Metered {
                        inner: body,
                        counter: FrameCounter::default(),
                        metric: "grpc_server_msg_sent_total",
                        labels,
                        call: Some(call),
                    })
                }))
            },
            span,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_messages_across_chunks() {
        let mut counter = FrameCounter::default();
        let mut stream = Vec::new();
        for body in [&b"abc"[..], b"", b"hello"] {
            stream.push(0u8);
            stream.extend_from_slice(&(body.len() as u32).to_be_bytes());
            stream.extend_from_slice(body);
        }
        let total: u64 = stream.chunks(3).map(|chunk| counter.feed(chunk)).sum();
        assert_eq!(total, 3);
    }

    #[test]
    fn knows_method_types() {
        assert_eq!(
            Labels::of("/diplomacy.v1.RelationService/StreamHistory").kind,
            "server_stream"
        );
        assert_eq!(
            Labels::of("/diplomacy.v1.RecordService/ImportRecords").kind,
            "client_stream"
        );
        assert_eq!(
            Labels::of("/diplomacy.v1.RelationService/GetRelation").kind,
            "unary"
        );
    }
}
