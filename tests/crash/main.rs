//! Crash safety, proven: the real server binary takes concurrent writes of
//! every kind while this harness records every write that got OK; the
//! process is killed with SIGKILL at random moments and restarted. After
//! every kill, `diplomacy check` must find the database consistent, and
//! every acknowledged write must be there with its exact content. The same
//! holds for `diplomacy compact` killed at random moments: the data dir
//! always holds a whole database with every record.
//!
//! `CRASH_CYCLES` (default 20) and `CRASH_SEED` make longer or other runs a
//! variable away: `CRASH_CYCLES=500 cargo test --test crash -- --nocapture`.

use std::collections::BTreeMap;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diplomacy::pb::diplomacy::v1::country_service_client::CountryServiceClient;
use diplomacy::pb::diplomacy::v1::event_service_client::EventServiceClient;
use diplomacy::pb::diplomacy::v1::meeting_service_client::MeetingServiceClient;
use diplomacy::pb::diplomacy::v1::treaty_service_client::TreatyServiceClient;
use diplomacy::pb::diplomacy::v1::*;
use diplomacy::pb::google::r#type::Date;
use diplomacy::server::ready::wait_for_child;
use prost_types::FieldMask;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

#[path = "../common/random.rs"]
mod random;
use random::Rng;

const TOKEN: &str = "crash-harness-token-0123456789";

/// What the harness knows of one record.
#[derive(Clone, Debug, Default)]
struct Known {
    /// The state of the last acknowledged write (`None`: deleted).
    acked: Option<Option<record::Kind>>,
    /// A write to it was in flight when the server was killed: either state
    /// may be found.
    uncertain: bool,
}

type Ledger = Arc<Mutex<BTreeMap<String, Known>>>;

/// Writes that got OK.
static ACKNOWLEDGED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(data_dir: &Path) -> (Server, String) {
    let ready_file = data_dir.with_extension("ready.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_diplomacy"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-seed",
            "--data-dir",
        ])
        .arg(data_dir)
        .env("DIPLOMACY_TOKEN", TOKEN)
        .env("DIPLOMACY_DRAIN_DELAY_SECS", "0")
        .env("RUST_LOG", "warn")
        .arg("--ready-file")
        .arg(&ready_file)
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server");
    let address = wait_for_child(&ready_file, &mut child, Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("the server starts without manual repair: {e}"))
        .grpc
        .to_string();
    (Server(child), address)
}

#[derive(Clone)]
struct Bearer;

impl tonic::service::Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        let value = format!("Bearer {TOKEN}")
            .parse()
            .map_err(|_| tonic::Status::internal("token"))?;
        request.metadata_mut().insert("authorization", value);
        Ok(request)
    }
}

type Authed = InterceptedService<Channel, Bearer>;

fn source() -> Source {
    Source {
        title: "crash harness".into(),
        ..Default::default()
    }
}

const COUNTRIES: [&str; 8] = ["FR", "DE", "AM", "AZ", "TR", "US", "RU", "UA"];

fn date(rng: &mut Rng) -> Option<Date> {
    rng.date(1950, 75)
}

fn pair(rng: &mut Rng) -> (String, String) {
    rng.pair(&COUNTRIES)
}

