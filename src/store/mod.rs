//! Persistence: records and their indexes over an ordered key-value store.
//!
//! The store knows keys and transactions, never a `tonic::Request`. Records
//! are kept as their prost encoding (`records`); every write changes a record
//! and all its index entries in one transaction, and callers `flush` before
//! acknowledging it.

pub mod cache;
pub mod check;
pub mod compact;
mod coverage;
#[cfg(test)]
mod heap_probe;
pub mod index;
pub mod keys;
pub mod kv;
pub(crate) mod sorted;
pub mod writer;

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use prost::Message;
use time::Date;

use self::cache::{newest_first, ReadCache};
use self::keys::PairFamily;
pub use self::kv::{checkpoint, KvRead, KvStore, SledKv, LOCK_HELD};
use self::writer::Writer;
pub use self::writer::{Outcome, WriteOp, WriterOptions};
use crate::domain::relation::{status_from_newest, StatusOutcome, MAX_LISTED};
use crate::domain::{Collection, CountryCode, CountryPair};
use crate::error::{Error, Result};
use crate::pb::diplomacy::v1 as pb;
use crate::records::{decode_record, Record};
use crate::wire::partial::summary_name;

/// The layout version this build reads and writes.
pub const SCHEMA_VERSION: u32 = 4;

/// Records and indexes over a key-value engine. Reads go straight to the
/// engine; every write goes through the single writer.
pub struct Store<K = SledKv> {
    kv: Arc<K>,
    cache: Arc<ReadCache>,
    writer: Writer,
}

/// The facts of one pair on a day, as the relation query needs them.
#[derive(Debug)]
pub struct PairFacts {
    /// The status that the pair's status facts up to the day give.
    pub status: StatusOutcome,
    /// Treaties in force on the day: the `listed` that entered into force
    /// last, oldest first.
    pub treaties_in_force: Vec<ListedSummary>,
    /// How many treaties are in force on the day, listed or not.
    pub treaties_in_force_count: usize,
    /// The alliance in force on the day that entered into force last, listed
    /// or not: the source of "allied".
    pub alliance: Option<String>,
    /// Armed conflicts covering the day: the `listed` that began last,
    /// oldest first.
    pub armed_conflicts: Vec<ListedSummary>,
    /// How many armed conflicts cover the day, listed or not.
    pub armed_conflicts_count: usize,
    pub meeting_count: usize,
    pub latest_meeting: Option<pb::MeetingSummary>,
    /// Third countries that hosted or mediated on or before the day.
    pub mediators: Vec<CountryCode>,
}

/// A listed treaty or armed conflict: its summary encoded, as the relation
/// cache keeps it and responses carry it. The summaries of one answer are
/// copied side by side into one buffer that they share: a busy pair lists
/// two hundred, and two allocations each showed in the profile.
#[derive(Debug)]
pub struct ListedSummary(pub Bytes);

impl ListedSummary {
    /// Its name (a source of the relation): a piece of the same buffer.
    pub fn name(&self) -> Bytes {
        self.0.slice_ref(summary_name(&self.0).as_bytes())
    }
}

/// The first `MAX_LISTED` of `count` matching summaries (newest first), in
/// date order, in one shared buffer: the listed part of a relation's
/// treaties or conflicts. The count stops the walk once they are all found.
fn listed_summaries<'a>(
    newest: impl Iterator<Item = &'a [u8]>,
    count: usize,
) -> Vec<ListedSummary> {
    let mut listed: Vec<&[u8]> = newest.take(count.min(MAX_LISTED)).collect();
    listed.reverse();
    let buffer = Bytes::from(listed.concat());
    let mut at = 0;
    listed
        .iter()
        .map(|summary| {
            at += summary.len();
            ListedSummary(buffer.slice(at - summary.len()..at))
        })
        .collect()
}

/// Whose timeline a history query reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryScope {
    Country(CountryCode),
    Pair(CountryPair),
}

impl HistoryScope {
    fn prefix(&self) -> Vec<u8> {
        match self {
            HistoryScope::Country(code) => keys::country_history(*code),
            HistoryScope::Pair(pair) => keys::pair(PairFamily::History, *pair),
        }
    }
}

