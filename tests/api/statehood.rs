//! States in time, as a diplomatic historian checks them: a relation on a
//! day when a side did not exist is NOT_APPLICABLE, a fact dated before both
//! existed counts from the day they both did, and a continuing state before
//! its continuation answers as the state it continues. Every case runs
//! against the real server over records this test writes itself (so it
//! does not rest on the built-in table), one line of reason each.

use diplomacy::convert::date_to_pb;
use diplomacy::domain::PartialDate;
use diplomacy::pb::diplomacy::v1::record::Kind;
use diplomacy::pb::diplomacy::v1::*;
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::*;

fn d(text: &str) -> Option<diplomacy::pb::google::r#type::Date> {
    Some(date_to_pb(text.parse::<PartialDate>().expect(text)))
}

fn source() -> Vec<Source> {
    vec![Source {
        title: "States in time: expert cases".into(),
        publisher: "diplomacy test suite".into(),
        ..Default::default()
    }]
}

/// A state with its periods (`"1991-09-21.."`, `"..1922-12-30"`, `".."`)
/// and predecessors (`("SU", CONTINUATION, "1991-12-26")`).
fn state(id: &str, periods: &[&str], predecessors: &[(&str, SuccessionKind, &str)]) -> Record {
    let existence = periods
        .iter()
        .map(|period| {
            let (start, end) = period.split_once("..").expect("from..to");
            StatePeriod {
                start_date: (!start.is_empty()).then(|| d(start)).flatten(),
                end_date: (!end.is_empty()).then(|| d(end)).flatten(),
            }
        })
        .collect();
    let predecessors = predecessors
        .iter()
        .map(|(other, kind, date)| Succession {
            country: format!("countries/{other}"),
            kind: *kind as i32,
            date: d(date),
        })
        .collect();
    Record {
        kind: Some(Kind::Country(Country {
            name: format!("countries/{id}"),
            display_name: id.into(),
            existence,
            predecessors,
            sources: source(),
            ..Default::default()
        })),
    }
}

fn event(id: &str, kind: EventKind, start: &str, end: Option<&str>, a: &str, b: &str) -> Record {
    Record {
        kind: Some(Kind::Event(Event {
            name: format!("events/{id}"),
            title: id.into(),
            kind: kind as i32,
            start_date: d(start),
            end_date: end.and_then(d),
            actor: format!("countries/{a}"),
            counterparts: vec![format!("countries/{b}")],
            sources: source(),
            ..Default::default()
        })),
    }
}

use EventKind as E;
use SuccessionKind as S;

