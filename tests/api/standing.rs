//! How far apart: recognition and representation per direction, the border,
//! and the COW Diplomatic Exchange data. Against the real server, over the
//! seed and records this test writes; one line of reason each.

use diplomacy::pb::diplomacy::v1::record::Kind;
use diplomacy::pb::diplomacy::v1::*;
use tonic::Code;

use crate::actors::relation;
use crate::consent::{d, source};
use crate::helpers::*;

fn event(id: &str, kind: EventKind, day: &str, actor: &str, counterpart: &str) -> Event {
    Event {
        name: format!("events/{id}"),
        title: id.into(),
        kind: kind as i32,
        start_date: d(day),
        actor: format!("countries/{actor}"),
        counterparts: vec![if counterpart.contains('/') {
            counterpart.to_string()
        } else {
            format!("countries/{counterpart}")
        }],
        sources: source(),
        ..Default::default()
    }
}

fn level(sending: &str, receiving: &str, level: RepresentationLevel) -> RepresentationChange {
    RepresentationChange {
        sending: format!("countries/{sending}"),
        receiving: format!("countries/{receiving}"),
        level: level as i32,
    }
}

fn with_levels(mut e: Event, levels: Vec<RepresentationChange>) -> Event {
    e.representation = levels;
    e
}

fn records(events: Vec<Event>) -> Vec<Record> {
    events
        .into_iter()
        .map(|e| Record {
            kind: Some(Kind::Event(e)),
        })
        .collect()
}

/// Recognition `from`'s of the other side in an answer: its standing and
/// record.
fn recognition<'a>(r: &'a Relation, from: &str) -> (RecognitionStanding, &'a str) {
    let entry = r
        .recognitions
        .iter()
        .find(|x| x.recognizer == format!("countries/{from}"))
        .unwrap_or_else(|| panic!("no recognition by {from} in {r:?}"));
    (entry.standing(), entry.record.as_str())
}

/// The level of `from`'s mission in the other side.
fn mission(r: &Relation, from: &str) -> RepresentationLevel {
    r.representations
        .iter()
        .find(|x| x.sending == format!("countries/{from}"))
        .unwrap_or_else(|| panic!("no representation of {from} in {r:?}"))
        .level()
}

fn border(r: &Relation) -> BorderStatus {
    r.border
        .as_ref()
        .expect("a border in every answer")
        .status()
}

#[tokio::test]
async fn the_seed_says_who_recognised_whom_and_that_the_turkish_armenian_border_is_closed() {
    use RecognitionStanding as R;
    let server = spawn_seeded().await;
    let tr_am = "countries/TR/relations/AM";
    let on_zurich_day = relation(&server, tr_am, "2009-10-10").await;
    assert_eq!(
        recognition(&on_zurich_day, "TR"),
        (R::Recognized, "events/f03"),
        "F03: Türkiye recognised Armenia in 1991-12"
    );
    assert_eq!(
        recognition(&on_zurich_day, "AM").0,
        R::Unknown,
        "Armenia's recognition of Türkiye is not recorded: UNKNOWN, not NOT_RECOGNIZED"
    );
    assert_eq!(border(&on_zurich_day), BorderStatus::Closed, "F04");
    let border_fact = on_zurich_day.border.as_ref().expect("border");
    assert_eq!(
        (border_fact.since, border_fact.record.as_str()),
        (d("1993-04"), "events/f04"),
        "closed since 1993-04, at the month's precision"
    );
    assert_eq!(
        on_zurich_day.diplomatic_status(),
        DiplomaticStatus::None,
        "recognition without relations"
    );
    for side in ["TR", "AM"] {
        assert_eq!(
            mission(&on_zurich_day, side),
            RepresentationLevel::Unknown,
            "no level recorded: UNKNOWN, never NONE"
        );
    }
    assert!(
        on_zurich_day
            .source_records
            .contains(&"events/f04".to_string()),
        "the border rests on its event: {:?}",
        on_zurich_day.source_records
    );
    let before = relation(&server, tr_am, "1993-03-31").await;
    assert_eq!(border(&before), BorderStatus::Unknown, "no border fact yet");
    let in_april = relation(&server, tr_am, "1993-04-10").await;
    assert!(
        in_april
            .uncertain_records
            .contains(&"events/f04".to_string()),
        "a closure known to the month leaves 1993-04-10 open: {:?}",
        in_april.uncertain_records
    );
    let tr_az = relation(&server, "countries/AZ/relations/TR", "1992-01-01").await;
    assert_eq!(
        recognition(&tr_az, "TR"),
        (R::Recognized, "events/f01"),
        "F01"
    );
    assert_eq!(
        tr_az.recognitions[0].recognizer, "countries/AZ",
        "the first direction is from the first country in code order"
    );
    let history = server
        .relations()
        .list_history(ListHistoryRequest {
            parent: tr_am.into(),
            kinds: vec![
                HistoryEntryKind::Recognition as i32,
                HistoryEntryKind::Border as i32,
            ],
            ..Default::default()
        })
        .await
        .expect("history")
        .into_inner();
    let marks: Vec<(&str, i32)> = history
        .entries
        .iter()
        .map(|e| (e.record.as_str(), e.kind))
        .collect();
    assert_eq!(
        marks,
        [
            ("events/f03", HistoryEntryKind::Recognition as i32),
            ("events/f04", HistoryEntryKind::Border as i32)
        ],
        "recognitions and border changes have entry kinds of their own"
    );
}

