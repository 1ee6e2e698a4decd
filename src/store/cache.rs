//! In-memory copies of what every relation query reads: which countries
//! exist, and per pair the `s/`, `t/`, `c/`, `m/` and `d/` index entries.
//!
//! Reading those from sled cost about a dozen range scans a call (each
//! copies a tree node), and the cost grew with a pair's history; from memory
//! a relation is a few binary searches. The copy is exact, not a TTL cache:
//! the writer patches it with every batch it applies, inside the store's
//! exclusive gate, so a reader holding the read gate sees the copy and the
//! database agree. A pair is loaded (under the read gate) on first use, or
//! ahead of it when the server starts (`warm`), and evicted, least recently
//! used first, past a budget of the heap bytes the pairs take.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use prost::Message;

use super::coverage::Coverage;
use super::index::{change_from_code, StatusValue, TreatyValue};
use super::keys::{self, PairFamily};
use super::kv::{KvStore, Writes};
use super::sorted::{allocation, buffer, SortedMap};
use crate::convert::{date_to_pb, stored_date};
use crate::domain::relation::{conflict_days, DaySpan, StatusFact, TreatyInterval};
use crate::domain::{Collection, CountryCode, CountryPair, PartialDate};
use crate::error::{Error, Result};
use crate::pb::diplomacy::v1 as pb;
use crate::wire::partial::summary_name;

/// What a cached pair costs beyond its entries: its slot in the pair map
/// (with the map's spare room) and the shared, locked index itself.
fn slot_bytes() -> usize {
    allocation(2 * std::mem::size_of::<usize>() + std::mem::size_of::<RwLock<PairIndex>>())
        + 2 * (std::mem::size_of::<(CountryPair, Slot)>() + 1)
}

/// The relation-relevant index entries of one pair. Keys are the index key
/// after `{family}/{AB}/`, so they start with the date sort key.
#[derive(Default)]
pub struct PairIndex {
    pub(super) status: SortedMap<StatusFact>,
    pub(super) treaties: SortedMap<CachedTreaty>,
    /// The keys of `treaties` that are alliances, and their days in force.
    pub(super) alliances: SortedMap<()>,
    pub(super) alliance_days: Coverage,
    /// The days each treaty is in force, to count them on a day.
    pub(super) treaty_days: Coverage,
    pub(super) conflicts: SortedMap<CachedConflict>,
    /// The days each conflict covers.
    pub(super) conflict_days: Coverage,
    /// `{date}/meetings/{id}`, sorted, so that "meetings up to a day" is one
    /// binary search, each with what its summary adds to its key
    /// (`meeting_rest`).
    pub(super) meetings: SortedMap<Box<[u8]>>,
    /// Per mediator in code order, its `{date}/{record}` entries, sorted.
    pub(super) mediators: Vec<(CountryCode, SortedMap<()>)>,
    /// Heap bytes the entries own (keys, names, titles), kept as entries
    /// come and go; the buffers holding the entries are counted when asked.
    owned: usize,
}

/// A treaty of the pair, with its days in force decoded once. Its summary
/// is kept encoded, as responses carry it: smaller than the struct, and
/// copied into a response without being encoded again.
pub struct CachedTreaty {
    pub days: Option<DaySpan>,
    pub allied: bool,
    /// An encoded `pb::TreatySummary`.
    pub summary: Box<[u8]>,
}

impl CachedTreaty {
    pub fn in_force_on(&self, day: time::Date) -> bool {
        self.days.is_some_and(|days| days.contains(day))
    }

    pub fn name(&self) -> &str {
        summary_name(&self.summary)
    }

    fn owned_bytes(&self) -> usize {
        allocation(self.summary.len())
    }
}

/// An armed conflict of the pair, with its days decoded once and its
/// summary kept encoded (as `CachedTreaty`'s).
pub struct CachedConflict {
    pub days: Option<DaySpan>,
    /// An encoded `pb::ConflictSummary`.
    pub summary: Box<[u8]>,
}

