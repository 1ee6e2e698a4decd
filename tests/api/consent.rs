//! Treaties between two parties, as the UN Treaty Collection records them:
//! a treaty binds a pair only while it is in force for both (each party's
//! consent, its own entry into force, its withdrawal), and an end at a
//! partial date runs to the end of that period. Against the real server,
//! over records this test writes; one line of reason each.

use diplomacy::convert::date_to_pb;
use diplomacy::domain::PartialDate;
use diplomacy::pb::diplomacy::v1::record::Kind;
use diplomacy::pb::diplomacy::v1::*;
use tonic::Code;

use crate::helpers::*;

pub fn d(text: &str) -> Option<diplomacy::pb::google::r#type::Date> {
    Some(date_to_pb(text.parse::<PartialDate>().expect(text)))
}

pub fn source() -> Vec<Source> {
    vec![Source {
        title: "Treaties in time: expert cases".into(),
        publisher: "diplomacy test suite".into(),
        ..Default::default()
    }]
}

/// A state that exists throughout, so that only treaties decide.
fn state(id: &str) -> Record {
    Record {
        kind: Some(Kind::Country(Country {
            name: format!("countries/{id}"),
            display_name: id.into(),
            existence: vec![StatePeriod::default()],
            sources: source(),
            ..Default::default()
        })),
    }
}

/// A party: `signed`, then `(kind, consent)`, its own entry into force and
/// its withdrawal, any of them absent.
fn party(
    id: &str,
    signed: Option<&str>,
    consent: Option<(ConsentKind, &str)>,
    in_force: Option<&str>,
    withdrawal: Option<&str>,
) -> TreatyParty {
    TreatyParty {
        country: format!("countries/{id}"),
        signature_date: signed.and_then(d),
        consent_kind: consent.map_or(0, |(kind, _)| kind as i32),
        consent_date: consent.and_then(|(_, date)| d(date)),
        entry_into_force_date: in_force.and_then(d),
        withdrawal_date: withdrawal.and_then(d),
        ..Default::default()
    }
}

fn treaty(
    id: &str,
    signed: &str,
    in_force: Option<&str>,
    ended: Option<&str>,
    parties: Vec<TreatyParty>,
) -> Treaty {
    Treaty {
        name: format!("treaties/{id}"),
        title: id.into(),
        kind: TreatyKind::Other as i32,
        status: if ended.is_some() {
            TreatyStatus::Terminated
        } else {
            TreatyStatus::InForce
        } as i32,
        signed_date: d(signed),
        entry_into_force_date: in_force.and_then(d),
        termination_date: ended.and_then(d),
        parties,
        sources: source(),
        ..Default::default()
    }
}

use ConsentKind::{Accession, Ratification};

pub fn world() -> Vec<Record> {
    let mut records: Vec<Record> = ["FR", "DE", "US", "GB", "BI", "PH", "PS", "AM", "AZ"]
        .into_iter()
        .map(state)
        .collect();
    let treaties = [
        // Versailles: the United States signed and never ratified.
        treaty(
            "versailles",
            "1919-06-28",
            Some("1920-01-10"),
            None,
            vec![
                party(
                    "FR",
                    Some("1919-06-28"),
                    Some((Ratification, "1919-10-13")),
                    None,
                    None,
                ),
                party(
                    "DE",
                    Some("1919-06-28"),
                    Some((Ratification, "1919-07-09")),
                    None,
                    None,
                ),
                party(
                    "GB",
                    Some("1919-06-28"),
                    Some((Ratification, "1919-07-31")),
                    None,
                    None,
                ),
                party("US", Some("1919-06-28"), None, None, None),
            ],
        ),
        // The Rome Statute: late ratifications bound from their own dates,
        // two withdrawals, one accession.
        treaty(
            "rome-statute",
            "1998-07-17",
            Some("2002-07-01"),
            None,
            vec![
                party(
                    "FR",
                    Some("1998-07-18"),
                    Some((Ratification, "2000-06-09")),
                    None,
                    None,
                ),
                party(
                    "BI",
                    Some("1999-01-13"),
                    Some((Ratification, "2004-09-21")),
                    Some("2004-12-01"),
                    Some("2017-10-27"),
                ),
                party(
                    "PH",
                    Some("2000-12-28"),
                    Some((Ratification, "2011-08-30")),
                    Some("2011-11-01"),
                    Some("2019-03-17"),
                ),
                party(
                    "PS",
                    None,
                    Some((Accession, "2015-01-02")),
                    Some("2015-04-01"),
                    None,
                ),
            ],
        ),
        // Ended at month precision: in force through the whole month.
        treaty(
            "month-end",
            "2000-01-01",
            Some("2000-01-01"),
            Some("2018-03"),
            vec![
                party("AM", None, None, None, None),
                party("AZ", None, None, None, None),
            ],
        ),
    ];
    records.extend(treaties.into_iter().map(|t| Record {
        kind: Some(Kind::Treaty(t)),
    }));
    records.push(Record {
        kind: Some(Kind::Event(Event {
            name: "events/war-to-june".into(),
            title: "A war that ended in June 1999".into(),
            kind: EventKind::ArmedConflict as i32,
            start_date: d("1998-03"),
            end_date: d("1999-06"),
            actor: "countries/FR".into(),
            counterparts: vec!["countries/GB".into()],
            sources: source(),
            ..Default::default()
        })),
    });
    records
}