/// The world the cases are asked about.
fn world() -> Vec<Record> {
    vec![
        state("cow-rus", &["..1922-12-30"], &[]),
        state(
            "SU",
            &["1922-12-30..1991-12-26"],
            &[("cow-rus", S::Continuation, "1922-12-30")],
        ),
        state(
            "RU",
            &["1991-12-26.."],
            &[("SU", S::Continuation, "1991-12-26")],
        ),
        state(
            "UA",
            &["1991-08-24.."],
            &[("SU", S::Succession, "1991-08-24")],
        ),
        state(
            "AM",
            &["1991-09-21.."],
            &[("SU", S::Succession, "1991-09-21")],
        ),
        state(
            "AZ",
            &["1991-10-18.."],
            &[("SU", S::Succession, "1991-10-18")],
        ),
        state("US", &[".."], &[]),
        state("FR", &[".."], &[]),
        state("TR", &[".."], &[]),
        state("cow-gmy", &["..1949-05-23"], &[]),
        state("DD", &["1949-10-07..1990-10-03"], &[]),
        state(
            "DE",
            &["1949-05-23.."],
            &[
                ("cow-gmy", S::Continuation, "1949-05-23"),
                ("DD", S::Accession, "1990-10-03"),
            ],
        ),
        state("CSHH", &["1918-10-28..1993-01-01"], &[]),
        state(
            "CZ",
            &["1993-01-01.."],
            &[("CSHH", S::Dissolution, "1993-01-01")],
        ),
        state(
            "SK",
            &["1993-01-01.."],
            &[("CSHH", S::Dissolution, "1993-01-01")],
        ),
        state("YU", &["1918-12-01..1992-04-27"], &[]),
        state(
            "SI",
            &["1991-06-25.."],
            &[("YU", S::Succession, "1991-06-25")],
        ),
        state(
            "HR",
            &["1991-06-25.."],
            &[("YU", S::Succession, "1991-06-25")],
        ),
        state(
            "CS",
            &["1992-04-27..2006-06-05"],
            &[("YU", S::Succession, "1992-04-27")],
        ),
        state(
            "RS",
            &["2006-06-05.."],
            &[("CS", S::Continuation, "2006-06-05")],
        ),
        state(
            "ME",
            &["1878-07-13..1918-11-26", "2006-06-03.."],
            &[("CS", S::Succession, "2006-06-03")],
        ),
        state("cow-yar", &["1918..1990-05-22"], &[]),
        state("YD", &["1967-11-30..1990-05-22"], &[]),
        state(
            "YE",
            &["1990-05-22.."],
            &[
                ("cow-yar", S::Unification, "1990-05-22"),
                ("YD", S::Unification, "1990-05-22"),
            ],
        ),
        event(
            "su-us",
            E::RelationsEstablished,
            "1933-11-16",
            None,
            "US",
            "SU",
        ),
        event("am-az-none", E::NoRelations, "1991", None, "AM", "AZ"),
        event(
            "am-az-war",
            E::ArmedConflict,
            "1988-02",
            Some("1994-05-12"),
            "AM",
            "AZ",
        ),
        event(
            "fr-dd",
            E::RelationsEstablished,
            "1973-02-09",
            None,
            "FR",
            "DD",
        ),
        event("ru-ua", E::RelationsEstablished, "1992", None, "RU", "UA"),
        event(
            "cz-sk",
            E::RelationsEstablished,
            "1993-01-01",
            None,
            "CZ",
            "SK",
        ),
        event("tr-am", E::Recognition, "1991-12", None, "TR", "AM"),
    ]
}

/// One expected answer.
struct Case {
    a: &'static str,
    b: &'static str,
    as_of: &'static str,
    status: DiplomaticStatus,
    /// `nonexistent_countries`, as ids.
    missing: &'static [&'static str],
    /// `(asked, answered)` of `answered_for`.
    stand_in: Option<(&'static str, &'static str)>,
    /// `status_since`, when the case is about it.
    since: Option<&'static str>,
    why: &'static str,
}

const NA: DiplomaticStatus = DiplomaticStatus::NotApplicable;
const UNKNOWN: DiplomaticStatus = DiplomaticStatus::Unknown;
const NONE: DiplomaticStatus = DiplomaticStatus::None;
const ESTABLISHED: DiplomaticStatus = DiplomaticStatus::Established;

const fn case(
    a: &'static str,
    b: &'static str,
    as_of: &'static str,
    status: DiplomaticStatus,
    why: &'static str,
) -> Case {
    Case {
        a,
        b,
        as_of,
        status,
        missing: &[],
        stand_in: None,
        since: None,
        why,
    }
}