impl CachedConflict {
    pub fn covers(&self, day: time::Date) -> bool {
        self.days.is_some_and(|days| days.contains(day))
    }

    fn owned_bytes(&self) -> usize {
        allocation(self.summary.len())
    }
}

fn status_bytes(fact: &StatusFact) -> usize {
    allocation(fact.record.capacity())
}

/// The families this cache mirrors, by key tag.
fn family_of(key: &[u8]) -> Option<PairFamily> {
    match key.get(..2)? {
        b"s/" => Some(PairFamily::Status),
        b"t/" => Some(PairFamily::Treaty),
        b"c/" => Some(PairFamily::Conflict),
        b"m/" => Some(PairFamily::Meeting),
        b"d/" => Some(PairFamily::Mediator),
        _ => None,
    }
}

/// `x/AMAZ/rest` → the pair and `rest`.
fn split_pair_key(key: &[u8]) -> Option<(CountryPair, &[u8])> {
    let codes = std::str::from_utf8(key.get(2..6)?).ok()?;
    let low = CountryCode::parse(&codes[..2])?;
    let high = CountryCode::parse(&codes[2..])?;
    if key.get(6) != Some(&b'/') {
        return None;
    }
    Some((CountryPair::new(low, high)?, &key[7..]))
}

fn corrupt(what: &str, error: impl std::fmt::Display) -> Error {
    Error::DataLoss(format!("{what}: {error}"))
}

impl PairIndex {
    /// Sets (`Some`) or removes (`None`) one entry. Idempotent, so a patch
    /// that reaches an entry already loaded with it changes nothing.
    fn set(&mut self, family: PairFamily, rest: &[u8], value: Option<&[u8]>) -> Result<()> {
        let key_bytes = allocation(rest.len());
        // Heap bytes of entries added and removed (a replaced entry is both).
        let (added, removed) = match (family, value) {
            (PairFamily::Status, Some(v)) => {
                let status = StatusValue::decode(v).map_err(|e| corrupt("status index", e))?;
                let fact = change_from_code(status.change)
                    .zip(stored_date(status.date.as_ref()))
                    .map(|(change, date)| StatusFact {
                        date,
                        change,
                        record: record_of_rest(rest),
                    });
                match fact {
                    Some(fact) => {
                        let added = key_bytes + status_bytes(&fact);
                        let old = self.status.insert(rest.into(), fact);
                        (added, old.map_or(0, |old| key_bytes + status_bytes(&old)))
                    }
                    None => (0, self.remove_status(rest)),
                }
            }
            (PairFamily::Treaty, Some(v)) => {
                let treaty = TreatyValue::decode(v).map_err(|e| corrupt("treaty index", e))?;
                let interval = TreatyInterval {
                    from: stored_date(treaty.from.as_ref()),
                    until: stored_date(treaty.until.as_ref()),
                };
                let cached = CachedTreaty {
                    days: interval.days(),
                    allied: treaty.allied,
                    summary: treaty
                        .summary
                        .unwrap_or_default()
                        .encode_to_vec()
                        .into_boxed_slice(),
                };
                let removed = self.remove_treaty(rest);
                let mut added = key_bytes + cached.owned_bytes();
                if let Some(days) = cached.days {
                    self.treaty_days.insert(days);
                }
                if cached.allied {
                    self.alliances.insert(rest.into(), ());
                    added += key_bytes;
                    if let Some(days) = cached.days {
                        self.alliance_days.insert(days);
                    }
                }
                self.treaties.insert(rest.into(), cached);
                (added, removed)
            }
            (PairFamily::Conflict, Some(v)) => {
                let summary =
                    pb::ConflictSummary::decode(v).map_err(|e| corrupt("conflict index", e))?;
                let cached = CachedConflict {
                    days: stored_date(summary.start_date.as_ref())
                        .map(|start| conflict_days(start, stored_date(summary.end_date.as_ref()))),
                    // Encoded again, so that `name` comes first whatever
                    // wrote the value (`summary_name`).
                    summary: summary.encode_to_vec().into_boxed_slice(),
                };
                let removed = self.remove_conflict(rest);
                if let Some(days) = cached.days {
                    self.conflict_days.insert(days);
                }
                let added = key_bytes + cached.owned_bytes();
                self.conflicts.insert(rest.into(), cached);
                (added, removed)
            }
            (PairFamily::Meeting, Some(v)) => {
                let kept = meeting_rest(v)?;
                let added = key_bytes + allocation(kept.len());
                let old = self.meetings.insert(rest.into(), kept);
                (
                    added,
                    old.map_or(0, |old| key_bytes + allocation(old.len())),
                )
            }
            (PairFamily::Mediator, Some(_)) => {
                let (code, rest) = mediator_of(rest)?;
                let at = match self.mediators.binary_search_by_key(&code, |(c, _)| *c) {
                    Ok(at) => at,
                    Err(at) => {
                        self.mediators.insert(at, (code, SortedMap::default()));
                        at
                    }
                };
                match self.mediators[at].1.insert(rest.into(), ()) {
                    Some(()) => (0, 0),
                    None => (allocation(rest.len()), 0),
                }
            }
            (PairFamily::Status, None) => (0, self.remove_status(rest)),
            (PairFamily::Treaty, None) => (0, self.remove_treaty(rest)),
            (PairFamily::Conflict, None) => (0, self.remove_conflict(rest)),
            (PairFamily::Meeting, None) => (
                0,
                self.meetings
                    .remove(rest)
                    .map_or(0, |old| key_bytes + allocation(old.len())),
            ),
            (PairFamily::History, _) => (0, 0),
            (PairFamily::Mediator, None) => {
                let (code, rest) = mediator_of(rest)?;
                let Ok(at) = self.mediators.binary_search_by_key(&code, |(c, _)| *c) else {
                    return Ok(());
                };
                let entries = &mut self.mediators[at].1;
                let removed = entries.remove(rest).map_or(0, |()| allocation(rest.len()));
                if entries.is_empty() {
                    self.mediators.remove(at);
                }
                (0, removed)
            }
        };
        self.owned = (self.owned + added).saturating_sub(removed);
        Ok(())
    }

