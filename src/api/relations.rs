//! `diplomacy.v1.RelationService`: relation and history queries.

use std::sync::Arc;

use bytes::Bytes;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::page;
use super::resources::{ensure_known, existing_country, short};
use crate::convert::{count_to_pb, date_from_pb, date_to_pb};
use crate::domain::names::{parse_relation_name, PairNameError};
use crate::domain::relation::{DiplomaticStatus, MAX_LISTED};
use crate::domain::standing::StandingFact;
use crate::domain::statehood::{coexistence, counted_from, Coexistence};
use crate::domain::{CountryCode, CountryPair, PartialDate};
use crate::error::{Error, FieldViolation, Result};
use crate::pb::diplomacy::v1 as pb;
use crate::pb::google::r#type::Date;
use crate::pb::wire::relation_service_server::RelationService;
use crate::store::{HistoryScope, ListedSummary, Store, StoredHistoryEntry};

use crate::wire::{self, RawMessage};

/// Entries sent ahead of a slow stream reader before the producer waits.
const STREAM_BUFFER: usize = 256;

pub struct Relations {
    pub store: Arc<Store>,
}

fn status_to_pb(status: DiplomaticStatus) -> pb::DiplomaticStatus {
    match status {
        DiplomaticStatus::Unknown => pb::DiplomaticStatus::Unknown,
        DiplomaticStatus::None => pb::DiplomaticStatus::None,
        DiplomaticStatus::Established => pb::DiplomaticStatus::Established,
        DiplomaticStatus::Downgraded => pb::DiplomaticStatus::Downgraded,
        DiplomaticStatus::Severed => pb::DiplomaticStatus::Severed,
    }
}

/// An optional date field, checked.
fn optional_date(date: Option<&Date>, field: &str) -> Result<Option<PartialDate>> {
    date.map(|d| date_from_pb(d).map_err(|e| Error::invalid(field, e.to_string())))
        .transpose()
}

/// A pair name, with both countries known.
fn parse_pair(store: &Store, name: &str, field: &str) -> Result<CountryPair> {
    let (a, b) = parse_relation_name(name).map_err(|e| match e {
        PairNameError::Malformed => Error::invalid(
            field,
            format!(
                "{:?} is not a relation name such as `countries/TR/relations/AM`",
                short(name)
            ),
        ),
        PairNameError::SameCountry => Error::invalid(
            field,
            "a country has no relation with itself: name two different countries",
        ),
    })?;
    ensure_known(store, a, field)?;
    ensure_known(store, b, field)?;
    CountryPair::new(a, b).ok_or_else(|| Error::invalid(field, "the two countries must differ"))
}

/// How many treaties and conflicts a view lists, from a request's `view`
/// field (`field` names it in errors).
fn listed_in_view(view: i32, field: &str) -> Result<usize> {
    match pb::RelationView::try_from(view) {
        Ok(pb::RelationView::Unspecified | pb::RelationView::Full) => Ok(MAX_LISTED),
        Ok(pb::RelationView::Basic) => Ok(0),
        Err(_) => Err(Error::invalid(
            field,
            format!("{view} is not a relation view: use RELATION_VIEW_BASIC or RELATION_VIEW_FULL"),
        )),
    }
}

/// Most continuation links followed for one side: far more than any real
/// chain, and a bound on a query's work.
const MAX_CONTINUATIONS: usize = 16;

/// The state that answers for `code` on `day`: itself, or the state it
/// continues by a link dated after `day`, followed down the chain.
fn answering_state(
    store: &Store,
    code: CountryCode,
    day: time::Date,
) -> (CountryCode, Option<pb::ContinuedState>) {
    let mut current = code;
    let mut link_date = None;
    for _ in 0..MAX_CONTINUATIONS {
        let Some((earlier, date)) = store.statehood(current).and_then(|s| s.continued_on(day))
        else {
            break;
        };
        current = earlier;
        link_date = Some(date);
    }
    let stand_in = link_date.map(|date| pb::ContinuedState {
        asked: code.name(),
        answered: current.name(),
        continuation_date: Some(date_to_pb(date)),
    });
    (current, stand_in)
}

