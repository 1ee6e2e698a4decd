//! Hostile input: random and mutated requests over the wire get a precise
//! status — never INTERNAL, never a panic — and rejected writes change
//! nothing. `PROPTEST_CASES` raises the budget for a longer run.

use bytes::{Buf, BufMut};
use diplomacy::pb::diplomacy::v1::*;
use diplomacy::pb::google::r#type::Date;
use proptest::prelude::*;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::{Code, Status};

use crate::helpers::{spawn_seeded, TestServer};
use crate::records::{new_treaty, source};

/// Codes a bad request may get; anything else is a server fault. ABORTED is
/// a stale etag on an existing record (a random name can be a real one).
const CLIENT_CODES: [Code; 7] = [
    Code::InvalidArgument,
    Code::NotFound,
    Code::FailedPrecondition,
    Code::AlreadyExists,
    Code::ResourceExhausted,
    Code::OutOfRange,
    Code::Aborted,
];

fn assert_precise(result: &Result<(), Status>, what: &str) {
    if let Err(status) = result {
        assert!(CLIENT_CODES.contains(&status.code()), "{what}: {status:?}");
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The store revision, read cheaply (treaties only).
async fn revision(server: &TestServer) -> i64 {
    use tokio_stream::StreamExt;
    let mut stream = server
        .records()
        .export_records(ExportRecordsRequest {
            kinds: vec![RecordKind::Treaty as i32],
        })
        .await
        .expect("export")
        .into_inner();
    stream
        .next()
        .await
        .expect("one message")
        .expect("ok")
        .revision
}

fn any_name() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "countries/[A-Z]{2}/relations/[A-Z]{2}",
        "countries/[A-Za-z0-9]{0,3}(/relations/[A-Za-z]{0,3})?",
        "(treaties|events|meetings|countries)/[a-zA-Z0-9_-]{0,70}",
        Just(String::new()),
        Just("countries/TR/relations/TR".to_string()),
    ]
}

fn any_date() -> impl Strategy<Value = Option<Date>> {
    prop_oneof![
        Just(None),
        (any::<i32>(), any::<i32>(), any::<i32>()).prop_map(|(year, month, day)| Some(Date {
            year,
            month,
            day
        })),
        (
            prop_oneof![Just(0), Just(1), Just(9999), Just(10000), Just(-1)],
            -1..14i32,
            -1..33i32
        )
            .prop_map(|(year, month, day)| Some(Date { year, month, day })),
    ]
}

fn any_token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        any::<String>(),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(|b| {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
        }),
    ]
}

