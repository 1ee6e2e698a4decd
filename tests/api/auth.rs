//! Writes need a credential; reads are open unless the server says otherwise.

use diplomacy::pb::diplomacy::v1::event_service_client::EventServiceClient;
use diplomacy::pb::diplomacy::v1::relation_service_client::RelationServiceClient;
use diplomacy::pb::diplomacy::v1::*;
use tonic::Code;

use crate::helpers::{
    date, spawn_requiring_auth_for_reads, spawn_seeded, TestServer, READ_TOKEN, WRITE_TOKEN,
};
use crate::records::source;

const BAD_TOKEN: &str = "not-a-valid-token-0123456789";

async fn read(server: &TestServer, token: Option<&'static str>) -> Result<(), Code> {
    RelationServiceClient::new(server.with_token(token))
        .get_relation(GetRelationRequest {
            name: "countries/TR/relations/AM".into(),
            as_of: date(2024, 8, 27),
            ..Default::default()
        })
        .await
        .map(drop)
        .map_err(|s| s.code())
}

async fn write(server: &TestServer, token: Option<&'static str>, id: &str) -> Result<(), Code> {
    EventServiceClient::new(server.with_token(token))
        .create_event(CreateEventRequest {
            event: Some(Event {
                title: "Auth test".into(),
                kind: EventKind::Other as i32,
                start_date: date(2030, 1, 1),
                actor: "countries/FR".into(),
                counterparts: vec!["countries/DE".into()],
                sources: vec![source()],
                ..Default::default()
            }),
            event_id: id.into(),
        })
        .await
        .map(drop)
        .map_err(|s| s.code())
}

#[tokio::test]
async fn the_auth_matrix_with_open_reads() {
    let server = spawn_seeded().await;
    assert_eq!(read(&server, None).await, Ok(()));
    assert_eq!(
        read(&server, Some(BAD_TOKEN)).await,
        Ok(()),
        "reads are open"
    );
    assert_eq!(read(&server, Some(READ_TOKEN)).await, Ok(()));
    assert_eq!(read(&server, Some(WRITE_TOKEN)).await, Ok(()));

    assert_eq!(write(&server, None, "a1").await, Err(Code::Unauthenticated));
    assert_eq!(
        write(&server, Some(BAD_TOKEN), "a2").await,
        Err(Code::Unauthenticated)
    );
    assert_eq!(
        write(&server, Some(READ_TOKEN), "a3").await,
        Err(Code::PermissionDenied)
    );
    assert_eq!(write(&server, Some(WRITE_TOKEN), "a4").await, Ok(()));

    // Only the authorised write happened.
    let mut events = server.events();
    for (id, exists) in [("a1", false), ("a2", false), ("a3", false), ("a4", true)] {
        let found = events
            .get_event(GetEventRequest {
                name: format!("events/{id}"),
            })
            .await
            .is_ok();
        assert_eq!(found, exists, "events/{id}");
    }
}

#[tokio::test]
async fn the_auth_matrix_with_locked_reads() {
    let server = spawn_requiring_auth_for_reads().await;
    assert_eq!(read(&server, None).await, Err(Code::Unauthenticated));
    assert_eq!(
        read(&server, Some(BAD_TOKEN)).await,
        Err(Code::Unauthenticated)
    );
    assert_eq!(read(&server, Some(READ_TOKEN)).await, Ok(()));
    assert_eq!(read(&server, Some(WRITE_TOKEN)).await, Ok(()));
    assert_eq!(
        write(&server, Some(READ_TOKEN), "b1").await,
        Err(Code::PermissionDenied)
    );
    assert_eq!(write(&server, Some(WRITE_TOKEN), "b2").await, Ok(()));
}

#[tokio::test]
async fn errors_never_echo_the_token() {
    let server = spawn_seeded().await;
    let status = EventServiceClient::new(server.with_token(Some(BAD_TOKEN)))
        .delete_event(DeleteEventRequest {
            name: "events/f01".into(),
            ..Default::default()
        })
        .await
        .expect_err("refused");
    assert!(!status.message().contains(BAD_TOKEN));
    assert!(!format!("{:?}", status.metadata()).contains(BAD_TOKEN));
}
