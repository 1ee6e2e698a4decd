//! Index entries of a record: the key-value pairs that `records::RecordFacts`
//! turn into. Writes remove the entries of the old version and add those of
//! the new one, in the same transaction as the record itself.

use std::collections::{BTreeMap, BTreeSet};

use prost::Message;

use super::keys::{self, PairFamily};
use crate::convert::date_to_pb;
use crate::domain::relation::StatusChange;
use crate::domain::standing::{StandingFact, NO_DIRECTION};
use crate::domain::{Collection, CountryCode, CountryPair};
use crate::pb::diplomacy::v1 as pb;
use crate::records::{record_facts, PairFact, Record, RecordFacts};
pub use crate::wire::formats::{PendingValue, StandingValue, StatusValue, TreatyValue};

pub fn change_code(change: StatusChange) -> i32 {
    match change {
        StatusChange::Recognition => 1,
        StatusChange::NoRelations => 2,
        StatusChange::Established => 3,
        StatusChange::Restored => 4,
        StatusChange::Downgraded => 5,
        StatusChange::Severed => 6,
        StatusChange::NonRecognition => 7,
        StatusChange::RecognitionWithdrawn => 8,
    }
}

pub fn change_from_code(code: i32) -> Option<StatusChange> {
    Some(match code {
        1 => StatusChange::Recognition,
        2 => StatusChange::NoRelations,
        3 => StatusChange::Established,
        4 => StatusChange::Restored,
        5 => StatusChange::Downgraded,
        6 => StatusChange::Severed,
        7 => StatusChange::NonRecognition,
        8 => StatusChange::RecognitionWithdrawn,
        _ => return None,
    })
}

/// A record's index entries, and the pairs it links (each pair's partner
/// count under `q/` counts the records that link it).
#[derive(Debug, Default)]
pub struct RecordIndex {
    pub entries: BTreeMap<Vec<u8>, Vec<u8>>,
    pub pairs: BTreeSet<CountryPair>,
}

/// Every index entry of `record` (named `collection/id`), keyed in order,
/// and the pairs it links.
pub fn record_index(collection: Collection, id: &str, record: &Record) -> RecordIndex {
    let facts = record_facts(record);
    let name = format!("{}/{id}", collection.as_str());
    let mut entries = BTreeMap::new();
    let RecordFacts {
        principals,
        references: _,
        milestones,
        pair_facts,
        recognitions,
    } = facts;

    for code in principals {
        entries.insert(keys::principal(code, collection, id), Vec::new());
    }
    let mut partners = BTreeSet::new();
    for milestone in &milestones {
        let date = milestone.date.sort_key();
        let value = milestone.entry.encode_to_vec();
        for code in &milestone.countries {
            let key = keys::join(
                &keys::country_history(*code),
                &[&date, &name, &milestone.tag],
            );
            entries.insert(key, value.clone());
        }
        for pair in &milestone.pairs {
            let key = keys::join(
                &keys::pair(PairFamily::History, *pair),
                &[&date, &name, &milestone.tag],
            );
            entries.insert(key, value.clone());
            partners.insert(*pair);
        }
    }
    for (pair, fact) in &pair_facts {
        partners.insert(*pair);
        if let Some((key, value)) = pair_fact_entry(*pair, fact, &name) {
            entries.insert(key, value);
        }
    }
    for recognition in &recognitions {
        let key = keys::join(
            &keys::recognitions_of(&recognition.subject),
            &[
                recognition.recognizer.as_str(),
                &recognition.fact.date.sort_key(),
                &name,
            ],
        );
        entries.insert(key, standing_value(&recognition.fact));
    }
    RecordIndex {
        entries,
        pairs: partners,
    }
}

fn standing_value(fact: &StandingFact) -> Vec<u8> {
    StandingValue {
        value: fact.value,
        date: Some(date_to_pb(fact.date)),
    }
    .encode_to_vec()
}

fn pair_fact_entry(pair: CountryPair, fact: &PairFact, name: &str) -> Option<(Vec<u8>, Vec<u8>)> {
    Some(match fact {
        PairFact::Status(status) => (
            keys::join(
                &keys::pair(PairFamily::Status, pair),
                &[&status.date.sort_key(), name],
            ),
            StatusValue {
                change: change_code(status.change),
                date: Some(date_to_pb(status.date)),
            }
            .encode_to_vec(),
        ),
        PairFact::Treaty {
            summary,
            interval,
            allied,
        } => {
            // A treaty that never entered into force is never "in force on a day".
            let from = interval.from?;
            (
                keys::join(
                    &keys::pair(PairFamily::Treaty, pair),
                    &[&from.sort_key(), name],
                ),
                TreatyValue {
                    summary: Some(summary.clone()),
                    from: Some(date_to_pb(from)),
                    until: interval.until.map(date_to_pb),
                    allied: *allied,
                }
                .encode_to_vec(),
            )
        }
        PairFact::NotInForce { summary, treaty } => (
            keys::join(
                &keys::pair(PairFamily::Pending, pair),
                &[&treaty.since.sort_key(), name],
            ),
            PendingValue {
                summary: Some(summary.clone()),
                from: treaty.from.map(date_to_pb),
                signed: treaty.signed.map(date_to_pb),
                void: treaty.void.map(date_to_pb),
                lapsed: treaty.lapsed,
                non_binding: treaty.non_binding,
            }
            .encode_to_vec(),
        ),
        PairFact::Conflict { summary, start, .. } => (
            keys::join(
                &keys::pair(PairFamily::Conflict, pair),
                &[&start.sort_key(), name],
            ),
            summary.encode_to_vec(),
        ),
        PairFact::Meeting { summary, date } => (
            keys::join(
                &keys::pair(PairFamily::Meeting, pair),
                &[&date.sort_key(), name],
            ),
            summary.encode_to_vec(),
        ),
        PairFact::Mediation(span) => (
            keys::join(
                &[
                    keys::pair(PairFamily::Mediation, pair),
                    keys::mediation_group(&span.mediator, span.role),
                ]
                .concat(),
                &[&span.start.sort_key(), name],
            ),
            pb::Mediation {
                mediator: span.mediator.clone(),
                role: span.role,
                start_date: Some(date_to_pb(span.start)),
                end_date: span.end.map(date_to_pb),
                ongoing: span.end.is_none(),
                records: vec![span.record.clone()],
                // Not stored (a span is one record): the bytes stay those
                // that databases written before the field hold.
                records_count: 0,
            }
            .encode_to_vec(),
        ),
        PairFact::Standing { aspect, from, fact } => (
            keys::join(
                &keys::pair(PairFamily::Standing, pair),
                &[
                    aspect.tag(),
                    from.as_ref().map_or(NO_DIRECTION, CountryCode::as_str),
                    &fact.date.sort_key(),
                    name,
                ],
            ),
            standing_value(fact),
        ),
        PairFact::Mediator { country, date } => (
            keys::join(
                &keys::pair(PairFamily::Mediator, pair),
                &[country.as_str(), &date.sort_key(), name],
            ),
            Vec::new(),
        ),
    })
}
