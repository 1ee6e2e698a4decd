//! The tools against the real `diplomacy` binary: the generator is
//! deterministic and its output imports; the load generator starts the
//! server, measures every scenario and stops it with SIGTERM.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tools() -> Command {
    Command::new(env!("CARGO_BIN_EXE_diplomacy-tools"))
}

/// The `diplomacy` binary of the same build (`cargo build --workspace`, as
/// `tests/run.sh` does, builds it beside this crate's).
fn server_binary() -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_diplomacy-tools")).with_file_name("diplomacy");
    assert!(
        path.is_file(),
        "{} is missing: build the service first (`cargo build --workspace`)",
        path.display()
    );
    path
}

fn run_ok(command: &mut Command) -> Output {
    let output = command.output().expect("run");
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A data dir under `dir` holding the records of `file`.
fn imported(file: &Path, dir: &Path) -> PathBuf {
    let data = dir.join("data");
    run_ok(
        Command::new(server_binary())
            .arg("import")
            .arg(file)
            .arg("--data-dir")
            .arg(&data),
    );
    data
}

#[test]
fn the_generator_and_the_load_generator_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("generated.jsonl");
    run_ok(
        tools()
            .args(["generate", "--seed", "3", "--scale", "0.001", "--output"])
            .arg(&file),
    );
    let again = dir.path().join("again.jsonl");
    run_ok(
        tools()
            .args(["generate", "--seed", "3", "--scale", "0.001", "--output"])
            .arg(&again),
    );
    assert_eq!(
        std::fs::read(&file).expect("read"),
        std::fs::read(&again).expect("read"),
        "deterministic"
    );
    let data = imported(&file, dir.path());
    let output = run_ok(
        tools()
            .args([
                "bench",
                "--seed",
                "3",
                "--duration-secs",
                "0.3",
                "--connections",
                "1",
                "--in-flight",
                "2",
                "--rounds",
                "2",
                "--scale",
                "0.001",
                "--server-bin",
            ])
            .arg(server_binary())
            .arg("--data-dir")
            .arg(&data),
    );
    let table = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("server: ") && stderr.contains("checkpointed the database"),
        "the server was stopped with SIGTERM and checkpointed its writes: {stderr}"
    );
    assert!(table.contains("2 round(s)"), "{table}");
    for scenario in [
        "health Check, empty tonic server",
        "health Check (baseline)",
        "GetRelation |",
        "GetRelation, basic view",
        "GetRelation, typical pair",
        "GetRelation, busiest pair, basic view",
        "ListHistory",
        "ListRelations",
        "StreamHistory",
        "CreateEvent",
    ] {
        let row = table
            .lines()
            .find(|l| l.starts_with(&format!("| {scenario}")))
            .unwrap_or_else(|| panic!("no row for {scenario} in\n{table}"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let calls_per_second: f64 = cells[2].parse().expect("calls/s");
        assert!(calls_per_second > 0.0, "{row}");
        let client_cpu: f64 = cells[10].parse().expect("client CPU µs/call");
        assert!(client_cpu >= 0.0, "{row}");
        assert_eq!(cells[12], "0", "no errors: {row}");
        let to_empty: f64 = cells[13]
            .split_whitespace()
            .next()
            .and_then(|r| r.parse().ok())
            .unwrap_or_else(|| panic!("a ratio to the empty tonic server: {row}"));
        assert!(to_empty > 0.0, "{row}");
    }
    assert!(
        table.contains("bytes/record") && table.contains("start to first GetRelation answer"),
        "{table}"
    );
    // The server's memory at its first answer, after the run and at its
    // peak, read from /proc: numbers, not "?".
    for figure in ["at that answer: ", "after the run: ", "peak: "] {
        let kib: u64 = table
            .split(figure)
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|number| number.parse().ok())
            .unwrap_or_else(|| panic!("no {figure}<KiB> in\n{table}"));
        assert!(kib > 0, "{figure}{kib}");
    }
    // sled alone on the same files, from a process of its own, and the
    // server's figures as ratios to it.
    assert!(
        table.contains("sled alone opening the same files: resident ")
            && table.contains("the server at its first answer "),
        "{table}"
    );
}

/// The soak's 60-second form (#29): the sampler, the writes (a fixed set
/// rewritten), the reads beside them and the report work, and the picture
/// is drawn; whether memory levels off is the long
/// run's question (BENCHMARKS.md), not this one's.
#[test]
fn a_soak_samples_memory_every_second_while_writing_and_draws_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("generated.jsonl");
    run_ok(
        tools()
            .args(["generate", "--seed", "4", "--scale", "0.001", "--output"])
            .arg(&file),
    );
    let data = imported(&file, dir.path());
    let svg = dir.path().join("soak.svg");
    let output = run_ok(
        tools()
            .args([
                "soak",
                "--seed",
                "4",
                "--duration-secs",
                "60",
                "--writers",
                "4",
            ])
            .arg("--server-bin")
            .arg(server_binary())
            .arg("--data-dir")
            .arg(&data)
            .arg("--svg")
            .arg(&svg),
    );
    let report = String::from_utf8_lossy(&output.stdout);
    let verdict = report
        .lines()
        .find(|l| l.starts_with("== soak: "))
        .unwrap_or_else(|| panic!("no verdict in\n{report}"));
    let number_after = |label: &str| -> f64 {
        verdict
            .split(label)
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.trim_start_matches('+').parse().ok())
            .unwrap_or_else(|| panic!("no {label:?} in {verdict}"))
    };
    let samples = number_after("== soak: ");
    assert!(
        (55.0..=62.0).contains(&samples),
        "a sample a second for 60 s: {verdict}"
    );
    // Each writer creates its window of 16 events first, so more writes
    // than that, without errors, means the rewrites succeeded too.
    assert!(
        number_after("samples; ") > 4.0 * 16.0,
        "writes were made, past the first window: {verdict}"
    );
    assert!(
        verdict.contains("durable writes (UpdateEvent over a fixed set, durable: "),
        "by default the writes keep the data the same size: {verdict}"
    );
    assert!(
        number_after("errors); ") > 0.0,
        "reads were made beside the writes: {verdict}"
    );
    assert_eq!(
        verdict.matches(" 0 errors)").count(),
        2,
        "neither writes nor reads failed: {verdict}"
    );
    assert!(verdict.contains("slowest "), "the slowest call: {verdict}");
    assert!(
        verdict.contains("of the budget (384 MiB: caches and 64 MiB fixed)"),
        "the budget is the two caches and the fixed overhead: {verdict}"
    );
    assert!(report.contains("| second | resident MiB |"), "{report}");
    let picture = std::fs::read_to_string(&svg).expect("the SVG was written");
    assert!(
        picture.starts_with("<svg") && picture.contains("polyline"),
        "a line drawn: {}",
        &picture[..picture.len().min(300)]
    );
}

#[test]
fn the_load_generator_names_a_missing_server_binary() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = tools()
        .args(["bench", "--server-bin"])
        .arg(dir.path().join("nothing-here"))
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no diplomacy server binary at") && stderr.contains("--server-bin"),
        "{stderr}"
    );
}