/// The United States and Cuba, 1961–2016 (test records from the public
/// record): relations severed with no missions, interests sections from
/// 1977, embassies from 2015 headed by chargés d'affaires, Cuba's by an
/// ambassador from September 2015 while the United States' stays with a
/// chargé.
fn us_cuba() -> Vec<Event> {
    use EventKind as K;
    use RepresentationLevel as L;
    vec![
        with_levels(
            event("us-cu-1961", K::RelationsSevered, "1961-01-03", "US", "CU"),
            vec![level("US", "CU", L::None), level("CU", "US", L::None)],
        ),
        with_levels(
            event("us-cu-1977", K::Representation, "1977-09-01", "US", "CU"),
            vec![
                level("US", "CU", L::InterestsSection),
                level("CU", "US", L::InterestsSection),
            ],
        ),
        with_levels(
            event("us-cu-2015", K::RelationsRestored, "2015-07-20", "US", "CU"),
            vec![
                level("US", "CU", L::ChargeDAffaires),
                level("CU", "US", L::ChargeDAffaires),
            ],
        ),
        with_levels(
            event("cu-us-2015-09", K::Representation, "2015-09-17", "CU", "US"),
            vec![level("CU", "US", L::Ambassador)],
        ),
    ]
}

/// Türkiye and Cyprus: Cyprus recognises Türkiye, Türkiye does not
/// recognise the Republic of Cyprus and recognises the Turkish Republic of
/// Northern Cyprus (an actor); Panama withdraws its recognition of the
/// Republic of China.
fn recognitions() -> Vec<Event> {
    use EventKind as K;
    vec![
        event("cy-tr-1960", K::Recognition, "1960-08-16", "CY", "TR"),
        event("tr-cy-1983", K::NonRecognition, "1983-11-15", "TR", "CY"),
        event(
            "tr-trnc-1983",
            K::Recognition,
            "1983-11-15",
            "TR",
            "actors/trnc",
        ),
        event("pa-tw-1912", K::RelationsEstablished, "1912", "PA", "TW"),
        event("pa-tw-recognition", K::Recognition, "1912", "PA", "TW"),
        event(
            "pa-tw-2017",
            K::RecognitionWithdrawn,
            "2017-06-13",
            "PA",
            "TW",
        ),
    ]
}

async fn trnc(server: &TestServer) {
    server
        .actors()
        .create_actor(CreateActorRequest {
            actor: Some(Actor {
                display_name: "Turkish Republic of Northern Cyprus".into(),
                kind: ActorKind::DeFactoAuthority as i32,
                existence: vec![StatePeriod {
                    start_date: d("1983-11-15"),
                    end_date: None,
                }],
                sources: source(),
                ..Default::default()
            }),
            actor_id: "trnc".into(),
        })
        .await
        .expect("the actor");
}

