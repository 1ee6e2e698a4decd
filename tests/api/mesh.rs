//! Behaving well in a service mesh: drain, health, limits, compression,
//! gRPC-Web and TLS.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diplomacy::pb::diplomacy::v1::relation_service_client::RelationServiceClient;
use diplomacy::pb::diplomacy::v1::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;
use tonic::codec::CompressionEncoding;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

use crate::helpers::{date, spawn_seeded, spawn_with_options, TestServer};

fn get_relation() -> GetRelationRequest {
    GetRelationRequest {
        name: "countries/TR/relations/AM".into(),
        as_of: date(2024, 8, 27),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_call_started_before_sigterm_fails_during_the_drain() {
    let mut server = spawn_with_options(|o| {
        o.drain_delay = Duration::from_millis(600);
        o.drain_timeout = Duration::from_secs(5);
    })
    .await;
    let signalled = Arc::new(std::sync::Mutex::new(None::<Instant>));
    let (ok_before, failed_before, ok_during) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let mut load = Vec::new();
    for _ in 0..8 {
        let mut client = server.relations();
        let (signalled, ok_before, failed_before, ok_during) = (
            Arc::clone(&signalled),
            Arc::clone(&ok_before),
            Arc::clone(&failed_before),
            Arc::clone(&ok_during),
        );
        load.push(tokio::spawn(async move {
            loop {
                let started = Instant::now();
                let result = client.get_relation(get_relation()).await;
                let before_signal = signalled
                    .lock()
                    .expect("lock")
                    .is_none_or(|at| started < at);
                match (result, before_signal) {
                    (Ok(_), true) => ok_before.fetch_add(1, Ordering::Relaxed),
                    (Err(_), true) => failed_before.fetch_add(1, Ordering::Relaxed),
                    (Ok(_), false) => ok_during.fetch_add(1, Ordering::Relaxed),
                    (Err(_), false) => return,
                };
            }
        }));
    }
    let mut watch = server
        .records()
        .watch_changes(WatchChangesRequest {
            from_revision: 0,
            ..Default::default()
        })
        .await
        .expect("watch")
        .into_inner();
    let mut health = HealthClient::new(server.channel.clone())
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health watch")
        .into_inner();
    assert_eq!(
        health.next().await.expect("first").expect("ok").status,
        ServingStatus::Serving as i32
    );
    tokio::time::sleep(Duration::from_millis(300)).await;

    *signalled.lock().expect("lock") = Some(Instant::now());
    server.begin_shutdown();
    let turned = tokio::time::timeout(Duration::from_millis(300), health.next())
        .await
        .expect("at once");
    assert_eq!(
        turned.expect("update").expect("ok").status,
        ServingStatus::NotServing as i32
    );

    // The open watch ends with a status, it does not hang.
    let ended = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            match watch.next().await {
                Some(Ok(_)) => continue,
                Some(Err(status)) => return Some(status.code()),
                None => return None,
            }
        }
    })
    .await
    .expect("the watch ends during the drain");
    assert_eq!(ended, Some(Code::Unavailable));

    let stopping = Instant::now();
    server.stopped().await;
    assert!(
        stopping.elapsed() < Duration::from_secs(5),
        "within the grace period"
    );
    for task in load {
        task.await.expect("load task");
    }
    assert!(
        ok_before.load(Ordering::Relaxed) > 20,
        "load ran before the signal"
    );
    assert_eq!(
        failed_before.load(Ordering::Relaxed),
        0,
        "no call started before the signal failed"
    );
    assert!(
        ok_during.load(Ordering::Relaxed) > 0,
        "new calls are still served during the drain delay"
    );
}

#[tokio::test]
async fn health_follows_the_spec_for_unknown_services() {
    let server = spawn_seeded().await;
    let mut health = HealthClient::new(server.channel.clone());
    let status = health
        .check(HealthCheckRequest {
            service: "no.such.Service".into(),
        })
        .await
        .expect_err("unknown");
    assert_eq!(status.code(), Code::NotFound);
    for service in [
        "",
        "diplomacy.v1.RelationService",
        "diplomacy.v1.RecordService",
    ] {
        let answer = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .expect("check")
            .into_inner();
        assert_eq!(answer.status, ServingStatus::Serving as i32, "{service:?}");
    }
    let mut watch = health
        .watch(HealthCheckRequest {
            service: "no.such.Service".into(),
        })
        .await
        .expect("watch of an unknown service streams")
        .into_inner();
    let first = watch.next().await.expect("one message").expect("ok");
    assert_eq!(first.status, ServingStatus::ServiceUnknown as i32);
}

