//! Revisions on the wire, embedded mode: every answer says the revision it
//! was given at (`x-diplomacy-revision`), and a call can ask to wait for one
//! (`x-diplomacy-min-revision`, `x-diplomacy-consistency: strong`). The
//! replicated mode's side is `tests/replica/`.

use diplomacy::pb::diplomacy::v1::*;
use tonic::Code;

use crate::consent::{d, source};
use crate::helpers::{assert_bad_field, spawn_seeded};

fn revision_of<T>(response: &tonic::Response<T>) -> i64 {
    response
        .metadata()
        .get("x-diplomacy-revision")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("every answer carries x-diplomacy-revision")
}

fn with_header<T>(message: T, name: &'static str, value: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert(name, value.parse().expect("a header value"));
    request
}

fn fr() -> GetCountryRequest {
    GetCountryRequest {
        name: "countries/FR".into(),
    }
}

#[tokio::test]
async fn every_answer_carries_the_revision_and_a_write_carries_its_own() {
    let server = spawn_seeded().await;
    let before = revision_of(&server.countries().get_country(fr()).await.expect("read"));
    assert!(before > 0, "the seeded store has written revisions");
    let created = server
        .treaties()
        .create_treaty(CreateTreatyRequest {
            treaty_id: "revisioned".into(),
            treaty: Some(Treaty {
                title: "A revisioned treaty".into(),
                kind: TreatyKind::Trade as i32,
                status: TreatyStatus::InForce as i32,
                signed_date: d("2001-02-03"),
                parties: vec![
                    TreatyParty {
                        country: "countries/FR".into(),
                        ..Default::default()
                    },
                    TreatyParty {
                        country: "countries/DE".into(),
                        ..Default::default()
                    },
                ],
                sources: source(),
                ..Default::default()
            }),
        })
        .await
        .expect("create");
    let revision = revision_of(&created);
    assert_eq!(
        revision,
        created.get_ref().revision,
        "the write's own revision"
    );
    assert_eq!(revision, before + 1);
    // Already applied: answered at once, at that revision or later.
    let waited = server
        .countries()
        .get_country(with_header(
            fr(),
            "x-diplomacy-min-revision",
            &revision.to_string(),
        ))
        .await
        .expect("min-revision reached");
    assert!(revision_of(&waited) >= revision);
    let strong = server
        .countries()
        .get_country(with_header(fr(), "x-diplomacy-consistency", "strong"))
        .await
        .expect("strong read");
    assert_eq!(revision_of(&strong), revision);
    // An error carries it too.
    let missing = server
        .countries()
        .get_country(GetCountryRequest {
            name: "countries/QQ".into(),
        })
        .await
        .expect_err("no such country");
    assert!(missing.metadata().get("x-diplomacy-revision").is_some());
}

#[tokio::test]
async fn a_malformed_revision_header_is_invalid_argument_naming_it() {
    let server = spawn_seeded().await;
    for (name, value) in [
        ("x-diplomacy-min-revision", "-3"),
        ("x-diplomacy-min-revision", "latest"),
        ("x-diplomacy-consistency", "linearizable"),
    ] {
        let status = server
            .countries()
            .get_country(with_header(fr(), name, value))
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{name}: {value}");
        assert_bad_field(&status, name);
    }
}
