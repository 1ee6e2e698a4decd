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
    let data = dir.path().join("data");
    run_ok(
        Command::new(server_binary())
            .arg("import")
            .arg(&file)
            .arg("--data-dir")
            .arg(&data),
    );
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
