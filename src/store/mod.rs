//! Persistence: records and their indexes over an ordered key-value store.
//!
//! The store knows keys and transactions, never a `tonic::Request`. Records
//! are kept as their prost encoding (`records`); every write changes a record
//! and all its index entries in one transaction, and callers `flush` before
//! acknowledging it.

pub mod check;
pub mod index;
pub mod keys;
pub mod kv;
pub mod writer;

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use prost::Message;
use time::Date;

use self::index::{StatusValue, TreatyValue};
use self::keys::PairFamily;
pub use self::kv::{KvRead, KvStore, SledKv};
use self::writer::Writer;
pub use self::writer::{Outcome, WriteOp, WriterOptions};
use crate::convert::stored_date;
use crate::domain::relation::StatusFact;
use crate::domain::{Collection, CountryCode, CountryPair};
use crate::error::{Error, Result};
use crate::pb::diplomacy::v1 as pb;
use crate::records::{decode_record, Record};

/// The layout version this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// Records and indexes over a key-value engine. Reads go straight to the
/// engine; every write goes through the single writer.
pub struct Store<K = SledKv> {
    kv: Arc<K>,
    writer: Writer,
}

/// The facts of one pair dated up to a day, as the relation query needs them.
#[derive(Debug, Default)]
pub struct PairFacts {
    /// Status-setting facts, oldest first.
    pub status: Vec<StatusFact>,
    /// Treaties that entered into force on or before the day (some may have
    /// ended since: the caller decides).
    pub treaties: Vec<TreatyValue>,
    /// Armed conflicts that began on or before the day.
    pub conflicts: Vec<pb::ConflictSummary>,
    pub meeting_count: usize,
    pub latest_meeting: Option<pb::MeetingSummary>,
    /// Third countries that hosted or mediated on or before the day.
    pub mediators: Vec<CountryCode>,
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
        Self::new(SledKv::open(dir, cache_bytes)?, options)
    }
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
            }
        }
        kv.flush()?;
        let kv = Arc::new(kv);
        let writer = Writer::start(Arc::clone(&kv), options)?;
        Ok(Self { kv, writer })
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
        let upper = keys::prefix_end(keys::CHANGES);
        let first = self
            .kv
            .scan(
                Bound::Included(keys::CHANGES.to_vec()),
                Bound::Excluded(upper),
                false,
            )
            .next()
            .transpose()?;
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

    /// The facts of `pair` dated on or before `day`.
    pub fn pair_facts(&self, pair: CountryPair, day: Date) -> Result<PairFacts> {
        // All the pair's indexes as of one moment.
        let _gate = self.kv.read_gate();
        let mut facts = PairFacts::default();
        for entry in self.dated(PairFamily::Status, pair, day) {
            let (key, value) = entry?;
            let status =
                StatusValue::decode(value.as_slice()).map_err(|e| corrupt("status index", e))?;
            let change = index::change_from_code(status.change);
            let date = stored_date(status.date.as_ref());
            let record = record_of_key(&key);
            if let (Some(change), Some(date)) = (change, date) {
                facts.status.push(StatusFact {
                    date,
                    change,
                    record,
                });
            }
        }
        for entry in self.dated(PairFamily::Treaty, pair, day) {
            let (_, value) = entry?;
            facts.treaties.push(
                TreatyValue::decode(value.as_slice()).map_err(|e| corrupt("treaty index", e))?,
            );
        }
        for entry in self.dated(PairFamily::Conflict, pair, day) {
            let (_, value) = entry?;
            facts.conflicts.push(
                pb::ConflictSummary::decode(value.as_slice())
                    .map_err(|e| corrupt("conflict index", e))?,
            );
        }
        facts.meeting_count = self.meetings_until(pair, day)?;
        let prefix = keys::pair(PairFamily::Meeting, pair);
        let upper = keys::after_day(&prefix, day);
        let latest = self
            .kv
            .scan(Bound::Included(prefix), Bound::Excluded(upper), true)
            .next()
            .transpose()?;
        facts.latest_meeting = latest
            .map(|(_, v)| {
                pb::MeetingSummary::decode(v.as_slice()).map_err(|e| corrupt("meeting index", e))
            })
            .transpose()?;
        facts.mediators = self.mediators(pair, day)?;
        Ok(facts)
    }

    /// Meetings of `pair` on or before `day`: whole years from the year
    /// counters, whole months of `day`'s year from the month counters, then
    /// the entries of `day`'s month.
    fn meetings_until(&self, pair: CountryPair, day: Date) -> Result<usize> {
        let pair_part = format!("{}{}", pair.low(), pair.high());
        let day_key = crate::domain::date::day_key(day);
        let [year_key, month_key] = keys::meeting_counters(&pair_part, &day_key);
        let sum = |lower: Vec<u8>, upper: Vec<u8>| -> Result<u64> {
            let mut total = 0;
            for entry in self
                .kv
                .scan(Bound::Included(lower), Bound::Excluded(upper), false)
            {
                total += writer::read_u64(Some(entry?.1));
            }
            Ok(total)
        };
        let years = sum(format!("k/{pair_part}/Y").into_bytes(), year_key)?;
        let months = sum(
            format!("k/{pair_part}/M{}", &day_key[..4]).into_bytes(),
            month_key,
        )?;
        let prefix = keys::pair(PairFamily::Meeting, pair);
        let month_start = keys::join(&prefix, &[&day_key[..6]]);
        let days = self
            .kv
            .scan(
                Bound::Included(month_start),
                Bound::Excluded(keys::after_day(&prefix, day)),
                false,
            )
            .count();
        Ok((years + months) as usize + days)
    }

    /// Entries of one family of `pair` dated on or before `day`, oldest first.
    fn dated(
        &self,
        family: PairFamily,
        pair: CountryPair,
        day: Date,
    ) -> impl Iterator<Item = Result<kv::Entry>> + '_ {
        let prefix = keys::pair(family, pair);
        let upper = keys::after_day(&prefix, day);
        self.kv
            .scan(Bound::Included(prefix), Bound::Excluded(upper), false)
    }

    /// Mediators with a first mediation on or before `day`: for each
    /// mediator only its earliest entry is read, then the scan skips ahead.
    fn mediators(&self, pair: CountryPair, day: Date) -> Result<Vec<CountryCode>> {
        let prefix = keys::pair(PairFamily::Mediator, pair);
        let end = keys::prefix_end(&prefix);
        let mut lower = prefix.clone();
        let mut found = Vec::new();
        loop {
            let next = self
                .kv
                .scan(Bound::Included(lower), Bound::Excluded(end.clone()), false)
                .next()
                .transpose()?;
            let Some((key, _)) = next else {
                break;
            };
            let rest = &key[prefix.len()..];
            let Some(code) = rest
                .get(..2)
                .and_then(|c| std::str::from_utf8(c).ok())
                .and_then(CountryCode::parse)
            else {
                return Err(corrupt("mediator index", String::from_utf8_lossy(&key)));
            };
            let first_date = rest.get(3..11).unwrap_or_default();
            if first_date <= crate::domain::date::day_key(day).as_bytes() {
                found.push(code);
            }
            lower = keys::prefix_end(&keys::join(&prefix, &[code.as_str(), ""]));
        }
        Ok(found)
    }

    /// Countries that `code` has any recorded pair fact with, in code order,
    /// after `after`.
    pub fn partners(
        &self,
        code: CountryCode,
        after: Option<CountryCode>,
    ) -> impl Iterator<Item = Result<CountryCode>> + '_ {
        let prefix = keys::partners_of(code);
        let end = keys::prefix_end(&prefix);
        let mut lower = match after {
            Some(other) => keys::prefix_end(&keys::join(&prefix, &[other.as_str(), ""])),
            None => prefix.clone(),
        };
        std::iter::from_fn(move || {
            let next = self
                .kv
                .scan(
                    Bound::Included(lower.clone()),
                    Bound::Excluded(end.clone()),
                    false,
                )
                .next();
            match next? {
                Err(e) => Some(Err(e)),
                Ok((key, _)) => {
                    let other = key
                        .get(prefix.len()..prefix.len() + 2)
                        .and_then(|c| std::str::from_utf8(c).ok())
                        .and_then(CountryCode::parse);
                    match other {
                        Some(other) => {
                            lower = keys::prefix_end(&keys::join(&prefix, &[other.as_str(), ""]));
                            Some(Ok(other))
                        }
                        None => Some(Err(corrupt("partner index", String::from_utf8_lossy(&key)))),
                    }
                }
            }
        })
    }

    /// Timeline entries of `scope` in order, between the optional days, after
    /// the entry whose position is `after` (from a previous page). Each item
    /// carries its position for the next page token.
    pub fn history(
        &self,
        scope: HistoryScope,
        from: Option<Date>,
        until: Option<Date>,
        after: Option<&[u8]>,
    ) -> impl Iterator<Item = Result<(Vec<u8>, pb::HistoryEntry)>> + '_ {
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
                let (key, value) = entry?;
                let decoded = pb::HistoryEntry::decode(value.as_slice())
                    .map_err(|e| corrupt("history index", e))?;
                Ok((key[skip..].to_vec(), decoded))
            })
    }

    /// Every key and value, in order: for export-style scans and `check`.
    pub fn records(&self, collection: Collection) -> impl Iterator<Item = Result<Record>> + '_ {
        let prefix = keys::records_of(collection);
        let upper = keys::prefix_end(&prefix);
        self.kv
            .scan(Bound::Included(prefix), Bound::Excluded(upper), false)
            .map(move |entry| {
                let (_, value) = entry?;
                decode_record(collection, &value).map_err(|e| corrupt("record", e))
            })
    }

    /// Counts of stored records per collection.
    pub fn counts(&self) -> Result<BTreeMap<Collection, u64>> {
        let mut counts = BTreeMap::new();
        for collection in Collection::ALL {
            let prefix = keys::records_of(collection);
            let upper = keys::prefix_end(&prefix);
            let n = self
                .kv
                .scan(Bound::Included(prefix), Bound::Excluded(upper), false)
                .count();
            counts.insert(collection, n as u64);
        }
        Ok(counts)
    }
}

fn bound_value(bound: &Bound<Vec<u8>>) -> &[u8] {
    match bound {
        Bound::Included(v) | Bound::Excluded(v) => v,
        Bound::Unbounded => &[],
    }
}

/// `s/AMAZ/19910000/events/f07` → `events/f07` (the last two parts).
fn record_of_key(key: &[u8]) -> String {
    let key = String::from_utf8_lossy(key);
    let parts: Vec<&str> = key.rsplitn(3, '/').collect();
    match parts.as_slice() {
        [id, collection, _] => format!("{collection}/{id}"),
        _ => key.into_owned(),
    }
}
