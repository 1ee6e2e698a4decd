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
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{Buf, Bytes};
use http_body::{Body, Frame};
use metrics::{Counter, Histogram};
use tower::{Layer, Service};

use crate::middleware::GRPC_STATUS;

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

/// One method's metric handles and labels, made once when the server
/// starts: registering a metric and building its labels per call took
/// about twenty allocations a call.
pub struct MethodMetrics {
    service: String,
    method: String,
    kind: &'static str,
    started: Counter,
    received: Counter,
    sent: Counter,
    handling: Histogram,
    /// By gRPC code number.
    handled: Vec<Counter>,
}

impl MethodMetrics {
    fn new(path: &str) -> Self {
        let mut parts = path.trim_start_matches('/').splitn(2, '/');
        let service = parts.next().unwrap_or_default().to_string();
        let method = parts.next().unwrap_or_default().to_string();
        let kind = METHOD_TYPES.get(path).copied().unwrap_or("unknown");
        let base = [
            ("grpc_service", service.clone()),
            ("grpc_method", method.clone()),
            ("grpc_type", kind.to_string()),
        ];
        let handled = CODES
            .iter()
            .map(|code| {
                let mut labels = base.to_vec();
                labels.push(("grpc_code", (*code).to_string()));
                metrics::counter!("grpc_server_handled_total", &labels)
            })
            .collect();
        Self {
            started: metrics::counter!("grpc_server_started_total", &base),
            received: metrics::counter!("grpc_server_msg_received_total", &base),
            sent: metrics::counter!("grpc_server_msg_sent_total", &base),
            handling: metrics::histogram!("grpc_server_handling_seconds", &base),
            handled,
            service,
            method,
            kind,
        }
    }
}

/// Every served method's metrics, by path. Made when the layer is, so after
/// the process's recorder is installed (`admin::metrics_handle`).
pub struct MethodTable {
    by_path: HashMap<String, Arc<MethodMetrics>>,
}

impl MethodTable {
    fn new() -> Self {
        Self {
            by_path: METHOD_TYPES
                .keys()
                .map(|path| (path.clone(), Arc::new(MethodMetrics::new(path))))
                .collect(),
        }
    }

    /// A known method's metrics; for any other path (a client's typo, a
    /// scanner), made for this call.
    fn of(&self, path: &str) -> Arc<MethodMetrics> {
        self.by_path
            .get(path)
            .cloned()
            .unwrap_or_else(|| Arc::new(MethodMetrics::new(path)))
    }
}

/// One call's bookkeeping once its handler has answered; records
/// `handled` once.
struct Call {
    start: Started,
    handled: bool,
    span: tracing::Span,
}

impl Call {
    /// Records the outcome, `code` being the gRPC code's number.
    fn handled(&mut self, code: usize) {
        if self.handled {
            return;
        }
        self.handled = true;
        let elapsed = self.start.started.elapsed();
        let name = CODES.get(code).copied().unwrap_or("Unknown");
        if self.start.access_log {
            self.span.record("grpc_code", name);
            self.span
                .record("duration_ms", elapsed.as_secs_f64() * 1000.0);
            tracing::info!(parent: &self.span, "handled");
        }
        if let Some(counter) = self.start.metrics.handled.get(code) {
            counter.increment(1);
        }
        self.start.metrics.handling.record(elapsed.as_secs_f64());
        #[cfg(feature = "otlp")]
        if let Some((context, start, peer)) = self.start.export.take() {
            super::otlp::record(super::otlp::FinishedCall {
                context,
                name: format!(
                    "{}/{}",
                    self.start.metrics.service, self.start.metrics.method
                ),
                start,
                end: start + elapsed,
                attributes: vec![
                    ("rpc.system", "grpc".to_string()),
                    ("rpc.service", self.start.metrics.service.clone()),
                    ("rpc.method", self.start.metrics.method.clone()),
                    ("rpc.grpc.status_code", name.to_string()),
                    ("net.peer.name", peer),
                ],
                ok: code == 0,
            });
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        // The body went away before trailers: the client cancelled.
        self.handled(CANCELLED);
    }
}

/// The code number of a `grpc-status` value; Unknown's when unreadable.
fn code_number(value: &[u8]) -> usize {
    std::str::from_utf8(value)
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|i| *i < CODES.len())
        .unwrap_or(UNKNOWN)
}

