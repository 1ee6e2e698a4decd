//! Opening a database: the schema version checked or written, an older
//! layout upgraded in place (each step idempotent, so a crash midway and a
//! rerun end in the same state), the relation cache loaded and the writer
//! started.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use super::cache::ReadCache;
use super::index::record_index;
use super::writer::{Writer, WriterOptions};
use super::{corrupt, keys, kv, read_u64, KvStore, SledKv, Store, SCHEMA_VERSION};
use crate::domain::Collection;
use crate::error::{Error, Result};
use crate::records::{self, decode_record, encode_record, Record};

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
                if version < 6 {
                    spread_treaty_dates(&kv)?;
                }
                if version < 7 {
                    add_sides_and_mediations(&kv)?;
                }
                if version < 8 {
                    add_standings(&kv)?;
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
        Ok(Self {
            kv,
            cache,
            writer,
            write_path: std::sync::OnceLock::new(),
        })
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
            let total = read_u64(kv.get(&key)?) + count;
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

/// Schema 6: a treaty's own dates become each party's where they apply
/// (`records::spread_treaty_dates`), so that a party added or corrected
/// later is judged on its own consent; what every pair is bound by stays
/// the same, so the `t/` entries do, and the records keep their revisions.
/// Each treaty also gets its `u/` entries (the days it is not in force).
fn spread_treaty_dates<K: KvStore>(kv: &K) -> Result<()> {
    rewrite_records(
        kv,
        Collection::Treaties,
        |record| match record {
            Record::Treaty(treaty) => records::spread_treaty_dates(treaty),
            _ => false,
        },
        |_, key| key.starts_with(keys::PENDING),
    )
}

/// Schema 7: an armed conflict stored with an actor and counterparts gets
/// them as its two sides, all primary parties (`records::normalize`), which
/// changes no key and no pair it is at war with, only what its history
/// entries carry; and every treaty, meeting and event gets its `g/` entries
/// (mediations). Records keep their revisions.
fn add_sides_and_mediations<K: KvStore>(kv: &K) -> Result<()> {
    for collection in [
        Collection::Treaties,
        Collection::Meetings,
        Collection::Events,
    ] {
        rewrite_records(kv, collection, records::normalize, |changed, key| {
            changed || key.starts_with(keys::MEDIATIONS)
        })?;
    }
    Ok(())
}

/// Schema 8: every event gets its `e/` and `v/` entries (recognition,
/// representation, border), and its history entries again, since
/// recognition and border events now have kinds of their own there. The
/// same keys, new values: nothing to remove.
fn add_standings<K: KvStore>(kv: &K) -> Result<()> {
    rewrite_records(
        kv,
        Collection::Events,
        |_| false,
        |_, key| {
            [b"e/", b"v/", b"h/", b"p/"]
                .iter()
                .any(|p| key.starts_with(*p))
        },
    )
}

/// One pass of an upgrade over a collection: each record changed in place
/// by `change` (rewritten when it says so, keeping its revision), and the
/// index entries of its new version that `wanted` (told whether the record
/// changed) picks written. An upgrade that changes what a record indexes
/// keeps the same keys, so nothing is left to remove; rerunning it writes
/// the same again.
fn rewrite_records<K: KvStore>(
    kv: &K,
    collection: Collection,
    change: impl Fn(&mut Record) -> bool,
    wanted: impl Fn(bool, &[u8]) -> bool,
) -> Result<()> {
    let prefix = keys::records_of(collection);
    let mut writes = kv::Writes::new();
    for entry in kv.scan_prefix(&prefix) {
        let (key, value) = entry?;
        let damaged = || corrupt(collection.as_str(), String::from_utf8_lossy(&key));
        let id = std::str::from_utf8(&key[prefix.len()..])
            .map_err(|_| damaged())?
            .to_owned();
        let mut record = decode_record(collection, &value).map_err(|_| damaged())?;
        let changed = change(&mut record);
        for (index_key, index_value) in record_index(collection, &id, &record).entries {
            if wanted(changed, &index_key) {
                writes.insert(index_key, Some(index_value));
            }
        }
        if changed {
            writes.insert(key, Some(encode_record(&record)));
        }
        if writes.len() >= 10_000 {
            kv.apply(std::mem::take(&mut writes))?;
        }
    }
    kv.apply(writes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::CountryCode;
    use crate::store::KvRead;

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
        let partner_count = |key: &[u8]| read_u64(store.kv.get(key).expect("read"));
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
