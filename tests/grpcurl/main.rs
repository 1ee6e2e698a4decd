//! The grpcurl suite: a real outside client, grpcurl 1.8.6 (reflection
//! v1alpha only), against the server on an ephemeral port.

#[path = "../api/helpers.rs"]
mod helpers;

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

/// A unary call that must succeed, and its JSON answer.
async fn call_json(addr: std::net::SocketAddr, method: &str, body: &str) -> serde_json::Value {
    let (ok, out, err) = call(addr, method, body).await;
    assert!(ok, "{method} {body}: {err}");
    serde_json::from_str(&out).expect("JSON answer")
}

#[tokio::test]
async fn grpcurl_lists_every_service() {
    let server = spawn_seeded().await;
    let (ok, out, err) = run(server.addr, &["list"]).await;
    assert!(ok, "{err}");
    let listed: Vec<&str> = out.lines().collect();
    for service in [
        "diplomacy.v1.ActorService",
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
async fn grpcurl_describe_shows_the_proto_comments_of_every_service() {
    let server = spawn_seeded().await;
    let services = [
        (
            "diplomacy.v1.CountryService",
            "rpc CreateCountry",
            "Fails with ALREADY_EXISTS if the code is taken",
        ),
        (
            "diplomacy.v1.TreatyService",
            "rpc UpdateTreaty",
            "Updates the fields named in `update_mask`",
        ),
        (
            "diplomacy.v1.MeetingService",
            "rpc ListMeetings",
            "optionally only those a country took part in",
        ),
        (
            "diplomacy.v1.EventService",
            "rpc DeleteEvent",
            "Deletes an event and its entries in every history",
        ),
        (
            "diplomacy.v1.RelationService",
            "rpc GetRelation",
            "The relationship of two countries on a date",
        ),
        (
            "diplomacy.v1.ActorService",
            "rpc DeleteActor",
            "An actor still named by a record cannot be deleted",
        ),
    ];
    for (service, rpc, comment) in services {
        let (ok, out, err) = run(server.addr, &["describe", service]).await;
        assert!(ok, "{err}");
        assert!(out.contains(rpc), "{service}: {out}");
        assert!(out.contains(comment), "{service}: {out}");
    }
    let (ok, out, err) = run(server.addr, &["describe", "diplomacy.v1.DiplomaticStatus"]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("Nothing is recorded about their diplomatic relations"),
        "{out}"
    );
}

#[tokio::test]
async fn grpcurl_answers_not_applicable_and_looks_up_codes() {
    let server = spawn_seeded().await;
    let json = call_json(
        server.addr,
        "diplomacy.v1.RelationService/GetRelation",
        r#"{"name": "countries/AM/relations/AZ", "as_of": {"year": 1989}}"#,
    )
    .await;
    assert_eq!(json["diplomaticStatus"], "DIPLOMATIC_STATUS_NOT_APPLICABLE");
    assert_eq!(
        json["nonexistentCountries"],
        serde_json::json!(["countries/AM", "countries/AZ"])
    );

    let json = call_json(
        server.addr,
        "diplomacy.v1.CountryService/LookupCountry",
        r#"{"scheme": "COUNTRY_CODE_SCHEME_COW_CODE", "code": "365", "date": {"year": 1980}}"#,
    )
    .await;
    assert_eq!(json["matches"][0]["country"]["name"], "countries/SU");
    assert_eq!(
        json["matches"][0]["startDate"],
        serde_json::json!({"year": 1922, "month": 12, "day": 30})
    );

    let json = call_json(
        server.addr,
        "diplomacy.v1.RelationService/GetRelation",
        r#"{"name": "countries/RU/relations/UA", "as_of": {"year": 2022, "month": 2}}"#,
    )
    .await;
    assert_eq!(
        json["changedWithin"],
        serde_json::json!(["events/c04", "events/f06"])
    );
    let json = call_json(
        server.addr,
        "diplomacy.v1.RelationService/GetRelation",
        r#"{"name": "countries/TR/relations/AM", "as_of": {"year": 1991, "month": 12, "day": 10}}"#,
    )
    .await;
    assert_eq!(json["uncertainRecords"], serde_json::json!(["events/f03"]));
    let json = call_json(
        server.addr,
        "diplomacy.v1.RelationService/GetRelation",
        r#"{"name": "countries/TR/relations/AM", "as_of": {"year": 2019, "month": 1, "day": 1}}"#,
    )
    .await;
    assert_eq!(
        json["treatiesNotInForce"][0]["standing"],
        "TREATY_NOT_IN_FORCE_STANDING_VOID"
    );
    assert_eq!(json["treatiesNotInForceCount"], 1);

    let (ok, out, err) = run(server.addr, &["describe", "diplomacy.v1.DiplomaticStatus"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("DIPLOMATIC_STATUS_NOT_APPLICABLE"), "{out}");
    assert!(
        out.contains("did not exist as an independent state"),
        "{out}"
    );
    let (ok, out, err) = run(
        server.addr,
        &["describe", "diplomacy.v1.CountryService.LookupCountry"],
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("COW code 365"), "{out}");
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
async fn grpcurl_calls_every_query_rpc_with_json() {
    let server = spawn_seeded().await;
    let (ok, out, err) = call(
        server.addr,
        "diplomacy.v1.RelationService/ListRelations",
        r#"{"parent": "countries/TR", "as_of": {"year": 2024, "month": 8, "day": 27}, "diplomatic_statuses": ["DIPLOMATIC_STATUS_NONE"]}"#,
    )
    .await;
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(json["relations"][0]["name"], "countries/TR/relations/AM");
    assert_eq!(json["relations"].as_array().map(Vec::len), Some(1));

    let (ok, out, err) = call(
        server.addr,
        "diplomacy.v1.RelationService/ListHistory",
        r#"{"parent": "countries/AM/relations/AZ", "page_size": 2}"#,
    )
    .await;
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(json["entries"][0]["record"], "events/c01");
    assert_eq!(
        json["entries"][0]["date"],
        serde_json::json!({"year": 1988, "month": 2})
    );
    assert!(json["nextPageToken"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));

    let (ok, out, err) = call(
        server.addr,
        "diplomacy.v1.RelationService/StreamHistory",
        r#"{"parent": "countries/TR/relations/AM"}"#,
    )
    .await;
    assert!(ok, "{err}");
    // grpcurl prints one JSON object per streamed message.
    let records: Vec<String> = serde_json::Deserializer::from_str(&out)
        .into_iter::<serde_json::Value>()
        .map(|v| {
            v.expect("JSON")["record"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(
        records,
        ["events/f03", "events/f04", "treaties/t02", "treaties/t02"]
    );

    let (ok, out, err) = call(
        server.addr,
        "diplomacy.v1.CountryService/SearchCountries",
        r#"{"query": "Turkey"}"#,
    )
    .await;
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(json["matches"][0]["country"]["name"], "countries/TR");
    assert_eq!(json["matches"][0]["kind"], "COUNTRY_MATCH_KIND_ALIAS");
    assert_eq!(json["matches"][0]["score"], 1.0);
}

#[tokio::test]
async fn grpcurl_shows_actors_mediations_and_conflict_sides() {
    let server = spawn_seeded().await;
    let relation = call_json(
        server.addr,
        "diplomacy.v1.RelationService/GetRelation",
        r#"{"name": "countries/AM/relations/AZ", "as_of": {"year": 2024, "month": 7, "day": 15}}"#,
    )
    .await;
    let mediations: Vec<(&str, &str)> = relation["mediations"]
        .as_array()
        .expect("mediations")
        .iter()
        .map(|m| {
            (
                m["mediator"].as_str().unwrap_or_default(),
                m["role"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        mediations,
        [
            ("actors/osce-minsk-group", "PARTICIPANT_ROLE_MEDIATOR"),
            ("countries/US", "PARTICIPANT_ROLE_MEDIATOR")
        ]
    );
    assert_eq!(relation["mediationsCount"], 2);

    let actors = call_json(
        server.addr,
        "diplomacy.v1.ActorService/ListActors",
        r#"{"kind": "ACTOR_KIND_MEDIATION_FORMAT"}"#,
    )
    .await;
    assert_eq!(actors["actors"][0]["name"], "actors/osce-minsk-group");
    assert_eq!(actors["actors"][0]["members"][0]["role"], "co-chair");

    let c03 = call_json(
        server.addr,
        "diplomacy.v1.EventService/GetEvent",
        r#"{"name": "events/c03"}"#,
    )
    .await;
    assert_eq!(
        c03["sideB"][0]["participant"],
        "actors/nagorno-karabakh-authorities"
    );
    assert_eq!(c03["sideA"][0]["standing"], "BELLIGERENT_STANDING_PRIMARY");
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

#[tokio::test]
async fn grpcurl_shows_recognition_representation_and_the_border() {
    let server = spawn_seeded().await;
    let relation = call_json(
        server.addr,
        "diplomacy.v1.RelationService/GetRelation",
        r#"{"name": "countries/TR/relations/AM", "as_of": {"year": 2009, "month": 10, "day": 10}}"#,
    )
    .await;
    assert_eq!(relation["border"]["status"], "BORDER_STATUS_CLOSED");
    assert_eq!(relation["border"]["record"], "events/f04");
    assert_eq!(relation["recognitions"][1]["recognizer"], "countries/TR");
    assert_eq!(
        relation["recognitions"][1]["standing"],
        "RECOGNITION_STANDING_RECOGNIZED"
    );
    assert_eq!(
        relation["representations"][0]["level"],
        "REPRESENTATION_LEVEL_UNKNOWN"
    );
    let recognitions = call_json(
        server.addr,
        "diplomacy.v1.RelationService/ListRecognitions",
        r#"{"parent": "countries/AZ", "as_of": {"year": 1992}}"#,
    )
    .await;
    assert_eq!(
        recognitions["recognitions"][0]["recognizer"],
        "countries/TR"
    );
    assert_eq!(recognitions["recognitions"][0]["record"], "events/f01");
    let (ok, out, err) = run(
        server.addr,
        &["describe", "diplomacy.v1.RepresentationLevel"],
    )
    .await;
    assert!(ok, "{err}");
    assert!(
        out.contains("no evidence of an exchange"),
        "the scale is documented for grpcurl describe: {out}"
    );
    server.stop().await;
}
