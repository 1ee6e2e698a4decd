//! Data lifecycle: bulk import and export, the change feed, etags.

use std::collections::BTreeSet;
use std::time::Duration;

use diplomacy::pb::diplomacy::v1::*;
use diplomacy::store::WriterOptions;
use prost_types::FieldMask;
use tokio_stream::StreamExt;
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::{date, spawn_empty, spawn_seeded, spawn_with, TestServer};
use crate::records::source;

fn event(id: usize, a: &str, b: &str) -> Record {
    Record {
        kind: Some(record::Kind::Event(Event {
            name: format!("events/bulk-{id}"),
            title: format!("Bulk event {id}"),
            kind: EventKind::Other as i32,
            start_date: date(1950 + (id % 70) as i32, 1 + (id % 12) as i32, 0),
            actor: format!("countries/{a}"),
            counterparts: vec![format!("countries/{b}")],
            sources: vec![source()],
            ..Default::default()
        })),
    }
}

const PAIRS: [(&str, &str); 4] = [("FR", "DE"), ("AM", "AZ"), ("US", "CA"), ("JP", "KR")];

fn bulk(n: usize) -> Vec<Record> {
    (0..n)
        .map(|i| {
            let (a, b) = PAIRS[i % PAIRS.len()];
            event(i, a, b)
        })
        .collect()
}

async fn import(
    server: &TestServer,
    records: Vec<Record>,
    mode: ImportMode,
    validate_only: bool,
) -> ImportRecordsResponse {
    let messages: Vec<ImportRecordsRequest> = records
        .chunks(500)
        .map(|chunk| ImportRecordsRequest {
            mode: mode as i32,
            validate_only,
            records: chunk.to_vec(),
        })
        .collect();
    server
        .records()
        .import_records(tokio_stream::iter(messages))
        .await
        .expect("ImportRecords")
        .into_inner()
}

async fn export(server: &TestServer) -> (Vec<Record>, i64) {
    let mut stream = server
        .records()
        .export_records(ExportRecordsRequest::default())
        .await
        .expect("ExportRecords")
        .into_inner();
    let mut records = Vec::new();
    let mut revision = 0;
    while let Some(message) = stream.next().await {
        let message = message.expect("export message");
        revision = message.revision;
        records.extend(message.records);
    }
    (records, revision)
}

async fn event_count(server: &TestServer) -> usize {
    let (records, _) = export(server).await;
    records
        .iter()
        .filter(|r| matches!(r.kind, Some(record::Kind::Event(_))))
        .count()
}

#[tokio::test]
async fn all_or_nothing_import_with_one_bad_record_writes_nothing_and_names_it() {
    let server = spawn_empty().await;
    let mut records = bulk(3000);
    if let Some(record::Kind::Event(e)) = &mut records[1234].kind {
        e.start_date = date(2023, 2, 29);
    }
    let report = import(&server, records, ImportMode::AllOrNothing, false).await;
    assert_eq!(report.received, 3000);
    assert_eq!(report.written, 0);
    assert_eq!(report.errors.len(), 1);
    let error = &report.errors[0];
    assert_eq!(
        (error.index, error.name.as_str(), error.code.as_str()),
        (1234, "events/bulk-1234", "INVALID_ARGUMENT")
    );
    assert_eq!(error.field_violations[0].field, "event.start_date");
    assert_eq!(event_count(&server).await, 0, "nothing written");
}

