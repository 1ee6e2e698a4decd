//! A real outside client: grpcurl 1.8.6 (reflection v1alpha) against the server.

use tokio::process::Command;

use crate::helpers::{grpcurl, spawn_seeded};

/// Runs grpcurl against `addr`; returns (success, stdout, stderr).
async fn run(addr: std::net::SocketAddr, args: &[&str]) -> (bool, String, String) {
    let mut command = Command::new(grpcurl());
    command.args(["-plaintext", &addr.to_string()]).args(args);
    let output = command.output().await.expect("run grpcurl");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn call(addr: std::net::SocketAddr, method: &str, body: &str) -> (bool, String, String) {
    let mut command = Command::new(grpcurl());
    command.args(["-plaintext", "-d", body, &addr.to_string(), method]);
    let output = command.output().await.expect("run grpcurl");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn grpcurl_lists_every_service() {
    let server = spawn_seeded().await;
    let (ok, out, err) = run(server.addr, &["list"]).await;
    assert!(ok, "{err}");
    let listed: Vec<&str> = out.lines().collect();
    for service in [
        "diplomacy.v1.CountryService",
        "diplomacy.v1.EventService",
        "diplomacy.v1.MeetingService",
        "diplomacy.v1.RelationService",
        "diplomacy.v1.TreatyService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    ] {
        assert!(
            listed.contains(&service),
            "{service} missing from {listed:?}"
        );
    }
}

#[tokio::test]
async fn grpcurl_describe_shows_the_proto_comments() {
    let server = spawn_seeded().await;
    let (ok, out, err) = run(server.addr, &["describe", "diplomacy.v1.RelationService"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("rpc GetRelation"), "{out}");
    assert!(
        out.contains("The relationship of two countries on a date"),
        "{out}"
    );
    let (ok, out, err) = run(server.addr, &["describe", "diplomacy.v1.DiplomaticStatus"]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("Nothing is recorded about their diplomatic relations"),
        "{out}"
    );
}

#[tokio::test]
async fn grpcurl_gets_a_relation_from_json() {
    let server = spawn_seeded().await;
    let (ok, out, err) = call(
        server.addr,
        "diplomacy.v1.RelationService/GetRelation",
        r#"{"name": "countries/TR/relations/AM", "as_of": {"year": 2024, "month": 8, "day": 27}}"#,
    )
    .await;
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON answer");
    assert_eq!(json["diplomaticStatus"], "DIPLOMATIC_STATUS_NONE");
    assert_eq!(
        json["statusSince"],
        serde_json::json!({"year": 1991, "month": 12})
    );
}

#[tokio::test]
async fn grpcurl_checks_health() {
    let server = spawn_seeded().await;
    let (ok, out, err) = call(server.addr, "grpc.health.v1.Health/Check", "{}").await;
    assert!(ok, "{err}");
    assert!(out.contains("SERVING"), "{out}");
    let (ok, out, err) = call(
        server.addr,
        "grpc.health.v1.Health/Check",
        r#"{"service": "diplomacy.v1.RelationService"}"#,
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("\"SERVING\""), "{out}");
}

#[tokio::test]
async fn grpcurl_shows_which_field_is_wrong() {
    let server = spawn_seeded().await;
    let (ok, _, err) = call(
        server.addr,
        "diplomacy.v1.RelationService/GetRelation",
        r#"{"name": "countries/TR/relations/TR"}"#,
    )
    .await;
    assert!(!ok);
    assert!(err.contains("InvalidArgument"), "{err}");
    assert!(
        err.contains("name: a country has no relation with itself"),
        "{err}"
    );
}