const CANCELLED: usize = 1;
const UNKNOWN: usize = 2;

/// Counts whole gRPC messages in a byte stream (5-byte header, then body).
#[derive(Default)]
struct FrameCounter {
    /// The header read so far, when a chunk ended inside one; held inline,
    /// as every call's two bodies have one.
    header: [u8; 5],
    header_len: usize,
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
            let take = (5 - self.header_len).min(data.len());
            self.header[self.header_len..self.header_len + take].copy_from_slice(&data[..take]);
            self.header_len += take;
            data = &data[take..];
            if self.header_len == 5 {
                started += 1;
                let [_, length @ ..] = self.header;
                self.remaining = u32::from_be_bytes(length) as usize;
                self.header_len = 0;
            }
        }
        started
    }
}

/// A body that counts messages, and (for responses) records the outcome.
pub struct Metered<B> {
    inner: B,
    counter: FrameCounter,
    /// Messages received or sent, by the body's direction.
    messages: Counter,
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
                        this.messages.increment(messages);
                    }
                }
                if let Some(trailers) = frame.trailers_ref() {
                    if let (Some(call), Some(status)) =
                        (this.call.as_mut(), trailers.get(GRPC_STATUS))
                    {
                        call.handled(code_number(status.as_bytes()));
                    }
                }
            }
            Poll::Ready(None) => {
                if let Some(call) = this.call.as_mut() {
                    call.handled(0);
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
fn peer_of<B>(request: &http::Request<B>) -> Peer {
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
        .map_or(Peer(None), |addr| Peer(Some(addr)))
}

/// The caller's address, written out only where a span or a log needs it.
#[derive(Clone, Copy)]
struct Peer(Option<std::net::SocketAddr>);

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(addr) => addr.fmt(f),
            None => Ok(()),
        }
    }
}

/// Metrics, a span, and (with `access_log`) a log line for every call.
#[derive(Clone)]
pub struct MetricsLayer {
    methods: Arc<MethodTable>,
    access_log: bool,
}