#[tokio::test]
async fn each_direction_has_its_own_recognition_and_level_and_levels_never_set_the_status() {
    use RecognitionStanding as R;
    use RepresentationLevel as L;
    let server = spawn_seeded().await;
    trnc(&server).await;
    import_all(&server, records([us_cuba(), recognitions()].concat())).await;
    let us_cu = "countries/US/relations/CU";
    // (pair, day, side, its recognition or None, its mission or None,
    // status, why)
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        Option<R>,
        Option<L>,
        DiplomaticStatus,
        &'static str,
    );
    let cases: [Case; 10] = [
        (
            us_cu,
            "1960-12-31",
            "US",
            None,
            Some(L::Unknown),
            DiplomaticStatus::Unknown,
            "nothing recorded before the severance",
        ),
        (
            us_cu,
            "1970-01-01",
            "US",
            None,
            Some(L::None),
            DiplomaticStatus::Severed,
            "the severance said: no missions",
        ),
        (
            us_cu,
            "1980-01-01",
            "CU",
            None,
            Some(L::InterestsSection),
            DiplomaticStatus::Severed,
            "interests sections without relations: the status stays SEVERED",
        ),
        (
            us_cu,
            "1980-01-01",
            "US",
            None,
            Some(L::InterestsSection),
            DiplomaticStatus::Severed,
            "both ways",
        ),
        (
            us_cu,
            "2015-08-01",
            "US",
            None,
            Some(L::ChargeDAffaires),
            DiplomaticStatus::Established,
            "embassies reopened under chargés",
        ),
        (
            us_cu,
            "2016-01-01",
            "CU",
            None,
            Some(L::Ambassador),
            DiplomaticStatus::Established,
            "Cuba's ambassador from 2015-09-17",
        ),
        (
            us_cu,
            "2016-01-01",
            "US",
            None,
            Some(L::ChargeDAffaires),
            DiplomaticStatus::Established,
            "while the United States keeps a chargé",
        ),
        (
            "countries/CY/relations/TR",
            "2009-10-10",
            "TR",
            Some(R::NotRecognized),
            None,
            DiplomaticStatus::None,
            "one-sided: no relations without recognition (UNKNOWN before this)",
        ),
        (
            "countries/CY/relations/TR",
            "2009-10-10",
            "CY",
            Some(R::Recognized),
            None,
            DiplomaticStatus::None,
            "Cyprus recognises Türkiye",
        ),
        (
            "countries/PA/relations/TW",
            "2018-01-01",
            "PA",
            Some(R::Withdrawn),
            None,
            DiplomaticStatus::Severed,
            "a withdrawal after relations severs them",
        ),
    ];
    for (pair, day, side, recognised, level, status, why) in cases {
        let answer = relation(&server, pair, day).await;
        if let Some(expected) = recognised {
            assert_eq!(
                recognition(&answer, side).0,
                expected,
                "{pair} {day} {side}: {why}"
            );
        }
        if let Some(expected) = level {
            assert_eq!(
                mission(&answer, side),
                expected,
                "{pair} {day} {side}: {why}"
            );
        }
        assert_eq!(answer.diplomatic_status(), status, "{pair} {day}: {why}");
    }
    let panama = relation(&server, "countries/PA/relations/TW", "2016-12-31").await;
    assert_eq!(
        recognition(&panama, "PA"),
        (R::Recognized, "events/pa-tw-recognition"),
        "recognised until the withdrawal"
    );

    // Who recognises the de facto authority, and whom Türkiye does not.
    let of_trnc = server
        .relations()
        .list_recognitions(ListRecognitionsRequest {
            parent: "actors/trnc".into(),
            as_of: d("2020-01-01"),
            ..Default::default()
        })
        .await
        .expect("recognitions of an actor")
        .into_inner();
    let by: Vec<(&str, i32)> = of_trnc
        .recognitions
        .iter()
        .map(|r| (r.recognizer.as_str(), r.standing))
        .collect();
    assert_eq!(
        by,
        [("countries/TR", R::Recognized as i32)],
        "Türkiye alone"
    );
    let before = server
        .relations()
        .list_recognitions(ListRecognitionsRequest {
            parent: "actors/trnc".into(),
            as_of: d("1983-11-14"),
            ..Default::default()
        })
        .await
        .expect("before the declaration")
        .into_inner();
    assert!(before.recognitions.is_empty(), "nothing dated yet");
    let not_recognised = server
        .relations()
        .list_relations(ListRelationsRequest {
            parent: "countries/TR".into(),
            as_of: d("2009-10-10"),
            recognitions: vec![R::NotRecognized as i32, R::Withdrawn as i32],
            ..Default::default()
        })
        .await
        .expect("filtered by recognition")
        .into_inner();
    let names: Vec<&str> = not_recognised
        .relations
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["countries/TR/relations/CY"],
        "whom Türkiye does not recognise"
    );
    let interests = server
        .relations()
        .list_relations(ListRelationsRequest {
            parent: "countries/US".into(),
            as_of: d("1980-01-01"),
            representation_levels: vec![L::InterestsSection as i32],
            ..Default::default()
        })
        .await
        .expect("filtered by level")
        .into_inner();
    let names: Vec<&str> = interests
        .relations
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["countries/US/relations/CU"],
        "where the US keeps an interests section"
    );
    let levels = server
        .relations()
        .list_history(ListHistoryRequest {
            parent: us_cu.into(),
            kinds: vec![HistoryEntryKind::Representation as i32],
            ..Default::default()
        })
        .await
        .expect("history")
        .into_inner();
    assert_eq!(
        levels.entries.len(),
        4,
        "the severance and the restoration give levels too: {:?}",
        levels.entries.iter().map(|e| &e.record).collect::<Vec<_>>()
    );
    let dir = server.stop().await;
    assert_consistent(dir.path()).await;
}