/// The relation of `pair` on `as_of` (a partial date: by the end of it),
/// listing at most `listed` treaties in force and armed conflicts. A side
/// that continues an earlier state by a link dated after the day answers as
/// that state; a side that did not exist makes the answer NOT_APPLICABLE.
pub fn relation_of(
    store: &Store,
    name: String,
    asked: CountryPair,
    as_of: PartialDate,
    listed: usize,
) -> Result<wire::Relation> {
    let day = as_of.last_day();
    let (low, low_stand_in) = answering_state(store, asked.low(), day);
    let (high, high_stand_in) = answering_state(store, asked.high(), day);
    let answered_for: Vec<pb::ContinuedState> =
        low_stand_in.into_iter().chain(high_stand_in).collect();
    let not_applicable =
        |nonexistent: Vec<CountryCode>, countries: Vec<CountryCode>| wire::Relation {
            name: name.clone(),
            countries: countries.into_iter().map(country_name).collect(),
            as_of: Some(date_to_pb(as_of)),
            diplomatic_status: pb::DiplomaticStatus::NotApplicable as i32,
            nonexistent_countries: nonexistent.into_iter().map(country_name).collect(),
            answered_for: answered_for.clone(),
            ..Default::default()
        };
    let Some(pair) = CountryPair::new(low, high) else {
        // One side continues the other: a state has no relation with itself.
        let asked_sides = [asked.low(), asked.high()];
        let continuing = asked_sides
            .into_iter()
            .filter(|code| *code != low)
            .collect();
        return Ok(not_applicable(continuing, vec![low]));
    };
    let statehoods =
        [pair.low(), pair.high()].map(|code| store.statehood(code).unwrap_or_default());
    let both_since = match coexistence(&statehoods[0], &statehoods[1], day) {
        Coexistence::Both { since } => since,
        Coexistence::Missing(missing) => {
            let sides = [pair.low(), pair.high()];
            return Ok(not_applicable(
                missing.into_iter().map(|side| sides[side]).collect(),
                sides.to_vec(),
            ));
        }
    };
    let facts = store.pair_facts_since(pair, as_of, listed, both_since.map(|s| s.first_day()))?;
    let [changed_within, uncertain_records] = facts.notes.into_names();
    let mut status = facts.status;
    // A fact dated before both states existed counts from the day they did.
    status.since = status.since.map(|since| counted_from(since, both_since));
    // The status rests on the fact that set it, not on every earlier one.
    let mut source_records: Vec<Bytes> = status.record.iter().cloned().map(Bytes::from).collect();

    // The alliance is sourced even when it is not among the listed treaties.
    let allied = facts.alliance.is_some();
    source_records.extend(facts.alliance.map(Bytes::from));
    // Each listed summary is a source, and is sent as the cache keeps it.
    let mut as_stored = |summaries: Vec<ListedSummary>| -> Vec<RawMessage> {
        summaries
            .into_iter()
            .map(|s| {
                source_records.push(s.name());
                RawMessage(s.0)
            })
            .collect()
    };
    let treaties_in_force = as_stored(facts.treaties_in_force);
    let armed_conflicts = as_stored(facts.armed_conflicts);
    source_records.extend(
        facts
            .treaties_not_in_force
            .iter()
            .filter_map(|t| t.treaty.as_ref())
            .map(|t| Bytes::from(t.name.clone())),
    );
    source_records.extend(
        facts
            .latest_meeting
            .iter()
            .map(|m| Bytes::from(m.name.clone())),
    );
    // Recognition, representation and the border rest on their events.
    source_records.extend(
        facts
            .recognitions
            .iter()
            .chain(&facts.representations)
            .chain([&facts.border])
            .flatten()
            .map(|fact| Bytes::from(fact.record.clone())),
    );
    source_records.sort_unstable();
    source_records.dedup();

    Ok(wire::Relation {
        name,
        countries: vec![country_name(pair.low()), country_name(pair.high())],
        as_of: Some(date_to_pb(as_of)),
        diplomatic_status: status_to_pb(status.status) as i32,
        status_since: status.since.map(date_to_pb),
        status_record: status.record.unwrap_or_default(),
        treaties_in_force,
        allied,
        armed_conflicts,
        meeting_count: count_to_pb(facts.meeting_count),
        latest_meeting: facts.latest_meeting,
        mediators: facts.mediators.into_iter().map(country_name).collect(),
        source_records,
        treaties_in_force_count: count_to_pb(facts.treaties_in_force_count),
        armed_conflicts_count: count_to_pb(facts.armed_conflicts_count),
        nonexistent_countries: Vec::new(),
        answered_for,
        changed_within,
        uncertain_records,
        treaties_not_in_force: facts.treaties_not_in_force,
        treaties_not_in_force_count: count_to_pb(facts.treaties_not_in_force_count),
        recognitions: directed(pair, facts.recognitions, |from, to, fact| pb::Recognition {
            recognizer: from,
            recognized: to,
            standing: fact
                .as_ref()
                .map_or(pb::RecognitionStanding::Unknown as i32, |f| f.value),
            since: fact.as_ref().map(|f| date_to_pb(f.date)),
            record: fact.map(|f| f.record).unwrap_or_default(),
        }),
        representations: directed(pair, facts.representations, |from, to, fact| {
            pb::Representation {
                sending: from,
                receiving: to,
                level: fact
                    .as_ref()
                    .map_or(pb::RepresentationLevel::Unknown as i32, |f| f.value),
                since: fact.as_ref().map(|f| date_to_pb(f.date)),
                record: fact.map(|f| f.record).unwrap_or_default(),
            }
        }),
        border: Some(pb::Border {
            status: facts
                .border
                .as_ref()
                .map_or(pb::BorderStatus::Unknown as i32, |f| f.value),
            since: facts.border.as_ref().map(|f| date_to_pb(f.date)),
            record: facts.border.map(|f| f.record).unwrap_or_default(),
        }),
        mediations_count: count_to_pb(facts.mediations_count),
        mediations: facts.mediations.into_iter().map(RawMessage).collect(),
    })
}