    /// Removes a status fact; the bytes it owned.
    fn remove_status(&mut self, key: &[u8]) -> usize {
        self.status
            .remove(key)
            .map_or(0, |old| allocation(key.len()) + status_bytes(&old))
    }

    /// Removes a treaty and what is derived from it; the bytes it owned.
    fn remove_treaty(&mut self, key: &[u8]) -> usize {
        let Some(old) = self.treaties.remove(key) else {
            return 0;
        };
        let mut freed = allocation(key.len()) + old.owned_bytes();
        if let Some(days) = old.days {
            self.treaty_days.remove(days);
        }
        if self.alliances.remove(key).is_some() {
            freed += allocation(key.len());
            if let Some(days) = old.days {
                self.alliance_days.remove(days);
            }
        }
        freed
    }

    /// Removes a conflict and its days; the bytes it owned.
    fn remove_conflict(&mut self, key: &[u8]) -> usize {
        let Some(old) = self.conflicts.remove(key) else {
            return 0;
        };
        if let Some(days) = old.days {
            self.conflict_days.remove(days);
        }
        allocation(key.len()) + old.owned_bytes()
    }

    /// Drops the spare room that loading left in every buffer.
    fn shrink_to_fit(&mut self) {
        self.status.shrink_to_fit();
        self.treaties.shrink_to_fit();
        self.alliances.shrink_to_fit();
        self.conflicts.shrink_to_fit();
        self.meetings.shrink_to_fit();
        self.mediators.shrink_to_fit();
        for (_, entries) in &mut self.mediators {
            entries.shrink_to_fit();
        }
        for days in [
            &mut self.treaty_days,
            &mut self.alliance_days,
            &mut self.conflict_days,
        ] {
            days.shrink_to_fit();
        }
    }

