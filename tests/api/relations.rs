//! Relation queries answer the seed facts.

use diplomacy::pb::diplomacy::v1::{
    CreateMeetingRequest, DiplomaticStatus, GetRelationRequest, ListRelationsRequest, Meeting,
    MeetingKind, MeetingSummary, Participant, Relation, RelationView,
};

use crate::helpers::{assert_bad_field, date, spawn, spawn_seeded, TestServer};
use crate::records::source;

/// The relation with `view` unset, as most callers ask.
async fn relation(server: &TestServer, name: &str, as_of: (i32, i32, i32)) -> Relation {
    relation_in_view(server, name, as_of, RelationView::Unspecified).await
}

async fn relation_in_view(
    server: &TestServer,
    name: &str,
    as_of: (i32, i32, i32),
    view: RelationView,
) -> Relation {
    server
        .relations()
        .get_relation(GetRelationRequest {
            name: name.into(),
            as_of: date(as_of.0, as_of.1, as_of.2),
            view: view as i32,
        })
        .await
        .unwrap_or_else(|s| panic!("GetRelation {name} {view:?}: {s:?}"))
        .into_inner()
}

/// Asserts `basic` is `full` without its lists, and without the sources
/// that only the lists rest on: the status record, the alliance and the
/// latest meeting stay.
fn assert_basic_is_full_without_lists(basic: &Relation, full: &Relation) {
    let listed: Vec<&String> = full
        .treaties_in_force
        .iter()
        .map(|t| &t.name)
        .chain(full.armed_conflicts.iter().map(|c| &c.name))
        .chain(
            full.treaties_not_in_force
                .iter()
                .filter_map(|t| t.treaty.as_ref().map(|t| &t.name)),
        )
        .collect();
    let mut expected = full.clone();
    expected.treaties_in_force.clear();
    expected.armed_conflicts.clear();
    expected.treaties_not_in_force.clear();
    // Of each mediation's records, the first and the last; all counted.
    for mediation in &mut expected.mediations {
        assert_eq!(mediation.records_count as usize, mediation.records.len());
        if let [first, .., last] = &mediation.records[..] {
            mediation.records = vec![first.clone(), last.clone()];
        }
    }
    expected.source_records = basic.source_records.clone();
    assert_eq!(basic, &expected, "{}", full.name);
    for source in &basic.source_records {
        assert!(full.source_records.contains(source), "{source}");
    }
    for source in &full.source_records {
        assert!(
            basic.source_records.contains(source) || listed.contains(&source),
            "{source} is neither listed nor kept"
        );
    }
    let kept: Vec<&String> = full
        .latest_meeting
        .iter()
        .map(|m| &m.name)
        .chain(Some(&full.status_record).filter(|r| !r.is_empty()))
        .collect();
    for source in kept {
        assert!(basic.source_records.contains(source), "{source} kept");
    }
    let treaties = basic
        .source_records
        .iter()
        .filter(|r| r.starts_with("treaties/"))
        .count();
    assert_eq!(treaties, usize::from(full.allied), "only the alliance");
}

#[tokio::test]
async fn turkiye_and_armenia_have_no_relations_on_the_day_of_the_ankara_talks() {
    let server = spawn_seeded().await;
    let r = relation(&server, "countries/TR/relations/AM", (2024, 8, 27)).await;
    assert_eq!(r.diplomatic_status(), DiplomaticStatus::None);
    // Recognised in 1991-12 at month precision: never an invented day.
    assert_eq!(r.status_since, date(1991, 12, 0));
    assert_eq!(r.status_record, "events/f03");
    assert!(
        r.treaties_in_force.is_empty(),
        "the Zurich Protocols never entered into force"
    );
    assert!(!r.allied);
    assert!(r.source_records.contains(&"events/f03".to_string()));
}

#[tokio::test]
async fn the_pair_is_unordered() {
    let server = spawn_seeded().await;
    let mut ab = relation(&server, "countries/TR/relations/AM", (2009, 10, 10)).await;
    let mut ba = relation(&server, "countries/AM/relations/TR", (2009, 10, 10)).await;
    assert_eq!(ab.name, "countries/TR/relations/AM");
    assert_eq!(ba.name, "countries/AM/relations/TR");
    ab.name.clear();
    ba.name.clear();
    assert_eq!(ab, ba);
    assert_eq!(ab.countries, ["countries/AM", "countries/TR"]);
}

