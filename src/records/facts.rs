//! What each record contributes to the indexes: its history milestones, the
//! facts it adds to each pair of countries, and the countries it involves.
//! Pure functions of one record, so that the store can remove exactly what
//! an old version added and `check` can recompute and compare.

use std::collections::BTreeSet;

use super::roles::{mediates, Participant};
use super::{validate::referenced_countries, Record};
use crate::convert::stored_date;
use crate::domain::mediation::MediationSpan;
use crate::domain::relation::{
    NotInForce, PartyConsent, StatusChange, StatusFact, TreatyInterval, TreatyStanding,
};
use crate::domain::standing::{Aspect, StandingFact};
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
    /// A mediator or facilitator of the pair (a state or an actor) over
    /// the days of its involvement in one record.
    Mediation(MediationSpan),
    /// A recognition, a level of representation (each from the state
    /// `from`) or a border fact (no direction).
    Standing {
        aspect: Aspect,
        from: Option<CountryCode>,
        fact: StandingFact,
    },
}

/// A state's recognition (or not) of a state or an actor, indexed by the
/// recognised so that "who recognises it" is one range read.
#[derive(Clone, Debug, PartialEq)]
pub struct RecognitionFact {
    /// `countries/{code}` or `actors/{id}`.
    pub subject: String,
    pub recognizer: CountryCode,
    pub fact: StandingFact,
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
    pub recognitions: Vec<RecognitionFact>,
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
        Record::Actor(_) => RecordFacts::default(),
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

/// The states of a record's roles, those of `kinds` only.
fn role_states(roles: &[pb::Involvement], kinds: &[pb::ParticipantRole]) -> BTreeSet<CountryCode> {
    roles
        .iter()
        .filter(|r| kinds.iter().any(|k| *k as i32 == r.role))
        .filter_map(|r| CountryCode::from_name(&r.participant))
        .collect()
}

/// Every state a record's roles name.
fn all_role_states(roles: &[pb::Involvement]) -> BTreeSet<CountryCode> {
    roles
        .iter()
        .filter_map(|r| CountryCode::from_name(&r.participant))
        .collect()
}

/// Roles that count in the superseded `mediators` lists: they "hosted or
/// mediated".
const HOSTED_OR_MEDIATED: [pb::ParticipantRole; 3] = [
    pb::ParticipantRole::Host,
    pb::ParticipantRole::Mediator,
    pb::ParticipantRole::Facilitator,
];

/// The mediations a record adds to each of `pairs`: its mediators and
/// facilitators (the superseded `legacy` mediators as MEDIATOR), each over
/// its own dates where it gives them, else over `start`..`end` (`end`
/// `None`: still going on). A mediator that is one of a pair does not
/// mediate it.
fn mediation_facts(
    pairs: &BTreeSet<CountryPair>,
    legacy: &[String],
    roles: &[pb::Involvement],
    record: &str,
    start: PartialDate,
    end: Option<PartialDate>,
) -> Vec<(CountryPair, PairFact)> {
    let legacy = legacy.iter().map(|name| pb::Involvement {
        participant: name.clone(),
        role: pb::ParticipantRole::Mediator as i32,
        ..Default::default()
    });
    let typed = roles.iter().filter(|r| mediates(r.role)).cloned();
    let mut facts = Vec::new();
    let mut seen = BTreeSet::new();
    for involvement in legacy.chain(typed) {
        if !seen.insert((involvement.participant.clone(), involvement.role)) {
            continue;
        }
        let Some(participant) = Participant::parse(&involvement.participant) else {
            continue;
        };
        let own_start = stored_date(involvement.start_date.as_ref());
        let own_end = stored_date(involvement.end_date.as_ref());
        let span = MediationSpan {
            mediator: involvement.participant.clone(),
            role: involvement.role,
            start: own_start.unwrap_or(start),
            end: own_end.or(if own_start.is_some() { None } else { end }),
            record: record.to_string(),
        };
        for pair in pairs {
            if participant.country().is_some_and(|c| pair.contains(c)) {
                continue;
            }
            facts.push((*pair, PairFact::Mediation(span.clone())));
        }
    }
    facts
}

fn pairs_with(one: CountryCode, others: &BTreeSet<CountryCode>) -> BTreeSet<CountryPair> {
    others
        .iter()
        .filter_map(|o| CountryPair::new(one, *o))
        .collect()
}

fn treaty_facts(t: &pb::Treaty) -> RecordFacts {
    let parties = codes(t.parties.iter().map(|p| &p.country));
    let mut mediators = codes(&t.mediators);
    mediators.extend(role_states(&t.roles, &HOSTED_OR_MEDIATED).difference(&parties));
    let mut scope = parties.clone();
    scope.extend(&mediators);
    scope.extend(codes(&t.witnesses));
    scope.extend(all_role_states(&t.roles));
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
        roles: t.roles.clone(),
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
    let text_date = [signed, stored_date(t.initialled_date.as_ref())]
        .into_iter()
        .flatten()
        .min_by_key(|date| date.first_day());
    if let Some(date) = text_date {
        pair_facts.extend(mediation_facts(
            &party_pairs,
            &t.mediators,
            &t.roles,
            &t.name,
            date,
            Some(date),
        ));
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
    let mut mediators = codes(&m.mediators);
    mediators.extend(role_states(
        &m.roles,
        &[
            pb::ParticipantRole::Mediator,
            pb::ParticipantRole::Facilitator,
        ],
    ));
    let mut hosts = third_parties_with(&mediators, m.place.as_ref());
    hosts.extend(CountryCode::from_name(&m.host_country));
    hosts.extend(role_states(&m.roles, &[pb::ParticipantRole::Host]));
    let mut scope = states.clone();
    scope.extend(&hosts);
    scope.extend(all_role_states(&m.roles));
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
        roles: m.roles.clone(),
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
    let last_day = stored_date(m.end_date.as_ref()).unwrap_or(date);
    pair_facts.extend(mediation_facts(
        &pairs,
        &m.mediators,
        &m.roles,
        &m.name,
        date,
        Some(last_day),
    ));
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
        pb::EventKind::NonRecognition => StatusChange::NonRecognition,
        pb::EventKind::RecognitionWithdrawn => StatusChange::RecognitionWithdrawn,
        _ => return None,
    })
}