    /// Heap bytes this pair takes in the cache: its entries, the buffers
    /// that hold them, and its slot.
    pub fn weight(&self) -> usize {
        self.owned
            + self.status.buffer_bytes()
            + self.treaties.buffer_bytes()
            + self.alliances.buffer_bytes()
            + self.conflicts.buffer_bytes()
            + self.meetings.buffer_bytes()
            + buffer(&self.mediators)
            + self
                .mediators
                .iter()
                .map(|(_, entries)| entries.buffer_bytes())
                .sum::<usize>()
            + self.treaty_days.heap_bytes()
            + self.alliance_days.heap_bytes()
            + self.conflict_days.heap_bytes()
            + slot_bytes()
    }

    /// How many meetings are dated on or before the bound, and the summary
    /// of the latest of them.
    pub fn meetings_until(&self, until: &[u8]) -> Result<(usize, Option<pb::MeetingSummary>)> {
        let count = self.meetings.count_before(until);
        let latest = match self.meetings.before_rev(until).next() {
            Some((key, kept)) => Some(meeting_summary(key, kept)?),
            None => None,
        };
        Ok((count, latest))
    }

    /// Mediators whose first entry is dated on or before the bound, in code
    /// order.
    pub fn mediators_until(&self, until: &[u8]) -> Vec<CountryCode> {
        self.mediators
            .iter()
            .filter(|(_, entries)| entries.first_key().is_some_and(|first| first < until))
            .map(|(code, _)| *code)
            .collect()
    }
}

/// The values of `entries` keyed (by date) before the bound `until`, newest
/// first: a pair's status facts, treaties or conflicts up to a day.
pub fn newest_first<'a, V>(entries: &'a SortedMap<V>, until: &[u8]) -> impl Iterator<Item = &'a V> {
    entries.before_rev(until).map(|(_, v)| v)
}

/// What a cached meeting keeps beyond its key: its summary without the name
/// and first day, which the key holds (`{date}/{record}`), encoded. A
/// relation then reads no meeting from the database; kept whole, the
/// summaries would take about twice the room.
fn meeting_rest(value: &[u8]) -> Result<Box<[u8]>> {
    let mut summary = pb::MeetingSummary::decode(value).map_err(|e| corrupt("meeting index", e))?;
    summary.name.clear();
    summary.start_date = None;
    Ok(summary.encode_to_vec().into_boxed_slice())
}

/// The summary of a cached meeting: its key rest and what `meeting_rest`
/// kept, put back together.
fn meeting_summary(key: &[u8], kept: &[u8]) -> Result<pb::MeetingSummary> {
    let damaged = || corrupt("meeting index", String::from_utf8_lossy(key));
    let (date, name) = date_and_record(key).ok_or_else(damaged)?;
    let date = PartialDate::from_sort_key(date).ok_or_else(damaged)?;
    let name = std::str::from_utf8(name).map_err(|_| damaged())?;
    let mut summary = pb::MeetingSummary::decode(kept).map_err(|e| corrupt("meeting index", e))?;
    summary.name = name.to_string();
    summary.start_date = Some(date_to_pb(date));
    Ok(summary)
}

/// `AM/19910000d/meetings/x` → `AM` and `19910000d/meetings/x`.
fn mediator_of(rest: &[u8]) -> Result<(CountryCode, &[u8])> {
    let code = rest
        .get(..2)
        .and_then(|c| std::str::from_utf8(c).ok())
        .and_then(CountryCode::parse);
    match (code, rest.get(3..)) {
        (Some(code), Some(rest)) => Ok((code, rest)),
        _ => Err(corrupt("mediator index", String::from_utf8_lossy(rest))),
    }
}

/// `19910000d/events/f07` → `19910000d` and `events/f07`: the key rest of
/// a status fact or meeting.
fn date_and_record(rest: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = rest.iter().position(|&b| b == b'/')?;
    Some((&rest[..at], &rest[at + 1..]))
}

/// `19910000d/events/f07` → `events/f07`.
fn record_of_rest(rest: &[u8]) -> String {
    let record = date_and_record(rest).map_or(rest, |(_, record)| record);
    String::from_utf8_lossy(record).into_owned()
}

struct Slot {
    index: Arc<RwLock<PairIndex>>,
    used_at: u64,
}

