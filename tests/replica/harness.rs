//! Real processes on loopback: a three-member etcd cluster (Debian's
//! `etcd-server`) and diplomacy replicas on it, each stopped by PID.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diplomacy::pb::diplomacy::v1::country_service_client::CountryServiceClient;
use diplomacy::pb::diplomacy::v1::event_service_client::EventServiceClient;
use diplomacy::pb::diplomacy::v1::record_service_client::RecordServiceClient;
use diplomacy::pb::diplomacy::v1::relation_service_client::RelationServiceClient;
use diplomacy::pb::diplomacy::v1::treaty_service_client::TreatyServiceClient;
use diplomacy::replica::etcd::Etcd;
use diplomacy::server::ready::wait_for_child;
use tempfile::TempDir;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

pub const TOKEN: &str = "replica-harness-token-0123456789";

/// The etcd binary: `$ETCD`, else `etcd` on the PATH.
pub fn etcd_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("ETCD") {
        return PathBuf::from(path);
    }
    for dir in ["/usr/bin", "/usr/local/bin"] {
        let path = Path::new(dir).join("etcd");
        if path.exists() {
            return path;
        }
    }
    panic!("etcd is required for the replica tests: apt-get install etcd-server (as root; Debian 12 has 3.4.23), or set ETCD to its path");
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

struct Member {
    name: String,
    client: u16,
    peer: u16,
    dir: PathBuf,
    child: Option<Child>,
}

/// A three-member etcd cluster in a temporary directory.
pub struct EtcdCluster {
    members: Vec<Member>,
    token: String,
    _dir: TempDir,
}

impl EtcdCluster {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let members = (0..3)
            .map(|i| Member {
                name: format!("m{i}"),
                client: free_port(),
                peer: free_port(),
                dir: dir.path().join(format!("m{i}")),
                child: None,
            })
            .collect();
        let mut cluster = Self {
            members,
            token: format!("diplomacy-test-{}", std::process::id()),
            _dir: dir,
        };
        for i in 0..3 {
            cluster.spawn(i, "new");
        }
        cluster
    }

    fn spawn(&mut self, i: usize, state: &str) {
        let initial: Vec<String> = self
            .members
            .iter()
            .map(|m| format!("{}=http://127.0.0.1:{}", m.name, m.peer))
            .collect();
        let member = &mut self.members[i];
        let log = std::fs::File::create(member.dir.with_extension("log")).expect("etcd log");
        let child = Command::new(etcd_binary())
            .arg("--name")
            .arg(&member.name)
            .arg("--data-dir")
            .arg(&member.dir)
            .arg("--listen-client-urls")
            .arg(format!("http://127.0.0.1:{}", member.client))
            .arg("--advertise-client-urls")
            .arg(format!("http://127.0.0.1:{}", member.client))
            .arg("--listen-peer-urls")
            .arg(format!("http://127.0.0.1:{}", member.peer))
            .arg("--initial-advertise-peer-urls")
            .arg(format!("http://127.0.0.1:{}", member.peer))
            .arg("--initial-cluster")
            .arg(initial.join(","))
            .arg("--initial-cluster-state")
            .arg(state)
            .arg("--initial-cluster-token")
            .arg(&self.token)
            // Six processes on two cores: no elections from a slow tick.
            .arg("--heartbeat-interval")
            .arg("250")
            .arg("--election-timeout")
            .arg("2500")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start etcd");
        member.child = Some(child);
    }

    pub fn endpoints(&self) -> String {
        let urls: Vec<String> = self
            .members
            .iter()
            .map(|m| format!("http://127.0.0.1:{}", m.client))
            .collect();
        urls.join(",")
    }

    /// A client of the whole cluster (to compact, or to put a stray key).
    pub fn client(&self) -> Etcd {
        let urls: Vec<String> = self.endpoints().split(',').map(str::to_string).collect();
        Etcd::new(&urls).expect("etcd client")
    }

    /// Waits until the cluster answers a linearizable read.
    pub async fn wait_healthy(&self) {
        let client = self.client();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match client.newest(b"/").await {
                Ok(_) => return,
                Err(e) if Instant::now() > deadline => panic!("etcd never became healthy: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// SIGKILL of member `i`.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.members[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts member `i` again on its data dir.
    pub fn restart(&mut self, i: usize) {
        self.spawn(i, "existing");
    }
}

impl Drop for EtcdCluster {
    fn drop(&mut self) {
        for i in 0..self.members.len() {
            self.kill(i);
        }
    }
}

/// One diplomacy replica process.
pub struct Replica {
    child: Option<Child>,
    pub address: String,
    pub admin: Option<std::net::SocketAddr>,
    pub log: PathBuf,
}

pub struct ReplicaSpec<'a> {
    pub endpoints: &'a str,
    pub data_dir: &'a Path,
    pub extra: &'a [&'a str],
}

impl Replica {
    /// Starts a replica and waits for health SERVING (its first snapshot).
    pub async fn start(spec: ReplicaSpec<'_>) -> Self {
        let replica = Self::spawn(&spec).unwrap_or_else(|e| panic!("the replica starts: {e}"));
        replica.wait_serving().await;
        replica
    }

