//! The HTTP/JSON mapping with a plain HTTP/1.1 client (a socket and a
//! request line): the read methods at the paths the protos declare, proto3
//! JSON back, errors as `google.rpc.Status` JSON with the matching HTTP
//! code, and the same auth as gRPC.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;

/// A GET of `path`: the HTTP status code and the JSON body.
async fn get(server: &TestServer, path: &str, token: Option<&str>) -> (u16, serde_json::Value) {
    let mut socket = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connects");
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n");
    socket.write_all(request.as_bytes()).await.expect("sends");
    let mut raw = Vec::new();
    socket.read_to_end(&mut raw).await.expect("reads");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no body in {text}"));
    let code = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head}"));
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    let json = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    (code, json)
}

#[tokio::test]
async fn read_methods_answer_proto3_json_at_their_declared_paths() {
    let server = spawn_seeded().await;
    let (code, relation) = get(
        &server,
        "/v1/countries/TR/relations/AM?as_of=2009-10-10",
        None,
    )
    .await;
    assert_eq!(code, 200, "{relation}");
    assert_eq!(relation["diplomaticStatus"], "DIPLOMATIC_STATUS_NONE");
    assert_eq!(relation["statusRecord"], "events/f03");
    assert_eq!(relation["border"]["status"], "BORDER_STATUS_CLOSED");
    assert_eq!(
        relation["treatiesNotInForce"][0]["treaty"]["name"], "treaties/t02",
        "the Zurich Protocols, signed that day"
    );
    // (path, a field of the answer, what it holds, why)
    let cases = [
        ("/v1/treaties/t02", "/title", "Zurich Protocols", "GetTreaty"),
        ("/v1/countries/AM/relations/AZ/history?page_size=1", "/entries/0/record", "events/c01", "ListHistory of a pair, one page"),
        ("/v1/countries/TR/relations?diplomatic_statuses=DIPLOMATIC_STATUS_NONE&as_of=2009-10-10", "/relations/0/name", "countries/TR/relations/AM", "ListRelations with an enum filter"),
        ("/v1/countries:search?query=T%C3%BCrkiye", "/matches/0/country/name", "countries/TR", "SearchCountries with a percent-encoded query"),
        ("/v1/countries/AZ/recognitions?as_of=2000", "/recognitions/0/recognizer", "countries/TR", "ListRecognitions"),
        ("/v1/actors/osce-minsk-group", "/displayName", "OSCE Minsk Group", "GetActor"),
        ("/v1/countries/AM/relations/AZ?as_of.year=1994&as_of.month=5&as_of.day=20&view=RELATION_VIEW_BASIC", "/mediationsCount", "2", "dotted date fields and a view"),
    ];
    for (path, pointer, expected, why) in cases {
        let (code, answer) = get(&server, path, None).await;
        assert_eq!(code, 200, "{why}: {answer}");
        let found = answer
            .pointer(pointer)
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned));
        assert_eq!(found.as_deref(), Some(expected), "{why}: {answer}");
    }
    server.stop().await;
}

#[tokio::test]
async fn errors_are_rpc_status_json_with_the_matching_http_code() {
    let server = spawn_seeded().await;
    // (path, HTTP code, gRPC code, the field named, why)
    let cases = [
        (
            "/v1/countries/TR/relations/AM?as_of=2024-02-30",
            400,
            3,
            Some("as_of"),
            "an impossible date",
        ),
        (
            "/v1/countries/TR/relations/AM?colour=red",
            400,
            3,
            Some("colour"),
            "an unknown parameter",
        ),
        (
            "/v1/countries/TR/relations/TR",
            400,
            3,
            Some("name"),
            "a country paired with itself (the service's own check)",
        ),
        (
            "/v1/countries/QQ/relations/AM",
            400,
            3,
            Some("name"),
            "an unknown country",
        ),
        ("/v1/treaties/nope", 404, 5, None, "a missing record"),
        ("/v1/nothing/here", 404, 5, None, "an unmapped path"),
    ];
    for (path, http, grpc, field, why) in cases {
        let (code, status) = get(&server, path, None).await;
        assert_eq!(
            (code, status["code"].as_i64()),
            (http, Some(grpc)),
            "{why}: {status}"
        );
        if let Some(field) = field {
            assert_eq!(
                status["details"][0]["@type"], "type.googleapis.com/google.rpc.BadRequest",
                "{why}: {status}"
            );
            let fields: Vec<&str> = status["details"][0]["fieldViolations"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v["field"].as_str())
                .collect();
            assert!(fields.contains(&field), "{why}: {status}");
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn the_mapping_asks_for_the_same_token_as_grpc() {
    let server = spawn_requiring_auth_for_reads().await;
    let (code, status) = get(&server, "/v1/treaties/t02", None).await;
    assert_eq!((code, status["code"].as_i64()), (401, Some(16)), "{status}");
    let (code, _) = get(&server, "/v1/treaties/t02", Some(READ_TOKEN)).await;
    assert_eq!(code, 200);
    server.stop().await;
}