#[tokio::test]
async fn turkiye_and_azerbaijan_are_allied_from_the_shusha_declaration() {
    let server = spawn_seeded().await;
    let r = relation(&server, "countries/TR/relations/AZ", (2022, 1, 1)).await;
    assert_eq!(r.diplomatic_status(), DiplomaticStatus::Established);
    assert_eq!(r.status_since, date(1992, 1, 14));
    assert!(r.allied);
    let names: Vec<_> = r
        .treaties_in_force
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(names, ["treaties/t04"]);

    let before = relation(&server, "countries/TR/relations/AZ", (2021, 6, 14)).await;
    assert!(!before.allied, "the declaration was signed on 2021-06-15");
    let after_recognition = relation(&server, "countries/AZ/relations/TR", (1991, 12, 1)).await;
    assert_eq!(
        after_recognition.diplomatic_status(),
        DiplomaticStatus::None
    );
}

#[tokio::test]
async fn ukraine_severed_relations_with_russia_during_an_ongoing_war() {
    let server = spawn_seeded().await;
    let r = relation(&server, "countries/UA/relations/RU", (2022, 3, 1)).await;
    assert_eq!(r.diplomatic_status(), DiplomaticStatus::Severed);
    assert_eq!(r.status_since, date(2022, 2, 24));
    assert_eq!(r.armed_conflicts.len(), 1);
    assert_eq!(r.armed_conflicts[0].name, "events/c04");
    assert!(r.armed_conflicts[0].ongoing);

    let before = relation(&server, "countries/UA/relations/RU", (2021, 1, 1)).await;
    assert_eq!(before.diplomatic_status(), DiplomaticStatus::Established);
    assert_eq!(
        before.status_since,
        date(1992, 0, 0),
        "a year-precision fact stays a year"
    );
    assert!(before.armed_conflicts.is_empty());
}

#[tokio::test]
async fn nothing_recorded_is_unknown_never_none() {
    let server = spawn_seeded().await;
    let r = relation(&server, "countries/FR/relations/AM", (2024, 1, 1)).await;
    assert_eq!(r.diplomatic_status(), DiplomaticStatus::Unknown);
    assert_eq!(r.status_since, None);
    assert_eq!(r.meeting_count, 0);
    // Azerbaijan exists from 1991-10-18; Türkiye recognises it on 1991-11-09.
    let early = relation(&server, "countries/TR/relations/AZ", (1991, 11, 1)).await;
    assert_eq!(early.diplomatic_status(), DiplomaticStatus::Unknown);
}

#[tokio::test]
async fn armenia_and_azerbaijan_mediators_meetings_and_wars() {
    let server = spawn_seeded().await;
    let r = relation(&server, "countries/AM/relations/AZ", (2025, 8, 31)).await;
    assert_eq!(r.diplomatic_status(), DiplomaticStatus::None);
    assert!(
        r.mediators.contains(&"countries/US".to_string()),
        "{:?}",
        r.mediators
    );
    assert!(
        r.mediators.contains(&"countries/RU".to_string()),
        "{:?}",
        r.mediators
    );
    assert_eq!(r.meeting_count, 3, "Almaty, Washington twice");
    assert_eq!(
        r.latest_meeting.as_ref().map(|m| m.name.as_str()),
        Some("meetings/m04")
    );
    let in_force: Vec<_> = r
        .treaties_in_force
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(in_force, ["treaties/t03", "treaties/t05"]);

    let war = relation(&server, "countries/AZ/relations/AM", (2020, 10, 1)).await;
    let wars: Vec<_> = war
        .armed_conflicts
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(wars, ["events/c02"]);
    assert!(!war.armed_conflicts[0].ongoing, "it ended on 2020-11-10");
    let ceasefires: Vec<_> = war
        .treaties_in_force
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert!(
        ceasefires.is_empty(),
        "the 1994 ceasefire was broken on 2020-09-27: {ceasefires:?}"
    );

    let early = relation(&server, "countries/AZ/relations/AM", (2000, 1, 1)).await;
    assert_eq!(early.meeting_count, 0);
    assert_eq!(
        early.mediators,
        ["countries/KG", "countries/RU"],
        "host of Bishkek and Russia"
    );
}

