//! OTLP/gRPC export of each call's span to an OpenTelemetry collector
//! (cargo feature `otlp`, `serve --otlp-endpoint`). The span of a call whose
//! client sent a W3C or B3 context is exported as a child of the caller's
//! span, in the caller's trace; other calls start a trace of their own.
//! Spans are batched (512, or every second) by one background task; when
//! the collector is unreachable, batches are dropped, never queued without
//! bound.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    span, status, ResourceSpans, ScopeSpans, Span, Status,
};
use rand::Rng;
use tokio::sync::{mpsc, oneshot};

use super::trace_context::TraceContext;

const BATCH: usize = 512;
const QUEUE: usize = 8192;

/// One finished call, ready to export.
pub struct FinishedCall {
    pub context: Option<TraceContext>,
    pub name: String,
    pub start: SystemTime,
    pub end: SystemTime,
    pub attributes: Vec<(&'static str, String)>,
    pub ok: bool,
}

enum Message {
    Span(Box<Span>),
    Flush(oneshot::Sender<()>),
}

static QUEUE_SENDER: OnceLock<mpsc::Sender<Message>> = OnceLock::new();

fn decode_hex<const N: usize>(hex: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    if hex.len() != N * 2 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

fn nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

fn span_of(call: FinishedCall) -> Span {
    let mut rng = rand::rng();
    let trace_id = call
        .context
        .as_ref()
        .and_then(|c| decode_hex::<16>(&c.trace_id))
        .unwrap_or_else(|| rng.random());
    let parent = call
        .context
        .as_ref()
        .and_then(|c| decode_hex::<8>(&c.parent_id));
    let span_id: [u8; 8] = rng.random();
    Span {
        trace_id: trace_id.to_vec(),
        span_id: span_id.to_vec(),
        trace_state: call
            .context
            .as_ref()
            .and_then(|c| c.tracestate.clone())
            .unwrap_or_default(),
        parent_span_id: parent.map(|p| p.to_vec()).unwrap_or_default(),
        name: call.name,
        kind: span::SpanKind::Server as i32,
        start_time_unix_nano: nanos(call.start),
        end_time_unix_nano: nanos(call.end),
        attributes: call
            .attributes
            .into_iter()
            .map(|(key, value)| KeyValue {
                key: key.to_string(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::StringValue(value)),
                }),
                ..Default::default()
            })
            .collect(),
        status: Some(Status {
            code: if call.ok {
                status::StatusCode::Ok
            } else {
                status::StatusCode::Error
            } as i32,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Starts exporting to `endpoint` (e.g. `http://127.0.0.1:4317`).
pub fn start(endpoint: String) {
    let (sender, mut receiver) = mpsc::channel(QUEUE);
    if QUEUE_SENDER.set(sender).is_err() {
        return;
    }
    tokio::spawn(async move {
        let mut client = None;
        let mut batch: Vec<Span> = Vec::new();
        let mut ticker = tokio::time::interval(Duration::from_secs(1));
        loop {
            let mut flushed = None;
            let mut due = false;
            tokio::select! {
                message = receiver.recv() => match message {
                    Some(Message::Span(span)) => batch.push(*span),
                    Some(Message::Flush(done)) => flushed = Some(done),
                    None => return,
                },
                _ = ticker.tick() => due = true,
            }
            if batch.len() >= BATCH || flushed.is_some() || (due && !batch.is_empty()) {
                if client.is_none() {
                    match TraceServiceClient::connect(endpoint.clone()).await {
                        Ok(connected) => client = Some(connected),
                        Err(e) => tracing::warn!(%endpoint, "cannot reach the OTLP collector: {e}"),
                    }
                }
                if let (Some(connected), false) = (client.as_mut(), batch.is_empty()) {
                    let request = ExportTraceServiceRequest {
                        resource_spans: vec![ResourceSpans {
                            resource: Some(Resource {
                                attributes: vec![KeyValue {
                                    key: "service.name".into(),
                                    value: Some(AnyValue {
                                        value: Some(any_value::Value::StringValue(
                                            "diplomacy".into(),
                                        )),
                                    }),
                                    ..Default::default()
                                }],
                                ..Default::default()
                            }),
                            scope_spans: vec![ScopeSpans {
                                scope: Some(InstrumentationScope {
                                    name: "diplomacy".into(),
                                    version: env!("CARGO_PKG_VERSION").into(),
                                    ..Default::default()
                                }),
                                spans: std::mem::take(&mut batch),
                                ..Default::default()
                            }],
                            ..Default::default()
                        }],
                    };
                    if let Err(status) = connected.export(request).await {
                        tracing::warn!(code = ?status.code(), "OTLP export failed: spans dropped");
                        client = None;
                    }
                }
                batch.clear();
            }
            if let Some(done) = flushed {
                let _ = done.send(());
            }
        }
    });
}

/// Queues a finished call for export (dropped when the queue is full).
pub fn record(call: FinishedCall) {
    if let Some(sender) = QUEUE_SENDER.get() {
        let _ = sender.try_send(Message::Span(Box::new(span_of(call))));
    }
}

/// Exports everything queued so far (at shutdown), waiting at most `limit`.
pub async fn flush(limit: Duration) {
    let Some(sender) = QUEUE_SENDER.get() else {
        return;
    };
    let (done, wait) = oneshot::channel();
    if sender.send(Message::Flush(done)).await.is_ok() {
        let _ = tokio::time::timeout(limit, wait).await;
    }
}
