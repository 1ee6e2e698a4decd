//! What each record contributes to the indexes: its history milestones, the
//! facts it adds to each pair of countries, and the countries it involves.
//! Pure functions of one record, so that the store can remove exactly what
//! an old version added and `check` can recompute and compare.

use std::collections::BTreeSet;

use super::{validate::referenced_countries, Record};
use crate::convert::stored_date;
use crate::domain::relation::{
    NotInForce, PartyConsent, StatusChange, StatusFact, TreatyInterval, TreatyStanding,
};
use crate::domain::{CountryCode, CountryPair, PartialDate};
use crate::pb::diplomacy::v1 as pb;

/// One dated entry of the timelines, with where it belongs.
#[derive(Clone, Debug, PartialEq)]
pub struct Milestone {
    pub date: PartialDate,
    /// Distinguishes several milestones of one record and orders those of
    /// one day (signed before in force), e.g. `2-ratified-AM`.
    pub tag: String,
    pub entry: pb::HistoryEntry,
    /// Countries whose own timeline shows it.
    pub countries: BTreeSet<CountryCode>,
    /// Pairs whose timeline shows it.
    pub pairs: BTreeSet<CountryPair>,
}

/// A fact that a record adds to one pair's relation.
#[derive(Clone, Debug, PartialEq)]
pub enum PairFact {
    Status(StatusFact),
    Treaty {
        summary: pb::TreatySummary,
        interval: TreatyInterval,
        allied: bool,
    },
    /// A treaty from its initialling or signature, for the days it is not
    /// in force between the pair.
    NotInForce {
        summary: pb::TreatySummary,
        treaty: NotInForce,
    },
    Conflict {
        summary: pb::ConflictSummary,
        start: PartialDate,
        end: Option<PartialDate>,
    },
    Meeting {
        summary: pb::MeetingSummary,
        date: PartialDate,
    },
    Mediator {
        country: CountryCode,
        date: PartialDate,
    },
}

/// Everything a record contributes to the indexes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecordFacts {
    /// Countries in a principal role (party, participant, actor,
    /// counterpart): what the list filters select on.
    pub principals: BTreeSet<CountryCode>,
    /// Every country the record names.
    pub references: BTreeSet<CountryCode>,
    pub milestones: Vec<Milestone>,
    pub pair_facts: Vec<(CountryPair, PairFact)>,
}

pub fn record_facts(record: &Record) -> RecordFacts {
    let references = referenced_countries(record);
    let mut facts = match record {
        // A predecessor is indexed as a principal of its successors, so that
        // `successor_states` is one range read.
        Record::Country(c) => RecordFacts {
            principals: c
                .predecessors
                .iter()
                .filter_map(|link| CountryCode::from_name(&link.country))
                .collect(),
            ..RecordFacts::default()
        },
        Record::Treaty(t) => treaty_facts(t),
        Record::Meeting(m) => meeting_facts(m),
        Record::Event(e) => event_facts(e),
    };
    facts.references = references;
    facts
}

fn codes<'a>(names: impl IntoIterator<Item = &'a String>) -> BTreeSet<CountryCode> {
    names
        .into_iter()
        .filter_map(|n| CountryCode::from_name(n))
        .collect()
}

fn names(codes: &BTreeSet<CountryCode>) -> Vec<String> {
    codes.iter().map(CountryCode::name).collect()
}

/// All unordered pairs of distinct members.
fn pairs_among(members: &BTreeSet<CountryCode>) -> BTreeSet<CountryPair> {
    let members: Vec<_> = members.iter().copied().collect();
    let mut pairs = BTreeSet::new();
    for (i, a) in members.iter().enumerate() {
        for b in &members[i + 1..] {
            pairs.extend(CountryPair::new(*a, *b));
        }
    }
    pairs
}

fn pairs_with(one: CountryCode, others: &BTreeSet<CountryCode>) -> BTreeSet<CountryPair> {
    others
        .iter()
        .filter_map(|o| CountryPair::new(one, *o))
        .collect()
}