impl Store<SledKv> {
    /// Opens the database in `dir`, creating it if needed.
    pub fn open(dir: &Path, cache_bytes: u64, options: WriterOptions) -> Result<Self> {
        Self::open_when_free(dir, cache_bytes, options, std::time::Duration::ZERO)
    }

    /// `open`, waiting up to `lock_wait` for the lock of a database this
    /// process has just closed (`SledKv::open_when_free`).
    pub fn open_when_free(
        dir: &Path,
        cache_bytes: u64,
        options: WriterOptions,
        lock_wait: std::time::Duration,
    ) -> Result<Self> {
        Self::new(
            SledKv::open_when_free(dir, cache_bytes, lock_wait)?,
            options,
        )
    }
}

/// Schema 1 → 2: removes keys no longer kept (the meeting counters:
/// relation queries count meetings from memory). Each step is idempotent: a
/// crash midway and a rerun of the upgrade end in the same state.
fn remove_prefix<K: KvStore>(kv: &K, prefix: &[u8]) -> Result<()> {
    loop {
        let mut writes = kv::Writes::new();
        for entry in kv.scan_prefix(prefix).take(10_000) {
            writes.insert(entry?.0, None);
        }
        if writes.is_empty() {
            return Ok(());
        }
        kv.apply(writes)?;
    }
}

/// Schema 2 → 3: the partner entries, one per record and pair
/// (`q/{CC}/{OTHER}/{record}`), become one count per pair (`q/{CC}/{OTHER}`).
/// Each batch removes the entries it counts, so an interrupted upgrade
/// resumes without counting any twice.
fn count_partners<K: KvStore>(kv: &K) -> Result<()> {
    let upper = keys::prefix_end(keys::PARTNERS);
    let mut lower = Bound::Included(keys::PARTNERS.to_vec());
    loop {
        let mut writes = kv::Writes::new();
        let mut counts: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        let mut last = None;
        for entry in kv
            .scan(lower.clone(), Bound::Excluded(upper.clone()), false)
            .take(10_000)
        {
            let (key, _) = entry?;
            // `q/CC/OTHER` is 7 bytes (a count); longer keys are schema 2's
            // entries, counted and removed in the same batch.
            if key.len() > 7 {
                *counts.entry(key[..7].to_vec()).or_default() += 1;
                writes.insert(key.clone(), None);
            }
            last = Some(key);
        }
        let Some(last) = last else {
            return Ok(());
        };
        for (key, count) in counts {
            // A pair's entries can span batches: add to what is there.
            let total = writer::read_u64(kv.get(&key)?) + count;
            writes.insert(key, Some(total.to_be_bytes().to_vec()));
        }
        lower = Bound::Excluded(last);
        kv.apply(writes)?;
    }
}

/// Schema 4: the record count of each collection, from its records.
fn count_records<K: KvStore>(kv: &K) -> Result<()> {
    let mut writes = kv::Writes::new();
    for collection in Collection::ALL {
        let count = kv.scan_prefix(&keys::records_of(collection)).count() as u64;
        let value = (count > 0).then(|| count.to_be_bytes().to_vec());
        writes.insert(keys::record_count(collection), value);
    }
    kv.apply(writes)
}

fn corrupt(what: &str, error: impl std::fmt::Display) -> Error {
    Error::DataLoss(format!("{what}: {error}"))
}