/// The country a page token of a list in country order stopped at.
fn country_after(token: &str, fingerprint: u64) -> Result<Option<CountryCode>> {
    page::decode_token(token, fingerprint)
        .map_err(|v| Error::InvalidArgument(vec![v]))?
        .map(|p| {
            std::str::from_utf8(&p)
                .ok()
                .and_then(CountryCode::parse)
                .ok_or_else(|| Error::invalid("page_token", "is not a token returned by this API"))
        })
        .transpose()
}

/// A list of enum values used as a filter: each a known, specified value
/// (INVALID_ARGUMENT naming `field[i]` otherwise).
fn enum_filter<E: TryFrom<i32>>(values: &[i32], field: &str) -> Result<Vec<i32>> {
    for (i, value) in values.iter().enumerate() {
        if *value == 0 || E::try_from(*value).is_err() {
            return Err(Error::invalid(
                format!("{field}[{i}]"),
                format!("{value} is not a value of this filter"),
            ));
        }
    }
    Ok(values.to_vec())
}

/// The index of the parent's direction in a relation listed for it: its
/// own, or that of the state it stands in for on the day.
fn parent_side(relation: &wire::Relation, parent: &str) -> usize {
    let answered = relation
        .answered_for
        .iter()
        .find(|c| c.asked == parent)
        .map_or(parent, |c| c.answered.as_str());
    match relation.countries.first() {
        Some(first) if first[..] == *answered.as_bytes() => 0,
        _ => 1,
    }
}