/// One writer: creates, updates and deletes records of every kind under its
/// own id prefix, recording each acknowledged outcome.
async fn writer(channel: Authed, ledger: Ledger, prefix: String, mut rng: Rng) {
    let mut events = EventServiceClient::new(channel.clone());
    let mut treaties = TreatyServiceClient::new(channel.clone());
    let mut meetings = MeetingServiceClient::new(channel.clone());
    let mut countries = CountryServiceClient::new(channel);
    for i in 0.. {
        let id = format!("{prefix}-{i}");
        let (a, b) = pair(&mut rng);
        let choice = rng.below(10);
        let (name, outcome) = match choice {
            0..=3 => {
                let name = format!("events/{id}");
                mark(&ledger, &name);
                let event = Event {
                    title: format!("event {id}"),
                    kind: [
                        EventKind::RelationsEstablished,
                        EventKind::ArmedConflict,
                        EventKind::Other,
                    ][rng.below(3) as usize] as i32,
                    start_date: date(&mut rng),
                    actor: a,
                    counterparts: vec![b],
                    sources: vec![source()],
                    ..Default::default()
                };
                let result = events
                    .create_event(CreateEventRequest {
                        event: Some(event),
                        event_id: id.clone(),
                    })
                    .await;
                (
                    name,
                    result.map(|r| Some(record::Kind::Event(r.into_inner()))),
                )
            }
            4..=5 => {
                let name = format!("treaties/{id}");
                mark(&ledger, &name);
                let signed = date(&mut rng);
                let treaty = Treaty {
                    title: format!("treaty {id}"),
                    kind: TreatyKind::Trade as i32,
                    status: TreatyStatus::InForce as i32,
                    signed_date: signed,
                    parties: vec![
                        TreatyParty {
                            country: a,
                            ..Default::default()
                        },
                        TreatyParty {
                            country: b,
                            ..Default::default()
                        },
                    ],
                    sources: vec![source()],
                    ..Default::default()
                };
                let result = treaties
                    .create_treaty(CreateTreatyRequest {
                        treaty: Some(treaty),
                        treaty_id: id.clone(),
                    })
                    .await;
                (
                    name,
                    result.map(|r| Some(record::Kind::Treaty(r.into_inner()))),
                )
            }
            6..=7 => {
                let name = format!("meetings/{id}");
                mark(&ledger, &name);
                let meeting = Meeting {
                    title: format!("meeting {id}"),
                    kind: MeetingKind::BilateralTalks as i32,
                    start_date: date(&mut rng),
                    participants: vec![
                        Participant {
                            person: "P".into(),
                            country: a,
                            ..Default::default()
                        },
                        Participant {
                            person: "Q".into(),
                            country: b,
                            ..Default::default()
                        },
                    ],
                    sources: vec![source()],
                    ..Default::default()
                };
                let result = meetings
                    .create_meeting(CreateMeetingRequest {
                        meeting: Some(meeting),
                        meeting_id: id.clone(),
                    })
                    .await;
                (
                    name,
                    result.map(|r| Some(record::Kind::Meeting(r.into_inner()))),
                )
            }
            8 => {
                // Update an earlier event of this writer.
                let target = format!("events/{prefix}-{}", rng.below(i + 1));
                if !acked_exists(&ledger, &target) {
                    continue;
                }
                mark(&ledger, &target);
                let patch = Event {
                    name: target.clone(),
                    summary: format!("update {i}"),
                    ..Default::default()
                };
                let result = events
                    .update_event(UpdateEventRequest {
                        event: Some(patch),
                        update_mask: Some(FieldMask {
                            paths: vec!["summary".into()],
                        }),
                    })
                    .await;
                (
                    target,
                    result.map(|r| Some(record::Kind::Event(r.into_inner()))),
                )
            }
            _ => {
                // Delete an earlier treaty, or update a user-assigned country.
                if rng.below(2) == 0 {
                    let target = format!("treaties/{prefix}-{}", rng.below(i + 1));
                    if !acked_exists(&ledger, &target) {
                        continue;
                    }
                    mark(&ledger, &target);
                    let result = treaties
                        .delete_treaty(DeleteTreatyRequest {
                            name: target.clone(),
                            ..Default::default()
                        })
                        .await;
                    (target, result.map(|_| None))
                } else {
                    let code = format!("X{}", (b'A' + (rng.below(26) as u8)) as char);
                    let name = format!("countries/{code}");
                    if ledger
                        .lock()
                        .expect("ledger")
                        .get(&name)
                        .is_some_and(|k| k.uncertain)
                    {
                        continue;
                    }
                    mark(&ledger, &name);
                    let country = Country {
                        display_name: format!("Testland {i}"),
                        sources: vec![source()],
                        ..Default::default()
                    };
                    let result = match acked_exists(&ledger, &name) {
                        true => {
                            countries
                                .update_country(UpdateCountryRequest {
                                    country: Some(Country {
                                        name: name.clone(),
                                        ..country
                                    }),
                                    update_mask: Some(FieldMask {
                                        paths: vec!["display_name".into()],
                                    }),
                                })
                                .await
                        }
                        false => {
                            countries
                                .create_country(CreateCountryRequest {
                                    country: Some(country),
                                    country_id: code,
                                })
                                .await
                        }
                    };
                    (
                        name,
                        result.map(|r| Some(record::Kind::Country(r.into_inner()))),
                    )
                }
            }
        };
        match outcome {
            Ok(state) => {
                ACKNOWLEDGED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let mut ledger = ledger.lock().expect("ledger");
                let known = ledger.entry(name).or_default();
                known.acked = Some(state);
                known.uncertain = false;
            }
            // The server is gone: the write may or may not have happened.
            Err(_) => return,
        }
    }
}

