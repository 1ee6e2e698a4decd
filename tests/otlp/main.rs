//! OTLP export (cargo feature `otlp`): a collector started here receives the
//! span of a call, in the caller's trace and under the caller's span.
//! `cargo test --features otlp --test otlp`.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diplomacy::pb::diplomacy::v1::relation_service_client::RelationServiceClient;
use diplomacy::pb::diplomacy::v1::GetRelationRequest;
use diplomacy::server::ready::wait_for_child;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::trace::v1::Span;

#[derive(Clone, Default)]
struct Collector {
    spans: Arc<Mutex<Vec<Span>>>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.spans.lock().expect("lock");
        for resource in request.into_inner().resource_spans {
            for scope in resource.scope_spans {
                spans.extend(scope.spans);
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_span_of_a_call_reaches_the_collector_in_the_callers_trace() {
    let collector = Collector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let collector_address = listener.local_addr().expect("address");
    let service = TraceServiceServer::new(collector.clone());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_diplomacy"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--drain-delay-secs",
            "0",
            "--otlp-endpoint",
        ])
        .arg(format!("http://{collector_address}"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("--ready-file")
        .arg(dir.path().join("ready.json"))
        .spawn()
        .expect("start");
    let address = wait_for_child(
        &dir.path().join("ready.json"),
        &mut child,
        std::time::Duration::from_secs(60),
    )
    .unwrap_or_else(|e| panic!("{e}"))
    .grpc;

    let mut client = RelationServiceClient::connect(format!("http://{address}"))
        .await
        .expect("connect");
    let mut request = tonic::Request::new(GetRelationRequest {
        name: "countries/TR/relations/AM".into(),
        as_of: None,
        ..Default::default()
    });
    request.metadata_mut().insert(
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .expect("header"),
    );
    client.get_relation(request).await.expect("call");
    drop(client);

    // Stopping flushes the exporter.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    // Wait off the runtime, which keeps serving the collector meanwhile.
    let exited = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(exited.success());

    let mut found = None;
    for _ in 0..50 {
        found = collector
            .spans
            .lock()
            .expect("lock")
            .iter()
            .find(|s| s.name == "diplomacy.v1.RelationService/GetRelation")
            .cloned();
        if found.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let span = found.expect("the call's span was exported");
    assert_eq!(
        hex(&span.trace_id),
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "in the caller's trace"
    );
    assert_eq!(
        hex(&span.parent_span_id),
        "00f067aa0ba902b7",
        "under the caller's span"
    );
    assert_eq!(span.span_id.len(), 8);
    assert!(span.end_time_unix_nano >= span.start_time_unix_nano && span.start_time_unix_nano > 0);
    let code = span
        .attributes
        .iter()
        .find(|a| a.key == "rpc.grpc.status_code")
        .and_then(|a| a.value.as_ref())
        .map(|v| format!("{v:?}"));
    assert!(code.is_some_and(|c| c.contains("OK")), "status attribute");
}
