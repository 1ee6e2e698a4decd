//! The server, assembled in one place: the six API services with the same
//! limits and compression each, health, reflection (v1 and v1alpha),
//! gRPC-Web with CORS, optional TLS, the middleware stack, and a graceful
//! drain on shutdown.

mod connection;
pub mod health;
pub mod ready;

use connection::GatheredWrites;

use ready::{Ready, ReadyFile, Warming};

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_stream::StreamExt;
use tonic::codec::CompressionEncoding;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_server::HealthServer;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::api;
use crate::error::Error;
use crate::ingest;
use crate::middleware::auth::{AuthLayer, Tokens};
use crate::middleware::browser::BrowserOnlyLayer;
use crate::middleware::consistency::{ConsistencyLayer, EmbeddedRevisions, Revisions};
use crate::middleware::deadline::DeadlineLayer;
use crate::middleware::http_json::HttpJsonLayer;
use crate::middleware::shed::LoadShedLayer;
use crate::middleware::status::StatusFixLayer;
use crate::pb::diplomacy::v1::actor_service_server::ActorServiceServer;
use crate::pb::diplomacy::v1::country_service_server::CountryServiceServer;
use crate::pb::diplomacy::v1::event_service_server::EventServiceServer;
use crate::pb::diplomacy::v1::meeting_service_server::MeetingServiceServer;
use crate::pb::diplomacy::v1::record_service_server::RecordServiceServer;
use crate::pb::diplomacy::v1::treaty_service_server::TreatyServiceServer;
use crate::pb::wire::relation_service_server::RelationServiceServer;
use crate::startup::StartupError;
use crate::store::{Store, WriterOptions};
use crate::telemetry::metrics::MetricsLayer;
use crate::web::PageLayer;
use health::{HealthService, HealthState};

/// The API services by full name, as health and reflection list them.
pub const SERVICE_NAMES: [&str; 7] = [
    "diplomacy.v1.CountryService",
    "diplomacy.v1.ActorService",
    "diplomacy.v1.TreatyService",
    "diplomacy.v1.MeetingService",
    "diplomacy.v1.EventService",
    "diplomacy.v1.RelationService",
    "diplomacy.v1.RecordService",
];

/// Where the data lives and what it starts with.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    pub data_dir: PathBuf,
    /// Load the seed dataset into an empty database.
    pub seed: bool,
    /// sled page cache size.
    pub cache_bytes: u64,
    /// Change log and watcher settings.
    pub writer: WriterOptions,
    /// How long to wait for the database's lock while this process's own
    /// closing handle still holds it: `diplomacy import` closes and opens
    /// its database again; anything else opens it once and waits not at all.
    pub lock_wait: Duration,
}

/// Limits that protect the server.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest request message (decoded), in bytes; larger → RESOURCE_EXHAUSTED.
    pub max_request_bytes: usize,
    /// Largest response message, in bytes.
    pub max_response_bytes: usize,
    /// Deadline of a call whose client sets none, and the longest a client
    /// may ask for (a shorter `grpc-timeout` wins).
    pub default_timeout: Duration,
    /// The same for `ImportRecords`, which streams a whole file in one call.
    pub import_timeout: Duration,
    /// Calls in flight across all connections; more → RESOURCE_EXHAUSTED at once.
    pub max_concurrent_calls: usize,
    /// HTTP/2 keepalive ping interval, and how long to wait for the answer.
    pub keepalive_interval: Duration,
    pub keepalive_timeout: Duration,
    /// Connections are closed (gracefully, after `max_connection_age_grace`)
    /// at this age, so long-lived clients rebalance across replicas.
    pub max_connection_age: Duration,
    pub max_connection_age_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_request_bytes: 4 * 1024 * 1024,
            max_response_bytes: 16 * 1024 * 1024,
            default_timeout: Duration::from_secs(30),
            import_timeout: Duration::from_secs(15 * 60),
            max_concurrent_calls: 512,
            keepalive_interval: Duration::from_secs(30),
            keepalive_timeout: Duration::from_secs(10),
            max_connection_age: Duration::from_secs(30 * 60),
            max_connection_age_grace: Duration::from_secs(30),
        }
    }
}

/// PEM files for TLS; with `client_ca`, clients must present a certificate
/// it signed (mutual TLS).
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
}

