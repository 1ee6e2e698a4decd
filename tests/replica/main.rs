//! Replicas that agree: three diplomacy replicas on a three-member etcd
//! cluster, all real processes on loopback ports, stopped by PID. Writes go
//! through etcd; every replica's index follows it; failures of etcd members,
//! of replicas and of the whole cluster leave every acknowledged write on
//! every replica.
//!
//! Run one test at a time (`-- --test-threads=1`): each starts six
//! processes, and two cores shared by two clusters make elections.

mod harness;
#[path = "../common/random.rs"]
mod random;
mod secure;
mod tools;
mod workload;

use std::time::{Duration, Instant};

use diplomacy::pb::diplomacy::v1::*;
use diplomacy::pb::etcd::etcdserverpb as etcdpb;
use harness::{at, revision_of, Client, Replica, ReplicaSpec, Setup};
use prost_types::FieldMask;
use tonic::Code;
use workload::{answers, random_write, Acked, Rng};

/// Writes `count` records spread over the replicas by `writers` concurrent
/// writers; returns every acknowledged write.
async fn spread_writes(clients: &[Client], count: usize, writers: usize, seed: u64) -> Vec<Acked> {
    let mut tasks = Vec::new();
    for w in 0..writers {
        let clients = clients.to_vec();
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(seed + w as u64 * 7919);
            let mut acked: Vec<Acked> = Vec::new();
            let mut names: Vec<String> = Vec::new();
            for i in (w..count).step_by(writers) {
                let client = &clients[i % clients.len()];
                let id = format!("s{seed}-w{w}-{i}");
                match random_write(client, &mut rng, &id, &names).await {
                    Ok(done) => {
                        if done.gone {
                            names.retain(|n| n != &done.name);
                        } else if !names.contains(&done.name) {
                            names.push(done.name.clone());
                        }
                        acked.push(done);
                    }
                    // Another writer's update of the same treaty came first.
                    Err(status) if status.code() == Code::Aborted => {}
                    Err(status) => panic!("write {id} failed: {status:?}"),
                }
            }
            acked
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("writer"));
    }
    all
}

/// Whether an event or treaty is on the replica at `revision`.
async fn exists(client: &Client, name: &str, revision: i64) -> bool {
    let found = if name.starts_with("events/") {
        client
            .events()
            .get_event(at(GetEventRequest { name: name.into() }, revision))
            .await
            .map(drop)
    } else {
        client
            .treaties()
            .get_treaty(at(GetTreatyRequest { name: name.into() }, revision))
            .await
            .map(drop)
    };
    match found {
        Ok(()) => true,
        Err(status) if status.code() == Code::NotFound => false,
        Err(status) => panic!("{name}: {status:?}"),
    }
}

fn treaty_names(acked: &[Acked]) -> Vec<String> {
    let mut names: Vec<String> = acked
        .iter()
        .filter(|a| a.name.starts_with("treaties/"))
        .map(|a| a.name.clone())
        .collect();
    names.sort();
    names.dedup();
    names
}

async fn assert_replicas_agree(clients: &[Client], revision: i64, from: i64, treaties: &[String]) {
    let first = answers(&clients[0], revision, from, treaties).await;
    for (i, client) in clients.iter().enumerate().skip(1) {
        let other = answers(client, revision, from, treaties).await;
        if other != first {
            let diff = first
                .lines()
                .zip(other.lines())
                .find(|(a, b)| a != b)
                .map(|(a, b)| format!("replica 0: {a}\nreplica {i}: {b}"))
                .unwrap_or_else(|| "one answer is longer".into());
            panic!(
                "replica {i} answers differently from replica 0 at revision {revision}:\n{diff}"
            );
        }
    }
}

async fn clients(setup: &Setup) -> Vec<Client> {
    let mut clients = Vec::new();
    for replica in &setup.replicas {
        clients.push(replica.client().await);
    }
    clients
}

