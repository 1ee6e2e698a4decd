//! Actors and roles: organisations and de facto authorities beside states,
//! typed roles (a host is a venue, a mediator mediates for a period), and
//! armed conflicts with two sides (only primary parties on opposite sides
//! are at war). Against the real server, over the seed and records this
//! test writes; one line of reason each.

use diplomacy::pb::diplomacy::v1::*;
use tonic::Code;

use crate::consent::{d, source};
use crate::helpers::*;

/// The relation of `pair` on `as_of`, or a failure naming both.
pub async fn relation(server: &TestServer, pair: &str, as_of: &str) -> Relation {
    server
        .relations()
        .get_relation(GetRelationRequest {
            name: pair.into(),
            as_of: d(as_of),
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("{pair} on {as_of}: {e}"))
        .into_inner()
}

/// Each `(pair, day, armed conflicts covering it, why)`.
async fn assert_wars(server: &TestServer, cases: &[(&str, &str, i32, &str)]) {
    for (pair, day, wars, why) in cases {
        let answer = relation(server, pair, day).await;
        assert_eq!(answer.armed_conflicts_count, *wars, "{pair} {day}: {why}");
    }
}

fn mediators(relation: &Relation) -> Vec<&str> {
    relation
        .mediations
        .iter()
        .map(|m| m.mediator.as_str())
        .collect()
}

#[tokio::test]
async fn mediations_of_the_seed_run_over_their_periods_and_hosts_never_mediate() {
    let server = spawn_seeded().await;
    let am_az = "countries/AM/relations/AZ";
    let minsk = "actors/osce-minsk-group";
    // (day, mediators active, why)
    let cases: [(&str, &[&str], &str); 7] = [
        (
            "1992-06-01",
            &[minsk],
            "the Minsk Group from 1992 (year precision)",
        ),
        (
            "1994-05-20",
            &[minsk, "countries/RU"],
            "Russia mediated the May 1994 texts",
        ),
        (
            "1994-06-01",
            &[minsk],
            "Russia's mediation ended with its last record (1994-05)",
        ),
        (
            "2024-05-10",
            &[minsk],
            "Kazakhstan hosted the Almaty talks as a venue only",
        ),
        (
            "2024-07-15",
            &[minsk, "countries/US"],
            "the US from M01 (2024-07) on",
        ),
        (
            "2025-12-31",
            &[minsk],
            "a mediation ended in 2025 runs to the year's end; the US ended with M04",
        ),
        (
            "2026-01-01",
            &[],
            "no mediator is active after the process closed",
        ),
    ];
    for (day, wanted, why) in cases {
        let answer = relation(&server, am_az, day).await;
        assert_eq!(mediators(&answer), wanted, "{day}: {why}");
        assert_eq!(answer.mediations_count as usize, wanted.len(), "{day}");
    }
    let almaty = relation(&server, am_az, "2024-05-11").await;
    assert!(
        almaty.mediators.contains(&"countries/KZ".to_string()),
        "the superseded list keeps its meaning: hosts count there"
    );
    let us = relation(&server, am_az, "2025-01-01").await;
    let us = us
        .mediations
        .iter()
        .find(|m| m.mediator == "countries/US")
        .expect("the US mediates between its two records");
    assert_eq!(us.role(), ParticipantRole::Mediator);
    assert_eq!(
        us.records,
        ["meetings/m01", "meetings/m04", "treaties/t07"],
        "both summits and the peace text initialled at the second"
    );
    assert_eq!(us.records_count, 3);
    assert_eq!(us.start_date, d("2024-07"), "at the precision recorded");
    assert_eq!(us.end_date, d("2025-08-08"));
    // The BASIC view names a mediation's first and last record and counts
    // them all: a busy pair's mediators have thousands.
    let basic = server
        .relations()
        .get_relation(GetRelationRequest {
            name: am_az.into(),
            as_of: d("2025-01-01"),
            view: RelationView::Basic as i32,
        })
        .await
        .expect("the BASIC view")
        .into_inner();
    let basic_us = basic
        .mediations
        .iter()
        .find(|m| m.mediator == "countries/US")
        .expect("the same mediations in both views");
    assert_eq!(basic_us.records, ["meetings/m01", "treaties/t07"]);
    assert_eq!(basic_us.records_count, 3);
    assert_eq!(
        (&basic_us.start_date, &basic_us.end_date, basic_us.role),
        (&us.start_date, &us.end_date, us.role)
    );
    let minsk_group = server
        .actors()
        .get_actor(GetActorRequest { name: minsk.into() })
        .await
        .expect("the Minsk Group is an actor")
        .into_inner();
    assert_eq!(minsk_group.kind(), ActorKind::MediationFormat);
    assert_eq!(minsk_group.members.len(), 3, "its three co-chairs");
}

#[tokio::test]
async fn conflicts_of_the_seed_are_wars_only_between_primary_parties_on_opposite_sides() {
    let server = spawn_seeded().await;
    // (pair, day, at war, treaty t03 in force, why)
    let cases = [
        (
            "countries/AM/relations/AZ",
            "2020-10-01",
            1,
            false,
            "C02: Azerbaijan against Armenia",
        ),
        (
            "countries/AM/relations/AZ",
            "2023-09-19",
            0,
            true,
            "C03 was fought against the Karabakh authorities, not Armenia",
        ),
        (
            "countries/AM/relations/AZ",
            "2021-01-01",
            0,
            true,
            "T03 binds its two parties",
        ),
        (
            "countries/AZ/relations/RU",
            "2021-01-01",
            0,
            false,
            "Russia signed T03 as guarantor, not as a party",
        ),
        (
            "countries/AM/relations/RU",
            "2021-01-01",
            0,
            false,
            "nor is it bound with Armenia",
        ),
    ];
    for (pair, day, wars, t03, why) in cases {
        let answer = relation(&server, pair, day).await;
        assert_eq!(answer.armed_conflicts_count, wars, "{pair} {day}: {why}");
        let in_force = answer
            .treaties_in_force
            .iter()
            .any(|t| t.name == "treaties/t03");
        assert_eq!(in_force, t03, "{pair} {day}: {why}");
    }
    let c03 = server
        .events()
        .get_event(GetEventRequest {
            name: "events/c03".into(),
        })
        .await
        .expect("C03")
        .into_inner();
    assert_eq!(
        c03.side_b[0].participant,
        "actors/nagorno-karabakh-authorities"
    );
    let history = server
        .relations()
        .list_history(ListHistoryRequest {
            parent: "countries/AM/relations/AZ".into(),
            start_date: d("2020-11-10"),
            end_date: d("2020-11-10"),
            ..Default::default()
        })
        .await
        .expect("history")
        .into_inner();
    let t03 = history
        .entries
        .iter()
        .find(|e| e.record == "treaties/t03")
        .expect("T03 in the AM–AZ timeline");
    assert_eq!(t03.roles[0].participant, "countries/RU");
    assert_eq!(t03.roles[0].role(), ParticipantRole::SignatoryGuarantor);
}

fn belligerent(who: &str, standing: BelligerentStanding, join: Option<&str>) -> Belligerent {
    Belligerent {
        participant: who.into(),
        standing: standing as i32,
        join_date: join.and_then(d),
        leave_date: None,
    }
}

fn conflict(id: &str, side_a: Vec<Belligerent>, side_b: Vec<Belligerent>) -> CreateEventRequest {
    CreateEventRequest {
        event: Some(Event {
            title: id.into(),
            kind: EventKind::ArmedConflict as i32,
            start_date: d("1995-01-01"),
            end_date: d("1996-12-31"),
            side_a,
            side_b,
            sources: source(),
            ..Default::default()
        }),
        event_id: id.into(),
    }
}

#[tokio::test]
async fn sides_decide_who_is_at_war_with_whom_and_from_when() {
    use BelligerentStanding::{Primary, Secondary};
    let server = spawn_seeded().await;
    server
        .events()
        .create_event(conflict(
            "coalition",
            vec![
                belligerent("countries/FR", Primary, None),
                belligerent("countries/DE", Primary, Some("1996-03")),
                belligerent("countries/IT", Secondary, None),
            ],
            vec![
                belligerent("countries/ES", Primary, None),
                belligerent("actors/osce-minsk-group", Secondary, None),
            ],
        ))
        .await
        .expect("a conflict with two sides");
    // (pair, day, at war, why)
    let cases = [
        (
            "countries/FR/relations/ES",
            "1995-06-01",
            1,
            "primary parties on opposite sides",
        ),
        (
            "countries/FR/relations/DE",
            "1996-06-01",
            0,
            "two states on the same side",
        ),
        (
            "countries/IT/relations/ES",
            "1995-06-01",
            0,
            "a secondary party is not at war",
        ),
        (
            "countries/DE/relations/ES",
            "1995-06-01",
            0,
            "before it joined",
        ),
        (
            "countries/DE/relations/ES",
            "1996-03-01",
            1,
            "from the first day of the month it joined",
        ),
        (
            "countries/FR/relations/ES",
            "1997-01-01",
            0,
            "after the conflict's end",
        ),
    ];
    assert_wars(&server, &cases).await;
    let de_es = relation(&server, "countries/DE/relations/ES", "1996-06-01").await;
    assert_eq!(
        de_es.armed_conflicts[0].start_date,
        d("1996-03"),
        "the pair's war starts when both fought"
    );
    let it_es = server
        .relations()
        .list_history(ListHistoryRequest {
            parent: "countries/IT/relations/ES".into(),
            ..Default::default()
        })
        .await
        .expect("history")
        .into_inner();
    assert!(
        it_es.entries.iter().any(|e| e.record == "events/coalition"),
        "a secondary party's pair still sees the conflict in its timeline"
    );
    let dir = server.stop().await;
    assert_consistent(dir.path()).await;
}

#[tokio::test]
async fn a_conflict_written_the_old_way_gets_its_two_sides() {
    let server = spawn_seeded().await;
    let created = server
        .events()
        .create_event(CreateEventRequest {
            event: Some(Event {
                title: "Old-style conflict".into(),
                kind: EventKind::ArmedConflict as i32,
                start_date: d("1999-01-01"),
                actor: "countries/FR".into(),
                counterparts: vec!["countries/ES".into(), "countries/PT".into()],
                sources: source(),
                ..Default::default()
            }),
            event_id: "old-style".into(),
        })
        .await
        .expect("an actor and counterparts")
        .into_inner();
    assert_eq!(created.side_a.len(), 1);
    assert_eq!(created.side_a[0].participant, "countries/FR");
    assert_eq!(created.side_b.len(), 2);
    assert!(created
        .side_b
        .iter()
        .all(|b| b.standing() == BelligerentStanding::Primary));
    let es_pt = relation(&server, "countries/ES/relations/PT", "2000-01-01").await;
    assert_eq!(es_pt.armed_conflicts_count, 0, "counterparts share a side");
    let fr_pt = relation(&server, "countries/FR/relations/PT", "2000-01-01").await;
    assert_eq!(fr_pt.armed_conflicts_count, 1);
}

fn actor(id: &str, start: &str, end: &str, member_from: &str) -> CreateActorRequest {
    CreateActorRequest {
        actor: Some(Actor {
            display_name: id.into(),
            kind: ActorKind::InternationalOrganization as i32,
            existence: vec![StatePeriod {
                start_date: d(start),
                end_date: d(end),
            }],
            members: vec![ActorMember {
                member: "countries/FR".into(),
                join_date: d(member_from),
                ..Default::default()
            }],
            sources: source(),
            ..Default::default()
        }),
        actor_id: id.into(),
    }
}

#[tokio::test]
async fn actors_have_the_standard_methods_and_filters() {
    let server = spawn_seeded().await;
    let created = server
        .actors()
        .create_actor(actor("test-org", "1950", "2000", "1960-05"))
        .await
        .expect("create")
        .into_inner();
    assert_eq!(created.name, "actors/test-org");
    let mut patch = created.clone();
    patch.summary = "An organisation of the tests.".into();
    let updated = server
        .actors()
        .update_actor(UpdateActorRequest {
            actor: Some(patch),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["summary".into()],
            }),
        })
        .await
        .expect("update")
        .into_inner();
    assert_eq!(updated.summary, "An organisation of the tests.");
    // (kind, member, names, why)
    let cases = [
        (ActorKind::Unspecified, "", 3, "every actor"),
        (ActorKind::MediationFormat, "", 1, "the Minsk Group"),
        (
            ActorKind::Unspecified,
            "countries/FR",
            2,
            "France: a co-chair and a member",
        ),
        (
            ActorKind::DeFactoAuthority,
            "countries/FR",
            0,
            "both filters",
        ),
    ];
    for (kind, member, count, why) in cases {
        let page = server
            .actors()
            .list_actors(ListActorsRequest {
                kind: kind as i32,
                member: member.into(),
                ..Default::default()
            })
            .await
            .expect("list")
            .into_inner();
        assert_eq!(page.actors.len(), count, "{why}");
    }
    server
        .actors()
        .delete_actor(DeleteActorRequest {
            name: "actors/test-org".into(),
            etag: updated.etag,
        })
        .await
        .expect("an actor no record names can be deleted");
}

