//! Standard methods of treaties, meetings and events, and how writes change
//! the answers.

use diplomacy::pb::diplomacy::v1::*;
use prost_types::FieldMask;

use crate::helpers::{assert_bad_field, date, spawn, spawn_seeded};

pub fn source() -> Source {
    Source {
        title: "Test source".into(),
        publisher: "Test publisher".into(),
        url: "https://example.org/source".into(),
        publish_date: date(2024, 1, 0),
        note: String::new(),
    }
}

pub fn new_treaty() -> Treaty {
    Treaty {
        title: "Treaty of Friendship".into(),
        kind: TreatyKind::Alliance as i32,
        status: TreatyStatus::InForce as i32,
        place: Some(Place {
            city: "Paris".into(),
            country: "countries/FR".into(),
        }),
        signed_date: date(2023, 3, 0),
        entry_into_force_date: date(2023, 6, 1),
        parties: vec![
            TreatyParty {
                country: "countries/AM".into(),
                signature_date: date(2023, 3, 0),
                consent_kind: ConsentKind::Ratification as i32,
                consent_date: date(2023, 4, 20),
                ..Default::default()
            },
            TreatyParty {
                country: "countries/UA".into(),
                signature_date: date(2023, 3, 0),
                ratification_date: date(2023, 5, 2),
                ..Default::default()
            },
        ],
        mediators: vec!["countries/US".into()],
        summary: "A test treaty".into(),
        sources: vec![source()],
        ..Default::default()
    }
}

