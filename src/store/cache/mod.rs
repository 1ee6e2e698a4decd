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
//!
//! `pair_index` holds one pair's entries and answers for them, `codec`
//! reads and writes their bytes; this file keeps the pairs within budget
//! and the copy in step with the writer.

mod codec;
#[cfg(test)]
mod heap_probe;
mod mediations;
mod pair_index;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use crate::domain::statehood::Statehood;
use crate::domain::{Collection, CountryCode, CountryPair};
use crate::error::Result;
use crate::records::{decode_record, statehood_of, Record};
use crate::store::keys::{self, PairFamily};
use crate::store::kv::{KvStore, Writes};

pub use pair_index::{newest_first, CachedConflict, CachedTreaty, PairIndex};

pub(super) struct Slot {
    index: Arc<RwLock<PairIndex>>,
    used_at: u64,
}

#[derive(Default)]
pub(super) struct Pairs {
    slots: HashMap<CountryPair, Slot>,
    clock: u64,
    weight: usize,
}

/// What relations read of a stored country record. A record that does not
/// decode (never expected: the writer encoded it) counts as a country with
/// nothing recorded about it in time.
fn statehood_in(value: &[u8]) -> Statehood {
    match decode_record(Collection::Countries, value) {
        Ok(Record::Country(country)) => statehood_of(&country),
        _ => Statehood::default(),
    }
}

/// Country existence and per-pair indexes, kept in step by the writer.
pub struct ReadCache {
    /// Every country, with what relations need of it: its existence and
    /// the states it continues (a relation query reads two of them).
    countries: RwLock<HashMap<CountryCode, Arc<Statehood>>>,
    pairs: Mutex<Pairs>,
    budget: usize,
}

/// What one batch of writes changes in the cache, taken before the batch is
/// handed to the engine.
pub struct Patch {
    countries: Vec<(CountryCode, Option<Arc<Statehood>>)>,
    pairs: Vec<PairWrite>,
}

/// One mirrored entry set (`Some`) or removed (`None`).
pub(super) struct PairWrite {
    pair: CountryPair,
    family: PairFamily,
    rest: Vec<u8>,
    value: Option<Vec<u8>>,
}

