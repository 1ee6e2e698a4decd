//! The `diplomacy` binary: serve, signals, import and export.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diplomacy::pb::diplomacy::v1::relation_service_client::RelationServiceClient;
use diplomacy::pb::diplomacy::v1::{DiplomaticStatus, GetRelationRequest};
use diplomacy::server::ready::{wait_for_child, Ready};
use diplomacy::server::{open_store, StoreOptions};

use crate::helpers::date;

fn diplomacy() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_diplomacy"));
    command
        .env("RUST_LOG", "info")
        .env("DIPLOMACY_DRAIN_DELAY_SECS", "0");
    command
}

/// A server process that is killed if the test fails before stopping it.
pub struct ServerProcess(Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl std::ops::Deref for ServerProcess {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for ServerProcess {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

/// Starts `command` (a `diplomacy serve`) with `--ready-file` and waits for
/// that file: the process and what the file says.
pub fn spawn_until_ready(command: &mut Command, ready_file: &Path) -> (ServerProcess, Ready) {
    let mut child = command
        .arg("--ready-file")
        .arg(ready_file)
        .spawn()
        .map(ServerProcess)
        .expect("start diplomacy serve");
    let ready = wait_for_child(ready_file, &mut child, Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{e}"));
    (child, ready)
}

/// Starts `diplomacy serve` on a free port; returns the process and its address.
pub fn start_binary(data_dir: &Path) -> (ServerProcess, String) {
    let (child, ready) = spawn_until_ready(
        diplomacy()
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .stderr(Stdio::null()),
        &data_dir.with_extension("ready.json"),
    );
    (child, ready.grpc.to_string())
}

pub fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop within 15 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_the_seed_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut child, address) = start_binary(dir.path());
    let mut client = RelationServiceClient::connect(format!("http://{address}"))
        .await
        .expect("connect");
    let relation = client
        .get_relation(GetRelationRequest {
            name: "countries/TR/relations/AM".into(),
            as_of: date(2024, 8, 27),
            ..Default::default()
        })
        .await
        .expect("GetRelation")
        .into_inner();
    assert_eq!(relation.diplomatic_status(), DiplomaticStatus::None);
    drop(client);
    let status = terminate(&mut child);
    assert!(status.success(), "exit status {status:?}");

    // The data dir is reusable: a second start does not load the seed again.
    let (mut child, address) = start_binary(dir.path());
    let mut client = RelationServiceClient::connect(format!("http://{address}"))
        .await
        .expect("reconnect");
    client
        .get_relation(GetRelationRequest {
            name: "countries/AM/relations/AZ".into(),
            as_of: None,
            ..Default::default()
        })
        .await
        .expect("GetRelation after restart");
    assert!(terminate(&mut child).success());
}

fn run_ok(command: &mut Command) -> String {
    run_ok_with_stderr(command).0
}

/// `diplomacy import FILE --data-dir DATA`, which must succeed.
fn import_ok(file: &Path, data: &Path) {
    run_ok(
        diplomacy()
            .arg("import")
            .arg(file)
            .arg("--data-dir")
            .arg(data),
    );
}

/// The standard output and standard error of a command that must succeed.
fn run_ok_with_stderr(command: &mut Command) -> (String, String) {
    let output = command.output().expect("run diplomacy");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{command:?} failed: {stderr}");
    (String::from_utf8_lossy(&output.stdout).into_owned(), stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_import_into_an_empty_store_gives_an_identical_export() {
    let first = tempfile::tempdir().expect("temp dir");
    let options = StoreOptions {
        data_dir: first.path().to_path_buf(),
        seed: true,
        cache_bytes: 8 << 20,
        writer: Default::default(),
        lock_wait: std::time::Duration::ZERO,
    };
    drop(open_store(&options).await.expect("seeded store"));

    let exported = run_ok(diplomacy().args(["export", "--data-dir"]).arg(first.path()));
    assert!(exported.lines().count() > 280, "countries and seed facts");
    assert!(exported.contains(r#""name":"treaties/t04""#));
    let file = first.path().join("export.jsonl");
    std::fs::write(&file, &exported).expect("write export");

    let second = tempfile::tempdir().expect("temp dir");
    run_ok(
        diplomacy()
            .arg("import")
            .arg(&file)
            .arg("--data-dir")
            .arg(second.path()),
    );
    let again = run_ok(
        diplomacy()
            .args(["export", "--data-dir"])
            .arg(second.path()),
    );
    assert_eq!(exported, again);

    // Import is an upsert: running it again changes nothing that export shows
    // apart from update times.
    run_ok(
        diplomacy()
            .arg("import")
            .arg(&file)
            .arg("--data-dir")
            .arg(second.path()),
    );
    let third = run_ok(
        diplomacy()
            .args(["export", "--data-dir"])
            .arg(second.path()),
    );
    assert_eq!(exported.lines().count(), third.lines().count());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_refuses_a_file_with_bad_lines_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("bad.jsonl");
    std::fs::write(
        &file,
        concat!(
            r#"{"event": {"name": "events/ok", "title": "Fine", "kind": "EVENT_KIND_OTHER", "start_date": {"year": 2001}, "actor": "countries/FR", "counterparts": ["countries/DE"], "sources": [{"title": "s"}]}}"#,
            "\n",
            r#"{"event": {"name": "events/bad", "title": "Bad date", "kind": "EVENT_KIND_OTHER", "start_date": {"year": 2001, "month": 2, "day": 30}, "actor": "countries/FR", "counterparts": ["countries/DE"], "sources": [{"title": "s"}]}}"#,
            "\n",
            "not json\n"
        ),
    )
    .expect("write");
    let data = dir.path().join("data");
    let output = diplomacy()
        .arg("import")
        .arg(&file)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 3"), "{stderr}");

    std::fs::write(
        &file,
        std::fs::read_to_string(&file)
            .expect("read")
            .replace("not json\n", ""),
    )
    .expect("rewrite");
    let output = diplomacy()
        .arg("import")
        .arg(&file)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("record 2 (events/bad)") && stderr.contains("event.start_date"),
        "{stderr}"
    );
    if data.exists() {
        let exported = run_ok(diplomacy().args(["export", "--data-dir"]).arg(&data));
        assert!(!exported.contains("events/ok"), "nothing was written");
    }
}

#[tokio::test]
async fn import_finds_countries_defined_further_down_the_file_and_refuses_missing_ones() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("forward.jsonl");
    std::fs::write(
        &file,
        concat!(
            r#"{"event": {"name": "events/early", "title": "Names a later country", "kind": "EVENT_KIND_OTHER", "start_date": {"year": 2001}, "actor": "countries/FR", "counterparts": ["countries/QQ"], "sources": [{"title": "s"}]}}"#,
            "\n",
            r#"{"event": {"name": "events/orphan", "title": "Names no country", "kind": "EVENT_KIND_OTHER", "start_date": {"year": 2001}, "actor": "countries/FR", "counterparts": ["countries/QZ"], "sources": [{"title": "s"}]}}"#,
            "\n",
            r#"{"country": {"name": "countries/QQ", "display_name": "Qland", "sources": [{"title": "s"}]}}"#,
            "\n",
        ),
    )
    .expect("write");

    // All or nothing: the orphan stops everything.
    let strict = dir.path().join("strict");
    let output = diplomacy()
        .arg("import")
        .arg(&file)
        .arg("--data-dir")
        .arg(&strict)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("record 2 (events/orphan): FAILED_PRECONDITION")
            && stderr.contains("countries/QZ"),
        "{stderr}"
    );
    assert!(!stderr.contains("events/early"), "{stderr}");
    let exported = run_ok(diplomacy().args(["export", "--data-dir"]).arg(&strict));
    assert!(!exported.contains("countries/QQ"), "nothing was written");

    // Best effort: the record naming a country imported after it is written.
    let lenient = dir.path().join("lenient");
    let output = diplomacy()
        .arg("import")
        .arg(&file)
        .args(["--best-effort", "--data-dir"])
        .arg(&lenient)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "imported 3 records: 2 written (2 created, 0 updated), 0 unchanged, 1 invalid"
        ),
        "{stderr}"
    );
    let exported = run_ok(diplomacy().args(["export", "--data-dir"]).arg(&lenient));
    assert!(
        exported.contains("events/early") && exported.contains("countries/QQ"),
        "{exported}"
    );
    assert!(!exported.contains("events/orphan"), "{exported}");
}

#[test]
fn the_descriptor_set_has_the_api_with_its_comments() {
    use prost::Message;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("diplomacy.binpb");
    run_ok(diplomacy().arg("descriptor").arg("--output").arg(&path));
    let set =
        prost_types::FileDescriptorSet::decode(std::fs::read(&path).expect("read").as_slice())
            .expect("a FileDescriptorSet");
    let names: Vec<&str> = set.file.iter().map(|f| f.name()).collect();
    for expected in [
        "google/type/date.proto",
        "diplomacy/v1/relation.proto",
        "diplomacy/v1/country.proto",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let relation = set
        .file
        .iter()
        .find(|f| f.name() == "diplomacy/v1/relation.proto")
        .expect("relation.proto");
    assert!(relation.source_code_info.is_some(), "comments are kept");
    assert_eq!(relation.service[0].name(), "RelationService");
}

/// pycountry's `databases/` folder in the project's .venv (tests/run.sh
/// installs it), or `PYCOUNTRY_DATABASES`.
fn pycountry_databases() -> std::path::PathBuf {
    if let Some(path) = std::env::var_os("PYCOUNTRY_DATABASES") {
        return path.into();
    }
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    let output = Command::new(&python)
        .args([
            "-c",
            "import os, pycountry; print(os.path.dirname(pycountry.__file__))",
        ])
        .output();
    match output {
        Ok(output) if output.status.success() => {
            Path::new(String::from_utf8_lossy(&output.stdout).trim()).join("databases")
        }
        _ => panic!(
            "pycountry not found in {}: run `bash tests/run.sh` (it installs tests/requirements.txt), \
             or set PYCOUNTRY_DATABASES to pycountry's databases folder",
            python.display()
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iso_codes_reference_data_goes_through_the_import_path() {
    use diplomacy::pb::diplomacy::v1::country_service_client::CountryServiceClient;
    use diplomacy::pb::diplomacy::v1::GetCountryRequest;

    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("iso-codes.jsonl");
    run_ok(
        diplomacy()
            .args(["reference", "iso-codes", "--databases"])
            .arg(pycountry_databases())
            .arg("--output")
            .arg(&file),
    );
    let data = dir.path().join("data");
    let (mut child, address) = start_binary(&data);
    // With no token configured, the server generated one for its data dir.
    let token = std::fs::read_to_string(data.join("auth-token")).expect("generated token");
    let imported = diplomacy()
        .arg("import")
        .arg(&file)
        .args(["--server", &address, "--token", token.trim()])
        .output()
        .expect("import");
    let stderr = String::from_utf8_lossy(&imported.stderr);
    assert!(imported.status.success(), "{stderr}");
    assert!(stderr.contains("0 invalid"), "{stderr}");

    let mut countries = CountryServiceClient::connect(format!("http://{address}"))
        .await
        .expect("connect");
    let su = countries
        .get_country(GetCountryRequest {
            name: "countries/SU".into(),
        })
        .await
        .expect("SU")
        .into_inner();
    assert_eq!(
        su.end_date,
        date(1992, 8, 30),
        "the withdrawal day, where iso-codes knows it"
    );
    let dahomey = countries
        .get_country(GetCountryRequest {
            name: "countries/DY".into(),
        })
        .await
        .expect("DY")
        .into_inner();
    assert_eq!(
        dahomey.end_date,
        date(1977, 0, 0),
        "only the year where only the year is known"
    );
    let am = countries
        .get_country(GetCountryRequest {
            name: "countries/AM".into(),
        })
        .await
        .expect("AM")
        .into_inner();
    assert_eq!(am.official_name, "Republic of Armenia");
    assert_eq!(
        am.start_date,
        date(1991, 9, 21),
        "the seed's facts are kept"
    );
    assert!(am
        .sources
        .iter()
        .any(|s| s.note.contains("LGPL-2.1-or-later")));
    assert!(terminate(&mut child).success());
}

#[test]
fn a_new_server_generates_a_private_token_and_never_logs_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut child, _) = spawn_until_ready(
        diplomacy()
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .env("RUST_LOG", "debug")
            .stderr(Stdio::piped()),
        &dir.path().with_extension("ready.json"),
    );
    let lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let reader = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    assert!(terminate(&mut child).success());
    let log = reader.join().expect("log reader");
    let path = dir.path().join("auth-token");
    let token = std::fs::read_to_string(&path).expect("token file");
    let mode = std::fs::metadata(&path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let log = log.join("\n");
    assert!(
        log.contains(&path.display().to_string()),
        "the log says where the token is: {log}"
    );
    assert!(
        !log.contains(token.trim()),
        "the token itself is never logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_finds_a_missing_and_an_orphan_index_entry_and_wrong_counts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = StoreOptions {
        data_dir: dir.path().to_path_buf(),
        seed: true,
        cache_bytes: 8 << 20,
        writer: Default::default(),
        lock_wait: std::time::Duration::ZERO,
    };
    drop(open_store(&options).await.expect("seeded store"));

    let out = run_ok(diplomacy().args(["check", "--data-dir"]).arg(dir.path()));
    assert!(out.contains(": 0 problem(s)"), "{out}");

    {
        let db = sled::open(dir.path()).expect("open with sled");
        let victim = db
            .scan_prefix(b"p/AMAZ/")
            .next()
            .expect("a pair entry")
            .expect("read")
            .0;
        db.remove(&victim).expect("remove");
        db.insert(b"h/ZZ/20000101 3/events/ghost/1-event", b"".to_vec())
            .expect("insert");
        db.insert(b"q/AM/AZ", 999u64.to_be_bytes().to_vec())
            .expect("insert");
        db.insert(b"_count/meetings", 999u64.to_be_bytes().to_vec())
            .expect("insert");
        db.flush().expect("flush");
    }
    let output = diplomacy()
        .args(["check", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("check");
    assert!(!output.status.success());
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        out.contains("index entry p/AMAZ/") && out.contains("is missing"),
        "{out}"
    );
    assert!(
        out.contains("index entry h/ZZ/20000101 3/events/ghost/1-event belongs to no record"),
        "{out}"
    );
    assert!(
        out.contains("partner count q/AM/AZ says 999, the records say"),
        "{out}"
    );
    assert!(
        out.contains("meetings holds") && out.contains("records, its count says 999"),
        "{out}"
    );
    assert!(out.contains(": 4 problem(s)"), "{out}");
}

/// A server on a new data dir logging JSON lines, its address, and a thread
/// that collects every line after the ready one (each parsed: every log
/// line must be JSON) until the process exits.
/// Starts the binary logging JSON: its process, its address, the lines it
/// logged before it was ready, and the rest of its lines once it exits.
fn start_json_logging_server(
    dir: &Path,
    extra_args: &[&str],
) -> (
    ServerProcess,
    Ready,
    std::thread::JoinHandle<Vec<serde_json::Value>>,
) {
    let (mut child, ready) = spawn_until_ready(
        diplomacy()
            .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
            .args(extra_args)
            .arg("--data-dir")
            .arg(dir)
            .stderr(Stdio::piped()),
        &dir.with_extension("ready.json"),
    );
    let lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let lines = std::thread::spawn(move || {
        lines
            .map_while(Result::ok)
            .map(|line| {
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
            })
            .collect()
    });
    (child, ready, lines)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_a_span_per_call_joined_to_the_callers_trace() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut child, ready, rest) = start_json_logging_server(dir.path(), &["--access-log"]);
    let address = ready.grpc;
    let mut client = RelationServiceClient::connect(format!("http://{address}"))
        .await
        .expect("connect");
    let mut w3c = tonic::Request::new(GetRelationRequest {
        name: "countries/TR/relations/AM".into(),
        as_of: None,
        ..Default::default()
    });
    w3c.metadata_mut().insert(
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .expect("header"),
    );
    client.get_relation(w3c).await.expect("call");
    let mut b3 = tonic::Request::new(GetRelationRequest {
        name: "countries/TR/relations/TR".into(),
        as_of: None,
        ..Default::default()
    });
    b3.metadata_mut().insert(
        "b3",
        "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1"
            .parse()
            .expect("header"),
    );
    client.get_relation(b3).await.expect_err("invalid");
    drop(client);
    assert!(terminate(&mut child).success());
    let spans: Vec<serde_json::Value> = rest
        .join()
        .expect("log reader")
        .iter()
        .filter(|j| j["fields"]["message"] == "handled")
        .map(|j| j["span"].clone())
        .collect();
    let find = |trace: &str| {
        spans
            .iter()
            .find(|s| s["trace_id"] == trace)
            .cloned()
            .unwrap_or_else(|| panic!("{trace} in {spans:?}"))
    };
    let first = find("4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(first["parent_id"], "00f067aa0ba902b7");
    assert_eq!(
        (
            first["grpc_service"].as_str(),
            first["grpc_method"].as_str()
        ),
        (Some("diplomacy.v1.RelationService"), Some("GetRelation"))
    );
    assert_eq!(first["grpc_code"], "OK");
    assert!(
        first["duration_ms"].as_f64().is_some()
            && first["peer"]
                .as_str()
                .is_some_and(|p| p.starts_with("127.0.0.1:"))
    );
    let second = find("80f198ee56343ba864fe8b2a57d3eff7");
    assert_eq!(
        (second["parent_id"].as_str(), second["grpc_code"].as_str()),
        (Some("e457b5a2e4d86bd1"), Some("InvalidArgument"))
    );
}

/// Without `--access-log` a call logs nothing: the mesh's proxy keeps
/// access logs, and a line a call was a sizeable share of a cheap call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_are_not_logged_unless_access_logs_are_asked_for() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut child, ready, rest) = start_json_logging_server(dir.path(), &[]);
    let mut client = RelationServiceClient::connect(format!("http://{}", ready.grpc))
        .await
        .expect("connect");
    for _ in 0..3 {
        client
            .get_relation(GetRelationRequest {
                name: "countries/TR/relations/AM".into(),
                ..Default::default()
            })
            .await
            .expect("call");
    }
    drop(client);
    assert!(terminate(&mut child).success());
    let logged = rest.join().expect("log reader");
    assert!(
        !logged.iter().any(|j| j["fields"]["message"] == "handled"),
        "no line per call: {logged:?}"
    );
    assert!(
        logged.iter().any(|j| j["fields"]["message"] == "stopped"),
        "the server's own lines still come: {logged:?}"
    );
}

/// Logs are written by a thread of their own: a burst of calls followed
/// at once by SIGTERM must still leave one line per call, and the server's
/// last line, on standard error when the process has exited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_is_logged_even_when_the_server_stops_right_after() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut child, ready, rest) =
        start_json_logging_server(dir.path(), &["--drain-delay-secs", "0", "--access-log"]);
    let address = ready.grpc;
    let client = RelationServiceClient::connect(format!("http://{address}"))
        .await
        .expect("connect");
    const CALLS: usize = 2_000;
    // Under the server's limit of 512 calls in flight: this test is about
    // logging, and on a slow machine 2,000 at once would be shed.
    let in_flight = std::sync::Arc::new(tokio::sync::Semaphore::new(256));
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..CALLS {
        let mut client = client.clone();
        let in_flight = in_flight.clone();
        calls.spawn(async move {
            let _permit = in_flight.acquire_owned().await.expect("semaphore open");
            client
                .get_relation(GetRelationRequest {
                    name: "countries/TR/relations/AM".into(),
                    as_of: None,
                    ..Default::default()
                })
                .await
        });
    }
    while let Some(answer) = calls.join_next().await {
        answer.expect("task").expect("call");
    }
    drop(client);
    assert!(terminate(&mut child).success());
    let logged = rest.join().expect("log reader");
    let handled = logged
        .iter()
        .filter(|j| {
            j["fields"]["message"] == "handled" && j["span"]["grpc_method"] == "GetRelation"
        })
        .count();
    assert_eq!(handled, CALLS, "one line per call");
    assert_eq!(
        logged.last().map(|j| j["fields"]["message"].clone()),
        Some("stopped".into()),
        "the server's last line is written too"
    );
}

/// sled writes a snapshot only when it opens, so a stopped server opens its
/// database once more on the way out: the next start then reads the
/// snapshot instead of replaying this run's writes (here, the built-in
/// data). A scraper's open connection to the metrics endpoint must not keep
/// the database open and stop that.
#[test]
fn a_stopped_server_checkpoints_its_database_while_metrics_are_scraped() {
    use std::io::{Read, Write};

    let dir = tempfile::tempdir().expect("temp dir");
    let (mut child, ready, rest) = start_json_logging_server(
        dir.path(),
        &["--drain-delay-secs", "0", "--admin-listen", "127.0.0.1:0"],
    );
    let admin = ready
        .admin
        .expect("the ready file names the metrics address");
    let mut scraper = std::net::TcpStream::connect(admin).expect("connect");
    scraper
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: admin\r\n\r\n")
        .expect("send");
    let mut answer = [0u8; 12];
    scraper.read_exact(&mut answer).expect("an answer");
    assert_eq!(&answer, b"HTTP/1.1 200");

    assert!(terminate(&mut child).success());
    let messages: Vec<String> = rest
        .join()
        .expect("log reader")
        .iter()
        .filter_map(|j| j["fields"]["message"].as_str().map(str::to_string))
        .collect();
    let last_two = &messages[messages.len().saturating_sub(2)..];
    assert!(
        last_two.len() == 2
            && last_two[0].starts_with("checkpointed the database")
            && last_two[1] == "stopped",
        "{messages:?}"
    );
    drop(scraper);

    let (mut again, ready, _) = start_json_logging_server(dir.path(), &["--drain-delay-secs", "0"]);
    let address = ready.grpc;
    let relation = tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async {
            RelationServiceClient::connect(format!("http://{address}"))
                .await
                .expect("connect")
                .get_relation(GetRelationRequest {
                    name: "countries/TR/relations/AM".into(),
                    as_of: date(2009, 10, 10),
                    ..Default::default()
                })
                .await
                .expect("call")
                .into_inner()
        });
    assert_eq!(
        relation.diplomatic_status,
        DiplomaticStatus::None as i32,
        "the built-in data is there after the checkpoint"
    );
    assert!(terminate(&mut again).success());
}

#[test]
fn importing_100000_records_shows_progress() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("bulk.jsonl");
    let pairs = [("FR", "DE"), ("AM", "AZ"), ("US", "CA"), ("JP", "KR")];
    let mut text = String::with_capacity(100_000 * 220);
    for i in 0..100_000 {
        let (a, b) = pairs[i % pairs.len()];
        text.push_str(&format!(
            "{{\"event\": {{\"name\": \"events/bulk-{i}\", \"title\": \"Bulk {i}\", \"kind\": \"EVENT_KIND_OTHER\", \
             \"start_date\": {{\"year\": {}, \"month\": {}}}, \"actor\": \"countries/{a}\", \"counterparts\": [\"countries/{b}\"], \
             \"sources\": [{{\"title\": \"bulk\"}}]}}}}\n",
            1950 + i % 70,
            1 + i % 12
        ));
    }
    std::fs::write(&file, text).expect("write");
    let output = diplomacy()
        .arg("import")
        .arg(&file)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .expect("import");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let progress: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("progress: "))
        .collect();
    assert!(
        progress.len() >= 2,
        "progress is shown while importing: {stderr}"
    );
    assert!(progress.iter().any(|l| l.contains("records/s")), "{stderr}");
    assert!(
        progress
            .last()
            .is_some_and(|l| l.starts_with("progress: 100000/100000")),
        "{stderr}"
    );
    assert!(
        stderr.contains("imported 100000 records: 100000 written"),
        "{stderr}"
    );
    assert!(
        stderr.contains("checkpointed the database in"),
        "the next start does not replay the import: {stderr}"
    );
    assert!(
        stderr.contains("tip: `diplomacy compact --data-dir"),
        "a large import suggests compacting: {stderr}"
    );
}

