//! `diplomacy check`: recomputes every index entry and reference count from
//! the records and compares them with what is stored, and checks the change
//! log. Any difference is a problem to report; nothing is repaired.

use std::collections::{BTreeMap, BTreeSet};

use prost::Message;

use super::index::record_index;
use super::keys;
use super::kv::KvStore;
use super::read_u64;
use super::Store;
use crate::domain::{Collection, CountryCode};
use crate::error::Result;
use crate::pb::diplomacy::v1 as pb;
use crate::records::{decode_record, meta, record_name, referenced_actors, referenced_countries};

/// Most problems listed (all are counted).
const MAX_LISTED: usize = 100;

/// What `check` found.
#[derive(Debug, Default)]
pub struct CheckReport {
    pub records: u64,
    pub index_entries: u64,
    pub changes: u64,
    pub problems: Vec<String>,
    pub problem_count: u64,
}

impl CheckReport {
    fn problem(&mut self, text: String) {
        self.problem_count += 1;
        if self.problems.len() < MAX_LISTED {
            self.problems.push(text);
        }
    }

    pub fn is_consistent(&self) -> bool {
        self.problem_count == 0
    }
}

fn show(key: &[u8]) -> String {
    String::from_utf8_lossy(key).into_owned()
}

impl<K: KvStore> Store<K> {
    /// Verifies indexes, reference counts and the change log against the
    /// records. Run it while no server writes to the database.
    pub fn check(&self) -> Result<CheckReport> {
        let mut report = CheckReport::default();
        let mut expected: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        let mut refcounts: BTreeMap<CountryCode, u64> = BTreeMap::new();
        let mut actor_refcounts: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        let mut partner_counts: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        let mut newest_record_revision = 0;
        for collection in Collection::ALL {
            let prefix = keys::records_of(collection);
            let before = report.records;
            for entry in self.kv.scan_prefix(&prefix) {
                let (key, value) = entry?;
                let id = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
                report.records += 1;
                let mut record = match decode_record(collection, &value) {
                    Ok(record) => record,
                    Err(e) => {
                        report.problem(format!("{}: does not decode: {e}", show(&key)));
                        continue;
                    }
                };
                let name = format!("{}/{id}", collection.as_str());
                if record_name(&record) != name {
                    report.problem(format!(
                        "{}: holds a record named {}",
                        show(&key),
                        record_name(&record)
                    ));
                }
                newest_record_revision = newest_record_revision.max(*meta(&mut record).revision);
                for code in referenced_countries(&record) {
                    *refcounts.entry(code).or_default() += 1;
                }
                for id in referenced_actors(&record) {
                    *actor_refcounts
                        .entry(keys::actor_refcount(&id))
                        .or_default() += 1;
                }
                let index = record_index(collection, &id, &record);
                expected.extend(index.entries);
                for pair in index.pairs {
                    for key in [
                        keys::partner(pair.low(), pair.high()),
                        keys::partner(pair.high(), pair.low()),
                    ] {
                        *partner_counts.entry(key).or_default() += 1;
                    }
                }
            }
            let held = report.records - before;
            let stored = read_u64(self.kv.get(&keys::record_count(collection))?);
            if stored != held {
                report.problem(format!(
                    "{} holds {held} records, its count says {stored}",
                    collection.as_str()
                ));
            }
        }

        for prefix in keys::INDEX_PREFIXES {
            for entry in self.kv.scan_prefix(prefix) {
                let (key, value) = entry?;
                report.index_entries += 1;
                match expected.remove(&key) {
                    None => {
                        report.problem(format!("index entry {} belongs to no record", show(&key)))
                    }
                    Some(wanted) if wanted != value => report.problem(format!(
                        "index entry {} differs from its record",
                        show(&key)
                    )),
                    Some(_) => {}
                }
            }
        }
        for key in expected.keys() {
            report.problem(format!("index entry {} is missing", show(key)));
        }

        let mut stored_counts = BTreeSet::new();
        for entry in self.kv.scan_prefix(keys::REFCOUNTS) {
            let (key, value) = entry?;
            let code = std::str::from_utf8(&key[keys::REFCOUNTS.len()..])
                .ok()
                .and_then(CountryCode::parse);
            let Some(code) = code else {
                report.problem(format!(
                    "reference count {} has no country code",
                    show(&key)
                ));
                continue;
            };
            stored_counts.insert(code);
            let stored = read_u64(Some(value));
            let wanted = refcounts.get(&code).copied().unwrap_or(0);
            if stored != wanted {
                report.problem(format!(
                    "{} is named by {wanted} records, its count says {stored}",
                    code.name()
                ));
            }
        }
        for code in refcounts.keys().filter(|c| !stored_counts.contains(c)) {
            report.problem(format!("{} has no reference count", code.name()));
        }

        for entry in self.kv.scan_prefix(keys::ACTOR_REFCOUNTS) {
            let (key, value) = entry?;
            let stored = read_u64(Some(value));
            match actor_refcounts.remove(&key) {
                Some(wanted) if wanted == stored => {}
                wanted => report.problem(format!(
                    "actor reference count {} says {stored}, the records say {}",
                    show(&key),
                    wanted.unwrap_or(0)
                )),
            }
        }
        for key in actor_refcounts.keys() {
            report.problem(format!("actor reference count {} is missing", show(key)));
        }

        for entry in self.kv.scan_prefix(keys::PARTNERS) {
            let (key, value) = entry?;
            let stored = read_u64(Some(value));
            match partner_counts.remove(&key) {
                Some(wanted) if wanted == stored => {}
                wanted => report.problem(format!(
                    "partner count {} says {stored}, the records say {}",
                    show(&key),
                    wanted.unwrap_or(0)
                )),
            }
        }
        for key in partner_counts.keys() {
            report.problem(format!("partner count {} is missing", show(key)));
        }

        self.check_change_log(&mut report, newest_record_revision)?;
        Ok(report)
    }

    fn check_change_log(
        &self,
        report: &mut CheckReport,
        newest_record_revision: i64,
    ) -> Result<()> {
        let head = read_u64(self.kv.get(keys::REVISION)?) as i64;
        if newest_record_revision > head {
            report.problem(format!(
                "a record has revision {newest_record_revision}, newer than the store's {head}"
            ));
        }
        // A replica's index: one etcd revision may hold several changes,
        // and revisions that changed nothing under its prefix are gaps.
        let replica = self.kv.get(keys::ETCD_ORIGIN)?.is_some();
        let mut previous: Option<i64> = None;
        for entry in self.kv.scan_prefix(keys::CHANGES) {
            let (key, value) = entry?;
            report.changes += 1;
            let change = match pb::Change::decode(value.as_slice()) {
                Ok(change) => change,
                Err(e) => {
                    report.problem(format!("change {} does not decode: {e}", show(&key)));
                    continue;
                }
            };
            let holds = if replica {
                keys::revision_of_change(&key) == Some(change.revision)
            } else {
                keys::change(change.revision.max(0) as u64) == key
            };
            if !holds {
                report.problem(format!(
                    "change {} holds revision {}",
                    show(&key),
                    change.revision
                ));
            }
            if let Some(previous) = previous {
                let follows = if replica {
                    change.revision >= previous
                } else {
                    change.revision == previous + 1
                };
                if !follows {
                    report.problem(format!(
                        "the change log jumps from {previous} to {}",
                        change.revision
                    ));
                }
            }
            previous = Some(change.revision);
        }
        if let Some(last) = previous {
            if last > head || (!replica && last != head) {
                report.problem(format!(
                    "the change log ends at {last}, the store is at {head}"
                ));
            }
        }
        Ok(())
    }
}