/// Where a recognition event leaves the recognizer, as a
/// `RecognitionStanding` number.
pub fn recognition_standing(kind: i32) -> Option<pb::RecognitionStanding> {
    Some(match pb::EventKind::try_from(kind).ok()? {
        pb::EventKind::Recognition => pb::RecognitionStanding::Recognized,
        pb::EventKind::NonRecognition => pb::RecognitionStanding::NotRecognized,
        pb::EventKind::RecognitionWithdrawn => pb::RecognitionStanding::Withdrawn,
        _ => return None,
    })
}

fn border_status(kind: i32) -> Option<pb::BorderStatus> {
    Some(match pb::EventKind::try_from(kind).ok()? {
        pb::EventKind::BorderClosed => pb::BorderStatus::Closed,
        pb::EventKind::BorderOpened => pb::BorderStatus::Open,
        _ => return None,
    })
}

/// The history entry kind an event's first entry has.
fn event_entry_kind(kind: i32) -> pb::HistoryEntryKind {
    if recognition_standing(kind).is_some() {
        pb::HistoryEntryKind::Recognition
    } else if border_status(kind).is_some() {
        pb::HistoryEntryKind::Border
    } else if kind == pb::EventKind::Representation as i32 {
        pb::HistoryEntryKind::Representation
    } else {
        pb::HistoryEntryKind::Event
    }
}

