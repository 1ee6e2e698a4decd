//! `diplomacy serve`: the flags of the server, and its start and stop.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use diplomacy::middleware::auth::{self, Scope, Tokens};
use diplomacy::middleware::consistency::Revisions;
use diplomacy::replica::Replica;
use diplomacy::server::{self, ServeOptions};

use super::args::{DataArgs, EtcdArgs};
use super::memory::return_freed_memory;
use super::CliResult;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "DIPLOMACY_LISTEN", default_value = "127.0.0.1:50051")]
    listen: SocketAddr,
    #[command(flatten)]
    data: DataArgs,
    /// Do not load the seed dataset into a new database (built-in countries
    /// are always loaded).
    #[arg(long, env = "DIPLOMACY_NO_SEED")]
    no_seed: bool,
    /// Once the listeners are bound and health is SERVING, write one line of
    /// JSON here (atomically): the gRPC and admin addresses, the process id,
    /// and whether the relation cache is still warming (written again when
    /// that changes). Removed when the server drains.
    #[arg(long, env = "DIPLOMACY_READY_FILE")]
    ready_file: Option<PathBuf>,
    /// After SIGTERM/SIGINT, seconds during which new calls are still served
    /// while health says NOT_SERVING (endpoints take a moment to update).
    #[arg(long, env = "DIPLOMACY_DRAIN_DELAY_SECS", default_value_t = 5)]
    drain_delay_secs: u64,
    /// Then, the longest wait for in-flight calls, in seconds.
    #[arg(long, env = "DIPLOMACY_DRAIN_TIMEOUT_SECS", default_value_t = 10)]
    drain_timeout_secs: u64,
    #[command(flatten)]
    limits: LimitArgs,
    /// OpenTelemetry collector to export each call's span to over OTLP/gRPC,
    /// e.g. `http://127.0.0.1:4317`.
    #[cfg(feature = "otlp")]
    #[arg(long, env = "DIPLOMACY_OTLP_ENDPOINT")]
    otlp_endpoint: Option<String>,
    /// Log a line for every call (its span: service, method, peer, trace,
    /// code, duration). Off by default: a mesh's proxy keeps access logs.
    #[arg(long, env = "DIPLOMACY_ACCESS_LOG")]
    access_log: bool,
    /// Admin HTTP listener for Prometheus `/metrics` (off by default).
    #[arg(long, env = "DIPLOMACY_ADMIN_LISTEN")]
    admin_listen: Option<SocketAddr>,
    /// Origins allowed to call over gRPC-Web (comma-separated); empty: any.
    #[arg(long, env = "DIPLOMACY_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Vec<String>,
    /// TLS certificate chain (PEM); with --tls-key, serves TLS instead of h2c.
    #[arg(long, env = "DIPLOMACY_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "DIPLOMACY_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// CA (PEM) whose client certificates are required (mutual TLS).
    #[arg(long, env = "DIPLOMACY_TLS_CLIENT_CA", requires = "tls_cert")]
    tls_client_ca: Option<PathBuf>,
    /// File of tokens, one `read TOKEN` or `write TOKEN` a line. With no
    /// token configured at all, a read-write token is generated into
    /// DATA_DIR/auth-token (mode 0600).
    #[arg(long, env = "DIPLOMACY_TOKENS_FILE")]
    tokens_file: Option<PathBuf>,
    /// A read-write token (in addition to the tokens file).
    #[arg(long = "token", env = "DIPLOMACY_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Reads need a token too (by default only writes do).
    #[arg(long, env = "DIPLOMACY_REQUIRE_AUTH_FOR_READS")]
    require_auth_for_reads: bool,
    #[command(flatten)]
    etcd: EtcdArgs,
    /// Delete the index in --data-dir and build it again from etcd (when it
    /// was built from another cluster or prefix, or is an embedded database).
    #[arg(long, env = "DIPLOMACY_ETCD_REBUILD", requires = "etcd_endpoints")]
    etcd_rebuild: bool,
}

