//! The server, assembled in one place: the five API services, health,
//! reflection (v1 and v1alpha), and a bounded drain on shutdown.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::Server;
use tonic_health::ServingStatus;

use crate::api;
use crate::dataset;
use crate::error::Error;
use crate::middleware::auth::{AuthLayer, Tokens};
use crate::middleware::status::StatusFixLayer;
use crate::pb::diplomacy::v1::country_service_server::CountryServiceServer;
use crate::pb::diplomacy::v1::event_service_server::EventServiceServer;
use crate::pb::diplomacy::v1::meeting_service_server::MeetingServiceServer;
use crate::pb::diplomacy::v1::record_service_server::RecordServiceServer;
use crate::pb::diplomacy::v1::relation_service_server::RelationServiceServer;
use crate::pb::diplomacy::v1::treaty_service_server::TreatyServiceServer;
use crate::store::{Store, WriterOptions};

/// The API services by full name, as health and reflection list them.
pub const SERVICE_NAMES: [&str; 6] = [
    "diplomacy.v1.CountryService",
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
}

/// How the server behaves.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Longest wait for in-flight calls and open streams after the shutdown
    /// signal before the server stops anyway.
    pub drain_timeout: Duration,
    /// Who may read and write.
    pub tokens: Tokens,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            drain_timeout: Duration::from_secs(10),
            tokens: Tokens::default(),
        }
    }
}

/// Opens (creating if needed) the database and loads the built-in data into
/// it when it is new.
pub async fn open_store(options: &StoreOptions) -> Result<Arc<Store>, Error> {
    std::fs::create_dir_all(&options.data_dir).map_err(|e| {
        Error::Unavailable(format!(
            "cannot create data dir {}: {e}",
            options.data_dir.display()
        ))
    })?;
    let store = Store::open(&options.data_dir, options.cache_bytes, options.writer)?;
    let loaded = dataset::initialise(&store, options.seed).await?;
    if loaded > 0 {
        tracing::info!(
            records = loaded,
            "loaded the built-in data into a new database"
        );
    }
    Ok(Arc::new(store))
}

/// Serves every service on `listener` until `shutdown` resolves, then drains
/// (bounded by `options.drain_timeout`) and flushes the store.
pub async fn serve(
    listener: TcpListener,
    store: Arc<Store>,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let (health, health_service) = tonic_health::server::health_reporter();
    for name in SERVICE_NAMES {
        health
            .set_service_status(name, ServingStatus::Serving)
            .await;
    }
    health.set_service_status("", ServingStatus::Serving).await;

    let reflection_v1 = reflection_builder().build_v1()?;
    let reflection_v1alpha = reflection_builder().build_v1alpha()?;

    let (drain_started, drain_signal) = tokio::sync::oneshot::channel::<()>();
    let draining_health = health.clone();
    let on_shutdown = async move {
        shutdown.await;
        // Probes and the mesh see NOT_SERVING at once and stop routing here.
        for name in SERVICE_NAMES.into_iter().chain([""]) {
            draining_health
                .set_service_status(name, ServingStatus::NotServing)
                .await;
        }
        tracing::info!("shutting down: draining in-flight calls");
        let _ = drain_started.send(());
    };

    let server = Server::builder()
        .layer(StatusFixLayer)
        .layer(AuthLayer::new(options.tokens.clone()))
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(CountryServiceServer::new(api::Countries {
            store: Arc::clone(&store),
        }))
        .add_service(TreatyServiceServer::new(api::Treaties {
            store: Arc::clone(&store),
        }))
        .add_service(MeetingServiceServer::new(api::Meetings {
            store: Arc::clone(&store),
        }))
        .add_service(EventServiceServer::new(api::Events {
            store: Arc::clone(&store),
        }))
        .add_service(RelationServiceServer::new(api::Relations {
            store: Arc::clone(&store),
        }))
        .add_service(RecordServiceServer::new(api::Records {
            store: Arc::clone(&store),
        }))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), on_shutdown);

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
    store.flush()?;
    tracing::info!("stopped");
    Ok(())
}

fn reflection_builder() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        // Each reflection version lists itself; register both so that every
        // client sees both services, whichever version it speaks.
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET)
}