impl<K: KvStore> Store<K> {
    /// Wraps an engine, checking (or writing) the schema version, and starts
    /// its writer.
    pub fn new(kv: K, options: WriterOptions) -> Result<Self> {
        match kv.get(keys::SCHEMA)? {
            None => {
                let mut writes = kv::Writes::new();
                writes.insert(
                    keys::SCHEMA.to_vec(),
                    Some(SCHEMA_VERSION.to_string().into_bytes()),
                );
                kv.apply(writes)?;
            }
            Some(bytes) => {
                let version: u32 = std::str::from_utf8(&bytes)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| corrupt("schema version", String::from_utf8_lossy(&bytes)))?;
                if version > SCHEMA_VERSION {
                    return Err(Error::Unavailable(format!(
                        "the database was written by schema version {version}, newer than this build's {SCHEMA_VERSION}: run a newer diplomacy, or point --data-dir elsewhere"
                    )));
                }
                if version < SCHEMA_VERSION {
                    tracing::info!(
                        from = version,
                        to = SCHEMA_VERSION,
                        "upgrading the database layout (once; minutes on millions of records)"
                    );
                }
                if version < 2 {
                    remove_prefix(&kv, keys::OLD_MEETING_COUNTS)?;
                }
                if version < 3 {
                    count_partners(&kv)?;
                }
                if version < 4 {
                    count_records(&kv)?;
                }
                if version < SCHEMA_VERSION {
                    let mut writes = kv::Writes::new();
                    writes.insert(
                        keys::SCHEMA.to_vec(),
                        Some(SCHEMA_VERSION.to_string().into_bytes()),
                    );
                    kv.apply(writes)?;
                    tracing::info!(schema = SCHEMA_VERSION, "database layout upgraded");
                }
            }
        }
        kv.flush()?;
        let cache = Arc::new(ReadCache::load(&kv, options.relation_cache_bytes)?);
        let kv = Arc::new(kv);
        let writer = Writer::start(Arc::clone(&kv), Arc::clone(&cache), options)?;
        Ok(Self { kv, cache, writer })
    }

    /// A cheap read that fails when the store cannot be read (for health).
    pub fn probe(&self) -> Result<()> {
        self.kv.get(keys::SCHEMA).map(drop)
    }

    /// True when no record of any kind is stored (a new database).
    pub fn is_empty(&self) -> Result<bool> {
        let lower = b"r/".to_vec();
        let upper = keys::prefix_end(&lower);
        Ok(self
            .kv
            .scan(Bound::Included(lower), Bound::Excluded(upper), false)
            .next()
            .transpose()?
            .is_none())
    }

    /// Whether the country record exists (from memory).
    pub fn country_exists(&self, code: CountryCode) -> bool {
        self.cache.country_exists(code)
    }

    /// Heap bytes and number of pairs held in the relation cache.
    pub fn relation_cache_usage(&self) -> (usize, usize) {
        self.cache.pair_usage()
    }

    /// Loads pairs into the relation cache before callers ask for them, the
    /// pairs linked by the most records first, until the next one does not
    /// fit in its budget or `stop` says so; the pairs loaded. Loading a
    /// pair takes several range scans (a tenth of a second for the busiest
    /// pair of the full dataset), so a server that has just started would
    /// otherwise answer relation queries at a fraction of its speed for
    /// minutes.
    pub fn warm_relation_cache(&self, stop: &dyn Fn() -> bool) -> Result<usize> {
        let mut pairs: Vec<(u64, CountryPair)> = Vec::new();
        for entry in self.kv.scan_prefix(keys::PARTNERS) {
            let (key, value) = entry?;
            let pair = keys::pair_of_partner_count(&key)
                .ok_or_else(|| corrupt("partner count", String::from_utf8_lossy(&key)))?;
            // Each pair is counted in both directions: take it once.
            if let Some(pair) = pair {
                pairs.push((writer::read_u64(Some(value)), pair));
            }
        }
        pairs.sort_unstable_by(|a, b| b.cmp(a));
        let mut loaded = 0;
        for (_, pair) in pairs {
            if stop() {
                break;
            }
            let _gate = self.kv.read_gate();
            if !self.cache.warm(&*self.kv, pair)? {
                break;
            }
            loaded += 1;
        }
        Ok(loaded)
    }

    pub fn get(&self, collection: Collection, id: &str) -> Result<Option<Record>> {
        self.kv
            .get(&keys::record(collection, id))?
            .map(|bytes| {
                decode_record(collection, &bytes)
                    .map_err(|e| corrupt(&format!("{}/{id}", collection.as_str()), e))
            })
            .transpose()
    }

    /// Up to `limit` records of a collection in id order, after `after`,
    /// that pass `keep`; with `principal`, only those where that country has a
    /// principal role. Returns the records and whether more may follow.
    pub fn list(
        &self,
        collection: Collection,
        principal: Option<CountryCode>,
        after: Option<&str>,
        limit: usize,
        keep: impl Fn(&Record) -> bool,
    ) -> Result<(Vec<Record>, bool)> {
        // An index entry and its record are read under one gate: never one
        // without the other.
        let _gate = self.kv.read_gate();
        let prefix = match principal {
            Some(code) => keys::principals_of(code, collection),
            None => keys::records_of(collection),
        };
        let lower = match after {
            Some(id) => Bound::Excluded(keys::join(&prefix, &[id])),
            None => Bound::Included(prefix.clone()),
        };
        let upper = Bound::Excluded(keys::prefix_end(&prefix));
        let mut records = Vec::new();
        for entry in self.kv.scan(lower, upper, false) {
            let (key, value) = entry?;
            let record = if principal.is_some() {
                let id = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
                match self.get(collection, &id)? {
                    Some(record) => record,
                    None => return Err(corrupt("index entry without its record", id)),
                }
            } else {
                decode_record(collection, &value).map_err(|e| corrupt("record", e))?
            };
            if keep(&record) {
                if records.len() == limit {
                    return Ok((records, true));
                }
                records.push(record);
            }
        }
        Ok((records, false))
    }

    /// Makes every committed write durable (writes through `write` already
    /// are when it returns).
    pub fn flush(&self) -> Result<()> {
        self.kv.flush()
    }

    /// Commits `ops` through the single writer and waits until they are
    /// durable. With `atomic`, all are written or none (the first failure is
    /// returned); otherwise each op has its own result.
    pub async fn write(&self, ops: Vec<WriteOp>, atomic: bool) -> Result<Vec<Result<Outcome>>> {
        self.writer.write(ops, atomic).await
    }

    /// Commits one op durably.
    pub async fn write_one(&self, op: WriteOp) -> Result<Outcome> {
        self.writer
            .write(vec![op], true)
            .await?
            .into_iter()
            .next()
            .unwrap_or_else(|| Err(Error::DataLoss("the writer returned no outcome".into())))
    }

    /// The newest durable revision: every change up to it is in the log (or
    /// compacted) and has been published to subscribers.
    pub fn revision(&self) -> i64 {
        self.writer.durable_revision()
    }

    /// Live changes, published after they are durable.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<std::sync::Arc<pb::Change>> {
        self.writer.subscribe()
    }

    /// The oldest revision the change log still holds, if any.
    pub fn oldest_change(&self) -> Result<Option<i64>> {
        let first = self.kv.scan_prefix(keys::CHANGES).next().transpose()?;
        Ok(first.and_then(|(key, _)| {
            std::str::from_utf8(&key[keys::CHANGES.len()..])
                .ok()
                .and_then(|digits| digits.parse().ok())
        }))
    }

    /// Logged changes with `after < revision <= upto`, oldest first.
    pub fn changes(&self, after: i64, upto: i64) -> impl Iterator<Item = Result<pb::Change>> + '_ {
        let lower = keys::change(after.max(0) as u64 + 1);
        let upper = keys::change(upto.max(0) as u64 + 1);
        self.kv
            .scan(Bound::Included(lower), Bound::Excluded(upper), false)
            .map(|entry| {
                let (_, value) = entry?;
                pb::Change::decode(value.as_slice()).map_err(|e| corrupt("change log", e))
            })
    }

    pub fn size_on_disk(&self) -> Result<u64> {
        self.kv.size_on_disk()
    }

    /// The facts of `pair` dated on or before `day`, from the pair's cached
    /// index (loaded on first use), listing at most `listed` (capped at
    /// `MAX_LISTED`) treaties in force and armed conflicts.
    pub fn pair_facts(&self, pair: CountryPair, day: Date, listed: usize) -> Result<PairFacts> {
        // A pair loads under the read gate, so that no batch lands between
        // its load and its insert into the cache.
        let _gate = self.kv.read_gate();
        let index = self.cache.pair(&*self.kv, pair)?;
        let index = index.read().unwrap_or_else(|e| e.into_inner());
        // Cached keys are the index keys after their pair prefix.
        let until = keys::after_day(&[], day);
        let (meeting_count, latest_meeting) = index.meetings_until(&until)?;
        // A busy pair has thousands of treaties and conflicts: they are
        // counted from their sorted days, and only the listed newest ones
        // are visited.
        let treaties_in_force_count = index.treaty_days.covering(day);
        let treaties_in_force = listed_summaries(
            newest_first(&index.treaties, &until)
                .filter(|treaty| treaty.in_force_on(day))
                .map(|treaty| &treaty.summary[..]),
            treaties_in_force_count.min(listed),
        );
        let alliance = if index.alliance_days.covering(day) == 0 {
            None
        } else {
            index
                .alliances
                .before_rev(&until)
                .filter_map(|(key, _)| index.treaties.get(key))
                .find(|treaty| treaty.in_force_on(day))
                .map(|treaty| treaty.name().to_owned())
        };
        let armed_conflicts_count = index.conflict_days.covering(day);
        let armed_conflicts = listed_summaries(
            newest_first(&index.conflicts, &until)
                .filter(|conflict| conflict.covers(day))
                .map(|conflict| &conflict.summary[..]),
            armed_conflicts_count.min(listed),
        );
        Ok(PairFacts {
            status: status_from_newest(newest_first(&index.status, &until)),
            treaties_in_force,
            treaties_in_force_count,
            alliance,
            armed_conflicts,
            armed_conflicts_count,
            meeting_count,
            latest_meeting,
            mediators: index.mediators_until(&until),
        })
    }

    /// Countries that `code` has any recorded pair fact with, in code order,
    /// after `after`: one partner count per pair.
    pub fn partners(
        &self,
        code: CountryCode,
        after: Option<CountryCode>,
    ) -> impl Iterator<Item = Result<CountryCode>> + '_ {
        let prefix = keys::partners_of(code);
        let lower = match after {
            Some(other) => Bound::Excluded(keys::partner(code, other)),
            None => Bound::Included(prefix.clone()),
        };
        let upper = Bound::Excluded(keys::prefix_end(&prefix));
        self.kv.scan(lower, upper, false).map(move |entry| {
            let (key, _) = entry?;
            std::str::from_utf8(&key[prefix.len()..])
                .ok()
                .and_then(CountryCode::parse)
                .ok_or_else(|| corrupt("partner count", String::from_utf8_lossy(&key)))
        })
    }

    /// Timeline entries of `scope` in order, between the optional days, after
    /// the entry whose position is `after` (from a previous page). Each item
    /// carries its position for the next page token, and the entry as
    /// stored: callers send it on without decoding it.
    pub fn history(
        &self,
        scope: HistoryScope,
        from: Option<Date>,
        until: Option<Date>,
        after: Option<&[u8]>,
    ) -> impl Iterator<Item = Result<StoredHistoryEntry>> + '_ {
        let prefix = scope.prefix();
        let mut lower = Bound::Included(match from {
            Some(day) => keys::from_day(&prefix, day),
            None => prefix.clone(),
        });
        if let Some(after) = after {
            let mut after_key = prefix.clone();
            after_key.extend_from_slice(after);
            if bound_value(&lower) <= after_key.as_slice() {
                lower = Bound::Excluded(after_key);
            }
        }
        let upper = match until {
            Some(day) => keys::after_day(&prefix, day),
            None => keys::prefix_end(&prefix),
        };
        let skip = prefix.len();
        self.kv
            .scan(lower, Bound::Excluded(upper), false)
            .map(move |entry| {
                let (mut key, value) = entry?;
                // Reading the kind walks every field of the entry, so a
                // damaged one is reported here rather than sent.
                let kind = crate::wire::partial::HistoryEntryKind::decode(value.as_slice())
                    .map_err(|e| corrupt("history index", e))?
                    .kind;
                key.drain(..skip);
                Ok(StoredHistoryEntry {
                    position: key,
                    kind,
                    encoded: value,
                })
            })
    }

    /// Every key and value, in order: for export-style scans and `check`.
    pub fn records(&self, collection: Collection) -> impl Iterator<Item = Result<Record>> + '_ {
        self.kv
            .scan_prefix(&keys::records_of(collection))
            .map(move |entry| {
                let (_, value) = entry?;
                decode_record(collection, &value).map_err(|e| corrupt("record", e))
            })
    }

    /// Counts of stored records per collection.
    pub fn counts(&self) -> Result<BTreeMap<Collection, u64>> {
        let mut counts = BTreeMap::new();
        for collection in Collection::ALL {
            let count = writer::read_u64(self.kv.get(&keys::record_count(collection))?);
            counts.insert(collection, count);
        }
        Ok(counts)
    }
}