const CASES: &[Case] = &[
    Case {
        missing: &["AM", "AZ"],
        ..case(
            "AM",
            "AZ",
            "1980",
            NA,
            "neither Armenia nor Azerbaijan existed as a state in 1980",
        )
    },
    Case {
        missing: &["AM", "AZ"],
        ..case(
            "AM",
            "AZ",
            "1989",
            NA,
            "the war of 1988 began before either state existed: no interstate conflict yet",
        )
    },
    Case {
        missing: &["AM", "AZ"],
        ..case(
            "AM",
            "AZ",
            "1991-06",
            NA,
            "a year-precision fact of 1991 does not count before independence",
        )
    },
    Case {
        missing: &["AZ"],
        ..case(
            "AM",
            "AZ",
            "1991-10-01",
            NA,
            "Armenia existed, Azerbaijan not before 1991-10-18: only it is named",
        )
    },
    Case {
        since: Some("1991-10-18"),
        ..case(
            "AM",
            "AZ",
            "1992-01-01",
            NONE,
            "the 1991 fact counts from the day both existed",
        )
    },
    Case {
        stand_in: Some(("RU", "SU")),
        since: Some("1933-11-16"),
        ..case(
            "RU",
            "US",
            "1980-01-01",
            ESTABLISHED,
            "before 1991-12-26 the Russian Federation answers as the USSR it continues",
        )
    },
    Case {
        stand_in: Some(("RU", "cow-rus")),
        ..case(
            "RU",
            "US",
            "1900",
            UNKNOWN,
            "continuation is followed down the chain: USSR, then the Russian Empire",
        )
    },
    Case {
        missing: &["RU"],
        stand_in: Some(("RU", "SU")),
        ..case(
            "RU",
            "SU",
            "1980",
            NA,
            "a state and the state it continues are one: no relation",
        )
    },
    Case {
        missing: &["UA"],
        ..case(
            "UA",
            "US",
            "1980",
            NA,
            "Ukraine succeeds the USSR without continuing it: no stand-in",
        )
    },
    Case {
        since: Some("1992"),
        ..case(
            "RU",
            "UA",
            "1992-06",
            ESTABLISHED,
            "after the continuation date the Russian Federation answers for itself",
        )
    },
    Case {
        since: Some("1973-02-09"),
        ..case(
            "DD",
            "FR",
            "1980",
            ESTABLISHED,
            "the GDR's own relations while it existed",
        )
    },
    Case {
        missing: &["DD"],
        ..case(
            "DD",
            "FR",
            "1991",
            NA,
            "the GDR acceded to the Federal Republic on 1990-10-03",
        )
    },
    Case {
        missing: &["DD"],
        ..case(
            "DD",
            "DE",
            "1991",
            NA,
            "the acceding state is gone; the Federal Republic continues",
        )
    },
    Case {
        stand_in: Some(("DE", "cow-gmy")),
        ..case(
            "DE",
            "FR",
            "1930",
            UNKNOWN,
            "before 1949 the Federal Republic answers as the German Reich it continues",
        )
    },
    Case {
        missing: &["DD"],
        ..case(
            "DD",
            "FR",
            "1949-08",
            NA,
            "the GDR was founded on 1949-10-07",
        )
    },
    Case {
        ..case(
            "CSHH",
            "US",
            "1980",
            UNKNOWN,
            "Czechoslovakia existed in 1980; nothing recorded is UNKNOWN, not NONE",
        )
    },
    Case {
        missing: &["CSHH"],
        ..case(
            "CSHH",
            "US",
            "1993-06-01",
            NA,
            "Czechoslovakia dissolved on 1993-01-01",
        )
    },
    Case {
        missing: &["CZ", "SK"],
        ..case(
            "CZ",
            "SK",
            "1992-06",
            NA,
            "neither successor existed before the dissolution",
        )
    },
    Case {
        since: Some("1993-01-01"),
        ..case(
            "CZ",
            "SK",
            "1993-01-01",
            ESTABLISHED,
            "both exist from their first day, and a fact of that day counts",
        )
    },
    Case {
        missing: &["HR", "SI"],
        ..case(
            "SI",
            "HR",
            "1990",
            NA,
            "Slovenia and Croatia were republics of the SFRY in 1990",
        )
    },
    Case {
        stand_in: Some(("RS", "CS")),
        ..case(
            "RS",
            "FR",
            "2000",
            UNKNOWN,
            "before 2006-06-05 Serbia answers as Serbia and Montenegro (the FR Yugoslavia)",
        )
    },
    Case {
        missing: &["CS"],
        stand_in: Some(("RS", "CS")),
        ..case(
            "RS",
            "FR",
            "1980",
            NA,
            "the FR Yugoslavia succeeded the SFRY without continuing it: no further stand-in",
        )
    },
    Case {
        ..case(
            "ME",
            "FR",
            "1900",
            UNKNOWN,
            "Montenegro existed from 1878 until 1918",
        )
    },
    Case {
        missing: &["ME"],
        ..case(
            "ME",
            "FR",
            "1950",
            NA,
            "between its two periods Montenegro did not exist",
        )
    },
    Case {
        missing: &["YE"],
        ..case(
            "YE",
            "US",
            "1985",
            NA,
            "the Republic of Yemen is a new state of 1990-05-22, continuing neither Yemen",
        )
    },
    Case {
        missing: &["YD"],
        ..case(
            "YD",
            "YE",
            "1995",
            NA,
            "South Yemen ended in the unification",
        )
    },
    Case {
        ..case("cow-yar", "YD", "1980", UNKNOWN, "the two Yemens coexisted")
    },
    Case {
        since: Some("1991-12"),
        ..case(
            "TR",
            "AM",
            "2009-10-10",
            NONE,
            "recognition without relations, at the month's precision",
        )
    },
    Case {
        ..case(
            "US",
            "FR",
            "1800",
            UNKNOWN,
            "states whose existence reaches before any date recorded are never NOT_APPLICABLE",
        )
    },
];