/// The subject of `ListRecognitions`: an existing country or actor.
fn recognized_subject(store: &Store, parent: &str) -> Result<()> {
    use crate::domain::{names::parse_record_name, Collection};
    match parse_record_name(parent) {
        Some((Collection::Countries, _)) => existing_country(store, parent, "parent").map(|_| ()),
        Some((Collection::Actors, id)) => match store.get(Collection::Actors, id)? {
            Some(_) => Ok(()),
            None => Err(Error::invalid(
                "parent",
                format!("unknown actor {}", short(parent)),
            )),
        },
        _ => Err(Error::invalid(
            "parent",
            format!(
                "{:?} is not a country or actor name such as `countries/XK` or `actors/nagorno-karabakh-authorities`",
                short(parent)
            ),
        )),
    }
}

/// One answer per direction of `pair`: the lower code's towards the
/// higher, then the reverse.
fn directed<T>(
    pair: CountryPair,
    facts: [Option<StandingFact>; 2],
    answer: impl Fn(String, String, Option<StandingFact>) -> T,
) -> Vec<T> {
    let [low, high] = facts;
    vec![
        answer(pair.low().name(), pair.high().name(), low),
        answer(pair.high().name(), pair.low().name(), high),
    ]
}

fn country_name(code: CountryCode) -> Bytes {
    match code.table_name() {
        Some(name) => Bytes::from_static(name),
        None => Bytes::from(code.name()),
    }
}

/// A checked history query, shared by `ListHistory` and `StreamHistory`.
struct HistoryQuery {
    scope: HistoryScope,
    from: Option<PartialDate>,
    until: Option<PartialDate>,
    kinds: Vec<i32>,
}

impl HistoryQuery {
    fn parse(
        store: &Store,
        parent: &str,
        start: Option<&Date>,
        end: Option<&Date>,
        kinds: &[i32],
    ) -> Result<Self> {
        let scope = if parent.contains("/relations/") {
            HistoryScope::Pair(parse_pair(store, parent, "parent")?)
        } else {
            HistoryScope::Country(existing_country(store, parent, "parent")?)
        };
        let mut violations = Vec::new();
        let mut date = |d: Option<&Date>, field: &str| match optional_date(d, field) {
            Ok(d) => d,
            Err(Error::InvalidArgument(v)) => {
                violations.extend(v);
                None
            }
            Err(_) => None,
        };
        let from = date(start, "start_date");
        let until = date(end, "end_date");
        if let (Some(from), Some(until)) = (from, until) {
            if until.last_day() < from.first_day() {
                violations.push(FieldViolation::new(
                    "end_date",
                    format!("{until} is before start_date {from}"),
                ));
            }
        }
        for (i, kind) in kinds.iter().enumerate() {
            if *kind == 0 || pb::HistoryEntryKind::try_from(*kind).is_err() {
                violations.push(FieldViolation::new(
                    format!("kinds[{i}]"),
                    format!("{kind} is not a history entry kind"),
                ));
            }
        }
        if !violations.is_empty() {
            return Err(Error::InvalidArgument(violations));
        }
        Ok(Self {
            scope,
            from,
            until,
            kinds: kinds.to_vec(),
        })
    }

    fn fingerprint(&self, parent: &str) -> u64 {
        let from = self.from.map(|d| d.to_string()).unwrap_or_default();
        let until = self.until.map(|d| d.to_string()).unwrap_or_default();
        let kinds: Vec<u8> = self.kinds.iter().flat_map(|k| k.to_be_bytes()).collect();
        page::fingerprint(&[parent.as_bytes(), from.as_bytes(), until.as_bytes(), &kinds])
    }