#[tokio::test]
async fn best_effort_import_writes_exactly_the_valid_records_and_is_idempotent() {
    let server = spawn_empty().await;
    let mut records = bulk(2000);
    if let Some(record::Kind::Event(e)) = &mut records[10].kind {
        e.counterparts = vec!["countries/QQ".into()];
    }
    if let Some(record::Kind::Event(e)) = &mut records[1999].kind {
        e.title.clear();
    }
    let report = import(&server, records.clone(), ImportMode::BestEffort, false).await;
    assert_eq!(report.written, 1998);
    let failed: Vec<(i64, &str)> = report
        .errors
        .iter()
        .map(|e| (e.index, e.code.as_str()))
        .collect();
    assert_eq!(
        failed,
        [(10, "FAILED_PRECONDITION"), (1999, "INVALID_ARGUMENT")]
    );
    assert_eq!(event_count(&server).await, 1998);

    let again = import(&server, records, ImportMode::BestEffort, false).await;
    assert_eq!(
        (again.written, again.unchanged),
        (0, 1998),
        "re-running an import changes nothing"
    );
    assert_eq!(again.revision, report.revision);
}

#[tokio::test]
async fn validate_only_writes_nothing() {
    let server = spawn_empty().await;
    let report = import(&server, bulk(100), ImportMode::AllOrNothing, true).await;
    assert_eq!(
        (report.received, report.written, report.errors.len()),
        (100, 0, 0)
    );
    assert_eq!(event_count(&server).await, 0);
}

#[tokio::test]
async fn export_then_import_into_an_empty_store_gives_an_identical_export() {
    let first = spawn_seeded().await;
    import(&first, bulk(500), ImportMode::AllOrNothing, false).await;
    let (exported, revision) = export(&first).await;
    assert!(revision > 0);
    assert!(exported.len() > 700);
    assert!(exported.iter().all(|r| {
        let json = format!("{r:?}");
        !json.contains("revision: 1") && !json.contains("etag: \"\\\"")
    }));

    let second = spawn_empty().await;
    let report = import(&second, exported.clone(), ImportMode::AllOrNothing, false).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let (again, _) = export(&second).await;
    assert_eq!(again, exported);
}

async fn watch(server: &TestServer, from: i64) -> tonic::Streaming<Change> {
    server
        .records()
        .watch_changes(WatchChangesRequest {
            from_revision: from,
            ..Default::default()
        })
        .await
        .expect("WatchChanges")
        .into_inner()
}

fn new_event(id: usize) -> CreateEventRequest {
    let Some(record::Kind::Event(e)) = event(id, "FR", "DE").kind else {
        unreachable!()
    };
    CreateEventRequest {
        event: Some(e),
        event_id: format!("w-{id}"),
    }
}