/// How the server behaves.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// After the shutdown signal, how long new calls are still accepted
    /// (health already says NOT_SERVING) while endpoints update.
    pub drain_delay: Duration,
    /// Then, the longest wait for in-flight calls before stopping anyway.
    pub drain_timeout: Duration,
    /// Who may read and write.
    pub tokens: Tokens,
    pub limits: Limits,
    /// Origins allowed to call over gRPC-Web from a browser; empty: any.
    pub cors_origins: Vec<String>,
    pub tls: Option<TlsFiles>,
    /// How often health re-checks that the store can be read.
    pub health_probe_interval: Duration,
    /// Replaces the store read that health checks (tests simulate an
    /// unreadable store with it).
    pub health_probe: Option<HealthProbe>,
    /// Written (see [`ready::Ready`]) once the listener is bound and health
    /// is SERVING; removed when the server stops.
    pub ready_file: Option<PathBuf>,
    /// The admin listener's address, for the ready file.
    pub admin_address: Option<SocketAddr>,
    /// A log line for every call (off: a mesh's proxy keeps access logs,
    /// and a line a call cost a sizeable share of a cheap call).
    pub access_log: bool,
    /// Where the revisions a call can wait for come from (a replica's etcd);
    /// the store's own when unset.
    pub revisions: Option<Revisions>,
    /// Where `ImportRecords` spools a call's records: the data dir (room
    /// for data); the system's temporary dir when unset.
    pub spool_dir: Option<PathBuf>,
}

/// A check that the store can be read: true when it can.
#[derive(Clone)]
pub struct HealthProbe(pub Arc<dyn Fn() -> bool + Send + Sync>);

impl std::fmt::Debug for HealthProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HealthProbe")
    }
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            drain_delay: Duration::from_secs(5),
            drain_timeout: Duration::from_secs(10),
            tokens: Tokens::default(),
            limits: Limits::default(),
            cors_origins: Vec::new(),
            tls: None,
            health_probe_interval: Duration::from_secs(2),
            health_probe: None,
            ready_file: None,
            admin_address: None,
            access_log: false,
            revisions: None,
            spool_dir: None,
        }
    }
}

/// Opens (creating if needed) the database and loads the built-in data into
/// it when it is new.
pub async fn open_store(options: &StoreOptions) -> Result<Arc<Store>, Error> {
    let store = open_index(options)?;
    let loaded = ingest::initialise(&store, options.seed).await?;
    if loaded > 0 {
        tracing::info!(
            records = loaded,
            "loaded the built-in data into a new database"
        );
    }
    Ok(store)
}

/// Opens (creating if needed) the database, loading nothing into it: a
/// replica's index, which gets its records from etcd.
pub fn open_index(options: &StoreOptions) -> Result<Arc<Store>, Error> {
    std::fs::create_dir_all(&options.data_dir).map_err(|e| {
        Error::Unavailable(format!(
            "cannot create data dir {}: {e}",
            options.data_dir.display()
        ))
    })?;
    let store = Store::open_when_free(
        &options.data_dir,
        options.cache_bytes,
        options.writer,
        options.lock_wait,
    )?;
    Ok(Arc::new(store))
}

/// Applies the same message limits and compression to every service.
macro_rules! configured {
    ($server:expr, $limits:expr) => {
        $server
            .max_decoding_message_size($limits.max_request_bytes)
            .max_encoding_message_size($limits.max_response_bytes)
            .accept_compressed(CompressionEncoding::Gzip)
            .accept_compressed(CompressionEncoding::Zstd)
            .send_compressed(CompressionEncoding::Gzip)
            .send_compressed(CompressionEncoding::Zstd)
    };
}

fn cors(origins: &[String]) -> Result<CorsLayer, StartupError> {
    let allow = if origins.is_empty() {
        AllowOrigin::any()
    } else {
        let values = origins
            .iter()
            .map(|o| o.parse())
            .collect::<Result<Vec<http::HeaderValue>, _>>()
            .map_err(|e| StartupError::Flag {
                flag: "--cors-origins",
                reason: format!("not an origin: {e}"),
            })?;
        AllowOrigin::list(values)
    };
    Ok(CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([http::Method::POST, http::Method::OPTIONS])
        .allow_headers(tower_http::cors::Any)
        .expose_headers([
            crate::middleware::GRPC_STATUS,
            crate::middleware::GRPC_MESSAGE,
            http::HeaderName::from_static("grpc-status-details-bin"),
            crate::middleware::consistency::REVISION,
        ]))
}

fn tls_config(files: &TlsFiles) -> Result<ServerTlsConfig, StartupError> {
    let read = |what, path: &PathBuf| {
        std::fs::read(path).map_err(|source| StartupError::File {
            action: "read",
            what,
            path: path.clone(),
            source,
        })
    };
    let identity = Identity::from_pem(
        read("TLS certificate", &files.cert)?,
        read("TLS key", &files.key)?,
    );
    let mut config = ServerTlsConfig::new().identity(identity);
    if let Some(ca) = &files.client_ca {
        config = config.client_ca_root(Certificate::from_pem(read("client CA", ca)?));
    }
    Ok(config)
}

