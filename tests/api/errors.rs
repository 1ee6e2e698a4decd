//! Bad requests get a precise status with details naming the field.

use diplomacy::pb::diplomacy::v1::*;
use tonic::Code;

use crate::helpers::{assert_bad_field, date, spawn_seeded};

#[tokio::test]
async fn get_relation_rejects_bad_names_and_dates() {
    let server = spawn_seeded().await;
    let mut client = server.relations();
    let cases = [
        ("countries/TR/relations/TR", date(2024, 1, 1), "name"),
        ("countries/TR/relations/XX", date(2024, 1, 1), "name"),
        ("countries/tr/relations/AM", date(2024, 1, 1), "name"),
        ("countries/TR", date(2024, 1, 1), "name"),
        ("", None, "name"),
        ("countries/TR/relations/AM", date(2024, 2, 30), "as_of"),
        ("countries/TR/relations/AM", date(2023, 13, 0), "as_of"),
        ("countries/TR/relations/AM", date(0, 1, 1), "as_of"),
        ("countries/TR/relations/AM", date(2024, 0, 3), "as_of"),
        ("countries/TR/relations/AM", date(-5, 1, 1), "as_of"),
    ];
    for (name, as_of, field) in cases {
        let status = client
            .get_relation(GetRelationRequest {
                name: name.into(),
                as_of,
                ..Default::default()
            })
            .await
            .expect_err(name);
        assert_bad_field(&status, field);
    }
}

#[tokio::test]
async fn list_relations_rejects_bad_filters_and_tokens() {
    let server = spawn_seeded().await;
    let mut client = server.relations();
    let bad = [
        (
            ListRelationsRequest {
                parent: "countries/ZZ".into(),
                ..Default::default()
            },
            "parent",
        ),
        (
            ListRelationsRequest {
                parent: "countries/TR".into(),
                diplomatic_statuses: vec![0],
                ..Default::default()
            },
            "diplomatic_statuses[0]",
        ),
        (
            ListRelationsRequest {
                parent: "countries/TR".into(),
                diplomatic_statuses: vec![77],
                ..Default::default()
            },
            "diplomatic_statuses[0]",
        ),
        (
            ListRelationsRequest {
                parent: "countries/TR".into(),
                page_size: -3,
                ..Default::default()
            },
            "page_size",
        ),
        (
            ListRelationsRequest {
                parent: "countries/TR".into(),
                page_token: "%%%".into(),
                ..Default::default()
            },
            "page_token",
        ),
    ];
    for (request, field) in bad {
        let status = client
            .list_relations(request.clone())
            .await
            .expect_err(&format!("{request:?}"));
        assert_bad_field(&status, field);
    }
}

#[tokio::test]
async fn resource_names_are_checked_before_lookups() {
    let server = spawn_seeded().await;
    let status = server
        .countries()
        .get_country(GetCountryRequest {
            name: "countries/tr".into(),
        })
        .await
        .expect_err("malformed");
    assert_bad_field(&status, "name");
    let status = server
        .countries()
        .get_country(GetCountryRequest {
            name: "countries/QQ".into(),
        })
        .await
        .expect_err("absent");
    assert_eq!(status.code(), Code::NotFound);
    let status = server
        .treaties()
        .get_treaty(GetTreatyRequest {
            name: "meetings/m01".into(),
        })
        .await
        .expect_err("wrong collection");
    assert_bad_field(&status, "name");
    let status = server
        .events()
        .delete_event(DeleteEventRequest {
            name: "events/".into(),
            ..Default::default()
        })
        .await
        .expect_err("empty id");
    assert_bad_field(&status, "name");
    let status = server
        .meetings()
        .list_meetings(ListMeetingsRequest {
            participant: "countries/QQ".into(),
            ..Default::default()
        })
        .await
        .expect_err("unknown filter country");
    assert_bad_field(&status, "participant");
    let status = server
        .treaties()
        .list_treaties(ListTreatiesRequest {
            page_token: "AAAA".into(),
            ..Default::default()
        })
        .await
        .expect_err("forged token");
    assert_bad_field(&status, "page_token");
}