struct Case {
    a: &'static str,
    b: &'static str,
    as_of: &'static str,
    /// The treaties in force between them, by id.
    treaties: &'static [&'static str],
    why: &'static str,
}

const CASES: &[Case] = &[
    Case {
        a: "FR",
        b: "DE",
        as_of: "1919-12-31",
        treaties: &[],
        why: "both ratified, but the treaty itself was not yet in force",
    },
    Case {
        a: "FR",
        b: "DE",
        as_of: "1920-01-10",
        treaties: &["versailles"],
        why: "in force from its entry into force for two parties that ratified",
    },
    Case {
        a: "FR",
        b: "US",
        as_of: "1921",
        treaties: &[],
        why: "signed by both, ratified by France only: it never bound the pair",
    },
    Case {
        a: "DE",
        b: "US",
        as_of: "1925",
        treaties: &[],
        why: "a signatory that never consented is bound with no one",
    },
    Case {
        a: "FR",
        b: "GB",
        as_of: "1920-06",
        treaties: &["versailles"],
        why: "every pair of consenting parties is bound",
    },
    Case {
        a: "FR",
        b: "BI",
        as_of: "2003",
        treaties: &[],
        why: "Burundi had not yet ratified",
    },
    Case {
        a: "FR",
        b: "BI",
        as_of: "2004-11-30",
        treaties: &[],
        why: "ratified, but in force for Burundi only from 2004-12-01",
    },
    Case {
        a: "FR",
        b: "BI",
        as_of: "2004-12-01",
        treaties: &["rome-statute"],
        why: "in force for both from Burundi's own date",
    },
    Case {
        a: "FR",
        b: "BI",
        as_of: "2017-10-27",
        treaties: &[],
        why: "Burundi's withdrawal took effect that day",
    },
    Case {
        a: "FR",
        b: "PH",
        as_of: "2011-10",
        treaties: &[],
        why: "a late ratification binds from its own entry into force",
    },
    Case {
        a: "FR",
        b: "PH",
        as_of: "2012",
        treaties: &["rome-statute"],
        why: "both bound in 2012",
    },
    Case {
        a: "FR",
        b: "PH",
        as_of: "2020",
        treaties: &[],
        why: "the Philippines withdrew in 2019",
    },
    Case {
        a: "BI",
        b: "PH",
        as_of: "2015",
        treaties: &["rome-statute"],
        why: "two late parties bound to each other while both were in",
    },
    Case {
        a: "BI",
        b: "PH",
        as_of: "2018",
        treaties: &[],
        why: "one withdrawal ends the pair's tie",
    },
    Case {
        a: "FR",
        b: "PS",
        as_of: "2015-03",
        treaties: &[],
        why: "an accession binds from its own entry into force, not its deposit",
    },
    Case {
        a: "FR",
        b: "PS",
        as_of: "2016",
        treaties: &["rome-statute"],
        why: "Palestine acceded without signing",
    },
    Case {
        a: "AM",
        b: "AZ",
        as_of: "2018-03-31",
        treaties: &["month-end"],
        why: "a termination dated only to a month runs to the month's end",
    },
    Case {
        a: "AM",
        b: "AZ",
        as_of: "2018-04-01",
        treaties: &[],
        why: "and not past it",
    },
];

