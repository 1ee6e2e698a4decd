//! Applying one write inside the writer's transaction: the record's new
//! state computed from its stored one, its etag and revision, its index
//! entries replaced, reference counts kept, references checked (a record
//! may name only countries and actors that exist; one still named may not
//! be deleted), and the change logged.

use std::collections::BTreeSet;

use prost::Message;

use super::index::{record_index, RecordIndex};
use super::keys;
use super::kv::{KvRead, WriteSet};
use crate::convert::date_from_pb;
use crate::domain::statehood::within_existence;
use crate::domain::{Collection, CountryCode, CountryPair};
use crate::error::{Error, FieldViolation, PreconditionViolation, Result};
use crate::pb::diplomacy::v1 as pb;
use crate::records::{
    decode_record, encode_record, etag_for, meta, periods_of, recognition_standing,
    referenced_actors, referenced_countries, statehood_of, without_store_meta, Participant, Record,
};

/// Computes the new state of one record from its stored state (`None`:
/// absent, or delete). May run more than once; must have no side effects.
pub type Compute = Box<dyn Fn(Option<&Record>) -> Result<Option<Record>> + Send>;

/// One record to change.
pub struct WriteOp {
    pub collection: Collection,
    pub id: String,
    pub compute: Compute,
    /// The revision the record gets instead of the write's: a replica's
    /// snapshot gives each record the etcd revision it last changed at.
    pub revision: Option<i64>,
}

/// What a write did to its record.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Created(Record),
    Updated(Record),
    Deleted(Record),
    /// The new content equals the stored one: nothing written.
    Unchanged(Record),
    /// Asked to delete what does not exist.
    Absent,
}

pub(super) fn change_of(
    outcome: &Outcome,
    revision: i64,
    commit_time: prost_types::Timestamp,
) -> Option<pb::Change> {
    let (kind, record) = match outcome {
        Outcome::Created(r) => (pb::ChangeType::Created, r),
        Outcome::Updated(r) => (pb::ChangeType::Updated, r),
        Outcome::Deleted(r) => (pb::ChangeType::Deleted, r),
        Outcome::Unchanged(_) | Outcome::Absent => return None,
    };
    Some(pb::Change {
        revision,
        r#type: kind as i32,
        name: crate::records::record_name(record).to_string(),
        record: Some(pb::Record {
            kind: Some(record.clone()),
        }),
        commit_time: Some(commit_time),
    })
}

/// Logs `change`, the `index`-th of its revision, and drops the one
/// `retention` revisions older (in a replica's index, where revisions have
/// gaps and several changes, the log keeps about `retention`).
pub(super) fn write_change(tx: &WriteSet<'_>, change: &pb::Change, index: usize, retention: u64) {
    let revision = change.revision as u64;
    tx.insert(&keys::change_at(revision, index), &change.encode_to_vec());
    if revision > retention {
        tx.remove(&keys::change_at(revision - retention, index));
    }
}

/// Applies one op inside the transaction; `revision` is the one it gets if
/// it changes anything.
pub(super) fn apply(tx: &WriteSet<'_>, op: &WriteOp, revision: i64) -> Result<Outcome> {
    let key = keys::record(op.collection, &op.id);
    let old =
        match tx.get(&key)? {
            Some(bytes) => Some(decode_record(op.collection, &bytes).map_err(|e| {
                Error::DataLoss(format!("{}/{}: {e}", op.collection.as_str(), op.id))
            })?),
            None => None,
        };
    let mut new = (op.compute)(old.as_ref())?;
    if let Some(Record::Country(country)) = new.as_mut() {
        // Output only: derived from the other countries on every read.
        country.successor_states.clear();
    }
    let new = match (old.as_ref(), new) {
        (None, None) => return Ok(Outcome::Absent),
        (Some(old), Some(new))
            if without_store_meta(old.clone()) == without_store_meta(new.clone()) =>
        {
            return Ok(Outcome::Unchanged(old.clone()))
        }
        (_, Some(mut new)) => {
            let m = meta(&mut new);
            let revision = op.revision.unwrap_or(revision);
            *m.revision = revision;
            *m.etag = etag_for(revision);
            check_references_exist(tx, &new)?;
            if let Record::Country(country) = &new {
                check_successions(tx, &op.id, country)?;
            }
            if let Record::Event(event) = &new {
                check_sides_existed(tx, event)?;
            }
            Some(new)
        }
        (Some(_), None) => None,
    };
    if op.collection == Collection::Countries && old.is_some() && new.is_none() {
        check_country_unused(tx, &op.id)?;
    }
    if op.collection == Collection::Actors && old.is_some() && new.is_none() {
        check_actor_unused(tx, &op.id)?;
    }
    let RecordIndex {
        entries: old_entries,
        pairs: old_pairs,
    } = old
        .as_ref()
        .map(|r| record_index(op.collection, &op.id, r))
        .unwrap_or_default();
    let RecordIndex {
        entries: new_entries,
        pairs: new_pairs,
    } = new
        .as_ref()
        .map(|r| record_index(op.collection, &op.id, r))
        .unwrap_or_default();
    for stale in old_entries.keys().filter(|k| !new_entries.contains_key(*k)) {
        tx.remove(stale);
    }
    for (k, v) in &new_entries {
        if old_entries.get(k) != Some(v) {
            tx.insert(k, v);
        }
    }
    for pair in old_pairs.difference(&new_pairs) {
        adjust_pair_count(tx, *pair, -1)?;
    }
    for pair in new_pairs.difference(&old_pairs) {
        adjust_pair_count(tx, *pair, 1)?;
    }
    let old_refs = old.as_ref().map(referenced_countries).unwrap_or_default();
    let new_refs = new.as_ref().map(referenced_countries).unwrap_or_default();
    adjust_refcounts(tx, &old_refs, &new_refs)?;
    let old_actors = old.as_ref().map(referenced_actors).unwrap_or_default();
    let new_actors = new.as_ref().map(referenced_actors).unwrap_or_default();
    for id in old_actors.difference(&new_actors) {
        adjust_count(tx, &keys::actor_refcount(id), -1)?;
    }
    for id in new_actors.difference(&old_actors) {
        adjust_count(tx, &keys::actor_refcount(id), 1)?;
    }
    Ok(match (old, new) {
        (None, Some(new)) => {
            tx.insert(&key, &encode_record(&new));
            adjust_count(tx, &keys::record_count(op.collection), 1)?;
            Outcome::Created(new)
        }
        (Some(_), Some(new)) => {
            tx.insert(&key, &encode_record(&new));
            Outcome::Updated(new)
        }
        (Some(old), None) => {
            tx.remove(&key);
            adjust_count(tx, &keys::record_count(op.collection), -1)?;
            Outcome::Deleted(old)
        }
        (None, None) => Outcome::Absent,
    })
}