/// An import call's request stream that sends one valid record and then
/// stays open for `hold`: the call occupies the server (a concurrency slot,
/// its deadline) for that long, however fast the machine validates.
fn held_open(hold: Duration) -> ReceiverStream<ImportRecordsRequest> {
    let (sender, receiver) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move {
        let message = ImportRecordsRequest {
            mode: ImportMode::AllOrNothing as i32,
            validate_only: true,
            records: vec![Record {
                kind: Some(record::Kind::Event(Event {
                    name: "events/held".into(),
                    title: "held".into(),
                    kind: EventKind::Other as i32,
                    start_date: date(2000, 1, 1),
                    actor: "countries/FR".into(),
                    counterparts: vec!["countries/DE".into()],
                    sources: vec![crate::records::source()],
                    ..Default::default()
                })),
            }],
        };
        if sender.send(message).await.is_ok() {
            tokio::time::sleep(hold).await;
        }
    });
    ReceiverStream::new(receiver)
}

#[tokio::test]
async fn an_expired_deadline_is_deadline_exceeded() {
    // tonic clients cancel on their own when their deadline passes, so the
    // server's side is shown with its own limit (the import's, since an
    // import can be held open): the same code path as a client's shorter
    // `grpc-timeout` (parsed in middleware::deadline).
    let server = spawn_with_options(|o| o.limits.import_timeout = Duration::from_millis(50)).await;
    let status = server
        .records()
        .import_records(held_open(Duration::from_secs(5)))
        .await
        .expect_err("open for longer than 50 ms");
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
}

/// A file streamed to `ImportRecords` takes minutes at full scale: the
/// default deadline of other calls does not cut it short.
#[tokio::test]
async fn an_import_may_outlast_the_default_deadline_up_to_its_own() {
    let server = spawn_with_options(|o| {
        o.limits.default_timeout = Duration::from_millis(50);
        o.limits.import_timeout = Duration::from_secs(30);
    })
    .await;
    let answer = server
        .records()
        .import_records(held_open(Duration::from_millis(500)))
        .await
        .expect("open for 500 ms, within the import's 30 s")
        .into_inner();
    assert_eq!(answer.received, 1);
    assert!(answer.errors.is_empty(), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_concurrency_limit_calls_are_shed_fast_while_health_answers() {
    let server = spawn_with_options(|o| o.limits.max_concurrent_calls = 2).await;
    // A flood of idle connections first: they must not starve anyone.
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(
            tokio::net::TcpStream::connect(server.addr)
                .await
                .expect("connect"),
        );
    }
    // Slow calls: each holds its slot for half a second.
    let mut calls = Vec::new();
    for _ in 0..12 {
        let mut client = server.records();
        calls.push(tokio::spawn(async move {
            let started = Instant::now();
            let result = client
                .import_records(held_open(Duration::from_millis(500)))
                .await;
            (result.err().map(|s| s.code()), started.elapsed())
        }));
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut health = HealthClient::new(server.channel.clone());
    let probe = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await;
    assert!(probe.is_ok(), "health stays responsive under overload");
    let mut shed = 0;
    for call in calls {
        let (code, elapsed) = call.await.expect("call");
        match code {
            None => {}
            Some(Code::ResourceExhausted) => {
                shed += 1;
                assert!(elapsed < Duration::from_secs(2), "shedding is fast");
            }
            Some(other) => panic!("unexpected {other:?}"),
        }
    }
    assert!(shed > 0, "some calls over the limit were refused");
    // A trickle of normal calls succeeds afterwards.
    server
        .relations()
        .get_relation(get_relation())
        .await
        .expect("normal call");
}

#[tokio::test]
async fn gzip_and_zstd_both_work() {
    let server = spawn_seeded().await;
    for encoding in [CompressionEncoding::Gzip, CompressionEncoding::Zstd] {
        let mut client = RelationServiceClient::new(server.channel.clone())
            .send_compressed(encoding)
            .accept_compressed(encoding);
        let relation = client
            .get_relation(get_relation())
            .await
            .expect("compressed call")
            .into_inner();
        assert_eq!(relation.diplomatic_status(), DiplomaticStatus::None);
        let entries: Vec<_> = client
            .stream_history(StreamHistoryRequest {
                parent: "countries/AM/relations/AZ".into(),
                ..Default::default()
            })
            .await
            .expect("stream")
            .into_inner()
            .collect()
            .await;
        assert!(entries.len() > 20 && entries.iter().all(Result::is_ok));
    }
}

/// One gRPC-Web call over plain HTTP/1.1, as a browser would send it.
async fn grpc_web(server: &TestServer, path: &str, message: &[u8]) -> (String, Vec<u8>) {
    let mut body = vec![0u8];
    body.extend_from_slice(&(message.len() as u32).to_be_bytes());
    body.extend_from_slice(message);
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/grpc-web+proto\r\nX-Grpc-Web: 1\r\nOrigin: https://app.example\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        server.addr,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    stream.write_all(&body).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    (
        String::from_utf8_lossy(&response[..split]).to_lowercase(),
        response[split + 4..].to_vec(),
    )
}

#[tokio::test]
async fn browsers_call_unary_and_streaming_rpcs_over_grpc_web() {
    use prost::Message;
    let server = spawn_seeded().await;
    let (head, body) = grpc_web(
        &server,
        "/diplomacy.v1.RelationService/GetRelation",
        &get_relation().encode_to_vec(),
    )
    .await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains("content-type: application/grpc-web"),
        "{head}"
    );
    assert!(head.contains("access-control-allow-origin"), "{head}");
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("events/f03"), "the relation is in the body");
    assert!(
        text.contains("grpc-status:0"),
        "the trailer frame carries the status: {text}"
    );

    let request = StreamHistoryRequest {
        parent: "countries/AM/relations/AZ".into(),
        ..Default::default()
    };
    let (_, body) = grpc_web(
        &server,
        "/diplomacy.v1.RelationService/StreamHistory",
        &request.encode_to_vec(),
    )
    .await;
    let text = String::from_utf8_lossy(&body);
    assert!(
        text.contains("meetings/m04") && text.contains("events/c01"),
        "streamed entries arrive"
    );

    let (head, body) = grpc_web(
        &server,
        "/diplomacy.v1.CountryService/GetCountry",
        &GetCountryRequest {
            name: "countries/tr".into(),
        }
        .encode_to_vec(),
    )
    .await;
    let answered = format!("{head}\n{}", String::from_utf8_lossy(&body).to_lowercase());
    assert!(
        answered.contains("grpc-status: 3") || answered.contains("grpc-status:3"),
        "errors keep their code: {answered}"
    );
}

