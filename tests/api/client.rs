//! The client commands of the `diplomacy` binary (`relation`, `history`,
//! `get`, `list`, `search`, `lookup`, `watch`) against the real server: every command
//! and output format, countries by name, paging, errors and exit codes.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::cli::{start_binary, ServerProcess};

/// A server on the seed data, and how to run client commands against it.
struct Client {
    _server: ServerProcess,
    _dir: tempfile::TempDir,
    address: String,
}

impl Client {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (server, address) = start_binary(dir.path());
        Self {
            _server: server,
            _dir: dir,
            address,
        }
    }

    /// Runs `diplomacy ARGS --server ADDRESS`: exit code, stdout, stderr.
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        run_against(&self.address, args)
    }

    fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "{args:?} failed: {err}");
        out
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.ok(&[args, &["-o", "json"]].concat());
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("{args:?}: not one JSON object ({e}): {out}"))
    }

    fn json_lines(&self, args: &[&str]) -> Vec<serde_json::Value> {
        self.ok(&[args, &["-o", "json"]].concat())
            .lines()
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
            })
            .collect()
    }
}

fn run_against(address: &str, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_diplomacy"))
        .args(args)
        .args(["--server", address])
        .env_remove("DIPLOMACY_SERVER")
        .env_remove("NO_COLOR")
        .output()
        .expect("run diplomacy");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_relation_is_a_card_of_its_answer_whatever_the_countries_are_called() {
    let client = Client::start();
    // Every common way to name Türkiye, and Armenia by name.
    for turkiye in [
        "TR",
        "tr",
        "countries/TR",
        "Türkiye",
        "Turkiye",
        "Turkey",
        "TUR",
        "792",
    ] {
        let relation = client.json(&["relation", turkiye, "Armenia", "--as-of", "2009-10-10"]);
        assert_eq!(relation["name"], "countries/TR/relations/AM", "{turkiye}");
        assert_eq!(relation["diplomatic_status"], "DIPLOMATIC_STATUS_NONE");
        assert_eq!(
            relation["status_since"],
            serde_json::json!({"year": 1991, "month": 12})
        );
    }
    let card = client.ok(&[
        "relation",
        "Türkiye",
        "AZ",
        "--as-of",
        "2022-01-01",
        "-o",
        "table",
    ]);
    assert!(
        card.starts_with("Türkiye (TR) and Azerbaijan (AZ), as of 2022-01-01"),
        "{card}"
    );
    for line in [
        "diplomatic status",
        "ESTABLISHED",
        "status since",
        "1992-01-14",
        "allied",
        "yes",
    ] {
        assert!(card.contains(line), "{line} in\n{card}");
    }
    assert!(
        card.contains("treaties in force (1)") && card.contains("Shusha Declaration"),
        "listed treaties as a table:\n{card}"
    );
    assert!(
        !card.contains('\u{1b}'),
        "no colour off a terminal:\n{card}"
    );
    let basic = client.json(&["relation", "TR", "AZ", "--as-of", "2022-01-01", "--basic"]);
    assert!(basic.get("treaties_in_force").is_none(), "{basic}");
    assert_eq!(basic["treaties_in_force_count"], 1);
    let yaml = client.ok(&[
        "relation",
        "TR",
        "AZ",
        "--as-of",
        "2022-01-01",
        "-o",
        "yaml",
    ]);
    assert!(
        yaml.contains("diplomatic_status: DIPLOMATIC_STATUS_ESTABLISHED"),
        "{yaml}"
    );
    let wide = client.ok(&[
        "relation",
        "TR",
        "AZ",
        "--as-of",
        "2022-01-01",
        "-o",
        "wide",
    ]);
    assert!(
        wide.contains("source records"),
        "wide shows every field:\n{wide}"
    );
}

#[test]
fn a_history_pages_through_the_server_on_its_own() {
    let client = Client::start();
    let all = client.json_lines(&["history", "Armenia", "Azerbaijan"]);
    let paged = client.json_lines(&["history", "AM", "AZ", "--page-size", "2"]);
    assert!(all.len() > 4, "{all:?}");
    assert_eq!(paged, all, "pages of two give the same entries, in order");
    let dates: Vec<String> = all.iter().map(|e| e["date"]["year"].to_string()).collect();
    let mut sorted = dates.clone();
    sorted.sort();
    assert_eq!(dates, sorted, "date order");
    let meetings = client.json_lines(&[
        "history", "AZ", "--kind", "meeting", "--from", "2024", "--to", "2024",
    ]);
    assert!(!meetings.is_empty());
    assert!(meetings
        .iter()
        .all(|e| e["kind"] == "HISTORY_ENTRY_KIND_MEETING" && e["date"]["year"] == 2024));
    assert_eq!(
        client
            .json_lines(&["history", "AM", "AZ", "--limit", "3"])
            .len(),
        3
    );
    let table = client.ok(&["history", "AM", "AZ", "--limit", "3", "-o", "table"]);
    let header = table.lines().next().expect("a header");
    for column in ["DATE", "KIND", "TITLE", "RECORD"] {
        assert!(header.contains(column), "{header}");
    }
    assert_eq!(
        table.lines().count(),
        4,
        "a header and three rows:\n{table}"
    );
}

#[test]
fn get_list_and_search_cover_every_resource() {
    let client = Client::start();
    assert_eq!(
        client.json(&["get", "treaties/t02"])["name"],
        "treaties/t02"
    );
    assert_eq!(
        client.json(&["get", "countries/Turkey"])["name"],
        "countries/TR"
    );
    assert_eq!(
        client.json(&["get", "countries/TR/relations/AM"])["name"],
        "countries/TR/relations/AM"
    );
    let events = client.json_lines(&["list", "events", "--country", "Armenia"]);
    let meeting = client.json_lines(&["list", "meetings", "--limit", "1"]);
    assert_eq!(meeting.len(), 1);
    let meeting_name = meeting[0]["name"].as_str().expect("a name").to_string();
    assert_eq!(
        client.json(&["get", &meeting_name])["name"],
        meeting_name.as_str()
    );
    let event_name = events[0]["name"].as_str().expect("a name").to_string();
    assert_eq!(
        client.json(&["get", &event_name])["name"],
        event_name.as_str()
    );
    assert!(client
        .ok(&["get", "meetings/m01", "-o", "yaml"])
        .contains("name: meetings/m01"));
    assert_eq!(
        client.json(&["get", "actors/osce-minsk-group"])["name"],
        "actors/osce-minsk-group"
    );
    let france_in = client.json_lines(&["list", "actors", "--country", "France"]);
    assert_eq!(
        france_in
            .iter()
            .map(|a| a["name"].as_str().unwrap_or_default())
            .collect::<Vec<_>>(),
        ["actors/osce-minsk-group"],
        "the actors France has been a member of"
    );
    let actors = client.ok(&["list", "actors", "-o", "wide"]);
    assert!(
        actors.lines().next().is_some_and(|h| h.contains("MEMBERS")),
        "{actors}"
    );

    // Countries page by page (the server's pages are 200 here).
    let every = client.json_lines(&["list", "countries"]);
    assert!(every.len() > 250, "{}", every.len());
    let asia = client.json_lines(&["list", "countries", "--region", "Asia", "--current-only"]);
    assert!(asia
        .iter()
        .all(|c| c["region"] == "Asia" && c.get("end_date").is_none()));
    assert!(asia.len() > 40 && asia.len() < every.len());
    let treaties = client.json_lines(&["list", "treaties", "--country", "TR"]);
    assert!(treaties.iter().any(|t| t["name"] == "treaties/t02"));
    let wide = client.ok(&["list", "treaties", "-o", "wide"]);
    assert!(
        wide.lines().next().is_some_and(|h| h.contains("MEDIATORS")),
        "{wide}"
    );
    let narrow = client.ok(&["list", "treaties", "-o", "table"]);
    assert!(narrow
        .lines()
        .next()
        .is_some_and(|h| !h.contains("MEDIATORS")));

    let found = client.json_lines(&["search", "Korea"]);
    let names: Vec<&str> = found
        .iter()
        .filter_map(|m| m["country"]["name"].as_str())
        .collect();
    assert_eq!(&names[..2], ["countries/KP", "countries/KR"], "{found:?}");
    assert!(client
        .ok(&["search", "armenja", "-o", "table"])
        .contains("Armenia"));
}

#[test]
fn lookup_names_the_state_that_carried_a_code_on_a_date() {
    let client = Client::start();
    let ussr = client.json_lines(&["lookup", "cow-code", "365", "--date", "1980"]);
    assert_eq!(ussr.len(), 1);
    assert_eq!(ussr[0]["country"]["name"], "countries/SU");
    assert_eq!(ussr[0]["start_date"]["year"], 1922);
    let every = client.json_lines(&["lookup", "cow-code", "365"]);
    let names: Vec<&str> = every
        .iter()
        .filter_map(|m| m["country"]["name"].as_str())
        .collect();
    assert_eq!(names, ["countries/cow-rus", "countries/SU", "countries/RU"]);
    let table = client.ok(&["lookup", "iso-3166-3", "CSHH", "-o", "table"]);
    assert!(table.contains("countries/CSHH"), "{table}");
    let (code, _, err) = client.run(&["lookup", "bogus", "365"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("cow-code"), "{err}");
    let (code, _, err) = client.run(&["lookup", "cow-code", "999"]);
    assert_eq!(code, 4, "{err}");
}

#[test]
fn watch_follows_the_change_log_and_stops_when_asked() {
    let client = Client::start();
    let changes = client.json_lines(&["watch", "--limit", "3"]);
    assert_eq!(changes.len(), 3);
    let revisions: Vec<i64> = changes
        .iter()
        .map(|c| {
            c["revision"]
                .as_str()
                .and_then(|r| r.parse().ok())
                .expect("a revision")
        })
        .collect();
    assert_eq!(revisions, [1, 2, 3]);
    let later = client.json_lines(&[
        "watch",
        "--from-revision",
        "2",
        "--limit",
        "1",
        "--kind",
        "country",
    ]);
    assert_eq!(later[0]["revision"], "3");
    let table = client.ok(&["watch", "--limit", "2", "-o", "table"]);
    assert!(table.starts_with("REVISION"), "{table}");
    let treaties = client.json_lines(&[
        "watch",
        "--kind",
        "treaty",
        "--country",
        "Türkiye",
        "--limit",
        "1",
    ]);
    assert!(treaties[0]["name"]
        .as_str()
        .is_some_and(|n| n.starts_with("treaties/")));
}

#[test]
fn errors_are_one_line_with_the_documented_exit_code() {
    let client = Client::start();
    // 3: invalid argument, from the client (a date it cannot read) or the
    // server (a day that does not exist), with the field named.
    let (code, out, err) = client.run(&["relation", "TR", "AM", "--as-of", "10/10/2009"]);
    assert_eq!((code, out.as_str()), (3, ""), "{err}");
    assert!(
        err.starts_with("error: --as-of") && err.lines().count() == 1,
        "{err}"
    );
    let (code, _, err) = client.run(&["relation", "TR", "AM", "--as-of", "2024-02-30"]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("InvalidArgument") && err.contains("as_of"),
        "{err}"
    );
    let (code, _, err) = client.run(&["relation", "TR", "TR"]);
    assert_eq!(code, 3, "{err}");
    let (code, _, err) = client.run(&["history", "AM", "--kind", "party"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("meeting"), "the kinds it knows: {err}");
    let (code, _, err) = client.run(&["get", "presidents/1"]);
    assert_eq!(code, 3, "{err}");
    let (code, _, err) = client.run(&["relation", "Korea", "AM"]);
    assert_eq!(code, 3, "ambiguous: {err}");
    assert!(err.contains("KP") && err.contains("KR"), "{err}");
    // 4: not found, with candidates for a near miss.
    let (code, _, err) = client.run(&["relation", "Armenja", "Turkey"]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("did you mean Armenia (AM)"), "{err}");
    let (code, _, err) = client.run(&["relation", "Atlantis", "TR"]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("no country is called \"Atlantis\""), "{err}");
    let (code, _, err) = client.run(&["get", "treaties/no-such-treaty"]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("NotFound"), "{err}");
    // 2: usage, clap's own.
    let (code, _, _) = client.run(&["relation", "TR"]);
    assert_eq!(code, 2);
    let (code, _, _) = client.run(&["list", "presidents"]);
    assert_eq!(code, 2);
}

#[test]
fn a_server_that_is_down_is_exit_code_5_within_the_connect_timeout() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let started = Instant::now();
    let (code, out, err) = run_against(&format!("127.0.0.1:{port}"), &["relation", "TR", "AM"]);
    assert_eq!((code, out.as_str()), (5, ""), "{err}");
    assert!(
        err.starts_with(&format!(
            "error: cannot reach the server at 127.0.0.1:{port}"
        )),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(6));
}

#[test]
fn colour_only_when_asked_for_and_never_with_no_color() {
    let client = Client::start();
    let coloured = |no_color: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_diplomacy"));
        command
            .args([
                "relation",
                "TR",
                "AM",
                "-o",
                "table",
                "--server",
                &client.address,
            ])
            // What a terminal would get: colour forced on a pipe.
            .env("CLICOLOR_FORCE", "1");
        if no_color {
            command.env("NO_COLOR", "1");
        } else {
            command.env_remove("NO_COLOR");
        }
        let output = command.output().expect("run");
        assert!(output.status.success());
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert!(
        coloured(false).contains("\u{1b}[33mNONE"),
        "{}",
        coloured(false)
    );
    assert!(!coloured(true).contains('\u{1b}'), "{}", coloured(true));
}

#[test]
fn the_commands_speak_tls_and_mutual_tls_as_serve_does() {
    let (ca, server_pem, server_key, client_pem, client_key) = crate::mesh::certificate_chain();
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path.to_str().expect("a UTF-8 path").to_string()
    };
    let (ca, server_pem, server_key) = (
        write("ca.pem", &ca),
        write("server.pem", &server_pem),
        write("server.key", &server_key),
    );
    let (client_pem, client_key) = (
        write("client.pem", &client_pem),
        write("client.key", &client_key),
    );
    let (_server, ready) = crate::cli::spawn_until_ready(
        Command::new(env!("CARGO_BIN_EXE_diplomacy"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--drain-delay-secs",
                "0",
            ])
            .args([
                "--tls-cert",
                &server_pem,
                "--tls-key",
                &server_key,
                "--tls-client-ca",
                &ca,
            ])
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .stderr(std::process::Stdio::null()),
        &dir.path().join("ready.json"),
    );
    // The certificate names localhost.
    let address = format!("localhost:{}", ready.grpc.port());
    let tls = [
        "--tls-ca",
        &ca,
        "--tls-cert",
        &client_pem,
        "--tls-key",
        &client_key,
    ];
    let (code, out, err) = run_against(
        &address,
        &[&["relation", "TR", "AM", "-o", "json"][..], &tls].concat(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("countries/TR/relations/AM"), "{out}");
    // Without a client certificate the server refuses the connection.
    let (code, _, err) = run_against(&address, &["relation", "TR", "AM", "--tls-ca", &ca]);
    assert_ne!(code, 0);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    // Over plaintext, a TLS server does not answer gRPC.
    let (code, _, err) = run_against(&address, &["relation", "TR", "AM"]);
    assert_ne!(code, 0, "{err}");
}