    /// Matching entries in order, after `after`, each with its position.
    fn entries<'a>(
        &'a self,
        store: &'a Store,
        after: Option<&[u8]>,
    ) -> impl Iterator<Item = Result<StoredHistoryEntry>> + 'a {
        store
            .history(
                self.scope,
                self.from.map(|d| d.first_day()),
                self.until.map(|d| d.last_day()),
                after,
            )
            .filter(|item| match item {
                Ok(entry) => self.kinds.is_empty() || self.kinds.contains(&entry.kind),
                Err(_) => true,
            })
    }
}

#[tonic::async_trait]
impl RelationService for Relations {
    async fn get_relation(
        &self,
        request: Request<pb::GetRelationRequest>,
    ) -> Result<Response<wire::Relation>, Status> {
        let req = request.into_inner();
        let pair = parse_pair(&self.store, &req.name, "name")?;
        let as_of =
            optional_date(req.as_of.as_ref(), "as_of")?.unwrap_or_else(PartialDate::today_utc);
        let listed = listed_in_view(req.view, "view")?;
        Ok(Response::new(relation_of(
            &self.store,
            req.name,
            pair,
            as_of,
            listed,
        )?))
    }

    async fn list_relations(
        &self,
        request: Request<pb::ListRelationsRequest>,
    ) -> Result<Response<wire::ListRelationsResponse>, Status> {
        let req = request.into_inner();
        let code = existing_country(&self.store, &req.parent, "parent")?;
        let limit = page::page_size(req.page_size).map_err(|v| Error::InvalidArgument(vec![v]))?;
        let as_of =
            optional_date(req.as_of.as_ref(), "as_of")?.unwrap_or_else(PartialDate::today_utc);
        let listed = listed_in_view(req.view, "view")?;
        let wanted =
            enum_filter::<pb::DiplomaticStatus>(&req.diplomatic_statuses, "diplomatic_statuses")?;
        let recognitions =
            enum_filter::<pb::RecognitionStanding>(&req.recognitions, "recognitions")?;
        let levels = enum_filter::<pb::RepresentationLevel>(
            &req.representation_levels,
            "representation_levels",
        )?;
        let as_of_text = as_of.to_string();
        let numbers =
            |values: &[i32]| -> Vec<u8> { values.iter().flat_map(|s| s.to_be_bytes()).collect() };
        let fingerprint = page::fingerprint(&[
            req.parent.as_bytes(),
            as_of_text.as_bytes(),
            &numbers(&wanted),
            &numbers(&recognitions),
            &numbers(&levels),
        ]);
        let after = country_after(&req.page_token, fingerprint)?;

        let mut relations = Vec::new();
        let mut next_page_token = String::new();
        let mut last = None;
        for other in self.store.partners(code, after) {
            let other = other?;
            if relations.len() == limit {
                if let Some(last) = last {
                    next_page_token =
                        page::encode_token(fingerprint, CountryCode::as_str(&last).as_bytes());
                }
                break;
            }
            last = Some(other);
            let Some(pair) = CountryPair::new(code, other) else {
                continue;
            };
            let name = format!("{}/relations/{other}", code.name());
            let relation = relation_of(&self.store, name, pair, as_of, listed)?;
            let side = parent_side(&relation, &req.parent);
            let recognition = relation.recognitions.get(side).map(|r| r.standing);
            let level = relation.representations.get(side).map(|r| r.level);
            let matches = |wanted: &[i32], value: Option<i32>| {
                wanted.is_empty() || value.is_some_and(|v| wanted.contains(&v))
            };
            if matches(&wanted, Some(relation.diplomatic_status))
                && matches(&recognitions, recognition)
                && matches(&levels, level)
            {
                relations.push(relation);
            }
        }
        Ok(Response::new(wire::ListRelationsResponse {
            relations,
            next_page_token,
        }))
    }