/// Keeps health NOT_SERVING while the store cannot be read, until the drain
/// begins.
fn spawn_store_probe(
    store: Arc<Store>,
    probe: Option<HealthProbe>,
    health: HealthState,
    interval: Duration,
    mut stopping: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = stopping.changed() => return,
            }
            if *stopping.borrow() {
                return;
            }
            let readable = match &probe {
                Some(probe) => (probe.0)(),
                None => store.probe().is_ok(),
            };
            health.set_all(if readable {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            });
        }
    })
}

/// Logged when the relation cache has been filled at start, and when
/// filling it failed (the ready file says so too, for programs).
const RELATION_CACHE_WARMED: &str = "relation cache warmed";
const RELATION_CACHE_WARMING_FAILED: &str = "warming the relation cache failed";

/// Fills the relation cache in the background, busiest pairs first, while
/// calls are already served; stops when the drain begins.
fn spawn_relation_cache_warmer(
    store: Arc<Store>,
    stopping: watch::Receiver<bool>,
    ready_file: Option<Arc<ReadyFile>>,
) -> tokio::task::JoinHandle<()> {
    tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let state = match store.warm_relation_cache(&|| *stopping.borrow()) {
            Ok(pairs) if *stopping.borrow() => {
                tracing::info!(
                    pairs,
                    "relation cache warming stopped: the server is draining"
                );
                Warming::Stopped
            }
            Ok(pairs) => {
                let (bytes, _) = store.relation_cache_usage();
                tracing::info!(
                    pairs,
                    bytes,
                    seconds = started.elapsed().as_secs_f64(),
                    "{RELATION_CACHE_WARMED}"
                );
                Warming::Warm
            }
            Err(e) => {
                tracing::warn!(error = %e, "{RELATION_CACHE_WARMING_FAILED}");
                Warming::Failed
            }
        };
        if let Some(file) = ready_file {
            file.set_relation_cache(state);
        }
    })
}