/// A timeline entry as the store keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredHistoryEntry {
    /// Where it sits in its timeline, for page tokens.
    pub position: Vec<u8>,
    /// Its `HistoryEntryKind`, for filters.
    pub kind: i32,
    /// The encoded `diplomacy.v1.HistoryEntry`.
    pub encoded: Vec<u8>,
}

fn bound_value(bound: &Bound<Vec<u8>>) -> &[u8] {
    match bound {
        Bound::Included(v) | Bound::Excluded(v) => v,
        Bound::Unbounded => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store whose pairs AM–AZ, AM–TR and AZ–TR are linked by 30, 20 and
    /// 10 records (as many meetings each), with a relation cache budget.
    fn three_pairs(dir: &Path, budget: usize) -> Store {
        let store = Store::open(
            dir,
            8 << 20,
            WriterOptions {
                relation_cache_bytes: budget,
                ..Default::default()
            },
        )
        .expect("store");
        let mut writes = kv::Writes::new();
        for (low, high, records) in [("AM", "AZ", 30u64), ("AM", "TR", 20), ("AZ", "TR", 10)] {
            for (a, b) in [(low, high), (high, low)] {
                writes.insert(
                    format!("q/{a}/{b}").into_bytes(),
                    Some(records.to_be_bytes().to_vec()),
                );
            }
            for i in 0..records {
                writes.insert(
                    format!("m/{low}{high}/19910101{}/meetings/m{i:03}", i % 3).into_bytes(),
                    Some(Vec::new()),
                );
            }
        }
        store.kv.apply(writes).expect("apply");
        store
    }

    fn pair(low: &str, high: &str) -> CountryPair {
        CountryPair::new(
            CountryCode::parse(low).expect("code"),
            CountryCode::parse(high).expect("code"),
        )
        .expect("pair")
    }

    #[test]
    fn warming_loads_the_most_linked_pairs_first_and_stops_at_the_budget() {
        let all = tempfile::tempdir().expect("temp dir");
        let store = three_pairs(all.path(), 1 << 30);
        assert_eq!(store.warm_relation_cache(&|| false).expect("warm"), 3);
        let (every_pair, pairs) = store.relation_cache_usage();
        assert_eq!(pairs, 3);

        // A byte short of all three: the two most linked, not the third.
        let short = tempfile::tempdir().expect("temp dir");
        let store = three_pairs(short.path(), every_pair - 1);
        assert_eq!(store.warm_relation_cache(&|| false).expect("warm"), 2);
        assert!(store.cache.holds(pair("AM", "AZ")));
        assert!(store.cache.holds(pair("AM", "TR")));
        assert!(!store.cache.holds(pair("AZ", "TR")));
        assert!(store.relation_cache_usage().0 < every_pair);

        let stopped = tempfile::tempdir().expect("temp dir");
        let store = three_pairs(stopped.path(), 1 << 30);
        assert_eq!(store.warm_relation_cache(&|| true).expect("warm"), 0);
        assert_eq!(store.relation_cache_usage(), (0, 0));
    }

    #[test]
    fn history_entries_come_back_as_stored_with_their_kind_and_damage_is_data_loss() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path(), 8 << 20, WriterOptions::default()).expect("store");
        let entry = pb::HistoryEntry {
            kind: pb::HistoryEntryKind::Meeting as i32,
            record: "meetings/m1".into(),
            title: "Talks".into(),
            ..Default::default()
        }
        .encode_to_vec();
        let mut writes = kv::Writes::new();
        writes.insert(
            b"p/AMAZ/199101010/meetings/m1/1-meeting".to_vec(),
            Some(entry.clone()),
        );
        store.kv.apply(writes).expect("apply");
        let scope = HistoryScope::Pair(pair("AM", "AZ"));
        let items: Vec<StoredHistoryEntry> = store
            .history(scope, None, None, None)
            .collect::<Result<_>>()
            .expect("history");
        assert_eq!(
            items,
            [StoredHistoryEntry {
                position: b"199101010/meetings/m1/1-meeting".to_vec(),
                kind: pb::HistoryEntryKind::Meeting as i32,
                encoded: entry.clone(),
            }]
        );

        let mut writes = kv::Writes::new();
        writes.insert(
            b"p/AMAZ/199101010/meetings/m1/1-meeting".to_vec(),
            Some(entry[..entry.len() - 1].to_vec()),
        );
        store.kv.apply(writes).expect("apply");
        let read: Vec<Result<StoredHistoryEntry>> =
            store.history(scope, None, None, None).collect();
        assert!(
            matches!(read.as_slice(), [Err(Error::DataLoss(_))]),
            "{read:?}"
        );
    }

    #[test]
    fn an_old_database_loses_its_meeting_counters_and_gets_partner_and_record_counts() {
        let dir = tempfile::tempdir().expect("temp dir");
        {
            let kv = SledKv::open(dir.path(), 8 << 20).expect("open");
            let mut writes = kv::Writes::new();
            writes.insert(keys::SCHEMA.to_vec(), Some(b"1".to_vec()));
            for i in 0..25_000u32 {
                writes.insert(
                    format!("k/AMAZ/Y{i:05}").into_bytes(),
                    Some(1u64.to_be_bytes().to_vec()),
                );
            }
            // Schema 2's partner entries: AM–AZ spans the upgrade's batches
            // of 10,000 keys.
            for i in 0..12_000u32 {
                for key in [
                    format!("q/AM/AZ/events/e{i}"),
                    format!("q/AZ/AM/events/e{i}"),
                ] {
                    writes.insert(key.into_bytes(), Some(Vec::new()));
                }
            }
            writes.insert(b"q/AM/TR/events/f03".to_vec(), Some(Vec::new()));
            writes.insert(b"q/TR/AM/events/f03".to_vec(), Some(Vec::new()));
            writes.insert(b"r/countries/AM".to_vec(), Some(Vec::new()));
            writes.insert(b"r/countries/AZ".to_vec(), Some(Vec::new()));
            writes.insert(b"r/events/f03".to_vec(), Some(Vec::new()));
            kv.apply(writes).expect("apply");
            kv.flush().expect("flush");
        }
        let store = Store::open(dir.path(), 8 << 20, WriterOptions::default()).expect("store");
        let count = |prefix: &[u8]| store.kv.scan_prefix(prefix).count();
        assert_eq!(count(keys::OLD_MEETING_COUNTS), 0, "every counter is gone");
        assert_eq!(count(keys::PARTNERS), 4, "one count per pair and direction");
        let partner_count = |key: &[u8]| writer::read_u64(store.kv.get(key).expect("read"));
        assert_eq!(partner_count(b"q/AM/AZ"), 12_000);
        assert_eq!(partner_count(b"q/AZ/AM"), 12_000);
        assert_eq!(partner_count(b"q/TR/AM"), 1);
        let am = CountryCode::parse("AM").expect("code");
        let partners: Vec<String> = store
            .partners(am, None)
            .map(|p| p.expect("partner").as_str().to_string())
            .collect();
        assert_eq!(partners, ["AZ", "TR"]);
        assert_eq!(
            store.kv.get(keys::SCHEMA).expect("read"),
            Some(SCHEMA_VERSION.to_string().into_bytes())
        );
        assert!(
            store.kv.get(b"r/countries/AM").expect("read").is_some(),
            "records stay"
        );
        let counts = store.counts().expect("counts");
        assert_eq!(
            counts[&Collection::Countries],
            2,
            "counted once, at upgrade"
        );
        assert_eq!(counts[&Collection::Events], 1);
        assert_eq!(counts[&Collection::Treaties], 0);
    }
}