impl MetricsLayer {
    /// Makes every method's metric handles now; `access_log` logs a line
    /// per call (off by default: a mesh's proxy keeps access logs).
    pub fn new(access_log: bool) -> Self {
        Self {
            methods: Arc::new(MethodTable::new()),
            access_log,
        }
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService {
            inner,
            layer: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct MetricsService<S> {
    inner: S,
    layer: MetricsLayer,
}

impl<S> Service<http::Request<tonic::body::Body>> for MetricsService<S>
where
    S: Service<http::Request<tonic::body::Body>, Response = http::Response<tonic::body::Body>>
        + Send,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = MeteredCall<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        let method = self.layer.methods.of(request.uri().path());
        let access_log = self.layer.access_log;
        let started = Instant::now();
        let context = super::trace_context::trace_context(request.headers());
        // The span carries the access log's line. Without the access log
        // nothing logs inside a call, so the span is at debug level, off
        // unless asked for: made, formatted and entered at every poll for
        // nothing, it cost about a tenth of a health check's CPU (#28).
        // Its fields are worked out only when it is on.
        macro_rules! call_span {
            ($level:expr) => {
                tracing::span!(
                    $level,
                    "grpc",
                    grpc_service = %method.service,
                    grpc_method = %method.method,
                    grpc_type = method.kind,
                    peer = %peer_of(&request),
                    trace_id = context.as_ref().map(|c| c.trace_id.as_str()),
                    parent_id = context.as_ref().map(|c| c.parent_id.as_str()),
                    tracestate = context.as_ref().and_then(|c| c.tracestate.as_deref()),
                    grpc_code = tracing::field::Empty,
                    duration_ms = tracing::field::Empty,
                )
            };
        }
        let span = if access_log {
            call_span!(tracing::Level::INFO)
        } else {
            call_span!(tracing::Level::DEBUG)
        };
        #[cfg(feature = "otlp")]
        let export = Some((
            context.clone(),
            std::time::SystemTime::now(),
            peer_of(&request).to_string(),
        ));
        method.started.increment(1);
        let request = request.map(|body| {
            tonic::body::Body::new(Metered {
                inner: body,
                counter: FrameCounter::default(),
                messages: method.received.clone(),
                call: None,
            })
        });
        let inner = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        MeteredCall {
            inner,
            started: Some(Started {
                metrics: method,
                started,
                access_log,
                #[cfg(feature = "otlp")]
                export,
            }),
            span,
        }
    }
}

/// What a call's bookkeeping knows from its start.
struct Started {
    metrics: Arc<MethodMetrics>,
    started: Instant,
    access_log: bool,
    #[cfg(feature = "otlp")]
    export: Option<(
        Option<super::trace_context::TraceContext>,
        std::time::SystemTime,
        String,
    )>,
}

pin_project_lite::pin_project! {
    /// The handler's answer, its body metered, the call's span entered at
    /// every poll. A named future: a boxed `async` block cost an allocation
    /// and an indirect poll on every call (#28).
    pub struct MeteredCall<F> {
        #[pin]
        inner: F,
        started: Option<Started>,
        span: tracing::Span,
    }
}

impl<F, E> Future for MeteredCall<F>
where
    F: Future<Output = Result<http::Response<tonic::body::Body>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = {
            let _entered = this.span.enter();
            match this.inner.poll(cx) {
                Poll::Ready(Ok(response)) => response,
                other => return other,
            }
        };
        // Taken once: the inner future answers once.
        let Some(started) = this.started.take() else {
            return Poll::Ready(Ok(response));
        };
        let sent = started.metrics.sent.clone();
        let mut call = Call {
            start: started,
            handled: false,
            span: this.span.clone(),
        };
        if let Some(status) = response.headers().get(GRPC_STATUS) {
            // Trailers-only: the call is over.
            call.handled(code_number(status.as_bytes()));
        }
        Poll::Ready(Ok(response.map(|body| {
            tonic::body::Body::new(Metered {
                inner: body,
                counter: FrameCounter::default(),
                messages: sent,
                call: Some(call),
            })
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_messages_across_chunks() {
        let mut stream = Vec::new();
        for body in [&b"abc"[..], b"", b"hello"] {
            stream.push(0u8);
            stream.extend_from_slice(&(body.len() as u32).to_be_bytes());
            stream.extend_from_slice(body);
        }
        // Every split, headers cut anywhere included.
        for size in 1..=stream.len() {
            let mut counter = FrameCounter::default();
            let total: u64 = stream.chunks(size).map(|chunk| counter.feed(chunk)).sum();
            assert_eq!(total, 3, "in chunks of {size} bytes");
        }
    }

    #[test]
    fn knows_method_types_and_makes_every_served_methods_handles_once() {
        let table = MethodTable::new();
        let of = |path: &str| table.of(path).kind;
        assert_eq!(
            of("/diplomacy.v1.RelationService/StreamHistory"),
            "server_stream"
        );
        assert_eq!(
            of("/diplomacy.v1.RecordService/ImportRecords"),
            "client_stream"
        );
        assert_eq!(of("/diplomacy.v1.RelationService/GetRelation"), "unary");
        assert_eq!(of("/nothing/Here"), "unknown");
        let path = "/diplomacy.v1.RelationService/GetRelation";
        assert!(Arc::ptr_eq(&table.of(path), &table.of(path)), "made once");
        assert!(table.by_path.contains_key("/grpc.health.v1.Health/Check"));
        assert_eq!(table.of(path).handled.len(), CODES.len());
    }

    #[test]
    fn a_status_value_reads_as_its_code_number() {
        assert_eq!(code_number(b"0"), 0);
        assert_eq!(code_number(b"5"), 5);
        assert_eq!(code_number(b"17"), UNKNOWN, "beyond the codes");
        assert_eq!(code_number(b"x"), UNKNOWN);
        assert_eq!(CODES[CANCELLED], "Canceled");
    }
}