#[derive(Args)]
struct LimitArgs {
    /// Largest request message in bytes (larger: RESOURCE_EXHAUSTED).
    #[arg(long, env = "DIPLOMACY_MAX_REQUEST_BYTES", default_value_t = 4 * 1024 * 1024)]
    max_request_bytes: usize,
    /// Largest response message in bytes.
    #[arg(long, env = "DIPLOMACY_MAX_RESPONSE_BYTES", default_value_t = 16 * 1024 * 1024)]
    max_response_bytes: usize,
    /// Deadline in seconds of a call whose client sets none, and the longest
    /// a client may ask for (ImportRecords: --import-timeout-secs).
    #[arg(long, env = "DIPLOMACY_DEFAULT_TIMEOUT_SECS", default_value_t = 30)]
    default_timeout_secs: u64,
    /// The same for ImportRecords, which streams a whole file in one call
    /// (longer than --max-connection-age-secs needs that raised too).
    #[arg(long, env = "DIPLOMACY_IMPORT_TIMEOUT_SECS", default_value_t = 900)]
    import_timeout_secs: u64,
    /// Calls in flight across all connections (more: RESOURCE_EXHAUSTED).
    #[arg(long, env = "DIPLOMACY_MAX_CONCURRENT_CALLS", default_value_t = 512)]
    max_concurrent_calls: usize,
    /// HTTP/2 keepalive ping interval, seconds.
    #[arg(long, env = "DIPLOMACY_KEEPALIVE_INTERVAL_SECS", default_value_t = 30)]
    keepalive_interval_secs: u64,
    /// HTTP/2 keepalive ping timeout, seconds.
    #[arg(long, env = "DIPLOMACY_KEEPALIVE_TIMEOUT_SECS", default_value_t = 10)]
    keepalive_timeout_secs: u64,
    /// Close connections at this age (seconds) so clients rebalance.
    #[arg(
        long,
        env = "DIPLOMACY_MAX_CONNECTION_AGE_SECS",
        default_value_t = 1800
    )]
    max_connection_age_secs: u64,
    /// Grace for calls on an aged connection, seconds.
    #[arg(
        long,
        env = "DIPLOMACY_MAX_CONNECTION_AGE_GRACE_SECS",
        default_value_t = 30
    )]
    max_connection_age_grace_secs: u64,
}

impl LimitArgs {
    fn limits(&self) -> server::Limits {
        server::Limits {
            max_request_bytes: self.max_request_bytes,
            max_response_bytes: self.max_response_bytes,
            default_timeout: Duration::from_secs(self.default_timeout_secs),
            import_timeout: Duration::from_secs(self.import_timeout_secs),
            max_concurrent_calls: self.max_concurrent_calls.max(1),
            keepalive_interval: Duration::from_secs(self.keepalive_interval_secs),
            keepalive_timeout: Duration::from_secs(self.keepalive_timeout_secs),
            max_connection_age: Duration::from_secs(self.max_connection_age_secs),
            max_connection_age_grace: Duration::from_secs(self.max_connection_age_grace_secs),
        }
    }
}

pub async fn serve(args: ServeArgs) -> CliResult {
    if let Some(path) = &args.ready_file {
        // One left by a process that was killed would say ready too early.
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(
                    format!("cannot remove the old ready file {}: {e}", path.display()).into(),
                )
            }
            _ => {}
        }
    }
    let shutdown = shutdown_signal()?;
    if args.admin_listen.is_some() {
        // Before anything records a figure (a replica does from its start).
        diplomacy::telemetry::admin::metrics_handle();
    }
    let (stop_replica, replica_stopping) = tokio::sync::watch::channel(false);
    let (store, replica) = if !args.etcd.is_set() {
        let store = server::open_store(&args.data.store_options(!args.no_seed)).await?;
        (store, None)
    } else {
        let (store, replica) = start_replica(&args, replica_stopping).await?;
        (store, Some(replica))
    };
    return_freed_memory();
    let tokens = tokens(&args)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let address = listener.local_addr()?;
    let mut admin_address = None;
    if let Some(admin) = args.admin_listen {
        let admin = tokio::net::TcpListener::bind(admin)
            .await
            .map_err(|e| format!("cannot listen on {admin} for metrics: {e}"))?;
        let bound = admin.local_addr()?;
        diplomacy::telemetry::admin::metrics_handle();
        tokio::spawn(diplomacy::telemetry::admin::serve_admin(
            admin,
            Arc::downgrade(&store),
        ));
        tracing::info!("metrics on http://{bound}/metrics");
        admin_address = Some(bound);
    }
    tracing::info!(%address, data_dir = %args.data.data_dir.display(), "diplomacy ready on {address}");
    let options = ServeOptions {
        drain_delay: Duration::from_secs(args.drain_delay_secs),
        drain_timeout: Duration::from_secs(args.drain_timeout_secs),
        tokens,
        limits: args.limits.limits(),
        cors_origins: args.cors_origins.clone(),
        tls: match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Some(server::TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: args.tls_client_ca.clone(),
            }),
            _ => None,
        },
        ready_file: args.ready_file.clone(),
        admin_address,
        access_log: args.access_log,
        health_probe: replica.as_ref().map(|replica| {
            // NOT_SERVING until the index holds its first snapshot.
            let replica = Arc::clone(replica);
            let store = Arc::clone(&store);
            server::HealthProbe(Arc::new(move || {
                replica.is_ready() && store.probe().is_ok()
            }))
        }),
        health_probe_interval: if replica.is_some() {
            Duration::from_millis(250)
        } else {
            ServeOptions::default().health_probe_interval
        },
        revisions: replica.as_ref().map(|replica| {
            Revisions(
                Arc::clone(replica) as Arc<dyn diplomacy::middleware::consistency::RevisionSource>
            )
        }),
        spool_dir: Some(args.data.data_dir.clone()),
    };
    #[cfg(feature = "otlp")]
    if let Some(endpoint) = &args.otlp_endpoint {
        diplomacy::telemetry::otlp::start(endpoint.clone());
    }
    let served = server::serve(listener, store, options, shutdown).await;
    let _ = stop_replica.send(true);
    drop(replica);
    if served.is_ok() {
        let started = Instant::now();
        match checkpoint(&args.data.data_dir).await {
            Ok(()) => tracing::info!(
                seconds = started.elapsed().as_secs_f64(),
                "checkpointed the database: the next start reads it without replaying this run's writes"
            ),
            Err(e) => tracing::warn!(error = %e, "could not checkpoint the database: the next start replays this run's writes"),
        }
        tracing::info!("stopped");
    }
    #[cfg(feature = "otlp")]
    diplomacy::telemetry::otlp::flush(Duration::from_secs(5)).await;
    served
}