#[tokio::test]
async fn bad_actors_roles_and_sides_are_refused_and_change_nothing() {
    use BelligerentStanding::Primary;
    let server = spawn_seeded().await;
    let status = server
        .actors()
        .create_actor(actor("late-member", "1950", "2000", "2005"))
        .await
        .expect_err("a membership outside the actor's existence");
    assert_bad_field(&status, "actor.members[0].join_date");

    let status = server
        .events()
        .create_event(conflict(
            "both-sides",
            vec![belligerent("countries/FR", Primary, None)],
            vec![
                belligerent("countries/ES", Primary, None),
                belligerent("countries/FR", Primary, Some("1996")),
            ],
        ))
        .await
        .expect_err("a participant on both sides at once");
    assert_bad_field(&status, "event.side_b[1].participant");

    let mut meeting = server
        .meetings()
        .get_meeting(GetMeetingRequest {
            name: "meetings/m05".into(),
        })
        .await
        .expect("m05")
        .into_inner();
    meeting.roles.push(Involvement {
        participant: "countries/KZ".into(),
        role: ParticipantRole::SignatoryGuarantor as i32,
        ..Default::default()
    });
    let status = server
        .meetings()
        .update_meeting(UpdateMeetingRequest {
            meeting: Some(meeting),
            update_mask: None,
        })
        .await
        .expect_err("a role a meeting does not have");
    assert_bad_field(&status, "meeting.roles[1].role");

    let status = server
        .events()
        .create_event(conflict(
            "ghost",
            vec![belligerent("countries/FR", Primary, None)],
            vec![belligerent("actors/no-such-group", Primary, None)],
        ))
        .await
        .expect_err("an actor that does not exist");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(
        status.message().contains("actors/no-such-group"),
        "{status:?}"
    );

    let status = server
        .actors()
        .delete_actor(DeleteActorRequest {
            name: "actors/osce-minsk-group".into(),
            etag: String::new(),
        })
        .await
        .expect_err("an actor still named by a record");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(status.message().contains("ACTOR_IN_USE") || status.message().contains("still named"));

    for name in ["events/both-sides", "events/ghost"] {
        let status = server
            .events()
            .get_event(GetEventRequest { name: name.into() })
            .await
            .expect_err("nothing written");
        assert_eq!(status.code(), Code::NotFound, "{name}");
    }
    let m05 = server
        .meetings()
        .get_meeting(GetMeetingRequest {
            name: "meetings/m05".into(),
        })
        .await
        .expect("m05")
        .into_inner();
    assert_eq!(m05.roles.len(), 1, "the meeting is unchanged");
    let dir = server.stop().await;
    assert_consistent(dir.path()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ucdp_conflicts_import_with_their_sides_and_a_second_import_changes_nothing() {
    let dir = spawn_seeded().await.stop().await;
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/ucdp/acd-fixture.csv"
    );
    let import = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_diplomacy"))
            .args(["import", "--format", "ucdp-acd", "--data-dir"])
            .arg(dir.path())
            .arg(fixture)
            .output()
            .expect("import runs")
    };
    let first = import();
    let stderr = String::from_utf8_lossy(&first.stderr).to_string();
    assert!(first.status.success(), "{stderr}");
    assert!(stderr.contains("3 episodes"), "{stderr}");
    let second = import();
    let again = String::from_utf8_lossy(&second.stderr).to_string();
    assert!(second.status.success(), "{again}");
    assert!(
        again.contains("0 written"),
        "importing twice changes nothing: {again}"
    );

    let server = spawn(dir, false).await;
    // (pair, day, at war, why)
    let cases = [
        (
            "countries/AM/relations/AZ",
            "2020-10-01",
            3,
            "C02, UCDP 9001 and the still open 9003",
        ),
        (
            "countries/RU/relations/UA",
            "2014-06-01",
            0,
            "Russia supports side B as a secondary party",
        ),
        (
            "countries/AM/relations/TR",
            "1993-06-01",
            1,
            "two GW numbers in one field",
        ),
        (
            "countries/AZ/relations/TR",
            "1993-06-01",
            0,
            "on the same side",
        ),
    ];
    assert_wars(&server, &cases).await;
    let episode = server
        .events()
        .get_event(GetEventRequest {
            name: "events/ucdp-9002-20140401".into(),
        })
        .await
        .expect("the 2014 episode, named by its start month")
        .into_inner();
    assert_eq!(
        episode.start_date,
        d("2014-04"),
        "precision 3 keeps the month"
    );
    assert_eq!(episode.end_date, d("2015-02"));
    assert_eq!(episode.side_b.len(), 3, "two armed groups and Russia");
    assert!(episode.sources[0].title.contains("version 25.1"));
    let group = server
        .actors()
        .get_actor(GetActorRequest {
            name: "actors/ucdp-1001".into(),
        })
        .await
        .expect("a non-state side becomes an actor")
        .into_inner();
    assert_eq!(group.display_name, "Test Republic A");
    assert_eq!(group.ucdp_actor_id, 1001);
    let intrastate = server
        .events()
        .get_event(GetEventRequest {
            name: "events/ucdp-9004-20010601".into(),
        })
        .await;
    assert_eq!(
        intrastate
            .expect_err("intrastate conflicts are left out")
            .code(),
        Code::NotFound
    );
    let dir = server.stop().await;
    assert_consistent(dir.path()).await;
}