#[derive(Default)]
struct Pairs {
    slots: HashMap<CountryPair, Slot>,
    clock: u64,
    weight: usize,
}

/// Country existence and per-pair indexes, kept in step by the writer.
pub struct ReadCache {
    countries: RwLock<HashSet<CountryCode>>,
    pairs: Mutex<Pairs>,
    budget: usize,
}

/// What one batch of writes changes in the cache, taken before the batch is
/// handed to the engine.
pub struct Patch {
    countries: Vec<(CountryCode, bool)>,
    pairs: Vec<PairWrite>,
}

/// One mirrored entry set (`Some`) or removed (`None`).
struct PairWrite {
    pair: CountryPair,
    family: PairFamily,
    rest: Vec<u8>,
    value: Option<Vec<u8>>,
}

impl ReadCache {
    /// Loads the existing countries; pairs load on first use.
    pub fn load<K: KvStore>(kv: &K, budget_bytes: usize) -> Result<Self> {
        let mut countries = HashSet::new();
        for entry in kv.scan_prefix(&keys::records_of(Collection::Countries)) {
            let (key, _) = entry?;
            if let Some(code) = keys::country_of_record(&key) {
                countries.insert(code);
            }
        }
        Ok(Self {
            countries: RwLock::new(countries),
            pairs: Mutex::new(Pairs::default()),
            budget: budget_bytes,
        })
    }

    pub fn country_exists(&self, code: CountryCode) -> bool {
        self.countries
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&code)
    }

    /// The entries of `writes` this cache mirrors.
    pub fn patch_for(writes: &Writes) -> Patch {
        let mut patch = Patch {
            countries: Vec::new(),
            pairs: Vec::new(),
        };
        for (key, value) in writes {
            if let Some(code) = keys::country_of_record(key) {
                patch.countries.push((code, value.is_some()));
            } else if let Some(family) = family_of(key) {
                if let Some((pair, rest)) = split_pair_key(key) {
                    patch.pairs.push(PairWrite {
                        pair,
                        family,
                        rest: rest.to_vec(),
                        value: value.clone(),
                    });
                }
            }
        }
        patch
    }

    /// Applies a patch; the caller holds the store's exclusive gate, right
    /// after the engine applied the same writes.
    pub fn apply(&self, patch: Patch) {
        if !patch.countries.is_empty() {
            let mut countries = self.countries.write().unwrap_or_else(|e| e.into_inner());
            for (code, exists) in patch.countries {
                if exists {
                    countries.insert(code);
                } else {
                    countries.remove(&code);
                }
            }
        }
        if patch.pairs.is_empty() {
            return;
        }
        let mut pairs = self.lock_pairs();
        let mut failed = Vec::new();
        for PairWrite {
            pair,
            family,
            rest,
            value,
        } in patch.pairs
        {
            let Some(slot) = pairs.slots.get(&pair) else {
                continue;
            };
            let mut index = slot.index.write().unwrap_or_else(|e| e.into_inner());
            let before = index.weight();
            if index.set(family, &rest, value.as_deref()).is_err() {
                // Dropped: the next reader loads it from the database, and
                // reports the damage there.
                failed.push(pair);
            }
            let after = index.weight();
            drop(index);
            pairs.weight = (pairs.weight + after).saturating_sub(before);
        }
        for pair in failed {
            pairs.remove(pair);
        }
    }

    /// The cached index of `pair`, loading it from `kv` if needed. The caller
    /// holds the read gate, so no batch lands between load and insert.
    pub fn pair<K: KvStore>(&self, kv: &K, pair: CountryPair) -> Result<Arc<RwLock<PairIndex>>> {
        if let Some(index) = self.lock_pairs().touch(pair) {
            return Ok(index);
        }
        let index = Arc::new(RwLock::new(load_pair(kv, pair)?));
        let mut pairs = self.lock_pairs();
        if let Some(loaded) = pairs.touch(pair) {
            // Another reader loaded it meanwhile: the same data.
            return Ok(loaded);
        }
        let now = pairs.clock;
        let weight = index.read().unwrap_or_else(|e| e.into_inner()).weight();
        pairs.insert(pair, Arc::clone(&index), weight, now);
        if pairs.weight > self.budget {
            pairs.evict(self.budget - self.budget / 4);
        }
        Ok(index)
    }

    /// Loads `pair` ahead of any caller asking for it, if it fits in what
    /// is left of the budget; whether it did (or was already held). The
    /// caller holds the read gate. A pair loaded so counts as never used:
    /// it is the first to go when callers' pairs need the room.
    pub fn warm<K: KvStore>(&self, kv: &K, pair: CountryPair) -> Result<bool> {
        if self.lock_pairs().slots.contains_key(&pair) {
            return Ok(true);
        }
        let index = load_pair(kv, pair)?;
        let weight = index.weight();
        let mut pairs = self.lock_pairs();
        if pairs.slots.contains_key(&pair) {
            return Ok(true);
        }
        if pairs.weight + weight > self.budget {
            return Ok(false);
        }
        pairs.insert(pair, Arc::new(RwLock::new(index)), weight, 0);
        Ok(true)
    }

    #[cfg(test)]
    pub(super) fn holds(&self, pair: CountryPair) -> bool {
        self.lock_pairs().slots.contains_key(&pair)
    }

    fn lock_pairs(&self) -> std::sync::MutexGuard<'_, Pairs> {
        self.pairs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Heap bytes the cached pairs take, and how many there are.
    pub fn pair_usage(&self) -> (usize, usize) {
        let pairs = self.lock_pairs();
        (pairs.weight, pairs.slots.len())
    }
}

