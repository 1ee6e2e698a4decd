//! The admin HTTP listener (off unless `--admin-listen`): Prometheus text at
//! `/metrics` — the gRPC metrics plus store figures — and `/healthz`.

use std::convert::Infallible;
use std::sync::{OnceLock, Weak};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use crate::store::Store;

/// Latency buckets, in seconds, for `grpc_server_handling_seconds`.
const BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// How often the store figures are recomputed (they scan the records).
const STORE_FIGURES_EVERY: Duration = Duration::from_secs(30);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide Prometheus recorder (once) and returns its handle.
pub fn metrics_handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        // Fails only for an empty bucket list, which BUCKETS is not.
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("grpc_server_handling_seconds".into()),
                &BUCKETS,
            )
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Another recorder installed first (in an embedding program) wins.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

fn record_store_figures(store: &Store) {
    if let Ok(counts) = store.counts() {
        for (collection, count) in counts {
            metrics::gauge!("diplomacy_records", "kind" => collection.as_str()).set(count as f64);
        }
    }
    if let Ok(bytes) = store.size_on_disk() {
        metrics::gauge!("diplomacy_database_size_bytes").set(bytes as f64);
    }
    metrics::gauge!("diplomacy_store_revision").set(store.revision() as f64);
}

/// Serves the admin endpoints on `listener` until the process ends.
///
/// It holds the store weakly: once the gRPC server has stopped and dropped
/// it, the database closes (and is checkpointed, see `kv::checkpoint`) even
/// while a scraper keeps its connection open. Store figures stop then.
pub async fn serve_admin(listener: TcpListener, store: Weak<Store>) {
    let handle = metrics_handle();
    let figures_store = Weak::clone(&store);
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(STORE_FIGURES_EVERY);
        loop {
            ticker.tick().await;
            let Some(store) = figures_store.upgrade() else {
                return;
            };
            let _ = tokio::task::spawn_blocking(move || record_store_figures(&store)).await;
        }
    });
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let store = Weak::clone(&store);
        let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            // Cheap to read, so current at every scrape.
            let cache_usage = store.upgrade().map(|s| s.relation_cache_usage());
            async move {
                let response = match request.uri().path() {
                    "/metrics" => {
                        if let Some((bytes, pairs)) = cache_usage {
                            metrics::gauge!("diplomacy_relation_cache_bytes").set(bytes as f64);
                            metrics::gauge!("diplomacy_relation_cache_pairs").set(pairs as f64);
                        }
                        hyper::Response::builder()
                            .header("content-type", "text/plain; version=0.0.4")
                            .body(Full::new(Bytes::from(handle.render())))
                    }
                    "/healthz" => {
                        hyper::Response::builder().body(Full::new(Bytes::from_static(b"ok\n")))
                    }
                    _ => hyper::Response::builder()
                        .status(404)
                        .body(Full::new(Bytes::from_static(b"not found\n"))),
                };
                Ok::<_, Infallible>(
                    response.unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new()))),
                )
            }
        });
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
