//! More real data in and out: COW Formal Alliances and Wikidata's
//! diplomatic relations in, dyad-year and country-year panels out. Each
//! import runs the real binary on a data dir the real server seeded, and
//! the answers come from the real server afterwards.

use std::path::Path;
use std::process::Output;

use diplomacy::pb::diplomacy::v1::*;

use crate::actors::relation;
use crate::consent::d;
use crate::helpers::*;

fn fixture(path: &str) -> String {
    format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))
}

fn diplomacy(args: &[&str], dir: &Path) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_diplomacy"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .expect("the binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn import(format: &str, file: &str, dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["import", "--format", format];
    args.extend(extra);
    args.push(file);
    diplomacy(&args, dir)
}

#[tokio::test(flavor = "multi_thread")]
async fn cow_alliances_import_with_obligations_by_direction_and_once() {
    let dir = spawn_seeded().await.stop().await;
    let file = fixture("cow-alliance/alliance-fixture.csv");
    let first = import("cow-alliance", &file, dir.path(), &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("3 written (3 created, 0 updated)"),
        "the summary says what was created: {}",
        stderr(&first)
    );
    let again = import("cow-alliance", &file, dir.path(), &[]);
    assert!(
        stderr(&again).contains("0 written (0 created, 0 updated), 3 unchanged"),
        "importing twice changes nothing: {}",
        stderr(&again)
    );

    let bad = fixture("cow-alliance/alliance-bad-rows.csv");
    let refused = import("cow-alliance", &bad, dir.path(), &[]);
    assert!(!refused.status.success(), "all or nothing by default");
    let skipped = import("cow-alliance", &bad, dir.path(), &["--best-effort"]);
    let report = stderr(&skipped);
    assert!(skipped.status.success(), "{report}");
    // (line, reason)
    for (line, reason) in [
        ("line 8", "fields"),
        ("line 9", "\"USA\" is not a number"),
        ("line 10", "COW code 999 matches no country"),
        ("line 11", "has no day 30"),
    ] {
        assert!(
            report
                .lines()
                .any(|l| l.starts_with(&format!("skipped {line}:")) && l.contains(reason)),
            "{line} reported with its reason ({reason}): {report}"
        );
    }
    let wrong = import(
        "cow-alliance",
        &fixture("cow-dipex/dipex-fixture.csv"),
        dir.path(),
        &[],
    );
    assert!(!wrong.status.success());
    assert!(
        stderr(&wrong).contains("version4id,ccode1,state_name1,ccode2"),
        "refused at the header, naming the expected columns: {}",
        stderr(&wrong)
    );

    let server = spawn(dir, false).await;
    let asymmetric = server
        .treaties()
        .get_treaty(GetTreatyRequest {
            name: "treaties/cow-alliance-9003".into(),
        })
        .await
        .expect("a deterministic id")
        .into_inner();
    assert_eq!(asymmetric.kind(), TreatyKind::Alliance);
    assert_eq!(asymmetric.cow_alliance_id, 9003);
    let pledges: Vec<(&str, bool, bool)> = asymmetric
        .alliance_obligations
        .iter()
        .map(|o| (o.party.as_str(), o.defense, o.entente))
        .collect();
    assert_eq!(
        pledges,
        [("countries/AZ", false, true), ("countries/TR", true, true)],
        "obligations kept per direction"
    );
    assert_eq!(
        asymmetric.alliance_obligations[0].start_date,
        d("2010"),
        "-9 for day and month: year precision"
    );
    assert_eq!(asymmetric.status(), TreatyStatus::Terminated);
    let armenia = server
        .treaties()
        .get_treaty(GetTreatyRequest {
            name: "treaties/cow-alliance-9002".into(),
        })
        .await
        .expect("9002")
        .into_inner();
    assert_eq!(
        armenia.signed_date,
        d("1997-08"),
        "-9 for the day: month precision"
    );
    assert!(
        armenia.alliance_obligations[0].right_censored,
        "censoring kept"
    );
    assert!(armenia.sources[0].title.contains("version 4.1"));
    // (pair, day, allied, why)
    let cases = [
        (
            "countries/US/relations/TR",
            "2000-01-01",
            true,
            "9001 in force since 1952-02-18",
        ),
        (
            "countries/US/relations/TR",
            "1952-02-17",
            false,
            "the day before",
        ),
        (
            "countries/AM/relations/RU",
            "1998-01-01",
            true,
            "9002 from 1997-08",
        ),
        (
            "countries/AZ/relations/TR",
            "2016-06-01",
            false,
            "9003 ended 2015-12-31 (the Shusha Declaration comes in 2021)",
        ),
    ];
    for (pair, day, allied, why) in cases {
        assert_eq!(
            relation(&server, pair, day).await.allied,
            allied,
            "{pair} {day}: {why}"
        );
    }
    let dir = server.stop().await;
    assert_consistent(dir.path()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wikidata_relations_import_at_their_precision_and_link_countries_to_items() {
    let dir = spawn_seeded().await.stop().await;
    let file = fixture("wikidata/p530-fixture.json");
    let first = import("wikidata-p530", &file, dir.path(), &[]);
    let report = stderr(&first);
    assert!(first.status.success(), "{report}");
    assert!(
        report.contains("7 Wikidata statements")
            && report.contains("1 naming an item no country matches")
            && report.contains("1 dates coarser than a year")
            && report.contains("1 undated"),
        "{report}"
    );
    let again = import("wikidata-p530", &file, dir.path(), &[]);
    assert!(stderr(&again).contains("0 written"), "{}", stderr(&again));
    let wrong = import(
        "wikidata-p530",
        &fixture("cow-alliance/alliance-fixture.csv"),
        dir.path(),
        &[],
    );
    assert!(!wrong.status.success());
    assert!(
        stderr(&wrong).contains("country, countryIso, partner, partnerIso"),
        "{}",
        stderr(&wrong)
    );

    let server = spawn(dir, false).await;
    // (pair, day, status, since, why)
    let cases = [
        (
            "countries/US/relations/CU",
            "1950-01-01",
            DiplomaticStatus::Established,
            d("1902-05-20"),
            "a start known to its year counts from the day both existed (Cuba from 1902-05-20)",
        ),
        (
            "countries/US/relations/CU",
            "1980-01-01",
            DiplomaticStatus::Severed,
            d("1961-01-03"),
            "the statement's end",
        ),
        (
            "countries/US/relations/CU",
            "2016-01-01",
            DiplomaticStatus::Established,
            d("2015-07-20"),
            "a second statement, given on both items, imported once",
        ),
        (
            "countries/AM/relations/RU",
            "2000-01-01",
            DiplomaticStatus::Established,
            d("1992-04-03"),
            "matched by the items' ISO codes",
        ),
    ];
    for (pair, day, status, since, why) in cases {
        let answer = relation(&server, pair, day).await;
        assert_eq!(answer.diplomatic_status(), status, "{pair} {day}: {why}");
        assert_eq!(answer.status_since, since, "{pair} {day}: {why}");
    }
    let us = server
        .countries()
        .get_country(GetCountryRequest {
            name: "countries/US".into(),
        })
        .await
        .expect("US")
        .into_inner();
    assert_eq!(us.wikidata_id, "Q30", "linked through Wikidata's own P297");
    assert!(us.sources.iter().any(|s| s.publisher.contains("Wikidata")));
    let established = server
        .events()
        .get_event(GetEventRequest {
            name: "events/wikidata-q241-q30-established-1902".into(),
        })
        .await
        .expect("a deterministic id from the items and the date at its precision")
        .into_inner();
    assert_eq!(established.kind(), EventKind::RelationsEstablished);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn panels_have_one_row_per_dyad_year_valued_on_the_last_common_day() {
    let dir = spawn_seeded().await.stop().await;
    let out = dir.path().join("dyads.csv");
    let export = |format: &str, extra: &[&str]| {
        let mut args = vec![
            "export",
            "--format",
            format,
            "--from",
            "1990",
            "--to",
            "1992",
            "--countries",
            "AM,AZ,DD,DE,SU,RU",
            "--output",
        ];
        let out = out.to_str().expect("utf-8 path");
        args.push(out);
        args.extend(extra);
        let done = diplomacy(&args, dir.path());
        assert!(done.status.success(), "{}", stderr(&done));
        std::fs::read_to_string(out).expect("the panel")
    };
    let dyads = export("dyad-year-csv", &[]);
    let rows: Vec<Vec<&str>> = dyads.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[0][..4], ["year", "valued_on", "country1", "country2"]);
    let row = |year: &str, a: &str, b: &str| {
        rows.iter()
            .find(|r| r[0] == year && r[2] == a && r[3] == b)
            .unwrap_or_else(|| panic!("no row {year} {a} {b} in {dyads}"))
    };
    assert_eq!(
        row("1990", "DD", "DE")[1],
        "1990-10-02",
        "the GDR's last day"
    );
    assert_eq!(
        row("1990", "DD", "DE")[4..6],
        ["265", "260"],
        "COW codes of the day"
    );
    assert_eq!(
        row("1991", "AM", "SU")[1],
        "1991-12-25",
        "the USSR's last day"
    );
    assert!(
        !rows.iter().any(|r| r[2] == "RU" && r[3] == "SU"),
        "Russia (from 1991-12-26) never existed on a day with the USSR it continues"
    );
    assert_eq!(row("1992", "AM", "AZ")[6], "NONE", "F07");
    assert_eq!(row("1992", "AM", "AZ")[17], "1", "at war (C01)");
    assert!(
        !rows
            .iter()
            .any(|r| r[0] == "1991" && (r[2] == "DD" || r[3] == "DD")),
        "no GDR rows after 1990"
    );
    assert!(
        !rows.iter().any(|r| r[2] == "AZ" && r[3] == "AM"),
        "undirected: each pair once, in code order"
    );
    let directed = export("dyad-year-csv", &["--directed"]);
    assert_eq!(
        directed.lines().count() - 1,
        2 * (dyads.lines().count() - 1),
        "directed: both orders"
    );
    let countries = export("country-year-csv", &[]);
    let am_1992 = countries
        .lines()
        .find(|l| l.starts_with("1992,") && l.contains(",AM,"))
        .expect("Armenia in 1992");
    assert!(am_1992.starts_with("1992,1992-12-31,AM,371,"), "{am_1992}");
}

#[tokio::test]
async fn alliance_obligations_outside_an_alliance_or_its_parties_are_refused() {
    let server = spawn_seeded().await;
    let obligation = |party: &str, toward: &str| AllianceObligation {
        party: format!("countries/{party}"),
        toward: format!("countries/{toward}"),
        defense: true,
        start_date: d("2000-01-01"),
        ..Default::default()
    };
    let treaty = |kind: TreatyKind, obligations: Vec<AllianceObligation>| Treaty {
        title: "Obligations (test record)".into(),
        kind: kind as i32,
        status: TreatyStatus::InForce as i32,
        signed_date: d("2000-01-01"),
        parties: ["FR", "DE"]
            .iter()
            .map(|c| TreatyParty {
                country: format!("countries/{c}"),
                ..Default::default()
            })
            .collect(),
        alliance_obligations: obligations,
        sources: crate::consent::source(),
        ..Default::default()
    };
    // (treaty, field, why)
    let cases = [
        (
            treaty(TreatyKind::Trade, vec![obligation("FR", "DE")]),
            "treaty.alliance_obligations",
            "only an alliance has obligations",
        ),
        (
            treaty(TreatyKind::Alliance, vec![obligation("FR", "IT")]),
            "treaty.alliance_obligations[0].toward",
            "Italy is not a party",
        ),
        (
            treaty(TreatyKind::Alliance, vec![obligation("FR", "FR")]),
            "treaty.alliance_obligations[0].toward",
            "no obligation toward itself",
        ),
        (
            treaty(
                TreatyKind::Alliance,
                vec![obligation("FR", "DE"), obligation("FR", "DE")],
            ),
            "treaty.alliance_obligations[1].start_date",
            "the same direction and start twice",
        ),
    ];
    for (i, (t, field, why)) in cases.into_iter().enumerate() {
        let status = server
            .treaties()
            .create_treaty(CreateTreatyRequest {
                treaty: Some(t),
                treaty_id: format!("obligations-{i}"),
            })
            .await
            .expect_err(why);
        assert_bad_field(&status, field);
    }
    let accepted = server
        .treaties()
        .create_treaty(CreateTreatyRequest {
            treaty: Some(treaty(
                TreatyKind::Alliance,
                vec![obligation("FR", "DE"), obligation("DE", "FR")],
            )),
            treaty_id: "obligations-ok".into(),
        })
        .await
        .expect("one obligation each way")
        .into_inner();
    assert_eq!(accepted.alliance_obligations.len(), 2);
}