fn treaty_facts(t: &pb::Treaty) -> RecordFacts {
    let parties = codes(t.parties.iter().map(|p| &p.country));
    let mediators = codes(&t.mediators);
    let mut scope = parties.clone();
    scope.extend(&mediators);
    scope.extend(codes(&t.witnesses));
    let party_pairs = pairs_among(&parties);
    let kind = t.kind;
    let entry = |kind_: pb::HistoryEntryKind,
                 date: PartialDate,
                 countries: &BTreeSet<CountryCode>| pb::HistoryEntry {
        date: Some(crate::convert::date_to_pb(date)),
        kind: kind_ as i32,
        record: t.name.clone(),
        title: t.title.clone(),
        summary: t.summary.clone(),
        countries: names(countries),
        mediators: names(&mediators),
        treaty_kind: kind,
        sources: t.sources.clone(),
        ..Default::default()
    };

    let mut milestones = Vec::new();
    let treaty_wide = [
        (
            pb::HistoryEntryKind::TreatyInitialled,
            "0-initialled",
            t.initialled_date.as_ref(),
        ),
        (
            pb::HistoryEntryKind::TreatySigned,
            "1-signed",
            t.signed_date.as_ref(),
        ),
        (
            pb::HistoryEntryKind::TreatyInForce,
            "3-in-force",
            t.entry_into_force_date.as_ref(),
        ),
        (
            pb::HistoryEntryKind::TreatyTerminated,
            "5-terminated",
            t.termination_date.as_ref(),
        ),
        (
            pb::HistoryEntryKind::TreatyVoid,
            "6-void",
            t.void_date.as_ref(),
        ),
    ];
    for (kind_, tag, date) in treaty_wide {
        if let Some(date) = stored_date(date) {
            milestones.push(Milestone {
                date,
                tag: tag.to_string(),
                entry: entry(kind_, date, &parties),
                countries: scope.clone(),
                pairs: party_pairs.clone(),
            });
        }
    }
    for party in &t.parties {
        let Some(code) = CountryCode::from_name(&party.country) else {
            continue;
        };
        let own = BTreeSet::from([code]);
        let per_party = [
            (
                pb::HistoryEntryKind::TreatyRatified,
                "2-ratified",
                party
                    .consent_date
                    .as_ref()
                    .or(party.ratification_date.as_ref()),
            ),
            (
                pb::HistoryEntryKind::TreatyWithdrawn,
                "4-withdrawn",
                party.withdrawal_date.as_ref(),
            ),
        ];
        for (kind_, tag, date) in per_party {
            if let Some(date) = stored_date(date) {
                milestones.push(Milestone {
                    date,
                    tag: format!("{tag}-{code}"),
                    entry: entry(kind_, date, &own),
                    countries: own.clone(),
                    pairs: pairs_with(code, &parties),
                });
            }
        }
    }

    let standing = match pb::TreatyStatus::try_from(t.status) {
        Ok(pb::TreatyStatus::InForce) => TreatyStanding::InForce,
        Ok(pb::TreatyStatus::Terminated) => TreatyStanding::Terminated,
        Ok(pb::TreatyStatus::Lapsed) => TreatyStanding::Lapsed,
        _ => TreatyStanding::Signed,
    };
    let signed = stored_date(t.signed_date.as_ref());
    let consent_of = |party: &pb::TreatyParty| PartyConsent {
        consent: stored_date(party.consent_date.as_ref())
            .or_else(|| stored_date(party.ratification_date.as_ref())),
        in_force: stored_date(party.entry_into_force_date.as_ref()),
        withdrawal: stored_date(party.withdrawal_date.as_ref()),
    };
    let per_party_recorded = t.parties.iter().any(|p| {
        let consent = consent_of(p);
        consent.consent.is_some() || consent.in_force.is_some()
    });
    let consent = |code: CountryCode| {
        t.parties
            .iter()
            .find(|p| CountryCode::from_name(&p.country) == Some(code))
            .map(consent_of)
            .unwrap_or_default()
    };
    let summary = pb::TreatySummary {
        name: t.name.clone(),
        title: t.title.clone(),
        kind,
        signed_date: t.signed_date,
        entry_into_force_date: t.entry_into_force_date,
    };
    let hosts = third_parties_with(&mediators, t.place.as_ref());
    let mut pair_facts = Vec::new();
    for pair in &party_pairs {
        let interval = TreatyInterval::for_pair(
            standing,
            signed,
            stored_date(t.entry_into_force_date.as_ref()),
            stored_date(t.termination_date.as_ref()),
            [consent(pair.low()), consent(pair.high())],
            per_party_recorded,
        );
        pair_facts.push((
            *pair,
            PairFact::Treaty {
                summary: summary.clone(),
                interval,
                allied: kind == pb::TreatyKind::Alliance as i32,
            },
        ));
        let since = [signed, stored_date(t.initialled_date.as_ref())]
            .into_iter()
            .flatten()
            .min_by_key(|date| date.first_day());
        if let Some(since) = since {
            let not_in_force = NotInForce {
                since,
                signed,
                from: interval.from,
                void: stored_date(t.void_date.as_ref()),
                lapsed: standing == TreatyStanding::Lapsed,
                non_binding: t.non_binding,
            };
            // Only a treaty with days between its text and its force (or
            // none) stands among those not in force.
            let pending_days = not_in_force.non_binding
                || interval
                    .from
                    .is_none_or(|from| since.first_day() < from.first_day());
            if pending_days {
                pair_facts.push((
                    *pair,
                    PairFact::NotInForce {
                        summary: summary.clone(),
                        treaty: not_in_force,
                    },
                ));
            }
        }
        if let Some(date) = signed {
            pair_facts.extend(mediator_facts(*pair, &hosts, date));
        }
    }
    RecordFacts {
        principals: parties,
        milestones,
        pair_facts,
        ..Default::default()
    }
}

/// Mediators plus the country of the place, when it is named.
fn third_parties_with(
    mediators: &BTreeSet<CountryCode>,
    place: Option<&pb::Place>,
) -> BTreeSet<CountryCode> {
    let mut hosts = mediators.clone();
    hosts.extend(place.and_then(|p| CountryCode::from_name(&p.country)));
    hosts
}