#[tokio::test]
async fn levels_and_recognitions_off_the_scale_or_for_a_side_that_did_not_exist_are_refused() {
    use EventKind as K;
    use RepresentationLevel as L;
    let server = spawn_seeded().await;
    trnc(&server).await;
    let cases: Vec<(Event, &str, &str)> = vec![
        (
            with_levels(
                event("b1", K::Representation, "2000", "US", "CU"),
                vec![level("US", "CU", L::Unknown)],
            ),
            "event.representation[0].level",
            "UNKNOWN is an answer, not a level",
        ),
        (
            with_levels(
                event("b2", K::Representation, "2000", "US", "CU"),
                vec![RepresentationChange {
                    level: 42,
                    ..level("US", "CU", L::None)
                }],
            ),
            "event.representation[0].level",
            "not on the scale",
        ),
        (
            event("b3", K::Representation, "2000", "US", "CU"),
            "event.representation",
            "a REPRESENTATION event gives a level",
        ),
        (
            with_levels(
                event("b4", K::BorderClosed, "2000", "US", "CU"),
                vec![level("US", "CU", L::None)],
            ),
            "event.representation",
            "a border closure sets no level",
        ),
        (
            with_levels(
                event("b5", K::Representation, "2000", "US", "CU"),
                vec![level("US", "FR", L::Ambassador)],
            ),
            "event.representation[0].receiving",
            "France is not one of the event's states",
        ),
        (
            with_levels(
                event("b6", K::Representation, "2000", "US", "CU"),
                vec![level("US", "US", L::Ambassador)],
            ),
            "event.representation[0].receiving",
            "no mission in itself",
        ),
        (
            event("b7", K::Recognition, "1950", "TR", "AM"),
            "event.counterparts[0]",
            "Armenia did not exist in 1950",
        ),
        (
            with_levels(
                event("b8", K::Representation, "1960", "US", "AM"),
                vec![level("US", "AM", L::Ambassador)],
            ),
            "event.representation[0].receiving",
            "no mission in a state before it existed",
        ),
        (
            event("b9", K::Recognition, "1975", "TR", "actors/trnc"),
            "event.counterparts[0]",
            "the TRNC was declared in 1983",
        ),
        (
            event("b10", K::BorderClosed, "2000", "US", "actors/trnc"),
            "event.counterparts[0]",
            "only recognitions name an actor as counterpart",
        ),
    ];
    for (e, field, why) in cases {
        let id = e.name.trim_start_matches("events/").to_string();
        let status = server
            .events()
            .create_event(CreateEventRequest {
                event: Some(e),
                event_id: id.clone(),
            })
            .await
            .expect_err(why);
        assert_bad_field(&status, field);
        let absent = server
            .events()
            .get_event(GetEventRequest {
                name: format!("events/{id}"),
            })
            .await
            .expect_err("nothing written");
        assert_eq!(absent.code(), Code::NotFound, "{why}");
    }
    let status = server
        .relations()
        .list_relations(ListRelationsRequest {
            parent: "countries/TR".into(),
            representation_levels: vec![0],
            ..Default::default()
        })
        .await
        .expect_err("an UNSPECIFIED filter value");
    assert_bad_field(&status, "representation_levels[0]");
    let status = server
        .relations()
        .list_recognitions(ListRecognitionsRequest {
            parent: "actors/nobody".into(),
            ..Default::default()
        })
        .await
        .expect_err("an unknown actor");
    assert_bad_field(&status, "parent");
}

