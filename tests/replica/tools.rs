//! The data tools against etcd: `import`, `export` and `check` with
//! `--etcd-endpoints`, run as the real binary.

use std::path::Path;
use std::process::{Command, Output};

use diplomacy::pb::diplomacy::v1::*;
use tokio_stream::StreamExt;
use tonic::Code;

use crate::harness::{at, revision_of, Setup};

fn diplomacy(args: &[&str], data_dir: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_diplomacy"));
    command.args(args).env("RUST_LOG", "warn");
    if let Some(dir) = data_dir {
        command.arg("--data-dir").arg(dir);
    }
    command.output().expect("run diplomacy")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `count` events between France and Germany as JSON Lines, the `bad`-th
/// (if any) without a title.
fn events_file(path: &Path, prefix: &str, count: usize, bad: Option<usize>) {
    let mut lines = String::new();
    for i in 0..count {
        let record = record::Kind::Event(Event {
            name: format!("events/{prefix}-{i}"),
            title: if bad == Some(i) {
                String::new()
            } else {
                format!("imported event {i}")
            },
            kind: EventKind::Other as i32,
            start_date: Some(diplomacy::pb::google::r#type::Date {
                year: 1990 + (i % 30) as i32,
                month: 1 + (i % 12) as i32,
                day: 1 + (i % 28) as i32,
            }),
            actor: "countries/FR".into(),
            counterparts: vec!["countries/DE".into()],
            sources: vec![Source {
                title: "tools test".into(),
                ..Default::default()
            }],
            ..Default::default()
        });
        lines.push_str(&diplomacy::ingest::to_json_line(&record).expect("a JSON line"));
        lines.push('\n');
    }
    std::fs::write(path, lines).expect("write the file");
}

/// The revision the import printed it wrote up to.
fn printed_revision(output: &Output) -> i64 {
    let text = text(output);
    text.split("written through etcd up to revision ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("the import prints its final revision:\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn import_export_and_check_work_against_etcd() {
    let mut setup = Setup::start().await;
    let endpoints = setup.etcd.endpoints();
    let client = setup.replicas[0].client().await;
    let dir = setup.dir.path().to_path_buf();
    let before = revision_of(
        &client
            .countries()
            .get_country(GetCountryRequest {
                name: "countries/FR".into(),
            })
            .await
            .expect("read"),
    );

    // All or nothing: one bad record, nothing written.
    let bad = dir.join("bad.jsonl");
    events_file(&bad, "bad", 300, Some(250));
    let refused = diplomacy(
        &[
            "import",
            bad.to_str().expect("path"),
            "--etcd-endpoints",
            &endpoints,
        ],
        None,
    );
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(
        text(&refused).contains("nothing was written"),
        "{}",
        text(&refused)
    );
    let (_, newest) = setup.etcd.client().newest(b"/").await.expect("etcd");
    assert_eq!(newest, before, "etcd is as it was: {}", text(&refused));

    // Over the quota: refused before writing, with the figures.
    let good = dir.join("good.jsonl");
    events_file(&good, "good", 300, None);
    let too_big = diplomacy(
        &[
            "import",
            good.to_str().expect("path"),
            "--etcd-endpoints",
            &endpoints,
            "--etcd-quota-bytes",
            "65536",
        ],
        None,
    );
    assert!(!too_big.status.success());
    let message = text(&too_big);
    assert!(
        message.contains("refused before writing anything"),
        "{message}"
    );
    assert!(
        message.contains("300 records") && message.contains("MiB quota"),
        "{message}"
    );
    let (_, newest) = setup.etcd.client().newest(b"/").await.expect("etcd");
    assert_eq!(newest, before);

    // In etcd's limits: 300 records take several transactions; the printed
    // revision is the one to wait for.
    let imported = diplomacy(
        &[
            "import",
            good.to_str().expect("path"),
            "--etcd-endpoints",
            &endpoints,
        ],
        None,
    );
    assert!(imported.status.success(), "{}", text(&imported));
    let revision = printed_revision(&imported);
    assert!(
        revision >= before + 3,
        "300 records in transactions of at most 127: {before} → {revision}"
    );
    for replica in &setup.replicas {
        let client = replica.client().await;
        let page = client
            .events()
            .list_events(at(
                ListEventsRequest {
                    page_size: 1000,
                    ..Default::default()
                },
                revision,
            ))
            .await
            .expect("list events")
            .into_inner();
        let imported = page
            .events
            .iter()
            .filter(|e| e.name.starts_with("events/good-"))
            .count();
        assert_eq!(
            imported, 300,
            "every replica has the whole import at its revision"
        );
    }

    // Export: what etcd holds, as a replica exports it.
    let exported = dir.join("export.jsonl");
    let export = diplomacy(
        &[
            "export",
            "--etcd-endpoints",
            &endpoints,
            "--output",
            exported.to_str().expect("path"),
        ],
        None,
    );
    assert!(export.status.success(), "{}", text(&export));
    let mut from_etcd: Vec<String> = std::fs::read_to_string(&exported)
        .expect("read the export")
        .lines()
        .map(str::to_string)
        .collect();
    let mut stream = client
        .records()
        .export_records(at(ExportRecordsRequest::default(), revision))
        .await
        .expect("export from a replica")
        .into_inner();
    let mut from_replica = Vec::new();
    while let Some(message) = stream.next().await {
        for record in message
            .expect("a page")
            .records
            .into_iter()
            .filter_map(|r| r.kind)
        {
            let record = diplomacy::records::without_store_meta(record);
            from_replica.push(diplomacy::ingest::to_json_line(&record).expect("a line"));
        }
    }
    from_etcd.sort();
    from_replica.sort();
    assert_eq!(from_etcd.len(), from_replica.len());
    assert!(
        from_etcd == from_replica,
        "the export from etcd equals the replica's"
    );

    // Check: a stopped replica's index agrees with etcd at its revision...
    setup.replicas[2].kill();
    let index = setup.replica_dir(2);
    let check = diplomacy(&["check", "--etcd-endpoints", &endpoints], Some(&index));
    assert!(check.status.success(), "{}", text(&check));
    assert!(text(&check).contains("0 difference(s)"), "{}", text(&check));
    // ... and a record written into it behind etcd's back is a difference.
    let stray = dir.join("stray.jsonl");
    events_file(&stray, "stray", 1, None);
    let behind = diplomacy(&["import", stray.to_str().expect("path")], Some(&index));
    assert!(behind.status.success(), "{}", text(&behind));
    let check = diplomacy(&["check", "--etcd-endpoints", &endpoints], Some(&index));
    assert!(!check.status.success());
    assert!(
        text(&check).contains("events/stray-0: in the index, not in etcd"),
        "{}",
        text(&check)
    );
    let gone = client
        .events()
        .get_event(GetEventRequest {
            name: "events/stray-0".into(),
        })
        .await;
    assert_eq!(gone.err().map(|s| s.code()), Some(Code::NotFound));
}