/// What an event says of recognition, representation and the border: its
/// pair facts and its recognitions by the recognised.
fn standing_facts(
    e: &pb::Event,
    start: PartialDate,
    actor: Option<CountryCode>,
    own_pairs: &BTreeSet<CountryPair>,
) -> (Vec<(CountryPair, PairFact)>, Vec<RecognitionFact>) {
    let fact = |value: i32| StandingFact {
        date: start,
        value,
        record: e.name.clone(),
    };
    let mut pair_facts = Vec::new();
    let mut recognitions = Vec::new();
    if let (Some(standing), Some(actor)) = (recognition_standing(e.kind), actor) {
        for subject in &e.counterparts {
            recognitions.push(RecognitionFact {
                subject: subject.clone(),
                recognizer: actor,
                fact: fact(standing as i32),
            });
            let pair = CountryCode::from_name(subject).and_then(|c| CountryPair::new(actor, c));
            if let Some(pair) = pair {
                pair_facts.push((
                    pair,
                    PairFact::Standing {
                        aspect: Aspect::Recognition,
                        from: Some(actor),
                        fact: fact(standing as i32),
                    },
                ));
            }
        }
    }
    if let Some(border) = border_status(e.kind) {
        for pair in own_pairs {
            pair_facts.push((
                *pair,
                PairFact::Standing {
                    aspect: Aspect::Border,
                    from: None,
                    fact: fact(border as i32),
                },
            ));
        }
    }
    for change in &e.representation {
        let sending = CountryCode::from_name(&change.sending);
        let receiving = CountryCode::from_name(&change.receiving);
        let Some((sending, pair)) = sending
            .zip(receiving)
            .and_then(|(s, r)| Some((s, CountryPair::new(s, r)?)))
        else {
            continue;
        };
        pair_facts.push((
            pair,
            PairFact::Standing {
                aspect: Aspect::Representation,
                from: Some(sending),
                fact: fact(change.level),
            },
        ));
    }
    (pair_facts, recognitions)
}

fn event_facts(e: &pb::Event) -> RecordFacts {
    let Some(start) = stored_date(e.start_date.as_ref()) else {
        return RecordFacts::default();
    };
    let end = stored_date(e.end_date.as_ref());
    let actor = CountryCode::from_name(&e.actor);
    let counterparts = codes(&e.counterparts);
    let side_a = side_states(&e.side_a, false);
    let side_b = side_states(&e.side_b, false);
    let mut scope = counterparts.clone();
    scope.extend(actor);
    scope.extend(&side_a);
    scope.extend(&side_b);
    scope.extend(all_role_states(&e.roles));
    // The pairs the event is about: the actor with each counterpart and,
    // for a conflict, each state with each on the other side.
    let own_pairs = actor.map_or_else(BTreeSet::new, |actor| pairs_with(actor, &counterparts));
    let mut pairs = own_pairs.clone();
    for a in &side_a {
        pairs.extend(pairs_with(*a, &side_b));
    }
    let mut countries: Vec<String> = actor.iter().map(CountryCode::name).collect();
    for code in counterparts.iter().chain(&side_a).chain(&side_b) {
        let name = code.name();
        if !countries.contains(&name) {
            countries.push(name);
        }
    }
    let entry = |kind: pb::HistoryEntryKind, date: Option<crate::pb::google::r#type::Date>| {
        pb::HistoryEntry {
            date,
            kind: kind as i32,
            record: e.name.clone(),
            title: e.title.clone(),
            summary: e.summary.clone(),
            countries: countries.clone(),
            event_kind: e.kind,
            sources: e.sources.clone(),
            roles: e.roles.clone(),
            side_a: e.side_a.clone(),
            side_b: e.side_b.clone(),
            ..Default::default()
        }
    };
    let first_kind = event_entry_kind(e.kind);
    let mut milestones = vec![Milestone {
        date: start,
        tag: "1-event".to_string(),
        entry: entry(first_kind, e.start_date),
        countries: scope.clone(),
        pairs: pairs.clone(),
    }];
    if !e.representation.is_empty() && first_kind != pb::HistoryEntryKind::Representation {
        milestones.push(Milestone {
            date: start,
            tag: "2-representation".to_string(),
            entry: entry(pb::HistoryEntryKind::Representation, e.start_date),
            countries: scope.clone(),
            pairs: pairs.clone(),
        });
    }
    if let Some(end) = end {
        milestones.push(Milestone {
            date: end,
            tag: "9-ended".to_string(),
            entry: entry(pb::HistoryEntryKind::EventEnded, e.end_date),
            countries: scope.clone(),
            pairs: pairs.clone(),
        });
    }

    let (mut pair_facts, recognitions) = standing_facts(e, start, actor, &own_pairs);
    if let Some(change) = status_change(e.kind) {
        for pair in &own_pairs {
            pair_facts.push((
                *pair,
                PairFact::Status(StatusFact {
                    date: start,
                    change,
                    record: e.name.clone(),
                }),
            ));
        }
    }
    if e.kind == pb::EventKind::ArmedConflict as i32 {
        pair_facts.extend(war_facts(e, start, end));
    }
    let lasting =
        e.kind == pb::EventKind::ArmedConflict as i32 || e.kind == pb::EventKind::Mediation as i32;
    let last_day = if lasting { end } else { end.or(Some(start)) };
    pair_facts.extend(mediation_facts(
        &pairs,
        &[],
        &e.roles,
        &e.name,
        start,
        last_day,
    ));
    RecordFacts {
        principals: scope,
        milestones,
        pair_facts,
        recognitions,
        ..Default::default()
    }
}