/// Serves every service on `listener` until `shutdown` resolves, then
/// drains: health turns NOT_SERVING at once, new calls are still taken for
/// `drain_delay`, open watch streams end with UNAVAILABLE, in-flight calls
/// get up to `drain_timeout`, and the store is flushed.
pub async fn serve(
    listener: TcpListener,
    store: Arc<Store>,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let health = HealthState::new(&SERVICE_NAMES);
    let (stopping_sender, stopping) = watch::channel(false);
    let stopping_for_warmer = stopping.clone();
    let probe = spawn_store_probe(
        Arc::clone(&store),
        options.health_probe.clone(),
        health.clone(),
        options.health_probe_interval,
        stopping.clone(),
    );

    let reflection_v1 = reflection_builder().build_v1()?;
    let reflection_v1alpha = reflection_builder().build_v1alpha()?;

    let (drain_started, drain_signal) = tokio::sync::oneshot::channel::<()>();
    let draining_health = health.clone();
    let drain_delay = options.drain_delay;
    let ready_file: Arc<std::sync::OnceLock<Arc<ReadyFile>>> = Arc::default();
    let draining_ready_file = Arc::clone(&ready_file);
    let on_shutdown = async move {
        shutdown.await;
        // Probes and the mesh see NOT_SERVING at once and stop routing here;
        // calls still arriving meanwhile are served.
        draining_health.set_all(ServingStatus::NotServing);
        if let Some(file) = draining_ready_file.get() {
            file.remove();
        }
        let _ = stopping_sender.send(true);
        tracing::info!(delay = ?drain_delay, "shutting down: draining");
        tokio::time::sleep(drain_delay).await;
        let _ = drain_started.send(());
    };

    let revisions = match &options.revisions {
        Some(Revisions(source)) => Arc::clone(source),
        None => Arc::new(EmbeddedRevisions(Arc::clone(&store))),
    };
    let limits = &options.limits;
    let mut tokens = options.tokens.clone();
    if options
        .tls
        .as_ref()
        .is_some_and(|tls| tls.client_ca.is_some())
    {
        // Mutual TLS: a verified client certificate stands in for a token.
        tokens.client_certificates = Some(crate::middleware::auth::Scope::ReadWrite);
    }
    let mut builder = Server::builder();
    if let Some(files) = &options.tls {
        builder = builder.tls_config(tls_config(files)?)?;
    }
    let router = builder
        .accept_http1(true)
        .http2_keepalive_interval(Some(limits.keepalive_interval))
        .http2_keepalive_timeout(Some(limits.keepalive_timeout))
        .max_connection_age(limits.max_connection_age)
        .max_connection_age_grace(limits.max_connection_age_grace)
        // The page's own files, before anything else.
        .layer(PageLayer)
        // Then a GET of the HTTP/JSON mapping, which goes through every
        // layer below as the gRPC call it stands for.
        .layer(HttpJsonLayer)
        .layer(MetricsLayer::new(options.access_log))
        .layer(StatusFixLayer)
        // Only a browser's calls need them.
        .layer(BrowserOnlyLayer::new(
            tower::ServiceBuilder::new()
                .layer(cors(&options.cors_origins)?)
                .layer(tonic_web::GrpcWebLayer::new()),
        ))
        .layer(LoadShedLayer::new(limits.max_concurrent_calls))
        .layer(AuthLayer::new(tokens))
        .layer(DeadlineLayer::new(
            limits.default_timeout,
            limits.import_timeout,
        ))
        // Inside the deadline, which bounds a wait for a revision.
        .layer(ConsistencyLayer::new(store.seen_revision(), revisions))
        .add_service(HealthServer::new(HealthService::new(
            health.clone(),
            stopping.clone(),
        )))
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(configured!(
            CountryServiceServer::new(api::Countries {
                store: Arc::clone(&store)
            }),
            limits
        ))
        .add_service(configured!(
            TreatyServiceServer::new(api::Treaties {
                store: Arc::clone(&store)
            }),
            limits
        ))
        .add_service(configured!(
            MeetingServiceServer::new(api::Meetings {
                store: Arc::clone(&store)
            }),
            limits
        ))
        .add_service(configured!(
            EventServiceServer::new(api::Events {
                store: Arc::clone(&store)
            }),
            limits
        ))
        .add_service(configured!(
            ActorServiceServer::new(api::Actors {
                store: Arc::clone(&store)
            }),
            limits
        ))
        .add_service(configured!(
            RelationServiceServer::new(api::Relations {
                store: Arc::clone(&store)
            }),
            limits
        ))
        .add_service(configured!(
            RecordServiceServer::new(api::Records {
                store: Arc::clone(&store),
                spool_dir: options.spool_dir.clone().unwrap_or_else(std::env::temp_dir),
                stopping
            }),
            limits
        ));
    let grpc_address = listener.local_addr()?;
    // The builder's own TCP settings only apply to listeners it binds itself:
    // set them on ours. Without TCP_NODELAY, a response's trailers wait for
    // the client's delayed ACK (a 40 ms stall per call).
    let incoming = tonic::transport::server::TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .with_keepalive(Some(limits.keepalive_interval))
        // A batch of answers in one write, however long each is.
        .map(|accepted| accepted.map(GatheredWrites::new));
    let server = router.serve_with_incoming_shutdown(incoming, on_shutdown);
    // Bound, and health says SERVING (every status starts so): connections
    // made from now on wait in the listener's backlog until accepted.
    if let Some(path) = &options.ready_file {
        let ready = Ready {
            grpc: grpc_address,
            admin: options.admin_address,
            pid: std::process::id(),
            relation_cache: Warming::Warming,
        };
        let file = ReadyFile::create(path.clone(), ready)
            .map_err(|e| format!("cannot write the ready file {}: {e}", path.display()))?;
        let _ = ready_file.set(Arc::new(file));
    }
    // Started once the ready file exists, so that its last word on the
    // relation cache is never overwritten by the first.
    let warmer = spawn_relation_cache_warmer(
        Arc::clone(&store),
        stopping_for_warmer,
        ready_file.get().cloned(),
    );

    // tonic waits for open server streams without limit: bound the drain.
    let drain_deadline = async move {
        if drain_signal.await.is_ok() {
            tokio::time::sleep(options.drain_timeout).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = server => result?,
        () = drain_deadline => tracing::warn!("drain timed out: closing the remaining calls"),
    }
    probe.abort();
    let _ = probe.await;
    // It stops at the next pair once the drain has begun.
    let _ = warmer.await;
    if let Some(file) = ready_file.get() {
        file.remove();
    }
    store.flush()?;
    Ok(())
}

fn reflection_builder() -> tonic_reflection::server::Builder<'static> {
    // Each reflection version lists itself; both are registered so that
    // every client sees both services, whichever version it speaks.
    crate::descriptors::SERVED_DESCRIPTOR_SETS.into_iter().fold(
        tonic_reflection::server::Builder::configure(),
        |builder, set| builder.register_encoded_file_descriptor_set(set),
    )
}