fn import_dipex(dir: &std::path::Path, file: &str, extra: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_diplomacy"))
        .args(["import", "--format", "cow-dipex", "--data-dir"])
        .arg(dir)
        .args(extra)
        .arg(format!(
            "{}/tests/fixtures/cow-dipex/{file}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .output()
        .expect("import runs")
}

#[tokio::test(flavor = "multi_thread")]
async fn diplomatic_exchange_snapshots_import_once_and_hold_until_the_next() {
    use RepresentationLevel as L;
    let dir = spawn_seeded().await.stop().await;
    let first = import_dipex(dir.path(), "dipex-fixture.csv", &[]);
    let stderr = String::from_utf8_lossy(&first.stderr).to_string();
    assert!(first.status.success(), "{stderr}");
    assert!(
        stderr.contains("10 Diplomatic Exchange rows: 5 repeat a snapshot from the other side, 1 record no level, 0 bad rows skipped"),
        "{stderr}"
    );
    let second = import_dipex(dir.path(), "dipex-fixture.csv", &[]);
    let again = String::from_utf8_lossy(&second.stderr).to_string();
    assert!(second.status.success(), "{again}");
    assert!(
        again.contains("0 written"),
        "importing twice changes nothing: {again}"
    );
    let refused = import_dipex(dir.path(), "dipex-bad-rows.csv", &[]);
    let why = String::from_utf8_lossy(&refused.stderr).to_string();
    assert!(
        !refused.status.success(),
        "all or nothing by default: {why}"
    );
    assert!(
        why.contains("DR_at_1") && why.contains("999"),
        "each bad row with its reason: {why}"
    );

    let server = spawn(dir, false).await;
    let us_am = "countries/US/relations/AM";
    // (day, Armenia's mission in the US, the US mission in Armenia, why)
    let cases = [
        (
            "1994-12-31",
            L::Unknown,
            L::Unknown,
            "before the first snapshot",
        ),
        (
            "1995-06-01",
            L::Ambassador,
            L::Minister,
            "inside the snapshot year: DR_at_1 is side 2's mission in side 1",
        ),
        (
            "1997-06-01",
            L::Ambassador,
            L::Minister,
            "between snapshots the last one holds",
        ),
        (
            "2003-01-01",
            L::Ambassador,
            L::Ambassador,
            "after the last snapshot, without end",
        ),
    ];
    for (day, armenia_in_us, us_in_armenia, why) in cases {
        let answer = relation(&server, us_am, day).await;
        assert_eq!(mission(&answer, "AM"), armenia_in_us, "{day}: {why}");
        assert_eq!(mission(&answer, "US"), us_in_armenia, "{day}: {why}");
        assert_eq!(
            answer.diplomatic_status(),
            DiplomaticStatus::Unknown,
            "{day}: levels alone never set the status"
        );
    }
    let inside = relation(&server, us_am, "1995-06-01").await;
    assert!(
        inside
            .uncertain_records
            .contains(&"events/cow-dipex-2-371-1995".to_string()),
        "a snapshot known to its year leaves a day inside it open"
    );
    let none = relation(&server, "countries/CU/relations/AM", "2001-01-01").await;
    assert_eq!(
        mission(&none, "CU"),
        L::None,
        "0: no evidence of an exchange"
    );
    assert_eq!(
        none.diplomatic_status(),
        DiplomaticStatus::Unknown,
        "a level of NONE does not make the status NONE"
    );
    let nothing = relation(&server, "countries/US/relations/AZ", "2001-01-01").await;
    assert_eq!(mission(&nothing, "US"), L::Unknown, "-9: not recorded");
    let snapshot = server
        .events()
        .get_event(GetEventRequest {
            name: "events/cow-dipex-2-371-1995".into(),
        })
        .await
        .expect("a deterministic id")
        .into_inner();
    assert_eq!(snapshot.start_date, d("1995"), "year precision");
    assert!(
        snapshot.sources[0].title.contains("version 2006.1"),
        "the dataset and its version: {:?}",
        snapshot.sources
    );
    let dir = server.stop().await;

    let skipped = import_dipex(dir.path(), "dipex-bad-rows.csv", &["--best-effort"]);
    let report = String::from_utf8_lossy(&skipped.stderr).to_string();
    assert!(skipped.status.success(), "{report}");
    assert!(
        report.contains("skipped line 12") && report.contains("skipped line 13"),
        "bad rows skipped with their lines: {report}"
    );
    let wrong = std::process::Command::new(env!("CARGO_BIN_EXE_diplomacy"))
        .args(["import", "--format", "cow-dipex", "--data-dir"])
        .arg(dir.path())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/ucdp/acd-fixture.csv"
        ))
        .output()
        .expect("import runs");
    let refusal = String::from_utf8_lossy(&wrong.stderr).to_string();
    assert!(!wrong.status.success(), "{refusal}");
    assert!(
        refusal.contains("ccode1,ccode2,year,DR_at_1,DR_at_2,DE,version"),
        "refused at the header, naming the expected columns: {refusal}"
    );
    assert_consistent(dir.path()).await;
}