/// The states on one side of a conflict (`primary_only`: its primary
/// parties alone).
fn side_states(side: &[pb::Belligerent], primary_only: bool) -> BTreeSet<CountryCode> {
    side.iter()
        .filter(|b| !primary_only || b.standing == pb::BelligerentStanding::Primary as i32)
        .filter_map(|b| CountryCode::from_name(&b.participant))
        .collect()
}

/// The pairs at war in an armed conflict, each over the days both fought as
/// primary parties on opposite sides: from the later of the conflict's
/// start and their joining, to the earlier of its end and their leaving.
fn war_facts(
    e: &pb::Event,
    start: PartialDate,
    end: Option<PartialDate>,
) -> Vec<(CountryPair, PairFact)> {
    let primaries =
        |side: &[pb::Belligerent]| -> Vec<(CountryCode, PartialDate, Option<PartialDate>)> {
            side.iter()
                .filter(|b| b.standing == pb::BelligerentStanding::Primary as i32)
                .filter_map(|b| {
                    let code = CountryCode::from_name(&b.participant)?;
                    let join = stored_date(b.join_date.as_ref()).unwrap_or(start);
                    let leave = stored_date(b.leave_date.as_ref()).or(end);
                    Some((code, join, leave))
                })
                .collect()
        };
    let (side_a, side_b) = (primaries(&e.side_a), primaries(&e.side_b));
    let mut facts = Vec::new();
    for (a, a_join, a_leave) in &side_a {
        for (b, b_join, b_leave) in &side_b {
            let Some(pair) = CountryPair::new(*a, *b) else {
                continue;
            };
            let from = [*a_join, *b_join]
                .into_iter()
                .max_by_key(|d| d.first_day())
                .unwrap_or(start);
            let until = [*a_leave, *b_leave]
                .into_iter()
                .flatten()
                .min_by_key(|d| d.last_day());
            if until.is_some_and(|until| until.last_day() < from.first_day()) {
                continue;
            }
            facts.push((
                pair,
                PairFact::Conflict {
                    summary: pb::ConflictSummary {
                        name: e.name.clone(),
                        title: e.title.clone(),
                        start_date: Some(crate::convert::date_to_pb(from)),
                        end_date: until.map(crate::convert::date_to_pb),
                        ongoing: until.is_none(),
                    },
                    start: from,
                    end: until,
                },
            ));
        }
    }
    facts
}
