//! A database written before country ids grew past two letters (schema 4,
//! `tests/fixtures/schema4/`, written by the main branch at b990466: the
//! built-in countries, the seed dataset, a user country QZ and its event)
//! opens in place and answers every question it answered then, field for
//! field; the reference data then brings it the new facts in time.

use std::path::Path;
use std::process::Command;

use diplomacy::pb::diplomacy::v1::*;
use serde_json::Value;

use crate::helpers::*;

fn fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema4")
}

/// The fixture's database, unpacked into a new temporary data dir.
fn unpacked() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(fixture().join("data.tar.gz"))
        .arg("--strip-components=1")
        .arg("-C")
        .arg(dir.path())
        .status()
        .expect("tar runs");
    assert!(status.success(), "tar failed");
    dir
}

fn cli(args: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_diplomacy"))
        .args(args)
        .output()
        .expect("diplomacy runs");
    assert!(
        output.status.success(),
        "diplomacy {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("utf-8");
    let values: Vec<Value> = serde_json::Deserializer::from_str(&text)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .expect("JSON");
    if values.len() == 1 {
        values.into_iter().next().expect("one")
    } else {
        Value::Array(values)
    }
}

/// Every field `old` has, `new` has with the same value (new fields may be
/// added beside them); a list of names keeps every name it had (an answer
/// may rest on more records than it did: the treaties not in force it now
/// lists).
fn contains(new: &Value, old: &Value, path: &str) -> Vec<String> {
    match (new, old) {
        (Value::Object(new), Value::Object(old)) => old
            .iter()
            .flat_map(|(key, value)| match new.get(key) {
                Some(got) => contains(got, value, &format!("{path}.{key}")),
                None => vec![format!("{path}.{key} is gone")],
            })
            .collect(),
        (Value::Array(new), Value::Array(old)) if new.len() == old.len() => new
            .iter()
            .zip(old)
            .enumerate()
            .flat_map(|(i, (n, o))| contains(n, o, &format!("{path}[{i}]")))
            .collect(),
        (Value::Array(new), Value::Array(old)) if old.iter().all(Value::is_string) => old
            .iter()
            .filter(|name| !new.contains(name))
            .map(|name| format!("{path}: {name} is gone"))
            .collect(),
        _ if new == old => Vec::new(),
        _ => vec![format!("{path}: was {old}, now {new}")],
    }
}

// The client runs as a process and is waited for: the server needs threads
// of its own meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_4_database_opens_in_place_and_answers_as_it_did() {
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture().join("golden.json")).expect("golden answers"),
    )
    .expect("JSON");
    let server = spawn(unpacked(), true).await;
    let address = server.addr.to_string();
    let mut differences = Vec::new();
    for asked in golden["relations"].as_array().expect("relations") {
        let mut args: Vec<&str> = vec!["relation"];
        args.extend(
            asked["args"]
                .as_array()
                .expect("args")
                .iter()
                .map(|a| a.as_str().expect("text")),
        );
        args.extend(["--server", &address, "-o", "json"]);
        let answer = cli(&args);
        differences.extend(contains(&answer, &asked["answer"], &args[1..5].join(" ")));
    }
    for old in golden["countries"].as_array().expect("countries") {
        let name = old["name"].as_str().expect("name");
        let answer = cli(&["get", name, "--server", &address, "-o", "json"]);
        differences.extend(contains(&answer, old, name));
    }
    let history = cli(&["history", "AM", "AZ", "--server", &address, "-o", "json"]);
    differences.extend(contains(
        &history,
        &golden["history_am_az"],
        "history AM AZ",
    ));
    assert!(differences.is_empty(), "{}", differences.join("\n"));

    // Longer ids live beside the two-letter keys of schema 4.
    let relation = server
        .relations()
        .get_relation(GetRelationRequest {
            name: "countries/QZ/relations/FR".into(),
            as_of: date(2020, 1, 1),
            ..Default::default()
        })
        .await
        .expect("QZ–FR")
        .into_inner();
    assert_eq!(relation.diplomatic_status(), DiplomaticStatus::Established);

    // Schema 6 gave each party of a stored treaty the treaty's own start.
    let shusha = server
        .treaties()
        .get_treaty(GetTreatyRequest {
            name: "treaties/t04".into(),
        })
        .await
        .expect("t04")
        .into_inner();
    assert!(shusha
        .parties
        .iter()
        .all(|p| p.entry_into_force_date == date(2021, 6, 15)));

    let dir = server.stop().await;
    assert_consistent(dir.path()).await;
}

#[tokio::test]
async fn the_reference_states_bring_an_old_database_the_facts_in_time() {
    let dir = unpacked();
    let data_dir = dir.path().to_str().expect("utf-8 path").to_string();
    let states = dir.path().join("states.jsonl");
    let written = Command::new(env!("CARGO_BIN_EXE_diplomacy"))
        .args(["reference", "states", "--output"])
        .arg(&states)
        .status()
        .expect("reference runs");
    assert!(written.success());
    for args in [
        vec![
            "import",
            "--data-dir",
            &data_dir,
            states.to_str().expect("path"),
        ],
        vec![
            "import",
            "--data-dir",
            &data_dir,
            "--format",
            "cow-states",
            concat!(env!("CARGO_MANIFEST_DIR"), "/dataset/cow/states2016.csv"),
        ],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_diplomacy"))
            .args(&args)
            .output()
            .expect("import runs");
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let server = spawn(dir, true).await;
    let relation = server
        .relations()
        .get_relation(GetRelationRequest {
            name: "countries/AM/relations/AZ".into(),
            as_of: date(1980, 0, 0),
            ..Default::default()
        })
        .await
        .expect("AM–AZ")
        .into_inner();
    assert_eq!(
        relation.diplomatic_status(),
        DiplomaticStatus::NotApplicable
    );
    let user_country = server
        .countries()
        .get_country(GetCountryRequest {
            name: "countries/QZ".into(),
        })
        .await
        .expect("the user's own country stays")
        .into_inner();
    assert_eq!(user_country.display_name, "Testland");
}

#[test]
fn a_cow_states_file_with_a_wrong_header_is_refused_at_the_header() {
    let dir = unpacked();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "abb,code,name\nUSA,2,United States\n").expect("write");
    let output = Command::new(env!("CARGO_BIN_EXE_diplomacy"))
        .args(["import", "--format", "cow-states", "--data-dir"])
        .arg(dir.path())
        .arg(&bad)
        .output()
        .expect("import runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "stateabb,ccode,statenme,styear,stmonth,stday,endyear,endmonth,endday,version"
        ),
        "{stderr}"
    );
}
