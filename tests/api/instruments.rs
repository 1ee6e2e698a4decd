//! Instruments not in force are part of a relation: a treaty signed or
//! initialled and pending, one declared void, one that lapsed, and texts
//! never meant to enter into force (declarations, appeals). The seed as
//! corrected to the reference facts, and records this test writes; one line
//! of reason each.

use diplomacy::pb::diplomacy::v1::record::Kind;
use diplomacy::pb::diplomacy::v1::*;

use crate::consent::{assert_treaty_refused, d, relation, source};
use crate::helpers::*;

use TreatyNotInForceStanding as S;

fn instrument(
    id: &str,
    status: TreatyStatus,
    signed: &str,
    void: Option<&str>,
    non_binding: bool,
) -> Record {
    Record {
        kind: Some(Kind::Treaty(Treaty {
            name: format!("treaties/{id}"),
            title: id.into(),
            kind: TreatyKind::Other as i32,
            status: status as i32,
            signed_date: d(signed),
            void_date: void.and_then(d),
            non_binding,
            parties: ["countries/US", "countries/SU"]
                .map(|country| TreatyParty {
                    country: country.into(),
                    signature_date: d(signed),
                    ..Default::default()
                })
                .to_vec(),
            sources: source(),
            ..Default::default()
        })),
    }
}

fn outside_the_caucasus() -> Vec<Record> {
    vec![
        // SALT II: signed, never ratified; it would have expired at the end
        // of 1985.
        instrument(
            "salt-ii",
            TreatyStatus::Lapsed,
            "1979-06-18",
            Some("1985-12-31"),
            false,
        ),
        // The Helsinki Final Act: a political declaration.
        instrument(
            "helsinki-final-act",
            TreatyStatus::Signed,
            "1975-08-01",
            None,
            true,
        ),
    ]
}

struct Case {
    a: &'static str,
    b: &'static str,
    as_of: &'static str,
    /// `(treaty id, standing, since)` of `treaties_not_in_force`.
    listed: &'static [(&'static str, S, Option<&'static str>)],
    /// Treaties in force, by id.
    in_force: &'static [&'static str],
    why: &'static str,
}

const CASES: &[Case] = &[
    Case {
        a: "TR",
        b: "AM",
        as_of: "2009-10-09",
        listed: &[],
        in_force: &[],
        why: "the day before the Zurich Protocols were signed",
    },
    Case {
        a: "TR",
        b: "AM",
        as_of: "2012-01-01",
        listed: &[("t02", S::Signed, Some("2009-10-10"))],
        in_force: &[],
        why: "signed, never ratified: pending, and the core of the pair's relation",
    },
    Case {
        a: "TR",
        b: "AM",
        as_of: "2019-01-01",
        listed: &[("t02", S::Void, Some("2018-03-01"))],
        in_force: &[],
        why: "declared null and void as a whole on 2018-03-01, not a withdrawal",
    },
    Case {
        a: "AM",
        b: "AZ",
        as_of: "1994-05-08",
        listed: &[
            ("t06", S::Signed, Some("1994-05")),
            ("t01", S::NonBinding, Some("1994-05-05")),
        ],
        in_force: &[],
        why: "the Bishkek Protocol is an appeal, and the ceasefire agreement signed in May (dated to the month) is not in force before the 12th",
    },
    Case {
        a: "AM",
        b: "AZ",
        as_of: "1994-05-12",
        listed: &[("t01", S::NonBinding, Some("1994-05-05"))],
        in_force: &["t06"],
        why: "the ceasefire agreement in effect from 1994-05-12, counted once",
    },
    Case {
        a: "AM",
        b: "AZ",
        as_of: "2024-05-01",
        listed: &[
            ("t01", S::NonBinding, Some("1994-05-05")),
            ("t05", S::Initialled, Some("2024-04-19")),
        ],
        in_force: &["t03"],
        why: "the border protocol's text was agreed on 2024-04-19 and signed on 2024-05-15",
    },
    Case {
        a: "AM",
        b: "AZ",
        as_of: "2024-06-01",
        listed: &[("t01", S::NonBinding, Some("1994-05-05"))],
        in_force: &["t03", "t05"],
        why: "signed and in force on 2024-05-15",
    },
    Case {
        a: "AM",
        b: "AZ",
        as_of: "2025-09-01",
        listed: &[
            ("t01", S::NonBinding, Some("1994-05-05")),
            ("t07", S::Initialled, Some("2025-08-08")),
        ],
        in_force: &["t03", "t05"],
        why: "the peace agreement initialled in Washington, not signed",
    },
    Case {
        a: "US",
        b: "SU",
        as_of: "1980",
        listed: &[
            ("helsinki-final-act", S::NonBinding, Some("1975-08-01")),
            ("salt-ii", S::Signed, Some("1979-06-18")),
        ],
        in_force: &[],
        why: "SALT II pending in 1980; the Final Act a declaration, never pending",
    },
    Case {
        a: "US",
        b: "SU",
        as_of: "1986",
        listed: &[
            ("helsinki-final-act", S::NonBinding, Some("1975-08-01")),
            ("salt-ii", S::Void, Some("1985-12-31")),
        ],
        in_force: &[],
        why: "SALT II lapsed at the end of 1985",
    },
    Case {
        a: "US",
        b: "SU",
        as_of: "1975-07",
        listed: &[],
        in_force: &[],
        why: "nothing signed yet",
    },
];