#[tokio::test]
async fn a_watcher_that_resumes_from_its_last_revision_sees_every_change_exactly_once() {
    let server = spawn_seeded().await;
    let start = server
        .records()
        .export_records(ExportRecordsRequest::default())
        .await
        .expect("export")
        .into_inner()
        .next()
        .await
        .expect("one message")
        .expect("ok")
        .revision;

    // Four concurrent writers, 200 creates and 52 deletes in all.
    let mut writers = Vec::new();
    for w in 0..4 {
        let mut events = server.events();
        writers.push(tokio::spawn(async move {
            for i in 0..50 {
                let id = w * 1000 + i;
                events.create_event(new_event(id)).await.expect("create");
                if i % 4 == 0 {
                    events
                        .delete_event(DeleteEventRequest {
                            name: format!("events/w-{id}"),
                            ..Default::default()
                        })
                        .await
                        .expect("delete");
                }
            }
        }));
    }

    // The watcher reads a while, disconnects, and resumes from its last revision.
    let mut seen = Vec::new();
    let mut from = start;
    for _session in 0..3 {
        let mut stream = watch(&server, from).await;
        let deadline = tokio::time::sleep(Duration::from_millis(300));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                () = &mut deadline => break,
                change = stream.next() => {
                    let change = change.expect("stream open").expect("change");
                    from = change.revision;
                    seen.push(change);
                }
            }
        }
    }
    for writer in writers {
        writer.await.expect("writer");
    }
    let mut stream = watch(&server, from).await;
    while seen.len() < 252 {
        let change = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("the remaining changes arrive")
            .expect("open")
            .expect("change");
        seen.push(change);
    }

    let revisions: Vec<i64> = seen.iter().map(|c| c.revision).collect();
    assert!(
        revisions.windows(2).all(|w| w[0] + 1 == w[1]),
        "no gaps, no duplicates: {revisions:?}"
    );
    assert_eq!(revisions[0], start + 1);
    let deletes = seen
        .iter()
        .filter(|c| c.r#type() == ChangeType::Deleted)
        .count();
    assert_eq!(
        (seen.len(), deletes),
        (252, 52),
        "every change, deletes included"
    );
    let created: BTreeSet<&str> = seen
        .iter()
        .filter(|c| c.r#type() == ChangeType::Created)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(created.len(), 200);
}

#[tokio::test]
async fn watch_filters_by_kind_and_country() {
    let server = spawn_seeded().await;
    let mut stream = server
        .records()
        .watch_changes(WatchChangesRequest {
            from_revision: 0,
            kinds: vec![RecordKind::Treaty as i32],
            countries: vec!["countries/TR".into()],
        })
        .await
        .expect("watch")
        .into_inner();
    let mut names = Vec::new();
    while let Ok(Some(change)) =
        tokio::time::timeout(Duration::from_millis(500), stream.next()).await
    {
        names.push(change.expect("change").name);
    }
    assert_eq!(names, ["treaties/t02", "treaties/t04"]);
}

#[tokio::test]
async fn a_compacted_revision_is_out_of_range_with_the_oldest_held() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = spawn_with(
        dir,
        true,
        WriterOptions {
            change_retention: 10,
            ..Default::default()
        },
    )
    .await;
    let status = server
        .records()
        .watch_changes(WatchChangesRequest {
            from_revision: 1,
            ..Default::default()
        })
        .await
        .expect_err("compacted");
    assert_eq!(status.code(), Code::OutOfRange);
    let info = status.get_details_error_info().expect("ErrorInfo");
    let oldest: i64 = info.metadata["oldest_revision"].parse().expect("a number");
    assert!(oldest > 1);
    let mut stream = watch(&server, oldest - 1).await;
    let first = stream.next().await.expect("open").expect("change");
    assert_eq!(first.revision, oldest);
}

#[tokio::test]
async fn a_stale_etag_is_refused_and_changes_nothing() {
    let server = spawn_seeded().await;
    let mut treaties = server.treaties();
    let t04 = treaties
        .get_treaty(GetTreatyRequest {
            name: "treaties/t04".into(),
        })
        .await
        .expect("t04")
        .into_inner();
    assert!(!t04.etag.is_empty() && t04.revision > 0);

    let updated = treaties
        .update_treaty(UpdateTreatyRequest {
            treaty: Some(Treaty {
                name: t04.name.clone(),
                summary: "first editor".into(),
                etag: t04.etag.clone(),
                ..Default::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["summary".into()],
            }),
        })
        .await
        .expect("a fresh etag is accepted")
        .into_inner();
    assert_ne!(updated.etag, t04.etag);
    assert!(updated.revision > t04.revision);

    let status = treaties
        .update_treaty(UpdateTreatyRequest {
            treaty: Some(Treaty {
                name: t04.name.clone(),
                summary: "second editor".into(),
                etag: t04.etag.clone(),
                ..Default::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["summary".into()],
            }),
        })
        .await
        .expect_err("stale");
    assert_eq!(status.code(), Code::Aborted);
    let status = treaties
        .delete_treaty(DeleteTreatyRequest {
            name: t04.name.clone(),
            etag: t04.etag.clone(),
        })
        .await
        .expect_err("stale delete");
    assert_eq!(status.code(), Code::Aborted);
    let now = treaties
        .get_treaty(GetTreatyRequest {
            name: t04.name.clone(),
        })
        .await
        .expect("t04")
        .into_inner();
    assert_eq!(now, updated, "the refused calls changed nothing");
}