#[test]
fn an_import_opens_the_database_again_every_so_often_and_keeps_every_record() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = events_file(dir.path(), 2_500);
    let data = dir.path().join("data");
    let (_, stderr) = run_ok_with_stderr(
        diplomacy()
            .arg("import")
            .arg(&file)
            .args(["--checkpoint-every", "1000", "--data-dir"])
            .arg(&data),
    );
    assert_eq!(
        stderr
            .matches("checkpointed the database during the import")
            .count(),
        2,
        "after 1,000 and 2,000 of 2,500 records: {stderr}"
    );
    assert!(
        stderr.contains("imported 2500 records: 2500 written"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("diplomacy compact"),
        "a small import gains nothing from compacting: {stderr}"
    );

    // `check` fails unless indexes and counts agree with the records.
    run_ok(diplomacy().args(["check", "--data-dir"]).arg(&data));
    let exported = run_ok(diplomacy().args(["export", "--data-dir"]).arg(&data));
    assert_eq!(exported.matches("\"events/e-").count(), 2_500);
}

/// An import file of `events` events between France and Germany.
fn events_file(dir: &Path, events: usize) -> std::path::PathBuf {
    let file = dir.join("events.jsonl");
    let text: String = (0..events)
        .map(|i| {
            format!(
                "{{\"event\": {{\"name\": \"events/e-{i}\", \"title\": \"E {i}\", \"kind\": \"EVENT_KIND_OTHER\", \
                 \"start_date\": {{\"year\": {}}}, \"actor\": \"countries/FR\", \"counterparts\": [\"countries/DE\"], \
                 \"sources\": [{{\"title\": \"test\"}}]}}}}\n",
                1950 + i % 70
            )
        })
        .collect();
    std::fs::write(&file, text).expect("write");
    file
}