#[tokio::test]
async fn treaty_lifecycle_changes_relations() {
    let server = spawn_seeded().await;
    let mut treaties = server.treaties();
    let mut relations = server.relations();
    let created = treaties
        .create_treaty(CreateTreatyRequest {
            treaty: Some(new_treaty()),
            treaty_id: "friendship".into(),
        })
        .await
        .expect("create")
        .into_inner();
    assert_eq!(created.name, "treaties/friendship");
    assert!(created.create_time.is_some() && created.update_time.is_some());
    assert_eq!(
        created.signed_date,
        date(2023, 3, 0),
        "month precision kept"
    );

    let got = treaties
        .get_treaty(GetTreatyRequest {
            name: "treaties/friendship".into(),
        })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(got, created);

    let relation = relations
        .get_relation(GetRelationRequest {
            name: "countries/UA/relations/AM".into(),
            as_of: date(2024, 1, 1),
            ..Default::default()
        })
        .await
        .expect("relation")
        .into_inner();
    assert!(relation.allied);
    assert_eq!(
        relation.diplomatic_status(),
        DiplomaticStatus::Unknown,
        "a treaty says nothing of diplomatic status"
    );
    assert_eq!(relation.mediators, ["countries/FR", "countries/US"]);

    let terminated = treaties
        .update_treaty(UpdateTreatyRequest {
            treaty: Some(Treaty {
                name: "treaties/friendship".into(),
                status: TreatyStatus::Terminated as i32,
                termination_date: date(2023, 12, 31),
                title: "ignored: not in the mask".into(),
                ..Default::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["status".into(), "termination_date".into()],
            }),
        })
        .await
        .expect("update")
        .into_inner();
    assert_eq!(terminated.title, "Treaty of Friendship");
    assert_eq!(terminated.termination_date, date(2023, 12, 31));
    assert_eq!(terminated.create_time, created.create_time);
    let relation = relations
        .get_relation(GetRelationRequest {
            name: "countries/UA/relations/AM".into(),
            as_of: date(2024, 1, 1),
            ..Default::default()
        })
        .await
        .expect("relation")
        .into_inner();
    assert!(!relation.allied, "terminated before the date");

    let nested = treaties
        .update_treaty(UpdateTreatyRequest {
            treaty: Some(Treaty {
                name: "treaties/friendship".into(),
                place: Some(Place {
                    city: "Lyon".into(),
                    country: String::new(),
                }),
                ..Default::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["place.city".into()],
            }),
        })
        .await
        .expect("nested update")
        .into_inner();
    assert_eq!(
        nested
            .place
            .as_ref()
            .map(|p| (p.city.as_str(), p.country.as_str())),
        Some(("Lyon", "countries/FR"))
    );

    let listed = treaties
        .list_treaties(ListTreatiesRequest {
            party: "countries/UA".into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(
        listed
            .treaties
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        ["treaties/friendship"]
    );

    treaties
        .delete_treaty(DeleteTreatyRequest {
            name: "treaties/friendship".into(),
            ..Default::default()
        })
        .await
        .expect("delete");
    let status = treaties
        .get_treaty(GetTreatyRequest {
            name: "treaties/friendship".into(),
        })
        .await
        .expect_err("gone");
    assert_eq!(status.code(), tonic::Code::NotFound);
    let history = relations
        .list_history(ListHistoryRequest {
            parent: "countries/UA/relations/AM".into(),
            ..Default::default()
        })
        .await
        .expect("history")
        .into_inner();
    assert!(
        history.entries.is_empty(),
        "deleting removes every index entry: {history:?}"
    );
    let partners = relations
        .list_relations(ListRelationsRequest {
            parent: "countries/UA".into(),
            as_of: date(2024, 1, 1),
            ..Default::default()
        })
        .await
        .expect("relations")
        .into_inner();
    assert_eq!(
        partners
            .relations
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["countries/UA/relations/RU"]
    );
}

#[tokio::test]
async fn meeting_lifecycle_counts_meetings_and_mediators() {
    let server = spawn_seeded().await;
    let mut meetings = server.meetings();
    let meeting = Meeting {
        title: "Talks in Paris".into(),
        kind: MeetingKind::BilateralTalks as i32,
        start_date: date(2025, 9, 1),
        end_date: date(2025, 9, 2),
        place: Some(Place {
            city: "Paris".into(),
            country: "countries/FR".into(),
        }),
        host_country: "countries/FR".into(),
        participants: vec![
            Participant {
                person: "A".into(),
                role: "Minister".into(),
                country: "countries/AM".into(),
            },
            Participant {
                person: "B".into(),
                role: "Minister".into(),
                country: "countries/AZ".into(),
            },
        ],
        topics: vec!["peace".into()],
        sources: vec![source()],
        ..Default::default()
    };
    let created = meetings
        .create_meeting(CreateMeetingRequest {
            meeting: Some(meeting),
            meeting_id: String::new(),
        })
        .await
        .expect("create with a server-chosen id")
        .into_inner();
    assert!(created.name.starts_with("meetings/m-"), "{}", created.name);

    let relation = server
        .relations()
        .get_relation(GetRelationRequest {
            name: "countries/AM/relations/AZ".into(),
            as_of: date(2025, 12, 31),
            ..Default::default()
        })
        .await
        .expect("relation")
        .into_inner();
    // m01, m04, the Almaty talks (m05) and this one.
    assert_eq!(relation.meeting_count, 4);
    assert_eq!(
        relation.latest_meeting.map(|m| m.name),
        Some(created.name.clone())
    );
    assert!(relation.mediators.contains(&"countries/FR".to_string()));

    let page = meetings
        .list_meetings(ListMeetingsRequest {
            participant: "countries/AM".into(),
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(page.meetings.len(), 1);
    assert!(!page.next_page_token.is_empty());

    let replaced = meetings
        .update_meeting(UpdateMeetingRequest {
            meeting: Some(Meeting {
                summary: "Replaced".into(),
                ..created.clone()
            }),
            update_mask: None,
        })
        .await
        .expect("full replace")
        .into_inner();
    assert_eq!(replaced.summary, "Replaced");
    meetings
        .delete_meeting(DeleteMeetingRequest {
            name: created.name.clone(),
            ..Default::default()
        })
        .await
        .expect("delete");
    let status = meetings
        .delete_meeting(DeleteMeetingRequest {
            name: created.name,
            ..Default::default()
        })
        .await
        .expect_err("twice");
    assert_eq!(status.code(), tonic::Code::NotFound);
}

#[tokio::test]
async fn event_lifecycle_sets_status() {
    let server = spawn_seeded().await;
    let mut events = server.events();
    let event = Event {
        title: "Armenia and Azerbaijan establish relations".into(),
        kind: EventKind::RelationsEstablished as i32,
        start_date: date(2026, 1, 1),
        actor: "countries/AM".into(),
        counterparts: vec!["countries/AZ".into()],
        sources: vec![source()],
        ..Default::default()
    };
    events
        .create_event(CreateEventRequest {
            event: Some(event.clone()),
            event_id: "hypothetical".into(),
        })
        .await
        .expect("create");
    let status = events
        .create_event(CreateEventRequest {
            event: Some(event),
            event_id: "hypothetical".into(),
        })
        .await
        .expect_err("twice");
    assert_eq!(status.code(), tonic::Code::AlreadyExists);

    let relation = server
        .relations()
        .get_relation(GetRelationRequest {
            name: "countries/AZ/relations/AM".into(),
            as_of: date(2026, 6, 1),
            ..Default::default()
        })
        .await
        .expect("relation")
        .into_inner();
    assert_eq!(relation.diplomatic_status(), DiplomaticStatus::Established);
    assert_eq!(relation.status_record, "events/hypothetical");

    let listed = events
        .list_events(ListEventsRequest {
            country: "countries/AZ".into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert!(listed
        .events
        .iter()
        .any(|e| e.name == "events/hypothetical"));
    assert!(
        listed
            .events
            .iter()
            .all(|e| e.actor == "countries/AZ"
                || e.counterparts.contains(&"countries/AZ".to_string()))
    );
}

#[tokio::test]
async fn invalid_records_are_refused_and_change_nothing() {
    let server = spawn_seeded().await;
    let mut treaties = server.treaties();
    let cases: Vec<(Treaty, &str)> = vec![
        (
            Treaty {
                title: " ".into(),
                ..new_treaty()
            },
            "treaty.title",
        ),
        (
            Treaty {
                kind: 0,
                ..new_treaty()
            },
            "treaty.kind",
        ),
        (
            Treaty {
                kind: 42,
                ..new_treaty()
            },
            "treaty.kind",
        ),
        (
            Treaty {
                signed_date: date(2024, 2, 30),
                ..new_treaty()
            },
            "treaty.signed_date",
        ),
        (
            Treaty {
                signed_date: date(0, 1, 1),
                ..new_treaty()
            },
            "treaty.signed_date",
        ),
        (
            Treaty {
                signed_date: date(10000, 1, 1),
                ..new_treaty()
            },
            "treaty.signed_date",
        ),
        (
            Treaty {
                entry_into_force_date: date(2020, 1, 1),
                ..new_treaty()
            },
            "treaty.entry_into_force_date",
        ),
        (
            Treaty {
                sources: vec![],
                ..new_treaty()
            },
            "treaty.sources",
        ),
        (
            Treaty {
                parties: new_treaty().parties[..1].to_vec(),
                ..new_treaty()
            },
            "treaty.parties",
        ),
        (
            Treaty {
                parties: vec![
                    new_treaty().parties[0].clone(),
                    new_treaty().parties[0].clone(),
                ],
                ..new_treaty()
            },
            "treaty.parties[1].country",
        ),
        (
            Treaty {
                mediators: vec!["countries/AM".into()],
                ..new_treaty()
            },
            "treaty.mediators[0]",
        ),
        (
            Treaty {
                mediators: vec!["countries/usa".into()],
                ..new_treaty()
            },
            "treaty.mediators[0]",
        ),
        (
            Treaty {
                summary: "x".repeat(1 << 20),
                ..new_treaty()
            },
            "treaty.summary",
        ),
    ];
    for (treaty, field) in cases {
        let status = treaties
            .create_treaty(CreateTreatyRequest {
                treaty: Some(treaty),
                treaty_id: "bad".into(),
            })
            .await
            .expect_err(field);
        assert_bad_field(&status, field);
    }
    let status = treaties
        .create_treaty(CreateTreatyRequest {
            treaty: Some(new_treaty()),
            treaty_id: "Bad_Id".into(),
        })
        .await
        .expect_err("id");
    assert_bad_field(&status, "treaty_id");
    let status = treaties
        .create_treaty(CreateTreatyRequest {
            treaty: None,
            treaty_id: "x".into(),
        })
        .await
        .expect_err("missing");
    assert_bad_field(&status, "treaty");

    // A well-formed code that names no country is a failed precondition.
    let mut unknown = new_treaty();
    unknown.parties[1].country = "countries/QQ".into();
    let status = treaties
        .create_treaty(CreateTreatyRequest {
            treaty: Some(unknown),
            treaty_id: "bad".into(),
        })
        .await
        .expect_err("unknown country");
    assert_eq!(status.code(), tonic::Code::FailedPrecondition);
    use tonic_types::StatusExt;
    let violations = status
        .get_details_precondition_failure()
        .expect("details")
        .violations;
    assert_eq!(violations[0].subject, "countries/QQ");

    let status = treaties
        .get_treaty(GetTreatyRequest {
            name: "treaties/bad".into(),
        })
        .await
        .expect_err("nothing written");
    assert_eq!(status.code(), tonic::Code::NotFound);

    // An unknown path, an emptied required field, an immutable field.
    for (path, field) in [
        ("no_such_field", "update_mask"),
        ("title", "treaty.title"),
        ("create_time", "update_mask"),
    ] {
        let status = treaties
            .update_treaty(UpdateTreatyRequest {
                treaty: Some(Treaty {
                    name: "treaties/t04".into(),
                    ..Default::default()
                }),
                update_mask: Some(FieldMask {
                    paths: vec![path.into()],
                }),
            })
            .await
            .expect_err(path);
        assert_bad_field(&status, field);
    }
    let status = treaties
        .update_treaty(UpdateTreatyRequest {
            treaty: Some(Treaty {
                name: "treaties/nope".into(),
                title: "x".into(),
                ..Default::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["title".into()],
            }),
        })
        .await
        .expect_err("missing");
    assert_eq!(status.code(), tonic::Code::NotFound);
    let t04 = treaties
        .get_treaty(GetTreatyRequest {
            name: "treaties/t04".into(),
        })
        .await
        .expect("t04")
        .into_inner();
    assert_eq!(
        t04.title, "Shusha Declaration on Allied Relations",
        "failed updates change nothing"
    );
}

#[tokio::test]
async fn acknowledged_writes_survive_a_restart() {
    let server = spawn_seeded().await;
    let created = server
        .treaties()
        .create_treaty(CreateTreatyRequest {
            treaty: Some(new_treaty()),
            treaty_id: "kept".into(),
        })
        .await
        .expect("create")
        .into_inner();
    let data_dir = server.stop().await;
    let server = spawn(data_dir, true).await;
    let got = server
        .treaties()
        .get_treaty(GetTreatyRequest {
            name: "treaties/kept".into(),
        })
        .await
        .expect("still there after a restart")
        .into_inner();
    assert_eq!(got, created);
}
