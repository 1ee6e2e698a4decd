//! Many writers on overlapping pairs while readers query: no torn reads, and
//! the final state passes `check`.

use std::sync::Arc;
use std::time::Duration;

use diplomacy::pb::diplomacy::v1::*;
use tokio::sync::Mutex;
use tonic::Code;

use crate::helpers::{assert_consistent, date, spawn_empty, TestServer};
use crate::records::source;

const COUNTRIES: [&str; 4] = ["AM", "AZ", "TR", "RU"];

fn pair(i: usize) -> (String, String) {
    let a = i % COUNTRIES.len();
    let b = (a + 1 + (i / COUNTRIES.len()) % (COUNTRIES.len() - 1)) % COUNTRIES.len();
    (
        format!("countries/{}", COUNTRIES[a]),
        format!("countries/{}", COUNTRIES[b]),
    )
}

async fn write_many(
    server: &TestServer,
    writer: usize,
    created: Arc<Mutex<Vec<(String, String, String)>>>,
) {
    let mut meetings = server.meetings();
    let mut events = server.events();
    for i in 0..60 {
        let (a, b) = pair(writer * 7 + i);
        let id = format!("w{writer}-{i}");
        let name = if i % 2 == 0 {
            meetings
                .create_meeting(CreateMeetingRequest {
                    meeting: Some(Meeting {
                        title: id.clone(),
                        kind: MeetingKind::BilateralTalks as i32,
                        start_date: date(2000 + (i % 20) as i32, 1 + (i % 12) as i32, 1),
                        participants: vec![
                            Participant {
                                person: "A".into(),
                                country: a.clone(),
                                ..Default::default()
                            },
                            Participant {
                                person: "B".into(),
                                country: b.clone(),
                                ..Default::default()
                            },
                        ],
                        sources: vec![source()],
                        ..Default::default()
                    }),
                    meeting_id: id,
                })
                .await
                .expect("create meeting")
                .into_inner()
                .name
        } else {
            events
                .create_event(CreateEventRequest {
                    event: Some(Event {
                        title: id.clone(),
                        kind: EventKind::RelationsEstablished as i32,
                        start_date: date(2000 + (i % 20) as i32, 0, 0),
                        actor: a.clone(),
                        counterparts: vec![b.clone()],
                        sources: vec![source()],
                        ..Default::default()
                    }),
                    event_id: id,
                })
                .await
                .expect("create event")
                .into_inner()
                .name
        };
        created.lock().await.push((a, b, name));
    }
}

/// Every entry a history page shows has its record, and every relation's
/// parts agree with each other.
async fn read_until(server: &TestServer, done: Arc<std::sync::atomic::AtomicBool>) -> usize {
    let mut relations = server.relations();
    let mut meetings = server.meetings();
    let mut events = server.events();
    let mut reads = 0;
    let mut i = 0;
    while !done.load(std::sync::atomic::Ordering::Acquire) {
        i += 1;
        let (a, b) = pair(i);
        let pair_name = format!("{a}/relations/{}", b.trim_start_matches("countries/"));
        let page = relations
            .list_history(ListHistoryRequest {
                parent: pair_name.clone(),
                page_size: 1000,
                ..Default::default()
            })
            .await
            .expect("history")
            .into_inner();
        for entry in page.entries {
            let found = if entry.record.starts_with("meetings/") {
                meetings
                    .get_meeting(GetMeetingRequest {
                        name: entry.record.clone(),
                    })
                    .await
                    .map(drop)
            } else {
                events
                    .get_event(GetEventRequest {
                        name: entry.record.clone(),
                    })
                    .await
                    .map(drop)
            };
            assert!(
                found.is_ok(),
                "{} is indexed but has no record",
                entry.record
            );
            reads += 1;
        }
        let relation = relations
            .get_relation(GetRelationRequest {
                name: pair_name,
                as_of: date(2030, 1, 1),
                ..Default::default()
            })
            .await
            .expect("relation")
            .into_inner();
        assert_eq!(
            relation.latest_meeting.is_some(),
            relation.meeting_count > 0,
            "{relation:?}"
        );
        let listed = meetings
            .list_meetings(ListMeetingsRequest {
                participant: a.clone(),
                page_size: 1000,
                ..Default::default()
            })
            .await;
        assert!(
            listed.as_ref().err().map(|s| s.code()) != Some(Code::DataLoss),
            "{listed:?}"
        );
        reads += 2;
    }
    reads
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_and_readers_never_see_half_a_write() {
    let server = Arc::new(spawn_empty().await);
    let created = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (server, done) = (Arc::clone(&server), Arc::clone(&done));
            tokio::spawn(async move { read_until(&server, done).await })
        })
        .collect();
    let writers: Vec<_> = (0..6)
        .map(|w| {
            let (server, created) = (Arc::clone(&server), Arc::clone(&created));
            tokio::spawn(async move { write_many(&server, w, created).await })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer");
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    done.store(true, std::sync::atomic::Ordering::Release);
    let mut reads = 0;
    for reader in readers {
        reads += reader.await.expect("reader");
    }
    assert!(
        reads > 50,
        "the readers ran during the writes ({reads} reads)"
    );

    // Every acknowledged write is in its pair's timeline.
    let mut relations = server.relations();
    for (a, b, name) in created.lock().await.iter() {
        let page = relations
            .list_history(ListHistoryRequest {
                parent: format!("{a}/relations/{}", b.trim_start_matches("countries/")),
                page_size: 1000,
                ..Default::default()
            })
            .await
            .expect("history")
            .into_inner();
        assert!(
            page.entries.iter().any(|e| &e.record == name),
            "{name} is missing from its timeline"
        );
    }

    let server = Arc::into_inner(server).expect("no other handle");
    let dir = server.stop().await;
    let report = assert_consistent(dir.path()).await;
    assert_eq!(
        report.records,
        diplomacy::ingest::builtin_country_records()
            .expect("built-in countries")
            .len() as u64
            + 360,
        "built-in countries and every write"
    );
}