    async fn list_recognitions(
        &self,
        request: Request<pb::ListRecognitionsRequest>,
    ) -> Result<Response<pb::ListRecognitionsResponse>, Status> {
        let req = request.into_inner();
        recognized_subject(&self.store, &req.parent)?;
        let limit = page::page_size(req.page_size).map_err(|v| Error::InvalidArgument(vec![v]))?;
        let as_of =
            optional_date(req.as_of.as_ref(), "as_of")?.unwrap_or_else(PartialDate::today_utc);
        let standings = enum_filter::<pb::RecognitionStanding>(&req.standings, "standings")?;
        let as_of_text = as_of.to_string();
        let numbers: Vec<u8> = standings.iter().flat_map(|s| s.to_be_bytes()).collect();
        let fingerprint =
            page::fingerprint(&[req.parent.as_bytes(), as_of_text.as_bytes(), &numbers]);
        let after = country_after(&req.page_token, fingerprint)?;
        let mut recognitions = Vec::new();
        let mut next_page_token = String::new();
        let mut last: Option<CountryCode> = None;
        for item in self
            .store
            .recognitions_on(&req.parent, as_of.last_day(), after)
        {
            let (recognizer, fact) = item?;
            if recognitions.len() == limit {
                if let Some(last) = last {
                    next_page_token = page::encode_token(fingerprint, last.as_str().as_bytes());
                }
                break;
            }
            last = Some(recognizer);
            if standings.is_empty() || standings.contains(&fact.value) {
                recognitions.push(pb::Recognition {
                    recognizer: recognizer.name(),
                    recognized: req.parent.clone(),
                    standing: fact.value,
                    since: Some(date_to_pb(fact.date)),
                    record: fact.record,
                });
            }
        }
        Ok(Response::new(pb::ListRecognitionsResponse {
            recognitions,
            next_page_token,
        }))
    }

    async fn list_history(
        &self,
        request: Request<pb::ListHistoryRequest>,
    ) -> Result<Response<wire::ListHistoryResponse>, Status> {
        let req = request.into_inner();
        let query = HistoryQuery::parse(
            &self.store,
            &req.parent,
            req.start_date.as_ref(),
            req.end_date.as_ref(),
            &req.kinds,
        )?;
        let limit = page::page_size(req.page_size).map_err(|v| Error::InvalidArgument(vec![v]))?;
        let fingerprint = query.fingerprint(&req.parent);
        let after = page::decode_token(&req.page_token, fingerprint)
            .map_err(|v| Error::InvalidArgument(vec![v]))?;
        let mut entries = Vec::new();
        let mut next_page_token = String::new();
        let mut last_position = Vec::new();
        for item in query.entries(&self.store, after.as_deref()) {
            let entry = item?;
            if entries.len() == limit {
                next_page_token = page::encode_token(fingerprint, &last_position);
                break;
            }
            last_position = entry.position;
            entries.push(RawMessage(entry.encoded.into()));
        }
        Ok(Response::new(wire::ListHistoryResponse {
            entries,
            next_page_token,
        }))
    }

    type StreamHistoryStream = ReceiverStream<Result<RawMessage, Status>>;

    async fn stream_history(
        &self,
        request: Request<pb::StreamHistoryRequest>,
    ) -> Result<Response<Self::StreamHistoryStream>, Status> {
        let req = request.into_inner();
        let query = HistoryQuery::parse(
            &self.store,
            &req.parent,
            req.start_date.as_ref(),
            req.end_date.as_ref(),
            &req.kinds,
        )?;
        let (sender, receiver) = mpsc::channel(STREAM_BUFFER);
        let store = Arc::clone(&self.store);
        // The scan is blocking I/O: it runs off the async workers, and stops
        // as soon as the client goes away (the send fails).
        tokio::task::spawn_blocking(move || {
            for item in query.entries(&store, None) {
                let message = item
                    .map(|entry| RawMessage(entry.encoded.into()))
                    .map_err(Status::from);
                let failed = message.is_err();
                if sender.blocking_send(message).is_err() || failed {
                    break;
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(receiver)))
    }
}