pub async fn relation(server: &TestServer, a: &str, b: &str, as_of: &str) -> Relation {
    server
        .relations()
        .get_relation(GetRelationRequest {
            name: format!("countries/{a}/relations/{b}"),
            as_of: d(as_of),
            ..Default::default()
        })
        .await
        .expect("relation")
        .into_inner()
}

#[tokio::test]
async fn expert_cases_of_consent_per_party() {
    let server = spawn_empty().await;
    import_all(&server, world()).await;
    let mut failures = Vec::new();
    for case in CASES {
        let relation = relation(&server, case.a, case.b, case.as_of).await;
        let got: Vec<&str> = relation
            .treaties_in_force
            .iter()
            .map(|t| t.name.trim_start_matches("treaties/"))
            .collect();
        if got != case.treaties {
            failures.push(format!(
                "{}–{} on {}: {} — got {got:?}",
                case.a, case.b, case.as_of, case.why
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_war_ending_in_a_month_covers_the_whole_month() {
    let server = spawn_empty().await;
    import_all(&server, world()).await;
    assert_eq!(
        relation(&server, "FR", "GB", "1999-06-30")
            .await
            .armed_conflicts_count,
        1
    );
    assert_eq!(
        relation(&server, "FR", "GB", "1999-07-01")
            .await
            .armed_conflicts_count,
        0
    );
}

#[tokio::test]
async fn inconsistent_party_dates_are_refused_naming_the_field_and_nothing_is_written() {
    let server = spawn_empty().await;
    let bad =
        |parties: Vec<TreatyParty>| treaty("bad", "2000-01-01", Some("2001-01-01"), None, parties);
    let ok = || {
        party(
            "FR",
            Some("2000-01-01"),
            Some((Ratification, "2000-06-01")),
            None,
            None,
        )
    };
    for (parties, field) in [
        (
            vec![
                party(
                    "DE",
                    Some("2000-01-01"),
                    Some((Ratification, "1999-12-31")),
                    None,
                    None,
                ),
                ok(),
            ],
            "treaty.parties[0].consent_date",
        ),
        (
            vec![
                party(
                    "DE",
                    Some("2000-01-01"),
                    Some((Ratification, "2000-03-01")),
                    Some("2000-12-31"),
                    None,
                ),
                ok(),
            ],
            "treaty.parties[0].entry_into_force_date",
        ),
        (
            vec![
                party(
                    "DE",
                    Some("2000-01-01"),
                    Some((Ratification, "2003-01-01")),
                    None,
                    Some("2002-01-01"),
                ),
                ok(),
            ],
            "treaty.parties[0].withdrawal_date",
        ),
        (
            vec![
                TreatyParty {
                    consent_kind: 0,
                    ..party(
                        "DE",
                        Some("2000-01-01"),
                        Some((Ratification, "2000-03-01")),
                        None,
                        None,
                    )
                },
                ok(),
            ],
            "treaty.parties[0].consent_kind",
        ),
    ] {
        assert_treaty_refused(&server, bad(parties), field).await;
    }
}

/// Asserts that creating `treaty` fails with INVALID_ARGUMENT naming
/// `field`, and that nothing was written.
pub async fn assert_treaty_refused(server: &TestServer, treaty: Treaty, field: &str) {
    let id = treaty.name.trim_start_matches("treaties/").to_string();
    let status = server
        .treaties()
        .create_treaty(CreateTreatyRequest {
            treaty: Some(treaty),
            treaty_id: id.clone(),
        })
        .await
        .expect_err(field);
    assert_bad_field(&status, field);
    let absent = server
        .treaties()
        .get_treaty(GetTreatyRequest {
            name: format!("treaties/{id}"),
        })
        .await
        .expect_err("nothing written");
    assert_eq!(absent.code(), Code::NotFound);
}