#[tokio::test]
async fn expert_cases_of_instruments_not_in_force() {
    let server = spawn_seeded().await;
    import_all(&server, outside_the_caucasus()).await;
    let mut failures = Vec::new();
    for case in CASES {
        let r = relation(&server, case.a, case.b, case.as_of).await;
        let listed: Vec<(String, S, Option<diplomacy::pb::google::r#type::Date>)> = r
            .treaties_not_in_force
            .iter()
            .map(|t| {
                (
                    t.treaty
                        .as_ref()
                        .map(|t| t.name.clone())
                        .unwrap_or_default(),
                    t.standing(),
                    t.since,
                )
            })
            .collect();
        let expected: Vec<(String, S, Option<diplomacy::pb::google::r#type::Date>)> = case
            .listed
            .iter()
            .map(|(id, standing, since)| (format!("treaties/{id}"), *standing, since.and_then(d)))
            .collect();
        let in_force: Vec<String> = r.treaties_in_force.iter().map(|t| t.name.clone()).collect();
        let expected_in_force: Vec<String> = case
            .in_force
            .iter()
            .map(|id| format!("treaties/{id}"))
            .collect();
        if listed != expected
            || in_force != expected_in_force
            || r.treaties_not_in_force_count as usize != case.listed.len()
        {
            failures.push(format!(
                "{}–{} on {}: {} — got {listed:?}, in force {in_force:?}",
                case.a, case.b, case.as_of, case.why
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn the_basic_view_counts_treaties_not_in_force_without_listing_them() {
    let server = spawn_seeded().await;
    let basic = server
        .relations()
        .get_relation(GetRelationRequest {
            name: "countries/TR/relations/AM".into(),
            as_of: d("2012-01-01"),
            view: RelationView::Basic as i32,
        })
        .await
        .expect("relation")
        .into_inner();
    assert!(basic.treaties_not_in_force.is_empty());
    assert_eq!(basic.treaties_not_in_force_count, 1);
}

#[tokio::test]
async fn inconsistent_instruments_are_refused_naming_the_field_and_nothing_is_written() {
    let server = spawn_seeded().await;
    let base = || {
        let Some(Kind::Treaty(treaty)) =
            instrument("bad", TreatyStatus::Lapsed, "1979-06-18", None, false).kind
        else {
            unreachable!()
        };
        treaty
    };
    let cases = [
        (
            Treaty {
                void_date: d("1979-01-01"),
                ..base()
            },
            "treaty.void_date",
        ),
        (
            Treaty {
                status: TreatyStatus::InForce as i32,
                void_date: d("1985-12-31"),
                ..base()
            },
            "treaty.void_date",
        ),
        (
            Treaty {
                status: TreatyStatus::InForce as i32,
                non_binding: true,
                ..base()
            },
            "treaty.non_binding",
        ),
        (
            Treaty {
                status: TreatyStatus::Initialled as i32,
                signed_date: None,
                ..base()
            },
            "treaty.initialled_date",
        ),
        (
            Treaty {
                initialled_date: d("1979-07-01"),
                ..base()
            },
            "treaty.signed_date",
        ),
    ];
    for (treaty, field) in cases {
        assert_treaty_refused(&server, treaty, field).await;
    }
}

#[tokio::test]
async fn the_timeline_shows_initialling_and_voiding() {
    let server = spawn_seeded().await;
    let history = server
        .relations()
        .list_history(ListHistoryRequest {
            parent: "countries/TR/relations/AM".into(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .expect("history")
        .into_inner();
    let kinds: Vec<(String, HistoryEntryKind)> = history
        .entries
        .iter()
        .map(|e| (e.record.clone(), e.kind()))
        .collect();
    assert!(kinds.contains(&("treaties/t02".into(), HistoryEntryKind::TreatyVoid)));
    assert!(!kinds.contains(&("treaties/t02".into(), HistoryEntryKind::TreatyWithdrawn)));
}