fn adjust_refcounts(
    tx: &WriteSet<'_>,
    old: &BTreeSet<CountryCode>,
    new: &BTreeSet<CountryCode>,
) -> Result<()> {
    for code in old.difference(new) {
        adjust_refcount(tx, *code, -1)?;
    }
    for code in new.difference(old) {
        adjust_refcount(tx, *code, 1)?;
    }
    Ok(())
}

fn check_references_exist(tx: &WriteSet<'_>, record: &Record) -> Result<()> {
    let mut missing = Vec::new();
    for code in referenced_countries(record) {
        if !tx.contains(&keys::record(Collection::Countries, code.as_str()))? {
            missing.push(PreconditionViolation {
                kind: "COUNTRY_NOT_FOUND",
                subject: code.name(),
                description: format!("{} does not exist: create the country first", code.name()),
            });
        }
    }
    for id in referenced_actors(record) {
        if !tx.contains(&keys::record(Collection::Actors, &id))? {
            missing.push(PreconditionViolation {
                kind: "ACTOR_NOT_FOUND",
                subject: format!("actors/{id}"),
                description: format!("actors/{id} does not exist: create the actor first"),
            });
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::FailedPrecondition(missing))
    }
}

/// The states (and actors) a recognition or a level of representation is
/// about existed on the event's date, as their `existence` records it: a
/// side that did not exist can neither recognise nor be recognised, nor
/// send or receive a mission.
fn check_sides_existed(tx: &WriteSet<'_>, event: &pb::Event) -> Result<()> {
    let Some(date) = event.start_date.as_ref().and_then(|d| date_from_pb(d).ok()) else {
        return Ok(());
    };
    let mut sides: Vec<(String, &str)> = Vec::new();
    if recognition_standing(event.kind).is_some() {
        sides.push(("event.actor".into(), event.actor.as_str()));
        for (i, name) in event.counterparts.iter().enumerate() {
            sides.push((format!("event.counterparts[{i}]"), name.as_str()));
        }
    }
    for (i, change) in event.representation.iter().enumerate() {
        sides.push((
            format!("event.representation[{i}].sending"),
            &change.sending,
        ));
        sides.push((
            format!("event.representation[{i}].receiving"),
            &change.receiving,
        ));
    }
    let mut violations = Vec::new();
    for (field, name) in sides {
        let periods = match Participant::parse(name) {
            Some(Participant::Country(code)) => {
                read_country(tx, code)?.map(|country| statehood_of(&country).periods)
            }
            Some(Participant::Actor(id)) => match tx.get(&keys::record(Collection::Actors, &id))? {
                Some(bytes) => match decode_record(Collection::Actors, &bytes) {
                    Ok(Record::Actor(actor)) => Some(periods_of(&actor.existence)),
                    _ => None,
                },
                None => None,
            },
            None => None,
        };
        // A missing one is reported as not found.
        if periods.is_some_and(|periods| !within_existence(&periods, date)) {
            violations.push(FieldViolation::new(
                field,
                format!("{name} did not exist on {date} as its existence records it"),
            ));
        }
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidArgument(violations))
    }
}