fn any_countries() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(
        prop_oneof!["countries/(AM|AZ|TR|QQ|am)", any::<String>()],
        0..6,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_queries_get_precise_statuses(
        name in any_name(),
        as_of in any_date(),
        start in any_date(),
        end in any_date(),
        kinds in proptest::collection::vec(any::<i32>(), 0..4),
        page_size in prop_oneof![any::<i32>(), -2..1002i32],
        token in any_token(),
        view in prop_oneof![any::<i32>(), -1..4i32],
    ) {
        let rt = runtime();
        rt.block_on(async {
            let server = spawn_seeded().await;
            let mut relations = server.relations();
            let r = relations.get_relation(GetRelationRequest { name: name.clone(), as_of, view }).await.map(drop);
            assert_precise(&r, "GetRelation");
            let r = relations
                .list_history(ListHistoryRequest { parent: name.clone(), start_date: start, end_date: end, kinds: kinds.clone(), page_size, page_token: token.clone() })
                .await
                .map(drop);
            assert_precise(&r, "ListHistory");
            let r = relations
                .list_relations(ListRelationsRequest { parent: name.clone(), as_of, diplomatic_statuses: kinds.clone(), page_size, page_token: token.clone(), view, recognitions: kinds.clone(), representation_levels: kinds.clone() })
                .await
                .map(drop);
            assert_precise(&r, "ListRelations");
            let r = relations
                .list_recognitions(ListRecognitionsRequest { parent: name.clone(), as_of, standings: kinds, page_size, page_token: token.clone() })
                .await
                .map(drop);
            assert_precise(&r, "ListRecognitions");
            let r = server.countries().list_countries(ListCountriesRequest { page_size, page_token: token, ..Default::default() }).await.map(drop);
            assert_precise(&r, "ListCountries");
            let r = server.countries().search_countries(SearchCountriesRequest { query: name.clone(), max_results: page_size, current_only: view % 2 == 0 }).await.map(drop);
            assert_precise(&r, "SearchCountries");
            let r = server.treaties().get_treaty(GetTreatyRequest { name }).await.map(drop);
            assert_precise(&r, "GetTreaty");
        });
    }

    #[test]
    fn random_writes_are_refused_precisely_and_change_nothing(
        title in prop_oneof![any::<String>(), Just(String::new()), Just("x".repeat(1 << 20))],
        kind in prop_oneof![any::<i32>(), 0..9i32],
        status in prop_oneof![any::<i32>(), 0..6i32],
        signed in any_date(),
        in_force in any_date(),
        parties in any_countries(),
        mediators in any_countries(),
        id in prop_oneof!["[a-z][a-z0-9-]{0,10}", any::<String>()],
    ) {
        let rt = runtime();
        rt.block_on(async {
            let server = spawn_seeded().await;
            let before = revision(&server).await;
            let treaty = Treaty {
                title,
                kind,
                status,
                signed_date: signed,
                entry_into_force_date: in_force,
                parties: parties.into_iter().map(|country| TreatyParty { country, ..Default::default() }).collect(),
                mediators,
                sources: vec![source()],
                ..Default::default()
            };
            let result = server.treaties().create_treaty(CreateTreatyRequest { treaty: Some(treaty), treaty_id: id }).await;
            match result {
                Ok(created) => assert!(created.get_ref().revision > before),
                Err(status) => {
                    assert_precise(&Err(status), "CreateTreaty");
                    assert_eq!(revision(&server).await, before, "a rejected write changes nothing");
                }
            }
        });
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn every_other_rpc_answers_random_input_precisely(
        name in any_name(),
        text in prop_oneof![any::<String>(), Just(String::new())],
        date in any_date(),
        number in any::<i64>(),
        kinds in proptest::collection::vec(any::<i32>(), 0..4),
        countries in any_countries(),
        paths in proptest::collection::vec(prop_oneof![any::<String>(), "[a-z_.]{1,20}"], 0..4),
        token in any_token(),
        page_size in any::<i32>(),
    ) {
        let rt = runtime();
        rt.block_on(async {
            let server = spawn_seeded().await;
            let before = revision(&server).await;
            let mask = Some(prost_types::FieldMask { paths: paths.clone() });
            let event = Event {
                name: name.clone(),
                title: text.clone(),
                kind: kinds.first().copied().unwrap_or_default(),
                start_date: date,
                end_date: date,
                actor: countries.first().cloned().unwrap_or_default(),
                counterparts: countries.clone(),
                related_records: vec![name.clone()],
                sources: vec![Source { title: text.clone(), url: text.clone(), publish_date: date, ..Default::default() }],
                etag: token.clone(),
                ..Default::default()
            };
            let meeting = Meeting {
                name: name.clone(),
                title: text.clone(),
                kind: kinds.first().copied().unwrap_or_default(),
                start_date: date,
                host_country: text.clone(),
                participants: countries.iter().map(|c| Participant { person: text.clone(), country: c.clone(), ..Default::default() }).collect(),
                mediators: countries.clone(),
                sources: vec![source()],
                ..Default::default()
            };
            let country = Country { name: name.clone(), display_name: text.clone(), alpha3: text.clone(), numeric_code: number as u32, start_date: date, end_date: date, successors: countries.clone(), sources: vec![source()], ..Default::default() };

            let mut writes = 0i64;
            let mut events = server.events();
            assert_precise(&events.create_event(CreateEventRequest { event: Some(event.clone()), event_id: text.clone() }).await.map(drop), "CreateEvent"); writes += 1;
            assert_precise(&events.update_event(UpdateEventRequest { event: Some(event.clone()), update_mask: mask.clone() }).await.map(drop), "UpdateEvent"); writes += 1;
            assert_precise(&events.delete_event(DeleteEventRequest { name: name.clone(), etag: token.clone() }).await.map(drop), "DeleteEvent"); writes += 1;
            assert_precise(&events.list_events(ListEventsRequest { page_size, page_token: token.clone(), country: text.clone() }).await.map(drop), "ListEvents");
            let mut meetings = server.meetings();
            assert_precise(&meetings.create_meeting(CreateMeetingRequest { meeting: Some(meeting.clone()), meeting_id: text.clone() }).await.map(drop), "CreateMeeting"); writes += 1;
            assert_precise(&meetings.update_meeting(UpdateMeetingRequest { meeting: Some(meeting), update_mask: mask.clone() }).await.map(drop), "UpdateMeeting"); writes += 1;
            assert_precise(&meetings.list_meetings(ListMeetingsRequest { page_size, page_token: token.clone(), participant: text.clone() }).await.map(drop), "ListMeetings");
            let mut countries_client = server.countries();
            assert_precise(&countries_client.create_country(CreateCountryRequest { country: Some(country.clone()), country_id: text.clone() }).await.map(drop), "CreateCountry"); writes += 1;
            assert_precise(&countries_client.update_country(UpdateCountryRequest { country: Some(country), update_mask: mask }).await.map(drop), "UpdateCountry"); writes += 1;
            assert_precise(&countries_client.delete_country(DeleteCountryRequest { name: name.clone(), etag: token.clone() }).await.map(drop), "DeleteCountry"); writes += 1;
            assert_precise(&server.treaties().list_treaties(ListTreatiesRequest { page_size, page_token: token.clone(), party: text.clone() }).await.map(drop), "ListTreaties");
            assert_precise(&server.treaties().delete_treaty(DeleteTreatyRequest { name: name.clone(), etag: token.clone() }).await.map(drop), "DeleteTreaty"); writes += 1;

            let stream = server.relations().stream_history(StreamHistoryRequest { parent: name.clone(), start_date: date, end_date: date, kinds: kinds.clone() }).await;
            assert_precise(&stream.map(drop), "StreamHistory");
            let watch = server.records().watch_changes(WatchChangesRequest { from_revision: number, kinds: kinds.clone(), countries: countries.clone() }).await;
            assert_precise(&watch.map(drop), "WatchChanges");
            let export = server.records().export_records(ExportRecordsRequest { kinds: kinds.clone() }).await;
            assert_precise(&export.map(drop), "ExportRecords");
            let import = server
                .records()
                .import_records(tokio_stream::iter(vec![ImportRecordsRequest {
                    mode: kinds.first().copied().unwrap_or_default(),
                    validate_only: number % 2 == 0,
                    records: vec![Record { kind: Some(record::Kind::Event(event)) }, Record { kind: None }],
                }]))
                .await;
            assert_precise(&import.map(drop), "ImportRecords");
            writes += 1;

            // At most one revision per write call (an import of one valid
            // record included): refused calls added none.
            let after = revision(&server).await;
            assert!(after - before <= writes, "{} revisions from {writes} write calls", after - before);
        });
    }
}

#[tokio::test]
async fn oversized_and_overlong_input_is_refused() {
    let server = spawn_seeded().await;
    let before = revision(&server).await;
    let mut meetings = server.meetings();
    let crowd = Meeting {
        title: "Crowd".into(),
        kind: MeetingKind::Multilateral as i32,
        start_date: Some(Date {
            year: 2020,
            month: 1,
            day: 1,
        }),
        participants: (0..10_000)
            .map(|i| Participant {
                person: format!("P{i}"),
                country: ["countries/FR", "countries/DE"][i % 2].into(),
                ..Default::default()
            })
            .collect(),
        sources: vec![source()],
        ..Default::default()
    };
    let status = meetings
        .create_meeting(CreateMeetingRequest {
            meeting: Some(crowd),
            meeting_id: "crowd".into(),
        })
        .await
        .expect_err("10,000 participants");
    assert_eq!(status.code(), Code::InvalidArgument);

    let status = server
        .treaties()
        .create_treaty(CreateTreatyRequest {
            treaty: Some(Treaty {
                summary: "y".repeat(5 << 20),
                ..new_treaty()
            }),
            treaty_id: "huge".into(),
        })
        .await
        .expect_err("over the message size limit");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(revision(&server).await, before);
}

/// Sends raw bytes as a request message.
#[derive(Clone, Default)]
struct RawCodec;
struct RawEncoder;
struct RawDecoder;

impl Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawDecoder {
    type Item = Vec<u8>;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let bytes = src.chunk().to_vec();
        src.advance(bytes.len());
        Ok(Some(bytes))
    }
}

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

async fn raw_call(server: &TestServer, path: &'static str, body: Vec<u8>) -> Status {
    let mut grpc = tonic::client::Grpc::new(server.channel.clone());
    grpc.ready().await.expect("ready");
    grpc.unary(
        tonic::Request::new(body),
        http::uri::PathAndQuery::from_static(path),
        RawCodec,
    )
    .await
    .expect_err("refused")
}

#[tokio::test]
async fn undecodable_bytes_on_the_wire_are_invalid_arguments() {
    let server = spawn_seeded().await;
    // Field 1 (name, a string) holding bytes that are not UTF-8.
    let status = raw_call(
        &server,
        "/diplomacy.v1.CountryService/GetCountry",
        vec![0x0a, 0x02, 0xff, 0xfe],
    )
    .await;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    // A truncated message.
    let status = raw_call(
        &server,
        "/diplomacy.v1.RelationService/GetRelation",
        vec![0x0a, 0x10, b'c'],
    )
    .await;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
}
