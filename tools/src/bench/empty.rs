//! The physical limit every figure is also measured against: a tonic
//! server that serves nothing but `grpc.health.v1.Health/Check`
//! (tonic-health), with no layer of ours in front of it. Our own health
//! check carries every layer the API calls do (metrics, status fixes,
//! CORS, gRPC-Web, shedding, auth, deadlines), so a ratio to it cannot show
//! their cost; a ratio to this server can. It runs as a process of its own
//! (`diplomacy-tools empty-server`), so that its CPU is counted apart from
//! the load generator's.

use std::net::SocketAddr;
use std::path::Path;

use diplomacy::server::ready::{Ready, Warming};
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Serves health checks on `listen` until SIGTERM or SIGINT, after writing
/// `ready_file` as `diplomacy serve` does.
pub async fn serve(listen: SocketAddr, ready_file: &Path) -> Result<(), Error> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let grpc = listener.local_addr()?;
    // Every status starts SERVING for "": Check of "" answers that.
    let (_reporter, health) = tonic_health::server::health_reporter();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let stop = async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    Ready {
        grpc,
        admin: None,
        pid: std::process::id(),
        relation_cache: Warming::Warm,
    }
    .write(ready_file)?;
    // The same TCP setting as the service's listener (no delayed-ACK stall).
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    Server::builder()
        .add_service(health)
        .serve_with_incoming_shutdown(incoming, stop)
        .await?;
    Ok(())
}