fn check_actor_unused(tx: &WriteSet<'_>, id: &str) -> Result<()> {
    let count = read_u64(tx.get(&keys::actor_refcount(id))?);
    if count > 0 {
        return Err(Error::FailedPrecondition(vec![PreconditionViolation {
            kind: "ACTOR_IN_USE",
            subject: format!("actors/{id}"),
            description: format!(
                "actors/{id} is still named by {count} record(s): delete or change them first"
            ),
        }]));
    }
    Ok(())
}

/// A country's predecessors: each link dated within the predecessor's
/// existence, and no chain of links leading back to the country itself.
fn check_successions(tx: &WriteSet<'_>, id: &str, country: &pb::Country) -> Result<()> {
    let mut violations = Vec::new();
    for (i, link) in country.predecessors.iter().enumerate() {
        let Some(code) = CountryCode::from_name(&link.country) else {
            continue;
        };
        let Some(predecessor) = read_country(tx, code)? else {
            continue; // reported as COUNTRY_NOT_FOUND
        };
        let date = link.date.as_ref().and_then(|d| date_from_pb(d).ok());
        if let Some(date) = date {
            if !within_existence(&statehood_of(&predecessor).periods, date) {
                violations.push(PreconditionViolation {
                    kind: "SUCCESSION_OUTSIDE_EXISTENCE",
                    subject: format!("country.predecessors[{i}].date"),
                    description: format!(
                        "{date} is outside the existence of {} as recorded: a succession is dated within it (its last day or the day it ceased included)",
                        link.country
                    ),
                });
            }
        }
        if let Some(path) = leads_back(tx, code, id)? {
            violations.push(PreconditionViolation {
                kind: "SUCCESSION_CYCLE",
                subject: format!("country.predecessors[{i}].country"),
                description: format!(
                    "countries/{id} would be its own predecessor: {} already descends from it ({})",
                    link.country,
                    path.join(" ← ")
                ),
            });
        }
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(Error::FailedPrecondition(violations))
    }
}

/// Most links followed when looking for a cycle: far more than any real
/// chain (Russia: the Empire, the USSR, the Federation), and a bound on
/// what one write reads.
const MAX_SUCCESSION_DEPTH: usize = 64;

/// The chain of predecessors from `start` that reaches `target`, if any.
fn leads_back(tx: &WriteSet<'_>, start: CountryCode, target: &str) -> Result<Option<Vec<String>>> {
    let mut stack = vec![(start, vec![start.name()])];
    let mut seen = BTreeSet::new();
    while let Some((code, path)) = stack.pop() {
        if code.as_str() == target {
            return Ok(Some(path));
        }
        if !seen.insert(code) || seen.len() > MAX_SUCCESSION_DEPTH {
            continue;
        }
        if let Some(country) = read_country(tx, code)? {
            for link in &country.predecessors {
                if let Some(next) = CountryCode::from_name(&link.country) {
                    let mut longer = path.clone();
                    longer.push(next.name());
                    stack.push((next, longer));
                }
            }
        }
    }
    Ok(None)
}

fn read_country(tx: &WriteSet<'_>, code: CountryCode) -> Result<Option<pb::Country>> {
    let key = keys::record(Collection::Countries, code.as_str());
    match tx.get(&key)? {
        Some(bytes) => match decode_record(Collection::Countries, &bytes) {
            Ok(Record::Country(country)) => Ok(Some(country)),
            Ok(_) => Ok(None),
            Err(e) => Err(Error::DataLoss(format!("{}: {e}", code.name()))),
        },
        None => Ok(None),
    }
}

fn check_country_unused(tx: &WriteSet<'_>, id: &str) -> Result<()> {
    let Some(code) = CountryCode::parse(id) else {
        return Ok(());
    };
    let count = read_u64(tx.get(&keys::refcount(code))?);
    if count > 0 {
        return Err(Error::FailedPrecondition(vec![PreconditionViolation {
            kind: "COUNTRY_IN_USE",
            subject: code.name(),
            description: format!(
                "{} is still named by {count} record(s): delete or change them first",
                code.name()
            ),
        }]));
    }
    Ok(())
}

/// A big-endian u64 value, 0 when absent or malformed.
pub fn read_u64(bytes: Option<Vec<u8>>) -> u64 {
    bytes
        .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}

fn adjust_refcount(tx: &WriteSet<'_>, code: CountryCode, delta: i64) -> Result<()> {
    adjust_count(tx, &keys::refcount(code), delta)
}

/// The partner counts of `pair`, one per direction.
fn adjust_pair_count(tx: &WriteSet<'_>, pair: CountryPair, delta: i64) -> Result<()> {
    adjust_count(tx, &keys::partner(pair.low(), pair.high()), delta)?;
    adjust_count(tx, &keys::partner(pair.high(), pair.low()), delta)
}

/// A u64 count, removed at zero.
fn adjust_count(tx: &WriteSet<'_>, key: &[u8], delta: i64) -> Result<()> {
    let count = read_u64(tx.get(key)?).saturating_add_signed(delta);
    if count == 0 {
        tx.remove(key);
    } else {
        tx.insert(key, &count.to_be_bytes());
    }
    Ok(())
}