#[tokio::test]
async fn recognitions_of_an_actor_page_in_recognizer_order() {
    use EventKind as K;
    let server = spawn_seeded().await;
    trnc(&server).await;
    import_all(
        &server,
        records(vec![
            event("trnc-tr", K::Recognition, "1983-11-15", "TR", "actors/trnc"),
            event("trnc-pk", K::Recognition, "1983-11-16", "PK", "actors/trnc"),
            event(
                "trnc-pk-w",
                K::RecognitionWithdrawn,
                "1983-11-18",
                "PK",
                "actors/trnc",
            ),
            event("trnc-bd", K::Recognition, "1983-11-16", "BD", "actors/trnc"),
            event(
                "trnc-bd-w",
                K::RecognitionWithdrawn,
                "1983-11-18",
                "BD",
                "actors/trnc",
            ),
        ]),
    )
    .await;
    let mut seen = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = server
            .relations()
            .list_recognitions(ListRecognitionsRequest {
                parent: "actors/trnc".into(),
                as_of: d("2000-01-01"),
                page_size: 1,
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await
            .expect("a page")
            .into_inner();
        seen.extend(
            page.recognitions
                .iter()
                .map(|r| (r.recognizer.clone(), r.standing())),
        );
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    use RecognitionStanding as R;
    assert_eq!(
        seen,
        [
            ("countries/BD".to_string(), R::Withdrawn),
            ("countries/PK".to_string(), R::Withdrawn),
            ("countries/TR".to_string(), R::Recognized),
        ],
        "two recognitions withdrawn within days (test records, dates not claimed as history): one a page, in code order, each once"
    );
    let recognised = server
        .relations()
        .list_recognitions(ListRecognitionsRequest {
            parent: "actors/trnc".into(),
            as_of: d("1983-11-17"),
            standings: vec![R::Recognized as i32],
            ..Default::default()
        })
        .await
        .expect("filtered")
        .into_inner();
    assert_eq!(
        recognised.recognitions.len(),
        3,
        "on 1983-11-17 all three recognised it"
    );
    server.stop().await;
}