impl ReadCache {
    /// Loads the existing countries; pairs load on first use.
    pub fn load<K: KvStore>(kv: &K, budget_bytes: usize) -> Result<Self> {
        let mut countries = HashMap::new();
        for entry in kv.scan_prefix(&keys::records_of(Collection::Countries)) {
            let (key, value) = entry?;
            if let Some(code) = keys::country_of_record(&key) {
                countries.insert(code, Arc::new(statehood_in(&value)));
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
            .contains_key(&code)
    }

    /// A country's existence and continuation links; `None` if there is no
    /// such country.
    pub fn statehood(&self, code: CountryCode) -> Option<Arc<Statehood>> {
        self.countries
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&code)
            .cloned()
    }

    /// The entries of `writes` this cache mirrors.
    pub fn patch_for(writes: &Writes) -> Patch {
        let mut patch = Patch {
            countries: Vec::new(),
            pairs: Vec::new(),
        };
        for (key, value) in writes {
            if let Some(code) = keys::country_of_record(key) {
                let statehood = value.as_deref().map(|v| Arc::new(statehood_in(v)));
                patch.countries.push((code, statehood));
            } else if let Some(family) = PairFamily::cached_of(key) {
                if let Some((pair, rest)) = keys::split_pair_key(key) {
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
            for (code, statehood) in patch.countries {
                match statehood {
                    Some(statehood) => countries.insert(code, statehood),
                    None => countries.remove(&code),
                };
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

    pub(super) fn lock_pairs(&self) -> std::sync::MutexGuard<'_, Pairs> {
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
    pub(super) fn touch(&mut self, pair: CountryPair) -> Option<Arc<RwLock<PairIndex>>> {
        self.clock += 1;
        let now = self.clock;
        let slot = self.slots.get_mut(&pair)?;
        slot.used_at = now;
        Some(Arc::clone(&slot.index))
    }

    /// Holds a newly loaded pair of `weight` bytes, last used at `used_at`.
    pub(super) fn insert(
        &mut self,
        pair: CountryPair,
        index: Arc<RwLock<PairIndex>>,
        weight: usize,
        used_at: u64,
    ) {
        self.weight += weight;
        self.slots.insert(pair, Slot { index, used_at });
    }

    pub(super) fn remove(&mut self, pair: CountryPair) {
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
    pub(super) fn evict(&mut self, target: usize) {
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
pub(super) fn load_pair<K: KvStore>(kv: &K, pair: CountryPair) -> Result<PairIndex> {
    let mut index = PairIndex::default();
    for family in PairFamily::CACHED {
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
    use prost::Message;

    use super::mediations::CachedMediation;
    use super::*;
    use crate::domain::mediation::{summarize, MediationSummary};
    use crate::error::Error;
    use crate::pb::diplomacy::v1 as pb;
    use crate::store::index::{StatusValue, TreatyValue};

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
        let (count, latest) = index.meetings_between(None, b"199112319").expect("sound");
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
        assert_eq!(
            index.meetings_between(None, b"199912319").expect("sound").0,
            1
        );
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
            index.meetings_between(None, b"9"),
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
        assert_eq!(index.mediators_between(None, on(1996, 12, 31)), vec![fr]);
        assert_eq!(
            index.mediators_between(None, on(2001, 12, 31)),
            vec![fr, ru]
        );
        index
            .set(PairFamily::Mediator, b"FR/199501010/meetings/b", None)
            .expect("remove");
        assert_eq!(index.mediators_between(None, on(2001, 12, 31)), vec![ru]);
        assert!(
            index
                .set(PairFamily::Mediator, b"FR/1995x1010/meetings/c", Some(b""))
                .is_err(),
            "a key without its date is damage"
        );
        assert_eq!(index.mediators_between(None, on(2001, 12, 31)), vec![ru]);
    }

    #[test]
    fn a_mediator_counts_in_a_period_when_one_of_its_entries_is_in_it() {
        let mut index = PairIndex::default();
        let entries = [
            "199001010/events/a",
            "200001010/events/b",
            "201001010/events/c",
        ];
        for rest in entries {
            index
                .set(
                    PairFamily::Mediator,
                    format!("FR/{rest}").as_bytes(),
                    Some(b""),
                )
                .expect("set");
        }
        let fr = CountryCode::parse("FR").expect("code");
        let dated = [on(1990, 1, 1), on(2000, 1, 1), on(2010, 1, 1)];
        // Every fifth year's midsummer, and each entry's day and the days
        // either side of it.
        let mut bounds: Vec<time::Date> = (1985..=2015).step_by(5).map(|y| on(y, 6, 30)).collect();
        for day in dated {
            bounds.extend(
                [day.previous_day(), Some(day), day.next_day()]
                    .into_iter()
                    .flatten(),
            );
        }
        for from in &bounds {
            for day in bounds.iter().filter(|day| *day >= from) {
                let within = dated.iter().any(|d| from <= d && d <= day);
                let named = index.mediators_between(Some(*from), *day);
                assert_eq!(named == vec![fr], within, "from {from} to {day}");
            }
            let named = index.mediators_between(None, *from);
            assert_eq!(named == vec![fr], dated[0] <= *from, "up to {from}");
        }
    }

    fn on(year: i32, month: u8, day: u8) -> time::Date {
        let month = time::Month::try_from(month).expect("month");
        time::Date::from_calendar_date(year, month, day).expect("day")
    }

    fn date(year: i32, month: i32) -> Option<crate::pb::google::r#type::Date> {
        Some(crate::pb::google::r#type::Date {
            year,
            month,
            day: 0,
        })
    }

    /// The mediators and roles of `busy_pair`'s mediations.
    const MEDIATIONS: [(&str, i32); 4] = [
        ("countries/FR", 4),
        ("actors/un", 4),
        ("countries/US", 5),
        ("countries/FR", 5),
    ];

    /// The `g/` key (after the pair) of `busy_pair`'s `i`th mediation,
    /// dated as `dated` (a key of another family) is.
    fn mediation_rest(i: usize, dated: &str) -> String {
        let (mediator, role) = MEDIATIONS[i % MEDIATIONS.len()];
        let group = crate::store::keys::mediation_group(mediator, role);
        format!("{}{dated}", String::from_utf8_lossy(&group))
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
                (
                    PairFamily::Mediation,
                    mediation_rest(i, &rest("meetings")),
                    {
                        let (mediator, role) = MEDIATIONS[i % MEDIATIONS.len()];
                        pb::Mediation {
                            mediator: mediator.into(),
                            role,
                            start_date: date(year, 1),
                            end_date: (i % 5 != 0).then(|| date(year + 1, 0)).flatten(),
                            ongoing: i % 5 == 0,
                            records: vec![format!("meetings/meetings-{i:06}")],
                            records_count: 0,
                        }
                        .encode_to_vec()
                    },
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
            let (index, heap) = super::heap_probe::retained(|| Arc::new(RwLock::new(busy_pair(n))));
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

    /// The summaries a pair keeps, and those its spans make in one pass, in
    /// listing order.
    fn summaries_kept_and_made(
        index: &PairIndex,
    ) -> (Vec<MediationSummary>, Vec<MediationSummary>) {
        let kept: Vec<MediationSummary> = index
            .mediation_summaries
            .iter()
            .map(|kept| kept.summary.clone())
            .collect();
        // What the BASIC view sends is kept as the summary's encoding.
        for kept in &index.mediation_summaries {
            assert_eq!(
                kept,
                &CachedMediation::new(&kept.group, kept.summary.clone())
            );
        }
        // Kept in listing order, which no two summaries tie in.
        let mut made = summarize(index.mediations.values());
        made.sort_by(MediationSummary::listing_order);
        (kept, made)
    }

    #[test]
    fn mediation_summaries_follow_their_spans_as_they_come_and_go() {
        // Past 70 mediations the years start again: spans come out of order.
        for n in [3, 70, 300] {
            let mut index = busy_pair(n);
            let (kept, made) = summaries_kept_and_made(&index);
            assert_eq!(kept.len(), MEDIATIONS.len().min(n));
            assert_eq!(kept, made, "{n} spans set");
            let weight = index.weight();
            for i in (0..n).step_by(3) {
                let rest = mediation_rest(
                    i,
                    &format!(
                        "{}0{}013/meetings/meetings-{i:06}",
                        1950 + (i % 70),
                        i % 9 + 1
                    ),
                );
                index
                    .set(PairFamily::Mediation, rest.as_bytes(), None)
                    .expect("remove");
            }
            let (kept, made) = summaries_kept_and_made(&index);
            assert_eq!(kept, made, "a third of {n} spans removed");
            assert!(index.weight() < weight, "removing gives back its weight");
        }
        let mut index = busy_pair(8);
        let spans: Vec<Box<[u8]>> = index
            .mediations
            .from(b"")
            .map(|(key, _)| key.into())
            .collect();
        for rest in spans {
            index
                .set(PairFamily::Mediation, &rest, None)
                .expect("remove");
        }
        assert!(
            index.mediation_summaries.is_empty(),
            "no spans, no summaries"
        );
        assert_eq!(index.mediations_on(time::Date::MAX, true, 100), (0, vec![]));
    }

    #[test]
    fn a_relation_lists_each_active_mediation_from_its_summary() {
        let index = busy_pair(300);
        // 2020-01-01: the open spans (every fifth) keep all four going.
        let day = time::Date::from_calendar_date(2020, time::Month::January, 1).expect("day");
        let decoded = |(count, listed): (usize, Vec<bytes::Bytes>)| {
            let listed: Vec<pb::Mediation> = listed
                .iter()
                .map(|m| pb::Mediation::decode(&m[..]).expect("a mediation"))
                .collect();
            assert_eq!(count, listed.len(), "all are listed under the limit");
            listed
        };
        let full = decoded(index.mediations_on(day, true, 100));
        let basic = decoded(index.mediations_on(day, false, 100));
        assert_eq!(full.len(), MEDIATIONS.len());
        let before_all =
            time::Date::from_calendar_date(1900, time::Month::January, 1).expect("day");
        assert_eq!(
            index.mediations_on(before_all, false, 100),
            (0, vec![]),
            "none is active before its start"
        );
        let (count, first) = index.mediations_on(day, false, 1);
        assert_eq!(
            (count, first.len()),
            (MEDIATIONS.len(), 1),
            "counted past the limit"
        );
        assert_eq!(
            pb::Mediation::decode(&first[0][..]).expect("mediation"),
            basic[0]
        );
        for (full, basic) in full.iter().zip(&basic) {
            assert_eq!(full.records_count as usize, full.records.len());
            assert_eq!(basic.records_count, full.records_count);
            let ends = [full.records.first(), full.records.last()];
            assert_eq!(basic.records.iter().map(Some).collect::<Vec<_>>(), ends);
            assert_eq!(
                (&full.mediator, full.role, full.start_date, full.end_date),
                (
                    &basic.mediator,
                    basic.role,
                    basic.start_date,
                    basic.end_date
                )
            );
            assert_eq!(full.end_date, None, "an open span keeps it going");
            assert!(full.ongoing && basic.ongoing);
        }
        let spans = index.mediations.values().count();
        let counted: i32 = full.iter().map(|m| m.records_count).sum();
        assert_eq!(counted as usize, spans);
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
            vec![(CountryCode::parse("FR").expect("code"), None)]
        );
    }
}