/// A CA, a server certificate for `localhost` and a client certificate, as
/// PEM: (ca, server cert, server key, client cert, client key).
pub fn certificate_chain() -> (String, String, String, String, String) {
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.clone().self_signed(&ca_key).expect("CA");
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let server_key = rcgen::KeyPair::generate().expect("key");
    let server_cert = rcgen::CertificateParams::new(vec!["localhost".into()])
        .expect("params")
        .signed_by(&server_key, &issuer)
        .expect("server cert");
    let client_key = rcgen::KeyPair::generate().expect("key");
    let client_cert = rcgen::CertificateParams::new(vec!["client".into()])
        .expect("params")
        .signed_by(&client_key, &issuer)
        .expect("client cert");
    (
        ca.pem(),
        server_cert.pem(),
        server_key.serialize_pem(),
        client_cert.pem(),
        client_key.serialize_pem(),
    )
}

#[tokio::test]
async fn tls_and_mutual_tls() {
    use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
    let (ca, server_pem, server_key, client_pem, client_key) = certificate_chain();
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    };
    let files = diplomacy::server::TlsFiles {
        cert: write("server.pem", &server_pem),
        key: write("server.key", &server_key),
        client_ca: Some(write("ca.pem", &ca)),
    };
    let store_dir = tempfile::tempdir().expect("temp dir");
    let store = diplomacy::server::open_store(&diplomacy::server::StoreOptions {
        data_dir: store_dir.path().to_path_buf(),
        seed: true,
        cache_bytes: 8 << 20,
        writer: Default::default(),
        lock_wait: std::time::Duration::ZERO,
    })
    .await
    .expect("store");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let options = diplomacy::server::ServeOptions {
        tls: Some(files),
        drain_delay: Duration::ZERO,
        ..Default::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(diplomacy::server::serve(listener, store, options, async {
        let _ = stopped.await;
    }));

    let endpoint = |identity: Option<Identity>| {
        let mut tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&ca))
            .domain_name("localhost");
        if let Some(identity) = identity {
            tls = tls.identity(identity);
        }
        Channel::from_shared(format!("https://localhost:{port}"))
            .expect("uri")
            .tls_config(tls)
            .expect("tls")
    };
    let channel = endpoint(Some(Identity::from_pem(&client_pem, &client_key)))
        .connect()
        .await
        .expect("mTLS connect");
    let relation = RelationServiceClient::new(channel)
        .get_relation(get_relation())
        .await
        .expect("call over mTLS")
        .into_inner();
    assert_eq!(relation.diplomatic_status(), DiplomaticStatus::None);

    let anonymous = match endpoint(None).connect().await {
        Err(_) => None,
        Ok(channel) => Some(
            RelationServiceClient::new(channel)
                .get_relation(get_relation())
                .await,
        ),
    };
    assert!(
        !matches!(anonymous, Some(Ok(_))),
        "no client certificate, no call"
    );

    let plaintext = Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .expect("uri")
        .connect()
        .await;
    let refused = match plaintext {
        Err(_) => true,
        Ok(channel) => RelationServiceClient::new(channel)
            .get_relation(get_relation())
            .await
            .is_err(),
    };
    assert!(refused, "plaintext is refused on a TLS port");
    let _ = stop.send(());
    task.await.expect("task").expect("served");
}