fn mediator_facts(
    pair: CountryPair,
    hosts: &BTreeSet<CountryCode>,
    date: PartialDate,
) -> Vec<(CountryPair, PairFact)> {
    hosts
        .iter()
        .filter(|h| !pair.contains(**h))
        .map(|h| (pair, PairFact::Mediator { country: *h, date }))
        .collect()
}

fn meeting_facts(m: &pb::Meeting) -> RecordFacts {
    let states = codes(m.participants.iter().map(|p| &p.country));
    let mediators = codes(&m.mediators);
    let mut hosts = third_parties_with(&mediators, m.place.as_ref());
    hosts.extend(CountryCode::from_name(&m.host_country));
    let mut scope = states.clone();
    scope.extend(&hosts);
    let pairs = pairs_among(&states);
    let Some(date) = stored_date(m.start_date.as_ref()) else {
        return RecordFacts::default();
    };
    let entry = pb::HistoryEntry {
        date: m.start_date,
        kind: pb::HistoryEntryKind::Meeting as i32,
        record: m.name.clone(),
        title: m.title.clone(),
        summary: m.summary.clone(),
        countries: names(&states),
        // Explicit mediators even when they also took part (a US-hosted
        // round with the Secretary of State at the table), other hosts only
        // when they did not.
        mediators: names(
            &hosts
                .difference(&states)
                .chain(&mediators)
                .copied()
                .collect(),
        ),
        meeting_kind: m.kind,
        sources: m.sources.clone(),
        ..Default::default()
    };
    let summary = pb::MeetingSummary {
        name: m.name.clone(),
        title: m.title.clone(),
        start_date: m.start_date,
        end_date: m.end_date,
    };
    let mut pair_facts = Vec::new();
    for pair in &pairs {
        pair_facts.push((
            *pair,
            PairFact::Meeting {
                summary: summary.clone(),
                date,
            },
        ));
        pair_facts.extend(mediator_facts(*pair, &hosts, date));
    }
    RecordFacts {
        principals: states,
        milestones: vec![Milestone {
            date,
            tag: "1-meeting".to_string(),
            entry,
            countries: scope,
            pairs,
        }],
        pair_facts,
        ..Default::default()
    }
}

fn status_change(kind: i32) -> Option<StatusChange> {
    Some(match pb::EventKind::try_from(kind).ok()? {
        pb::EventKind::Recognition => StatusChange::Recognition,
        pb::EventKind::NoRelations => StatusChange::NoRelations,
        pb::EventKind::RelationsEstablished => StatusChange::Established,
        pb::EventKind::RelationsRestored => StatusChange::Restored,
        pb::EventKind::RelationsDowngraded => StatusChange::Downgraded,
        pb::EventKind::RelationsSevered => StatusChange::Severed,
        _ => return None,
    })
}

fn event_facts(e: &pb::Event) -> RecordFacts {
    let Some(actor) = CountryCode::from_name(&e.actor) else {
        return RecordFacts::default();
    };
    let Some(start) = stored_date(e.start_date.as_ref()) else {
        return RecordFacts::default();
    };
    let end = stored_date(e.end_date.as_ref());
    let counterparts = codes(&e.counterparts);
    let mut scope = counterparts.clone();
    scope.insert(actor);
    let pairs = pairs_with(actor, &counterparts);
    let entry = |kind: pb::HistoryEntryKind, date: Option<crate::pb::google::r#type::Date>| {
        pb::HistoryEntry {
            date,
            kind: kind as i32,
            record: e.name.clone(),
            title: e.title.clone(),
            summary: e.summary.clone(),
            countries: std::iter::once(e.actor.clone())
                .chain(e.counterparts.iter().cloned())
                .collect(),
            event_kind: e.kind,
            sources: e.sources.clone(),
            ..Default::default()
        }
    };
    let mut milestones = vec![Milestone {
        date: start,
        tag: "1-event".to_string(),
        entry: entry(pb::HistoryEntryKind::Event, e.start_date),
        countries: scope.clone(),
        pairs: pairs.clone(),
    }];
    if let Some(end) = end {
        milestones.push(Milestone {
            date: end,
            tag: "9-ended".to_string(),
            entry: entry(pb::HistoryEntryKind::EventEnded, e.end_date),
            countries: scope,
            pairs: pairs.clone(),
        });
    }

    let mut pair_facts = Vec::new();
    for pair in &pairs {
        if let Some(change) = status_change(e.kind) {
            pair_facts.push((
                *pair,
                PairFact::Status(StatusFact {
                    date: start,
                    change,
                    record: e.name.clone(),
                }),
            ));
        }
        if e.kind == pb::EventKind::ArmedConflict as i32 {
            pair_facts.push((
                *pair,
                PairFact::Conflict {
                    summary: pb::ConflictSummary {
                        name: e.name.clone(),
                        title: e.title.clone(),
                        start_date: e.start_date,
                        end_date: e.end_date,
                        ongoing: end.is_none(),
                    },
                    start,
                    end,
                },
            ));
        }
    }
    let mut principals = counterparts;
    principals.insert(actor);
    RecordFacts {
        principals,
        milestones,
        pair_facts,
        ..Default::default()
    }
}