    /// Starts a replica process and waits for its ready file; `Err` with
    /// its log when it exits first.
    pub fn spawn(spec: &ReplicaSpec<'_>) -> Result<Self, String> {
        std::fs::create_dir_all(spec.data_dir).map_err(|e| e.to_string())?;
        let ready = spec.data_dir.with_extension("ready.json");
        let log = spec.data_dir.with_extension("log");
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| e.to_string())?;
        let mut child = Command::new(env!("CARGO_BIN_EXE_diplomacy"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(spec.data_dir)
            .arg("--etcd-endpoints")
            .arg(spec.endpoints)
            .arg("--ready-file")
            .arg(&ready)
            .args(spec.extra)
            .env("DIPLOMACY_TOKEN", TOKEN)
            .env("DIPLOMACY_DRAIN_DELAY_SECS", "0")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .map_err(|e| e.to_string())?;
        match wait_for_child(&ready, &mut child, Duration::from_secs(60)) {
            Ok(ready) => Ok(Self {
                child: Some(child),
                address: format!("http://{}", ready.grpc),
                admin: ready.admin,
                log,
            }),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!(
                    "{e}\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                ))
            }
        }
    }

    pub async fn wait_serving(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let status = match Channel::from_shared(self.address.clone())
                .expect("address")
                .connect()
                .await
            {
                Ok(channel) => HealthClient::new(channel)
                    .check(HealthCheckRequest {
                        service: String::new(),
                    })
                    .await
                    .map(|r| r.into_inner().status)
                    .unwrap_or_default(),
                Err(_) => 0,
            };
            if status == ServingStatus::Serving as i32 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the replica never became SERVING:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The Prometheus text of `/metrics` (the replica was started with
    /// `--admin-listen`).
    pub fn metrics(&self) -> String {
        use std::io::{Read, Write};
        let admin = self.admin.expect("started with --admin-listen");
        let mut stream = std::net::TcpStream::connect(admin).expect("connect to /metrics");
        stream
            .write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .expect("ask for /metrics");
        let mut text = String::new();
        stream.read_to_string(&mut text).expect("read /metrics");
        text
    }

    /// A metric's value (the first line that starts with `name`).
    pub fn metric(&self, name: &str) -> f64 {
        let text = self.metrics();
        text.lines()
            .find(|line| line.starts_with(name) && !line.starts_with('#'))
            .and_then(|line| line.rsplit(' ').next())
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub async fn client(&self) -> Client {
        let channel = Channel::from_shared(self.address.clone())
            .expect("address")
            .connect()
            .await
            .expect("connect to the replica");
        Client(InterceptedService::new(channel, Bearer))
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

#[derive(Clone)]
pub struct Bearer;

impl tonic::service::Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        let value = format!("Bearer {TOKEN}")
            .parse()
            .map_err(|_| tonic::Status::internal("token"))?;
        request.metadata_mut().insert("authorization", value);
        Ok(request)
    }
}

pub type Authed = InterceptedService<Channel, Bearer>;

#[derive(Clone)]
pub struct Client(pub Authed);

impl Client {
    pub fn countries(&self) -> CountryServiceClient<Authed> {
        CountryServiceClient::new(self.0.clone())
    }
    pub fn treaties(&self) -> TreatyServiceClient<Authed> {
        TreatyServiceClient::new(self.0.clone())
    }
    pub fn events(&self) -> EventServiceClient<Authed> {
        EventServiceClient::new(self.0.clone())
    }
    pub fn relations(&self) -> RelationServiceClient<Authed> {
        RelationServiceClient::new(self.0.clone())
    }
    pub fn records(&self) -> RecordServiceClient<Authed> {
        RecordServiceClient::new(self.0.clone())
    }
}

/// A request that waits for `revision` (`x-diplomacy-min-revision`).
pub fn at<T>(message: T, revision: i64) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "x-diplomacy-min-revision",
        revision.to_string().parse().expect("a header value"),
    );
    request
}

/// The `x-diplomacy-revision` a response carries.
pub fn revision_of<T>(response: &tonic::Response<T>) -> i64 {
    response
        .metadata()
        .get("x-diplomacy-revision")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("every response carries x-diplomacy-revision")
}

/// Three replicas on one cluster, each with its own index.
pub struct Setup {
    pub etcd: EtcdCluster,
    pub replicas: Vec<Replica>,
    pub dir: TempDir,
}

impl Setup {
    pub async fn start() -> Self {
        let etcd = EtcdCluster::start();
        etcd.wait_healthy().await;
        let dir = tempfile::tempdir().expect("temp dir");
        let mut replicas = Vec::new();
        for i in 0..3 {
            replicas.push(
                Replica::start(ReplicaSpec {
                    endpoints: &etcd.endpoints(),
                    data_dir: &dir.path().join(format!("r{i}")),
                    extra: &[],
                })
                .await,
            );
        }
        Self {
            etcd,
            replicas,
            dir,
        }
    }

    pub fn replica_dir(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("r{i}"))
    }

    pub async fn restart_replica(&mut self, i: usize, extra: &[&str]) {
        self.replicas[i].kill();
        self.replicas[i] = Replica::start(ReplicaSpec {
            endpoints: &self.etcd.endpoints(),
            data_dir: &self.replica_dir(i),
            extra,
        })
        .await;
    }
}