#[tokio::test]
async fn health_is_not_serving_while_the_store_cannot_be_read() {
    let readable = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let probe_state = Arc::clone(&readable);
    let server = spawn_with_options(move |o| {
        o.health_probe_interval = Duration::from_millis(50);
        o.health_probe = Some(diplomacy::server::HealthProbe(Arc::new(move || {
            probe_state.load(Ordering::Relaxed)
        })));
    })
    .await;
    let mut health = HealthClient::new(server.channel.clone());
    let status = |service: &'static str| {
        let mut health = health.clone();
        async move {
            health
                .check(HealthCheckRequest {
                    service: service.into(),
                })
                .await
                .expect("check")
                .into_inner()
                .status
        }
    };
    assert_eq!(status("").await, ServingStatus::Serving as i32);
    readable.store(false, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(status("").await, ServingStatus::NotServing as i32);
    assert_eq!(
        status("diplomacy.v1.RelationService").await,
        ServingStatus::NotServing as i32
    );
    readable.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(status("").await, ServingStatus::Serving as i32);
    let _ = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await;
}

/// Makes one gRPC-Web call on a kept-alive HTTP/1.1 connection, waits
/// `idle`, and tells whether the server has closed the connection by then.
async fn closed_after(server: &TestServer, idle: Duration) -> bool {
    use prost::Message;
    let message = get_relation().encode_to_vec();
    let mut body = vec![0u8];
    body.extend_from_slice(&(message.len() as u32).to_be_bytes());
    body.extend_from_slice(&message);
    let request = format!(
        "POST /diplomacy.v1.RelationService/GetRelation HTTP/1.1\r\nHost: {}\r\nContent-Type: application/grpc-web+proto\r\nContent-Length: {}\r\n\r\n",
        server.addr,
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    stream.write_all(&body).await.expect("write");
    let mut buffer = vec![0u8; 64 * 1024];
    let read = stream.read(&mut buffer).await.expect("first response");
    assert!(String::from_utf8_lossy(&buffer[..read]).starts_with("HTTP/1.1 200"));
    tokio::time::sleep(idle).await;
    let mut rest = Vec::new();
    matches!(
        tokio::time::timeout(Duration::from_millis(700), stream.read_to_end(&mut rest)).await,
        Ok(Ok(_))
    )
}

#[tokio::test]
async fn old_connections_are_closed_so_clients_rebalance() {
    let aging = spawn_with_options(|o| {
        o.limits.max_connection_age = Duration::from_millis(500);
        o.limits.max_connection_age_grace = Duration::from_millis(200);
    })
    .await;
    assert!(
        closed_after(&aging, Duration::from_millis(1500)).await,
        "the aged connection is closed"
    );
    aging
        .relations()
        .get_relation(get_relation())
        .await
        .expect("a new connection works");
    let default = spawn_seeded().await;
    assert!(
        !closed_after(&default, Duration::from_millis(1500)).await,
        "a young connection stays open"
    );
}

/// Opens a raw HTTP/2 connection that never answers the server's pings, and
/// tells whether the server has closed it after `wait`.
async fn silent_h2_closed_after(server: &TestServer, wait: Duration) -> bool {
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .expect("preface");
    // An empty SETTINGS frame: length 0, type 4, no flags, stream 0.
    stream
        .write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0])
        .await
        .expect("settings");
    let deadline = Instant::now() + wait;
    let mut buffer = vec![0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue, // frames from the server (settings, pings): never answered
            Err(_) => return false,
        }
    }
}

#[tokio::test]
async fn keepalive_pings_drop_a_peer_that_stopped_answering() {
    let pinging = spawn_with_options(|o| {
        o.limits.keepalive_interval = Duration::from_millis(200);
        o.limits.keepalive_timeout = Duration::from_millis(200);
    })
    .await;
    assert!(
        silent_h2_closed_after(&pinging, Duration::from_secs(3)).await,
        "a silent peer is dropped"
    );
    let default = spawn_seeded().await;
    assert!(
        !silent_h2_closed_after(&default, Duration::from_millis(1000)).await,
        "not before its keepalive"
    );
}
