//! Answers for a period and answers the records leave open: an `as_of`
//! that is a month or a year is answered for its last day and names what
//! changed within it; a day inside the period of a fact dated only to a
//! month or a year is flagged uncertain, naming the fact. Seed facts and
//! records this test writes; one line of reason each.

use diplomacy::pb::diplomacy::v1::record::Kind;
use diplomacy::pb::diplomacy::v1::*;

use crate::consent::{d, relation, source, world};
use crate::helpers::*;

/// Relations of France and Britain established in May 1960 (a month), and
/// a recognition dated only to 1975.
fn dated_loosely() -> Vec<Record> {
    let event = |id: &str, kind: EventKind, date: &str, a: &str, b: &str| Record {
        kind: Some(Kind::Event(Event {
            name: format!("events/{id}"),
            title: id.into(),
            kind: kind as i32,
            start_date: d(date),
            actor: format!("countries/{a}"),
            counterparts: vec![format!("countries/{b}")],
            sources: source(),
            ..Default::default()
        })),
    };
    vec![
        event(
            "fr-de-may",
            EventKind::RelationsEstablished,
            "1960-05",
            "FR",
            "DE",
        ),
        event("us-ps-1975", EventKind::Recognition, "1975", "US", "PS"),
    ]
}

struct Case {
    a: &'static str,
    b: &'static str,
    as_of: &'static str,
    status: DiplomaticStatus,
    changed: &'static [&'static str],
    uncertain: &'static [&'static str],
    why: &'static str,
}

use DiplomaticStatus::{Established, None as NoRelations, Severed, Unknown};

const CASES: &[Case] = &[
    Case {
        a: "RU",
        b: "UA",
        as_of: "2022-02",
        status: Severed,
        changed: &["events/c04", "events/f06"],
        uncertain: &[],
        why: "a month is answered for its last day, naming what changed within it",
    },
    Case {
        a: "RU",
        b: "UA",
        as_of: "2022-02-10",
        status: Established,
        changed: &[],
        uncertain: &[],
        why: "a day names no changes: relations held on the 10th",
    },
    Case {
        a: "RU",
        b: "UA",
        as_of: "2021",
        status: Established,
        changed: &[],
        uncertain: &[],
        why: "a year in which nothing changed",
    },
    Case {
        a: "TR",
        b: "AM",
        as_of: "1991-12-10",
        status: NoRelations,
        changed: &[],
        uncertain: &["events/f03"],
        why: "the recognition is dated only to December 1991: on the 10th it may not have happened",
    },
    Case {
        a: "TR",
        b: "AM",
        as_of: "1991-12-31",
        status: NoRelations,
        changed: &[],
        uncertain: &[],
        why: "by the month's last day it had",
    },
    Case {
        a: "TR",
        b: "AM",
        as_of: "1991-12",
        status: NoRelations,
        changed: &["events/f03"],
        uncertain: &[],
        why: "the month itself is certain, and the recognition changed it",
    },
    Case {
        a: "FR",
        b: "DE",
        as_of: "1960-04-30",
        status: Unknown,
        changed: &[],
        uncertain: &[],
        why: "before the month of the fact, nothing is open",
    },
    Case {
        a: "FR",
        b: "DE",
        as_of: "1960-05-01",
        status: Established,
        changed: &[],
        uncertain: &["events/fr-de-may"],
        why: "the month's first day is inside the fact's period",
    },
    Case {
        a: "FR",
        b: "DE",
        as_of: "1960-05-31",
        status: Established,
        changed: &[],
        uncertain: &[],
        why: "the month's last day is not",
    },
    Case {
        a: "FR",
        b: "DE",
        as_of: "1960",
        status: Established,
        changed: &["events/fr-de-may"],
        uncertain: &[],
        why: "a year holding the month: changed within, certain at its end",
    },
    Case {
        a: "FR",
        b: "DE",
        as_of: "1960-06",
        status: Established,
        changed: &[],
        uncertain: &[],
        why: "the month after changed nothing",
    },
    Case {
        a: "US",
        b: "PS",
        as_of: "1975-06-30",
        status: NoRelations,
        changed: &[],
        uncertain: &["events/us-ps-1975"],
        why: "a fact dated to a year leaves every day of it but the last open",
    },
    Case {
        a: "AM",
        b: "AZ",
        as_of: "2018-03-15",
        status: NoRelations,
        changed: &[],
        uncertain: &["treaties/month-end"],
        why: "a treaty ended sometime in March: in force by the rule, but open",
    },
    Case {
        a: "AM",
        b: "AZ",
        as_of: "2018-04",
        status: NoRelations,
        changed: &["treaties/month-end"],
        uncertain: &[],
        why: "it is gone from April 1: a change within April",
    },
    Case {
        a: "FR",
        b: "GB",
        as_of: "1999-06-15",
        status: Unknown,
        changed: &[],
        uncertain: &["events/war-to-june"],
        why: "a war that ended in June 1999 may have ended by the 15th",
    },
    Case {
        a: "FR",
        b: "GB",
        as_of: "1999-07",
        status: Unknown,
        changed: &["events/war-to-june"],
        uncertain: &[],
        why: "it runs to June's end, so July is the month it stopped covering",
    },
];

#[tokio::test]
async fn expert_cases_of_periods_and_uncertainty() {
    let server = spawn_seeded().await;
    let mut records = world();
    // The seed's own AM, AZ, RU, UA, TR stay as they are; the test's
    // states exist throughout.
    records.retain(|r| !matches!(&r.kind, Some(Kind::Country(c)) if ["countries/AM", "countries/AZ"].contains(&c.name.as_str())));
    records.extend(dated_loosely());
    import_all(&server, records).await;
    let mut failures = Vec::new();
    for case in CASES {
        let r = relation(&server, case.a, case.b, case.as_of).await;
        if r.diplomatic_status() != case.status
            || r.changed_within != case.changed
            || r.uncertain_records != case.uncertain
        {
            failures.push(format!(
                "{}–{} on {}: {} — got {:?}, changed {:?}, uncertain {:?}",
                case.a,
                case.b,
                case.as_of,
                case.why,
                r.diplomatic_status(),
                r.changed_within,
                r.uncertain_records
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