/// The revision a replica answers at now.
async fn current_revision(client: &Client) -> i64 {
    let response = client
        .countries()
        .get_country(GetCountryRequest {
            name: "countries/FR".into(),
        })
        .await
        .expect("read FR");
    revision_of(&response)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_writes_over_three_replicas_give_the_same_answers_everywhere() {
    let setup = Setup::start().await;
    let clients = clients(&setup).await;
    let from = current_revision(&clients[0]).await;
    let acked = spread_writes(&clients, 200, 4, 17).await;
    assert!(
        acked.len() >= 180,
        "most writes are acknowledged: {}",
        acked.len()
    );
    let last = acked.iter().map(|a| a.revision).max().unwrap_or(from);
    assert_replicas_agree(&clients, last, from, &treaty_names(&acked)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_two_replicas_updating_one_record_with_one_etag_exactly_one_wins() {
    let setup = Setup::start().await;
    let clients = clients(&setup).await;
    for round in 0..5 {
        let id = format!("race-{round}");
        let created = clients[0]
            .treaties()
            .create_treaty(CreateTreatyRequest {
                treaty_id: id.clone(),
                treaty: Some(Treaty {
                    title: format!("contested {round}"),
                    signed_date: Some(diplomacy::pb::google::r#type::Date {
                        year: 2001,
                        month: 2,
                        day: 3,
                    }),
                    kind: TreatyKind::Trade as i32,
                    status: TreatyStatus::InForce as i32,
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
                    sources: vec![Source {
                        title: "race".into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
            })
            .await
            .expect("create");
        let revision = revision_of(&created);
        let etag = created.into_inner().etag;
        // The replica that took a write answers with it at once.
        let own = clients[0]
            .treaties()
            .get_treaty(GetTreatyRequest {
                name: format!("treaties/{id}"),
            })
            .await
            .expect("a client reads its own write on the same replica");
        assert_eq!(own.into_inner().etag, etag);
        let update = |client: Client, summary: &'static str| {
            let etag = etag.clone();
            let name = format!("treaties/{id}");
            tokio::spawn(async move {
                client
                    .treaties()
                    .update_treaty(at(
                        UpdateTreatyRequest {
                            treaty: Some(Treaty {
                                name,
                                summary: summary.into(),
                                etag,
                                ..Default::default()
                            }),
                            update_mask: Some(FieldMask {
                                paths: vec!["summary".into()],
                            }),
                        },
                        revision,
                    ))
                    .await
                    .map(|r| r.into_inner().summary)
            })
        };
        let one = update(clients[1].clone(), "by replica 1");
        let two = update(clients[2].clone(), "by replica 2");
        let results = [one.await.expect("task"), two.await.expect("task")];
        let won: Vec<&String> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        let lost: Vec<Code> = results
            .iter()
            .filter_map(|r| r.as_ref().err().map(|s| s.code()))
            .collect();
        assert_eq!(
            won.len(),
            1,
            "round {round}: exactly one update wins: {results:?}"
        );
        assert_eq!(
            lost,
            vec![Code::Aborted],
            "round {round}: the other is ABORTED"
        );
        // Every replica holds the winner's summary.
        let strong = |client: &Client| {
            let mut request = tonic::Request::new(GetTreatyRequest {
                name: format!("treaties/{id}"),
            });
            request
                .metadata_mut()
                .insert("x-diplomacy-consistency", "strong".parse().expect("header"));
            let client = client.clone();
            async move { client.treaties().get_treaty(request).await }
        };
        for client in &clients {
            let treaty = strong(client).await.expect("read").into_inner();
            assert_eq!(&treaty.summary, won[0]);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_etcd_member_loses_no_acknowledged_write_and_writes_go_on() {
    let mut setup = Setup::start().await;
    let clients = clients(&setup).await;
    let from = current_revision(&clients[0]).await;
    let mut rng = Rng(5);
    let mut acked: Vec<Acked> = Vec::new();
    let mut after_kill = 0;
    let started = Instant::now();
    for i in 0..120 {
        if i == 40 {
            setup.etcd.kill(0);
        }
        let id = format!("k-{i}");
        match random_write(&clients[i % 3], &mut rng, &id, &[]).await {
            Ok(done) => {
                if i >= 40 {
                    after_kill += 1;
                }
                acked.push(done);
            }
            // During the election, or a write that was in flight to the
            // killed member: not acknowledged, so not required.
            Err(status) => assert!(
                matches!(status.code(), Code::Unavailable | Code::DeadlineExceeded),
                "write {id}: {status:?}"
            ),
        }
    }
    assert!(
        after_kill >= 60,
        "writes go on with two members: {after_kill} of 80 after the kill ({:?})",
        started.elapsed()
    );
    let last = acked.iter().map(|a| a.revision).max().unwrap_or(from);
    for (i, client) in clients.iter().enumerate() {
        for done in &acked {
            assert!(
                exists(client, &done.name, last).await,
                "{} (revision {}) is on replica {i}",
                done.name,
                done.revision
            );
        }
    }
    assert_replicas_agree(&clients, last, from, &treaty_names(&acked)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_replica_catches_up_from_its_revision_and_a_wiped_one_from_a_snapshot() {
    let mut setup = Setup::start().await;
    let clients = clients(&setup).await;
    let from = current_revision(&clients[0]).await;
    let writes = {
        let clients = clients.clone();
        tokio::spawn(async move { spread_writes(&clients[..2], 60, 2, 3).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    setup.replicas[2].kill();
    let mut acked = writes.await.expect("writes");
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_diplomacy"))
        .args(["check", "--data-dir"])
        .arg(setup.replica_dir(2))
        .output()
        .expect("diplomacy check");
    assert!(
        check.status.success(),
        "a killed replica's index is consistent: {}",
        String::from_utf8_lossy(&check.stdout)
    );
    setup.restart_replica(2, &[]).await;
    let log = setup.replicas[2].log_text();
    assert_eq!(
        log.matches("loaded etcd's records at one revision").count(),
        1,
        "a restarted replica resumes its watch, it does not load a snapshot again:\n{log}"
    );
    let mut clients = clients;
    clients[2] = setup.replicas[2].client().await;
    acked.extend(spread_writes(&clients, 15, 3, 4).await);
    let last = acked.iter().map(|a| a.revision).max().unwrap_or(from);
    assert_replicas_agree(&clients, last, from, &treaty_names(&acked)).await;

    // Wiped: the index is rebuilt from a snapshot. Its change feed starts
    // there, so the feeds are compared from the snapshot on.
    setup.replicas[2].kill();
    std::fs::remove_dir_all(setup.replica_dir(2)).expect("wipe the index");
    setup.restart_replica(2, &[]).await;
    clients[2] = setup.replicas[2].client().await;
    let log = setup.replicas[2].log_text();
    assert!(
        log.contains("loaded etcd's records at one revision"),
        "{log}"
    );
    let snapshot = current_revision(&clients[2]).await;
    acked.extend(spread_writes(&clients, 15, 3, 5).await);
    let last = acked.iter().map(|a| a.revision).max().unwrap_or(from);
    assert_replicas_agree(&clients, last, snapshot, &treaty_names(&acked)).await;
    let old = clients[2]
        .records()
        .watch_changes(WatchChangesRequest {
            from_revision: from,
            ..Default::default()
        })
        .await;
    assert_eq!(
        old.err().map(|s| s.code()),
        Some(Code::OutOfRange),
        "a revision before the rebuilt replica's snapshot is OUT_OF_RANGE there"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replica_behind_a_compaction_resyncs_in_full() {
    let mut setup = Setup::start().await;
    let clients = clients(&setup).await;
    let mut acked = spread_writes(&clients, 20, 2, 8).await;
    setup.replicas[2].kill();
    // Deletes too, so the resync must remove what etcd no longer holds.
    acked.extend(spread_writes(&clients[..2], 60, 2, 9).await);
    let etcd = setup.etcd.client();
    let (_, newest) = etcd.newest(b"/").await.expect("etcd revision");
    etcd.compact(newest).await.expect("compact");
    setup
        .restart_replica(2, &["--admin-listen", "127.0.0.1:0"])
        .await;
    let mut clients = clients;
    clients[2] = setup.replicas[2].client().await;
    let last = acked.iter().map(|a| a.revision).max().unwrap_or(newest);
    // Waits until the resync is in.
    clients[2]
        .countries()
        .get_country(at(
            GetCountryRequest {
                name: "countries/FR".into(),
            },
            last,
        ))
        .await
        .expect("the resynced replica reaches the last write");
    let log = setup.replicas[2].log_text();
    assert!(log.contains("compacted past the applied revision"), "{log}");
    let replica = &setup.replicas[2];
    assert_eq!(replica.metric("diplomacy_replica_resyncs_total"), 1.0);
    assert!(replica.metric("diplomacy_replica_applied_revision") >= newest as f64);
    assert_eq!(replica.metric("diplomacy_replica_lag_revisions"), 0.0);
    assert_eq!(
        replica.metric("diplomacy_replica_lag_seconds"),
        0.0,
        "not behind"
    );
    // Registered at start, so a dashboard finds it before the first error.
    let text = replica.metrics();
    assert!(
        text.lines()
            .any(|l| l.starts_with("diplomacy_replica_etcd_errors_total ")),
        "{text}"
    );
    // The feeds are compared from the compaction on (before it, the
    // resynced replica has none).
    let later = spread_writes(&clients, 6, 3, 10).await;
    acked.extend(later);
    let newest_write = acked.iter().map(|a| a.revision).max().unwrap_or(last);
    assert_replicas_agree(&clients, newest_write, newest, &treaty_names(&acked)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_etcd_down_reads_answer_writes_are_unavailable_and_resume_when_it_returns() {
    let mut setup = Setup::start().await;
    let clients = clients(&setup).await;
    let acked = spread_writes(&clients, 10, 1, 11).await;
    let last = acked.iter().map(|a| a.revision).max().unwrap_or_default();
    let before = answers(&clients[1], last, last, &treaty_names(&acked)).await;
    for i in 0..3 {
        setup.etcd.kill(i);
    }
    for client in &clients {
        let relation = client
            .relations()
            .get_relation(GetRelationRequest {
                name: "countries/AM/relations/AZ".into(),
                ..Default::default()
            })
            .await;
        assert!(
            relation.is_ok(),
            "reads answer from the index: {relation:?}"
        );
        let mut rng = Rng(12);
        let write = random_write(client, &mut rng, "while-down", &[]).await;
        let status = write.expect_err("no write without etcd");
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
        assert!(
            status.message().contains("etcd"),
            "the message names etcd: {status:?}"
        );
    }
    assert_eq!(
        answers(&clients[1], last, last, &treaty_names(&acked)).await,
        before,
        "the index answers as before"
    );
    for i in 0..3 {
        setup.etcd.restart(i);
    }
    setup.etcd.wait_healthy().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    for (i, client) in clients.iter().enumerate() {
        let mut rng = Rng(13 + i as u64);
        loop {
            match random_write(client, &mut rng, &format!("back-{i}"), &[]).await {
                Ok(_) => break,
                Err(status) if Instant::now() < deadline => {
                    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                Err(status) => panic!("writes never resumed on replica {i}: {status:?}"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unreachable_etcd_with_no_index_stops_the_replica_naming_the_endpoint() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let endpoint = format!("http://127.0.0.1:{port}");
    let started = Replica::spawn(&ReplicaSpec {
        endpoints: &endpoint,
        data_dir: &dir.path().join("r"),
        extra: &[],
    });
    let error = started.err().expect("no silent fallback to embedded mode");
    assert!(
        error.contains("the server exited (exit status: 1) before it was ready"),
        "exits non-zero: {error}"
    );
    assert!(
        error.contains(&format!("cannot reach etcd at {endpoint}")),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keys_that_are_not_records_are_never_served_and_the_replicas_go_on() {
    let setup = Setup::start().await;
    let clients = clients(&setup).await;
    let etcd = setup.etcd.client();
    for (key, value) in [
        ("/diplomacy/notes/x", b"hello".to_vec()),
        (
            "/diplomacy/records/treaties/garbled",
            vec![0xff, 0xff, 0xff],
        ),
        ("/diplomacy/records/planets/mars", b"red".to_vec()),
    ] {
        etcd.txn(etcdpb::TxnRequest {
            success: vec![etcdpb::RequestOp {
                request: Some(etcdpb::request_op::Request::RequestPut(
                    etcdpb::PutRequest {
                        key: key.as_bytes().to_vec(),
                        value,
                        ..Default::default()
                    },
                )),
            }],
            ..Default::default()
        })
        .await
        .expect("put a stray key");
    }
    let acked = spread_writes(&clients, 6, 1, 14).await;
    let last = acked.iter().map(|a| a.revision).max().unwrap_or_default();
    for (i, client) in clients.iter().enumerate() {
        let garbled = client
            .treaties()
            .get_treaty(at(
                GetTreatyRequest {
                    name: "treaties/garbled".into(),
                },
                last,
            ))
            .await;
        assert_eq!(garbled.err().map(|s| s.code()), Some(Code::NotFound));
        let log = setup.replicas[i].log_text();
        assert!(log.contains("is not a record: not served"), "{log}");
        assert!(log.contains("does not decode: not served"), "{log}");
    }
    assert_replicas_agree(&clients, last, last, &treaty_names(&acked)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_index_from_another_prefix_or_an_embedded_database_refuses_to_start_until_rebuilt() {
    let mut setup = Setup::start().await;
    setup.replicas[2].kill();
    let endpoints = setup.etcd.endpoints();
    let dir = setup.replica_dir(2);
    let other = Replica::spawn(&ReplicaSpec {
        endpoints: &endpoints,
        data_dir: &dir,
        extra: &["--etcd-prefix", "/other/"],
    });
    let error = other.err().expect("refused");
    assert!(error.contains("start with --etcd-rebuild"), "{error}");
    let rebuilt = Replica::start(ReplicaSpec {
        endpoints: &endpoints,
        data_dir: &dir,
        extra: &["--etcd-prefix", "/other/", "--etcd-rebuild"],
    })
    .await;
    drop(rebuilt);

    // An embedded database is not an index of etcd.
    let embedded = setup.dir.path().join("embedded");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_diplomacy"))
        .arg("import")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/dataset/south-caucasus.jsonl"
        ))
        .arg("--data-dir")
        .arg(&embedded)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("diplomacy import");
    assert!(status.success());
    let refused = Replica::spawn(&ReplicaSpec {
        endpoints: &endpoints,
        data_dir: &embedded,
        extra: &[],
    });
    let error = refused.err().expect("refused");
    assert!(error.contains("holds an embedded database"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_wait_for_a_revision_is_bounded_by_the_deadline_and_checked() {
    let setup = Setup::start().await;
    // tonic clients end a call on their own at their deadline, so the
    // server's side is shown with its own default deadline (the same path
    // as a client's shorter `grpc-timeout`).
    let short = Replica::start(ReplicaSpec {
        endpoints: &setup.etcd.endpoints(),
        data_dir: &setup.dir.path().join("short"),
        extra: &["--default-timeout-secs", "1"],
    })
    .await;
    let client = short.client().await;
    let now = current_revision(&client).await;
    let request = at(
        GetCountryRequest {
            name: "countries/FR".into(),
        },
        now + 1_000,
    );
    let status = client
        .countries()
        .get_country(request)
        .await
        .expect_err("revision not reached");
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    let mut bad = tonic::Request::new(GetCountryRequest {
        name: "countries/FR".into(),
    });
    bad.metadata_mut()
        .insert("x-diplomacy-min-revision", "soon".parse().expect("header"));
    let status = client
        .countries()
        .get_country(bad)
        .await
        .expect_err("bad header");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("x-diplomacy-min-revision"),
        "{status:?}"
    );
}