#[test]
fn compact_rewrites_the_database_in_place_with_every_record_and_index_entry() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = events_file(dir.path(), 3_000);
    let data = dir.path().join("data");
    import_ok(&file, &data);
    let before = run_ok(diplomacy().args(["export", "--data-dir"]).arg(&data));

    let out = run_ok(diplomacy().args(["compact", "--data-dir"]).arg(&data));
    assert!(
        out.contains(" entries, ") && out.contains(" bytes on disk before, "),
        "{out}"
    );
    assert!(
        !dir.path().join("data.compacting").exists(),
        "the old files are gone"
    );

    // `check` fails unless indexes, counts and the change log agree with
    // the records; the export is the records themselves.
    run_ok(diplomacy().args(["check", "--data-dir"]).arg(&data));
    let after = run_ok(diplomacy().args(["export", "--data-dir"]).arg(&data));
    assert_eq!(after, before);
}

#[test]
fn compact_refuses_a_database_a_server_is_using() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut server, _address) = start_binary(dir.path());
    let output = diplomacy()
        .args(["compact", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("compact");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("stop that one first"), "{stderr}");
    assert!(
        terminate(&mut server).success(),
        "the server, untouched, still stops cleanly"
    );
}

#[test]
fn a_damaged_database_fails_at_start_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("conf"),
        b"this is not a sled config\n\xff\xfe",
    )
    .expect("write");
    std::fs::write(dir.path().join("db"), vec![0xA5u8; 4096]).expect("write");
    let output = diplomacy()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("serve");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&dir.path().display().to_string()),
        "names the path: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "no panic: {stderr}");
    assert!(
        stderr.contains("restore") || stderr.contains("import"),
        "says what to do: {stderr}"
    );
}