/// A write to `name` is about to be sent: until it is acknowledged, either
/// state may be found after a crash.
fn mark(ledger: &Ledger, name: &str) {
    ledger
        .lock()
        .expect("ledger")
        .entry(name.to_string())
        .or_default()
        .uncertain = true;
}

fn acked_exists(ledger: &Ledger, name: &str) -> bool {
    ledger
        .lock()
        .expect("ledger")
        .get(name)
        .is_some_and(|k| !k.uncertain && matches!(k.acked, Some(Some(_))))
}

async fn stored(channel: &Authed, name: &str) -> Result<Option<record::Kind>, tonic::Status> {
    let found = match name.split('/').next() {
        Some("events") => EventServiceClient::new(channel.clone())
            .get_event(GetEventRequest { name: name.into() })
            .await
            .map(|r| record::Kind::Event(r.into_inner())),
        Some("treaties") => TreatyServiceClient::new(channel.clone())
            .get_treaty(GetTreatyRequest { name: name.into() })
            .await
            .map(|r| record::Kind::Treaty(r.into_inner())),
        Some("meetings") => MeetingServiceClient::new(channel.clone())
            .get_meeting(GetMeetingRequest { name: name.into() })
            .await
            .map(|r| record::Kind::Meeting(r.into_inner())),
        _ => CountryServiceClient::new(channel.clone())
            .get_country(GetCountryRequest { name: name.into() })
            .await
            .map(|r| record::Kind::Country(r.into_inner())),
    };
    match found {
        Ok(record) => Ok(Some(record)),
        Err(status) if status.code() == tonic::Code::NotFound => Ok(None),
        Err(status) => Err(status),
    }
}