/// Opens this replica's index (rebuilt first with --etcd-rebuild) and
/// starts following etcd.
async fn start_replica(
    args: &ServeArgs,
    stopping: tokio::sync::watch::Receiver<bool>,
) -> Result<(Arc<diplomacy::store::Store>, Arc<Replica>), Box<dyn std::error::Error + Send + Sync>>
{
    let data_dir = &args.data.data_dir;
    if args.etcd_rebuild {
        let removed = diplomacy::replica::wipe_index(data_dir).map_err(|e| {
            format!(
                "--etcd-rebuild: cannot remove the index in {}: {e}",
                data_dir.display()
            )
        })?;
        tracing::info!(data_dir = %data_dir.display(), removed, "--etcd-rebuild: removed the index; it is built again from etcd");
    }
    let store = server::open_index(&args.data.store_options(false))?;
    let options = args.etcd.options(Some(!args.no_seed))?;
    let replica = Replica::start(Arc::clone(&store), &options, stopping).await?;
    tracing::info!(endpoints = %options.etcd.endpoints.join(","), prefix = %options.prefix, "replica of etcd: writes go through it, reads come from the index in {}", data_dir.display());
    Ok((store, replica))
}

/// `store::checkpoint` off the async workers, once this process has closed
/// the database.
pub async fn checkpoint(data_dir: &Path) -> Result<(), diplomacy::error::Error> {
    let dir = data_dir.to_path_buf();
    tokio::task::spawn_blocking(move || diplomacy::store::checkpoint(&dir, Duration::from_secs(5)))
        .await
        .map_err(|e| diplomacy::error::Error::Unavailable(e.to_string()))?
}

/// The configured tokens; a generated one when none is configured.
fn tokens(args: &ServeArgs) -> Result<Tokens, diplomacy::startup::StartupError> {
    let mut tokens = Tokens::default();
    tokens.require_for_reads = args.require_auth_for_reads;
    if let Some(path) = &args.tokens_file {
        tokens.load_file(path)?;
    }
    if let Some(token) = &args.token {
        tokens.add(token, Scope::ReadWrite);
    }
    if tokens.is_empty() {
        let (token, created) = auth::ensure_generated_token(&args.data.data_dir)?;
        tokens.add(&token, Scope::ReadWrite);
        let path = auth::generated_token_path(&args.data.data_dir);
        let what = if created { "generated" } else { "using" };
        tracing::info!(path = %path.display(), "no token configured: {what} a read-write token in {}", path.display());
    }
    Ok(tokens)
}

/// Registers SIGINT (Ctrl-C) and SIGTERM handlers now, so that a signal that
/// arrives right after the ready line is not lost, and returns a future that
/// resolves on either.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = terminate.recv() => {},
                _ = interrupt.recv() => {},
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