impl Pairs {
    /// The cached index of `pair`, marked as just used.
    fn touch(&mut self, pair: CountryPair) -> Option<Arc<RwLock<PairIndex>>> {
        self.clock += 1;
        let now = self.clock;
        let slot = self.slots.get_mut(&pair)?;
        slot.used_at = now;
        Some(Arc::clone(&slot.index))
    }

    /// Holds a newly loaded pair of `weight` bytes, last used at `used_at`.
    fn insert(
        &mut self,
        pair: CountryPair,
        index: Arc<RwLock<PairIndex>>,
        weight: usize,
        used_at: u64,
    ) {
        self.weight += weight;
        self.slots.insert(pair, Slot { index, used_at });
    }

    fn remove(&mut self, pair: CountryPair) {
        if let Some(slot) = self.slots.remove(&pair) {
            let weight = slot
                .index
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .weight();
            self.weight = self.weight.saturating_sub(weight);
        }
    }

    /// Drops least recently used pairs until the weight is at most `target`.
    fn evict(&mut self, target: usize) {
        let mut by_age: Vec<(u64, CountryPair)> = self
            .slots
            .iter()
            .map(|(pair, slot)| (slot.used_at, *pair))
            .collect();
        by_age.sort_unstable();
        for (_, pair) in by_age {
            if self.weight <= target {
                break;
            }
            self.remove(pair);
        }
    }
}

