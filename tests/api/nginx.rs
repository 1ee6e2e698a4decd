//! A real HTTP/2 proxy in front of the server: nginx from Debian's packages
//! with `grpc_pass`, started by the test on loopback.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use diplomacy::pb::diplomacy::v1::event_service_client::EventServiceClient;
use diplomacy::pb::diplomacy::v1::relation_service_client::RelationServiceClient;
use diplomacy::pb::diplomacy::v1::*;
use tokio_stream::StreamExt;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_types::StatusExt;

use crate::helpers::{assert_bad_field, date, spawn_seeded, Bearer, WRITE_TOKEN};
use crate::records::source;

fn nginx_binary() -> PathBuf {
    let path = std::env::var_os("NGINX")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/nginx"));
    assert!(
        path.exists(),
        "nginx not found at {}: `apt-get install nginx-light` (tests/run.sh does), or set NGINX",
        path.display()
    );
    path
}

/// The running proxy; its config dir lives as long as it does.
struct Nginx {
    process: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// nginx listening on a free loopback port, proxying gRPC to `upstream`.
async fn start_nginx(upstream: std::net::SocketAddr) -> (Nginx, u16) {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let d = dir.path().display();
    let config = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\nerror_log stderr warn;\npid {d}/nginx.pid;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
         server {{\n    listen 127.0.0.1:{port} http2;\n    location / {{\n      grpc_pass grpc://{upstream};\n      grpc_read_timeout 30s;\n    }}\n  }}\n}}\n"
    );
    let path = dir.path().join("nginx.conf");
    std::fs::write(&path, config).expect("config");
    let child = Command::new(nginx_binary())
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(&path)
        .arg("-e")
        .arg("stderr")
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start nginx");
    let nginx = Nginx {
        process: child,
        _dir: dir,
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return (nginx, port);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nginx did not start listening on {port}");
}

#[tokio::test]
async fn unary_streams_errors_and_health_pass_through_nginx() {
    let server = spawn_seeded().await;
    let (_nginx, port) = start_nginx(server.addr).await;
    let channel = Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");

    let mut relations = RelationServiceClient::new(channel.clone());
    let relation = relations
        .get_relation(GetRelationRequest {
            name: "countries/TR/relations/AM".into(),
            as_of: date(2024, 8, 27),
            ..Default::default()
        })
        .await
        .expect("unary through nginx")
        .into_inner();
    assert_eq!(relation.diplomatic_status(), DiplomaticStatus::None);

    let entries: Vec<_> = relations
        .stream_history(StreamHistoryRequest {
            parent: "countries/AM/relations/AZ".into(),
            ..Default::default()
        })
        .await
        .expect("stream through nginx")
        .into_inner()
        .collect()
        .await;
    assert!(
        entries.len() > 20 && entries.iter().all(Result::is_ok),
        "{} entries",
        entries.len()
    );

    let status = relations
        .get_relation(GetRelationRequest {
            name: "countries/TR/relations/TR".into(),
            as_of: None,
            ..Default::default()
        })
        .await
        .expect_err("an error through nginx");
    assert_bad_field(&status, "name");
    assert!(
        status.get_details_bad_request().is_some(),
        "details survive the proxy"
    );

    let health = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: "diplomacy.v1.RelationService".into(),
        })
        .await
        .expect("health through nginx");
    assert_eq!(health.into_inner().status, 1);

    let mut events =
        EventServiceClient::new(InterceptedService::new(channel, Bearer(Some(WRITE_TOKEN))));
    let created = events
        .create_event(CreateEventRequest {
            event: Some(Event {
                title: "Through nginx".into(),
                kind: EventKind::Other as i32,
                start_date: date(2030, 1, 1),
                actor: "countries/FR".into(),
                counterparts: vec!["countries/DE".into()],
                sources: vec![source()],
                ..Default::default()
            }),
            event_id: "via-nginx".into(),
        })
        .await
        .expect("an authorised write through nginx");
    assert_eq!(created.get_ref().name, "events/via-nginx");
}