async fn connect(address: &str) -> Authed {
    let channel = Channel::from_shared(format!("http://{address}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    InterceptedService::new(channel, Bearer)
}

fn check(data_dir: &Path) -> Result<(), String> {
    let output = Command::new(env!("CARGO_BIN_EXE_diplomacy"))
        .args(["check", "--data-dir"])
        .arg(data_dir)
        .output()
        .expect("run check");
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_acknowledged_write_is_lost_to_sigkill() {
    let cycles: usize = std::env::var("CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_d1b1);
    let dir = tempfile::tempdir().expect("temp dir");
    let ledger: Ledger = Arc::default();
    let mut rng = Rng(seed);
    let (mut lost, mut inconsistent) = (0usize, 0usize);

    for cycle in 0..cycles {
        let (mut server, address) = start(dir.path());
        let channel = connect(&address).await;

        // Everything acknowledged so far is there, exactly.
        let expected: Vec<(String, Known)> = ledger
            .lock()
            .expect("ledger")
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (name, known) in expected {
            let (Some(acked), false) = (known.acked, known.uncertain) else {
                continue;
            };
            match stored(&channel, &name).await {
                Ok(found) if found == acked => {}
                Ok(found) => {
                    lost += 1;
                    eprintln!("cycle {cycle}: {name}: acknowledged {acked:?}, found {found:?}");
                }
                Err(status) => panic!("cycle {cycle}: reading {name}: {status:?}"),
            }
        }
        // After the check, in-flight writes have settled one way or the other.
        for known in ledger.lock().expect("ledger").values_mut() {
            known.uncertain = false;
            known.acked = None;
        }
        // Re-read what is stored now, as the new baseline of known states.
        let names: Vec<String> = ledger.lock().expect("ledger").keys().cloned().collect();
        for name in names {
            let found = stored(&channel, &name).await.expect("read");
            ledger.lock().expect("ledger").insert(
                name,
                Known {
                    acked: Some(found),
                    uncertain: false,
                },
            );
        }

        let writers: Vec<_> = (0..4)
            .map(|w| {
                let rng = Rng(rng.next() | 1);
                tokio::spawn(writer(
                    channel.clone(),
                    Arc::clone(&ledger),
                    format!("c{cycle}w{w}"),
                    rng,
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(150 + rng.below(450))).await;
        let _ = server.0.kill();
        let _ = server.0.wait();
        for writer in writers {
            let _ = writer.await;
        }
        if let Err(report) = check(dir.path()) {
            inconsistent += 1;
            eprintln!("cycle {cycle}: diplomacy check failed:\n{report}");
        }
    }
    // The last cycle's acknowledged writes are checked on one more start.
    let (server, address) = start(dir.path());
    let channel = connect(&address).await;
    let expected: Vec<(String, Known)> = ledger
        .lock()
        .expect("ledger")
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (name, known) in expected {
        if let (Some(acked), false) = (known.acked, known.uncertain) {
            if stored(&channel, &name).await.expect("read") != acked {
                lost += 1;
                eprintln!("final: {name} lost its acknowledged state");
            }
        }
    }
    drop(server);
    let acknowledged = ACKNOWLEDGED.load(std::sync::atomic::Ordering::Relaxed);
    println!("crash harness: {cycles} cycles, {acknowledged} acknowledged writes, {lost} lost, {inconsistent} inconsistent");
    assert_eq!((lost, inconsistent), (0, 0));
    assert!(
        acknowledged > cycles * 10,
        "the harness wrote too little to prove anything"
    );
}

/// `diplomacy SUBCOMMAND --data-dir DIR ARGS…`, which must succeed: its
/// standard output.
fn run_ok(subcommand: &str, data_dir: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_diplomacy"))
        .arg(subcommand)
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .expect("run diplomacy");
    assert!(
        output.status.success(),
        "{subcommand}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `diplomacy compact` is killed at random moments (copying, reading the
/// copy back, swapping, removing the old files, or after it finished):
/// after every kill the data dir holds a whole database with every record.
#[test]
fn a_compaction_killed_at_any_moment_leaves_the_database_whole() {
    let cycles: u64 = std::env::var("CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(6, |n: u64| n.div_ceil(3));
    let mut rng = Rng(0xc0_4ac7 | 1);
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let file = dir.path().join("generated.jsonl");
    let mut lines = String::new();
    diplomacy_tools::generate::generate(3, diplomacy_tools::generate::Sizes::scaled(0.005), |r| {
        lines.push_str(&diplomacy::ingest::to_json_line(&r).expect("a record as JSON"));
        lines.push('\n');
    });
    std::fs::write(&file, lines).expect("write the generated records");
    run_ok("import", &data, &[file.to_str().expect("utf-8 path")]);
    let records = run_ok("export", &data, &[]);

    // How long a compaction takes here, to kill within it.
    let started = std::time::Instant::now();
    run_ok("compact", &data, &[]);
    let full = started.elapsed();

    let mut finished = 0;
    for cycle in 0..cycles {
        let mut compaction = Command::new(env!("CARGO_BIN_EXE_diplomacy"))
            .args(["compact", "--data-dir"])
            .arg(&data)
            .stderr(Stdio::null())
            .spawn()
            .expect("start compact");
        let at = full.mul_f64(rng.below(1_100) as f64 / 1_000.0);
        std::thread::sleep(at);
        let _ = compaction.kill();
        let status = compaction.wait().expect("wait");
        finished += usize::from(status.success());
        if let Err(report) = check(&data) {
            panic!("cycle {cycle}, killed {at:?} in: diplomacy check failed:\n{report}");
        }
        assert!(
            run_ok("export", &data, &[]) == records,
            "cycle {cycle}, killed {at:?} in: the records changed"
        );
    }
    run_ok("compact", &data, &[]);
    assert!(
        !dir.path().join("data.compacting").exists(),
        "a finished compaction leaves no copy behind"
    );
    assert_eq!(run_ok("export", &data, &[]), records);
    println!("compaction: {cycles} kills within {full:?}, {finished} of them after it finished");
}