fn names(ids: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = ids.iter().map(|id| format!("countries/{id}")).collect();
    names.sort();
    names
}

#[tokio::test]
async fn expert_cases_of_states_in_time() {
    let server = spawn_empty().await;
    import_all(&server, world()).await;
    let mut relations = server.relations();
    let mut failures = Vec::new();
    for case in CASES {
        let relation = relations
            .get_relation(GetRelationRequest {
                name: format!("countries/{}/relations/{}", case.a, case.b),
                as_of: d(case.as_of),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|s| panic!("{} {} {}: {s:?}", case.a, case.b, case.as_of))
            .into_inner();
        let mut missing = relation.nonexistent_countries.clone();
        missing.sort();
        let stand_in = relation
            .answered_for
            .first()
            .map(|s| (s.asked.clone(), s.answered.clone()));
        let expected_stand_in = case
            .stand_in
            .map(|(a, b)| (format!("countries/{a}"), format!("countries/{b}")));
        let ok = relation.diplomatic_status() == case.status
            && missing == names(case.missing)
            && stand_in == expected_stand_in
            && case
                .since
                .is_none_or(|since| relation.status_since == d(since))
            && (case.status != NA
                || (relation.armed_conflicts.is_empty()
                    && relation.treaties_in_force.is_empty()
                    && relation.status_since.is_none()));
        if !ok {
            failures.push(format!(
                "{}–{} on {}: {} — got {:?}, missing {missing:?}, stand-in {stand_in:?}, since {:?}",
                case.a,
                case.b,
                case.as_of,
                case.why,
                relation.diplomatic_status(),
                relation.status_since
            ));
        }
    }
    assert!(CASES.len() >= 20);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn the_war_of_1988_counts_from_the_day_both_states_existed() {
    let server = spawn_empty().await;
    import_all(&server, world()).await;
    let relation = server
        .relations()
        .get_relation(GetRelationRequest {
            name: "countries/AM/relations/AZ".into(),
            as_of: d("1992-01-01"),
            ..Default::default()
        })
        .await
        .expect("relation")
        .into_inner();
    assert_eq!(relation.armed_conflicts_count, 1);
    assert_eq!(relation.armed_conflicts[0].name, "events/am-az-war");
}

#[tokio::test]
async fn get_country_shows_succession_both_ways() {
    let server = spawn_empty().await;
    import_all(&server, world()).await;
    let mut countries = server.countries();
    let su = countries
        .get_country(GetCountryRequest {
            name: "countries/SU".into(),
        })
        .await
        .expect("SU")
        .into_inner();
    let link = |country: &str, kind: SuccessionKind, date: &str| Succession {
        country: format!("countries/{country}"),
        kind: kind as i32,
        date: d(date),
    };
    for expected in [
        link("RU", S::Continuation, "1991-12-26"),
        link("UA", S::Succession, "1991-08-24"),
        link("AM", S::Succession, "1991-09-21"),
    ] {
        assert!(
            su.successor_states.contains(&expected),
            "{expected:?} in {:?}",
            su.successor_states
        );
    }
    assert_eq!(
        su.predecessors,
        vec![link("cow-rus", S::Continuation, "1922-12-30")]
    );
    let ye = countries
        .get_country(GetCountryRequest {
            name: "countries/YE".into(),
        })
        .await
        .expect("YE")
        .into_inner();
    assert_eq!(ye.predecessors.len(), 2, "unification of the two Yemens");
    let dd = countries
        .get_country(GetCountryRequest {
            name: "countries/DD".into(),
        })
        .await
        .expect("DD")
        .into_inner();
    assert_eq!(
        dd.successor_states,
        vec![link("DE", S::Accession, "1990-10-03")]
    );
}

async fn update_country(
    server: &TestServer,
    country: Country,
    mask: &[&str],
) -> Result<Country, tonic::Status> {
    server
        .countries()
        .update_country(UpdateCountryRequest {
            country: Some(country),
            update_mask: Some(prost_types::FieldMask {
                paths: mask.iter().map(|p| p.to_string()).collect(),
            }),
        })
        .await
        .map(|r| r.into_inner())
}

async fn get(server: &TestServer, id: &str) -> Country {
    server
        .countries()
        .get_country(GetCountryRequest {
            name: format!("countries/{id}"),
        })
        .await
        .expect("country")
        .into_inner()
}

#[tokio::test]
async fn overlapping_existence_is_refused_naming_the_period_and_nothing_changes() {
    let server = spawn_empty().await;
    import_all(&server, world()).await;
    let before = get(&server, "ME").await;
    let Some(Kind::Country(mut bad)) = state("ME", &["1878..1920", "1918.."], &[]).kind else {
        unreachable!()
    };
    bad.name = "countries/ME".into();
    let status = update_country(&server, bad, &["existence"])
        .await
        .expect_err("overlap");
    assert_bad_field(&status, "country.existence[1].start_date");
    assert_eq!(get(&server, "ME").await, before);
}

#[tokio::test]
async fn a_succession_cycle_is_refused_and_nothing_changes() {
    let server = spawn_empty().await;
    import_all(&server, world()).await;
    let before = get(&server, "SU").await;
    let Some(Kind::Country(mut cyclic)) = state(
        "SU",
        &["1922-12-30..1991-12-26"],
        &[("RU", S::Continuation, "1991-12-26")],
    )
    .kind
    else {
        unreachable!()
    };
    cyclic.name = "countries/SU".into();
    let status = update_country(&server, cyclic, &["predecessors"])
        .await
        .expect_err("cycle");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let violations = status
        .get_details_precondition_failure()
        .expect("details")
        .violations;
    assert_eq!(violations[0].r#type, "SUCCESSION_CYCLE");
    assert_eq!(violations[0].subject, "country.predecessors[0].country");
    assert_eq!(get(&server, "SU").await, before);
}

#[tokio::test]
async fn a_succession_dated_outside_the_predecessors_existence_is_refused() {
    let server = spawn_empty().await;
    import_all(&server, world()).await;
    let before = get(&server, "UA").await;
    let Some(Kind::Country(mut late)) = state(
        "UA",
        &["1991-08-24.."],
        &[("SU", S::Succession, "1995-01-01")],
    )
    .kind
    else {
        unreachable!()
    };
    late.name = "countries/UA".into();
    let status = update_country(&server, late, &["predecessors"])
        .await
        .expect_err("late");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let violations = status
        .get_details_precondition_failure()
        .expect("details")
        .violations;
    assert_eq!(violations[0].r#type, "SUCCESSION_OUTSIDE_EXISTENCE");
    assert_eq!(violations[0].subject, "country.predecessors[0].date");
    assert_eq!(get(&server, "UA").await, before);
}

#[tokio::test]
async fn a_succession_needs_a_kind_and_a_date() {
    let server = spawn_empty().await;
    let mut country = get(&server, "UA").await;
    country.predecessors = vec![Succession {
        country: "countries/SU".into(),
        kind: 0,
        date: None,
    }];
    let status = update_country(&server, country, &["predecessors"])
        .await
        .expect_err("bad");
    assert_bad_field(&status, "country.predecessors[0].kind");
    assert_bad_field(&status, "country.predecessors[0].date");
}

#[tokio::test]
async fn countries_with_the_new_id_forms_are_created_and_named() {
    let server = spawn_empty().await;
    let created = server
        .countries()
        .create_country(CreateCountryRequest {
            country_id: "x-texas".into(),
            country: Some(Country {
                display_name: "Republic of Texas".into(),
                existence: vec![StatePeriod {
                    start_date: d("1836-03-02"),
                    end_date: d("1846-02-19"),
                }],
                sources: source(),
                ..Default::default()
            }),
        })
        .await
        .expect("created")
        .into_inner();
    assert_eq!(created.name, "countries/x-texas");
    let relation = server
        .relations()
        .get_relation(GetRelationRequest {
            name: "countries/x-texas/relations/US".into(),
            as_of: d("1850"),
            ..Default::default()
        })
        .await
        .expect("relation")
        .into_inner();
    assert_eq!(relation.diplomatic_status(), NA);
    assert_eq!(relation.nonexistent_countries, vec!["countries/x-texas"]);
    for bad in ["TEXAS", "texas", "Cow-han", "x--texas"] {
        let status = server
            .countries()
            .create_country(CreateCountryRequest {
                country_id: bad.into(),
                country: Some(Country {
                    display_name: "Bad".into(),
                    sources: source(),
                    ..Default::default()
                }),
            })
            .await
            .expect_err(bad);
        assert_eq!(status.code(), Code::InvalidArgument, "{bad}: {status:?}");
    }
}

async fn lookup(
    server: &TestServer,
    scheme: CountryCodeScheme,
    code: &str,
    date: Option<&str>,
) -> Result<Vec<String>, tonic::Status> {
    server
        .countries()
        .lookup_country(LookupCountryRequest {
            scheme: scheme as i32,
            code: code.into(),
            date: date.and_then(d),
        })
        .await
        .map(|r| {
            r.into_inner()
                .matches
                .into_iter()
                .filter_map(|m| m.country.map(|c| c.name))
                .collect()
        })
}

#[tokio::test]
async fn lookup_finds_the_piece_of_a_code_that_applies_on_a_date() {
    // The built-in data: COW's file cut by the built-in state table.
    let server = spawn_empty().await;
    use CountryCodeScheme as C;
    for (scheme, code, date, expected, why) in [
        (
            C::CowCode,
            "365",
            Some("1900"),
            vec!["countries/cow-rus"],
            "COW 365 in 1900 is the Russian Empire",
        ),
        (
            C::CowCode,
            "365",
            Some("1980-01-01"),
            vec!["countries/SU"],
            "in 1980 the USSR",
        ),
        (
            C::CowCode,
            "365",
            Some("2000"),
            vec!["countries/RU"],
            "in 2000 the Russian Federation",
        ),
        (
            C::CowCode,
            "365",
            None,
            vec!["countries/cow-rus", "countries/SU", "countries/RU"],
            "without a date, every holder, oldest first",
        ),
        (
            C::CowAbbreviation,
            "han",
            None,
            vec!["countries/cow-han"],
            "abbreviations in any case",
        ),
        (
            C::CowCode,
            "255",
            Some("1900"),
            vec!["countries/cow-gmy"],
            "Germany before 1945",
        ),
        (
            C::CowCode,
            "260",
            Some("1980"),
            vec!["countries/DE"],
            "the German Federal Republic",
        ),
        (
            C::IsoAlpha2,
            "CS",
            Some("1980"),
            vec!["countries/CSHH"],
            "CS was Czechoslovakia's code",
        ),
        (
            C::IsoAlpha2,
            "CS",
            Some("2004"),
            vec!["countries/CS"],
            "and then Serbia and Montenegro's",
        ),
        (
            C::Iso31663,
            "SUHH",
            None,
            vec!["countries/SU"],
            "ISO 3166-3 code of the USSR",
        ),
        (
            C::IsoAlpha3,
            "tur",
            None,
            vec!["countries/TR"],
            "alpha-3 in any case",
        ),
        (
            C::IsoNumeric,
            "051",
            None,
            vec!["countries/AM"],
            "numeric with leading zeros",
        ),
        (
            C::UnM49,
            "31",
            None,
            vec!["countries/AZ"],
            "M49 shares ISO's numbers",
        ),
    ] {
        let found = lookup(&server, scheme, code, date)
            .await
            .unwrap_or_else(|s| panic!("{why}: {s:?}"));
        assert_eq!(found, expected, "{why}");
    }
}

#[tokio::test]
async fn lookup_refuses_bad_input_and_says_not_found() {
    let server = spawn_empty().await;
    use CountryCodeScheme as C;
    let status = lookup(&server, C::Unspecified, "365", None)
        .await
        .expect_err("no scheme");
    assert_bad_field(&status, "scheme");
    let status = server
        .countries()
        .lookup_country(LookupCountryRequest {
            scheme: 99,
            code: "365".into(),
            date: None,
        })
        .await
        .expect_err("unknown scheme");
    assert_bad_field(&status, "scheme");
    let status = lookup(&server, C::CowCode, "RUS", None)
        .await
        .expect_err("letters");
    assert_bad_field(&status, "code");
    let status = lookup(&server, C::CowCode, "", None)
        .await
        .expect_err("empty");
    assert_bad_field(&status, "code");
    let status = server
        .countries()
        .lookup_country(LookupCountryRequest {
            scheme: C::CowCode as i32,
            code: "365".into(),
            date: date(1992, 13, 0),
        })
        .await
        .expect_err("month 13");
    assert_bad_field(&status, "date");
    let status = lookup(&server, C::CowCode, "999", None)
        .await
        .expect_err("nothing");
    assert_eq!(status.code(), Code::NotFound);
    let status = lookup(&server, C::CowCode, "365", Some("1500"))
        .await
        .expect_err("no piece then");
    assert_eq!(status.code(), Code::NotFound);
}

#[tokio::test]
async fn the_built_in_countries_know_every_row_of_the_cow_file() {
    let server = spawn_empty().await;
    let mut countries = server.countries();
    let mut memberships = 0;
    let mut page_token = String::new();
    loop {
        let page = countries
            .list_countries(ListCountriesRequest {
                page_size: 1000,
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await
            .expect("list")
            .into_inner();
        memberships += page
            .countries
            .iter()
            .map(|c| c.cow_memberships.len())
            .sum::<usize>();
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    // COW's 243 rows, some cut between the states that held their code:
    // 365 into three pieces (+2), 345's first row into two (+1) and its
    // second into three (+2), 816 into two (+1).
    assert_eq!(memberships, 243 + 6);
    let hanover = get(&server, "cow-han").await;
    assert_eq!(hanover.cow_memberships[0].ccode, 240);
    assert!(hanover.existence[0].end_date.is_some());
}