/// Reads every mirrored entry of `pair` from the database.
fn load_pair<K: KvStore>(kv: &K, pair: CountryPair) -> Result<PairIndex> {
    let mut index = PairIndex::default();
    for family in [
        PairFamily::Status,
        PairFamily::Treaty,
        PairFamily::Conflict,
        PairFamily::Meeting,
        PairFamily::Mediator,
    ] {
        let prefix = keys::pair(family, pair);
        for entry in kv.scan_prefix(&prefix) {
            let (key, value) = entry?;
            index.set(family, &key[prefix.len()..], Some(&value))?;
        }
    }
    index.shrink_to_fit();
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> CountryPair {
        CountryPair::new(
            CountryCode::parse("AM").expect("code"),
            CountryCode::parse("AZ").expect("code"),
        )
        .expect("pair")
    }

    /// A meeting's summary as the writer stores it under `m/`.
    fn meeting(name: &str, year: i32, title: &str) -> Vec<u8> {
        pb::MeetingSummary {
            name: name.into(),
            title: title.into(),
            start_date: date(year, 0),
            end_date: date(year, 2),
        }
        .encode_to_vec()
    }

    #[test]
    fn meetings_are_counted_up_to_a_bound_and_patches_are_idempotent() {
        let mut index = PairIndex::default();
        for (rest, year) in [
            ("199101011/meetings/a", 1991),
            ("199201011/meetings/b", 1992),
            ("199101011/meetings/a", 1991),
        ] {
            let name = rest.split_once('/').expect("date/name").1;
            let value = meeting(name, year, &format!("Talks of {year}"));
            index
                .set(PairFamily::Meeting, rest.as_bytes(), Some(&value))
                .expect("set");
        }
        assert_eq!(
            index.meetings.count_before(b"9"),
            2,
            "setting twice adds once"
        );
        let (count, latest) = index.meetings_until(b"199112319").expect("sound");
        assert_eq!(count, 1);
        let stored = pb::MeetingSummary::decode(&*meeting("meetings/a", 1991, "Talks of 1991"));
        assert_eq!(
            latest,
            Some(stored.expect("decodes")),
            "the summary as stored"
        );
        let weight = index.weight();
        index
            .set(PairFamily::Meeting, b"199101011/meetings/a", None)
            .expect("remove");
        index
            .set(PairFamily::Meeting, b"199101011/meetings/a", None)
            .expect("remove again");
        assert_eq!(index.meetings_until(b"199912319").expect("sound").0, 1);
        assert!(index.weight() < weight, "removing gives back its weight");
    }

    #[test]
    fn a_meeting_key_without_its_date_is_damage_not_a_panic() {
        let mut index = PairIndex::default();
        let value = meeting("meetings/a", 1991, "Talks");
        index
            .set(PairFamily::Meeting, b"1991xx011/meetings/a", Some(&value))
            .expect("set");
        assert!(matches!(
            index.meetings_until(b"9"),
            Err(Error::DataLoss(_))
        ));
        assert!(index
            .set(PairFamily::Meeting, b"199101011/meetings/b", Some(b"\xff"))
            .is_err());
    }

    #[test]
    fn a_mediator_counts_from_its_first_entry() {
        let mut index = PairIndex::default();
        index
            .set(PairFamily::Mediator, b"RU/200001010/meetings/a", Some(b""))
            .expect("set");
        index
            .set(PairFamily::Mediator, b"FR/199501010/meetings/b", Some(b""))
            .expect("set");
        let ru = CountryCode::parse("RU").expect("code");
        let fr = CountryCode::parse("FR").expect("code");
        assert_eq!(index.mediators_until(b"199612319"), vec![fr]);
        assert_eq!(index.mediators_until(b"200112319"), vec![fr, ru]);
        index
            .set(PairFamily::Mediator, b"FR/199501010/meetings/b", None)
            .expect("remove");
        assert_eq!(index.mediators_until(b"200112319"), vec![ru]);
    }

    fn date(year: i32, month: i32) -> Option<crate::pb::google::r#type::Date> {
        Some(crate::pb::google::r#type::Date {
            year,
            month,
            day: 0,
        })
    }

    /// A pair with `n` facts of each kind, as loading it would set them.
    fn busy_pair(n: usize) -> PairIndex {
        let mut index = PairIndex::default();
        for i in 0..n {
            let year = 1950 + (i % 70) as i32;
            // Real sort keys (a day, precision 3), as the writer makes them.
            let rest = |kind: &str| format!("{year}0{}013/{kind}/{kind}-{i:06}", i % 9 + 1);
            let status = StatusValue {
                change: 3,
                date: date(year, 1),
            };
            let treaty = TreatyValue {
                summary: Some(pb::TreatySummary {
                    name: format!("treaties/t-{i:06}"),
                    title: format!("Treaty number {i} between the two"),
                    kind: 1,
                    signed_date: date(year, 1),
                    entry_into_force_date: date(year, 2),
                }),
                from: date(year, 2),
                until: None,
                allied: i % 3 == 0,
            };
            let conflict = pb::ConflictSummary {
                name: format!("events/c-{i:06}"),
                title: format!("Conflict {i}"),
                start_date: date(year, 3),
                end_date: date(year + 1, 3),
                ongoing: false,
            };
            let sets = [
                (PairFamily::Status, rest("events"), status.encode_to_vec()),
                (PairFamily::Treaty, rest("treaties"), treaty.encode_to_vec()),
                (
                    PairFamily::Conflict,
                    rest("events"),
                    conflict.encode_to_vec(),
                ),
                (
                    PairFamily::Meeting,
                    rest("meetings"),
                    meeting(
                        &format!("meetings/meetings-{i:06}"),
                        year,
                        "Synthetic meeting",
                    ),
                ),
                (
                    PairFamily::Mediator,
                    format!("{}/{}", ["FR", "RU", "US"][i % 3], rest("meetings")),
                    Vec::new(),
                ),
            ];
            for (family, rest, value) in sets {
                index
                    .set(family, rest.as_bytes(), Some(&value))
                    .expect("set");
            }
        }
        index.shrink_to_fit();
        index
    }

    #[test]
    fn a_pair_weighs_what_it_takes_from_the_heap() {
        for n in [1, 2, 10, 500, 2000] {
            let (index, heap) =
                crate::store::heap_probe::retained(|| Arc::new(RwLock::new(busy_pair(n))));
            let weight = index.read().expect("not poisoned").weight();
            // The weight also counts the pair's slot in the cache's map,
            // which this pair is not in.
            let entries = weight - 2 * (std::mem::size_of::<(CountryPair, Slot)>() + 1);
            assert_eq!(entries, heap, "a pair with {n} facts of each kind");
        }
    }

    #[test]
    fn patches_keep_the_weight_true() {
        let mut index = busy_pair(50);
        let treaty = TreatyValue {
            summary: Some(pb::TreatySummary {
                name: "treaties/late".into(),
                title: "A late alliance".into(),
                ..Default::default()
            }),
            from: date(2001, 1),
            until: None,
            allied: true,
        };
        let before = index.weight();
        index
            .set(
                PairFamily::Treaty,
                b"200101001/treaties/late",
                Some(&treaty.encode_to_vec()),
            )
            .expect("set");
        index
            .set(
                PairFamily::Meeting,
                b"200101001/meetings/late",
                Some(&meeting("meetings/late", 2001, "Late talks")),
            )
            .expect("set");
        index
            .set(PairFamily::Treaty, b"200101001/treaties/late", None)
            .expect("remove");
        index
            .set(PairFamily::Meeting, b"200101001/meetings/late", None)
            .expect("remove");
        // Buffers keep the room they grew by, so only the entries' own bytes
        // are back where they were.
        let touched_buffers = |index: &PairIndex| {
            index.treaties.buffer_bytes()
                + index.alliances.buffer_bytes()
                + index.meetings.buffer_bytes()
                + index.treaty_days.heap_bytes()
                + index.alliance_days.heap_bytes()
        };
        let grown = touched_buffers(&index);
        index.shrink_to_fit();
        let shrunk = touched_buffers(&index);
        assert_eq!(index.weight(), before);
        assert!(grown > shrunk, "the grown buffers were counted");
    }

    #[test]
    fn patches_take_only_mirrored_keys() {
        let mut writes = Writes::new();
        writes.insert(b"m/AMAZ/199101010/meetings/a".to_vec(), Some(Vec::new()));
        writes.insert(
            b"p/AMAZ/199101010/meetings/a/start".to_vec(),
            Some(Vec::new()),
        );
        writes.insert(b"r/countries/FR".to_vec(), None);
        writes.insert(b"r/meetings/a".to_vec(), Some(Vec::new()));
        let patch = ReadCache::patch_for(&writes);
        assert_eq!(patch.pairs.len(), 1);
        assert_eq!(patch.pairs[0].pair, pair());
        assert_eq!(
            patch.countries,
            vec![(CountryCode::parse("FR").expect("code"), false)]
        );
    }
}