#[tokio::test]
async fn a_partial_as_of_date_means_by_the_end_of_that_period() {
    let server = spawn_seeded().await;
    let r = relation(&server, "countries/UA/relations/RU", (2022, 0, 0)).await;
    assert_eq!(r.diplomatic_status(), DiplomaticStatus::Severed);
    assert_eq!(
        r.as_of,
        date(2022, 0, 0),
        "as_of is echoed at its own precision"
    );
}

#[tokio::test]
async fn as_of_defaults_to_today() {
    let server = spawn_seeded().await;
    let r = server
        .relations()
        .get_relation(GetRelationRequest {
            name: "countries/UA/relations/RU".into(),
            as_of: None,
            ..Default::default()
        })
        .await
        .expect("GetRelation")
        .into_inner();
    let today = time::OffsetDateTime::now_utc().date();
    assert_eq!(
        r.as_of,
        date(
            today.year(),
            u8::from(today.month()).into(),
            today.day().into()
        )
    );
    assert_eq!(r.diplomatic_status(), DiplomaticStatus::Severed);
}

#[tokio::test]
async fn list_relations_of_a_country_filters_and_pages() {
    let server = spawn_seeded().await;
    let mut client = server.relations();
    let all = client
        .list_relations(ListRelationsRequest {
            parent: "countries/TR".into(),
            as_of: date(2024, 8, 27),
            ..Default::default()
        })
        .await
        .expect("ListRelations")
        .into_inner();
    let others: Vec<_> = all.relations.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        others,
        ["countries/TR/relations/AM", "countries/TR/relations/AZ"]
    );

    let none = client
        .list_relations(ListRelationsRequest {
            parent: "countries/TR".into(),
            as_of: date(2024, 8, 27),
            diplomatic_statuses: vec![DiplomaticStatus::None as i32],
            ..Default::default()
        })
        .await
        .expect("ListRelations")
        .into_inner();
    let names: Vec<_> = none.relations.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        ["countries/TR/relations/AM"],
        "every country Türkiye has no relations with"
    );

    let mut pages = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_relations(ListRelationsRequest {
                parent: "countries/TR".into(),
                as_of: date(2024, 8, 27),
                page_size: 1,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .expect("page")
            .into_inner();
        pages.extend(page.relations.into_iter().map(|r| r.name));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(pages, others);

    let token = token_after_first(&mut client).await;
    let err = client
        .list_relations(ListRelationsRequest {
            parent: "countries/TR".into(),
            as_of: date(2024, 8, 28),
            page_size: 1,
            page_token: token,
            ..Default::default()
        })
        .await
        .expect_err("a token is bound to its query");
    assert_bad_field(&err, "page_token");
}

async fn token_after_first(
    client: &mut diplomacy::pb::diplomacy::v1::relation_service_client::RelationServiceClient<
        crate::helpers::Authed,
    >,
) -> String {
    client
        .list_relations(ListRelationsRequest {
            parent: "countries/TR".into(),
            as_of: date(2024, 8, 27),
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("first page")
        .into_inner()
        .next_page_token
}

/// Every (pair, date) the cache test asks about: the pairs of the generated
/// records and of the seed, on days across the generated years.
fn probe_names(records: &[diplomacy::records::Record]) -> Vec<String> {
    let mut pairs = std::collections::BTreeSet::from([
        ("AM".to_string(), "AZ".to_string()),
        ("AM".to_string(), "TR".to_string()),
    ]);
    for record in records {
        let codes: Vec<String> = diplomacy::records::referenced_countries(record)
            .into_iter()
            .map(|c| c.as_str().to_string())
            .collect();
        for (i, a) in codes.iter().enumerate() {
            for b in &codes[i + 1..] {
                pairs.insert((a.clone(), b.clone()));
            }
        }
    }
    pairs
        .into_iter()
        .map(|(a, b)| format!("countries/{a}/relations/{b}"))
        .collect()
}

fn differing(a: &[Relation], b: &[Relation]) -> usize {
    a.iter().zip(b).filter(|(x, y)| x != y).count()
}

async fn answers(server: &TestServer, names: &[String]) -> Vec<Relation> {
    let mut out = Vec::new();
    for name in names {
        for as_of in [(1950, 6, 1), (1975, 1, 0), (1999, 12, 31), (2025, 0, 0)] {
            out.push(relation(server, name, as_of).await);
        }
    }
    out
}

/// Relation queries read each pair's facts from memory, loaded on first use
/// and patched by every write. After imports, updates and deletes on pairs
/// already in memory, the running server answers exactly what a fresh
/// process reading the same database answers.
#[tokio::test]
async fn answers_from_memory_follow_every_write_as_a_fresh_start_reads_them() {
    use diplomacy::pb::diplomacy::v1::{
        DeleteMeetingRequest, DeleteTreatyRequest, Event, EventKind, ImportRecordsRequest, Meeting,
        Record, UpdateEventRequest, UpdateMeetingRequest,
    };
    use diplomacy_tools::generate::{generate, Sizes};

    let server = spawn_seeded().await;
    let mut generated = Vec::new();
    let sizes = Sizes {
        meetings: 300,
        treaties: 60,
        events: 80,
    };
    generate(3, sizes, |r| generated.push(r));
    let names = probe_names(&generated);
    // Every probed pair is in memory before the writes.
    let before = answers(&server, &names).await;

    let messages: Vec<ImportRecordsRequest> = generated
        .chunks(50)
        .map(|chunk| ImportRecordsRequest {
            records: chunk
                .iter()
                .map(|r| Record {
                    kind: Some(r.clone()),
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    server
        .records()
        .import_records(tokio_stream::iter(messages))
        .await
        .expect("ImportRecords");
    let imported = answers(&server, &names).await;
    assert!(
        differing(&before, &imported) > 0,
        "the imports changed some relations"
    );

    for i in (0..sizes.meetings).step_by(3) {
        server
            .meetings()
            .delete_meeting(DeleteMeetingRequest {
                name: format!("meetings/g{i}"),
                ..Default::default()
            })
            .await
            .expect("DeleteMeeting");
    }
    for i in (0..sizes.treaties).step_by(4) {
        server
            .treaties()
            .delete_treaty(DeleteTreatyRequest {
                name: format!("treaties/g{i}"),
                ..Default::default()
            })
            .await
            .expect("DeleteTreaty");
    }
    for i in (0..sizes.events).step_by(5) {
        let name = format!("events/g{i}");
        // A recognition moves within the years every generated state
        // existed in (it is refused for a state that did not exist).
        let recognition = generated.iter().any(|r| {
            matches!(r, diplomacy::records::Record::Event(e)
                if e.name == name && e.kind == EventKind::Recognition as i32)
        });
        let year = if recognition {
            2012 + (i % 14)
        } else {
            1960 + (i % 50)
        };
        server
            .events()
            .update_event(UpdateEventRequest {
                event: Some(Event {
                    name,
                    start_date: date(year as i32, 0, 0),
                    end_date: None,
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["start_date".into(), "end_date".into()],
                }),
            })
            .await
            .expect("UpdateEvent");
    }
    // Retitled meetings: the latest meeting's summary comes from memory.
    for i in (1..sizes.meetings).step_by(3) {
        server
            .meetings()
            .update_meeting(UpdateMeetingRequest {
                meeting: Some(Meeting {
                    name: format!("meetings/g{i}"),
                    title: format!("Retitled {i}"),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["title".into()],
                }),
            })
            .await
            .expect("UpdateMeeting");
    }
    let running = answers(&server, &names).await;
    assert!(
        running.iter().any(|r| r
            .latest_meeting
            .as_ref()
            .is_some_and(|m| m.title.starts_with("Retitled"))),
        "some answers show a retitled meeting"
    );
    assert!(
        differing(&imported, &running) > 0,
        "the deletes and updates changed some relations"
    );

    let data_dir = server.stop().await;
    let fresh = crate::helpers::spawn(data_dir, true).await;
    let reread = answers(&fresh, &names).await;
    for (memory, disk) in running.iter().zip(&reread) {
        assert_eq!(memory, disk, "{} on {:?}", memory.name, memory.as_of);
    }
    assert_eq!(running.len(), reread.len());
}

/// A busy pair can have thousands of treaties in force: a relation lists the
/// 100 that entered into force last and counts them all, and an alliance
/// among the unlisted ones still makes the pair allied, with its source.
#[tokio::test]
async fn a_relation_lists_at_most_100_treaties_and_conflicts_and_counts_them_all() {
    use diplomacy::pb::diplomacy::v1::{
        record, Event, EventKind, ImportRecordsRequest, Record, Treaty, TreatyKind, TreatyParty,
        TreatyStatus,
    };
    let party = |code: &str| TreatyParty {
        country: format!("countries/{code}"),
        signature_date: date(1950, 1, 1),
        ..Default::default()
    };
    let mut records = Vec::new();
    for i in 0..120 {
        records.push(Record {
            kind: Some(record::Kind::Treaty(Treaty {
                name: format!("treaties/busy-{i:03}"),
                title: format!("Busy treaty {i}"),
                // The two oldest are alliances, far from the listed ones.
                kind: if i < 2 {
                    TreatyKind::Alliance
                } else {
                    TreatyKind::Trade
                } as i32,
                status: TreatyStatus::InForce as i32,
                signed_date: date(1950, 1, 1),
                entry_into_force_date: date(1950 + i / 12, 1 + i % 12, 1),
                parties: vec![party("FR"), party("DE")],
                sources: vec![crate::records::source()],
                ..Default::default()
            })),
        });
    }
    for i in 0..105 {
        records.push(Record {
            kind: Some(record::Kind::Event(Event {
                name: format!("events/busy-{i:03}"),
                title: format!("Busy conflict {i}"),
                kind: EventKind::ArmedConflict as i32,
                start_date: date(1960 + i / 12, 1 + i % 12, 1),
                actor: "countries/FR".into(),
                counterparts: vec!["countries/DE".into()],
                sources: vec![crate::records::source()],
                ..Default::default()
            })),
        });
    }
    let server = spawn_seeded().await;
    server
        .records()
        .import_records(tokio_stream::iter(vec![ImportRecordsRequest {
            records,
            ..Default::default()
        }]))
        .await
        .expect("ImportRecords");

    let r = relation(&server, "countries/FR/relations/DE", (2020, 1, 1)).await;
    assert_eq!(r.treaties_in_force_count, 120);
    let listed: Vec<&str> = r
        .treaties_in_force
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    let newest: Vec<String> = (20..120).map(|i| format!("treaties/busy-{i:03}")).collect();
    assert_eq!(listed, newest, "the 100 newest, oldest first");
    assert!(r.allied, "an unlisted alliance still counts");
    assert!(
        r.source_records.contains(&"treaties/busy-001".to_string()),
        "the alliance in force last is the source of `allied`"
    );
    assert!(!r.source_records.contains(&"treaties/busy-000".to_string()));
    assert_eq!(
        r.source_records.len(),
        100 + 100 + 1,
        "listed treaties and conflicts and the alliance: bounded"
    );
    assert_eq!(r.armed_conflicts_count, 105);
    assert_eq!(r.armed_conflicts.len(), 100);
    assert_eq!(r.armed_conflicts[0].name, "events/busy-005");

    // The BASIC view: the same status, alliance and counts, no lists, and
    // of the 201 sources only the alliance's.
    let basic = relation_in_view(
        &server,
        "countries/FR/relations/DE",
        (2020, 1, 1),
        RelationView::Basic,
    )
    .await;
    assert_eq!(
        (basic.treaties_in_force_count, basic.armed_conflicts_count),
        (120, 105)
    );
    assert!(basic.treaties_in_force.is_empty() && basic.armed_conflicts.is_empty());
    assert!(basic.allied);
    assert_eq!(basic.source_records, ["treaties/busy-001"]);

    // Below the cap, everything is listed.
    let r = relation(&server, "countries/FR/relations/DE", (1951, 12, 31)).await;
    assert_eq!(r.treaties_in_force_count, 24);
    assert_eq!(r.treaties_in_force.len(), 24);
    assert_eq!(r.armed_conflicts_count, 0);
}

/// The BASIC view answers the hot-path questions (allied? at war? on
/// speaking terms?) exactly as the full answer does, without its lists;
/// an unset view is FULL.
#[tokio::test]
async fn the_basic_view_is_the_full_answer_without_its_lists() {
    let server = spawn_seeded().await;
    let mut answers = Vec::new();
    for (name, as_of) in [
        ("countries/TR/relations/AZ", (2022, 1, 1)),
        ("countries/AZ/relations/AM", (2020, 10, 1)),
        ("countries/TR/relations/AM", (2024, 8, 27)),
    ] {
        let unset = relation(&server, name, as_of).await;
        let full = relation_in_view(&server, name, as_of, RelationView::Full).await;
        let basic = relation_in_view(&server, name, as_of, RelationView::Basic).await;
        assert_eq!(unset, full, "{name}: an unset view is FULL");
        assert_basic_is_full_without_lists(&basic, &full);
        answers.push(full);
    }
    // The cases above do exercise both lists: an alliance and a war.
    let [allies, war, _] = &answers[..] else {
        unreachable!("three cases")
    };
    assert!(allies.allied && !allies.treaties_in_force.is_empty());
    assert!(!war.armed_conflicts.is_empty() && war.armed_conflicts_count > 0);
}

#[tokio::test]
async fn list_relations_returns_every_relation_in_the_view_asked_for() {
    let server = spawn_seeded().await;
    let list = |view: RelationView| {
        let mut client = server.relations();
        async move {
            client
                .list_relations(ListRelationsRequest {
                    parent: "countries/AZ".into(),
                    as_of: date(2020, 10, 1),
                    page_size: 1000,
                    view: view as i32,
                    ..Default::default()
                })
                .await
                .expect("ListRelations")
                .into_inner()
                .relations
        }
    };
    let full = list(RelationView::Full).await;
    let basic = list(RelationView::Basic).await;
    assert!(full.iter().any(|r| !r.armed_conflicts.is_empty()));
    assert_eq!(basic.len(), full.len());
    for (basic, full) in basic.iter().zip(&full) {
        assert_basic_is_full_without_lists(basic, full);
    }
}

#[tokio::test]
async fn a_view_that_does_not_exist_is_refused_naming_the_field() {
    let server = spawn_seeded().await;
    let mut client = server.relations();
    let status = client
        .get_relation(GetRelationRequest {
            name: "countries/TR/relations/AM".into(),
            view: 7,
            ..Default::default()
        })
        .await
        .expect_err("view 7");
    assert_bad_field(&status, "view");
    let status = client
        .list_relations(ListRelationsRequest {
            parent: "countries/TR".into(),
            view: -1,
            ..Default::default()
        })
        .await
        .expect_err("view -1");
    assert_bad_field(&status, "view");
}

#[tokio::test]
async fn the_latest_meeting_is_given_as_stored_at_its_precision_and_after_a_restart() {
    let server = spawn_seeded().await;
    let participant = |country: &str| Participant {
        person: "Envoy".into(),
        country: country.into(),
        ..Default::default()
    };
    // A month-precision start and a multi-day end: the relation's summary
    // must give both back as they were written, not rebuilt at a day.
    let meeting = Meeting {
        title: "Talks in Geneva, second round".into(),
        kind: MeetingKind::BilateralTalks as i32,
        start_date: date(2031, 4, 0),
        end_date: date(2031, 5, 2),
        participants: vec![participant("countries/NO"), participant("countries/NZ")],
        sources: vec![source()],
        ..Default::default()
    };
    server
        .meetings()
        .create_meeting(CreateMeetingRequest {
            meeting: Some(meeting.clone()),
            meeting_id: "geneva-2".into(),
        })
        .await
        .expect("CreateMeeting");
    let expected = MeetingSummary {
        name: "meetings/geneva-2".into(),
        title: meeting.title.clone(),
        start_date: meeting.start_date,
        end_date: meeting.end_date,
    };
    let pair = "countries/NO/relations/NZ";
    let before = relation(&server, pair, (2031, 4, 0)).await;
    assert_eq!(before.latest_meeting, Some(expected.clone()));
    assert_eq!(before.meeting_count, 1);
    let earlier = relation(&server, pair, (2031, 3, 31)).await;
    assert_eq!(earlier.latest_meeting, None, "not yet met on 2031-03-31");

    let restarted = spawn(server.stop().await, true).await;
    let after = relation(&restarted, pair, (2032, 0, 0)).await;
    assert_eq!(
        after.latest_meeting,
        Some(expected),
        "loaded from the database"
    );
}
